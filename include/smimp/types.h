/* Fixed-size protocol values as distinct types, so the compiler catches a
 * signature passed where a key was meant. Sizes come from libsodium's
 * constants and are checked at compile time in src/lib/types_check.c. */
#ifndef SMIMP_TYPES_H
#define SMIMP_TYPES_H

#include <stdint.h>

#define SMIMP_SIGN_PK_BYTES 32u     /* Ed25519 public key */
#define SMIMP_SIGN_SK_BYTES 64u     /* Ed25519 secret key: seed || public key */
#define SMIMP_SIGN_SEED_BYTES 32u
#define SMIMP_SIGNATURE_BYTES 64u
#define SMIMP_BOX_PK_BYTES 32u      /* Curve25519 public key */
#define SMIMP_BOX_SK_BYTES 32u      /* Curve25519 secret key */
#define SMIMP_BOX_NONCE_BYTES 24u
#define SMIMP_BOX_MAC_BYTES 16u
#define SMIMP_HASH_BYTES 32u        /* BLAKE2b-256 */
#define SMIMP_SIGNED_HASH_BYTES 96u /* signature || hash (2.2) */
#define SMIMP_TOKEN_BYTES 32u       /* login tokens, PoW nonces and values */

struct smimp_sign_pk { uint8_t b[SMIMP_SIGN_PK_BYTES]; };
struct smimp_sign_sk { uint8_t b[SMIMP_SIGN_SK_BYTES]; };
struct smimp_box_pk { uint8_t b[SMIMP_BOX_PK_BYTES]; };
struct smimp_box_sk { uint8_t b[SMIMP_BOX_SK_BYTES]; };
struct smimp_box_nonce { uint8_t b[SMIMP_BOX_NONCE_BYTES]; };
struct smimp_hash { uint8_t b[SMIMP_HASH_BYTES]; };
struct smimp_signed_hash { uint8_t b[SMIMP_SIGNED_HASH_BYTES]; };
struct smimp_token { uint8_t b[SMIMP_TOKEN_BYTES]; };

/* A master key pair. Keep it in sodium_malloc'ed memory where it lives long;
 * wipe it with smimp_keypair_wipe(). */
struct smimp_sign_keypair {
	struct smimp_sign_pk pk;
	struct smimp_sign_sk sk;
};

/* A Curve25519 message key pair (6). */
struct smimp_box_keypair {
	struct smimp_box_pk pk;
	struct smimp_box_sk sk;
};

#endif

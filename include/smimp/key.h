/* Master keys (Ed25519), their Curve25519 forms, and signed hashes (2.2):
 * crypto_sign combined mode over a 32-byte H value, 96 bytes on the wire. */
#ifndef SMIMP_KEY_H
#define SMIMP_KEY_H

#include <stddef.h>

#include "smimp/error.h"
#include "smimp/types.h"

/* Initializes libsodium; call once before anything else. 0 on success. */
int smimp_init(void);

/* Fills buf with len bytes from the operating system's CSPRNG (tokens,
 * nonces, passwords). */
void smimp_random_bytes(void *buf, size_t len);

void smimp_sign_keypair_generate(struct smimp_sign_keypair *kp);
void smimp_sign_keypair_from_seed(struct smimp_sign_keypair *kp,
				  const uint8_t seed[SMIMP_SIGN_SEED_BYTES]);
/* A fresh random Curve25519 message key pair, or one from a given secret. */
void smimp_box_keypair_generate(struct smimp_box_keypair *kp);
void smimp_box_keypair_from_secret(struct smimp_box_keypair *kp,
				   const struct smimp_box_sk *sk);
/* Wipes secret material (sodium_memzero). */
void smimp_sign_keypair_wipe(struct smimp_sign_keypair *kp);
void smimp_box_keypair_wipe(struct smimp_box_keypair *kp);

/* A master public key usable by the protocol: a valid Ed25519 point that
 * converts to Curve25519 (5). SMIMP_ERR_BAD_KEY otherwise. */
enum smimp_err smimp_sign_pk_check(const struct smimp_sign_pk *pk);
enum smimp_err smimp_sign_pk_to_box(struct smimp_box_pk *out,
				    const struct smimp_sign_pk *pk);
enum smimp_err smimp_sign_sk_to_box(struct smimp_box_sk *out,
				    const struct smimp_sign_sk *sk);

int smimp_sign_pk_equal(const struct smimp_sign_pk *a,
			const struct smimp_sign_pk *b);
int smimp_box_pk_equal(const struct smimp_box_pk *a,
		       const struct smimp_box_pk *b);
int smimp_signed_hash_equal(const struct smimp_signed_hash *a,
			    const struct smimp_signed_hash *b);

/* Signs the 32-byte hash h with sk: out = signature(64) || h(32). */
void smimp_signed_hash_make(struct smimp_signed_hash *out,
			    const struct smimp_hash *h,
			    const struct smimp_sign_sk *sk);

/* Checks that sh embeds `expected` (constant time) and that its signature
 * verifies with pk. SMIMP_ERR_BAD_SIGNATURE otherwise. */
enum smimp_err smimp_signed_hash_verify(const struct smimp_signed_hash *sh,
					const struct smimp_hash *expected,
					const struct smimp_sign_pk *pk);

/* The hash embedded in a signed hash (its last 32 bytes). */
void smimp_signed_hash_embedded(struct smimp_hash *out,
				const struct smimp_signed_hash *sh);

#endif

/* Proof-of-work nonces that need no row until they are used (8).
 *
 * get_pow_params mints a nonce that carries what it was issued for,
 * authenticated with a server secret kept in the database (so it survives
 * a restart and every node of one database shares it):
 *
 *   bytes  0..9   random
 *   byte  10      zero bits asked
 *   byte  11      format (1)
 *   bytes 12..16  recipient tag: keyed hash of (random, recipient)
 *   bytes 17..21  type tag: keyed hash of (random, message type)
 *   bytes 22..31  authenticator: keyed hash of (session hash, bytes 0..21)
 *
 * send_message opens it: a nonce whose authenticator does not match this
 * session is unknown and left alone. One that matches is used up (a row
 * in the message's transaction) before the recipient and type tags are
 * compared, so a nonce named in a send to another recipient or of another
 * type is used up too, as spec 8 asks. Only the first send naming a nonce
 * finds it unused: the row is the single use, and it dies with the
 * session. The format is this server's own; clients treat nonces as
 * opaque. */
#ifndef SMD_POW_NONCE_H
#define SMD_POW_NONCE_H

#include <stdbool.h>
#include <stdint.h>

#include "smimp/envelope.h"
#include "smimp/types.h"

#define SMD_POW_KEY_BYTES 32
/* The most zero bits a nonce records (one byte; 256 could never be met). */
#define SMD_POW_BITS_MAX 255

struct smd_pow_key {
	uint8_t b[SMD_POW_KEY_BYTES];
};

/* The name of its secret in the store (smd_db_secret). */
#define SMD_POW_KEY_NAME "pow_nonce_key"

/* A fresh nonce for session_hash (SMD_SESSION_HASH_BYTES), recipient,
 * message_type and zero_bits. Returns the zero bits it records: zero_bits,
 * or SMD_POW_BITS_MAX when more. */
unsigned smd_pow_nonce_mint(struct smimp_token *out, const struct smd_pow_key *key,
			const uint8_t *session_hash, const char *recipient,
			const char *message_type, unsigned zero_bits);

/* True, with what it names in *issue (zero bits; whether it was minted
 * for this recipient and this message type), when nonce was minted by key
 * for session_hash; message_type may be NULL (then for_type is false). */
bool smd_pow_nonce_open(struct smimp_pow_issue *issue,
			const struct smimp_token *nonce,
			const struct smd_pow_key *key,
			const uint8_t *session_hash, const char *recipient,
			const char *message_type);

#endif

/* Sessions as handlers use them (spec 7): the SMIMP-Authentication header
 * checked against the store. Untrusted input: the header value. */
#ifndef SMD_SESSION_H
#define SMD_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "request.h"
#include "smimp/address.h"
#include "smimp/types.h"

#define SMD_SESSION_HASH_BYTES 32

/* A live session. */
struct smd_session {
	uint8_t hash[SMD_SESSION_HASH_BYTES]; /* the store's key: a hash of the id */
	char address[SMIMP_ADDRESS_MAX + 1];  /* who logged in, normal form */
	bool remote;                          /* an address of another server */
	struct smimp_sign_pk public_key;      /* the master key that verified the
					       * login (its current key) */
	struct smimp_hash login_token_hash;   /* binds PoW and envelopes (7) */
	int64_t expires_at;
};

/* Which sessions a call admits. */
enum smd_session_need {
	SMD_SESSION_ANY,        /* local or remote (get_message_key, ...) */
	SMD_SESSION_LOCAL,      /* account calls: a remote session is 403 */
};

/* Checks req's SMIMP-Authentication header: 401 unauthenticated when it is
 * missing, malformed, unknown, expired or destroyed; 403 forbidden when a
 * remote session calls a local-only call. Fills *out on SMIMP_OK. */
enum smimp_err smd_session_require(const struct smd_request *req,
				   enum smd_session_need need,
				   struct smd_session *out,
				   struct smimp_error *err);

/* How long a session lives (spec 7 leaves it to the server). */
#define SMD_SESSION_SECONDS 3600
/* Bytes of a session id (at least 32 random bytes, spec 7). */
#define SMD_SESSION_ID_BYTES 32

/* The store key of a session id: BLAKE2b-256 of its raw bytes. */
void smd_session_hash(uint8_t out[SMD_SESSION_HASH_BYTES],
		      const uint8_t id[SMD_SESSION_ID_BYTES]);

#endif

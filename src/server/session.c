/* Sessions as handlers use them (spec 7): the SMIMP-Authentication header
 * checked against the store. Untrusted input: the header value, which must
 * be exactly 64 lowercase hex digits; only its hash is ever looked up, and
 * it is never logged. */
#include <string.h>

#include "crypto.h"
#include "session.h"
#include "smimp/hash.h"
#include "smimp/hex.h"
#include "smimp/timestamp.h"
#include "store_identity.h"

void smd_session_hash(uint8_t out[SMD_SESSION_HASH_BYTES],
		      const uint8_t id[SMD_SESSION_ID_BYTES])
{
	struct smimp_hash h;

	smimp_hash_plain(&h, id, SMD_SESSION_ID_BYTES);
	memcpy(out, h.b, SMD_SESSION_HASH_BYTES);
}

enum smimp_err smd_session_require(const struct smd_request *req,
				   enum smd_session_need need,
				   struct smd_session *out,
				   struct smimp_error *err)
{
	const struct smd_db *db = req->srv->db;
	uint8_t id[SMD_SESSION_ID_BYTES], hash[SMD_SESSION_HASH_BYTES];
	bool destroyed = false;
	enum smd_store_rc rc;

	if (req->auth == NULL)
		return smimp_error_set(err, SMIMP_ERR_UNAUTHENTICATED,
				       "this call needs a session (SMIMP-Authentication)");
	if (smimp_hex_decode_str(id, sizeof id, req->auth) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_UNAUTHENTICATED,
				       "malformed session");
	smd_session_hash(hash, id);
	smd_wipe(id, sizeof id);
	rc = db->ops->identity->session_get(db->st, hash, out, &destroyed);
	if (rc == SMD_STORE_NOT_FOUND)
		return smimp_error_set(err, SMIMP_ERR_UNAUTHENTICATED, "unknown session");
	if (rc != SMD_STORE_OK)
		return smd_store_err(rc, err);
	if (destroyed)
		return smimp_error_set(err, SMIMP_ERR_UNAUTHENTICATED, "session ended");
	if (out->expires_at <= smimp_timestamp_now())
		return smimp_error_set(err, SMIMP_ERR_UNAUTHENTICATED, "session expired");
	if (need == SMD_SESSION_LOCAL && out->remote)
		return smimp_error_set(err, SMIMP_ERR_FORBIDDEN,
				       "a session of another server's user may not "
				       "make this call");
	return SMIMP_OK;
}

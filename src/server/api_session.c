/* Login (spec 7): GET and POST create_session/{address}, POST
 * destroy_session. Untrusted input: the path address, the token and the
 * signed hash of the body, the session header. A login token is stored only
 * as its login token hash, a session only as a hash of its id; a POST uses
 * its token up (committed) whatever the outcome. */
#include <string.h>

#include "api_identity.h"
#include "config.h"
#include "crypto.h"
#include "federation.h"
#include "smimp/hash.h"
#include "smimp/hex.h"
#include "smimp/key.h"
#include "smimp/json.h"
#include "smimp/login.h"
#include "smimp/timestamp.h"
#include "store_identity.h"

#define TOKEN_SECONDS 60

struct token_arg {
	const struct smd_db *db;
	struct smimp_hash hash;
	const char *address;
	int64_t now;
};

static enum smd_store_rc token_add_fn(struct smd_txn *txn, void *arg)
{
	const struct token_arg *a = arg;

	return a->db->ops->identity->token_add(txn, &a->hash, a->address,
					       a->now + TOKEN_SECONDS, a->now);
}

enum smimp_err smd_api_create_session_get(const struct smd_request *req,
					  const struct smd_args *args,
					  struct smd_response *resp,
					  struct smimp_error *err)
{
	const struct smd_db *db = req->srv->db;
	char address[SMIMP_ADDRESS_MAX + 1], hex[2 * SMIMP_TOKEN_BYTES + 1];
	struct smimp_token token;
	struct smd_record_row row;
	struct token_arg ta;
	enum smd_store_rc rc;
	bool local;

	if (smd_id_path_address(req, args, 0, address, &local, err) != SMIMP_OK)
		return err->code;
	if (local) {
		rc = db->ops->identity->latest_record(db->st, address, false, &row);
		if (rc == SMD_STORE_NOT_FOUND)
			return smimp_error_set(err, SMIMP_ERR_NOT_FOUND, "no such user");
		if (rc != SMD_STORE_OK)
			return smd_store_err(rc, err);
	}
	smd_random(token.b, sizeof token.b);
	ta.db = db;
	smimp_login_token_hash(&ta.hash, &token);
	ta.address = address;
	ta.now = smimp_timestamp_now();
	if (smd_id_write(req, token_add_fn, &ta, err) != SMIMP_OK)
		return err->code;
	smimp_hex_encode(hex, sizeof hex, token.b, sizeof token.b);
	smd_wipe(token.b, sizeof token.b);
	resp->no_store = true;
	smd_response_json(resp, 200, json_pack("{s:s, s:i}", "token", hex,
					       "expires_in", TOKEN_SECONDS));
	smd_wipe(hex, sizeof hex);
	return SMIMP_OK;
}

/* The login transaction: uses the token up; when it was good and the
 * verdict so far is too, stores the session. */
struct login_arg {
	const struct smd_db *db;
	struct smimp_hash token_hash;
	const char *address;
	int64_t account_id;            /* local account, 0 for remote */
	struct smd_session session;    /* to store; its key is the verified one */
	struct smimp_error verdict;    /* before the token: OK or why not */
	int64_t now;
	struct smimp_error err;        /* the outcome */
};

static enum smd_store_rc login_fn(struct smd_txn *txn, void *arg)
{
	struct login_arg *a = arg;
	const struct smd_identity_store *id = a->db->ops->identity;
	struct smd_login_token tok;
	struct smd_record_row row;
	enum smd_store_rc rc;

	a->err = a->verdict;
	rc = id->token_use(txn, &a->token_hash, &tok);
	if (rc == SMD_STORE_NOT_FOUND || (rc == SMD_STORE_OK &&
	    (tok.expires_at <= a->now || strcmp(tok.address, a->address) != 0))) {
		smimp_error_set(&a->err, SMIMP_ERR_UNAUTHENTICATED,
				"login token unknown, used, expired or for another address");
		return SMD_STORE_OK;  /* the use, if any, is committed */
	}
	if (rc != SMD_STORE_OK || a->err.code != SMIMP_OK)
		return rc;
	if (a->account_id != 0) {
		/* The key may have changed since it verified the login. */
		rc = id->txn_latest_record(txn, a->account_id, false, &row);
		if (rc != SMD_STORE_OK && rc != SMD_STORE_NOT_FOUND)
			return rc;
		if (rc == SMD_STORE_NOT_FOUND ||
		    !smimp_sign_pk_equal(&row.public_key, &a->session.public_key)) {
			smimp_error_set(&a->err, SMIMP_ERR_BAD_SIGNATURE,
					"the account's key changed; log in again");
			return SMD_STORE_OK;
		}
	}
	return id->session_add(txn, &a->session, a->now);
}

/* The key the login must verify with, and whether the token looked good
 * (a bad one is still used up, without asking any other server). */
static void find_key(const struct smd_request *req, struct login_arg *a, bool local)
{
	const struct smd_db *db = req->srv->db;
	struct smd_login_token tok;
	struct smd_account acct;
	enum smd_store_rc rc = db->ops->identity->token_get(db->st, &a->token_hash, &tok);

	if (rc != SMD_STORE_OK || tok.used || tok.expires_at <= a->now ||
	    strcmp(tok.address, a->address) != 0) {
		smimp_error_set(&a->verdict, SMIMP_ERR_UNAUTHENTICATED,
				"login token unknown, used, expired or for another address");
		return;
	}
	if (!local) {
		smd_federation_key(req->srv, a->address, &a->session.public_key,
				   false, &a->verdict);
		return;
	}
	if (smd_id_account(req, a->address, &acct, &a->session.public_key,
			   &a->verdict) == SMIMP_OK)
		a->account_id = acct.id;
}

bool smd_api_create_session_is_remote(const struct smd_request *req,
				      const struct smd_args *args)
{
	char address[SMIMP_ADDRESS_MAX + 1];
	struct smimp_error ignored;
	bool local = true;

	return smd_id_path_address(req, args, 0, address, &local, &ignored) ==
	       SMIMP_OK && !local;
}

enum smimp_err smd_api_create_session_post(const struct smd_request *req,
					   const struct smd_args *args,
					   struct smd_response *resp,
					   struct smimp_error *err)
{
	char address[SMIMP_ADDRESS_MAX + 1];
	char hex[2 * SMD_SESSION_ID_BYTES + 1];
	uint8_t sid[SMD_SESSION_ID_BYTES];
	struct smimp_token token;
	struct smimp_signed_hash sh;
	struct login_arg a;
	json_t *body;
	enum smimp_err e;
	bool local;

	if (smd_id_path_address(req, args, 0, address, &local, err) != SMIMP_OK)
		return err->code;
	body = smd_id_body(req, false, err);
	if (body == NULL)
		return err->code;
	e = smimp_json_get_hex(body, "token", 0, token.b, sizeof token.b, NULL, err);
	if (e != SMIMP_OK) {
		json_decref(body);
		return e;
	}
	memset(&a, 0, sizeof a);
	a.db = req->srv->db;
	a.address = address;
	a.now = smimp_timestamp_now();
	smimp_login_token_hash(&a.token_hash, &token);
	/* From here on the token is used up, whatever fails. */
	if (smimp_json_get_hex(body, "signed_hash", 0, sh.b, sizeof sh.b, NULL,
			       &a.verdict) == SMIMP_OK)
		find_key(req, &a, local);
	json_decref(body);
	if (a.verdict.code == SMIMP_OK && !local &&
	    smimp_login_verify(&sh, req->srv->cfg->public_url, address, &token,
			       &a.session.public_key) != SMIMP_OK)
		/* The cached key may be stale: the user may just have changed it. */
		smd_federation_key(req->srv, address, &a.session.public_key, true,
				   &a.verdict);
	if (a.verdict.code == SMIMP_OK &&
	    smimp_login_verify(&sh, req->srv->cfg->public_url, address, &token,
			       &a.session.public_key) != SMIMP_OK)
		smimp_error_set(&a.verdict, SMIMP_ERR_BAD_SIGNATURE,
				"the login signature does not verify with the "
				"address's current key for this server's base URL");
	smd_wipe(token.b, sizeof token.b);
	smd_random(sid, sizeof sid);
	smd_session_hash(a.session.hash, sid);
	memcpy(a.session.address, address, sizeof a.session.address);
	a.session.remote = !local;
	a.session.login_token_hash = a.token_hash;
	a.session.expires_at = a.now + SMD_SESSION_SECONDS;
	e = smd_id_write(req, login_fn, &a, err);
	if (e == SMIMP_OK && a.err.code != SMIMP_OK) {
		*err = a.err;
		e = err->code;
	}
	if (e == SMIMP_OK) {
		smimp_hex_encode(hex, sizeof hex, sid, sizeof sid);
		resp->no_store = true;
		smd_response_json(resp, 200, json_pack("{s:s, s:i}", "session", hex,
						       "expires_in", SMD_SESSION_SECONDS));
		smd_wipe(hex, sizeof hex);
	}
	smd_wipe(sid, sizeof sid);
	return e;
}

struct destroy_arg {
	const struct smd_db *db;
	const uint8_t *hash;
};

static enum smd_store_rc destroy_fn(struct smd_txn *txn, void *arg)
{
	const struct destroy_arg *a = arg;

	return a->db->ops->identity->session_destroy(txn, a->hash);
}

enum smimp_err smd_api_destroy_session(const struct smd_request *req,
				       const struct smd_args *args,
				       struct smd_response *resp,
				       struct smimp_error *err)
{
	struct smd_session s;
	struct destroy_arg a;
	json_t *body;

	(void)args;
	if (smd_session_require(req, SMD_SESSION_ANY, &s, err) != SMIMP_OK)
		return err->code;
	body = smd_id_body(req, true, err);   /* empty or {} (unknown members ignored) */
	if (body == NULL)
		return err->code;
	json_decref(body);
	a.db = req->srv->db;
	a.hash = s.hash;
	if (smd_id_write(req, destroy_fn, &a, err) != SMIMP_OK)
		return err->code;
	resp->no_store = true;
	smd_id_no_content(resp);
	return SMIMP_OK;
}

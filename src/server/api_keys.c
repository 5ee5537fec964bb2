/* The owner's message keys (spec 11.2, 11.3): GET/POST nonephemeral_key,
 * GET/POST ephemeral_keys. Untrusted input: the session header and the
 * keys in the body, each verified with the account's current master key
 * (422 bad_key) before anything is stored. */
#include <stdlib.h>

#include "api_identity.h"
#include "config.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/timestamp.h"
#include "store_identity.h"

/* The session's account and its current key. */
static enum smimp_err owner(const struct smd_request *req, struct smd_session *s,
			    struct smd_account *acct, struct smimp_sign_pk *key,
			    struct smimp_error *err)
{
	if (smd_session_require(req, SMD_SESSION_LOCAL, s, err) != SMIMP_OK)
		return err->code;
	return smd_id_account(req, s->address, acct, key, err);
}

enum smimp_err smd_api_nonephemeral_get(const struct smd_request *req,
					const struct smd_args *args,
					struct smd_response *resp,
					struct smimp_error *err)
{
	const struct smd_db *db = req->srv->db;
	struct smd_session s;
	struct smd_account acct;
	struct smimp_sign_pk key;
	struct smimp_msgkey mk;
	enum smd_store_rc rc;
	json_t *v;

	(void)args;
	resp->no_store = true;
	if (owner(req, &s, &acct, &key, err) != SMIMP_OK)
		return err->code;
	rc = db->ops->identity->nonephemeral_get(db->st, acct.id, &mk);
	if (rc != SMD_STORE_OK)
		return smd_store_err(rc, err);
	v = smimp_msgkey_to_json(&mk);
	if (v == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	smd_response_json(resp, 200, json_pack("{s:o}", "message_key", v));
	return SMIMP_OK;
}

/* Stores keys once the master key they were checked with is still the
 * account's current one (else 409: it changed meanwhile). */
struct keys_arg {
	const struct smd_db *db;
	int64_t account_id;
	struct smimp_sign_pk master;
	const struct smimp_msgkey *neph;   /* or NULL */
	const struct smimp_msgkey *eph;    /* with eph_set */
	size_t n_eph;
	bool eph_set;
	int64_t now;
	bool key_changed;
};

static enum smd_store_rc keys_fn(struct smd_txn *txn, void *arg)
{
	struct keys_arg *a = arg;
	const struct smd_identity_store *id = a->db->ops->identity;
	struct smd_record_row row;
	enum smd_store_rc rc = id->txn_latest_record(txn, a->account_id, false, &row);

	a->key_changed = false;
	if (rc != SMD_STORE_OK)
		return rc;
	if (!smimp_sign_pk_equal(&row.public_key, &a->master)) {
		a->key_changed = true;
		return SMD_STORE_OK;
	}
	if (a->neph != NULL)
		rc = id->nonephemeral_set(txn, a->account_id, a->neph, &a->master, a->now);
	if (rc == SMD_STORE_OK && a->eph_set)
		rc = id->ephemeral_replace(txn, a->account_id, a->eph, a->n_eph, &a->master);
	return rc;
}

static enum smimp_err store_keys(const struct smd_request *req, struct keys_arg *a,
				 struct smd_response *resp, struct smimp_error *err)
{
	a->db = req->srv->db;
	a->now = smimp_timestamp_now();
	if (smd_id_write(req, keys_fn, a, err) != SMIMP_OK)
		return err->code;
	if (a->key_changed)
		return smimp_error_set(err, SMIMP_ERR_CONFLICT,
				       "the master key changed meanwhile");
	smd_response_json(resp, 200, json_object());
	return SMIMP_OK;
}

enum smimp_err smd_api_nonephemeral_post(const struct smd_request *req,
					 const struct smd_args *args,
					 struct smd_response *resp,
					 struct smimp_error *err)
{
	struct smd_session s;
	struct smd_account acct;
	struct keys_arg a = {0};
	struct smimp_msgkey mk;
	json_t *body, *jk = NULL;
	enum smimp_err e;

	(void)args;
	resp->no_store = true;
	if (owner(req, &s, &acct, &a.master, err) != SMIMP_OK)
		return err->code;
	body = smd_id_body(req, false, err);
	if (body == NULL)
		return err->code;
	e = smimp_json_get_object(body, "message_key", 0, &jk, err);
	if (e == SMIMP_OK)
		e = smd_id_msgkey(jk, s.address, &a.master, SMIMP_MSGKEY_NONEPHEMERAL,
				  &mk, err);
	if (e == SMIMP_OK) {
		a.account_id = acct.id;
		a.neph = &mk;
		e = store_keys(req, &a, resp, err);
	}
	json_decref(body);
	return e;
}

static bool add_key(const struct smimp_msgkey *mk, void *arg)
{
	json_t *v = smimp_msgkey_to_json(mk);

	return v != NULL && json_array_append_new(arg, v) == 0;
}

enum smimp_err smd_api_ephemeral_get(const struct smd_request *req,
				     const struct smd_args *args,
				     struct smd_response *resp,
				     struct smimp_error *err)
{
	const struct smd_db *db = req->srv->db;
	struct smd_session s;
	struct smd_account acct;
	struct smimp_sign_pk key;
	enum smd_store_rc rc;
	json_t *keys;

	(void)args;
	resp->no_store = true;
	if (owner(req, &s, &acct, &key, err) != SMIMP_OK)
		return err->code;
	keys = json_array();
	if (keys == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	rc = db->ops->identity->ephemeral_list(db->st, acct.id, add_key, keys);
	if (rc != SMD_STORE_OK) {
		json_decref(keys);
		return smd_store_err(rc, err);
	}
	smd_response_json(resp, 200, json_pack("{s:o}", "keys", keys));
	return SMIMP_OK;
}

enum smimp_err smd_api_ephemeral_post(const struct smd_request *req,
				      const struct smd_args *args,
				      struct smd_response *resp,
				      struct smimp_error *err)
{
	struct smd_session s;
	struct smd_account acct;
	struct keys_arg a = {0};
	struct smimp_msgkey *eph = NULL;
	json_t *body, *jk = NULL;
	enum smimp_err e;

	(void)args;
	resp->no_store = true;
	if (owner(req, &s, &acct, &a.master, err) != SMIMP_OK)
		return err->code;
	body = smd_id_body(req, false, err);
	if (body == NULL)
		return err->code;
	e = smimp_json_get_array(body, "keys", 0,
				 (size_t)req->srv->cfg->max_ephemeral_keys, &jk, err);
	if (e == SMIMP_OK)
		e = smd_id_msgkeys(req, jk, s.address, &a.master, &eph, &a.n_eph, err);
	if (e == SMIMP_OK) {
		a.account_id = acct.id;
		a.eph = eph;
		a.eph_set = true;
		e = store_keys(req, &a, resp, err);
	}
	free(eph);
	json_decref(body);
	return e;
}

/* POST update_profile (spec 11.4): appends a record to the owner's
 * history; on a master key change also takes the new message keys (signed
 * by the new key), drops every key signed by the old one and ends the
 * account's other sessions, all in one transaction. Untrusted input: the
 * session header and the body (the record and message keys). */
#include <stdlib.h>
#include <string.h>

#include "api_identity.h"
#include "config.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/record.h"
#include "smimp/timestamp.h"
#include "store_identity.h"

struct profile_arg {
	const struct smd_db *db;
	const struct smd_session *session;
	int64_t account_id;
	const struct smimp_record *next;
	const struct smimp_msgkey *neph;  /* NULL when the body has none */
	const struct smimp_msgkey *eph;
	size_t n_eph;
	bool eph_set;
	int64_t now;
	struct smimp_error err;           /* the verdict */
};

/* The stored latest record as the library's struct (for the chain check). */
static enum smimp_err stored_record(const struct smd_record_row *row,
				    struct smimp_record *out, struct smimp_error *err)
{
	char hex[2 * SMIMP_SIGNED_HASH_BYTES + 1];
	json_t *w;
	enum smimp_err e;

	smimp_hex_encode(hex, sizeof hex, row->signed_hash.b, sizeof row->signed_hash.b);
	w = json_pack("{s:s%, s:s}", "data", row->data, row->data_len,
		      "signed_hash", hex);
	if (w == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	e = smimp_record_from_json(out, w, err);
	json_decref(w);
	if (e != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "stored record unreadable");
	return SMIMP_OK;
}

/* Of the chain's earlier keys only next's own can refuse it (5: a replaced
 * key must not return), so the store is asked for that one key (an indexed
 * lookup) rather than for every key of a history of up to 10,000 records.
 * *n_used is 1 when the history holds it, else 0. */
static enum smd_store_rc key_used(struct smd_txn *txn, const struct profile_arg *a,
				  size_t *n_used)
{
	enum smd_store_rc rc = a->db->ops->identity->txn_record_has_key(
		txn, a->account_id, &a->next->public_key);

	*n_used = rc == SMD_STORE_OK;
	return rc == SMD_STORE_NOT_FOUND ? SMD_STORE_OK : rc;
}

/* Checks the chain in the transaction; writes nothing on a refusal. */
static enum smd_store_rc check_fn(struct smd_txn *txn, struct profile_arg *a,
				  bool *key_change)
{
	const struct smd_identity_store *id = a->db->ops->identity;
	const struct smimp_sign_pk *pk = &a->next->public_key;
	struct smd_record_row row = {0};
	struct smimp_record last = {0};
	char bound[SMIMP_ADDRESS_MAX + 1];
	size_t n_used = 0;
	enum smd_store_rc rc = id->txn_latest_record(txn, a->account_id, true, &row);

	if (rc == SMD_STORE_OK)
		rc = key_used(txn, a, &n_used);
	if (rc == SMD_STORE_OK && stored_record(&row, &last, &a->err) == SMIMP_OK &&
	    smimp_record_check_extends(a->next, &last, pk, n_used, a->now,
				       &a->err) == SMIMP_OK) {
		*key_change = !smimp_sign_pk_equal(pk, &last.public_key);
		if (*key_change && a->neph == NULL) {
			smimp_error_set(&a->err, SMIMP_ERR_BAD_REQUEST,
					"a new public_key needs a nonephemeral_key "
					"signed by it");
		} else if (*key_change) {
			rc = id->key_binding(txn, pk, bound);
			if (rc == SMD_STORE_OK && strcmp(bound, a->session->address) != 0)
				smimp_error_set(&a->err, SMIMP_ERR_CONFLICT,
						"public_key is bound to another address");
			if (rc == SMD_STORE_NOT_FOUND || rc == SMD_STORE_OK)
				rc = SMD_STORE_OK;
		}
	}
	free(row.data);
	smimp_record_free(&last);
	return rc;
}

static enum smd_store_rc profile_fn(struct smd_txn *txn, void *arg)
{
	struct profile_arg *a = arg;
	const struct smd_identity_store *id = a->db->ops->identity;
	const struct smimp_sign_pk *pk = &a->next->public_key;
	struct smd_record_row row;
	bool key_change = false;
	enum smd_store_rc rc;

	a->err.code = SMIMP_OK;
	rc = check_fn(txn, a, &key_change);
	if (rc != SMD_STORE_OK || a->err.code != SMIMP_OK)
		return rc;
	row.seq = a->next->seq;
	row.data = a->next->data;
	row.data_len = a->next->data_len;
	row.signed_hash = a->next->signed_hash;
	row.public_key = *pk;
	rc = id->record_add(txn, a->account_id, &row);
	if (rc != SMD_STORE_OK || !key_change)
		return rc;
	rc = id->key_bind(txn, pk, a->session->address, a->now);
	if (rc == SMD_STORE_OK)
		rc = id->msgkeys_drop_others(txn, a->account_id, pk);
	if (rc == SMD_STORE_OK)
		rc = id->nonephemeral_set(txn, a->account_id, a->neph, pk, a->now);
	if (rc == SMD_STORE_OK && a->eph_set)
		rc = id->ephemeral_replace(txn, a->account_id, a->eph, a->n_eph, pk);
	if (rc == SMD_STORE_OK)
		rc = id->sessions_rekey(txn, a->session->address, a->session->hash, pk);
	return rc;
}

enum smimp_err smd_api_update_profile(const struct smd_request *req,
				      const struct smd_args *args,
				      struct smd_response *resp,
				      struct smimp_error *err)
{
	struct smd_session s;
	struct smd_account acct;
	struct smimp_sign_pk current;
	struct smimp_record next = {0};
	struct smimp_msgkey neph, *eph = NULL;
	struct profile_arg a = {0};
	json_t *body, *jrec = NULL, *jneph = NULL, *jeph = NULL;
	enum smimp_err e;

	(void)args;
	resp->no_store = true;
	if (smd_session_require(req, SMD_SESSION_LOCAL, &s, err) != SMIMP_OK ||
	    smd_id_account(req, s.address, &acct, &current, err) != SMIMP_OK)
		return err->code;
	body = smd_id_body(req, false, err);
	if (body == NULL)
		return err->code;
	e = smimp_json_get_object(body, "record", 0, &jrec, err);
	if (e == SMIMP_OK)
		e = smimp_json_get_object(body, "nonephemeral_key",
					  SMIMP_JSON_OPTIONAL | SMIMP_JSON_NULLABLE,
					  &jneph, err);
	if (e == SMIMP_OK)
		e = smimp_json_get_array(body, "ephemeral_keys",
					 SMIMP_JSON_OPTIONAL | SMIMP_JSON_NULLABLE,
					 (size_t)req->srv->cfg->max_ephemeral_keys, &jeph, err);
	if (e == SMIMP_OK)
		e = smd_id_record(req, jrec, &next, err);
	/* Message keys count only with a new master key, which signs them. */
	if (e == SMIMP_OK && !smimp_sign_pk_equal(&next.public_key, &current)) {
		if (jneph != NULL) {
			e = smd_id_msgkey(jneph, s.address, &next.public_key,
					  SMIMP_MSGKEY_NONEPHEMERAL, &neph, err);
			a.neph = &neph;
		}
		if (e == SMIMP_OK && jeph != NULL) {
			e = smd_id_msgkeys(req, jeph, s.address, &next.public_key, &eph,
					   &a.n_eph, err);
			a.eph = eph;
			a.eph_set = true;
		}
	}
	if (e == SMIMP_OK) {
		a.db = req->srv->db;
		a.session = &s;
		a.account_id = acct.id;
		a.next = &next;
		a.now = smimp_timestamp_now();
		e = smd_id_write(req, profile_fn, &a, err);
		if (e == SMIMP_OK && a.err.code != SMIMP_OK) {
			*err = a.err;
			e = err->code;
		}
	}
	if (e == SMIMP_OK)
		smd_response_json(resp, 200, json_object());
	free(eph);
	smimp_record_free(&next);
	json_decref(body);
	return e;
}

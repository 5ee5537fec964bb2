/* POST initialize_account/{address} (spec 11.1): the owner's first record
 * and message keys, admitted with the one-time password. Untrusted input:
 * the path and the whole body (password hash, record 0, message keys).
 * Password attempts are counted (from before the check, so that parallel
 * guesses all count) and, past a few without success, answered 429 for a
 * growing time; a failed call changes nothing else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_identity.h"
#include "config.h"
#include "crypto.h"
#include "smimp/json.h"
#include "smimp/record.h"
#include "smimp/timestamp.h"
#include "store_identity.h"

#define FREE_FAILURES 5        /* failed attempts before the rate limit */
#define FIRST_LOCK_SECONDS 60  /* doubled per further failure */
#define MAX_LOCK_SECONDS (24 * 3600)

/* Seconds the next attempt must still wait, 0 when it may go. */
static int64_t locked_for(const struct smd_account_secret *sec, int64_t now)
{
	int64_t lock = FIRST_LOCK_SECONDS;

	if (sec->failures < FREE_FAILURES)
		return 0;
	for (unsigned i = FREE_FAILURES; i < sec->failures && lock < MAX_LOCK_SECONDS; i++)
		lock *= 2;
	if (lock > MAX_LOCK_SECONDS)
		lock = MAX_LOCK_SECONDS;
	return sec->failed_at + lock > now ? sec->failed_at + lock - now : 0;
}

struct init_arg {
	const struct smd_db *db;
	const char *address;
	const char *pwhash;                /* the hash the password matched */
	const struct smimp_record *rec;
	const struct smimp_msgkey *neph;
	const struct smimp_msgkey *eph;
	size_t n_eph;
	int64_t now;
	struct smimp_error err;            /* the verdict, SMIMP_OK or why not */
};

/* Checks again inside the transaction what may have changed since the
 * handler looked, then stores everything; writes nothing on a refusal. */
static enum smd_store_rc init_fn(struct smd_txn *txn, void *arg)
{
	struct init_arg *a = arg;
	const struct smd_identity_store *id = a->db->ops->identity;
	struct smd_account acct;
	struct smd_account_secret sec;
	struct smd_record_row row;
	char bound[SMIMP_ADDRESS_MAX + 1];
	enum smd_store_rc rc;

	a->err.code = SMIMP_OK;
	rc = a->db->ops->txn_account_secret(txn, a->address, &acct, &sec);
	if (rc == SMD_STORE_NOT_FOUND) {
		smimp_error_set(&a->err, SMIMP_ERR_NOT_FOUND, "no such account");
		return SMD_STORE_OK;
	}
	if (rc != SMD_STORE_OK)
		return rc;
	if (acct.initialized) {
		smimp_error_set(&a->err, SMIMP_ERR_CONFLICT, "already initialized");
	} else if (strcmp(sec.pwhash, a->pwhash) != 0) {
		smimp_error_set(&a->err, SMIMP_ERR_FORBIDDEN, "wrong password");
	} else {
		rc = id->key_binding(txn, &a->rec->public_key, bound);
		if (rc == SMD_STORE_OK && strcmp(bound, a->address) != 0)
			smimp_error_set(&a->err, SMIMP_ERR_CONFLICT,
					"public_key is bound to another address");
		else if (rc != SMD_STORE_OK && rc != SMD_STORE_NOT_FOUND)
			return rc;
	}
	smd_wipe(&sec, sizeof sec);
	if (a->err.code != SMIMP_OK)
		return SMD_STORE_OK;
	row.seq = 0;
	row.data = a->rec->data;
	row.data_len = a->rec->data_len;
	row.signed_hash = a->rec->signed_hash;
	row.public_key = a->rec->public_key;
	rc = id->record_add(txn, acct.id, &row);
	if (rc == SMD_STORE_OK)
		rc = id->key_bind(txn, &a->rec->public_key, a->address, a->now);
	if (rc == SMD_STORE_OK)
		rc = id->nonephemeral_set(txn, acct.id, a->neph, &a->rec->public_key, a->now);
	if (rc == SMD_STORE_OK)
		rc = id->ephemeral_replace(txn, acct.id, a->eph, a->n_eph,
					   &a->rec->public_key);
	if (rc == SMD_STORE_OK)
		rc = id->account_initialize(txn, acct.id);
	return rc;
}

/* One password attempt, reserved before the (slow, deliberately) password
 * check: the lock is checked and the attempt counted in one transaction, so
 * guesses sent at the same instant each count against the limit. The
 * initialization that a right password leads to resets the count. */
struct attempt_arg {
	const struct smd_db *db;
	const char *address;
	int64_t now;
	bool found;
	struct smd_account acct;
	struct smd_account_secret sec;
	int64_t wait;                      /* > 0: locked for that long */
};

static enum smd_store_rc attempt_fn(struct smd_txn *txn, void *arg)
{
	struct attempt_arg *a = arg;
	enum smd_store_rc rc = a->db->ops->txn_account_secret(txn, a->address,
							      &a->acct, &a->sec);

	a->found = rc == SMD_STORE_OK;
	a->wait = 0;
	if (rc == SMD_STORE_NOT_FOUND)
		return SMD_STORE_OK;
	if (rc != SMD_STORE_OK || a->acct.initialized)
		return rc;
	a->wait = locked_for(&a->sec, a->now);
	if (a->wait > 0)
		return SMD_STORE_OK;
	return a->db->ops->identity->init_failure(txn, a->address, a->now);
}

/* The password check: 404, 409, 429, 403 or SMIMP_OK. On SMIMP_OK pwhash
 * holds the stored hash that matched. */
static enum smimp_err check_password(const struct smd_request *req,
				     struct smd_response *resp, const char *address,
				     const uint8_t given[32],
				     char pwhash[SMD_PWHASH_STR_BYTES],
				     struct smimp_error *err)
{
	struct attempt_arg a = {req->srv->db, address, smimp_timestamp_now(), false,
				{0}, {{0}, 0, 0, 0}, 0};
	enum smd_store_rc rc = smd_db_write(req->srv->db, attempt_fn, &a);
	enum smimp_err e = SMIMP_OK;

	if (rc != SMD_STORE_OK) {
		e = smd_store_err(rc, err);
	} else if (!a.found) {
		e = smimp_error_set(err, SMIMP_ERR_NOT_FOUND, "no such account");
	} else if (a.acct.initialized) {
		e = smimp_error_set(err, SMIMP_ERR_CONFLICT, "already initialized");
	} else if (a.wait > 0) {
		resp->retry_after = (unsigned)a.wait;
		e = smimp_error_set(err, SMIMP_ERR_RATE_LIMITED,
				    "too many wrong passwords; retry later");
	} else if (a.sec.pwhash[0] == '\0' || a.sec.expires_at < a.now) {
		e = smimp_error_set(err, SMIMP_ERR_FORBIDDEN,
				    "the initialization password has expired");
	} else if (!smd_pwhash_verify(a.sec.pwhash, given, 32)) {
		e = smimp_error_set(err, SMIMP_ERR_FORBIDDEN, "wrong password");
	} else {
		memcpy(pwhash, a.sec.pwhash, SMD_PWHASH_STR_BYTES);
	}
	smd_wipe(&a.sec, sizeof a.sec);
	return e;
}

enum smimp_err smd_api_initialize_account(const struct smd_request *req,
					  const struct smd_args *args,
					  struct smd_response *resp,
					  struct smimp_error *err)
{
	char address[SMIMP_ADDRESS_MAX + 1], pwhash[SMD_PWHASH_STR_BYTES] = "";
	uint8_t given[32];
	struct smimp_record rec = {0};
	struct smimp_msgkey neph, *eph = NULL;
	size_t n_eph = 0;
	json_t *body, *jrec = NULL, *jneph = NULL, *jeph = NULL;
	struct init_arg ia;
	enum smimp_err e;
	bool local;

	if (smd_id_path_address(req, args, 0, address, &local, err) != SMIMP_OK)
		return err->code;
	if (!local)
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND,
				       "this server does not host that domain");
	body = smd_id_body(req, false, err);
	if (body == NULL)
		return err->code;
	/* Formats first (400/413), then the password, then the contents. */
	e = smimp_json_get_hex(body, "password_hash", 0, given, sizeof given, NULL, err);
	if (e == SMIMP_OK)
		e = smimp_json_get_object(body, "record", 0, &jrec, err);
	if (e == SMIMP_OK)
		e = smimp_json_get_object(body, "nonephemeral_key", 0, &jneph, err);
	if (e == SMIMP_OK)
		e = smimp_json_get_array(body, "ephemeral_keys",
					 SMIMP_JSON_OPTIONAL | SMIMP_JSON_NULLABLE,
					 (size_t)req->srv->cfg->max_ephemeral_keys, &jeph, err);
	if (e == SMIMP_OK)
		e = smd_id_record(req, jrec, &rec, err);
	if (e == SMIMP_OK && smimp_msgkey_from_json(&neph, jneph, err) != SMIMP_OK)
		e = err->code;
	if (e == SMIMP_OK)
		e = check_password(req, resp, address, given, pwhash, err);
	if (e == SMIMP_OK)
		e = smimp_record_check_first(&rec, address, smimp_timestamp_now(), err);
	if (e == SMIMP_OK)
		e = smd_id_msgkey(jneph, address, &rec.public_key,
				  SMIMP_MSGKEY_NONEPHEMERAL, &neph, err);
	if (e == SMIMP_OK && jeph != NULL)
		e = smd_id_msgkeys(req, jeph, address, &rec.public_key, &eph, &n_eph, err);
	if (e == SMIMP_OK) {
		ia = (struct init_arg){req->srv->db, address, pwhash, &rec, &neph, eph,
				       n_eph, smimp_timestamp_now(), {SMIMP_OK, ""}};
		e = smd_id_write(req, init_fn, &ia, err);
		if (e == SMIMP_OK && ia.err.code != SMIMP_OK) {
			*err = ia.err;
			e = err->code;
		}
	}
	if (e == SMIMP_OK)
		smd_response_json(resp, 200, json_object());
	smd_wipe(given, sizeof given);
	smd_wipe(pwhash, sizeof pwhash);
	free(eph);
	smimp_record_free(&rec);
	json_decref(body);
	return e;
}

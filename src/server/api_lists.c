/* Whitelist and blacklist (spec 11.8) and quota (11.9). Local sessions
 * only. Untrusted input: the entry hash (HEX32, body or path) and the
 * client's encrypted note (b64, at most SMD_LIST_DATA_MAX bytes), stored
 * as given and never looked into. */
#include <stdlib.h>
#include <string.h>

#include "api_mail.h"
#include "smimp/b64.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/timestamp.h"

static bool add_entry(struct smd_list_entry *e, void *p)
{
	json_t *arr = p, *o;
	char hex[2 * SMIMP_HASH_BYTES + 1];
	char *b64 = smimp_b64_encode(e->data, e->data_len);

	if (b64 == NULL)
		return false;
	smimp_hex_encode(hex, sizeof hex, e->hash.b, sizeof e->hash.b);
	o = json_pack("{s:s, s:s}", "hash", hex, "data", b64);
	free(b64);
	return o != NULL && json_array_append_new(arr, o) == 0;
}

static enum smimp_err list_get(const struct smd_request *req,
			       struct smd_response *resp,
			       enum smimp_list_kind kind, struct smimp_error *err)
{
	const struct smd_db *db = req->srv->db;
	struct smd_session sess;
	json_t *arr;
	enum smd_store_rc rc;
	enum smimp_err e;

	if ((e = smd_mail_session(req, resp, SMD_SESSION_LOCAL, &sess, err)) != SMIMP_OK)
		return e;
	if ((arr = json_array()) == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	rc = db->ops->mail->list_entries(db->st, sess.address, kind, add_entry, arr);
	if (rc != SMD_STORE_OK) {
		json_decref(arr);
		return smd_store_err(rc, err);
	}
	smd_response_json(resp, 200, json_pack("{s:o}", "entries", arr));
	return SMIMP_OK;
}

struct list_arg {
	const struct smd_db *db;
	const char *owner;
	enum smimp_list_kind kind;
	struct smimp_hash hash;
	const uint8_t *data;      /* NULL: remove */
	size_t len;
	int64_t now;
};

static enum smd_store_rc list_fn(struct smd_txn *txn, void *p)
{
	struct list_arg *a = p;

	if (a->data != NULL)
		return a->db->ops->mail->list_add(txn, a->owner, a->kind, &a->hash,
						  a->data, a->len, a->now);
	return a->db->ops->mail->list_remove(txn, a->owner, a->kind, &a->hash);
}

static enum smimp_err list_add(const struct smd_request *req,
			       struct smd_response *resp,
			       enum smimp_list_kind kind, struct smimp_error *err)
{
	struct smd_session sess;
	struct list_arg a;
	uint8_t *data = NULL;
	enum smd_store_rc rc;
	json_t *body;
	enum smimp_err e;

	if ((e = smd_mail_session(req, resp, SMD_SESSION_LOCAL, &sess, err)) != SMIMP_OK)
		return e;
	if ((body = smd_mail_body(req, SMD_MAIL_SMALL_BODY, err)) == NULL)
		return err->code;
	memset(&a, 0, sizeof a);
	e = smimp_json_get_hex(body, "hash", 0, a.hash.b, sizeof a.hash.b, NULL, err);
	if (e == SMIMP_OK)
		e = smimp_json_get_b64(body, "data", 0, SMD_LIST_DATA_MAX, &data,
				       &a.len, err);
	json_decref(body);
	if (e != SMIMP_OK)
		return e;
	a.db = req->srv->db;
	a.owner = sess.address;
	a.kind = kind;
	a.data = data;
	a.now = smimp_timestamp_now();
	rc = smd_db_write_grouped(req->srv->db, list_fn, &a);
	free(data);
	if (rc == SMD_STORE_CONFLICT)
		return smimp_error_set(err, SMIMP_ERR_CONFLICT, "already listed");
	if (rc != SMD_STORE_OK)
		return smd_store_err(rc, err);
	smd_mail_ok_empty(resp);
	return SMIMP_OK;
}

static enum smimp_err list_remove(const struct smd_request *req,
				  const struct smd_args *args,
				  struct smd_response *resp,
				  enum smimp_list_kind kind, struct smimp_error *err)
{
	struct smd_session sess;
	struct list_arg a;
	enum smd_store_rc rc;
	enum smimp_err e;

	memset(&a, 0, sizeof a);
	if ((e = smd_mail_session(req, resp, SMD_SESSION_LOCAL, &sess, err)) != SMIMP_OK ||
	    (e = smd_mail_seg_hex32(a.hash.b, args, 0, err)) != SMIMP_OK)
		return e;
	a.db = req->srv->db;
	a.owner = sess.address;
	a.kind = kind;
	rc = smd_db_write_grouped(req->srv->db, list_fn, &a);
	if (rc == SMD_STORE_NOT_FOUND)
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND, "not listed");
	if (rc != SMD_STORE_OK)
		return smd_store_err(rc, err);
	smd_mail_no_content(resp);
	return SMIMP_OK;
}

enum smimp_err smd_api_whitelist_get(const struct smd_request *req,
				     const struct smd_args *args,
				     struct smd_response *resp,
				     struct smimp_error *err)
{
	(void)args;
	return list_get(req, resp, SMIMP_LIST_WHITELIST, err);
}

enum smimp_err smd_api_whitelist_add(const struct smd_request *req,
				     const struct smd_args *args,
				     struct smd_response *resp,
				     struct smimp_error *err)
{
	(void)args;
	return list_add(req, resp, SMIMP_LIST_WHITELIST, err);
}

enum smimp_err smd_api_whitelist_remove(const struct smd_request *req,
					const struct smd_args *args,
					struct smd_response *resp,
					struct smimp_error *err)
{
	return list_remove(req, args, resp, SMIMP_LIST_WHITELIST, err);
}

enum smimp_err smd_api_blacklist_get(const struct smd_request *req,
				     const struct smd_args *args,
				     struct smd_response *resp,
				     struct smimp_error *err)
{
	(void)args;
	return list_get(req, resp, SMIMP_LIST_BLACKLIST, err);
}

enum smimp_err smd_api_blacklist_add(const struct smd_request *req,
				     const struct smd_args *args,
				     struct smd_response *resp,
				     struct smimp_error *err)
{
	(void)args;
	return list_add(req, resp, SMIMP_LIST_BLACKLIST, err);
}

enum smimp_err smd_api_blacklist_remove(const struct smd_request *req,
					const struct smd_args *args,
					struct smd_response *resp,
					struct smimp_error *err)
{
	return list_remove(req, args, resp, SMIMP_LIST_BLACKLIST, err);
}

enum smimp_err smd_api_quota(const struct smd_request *req,
			     const struct smd_args *args,
			     struct smd_response *resp, struct smimp_error *err)
{
	const struct smd_db *db = req->srv->db;
	struct smd_session sess;
	struct smd_account acct;
	enum smd_store_rc rc;
	json_int_t used, limit, avail;
	enum smimp_err e;

	(void)args;
	if ((e = smd_mail_session(req, resp, SMD_SESSION_LOCAL, &sess, err)) != SMIMP_OK)
		return e;
	rc = db->ops->account_get(db->st, sess.address, &acct);
	if (rc != SMD_STORE_OK)
		return smd_store_err(rc, err);
	used = acct.used_bytes;
	limit = acct.quota_limit < 0 ? -1 : acct.quota_limit;
	avail = limit < 0 ? -1 : (limit > used ? limit - used : 0);
	smd_response_json(resp, 200, json_pack("{s:I, s:I, s:I}", "used", used,
					       "limit", limit, "available", avail));
	return SMIMP_OK;
}

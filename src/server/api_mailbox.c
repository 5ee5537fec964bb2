/* The mailbox calls (spec 11.5): folder listings with paging, reading,
 * deleting, read flags, moving and extensions data of messages. Local
 * sessions only; every store call is scoped to the session's address, so
 * another user's message id is 404. Untrusted input: path segments, the
 * limit and after query values, small JSON bodies. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_mail.h"
#include "config.h"
#include "smimp/envelope.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/timestamp.h"

#define DEFAULT_PAGE 100u
#define CURSOR_LEN (16 + 2 * SMIMP_HASH_BYTES)

/* ---- listing ---- */

/* ?limit=: digits only, at least 1, clamped to max_list_page. */
static enum smimp_err parse_limit(const char *s, long long max, unsigned *out,
				  struct smimp_error *err)
{
	unsigned long long v = 0;

	*out = DEFAULT_PAGE < (unsigned long long)max ? DEFAULT_PAGE : (unsigned)max;
	if (s == NULL)
		return SMIMP_OK;
	if (*s == '\0')
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST, "limit is empty");
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "limit is not a number");
		if (v <= (unsigned long long)max)  /* stop growing past the clamp */
			v = v * 10 + (unsigned)(*p - '0');
	}
	if (v < 1)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "limit is below 1");
	*out = v > (unsigned long long)max ? (unsigned)max : (unsigned)v;
	return SMIMP_OK;
}

/* The opaque cursor: 16 hex digits of received_at, then the message id. */
static void cursor_format(char out[CURSOR_LEN + 1], const struct smd_message_meta *m)
{
	snprintf(out, 17, "%016" PRIx64, (uint64_t)m->received_at);
	smimp_hex_encode(out + 16, CURSOR_LEN + 1 - 16, m->message_id.b,
			 sizeof m->message_id.b);
}

static enum smimp_err cursor_parse(const char *s, struct smd_cursor *c,
				   struct smimp_error *err)
{
	uint8_t t[8];

	memset(c, 0, sizeof *c);
	if (s == NULL)
		return SMIMP_OK;
	if (strlen(s) != CURSOR_LEN || smimp_hex_decode(t, 8, s, 16) != SMIMP_OK ||
	    smimp_hex_decode(c->message_id.b, SMIMP_HASH_BYTES, s + 16,
			     CURSOR_LEN - 16) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "after is not a cursor of this server");
	for (int i = 0; i < 8; i++)
		c->received_at = (int64_t)(((uint64_t)c->received_at << 8) | t[i]);
	c->set = true;
	return SMIMP_OK;
}

struct page {
	json_t *messages;
	unsigned want, got;
	struct smd_message_meta last;
	bool more, oom;
};

static bool page_row(const struct smd_message_meta *m, void *p)
{
	struct page *pg = p;
	char id[2 * SMIMP_HASH_BYTES + 1], ts[SMIMP_TIMESTAMP_LEN + 1];
	json_t *row;

	if (pg->got == pg->want) {  /* the one extra row: there is a next page */
		pg->more = true;
		return false;
	}
	smimp_hex_encode(id, sizeof id, m->message_id.b, sizeof m->message_id.b);
	smimp_timestamp_format(ts, m->received_at);
	row = json_pack("{s:s, s:s, s:b, s:s, s:I}", "message_id", id,
			"received_at", ts, "read", m->read, "from", m->sender,
			"size", (json_int_t)m->size);
	if (row == NULL || json_array_append_new(pg->messages, row) != 0) {
		pg->oom = true;
		return false;
	}
	pg->last = *m;
	pg->got++;
	return true;
}

enum smimp_err smd_api_folder(const struct smd_request *req,
			      const struct smd_args *args,
			      struct smd_response *resp, struct smimp_error *err)
{
	const struct smd_db *db = req->srv->db;
	struct smd_session sess;
	char type[SMIMP_MSGTYPE_MAX + 1], folder[SMIMP_FOLDER_NAME_MAX + 1];
	char cur[CURSOR_LEN + 1];
	struct smd_cursor after;
	struct page pg;
	enum smd_store_rc rc;
	json_t *out;
	enum smimp_err e;

	memset(&pg, 0, sizeof pg);
	if ((e = smd_mail_session(req, resp, SMD_SESSION_LOCAL, &sess, err)) != SMIMP_OK ||
	    (e = smd_mail_seg_type(type, args, 0, err)) != SMIMP_OK ||
	    (args->n > 1 &&
	     (e = smd_mail_seg_folder(folder, args, 1, err)) != SMIMP_OK) ||
	    (e = parse_limit(smd_request_query(req, "limit"),
			     req->srv->cfg->max_list_page, &pg.want, err)) != SMIMP_OK ||
	    (e = cursor_parse(smd_request_query(req, "after"), &after, err)) != SMIMP_OK)
		return e;
	pg.messages = json_array();
	if (pg.messages == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	rc = db->ops->mail->message_list(db->st, sess.address, type,
					 args->n > 1 ? folder : NULL, &after,
					 pg.want + 1, page_row, &pg);
	if (rc != SMD_STORE_OK || pg.oom) {
		json_decref(pg.messages);
		if (rc == SMD_STORE_NOT_FOUND)
			return smimp_error_set(err, SMIMP_ERR_NOT_FOUND, "no such folder");
		return rc != SMD_STORE_OK ? smd_store_err(rc, err) :
		       smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	}
	if (pg.more)
		cursor_format(cur, &pg.last);
	out = json_pack("{s:o, s:s?}", "messages", pg.messages, "next",
			pg.more ? cur : NULL);
	if (out == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	smd_response_json(resp, 200, out);
	return SMIMP_OK;
}

/* ---- one message ---- */

/* A write on one message of the owner's. */
struct msg_arg {
	struct smd_db *db;
	const char *owner;
	struct smimp_hash id;
	int op;                     /* one of the MSG_* below */
	bool flag;
	const char *folder;
	const uint8_t *data;
	size_t len;
};

enum { MSG_READ, MSG_DELETE, MSG_MOVE, MSG_EXT };

static enum smd_store_rc msg_fn(struct smd_txn *txn, void *p)
{
	struct msg_arg *a = p;
	const struct smd_mail_store *m = a->db->ops->mail;

	switch (a->op) {
	case MSG_READ:
		return m->message_set_read(txn, a->owner, &a->id, a->flag);
	case MSG_DELETE:
		return m->message_delete(txn, a->owner, &a->id);
	case MSG_MOVE:
		return m->message_move(txn, a->owner, &a->id, a->folder);
	default:
		return m->message_set_extensions(txn, a->owner, &a->id, a->data,
						 a->len, a->flag);
	}
}

/* Checks the session and the id segment, and fills a for a write. */
static enum smimp_err msg_begin(const struct smd_request *req,
				const struct smd_args *args,
				struct smd_response *resp, struct smd_session *sess,
				struct msg_arg *a, struct smimp_error *err)
{
	enum smimp_err e;

	memset(a, 0, sizeof *a);
	if ((e = smd_mail_session(req, resp, SMD_SESSION_LOCAL, sess, err)) != SMIMP_OK ||
	    (e = smd_mail_seg_hex32(a->id.b, args, 0, err)) != SMIMP_OK)
		return e;
	a->db = req->srv->db;
	a->owner = sess->address;
	return SMIMP_OK;
}

static enum smimp_err msg_write(struct msg_arg *a, struct smimp_error *err)
{
	enum smd_store_rc rc = smd_db_write_grouped(a->db, msg_fn, a);

	if (rc == SMD_STORE_NOT_FOUND)
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND,
				       a->op == MSG_MOVE ? "no such message or folder" :
				       "no such message");
	if (rc == SMD_STORE_CONFLICT)
		return smimp_error_set(err, SMIMP_ERR_CONFLICT,
				       "that folder is of another message type");
	return smd_store_err(rc, err);
}

/* Answers the stored envelope out (taken). The same bytes as
 * smd_response_json, faster: the large base64 "message" member (first in
 * out) is copied as it is instead of going through jansson's per-character
 * string escaping, which base64 never needs. */
static enum smimp_err message_answer(struct smd_response *resp, json_t *out,
				     struct smimp_error *err)
{
	json_t *m = json_object_get(out, "message");
	const char *b64 = json_string_value(m);
	size_t blen = json_string_length(m), rlen;
	char *rest, *body;

	if (b64 == NULL || strcspn(b64, "\"\\") != blen || json_object_size(out) < 2) {
		smd_response_json(resp, 200, out);
		return SMIMP_OK;
	}
	json_incref(m);
	json_object_del(out, "message");
	rest = smimp_json_dump(out);
	json_decref(out);
	if (rest == NULL || rest[0] != '{') {
		json_decref(m);
		free(rest);
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	}
	rlen = strlen(rest);
	body = malloc(sizeof "{\"message\":\"\"," + blen + rlen);
	if (body == NULL) {
		json_decref(m);
		free(rest);
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	}
	memcpy(body, "{\"message\":\"", 12);
	memcpy(body + 12, b64, blen);
	memcpy(body + 12 + blen, "\",", 2);
	memcpy(body + 14 + blen, rest + 1, rlen);   /* with its NUL */
	json_decref(m);
	free(rest);
	free(resp->body);
	resp->status = 200;
	resp->content_type = "application/json";
	resp->body = body;
	resp->body_len = 13 + blen + rlen;
	return SMIMP_OK;
}

enum smimp_err smd_api_message_get(const struct smd_request *req,
				   const struct smd_args *args,
				   struct smd_response *resp, struct smimp_error *err)
{
	struct smd_session sess;
	struct msg_arg a;
	struct smimp_stored_envelope env;
	enum smd_store_rc rc;
	json_t *out;
	enum smimp_err e;
	bool update = false;

	if ((e = msg_begin(req, args, resp, &sess, &a, err)) != SMIMP_OK)
		return e;
	if (args->n > 1) {
		if (args->len[1] == 4 && memcmp(args->seg[1], "true", 4) == 0)
			update = true;
		else if (!(args->len[1] == 5 && memcmp(args->seg[1], "false", 5) == 0))
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "update_read is neither true nor false");
	}
	if (update) {
		a.op = MSG_READ;
		a.flag = true;
		if ((e = msg_write(&a, err)) != SMIMP_OK)
			return e;
	}
	rc = a.db->ops->mail->message_get(a.db->st, sess.address, &a.id, &env);
	if (rc == SMD_STORE_NOT_FOUND)
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND, "no such message");
	if (rc != SMD_STORE_OK)
		return smd_store_err(rc, err);
	out = smimp_stored_envelope_to_json(&env);
	smimp_stored_envelope_clear(&env);
	if (out == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	return message_answer(resp, out, err);
}

enum smimp_err smd_api_message_delete(const struct smd_request *req,
				      const struct smd_args *args,
				      struct smd_response *resp,
				      struct smimp_error *err)
{
	struct smd_session sess;
	struct msg_arg a;
	enum smimp_err e;

	if ((e = msg_begin(req, args, resp, &sess, &a, err)) != SMIMP_OK)
		return e;
	a.op = MSG_DELETE;
	if ((e = msg_write(&a, err)) != SMIMP_OK)
		return e;
	smd_mail_no_content(resp);
	return SMIMP_OK;
}

enum smimp_err smd_api_message_read_get(const struct smd_request *req,
					const struct smd_args *args,
					struct smd_response *resp,
					struct smimp_error *err)
{
	struct smd_session sess;
	struct msg_arg a;
	struct smimp_stored_envelope env;
	enum smd_store_rc rc;
	enum smimp_err e;
	bool read;

	if ((e = msg_begin(req, args, resp, &sess, &a, err)) != SMIMP_OK)
		return e;
	rc = a.db->ops->mail->message_get(a.db->st, sess.address, &a.id, &env);
	if (rc == SMD_STORE_NOT_FOUND)
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND, "no such message");
	if (rc != SMD_STORE_OK)
		return smd_store_err(rc, err);
	read = env.read;
	smimp_stored_envelope_clear(&env);
	smd_response_json(resp, 200, json_pack("{s:b}", "read", read));
	return SMIMP_OK;
}

enum smimp_err smd_api_message_read_set(const struct smd_request *req,
					const struct smd_args *args,
					struct smd_response *resp,
					struct smimp_error *err)
{
	struct smd_session sess;
	struct msg_arg a;
	json_t *body;
	enum smimp_err e;

	if ((e = msg_begin(req, args, resp, &sess, &a, err)) != SMIMP_OK)
		return e;
	/* The body is `true`, `false` or {"read": BOOL}. */
	body = smimp_json_parse((const char *)req->body, req->body_len,
				SMD_MAIL_SMALL_BODY, false, err);
	if (body == NULL)
		return err->code;
	if (json_is_boolean(body))
		a.flag = json_is_true(body);
	else if (json_is_object(body))
		e = smimp_json_get_bool(body, "read", 0, &a.flag, err);
	else
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				    "body is neither a boolean nor {\"read\": BOOL}");
	json_decref(body);
	if (e != SMIMP_OK)
		return e;
	a.op = MSG_READ;
	if ((e = msg_write(&a, err)) != SMIMP_OK)
		return e;
	smd_mail_ok_empty(resp);
	return SMIMP_OK;
}

enum smimp_err smd_api_message_move(const struct smd_request *req,
				    const struct smd_args *args,
				    struct smd_response *resp,
				    struct smimp_error *err)
{
	struct smd_session sess;
	struct msg_arg a;
	char folder[SMIMP_FOLDER_NAME_MAX + 1];
	const char *name = NULL;
	size_t len = 0;
	json_t *body;
	enum smimp_err e;

	if ((e = msg_begin(req, args, resp, &sess, &a, err)) != SMIMP_OK)
		return e;
	if ((body = smd_mail_body(req, SMD_MAIL_SMALL_BODY, err)) == NULL)
		return err->code;
	e = smimp_json_get_string(body, "folder", SMIMP_JSON_NULLABLE,
				  SMIMP_FOLDER_NAME_MAX, &name, &len, err);
	if (e == SMIMP_OK && name != NULL) {
		if (!smd_mail_folder_name_ok(name, len))
			e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					    "folder is not [a-z0-9_-]{1,64}");
		else
			memcpy(folder, name, len + 1);
	}
	json_decref(body);
	if (e != SMIMP_OK)
		return e;
	a.op = MSG_MOVE;
	a.folder = name != NULL ? folder : NULL;
	if ((e = msg_write(&a, err)) != SMIMP_OK)
		return e;
	smd_mail_ok_empty(resp);
	return SMIMP_OK;
}

enum smimp_err smd_api_message_extensions(const struct smd_request *req,
					  const struct smd_args *args,
					  struct smd_response *resp,
					  struct smimp_error *err)
{
	struct smd_session sess;
	struct msg_arg a;
	uint8_t *data = NULL;
	size_t len = 0;
	json_t *body;
	enum smimp_err e;

	if ((e = msg_begin(req, args, resp, &sess, &a, err)) != SMIMP_OK)
		return e;
	body = smd_mail_body(req, SMD_MAIL_SMALL_BODY +
			     (SMIMP_ENVELOPE_EXTENSIONS_MAX / 3 + 1) * 4, err);
	if (body == NULL)
		return err->code;
	e = smimp_json_get_b64(body, "extensions", SMIMP_JSON_NULLABLE,
			       SMIMP_ENVELOPE_EXTENSIONS_MAX, &data, &len, err);
	json_decref(body);
	if (e != SMIMP_OK)
		return e;
	a.op = MSG_EXT;
	a.flag = data == NULL;   /* null: remove */
	a.data = data;
	a.len = len;
	e = msg_write(&a, err);
	free(data);
	if (e != SMIMP_OK)
		return e;
	smd_mail_ok_empty(resp);
	return SMIMP_OK;
}

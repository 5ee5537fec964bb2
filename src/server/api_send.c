/* The sending calls (spec 8, 9): get_message_key, get_pow_params and
 * send_message. Untrusted input: the recipient in the body or path, the
 * message type segment and the whole send_message body, which
 * smimp_envelope_accept checks with store callbacks. Every single use (key
 * issue, nonce, message) is committed before the answer relies on it. */
#include <string.h>

#include "api_mail.h"
#include "config.h"
#include "policy.h"
#include "pow_nonce.h"
#include "smimp/address.h"
#include "smimp/envelope.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/timestamp.h"

/* ---- get_message_key (9.3) ---- */

struct draw_arg {
	const struct smd_db *db;
	const char *recipient, *sender;
	int64_t now;
	long long max_per_hour;
	struct smd_key_draw out;
};

static enum smd_store_rc draw_fn(struct smd_txn *txn, void *p)
{
	struct draw_arg *a = p;

	return a->db->ops->mail->key_draw(txn, a->recipient, a->sender, a->now,
					  a->max_per_hour, &a->out);
}

/* The list lookup for an owner with no list entry at all, the common
 * case: a verdict asks up to four lookups, three times per delivery, and
 * the recipient's read already says whether any can succeed. */
static enum smimp_err none_listed(void *ctx, const char *owner,
				  enum smimp_list_kind kind,
				  const struct smimp_hash *entry, bool *listed,
				  struct smimp_error *err)
{
	(void)ctx;
	(void)owner;
	(void)kind;
	(void)entry;
	(void)err;
	*listed = false;
	return SMIMP_OK;
}

static smimp_list_lookup_fn lookup_for(const struct smd_mail_recipient *rcpt)
{
	return rcpt->has_lists ? smd_mail_list_lookup : none_listed;
}

/* Refuses senders the recipient's lists refuse; *verdict for the rest. */
static enum smimp_err judge(const struct smd_request *req,
			    const struct smd_mail_recipient *rcpt,
			    const char *recipient, const char *sender,
			    enum smimp_list_verdict *verdict,
			    struct smimp_error *err)
{
	enum smimp_err e = smimp_list_verdict(verdict, recipient, sender,
					      lookup_for(rcpt), req->srv->db, err);

	if (e != SMIMP_OK)
		return e;
	if (smimp_list_verdict_refuses(*verdict))
		return smimp_error_set(err, SMIMP_ERR_REJECTED,
				       "the recipient refuses messages from this sender");
	return SMIMP_OK;
}

enum smimp_err smd_api_get_message_key(const struct smd_request *req,
				       const struct smd_args *args,
				       struct smd_response *resp,
				       struct smimp_error *err)
{
	struct smd_session sess;
	struct smd_mail_recipient rcpt;
	enum smimp_list_verdict verdict;
	char recipient[SMIMP_ADDRESS_MAX + 1];
	struct draw_arg a;
	const char *addr;
	size_t addr_len;
	char hex[2 * SMIMP_SIGN_PK_BYTES + 1];
	json_t *body = NULL, *out;
	enum smimp_err e;

	(void)args;
	if ((e = smd_mail_session(req, resp, SMD_SESSION_ANY, &sess, err)) != SMIMP_OK)
		return e;
	body = smd_mail_body(req, SMD_MAIL_SMALL_BODY, err);
	if (body == NULL)
		return err->code;
	e = smimp_json_get_string(body, "address", 0, SMIMP_ADDRESS_MAX + 16,
				  &addr, &addr_len, err);
	if (e == SMIMP_OK)
		e = smimp_address_normalize(recipient, addr, addr_len, err);
	json_decref(body);
	if (e != SMIMP_OK)
		return e;
	if ((e = smd_mail_recipient(req, recipient, &rcpt, err)) != SMIMP_OK ||
	    (e = judge(req, &rcpt, recipient, sess.address, &verdict,
			   err)) != SMIMP_OK)
		return e;
	memset(&a, 0, sizeof a);
	a.db = req->srv->db;
	a.recipient = recipient;
	a.sender = sess.address;
	a.now = smimp_timestamp_now();
	a.max_per_hour = req->srv->cfg->ephemeral_draws_per_hour;
	if (smd_db_write_grouped(req->srv->db, draw_fn, &a) != SMD_STORE_OK)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL,
				       "could not draw a message key");
	smimp_hex_encode(hex, sizeof hex, rcpt.master_pk.b, sizeof rcpt.master_pk.b);
	out = json_pack("{s:s, s:o, s:b}", "public_key", hex, "message_key",
			smimp_msgkey_to_json(&a.out.key), "non_ephemeral",
			a.out.non_ephemeral);
	if (out == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	smd_response_json(resp, 200, out);
	return SMIMP_OK;
}

/* ---- get_pow_params (8) ---- */

enum smimp_err smd_api_get_pow_params(const struct smd_request *req,
				      const struct smd_args *args,
				      struct smd_response *resp,
				      struct smimp_error *err)
{
	struct smd_session sess;
	struct smd_mail_recipient rcpt;
	enum smimp_list_verdict verdict;
	char recipient[SMIMP_ADDRESS_MAX + 1], type[SMIMP_MSGTYPE_MAX + 1];
	char hex[2 * SMIMP_TOKEN_BYTES + 1];
	struct smimp_token nonce;
	unsigned bits;
	json_t *out;
	enum smimp_err e;

	if ((e = smd_mail_session(req, resp, SMD_SESSION_ANY, &sess, err)) != SMIMP_OK ||
	    (e = smimp_address_from_path(recipient, args->seg[0], args->len[0],
					 err)) != SMIMP_OK ||
	    (e = smd_mail_seg_type(type, args, 1, err)) != SMIMP_OK ||
	    (e = smd_mail_recipient(req, recipient, &rcpt, err)) != SMIMP_OK ||
	    (e = judge(req, &rcpt, recipient, sess.address, &verdict,
			   err)) != SMIMP_OK)
		return e;
	/* Nothing stored: the nonce carries what it is for (pow_nonce.h). */
	bits = smd_pow_nonce_mint(&nonce, req->srv->pow_key, sess.hash, recipient,
				  type, smd_policy_pow_bits(req->srv->cfg, verdict,
							    recipient, type));
	smimp_hex_encode(hex, sizeof hex, nonce.b, sizeof nonce.b);
	out = json_pack("{s:I, s:s}", "zero_bits", (json_int_t)bits,
			"nonce", hex);
	if (out == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	smd_response_json(resp, 200, out);
	return SMIMP_OK;
}

/* ---- send_message (9) ---- */

/* The store behind smimp_envelope_accept's callbacks for one request. */
struct send_ctx {
	const struct smd_request *req;
	const struct smd_session *sess;
	struct smd_db *db;
	struct smd_mail_recipient rcpt;
	bool have_rcpt;
	/* A fresh nonce seen by the checks, not yet used up; it is, with the
	 * message or alone, before the answer. */
	bool consume_pending;
	struct smimp_token nonce;
};

static enum smimp_err cb_recipient(void *p, const struct smimp_accept_request *ar,
				   enum smimp_recipient_state *state,
				   struct smimp_sign_pk *master_pk,
				   struct smimp_error *err)
{
	struct send_ctx *c = p;
	enum smimp_err e = smd_mail_recipient(c->req, ar->recipient, &c->rcpt, err);

	*state = SMIMP_RECIPIENT_UNKNOWN;
	if (e == SMIMP_ERR_NOT_FOUND)
		return SMIMP_OK;
	if (e != SMIMP_OK)
		return e;
	c->have_rcpt = true;
	*state = SMIMP_RECIPIENT_READY;
	*master_pk = c->rcpt.master_pk;
	return SMIMP_OK;
}

/* List lookups get the send context; the shared lookup wants the db. */
static enum smimp_err cb_list(void *p, const char *owner,
			      enum smimp_list_kind kind,
			      const struct smimp_hash *entry, bool *listed,
			      struct smimp_error *err)
{
	struct send_ctx *c = p;
	smimp_list_lookup_fn fn = c->have_rcpt ? lookup_for(&c->rcpt) :
				  smd_mail_list_lookup;

	return fn(c->db, owner, kind, entry, listed, err);
}

struct consume_arg {
	const struct smd_db *db;
	const uint8_t *session_hash;
	const struct smimp_token *nonce;
	bool fresh;
};

static enum smd_store_rc consume_fn(struct smd_txn *txn, void *p)
{
	struct consume_arg *a = p;

	return a->db->ops->mail->pow_use(txn, a->session_hash, a->nonce,
					 &a->fresh);
}

/* A failed nonce use as an error: NOT_FOUND is a session that ended while
 * the request ran (removed by the operator). */
static enum smimp_err use_failed(enum smd_store_rc rc, struct smimp_error *err)
{
	if (rc == SMD_STORE_NOT_FOUND)
		return smimp_error_set(err, SMIMP_ERR_UNAUTHENTICATED, "session ended");
	return smimp_error_set(err, SMIMP_ERR_INTERNAL,
			       "could not use the proof-of-work nonce");
}

/* A nonce this server minted for this session is looked up here and used
 * up before the answer: in the message's transaction (store_message) or
 * alone (flush_consume) when the send fails. Another nonce is unknown and
 * left alone. */
static enum smimp_err cb_pow_consume(void *p, const struct smimp_accept_request *ar,
				     const struct smimp_token *nonce,
				     const char *message_type,
				     enum smimp_pow_nonce_state *state,
				     struct smimp_pow_issue *issue,
				     struct smimp_error *err)
{
	struct send_ctx *c = p;
	bool used = false;

	*state = SMIMP_POW_NONCE_UNKNOWN;
	if (!smd_pow_nonce_open(issue, nonce, c->req->srv->pow_key, c->sess->hash,
				ar->recipient, message_type))
		return SMIMP_OK;
	if (c->db->ops->mail->pow_used(c->db->st, c->sess->hash, nonce,
				       &used) != SMD_STORE_OK)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL,
				       "could not read the proof-of-work nonce");
	*state = used ? SMIMP_POW_NONCE_USED : SMIMP_POW_NONCE_FRESH;
	if (!used) {
		c->consume_pending = true;
		c->nonce = *nonce;
	}
	return SMIMP_OK;
}

static enum smimp_err cb_retry(void *p, const struct smimp_accept_request *ar,
			       const struct smimp_signed_hash *message_hash,
			       bool *found, struct smimp_hash *message_id,
			       struct smimp_error *err)
{
	struct send_ctx *c = p;

	return smd_store_err(c->db->ops->mail->retry_find(c->db->st, ar->recipient,
							   c->sess->hash,
							   message_hash, found,
							   message_id), err);
}

static enum smimp_err cb_provenance(void *p, const struct smimp_accept_request *ar,
				    const struct smimp_box_pk *key,
				    enum smimp_key_provenance *out,
				    struct smimp_error *err)
{
	struct send_ctx *c = p;

	return smd_store_err(c->db->ops->mail->key_provenance(
				     c->db->st, ar->recipient, ar->sender, key,
				     smimp_timestamp_now(), out), err);
}

/* A first look at the quota, when the recipient's used bytes are known;
 * the insert checks it again in its transaction. */
static enum smimp_err cb_quota(void *p, const struct smimp_accept_request *ar,
			       size_t len, bool *fits, struct smimp_error *err)
{
	struct send_ctx *c = p;

	(void)ar;
	(void)err;
	*fits = !c->have_rcpt || c->rcpt.quota_limit < 0 ||
		c->rcpt.used_bytes < 0 ||
		(unsigned long long)c->rcpt.used_bytes + len <=
		(unsigned long long)c->rcpt.quota_limit;
	return SMIMP_OK;
}

struct insert_arg {
	const struct smd_db *db;
	struct smd_message_new m;
};

static enum smd_store_rc insert_fn(struct smd_txn *txn, void *p)
{
	struct insert_arg *a = p;

	return a->db->ops->mail->message_insert(txn, &a->m);
}

/* The pending nonce use and the message in one grouped item: the nonce
 * first; a nonce that a concurrent send used up meanwhile lets only an
 * identical retry answer (that send was this envelope's original, see
 * smd_message_new.retry_only); a refused insert (CONFLICT with an outcome,
 * which writes nothing) keeps the nonce use, which then commits alone. */
struct send_arg {
	struct consume_arg use;
	struct insert_arg ins;
	enum smd_store_rc ins_rc;
};

static enum smd_store_rc send_fn(struct smd_txn *txn, void *p)
{
	struct send_arg *a = p;
	enum smd_store_rc rc;

	a->ins_rc = SMD_STORE_OK;
	a->ins.m.outcome = SMIMP_OK;
	rc = consume_fn(txn, &a->use);
	if (rc != SMD_STORE_OK)
		return rc;
	a->ins.m.retry_only = !a->use.fresh;
	rc = insert_fn(txn, &a->ins);
	if (rc == SMD_STORE_CONFLICT && a->ins.m.outcome != SMIMP_OK) {
		a->ins_rc = rc;
		return SMD_STORE_OK;
	}
	return rc;
}

/* Commits a pending nonce use alone (the send failed or was a retry). */
static enum smimp_err flush_consume(struct send_ctx *c, struct smimp_error *err)
{
	struct consume_arg a = {c->db, c->sess->hash, &c->nonce, false};
	enum smd_store_rc rc;

	if (!c->consume_pending)
		return SMIMP_OK;
	c->consume_pending = false;
	if ((rc = smd_db_write_grouped(c->db, consume_fn, &a)) != SMD_STORE_OK)
		return use_failed(rc, err);
	return SMIMP_OK;
}

static enum smimp_err store_message(struct send_ctx *c,
				    const struct smimp_accept_result *acc,
				    const char *recipient, struct smimp_hash *id,
				    struct smimp_error *err)
{
	struct send_arg sa;
	enum smd_store_rc rc;

	memset(&sa, 0, sizeof sa);
	sa.ins.db = c->db;
	sa.ins.m.acc = acc;
	sa.ins.m.recipient = recipient;
	sa.ins.m.session_hash = c->sess->hash;
	sa.ins.m.sender_public_key = c->sess->public_key;
	sa.ins.m.received_at = smimp_timestamp_now();
	smimp_envelope_new_message_id(&sa.ins.m.message_id);
	if (c->consume_pending) {
		sa.use = (struct consume_arg){c->db, c->sess->hash, &c->nonce,
					      false};
		rc = smd_db_write_grouped(c->db, send_fn, &sa);
		if (rc == SMD_STORE_OK) {
			c->consume_pending = false;   /* committed */
			rc = sa.ins_rc;
		}
	} else {
		rc = smd_db_write_grouped(c->db, insert_fn, &sa.ins);
	}
	if (rc == SMD_STORE_OK) {
		*id = sa.ins.m.stored_id;
		return SMIMP_OK;
	}
	if (rc != SMD_STORE_CONFLICT || sa.ins.m.outcome == SMIMP_OK)
		return smd_store_err(rc, err);
	switch (sa.ins.m.outcome) {
	case SMIMP_ERR_QUOTA_EXCEEDED:
		return smimp_error_set(err, sa.ins.m.outcome,
				       "the recipient's mailbox is full");
	case SMIMP_ERR_BAD_KEY:
		return smimp_error_set(err, sa.ins.m.outcome,
				       "this ephemeral key already carried a message");
	case SMIMP_ERR_BAD_PROOF_OF_WORK:
		return smimp_error_set(err, sa.ins.m.outcome,
				       "proof-of-work nonce already used");
	default:
		return smimp_error_set(err, sa.ins.m.outcome, "no such user");
	}
}

enum smimp_err smd_api_send_message(const struct smd_request *req,
				    const struct smd_args *args,
				    struct smd_response *resp,
				    struct smimp_error *err)
{
	struct smd_session sess;
	struct send_ctx c;
	struct smimp_accept_request ar;
	struct smimp_accept_ops ops;
	struct smimp_accept_result acc;
	struct smimp_hash id;
	char recipient[SMIMP_ADDRESS_MAX + 1], hex[2 * SMIMP_HASH_BYTES + 1];
	json_t *out;
	enum smimp_err e;

	if ((e = smd_mail_session(req, resp, SMD_SESSION_ANY, &sess, err)) != SMIMP_OK ||
	    (e = smimp_address_from_path(recipient, args->seg[0], args->len[0],
					 err)) != SMIMP_OK)
		return e;
	memset(&c, 0, sizeof c);
	c.req = req;
	c.sess = &sess;
	c.db = req->srv->db;
	memset(&ar, 0, sizeof ar);
	ar.recipient = recipient;
	ar.sender = sess.address;
	ar.sender_pk = &sess.public_key;
	ar.login_token_hash = &sess.login_token_hash;
	ar.session = &sess;
	ar.body = (const char *)req->body;
	ar.body_len = req->body_len;
	ar.max_envelope_bytes = (size_t)req->srv->cfg->max_envelope_bytes;
	ar.pow_required = true;   /* this server lists get_pow_params */
	memset(&ops, 0, sizeof ops);
	ops.ctx = &c;
	ops.recipient_state = cb_recipient;
	ops.list_lookup = cb_list;
	ops.pow_consume = cb_pow_consume;
	ops.retry_lookup = cb_retry;
	ops.key_provenance = cb_provenance;
	ops.quota_check = cb_quota;
	e = smimp_envelope_accept(&acc, &ar, &ops, err);
	if (e != SMIMP_OK) {
		/* The nonce is used up even by a send that fails. */
		struct smimp_error ferr = {SMIMP_OK, ""};

		if (flush_consume(&c, &ferr) != SMIMP_OK)
			return smimp_error_set(err, ferr.code, "%s", ferr.message);
		return e;
	}
	if (acc.retry)
		id = acc.message_id;
	else
		e = store_message(&c, &acc, recipient, &id, err);
	smimp_accept_result_clear(&acc);
	if (c.consume_pending) {
		struct smimp_error ferr = {SMIMP_OK, ""};

		if (flush_consume(&c, &ferr) != SMIMP_OK)
			return smimp_error_set(err, ferr.code, "%s", ferr.message);
	}
	if (e != SMIMP_OK)
		return e;
	smimp_hex_encode(hex, sizeof hex, id.b, sizeof id.b);
	out = json_pack("{s:s}", "message_id", hex);
	if (out == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	smd_response_json(resp, 200, out);
	return SMIMP_OK;
}

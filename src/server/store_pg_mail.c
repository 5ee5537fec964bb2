/* PostgreSQL implementation of the mail area (store_mail.h): recipients,
 * lists, ephemeral key draws, proof-of-work nonces, the message insert and
 * the ops table; the mailbox and folders are in store_pg_mailbox.c.
 *
 * The mail writes run in READ COMMITTED transactions (write_grouped: one
 * transaction per caller; PostgreSQL shares WAL flushes between concurrent
 * commits by itself), made as strict as SQLite's single writer where it
 * matters: per-account writes lock the account row first; key draws of one
 * sender to one recipient take an advisory lock (the hourly limit), and a
 * key is taken with FOR UPDATE SKIP LOCKED, so no key is issued twice and
 * no drawer waits behind another; single-use values change with
 * conditional UPDATEs whose row count says who won. Input is trusted;
 * every value is bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_conn.h"
#include "session.h"
#include "store_mail.h"

#define EPHEMERAL_VALID_SECONDS (7 * 24 * 3600)   /* 11.3 */
#define RECENT_KEY_SECONDS (30 * 24 * 3600)       /* 11.2 */
#define DRAW_WINDOW_SECONDS 3600                   /* 9.3 */

static const char SQL_ACCOUNT_LOCK[] =
	"SELECT id FROM accounts WHERE address = $1 FOR NO KEY UPDATE";

enum smd_store_rc smd_pgm_account_lock(struct smd_txn *txn, const char *address,
				       int64_t *id)
{
	struct pgp p = {0};
	PGresult *res;
	enum smd_store_rc rc;

	smd_pgp_text(&p, address);
	rc = smd_pg_row(txn->c, SQL_ACCOUNT_LOCK, &p, "account id", &res);
	if (rc == SMD_STORE_OK)
		*id = smd_pg_int(res, 0, 0);
	PQclear(res);
	return rc;
}

static enum smd_store_rc pg_write_grouped(struct smd_store *st,
					  smd_store_write_fn fn, void *arg)
{
	return smd_pg_write(st, "BEGIN ISOLATION LEVEL READ COMMITTED", fn, arg);
}

/* ---- reads ---- */

static const char SQL_RECIPIENT[] =
	"SELECT a.id, a.initialized, a.quota_limit, a.used_bytes,"
	" (SELECT r.public_key FROM records r WHERE r.account_id = a.id"
	"  ORDER BY r.seq DESC LIMIT 1),"
	" EXISTS (SELECT 1 FROM list_entries l WHERE l.account_id = a.id)"
	" FROM accounts a WHERE a.address = $1";

static enum smd_store_rc pg_recipient_get(struct smd_store *st, const char *address,
					  struct smd_mail_recipient *out)
{
	struct pgp p = {0};
	struct smd_row r;
	PGresult *res;
	enum smd_store_rc rc;

	memset(out, 0, sizeof *out);
	smd_pgp_text(&p, address);
	rc = smd_pg_read_row(st, SQL_RECIPIENT, &p, "recipient", &res);
	if (rc == SMD_STORE_OK) {
		smd_pg_cols(res, 0, &r);
		smd_row_recipient(&r, out);
	}
	PQclear(res);
	return rc;
}

static const char *list_name(enum smimp_list_kind kind)
{
	return kind == SMIMP_LIST_WHITELIST ? "white" : "black";
}

static const char SQL_LIST_HAS[] =
	"SELECT 1 FROM list_entries WHERE account_id ="
	" (SELECT id FROM accounts WHERE address = $1) AND list = $2 AND hash = $3";

static enum smd_store_rc pg_list_has(struct smd_store *st, const char *owner,
				     enum smimp_list_kind kind,
				     const struct smimp_hash *hash, bool *listed)
{
	struct pgp p = {0};
	PGresult *res;
	enum smd_store_rc rc;

	*listed = false;
	smd_pgp_text(&p, owner);
	smd_pgp_text(&p, list_name(kind));
	smd_pgp_blob(&p, hash->b, sizeof hash->b);
	rc = smd_pg_read_row(st, SQL_LIST_HAS, &p, "list lookup", &res);
	PQclear(res);
	*listed = rc == SMD_STORE_OK;
	return rc == SMD_STORE_NOT_FOUND ? SMD_STORE_OK : rc;
}

static const char SQL_RETRY_FIND[] =
	"SELECT m.message_id FROM messages m WHERE m.account_id ="
	" (SELECT id FROM accounts WHERE address = $1)"
	" AND m.message_hash = $2 AND m.session_hash = $3 LIMIT 1";

static enum smd_store_rc pg_retry_find(struct smd_store *st, const char *recipient,
				       const uint8_t *session_hash,
				       const struct smimp_signed_hash *message_hash,
				       bool *found, struct smimp_hash *message_id)
{
	struct pgp p = {0};
	PGresult *res;
	enum smd_store_rc rc;

	*found = false;
	smd_pgp_text(&p, recipient);
	smd_pgp_blob(&p, message_hash->b, sizeof message_hash->b);
	smd_pgp_blob(&p, session_hash, SMD_SESSION_HASH_BYTES);
	rc = smd_pg_read_row(st, SQL_RETRY_FIND, &p, "retry lookup", &res);
	if (rc == SMD_STORE_OK)
		*found = smd_pg_blob(res, 0, 0, message_id->b, sizeof message_id->b);
	PQclear(res);
	return rc == SMD_STORE_NOT_FOUND ? SMD_STORE_OK : rc;
}

static const char SQL_PROV_EPH[] =
	"SELECT issued_to, issued_at, used_at FROM ephemeral_keys"
	" WHERE account_id = (SELECT id FROM accounts WHERE address = $1)"
	" AND key = $2";
static const char SQL_PROV_NONEPH[] =
	"SELECT replaced_at FROM nonephemeral_keys"
	" WHERE account_id = (SELECT id FROM accounts WHERE address = $1)"
	" AND key = $2 ORDER BY replaced_at IS NOT NULL, replaced_at DESC LIMIT 1";

static enum smd_store_rc pg_key_provenance(struct smd_store *st, const char *recipient,
					   const char *sender,
					   const struct smimp_box_pk *key, int64_t now,
					   enum smimp_key_provenance *out)
{
	struct pgp p = {0};
	PGresult *res;
	enum smd_store_rc rc;

	*out = SMIMP_KEY_UNKNOWN;
	smd_pgp_text(&p, recipient);
	smd_pgp_blob(&p, key->b, sizeof key->b);
	rc = smd_pg_read_row(st, SQL_PROV_EPH, &p, "key provenance", &res);
	if (rc == SMD_STORE_OK) {
		char to[SMIMP_ADDRESS_MAX + 1];

		/* Issued to this very sender, within 7 days. */
		smd_pg_text(res, 0, 0, to, sizeof to);
		if (!smd_pg_null(res, 0, 0) && strcmp(to, sender) == 0 &&
		    !smd_pg_null(res, 0, 1) &&
		    smd_pg_int(res, 0, 1) > now - EPHEMERAL_VALID_SECONDS)
			*out = smd_pg_null(res, 0, 2) ? SMIMP_KEY_EPHEMERAL_ISSUED :
			       SMIMP_KEY_EPHEMERAL_USED;
		PQclear(res);
		return SMD_STORE_OK;
	}
	if (rc != SMD_STORE_NOT_FOUND)
		return rc;
	rc = smd_pg_read_row(st, SQL_PROV_NONEPH, &p, "key provenance", &res);
	if (rc == SMD_STORE_OK) {
		if (smd_pg_null(res, 0, 0))
			*out = SMIMP_KEY_NONEPHEMERAL_CURRENT;
		else if (smd_pg_int(res, 0, 0) > now - RECENT_KEY_SECONDS)
			*out = SMIMP_KEY_NONEPHEMERAL_RECENT;
	}
	PQclear(res);
	return rc == SMD_STORE_NOT_FOUND ? SMD_STORE_OK : rc;
}

static const char SQL_LIST_ENTRIES[] =
	"SELECT hash, data FROM list_entries WHERE account_id ="
	" (SELECT id FROM accounts WHERE address = $1) AND list = $2"
	" ORDER BY created_at, hash";

static enum smd_store_rc pg_list_entries(struct smd_store *st, const char *owner,
					 enum smimp_list_kind kind,
					 smd_list_cb cb, void *arg)
{
	struct pgp p = {0};
	enum smd_store_rc rc;
	PGresult *res;

	smd_pgp_text(&p, owner);
	smd_pgp_text(&p, list_name(kind));
	res = smd_pg_read(st, SQL_LIST_ENTRIES, &p, &rc, "list entries");
	if (res == NULL)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		struct smd_list_entry e;
		struct smd_row r;
		bool go;

		memset(&e, 0, sizeof e);
		smd_pg_cols(res, i, &r);
		if (!smd_val_blob(&r.col[0], e.hash.b, sizeof e.hash.b))
			continue;
		e.data = smd_val_dup(&r.col[1], &e.data_len);
		if (e.data == NULL) {
			rc = SMD_STORE_ERROR;
			break;
		}
		go = cb(&e, arg);
		free(e.data);
		if (!go)
			break;
	}
	PQclear(res);
	return rc;
}

/* ---- ephemeral key draws (9.3, 11.3) ---- */

static const char SQL_INIT_ID[] =
	"SELECT id FROM accounts WHERE address = $1 AND initialized";
/* The draws of one sender to one recipient take turns (hourly limit). */
static const char SQL_DRAW_LOCK[] =
	"SELECT 1 FROM pg_advisory_xact_lock(hashtextextended($2, $1))";
static const char SQL_DRAWS_PRUNE[] =
	"DELETE FROM ephemeral_draws WHERE account_id = $1 AND sender = $2"
	" AND drawn_at <= $3";
static const char SQL_DRAWS_COUNT[] =
	"SELECT count(*) FROM ephemeral_draws WHERE account_id = $1"
	" AND sender = $2 AND drawn_at > $3";
/* The oldest free key nobody else is taking right now. */
static const char SQL_EPH_ISSUE[] =
	"UPDATE ephemeral_keys SET issued_to = $2, issued_at = $3"
	" WHERE id = (SELECT id FROM ephemeral_keys WHERE account_id = $1"
	"  AND issued_at IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
	" AND issued_at IS NULL RETURNING key, signed_hash";
static const char SQL_DRAW_ADD[] =
	"INSERT INTO ephemeral_draws (account_id, sender, drawn_at) VALUES ($1, $2, $3)";
static const char SQL_NONEPH_CURRENT[] =
	"SELECT key, signed_hash FROM nonephemeral_keys"
	" WHERE account_id = $1 AND replaced_at IS NULL";

static enum smd_store_rc pg_key_draw(struct smd_txn *txn, const char *recipient,
				     const char *sender, int64_t now,
				     long long max_per_hour, struct smd_key_draw *out)
{
	struct pgp p = {0};
	struct smd_row r;
	PGresult *res;
	int64_t account, drawn;
	enum smd_store_rc rc;

	memset(out, 0, sizeof *out);
	smd_pgp_text(&p, recipient);
	rc = smd_pg_row(txn->c, SQL_INIT_ID, &p, "recipient", &res);
	if (rc != SMD_STORE_OK)
		return rc;
	account = smd_pg_int(res, 0, 0);
	PQclear(res);
	p.n = 0;
	smd_pgp_int(&p, account);
	smd_pgp_text(&p, sender);
	rc = smd_pg_do(txn->c, SQL_DRAW_LOCK, &p, "draw lock", NULL);
	if (rc != SMD_STORE_OK)
		return rc;
	/* Forget draws older than the window, then count the rest. */
	smd_pgp_int(&p, now - DRAW_WINDOW_SECONDS);
	rc = smd_pg_do(txn->c, SQL_DRAWS_PRUNE, &p, "prune draws", NULL);
	if (rc != SMD_STORE_OK)
		return rc;
	rc = smd_pg_row(txn->c, SQL_DRAWS_COUNT, &p, "count draws", &res);
	if (rc != SMD_STORE_OK)
		return rc == SMD_STORE_NOT_FOUND ? SMD_STORE_ERROR : rc;
	drawn = smd_pg_int(res, 0, 0);
	PQclear(res);
	if (drawn < max_per_hour) {
		p.n = 0;
		smd_pgp_int(&p, account);
		smd_pgp_text(&p, sender);
		smd_pgp_int(&p, now);
		rc = smd_pg_row(txn->c, SQL_EPH_ISSUE, &p, "issue ephemeral key", &res);
		if (rc == SMD_STORE_OK) {
			bool ok;

			smd_pg_cols(res, 0, &r);
			ok = smd_row_msgkey(&r, 0, SMIMP_MSGKEY_EPHEMERAL, &out->key);
			PQclear(res);
			if (!ok) {
				fputs("smimpd: store: malformed ephemeral key row\n", stderr);
				return SMD_STORE_ERROR;
			}
			out->non_ephemeral = false;
			return smd_pg_do(txn->c, SQL_DRAW_ADD, &p, "record draw", NULL);
		}
		if (rc != SMD_STORE_NOT_FOUND)
			return rc;
	}
	p.n = 0;
	smd_pgp_int(&p, account);
	rc = smd_pg_row(txn->c, SQL_NONEPH_CURRENT, &p, "non-ephemeral key", &res);
	if (rc != SMD_STORE_OK)
		return rc;
	smd_pg_cols(res, 0, &r);
	if (!smd_row_msgkey(&r, 0, SMIMP_MSGKEY_NONEPHEMERAL, &out->key))
		rc = SMD_STORE_ERROR;
	PQclear(res);
	out->non_ephemeral = true;
	return rc;
}

/* ---- proof-of-work nonces (8) ---- */

/* Single use across nodes: only one transaction inserts the row. Nothing
 * when the session is gone (removed since the request read it): then
 * NOT_FOUND, not a foreign-key error. */
static const char SQL_POW_USE[] =
	"INSERT INTO pow_nonces_used (session_hash, nonce) SELECT $1, $2"
	" WHERE EXISTS (SELECT 1 FROM sessions WHERE session_hash = $1)"
	" ON CONFLICT DO NOTHING";
static const char SQL_POW_SESSION[] =
	"SELECT 1 FROM sessions WHERE session_hash = $1";

static enum smd_store_rc pg_pow_use(struct smd_txn *txn, const uint8_t *session_hash,
				    const struct smimp_token *nonce, bool *fresh)
{
	struct pgp p = {0};
	PGresult *res;
	enum smd_store_rc rc;
	long n = 0;

	smd_pgp_blob(&p, session_hash, SMD_SESSION_HASH_BYTES);
	smd_pgp_blob(&p, nonce->b, sizeof nonce->b);
	rc = smd_pg_do(txn->c, SQL_POW_USE, &p, "pow nonce use", &n);
	*fresh = rc == SMD_STORE_OK && n == 1;
	if (rc != SMD_STORE_OK || *fresh)
		return rc;
	/* Used before, or no session any more? */
	p.n = 1;
	rc = smd_pg_row(txn->c, SQL_POW_SESSION, &p, "pow nonce session", &res);
	if (rc == SMD_STORE_OK)
		PQclear(res);
	return rc;
}

static const char SQL_POW_USED[] =
	"SELECT 1 FROM pow_nonces_used WHERE session_hash = $1 AND nonce = $2";

/* What pow_use would find, read outside any write transaction. */
static enum smd_store_rc pg_pow_used(struct smd_store *st, const uint8_t *session_hash,
				     const struct smimp_token *nonce, bool *used)
{
	struct pgp p = {0};
	PGresult *res;
	enum smd_store_rc rc;

	smd_pgp_blob(&p, session_hash, SMD_SESSION_HASH_BYTES);
	smd_pgp_blob(&p, nonce->b, sizeof nonce->b);
	rc = smd_pg_read_row(st, SQL_POW_USED, &p, "pow nonce", &res);
	*used = rc == SMD_STORE_OK;
	PQclear(res);
	return rc == SMD_STORE_NOT_FOUND ? SMD_STORE_OK : rc;
}

/* ---- the message insert (9) ---- */

/* The account row stays locked to the end: quota and identical retries are
 * checked against every earlier message, whichever node stored it. */
static const char SQL_INS_ACCOUNT[] =
	"SELECT id, quota_limit, used_bytes FROM accounts"
	" WHERE address = $1 AND initialized FOR NO KEY UPDATE";
static const char SQL_INS_RETRY[] =
	"SELECT message_id FROM messages WHERE account_id = $1"
	" AND message_hash = $2 AND session_hash = $3 LIMIT 1";
static const char SQL_INS_KEY_USE[] =
	"UPDATE ephemeral_keys SET used_at = $1 WHERE account_id = $2 AND key = $3"
	" AND issued_to = $4 AND used_at IS NULL";
static const char SQL_INS_MESSAGE[] =
	"INSERT INTO messages (message_id, account_id, recipient, sender,"
	" sender_public_key, message_type, algorithm, message_public_key, nonce,"
	" ciphertext, proof_of_work, pow_zero_bits, pow_nonce, message_hash,"
	" login_token_hash, session_hash, received_at, size)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
	" $15, $16, $17, $18)";
static const char SQL_INS_USED[] =
	"UPDATE accounts SET used_bytes = used_bytes + $1 WHERE id = $2"
	" AND (quota_limit < 0 OR used_bytes + $1 <= quota_limit)";

static enum smd_store_rc insert_row(struct smd_txn *txn, int64_t account,
				    const struct smd_message_new *m)
{
	const struct smimp_accept_result *a = m->acc;
	const struct smimp_envelope *e = &a->envelope;
	struct pgp p = {0};

	smd_pgp_blob(&p, m->message_id.b, sizeof m->message_id.b);
	smd_pgp_int(&p, account);
	smd_pgp_text(&p, m->recipient);
	smd_pgp_text(&p, e->sender);
	smd_pgp_blob(&p, m->sender_public_key.b, sizeof m->sender_public_key.b);
	smd_pgp_text(&p, e->message_type);
	smd_pgp_text(&p, e->algorithm);
	smd_pgp_blob(&p, e->message_public_key.b, sizeof e->message_public_key.b);
	smd_pgp_blob(&p, e->nonce.b, sizeof e->nonce.b);
	smd_pgp_blob(&p, e->ciphertext, e->ciphertext_len);
	if (e->has_proof_of_work)
		smd_pgp_text(&p, e->proof_of_work);
	else
		smd_pgp_null(&p);
	if (a->has_pow_params) {
		smd_pgp_int(&p, a->pow_zero_bits);
		smd_pgp_blob(&p, a->pow_nonce.b, sizeof a->pow_nonce.b);
	} else {
		smd_pgp_null(&p);
		smd_pgp_null(&p);
	}
	smd_pgp_blob(&p, e->message_hash.b, sizeof e->message_hash.b);
	smd_pgp_blob(&p, e->login_token_hash.b, sizeof e->login_token_hash.b);
	smd_pgp_blob(&p, m->session_hash, SMD_SESSION_HASH_BYTES);
	smd_pgp_int(&p, m->received_at);
	smd_pgp_int(&p, (int64_t)e->ciphertext_len);
	return smd_pg_do(txn->c, SQL_INS_MESSAGE, &p, "message insert", NULL);
}

static enum smd_store_rc pg_message_insert(struct smd_txn *txn,
					   struct smd_message_new *m)
{
	const struct smimp_envelope *e = &m->acc->envelope;
	struct pgp p = {0};
	PGresult *res;
	int64_t account, limit, used;
	enum smd_store_rc rc;
	long n = 0;

	m->outcome = SMIMP_OK;
	smd_pgp_text(&p, m->recipient);
	rc = smd_pg_row(txn->c, SQL_INS_ACCOUNT, &p, "message insert", &res);
	if (rc == SMD_STORE_NOT_FOUND) {
		m->outcome = SMIMP_ERR_NOT_FOUND;
		return SMD_STORE_CONFLICT;
	}
	if (rc != SMD_STORE_OK)
		return rc;
	account = smd_pg_int(res, 0, 0);
	limit = smd_pg_int(res, 0, 1);
	used = smd_pg_int(res, 0, 2);
	PQclear(res);
	/* An identical retry that raced ours: answer its id. */
	p.n = 0;
	smd_pgp_int(&p, account);
	smd_pgp_blob(&p, e->message_hash.b, sizeof e->message_hash.b);
	smd_pgp_blob(&p, m->session_hash, SMD_SESSION_HASH_BYTES);
	rc = smd_pg_row(txn->c, SQL_INS_RETRY, &p, "message retry", &res);
	if (rc == SMD_STORE_OK) {
		bool ok = smd_pg_blob(res, 0, 0, m->stored_id.b, sizeof m->stored_id.b);

		PQclear(res);
		return ok ? SMD_STORE_OK : SMD_STORE_ERROR;
	}
	if (rc != SMD_STORE_NOT_FOUND)
		return rc;
	if (!smd_row_insert_admits(m, limit, used))
		return SMD_STORE_CONFLICT;
	if (m->acc->key_provenance == SMIMP_KEY_EPHEMERAL_ISSUED) {
		p.n = 0;
		smd_pgp_int(&p, m->received_at);
		smd_pgp_int(&p, account);
		smd_pgp_blob(&p, e->message_public_key.b, sizeof e->message_public_key.b);
		smd_pgp_text(&p, e->sender);
		rc = smd_pg_do(txn->c, SQL_INS_KEY_USE, &p, "key use", &n);
		if (rc != SMD_STORE_OK)
			return rc;
		if (n != 1) {
			m->outcome = SMIMP_ERR_BAD_KEY;
			return SMD_STORE_CONFLICT;
		}
	}
	if ((rc = insert_row(txn, account, m)) != SMD_STORE_OK)
		return rc;
	p.n = 0;
	smd_pgp_int(&p, (int64_t)e->ciphertext_len);
	smd_pgp_int(&p, account);
	rc = smd_pg_do(txn->c, SQL_INS_USED, &p, "used bytes", &n);
	if (rc != SMD_STORE_OK)
		return rc;
	/* Cannot happen under the row lock; kept as a guard. An error, not a
	 * CONFLICT with an outcome: the row inserted above must roll back. */
	if (n != 1)
		return SMD_STORE_ERROR;
	m->stored_id = m->message_id;
	return SMD_STORE_OK;
}

/* ---- list writes (11.8) ---- */

static const char SQL_LIST_ADD[] =
	"INSERT INTO list_entries (account_id, list, hash, data, created_at)"
	" VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
static const char SQL_LIST_DEL[] =
	"DELETE FROM list_entries WHERE account_id = $1 AND list = $2 AND hash = $3";

static enum smd_store_rc pg_list_add(struct smd_txn *txn, const char *owner,
				     enum smimp_list_kind kind,
				     const struct smimp_hash *hash,
				     const uint8_t *data, size_t len, int64_t now)
{
	struct pgp p = {0};
	int64_t account;
	enum smd_store_rc rc = smd_pgm_account_lock(txn, owner, &account);
	long n = 0;

	if (rc != SMD_STORE_OK)
		return rc;
	smd_pgp_int(&p, account);
	smd_pgp_text(&p, list_name(kind));
	smd_pgp_blob(&p, hash->b, sizeof hash->b);
	smd_pgp_blob(&p, data, len);
	smd_pgp_int(&p, now);
	rc = smd_pg_do(txn->c, SQL_LIST_ADD, &p, "list add", &n);
	return rc == SMD_STORE_OK && n == 0 ? SMD_STORE_CONFLICT : rc;
}

static enum smd_store_rc pg_list_remove(struct smd_txn *txn, const char *owner,
					enum smimp_list_kind kind,
					const struct smimp_hash *hash)
{
	struct pgp p = {0};
	int64_t account;
	enum smd_store_rc rc = smd_pgm_account_lock(txn, owner, &account);
	long n = 0;

	if (rc != SMD_STORE_OK)
		return rc;
	smd_pgp_int(&p, account);
	smd_pgp_text(&p, list_name(kind));
	smd_pgp_blob(&p, hash->b, sizeof hash->b);
	rc = smd_pg_do(txn->c, SQL_LIST_DEL, &p, "list remove", &n);
	return rc == SMD_STORE_OK && n == 0 ? SMD_STORE_NOT_FOUND : rc;
}

const struct smd_mail_store smd_pg_mail_ops = {
	.area = "mail",
	.write_grouped = pg_write_grouped,
	.recipient_get = pg_recipient_get,
	.list_has = pg_list_has,
	.retry_find = pg_retry_find,
	.key_provenance = pg_key_provenance,
	.message_get = smd_pgm_message_get,
	.message_list = smd_pgm_message_list,
	.folder_list = smd_pgm_folder_list,
	.list_entries = pg_list_entries,
	.key_draw = pg_key_draw,
	.pow_use = pg_pow_use,
	.pow_used = pg_pow_used,
	.message_insert = pg_message_insert,
	.message_delete = smd_pgm_message_delete,
	.message_set_read = smd_pgm_message_set_read,
	.message_move = smd_pgm_message_move,
	.message_set_extensions = smd_pgm_message_set_extensions,
	.folder_create = smd_pgm_folder_create,
	.folder_update = smd_pgm_folder_update,
	.folder_delete = smd_pgm_folder_delete,
	.list_add = pg_list_add,
	.list_remove = pg_list_remove,
};

/* SQLite implementation of the mail area (store_mail.h): recipients, lists,
 * ephemeral key draws, proof-of-work nonces and the message insert; the
 * ops table. Mailbox and folder calls live in store_sqlite_mailbox.c and
 * store_sqlite_folders.c, group commit in store_sqlite_group.c. Input is
 * trusted (checked by the handlers); every value is bound, never pasted.
 * Every conditional write checks changes() so that it stays right on a
 * backend with concurrent writers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "store_cache.h"
#include "store_sqlite_mail_int.h"

#define EPHEMERAL_VALID_SECONDS (7 * 24 * 3600)   /* 11.3 */
#define RECENT_KEY_SECONDS (30 * 24 * 3600)       /* 11.2 */
#define DRAW_WINDOW_SECONDS 3600                   /* 9.3 */

/* ---- shared helpers ---- */

sqlite3_stmt *smd_mrd_begin(struct mrd *r, struct smd_store *st, const char *sql)
{
	sqlite3_stmt *s;

	r->st = st;
	r->c = smd_sq_reader_get(st, &r->slot);
	s = smd_sq_prep(r->c, sql);
	if (s == NULL)
		smd_sq_reader_put(st, r->slot);
	return s;
}

void smd_mrd_end(struct mrd *r, sqlite3_stmt *s)
{
	sqlite3_reset(s);
	smd_sq_reader_put(r->st, r->slot);
}

enum smd_store_rc smd_mrd_fail(struct conn *c, const char *what)
{
	return smd_sq_rc(c, sqlite3_extended_errcode(c->db), what);
}

static const char SQL_ACCOUNT_ID[] = "SELECT id FROM accounts WHERE address = ?";

enum smd_store_rc smd_mtx_account_id(struct smd_txn *txn, const char *address,
				     int64_t *id)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_ACCOUNT_ID);
	enum smd_store_rc ret;
	int rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		ret = SMD_STORE_OK;
	} else {
		ret = rc == SQLITE_DONE ? SMD_STORE_NOT_FOUND :
		      smd_mrd_fail(txn->c, "account id");
	}
	sqlite3_reset(s);
	return ret;
}

/* ---- reads ---- */

static const char SQL_RECIPIENT[] =
	"SELECT a.id, a.initialized, a.quota_limit, a.used_bytes,"
	" (SELECT r.public_key FROM records r WHERE r.account_id = a.id"
	"  ORDER BY r.seq DESC LIMIT 1),"
	" EXISTS (SELECT 1 FROM list_entries l WHERE l.account_id = a.id)"
	" FROM accounts a WHERE a.address = ?";

static enum smd_store_rc recipient_read(struct smd_store *st,
					const char *address,
					struct smd_mail_recipient *out)
{
	struct mrd r;
	sqlite3_stmt *s = smd_mrd_begin(&r, st, SQL_RECIPIENT);
	enum smd_store_rc ret = SMD_STORE_OK;
	int rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	memset(out, 0, sizeof *out);
	sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		struct smd_row row;

		smd_sq_cols(s, &row);
		smd_row_recipient(&row, out);
	} else {
		ret = rc == SQLITE_DONE ? SMD_STORE_NOT_FOUND :
		      smd_mrd_fail(r.c, "recipient");
	}
	smd_mrd_end(&r, s);
	return ret;
}

/* Through the recipient cache (store_cache.h). A cached used_bytes is
 * not trusted: it is given as -1 (unknown), and the message insert checks
 * the quota in its transaction. */
static enum smd_store_rc sq_recipient_get(struct smd_store *st,
					  const char *address,
					  struct smd_mail_recipient *out)
{
	uint64_t epoch = smd_cache_epoch(st->recipients);
	uint8_t key[SMD_CACHE_KEY_BYTES];
	enum smd_store_rc rc;

	smd_cache_key_of(address, key);
	if (smd_cache_get(st->recipients, key, out)) {
		out->used_bytes = -1;
		return SMD_STORE_OK;
	}
	rc = recipient_read(st, address, out);
	if (rc == SMD_STORE_OK)
		smd_cache_put(st->recipients, epoch, key, out);
	return rc;
}

static const char *list_name(enum smimp_list_kind kind)
{
	return kind == SMIMP_LIST_WHITELIST ? "white" : "black";
}

static const char SQL_LIST_HAS[] =
	"SELECT 1 FROM list_entries WHERE account_id ="
	" (SELECT id FROM accounts WHERE address = ?) AND list = ? AND hash = ?";

static enum smd_store_rc sq_list_has(struct smd_store *st, const char *owner,
				     enum smimp_list_kind kind,
				     const struct smimp_hash *hash, bool *listed)
{
	struct mrd r;
	sqlite3_stmt *s = smd_mrd_begin(&r, st, SQL_LIST_HAS);
	enum smd_store_rc ret = SMD_STORE_OK;
	int rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, list_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, hash->b, sizeof hash->b, SQLITE_STATIC);
	rc = sqlite3_step(s);
	*listed = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = smd_mrd_fail(r.c, "list lookup");
	smd_mrd_end(&r, s);
	return ret;
}

static const char SQL_RETRY_FIND[] =
	"SELECT m.message_id FROM messages m WHERE m.account_id ="
	" (SELECT id FROM accounts WHERE address = ?)"
	" AND m.message_hash = ? AND m.session_hash = ? LIMIT 1";

static enum smd_store_rc sq_retry_find(struct smd_store *st,
				       const char *recipient,
				       const uint8_t *session_hash,
				       const struct smimp_signed_hash *message_hash,
				       bool *found, struct smimp_hash *message_id)
{
	struct mrd r;
	sqlite3_stmt *s = smd_mrd_begin(&r, st, SQL_RETRY_FIND);
	enum smd_store_rc ret = SMD_STORE_OK;
	int rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_text(s, 1, recipient, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, message_hash->b, sizeof message_hash->b,
			  SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, session_hash, SMD_SESSION_HASH_BYTES,
			  SQLITE_STATIC);
	rc = sqlite3_step(s);
	*found = rc == SQLITE_ROW &&
		 smd_col_blob(s, 0, message_id->b, sizeof message_id->b);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = smd_mrd_fail(r.c, "retry lookup");
	smd_mrd_end(&r, s);
	return ret;
}

static const char SQL_PROV_EPH[] =
	"SELECT issued_to, issued_at, used_at FROM ephemeral_keys"
	" WHERE account_id = (SELECT id FROM accounts WHERE address = ?)"
	" AND key = ?";
static const char SQL_PROV_NONEPH[] =
	"SELECT replaced_at FROM nonephemeral_keys"
	" WHERE account_id = (SELECT id FROM accounts WHERE address = ?)"
	" AND key = ? ORDER BY replaced_at IS NOT NULL, replaced_at DESC LIMIT 1";

static enum smd_store_rc sq_key_provenance(struct smd_store *st,
					   const char *recipient,
					   const char *sender,
					   const struct smimp_box_pk *key,
					   int64_t now,
					   enum smimp_key_provenance *out)
{
	struct mrd r;
	sqlite3_stmt *s = smd_mrd_begin(&r, st, SQL_PROV_EPH);
	int rc;

	*out = SMIMP_KEY_UNKNOWN;
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_text(s, 1, recipient, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, key->b, sizeof key->b, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *to = sqlite3_column_text(s, 0);

		/* Issued to this very sender, within 7 days. */
		if (to != NULL && strcmp((const char *)to, sender) == 0 &&
		    sqlite3_column_type(s, 1) != SQLITE_NULL &&
		    sqlite3_column_int64(s, 1) > now - EPHEMERAL_VALID_SECONDS)
			*out = sqlite3_column_type(s, 2) == SQLITE_NULL ?
			       SMIMP_KEY_EPHEMERAL_ISSUED : SMIMP_KEY_EPHEMERAL_USED;
		smd_mrd_end(&r, s);
		return SMD_STORE_OK;
	}
	smd_mrd_end(&r, s);
	if (rc != SQLITE_DONE)
		return smd_mrd_fail(r.c, "key provenance");
	s = smd_mrd_begin(&r, st, SQL_PROV_NONEPH);
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_text(s, 1, recipient, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, key->b, sizeof key->b, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(s, 0) == SQLITE_NULL)
			*out = SMIMP_KEY_NONEPHEMERAL_CURRENT;
		else if (sqlite3_column_int64(s, 0) > now - RECENT_KEY_SECONDS)
			*out = SMIMP_KEY_NONEPHEMERAL_RECENT;
	}
	smd_mrd_end(&r, s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return smd_mrd_fail(r.c, "key provenance");
	return SMD_STORE_OK;
}

static const char SQL_LIST_ENTRIES[] =
	"SELECT hash, data FROM list_entries WHERE account_id ="
	" (SELECT id FROM accounts WHERE address = ?) AND list = ?"
	" ORDER BY created_at, hash";

static enum smd_store_rc sq_list_entries(struct smd_store *st, const char *owner,
					 enum smimp_list_kind kind,
					 smd_list_cb cb, void *arg)
{
	struct mrd r;
	sqlite3_stmt *s = smd_mrd_begin(&r, st, SQL_LIST_ENTRIES);
	enum smd_store_rc ret = SMD_STORE_OK;
	int rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, list_name(kind), -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct smd_list_entry e;
		struct smd_row row;
		bool go;

		memset(&e, 0, sizeof e);
		smd_sq_cols(s, &row);
		if (!smd_val_blob(&row.col[0], e.hash.b, sizeof e.hash.b))
			continue;
		e.data = smd_val_dup(&row.col[1], &e.data_len);
		if (e.data == NULL) {
			ret = SMD_STORE_ERROR;
			break;
		}
		go = cb(&e, arg);
		free(e.data);
		if (!go)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = smd_mrd_fail(r.c, "list entries");
	smd_mrd_end(&r, s);
	return ret;
}

/* ---- ephemeral key draws (9.3, 11.3) ---- */

static const char SQL_INIT_ID[] =
	"SELECT id FROM accounts WHERE address = ? AND initialized = 1";
static const char SQL_DRAWS_PRUNE[] =
	"DELETE FROM ephemeral_draws WHERE account_id = ? AND sender = ?"
	" AND drawn_at <= ?";
static const char SQL_DRAWS_COUNT[] =
	"SELECT count(*) FROM ephemeral_draws WHERE account_id = ?"
	" AND sender = ? AND drawn_at > ?";
static const char SQL_EPH_FREE[] =
	"SELECT id, key, signed_hash FROM ephemeral_keys"
	" WHERE account_id = ? AND issued_at IS NULL ORDER BY id LIMIT 1";
static const char SQL_EPH_ISSUE[] =
	"UPDATE ephemeral_keys SET issued_to = ?, issued_at = ?"
	" WHERE id = ? AND issued_at IS NULL";
static const char SQL_DRAW_ADD[] =
	"INSERT INTO ephemeral_draws (account_id, sender, drawn_at) VALUES (?, ?, ?)";
static const char SQL_NONEPH_CURRENT[] =
	"SELECT key, signed_hash FROM nonephemeral_keys"
	" WHERE account_id = ? AND replaced_at IS NULL";

static enum smd_store_rc one_int(struct smd_txn *txn, const char *sql,
				 int64_t a, const char *b, int64_t c,
				 int64_t *out)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, sql);
	int rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, a);
	sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, c);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? SMD_STORE_OK : smd_mrd_fail(txn->c, sql);
}

/* Issues the oldest unissued ephemeral key to sender. NOT_FOUND when none
 * is left. The UPDATE only takes a key still unissued, so two writers that
 * picked the same row cannot both have it. */
static enum smd_store_rc issue_ephemeral(struct smd_txn *txn, int64_t account,
					 const char *sender, int64_t now,
					 struct smd_key_draw *out)
{
	for (int tries = 0; tries < 16; tries++) {
		sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_EPH_FREE);
		struct smd_row row;
		int64_t id;
		bool ok;
		int rc;
		enum smd_store_rc r;

		if (s == NULL)
			return SMD_STORE_ERROR;
		sqlite3_bind_int64(s, 1, account);
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(s);
			return rc == SQLITE_DONE ? SMD_STORE_NOT_FOUND :
			       smd_mrd_fail(txn->c, "free ephemeral key");
		}
		smd_sq_cols(s, &row);
		id = row.col[0].i;
		ok = smd_row_msgkey(&row, 1, SMIMP_MSGKEY_EPHEMERAL, &out->key);
		sqlite3_reset(s);
		if (!ok) {
			fputs("smimpd: store: malformed ephemeral key row\n", stderr);
			return SMD_STORE_ERROR;
		}
		s = smd_sq_prep(txn->c, SQL_EPH_ISSUE);
		if (s == NULL)
			return SMD_STORE_ERROR;
		sqlite3_bind_text(s, 1, sender, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, now);
		sqlite3_bind_int64(s, 3, id);
		r = smd_sq_step_done(txn->c, s, "issue ephemeral key");
		if (r != SMD_STORE_OK)
			return r;
		if (sqlite3_changes(txn->c->db) == 1) {
			out->non_ephemeral = false;
			return SMD_STORE_OK;
		}
	}
	return SMD_STORE_BUSY;
}

static enum smd_store_rc current_nonephemeral(struct smd_txn *txn,
					      int64_t account,
					      struct smd_key_draw *out)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_NONEPH_CURRENT);
	enum smd_store_rc ret = SMD_STORE_OK;
	int rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, account);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		struct smd_row row;

		smd_sq_cols(s, &row);
		if (!smd_row_msgkey(&row, 0, SMIMP_MSGKEY_NONEPHEMERAL, &out->key))
			ret = SMD_STORE_ERROR;
		out->non_ephemeral = true;
	} else {
		ret = rc == SQLITE_DONE ? SMD_STORE_NOT_FOUND :
		      smd_mrd_fail(txn->c, "non-ephemeral key");
	}
	sqlite3_reset(s);
	return ret;
}

static enum smd_store_rc sq_key_draw(struct smd_txn *txn, const char *recipient,
				     const char *sender, int64_t now,
				     long long max_per_hour,
				     struct smd_key_draw *out)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_INIT_ID);
	int64_t account, drawn = 0;
	enum smd_store_rc r;
	int rc;

	memset(out, 0, sizeof *out);
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_text(s, 1, recipient, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	account = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? SMD_STORE_NOT_FOUND :
		       smd_mrd_fail(txn->c, "recipient");
	/* Forget draws older than the window, then count the rest. */
	s = smd_sq_prep(txn->c, SQL_DRAWS_PRUNE);
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, account);
	sqlite3_bind_text(s, 2, sender, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now - DRAW_WINDOW_SECONDS);
	if ((r = smd_sq_step_done(txn->c, s, "prune draws")) != SMD_STORE_OK)
		return r;
	r = one_int(txn, SQL_DRAWS_COUNT, account, sender,
		    now - DRAW_WINDOW_SECONDS, &drawn);
	if (r != SMD_STORE_OK)
		return r;
	if (drawn < max_per_hour) {
		r = issue_ephemeral(txn, account, sender, now, out);
		if (r == SMD_STORE_OK) {
			s = smd_sq_prep(txn->c, SQL_DRAW_ADD);
			if (s == NULL)
				return SMD_STORE_ERROR;
			sqlite3_bind_int64(s, 1, account);
			sqlite3_bind_text(s, 2, sender, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 3, now);
			return smd_sq_step_done(txn->c, s, "record draw");
		}
		if (r != SMD_STORE_NOT_FOUND)
			return r;
	}
	return current_nonephemeral(txn, account, out);
}

/* ---- proof-of-work nonces (8) ---- */

/* Nothing when the session is gone (removed by another process since the
 * request read it): then NOT_FOUND, not a foreign-key error. */
static const char SQL_POW_USE[] =
	"INSERT INTO pow_nonces_used (session_hash, nonce) SELECT ?1, ?2"
	" WHERE EXISTS (SELECT 1 FROM sessions WHERE session_hash = ?1)"
	" ON CONFLICT DO NOTHING";
static const char SQL_POW_SESSION[] =
	"SELECT 1 FROM sessions WHERE session_hash = ?";

static enum smd_store_rc sq_pow_use(struct smd_txn *txn,
				    const uint8_t *session_hash,
				    const struct smimp_token *nonce, bool *fresh)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_POW_USE);
	enum smd_store_rc rc;
	int r;

	*fresh = false;
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_blob(s, 1, session_hash, SMD_SESSION_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, nonce->b, sizeof nonce->b, SQLITE_STATIC);
	rc = smd_sq_step_done(txn->c, s, "pow nonce use");
	if (rc != SMD_STORE_OK)
		return rc;
	*fresh = sqlite3_changes(txn->c->db) == 1;
	if (*fresh || (s = smd_sq_prep(txn->c, SQL_POW_SESSION)) == NULL)
		return *fresh ? SMD_STORE_OK : SMD_STORE_ERROR;
	/* Used before, or no session any more? */
	sqlite3_bind_blob(s, 1, session_hash, SMD_SESSION_HASH_BYTES, SQLITE_STATIC);
	r = sqlite3_step(s);
	rc = r == SQLITE_ROW ? SMD_STORE_OK :
	     r == SQLITE_DONE ? SMD_STORE_NOT_FOUND :
	     smd_sq_rc(txn->c, sqlite3_extended_errcode(txn->c->db),
		       "pow nonce session");
	sqlite3_reset(s);
	return rc;
}

static const char SQL_POW_USED[] =
	"SELECT 1 FROM pow_nonces_used WHERE session_hash = ? AND nonce = ?";

/* What pow_use would find, read on a reader connection. */
static enum smd_store_rc sq_pow_used(struct smd_store *st,
				     const uint8_t *session_hash,
				     const struct smimp_token *nonce, bool *used)
{
	struct mrd r;
	sqlite3_stmt *s = smd_mrd_begin(&r, st, SQL_POW_USED);
	enum smd_store_rc ret = SMD_STORE_OK;
	int rc;

	*used = false;
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_blob(s, 1, session_hash, SMD_SESSION_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, nonce->b, sizeof nonce->b, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*used = true;
	else if (rc != SQLITE_DONE)
		ret = smd_mrd_fail(r.c, "pow nonce");
	smd_mrd_end(&r, s);
	return ret;
}

/* ---- the message insert (9) ---- */

static const char SQL_INS_ACCOUNT[] =
	"SELECT id, quota_limit, used_bytes FROM accounts"
	" WHERE address = ? AND initialized = 1";
static const char SQL_INS_RETRY[] =
	"SELECT message_id FROM messages WHERE account_id = ?"
	" AND message_hash = ? AND session_hash = ? LIMIT 1";
static const char SQL_INS_KEY_USE[] =
	"UPDATE ephemeral_keys SET used_at = ? WHERE account_id = ? AND key = ?"
	" AND issued_to = ? AND used_at IS NULL";
static const char SQL_INS_MESSAGE[] =
	"INSERT INTO messages (message_id, account_id, recipient, sender,"
	" sender_public_key, message_type, algorithm, message_public_key, nonce,"
	" ciphertext, proof_of_work, pow_zero_bits, pow_nonce, message_hash,"
	" login_token_hash, session_hash, received_at, size)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
	" ?15, ?16, ?17, ?18)";
static const char SQL_INS_USED[] =
	"UPDATE accounts SET used_bytes = used_bytes + ? WHERE id = ?";

/* Binds and runs the INSERT of m for account. */
static enum smd_store_rc insert_row(struct smd_txn *txn, int64_t account,
				    const struct smd_message_new *m)
{
	const struct smimp_accept_result *a = m->acc;
	const struct smimp_envelope *e = &a->envelope;
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_INS_MESSAGE);

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_blob(s, 1, m->message_id.b, sizeof m->message_id.b,
			  SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, account);
	sqlite3_bind_text(s, 3, m->recipient, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, e->sender, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, m->sender_public_key.b,
			  sizeof m->sender_public_key.b, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, e->message_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, e->algorithm, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 8, e->message_public_key.b,
			  sizeof e->message_public_key.b, SQLITE_STATIC);
	sqlite3_bind_blob(s, 9, e->nonce.b, sizeof e->nonce.b, SQLITE_STATIC);
	sqlite3_bind_blob64(s, 10, e->ciphertext, e->ciphertext_len,
			    SQLITE_STATIC);
	if (e->has_proof_of_work)
		sqlite3_bind_text(s, 11, e->proof_of_work, -1, SQLITE_STATIC);
	if (a->has_pow_params) {
		sqlite3_bind_int(s, 12, (int)a->pow_zero_bits);
		sqlite3_bind_blob(s, 13, a->pow_nonce.b, sizeof a->pow_nonce.b,
				  SQLITE_STATIC);
	}
	sqlite3_bind_blob(s, 14, e->message_hash.b, sizeof e->message_hash.b,
			  SQLITE_STATIC);
	sqlite3_bind_blob(s, 15, e->login_token_hash.b,
			  sizeof e->login_token_hash.b, SQLITE_STATIC);
	sqlite3_bind_blob(s, 16, m->session_hash, SMD_SESSION_HASH_BYTES,
			  SQLITE_STATIC);
	sqlite3_bind_int64(s, 17, m->received_at);
	sqlite3_bind_int64(s, 18, (sqlite3_int64)e->ciphertext_len);
	return smd_sq_step_done(txn->c, s, "message insert");
}

static enum smd_store_rc sq_message_insert(struct smd_txn *txn,
					   struct smd_message_new *m)
{
	const struct smimp_envelope *e = &m->acc->envelope;
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_INS_ACCOUNT);
	int64_t account, limit, used;
	enum smd_store_rc r;
	int rc;

	m->outcome = SMIMP_OK;
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_text(s, 1, m->recipient, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	account = limit = used = 0;
	if (rc == SQLITE_ROW) {
		account = sqlite3_column_int64(s, 0);
		limit = sqlite3_column_int64(s, 1);
		used = sqlite3_column_int64(s, 2);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		if (rc != SQLITE_DONE)
			return smd_mrd_fail(txn->c, "message insert");
		m->outcome = SMIMP_ERR_NOT_FOUND;
		return SMD_STORE_CONFLICT;
	}
	/* An identical retry that raced ours: answer its id. */
	s = smd_sq_prep(txn->c, SQL_INS_RETRY);
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, account);
	sqlite3_bind_blob(s, 2, e->message_hash.b, sizeof e->message_hash.b,
			  SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, m->session_hash, SMD_SESSION_HASH_BYTES,
			  SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW &&
	    smd_col_blob(s, 0, m->stored_id.b, sizeof m->stored_id.b)) {
		sqlite3_reset(s);
		return SMD_STORE_OK;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return smd_mrd_fail(txn->c, "message retry");
	if (!smd_row_insert_admits(m, limit, used))
		return SMD_STORE_CONFLICT;
	if (m->acc->key_provenance == SMIMP_KEY_EPHEMERAL_ISSUED) {
		s = smd_sq_prep(txn->c, SQL_INS_KEY_USE);
		if (s == NULL)
			return SMD_STORE_ERROR;
		sqlite3_bind_int64(s, 1, m->received_at);
		sqlite3_bind_int64(s, 2, account);
		sqlite3_bind_blob(s, 3, e->message_public_key.b,
				  sizeof e->message_public_key.b, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, e->sender, -1, SQLITE_STATIC);
		if ((r = smd_sq_step_done(txn->c, s, "key use")) != SMD_STORE_OK)
			return r;
		if (sqlite3_changes(txn->c->db) != 1) {
			m->outcome = SMIMP_ERR_BAD_KEY;
			return SMD_STORE_CONFLICT;
		}
	}
	if ((r = insert_row(txn, account, m)) != SMD_STORE_OK)
		return r;
	s = smd_sq_prep(txn->c, SQL_INS_USED);
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)e->ciphertext_len);
	sqlite3_bind_int64(s, 2, account);
	if ((r = smd_sq_step_done(txn->c, s, "used bytes")) != SMD_STORE_OK)
		return r;
	m->stored_id = m->message_id;
	return SMD_STORE_OK;
}

/* ---- list writes (11.8) ---- */

static const char SQL_LIST_ADD[] =
	"INSERT INTO list_entries (account_id, list, hash, data, created_at)"
	" VALUES (?, ?, ?, ?, ?)";
static const char SQL_LIST_DEL[] =
	"DELETE FROM list_entries WHERE account_id = ? AND list = ? AND hash = ?";

static enum smd_store_rc sq_list_add(struct smd_txn *txn, const char *owner,
				     enum smimp_list_kind kind,
				     const struct smimp_hash *hash,
				     const uint8_t *data, size_t len, int64_t now)
{
	int64_t account;
	enum smd_store_rc r = smd_mtx_account_id(txn, owner, &account);
	sqlite3_stmt *s;

	if (r != SMD_STORE_OK)
		return r;
	s = smd_sq_prep(txn->c, SQL_LIST_ADD);
	if (s == NULL)
		return SMD_STORE_ERROR;
	txn->cached_changed = true;   /* a recipient's has_lists */
	sqlite3_bind_int64(s, 1, account);
	sqlite3_bind_text(s, 2, list_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, hash->b, sizeof hash->b, SQLITE_STATIC);
	sqlite3_bind_blob64(s, 4, len > 0 ? (const void *)data : "", len,
			    SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now);
	return smd_sq_step_done(txn->c, s, "list add");
}

static enum smd_store_rc sq_list_remove(struct smd_txn *txn, const char *owner,
					enum smimp_list_kind kind,
					const struct smimp_hash *hash)
{
	int64_t account;
	enum smd_store_rc r = smd_mtx_account_id(txn, owner, &account);
	sqlite3_stmt *s;

	if (r != SMD_STORE_OK)
		return r;
	s = smd_sq_prep(txn->c, SQL_LIST_DEL);
	if (s == NULL)
		return SMD_STORE_ERROR;
	txn->cached_changed = true;
	sqlite3_bind_int64(s, 1, account);
	sqlite3_bind_text(s, 2, list_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, hash->b, sizeof hash->b, SQLITE_STATIC);
	r = smd_sq_step_done(txn->c, s, "list remove");
	if (r == SMD_STORE_OK && sqlite3_changes(txn->c->db) == 0)
		r = SMD_STORE_NOT_FOUND;
	return r;
}

const struct smd_mail_store smd_sqlite_mail_ops = {
	.area = "mail",
	.write_grouped = smd_sqm_write_grouped,
	.recipient_get = sq_recipient_get,
	.list_has = sq_list_has,
	.retry_find = sq_retry_find,
	.key_provenance = sq_key_provenance,
	.message_get = smd_sqm_message_get,
	.message_list = smd_sqm_message_list,
	.folder_list = smd_sqm_folder_list,
	.list_entries = sq_list_entries,
	.key_draw = sq_key_draw,
	.pow_use = sq_pow_use,
	.pow_used = sq_pow_used,
	.message_insert = sq_message_insert,
	.message_delete = smd_sqm_message_delete,
	.message_set_read = smd_sqm_message_set_read,
	.message_move = smd_sqm_message_move,
	.message_set_extensions = smd_sqm_message_set_extensions,
	.folder_create = smd_sqm_folder_create,
	.folder_update = smd_sqm_folder_update,
	.folder_delete = smd_sqm_folder_delete,
	.list_add = sq_list_add,
	.list_remove = sq_list_remove,
};

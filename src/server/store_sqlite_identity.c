/* SQLite implementation of the identity area (store_identity.h). Input is
 * trusted (checked by the handlers); every value is bound, never pasted.
 * Rows read back are checked and copied by store_rows.c. */
#include <stdlib.h>

#include "store_cache.h"
#include "sqlite_conn.h"
#include "store_identity.h"

#define RECENT_NONEPHEMERAL_SECONDS (30LL * 24 * 3600) /* 11.2 */
#define EXPIRED_GRACE 3600      /* expired tokens/sessions kept this long */
#define CLEANUP_BATCH "16"      /* expired rows forgotten per insert */

/* ---- helpers ---- */

/* Steps s expecting at most one row: SQLITE_ROW stays for the caller to
 * read (then it must reset), DONE is NOT_FOUND, else an error. */
static enum smd_store_rc step_row(struct conn *c, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return SMD_STORE_OK;
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return SMD_STORE_NOT_FOUND;
	return smd_sq_rc(c, sqlite3_extended_errcode(c->db), what);
}

/* A read on a borrowed reader connection. */
#define READER_BEGIN(st, c, slot) \
	int slot; struct conn *c = smd_sq_reader_get((st), &slot)
#define READER_END(st, slot) smd_sq_reader_put((st), slot)

/* ---- records ---- */

static enum smd_store_rc record_from_row(sqlite3_stmt *s, bool with_data,
					 struct smd_record_row *out)
{
	struct smd_row r;

	smd_sq_cols(s, &r);
	return smd_row_record(&r, with_data, out);
}

/* The account first, then its newest record by the primary key (as in
 * store_pg_identity.c, where a join let the plan read every record). */
#define LATEST_OF_ADDRESS \
	" FROM records WHERE account_id = (SELECT id FROM accounts WHERE address = ?)" \
	" ORDER BY seq DESC LIMIT 1"
static const char SQL_LATEST_BY_ADDRESS[] =
	"SELECT seq, signed_hash, public_key, data" LATEST_OF_ADDRESS;
static const char SQL_LATEST_KEY_BY_ADDRESS[] =
	"SELECT seq, signed_hash, public_key" LATEST_OF_ADDRESS;

static enum smd_store_rc latest_record_read(struct smd_store *st,
					    const char *address, bool with_data,
					    struct smd_record_row *out)
{
	READER_BEGIN(st, c, slot);
	sqlite3_stmt *s = smd_sq_prep(c, with_data ? SQL_LATEST_BY_ADDRESS :
				      SQL_LATEST_KEY_BY_ADDRESS);
	enum smd_store_rc rc = SMD_STORE_ERROR;

	if (s != NULL) {
		sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
		rc = step_row(c, s, "latest record");
		if (rc == SMD_STORE_OK) {
			rc = record_from_row(s, with_data, out);
			sqlite3_reset(s);
		}
	}
	READER_END(st, slot);
	return rc;
}

/* Without the data, through the cache of latest keys (store_cache.h). */
static enum smd_store_rc sq_latest_record(struct smd_store *st, const char *address,
					  bool with_data, struct smd_record_row *out)
{
	uint64_t epoch = smd_cache_epoch(st->latest_keys);
	uint8_t key[SMD_CACHE_KEY_BYTES];
	enum smd_store_rc rc;

	if (with_data)
		return latest_record_read(st, address, true, out);
	smd_cache_key_of(address, key);
	if (smd_cache_get(st->latest_keys, key, out))
		return SMD_STORE_OK;
	rc = latest_record_read(st, address, false, out);
	if (rc == SMD_STORE_OK)
		smd_cache_put(st->latest_keys, epoch, key, out);
	return rc;
}

static const char SQL_HISTORY[] =
	"SELECT r.seq, r.signed_hash, r.public_key, r.data FROM accounts a"
	" JOIN records r ON r.account_id = a.id WHERE a.address = ?"
	" ORDER BY r.seq";

static enum smd_store_rc sq_history(struct smd_store *st, const char *address,
				    smd_record_cb cb, void *arg)
{
	READER_BEGIN(st, c, slot);
	sqlite3_stmt *s = smd_sq_prep(c, SQL_HISTORY);
	enum smd_store_rc rc = SMD_STORE_NOT_FOUND;
	struct smd_record_row row;
	int r = SQLITE_DONE;

	if (s == NULL) {
		READER_END(st, slot);
		return SMD_STORE_ERROR;
	}
	sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		bool more;

		rc = record_from_row(s, true, &row);
		if (rc != SMD_STORE_OK)
			break;
		more = cb(&row, arg);
		free(row.data);
		if (!more)
			break;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = smd_sq_rc(c, sqlite3_extended_errcode(c->db), "history");
	sqlite3_reset(s);
	READER_END(st, slot);
	return rc;
}

static const char SQL_TXN_LATEST[] =
	"SELECT seq, signed_hash, public_key, data FROM records"
	" WHERE account_id = ? ORDER BY seq DESC LIMIT 1";

static enum smd_store_rc sq_txn_latest_record(struct smd_txn *txn, int64_t account_id,
					      bool with_data, struct smd_record_row *out)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_TXN_LATEST);
	enum smd_store_rc rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, account_id);
	rc = step_row(txn->c, s, "latest record");
	if (rc == SMD_STORE_OK) {
		rc = record_from_row(s, with_data, out);
		sqlite3_reset(s);
	}
	return rc;
}

/* The keys of each history, kept by a trigger (sql/0002.sql). */
static const char SQL_RECORD_HAS_KEY[] =
	"SELECT 1 FROM record_keys WHERE account_id = ? AND public_key = ?";

static enum smd_store_rc sq_txn_record_has_key(struct smd_txn *txn, int64_t account_id,
					       const struct smimp_sign_pk *pk)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_RECORD_HAS_KEY);
	enum smd_store_rc rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, account_id);
	sqlite3_bind_blob(s, 2, pk->b, sizeof pk->b, SQLITE_STATIC);
	rc = step_row(txn->c, s, "record key");
	if (rc == SMD_STORE_OK)
		sqlite3_reset(s);
	return rc;
}

static const char SQL_RECORD_ADD[] =
	"INSERT INTO records (account_id, seq, data, signed_hash, public_key)"
	" VALUES (?, ?, ?, ?, ?)";

static enum smd_store_rc sq_record_add(struct smd_txn *txn, int64_t account_id,
				       const struct smd_record_row *row)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_RECORD_ADD);

	if (s == NULL)
		return SMD_STORE_ERROR;
	txn->cached_changed = true;   /* a recipient's master key */
	sqlite3_bind_int64(s, 1, account_id);
	sqlite3_bind_int64(s, 2, row->seq);
	sqlite3_bind_text(s, 3, row->data, (int)row->data_len, SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, row->signed_hash.b, sizeof row->signed_hash.b,
			  SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, row->public_key.b, sizeof row->public_key.b,
			  SQLITE_STATIC);
	return smd_sq_step_done(txn->c, s, "record add");
}

/* ---- accounts and key bindings ---- */

static const char SQL_KEY_BINDING[] =
	"SELECT address FROM key_bindings WHERE public_key = ?";

static enum smd_store_rc sq_key_binding(struct smd_txn *txn,
					const struct smimp_sign_pk *pk,
					char address[SMIMP_ADDRESS_MAX + 1])
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_KEY_BINDING);
	enum smd_store_rc rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_blob(s, 1, pk->b, sizeof pk->b, SQLITE_STATIC);
	rc = step_row(txn->c, s, "key binding");
	if (rc == SMD_STORE_OK) {
		smd_col_text(s, 0, address, SMIMP_ADDRESS_MAX + 1);
		sqlite3_reset(s);
	}
	return rc;
}

static const char SQL_KEY_BIND[] =
	"INSERT INTO key_bindings (public_key, address, bound_at) VALUES (?, ?, ?)"
	" ON CONFLICT (public_key) DO NOTHING";

static enum smd_store_rc sq_key_bind(struct smd_txn *txn, const struct smimp_sign_pk *pk,
				     const char *address, int64_t now)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_KEY_BIND);

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_blob(s, 1, pk->b, sizeof pk->b, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	return smd_sq_step_done(txn->c, s, "key bind");
}

static const char SQL_ACCOUNT_INIT[] =
	"UPDATE accounts SET initialized = 1, init_password_hash = NULL,"
	" init_password_expires = NULL, init_failures = 0, init_failed_at = NULL"
	" WHERE id = ?";

static enum smd_store_rc sq_account_initialize(struct smd_txn *txn, int64_t account_id)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_ACCOUNT_INIT);

	if (s == NULL)
		return SMD_STORE_ERROR;
	txn->cached_changed = true;
	sqlite3_bind_int64(s, 1, account_id);
	return smd_sq_step_done(txn->c, s, "account initialize");
}

static const char SQL_INIT_FAILURE[] =
	"UPDATE accounts SET init_failures = init_failures + 1, init_failed_at = ?"
	" WHERE address = ?";

static enum smd_store_rc sq_init_failure(struct smd_txn *txn, const char *address,
					 int64_t now)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_INIT_FAILURE);

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_text(s, 2, address, -1, SQLITE_STATIC);
	return smd_sq_step_done(txn->c, s, "init failure");
}

/* ---- message keys ---- */

static bool msgkey_from_row(sqlite3_stmt *s, enum smimp_msgkey_kind kind,
			    struct smimp_msgkey *out)
{
	struct smd_row r;

	smd_sq_cols(s, &r);
	return smd_row_msgkey(&r, 0, kind, out);
}

static const char SQL_NONEPH_GET[] =
	"SELECT key, signed_hash FROM nonephemeral_keys"
	" WHERE account_id = ? AND replaced_at IS NULL";

static enum smd_store_rc sq_nonephemeral_get(struct smd_store *st, int64_t account_id,
					     struct smimp_msgkey *out)
{
	READER_BEGIN(st, c, slot);
	sqlite3_stmt *s = smd_sq_prep(c, SQL_NONEPH_GET);
	enum smd_store_rc rc = SMD_STORE_ERROR;

	if (s != NULL) {
		sqlite3_bind_int64(s, 1, account_id);
		rc = step_row(c, s, "nonephemeral key");
		if (rc == SMD_STORE_OK) {
			if (!msgkey_from_row(s, SMIMP_MSGKEY_NONEPHEMERAL, out))
				rc = SMD_STORE_ERROR;
			sqlite3_reset(s);
		}
	}
	READER_END(st, slot);
	return rc;
}

static const char SQL_EPH_LIST[] =
	"SELECT key, signed_hash FROM ephemeral_keys"
	" WHERE account_id = ? AND issued_at IS NULL ORDER BY id";

static enum smd_store_rc sq_ephemeral_list(struct smd_store *st, int64_t account_id,
					   smd_msgkey_cb cb, void *arg)
{
	READER_BEGIN(st, c, slot);
	sqlite3_stmt *s = smd_sq_prep(c, SQL_EPH_LIST);
	enum smd_store_rc rc = SMD_STORE_OK;
	struct smimp_msgkey mk;
	int r = SQLITE_DONE;

	if (s == NULL) {
		READER_END(st, slot);
		return SMD_STORE_ERROR;
	}
	sqlite3_bind_int64(s, 1, account_id);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (!msgkey_from_row(s, SMIMP_MSGKEY_EPHEMERAL, &mk)) {
			rc = SMD_STORE_ERROR;
			break;
		}
		if (!cb(&mk, arg))
			break;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = smd_sq_rc(c, sqlite3_extended_errcode(c->db), "ephemeral list");
	sqlite3_reset(s);
	READER_END(st, slot);
	return rc;
}

static const char SQL_NONEPH_RETIRE[] =
	"UPDATE nonephemeral_keys SET replaced_at = ?2"
	" WHERE account_id = ?1 AND replaced_at IS NULL";
static const char SQL_NONEPH_PURGE[] =
	"DELETE FROM nonephemeral_keys WHERE account_id = ?1 AND replaced_at < ?2";
static const char SQL_NONEPH_ADD[] =
	"INSERT INTO nonephemeral_keys (account_id, key, signed_hash, signer_key,"
	" created_at) VALUES (?, ?, ?, ?, ?)";

static enum smd_store_rc sq_nonephemeral_set(struct smd_txn *txn, int64_t account_id,
					     const struct smimp_msgkey *mk,
					     const struct smimp_sign_pk *signer,
					     int64_t now)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_NONEPH_RETIRE);
	enum smd_store_rc rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, account_id);
	sqlite3_bind_int64(s, 2, now);
	rc = smd_sq_step_done(txn->c, s, "nonephemeral retire");
	if (rc != SMD_STORE_OK || (s = smd_sq_prep(txn->c, SQL_NONEPH_PURGE)) == NULL)
		return rc != SMD_STORE_OK ? rc : SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, account_id);
	sqlite3_bind_int64(s, 2, now - RECENT_NONEPHEMERAL_SECONDS);
	rc = smd_sq_step_done(txn->c, s, "nonephemeral purge");
	if (rc != SMD_STORE_OK || (s = smd_sq_prep(txn->c, SQL_NONEPH_ADD)) == NULL)
		return rc != SMD_STORE_OK ? rc : SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, account_id);
	sqlite3_bind_blob(s, 2, mk->key.b, sizeof mk->key.b, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, mk->signed_hash.b, sizeof mk->signed_hash.b, SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, signer->b, sizeof signer->b, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now);
	return smd_sq_step_done(txn->c, s, "nonephemeral add");
}

static const char SQL_EPH_CLEAR[] =
	"DELETE FROM ephemeral_keys WHERE account_id = ? AND issued_at IS NULL";
static const char SQL_EPH_ADD[] =
	"INSERT INTO ephemeral_keys (account_id, key, signed_hash, signer_key)"
	" VALUES (?, ?, ?, ?) ON CONFLICT (account_id, key) DO NOTHING";

static enum smd_store_rc sq_ephemeral_replace(struct smd_txn *txn, int64_t account_id,
					      const struct smimp_msgkey *keys, size_t n,
					      const struct smimp_sign_pk *signer)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_EPH_CLEAR);
	enum smd_store_rc rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, account_id);
	rc = smd_sq_step_done(txn->c, s, "ephemeral clear");
	for (size_t i = 0; rc == SMD_STORE_OK && i < n; i++) {
		s = smd_sq_prep(txn->c, SQL_EPH_ADD);
		if (s == NULL)
			return SMD_STORE_ERROR;
		sqlite3_bind_int64(s, 1, account_id);
		sqlite3_bind_blob(s, 2, keys[i].key.b, sizeof keys[i].key.b, SQLITE_STATIC);
		sqlite3_bind_blob(s, 3, keys[i].signed_hash.b,
				  sizeof keys[i].signed_hash.b, SQLITE_STATIC);
		sqlite3_bind_blob(s, 4, signer->b, sizeof signer->b, SQLITE_STATIC);
		rc = smd_sq_step_done(txn->c, s, "ephemeral add");
	}
	return rc;
}

static const char SQL_EPH_DROP[] =
	"DELETE FROM ephemeral_keys WHERE account_id = ? AND signer_key != ?";
static const char SQL_NONEPH_DROP[] =
	"DELETE FROM nonephemeral_keys WHERE account_id = ? AND signer_key != ?";

static enum smd_store_rc sq_msgkeys_drop_others(struct smd_txn *txn, int64_t account_id,
						const struct smimp_sign_pk *keep)
{
	const char *const sql[] = {SQL_EPH_DROP, SQL_NONEPH_DROP};
	enum smd_store_rc rc = SMD_STORE_OK;

	for (size_t i = 0; rc == SMD_STORE_OK && i < 2; i++) {
		sqlite3_stmt *s = smd_sq_prep(txn->c, sql[i]);

		if (s == NULL)
			return SMD_STORE_ERROR;
		sqlite3_bind_int64(s, 1, account_id);
		sqlite3_bind_blob(s, 2, keep->b, sizeof keep->b, SQLITE_STATIC);
		rc = smd_sq_step_done(txn->c, s, "message keys drop");
	}
	return rc;
}

/* ---- login tokens and sessions ---- */

static const char SQL_TOKEN_GET[] =
	"SELECT address, expires_at, used FROM login_tokens WHERE token_hash = ?";

static enum smd_store_rc sq_token_get(struct smd_store *st,
				      const struct smimp_hash *token_hash,
				      struct smd_login_token *out)
{
	READER_BEGIN(st, c, slot);
	sqlite3_stmt *s = smd_sq_prep(c, SQL_TOKEN_GET);
	enum smd_store_rc rc = SMD_STORE_ERROR;
	struct smd_row r;

	if (s != NULL) {
		sqlite3_bind_blob(s, 1, token_hash->b, sizeof token_hash->b, SQLITE_STATIC);
		rc = step_row(c, s, "token get");
		if (rc == SMD_STORE_OK) {
			smd_sq_cols(s, &r);
			smd_row_token(&r, out);
			sqlite3_reset(s);
		}
	}
	READER_END(st, slot);
	return rc;
}

static const char SQL_TOKEN_CLEAN[] =
	"DELETE FROM login_tokens WHERE rowid IN (SELECT rowid FROM login_tokens"
	" WHERE expires_at < ? LIMIT " CLEANUP_BATCH ")";
static const char SQL_TOKEN_ADD[] =
	"INSERT INTO login_tokens (token_hash, address, expires_at) VALUES (?, ?, ?)";

static enum smd_store_rc sq_token_add(struct smd_txn *txn,
				      const struct smimp_hash *token_hash,
				      const char *address, int64_t expires_at,
				      int64_t now)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_TOKEN_CLEAN);
	enum smd_store_rc rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, now - EXPIRED_GRACE);
	rc = smd_sq_step_done(txn->c, s, "token cleanup");
	if (rc != SMD_STORE_OK || (s = smd_sq_prep(txn->c, SQL_TOKEN_ADD)) == NULL)
		return rc != SMD_STORE_OK ? rc : SMD_STORE_ERROR;
	sqlite3_bind_blob(s, 1, token_hash->b, sizeof token_hash->b, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, expires_at);
	return smd_sq_step_done(txn->c, s, "token add");
}

static const char SQL_TOKEN_USE[] =
	"UPDATE login_tokens SET used = 1 WHERE token_hash = ? AND used = 0"
	" RETURNING address, expires_at";

static enum smd_store_rc sq_token_use(struct smd_txn *txn,
				      const struct smimp_hash *token_hash,
				      struct smd_login_token *out)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_TOKEN_USE);
	enum smd_store_rc rc;
	struct smd_row r;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_blob(s, 1, token_hash->b, sizeof token_hash->b, SQLITE_STATIC);
	rc = step_row(txn->c, s, "token use");
	if (rc == SMD_STORE_OK) {
		smd_sq_cols(s, &r);
		smd_row_token(&r, out);
		/* Run the statement to its end so the update is done. */
		while (sqlite3_step(s) == SQLITE_ROW)
			;
		rc = sqlite3_reset(s) == SQLITE_OK ? SMD_STORE_OK :
			smd_sq_rc(txn->c, sqlite3_extended_errcode(txn->c->db), "token use");
	}
	return rc;
}

static const char SQL_SESSION_GET[] =
	"SELECT address, remote, public_key, login_token_hash, expires_at, destroyed"
	" FROM sessions WHERE session_hash = ?";

static enum smd_store_rc session_read(struct smd_store *st,
				      const uint8_t hash[SMD_SESSION_HASH_BYTES],
				      struct smd_session *out, bool *destroyed)
{
	READER_BEGIN(st, c, slot);
	sqlite3_stmt *s = smd_sq_prep(c, SQL_SESSION_GET);
	enum smd_store_rc rc = SMD_STORE_ERROR;
	struct smd_row r;

	if (s != NULL) {
		sqlite3_bind_blob(s, 1, hash, SMD_SESSION_HASH_BYTES, SQLITE_STATIC);
		rc = step_row(c, s, "session get");
		if (rc == SMD_STORE_OK) {
			smd_sq_cols(s, &r);
			rc = smd_row_session(&r, hash, out, destroyed);
			sqlite3_reset(s);
		}
	}
	READER_END(st, slot);
	return rc;
}

/* Through the cache of live sessions (store_cache.h). */
static enum smd_store_rc sq_session_get(struct smd_store *st,
					const uint8_t hash[SMD_SESSION_HASH_BYTES],
					struct smd_session *out, bool *destroyed)
{
	uint64_t epoch = smd_cache_epoch(st->sessions);
	enum smd_store_rc rc;

	*destroyed = false;
	if (smd_cache_get(st->sessions, hash, out))
		return SMD_STORE_OK;
	rc = session_read(st, hash, out, destroyed);
	if (rc == SMD_STORE_OK && !*destroyed)
		smd_cache_put(st->sessions, epoch, hash, out);
	return rc;
}

static const char SQL_SESSION_CLEAN[] =
	"DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions"
	" WHERE expires_at < ? LIMIT " CLEANUP_BATCH ")";
static const char SQL_SESSION_ADD[] =
	"INSERT INTO sessions (session_hash, address, remote, public_key,"
	" login_token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)";

static enum smd_store_rc sq_session_add(struct smd_txn *txn, const struct smd_session *ss,
					int64_t now)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_SESSION_CLEAN);
	enum smd_store_rc rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, now - EXPIRED_GRACE);
	rc = smd_sq_step_done(txn->c, s, "session cleanup");
	if (rc != SMD_STORE_OK || (s = smd_sq_prep(txn->c, SQL_SESSION_ADD)) == NULL)
		return rc != SMD_STORE_OK ? rc : SMD_STORE_ERROR;
	sqlite3_bind_blob(s, 1, ss->hash, sizeof ss->hash, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, ss->address, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, ss->remote ? 1 : 0);
	sqlite3_bind_blob(s, 4, ss->public_key.b, sizeof ss->public_key.b, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, ss->login_token_hash.b, sizeof ss->login_token_hash.b,
			  SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, now);
	sqlite3_bind_int64(s, 7, ss->expires_at);
	return smd_sq_step_done(txn->c, s, "session add");
}

static const char SQL_SESSION_DESTROY[] =
	"UPDATE sessions SET destroyed = 1 WHERE session_hash = ?";

static enum smd_store_rc sq_session_destroy(struct smd_txn *txn,
					    const uint8_t hash[SMD_SESSION_HASH_BYTES])
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_SESSION_DESTROY);

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_blob(s, 1, hash, SMD_SESSION_HASH_BYTES, SQLITE_STATIC);
	txn->cached_changed = true;
	return smd_sq_step_done(txn->c, s, "session destroy");
}

static const char SQL_SESSIONS_END[] =
	"UPDATE sessions SET destroyed = 1"
	" WHERE address = ?1 AND remote = 0 AND session_hash != ?2";
static const char SQL_SESSION_REKEY[] =
	"UPDATE sessions SET public_key = ?3 WHERE address = ?1 AND session_hash = ?2";

static enum smd_store_rc sq_sessions_rekey(struct smd_txn *txn, const char *address,
					   const uint8_t keep[SMD_SESSION_HASH_BYTES],
					   const struct smimp_sign_pk *pk)
{
	const char *const sql[] = {SQL_SESSIONS_END, SQL_SESSION_REKEY};
	enum smd_store_rc rc = SMD_STORE_OK;

	txn->cached_changed = true;
	for (size_t i = 0; rc == SMD_STORE_OK && i < 2; i++) {
		sqlite3_stmt *s = smd_sq_prep(txn->c, sql[i]);

		if (s == NULL)
			return SMD_STORE_ERROR;
		sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
		sqlite3_bind_blob(s, 2, keep, SMD_SESSION_HASH_BYTES, SQLITE_STATIC);
		if (i == 1)
			sqlite3_bind_blob(s, 3, pk->b, sizeof pk->b, SQLITE_STATIC);
		rc = smd_sq_step_done(txn->c, s, "sessions rekey");
	}
	return rc;
}

/* ---- avatars ---- */

static const char SQL_AVATAR_GET[] =
	"SELECT hash, signed_hash, mime FROM avatars WHERE account_id = ?";
static const char SQL_AVATAR_GET_IMAGE[] =
	"SELECT hash, signed_hash, mime, image FROM avatars WHERE account_id = ?";
static const char SQL_AVATAR_FILE[] =
	"SELECT hash, signed_hash, mime, image FROM avatars WHERE hash = ? LIMIT 1";

static enum smd_store_rc avatar_read(struct smd_store *st, const char *sql,
				     int64_t account_id, const struct smimp_hash *hash,
				     bool with_image, struct smd_avatar *out)
{
	READER_BEGIN(st, c, slot);
	sqlite3_stmt *s = smd_sq_prep(c, sql);
	enum smd_store_rc rc = SMD_STORE_ERROR;
	struct smd_row r;

	if (s != NULL) {
		if (hash != NULL)
			sqlite3_bind_blob(s, 1, hash->b, sizeof hash->b, SQLITE_STATIC);
		else
			sqlite3_bind_int64(s, 1, account_id);
		rc = step_row(c, s, "avatar");
		if (rc == SMD_STORE_OK) {
			smd_sq_cols(s, &r);
			rc = smd_row_avatar(&r, with_image, out);
			sqlite3_reset(s);
		}
	}
	READER_END(st, slot);
	return rc;
}

static enum smd_store_rc sq_avatar_get(struct smd_store *st, int64_t account_id,
				       bool with_image, struct smd_avatar *out)
{
	return avatar_read(st, with_image ? SQL_AVATAR_GET_IMAGE : SQL_AVATAR_GET,
			   account_id, NULL, with_image, out);
}

static enum smd_store_rc sq_avatar_file(struct smd_store *st,
					const struct smimp_hash *hash,
					struct smd_avatar *out)
{
	return avatar_read(st, SQL_AVATAR_FILE, 0, hash, true, out);
}

static const char SQL_AVATAR_SET[] =
	"INSERT INTO avatars (account_id, hash, image, mime, signed_hash, updated_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (account_id) DO UPDATE SET"
	" hash = ?2, image = ?3, mime = ?4, signed_hash = ?5, updated_at = ?6";

static enum smd_store_rc sq_avatar_set(struct smd_txn *txn, int64_t account_id,
				       const struct smd_avatar *a, int64_t now)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_AVATAR_SET);

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, account_id);
	sqlite3_bind_blob(s, 2, a->hash.b, sizeof a->hash.b, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, a->image, (int)a->image_len, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, a->mime, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, a->signed_hash.b, sizeof a->signed_hash.b, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, now);
	return smd_sq_step_done(txn->c, s, "avatar set");
}

static const char SQL_AVATAR_DELETE[] = "DELETE FROM avatars WHERE account_id = ?";

static enum smd_store_rc sq_avatar_delete(struct smd_txn *txn, int64_t account_id)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_AVATAR_DELETE);

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, account_id);
	return smd_sq_step_done(txn->c, s, "avatar delete");
}

/* ---- remote pins ---- */

static const char SQL_PIN_GET[] =
	"SELECT first_signed_hash, first_public_key, latest_seq, latest_signed_hash,"
	" latest_public_key FROM remote_pins WHERE address = ?";

static enum smd_store_rc sq_pin_get(struct smd_store *st, const char *address,
				    struct smimp_pin *out)
{
	READER_BEGIN(st, c, slot);
	sqlite3_stmt *s = smd_sq_prep(c, SQL_PIN_GET);
	enum smd_store_rc rc = SMD_STORE_ERROR;
	struct smd_row r;

	if (s != NULL) {
		sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
		rc = step_row(c, s, "pin get");
		if (rc == SMD_STORE_OK) {
			smd_sq_cols(s, &r);
			rc = smd_row_pin(&r, address, out);
			sqlite3_reset(s);
		}
	}
	READER_END(st, slot);
	return rc;
}

static const char SQL_PIN_PUT[] =
	"INSERT INTO remote_pins (address, first_signed_hash, first_public_key,"
	" latest_seq, latest_signed_hash, latest_public_key, updated_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (address) DO UPDATE SET"
	" first_signed_hash = ?2, first_public_key = ?3, latest_seq = ?4,"
	" latest_signed_hash = ?5, latest_public_key = ?6, updated_at = ?7";

static enum smd_store_rc sq_pin_put(struct smd_txn *txn, const struct smimp_pin *p,
				    int64_t now)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_PIN_PUT);

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_text(s, 1, p->address, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, p->first_signed_hash.b, sizeof p->first_signed_hash.b,
			  SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, p->first_public_key.b, sizeof p->first_public_key.b,
			  SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, p->latest_seq);
	sqlite3_bind_blob(s, 5, p->latest_signed_hash.b, sizeof p->latest_signed_hash.b,
			  SQLITE_STATIC);
	sqlite3_bind_blob(s, 6, p->latest_public_key.b, sizeof p->latest_public_key.b,
			  SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, now);
	return smd_sq_step_done(txn->c, s, "pin put");
}

const struct smd_identity_store smd_sqlite_identity_ops = {
	.area = "identity",
	.latest_record = sq_latest_record,
	.history = sq_history,
	.token_get = sq_token_get,
	.session_get = sq_session_get,
	.nonephemeral_get = sq_nonephemeral_get,
	.ephemeral_list = sq_ephemeral_list,
	.avatar_get = sq_avatar_get,
	.avatar_file = sq_avatar_file,
	.pin_get = sq_pin_get,
	.txn_latest_record = sq_txn_latest_record,
	.txn_record_has_key = sq_txn_record_has_key,
	.record_add = sq_record_add,
	.key_binding = sq_key_binding,
	.key_bind = sq_key_bind,
	.account_initialize = sq_account_initialize,
	.init_failure = sq_init_failure,
	.nonephemeral_set = sq_nonephemeral_set,
	.ephemeral_replace = sq_ephemeral_replace,
	.msgkeys_drop_others = sq_msgkeys_drop_others,
	.token_add = sq_token_add,
	.token_use = sq_token_use,
	.session_add = sq_session_add,
	.session_destroy = sq_session_destroy,
	.sessions_rekey = sq_sessions_rekey,
	.avatar_set = sq_avatar_set,
	.avatar_delete = sq_avatar_delete,
	.pin_put = sq_pin_put,
};

/* PostgreSQL implementation of the identity area (store_identity.h), the
 * same statements as store_sqlite_identity.c in PostgreSQL's dialect. Its
 * writes run in smd_db_write's SERIALIZABLE transactions. Input is trusted
 * (checked by the handlers); every value is bound, never pasted. Rows read
 * back are checked and copied by store_rows.c. */
#include <stdlib.h>

#include "pg_conn.h"
#include "store_identity.h"

#define RECENT_NONEPHEMERAL_SECONDS (30LL * 24 * 3600) /* 11.2 */
#define EXPIRED_GRACE 3600      /* expired tokens/sessions kept this long */
/* Expired rows forgotten per insert, by one transaction at a time (the
 * others skip it), so concurrent logins do not collide on the same rows. */
#define CLEANUP_GATE \
	"WITH g AS (SELECT pg_try_advisory_xact_lock(495874452849) AS ok)"
#define CLEANUP_BATCH "16"

/* ---- records ---- */

static enum smd_store_rc record_from_row(const PGresult *res, int row, bool with_data,
					 struct smd_record_row *out)
{
	struct smd_row r;

	smd_pg_cols(res, row, &r);
	return smd_row_record(&r, with_data, out);
}

/* The account first, then its newest record by the primary key: written
 * as a join, PostgreSQL's generic plan read every record of the history. */
#define LATEST_OF_ADDRESS \
	" FROM records WHERE account_id = (SELECT id FROM accounts WHERE address = $1)" \
	" ORDER BY seq DESC LIMIT 1"
static const char SQL_LATEST_BY_ADDRESS[] =
	"SELECT seq, signed_hash, public_key, data" LATEST_OF_ADDRESS;
static const char SQL_LATEST_KEY_BY_ADDRESS[] =
	"SELECT seq, signed_hash, public_key" LATEST_OF_ADDRESS;

static enum smd_store_rc pg_latest_record(struct smd_store *st, const char *address,
					  bool with_data, struct smd_record_row *out)
{
	struct pgp p = {0};
	PGresult *res;
	enum smd_store_rc rc;

	smd_pgp_text(&p, address);
	rc = smd_pg_read_row(st, with_data ? SQL_LATEST_BY_ADDRESS :
			     SQL_LATEST_KEY_BY_ADDRESS, &p, "latest record", &res);
	if (rc == SMD_STORE_OK)
		rc = record_from_row(res, 0, with_data, out);
	PQclear(res);
	return rc;
}

static const char SQL_HISTORY[] =
	"SELECT r.seq, r.signed_hash, r.public_key, r.data FROM accounts a"
	" JOIN records r ON r.account_id = a.id WHERE a.address = $1"
	" ORDER BY r.seq";

static enum smd_store_rc pg_history(struct smd_store *st, const char *address,
				    smd_record_cb cb, void *arg)
{
	struct pgp p = {0};
	enum smd_store_rc rc;
	PGresult *res;

	smd_pgp_text(&p, address);
	res = smd_pg_read(st, SQL_HISTORY, &p, &rc, "history");
	if (res == NULL)
		return rc;
	rc = PQntuples(res) == 0 ? SMD_STORE_NOT_FOUND : SMD_STORE_OK;
	for (int i = 0; i < PQntuples(res); i++) {
		struct smd_record_row row;
		bool more;

		rc = record_from_row(res, i, true, &row);
		if (rc != SMD_STORE_OK)
			break;
		more = cb(&row, arg);
		free(row.data);
		if (!more)
			break;
	}
	PQclear(res);
	return rc;
}

/* The account row is locked first: two updates of one history take turns
 * and the second sees the first's record (as with SQLite's one writer). */
static const char SQL_TXN_LOCK_ACCOUNT[] =
	"SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE";
static const char SQL_TXN_LATEST[] =
	"SELECT seq, signed_hash, public_key, data FROM records"
	" WHERE account_id = $1 ORDER BY seq DESC LIMIT 1";

static enum smd_store_rc pg_txn_latest_record(struct smd_txn *txn, int64_t account_id,
					      bool with_data, struct smd_record_row *out)
{
	struct pgp p = {0};
	PGresult *res;
	enum smd_store_rc rc;

	smd_pgp_int(&p, account_id);
	rc = smd_pg_do(txn->c, SQL_TXN_LOCK_ACCOUNT, &p, "lock account", NULL);
	if (rc != SMD_STORE_OK)
		return rc;
	rc = smd_pg_row(txn->c, SQL_TXN_LATEST, &p, "latest record", &res);
	if (rc == SMD_STORE_OK)
		rc = record_from_row(res, 0, with_data, out);
	PQclear(res);
	return rc;
}

/* The keys of each history, kept by a trigger (sql/postgresql/0002.sql). */
static const char SQL_RECORD_HAS_KEY[] =
	"SELECT 1 FROM record_keys WHERE account_id = $1 AND public_key = $2";

static enum smd_store_rc pg_txn_record_has_key(struct smd_txn *txn, int64_t account_id,
					       const struct smimp_sign_pk *pk)
{
	struct pgp p = {0};
	PGresult *res;
	enum smd_store_rc rc;

	smd_pgp_int(&p, account_id);
	smd_pgp_blob(&p, pk->b, sizeof pk->b);
	rc = smd_pg_row(txn->c, SQL_RECORD_HAS_KEY, &p, "record key", &res);
	PQclear(res);
	return rc;
}

static const char SQL_RECORD_ADD[] =
	"INSERT INTO records (account_id, seq, data, signed_hash, public_key)"
	" VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

static enum smd_store_rc pg_record_add(struct smd_txn *txn, int64_t account_id,
				       const struct smd_record_row *row)
{
	struct pgp p = {0};
	enum smd_store_rc rc;
	long n = 0;

	smd_pgp_int(&p, account_id);
	smd_pgp_int(&p, row->seq);
	smd_pgp_textn(&p, row->data, row->data_len);
	smd_pgp_blob(&p, row->signed_hash.b, sizeof row->signed_hash.b);
	smd_pgp_blob(&p, row->public_key.b, sizeof row->public_key.b);
	rc = smd_pg_do(txn->c, SQL_RECORD_ADD, &p, "record add", &n);
	return rc == SMD_STORE_OK && n == 0 ? SMD_STORE_CONFLICT : rc;
}

/* ---- accounts and key bindings ---- */

static const char SQL_KEY_BINDING[] =
	"SELECT address FROM key_bindings WHERE public_key = $1";

static enum smd_store_rc pg_key_binding(struct smd_txn *txn,
					const struct smimp_sign_pk *pk,
					char address[SMIMP_ADDRESS_MAX + 1])
{
	struct pgp p = {0};
	PGresult *res;
	enum smd_store_rc rc;

	smd_pgp_blob(&p, pk->b, sizeof pk->b);
	rc = smd_pg_row(txn->c, SQL_KEY_BINDING, &p, "key binding", &res);
	if (rc == SMD_STORE_OK)
		smd_pg_text(res, 0, 0, address, SMIMP_ADDRESS_MAX + 1);
	PQclear(res);
	return rc;
}

static const char SQL_KEY_BIND[] =
	"INSERT INTO key_bindings (public_key, address, bound_at) VALUES ($1, $2, $3)"
	" ON CONFLICT (public_key) DO NOTHING";

/* No-op when bound already (as with SQLite). Identity writes run
 * SERIALIZABLE, so a binding made meanwhile by another node is a
 * serialization failure (retried, then seen by key_binding), not a silent
 * double binding. */
static enum smd_store_rc pg_key_bind(struct smd_txn *txn, const struct smimp_sign_pk *pk,
				     const char *address, int64_t now)
{
	struct pgp p = {0};

	smd_pgp_blob(&p, pk->b, sizeof pk->b);
	smd_pgp_text(&p, address);
	smd_pgp_int(&p, now);
	return smd_pg_do(txn->c, SQL_KEY_BIND, &p, "key bind", NULL);
}

static const char SQL_ACCOUNT_INIT[] =
	"UPDATE accounts SET initialized = true, init_password_hash = NULL,"
	" init_password_expires = NULL, init_failures = 0, init_failed_at = NULL"
	" WHERE id = $1";

static enum smd_store_rc pg_account_initialize(struct smd_txn *txn, int64_t account_id)
{
	struct pgp p = {0};

	smd_pgp_int(&p, account_id);
	return smd_pg_do(txn->c, SQL_ACCOUNT_INIT, &p, "account initialize", NULL);
}

static const char SQL_INIT_FAILURE[] =
	"UPDATE accounts SET init_failures = init_failures + 1, init_failed_at = $1"
	" WHERE address = $2";

static enum smd_store_rc pg_init_failure(struct smd_txn *txn, const char *address,
					 int64_t now)
{
	struct pgp p = {0};

	smd_pgp_int(&p, now);
	smd_pgp_text(&p, address);
	return smd_pg_do(txn->c, SQL_INIT_FAILURE, &p, "init failure", NULL);
}

/* ---- message keys ---- */

static bool msgkey_from_row(const PGresult *res, int row, enum smimp_msgkey_kind kind,
			    struct smimp_msgkey *out)
{
	struct smd_row r;

	smd_pg_cols(res, row, &r);
	return smd_row_msgkey(&r, 0, kind, out);
}

static const char SQL_NONEPH_GET[] =
	"SELECT key, signed_hash FROM nonephemeral_keys"
	" WHERE account_id = $1 AND replaced_at IS NULL";

static enum smd_store_rc pg_nonephemeral_get(struct smd_store *st, int64_t account_id,
					     struct smimp_msgkey *out)
{
	struct pgp p = {0};
	PGresult *res;
	enum smd_store_rc rc;

	smd_pgp_int(&p, account_id);
	rc = smd_pg_read_row(st, SQL_NONEPH_GET, &p, "nonephemeral key", &res);
	if (rc == SMD_STORE_OK && !msgkey_from_row(res, 0, SMIMP_MSGKEY_NONEPHEMERAL, out))
		rc = SMD_STORE_ERROR;
	PQclear(res);
	return rc;
}

static const char SQL_EPH_LIST[] =
	"SELECT key, signed_hash FROM ephemeral_keys"
	" WHERE account_id = $1 AND issued_at IS NULL ORDER BY id";

static enum smd_store_rc pg_ephemeral_list(struct smd_store *st, int64_t account_id,
					   smd_msgkey_cb cb, void *arg)
{
	struct pgp p = {0};
	enum smd_store_rc rc;
	PGresult *res;

	smd_pgp_int(&p, account_id);
	res = smd_pg_read(st, SQL_EPH_LIST, &p, &rc, "ephemeral list");
	if (res == NULL)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		struct smimp_msgkey mk;

		if (!msgkey_from_row(res, i, SMIMP_MSGKEY_EPHEMERAL, &mk)) {
			rc = SMD_STORE_ERROR;
			break;
		}
		if (!cb(&mk, arg))
			break;
	}
	PQclear(res);
	return rc;
}

static const char SQL_NONEPH_RETIRE[] =
	"UPDATE nonephemeral_keys SET replaced_at = $2"
	" WHERE account_id = $1 AND replaced_at IS NULL";
static const char SQL_NONEPH_PURGE[] =
	"DELETE FROM nonephemeral_keys WHERE account_id = $1 AND replaced_at < $2";
static const char SQL_NONEPH_ADD[] =
	"INSERT INTO nonephemeral_keys (account_id, key, signed_hash, signer_key,"
	" created_at) VALUES ($1, $2, $3, $4, $5)";

static enum smd_store_rc pg_nonephemeral_set(struct smd_txn *txn, int64_t account_id,
					     const struct smimp_msgkey *mk,
					     const struct smimp_sign_pk *signer,
					     int64_t now)
{
	struct pgp p = {0};
	enum smd_store_rc rc;

	smd_pgp_int(&p, account_id);
	smd_pgp_int(&p, now);
	rc = smd_pg_do(txn->c, SQL_NONEPH_RETIRE, &p, "nonephemeral retire", NULL);
	if (rc != SMD_STORE_OK)
		return rc;
	p.n = 0;
	smd_pgp_int(&p, account_id);
	smd_pgp_int(&p, now - RECENT_NONEPHEMERAL_SECONDS);
	rc = smd_pg_do(txn->c, SQL_NONEPH_PURGE, &p, "nonephemeral purge", NULL);
	if (rc != SMD_STORE_OK)
		return rc;
	p.n = 0;
	smd_pgp_int(&p, account_id);
	smd_pgp_blob(&p, mk->key.b, sizeof mk->key.b);
	smd_pgp_blob(&p, mk->signed_hash.b, sizeof mk->signed_hash.b);
	smd_pgp_blob(&p, signer->b, sizeof signer->b);
	smd_pgp_int(&p, now);
	return smd_pg_do(txn->c, SQL_NONEPH_ADD, &p, "nonephemeral add", NULL);
}

static const char SQL_EPH_CLEAR[] =
	"DELETE FROM ephemeral_keys WHERE account_id = $1 AND issued_at IS NULL";
static const char SQL_EPH_ADD[] =
	"INSERT INTO ephemeral_keys (account_id, key, signed_hash, signer_key)"
	" VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, key) DO NOTHING";

static enum smd_store_rc pg_ephemeral_replace(struct smd_txn *txn, int64_t account_id,
					      const struct smimp_msgkey *keys, size_t n,
					      const struct smimp_sign_pk *signer)
{
	struct pgp p = {0};
	enum smd_store_rc rc;

	smd_pgp_int(&p, account_id);
	rc = smd_pg_do(txn->c, SQL_EPH_CLEAR, &p, "ephemeral clear", NULL);
	for (size_t i = 0; rc == SMD_STORE_OK && i < n; i++) {
		p.n = 0;
		smd_pgp_int(&p, account_id);
		smd_pgp_blob(&p, keys[i].key.b, sizeof keys[i].key.b);
		smd_pgp_blob(&p, keys[i].signed_hash.b, sizeof keys[i].signed_hash.b);
		smd_pgp_blob(&p, signer->b, sizeof signer->b);
		rc = smd_pg_do(txn->c, SQL_EPH_ADD, &p, "ephemeral add", NULL);
	}
	return rc;
}

static const char SQL_EPH_DROP[] =
	"DELETE FROM ephemeral_keys WHERE account_id = $1 AND signer_key != $2";
static const char SQL_NONEPH_DROP[] =
	"DELETE FROM nonephemeral_keys WHERE account_id = $1 AND signer_key != $2";

static enum smd_store_rc pg_msgkeys_drop_others(struct smd_txn *txn, int64_t account_id,
						const struct smimp_sign_pk *keep)
{
	const char *const sql[] = {SQL_EPH_DROP, SQL_NONEPH_DROP};
	enum smd_store_rc rc = SMD_STORE_OK;

	for (size_t i = 0; rc == SMD_STORE_OK && i < 2; i++) {
		struct pgp p = {0};

		smd_pgp_int(&p, account_id);
		smd_pgp_blob(&p, keep->b, sizeof keep->b);
		rc = smd_pg_do(txn->c, sql[i], &p, "message keys drop", NULL);
	}
	return rc;
}

/* ---- login tokens and sessions ---- */

static const char SQL_TOKEN_GET[] =
	"SELECT address, expires_at, used FROM login_tokens WHERE token_hash = $1";

static enum smd_store_rc pg_token_get(struct smd_store *st,
				      const struct smimp_hash *token_hash,
				      struct smd_login_token *out)
{
	struct pgp p = {0};
	struct smd_row r;
	PGresult *res;
	enum smd_store_rc rc;

	smd_pgp_blob(&p, token_hash->b, sizeof token_hash->b);
	rc = smd_pg_read_row(st, SQL_TOKEN_GET, &p, "token get", &res);
	if (rc == SMD_STORE_OK) {
		smd_pg_cols(res, 0, &r);
		smd_row_token(&r, out);
	}
	PQclear(res);
	return rc;
}

static const char SQL_TOKEN_CLEAN[] =
	CLEANUP_GATE " DELETE FROM login_tokens WHERE (SELECT ok FROM g)"
	" AND token_hash IN (SELECT token_hash FROM login_tokens"
	" WHERE expires_at < $1 LIMIT " CLEANUP_BATCH ")";
static const char SQL_TOKEN_ADD[] =
	"INSERT INTO login_tokens (token_hash, address, expires_at) VALUES ($1, $2, $3)";

static enum smd_store_rc pg_token_add(struct smd_txn *txn,
				      const struct smimp_hash *token_hash,
				      const char *address, int64_t expires_at,
				      int64_t now)
{
	struct pgp p = {0};
	enum smd_store_rc rc;

	smd_pgp_int(&p, now - EXPIRED_GRACE);
	rc = smd_pg_do(txn->c, SQL_TOKEN_CLEAN, &p, "token cleanup", NULL);
	if (rc != SMD_STORE_OK)
		return rc;
	p.n = 0;
	smd_pgp_blob(&p, token_hash->b, sizeof token_hash->b);
	smd_pgp_text(&p, address);
	smd_pgp_int(&p, expires_at);
	return smd_pg_do(txn->c, SQL_TOKEN_ADD, &p, "token add", NULL);
}

/* Single use across nodes: only the transaction that flips used gets it. */
static const char SQL_TOKEN_USE[] =
	"UPDATE login_tokens SET used = true WHERE token_hash = $1 AND used = false"
	" RETURNING address, expires_at";

static enum smd_store_rc pg_token_use(struct smd_txn *txn,
				      const struct smimp_hash *token_hash,
				      struct smd_login_token *out)
{
	struct pgp p = {0};
	struct smd_row r;
	PGresult *res;
	enum smd_store_rc rc;

	smd_pgp_blob(&p, token_hash->b, sizeof token_hash->b);
	rc = smd_pg_row(txn->c, SQL_TOKEN_USE, &p, "token use", &res);
	if (rc == SMD_STORE_OK) {
		smd_pg_cols(res, 0, &r);
		smd_row_token(&r, out);
	}
	PQclear(res);
	return rc;
}

static const char SQL_SESSION_GET[] =
	"SELECT address, remote, public_key, login_token_hash, expires_at, destroyed"
	" FROM sessions WHERE session_hash = $1";

static enum smd_store_rc pg_session_get(struct smd_store *st,
					const uint8_t hash[SMD_SESSION_HASH_BYTES],
					struct smd_session *out, bool *destroyed)
{
	struct pgp p = {0};
	struct smd_row r;
	PGresult *res;
	enum smd_store_rc rc;

	smd_pgp_blob(&p, hash, SMD_SESSION_HASH_BYTES);
	rc = smd_pg_read_row(st, SQL_SESSION_GET, &p, "session get", &res);
	if (rc == SMD_STORE_OK) {
		smd_pg_cols(res, 0, &r);
		rc = smd_row_session(&r, hash, out, destroyed);
	}
	PQclear(res);
	return rc;
}

static const char SQL_SESSION_CLEAN[] =
	CLEANUP_GATE " DELETE FROM sessions WHERE (SELECT ok FROM g)"
	" AND session_hash IN (SELECT session_hash FROM sessions"
	" WHERE expires_at < $1 LIMIT " CLEANUP_BATCH ")";
static const char SQL_SESSION_ADD[] =
	"INSERT INTO sessions (session_hash, address, remote, public_key,"
	" login_token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";

static enum smd_store_rc pg_session_add(struct smd_txn *txn, const struct smd_session *ss,
					int64_t now)
{
	struct pgp p = {0};
	enum smd_store_rc rc;

	smd_pgp_int(&p, now - EXPIRED_GRACE);
	rc = smd_pg_do(txn->c, SQL_SESSION_CLEAN, &p, "session cleanup", NULL);
	if (rc != SMD_STORE_OK)
		return rc;
	p.n = 0;
	smd_pgp_blob(&p, ss->hash, sizeof ss->hash);
	smd_pgp_text(&p, ss->address);
	smd_pgp_bool(&p, ss->remote);
	smd_pgp_blob(&p, ss->public_key.b, sizeof ss->public_key.b);
	smd_pgp_blob(&p, ss->login_token_hash.b, sizeof ss->login_token_hash.b);
	smd_pgp_int(&p, now);
	smd_pgp_int(&p, ss->expires_at);
	return smd_pg_do(txn->c, SQL_SESSION_ADD, &p, "session add", NULL);
}

static const char SQL_SESSION_DESTROY[] =
	"UPDATE sessions SET destroyed = true WHERE session_hash = $1";

static enum smd_store_rc pg_session_destroy(struct smd_txn *txn,
					    const uint8_t hash[SMD_SESSION_HASH_BYTES])
{
	struct pgp p = {0};

	smd_pgp_blob(&p, hash, SMD_SESSION_HASH_BYTES);
	return smd_pg_do(txn->c, SQL_SESSION_DESTROY, &p, "session destroy", NULL);
}

static const char SQL_SESSIONS_END[] =
	"UPDATE sessions SET destroyed = true"
	" WHERE address = $1 AND remote = false AND session_hash != $2";
static const char SQL_SESSION_REKEY[] =
	"UPDATE sessions SET public_key = $3 WHERE address = $1 AND session_hash = $2";

static enum smd_store_rc pg_sessions_rekey(struct smd_txn *txn, const char *address,
					   const uint8_t keep[SMD_SESSION_HASH_BYTES],
					   const struct smimp_sign_pk *pk)
{
	const char *const sql[] = {SQL_SESSIONS_END, SQL_SESSION_REKEY};
	enum smd_store_rc rc = SMD_STORE_OK;

	for (size_t i = 0; rc == SMD_STORE_OK && i < 2; i++) {
		struct pgp p = {0};

		smd_pgp_text(&p, address);
		smd_pgp_blob(&p, keep, SMD_SESSION_HASH_BYTES);
		if (i == 1)
			smd_pgp_blob(&p, pk->b, sizeof pk->b);
		rc = smd_pg_do(txn->c, sql[i], &p, "sessions rekey", NULL);
	}
	return rc;
}

/* ---- avatars ---- */

static const char SQL_AVATAR_GET[] =
	"SELECT hash, signed_hash, mime FROM avatars WHERE account_id = $1";
static const char SQL_AVATAR_GET_IMAGE[] =
	"SELECT hash, signed_hash, mime, image FROM avatars WHERE account_id = $1";
static const char SQL_AVATAR_FILE[] =
	"SELECT hash, signed_hash, mime, image FROM avatars WHERE hash = $1 LIMIT 1";

static enum smd_store_rc avatar_read(struct smd_store *st, const char *sql,
				     int64_t account_id, const struct smimp_hash *hash,
				     bool with_image, struct smd_avatar *out)
{
	struct pgp p = {0};
	struct smd_row r;
	PGresult *res;
	enum smd_store_rc rc;

	if (hash != NULL)
		smd_pgp_blob(&p, hash->b, sizeof hash->b);
	else
		smd_pgp_int(&p, account_id);
	rc = smd_pg_read_row(st, sql, &p, "avatar", &res);
	if (rc == SMD_STORE_OK) {
		smd_pg_cols(res, 0, &r);
		rc = smd_row_avatar(&r, with_image, out);
	}
	PQclear(res);
	return rc;
}

static enum smd_store_rc pg_avatar_get(struct smd_store *st, int64_t account_id,
				       bool with_image, struct smd_avatar *out)
{
	return avatar_read(st, with_image ? SQL_AVATAR_GET_IMAGE : SQL_AVATAR_GET,
			   account_id, NULL, with_image, out);
}

static enum smd_store_rc pg_avatar_file(struct smd_store *st,
					const struct smimp_hash *hash,
					struct smd_avatar *out)
{
	return avatar_read(st, SQL_AVATAR_FILE, 0, hash, true, out);
}

static const char SQL_AVATAR_SET[] =
	"INSERT INTO avatars (account_id, hash, image, mime, signed_hash, updated_at)"
	" VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id) DO UPDATE SET"
	" hash = $2, image = $3, mime = $4, signed_hash = $5, updated_at = $6";

static enum smd_store_rc pg_avatar_set(struct smd_txn *txn, int64_t account_id,
				       const struct smd_avatar *a, int64_t now)
{
	struct pgp p = {0};

	smd_pgp_int(&p, account_id);
	smd_pgp_blob(&p, a->hash.b, sizeof a->hash.b);
	smd_pgp_blob(&p, a->image, a->image_len);
	smd_pgp_text(&p, a->mime);
	smd_pgp_blob(&p, a->signed_hash.b, sizeof a->signed_hash.b);
	smd_pgp_int(&p, now);
	return smd_pg_do(txn->c, SQL_AVATAR_SET, &p, "avatar set", NULL);
}

static const char SQL_AVATAR_DELETE[] = "DELETE FROM avatars WHERE account_id = $1";

static enum smd_store_rc pg_avatar_delete(struct smd_txn *txn, int64_t account_id)
{
	struct pgp p = {0};

	smd_pgp_int(&p, account_id);
	return smd_pg_do(txn->c, SQL_AVATAR_DELETE, &p, "avatar delete", NULL);
}

/* ---- remote pins ---- */

static const char SQL_PIN_GET[] =
	"SELECT first_signed_hash, first_public_key, latest_seq, latest_signed_hash,"
	" latest_public_key FROM remote_pins WHERE address = $1";

static enum smd_store_rc pg_pin_get(struct smd_store *st, const char *address,
				    struct smimp_pin *out)
{
	struct pgp p = {0};
	struct smd_row r;
	PGresult *res;
	enum smd_store_rc rc;

	smd_pgp_text(&p, address);
	rc = smd_pg_read_row(st, SQL_PIN_GET, &p, "pin get", &res);
	if (rc == SMD_STORE_OK) {
		smd_pg_cols(res, 0, &r);
		rc = smd_row_pin(&r, address, out);
	}
	PQclear(res);
	return rc;
}

static const char SQL_PIN_PUT[] =
	"INSERT INTO remote_pins (address, first_signed_hash, first_public_key,"
	" latest_seq, latest_signed_hash, latest_public_key, updated_at)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (address) DO UPDATE SET"
	" first_signed_hash = $2, first_public_key = $3, latest_seq = $4,"
	" latest_signed_hash = $5, latest_public_key = $6, updated_at = $7";

static enum smd_store_rc pg_pin_put(struct smd_txn *txn, const struct smimp_pin *pin,
				    int64_t now)
{
	struct pgp p = {0};

	smd_pgp_text(&p, pin->address);
	smd_pgp_blob(&p, pin->first_signed_hash.b, sizeof pin->first_signed_hash.b);
	smd_pgp_blob(&p, pin->first_public_key.b, sizeof pin->first_public_key.b);
	smd_pgp_int(&p, pin->latest_seq);
	smd_pgp_blob(&p, pin->latest_signed_hash.b, sizeof pin->latest_signed_hash.b);
	smd_pgp_blob(&p, pin->latest_public_key.b, sizeof pin->latest_public_key.b);
	smd_pgp_int(&p, now);
	return smd_pg_do(txn->c, SQL_PIN_PUT, &p, "pin put", NULL);
}

const struct smd_identity_store smd_pg_identity_ops = {
	.area = "identity",
	.latest_record = pg_latest_record,
	.history = pg_history,
	.token_get = pg_token_get,
	.session_get = pg_session_get,
	.nonephemeral_get = pg_nonephemeral_get,
	.ephemeral_list = pg_ephemeral_list,
	.avatar_get = pg_avatar_get,
	.avatar_file = pg_avatar_file,
	.pin_get = pg_pin_get,
	.txn_latest_record = pg_txn_latest_record,
	.txn_record_has_key = pg_txn_record_has_key,
	.record_add = pg_record_add,
	.key_binding = pg_key_binding,
	.key_bind = pg_key_bind,
	.account_initialize = pg_account_initialize,
	.init_failure = pg_init_failure,
	.nonephemeral_set = pg_nonephemeral_set,
	.ephemeral_replace = pg_ephemeral_replace,
	.msgkeys_drop_others = pg_msgkeys_drop_others,
	.token_add = pg_token_add,
	.token_use = pg_token_use,
	.session_add = pg_session_add,
	.session_destroy = pg_session_destroy,
	.sessions_rekey = pg_sessions_rekey,
	.avatar_set = pg_avatar_set,
	.avatar_delete = pg_avatar_delete,
	.pin_put = pg_pin_put,
};

/* The SQLite backend of the store (store.h): WAL, synchronous=FULL,
 * secure_delete, foreign keys, numbered migrations from sql/. One writer
 * connection behind a mutex runs every write transaction; a small pool of
 * reader connections serves reads concurrently (WAL readers never block the
 * writer). The only file that includes sqlite3.h. Input is trusted: callers
 * pass checked, normalized values, and every value is bound, never pasted. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrations.h"
#include "session.h"
#include "sqlite_conn.h"
#include "store.h"
#include "store_cache.h"
#include "store_identity.h"
#include "store_mail.h"

void smd_sq_log(sqlite3 *db, const char *what)
{
	fprintf(stderr, "smimpd: sqlite: %s: %s (%d)\n", what,
		db != NULL ? sqlite3_errmsg(db) : "no connection",
		db != NULL ? sqlite3_extended_errcode(db) : 0);
}

/* Maps a result of sqlite3_step and friends (not SQLITE_ROW/DONE). */
enum smd_store_rc smd_sq_rc(struct conn *c, int rc, const char *what)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return SMD_STORE_BUSY;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return SMD_STORE_CONFLICT;
		break;
	default:
		break;
	}
	smd_sq_log(c->db, what);
	return SMD_STORE_ERROR;
}

/* A prepared statement for sql (a static string), reset and unbound. NULL
 * (logged) when it does not prepare. */
sqlite3_stmt *smd_sq_prep(struct conn *c, const char *sql)
{
	sqlite3_stmt *s = NULL;

	for (int i = 0; i < c->n; i++) {
		if (c->cache[i].sql == sql) {
			s = c->cache[i].stmt;
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return s;
		}
	}
	if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
			       NULL) != SQLITE_OK) {
		smd_sq_log(c->db, "prepare");
		return NULL;
	}
	if (c->n < STMT_CACHE_MAX) {
		c->cache[c->n].sql = sql;
		c->cache[c->n].stmt = s;
		c->n++;
	} else {
		fputs("smimpd: sqlite: statement cache full\n", stderr);
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* Runs a statement that returns no row; binds nothing itself. */
enum smd_store_rc smd_sq_step_done(struct conn *c, sqlite3_stmt *s,
				   const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return SMD_STORE_OK;
	return smd_sq_rc(c, rc == SQLITE_ROW ? SQLITE_MISUSE : sqlite3_extended_errcode(c->db),
		      what);
}

/* Column col of s's row (of ncols) as a backend-neutral value
 * (store_rows.h). A number is read as a number only: asking for its bytes
 * would make SQLite format it as text (an allocation per column), and no
 * converter reads a number's bytes (PostgreSQL's are binary anyway). For
 * text and blobs the integer comes before the bytes: sqlite3_column_int64
 * leaves the value as it is, sqlite3_column_blob may convert it, and its
 * pointer stays valid as long as nothing converts it again. */
static struct smd_val sq_val(sqlite3_stmt *s, int col, int ncols)
{
	struct smd_val v = {.null = true};
	int type;

	if (col >= ncols || (type = sqlite3_column_type(s, col)) == SQLITE_NULL)
		return v;
	v.null = false;
	v.i = sqlite3_column_int64(s, col);
	if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
		v.p = "";
		return v;
	}
	v.p = sqlite3_column_blob(s, col);
	v.n = (size_t)sqlite3_column_bytes(s, col);
	if (v.p == NULL)
		v.p = "";   /* an empty blob */
	return v;
}

void smd_sq_cols(sqlite3_stmt *s, struct smd_row *out)
{
	int ncols = sqlite3_column_count(s);

	for (int i = 0; i < SMD_ROW_COLS; i++)
		out->col[i] = sq_val(s, i, ncols);
}

bool smd_col_blob(sqlite3_stmt *s, int col, void *out, size_t len)
{
	struct smd_val v = sq_val(s, col, sqlite3_column_count(s));

	return smd_val_blob(&v, out, len);
}

void smd_col_text(sqlite3_stmt *s, int col, char *out, size_t size)
{
	struct smd_val v = sq_val(s, col, sqlite3_column_count(s));

	smd_val_text(&v, out, size);
}

static enum smd_store_rc exec_sql(struct conn *c, const char *sql)
{
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return SMD_STORE_OK;
	return smd_sq_rc(c, sqlite3_extended_errcode(c->db), sql);
}

static void conn_close(struct conn *c)
{
	for (int i = 0; i < c->n; i++)
		sqlite3_finalize(c->cache[i].stmt);
	c->n = 0;
	if (c->db != NULL)
		sqlite3_close(c->db);
	c->db = NULL;
}

static enum smd_store_rc conn_open(struct conn *c, const char *path,
				   bool reader, struct smimp_error *err)
{
	static const char *const pragmas[] = {
		"PRAGMA synchronous = FULL",
		"PRAGMA secure_delete = ON",
		"PRAGMA foreign_keys = ON",
		"PRAGMA temp_store = MEMORY",
		/* Checkpoint every 8,192 WAL pages (32 MiB) rather than 1,000:
		 * the index and account pages every delivery touches are then
		 * copied into the database once per checkpoint, not 8 times;
		 * about 9 % less CPU per delivery in the bench. */
		"PRAGMA wal_autocheckpoint = 8192",
	};
	int rc;

	memset(c, 0, sizeof *c);
	rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		smimp_error_set(err, SMIMP_ERR_INTERNAL, "database %s: %s", path,
				c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		conn_close(c);
		return SMD_STORE_ERROR;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
	if (!reader) {
		sqlite3_stmt *s = NULL;
		bool wal = false;

		if (sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &s,
				       NULL) == SQLITE_OK &&
		    sqlite3_step(s) == SQLITE_ROW) {
			const unsigned char *mode = sqlite3_column_text(s, 0);

			wal = mode != NULL && strcmp((const char *)mode, "wal") == 0;
		}
		sqlite3_finalize(s);
		if (!wal) {
			smimp_error_set(err, SMIMP_ERR_INTERNAL,
					"database %s: cannot switch to WAL mode: %s",
					path, sqlite3_errmsg(c->db));
			conn_close(c);
			return SMD_STORE_ERROR;
		}
	}
	for (size_t i = 0; i < sizeof pragmas / sizeof pragmas[0]; i++) {
		if (sqlite3_exec(c->db, pragmas[i], NULL, NULL, NULL) != SQLITE_OK) {
			smimp_error_set(err, SMIMP_ERR_INTERNAL, "database %s: %s: %s",
					path, pragmas[i], sqlite3_errmsg(c->db));
			conn_close(c);
			return SMD_STORE_ERROR;
		}
	}
	if (reader && sqlite3_exec(c->db, "PRAGMA query_only = ON", NULL, NULL,
				   NULL) != SQLITE_OK) {
		smimp_error_set(err, SMIMP_ERR_INTERNAL, "database %s: %s", path,
				sqlite3_errmsg(c->db));
		conn_close(c);
		return SMD_STORE_ERROR;
	}
	return SMD_STORE_OK;
}

void smd_sq_caches_drop(struct smd_txn *txn)
{
	if (!txn->cached_changed)
		return;
	smd_cache_invalidate(txn->st->sessions);
	smd_cache_invalidate(txn->st->recipients);
	smd_cache_invalidate(txn->st->latest_keys);
}

static void sq_close(struct smd_store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < READERS; i++)
		conn_close(&st->readers[i]);
	/* Closing the last connection checkpoints the WAL into the database. */
	conn_close(&st->writer);
	pthread_mutex_destroy(&st->wlock);
	pthread_mutex_destroy(&st->rlock);
	pthread_cond_destroy(&st->rcond);
	smd_cache_free(st->sessions);
	smd_cache_free(st->recipients);
	smd_cache_free(st->latest_keys);
	free(st->path);
	free(st);
}

/* Before SQLite initializes: no global memory statistics, whose mutex
 * every allocation of every connection would take (a contended lock with
 * many handler threads). Too late (SQLITE_MISUSE) is harmless. */
static void sq_global_config(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static enum smd_store_rc sq_open(struct smd_store **out, const char *location,
				 struct smimp_error *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct smd_store *st;
	enum smd_store_rc rc;

	*out = NULL;
	pthread_once(&once, sq_global_config);
	if (sqlite3_threadsafe() == 0) {
		smimp_error_set(err, SMIMP_ERR_INTERNAL,
				"this SQLite library is built without thread support");
		return SMD_STORE_ERROR;
	}
	st = calloc(1, sizeof *st);
	if (st == NULL || (st->path = strdup(location)) == NULL ||
	    (st->sessions = smd_cache_new(sizeof(struct smd_session))) == NULL ||
	    (st->recipients = smd_cache_new(sizeof(struct smd_mail_recipient))) == NULL ||
	    (st->latest_keys = smd_cache_new(sizeof(struct smd_record_row))) == NULL) {
		if (st != NULL) {
			smd_cache_free(st->sessions);
			smd_cache_free(st->recipients);
			free(st->path);
		}
		free(st);
		smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
		return SMD_STORE_ERROR;
	}
	pthread_mutex_init(&st->wlock, NULL);
	pthread_mutex_init(&st->rlock, NULL);
	pthread_cond_init(&st->rcond, NULL);
	rc = conn_open(&st->writer, location, false, err);
	for (int i = 0; rc == SMD_STORE_OK && i < READERS; i++)
		rc = conn_open(&st->readers[i], location, true, err);
	if (rc != SMD_STORE_OK) {
		sq_close(st);
		return rc;
	}
	*out = st;
	return SMD_STORE_OK;
}

/* Borrowing a reader takes no lock: each thread first tries its own slot
 * (threads spread over the slots), then the others; only when all are
 * busy does it wait on rcond. */
static atomic_uint reader_hint_next;
static _Thread_local int reader_hint = -1;

static struct conn *reader_try(struct smd_store *st, int *slot)
{
	for (int k = 0; k < READERS; k++) {
		int i = (reader_hint + k) % READERS;

		if (!atomic_load_explicit(&st->reader_busy[i], memory_order_relaxed) &&
		    !atomic_exchange(&st->reader_busy[i], true)) {
			*slot = i;
			return &st->readers[i];
		}
	}
	return NULL;
}

struct conn *smd_sq_reader_get(struct smd_store *st, int *slot)
{
	struct conn *c;

	if (reader_hint < 0)
		reader_hint = (int)(atomic_fetch_add(&reader_hint_next, 1) % READERS);
	if ((c = reader_try(st, slot)) != NULL)
		return c;
	pthread_mutex_lock(&st->rlock);
	atomic_fetch_add(&st->reader_waiters, 1);
	while ((c = reader_try(st, slot)) == NULL)
		pthread_cond_wait(&st->rcond, &st->rlock);
	atomic_fetch_sub(&st->reader_waiters, 1);
	pthread_mutex_unlock(&st->rlock);
	return c;
}

void smd_sq_reader_put(struct smd_store *st, int slot)
{
	atomic_store(&st->reader_busy[slot], false);
	if (atomic_load(&st->reader_waiters) > 0) {
		pthread_mutex_lock(&st->rlock);
		pthread_cond_signal(&st->rcond);
		pthread_mutex_unlock(&st->rlock);
	}
}

/* ---- migrations ---- */

static const char SQL_VERSION_TABLE[] =
	"CREATE TABLE IF NOT EXISTS schema_version ("
	" version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	" applied_at INTEGER NOT NULL)";
static const char SQL_VERSION_GET[] =
	"SELECT coalesce(max(version), 0) FROM schema_version";
static const char SQL_VERSION_ADD[] =
	"INSERT INTO schema_version (version, name, applied_at)"
	" VALUES (?, ?, strftime('%s', 'now'))";

/* Applies the next pending migration, if any, in one transaction. *now gets
 * the version after it; *done is set when nothing was pending. */
static enum smd_store_rc migrate_one(struct smd_store *st, int *now, bool *done,
				     struct smimp_error *err)
{
	struct conn *c = &st->writer;
	sqlite3_stmt *s;
	enum smd_store_rc rc;
	int v, latest = (int)smd_migrations_count;

	*done = false;
	rc = exec_sql(c, "BEGIN IMMEDIATE");
	if (rc != SMD_STORE_OK)
		return rc;
	rc = exec_sql(c, SQL_VERSION_TABLE);
	if (rc != SMD_STORE_OK)
		goto fail;
	s = smd_sq_prep(c, SQL_VERSION_GET);
	if (s == NULL || sqlite3_step(s) != SQLITE_ROW) {
		rc = smd_sq_rc(c, sqlite3_extended_errcode(c->db), "schema version");
		goto fail;
	}
	v = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	*now = v;
	if (v > latest) {
		smimp_error_set(err, SMIMP_ERR_INTERNAL,
				"database %s has schema version %d, newer than this "
				"smimpd knows (%d)", st->path, v, latest);
		rc = SMD_STORE_ERROR;
		goto fail;
	}
	if (v == latest) {
		*done = true;
		return exec_sql(c, "COMMIT");
	}
	rc = exec_sql(c, smd_migrations[v].sql);
	if (rc != SMD_STORE_OK) {
		smimp_error_set(err, SMIMP_ERR_INTERNAL, "migration %s failed: %s",
				smd_migrations[v].name, sqlite3_errmsg(c->db));
		goto fail;
	}
	s = smd_sq_prep(c, SQL_VERSION_ADD);
	if (s == NULL) {
		rc = SMD_STORE_ERROR;
		goto fail;
	}
	sqlite3_bind_int(s, 1, smd_migrations[v].version);
	sqlite3_bind_text(s, 2, smd_migrations[v].name, -1, SQLITE_STATIC);
	rc = smd_sq_step_done(c, s, "schema version");
	if (rc != SMD_STORE_OK)
		goto fail;
	rc = exec_sql(c, "COMMIT");
	if (rc != SMD_STORE_OK)
		goto fail;
	*now = smd_migrations[v].version;
	return SMD_STORE_OK;
fail:
	sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static enum smd_store_rc sq_migrate(struct smd_store *st, int *from, int *to,
				    struct smimp_error *err)
{
	enum smd_store_rc rc = SMD_STORE_OK;
	bool done = false, first = true;
	int now = 0;

	pthread_mutex_lock(&st->wlock);
	while (!done) {
		rc = migrate_one(st, &now, &done, err);
		if (rc != SMD_STORE_OK)
			break;
		/* Versions go up by one per migration (embed_sql.cmake). */
		if (first && from != NULL)
			*from = done ? now : now - 1;
		first = false;
	}
	pthread_mutex_unlock(&st->wlock);
	if (rc == SMD_STORE_OK && to != NULL)
		*to = now;
	if (rc == SMD_STORE_BUSY)
		smimp_error_set(err, SMIMP_ERR_INTERNAL, "database %s is locked",
				st->path);
	else if (rc != SMD_STORE_OK && err->code == SMIMP_OK)
		smimp_error_set(err, SMIMP_ERR_INTERNAL, "database %s: migration failed",
				st->path);
	return rc;
}

/* ---- transactions ---- */

static enum smd_store_rc sq_write(struct smd_store *st, smd_store_write_fn fn,
				  void *arg)
{
	struct smd_txn txn = {st, &st->writer, false};
	enum smd_store_rc rc;

	pthread_mutex_lock(&st->wlock);
	rc = exec_sql(&st->writer, "BEGIN IMMEDIATE");
	if (rc == SMD_STORE_OK) {
		rc = fn(&txn, arg);
		if (rc == SMD_STORE_OK)
			rc = exec_sql(&st->writer, "COMMIT");
		if (rc != SMD_STORE_OK)
			sqlite3_exec(st->writer.db, "ROLLBACK", NULL, NULL, NULL);
	}
	smd_sq_caches_drop(&txn);
	pthread_mutex_unlock(&st->wlock);
	return rc;
}

/* ---- accounts ---- */

static void account_from_row(sqlite3_stmt *s, struct smd_account *a)
{
	struct smd_row r;

	smd_sq_cols(s, &r);
	smd_row_account(&r, a);
}

static const char SQL_ACCOUNT_GET[] =
	"SELECT " SMD_ACCOUNT_COLUMNS " FROM accounts WHERE address = ?";

static enum smd_store_rc sq_account_get(struct smd_store *st, const char *address,
					struct smd_account *out)
{
	int slot, rc;
	struct conn *c = smd_sq_reader_get(st, &slot);
	sqlite3_stmt *s = smd_sq_prep(c, SQL_ACCOUNT_GET);
	enum smd_store_rc ret;

	if (s == NULL) {
		smd_sq_reader_put(st, slot);
		return SMD_STORE_ERROR;
	}
	sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		account_from_row(s, out);
		ret = SMD_STORE_OK;
	} else if (rc == SQLITE_DONE) {
		ret = SMD_STORE_NOT_FOUND;
	} else {
		ret = smd_sq_rc(c, sqlite3_extended_errcode(c->db), "account get");
	}
	sqlite3_reset(s);
	smd_sq_reader_put(st, slot);
	return ret;
}

static const char SQL_ACCOUNT_LIST[] =
	"SELECT " SMD_ACCOUNT_COLUMNS " FROM accounts ORDER BY address";

static enum smd_store_rc sq_account_list(struct smd_store *st, smd_account_cb cb,
					 void *arg)
{
	int slot, rc;
	struct conn *c = smd_sq_reader_get(st, &slot);
	sqlite3_stmt *s = smd_sq_prep(c, SQL_ACCOUNT_LIST);
	enum smd_store_rc ret = SMD_STORE_OK;
	struct smd_account a;

	if (s == NULL) {
		smd_sq_reader_put(st, slot);
		return SMD_STORE_ERROR;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		account_from_row(s, &a);
		if (!cb(&a, arg))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = smd_sq_rc(c, sqlite3_extended_errcode(c->db), "account list");
	sqlite3_reset(s);
	smd_sq_reader_put(st, slot);
	return ret;
}

static const char SQL_ACCOUNT_ADD[] =
	"INSERT INTO accounts (address, domain, init_password_hash,"
	" init_password_expires, quota_limit, created_at) VALUES (?, ?, ?, ?, ?, ?)";

static enum smd_store_rc sq_account_add(struct smd_txn *txn,
					const struct smd_account_new *a)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_ACCOUNT_ADD);

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_text(s, 1, a->address, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, a->domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, a->pwhash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, a->expires_at);
	sqlite3_bind_int64(s, 5, a->quota_limit);
	sqlite3_bind_int64(s, 6, a->now);
	return smd_sq_step_done(txn->c, s, "account add");
}

/* Statements of account_remove, run in this order: the rows that refer to
 * the account by address rather than by key, then messages before folders
 * (folders may not disappear under messages), then the account, whose
 * remaining rows go by ON DELETE CASCADE. */
static const char SQL_RM_ID[] = "SELECT id FROM accounts WHERE address = ?";
static const char SQL_RM_SESSIONS[] = "DELETE FROM sessions WHERE address = ?1";
static const char SQL_RM_TOKENS[] = "DELETE FROM login_tokens WHERE address = ?1";
static const char SQL_RM_MESSAGES[] = "DELETE FROM messages WHERE account_id = ?2";
static const char SQL_RM_UNPARENT[] =
	"UPDATE folders SET parent_id = NULL WHERE account_id = ?2";
static const char SQL_RM_FOLDERS[] = "DELETE FROM folders WHERE account_id = ?2";
static const char SQL_RM_ACCOUNT[] = "DELETE FROM accounts WHERE id = ?2";

static enum smd_store_rc sq_account_remove(struct smd_txn *txn,
					   const char *address)
{
	static const char *const steps[] = {
		SQL_RM_SESSIONS, SQL_RM_TOKENS, SQL_RM_MESSAGES, SQL_RM_UNPARENT,
		SQL_RM_FOLDERS, SQL_RM_ACCOUNT,
	};
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_RM_ID);
	sqlite3_int64 id;
	int rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? SMD_STORE_NOT_FOUND :
			smd_sq_rc(txn->c, sqlite3_extended_errcode(txn->c->db), "account remove");
	}
	id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	txn->cached_changed = true;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		enum smd_store_rc r;

		s = smd_sq_prep(txn->c, steps[i]);
		if (s == NULL)
			return SMD_STORE_ERROR;
		if (sqlite3_bind_parameter_count(s) >= 1 &&
		    sqlite3_bind_parameter_index(s, "?1") > 0)
			sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
		if (sqlite3_bind_parameter_index(s, "?2") > 0)
			sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, "?2"), id);
		r = smd_sq_step_done(txn->c, s, "account remove");
		if (r != SMD_STORE_OK)
			return r;
	}
	return SMD_STORE_OK;
}

static const char SQL_ACCOUNT_QUOTA[] =
	"UPDATE accounts SET quota_limit = ? WHERE address = ?";

static enum smd_store_rc sq_account_set_quota(struct smd_txn *txn,
					      const char *address,
					      long long quota_limit)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_ACCOUNT_QUOTA);
	enum smd_store_rc rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	txn->cached_changed = true;
	sqlite3_bind_int64(s, 1, quota_limit);
	sqlite3_bind_text(s, 2, address, -1, SQLITE_STATIC);
	rc = smd_sq_step_done(txn->c, s, "account quota");
	if (rc == SMD_STORE_OK && sqlite3_changes(txn->c->db) == 0)
		rc = SMD_STORE_NOT_FOUND;
	return rc;
}

static const char SQL_SECRET_ADD[] =
	"INSERT INTO server_secrets (name, value) VALUES (?, ?)"
	" ON CONFLICT (name) DO NOTHING";
static const char SQL_SECRET_GET[] =
	"SELECT value FROM server_secrets WHERE name = ?";

static enum smd_store_rc sq_txn_secret(struct smd_txn *txn, const char *name,
				       const uint8_t *fresh, uint8_t *out,
				       size_t len)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_SECRET_ADD);
	enum smd_store_rc ret;
	int rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, fresh, (int)len, SQLITE_STATIC);
	if ((ret = smd_sq_step_done(txn->c, s, "secret add")) != SMD_STORE_OK)
		return ret;
	if ((s = smd_sq_prep(txn->c, SQL_SECRET_GET)) == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		ret = SMD_STORE_NOT_FOUND;
		if ((size_t)sqlite3_column_bytes(s, 0) == len) {
			memcpy(out, sqlite3_column_blob(s, 0), len);
			ret = SMD_STORE_OK;
		}
	} else if (rc == SQLITE_DONE) {
		ret = SMD_STORE_ERROR;   /* inserted above: cannot happen */
	} else {
		ret = smd_sq_rc(txn->c, sqlite3_extended_errcode(txn->c->db),
				"secret get");
	}
	sqlite3_reset(s);
	return ret;
}

static const char SQL_ACCOUNT_SECRET[] =
	"SELECT " SMD_ACCOUNT_COLUMNS ", init_password_hash, init_password_expires,"
	" init_failures, init_failed_at FROM accounts WHERE address = ?";

static enum smd_store_rc sq_txn_account_secret(struct smd_txn *txn,
					       const char *address,
					       struct smd_account *acct,
					       struct smd_account_secret *out)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_ACCOUNT_SECRET);
	enum smd_store_rc ret;
	int rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		struct smd_row r;

		smd_sq_cols(s, &r);
		smd_row_account_secret(&r, acct, out);
		ret = SMD_STORE_OK;
	} else if (rc == SQLITE_DONE) {
		ret = SMD_STORE_NOT_FOUND;
	} else {
		ret = smd_sq_rc(txn->c, sqlite3_extended_errcode(txn->c->db),
			     "account secret");
	}
	sqlite3_reset(s);
	return ret;
}

const struct smd_store_ops smd_store_sqlite_ops = {
	.scheme = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.migrate = sq_migrate,
	.write = sq_write,
	.account_get = sq_account_get,
	.account_list = sq_account_list,
	.account_add = sq_account_add,
	.account_remove = sq_account_remove,
	.account_set_quota = sq_account_set_quota,
	.txn_account_secret = sq_txn_account_secret,
	.txn_secret = sq_txn_secret,
	.identity = &smd_sqlite_identity_ops,
	.mail = &smd_sqlite_mail_ops,
};

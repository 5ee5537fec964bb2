/* The PostgreSQL backend of the store (store.h), selected by a database URL
 * "postgresql://..." or "postgres://..." (or "postgresql:" followed by libpq
 * key=value settings). Several smimpd processes may share one database: a
 * small pool of connections per process, statements prepared once per
 * connection, numbered migrations from sql/postgresql/ applied under an
 * advisory lock. smd_db_write transactions run SERIALIZABLE (the same
 * outcomes as SQLite's single writer; serialization failures come back as
 * SMD_STORE_BUSY and are retried); the mail area's grouped writes run READ
 * COMMITTED with row locks where they need them (store_pg_mail.c). The only
 * files that include libpq-fe.h are store_pg*.c. Input is trusted: callers
 * pass checked, normalized values, and every value is bound, never pasted.
 * Server error texts are logged, never returned to a client. */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrations.h"
#include "pg_conn.h"
#include "store.h"
#include "store_pg_rate.h"

/* The advisory lock key the migration runner holds ("smimp"). */
#define MIGRATION_LOCK "495874452848"

/* ---- parameters ---- */

static int slot_of(struct pgp *p)
{
	if (p->n >= PG_PARAMS_MAX) {
		fputs("smimpd: postgresql: too many parameters\n", stderr);
		abort();  /* a broken invariant of this program */
	}
	return p->n++;
}

void smd_pgp_textn(struct pgp *p, const char *s, size_t n)
{
	int i = slot_of(p);

	p->v[i] = s != NULL ? (n > 0 ? s : "") : NULL;
	p->len[i] = (int)n;
	p->fmt[i] = 1;   /* binary text is its bytes */
}

void smd_pgp_text(struct pgp *p, const char *s)
{
	smd_pgp_textn(p, s, s != NULL ? strlen(s) : 0);
}

void smd_pgp_blob(struct pgp *p, const void *b, size_t n)
{
	int i = slot_of(p);

	p->v[i] = n > 0 ? (const char *)b : "";
	p->len[i] = (int)n;
	p->fmt[i] = 1;
}

void smd_pgp_int(struct pgp *p, int64_t v)
{
	int i = slot_of(p);

	snprintf(p->num[i], sizeof p->num[i], "%lld", (long long)v);
	p->v[i] = p->num[i];
	p->len[i] = 0;
	p->fmt[i] = 0;
}

void smd_pgp_bool(struct pgp *p, bool v)
{
	int i = slot_of(p);

	p->v[i] = v ? "t" : "f";
	p->len[i] = 0;
	p->fmt[i] = 0;
}

void smd_pgp_null(struct pgp *p)
{
	int i = slot_of(p);

	p->v[i] = NULL;
	p->len[i] = 0;
	p->fmt[i] = 0;
}

/* ---- errors ---- */

/* The store answer for a failed result (or none) on c, logged when hard. */
static enum smd_store_rc fail_rc(struct pgconn *c, const PGresult *res,
				 const char *what)
{
	const char *state = res != NULL ?
		PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res != NULL ?
		PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (PQstatus(c->pg) != CONNECTION_OK) {
		fprintf(stderr, "smimpd: postgresql: %s: connection lost\n", what);
		return SMD_STORE_BUSY;
	}
	if (state != NULL) {
		if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
		    strcmp(state, "55P03") == 0 || strncmp(state, "08", 2) == 0 ||
		    strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
		    strcmp(state, "57P03") == 0)
			return SMD_STORE_BUSY;
		if (strcmp(state, "23505") == 0 || strcmp(state, "23503") == 0)
			return SMD_STORE_CONFLICT;
	}
	/* The primary message names constraints and types, never values. */
	fprintf(stderr, "smimpd: postgresql: %s: %.200s (%s)\n", what,
		msg != NULL ? msg : "no answer", state != NULL ? state : "-");
	return SMD_STORE_ERROR;
}

/* ---- statements ---- */

/* The name of sql's prepared statement on c, preparing it the first time;
 * false (with *rc) when it does not prepare. */
static bool prepared(struct pgconn *c, const char *sql, char name[16],
		     enum smd_store_rc *rc)
{
	PGresult *res;
	int i;

	for (i = 0; i < c->n; i++) {
		if (c->stmt[i] == sql) {
			snprintf(name, 16, "s%d", i);
			return true;
		}
	}
	if (c->n == PG_STMT_MAX) {
		fputs("smimpd: postgresql: statement cache full\n", stderr);
		*rc = SMD_STORE_ERROR;
		return false;
	}
	snprintf(name, 16, "s%d", i);
	res = PQprepare(c->pg, name, sql, 0, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		*rc = fail_rc(c, res, "prepare");
		PQclear(res);
		return false;
	}
	PQclear(res);
	c->stmt[c->n++] = sql;
	return true;
}

PGresult *smd_pg_run(struct pgconn *c, const char *sql, const struct pgp *p,
		     enum smd_store_rc *rc, const char *what)
{
	char name[16];
	PGresult *res;
	ExecStatusType s;

	*rc = SMD_STORE_OK;
	if (!prepared(c, sql, name, rc))
		return NULL;
	res = PQexecPrepared(c->pg, name, p != NULL ? p->n : 0,
			     p != NULL ? p->v : NULL, p != NULL ? p->len : NULL,
			     p != NULL ? p->fmt : NULL, 1);
	s = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
		return res;
	*rc = fail_rc(c, res, what);
	PQclear(res);
	return NULL;
}

enum smd_store_rc smd_pg_do(struct pgconn *c, const char *sql,
			    const struct pgp *p, const char *what, long *changes)
{
	enum smd_store_rc rc;
	PGresult *res = smd_pg_run(c, sql, p, &rc, what);

	if (res == NULL)
		return rc;
	if (changes != NULL)
		*changes = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return SMD_STORE_OK;
}

/* res (NULL: failed with *rc) as the answer of a single-row read. */
static enum smd_store_rc first_row(PGresult *res, const enum smd_store_rc *rc,
				   PGresult **out)
{
	*out = NULL;
	if (res == NULL)
		return *rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return SMD_STORE_NOT_FOUND;
	}
	*out = res;
	return SMD_STORE_OK;
}

enum smd_store_rc smd_pg_row(struct pgconn *c, const char *sql,
			     const struct pgp *p, const char *what,
			     PGresult **out)
{
	enum smd_store_rc rc = SMD_STORE_OK;

	return first_row(smd_pg_run(c, sql, p, &rc, what), &rc, out);
}

PGresult *smd_pg_read(struct smd_store *st, const char *sql, const struct pgp *p,
		      enum smd_store_rc *rc, const char *what)
{
	int slot;
	struct pgconn *c = smd_pg_get(st, &slot);
	PGresult *res;

	if (c == NULL) {
		*rc = SMD_STORE_BUSY;
		return NULL;
	}
	res = smd_pg_run(c, sql, p, rc, what);
	smd_pg_put(st, slot);
	return res;
}

enum smd_store_rc smd_pg_read_row(struct smd_store *st, const char *sql,
				  const struct pgp *p, const char *what,
				  PGresult **out)
{
	enum smd_store_rc rc = SMD_STORE_OK;

	return first_row(smd_pg_read(st, sql, p, &rc, what), &rc, out);
}

/* A simple statement (no parameters, not prepared). */
static enum smd_store_rc exec_simple(struct pgconn *c, const char *sql,
				     const char *what)
{
	PGresult *res = PQexec(c->pg, sql);
	enum smd_store_rc rc = SMD_STORE_OK;
	ExecStatusType s = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
		rc = fail_rc(c, res, what);
	PQclear(res);
	return rc;
}

/* ---- result columns (binary format) ---- */

bool smd_pg_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) != 0;
}

int64_t smd_pg_int(const PGresult *r, int row, int col)
{
	const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);
	int n = PQgetlength(r, row, col);
	uint64_t v = 0;

	if (PQgetisnull(r, row, col) || (n != 1 && n != 2 && n != 4 && n != 8))
		return 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	if (n == 1)
		return (int64_t)v;
	if (n == 2)
		return (int16_t)(uint16_t)v;
	if (n == 4)
		return (int32_t)(uint32_t)v;
	return (int64_t)v;
}

/* Column col of row as a backend-neutral value (store_rows.h). */
static struct smd_val pg_val(const PGresult *r, int row, int col)
{
	struct smd_val v = {.null = true};

	if (col >= PQnfields(r) || PQgetisnull(r, row, col))
		return v;
	v.null = false;
	v.p = PQgetvalue(r, row, col);
	v.n = (size_t)PQgetlength(r, row, col);
	v.i = smd_pg_int(r, row, col);
	return v;
}

void smd_pg_cols(const PGresult *r, int row, struct smd_row *out)
{
	for (int i = 0; i < SMD_ROW_COLS; i++)
		out->col[i] = pg_val(r, row, i);
}

bool smd_pg_blob(const PGresult *r, int row, int col, void *out, size_t n)
{
	struct smd_val v = pg_val(r, row, col);

	return smd_val_blob(&v, out, n);
}

void smd_pg_text(const PGresult *r, int row, int col, char *out, size_t size)
{
	struct smd_val v = pg_val(r, row, col);

	smd_val_text(&v, out, size);
}

uint8_t *smd_pg_dup(const PGresult *r, int row, int col, size_t *len)
{
	struct smd_val v = pg_val(r, row, col);

	return smd_val_dup(&v, len);
}

/* ---- connections ---- */

static void quiet_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static void conn_close(struct pgconn *c)
{
	if (c->pg != NULL)
		PQfinish(c->pg);
	c->pg = NULL;
	c->n = 0;
}

/* Connects c; on failure the reason goes to err (when not NULL) or the
 * log. */
static bool conn_open(struct smd_store *st, struct pgconn *c,
		      struct smimp_error *err)
{
	static const char *const keys[] = {
		"application_name", "connect_timeout", "dbname", NULL,
	};
	const char *vals[] = {"smimpd", "10", st->conninfo, NULL};

	conn_close(c);
	c->pg = PQconnectdbParams(keys, vals, 1);
	if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
		const char *m = c->pg != NULL ? PQerrorMessage(c->pg) : "out of memory";
		size_t n = strcspn(m, "\n");

		if (err != NULL)
			smimp_error_set(err, SMIMP_ERR_INTERNAL,
					"database: cannot connect: %.*s", (int)n, m);
		else
			fprintf(stderr, "smimpd: postgresql: cannot connect: %.*s\n",
				(int)(n > 200 ? 200 : n), m);
		conn_close(c);
		return false;
	}
	PQsetNoticeProcessor(c->pg, quiet_notices, NULL);
	return true;
}

struct pgconn *smd_pg_get(struct smd_store *st, int *slot)
{
	struct pgconn *c;
	int i;

	pthread_mutex_lock(&st->mu);
	for (;;) {
		for (i = 0; i < PG_POOL && st->busy[i]; i++)
			;
		if (i < PG_POOL)
			break;
		pthread_cond_wait(&st->cv, &st->mu);
	}
	st->busy[i] = true;
	pthread_mutex_unlock(&st->mu);
	*slot = i;
	c = &st->conns[i];
	if (c->pg != NULL && PQstatus(c->pg) == CONNECTION_OK &&
	    PQtransactionStatus(c->pg) != PQTRANS_IDLE)
		exec_simple(c, "ROLLBACK", "rollback");  /* left by an error */
	if ((c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) &&
	    !conn_open(st, c, NULL)) {
		smd_pg_put(st, i);
		return NULL;
	}
	return c;
}

void smd_pg_put(struct smd_store *st, int slot)
{
	pthread_mutex_lock(&st->mu);
	st->busy[slot] = false;
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mu);
}

static void pg_close(struct smd_store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < PG_POOL; i++)
		conn_close(&st->conns[i]);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->cv);
	free(st->conninfo);
	free(st);
}

/* location is what follows "postgresql:" or "postgres:": "//..." is a URL,
 * anything else libpq key=value settings. */
static enum smd_store_rc pg_open(struct smd_store **out, const char *location,
				 struct smimp_error *err)
{
	struct smd_store *st;
	size_t n = strlen(location) + sizeof "postgresql:";

	*out = NULL;
	if (PQisthreadsafe() == 0) {
		smimp_error_set(err, SMIMP_ERR_INTERNAL,
				"this libpq is built without thread support");
		return SMD_STORE_ERROR;
	}
	st = calloc(1, sizeof *st);
	if (st == NULL || (st->conninfo = malloc(n)) == NULL) {
		free(st);
		smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
		return SMD_STORE_ERROR;
	}
	snprintf(st->conninfo, n, "%s%s",
		 strncmp(location, "//", 2) == 0 ? "postgresql:" : "", location);
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->cv, NULL);
	/* One connection now, so a wrong URL fails at start-up. */
	if (!conn_open(st, &st->conns[0], err)) {
		pg_close(st);
		return SMD_STORE_ERROR;
	}
	*out = st;
	return SMD_STORE_OK;
}

/* ---- migrations ---- */

static const char SQL_VERSION_TABLE[] =
	"CREATE TABLE IF NOT EXISTS schema_version ("
	" version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	" applied_at BIGINT NOT NULL)";
static const char SQL_VERSION_GET[] =
	"SELECT coalesce(max(version), 0) FROM schema_version";
static const char SQL_VERSION_ADD[] =
	"INSERT INTO schema_version (version, name, applied_at)"
	" VALUES ($1, $2, extract(epoch FROM now())::bigint)";

/* Applies the next pending migration, if any, in one transaction. */
static enum smd_store_rc migrate_one(struct pgconn *c, int *now, bool *done,
				     struct smimp_error *err)
{
	int latest = (int)smd_pg_migrations_count, v;
	enum smd_store_rc rc;
	struct pgp p = {0};
	PGresult *res;

	*done = false;
	rc = exec_simple(c, "BEGIN", "begin");
	if (rc != SMD_STORE_OK)
		return rc;
	res = smd_pg_run(c, SQL_VERSION_GET, NULL, &rc, "schema version");
	if (res == NULL)
		goto fail;
	v = (int)smd_pg_int(res, 0, 0);
	PQclear(res);
	*now = v;
	if (v > latest) {
		smimp_error_set(err, SMIMP_ERR_INTERNAL,
				"database has schema version %d, newer than this "
				"smimpd knows (%d)", v, latest);
		rc = SMD_STORE_ERROR;
		goto fail;
	}
	if (v == latest) {
		*done = true;
		return exec_simple(c, "COMMIT", "commit");
	}
	res = PQexec(c->pg, smd_pg_migrations[v].sql);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		const char *m = res != NULL ?
			PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

		smimp_error_set(err, SMIMP_ERR_INTERNAL, "migration postgresql/%s failed: %s",
				smd_pg_migrations[v].name, m != NULL ? m : "no answer");
		rc = fail_rc(c, res, "migration");
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	smd_pgp_int(&p, smd_pg_migrations[v].version);
	smd_pgp_text(&p, smd_pg_migrations[v].name);
	rc = smd_pg_do(c, SQL_VERSION_ADD, &p, "schema version", NULL);
	if (rc != SMD_STORE_OK)
		goto fail;
	rc = exec_simple(c, "COMMIT", "commit");
	if (rc == SMD_STORE_OK)
		*now = smd_pg_migrations[v].version;
	return rc;
fail:
	exec_simple(c, "ROLLBACK", "rollback");
	return rc;
}

static enum smd_store_rc pg_migrate(struct smd_store *st, int *from, int *to,
				    struct smimp_error *err)
{
	enum smd_store_rc rc;
	bool done = false, first = true;
	int now = 0, slot;
	struct pgconn *c = smd_pg_get(st, &slot);

	if (c == NULL)
		return SMD_STORE_BUSY;
	/* Nodes starting together take turns; the second finds it done. */
	rc = exec_simple(c, "SELECT pg_advisory_lock(" MIGRATION_LOCK ")",
			 "migration lock");
	if (rc == SMD_STORE_OK)
		rc = exec_simple(c, SQL_VERSION_TABLE, "schema version table");
	while (rc == SMD_STORE_OK && !done) {
		rc = migrate_one(c, &now, &done, err);
		if (rc != SMD_STORE_OK)
			break;
		/* Versions go up by one per migration (embed_sql.cmake). */
		if (first && from != NULL)
			*from = done ? now : now - 1;
		first = false;
	}
	exec_simple(c, "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")",
		    "migration unlock");
	smd_pg_put(st, slot);
	if (rc == SMD_STORE_OK && to != NULL)
		*to = now;
	if (rc != SMD_STORE_OK && rc != SMD_STORE_BUSY && err->code == SMIMP_OK)
		smimp_error_set(err, SMIMP_ERR_INTERNAL, "database: migration failed");
	if (rc == SMD_STORE_BUSY && err->code == SMIMP_OK)
		smimp_error_set(err, SMIMP_ERR_INTERNAL, "database is busy or unreachable");
	return rc;
}

/* ---- transactions ---- */

enum smd_store_rc smd_pg_write(struct smd_store *st, const char *isolation,
			       smd_store_write_fn fn, void *arg)
{
	int slot;
	struct pgconn *c = smd_pg_get(st, &slot);
	struct smd_txn txn = {st, c};
	enum smd_store_rc rc;

	if (c == NULL)
		return SMD_STORE_BUSY;
	rc = exec_simple(c, isolation, "begin");
	if (rc == SMD_STORE_OK) {
		rc = fn(&txn, arg);
		if (rc == SMD_STORE_OK) {
			PGresult *res = PQexec(c->pg, "COMMIT");

			if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
				rc = fail_rc(c, res, "commit");
			else if (strcmp(PQcmdStatus(res), "COMMIT") != 0)
				rc = fail_rc(c, res, "commit of a failed transaction");
			PQclear(res);
		} else if (PQstatus(c->pg) == CONNECTION_OK) {
			exec_simple(c, "ROLLBACK", "rollback");
		}
	}
	smd_pg_put(st, slot);
	return rc;
}

static enum smd_store_rc pg_write(struct smd_store *st, smd_store_write_fn fn,
				  void *arg)
{
	return smd_pg_write(st, "BEGIN ISOLATION LEVEL SERIALIZABLE", fn, arg);
}

/* ---- accounts ---- */

static const char SQL_ACCOUNT_GET[] =
	"SELECT " SMD_ACCOUNT_COLUMNS " FROM accounts WHERE address = $1";

static enum smd_store_rc pg_account_get(struct smd_store *st, const char *address,
					struct smd_account *out)
{
	int slot;
	struct pgconn *c = smd_pg_get(st, &slot);
	struct pgp p = {0};
	struct smd_row r;
	PGresult *res;
	enum smd_store_rc rc;

	if (c == NULL)
		return SMD_STORE_BUSY;
	smd_pgp_text(&p, address);
	rc = smd_pg_row(c, SQL_ACCOUNT_GET, &p, "account get", &res);
	if (rc == SMD_STORE_OK) {
		smd_pg_cols(res, 0, &r);
		smd_row_account(&r, out);
	}
	PQclear(res);
	smd_pg_put(st, slot);
	return rc;
}

static const char SQL_ACCOUNT_LIST[] =
	"SELECT " SMD_ACCOUNT_COLUMNS " FROM accounts ORDER BY address";

static enum smd_store_rc pg_account_list(struct smd_store *st, smd_account_cb cb,
					 void *arg)
{
	int slot;
	struct pgconn *c = smd_pg_get(st, &slot);
	enum smd_store_rc rc;
	PGresult *res;

	if (c == NULL)
		return SMD_STORE_BUSY;
	res = smd_pg_run(c, SQL_ACCOUNT_LIST, NULL, &rc, "account list");
	smd_pg_put(st, slot);
	if (res == NULL)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		struct smd_account a;
		struct smd_row r;

		smd_pg_cols(res, i, &r);
		smd_row_account(&r, &a);
		if (!cb(&a, arg))
			break;
	}
	PQclear(res);
	return SMD_STORE_OK;
}

static const char SQL_ACCOUNT_ADD[] =
	"INSERT INTO accounts (address, domain, init_password_hash,"
	" init_password_expires, quota_limit, created_at)"
	" VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (address) DO NOTHING";

static enum smd_store_rc pg_account_add(struct smd_txn *txn,
					const struct smd_account_new *a)
{
	struct pgp p = {0};
	long n = 0;
	enum smd_store_rc rc;

	smd_pgp_text(&p, a->address);
	smd_pgp_text(&p, a->domain);
	smd_pgp_text(&p, a->pwhash);
	smd_pgp_int(&p, a->expires_at);
	smd_pgp_int(&p, a->quota_limit);
	smd_pgp_int(&p, a->now);
	rc = smd_pg_do(txn->c, SQL_ACCOUNT_ADD, &p, "account add", &n);
	if (rc == SMD_STORE_OK && n == 0)
		rc = SMD_STORE_CONFLICT;
	return rc;
}

/* As in the SQLite store: rows that refer to the account by address, then
 * messages before folders, then the account (the rest by ON DELETE
 * CASCADE). PostgreSQL has no secure_delete: deleted bytes stay in the
 * table files until VACUUM reuses the space (docs/DEPLOYMENT.md). */
static const char SQL_RM_ID[] = "SELECT id FROM accounts WHERE address = $1 FOR UPDATE";
static const char SQL_RM_SESSIONS[] = "DELETE FROM sessions WHERE address = $1";
static const char SQL_RM_TOKENS[] = "DELETE FROM login_tokens WHERE address = $1";
static const char SQL_RM_MESSAGES[] = "DELETE FROM messages WHERE account_id = $1";
static const char SQL_RM_UNPARENT[] =
	"UPDATE folders SET parent_id = NULL WHERE account_id = $1";
static const char SQL_RM_FOLDERS[] = "DELETE FROM folders WHERE account_id = $1";
static const char SQL_RM_ACCOUNT[] = "DELETE FROM accounts WHERE id = $1";

static enum smd_store_rc pg_account_remove(struct smd_txn *txn,
					   const char *address)
{
	static const char *const by_address[] = {SQL_RM_SESSIONS, SQL_RM_TOKENS};
	static const char *const by_id[] = {
		SQL_RM_MESSAGES, SQL_RM_UNPARENT, SQL_RM_FOLDERS, SQL_RM_ACCOUNT,
	};
	struct pgp p = {0};
	PGresult *res;
	int64_t id;
	enum smd_store_rc rc;

	smd_pgp_text(&p, address);
	rc = smd_pg_row(txn->c, SQL_RM_ID, &p, "account remove", &res);
	if (rc != SMD_STORE_OK)
		return rc;
	id = smd_pg_int(res, 0, 0);
	PQclear(res);
	for (size_t i = 0; rc == SMD_STORE_OK && i < 2; i++)
		rc = smd_pg_do(txn->c, by_address[i], &p, "account remove", NULL);
	p.n = 0;
	smd_pgp_int(&p, id);
	for (size_t i = 0; rc == SMD_STORE_OK && i < 4; i++)
		rc = smd_pg_do(txn->c, by_id[i], &p, "account remove", NULL);
	return rc;
}

static const char SQL_ACCOUNT_QUOTA[] =
	"UPDATE accounts SET quota_limit = $1 WHERE address = $2";

static enum smd_store_rc pg_account_set_quota(struct smd_txn *txn,
					      const char *address,
					      long long quota_limit)
{
	struct pgp p = {0};
	long n = 0;
	enum smd_store_rc rc;

	smd_pgp_int(&p, quota_limit);
	smd_pgp_text(&p, address);
	rc = smd_pg_do(txn->c, SQL_ACCOUNT_QUOTA, &p, "account quota", &n);
	if (rc == SMD_STORE_OK && n == 0)
		rc = SMD_STORE_NOT_FOUND;
	return rc;
}

/* Two nodes starting at once: the second one's INSERT fails to serialize
 * (BUSY), smd_db_write runs it again, and then it reads the first one's. */
static const char SQL_SECRET_ADD[] =
	"INSERT INTO server_secrets (name, value) VALUES ($1, $2)"
	" ON CONFLICT (name) DO NOTHING";
static const char SQL_SECRET_GET[] =
	"SELECT value FROM server_secrets WHERE name = $1";

static enum smd_store_rc pg_txn_secret(struct smd_txn *txn, const char *name,
				       const uint8_t *fresh, uint8_t *out,
				       size_t len)
{
	struct pgp p = {0};
	PGresult *res;
	enum smd_store_rc rc;

	smd_pgp_text(&p, name);
	smd_pgp_blob(&p, fresh, len);
	rc = smd_pg_do(txn->c, SQL_SECRET_ADD, &p, "secret add", NULL);
	if (rc != SMD_STORE_OK)
		return rc;
	p.n = 1;
	rc = smd_pg_row(txn->c, SQL_SECRET_GET, &p, "secret get", &res);
	if (rc != SMD_STORE_OK)
		return rc;
	if (!smd_pg_blob(res, 0, 0, out, len))
		rc = SMD_STORE_NOT_FOUND;
	PQclear(res);
	return rc;
}

/* FOR UPDATE: two initializations of one account take turns, the second
 * sees what the first did (as with SQLite's single writer). */
static const char SQL_ACCOUNT_SECRET[] =
	"SELECT " SMD_ACCOUNT_COLUMNS ", init_password_hash, init_password_expires,"
	" init_failures, init_failed_at FROM accounts WHERE address = $1"
	" FOR NO KEY UPDATE";

static enum smd_store_rc pg_txn_account_secret(struct smd_txn *txn,
					       const char *address,
					       struct smd_account *acct,
					       struct smd_account_secret *out)
{
	struct pgp p = {0};
	struct smd_row r;
	PGresult *res;
	enum smd_store_rc rc;

	smd_pgp_text(&p, address);
	rc = smd_pg_row(txn->c, SQL_ACCOUNT_SECRET, &p, "account secret", &res);
	if (rc != SMD_STORE_OK)
		return rc;
	smd_pg_cols(res, 0, &r);
	smd_row_account_secret(&r, acct, out);
	PQclear(res);
	return SMD_STORE_OK;
}

#define PG_OPS(name, prefix)                                    \
	const struct smd_store_ops name = {                     \
		.scheme = prefix,                               \
		.open = pg_open,                                \
		.close = pg_close,                              \
		.migrate = pg_migrate,                          \
		.write = pg_write,                              \
		.account_get = pg_account_get,                  \
		.account_list = pg_account_list,                \
		.account_add = pg_account_add,                  \
		.account_remove = pg_account_remove,            \
		.account_set_quota = pg_account_set_quota,      \
		.txn_account_secret = pg_txn_account_secret,    \
		.txn_secret = pg_txn_secret,                    \
		.rate_take = smd_pg_rate_take,                  \
		.identity = &smd_pg_identity_ops,               \
		.mail = &smd_pg_mail_ops,                       \
	}

PG_OPS(smd_store_pg_ops, "postgresql");
PG_OPS(smd_store_postgres_ops, "postgres");

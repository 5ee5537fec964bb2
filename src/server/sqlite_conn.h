/* What the SQLite store files share (store_sqlite.c and one
 * store_sqlite_<area>.c per area of the store): connections with their
 * statement caches, the store and transaction structs, and the helpers that
 * prepare, step and map errors. Only store_sqlite*.c include it. */
#ifndef SMD_SQLITE_CONN_H
#define SMD_SQLITE_CONN_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "store.h"
#include "store_identity.h"
#include "store_mail.h"
#include "store_rows.h"

#define STMT_CACHE_MAX 256
#define READERS 16
#define BUSY_TIMEOUT_MS 5000

struct conn {
	sqlite3 *db;
	struct {
		const char *sql;        /* identity of a static SQL string */
		sqlite3_stmt *stmt;
	} cache[STMT_CACHE_MAX];
	int n;
};

struct smd_store {
	char *path;
	pthread_mutex_t wlock;          /* guards writer */
	struct conn writer;
	pthread_mutex_t rlock;          /* with rcond: waiting for a reader */
	pthread_cond_t rcond;
	atomic_int reader_waiters;      /* callers waiting on rcond */
	struct conn readers[READERS];
	atomic_bool reader_busy[READERS];
	/* Rows read on nearly every request (store_cache.h): live sessions
	 * by session hash; recipients and the keys of latest records (no
	 * data) by a hash of the address. */
	struct smd_cache *sessions, *recipients, *latest_keys;
};

struct smd_txn {
	struct smd_store *st;
	struct conn *c;
	/* Set by a write that changes a cached row (sessions; accounts,
	 * histories and lists of recipients): the caches are dropped after the
	 * transaction, before its callers answer (smd_sq_caches_drop). */
	bool cached_changed;
};

/* Drops what the read caches hold, when txn changed any of it. */
void smd_sq_caches_drop(struct smd_txn *txn);

/* Logs the connection's last error with what was being done. */
void smd_sq_log(sqlite3 *db, const char *what);
/* Maps an SQLite result code (not ROW/DONE) to a store answer; logs hard
 * errors. */
enum smd_store_rc smd_sq_rc(struct conn *c, int rc, const char *what);
/* A cached prepared statement for sql (a static string: the pointer is the
 * cache key), reset and unbound; NULL (logged) when it does not prepare. */
sqlite3_stmt *smd_sq_prep(struct conn *c, const char *sql);
/* Steps a statement that returns no row and resets it. */
enum smd_store_rc smd_sq_step_done(struct conn *c, sqlite3_stmt *s,
				   const char *what);
/* Every column of s's current row, for the converters of store_rows.h. */
void smd_sq_cols(sqlite3_stmt *s, struct smd_row *out);
/* Copies a BLOB column of exactly len bytes; false otherwise. */
bool smd_col_blob(sqlite3_stmt *s, int col, void *out, size_t len);
/* Copies a TEXT column into out[0..size) (cut, NUL-terminated). */
void smd_col_text(sqlite3_stmt *s, int col, char *out, size_t size);
/* Borrows a reader connection (blocks while all are busy); give it back
 * with smd_sq_reader_put. */
struct conn *smd_sq_reader_get(struct smd_store *st, int *slot);
void smd_sq_reader_put(struct smd_store *st, int slot);

/* The area tables of this backend. */
extern const struct smd_identity_store smd_sqlite_identity_ops;
extern const struct smd_mail_store smd_sqlite_mail_ops;

#endif

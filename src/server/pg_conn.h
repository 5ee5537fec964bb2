/* What the PostgreSQL store files share (store_pg.c and one store_pg_<area>.c
 * per area of the store): the connection pool, per-connection prepared
 * statements, parameter lists, result readers and the mapping of errors to
 * store answers. Only store_pg*.c include it (and libpq-fe.h through it). */
#ifndef SMD_PG_CONN_H
#define SMD_PG_CONN_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrations.h"
#include "store.h"
#include "store_identity.h"
#include "store_mail.h"
#include "store_rows.h"

#define PG_POOL 16          /* connections per process, opened on first use */
#define PG_STMT_MAX 256     /* prepared statements per connection */
#define PG_PARAMS_MAX 24

/* One connection and the statements prepared on it (by the address of
 * their static SQL text; the name is "s" and the index). */
struct pgconn {
	PGconn *pg;
	const char *stmt[PG_STMT_MAX];
	int n;
};

struct smd_store {
	char *conninfo;            /* the libpq URL */
	pthread_mutex_t mu;        /* guards busy */
	pthread_cond_t cv;
	struct pgconn conns[PG_POOL];
	bool busy[PG_POOL];
};

struct smd_txn {
	struct smd_store *st;
	struct pgconn *c;
};

/* Parameters of one statement. Strings and blobs are sent in binary format
 * with their length (not copied: they must live until the call); numbers
 * and flags as text (copied). */
struct pgp {
	int n;
	const char *v[PG_PARAMS_MAX];
	int len[PG_PARAMS_MAX];
	int fmt[PG_PARAMS_MAX];
	char num[PG_PARAMS_MAX][24];
};

void smd_pgp_text(struct pgp *p, const char *s);          /* NULL: SQL NULL */
void smd_pgp_textn(struct pgp *p, const char *s, size_t n);
void smd_pgp_blob(struct pgp *p, const void *b, size_t n); /* "" when n = 0 */
void smd_pgp_int(struct pgp *p, int64_t v);
void smd_pgp_bool(struct pgp *p, bool v);
void smd_pgp_null(struct pgp *p);

/* Runs the static statement sql (prepared once per connection) with p
 * (NULL: none), results in binary format. The result (PQclear it) when the
 * statement succeeded, else NULL and *rc says why: BUSY for serialization
 * failures, deadlocks and lost connections, CONFLICT for unique and foreign
 * key violations, ERROR otherwise (logged with what, without values). */
PGresult *smd_pg_run(struct pgconn *c, const char *sql, const struct pgp *p,
		     enum smd_store_rc *rc, const char *what);
/* smd_pg_run for a statement whose rows do not matter; *changes (when not
 * NULL) gets the number of rows it touched. */
enum smd_store_rc smd_pg_do(struct pgconn *c, const char *sql,
			    const struct pgp *p, const char *what, long *changes);
/* The single row of sql: OK with *res (PQclear it), NOT_FOUND when no row,
 * or an error. */
enum smd_store_rc smd_pg_row(struct pgconn *c, const char *sql,
			     const struct pgp *p, const char *what,
			     PGresult **res);

/* Reads on a borrowed pool connection (given back before returning: the
 * result holds every row). smd_pg_read: the rows of sql (PQclear them) or
 * NULL with *rc; smd_pg_read_row: like smd_pg_row. */
PGresult *smd_pg_read(struct smd_store *st, const char *sql, const struct pgp *p,
		      enum smd_store_rc *rc, const char *what);
enum smd_store_rc smd_pg_read_row(struct smd_store *st, const char *sql,
				  const struct pgp *p, const char *what,
				  PGresult **res);

/* Readers of binary result columns. */
bool smd_pg_null(const PGresult *r, int row, int col);
int64_t smd_pg_int(const PGresult *r, int row, int col);  /* int2/4/8, bool */
/* Copies a column of exactly n bytes; false otherwise (or NULL). */
bool smd_pg_blob(const PGresult *r, int row, int col, void *out, size_t n);
/* Copies a text column into out[0..size) (cut, NUL-terminated). */
void smd_pg_text(const PGresult *r, int row, int col, char *out, size_t size);
/* A malloc'ed copy of a column with a NUL after it (never NULL on success). */
uint8_t *smd_pg_dup(const PGresult *r, int row, int col, size_t *len);
/* Every column of row, for the converters of store_rows.h. */
void smd_pg_cols(const PGresult *r, int row, struct smd_row *out);

/* Borrows a connected pool connection (blocks while all are busy;
 * reconnects a broken one); NULL (logged, slot given back) when the server
 * cannot be reached. Give it back with smd_pg_put. */
struct pgconn *smd_pg_get(struct smd_store *st, int *slot);
void smd_pg_put(struct smd_store *st, int slot);

/* Runs fn in a transaction of the given isolation ("SERIALIZABLE" or
 * "READ COMMITTED"): COMMIT when fn answers OK, else ROLLBACK. */
enum smd_store_rc smd_pg_write(struct smd_store *st, const char *isolation,
			       smd_store_write_fn fn, void *arg);

/* Shared by the mail area files (store_pg_mail.c, store_pg_mailbox.c). */
/* The id of the account at address inside txn, its row locked until the
 * end of the transaction: the mail writes of one account take turns, as
 * with SQLite's single writer, while other accounts' proceed. */
enum smd_store_rc smd_pgm_account_lock(struct smd_txn *txn, const char *address,
				       int64_t *id);
enum smd_store_rc smd_pgm_message_get(struct smd_store *st, const char *owner,
				      const struct smimp_hash *id,
				      struct smimp_stored_envelope *out);
enum smd_store_rc smd_pgm_message_list(struct smd_store *st, const char *owner,
				       const char *message_type,
				       const char *folder,
				       const struct smd_cursor *after,
				       unsigned limit, smd_meta_cb cb, void *arg);
enum smd_store_rc smd_pgm_message_delete(struct smd_txn *txn, const char *owner,
					 const struct smimp_hash *id);
enum smd_store_rc smd_pgm_message_set_read(struct smd_txn *txn, const char *owner,
					   const struct smimp_hash *id, bool read);
enum smd_store_rc smd_pgm_message_move(struct smd_txn *txn, const char *owner,
				       const struct smimp_hash *id,
				       const char *folder);
enum smd_store_rc smd_pgm_message_set_extensions(struct smd_txn *txn,
						 const char *owner,
						 const struct smimp_hash *id,
						 const uint8_t *data, size_t len,
						 bool null);
enum smd_store_rc smd_pgm_folder_list(struct smd_store *st, const char *owner,
				      const char *message_type,
				      smd_folder_cb cb, void *arg);
enum smd_store_rc smd_pgm_folder_create(struct smd_txn *txn, const char *owner,
					const struct smd_folder *f);
enum smd_store_rc smd_pgm_folder_update(struct smd_txn *txn, const char *owner,
					const char *message_type, const char *name,
					const struct smd_folder_update *u);
enum smd_store_rc smd_pgm_folder_delete(struct smd_txn *txn, const char *owner,
					const char *message_type, const char *name);

/* The area tables of this backend. */
extern const struct smd_identity_store smd_pg_identity_ops;
extern const struct smd_mail_store smd_pg_mail_ops;

/* The PostgreSQL migrations (sql/postgresql/NNNN.sql), embedded. */
extern const struct smd_migration smd_pg_migrations[];
extern const size_t smd_pg_migrations_count;

#endif

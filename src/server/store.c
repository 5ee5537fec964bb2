/* Backend selection and the wrappers every caller of the store uses: open
 * with migrations, writes retried on soft errors, store answers turned into
 * protocol errors. No SQL here. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "store.h"

extern const struct smd_store_ops smd_store_sqlite_ops;
extern const struct smd_store_ops smd_store_pg_ops;       /* postgresql: */
extern const struct smd_store_ops smd_store_postgres_ops; /* postgres: */

static const struct smd_store_ops *const backends[] = {
	&smd_store_sqlite_ops,
	&smd_store_pg_ops,
	&smd_store_postgres_ops,
};

const struct smd_store_ops *smd_store_backend(const char *url)
{
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
		size_t n = strlen(backends[i]->scheme);

		if (strncmp(url, backends[i]->scheme, n) == 0 && url[n] == ':')
			return backends[i];
	}
	return NULL;
}

enum smimp_err smd_db_open(struct smd_db *db, const char *url,
			   struct smimp_error *err)
{
	int from = 0, to = 0;
	enum smd_store_rc rc;

	db->ops = smd_store_backend(url);
	db->st = NULL;
	if (db->ops == NULL)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "database '%s': unknown kind", url);
	rc = db->ops->open(&db->st, url + strlen(db->ops->scheme) + 1, err);
	if (rc != SMD_STORE_OK)
		return err->code != SMIMP_OK ? err->code : SMIMP_ERR_INTERNAL;
	for (int tries = 0;; tries++) {
		rc = db->ops->migrate(db->st, &from, &to, err);
		if (rc != SMD_STORE_BUSY || tries == 20)
			break;
		nanosleep(&(struct timespec){0, 250 * 1000 * 1000}, NULL);
	}
	if (rc != SMD_STORE_OK) {
		enum smimp_err e = err->code != SMIMP_OK ? err->code : SMIMP_ERR_INTERNAL;

		db->ops->close(db->st);
		db->st = NULL;
		return e;
	}
	if (from != to)
		fprintf(stderr, "smimpd: database schema migrated from version %d to %d\n",
			from, to);
	return SMIMP_OK;
}

enum smd_store_rc smd_db_write(struct smd_db *db, smd_store_write_fn fn,
			       void *arg)
{
	long pause_ns = 1000 * 1000;
	enum smd_store_rc rc;

	for (int tries = 0;; tries++) {
		rc = db->ops->write(db->st, fn, arg);
		if (rc != SMD_STORE_BUSY || tries == 8)
			return rc;
		nanosleep(&(struct timespec){0, pause_ns}, NULL);
		pause_ns *= 2;
	}
}

struct secret_arg {
	const struct smd_db *db;
	const char *name;
	uint8_t fresh[64];
	uint8_t *out;
	size_t len;
};

static enum smd_store_rc secret_fn(struct smd_txn *txn, void *p)
{
	struct secret_arg *a = p;

	return a->db->ops->txn_secret(txn, a->name, a->fresh, a->out, a->len);
}

enum smd_store_rc smd_db_secret(struct smd_db *db, const char *name,
				uint8_t *out, size_t len)
{
	struct secret_arg a = {db, name, {0}, out, len};
	enum smd_store_rc rc;

	if (len > sizeof a.fresh)
		return SMD_STORE_ERROR;
	randombytes_buf(a.fresh, len);
	rc = smd_db_write(db, secret_fn, &a);
	sodium_memzero(a.fresh, sizeof a.fresh);
	return rc;
}

void smd_db_close(struct smd_db *db)
{
	if (db->ops != NULL && db->st != NULL)
		db->ops->close(db->st);
	db->st = NULL;
}

enum smimp_err smd_store_err(enum smd_store_rc rc, struct smimp_error *err)
{
	switch (rc) {
	case SMD_STORE_OK:
		return SMIMP_OK;
	case SMD_STORE_NOT_FOUND:
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND, "not found");
	case SMD_STORE_CONFLICT:
		return smimp_error_set(err, SMIMP_ERR_CONFLICT, "exists already");
	case SMD_STORE_BUSY:
		return smimp_error_set(err, SMIMP_ERR_INTERNAL,
				       "the store is busy; try again");
	case SMD_STORE_ERROR:
		break;
	}
	return smimp_error_set(err, SMIMP_ERR_INTERNAL, "internal store error");
}

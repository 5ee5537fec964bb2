/* The store: every durable thing smimpd keeps, behind a table of functions
 * (struct smd_store_ops) so handlers never see SQL and another backend
 * (PostgreSQL) can be added without touching them. Callers pass values that
 * are already checked and normalized; the store trusts them.
 *
 * Reads take the store and may run concurrently. Writes run inside
 * smd_db_write(): the function given is called with a transaction and all it
 * does commits atomically and durably (synced) before smd_db_write returns
 * SMD_STORE_OK. A backend may run the functions of several concurrent
 * callers in one transaction (group commit), so a write function must only
 * touch the store through the txn, keep its results in its own argument,
 * and be safe to run again from the start (it is, after a soft error). */
#ifndef SMD_STORE_H
#define SMD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smimp/address.h"
#include "smimp/error.h"

/* Every store call answers one of these. */
enum smd_store_rc {
	SMD_STORE_OK = 0,
	SMD_STORE_NOT_FOUND,  /* no such row */
	SMD_STORE_CONFLICT,   /* a unique value exists already */
	SMD_STORE_BUSY,       /* soft error: locked or serialization failure, retry */
	SMD_STORE_ERROR,      /* hard error: logged by the backend */
};

/* Longest crypto_pwhash_str() output, NUL included (libsodium's
 * crypto_pwhash_STRBYTES, checked where sodium.h is included). */
#define SMD_PWHASH_STR_BYTES 128

struct smd_store;   /* a backend's connection state */
struct smd_identity_store; /* store_identity.h: records, keys, sessions, avatars */
struct smd_mail_store;     /* store_mail.h: messages, folders, lists, PoW */
struct smd_txn;     /* one write transaction of a backend */
struct smimp_hash;  /* smimp/types.h */

/* An account as the operator commands and the handlers see it. */
struct smd_account {
	int64_t id;
	char address[SMIMP_ADDRESS_MAX + 1];
	bool initialized;
	long long quota_limit;   /* bytes, -1 = unlimited */
	long long used_bytes;    /* ciphertext bytes of the stored messages */
	int64_t created_at;
};

/* What initialize_account needs to check the one-time password (11.1). */
struct smd_account_secret {
	char pwhash[SMD_PWHASH_STR_BYTES];  /* "" once used */
	int64_t expires_at;
	unsigned failures;                  /* failed attempts in a row */
	int64_t failed_at;                  /* time of the last failure, 0 = none */
};

/* A new account (smimpd account add). */
struct smd_account_new {
	const char *address;     /* normal form */
	const char *domain;      /* its domain, one of the hosted ones */
	const char *pwhash;      /* crypto_pwhash_str of the 32-byte H value */
	int64_t expires_at;
	long long quota_limit;
	int64_t now;
};

typedef enum smd_store_rc (*smd_store_write_fn)(struct smd_txn *txn, void *arg);
/* Called once per account, in address order; return false to stop. */
typedef bool (*smd_account_cb)(const struct smd_account *a, void *arg);

struct smd_store_ops {
	const char *scheme;  /* the database URL prefix, e.g. "sqlite" */

	/* Opens the store at location (the URL without "scheme:"). */
	enum smd_store_rc (*open)(struct smd_store **out, const char *location,
				  struct smimp_error *err);
	/* Closes it, finishing nothing: call when no request is in flight.
	 * Accepts NULL. */
	void (*close)(struct smd_store *st);
	/* Applies the numbered migrations not yet applied, each in its own
	 * transaction. *from and *to (when not NULL) get the versions before
	 * and after. A store newer than this program is an error. */
	enum smd_store_rc (*migrate)(struct smd_store *st, int *from, int *to,
				     struct smimp_error *err);
	/* Runs fn in a write transaction (see the top of this file). fn's
	 * answer other than SMD_STORE_OK rolls back its changes and is
	 * returned. */
	enum smd_store_rc (*write)(struct smd_store *st, smd_store_write_fn fn,
				   void *arg);

	/* Reads. */
	enum smd_store_rc (*account_get)(struct smd_store *st, const char *address,
					 struct smd_account *out);
	enum smd_store_rc (*account_list)(struct smd_store *st, smd_account_cb cb,
					  void *arg);

	/* Writes, inside write(). */
	enum smd_store_rc (*account_add)(struct smd_txn *txn,
					 const struct smd_account_new *a);
	/* Deletes the account and everything of it (history, keys, sessions,
	 * messages, folders, lists, avatar); deleted bytes are overwritten. */
	enum smd_store_rc (*account_remove)(struct smd_txn *txn,
					    const char *address);
	enum smd_store_rc (*account_set_quota)(struct smd_txn *txn,
					       const char *address,
					       long long quota_limit);
	/* Reads inside a transaction (consistent with the writes around it). */
	enum smd_store_rc (*txn_account_secret)(struct smd_txn *txn,
						const char *address,
						struct smd_account *acct,
						struct smd_account_secret *out);

	/* The secret called name: the one stored, else fresh (len bytes)
	 * stored now; *out gets len bytes. NOT_FOUND when the stored one has
	 * another length. */
	enum smd_store_rc (*txn_secret)(struct smd_txn *txn, const char *name,
					const uint8_t *fresh, uint8_t *out,
					size_t len);

	/* Optional, NULL when the backend serves one process only (the caller
	 * then keeps its rate limits in memory): takes a token from the request
	 * rate bucket key, shared by every process on the store, refilled at
	 * rate tokens per second (0: no limit) up to burst (>= 1). Not in a
	 * transaction. OK with *wait 0 when admitted, else the seconds until
	 * the next token; an error (logged) when the store cannot answer. */
	enum smd_store_rc (*rate_take)(struct smd_store *st,
				       const struct smimp_hash *key,
				       long long rate, long long burst,
				       double *wait);

	/* The areas of the store, each a table of its own. */
	const struct smd_identity_store *identity;
	const struct smd_mail_store *mail;
};

/* An open store: its backend's table and state. */
struct smd_db {
	const struct smd_store_ops *ops;
	struct smd_store *st;
};

/* The backend for a database URL ("sqlite:PATH"), or NULL. */
const struct smd_store_ops *smd_store_backend(const char *url);

/* Opens the store named by url, applies pending migrations (reported on
 * stderr when migrating) and fills db. SMIMP_OK or an error with a reason. */
enum smimp_err smd_db_open(struct smd_db *db, const char *url,
			   struct smimp_error *err);

/* Runs fn in a write transaction, retrying soft errors (SMD_STORE_BUSY) a
 * few times with a growing pause. */
enum smd_store_rc smd_db_write(struct smd_db *db, smd_store_write_fn fn,
			       void *arg);

/* The server's own secret called name (len bytes, at most 64) from db:
 * the one stored, or random bytes stored now when there is none, so that
 * every process on one database reads the same. */
enum smd_store_rc smd_db_secret(struct smd_db *db, const char *name,
				uint8_t *out, size_t len);

/* Closes db (accepts a db that failed to open). */
void smd_db_close(struct smd_db *db);

/* A store answer as a protocol error for a handler: NOT_FOUND is 404
 * not_found, CONFLICT 409 conflict, BUSY (after the retries) and ERROR 500
 * internal. SMD_STORE_OK is SMIMP_OK. */
enum smimp_err smd_store_err(enum smd_store_rc rc, struct smimp_error *err);

#endif

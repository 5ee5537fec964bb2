/* Group commit for the SQLite store (store_mail.h write_grouped): callers
 * queue their write functions; the first caller that finds no leader
 * becomes the leader, takes every queued item of its store, runs them in
 * one BEGIN IMMEDIATE ... COMMIT on the writer connection, each in its own
 * SAVEPOINT (one item's failure rolls back only that item), and wakes the
 * others. While a leader syncs, new callers queue up, so concurrent writes
 * share one fsync. No untrusted input: the functions are the handlers'. */
#include <pthread.h>
#include <stdio.h>

#include "store_sqlite_mail_int.h"

struct gitem {
	struct smd_store *st;
	smd_store_write_fn fn;
	void *arg;
	enum smd_store_rc rc;
	bool done;
	struct gitem *next;
};

/* One queue for the process; items carry their store. */
static pthread_mutex_t gmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gcv = PTHREAD_COND_INITIALIZER;
static struct gitem *ghead;
static bool gleading;

static enum smd_store_rc exec_rc(struct conn *c, const char *sql)
{
	if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return SMD_STORE_OK;
	return smd_sq_rc(c, sqlite3_extended_errcode(c->db), sql);
}

/* Runs batch (a list) in one transaction and sets every item's rc. */
static void run_batch(struct smd_store *st, struct gitem *batch)
{
	struct smd_txn txn = {st, &st->writer};
	struct conn *c = &st->writer;
	enum smd_store_rc rc;
	bool lost = false;  /* the transaction ended under us */

	pthread_mutex_lock(&st->wlock);
	rc = exec_rc(c, "BEGIN IMMEDIATE");
	for (struct gitem *i = batch; i != NULL; i = i->next) {
		if (rc != SMD_STORE_OK || lost) {
			i->rc = lost ? SMD_STORE_BUSY : rc;
			continue;
		}
		i->rc = exec_rc(c, "SAVEPOINT g");
		if (i->rc != SMD_STORE_OK)
			continue;
		i->rc = i->fn(&txn, i->arg);
		if (i->rc != SMD_STORE_OK) {
			sqlite3_exec(c->db, "ROLLBACK TO g", NULL, NULL, NULL);
			lost = sqlite3_get_autocommit(c->db) != 0;
		}
		if (!lost && exec_rc(c, "RELEASE g") != SMD_STORE_OK)
			lost = true;
	}
	if (rc == SMD_STORE_OK && !lost) {
		rc = exec_rc(c, "COMMIT");
		if (rc != SMD_STORE_OK) {
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
			/* Nothing of the batch is stored: the good items are
			 * re-run by their callers (BUSY) or fail. */
			for (struct gitem *i = batch; i != NULL; i = i->next)
				if (i->rc == SMD_STORE_OK)
					i->rc = rc == SMD_STORE_BUSY ?
						SMD_STORE_BUSY : SMD_STORE_ERROR;
		}
	} else if (rc == SMD_STORE_OK) {
		/* The transaction was rolled back by SQLite: every item that
		 * seemed to succeed is lost, let its caller run it again. */
		if (sqlite3_get_autocommit(c->db) == 0)
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		for (struct gitem *i = batch; i != NULL; i = i->next)
			if (i->rc == SMD_STORE_OK)
				i->rc = SMD_STORE_BUSY;
	}
	pthread_mutex_unlock(&st->wlock);
}

enum smd_store_rc smd_sqm_write_grouped(struct smd_store *st,
					smd_store_write_fn fn, void *arg)
{
	struct gitem me = {st, fn, arg, SMD_STORE_ERROR, false, NULL};
	struct gitem *batch = NULL;

	pthread_mutex_lock(&gmu);
	me.next = ghead;
	ghead = &me;
	while (!me.done && gleading)
		pthread_cond_wait(&gcv, &gmu);
	if (me.done) {
		pthread_mutex_unlock(&gmu);
		return me.rc;
	}
	/* Lead: take every queued item of this store, oldest first. */
	gleading = true;
	for (struct gitem **p = &ghead; *p != NULL;) {
		struct gitem *i = *p;

		if (i->st != st) {
			p = &i->next;
			continue;
		}
		*p = i->next;
		/* The queue is newest first: prepending restores arrival order. */
		i->next = batch;
		batch = i;
	}
	pthread_mutex_unlock(&gmu);

	run_batch(st, batch);

	pthread_mutex_lock(&gmu);
	for (struct gitem *i = batch, *n; i != NULL; i = n) {
		n = i->next;
		i->done = true;   /* i may be gone as soon as gmu is released */
	}
	gleading = false;
	pthread_cond_broadcast(&gcv);
	pthread_mutex_unlock(&gmu);
	return me.rc;
}

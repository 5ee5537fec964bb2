/* Group commit for the SQLite store (store_mail.h write_grouped): callers
 * queue their write functions; the first caller that finds no leader
 * becomes the leader, takes every queued item of its store, runs them in
 * one BEGIN IMMEDIATE ... COMMIT on the writer connection, each in its own
 * SAVEPOINT (one item's failure rolls back only that item), and wakes the
 * others. While a leader syncs, new callers queue up, so concurrent writes
 * share one fsync. No untrusted input: the functions are the handlers'. */
#include <pthread.h>
#include <stdio.h>

#include "store_cache.h"
#include "store_sqlite_mail_int.h"

struct gitem {
	struct smd_store *st;
	smd_store_write_fn fn;
	void *arg;
	enum smd_store_rc rc;
	bool done;
	bool lead;              /* handed the lead by the previous leader */
	pthread_cond_t cv;      /* its own: wakes this caller only */
	struct gitem *next;
};

/* One queue for the process; items carry their store. A finishing leader
 * wakes only the callers whose items it ran and hands the lead to one
 * waiting caller, so a commit wakes no thread that has nothing to do. */
static pthread_mutex_t gmu = PTHREAD_MUTEX_INITIALIZER;
static struct gitem *ghead;
static bool gleading;

/* The batch's own statements, prepared once (cached on the writer) rather
 * than parsed by sqlite3_exec for every item. */
static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_SAVEPOINT[] = "SAVEPOINT g";
static const char SQL_RELEASE[] = "RELEASE g";
static const char SQL_COMMIT[] = "COMMIT";

static enum smd_store_rc exec_rc(struct conn *c, const char *sql)
{
	sqlite3_stmt *s = smd_sq_prep(c, sql);
	int rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return SMD_STORE_OK;
	}
	rc = sqlite3_extended_errcode(c->db);
	sqlite3_reset(s);
	return smd_sq_rc(c, rc, sql);
}

/* Runs batch (a list) in one transaction and sets every item's rc. */
static void run_batch(struct smd_store *st, struct gitem *batch)
{
	struct smd_txn txn = {st, &st->writer, false};
	struct conn *c = &st->writer;
	enum smd_store_rc rc;
	bool lost = false;  /* the transaction ended under us */

	pthread_mutex_lock(&st->wlock);
	rc = exec_rc(c, SQL_BEGIN);
	for (struct gitem *i = batch; i != NULL; i = i->next) {
		if (rc != SMD_STORE_OK || lost) {
			i->rc = lost ? SMD_STORE_BUSY : rc;
			continue;
		}
		i->rc = exec_rc(c, SQL_SAVEPOINT);
		if (i->rc != SMD_STORE_OK)
			continue;
		i->rc = i->fn(&txn, i->arg);
		if (i->rc != SMD_STORE_OK) {
			sqlite3_exec(c->db, "ROLLBACK TO g", NULL, NULL, NULL);
			lost = sqlite3_get_autocommit(c->db) != 0;
		}
		if (!lost && exec_rc(c, SQL_RELEASE) != SMD_STORE_OK)
			lost = true;
	}
	if (rc == SMD_STORE_OK && !lost) {
		rc = exec_rc(c, SQL_COMMIT);
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
	smd_sq_caches_drop(&txn);
	pthread_mutex_unlock(&st->wlock);
}

enum smd_store_rc smd_sqm_write_grouped(struct smd_store *st,
					smd_store_write_fn fn, void *arg)
{
	struct gitem me = {st, fn, arg, SMD_STORE_ERROR, false, false,
			   PTHREAD_COND_INITIALIZER, NULL};
	struct gitem *batch = NULL, *heir = NULL;

	pthread_mutex_lock(&gmu);
	if (gleading) {
		me.next = ghead;
		ghead = &me;
		while (!me.done && !me.lead)
			pthread_cond_wait(&me.cv, &gmu);
		if (me.done) {
			pthread_mutex_unlock(&gmu);
			pthread_cond_destroy(&me.cv);
			return me.rc;
		}
		/* Handed the lead: me is still queued and taken below. */
	} else {
		gleading = true;
		me.next = ghead;
		ghead = &me;
	}
	/* Lead: take every queued item of this store, oldest first. */
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
		if (i != &me)
			pthread_cond_signal(&i->cv);
	}
	/* The oldest waiter (the queue's tail) leads next, if any. */
	for (struct gitem *i = ghead; i != NULL; i = i->next)
		heir = i;
	if (heir != NULL) {
		heir->lead = true;
		pthread_cond_signal(&heir->cv);
	} else {
		gleading = false;
	}
	pthread_mutex_unlock(&gmu);
	pthread_cond_destroy(&me.cv);
	return me.rc;
}

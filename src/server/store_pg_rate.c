/* Request rate buckets shared by every smimpd node on one PostgreSQL
 * database (table rate_buckets, sql/postgresql/0003.sql), so that N nodes
 * behind a load balancer allow a client the configured rate, not N times
 * it. One statement per bucket and request: an upsert doing the refill and
 * the take (GCRA: the bucket is a "theoretical arrival time", tat) and
 * returning the decision and the wait. Time is the database's clock, so
 * nodes whose clocks disagree still share one bucket correctly. Full
 * buckets are deleted now and then (a deleted bucket and a full one are the
 * same). The key is a hash made by policy_rate.c; nothing else of the
 * request reaches this file. */
#include <stdatomic.h>
#include <time.h>

#include "pg_conn.h"
#include "smimp/types.h"
#include "store_pg_rate.h"

#define NS_PER_S 1000000000LL
#define MAX_BUCKET_NS (NS_PER_S * 86400 * 366)  /* a year: far beyond any limit */
#define SWEEP_EVERY_S 60   /* how often one node deletes the full buckets */

/* The database's time in nanoseconds since the epoch (now(): the start of
 * the transaction, here the statement's; the same at every use in it). */
#define NOW "(extract(epoch FROM now()) * 1000000000)::bigint"
/* The bucket's tat once this request's token is taken ($2: the time one
 * token takes to come back), from now on at the earliest (a bucket never
 * holds more than burst). */
#define NEXT "greatest(b.tat, " NOW ") + $2"
/* Whether that token was there: tat at most the whole bucket ($3, burst
 * tokens' worth of time) ahead of now. */
#define FITS "(" NEXT " <= " NOW " + $3)"

/* A new key is a full bucket: its first request is admitted (burst >= 1).
 * A refused request leaves tat as it was. The second column is when the
 * next token is there, in nanoseconds from now (> 0 when refused). */
static const char SQL_RATE_TAKE[] =
	"INSERT INTO rate_buckets AS b (key, tat, admitted)"
	" VALUES ($1, " NOW " + $2, true)"
	" ON CONFLICT (key) DO UPDATE SET admitted = " FITS ","
	" tat = CASE WHEN " FITS " THEN " NEXT " ELSE b.tat END"
	" RETURNING admitted, tat + $2 - $3 - " NOW;

/* A bucket whose tat has passed is full: deleting it changes nothing. */
static const char SQL_RATE_SWEEP[] = "DELETE FROM rate_buckets WHERE tat < " NOW;

static _Atomic long long next_sweep;  /* monotonic seconds; 0: at once */

/* True for one caller per SWEEP_EVERY_S in this process: sweeping on every
 * request would scan the table each time, and one node's sweep serves all. */
static bool sweep_due(void)
{
	struct timespec ts;
	long long due = atomic_load(&next_sweep);

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec >= due &&
	       atomic_compare_exchange_strong(&next_sweep, &due,
					      (long long)ts.tv_sec + SWEEP_EVERY_S);
}

/* The take on c; *wait as store.h says. */
static enum smd_store_rc take_on(struct pgconn *c, const struct smimp_hash *key,
				 long long rate, long long burst, double *wait)
{
	/* Whole nanoseconds per token (at least 1); the bucket is exactly
	 * burst tokens of them, so a full one admits burst requests at once.
	 * config.c keeps both under 1e8; the caps only keep any value from
	 * overflowing the statement's bigint arithmetic. */
	long long per_token = rate < NS_PER_S ? NS_PER_S / rate : 1;
	long long most = MAX_BUCKET_NS / per_token;
	struct pgp p = {0};
	PGresult *res;
	enum smd_store_rc rc;

	smd_pgp_blob(&p, key->b, sizeof key->b);
	smd_pgp_int(&p, per_token);
	smd_pgp_int(&p, per_token * (burst < 1 ? 1 : burst > most ? most : burst));
	rc = smd_pg_row(c, SQL_RATE_TAKE, &p, "rate take", &res);
	if (rc != SMD_STORE_OK)
		return rc;
	if (smd_pg_int(res, 0, 0) == 0) {  /* refused: never a wait of 0 */
		int64_t ns = smd_pg_int(res, 0, 1);

		*wait = (double)(ns > 0 ? ns : 1) / (double)NS_PER_S;
	}
	PQclear(res);
	return SMD_STORE_OK;
}

enum smd_store_rc smd_pg_rate_take(struct smd_store *st,
				   const struct smimp_hash *key,
				   long long rate, long long burst, double *wait)
{
	int slot;
	struct pgconn *c;
	enum smd_store_rc rc;

	*wait = 0;
	if (rate <= 0)   /* no limit, as everywhere else */
		return SMD_STORE_OK;
	c = smd_pg_get(st, &slot);
	if (c == NULL)
		return SMD_STORE_BUSY;
	rc = take_on(c, key, rate, burst, wait);
	/* Its failure is logged and harmless: the next sweep does it. */
	if (rc == SMD_STORE_OK && sweep_due())
		smd_pg_do(c, SQL_RATE_SWEEP, NULL, "rate sweep", NULL);
	smd_pg_put(st, slot);
	return rc;
}

/* Request rate limits (429 with Retry-After): a token bucket per client
 * address and one per session. When the store has shared buckets (the
 * PostgreSQL store's rate_take, one bucket for every node on the database)
 * they are used, so N nodes behind a load balancer allow the configured
 * rate, not N times it; otherwise (SQLite: one node) the buckets are in
 * memory, in a fixed table (striped locks; when a probe window is full the
 * least recently used bucket is taken over), with no database on the hot
 * path. A client address is an IPv4 address or an IPv6 prefix
 * (rate_client.h, rate_ipv6_prefix). Untrusted input: the client address
 * text and the SMIMP-Authentication header, used only through their
 * BLAKE2b hash as a bucket key, never stored or logged. The in-memory
 * table places a key by a SipHash of it under a key of this process, so
 * that nobody can choose addresses that crowd one probe window and evict
 * each other's buckets (a full bucket each time: no limit).
 *
 * When the shared buckets fail (the database is down), this node falls
 * back to its in-memory buckets and says so in the log: a rate limiter
 * outage neither takes the service down nor lifts the limits, which then
 * hold per node (N times the rate over N nodes) until the database answers
 * again.
 *
 * Limits: the configuration keys rate_per_address, rate_burst_per_address,
 * rate_per_session, rate_burst_per_session (requests per second and bucket
 * sizes; a rate of 0 turns that limit off) and rate_limit_loopback
 * (loopback clients are exempt from the per-address limit by default, so
 * that a local reverse proxy or load generator is not throttled as one
 * client). */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "policy.h"
#include "rate_client.h"
#include "smimp/hash.h"
#include "store.h"

#define SLOTS 16384u               /* buckets (a power of two) */
#define PROBE 8u                   /* slots looked at per key */
#define STRIPES 64u                /* locks; a probe window never spans two */
#define FALLBACK_S 5               /* between tries of failed shared buckets */
#define MAX_WAIT_S 86400u          /* the longest Retry-After ever sent */

struct bucket {
	uint8_t key[SMIMP_HASH_BYTES];
	bool used;
	double tokens;
	double last;                   /* monotonic seconds */
};

static struct bucket table[SLOTS];
static pthread_mutex_t stripes[STRIPES];
static uint8_t slot_key[crypto_shorthash_KEYBYTES];
static pthread_once_t once = PTHREAD_ONCE_INIT;
/* 0 while the shared buckets work, else when (monotonic seconds) to try
 * them again. */
static _Atomic long long shared_off_until;

static void setup(void)
{
	for (unsigned i = 0; i < STRIPES; i++)
		pthread_mutex_init(&stripes[i], NULL);
	randombytes_buf(slot_key, sizeof slot_key);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Takes a token from the in-memory bucket key. 0 when admitted, else the
 * seconds until the next token. */
static double local_take(const struct smimp_hash *key, double rate, double burst)
{
	struct bucket *b = NULL, *oldest = NULL;
	unsigned start;
	double t = now_s(), wait = 0;
	pthread_mutex_t *mu;

	uint8_t place[crypto_shorthash_BYTES];

	crypto_shorthash(place, key->b, sizeof key->b, slot_key);
	start = ((unsigned)place[0] | (unsigned)place[1] << 8 |
		 (unsigned)place[2] << 16) & (SLOTS - 1) & ~(PROBE - 1);
	mu = &stripes[(start / PROBE) % STRIPES];
	pthread_mutex_lock(mu);
	for (unsigned i = 0; i < PROBE && b == NULL; i++) {
		struct bucket *s = &table[start + i];

		if (s->used && memcmp(s->key, key->b, sizeof s->key) == 0)
			b = s;
		else if (oldest == NULL || !s->used ||
			 (oldest->used && s->last < oldest->last))
			oldest = s;
	}
	if (b == NULL) {  /* a new key: a full bucket */
		b = oldest;
		memcpy(b->key, key->b, sizeof b->key);
		b->used = true;
		b->tokens = burst;
		b->last = t;
	}
	b->tokens += (t - b->last) * rate;
	if (b->tokens > burst)
		b->tokens = burst;
	b->last = t;
	if (b->tokens >= 1.0)
		b->tokens -= 1.0;
	else
		wait = (1.0 - b->tokens) / rate;
	pthread_mutex_unlock(mu);
	return wait;
}

/* Takes a token from the store's shared bucket key: true with *wait as
 * local_take's answer, false when this node is to use its own buckets (the
 * store has none, or they failed). After a failure one caller every
 * FALLBACK_S seconds tries the database again, so that an unreachable
 * server holds up one request at a time, not all of them. The store logs
 * why it failed; this logs when the limits stop and start being shared. */
static bool shared_take(const struct smd_db *db, const struct smimp_hash *key,
			long long rate, long long burst, double *wait)
{
	long long now = (long long)now_s(), off = atomic_load(&shared_off_until);

	if (db == NULL || db->ops->rate_take == NULL)
		return false;
	if (off != 0 && (now < off ||
			 !atomic_compare_exchange_strong(&shared_off_until, &off,
							 now + FALLBACK_S)))
		return false;
	if (db->ops->rate_take(db->st, key, rate, burst, wait) != SMD_STORE_OK) {
		if (off == 0 &&
		    atomic_compare_exchange_strong(&shared_off_until, &off, now + FALLBACK_S))
			fputs("smimpd: rate limits: the database did not answer; "
			      "this node limits requests on its own until it does\n",
			      stderr);
		return false;
	}
	if (off != 0) {
		atomic_store(&shared_off_until, 0);
		fputs("smimpd: rate limits: the database answers; "
		      "limits are shared by all nodes again\n", stderr);
	}
	return true;
}

/* Takes a token from the bucket of (kind, value). 0 when admitted, else the
 * seconds to wait for Retry-After (rounded up, at least 1). */
static unsigned take(const struct smd_db *db, char kind, const char *value,
		     long long rate, long long burst)
{
	struct smimp_field f[2] = {smimp_bytes(&kind, 1), smimp_text(value)};
	struct smimp_hash h;
	double wait;

	if (rate <= 0)
		return 0;
	smimp_hash_fields(&h, "smimpd/rate", f, 2);
	if (!shared_take(db, &h, rate, burst, &wait))
		wait = local_take(&h, (double)rate, (double)burst);
	if (wait <= 0)
		return 0;
	return wait < MAX_WAIT_S ? (unsigned)wait + 1 : MAX_WAIT_S;
}

enum smimp_err smd_policy_admit(const struct smd_request *req,
				unsigned *retry_after, struct smimp_error *err)
{
	const struct smd_config *c = req->srv->cfg;
	const struct smd_db *db = req->srv->db;
	char client[SMD_RATE_CLIENT_MAX];
	bool loopback = false;
	unsigned w = 0;

	pthread_once(&once, setup);
	*retry_after = 0;
	if (c->rate_per_address > 0 && req->client_addr != NULL &&
	    smd_rate_client(req->client_addr, (unsigned)c->rate_ipv6_prefix, client,
			    &loopback) &&
	    (c->rate_limit_loopback || !loopback))
		w = take(db, 'a', client, c->rate_per_address,
			 c->rate_burst_per_address);
	if (w == 0 && req->auth != NULL)
		w = take(db, 's', req->auth, c->rate_per_session,
			 c->rate_burst_per_session);
	if (w == 0)
		return SMIMP_OK;
	*retry_after = w;
	return smimp_error_set(err, SMIMP_ERR_RATE_LIMITED,
			       "too many requests; retry after %u s", w);
}

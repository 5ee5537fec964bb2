/* Request rate limits (429 with Retry-After): a token bucket per client
 * address and one per session, in memory, in a fixed table of buckets
 * (striped locks; when a probe window is full the least recently used
 * bucket is taken over). Untrusted input: the client address text and the
 * SMIMP-Authentication header, used only through their BLAKE2b hash as a
 * table key, never stored or logged.
 *
 * Limits: the configuration keys rate_per_address, rate_burst_per_address,
 * rate_per_session, rate_burst_per_session (requests per second and bucket
 * sizes; a rate of 0 turns that limit off) and rate_limit_loopback
 * (loopback clients are exempt from the per-address limit by default, so
 * that a local reverse proxy or load generator is not throttled as one
 * client). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "policy.h"
#include "smimp/hash.h"

#define SLOTS 16384u               /* buckets (a power of two) */
#define PROBE 8u                   /* slots looked at per key */
#define STRIPES 64u                /* locks; a probe window never spans two */

struct bucket {
	uint8_t key[SMIMP_HASH_BYTES];
	bool used;
	double tokens;
	double last;                   /* monotonic seconds */
};

struct limits {
	double addr_rate, addr_burst, sess_rate, sess_burst;
	bool loopback;
};

static struct bucket table[SLOTS];
static pthread_mutex_t stripes[STRIPES];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void setup(void)
{
	for (unsigned i = 0; i < STRIPES; i++)
		pthread_mutex_init(&stripes[i], NULL);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Takes a token from the bucket of (kind, value). 0 when admitted, else the
 * seconds to wait (at least 1). */
static unsigned take(char kind, const char *value, double rate, double burst)
{
	struct smimp_field f[2] = {smimp_bytes(&kind, 1), smimp_text(value)};
	struct smimp_hash h;
	struct bucket *b = NULL, *oldest = NULL;
	unsigned start, wait = 0;
	double t = now_s();
	pthread_mutex_t *mu;

	if (rate <= 0)
		return 0;
	smimp_hash_fields(&h, "smimpd/rate", f, 2);
	start = ((unsigned)h.b[0] | (unsigned)h.b[1] << 8 | (unsigned)h.b[2] << 16) &
		(SLOTS - 1) & ~(PROBE - 1);
	mu = &stripes[(start / PROBE) % STRIPES];
	pthread_mutex_lock(mu);
	for (unsigned i = 0; i < PROBE && b == NULL; i++) {
		struct bucket *s = &table[start + i];

		if (s->used && memcmp(s->key, h.b, sizeof s->key) == 0)
			b = s;
		else if (oldest == NULL || !s->used ||
			 (oldest->used && s->last < oldest->last))
			oldest = s;
	}
	if (b == NULL) {  /* a new key: a full bucket */
		b = oldest;
		memcpy(b->key, h.b, sizeof b->key);
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
		wait = (unsigned)((1.0 - b->tokens) / rate) + 1;  /* rounded up */
	pthread_mutex_unlock(mu);
	return wait;
}

static bool is_loopback(const char *a)
{
	return strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0 ||
	       strncmp(a, "::ffff:127.", 11) == 0;
}

enum smimp_err smd_policy_admit(const struct smd_request *req,
				unsigned *retry_after, struct smimp_error *err)
{
	unsigned w = 0;

	const struct smd_config *c = req->srv->cfg;
	const struct limits lim = {(double)c->rate_per_address,
				   (double)c->rate_burst_per_address,
				   (double)c->rate_per_session,
				   (double)c->rate_burst_per_session,
				   c->rate_limit_loopback};

	pthread_once(&once, setup);
	*retry_after = 0;
	if (req->client_addr != NULL && (lim.loopback || !is_loopback(req->client_addr)))
		w = take('a', req->client_addr, lim.addr_rate, lim.addr_burst);
	if (w == 0 && req->auth != NULL)
		w = take('s', req->auth, lim.sess_rate, lim.sess_burst);
	if (w == 0)
		return SMIMP_OK;
	*retry_after = w;
	return smimp_error_set(err, SMIMP_ERR_RATE_LIMITED,
			       "too many requests; retry after %u s", w);
}

/* The live-session cache: see store_session_cache.h. Direct-mapped slots (the key
 * is already a hash), each behind one of a few mutexes. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "store_session_cache.h"

#define SLOTS 4096
#define STRIPES 64

struct slot {
	bool used;
	uint64_t epoch;
	int64_t born_ms;
	struct smd_session s;
};

struct smd_session_cache {
	_Atomic uint64_t epoch;
	pthread_mutex_t mu[STRIPES];
	struct slot slot[SLOTS];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t slot_of(const uint8_t *hash)
{
	return ((size_t)hash[0] | (size_t)hash[1] << 8) % SLOTS;
}

struct smd_session_cache *smd_session_cache_new(void)
{
	struct smd_session_cache *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&c->mu[i], NULL);
	return c;
}

void smd_session_cache_free(struct smd_session_cache *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&c->mu[i]);
	sodium_memzero(c, sizeof *c);
	free(c);
}

uint64_t smd_session_cache_epoch(const struct smd_session_cache *c)
{
	return atomic_load(&c->epoch);
}

bool smd_session_cache_get(struct smd_session_cache *c,
			   const uint8_t hash[SMD_SESSION_HASH_BYTES],
			   struct smd_session *out)
{
	size_t i = slot_of(hash);
	struct slot *e = &c->slot[i];
	bool hit;

	pthread_mutex_lock(&c->mu[i % STRIPES]);
	hit = e->used && e->epoch == atomic_load(&c->epoch) &&
	      now_ms() - e->born_ms < SMD_SESSION_CACHE_MS &&
	      sodium_memcmp(e->s.hash, hash, SMD_SESSION_HASH_BYTES) == 0;
	if (hit)
		*out = e->s;
	pthread_mutex_unlock(&c->mu[i % STRIPES]);
	return hit;
}

void smd_session_cache_put(struct smd_session_cache *c, uint64_t epoch,
			   const struct smd_session *s)
{
	size_t i = slot_of(s->hash);
	struct slot *e = &c->slot[i];

	pthread_mutex_lock(&c->mu[i % STRIPES]);
	e->used = true;
	e->epoch = epoch;
	e->born_ms = now_ms();
	e->s = *s;
	pthread_mutex_unlock(&c->mu[i % STRIPES]);
}

void smd_session_cache_invalidate(struct smd_session_cache *c)
{
	atomic_fetch_add(&c->epoch, 1);
}

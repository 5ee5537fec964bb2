/* The read cache: see store_cache.h. Direct-mapped slots (the key is
 * already a hash), each behind one of a few mutexes; values are copied in
 * and out. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "store_cache.h"

#define SLOTS 4096
#define STRIPES 64

struct slot {
	bool used;
	uint64_t epoch;
	int64_t born_ms;
	uint8_t key[SMD_CACHE_KEY_BYTES];
};

struct smd_cache {
	_Atomic uint64_t epoch;
	size_t value_size;
	pthread_mutex_t mu[STRIPES];
	struct slot slot[SLOTS];
	uint8_t *values;   /* SLOTS * value_size */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t slot_of(const uint8_t *key)
{
	return ((size_t)key[0] | (size_t)key[1] << 8) % SLOTS;
}

struct smd_cache *smd_cache_new(size_t value_size)
{
	struct smd_cache *c = calloc(1, sizeof *c);

	if (c == NULL || (c->values = calloc(SLOTS, value_size)) == NULL) {
		free(c);
		return NULL;
	}
	c->value_size = value_size;
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&c->mu[i], NULL);
	return c;
}

void smd_cache_free(struct smd_cache *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&c->mu[i]);
	sodium_memzero(c->values, SLOTS * c->value_size);
	free(c->values);
	sodium_memzero(c, sizeof *c);
	free(c);
}

uint64_t smd_cache_epoch(const struct smd_cache *c)
{
	return atomic_load(&c->epoch);
}

bool smd_cache_get(struct smd_cache *c, const uint8_t key[SMD_CACHE_KEY_BYTES],
		   void *value)
{
	size_t i = slot_of(key);
	struct slot *e = &c->slot[i];
	bool hit;

	pthread_mutex_lock(&c->mu[i % STRIPES]);
	hit = e->used && e->epoch == atomic_load(&c->epoch) &&
	      now_ms() - e->born_ms < SMD_CACHE_MS &&
	      sodium_memcmp(e->key, key, SMD_CACHE_KEY_BYTES) == 0;
	if (hit)
		memcpy(value, c->values + i * c->value_size, c->value_size);
	pthread_mutex_unlock(&c->mu[i % STRIPES]);
	return hit;
}

void smd_cache_put(struct smd_cache *c, uint64_t epoch,
		   const uint8_t key[SMD_CACHE_KEY_BYTES], const void *value)
{
	size_t i = slot_of(key);
	struct slot *e = &c->slot[i];

	pthread_mutex_lock(&c->mu[i % STRIPES]);
	e->used = true;
	e->epoch = epoch;
	e->born_ms = now_ms();
	memcpy(e->key, key, SMD_CACHE_KEY_BYTES);
	memcpy(c->values + i * c->value_size, value, c->value_size);
	pthread_mutex_unlock(&c->mu[i % STRIPES]);
}

void smd_cache_key_of(const char *text, uint8_t key[SMD_CACHE_KEY_BYTES])
{
	crypto_generichash(key, SMD_CACHE_KEY_BYTES, (const unsigned char *)text,
			   strlen(text), NULL, 0);
}

void smd_cache_invalidate(struct smd_cache *c)
{
	atomic_fetch_add(&c->epoch, 1);
}

/* A process-local cache of rows read on every request, for a store whose
 * only writer is this process (SQLite): live sessions and recipients are
 * read by nearly every call, and after each commit SQLite's page cache is
 * cold, so each read costs a few B-tree descents of pread calls.
 *
 * Exact for this process's writes: a write transaction that changes what
 * is cached calls smd_cache_invalidate after its COMMIT and before its
 * callers answer, which drops every entry. A reader takes the epoch before
 * its database read and stores what it read under that epoch, so a read
 * that raced with such a write is never served later. Changes made by
 * another process (the "smimpd account" commands) are seen within
 * SMD_CACHE_MS. */
#ifndef SMD_STORE_CACHE_H
#define SMD_STORE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How long an entry is served at most (another process's changes). */
#define SMD_CACHE_MS 1000
/* Bytes of a key: a hash (BLAKE2b-256) of what is looked up. */
#define SMD_CACHE_KEY_BYTES 32

struct smd_cache;

/* A cache of values of value_size bytes; NULL when out of memory. */
struct smd_cache *smd_cache_new(size_t value_size);
/* Accepts NULL. */
void smd_cache_free(struct smd_cache *c);

/* The epoch to pass to smd_cache_put: take it before reading. */
uint64_t smd_cache_epoch(const struct smd_cache *c);
/* The value cached under key, when there is one and it is not stale. */
bool smd_cache_get(struct smd_cache *c, const uint8_t key[SMD_CACHE_KEY_BYTES],
		   void *value);
/* Caches value under key, as read during epoch. */
void smd_cache_put(struct smd_cache *c, uint64_t epoch,
		   const uint8_t key[SMD_CACHE_KEY_BYTES], const void *value);
/* The key of a text (an address): its BLAKE2b-256. */
void smd_cache_key_of(const char *text, uint8_t key[SMD_CACHE_KEY_BYTES]);
/* Drops every entry (after a committed change). */
void smd_cache_invalidate(struct smd_cache *c);

#endif

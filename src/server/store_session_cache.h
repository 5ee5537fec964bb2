/* A process-local cache of live sessions, for a store whose only writer is
 * this process (SQLite): a session read costs a database read on every
 * authenticated request, and after each commit SQLite's page cache is cold.
 *
 * Exact for this process's writes: a write transaction that ends or
 * changes sessions calls smd_session_cache_invalidate after its COMMIT and
 * before its callers answer, which drops every entry. A reader takes the
 * epoch before its database read and stores what it read under that
 * epoch, so a read that raced with such a write is never served later.
 * Changes made by another process (the "smimpd account remove" command)
 * are seen within SMD_SESSION_CACHE_MS. */
#ifndef SMD_STORE_SESSION_CACHE_H
#define SMD_STORE_SESSION_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"

/* How long an entry is served at most (another process's changes). */
#define SMD_SESSION_CACHE_MS 1000

struct smd_session_cache;

/* NULL when out of memory. */
struct smd_session_cache *smd_session_cache_new(void);
/* Accepts NULL. */
void smd_session_cache_free(struct smd_session_cache *c);

/* The epoch to pass to smd_session_cache_put: take it before reading. */
uint64_t smd_session_cache_epoch(const struct smd_session_cache *c);
/* The live session with this hash, when cached and not stale. */
bool smd_session_cache_get(struct smd_session_cache *c,
			   const uint8_t hash[SMD_SESSION_HASH_BYTES],
			   struct smd_session *out);
/* Caches a live (not destroyed) session read during epoch. */
void smd_session_cache_put(struct smd_session_cache *c, uint64_t epoch,
			   const struct smd_session *s);
/* Drops every entry (after a committed change to sessions). */
void smd_session_cache_invalidate(struct smd_session_cache *c);

#endif

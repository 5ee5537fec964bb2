/* The request rate buckets of the PostgreSQL store (store_pg_rate.c): the
 * rate_take of its ops table (store.h), shared by every smimpd node on the
 * database. */
#ifndef SMD_STORE_PG_RATE_H
#define SMD_STORE_PG_RATE_H

#include "store.h"

enum smd_store_rc smd_pg_rate_take(struct smd_store *st,
				   const struct smimp_hash *key,
				   long long rate, long long burst,
				   double *wait);

#endif

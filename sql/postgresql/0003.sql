-- smimpd schema, version 3, PostgreSQL only: the request rate limits
-- shared by every node on the database (store_pg_rate.c). SQLite serves one
-- node, which keeps its buckets in memory (policy_rate.c): its version 3
-- adds nothing.

-- One token bucket per client address or session, as a "theoretical
-- arrival time" (GCRA): the bucket is full when tat <= now, and each request
-- admitted moves tat one token's worth of time later, from now at the
-- earliest. The key is policy_rate.c's BLAKE2b-256 of the kind and the
-- client address or SMIMP-Authentication header: the raw values are never
-- stored. tat is nanoseconds since the epoch by the database's clock (one
-- clock for every node; an integer, so that fast rates lose no precision).
-- admitted is the decision of the last update, for RETURNING to report.
-- UNLOGGED: no WAL, not replicated, emptied after a crash; a lost bucket
-- is a full bucket, which is what an idle client has anyway. No index on
-- tat: updates stay HOT, and the periodic sweep of full buckets
-- (tat < now) reads this small table whole.
CREATE UNLOGGED TABLE rate_buckets (
    key       BYTEA   PRIMARY KEY,
    tat       BIGINT  NOT NULL,
    admitted  BOOLEAN NOT NULL
);

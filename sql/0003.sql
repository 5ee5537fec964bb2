-- smimpd schema, version 3: nothing for SQLite. Version 3 of the PostgreSQL
-- store adds the shared rate-limit buckets (sql/postgresql/0003.sql); one
-- SQLite node keeps its buckets in memory. The number is taken here too so
-- that a version means the same schema on both backends.
SELECT 1;

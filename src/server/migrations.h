/* The numbered schema migrations (sql/NNNN.sql), embedded into the binary at
 * build time by embed_sql.cmake, in ascending order starting at version 1. */
#ifndef SMD_MIGRATIONS_H
#define SMD_MIGRATIONS_H

#include <stddef.h>

struct smd_migration {
	int version;          /* NNNN of the file name */
	const char *name;     /* "0001.sql" */
	const char *sql;      /* NUL-terminated */
};

extern const struct smd_migration smd_migrations[];
extern const size_t smd_migrations_count;

#endif

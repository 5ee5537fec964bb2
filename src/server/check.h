/* smimpd check: what an operator runs before a start, restart or reload
 * (nginx -t, postfix check): the configuration file parses, and the TLS
 * certificate and key load, belong together, are valid now and name the
 * host of public_url. Reads files only: the database is not opened, so an
 * upgraded binary migrates nothing here. */
#ifndef SMD_CHECK_H
#define SMD_CHECK_H

#include <time.h>

#include "config.h"

/* A certificate that ends within this many days is warned about. */
#define SMD_CHECK_EXPIRY_WARN_DAYS 14

/* Prints what was checked on stdout and warnings on stderr. SMD_EXIT_OK,
 * or SMD_EXIT_CONFIG_ERR with the reason on stderr. */
int smd_check(const struct smd_config *cfg, time_t now);

#endif

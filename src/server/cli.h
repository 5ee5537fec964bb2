/* The operator commands of smimpd(8) other than serve: account add, list,
 * remove and quota. Input: the command line (the operator's, still checked). */
#ifndef SMD_CLI_H
#define SMD_CLI_H

#include "config.h"
#include "store.h"

/* Exit codes (documented in smimpd(8)). */
#define SMD_EXIT_OK 0
#define SMD_EXIT_USAGE 64       /* bad command line */
#define SMD_EXIT_DATAERR 65     /* bad argument: address, domain, number */
#define SMD_EXIT_NOUSER 67      /* no such account */
#define SMD_EXIT_UNAVAILABLE 69 /* the database cannot be used now */
#define SMD_EXIT_SOFTWARE 70    /* internal error */
#define SMD_EXIT_CANTCREAT 73   /* the account exists already */
#define SMD_EXIT_CONFIG_ERR 78  /* configuration error */

/* Runs "account SUBCOMMAND ARGS..." (argv[0] is "add", "list", ...) and
 * returns the exit code. */
int smd_cli_account(const struct smd_config *cfg, struct smd_db *db, int argc,
		    char **argv);

#endif

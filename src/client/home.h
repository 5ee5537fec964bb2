/* The home directory (--home, SMIMP_HOME, ~/.smimp), mode 0700:
 *
 *   HOME/pins.json                    pins of every address resolved (5.1)
 *   HOME/lock                         serializes updates between processes
 *   HOME/accounts/ADDRESS/keystore    one encrypted keystore per account
 *
 * and the choice of account (--account, or the only one there is). */
#ifndef SMC_HOME_H
#define SMC_HOME_H

#include <limits.h>
#include <stddef.h>

#include "smimp/address.h"

#include "err.h"

struct smc_home {
	char dir[PATH_MAX];
};

/* Picks the directory (opt_home, else $SMIMP_HOME, else $HOME/.smimp) and
 * creates it and accounts/ with mode 0700 when missing. */
int smc_home_open(struct smc_home *h, const char *opt_home,
		  struct smc_err *e);

/* HOME/rel into out; -1 (SMC_EXIT_CONFIG) when too long. */
int smc_home_path(const struct smc_home *h, const char *rel, char *out,
		  size_t out_size, struct smc_err *e);

/* HOME/accounts/ADDRESS (created when create is non-zero) and its
 * keystore path. address must be in normal form. */
int smc_home_account_dir(const struct smc_home *h, const char *address,
			 int create, char *out, size_t out_size,
			 struct smc_err *e);
int smc_home_keystore_path(const struct smc_home *h, const char *address,
			   char *out, size_t out_size, struct smc_err *e);

/* The accounts that have a keystore, sorted; *out is a malloc'ed array of
 * malloc'ed strings (smc_home_accounts_free). */
int smc_home_accounts(const struct smc_home *h, char ***out, size_t *n,
		      struct smc_err *e);
void smc_home_accounts_free(char **v, size_t n);

/* The account to act for: opt_account (normalized; it must exist), or the
 * only account of the home. None, or several without --account, is an
 * error that says what to do. */
int smc_home_select_account(const struct smc_home *h, const char *opt_account,
			    char out[SMIMP_ADDRESS_MAX + 1], struct smc_err *e);

#endif

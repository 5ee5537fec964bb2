/* Secrets typed by the user: the keystore passphrase (--passphrase-file,
 * SMIMP_PASSPHRASE, or a no-echo prompt on the terminal) and the one-time
 * initialization password (--password-file or a no-echo prompt). Results
 * live in sodium_malloc'ed memory; release them with smc_secret_free. */
#ifndef SMC_PASSPHRASE_H
#define SMC_PASSPHRASE_H

#include "err.h"

#define SMC_PASSPHRASE_MAX 1024

/* The keystore passphrase. With confirm (a new keystore) a prompt asks
 * twice and an empty passphrase is refused from every source. */
int smc_passphrase_get(const char *file, const char *what, int confirm,
		       char **out, struct smc_err *e);

/* A secret from file (its first line, without the line end) or, when file
 * is NULL, from a no-echo prompt; never from the environment. */
int smc_secret_get(const char *file, const char *prompt, char **out,
		   struct smc_err *e);

#endif

/* The account a command acts for: chosen (--account or the only one),
 * its keystore opened with the passphrase, its own server found from the
 * base URL kept in the keystore, and a session opened on it. */
#ifndef SMC_ACCOUNT_H
#define SMC_ACCOUNT_H

#include "cli.h"
#include "keystore.h"
#include "login.h"

struct smc_account {
	struct smc_keystore *ks;     /* owned */
	struct smc_server server;
	struct smc_session session;  /* open after smc_account_login */
};

/* Selects and opens the account; a keystore whose initialization is not
 * finished is refused with advice to rerun init. */
int smc_account_open(struct smc_ctx *c, struct smc_account *a,
		     struct smc_err *e);

/* Finds the protocol version of the account's server and logs in. */
int smc_account_login(struct smc_ctx *c, struct smc_account *a,
		      struct smc_err *e);

/* Logs out (when logged in) and wipes everything. */
void smc_account_close(struct smc_ctx *c, struct smc_account *a);

#endif

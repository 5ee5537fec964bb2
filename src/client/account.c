/* The account a command acts for (see account.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "fsutil.h"
#include "passphrase.h"

int smc_account_open(struct smc_ctx *c, struct smc_account *a,
		     struct smc_err *e)
{
	char address[SMIMP_ADDRESS_MAX + 1], path[PATH_MAX];
	char *pass = NULL;
	int rc;

	memset(a, 0, sizeof *a);
	if (smc_ctx_home(c, e) != 0 ||
	    smc_home_select_account(&c->home, c->account_opt, address, e) != 0 ||
	    smc_home_keystore_path(&c->home, address, path, sizeof path, e) != 0 ||
	    smc_passphrase_get(c->passphrase_file, address, 0, &pass, e) != 0)
		return -1;
	rc = smc_keystore_open(path, pass, &a->ks, e);
	smc_secret_free(pass);
	if (rc != 0)
		return -1;
	if (a->ks->state != SMC_KS_READY) {
		smc_fail(e, SMC_EXIT_CONFIG,
			 "the initialization of %s is not finished: run "
			 "smimp init %s again", address, address);
		smc_account_close(c, a);
		return -1;
	}
	return 0;
}

int smc_account_login(struct smc_ctx *c, struct smc_account *a,
		      struct smc_err *e)
{
	struct smc_resolver r;

	if (smc_ctx_resolver(c, &r, e) != 0 ||
	    smc_resolve_server_at(&r, smimp_address_domain(a->ks->address),
				  a->ks->base_url, &a->server, e) != 0)
		return -1;
	smc_say(c, "logging in as %s", a->ks->address);
	if (smc_login(c->t, &a->server, a->ks->address, &a->ks->master.kp.sk,
		      &a->session, e) == 0)
		return 0;
	{
		/* A master key rotation that did not finish (see
		 * cmd_rotate_master.c) explains a refused login. */
		char dir[PATH_MAX], rot[PATH_MAX + 32];
		struct smc_err ignored;

		if (smc_home_account_dir(&c->home, a->ks->address, 0, dir,
					 sizeof dir, &ignored) == 0 &&
		    (size_t)snprintf(rot, sizeof rot, "%s/keystore.rotating",
				     dir) < sizeof rot &&
		    smc_path_exists(rot)) {
			size_t n = strlen(e->message);

			snprintf(e->message + n, sizeof e->message - n,
				 ". A master key rotation did not finish: run "
				 "smimp rotate-master-key to complete it");
		}
	}
	return -1;
}

void smc_account_close(struct smc_ctx *c, struct smc_account *a)
{
	if (a->session.session != NULL)
		smc_logout(c->t, &a->session);
	smc_keystore_free(a->ks);
	memset(a, 0, sizeof *a);
}

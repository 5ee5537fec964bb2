/* smimp accounts: the accounts of this home (no passphrase needed). */
#include <stdio.h>

#include "cli.h"

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct smc_args sa;
	char **v;
	size_t n;
	int k;

	k = smc_args_parse(c, argc, argv, NULL, 0, &sa, e);
	if (k != 0)
		return k;
	if (smc_ctx_home(c, e) != 0 || smc_home_accounts(&c->home, &v, &n, e) != 0)
		return -1;
	if (c->json) {
		json_t *a = json_array();

		for (size_t i = 0; a != NULL && i < n; i++)
			json_array_append_new(a, json_string(v[i]));
		k = a != NULL ? smc_print_json(a, e)
			      : smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		json_decref(a);
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", v[i]);
		k = 0;
	}
	smc_home_accounts_free(v, n);
	return k;
}

const struct smc_command smc_cmd_accounts = {
	"accounts", "[--json]",
	"List the accounts that have a keystore in this home.",
	"\nOne address per line, sorted; with --json a JSON array. Use one of\n"
	"them with the global option --account when there are several.\n",
	run,
};

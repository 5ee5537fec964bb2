/* The home directory and accounts (see home.h). Directory entries under
 * accounts/ are checked as addresses before use; anything else is ignored. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "home.h"

int smc_home_open(struct smc_home *h, const char *opt_home, struct smc_err *e)
{
	const char *dir = opt_home;
	char accounts[PATH_MAX];
	int n;

	if (dir == NULL || dir[0] == '\0')
		dir = getenv("SMIMP_HOME");
	if (dir != NULL && dir[0] != '\0') {
		n = snprintf(h->dir, sizeof h->dir, "%s", dir);
	} else {
		const char *home = getenv("HOME");

		if (home == NULL || home[0] != '/')
			return smc_fail(e, SMC_EXIT_CONFIG,
					"no home directory: set HOME, "
					"SMIMP_HOME or use --home DIR");
		n = snprintf(h->dir, sizeof h->dir, "%s/.smimp", home);
	}
	if (n < 0 || (size_t)n >= sizeof h->dir - 64)
		return smc_fail(e, SMC_EXIT_CONFIG, "home path too long");
	if (smc_dir_ensure(h->dir, e) != 0)
		return -1;
	if (smc_home_path(h, "accounts", accounts, sizeof accounts, e) != 0)
		return -1;
	return smc_dir_ensure(accounts, e);
}

int smc_home_path(const struct smc_home *h, const char *rel, char *out,
		  size_t out_size, struct smc_err *e)
{
	int n = snprintf(out, out_size, "%s/%s", h->dir, rel);

	if (n < 0 || (size_t)n >= out_size)
		return smc_fail(e, SMC_EXIT_CONFIG, "path too long");
	return 0;
}

int smc_home_account_dir(const struct smc_home *h, const char *address,
			 int create, char *out, size_t out_size,
			 struct smc_err *e)
{
	char rel[SMIMP_ADDRESS_MAX + 16];

	snprintf(rel, sizeof rel, "accounts/%s", address);
	if (smc_home_path(h, rel, out, out_size, e) != 0)
		return -1;
	return create ? smc_dir_ensure(out, e) : 0;
}

int smc_home_keystore_path(const struct smc_home *h, const char *address,
			   char *out, size_t out_size, struct smc_err *e)
{
	char rel[SMIMP_ADDRESS_MAX + 32];

	snprintf(rel, sizeof rel, "accounts/%s/keystore", address);
	return smc_home_path(h, rel, out, out_size, e);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void smc_home_accounts_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int smc_home_accounts(const struct smc_home *h, char ***out, size_t *n,
		      struct smc_err *e)
{
	char dir[PATH_MAX], ks[PATH_MAX];
	char **v = NULL;
	size_t count = 0, cap = 0;
	struct dirent *d;
	DIR *dp;

	*out = NULL;
	*n = 0;
	if (smc_home_path(h, "accounts", dir, sizeof dir, e) != 0)
		return -1;
	dp = opendir(dir);
	if (dp == NULL)
		return smc_fail(e, SMC_EXIT_CONFIG, "cannot read %s", dir);
	while ((d = readdir(dp)) != NULL) {
		char norm[SMIMP_ADDRESS_MAX + 1];

		if (!smimp_address_is_normal(d->d_name, strlen(d->d_name)))
			continue;
		if (smc_home_keystore_path(h, d->d_name, ks, sizeof ks, e) != 0 ||
		    !smc_path_exists(ks))
			continue;
		snprintf(norm, sizeof norm, "%s", d->d_name);
		if (count == cap) {
			size_t ncap = cap == 0 ? 8 : cap * 2;
			char **nv = realloc(v, ncap * sizeof *nv);

			if (nv == NULL)
				goto oom;
			v = nv;
			cap = ncap;
		}
		if ((v[count] = strdup(norm)) == NULL)
			goto oom;
		count++;
	}
	closedir(dp);
	if (count > 0)
		qsort(v, count, sizeof *v, cmp_str);
	*out = v;
	*n = count;
	return 0;
oom:
	closedir(dp);
	smc_home_accounts_free(v, count);
	return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
}

int smc_home_select_account(const struct smc_home *h, const char *opt_account,
			    char out[SMIMP_ADDRESS_MAX + 1], struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	char ks[PATH_MAX];
	char **v;
	size_t n;

	out[0] = '\0';
	if (opt_account != NULL) {
		if (smimp_address_normalize_str(out, opt_account, &le) !=
		    SMIMP_OK)
			return smc_fail(e, SMC_EXIT_USAGE, "--account: %s",
					le.message);
		if (smc_home_keystore_path(h, out, ks, sizeof ks, e) != 0)
			return -1;
		if (!smc_path_exists(ks))
			return smc_fail(e, SMC_EXIT_NOINPUT,
					"no account %s in %s (smimp accounts "
					"lists them)", out, h->dir);
		return 0;
	}
	if (smc_home_accounts(h, &v, &n, e) != 0)
		return -1;
	if (n == 1) {
		snprintf(out, SMIMP_ADDRESS_MAX + 1, "%s", v[0]);
		smc_home_accounts_free(v, n);
		return 0;
	}
	smc_home_accounts_free(v, n);
	if (n == 0)
		return smc_fail(e, SMC_EXIT_NOINPUT,
				"no account in %s: create one with "
				"smimp init ADDRESS", h->dir);
	return smc_fail(e, SMC_EXIT_USAGE,
			"%zu accounts in %s: choose one with --account ADDRESS "
			"(smimp accounts lists them)", n, h->dir);
}

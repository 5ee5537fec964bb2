/* smimpd's account commands: add (prints the one-time initialization
 * password, spec 11.1), list, remove, quota. Addresses come from the command
 * line and are checked and normalized like any other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "crypto.h"
#include "smimp/address.h"
#include "smimp/hash.h"
#include "smimp/hex.h"

#define PASSWORD_BYTES 16   /* 128 random bits, written as 32 hex digits */

/* LOCAL or LOCAL#DOMAIN to a normalized address. With no domain the one
 * hosted domain is meant; with several the operator must name one. */
static int resolve(const struct smd_config *cfg, const char *arg,
		   bool must_be_hosted, char out[SMIMP_ADDRESS_MAX + 1])
{
	char buf[SMIMP_ADDRESS_MAX + SMIMP_DOMAIN_MAX + 2];
	struct smimp_error err = {SMIMP_OK, ""};
	const char *domain;

	if (strchr(arg, '#') == NULL) {
		if (cfg->n_domains != 1) {
			fprintf(stderr, "smimpd: this server hosts several domains: "
				"write the address as LOCAL#DOMAIN\n");
			return SMD_EXIT_DATAERR;
		}
		if (strlen(arg) > SMIMP_ADDRESS_LOCAL_MAX) {
			fprintf(stderr, "smimpd: '%.80s': local part longer than %d "
				"characters\n", arg, SMIMP_ADDRESS_LOCAL_MAX);
			return SMD_EXIT_DATAERR;
		}
		snprintf(buf, sizeof buf, "%s#%s", arg, cfg->domains[0]);
		arg = buf;
	}
	if (smimp_address_normalize_str(out, arg, &err) != SMIMP_OK) {
		fprintf(stderr, "smimpd: '%.80s' is not an address: %s\n", arg,
			err.message);
		return SMD_EXIT_DATAERR;
	}
	domain = smimp_address_domain(out);
	if (must_be_hosted && !smd_config_hosts_domain(cfg, domain)) {
		fprintf(stderr, "smimpd: %s: this server does not host %s (see "
			"'domain' in %s)\n", out, domain, cfg->path);
		return SMD_EXIT_DATAERR;
	}
	return SMD_EXIT_OK;
}

static int store_exit(enum smd_store_rc rc, const char *address)
{
	switch (rc) {
	case SMD_STORE_OK:
		return SMD_EXIT_OK;
	case SMD_STORE_NOT_FOUND:
		fprintf(stderr, "smimpd: %s: no such account\n", address);
		return SMD_EXIT_NOUSER;
	case SMD_STORE_CONFLICT:
		fprintf(stderr, "smimpd: %s: the account exists already\n", address);
		return SMD_EXIT_CANTCREAT;
	case SMD_STORE_BUSY:
		fprintf(stderr, "smimpd: the database is locked; try again\n");
		return SMD_EXIT_UNAVAILABLE;
	case SMD_STORE_ERROR:
		break;
	}
	fprintf(stderr, "smimpd: database error (see the messages above)\n");
	return SMD_EXIT_SOFTWARE;
}

/* Arguments of the write functions below. */
struct op_arg {
	struct smd_db *db;
	const char *address;
	const struct smd_account_new *acct;
	long long quota;
};

static enum smd_store_rc add_fn(struct smd_txn *txn, void *arg)
{
	const struct op_arg *a = arg;

	return a->db->ops->account_add(txn, a->acct);
}

static enum smd_store_rc remove_fn(struct smd_txn *txn, void *arg)
{
	const struct op_arg *a = arg;

	return a->db->ops->account_remove(txn, a->address);
}

static enum smd_store_rc quota_fn(struct smd_txn *txn, void *arg)
{
	const struct op_arg *a = arg;

	return a->db->ops->account_set_quota(txn, a->address, a->quota);
}

/* account add LOCAL[#DOMAIN]: the password goes to stdout, and only after
 * the account is committed. The store keeps only an Argon2id hash of
 * H("smimp/0.1/init-password", address, password), the value the client
 * sends as password_hash (11.1). */
static int cmd_add(const struct smd_config *cfg, struct smd_db *db,
		   const char *arg)
{
	char address[SMIMP_ADDRESS_MAX + 1];
	uint8_t raw[PASSWORD_BYTES];
	char password[2 * PASSWORD_BYTES + 1];
	char pwhash[SMD_PWHASH_STR_BYTES];
	struct smimp_hash h;
	struct smimp_field f[2];
	struct smd_account_new acct;
	struct op_arg a;
	int rc = resolve(cfg, arg, true, address);

	if (rc != SMD_EXIT_OK)
		return rc;
	smd_random(raw, sizeof raw);
	smimp_hex_encode(password, sizeof password, raw, sizeof raw);
	f[0] = smimp_text(address);
	f[1] = smimp_text(password);
	smimp_hash_fields(&h, SMIMP_LABEL_INIT_PASSWORD, f, 2);
	if (smd_pwhash(pwhash, h.b, sizeof h.b) != 0) {
		fprintf(stderr, "smimpd: cannot hash the password: out of memory\n");
		rc = SMD_EXIT_SOFTWARE;
		goto out;
	}
	memset(&acct, 0, sizeof acct);
	acct.address = address;
	acct.domain = smimp_address_domain(address);
	acct.pwhash = pwhash;
	acct.now = (int64_t)time(NULL);
	acct.expires_at = acct.now + (int64_t)cfg->init_password_days * 86400;
	acct.quota_limit = cfg->default_quota;
	a = (struct op_arg){db, address, &acct, 0};
	rc = store_exit(smd_db_write(db, add_fn, &a), address);
	if (rc != SMD_EXIT_OK)
		goto out;
	if (printf("%s\n", password) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "smimpd: cannot write the password to stdout; "
			"remove the account and add it again\n");
		rc = SMD_EXIT_SOFTWARE;
	}
out:
	smd_wipe(raw, sizeof raw);
	smd_wipe(password, sizeof password);
	smd_wipe(&h, sizeof h);
	return rc;
}

static bool list_one(const struct smd_account *a, void *arg)
{
	char quota[32];

	(void)arg;
	if (a->quota_limit < 0)
		snprintf(quota, sizeof quota, "unlimited");
	else
		snprintf(quota, sizeof quota, "%lld", a->quota_limit);
	printf("%s\t%s\t%lld\t%s\n", a->address,
	       a->initialized ? "initialized" : "uninitialized", a->used_bytes,
	       quota);
	return true;
}

static int cmd_list(struct smd_db *db)
{
	int rc = store_exit(db->ops->account_list(db->st, list_one, NULL), "");

	if (fflush(stdout) != 0 && rc == SMD_EXIT_OK) {
		fprintf(stderr, "smimpd: cannot write to stdout\n");
		rc = SMD_EXIT_SOFTWARE;
	}
	return rc;
}

static int cmd_remove(const struct smd_config *cfg, struct smd_db *db,
		      const char *arg)
{
	char address[SMIMP_ADDRESS_MAX + 1];
	struct op_arg a;
	int rc = resolve(cfg, arg, false, address);

	if (rc != SMD_EXIT_OK)
		return rc;
	a = (struct op_arg){db, address, NULL, 0};
	return store_exit(smd_db_write(db, remove_fn, &a), address);
}

static int cmd_quota(const struct smd_config *cfg, struct smd_db *db,
		     const char *arg, const char *bytes)
{
	char address[SMIMP_ADDRESS_MAX + 1];
	struct op_arg a;
	long long q;
	int rc = resolve(cfg, arg, false, address);

	if (rc != SMD_EXIT_OK)
		return rc;
	if (!smd_config_parse_size(bytes, true, &q)) {
		fprintf(stderr, "smimpd: '%.40s': expected a number of bytes (suffix "
			"k, m or g allowed) or unlimited\n", bytes);
		return SMD_EXIT_DATAERR;
	}
	a = (struct op_arg){db, address, NULL, q};
	return store_exit(smd_db_write(db, quota_fn, &a), address);
}

int smd_cli_account(const struct smd_config *cfg, struct smd_db *db, int argc,
		    char **argv)
{
	if (argc == 2 && strcmp(argv[0], "add") == 0)
		return cmd_add(cfg, db, argv[1]);
	if (argc == 1 && strcmp(argv[0], "list") == 0)
		return cmd_list(db);
	if (argc == 2 && strcmp(argv[0], "remove") == 0)
		return cmd_remove(cfg, db, argv[1]);
	if (argc == 3 && strcmp(argv[0], "quota") == 0)
		return cmd_quota(cfg, db, argv[1], argv[2]);
	fprintf(stderr, "smimpd: usage: smimpd [--config FILE] account "
		"add LOCAL[#DOMAIN] | list | remove ADDRESS | quota ADDRESS BYTES\n");
	return SMD_EXIT_USAGE;
}

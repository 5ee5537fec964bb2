/* smimpd: the SMIMP server. Parses the command line, reads the
 * configuration, opens the store and runs the command asked for. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "check.h"
#include "cli.h"
#include "config.h"
#include "http.h"
#include "pow_nonce.h"
#include "request.h"
#include "smimp/key.h"
#include "store.h"

#ifndef SMD_VERSION
#define SMD_VERSION "unknown"
#endif
#define DEFAULT_CONFIG "/etc/smimpd.conf"

static const char usage_text[] =
	"usage: smimpd [--config FILE] COMMAND [ARGUMENTS]\n"
	"\n"
	"Commands:\n"
	"  serve                        serve SMIMP over HTTPS until SIGTERM or SIGINT;\n"
	"                               SIGHUP reloads the TLS certificate and key\n"
	"  check                        check the configuration and the certificate\n"
	"                               and key (valid, for public_url's host);\n"
	"                               opens no database\n"
	"  account add LOCAL[#DOMAIN]   create an account and print its one-time\n"
	"                               initialization password\n"
	"  account list                 list accounts: address, state, used bytes, quota\n"
	"  account remove ADDRESS       delete an account and everything it holds\n"
	"  account quota ADDRESS BYTES  set an account's quota (k, m, g suffixes, or\n"
	"                               \"unlimited\")\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE  configuration file (default " DEFAULT_CONFIG ")\n"
	"  -h, --help         print this help and exit\n"
	"  -V, --version      print the version and exit\n"
	"\n"
	"See smimpd(8) for the configuration keys and exit codes.\n";

static int usage_error(const char *why)
{
	fprintf(stderr, "smimpd: %s\n%s", why, usage_text);
	return SMD_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const char *config_path = DEFAULT_CONFIG;
	struct smimp_error err = {SMIMP_OK, ""};
	struct smd_config *cfg = NULL;
	struct smd_db db = {NULL, NULL};
	struct smd_server srv;
	struct smd_pow_key pow_key;
	int i, rc;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage_text, stdout);
			return fflush(stdout) == 0 ? SMD_EXIT_OK : SMD_EXIT_SOFTWARE;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			puts("smimpd " SMD_VERSION " (SMIMP 0.1)");
			return fflush(stdout) == 0 ? SMD_EXIT_OK : SMD_EXIT_SOFTWARE;
		}
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (++i == argc)
				return usage_error("--config needs a file name");
			config_path = argv[i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			config_path = a + 9;
		} else if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else {
			fprintf(stderr, "smimpd: unknown option '%.40s'\n", a);
			return usage_error("see the usage below");
		}
	}
	if (i == argc)
		return usage_error("no command given");
	if (strcmp(argv[i], "serve") == 0 || strcmp(argv[i], "check") == 0) {
		if (argc - i != 1)
			return usage_error("serve and check take no arguments");
	} else if (strcmp(argv[i], "account") == 0) {
		if (argc - i < 2)
			return usage_error("account needs a subcommand");
	} else {
		fprintf(stderr, "smimpd: unknown command '%.40s'\n", argv[i]);
		return usage_error("see the usage below");
	}

	if (smimp_init() != 0) {
		fputs("smimpd: cannot initialize libsodium\n", stderr);
		return SMD_EXIT_SOFTWARE;
	}
	/* The database and anything else created is the daemon's alone. */
	umask(077);
	if (smd_config_load(&cfg, config_path, &err) != SMIMP_OK) {
		fprintf(stderr, "smimpd: %s\n", err.message);
		return SMD_EXIT_CONFIG_ERR;
	}
	if (strcmp(argv[i], "account") != 0 &&
	    (cfg->tls_cert == NULL || cfg->tls_key == NULL)) {
		fprintf(stderr, "smimpd: %s: serve needs tls_cert and tls_key\n",
			cfg->path);
		smd_config_free(cfg);
		return SMD_EXIT_CONFIG_ERR;
	}
	if (strcmp(argv[i], "check") == 0) {
		rc = smd_check(cfg, time(NULL));
		smd_config_free(cfg);
		return rc;
	}
	if (smd_db_open(&db, cfg->database, &err) != SMIMP_OK) {
		fprintf(stderr, "smimpd: %s\n", err.message);
		smd_config_free(cfg);
		return SMD_EXIT_UNAVAILABLE;
	}
	if (strcmp(argv[i], "serve") == 0) {
		srv.cfg = cfg;
		srv.db = &db;
		srv.pow_key = &pow_key;
		if (smd_db_secret(&db, SMD_POW_KEY_NAME, pow_key.b,
				  sizeof pow_key.b) != SMD_STORE_OK) {
			fputs("smimpd: cannot read or store the proof-of-work "
			      "nonce key\n", stderr);
			rc = SMD_EXIT_UNAVAILABLE;
		} else {
			rc = smd_http_serve(&srv);
		}
		sodium_memzero(&pow_key, sizeof pow_key);
	} else {
		rc = smd_cli_account(cfg, &db, argc - i - 1, argv + i + 1);
	}
	smd_db_close(&db);
	smd_config_free(cfg);
	return rc;
}

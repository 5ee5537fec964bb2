/* smimp: the SMIMP client. Parses the global options, finds the command in
 * the table and runs it; every failure ends with one line on stderr and
 * the exit code of docs/smimp.1. Untrusted input: the command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smimp/key.h"

#include "cli.h"

#define SMIMP_CLIENT_VERSION "0.1.0"

static const struct smc_command *const commands[] = {
	&smc_cmd_init,
	&smc_cmd_whois,
	&smc_cmd_pins,
	&smc_cmd_accounts,
	&smc_cmd_keys,
	&smc_cmd_rotate_master_key,
	&smc_cmd_profile,
	&smc_cmd_avatar,
	&smc_cmd_whitelist,
	&smc_cmd_blacklist,
	&smc_cmd_quota,
	&smc_cmd_send,
	&smc_cmd_sms,
	&smc_cmd_send_key,
	&smc_cmd_send_custom,
	&smc_cmd_outbox,
	&smc_cmd_list,
	&smc_cmd_read,
	&smc_cmd_mark,
	&smc_cmd_mv,
	&smc_cmd_rm,
	&smc_cmd_folders,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const char global_help[] =
	"Global options (before the command):\n"
	"  --home DIR              state directory (default $SMIMP_HOME, else\n"
	"                          ~/.smimp); created with mode 0700\n"
	"  --account ADDRESS       the account to act for when the home holds\n"
	"                          several\n"
	"  --cacert FILE           trust the CA certificates in FILE instead of\n"
	"                          the system's (private CAs, tests)\n"
	"  --connect-to H:P:A:Q    connect to A:Q when a URL names H:P (curl's\n"
	"                          syntax; repeatable; tests, private networks)\n"
	"  --passphrase-file FILE  keystore passphrase from the first line of\n"
	"                          FILE (else $SMIMP_PASSPHRASE, else a prompt)\n"
	"  --json                  machine-readable output (listing commands)\n"
	"  -q, --quiet             no progress lines on stderr\n"
	"  -v, --verbose           log each HTTPS request (never its content)\n"
	"  -h, --help              this help; smimp COMMAND --help for a command\n"
	"  --version               print the version\n";

static void usage(FILE *f)
{
	fprintf(f, "usage: smimp [GLOBAL OPTIONS] COMMAND [ARGS]\n\n"
		   "The SMIMP client: end-to-end encrypted messages with "
		   "pinned identities.\n\nCommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name,
			commands[i]->summary);
	fprintf(f, "\n%s\nSee smimp(1) for the whole manual.\n", global_help);
}

static const struct smc_command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

/* A global option's value: "--name value" or "--name=value". */
static int global_value(int argc, char **argv, int *i, const char *name,
			const char **out)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*out = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "smimp: %s needs a value\n", name);
		exit(SMC_EXIT_USAGE);
	}
	*out = argv[++*i];
	return 1;
}

int main(int argc, char **argv)
{
	struct smc_ctx c;
	struct smc_err e;
	const struct smc_command *cmd;
	const char *v;
	int i, rc;

	memset(&c, 0, sizeof c);
	memset(&e, 0, sizeof e);
	if (smimp_init() != 0) {
		fprintf(stderr, "smimp: cannot initialize libsodium\n");
		return SMC_EXIT_SOFTWARE;
	}
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("smimp %s (protocol 0.1)\n", SMIMP_CLIENT_VERSION);
			return 0;
		} else if (strcmp(a, "--json") == 0) {
			c.json = 1;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			c.quiet = 1;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			c.topts.verbose++;
		} else if (global_value(argc, argv, &i, "--home", &v)) {
			c.home_opt = v;
		} else if (global_value(argc, argv, &i, "--account", &v)) {
			c.account_opt = v;
		} else if (global_value(argc, argv, &i, "--passphrase-file",
					&v)) {
			c.passphrase_file = v;
		} else if (global_value(argc, argv, &i, "--cacert", &v)) {
			if (access(v, R_OK) != 0) {
				fprintf(stderr, "smimp: --cacert %s: cannot "
					"read the file\n", v);
				return SMC_EXIT_NOINPUT;
			}
			c.topts.cacert = v;
		} else if (global_value(argc, argv, &i, "--connect-to", &v)) {
			if (smc_transport_check_connect_to(v) != 0) {
				fprintf(stderr, "smimp: --connect-to wants "
					"HOST:PORT:ADDRESS:PORT\n");
				return SMC_EXIT_USAGE;
			}
			if (c.topts.n_connect_to == SMC_TRANSPORT_MAX_CONNECT_TO) {
				fprintf(stderr, "smimp: too many --connect-to\n");
				return SMC_EXIT_USAGE;
			}
			c.topts.connect_to[c.topts.n_connect_to++] = v;
		} else {
			fprintf(stderr, "smimp: unknown global option %.100s "
				"(smimp --help lists them)\n", a);
			return SMC_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return SMC_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 < argc && (cmd = find_command(argv[i + 1])) != NULL) {
			smc_command_help(cmd, stdout);
			return 0;
		}
		usage(stdout);
		return 0;
	}
	cmd = find_command(argv[i]);
	if (cmd == NULL) {
		fprintf(stderr, "smimp: unknown command %.100s (smimp --help "
			"lists them)\n", argv[i]);
		return SMC_EXIT_USAGE;
	}
	rc = cmd->run(&c, argc - i - 1, argv + i + 1, &e);
	if (rc == SMC_OPT_HELP) {
		smc_command_help(cmd, stdout);
		rc = 0;
	} else if (rc != 0) {
		fprintf(stderr, "smimp %s: %s\n", cmd->name, e.message);
		if (e.exit_code == SMC_EXIT_USAGE && e.http_status == 0)
			fprintf(stderr, "usage: smimp %s %s\n", cmd->name,
				cmd->usage);
		rc = e.exit_code != 0 ? e.exit_code : SMC_EXIT_SOFTWARE;
	}
	smc_transport_free(c.t);
	if (fflush(stdout) != 0 && rc == 0)
		rc = SMC_EXIT_IOERR;
	return rc;
}

/* What every command gets: the global options, the home directory and the
 * transport (both opened on first use), and the command table's entry
 * type. One cmd_<verb>.c per command defines one struct smc_command. */
#ifndef SMC_CLI_H
#define SMC_CLI_H

#include <stdio.h>
#include <jansson.h>

#include "err.h"
#include "home.h"
#include "resolve.h"
#include "transport.h"

struct smc_ctx {
	const char *home_opt;          /* --home */
	const char *account_opt;       /* --account */
	const char *passphrase_file;   /* --passphrase-file */
	struct smc_transport_opts topts;
	int json;                      /* --json */
	int quiet;                     /* --quiet */
	int home_open;
	struct smc_home home;
	struct smc_transport *t;
};

struct smc_command {
	const char *name;
	const char *usage;    /* arguments after the name */
	const char *summary;  /* one line for the command list */
	const char *help;     /* the rest of `smimp CMD --help` */
	int (*run)(struct smc_ctx *c, int argc, char **argv, struct smc_err *e);
};

int smc_ctx_home(struct smc_ctx *c, struct smc_err *e);
int smc_ctx_transport(struct smc_ctx *c, struct smc_err *e);
/* Home and transport together, as resolution needs them. */
int smc_ctx_resolver(struct smc_ctx *c, struct smc_resolver *r,
		     struct smc_err *e);

/* Progress for a person on stderr, unless --quiet. */
void smc_say(const struct smc_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Writes v as indented, ASCII-only JSON and a newline to stdout. */
int smc_print_json(const json_t *v, struct smc_err *e);

/* ---- per-command option parsing ---- */

struct smc_opt {
	const char *name;   /* without the leading "--" */
	int has_arg;
};

struct smc_optstate {
	int argc;
	char **argv;
	int i;
	int only_positional; /* after "--" */
};

#define SMC_OPT_END (-1)
#define SMC_OPT_POS (-2)
#define SMC_OPT_ERR (-3)
#define SMC_OPT_HELP (-4)

/* Next option: its index in opts (with *arg set when it takes one; both
 * "--name value" and "--name=value" work), SMC_OPT_POS with *arg the
 * positional argument, SMC_OPT_HELP for -h/--help, SMC_OPT_END, or
 * SMC_OPT_ERR with e filled (SMC_EXIT_USAGE). --json is understood by every
 * command and sets c->json. */
int smc_opt_next(struct smc_ctx *c, struct smc_optstate *st,
		 const struct smc_opt *opts, const char **arg,
		 struct smc_err *e);

/* "unexpected argument ARG" (SMC_EXIT_USAGE); returns -1. */
int smc_opt_unexpected(const char *arg, struct smc_err *e);

/* The arguments of a command whose options only set a value or a flag:
 * the positional ones, and by option index the last value given ("" for
 * a flag given, NULL for an option not given). */
#define SMC_ARGS_MAX_POS 4
#define SMC_ARGS_MAX_OPTS 8

struct smc_args {
	const char *pos[SMC_ARGS_MAX_POS];
	int npos;
	const char *val[SMC_ARGS_MAX_OPTS];
};

/* Reads all of argv with smc_opt_next into a: opts (NULL or at most
 * SMC_ARGS_MAX_OPTS entries) and at most max_pos (<= SMC_ARGS_MAX_POS)
 * positional arguments; one more is unexpected. Returns 0, SMC_OPT_HELP,
 * or -1 with e filled. */
int smc_args_parse(struct smc_ctx *c, int argc, char **argv,
		   const struct smc_opt *opts, int max_pos,
		   struct smc_args *a, struct smc_err *e);

/* All of s as a decimal number (strtol's syntax) from min to max into
 * *v; returns 0, or -1 without touching *v. */
int smc_parse_long(const char *s, long min, long max, long *v);

/* Prints `smimp NAME USAGE` and the help text to f. */
void smc_command_help(const struct smc_command *cmd, FILE *f);

/* The commands. */
extern const struct smc_command smc_cmd_init;
extern const struct smc_command smc_cmd_whois;
extern const struct smc_command smc_cmd_pins;
extern const struct smc_command smc_cmd_accounts;
extern const struct smc_command smc_cmd_keys;
extern const struct smc_command smc_cmd_rotate_master_key;
extern const struct smc_command smc_cmd_profile;
extern const struct smc_command smc_cmd_avatar;
extern const struct smc_command smc_cmd_whitelist;
extern const struct smc_command smc_cmd_blacklist;
extern const struct smc_command smc_cmd_quota;
extern const struct smc_command smc_cmd_send;
extern const struct smc_command smc_cmd_sms;
extern const struct smc_command smc_cmd_send_key;
extern const struct smc_command smc_cmd_send_custom;
extern const struct smc_command smc_cmd_outbox;
extern const struct smc_command smc_cmd_list;
extern const struct smc_command smc_cmd_read;
extern const struct smc_command smc_cmd_mark;
extern const struct smc_command smc_cmd_mv;
extern const struct smc_command smc_cmd_rm;
extern const struct smc_command smc_cmd_folders;

#endif

/* Shared command plumbing (see cli.h): lazy home and transport, progress
 * lines, JSON output and the per-command option parser. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int smc_ctx_home(struct smc_ctx *c, struct smc_err *e)
{
	if (c->home_open)
		return 0;
	if (smc_home_open(&c->home, c->home_opt, e) != 0)
		return -1;
	c->home_open = 1;
	return 0;
}

int smc_ctx_transport(struct smc_ctx *c, struct smc_err *e)
{
	if (c->t != NULL)
		return 0;
	c->t = smc_transport_new(&c->topts);
	if (c->t == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE,
				"cannot initialize libcurl");
	return 0;
}

int smc_ctx_resolver(struct smc_ctx *c, struct smc_resolver *r,
		     struct smc_err *e)
{
	if (smc_ctx_home(c, e) != 0 || smc_ctx_transport(c, e) != 0)
		return -1;
	r->t = c->t;
	r->home = &c->home;
	r->quiet = c->quiet;
	return 0;
}

void smc_say(const struct smc_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet)
		return;
	fputs("smimp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int smc_print_json(const json_t *v, struct smc_err *e)
{
	if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII) != 0 ||
	    fputc('\n', stdout) == EOF)
		return smc_fail(e, SMC_EXIT_IOERR, "cannot write the output");
	return 0;
}

int smc_opt_next(struct smc_ctx *c, struct smc_optstate *st,
		 const struct smc_opt *opts, const char **arg,
		 struct smc_err *e)
{
	const char *a, *eq;
	size_t nlen;

	*arg = NULL;
	if (st->i >= st->argc)
		return SMC_OPT_END;
	a = st->argv[st->i++];
	if (st->only_positional || a[0] != '-' || strcmp(a, "-") == 0) {
		*arg = a;
		return SMC_OPT_POS;
	}
	if (strcmp(a, "--") == 0) {
		st->only_positional = 1;
		return smc_opt_next(c, st, opts, arg, e);
	}
	if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
		return SMC_OPT_HELP;
	if (strcmp(a, "--json") == 0) {
		c->json = 1;
		return smc_opt_next(c, st, opts, arg, e);
	}
	if (a[1] != '-') {
		smc_fail(e, SMC_EXIT_USAGE, "unknown option %.100s", a);
		return SMC_OPT_ERR;
	}
	a += 2;
	eq = strchr(a, '=');
	nlen = eq != NULL ? (size_t)(eq - a) : strlen(a);
	for (int k = 0; opts != NULL && opts[k].name != NULL; k++) {
		if (strlen(opts[k].name) != nlen ||
		    strncmp(opts[k].name, a, nlen) != 0)
			continue;
		if (!opts[k].has_arg) {
			if (eq != NULL) {
				smc_fail(e, SMC_EXIT_USAGE,
					 "--%s takes no value", opts[k].name);
				return SMC_OPT_ERR;
			}
			return k;
		}
		if (eq != NULL) {
			*arg = eq + 1;
		} else if (st->i < st->argc) {
			*arg = st->argv[st->i++];
		} else {
			smc_fail(e, SMC_EXIT_USAGE, "--%s needs a value",
				 opts[k].name);
			return SMC_OPT_ERR;
		}
		return k;
	}
	smc_fail(e, SMC_EXIT_USAGE, "unknown option --%.*s", (int)nlen, a);
	return SMC_OPT_ERR;
}

int smc_opt_unexpected(const char *arg, struct smc_err *e)
{
	return smc_fail(e, SMC_EXIT_USAGE, "unexpected argument %.100s", arg);
}

int smc_args_parse(struct smc_ctx *c, int argc, char **argv,
		   const struct smc_opt *opts, int max_pos,
		   struct smc_args *a, struct smc_err *e)
{
	struct smc_optstate st = {argc, argv, 0, 0};
	const char *arg;
	int k;

	assert(max_pos <= SMC_ARGS_MAX_POS);
	memset(a, 0, sizeof *a);
	while ((k = smc_opt_next(c, &st, opts, &arg, e)) != SMC_OPT_END) {
		if (k == SMC_OPT_HELP)
			return SMC_OPT_HELP;
		if (k == SMC_OPT_ERR)
			return -1;
		if (k == SMC_OPT_POS) {
			if (a->npos == max_pos)
				return smc_opt_unexpected(arg, e);
			a->pos[a->npos++] = arg;
			continue;
		}
		assert(k < SMC_ARGS_MAX_OPTS);
		a->val[k] = arg != NULL ? arg : "";
	}
	return 0;
}

int smc_parse_long(const char *s, long min, long max, long *v)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || n < min || n > max)
		return -1;
	*v = n;
	return 0;
}

void smc_command_help(const struct smc_command *cmd, FILE *f)
{
	fprintf(f, "usage: smimp [GLOBAL OPTIONS] %s%s%s\n\n%s\n%s", cmd->name,
		cmd->usage[0] != '\0' ? " " : "", cmd->usage, cmd->summary,
		cmd->help);
}

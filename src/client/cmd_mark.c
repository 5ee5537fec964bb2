/* smimp mark ID read|unread, smimp mv ID FOLDER|--root and smimp rm ID
 * [--yes]: the message calls of spec 11.5 (POST message_read/{id}, POST
 * message_move/{id}, DELETE message/{id}). Untrusted input: the command
 * line (ids and folder names are checked before they enter a URL) and the
 * server's error answers. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "cli.h"
#include "mbox.h"

/* Opens the account, logs in, makes one call, closes. */
static int one_call(struct smc_ctx *c, enum smc_method m, const char *endpoint,
		    const json_t *body, const char *id, struct smc_err *e)
{
	struct smc_account a;
	int rc = -1;

	if (smc_account_open(c, &a, e) != 0)
		return -1;
	if (smc_account_login(c, &a, e) == 0) {
		rc = smc_api_call(c->t, &a.server, &a.session, m, endpoint,
				  body, 64 * 1024, NULL, e);
		if (rc != 0 && e->http_status == 404 &&
		    strcmp(e->server_code, "not_found") == 0)
			smc_fail(e, SMC_EXIT_NOINPUT,
				 "no message %s in the mailbox of %s, or no "
				 "such folder (server: %.200s)", id,
				 a.ks->address, e->message);
	}
	smc_account_close(c, &a);
	return rc;
}

static int run_mark(struct smc_ctx *c, int argc, char **argv,
		    struct smc_err *e)
{
	struct smc_args sa;
	char id[SMC_MBOX_ID_LEN + 1], endpoint[128];
	json_t *body;
	int rc, read;

	rc = smc_args_parse(c, argc, argv, NULL, 2, &sa, e);
	if (rc != 0)
		return rc;
	if (sa.npos != 2)
		return smc_fail(e, SMC_EXIT_USAGE, "mark wants an id and read "
				"or unread");
	if (smc_mbox_id(id, sa.pos[0], e) != 0)
		return -1;
	if (strcmp(sa.pos[1], "read") == 0)
		read = 1;
	else if (strcmp(sa.pos[1], "unread") == 0)
		read = 0;
	else
		return smc_fail(e, SMC_EXIT_USAGE, "mark %s what? read or "
				"unread", id);
	snprintf(endpoint, sizeof endpoint, "message_read/%s", id);
	body = json_pack("{s:b}", "read", read);
	if (body == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	rc = one_call(c, SMC_POST, endpoint, body, id, e);
	json_decref(body);
	if (rc == 0)
		smc_say(c, "message %s marked %s", id, read ? "read" : "unread");
	return rc;
}

enum { MV_ROOT };
static const struct smc_opt mv_opts[] = {{"root", 0}, {NULL, 0}};

static int run_mv(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct smc_args sa;
	char id[SMC_MBOX_ID_LEN + 1], endpoint[128];
	json_t *body;
	int n, rc;

	rc = smc_args_parse(c, argc, argv, mv_opts, 2, &sa, e);
	if (rc != 0)
		return rc;
	n = sa.npos;
	if (n < 1 || (n == 2) == (sa.val[MV_ROOT] != NULL))
		return smc_fail(e, SMC_EXIT_USAGE, "mv wants an id and either a "
				"folder name or --root");
	if (smc_mbox_id(id, sa.pos[0], e) != 0)
		return -1;
	if (n == 2 && smc_mbox_folder(sa.pos[1], "FOLDER", e) != 0)
		return -1;
	snprintf(endpoint, sizeof endpoint, "message_move/%s", id);
	body = n == 2 ? json_pack("{s:s}", "folder", sa.pos[1])
		      : json_pack("{s:n}", "folder");
	if (body == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	rc = one_call(c, SMC_POST, endpoint, body, id, e);
	json_decref(body);
	if (rc != 0 && e->http_status == 409)
		smc_fail_prefix(e, "the folder holds another message type");
	if (rc == 0)
		smc_say(c, "message %s moved to %s", id,
			n == 2 ? sa.pos[1] : "the root folder");
	return rc;
}

enum { RM_YES };
static const struct smc_opt rm_opts[] = {{"yes", 0}, {NULL, 0}};

static int run_rm(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct smc_args sa;
	char id[SMC_MBOX_ID_LEN + 1], endpoint[128], answer[16];
	int rc;

	rc = smc_args_parse(c, argc, argv, rm_opts, 1, &sa, e);
	if (rc != 0)
		return rc;
	if (sa.npos != 1)
		return smc_fail(e, SMC_EXIT_USAGE, "rm wants a message id");
	if (smc_mbox_id(id, sa.pos[0], e) != 0)
		return -1;
	if (sa.val[RM_YES] == NULL && isatty(STDIN_FILENO) &&
	    isatty(STDERR_FILENO)) {
		fprintf(stderr, "Delete message %s for good (the server keeps "
			"no copy)? [y/N] ", id);
		if (fgets(answer, sizeof answer, stdin) == NULL ||
		    (answer[0] != 'y' && answer[0] != 'Y'))
			return smc_fail(e, SMC_EXIT_USAGE, "not deleted");
	}
	snprintf(endpoint, sizeof endpoint, "message/%s", id);
	rc = one_call(c, SMC_DELETE, endpoint, NULL, id, e);
	if (rc == 0)
		smc_say(c, "message %s deleted", id);
	return rc;
}

const struct smc_command smc_cmd_mark = {
	"mark", "ID read|unread",
	"Mark a message read or unread.",
	"\nSets the read flag of message ID on the account's server\n"
	"(POST message_read/ID). smimp list shows unread messages with N.\n",
	run_mark,
};

const struct smc_command smc_cmd_mv = {
	"mv", "ID FOLDER | ID --root",
	"Move a message to a folder or back to the root folder.",
	"\nMoves message ID into FOLDER, a folder of the message's own type\n"
	"(smimp folders lists them), or with --root back to the root folder\n"
	"(POST message_move/ID).\n\n"
	"  --root   move to the root folder\n",
	run_mv,
};

const struct smc_command smc_cmd_rm = {
	"rm", "ID [--yes]",
	"Delete a message for good.",
	"\nDeletes message ID on the account's server (DELETE message/ID); the\n"
	"server keeps no copy. On a terminal it asks first; with --yes, or when\n"
	"stdin is not a terminal (scripts), it does not ask.\n\n"
	"  --yes    do not ask\n",
	run_rm,
};

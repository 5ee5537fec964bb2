/* smimp list: the messages of one folder of one type (GET folder/{type}
 * [/{folder}]?limit=&after=), newest first, with id, date, sender, size and
 * read flag; --all follows the server's cursors. Untrusted input: the
 * listing (every row is checked, the cursor bounded and escaped before it
 * goes back into a URL). */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "cli.h"
#include "keymaint.h"
#include "mbox.h"

#define LIST_DEFAULT_LIMIT 50
#define LIST_MAX_PAGES 100000  /* --all stops after this many pages */

enum { OPT_FOLDER, OPT_TYPE, OPT_UNREAD, OPT_LIMIT, OPT_ALL, OPT_AFTER };
static const struct smc_opt opts[] = {
	{"folder", 1}, {"type", 1}, {"unread", 0}, {"limit", 1}, {"all", 0},
	{"after", 1}, {NULL, 0},
};

struct list_args {
	const char *folder;
	const char *type;
	const char *after;
	int unread, all;
	long limit;
};

static int parse_args(struct smc_ctx *c, int argc, char **argv,
		      struct list_args *la, struct smc_err *e)
{
	struct smc_optstate st = {argc, argv, 0, 0};
	const char *arg;
	int k;

	la->type = "email";
	la->limit = LIST_DEFAULT_LIMIT;
	while ((k = smc_opt_next(c, &st, opts, &arg, e)) != SMC_OPT_END) {
		switch (k) {
		case SMC_OPT_HELP:
			return SMC_OPT_HELP;
		case SMC_OPT_ERR:
			return -1;
		case SMC_OPT_POS:
			return smc_opt_unexpected(arg, e);
		case OPT_FOLDER:
			la->folder = arg;
			break;
		case OPT_TYPE:
			la->type = arg;
			break;
		case OPT_UNREAD:
			la->unread = 1;
			break;
		case OPT_ALL:
			la->all = 1;
			break;
		case OPT_AFTER:
			la->after = arg;
			break;
		case OPT_LIMIT:
			/* Digits only: no sign or space first. */
			if (arg[0] < '0' || arg[0] > '9' ||
			    smc_parse_long(arg, 1, 100000, &la->limit) != 0)
				return smc_fail(e, SMC_EXIT_USAGE,
						"--limit wants a number from 1 "
						"to 100000");
			break;
		}
	}
	if (smc_mbox_type(la->type, "--type", e) != 0)
		return -1;
	if (la->folder != NULL && smc_mbox_folder(la->folder, "--folder", e))
		return -1;
	if (la->after != NULL && (strlen(la->after) == 0 ||
				  strlen(la->after) > SMC_MBOX_CURSOR_MAX))
		return smc_fail(e, SMC_EXIT_USAGE, "--after wants a cursor "
				"that smimp list printed");
	return 0;
}

/* A cursor from the server: printable ASCII, bounded. */
static int cursor_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SMC_MBOX_CURSOR_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return 1;
}

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct list_args la;
	struct smc_account a;
	char endpoint[1024], cursor[SMC_MBOX_CURSOR_MAX + 1] = "";
	char esc[3 * SMC_MBOX_CURSOR_MAX + 1];
	json_t *out = NULL, *rows = NULL;
	long pages = 0, shown = 0;
	int rc;

	memset(&la, 0, sizeof la);
	rc = parse_args(c, argc, argv, &la, e);
	if (rc != 0)
		return rc;
	if (la.after != NULL)
		snprintf(cursor, sizeof cursor, "%s", la.after);
	if (smc_account_open(c, &a, e) != 0)
		return -1;
	rc = -1;
	rows = json_array();
	if (rows == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	if (smc_account_login(c, &a, e) != 0)
		goto out;
	/* Checking mail is when keys run low: top them up (spec 13). A
	 * failure here only warns; the listing is the job. */
	{
		struct smc_err ke = {0};

		if (smc_keymaint_auto(c, &a, NULL, &ke) != 0)
			fprintf(stderr, "smimp: warning: key top-up failed: %s\n",
				ke.message);
	}
	if (!c->json)
		printf("%-2s %-19s  %-30s %9s  %s\n", "", "received (UTC)",
		       "from", "bytes", "id");
	for (;;) {
		json_t *ans = NULL, *list, *v, *next;
		size_t i;
		int n;

		n = snprintf(endpoint, sizeof endpoint, "folder/%s%s%s?limit=%ld",
			     la.type, la.folder != NULL ? "/" : "",
			     la.folder != NULL ? la.folder : "", la.limit);
		if (cursor[0] != '\0') {
			if (smc_mbox_escape(esc, sizeof esc, cursor) != 0)
				break;
			n = snprintf(endpoint + n, sizeof endpoint - (size_t)n,
				     "&after=%s", esc);
		}
		if (smc_api_call(c->t, &a.server, &a.session, SMC_GET, endpoint,
				 NULL, SMC_API_MAX_RESPONSE, &ans, e) != 0) {
			if (e->http_status == 404)
				smc_fail_prefix(e, "no such folder%s%s of type "
						"%s (smimp folders lists them)",
						la.folder ? " " : "",
						la.folder ? la.folder : "",
						la.type);
			goto out;
		}
		list = json_object_get(ans, "messages");
		next = json_object_get(ans, "next");
		if (!json_is_array(list) ||
		    !(json_is_null(next) ||
		      (json_is_string(next) &&
		       cursor_ok(json_string_value(next))))) {
			json_decref(ans);
			smc_fail(e, SMC_EXIT_PROTOCOL, "the server's folder "
				 "listing is malformed");
			goto out;
		}
		json_array_foreach(list, i, v) {
			struct smc_mbox_row row;

			if (smc_mbox_row_parse(v, &row, e) != 0) {
				json_decref(ans);
				goto out;
			}
			if (la.unread && row.read)
				continue;
			shown++;
			if (c->json) {
				json_t *o = json_pack("{s:s, s:s, s:b, s:s, "
						      "s:I}", "message_id",
						      row.id, "received_at",
						      row.received_at, "read",
						      row.read, "from",
						      row.from, "size",
						      (json_int_t)row.size);

				if (o == NULL ||
				    json_array_append_new(rows, o) != 0) {
					json_decref(ans);
					smc_fail(e, SMC_EXIT_SOFTWARE, "oom");
					goto out;
				}
			} else {
				printf("%-2s %s  %-30s %9lld  %s\n",
				       row.read ? "" : "N", row.received_at,
				       row.from, row.size, row.id);
			}
		}
		if (json_is_string(next))
			snprintf(cursor, sizeof cursor, "%s",
				 json_string_value(next));
		else
			cursor[0] = '\0';
		json_decref(ans);
		pages++;
		if (!la.all || cursor[0] == '\0' || pages >= LIST_MAX_PAGES)
			break;
	}
	if (c->json) {
		out = json_pack("{s:s, s:s?, s:O, s:s?}", "type", la.type,
				"folder", la.folder, "messages", rows, "next",
				cursor[0] != '\0' ? cursor : NULL);
		rc = out != NULL ? smc_print_json(out, e)
				 : smc_fail(e, SMC_EXIT_SOFTWARE, "oom");
	} else {
		if (shown == 0)
			printf("(no %smessages)\n", la.unread ? "unread " : "");
		if (cursor[0] != '\0')
			printf("more: smimp list%s%s%s --type %s --after %s "
			       "(or --all)\n", la.folder ? " --folder " : "",
			       la.folder ? la.folder : "",
			       la.unread ? " --unread" : "", la.type, cursor);
		rc = 0;
	}
out:
	json_decref(out);
	json_decref(rows);
	smc_account_close(c, &a);
	return rc;
}

const struct smc_command smc_cmd_list = {
	"list", "[--folder NAME] [--type TYPE] [--unread] [--limit N] [--all] "
		"[--after CURSOR] [--json]",
	"List the messages of a folder, newest first.",
	"\nLists one page of the root folder (or --folder NAME) of one message\n"
	"type from the account's server: N marks unread messages; then the time\n"
	"the server received it (UTC), the sender (as the server says: read\n"
	"verifies it), the ciphertext size and the message id that read, mark,\n"
	"mv and rm take. When there are more, the last line gives the cursor of\n"
	"the next page.\n\n"
	"  --folder NAME   a folder (smimp folders lists them); default: root\n"
	"  --type TYPE     email (default), short-message, secret-ed25519,\n"
	"                  secret-curve25519, secret-xsalsa20, x-custom-NAME\n"
	"  --unread        only unread messages (filtered on this side: a page\n"
	"                  may show fewer than --limit)\n"
	"  --limit N       messages per page (default 50; the server may clamp)\n"
	"  --all           follow the cursors to the last page\n"
	"  --after CURSOR  start after this cursor (from a previous listing)\n"
	"  --json          {\"type\", \"folder\", \"messages\": [{\"message_id\",\n"
	"                  \"received_at\", \"read\", \"from\", \"size\"}], \"next\"}\n",
	run,
};

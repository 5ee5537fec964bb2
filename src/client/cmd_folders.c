/* smimp folders: list (GET folders[/{type}]), create (POST folders), rename
 * or move (POST folders/{type}/{name}) and delete (DELETE
 * folders/{type}/{name}) mailbox folders (spec 11.5). Untrusted input: the
 * command line (names and types are checked before they enter a URL) and
 * the server's folder list (every entry checked, display names escaped). */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "cli.h"
#include "mbox.h"
#include "render.h"

enum { OPT_TYPE, OPT_DISPLAY, OPT_PARENT, OPT_ROOT };
static const struct smc_opt opts[] = {
	{"type", 1}, {"display-name", 1}, {"parent", 1}, {"root", 0},
	{NULL, 0},
};

struct folders_args {
	const char *pos[SMC_ARGS_MAX_POS];
	int npos;
	const char *type, *display, *parent;
	int root;
};

static int parse_args(struct smc_ctx *c, int argc, char **argv,
		      struct folders_args *fa, struct smc_err *e)
{
	struct smc_args sa;
	int rc = smc_args_parse(c, argc, argv, opts, 4, &sa, e);

	if (rc != 0)
		return rc;
	memcpy(fa->pos, sa.pos, sizeof fa->pos);
	fa->npos = sa.npos;
	fa->type = sa.val[OPT_TYPE];
	fa->display = sa.val[OPT_DISPLAY];
	fa->parent = sa.val[OPT_PARENT];
	fa->root = sa.val[OPT_ROOT] != NULL;
	if (fa->type != NULL && smc_mbox_type(fa->type, "--type", e) != 0)
		return -1;
	if (fa->parent != NULL && smc_mbox_folder(fa->parent, "--parent", e))
		return -1;
	if (fa->parent != NULL && fa->root)
		return smc_fail(e, SMC_EXIT_USAGE,
				"--parent and --root exclude each other");
	if (fa->display != NULL && (strlen(fa->display) == 0 ||
				    strlen(fa->display) > SMC_MBOX_DISPLAY_MAX))
		return smc_fail(e, SMC_EXIT_USAGE, "--display-name wants 1 to "
				"%d bytes", SMC_MBOX_DISPLAY_MAX);
	return 0;
}

/* GET folders[/{type}] as a checked array (new reference in *list). */
static int fetch(struct smc_ctx *c, struct smc_account *a, const char *type,
		 json_t **ans, json_t **list, struct smc_err *e)
{
	char endpoint[128];
	json_t *v;
	size_t i;

	snprintf(endpoint, sizeof endpoint, "folders%s%s", type ? "/" : "",
		 type ? type : "");
	if (smc_api_call(c->t, &a->server, &a->session, SMC_GET, endpoint,
			 NULL, SMC_API_MAX_RESPONSE, ans, e) != 0)
		return smc_fail_prefix(e, "folder list");
	*list = json_object_get(*ans, "folders");
	if (!json_is_array(*list))
		return smc_fail(e, SMC_EXIT_PROTOCOL,
				"the server's folder list is malformed");
	json_array_foreach(*list, i, v) {
		struct smc_mbox_folder f;

		if (smc_mbox_folder_parse(v, &f, e) != 0)
			return -1;
		if (type != NULL && strcmp(f.type, type) != 0)
			return smc_fail(e, SMC_EXIT_PROTOCOL,
					"the server listed a folder of another "
					"type");
	}
	return 0;
}

static int do_list(struct smc_ctx *c, struct smc_account *a,
		   const struct folders_args *fa, struct smc_err *e)
{
	json_t *ans = NULL, *list = NULL, *v, *out;
	size_t i;
	int rc = -1;

	if (fa->npos != 0)
		return smc_fail(e, SMC_EXIT_USAGE, "folders %.50s: unknown "
				"action (create, rename, delete)", fa->pos[0]);
	if (fetch(c, a, fa->type, &ans, &list, e) != 0)
		goto out;
	if (c->json) {
		out = json_pack("{s:O}", "folders", list);
		rc = out != NULL ? smc_print_json(out, e)
				 : smc_fail(e, SMC_EXIT_SOFTWARE, "oom");
		json_decref(out);
		goto out;
	}
	if (json_array_size(list) == 0)
		printf("(no folders; messages live in the root folder of their "
		       "type)\n");
	else
		printf("%-18s %-20s %-20s %s\n", "type", "name", "parent",
		       "display name");
	json_array_foreach(list, i, v) {
		struct smc_mbox_folder f;

		smc_mbox_folder_parse(v, &f, e);
		printf("%-18s %-20s %-20s ", f.type, f.name,
		       f.parent[0] ? f.parent : "-");
		smc_render_safe(stdout, f.display_name, f.display_len);
		putchar('\n');
	}
	rc = 0;
out:
	json_decref(ans);
	return rc;
}

static int do_create(struct smc_ctx *c, struct smc_account *a,
		     const struct folders_args *fa, struct smc_err *e)
{
	const char *type = fa->type ? fa->type : "email";
	json_t *body;
	int rc;

	if (fa->npos != 2)
		return smc_fail(e, SMC_EXIT_USAGE, "folders create wants one "
				"NAME");
	if (smc_mbox_folder(fa->pos[1], "NAME", e) != 0)
		return -1;
	body = json_pack("{s:s, s:s, s:s?, s:s}", "display_name",
			 fa->display ? fa->display : fa->pos[1], "name",
			 fa->pos[1], "parent", fa->parent, "message_type",
			 type);
	if (body == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	rc = smc_api_call(c->t, &a->server, &a->session, SMC_POST, "folders",
			  body, 64 * 1024, NULL, e);
	json_decref(body);
	if (rc != 0) {
		if (e->http_status == 409)
			return smc_fail_prefix(e, "folder %s of type %s exists "
					       "already (or the parent is of "
					       "another type)", fa->pos[1],
					       type);
		if (e->http_status == 404)
			return smc_fail_prefix(e, "no parent folder %s of type "
					       "%s", fa->parent, type);
		return -1;
	}
	smc_say(c, "folder %s created for %s messages", fa->pos[1], type);
	return 0;
}

static int do_rename(struct smc_ctx *c, struct smc_account *a,
		     const struct folders_args *fa, struct smc_err *e)
{
	json_t *ans = NULL, *list = NULL, *v, *body = NULL, *cur = NULL;
	char endpoint[256];
	size_t i;
	int rc = -1;

	if (fa->npos != 4)
		return smc_fail(e, SMC_EXIT_USAGE, "folders rename wants TYPE "
				"NAME NEWNAME");
	if (smc_mbox_type(fa->pos[1], "TYPE", e) != 0 ||
	    smc_mbox_folder(fa->pos[2], "NAME", e) != 0 ||
	    smc_mbox_folder(fa->pos[3], "NEWNAME", e) != 0)
		return -1;
	/* What is not changed is kept: read the folder first. */
	if (fetch(c, a, fa->pos[1], &ans, &list, e) != 0)
		goto out;
	json_array_foreach(list, i, v) {
		if (strcmp(json_string_value(json_object_get(v, "name")),
			   fa->pos[2]) == 0)
			cur = v;
	}
	if (cur == NULL) {
		smc_fail(e, SMC_EXIT_NOINPUT, "no folder %s of type %s "
			 "(smimp folders lists them)", fa->pos[2], fa->pos[1]);
		goto out;
	}
	{
		const char *old_dn = json_string_value(
			json_object_get(cur, "display_name"));
		const char *dn = fa->display;
		json_t *parent;

		if (dn == NULL)
			dn = strcmp(old_dn, fa->pos[2]) == 0 ? fa->pos[3]
							      : old_dn;
		if (fa->root)
			parent = json_null();
		else if (fa->parent != NULL)
			parent = json_string(fa->parent);
		else
			parent = json_incref(json_object_get(cur, "parent"));
		body = json_pack("{s:s, s:s, s:o}", "display_name", dn, "name",
				 fa->pos[3], "parent", parent);
	}
	if (body == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	snprintf(endpoint, sizeof endpoint, "folders/%s/%s", fa->pos[1],
		 fa->pos[2]);
	if (smc_api_call(c->t, &a->server, &a->session, SMC_POST, endpoint,
			 body, 64 * 1024, NULL, e) != 0) {
		if (e->http_status == 409)
			smc_fail_prefix(e, "cannot rename %s to %s (the name "
					"is taken, or the folder would move "
					"under itself)", fa->pos[2],
					fa->pos[3]);
		goto out;
	}
	smc_say(c, "folder %s renamed to %s", fa->pos[2], fa->pos[3]);
	rc = 0;
out:
	json_decref(body);
	json_decref(ans);
	return rc;
}

static int do_delete(struct smc_ctx *c, struct smc_account *a,
		     const struct folders_args *fa, struct smc_err *e)
{
	char endpoint[256];

	if (fa->npos != 3)
		return smc_fail(e, SMC_EXIT_USAGE, "folders delete wants TYPE "
				"NAME");
	if (smc_mbox_type(fa->pos[1], "TYPE", e) != 0 ||
	    smc_mbox_folder(fa->pos[2], "NAME", e) != 0)
		return -1;
	snprintf(endpoint, sizeof endpoint, "folders/%s/%s", fa->pos[1],
		 fa->pos[2]);
	if (smc_api_call(c->t, &a->server, &a->session, SMC_DELETE, endpoint,
			 NULL, 64 * 1024, NULL, e) != 0) {
		if (e->http_status == 409)
			return smc_fail_prefix(e, "folder %s is not empty or "
					       "has subfolders: move or delete "
					       "them first", fa->pos[2]);
		if (e->http_status == 404)
			return smc_fail_prefix(e, "no folder %s of type %s",
					       fa->pos[2], fa->pos[1]);
		return -1;
	}
	smc_say(c, "folder %s deleted", fa->pos[2]);
	return 0;
}

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct folders_args fa;
	struct smc_account a;
	int rc;

	memset(&fa, 0, sizeof fa);
	rc = parse_args(c, argc, argv, &fa, e);
	if (rc != 0)
		return rc;
	if (fa.npos > 0 && strcmp(fa.pos[0], "create") != 0 &&
	    strcmp(fa.pos[0], "rename") != 0 && strcmp(fa.pos[0], "delete") != 0)
		return smc_fail(e, SMC_EXIT_USAGE, "folders %.50s: unknown "
				"action (create, rename, delete)", fa.pos[0]);
	if (fa.npos > 0 && strcmp(fa.pos[0], "create") != 0 && fa.type != NULL)
		return smc_fail(e, SMC_EXIT_USAGE, "--type is for listing and "
				"create; rename and delete take TYPE as an "
				"argument");
	if (smc_account_open(c, &a, e) != 0)
		return -1;
	rc = smc_account_login(c, &a, e);
	if (rc == 0) {
		if (fa.npos == 0)
			rc = do_list(c, &a, &fa, e);
		else if (strcmp(fa.pos[0], "create") == 0)
			rc = do_create(c, &a, &fa, e);
		else if (strcmp(fa.pos[0], "rename") == 0)
			rc = do_rename(c, &a, &fa, e);
		else
			rc = do_delete(c, &a, &fa, e);
	}
	smc_account_close(c, &a);
	return rc;
}

const struct smc_command smc_cmd_folders = {
	"folders",
	"[--type TYPE] [--json]\n"
	"       smimp folders create NAME [--display-name D] [--parent P] "
	"[--type TYPE]\n"
	"       smimp folders rename TYPE NAME NEWNAME [--display-name D] "
	"[--parent P|--root]\n"
	"       smimp folders delete TYPE NAME",
	"List, create, rename and delete mailbox folders.",
	"\nFolders belong to one message type; names are 1 to 64 characters of\n"
	"a-z, 0-9, _ and -, unique within a type; each type also has a root\n"
	"folder, where new messages arrive.\n\n"
	"  (no action)       list the folders (of --type TYPE, else all types)\n"
	"  create NAME       a new folder (type email unless --type; display\n"
	"                    name NAME unless --display-name; at the root\n"
	"                    unless --parent, a folder of the same type)\n"
	"  rename TYPE NAME NEWNAME\n"
	"                    rename, and with --parent P or --root move; the\n"
	"                    display name and parent are kept unless given;\n"
	"                    messages and subfolders follow\n"
	"  delete TYPE NAME  delete a folder that is empty and has no\n"
	"                    subfolders\n"
	"  --json            the list as {\"folders\": [{\"display_name\", \"name\",\n"
	"                    \"parent\", \"message_type\"}]}\n",
	run,
};

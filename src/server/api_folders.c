/* Folder calls (spec 11.5): GET folders[/{type}], POST folders (create),
 * POST folders/{type}/{name} (rename or move within the type), DELETE
 * folders/{type}/{name} (only empty and childless). Local sessions only.
 * Untrusted input: path segments and the JSON body; names must be
 * [a-z0-9_-]{1,64}, display names at most SMD_DISPLAY_NAME_MAX bytes. */
#include <string.h>

#include "api_mail.h"
#include "smimp/json.h"

static bool add_folder(const struct smd_folder *f, void *p)
{
	json_t *arr = p;
	json_t *o = json_pack("{s:s, s:s, s:s?, s:s}", "display_name",
			      f->display_name, "name", f->name, "parent",
			      f->has_parent ? f->parent : NULL, "message_type",
			      f->message_type);

	return o != NULL && json_array_append_new(arr, o) == 0;
}

enum smimp_err smd_api_folders_get(const struct smd_request *req,
				   const struct smd_args *args,
				   struct smd_response *resp,
				   struct smimp_error *err)
{
	const struct smd_db *db = req->srv->db;
	struct smd_session sess;
	char type[SMIMP_MSGTYPE_MAX + 1];
	json_t *arr;
	enum smd_store_rc rc;
	enum smimp_err e;

	if ((e = smd_mail_session(req, resp, SMD_SESSION_LOCAL, &sess, err)) != SMIMP_OK ||
	    (args->n > 0 && (e = smd_mail_seg_type(type, args, 0, err)) != SMIMP_OK))
		return e;
	if ((arr = json_array()) == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	rc = db->ops->mail->folder_list(db->st, sess.address,
					args->n > 0 ? type : NULL, add_folder, arr);
	if (rc != SMD_STORE_OK) {
		json_decref(arr);
		return smd_store_err(rc, err);
	}
	smd_response_json(resp, 200, json_pack("{s:o}", "folders", arr));
	return SMIMP_OK;
}

/* A folder name member: *out NULL when absent (flags allowing) or null. */
static enum smimp_err get_name(const json_t *body, const char *member,
			       unsigned flags, char out[SMIMP_FOLDER_NAME_MAX + 1],
			       bool *present, struct smimp_error *err)
{
	const char *s = NULL;
	size_t len = 0;
	enum smimp_err e = smimp_json_get_string(body, member, flags,
						 SMIMP_FOLDER_NAME_MAX, &s, &len,
						 err);

	*present = false;
	if (e != SMIMP_OK || s == NULL)
		return e;
	if (!smd_mail_folder_name_ok(s, len))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "%s is not [a-z0-9_-]{1,64}", member);
	memcpy(out, s, len + 1);
	*present = true;
	return SMIMP_OK;
}

static enum smimp_err get_display(const json_t *body, unsigned flags,
				  char out[SMD_DISPLAY_NAME_MAX + 1],
				  bool *present, struct smimp_error *err)
{
	const char *s = NULL;
	size_t len = 0;
	enum smimp_err e = smimp_json_get_string(body, "display_name", flags,
						 SMD_DISPLAY_NAME_MAX, &s, &len,
						 err);

	*present = e == SMIMP_OK && s != NULL;
	if (*present)
		memcpy(out, s, len + 1);
	return e;
}

struct folder_arg {
	const struct smd_db *db;
	const char *owner;
	int op;
	const struct smd_folder *f;           /* create */
	const char *type, *name;              /* update, delete */
	const struct smd_folder_update *u;
};

enum { F_CREATE, F_UPDATE, F_DELETE };

static enum smd_store_rc folder_fn(struct smd_txn *txn, void *p)
{
	struct folder_arg *a = p;
	const struct smd_mail_store *m = a->db->ops->mail;

	if (a->op == F_CREATE)
		return m->folder_create(txn, a->owner, a->f);
	if (a->op == F_UPDATE)
		return m->folder_update(txn, a->owner, a->type, a->name, a->u);
	return m->folder_delete(txn, a->owner, a->type, a->name);
}

static enum smimp_err folder_write(const struct smd_request *req,
				   struct folder_arg *a, struct smimp_error *err)
{
	enum smd_store_rc rc = smd_db_write_grouped(req->srv->db, folder_fn, a);

	switch (rc) {
	case SMD_STORE_NOT_FOUND:
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND,
				       "no such folder or parent");
	case SMD_STORE_CONFLICT:
		return smimp_error_set(err, SMIMP_ERR_CONFLICT,
				       a->op == F_DELETE ?
				       "folder is not empty" :
				       "folder exists, is of another type, or "
				       "would be under itself");
	default:
		return smd_store_err(rc, err);
	}
}

enum smimp_err smd_api_folders_create(const struct smd_request *req,
				      const struct smd_args *args,
				      struct smd_response *resp,
				      struct smimp_error *err)
{
	struct smd_session sess;
	struct smd_folder f;
	struct folder_arg a;
	const char *type = NULL;
	size_t tlen = 0;
	bool present;
	json_t *body;
	enum smimp_err e;

	(void)args;
	if ((e = smd_mail_session(req, resp, SMD_SESSION_LOCAL, &sess, err)) != SMIMP_OK)
		return e;
	if ((body = smd_mail_body(req, SMD_MAIL_SMALL_BODY, err)) == NULL)
		return err->code;
	memset(&f, 0, sizeof f);
	e = get_name(body, "name", 0, f.name, &present, err);
	if (e == SMIMP_OK)
		e = get_display(body, 0, f.display_name, &present, err);
	if (e == SMIMP_OK)
		e = get_name(body, "parent", SMIMP_JSON_NULLABLE | SMIMP_JSON_OPTIONAL,
			     f.parent, &f.has_parent, err);
	if (e == SMIMP_OK)
		e = smimp_json_get_string(body, "message_type", 0, SMIMP_MSGTYPE_MAX,
					  &type, &tlen, err);
	if (e == SMIMP_OK && !smimp_msgtype_is_valid(type, tlen))
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST, "unknown message type");
	if (e == SMIMP_OK)
		memcpy(f.message_type, type, tlen + 1);
	json_decref(body);
	if (e != SMIMP_OK)
		return e;
	memset(&a, 0, sizeof a);
	a.db = req->srv->db;
	a.owner = sess.address;
	a.op = F_CREATE;
	a.f = &f;
	if ((e = folder_write(req, &a, err)) != SMIMP_OK)
		return e;
	smd_mail_no_content(resp);
	resp->status = 201;
	return SMIMP_OK;
}

enum smimp_err smd_api_folders_update(const struct smd_request *req,
				      const struct smd_args *args,
				      struct smd_response *resp,
				      struct smimp_error *err)
{
	struct smd_session sess;
	char type[SMIMP_MSGTYPE_MAX + 1], name[SMIMP_FOLDER_NAME_MAX + 1];
	char new_name[SMIMP_FOLDER_NAME_MAX + 1], parent[SMIMP_FOLDER_NAME_MAX + 1];
	char display[SMD_DISPLAY_NAME_MAX + 1];
	struct smd_folder_update u;
	struct folder_arg a;
	bool has_name = false, has_display = false, has_parent = false;
	json_t *body;
	enum smimp_err e;

	if ((e = smd_mail_session(req, resp, SMD_SESSION_LOCAL, &sess, err)) != SMIMP_OK ||
	    (e = smd_mail_seg_type(type, args, 0, err)) != SMIMP_OK ||
	    (e = smd_mail_seg_folder(name, args, 1, err)) != SMIMP_OK)
		return e;
	if ((body = smd_mail_body(req, SMD_MAIL_SMALL_BODY, err)) == NULL)
		return err->code;
	/* Members left out stay as they are; "parent": null is the root. */
	memset(&u, 0, sizeof u);
	e = get_name(body, "name", SMIMP_JSON_OPTIONAL, new_name, &has_name, err);
	if (e == SMIMP_OK)
		e = get_display(body, SMIMP_JSON_OPTIONAL, display, &has_display, err);
	if (e == SMIMP_OK) {
		u.set_parent = json_object_get(body, "parent") != NULL;
		e = get_name(body, "parent", SMIMP_JSON_OPTIONAL | SMIMP_JSON_NULLABLE,
			     parent, &has_parent, err);
	}
	json_decref(body);
	if (e != SMIMP_OK)
		return e;
	u.name = has_name ? new_name : NULL;
	u.display_name = has_display ? display : NULL;
	u.parent = has_parent ? parent : NULL;
	memset(&a, 0, sizeof a);
	a.db = req->srv->db;
	a.owner = sess.address;
	a.op = F_UPDATE;
	a.type = type;
	a.name = name;
	a.u = &u;
	if ((e = folder_write(req, &a, err)) != SMIMP_OK)
		return e;
	smd_mail_ok_empty(resp);
	return SMIMP_OK;
}

enum smimp_err smd_api_folders_delete(const struct smd_request *req,
				      const struct smd_args *args,
				      struct smd_response *resp,
				      struct smimp_error *err)
{
	struct smd_session sess;
	char type[SMIMP_MSGTYPE_MAX + 1], name[SMIMP_FOLDER_NAME_MAX + 1];
	struct folder_arg a;
	enum smimp_err e;

	if ((e = smd_mail_session(req, resp, SMD_SESSION_LOCAL, &sess, err)) != SMIMP_OK ||
	    (e = smd_mail_seg_type(type, args, 0, err)) != SMIMP_OK ||
	    (e = smd_mail_seg_folder(name, args, 1, err)) != SMIMP_OK)
		return e;
	memset(&a, 0, sizeof a);
	a.db = req->srv->db;
	a.owner = sess.address;
	a.op = F_DELETE;
	a.type = type;
	a.name = name;
	if ((e = folder_write(req, &a, err)) != SMIMP_OK)
		return e;
	smd_mail_no_content(resp);
	return SMIMP_OK;
}

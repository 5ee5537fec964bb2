/* Mail calls (spec 8, 9, 11.5, 11.8, 11.9): the route table of
 * get_message_key, get_pow_params, send_message, folder, folders, message,
 * message_read, message_move, message_extensions, whitelist, blacklist and
 * quota, and the checks the handlers share. Untrusted input: raw URL path
 * segments and small JSON bodies, checked here before any store call. */
#include <string.h>

#include "api_mail.h"
#include "config.h"
#include "smimp/address.h"
#include "smimp/hex.h"
#include "smimp/json.h"

enum smimp_err smd_mail_session(const struct smd_request *req,
				struct smd_response *resp,
				enum smd_session_need need,
				struct smd_session *out, struct smimp_error *err)
{
	resp->no_store = true;
	return smd_session_require(req, need, out, err);
}

enum smimp_err smd_mail_seg_type(char out[SMIMP_MSGTYPE_MAX + 1],
				 const struct smd_args *a, size_t i,
				 struct smimp_error *err)
{
	/* Valid type names are [a-z0-9-] only, so no percent decoding. */
	if (i >= a->n || !smimp_msgtype_is_valid(a->seg[i], a->len[i]))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "unknown message type");
	memcpy(out, a->seg[i], a->len[i]);
	out[a->len[i]] = '\0';
	return SMIMP_OK;
}

bool smd_mail_folder_name_ok(const char *s, size_t len)
{
	if (len < 1 || len > SMIMP_FOLDER_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

enum smimp_err smd_mail_seg_folder(char out[SMIMP_FOLDER_NAME_MAX + 1],
				   const struct smd_args *a, size_t i,
				   struct smimp_error *err)
{
	if (i >= a->n || !smd_mail_folder_name_ok(a->seg[i], a->len[i]))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "folder name is not [a-z0-9_-]{1,64}");
	memcpy(out, a->seg[i], a->len[i]);
	out[a->len[i]] = '\0';
	return SMIMP_OK;
}

enum smimp_err smd_mail_seg_hex32(uint8_t out[32], const struct smd_args *a,
				  size_t i, struct smimp_error *err)
{
	if (i >= a->n || smimp_hex_decode(out, 32, a->seg[i], a->len[i]) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "expected 64 lowercase hex digits in the path");
	return SMIMP_OK;
}

json_t *smd_mail_body(const struct smd_request *req, size_t max,
		      struct smimp_error *err)
{
	return smimp_json_parse((const char *)req->body, req->body_len, max, true,
				err);
}

enum smimp_err smd_mail_recipient(const struct smd_request *req,
				  const char *address,
				  struct smd_mail_recipient *out,
				  struct smimp_error *err)
{
	const struct smd_db *db = req->srv->db;
	const char *domain = smimp_address_domain(address);
	enum smd_store_rc rc;

	if (domain == NULL || !smd_config_hosts_domain(req->srv->cfg, domain))
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND,
				       "not a user of this server");
	rc = db->ops->mail->recipient_get(db->st, address, out);
	if (rc == SMD_STORE_NOT_FOUND || (rc == SMD_STORE_OK &&
					  (!out->initialized || !out->has_master)))
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND, "no such user");
	return smd_store_err(rc, err);
}

enum smimp_err smd_mail_list_lookup(void *ctx, const char *owner,
				    enum smimp_list_kind kind,
				    const struct smimp_hash *entry, bool *listed,
				    struct smimp_error *err)
{
	const struct smd_db *db = ctx;

	return smd_store_err(db->ops->mail->list_has(db->st, owner, kind, entry,
						     listed), err);
}

void smd_mail_ok_empty(struct smd_response *resp)
{
	smd_response_json(resp, 200, json_object());
}

void smd_mail_no_content(struct smd_response *resp)
{
	smd_response_bytes(resp, 204, NULL, "", 0);
}

static const struct smd_route mail_routes[] = {
	{"get_message_key", SMD_POST, 0, 0, smd_api_get_message_key, NULL},
	{"get_pow_params", SMD_GET, 2, 2, smd_api_get_pow_params, NULL},
	{"send_message", SMD_POST, 1, 1, smd_api_send_message, NULL},
	{"folder", SMD_GET, 1, 2, smd_api_folder, NULL},
	{"folders", SMD_GET, 0, 1, smd_api_folders_get, NULL},
	{"folders", SMD_POST, 0, 0, smd_api_folders_create, NULL},
	{"folders", SMD_POST, 2, 2, smd_api_folders_update, NULL},
	{"folders", SMD_DELETE, 2, 2, smd_api_folders_delete, NULL},
	{"message", SMD_GET, 1, 2, smd_api_message_get, NULL},
	{"message", SMD_DELETE, 1, 1, smd_api_message_delete, NULL},
	{"message_read", SMD_GET, 1, 1, smd_api_message_read_get, NULL},
	{"message_read", SMD_POST, 1, 1, smd_api_message_read_set, NULL},
	{"message_move", SMD_POST, 1, 1, smd_api_message_move, NULL},
	{"message_extensions", SMD_POST, 1, 1, smd_api_message_extensions, NULL},
	{"whitelist", SMD_GET, 0, 0, smd_api_whitelist_get, NULL},
	{"whitelist", SMD_POST, 0, 0, smd_api_whitelist_add, NULL},
	{"whitelist", SMD_DELETE, 1, 1, smd_api_whitelist_remove, NULL},
	{"blacklist", SMD_GET, 0, 0, smd_api_blacklist_get, NULL},
	{"blacklist", SMD_POST, 0, 0, smd_api_blacklist_add, NULL},
	{"blacklist", SMD_DELETE, 1, 1, smd_api_blacklist_remove, NULL},
	{"quota", SMD_GET, 0, 0, smd_api_quota, NULL},
};

const struct smd_route_table smd_routes_mail = SMD_ROUTE_TABLE(mail_routes);

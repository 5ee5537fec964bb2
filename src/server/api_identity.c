/* Identity and session calls (spec 7, 10, 11.1–11.4, 11.7): the route
 * table of the area and the helpers its handlers share. Untrusted input
 * here: raw path segments (addresses) and request bodies (JSON, message
 * keys), all checked before anything uses them. */
#include <stdlib.h>
#include <string.h>

#include "api_identity.h"
#include "config.h"
#include "smimp/json.h"
#include "store_identity.h"

enum smimp_err smd_id_path_address(const struct smd_request *req,
				   const struct smd_args *args, size_t i,
				   char out[SMIMP_ADDRESS_MAX + 1], bool *local,
				   struct smimp_error *err)
{
	if (smimp_address_from_path(out, args->seg[i], args->len[i], err) != SMIMP_OK)
		return err->code;
	*local = smd_config_hosts_domain(req->srv->cfg, smimp_address_domain(out));
	return SMIMP_OK;
}

enum smimp_err smd_id_record(const struct smd_request *req, const json_t *wire,
			     struct smimp_record *out, struct smimp_error *err)
{
	const struct smd_config *cfg = req->srv->cfg;
	enum smimp_err e = smimp_record_from_json(out, wire, err);

	if (e != SMIMP_OK)
		return e;
	if ((long long)out->data_len > cfg->max_record_bytes)
		e = smimp_error_set(err, SMIMP_ERR_TOO_LARGE,
				    "record data of %zu bytes is over this "
				    "server's limit of %lld", out->data_len,
				    cfg->max_record_bytes);
	else if (out->seq >= cfg->max_history_records)
		e = smimp_error_set(err, SMIMP_ERR_CONFLICT,
				    "the history is full: this server keeps at "
				    "most %lld records", cfg->max_history_records);
	if (e != SMIMP_OK)
		smimp_record_free(out);
	return e;
}

json_t *smd_id_body(const struct smd_request *req, bool empty_ok,
		    struct smimp_error *err)
{
	if (req->body_len == 0 && empty_ok)
		return json_object();
	return smimp_json_parse((const char *)req->body, req->body_len,
				(size_t)req->srv->cfg->max_request_bytes, true, err);
}

enum smimp_err smd_id_msgkey(const json_t *v, const char *address,
			     const struct smimp_sign_pk *master,
			     enum smimp_msgkey_kind kind, struct smimp_msgkey *out,
			     struct smimp_error *err)
{
	if (smimp_msgkey_from_json(out, v, err) != SMIMP_OK)
		return err->code;
	return smimp_msgkey_verify(out, address, master, (int)kind, err);
}

enum smimp_err smd_id_msgkeys(const struct smd_request *req, const json_t *arr,
			      const char *address, const struct smimp_sign_pk *master,
			      struct smimp_msgkey **out, size_t *n,
			      struct smimp_error *err)
{
	size_t count = json_array_size(arr);
	struct smimp_msgkey *k;

	*out = NULL;
	*n = 0;
	if (!json_is_array(arr))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST, "keys: not an array");
	if (count > (size_t)req->srv->cfg->max_ephemeral_keys)
		return smimp_error_set(err, SMIMP_ERR_TOO_LARGE,
				       "more than %lld ephemeral keys",
				       req->srv->cfg->max_ephemeral_keys);
	if (count == 0)
		return SMIMP_OK;
	k = calloc(count, sizeof *k);
	if (k == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < count; i++) {
		if (smd_id_msgkey(json_array_get(arr, i), address, master,
				  SMIMP_MSGKEY_EPHEMERAL, &k[i], err) != SMIMP_OK) {
			free(k);
			return smimp_error_prefix(err, "ephemeral key %zu: ", i);
		}
	}
	*out = k;
	*n = count;
	return SMIMP_OK;
}

enum smimp_err smd_id_account(const struct smd_request *req, const char *address,
			      struct smd_account *acct, struct smimp_sign_pk *key,
			      struct smimp_error *err)
{
	const struct smd_db *db = req->srv->db;
	struct smd_record_row row;
	enum smd_store_rc rc = db->ops->account_get(db->st, address, acct);

	if (rc == SMD_STORE_OK)
		rc = db->ops->identity->latest_record(db->st, address, false, &row);
	if (rc == SMD_STORE_NOT_FOUND)
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND, "no such user");
	if (rc != SMD_STORE_OK)
		return smd_store_err(rc, err);
	*key = row.public_key;
	return SMIMP_OK;
}

enum smimp_err smd_id_write(const struct smd_request *req, smd_store_write_fn fn,
			    void *arg, struct smimp_error *err)
{
	return smd_store_err(smd_db_write(req->srv->db, fn, arg), err);
}

void smd_id_no_content(struct smd_response *resp)
{
	smd_response_bytes(resp, 204, NULL, "", 0);
}

static const struct smd_route identity_routes[] = {
	{"get_user", SMD_GET, 2, 2, smd_api_get_user, NULL},
	{"create_session", SMD_GET, 1, 1, smd_api_create_session_get, NULL},
	{"create_session", SMD_POST, 1, 1, smd_api_create_session_post,
	 smd_api_create_session_is_remote},
	{"destroy_session", SMD_POST, 0, 0, smd_api_destroy_session, NULL},
	{"initialize_account", SMD_POST, 1, 1, smd_api_initialize_account, NULL},
	{"nonephemeral_key", SMD_GET, 0, 0, smd_api_nonephemeral_get, NULL},
	{"nonephemeral_key", SMD_POST, 0, 0, smd_api_nonephemeral_post, NULL},
	{"ephemeral_keys", SMD_GET, 0, 0, smd_api_ephemeral_get, NULL},
	{"ephemeral_keys", SMD_POST, 0, 0, smd_api_ephemeral_post, NULL},
	{"update_profile", SMD_POST, 0, 0, smd_api_update_profile, NULL},
	{"user_avatar", SMD_POST, 0, 0, smd_api_avatar_post, NULL},
	{"user_avatar", SMD_DELETE, 0, 0, smd_api_avatar_delete, NULL},
	{"user_avatar", SMD_GET, 1, 1, smd_api_avatar_get, NULL},
	{"get_user_avatar", SMD_GET, 1, 1, smd_api_avatar_get, NULL},
	{"avatar_file", SMD_GET, 1, 1, smd_api_avatar_file, NULL},
};

const struct smd_route_table smd_routes_identity = SMD_ROUTE_TABLE(identity_routes);

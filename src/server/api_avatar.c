/* Avatars (spec 10, 11.7): POST/DELETE user_avatar (the owner's), GET
 * user_avatar/{address} and get_user_avatar/{address} (public), GET
 * avatar_file/{hash} (the bytes). Untrusted input: the session header, the
 * image (b64, size-capped, PNG or JPEG by its magic bytes only, never
 * decoded further) and its signed hash, the path address and hash. */
#include <stdlib.h>
#include <string.h>

#include "api_identity.h"
#include "config.h"
#include "smimp/hash.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/timestamp.h"
#include "store_identity.h"

/* "image/png" or "image/jpeg" by magic bytes, NULL otherwise. */
static const char *image_type(const uint8_t *p, size_t n)
{
	static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	static const uint8_t jpeg[3] = {0xff, 0xd8, 0xff};

	if (n >= sizeof png && memcmp(p, png, sizeof png) == 0)
		return "image/png";
	if (n >= sizeof jpeg && memcmp(p, jpeg, sizeof jpeg) == 0)
		return "image/jpeg";
	return NULL;
}

struct avatar_arg {
	const struct smd_db *db;
	int64_t account_id;
	const struct smd_avatar *avatar;   /* NULL: delete */
	int64_t now;
};

static enum smd_store_rc avatar_fn(struct smd_txn *txn, void *arg)
{
	const struct avatar_arg *a = arg;
	const struct smd_identity_store *id = a->db->ops->identity;

	if (a->avatar == NULL)
		return id->avatar_delete(txn, a->account_id);
	return id->avatar_set(txn, a->account_id, a->avatar, a->now);
}

enum smimp_err smd_api_avatar_post(const struct smd_request *req,
				   const struct smd_args *args,
				   struct smd_response *resp, struct smimp_error *err)
{
	struct smd_session s;
	struct smd_account acct;
	struct smimp_sign_pk key;
	struct smd_avatar av = {0};
	struct smimp_field f[2];
	struct smimp_hash h;
	struct avatar_arg a;
	json_t *body;
	enum smimp_err e;

	(void)args;
	resp->no_store = true;
	if (smd_session_require(req, SMD_SESSION_LOCAL, &s, err) != SMIMP_OK ||
	    smd_id_account(req, s.address, &acct, &key, err) != SMIMP_OK)
		return err->code;
	body = smd_id_body(req, false, err);
	if (body == NULL)
		return err->code;
	e = smimp_json_get_b64(body, "image", 0, (size_t)req->srv->cfg->max_avatar_bytes,
			       &av.image, &av.image_len, err);
	if (e == SMIMP_OK)
		e = smimp_json_get_hex(body, "signed_hash", 0, av.signed_hash.b,
				       sizeof av.signed_hash.b, NULL, err);
	if (e == SMIMP_OK && (av.mime = image_type(av.image, av.image_len)) == NULL)
		e = smimp_error_set(err, SMIMP_ERR_UNSUPPORTED_MEDIA,
				    "the image is empty or neither PNG nor JPEG");
	if (e == SMIMP_OK) {
		f[0] = smimp_text(s.address);
		f[1] = smimp_bytes(av.image, av.image_len);
		smimp_hash_fields(&h, SMIMP_LABEL_AVATAR, f, 2);
		e = smimp_signed_hash_verify(&av.signed_hash, &h, &key);
		if (e != SMIMP_OK)
			smimp_error_set(err, e, "the avatar's signed hash does not "
					"verify with the current key");
	}
	if (e == SMIMP_OK) {
		smimp_hash_plain(&av.hash, av.image, av.image_len);
		a = (struct avatar_arg){req->srv->db, acct.id, &av, smimp_timestamp_now()};
		e = smd_id_write(req, avatar_fn, &a, err);
	}
	if (e == SMIMP_OK)
		smd_response_json(resp, 200, json_object());
	free(av.image);
	json_decref(body);
	return e;
}

enum smimp_err smd_api_avatar_delete(const struct smd_request *req,
				     const struct smd_args *args,
				     struct smd_response *resp, struct smimp_error *err)
{
	struct smd_session s;
	struct smd_account acct;
	struct smimp_sign_pk key;
	struct avatar_arg a;

	(void)args;
	resp->no_store = true;
	if (smd_session_require(req, SMD_SESSION_LOCAL, &s, err) != SMIMP_OK ||
	    smd_id_account(req, s.address, &acct, &key, err) != SMIMP_OK)
		return err->code;
	a = (struct avatar_arg){req->srv->db, acct.id, NULL, smimp_timestamp_now()};
	if (smd_id_write(req, avatar_fn, &a, err) != SMIMP_OK)
		return err->code;
	smd_id_no_content(resp);
	return SMIMP_OK;
}

enum smimp_err smd_api_avatar_get(const struct smd_request *req,
				  const struct smd_args *args,
				  struct smd_response *resp, struct smimp_error *err)
{
	const struct smd_db *db = req->srv->db;
	char address[SMIMP_ADDRESS_MAX + 1];
	char hash_hex[2 * SMIMP_HASH_BYTES + 1], sh_hex[2 * SMIMP_SIGNED_HASH_BYTES + 1];
	struct smd_account acct;
	struct smd_avatar av;
	enum smd_store_rc rc;
	json_t *v;
	bool local;

	if (smd_id_path_address(req, args, 0, address, &local, err) != SMIMP_OK)
		return err->code;
	if (!local)
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND,
				       "this server does not host that domain");
	rc = db->ops->account_get(db->st, address, &acct);
	if (rc == SMD_STORE_OK)
		rc = db->ops->identity->avatar_get(db->st, acct.id, false, &av);
	if (rc == SMD_STORE_NOT_FOUND)
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND, "no avatar");
	if (rc != SMD_STORE_OK)
		return smd_store_err(rc, err);
	smimp_hex_encode(hash_hex, sizeof hash_hex, av.hash.b, sizeof av.hash.b);
	smimp_hex_encode(sh_hex, sizeof sh_hex, av.signed_hash.b, sizeof av.signed_hash.b);
	v = json_pack("{s:s++, s:s}", "url", req->srv->cfg->public_url,
		      "/0.1/avatar_file/", hash_hex, "signed_hash", sh_hex);
	if (v == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	smd_response_json(resp, 200, v);
	return SMIMP_OK;
}

enum smimp_err smd_api_avatar_file(const struct smd_request *req,
				   const struct smd_args *args,
				   struct smd_response *resp, struct smimp_error *err)
{
	const struct smd_db *db = req->srv->db;
	struct smimp_hash h;
	struct smd_avatar av;
	enum smd_store_rc rc;

	if (smimp_hex_decode(h.b, sizeof h.b, args->seg[0], args->len[0]) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "the avatar hash is not 64 lowercase hex digits");
	rc = db->ops->identity->avatar_file(db->st, &h, &av);
	if (rc == SMD_STORE_NOT_FOUND)
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND, "no such avatar");
	if (rc != SMD_STORE_OK)
		return smd_store_err(rc, err);
	smd_response_bytes(resp, 200, av.mime, av.image, av.image_len);
	free(av.image);
	return SMIMP_OK;
}

/* GET get_user/{address}/public_key | most_recent | history (spec 10): a
 * local user's identity as stored. Untrusted input: the path segments. */
#include <stdlib.h>
#include <string.h>

#include "api_identity.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "store_identity.h"

/* {"data", "signed_hash"} of a stored record. */
static json_t *record_json(const struct smd_record_row *row)
{
	json_t *o = json_object();

	if (o == NULL || json_object_set_new(o, "data",
					     json_stringn(row->data, row->data_len)) != 0 ||
	    smimp_json_set_hex(o, "signed_hash", row->signed_hash.b,
			       sizeof row->signed_hash.b) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static bool add_record(const struct smd_record_row *row, void *arg)
{
	json_t *rec = record_json(row);

	return rec != NULL && json_array_append_new(arg, rec) == 0;
}

static bool seg_is(const struct smd_args *args, size_t i, const char *lit)
{
	return args->len[i] == strlen(lit) && memcmp(args->seg[i], lit, args->len[i]) == 0;
}

enum smimp_err smd_api_get_user(const struct smd_request *req,
				const struct smd_args *args,
				struct smd_response *resp, struct smimp_error *err)
{
	const struct smd_db *db = req->srv->db;
	const struct smd_identity_store *id = db->ops->identity;
	char address[SMIMP_ADDRESS_MAX + 1];
	struct smd_record_row row = {0};
	enum smd_store_rc rc;
	json_t *v = NULL;
	bool local;

	if (smd_id_path_address(req, args, 0, address, &local, err) != SMIMP_OK)
		return err->code;
	if (!local)
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND,
				       "this server does not host that domain");
	if (seg_is(args, 1, "public_key")) {
		rc = id->latest_record(db->st, address, false, &row);
		if (rc == SMD_STORE_OK) {
			v = json_pack("{s:s, s:n, s:I, s:n}", "address", address,
				      "public_key", "seq", (json_int_t)row.seq,
				      "signed_hash");
			if (v != NULL &&
			    (smimp_json_set_hex(v, "public_key", row.public_key.b,
						sizeof row.public_key.b) != 0 ||
			     smimp_json_set_hex(v, "signed_hash", row.signed_hash.b,
						sizeof row.signed_hash.b) != 0)) {
				json_decref(v);
				v = NULL;
			}
		}
	} else if (seg_is(args, 1, "most_recent")) {
		rc = id->latest_record(db->st, address, true, &row);
		if (rc == SMD_STORE_OK)
			v = record_json(&row);
	} else if (seg_is(args, 1, "history")) {
		json_t *records = json_array();

		if (records == NULL)
			return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
		rc = id->history(db->st, address, add_record, records);
		if (rc == SMD_STORE_OK)
			v = json_pack("{s:o}", "records", records);
		else
			json_decref(records);
	} else {
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND, "no such endpoint");
	}
	free(row.data);
	if (rc == SMD_STORE_NOT_FOUND)
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND, "no such user");
	if (rc != SMD_STORE_OK)
		return smd_store_err(rc, err);
	if (v == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	smd_response_json(resp, 200, v);
	return SMIMP_OK;
}

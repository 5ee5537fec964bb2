/* Identity records (spec 5): building, signing and parsing one record.
 * Parsing handles untrusted input from other servers and from clients'
 * update_profile/initialize_account bodies: every member's type and limit
 * is checked, and the data string is parsed strictly (duplicates, invalid
 * UTF-8, depth) while its exact bytes are kept for hashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/hash.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/record.h"
#include "smimp/timestamp.h"

void smimp_record_hash(struct smimp_hash *out, const char *data, size_t len)
{
	struct smimp_field f = smimp_bytes(data, len);

	smimp_hash_fields(out, SMIMP_LABEL_RECORD, &f, 1);
}

void smimp_record_free(struct smimp_record *r)
{
	if (r == NULL)
		return;
	json_decref(r->fields);
	free(r->data);
	memset(r, 0, sizeof *r);
}

/* A website (5): "https://" first, at most SMIMP_RECORD_MAX_WEBSITE bytes,
 * no space and no control character (C0, DEL, and C1 as UTF-8 C2 80..9F). */
static enum smimp_err check_website(const char *s, size_t len,
				    struct smimp_error *err)
{
	static const char prefix[] = "https://";

	if (len < sizeof prefix - 1 || memcmp(s, prefix, sizeof prefix - 1) != 0)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "member \"website\" must start with "
				       "\"https://\"");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f ||
		    (c == 0xc2 && i + 1 < len &&
		     (unsigned char)s[i + 1] >= 0x80 &&
		     (unsigned char)s[i + 1] <= 0x9f))
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "member \"website\" contains a "
					       "space or control character at "
					       "byte %zu", i);
	}
	return SMIMP_OK;
}

/* Reads the members of the data object into r (whose fields is set). */
static enum smimp_err read_fields(struct smimp_record *r,
				  struct smimp_error *err)
{
	const json_t *o = r->fields;
	const char *s;
	size_t len;
	long long n;
	bool present;
	json_t *item;
	size_t i;
	enum smimp_err e;

	e = smimp_json_get_string(o, "address", 0, SIZE_MAX, &s, &len, err);
	if (e != SMIMP_OK)
		return e;
	if (len > SMIMP_ADDRESS_MAX || !smimp_address_is_normal(s, len))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "member \"address\" is not an address "
				       "in normal form");
	memcpy(r->address, s, len);
	r->address[len] = '\0';

	e = smimp_json_get_hex(o, "public_key", 0, r->public_key.b,
			       sizeof r->public_key.b, NULL, err);
	if (e != SMIMP_OK)
		return e;
	if (smimp_sign_pk_check(&r->public_key) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "member \"public_key\" is not a valid "
				       "Ed25519 point that converts to "
				       "Curve25519");

	e = smimp_json_get_hex(o, "previous", SMIMP_JSON_NULLABLE,
			       r->previous.b, sizeof r->previous.b, &present,
			       err);
	if (e != SMIMP_OK)
		return e;
	r->has_previous = present;

	e = smimp_json_get_int(o, "seq", 0, 0, INT64_MAX - 1, &n, err);
	if (e != SMIMP_OK)
		return e;
	r->seq = n;
	if (r->seq == 0 && r->has_previous)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "member \"previous\" must be null when "
				       "seq is 0");
	if (r->seq != 0 && !r->has_previous)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "member \"previous\" may be null only "
				       "when seq is 0");

	e = smimp_json_get_string(o, "changed_at", 0, SMIMP_TIMESTAMP_LEN, &s,
				  &len, err);
	if (e == SMIMP_ERR_TOO_LARGE ||
	    (e == SMIMP_OK &&
	     smimp_timestamp_parse(&r->changed_at, s, len) != SMIMP_OK))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "member \"changed_at\" is not a "
				       "timestamp \"YYYY-MM-DD hh:mm:ss\"");
	if (e != SMIMP_OK)
		return e;

	e = smimp_json_get_string(o, "name",
				  SMIMP_JSON_OPTIONAL | SMIMP_JSON_NULLABLE,
				  SMIMP_RECORD_MAX_NAME, &r->name,
				  &r->name_len, err);
	if (e != SMIMP_OK)
		return e;

	e = smimp_json_get_string(o, "website",
				  SMIMP_JSON_OPTIONAL | SMIMP_JSON_NULLABLE,
				  SMIMP_RECORD_MAX_WEBSITE, &r->website,
				  &r->website_len, err);
	if (e != SMIMP_OK)
		return e;
	if (r->website != NULL &&
	    (e = check_website(r->website, r->website_len, err)) != SMIMP_OK)
		return e;

	e = smimp_json_get_array(o, "profiles", SMIMP_JSON_OPTIONAL,
				 SMIMP_RECORD_MAX_PROFILES, &r->profiles, err);
	if (e != SMIMP_OK)
		return e;
	json_array_foreach(r->profiles, i, item) {
		if (!json_is_string(item))
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "member \"profiles\" item %zu "
					       "is not a string", i);
		if (json_string_length(item) > SMIMP_RECORD_MAX_PROFILE)
			return smimp_error_set(err, SMIMP_ERR_TOO_LARGE,
					       "member \"profiles\" item %zu "
					       "is longer than %u bytes", i,
					       SMIMP_RECORD_MAX_PROFILE);
	}

	return smimp_json_get_object(o, "additional",
				     SMIMP_JSON_OPTIONAL | SMIMP_JSON_NULLABLE,
				     &r->additional, err);
}

/* Fills out from the data bytes and the signed hash. */
static enum smimp_err parse_data(struct smimp_record *out, const char *data,
				 size_t len,
				 const struct smimp_signed_hash *signed_hash,
				 struct smimp_error *err)
{
	struct smimp_error local;
	enum smimp_err e;

	if (err == NULL)
		err = &local;
	memset(out, 0, sizeof *out);
	if (len > SMIMP_RECORD_MAX_DATA)
		return smimp_error_set(err, SMIMP_ERR_TOO_LARGE,
				       "data of %zu bytes is over the limit "
				       "of %u", len, SMIMP_RECORD_MAX_DATA);
	out->fields = smimp_json_parse(data, len, SMIMP_RECORD_MAX_DATA, true,
				       err);
	if (out->fields == NULL) {
		return smimp_error_prefix(err, "data");
	}
	if ((e = read_fields(out, err)) != SMIMP_OK) {
		e = smimp_error_prefix(err, "data");
		goto fail;
	}
	out->data = malloc(len + 1);
	if (out->data == NULL) {
		e = smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
		goto fail;
	}
	memcpy(out->data, data, len);
	out->data[len] = '\0';
	out->data_len = len;
	smimp_record_hash(&out->hash, data, len);
	out->signed_hash = *signed_hash;
	return SMIMP_OK;
fail:
	smimp_record_free(out);
	return e;
}

enum smimp_err smimp_record_from_json(struct smimp_record *out,
				      const json_t *wire,
				      struct smimp_error *err)
{
	struct smimp_signed_hash sh;
	const char *data;
	size_t len;
	enum smimp_err e;

	memset(out, 0, sizeof *out);
	if (!json_is_object(wire))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "record is not a JSON object");
	e = smimp_json_get_string(wire, "data", 0, SMIMP_RECORD_MAX_DATA,
				  &data, &len, err);
	if (e != SMIMP_OK)
		return e;
	e = smimp_json_get_hex(wire, "signed_hash", 0, sh.b, sizeof sh.b, NULL,
			       err);
	if (e != SMIMP_OK)
		return e;
	return parse_data(out, data, len, &sh, err);
}

static enum smimp_err read_record(void *out, const json_t *v,
				  const void *arg, struct smimp_error *err)
{
	(void)arg;
	return smimp_record_from_json(out, v, err);
}

enum smimp_err smimp_record_parse(struct smimp_record *out, const char *text,
				  size_t len, struct smimp_error *err)
{
	memset(out, 0, sizeof *out);
	return smimp_json_parse_with(text, len, SMIMP_RECORD_MAX_WIRE, NULL,
				     read_record, out, NULL, err);
}

json_t *smimp_record_to_json(const struct smimp_record *r)
{
	json_t *o = json_object();

	if (o == NULL ||
	    json_object_set_new(o, "data",
				json_stringn(r->data, r->data_len)) != 0 ||
	    smimp_json_set_hex(o, "signed_hash", r->signed_hash.b,
			       sizeof r->signed_hash.b) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The data object of v, members in the spec's order; NULL when out of
 * memory or a string is not valid UTF-8. */
static json_t *build_fields(const struct smimp_record_values *v)
{
	char ts[SMIMP_TIMESTAMP_LEN + 1];
	json_t *o = json_object(), *profiles = json_array();
	int bad = o == NULL || profiles == NULL;

	for (size_t i = 0; !bad && i < v->n_profiles; i++)
		bad = json_array_append_new(profiles,
					    json_string(v->profiles[i])) != 0;
	smimp_timestamp_format(ts, v->changed_at);
	bad = bad ||
	      json_object_set_new(o, "address", json_string(v->address)) ||
	      smimp_json_set_hex(o, "public_key", v->public_key->b,
				 sizeof v->public_key->b) ||
	      (v->previous != NULL
		       ? smimp_json_set_hex(o, "previous", v->previous->b,
					    sizeof v->previous->b)
		       : json_object_set_new(o, "previous", json_null())) ||
	      json_object_set_new(o, "seq", json_integer(v->seq)) ||
	      json_object_set_new(o, "changed_at", json_string(ts)) ||
	      json_object_set_new(o, "name", v->name != NULL
					     ? json_string(v->name)
					     : json_null()) ||
	      json_object_set_new(o, "website", v->website != NULL
						? json_string(v->website)
						: json_null()) ||
	      json_object_set(o, "profiles", profiles) ||
	      json_object_set_new(o, "additional",
				  v->additional != NULL
					  ? json_deep_copy(v->additional)
					  : json_null());
	json_decref(profiles);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

enum smimp_err smimp_record_build(struct smimp_record *out,
				  const struct smimp_record_values *v,
				  const struct smimp_sign_sk *signer_sk,
				  struct smimp_error *err)
{
	struct smimp_signed_hash sh;
	struct smimp_hash h;
	enum smimp_err e;
	json_t *fields;
	char *data;

	memset(out, 0, sizeof *out);
	if (v->address == NULL || v->public_key == NULL)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "record needs an address and a "
				       "public_key");
	if (v->additional != NULL && !json_is_object(v->additional))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "member \"additional\" must be an "
				       "object");
	if ((fields = build_fields(v)) == NULL)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "record values are not valid UTF-8 "
				       "(or out of memory)");
	data = smimp_json_dump(fields);
	json_decref(fields);
	if (data == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL,
				       "out of memory");
	/* Parse what was built, so a built record obeys the same rules as a
	 * received one; sign only then. */
	memset(&sh, 0, sizeof sh);
	e = parse_data(out, data, strlen(data), &sh, err);
	if (e == SMIMP_OK) {
		smimp_record_hash(&h, data, strlen(data));
		smimp_signed_hash_make(&out->signed_hash, &h, signer_sk);
	}
	free(data);
	return e;
}

enum smimp_err smimp_record_verify(const struct smimp_record *r,
				   const struct smimp_sign_pk *signer,
				   struct smimp_error *err)
{
	if (smimp_signed_hash_verify(&r->signed_hash, &r->hash, signer) !=
	    SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_SIGNATURE,
				       "signed_hash does not verify over the "
				       "data with the signing key");
	return SMIMP_OK;
}

static enum smimp_err check_time(const struct smimp_record *r, int64_t now,
				 struct smimp_error *err)
{
	if (r->changed_at > now && r->changed_at - now > SMIMP_RECORD_MAX_AHEAD)
		return smimp_error_set(err, SMIMP_ERR_CONFLICT,
				       "changed_at is %lld seconds ahead of "
				       "the server's clock (at most %d)",
				       (long long)(r->changed_at - now),
				       SMIMP_RECORD_MAX_AHEAD);
	return SMIMP_OK;
}

enum smimp_err smimp_record_check_first(const struct smimp_record *r,
					const char *address, int64_t now,
					struct smimp_error *err)
{
	enum smimp_err e;

	if (address == NULL || strcmp(r->address, address) != 0)
		return smimp_error_set(err, SMIMP_ERR_CONFLICT,
				       "record is for another address");
	if (r->seq != 0 || r->has_previous)
		return smimp_error_set(err, SMIMP_ERR_CONFLICT,
				       "the first record must have seq 0 and "
				       "previous null");
	if ((e = check_time(r, now, err)) != SMIMP_OK)
		return e;
	if (smimp_record_verify(r, &r->public_key, err) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_SIGNATURE,
				       "record 0 is not signed by its own "
				       "public_key");
	return SMIMP_OK;
}

enum smimp_err smimp_record_check_extends(const struct smimp_record *next,
					  const struct smimp_record *last,
					  const struct smimp_sign_pk *earlier_keys,
					  size_t n_earlier_keys, int64_t now,
					  struct smimp_error *err)
{
	enum smimp_err e;

	if (strcmp(next->address, last->address) != 0)
		return smimp_error_set(err, SMIMP_ERR_CONFLICT,
				       "record is for another address");
	if (last->seq >= (int64_t)SMIMP_RECORD_MAX_RECORDS - 1)
		return smimp_error_set(err, SMIMP_ERR_CONFLICT,
				       "the history already has the most "
				       "records allowed (%u)",
				       SMIMP_RECORD_MAX_RECORDS);
	if (next->seq != last->seq + 1)
		return smimp_error_set(err, SMIMP_ERR_CONFLICT,
				       "seq is %lld, expected %lld",
				       (long long)next->seq,
				       (long long)(last->seq + 1));
	if (!next->has_previous ||
	    !smimp_signed_hash_equal(&next->previous, &last->signed_hash))
		return smimp_error_set(err, SMIMP_ERR_CONFLICT,
				       "previous does not match the last "
				       "record's signed_hash");
	if (next->changed_at < last->changed_at)
		return smimp_error_set(err, SMIMP_ERR_CONFLICT,
				       "changed_at is earlier than the last "
				       "record's");
	if ((e = check_time(next, now, err)) != SMIMP_OK)
		return e;
	if (!smimp_sign_pk_equal(&next->public_key, &last->public_key)) {
		for (size_t i = 0; i < n_earlier_keys; i++)
			if (smimp_sign_pk_equal(&next->public_key,
						&earlier_keys[i]))
				return smimp_error_set(
					err, SMIMP_ERR_CONFLICT,
					"public_key was used before in the "
					"chain and replaced");
	}
	if (smimp_record_verify(next, &last->public_key, err) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_SIGNATURE,
				       "record is not signed by the last "
				       "record's public_key");
	return SMIMP_OK;
}

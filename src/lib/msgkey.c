/* Message keys (spec 6): signing, verification and the JSON form. Keys come
 * from a recipient's server (untrusted) and are checked against the master
 * key the caller validated; the JSON parser takes hostile input. */
#include <string.h>

#include "smimp/hash.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/msgkey.h"

/* The longest kind name ("nonephemeral"), with room to spare. */
#define KIND_MAX_LEN 16u

const char *smimp_msgkey_kind_name(enum smimp_msgkey_kind kind)
{
	switch (kind) {
	case SMIMP_MSGKEY_EPHEMERAL:
		return "ephemeral";
	case SMIMP_MSGKEY_NONEPHEMERAL:
		return "nonephemeral";
	}
	return NULL;
}

enum smimp_err smimp_msgkey_kind_parse(enum smimp_msgkey_kind *out,
				       const char *s)
{
	if (s == NULL)
		return SMIMP_ERR_BAD_REQUEST;
	if (strcmp(s, "ephemeral") == 0)
		*out = SMIMP_MSGKEY_EPHEMERAL;
	else if (strcmp(s, "nonephemeral") == 0)
		*out = SMIMP_MSGKEY_NONEPHEMERAL;
	else
		return SMIMP_ERR_BAD_REQUEST;
	return SMIMP_OK;
}

void smimp_msgkey_hash(struct smimp_hash *out, const char *address,
		       enum smimp_msgkey_kind kind, const struct smimp_box_pk *key)
{
	struct smimp_field f[3];

	f[0] = smimp_text(address);
	f[1] = smimp_text(smimp_msgkey_kind_name(kind));
	f[2] = smimp_bytes(key->b, sizeof key->b);
	smimp_hash_fields(out, SMIMP_LABEL_MESSAGE_KEY, f, 3);
}

void smimp_msgkey_sign(struct smimp_msgkey *out, const char *address,
		       enum smimp_msgkey_kind kind, const struct smimp_box_pk *key,
		       const struct smimp_sign_sk *master_sk)
{
	struct smimp_hash h;

	smimp_msgkey_hash(&h, address, kind, key);
	if (&out->key != key)
		memcpy(out->key.b, key->b, sizeof out->key.b);
	out->kind = kind;
	smimp_signed_hash_make(&out->signed_hash, &h, master_sk);
}

enum smimp_err smimp_msgkey_verify(const struct smimp_msgkey *mk,
				   const char *address,
				   const struct smimp_sign_pk *master_pk,
				   int expect_kind, struct smimp_error *err)
{
	struct smimp_box_pk master_bytes, master_box;
	struct smimp_hash h;

	_Static_assert(sizeof master_bytes.b == sizeof master_pk->b,
		       "master key and message key sizes");
	memcpy(master_bytes.b, master_pk->b, sizeof master_bytes.b);

	if (smimp_msgkey_kind_name(mk->kind) == NULL)
		return smimp_error_set(err, SMIMP_ERR_BAD_KEY,
				       "message key of an unknown kind");
	if (expect_kind >= 0 && (int)mk->kind != expect_kind)
		return smimp_error_set(err, SMIMP_ERR_BAD_KEY,
				       "message key is %s, expected another kind",
				       smimp_msgkey_kind_name(mk->kind));
	if (smimp_box_pk_equal(&mk->key, &master_bytes))
		return smimp_error_set(err, SMIMP_ERR_BAD_KEY,
				       "message key is the master public key");
	if (smimp_sign_pk_to_box(&master_box, master_pk) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_KEY,
				       "master key has no Curve25519 form");
	if (smimp_box_pk_equal(&mk->key, &master_box))
		return smimp_error_set(err, SMIMP_ERR_BAD_KEY,
				       "message key is the master key's "
				       "Curve25519 form");
	smimp_msgkey_hash(&h, address, mk->kind, &mk->key);
	if (smimp_signed_hash_verify(&mk->signed_hash, &h, master_pk) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_KEY,
				       "message key is not signed by the master "
				       "key for this address and kind");
	return SMIMP_OK;
}

enum smimp_err smimp_msgkey_from_json(struct smimp_msgkey *out, const json_t *v,
				      struct smimp_error *err)
{
	struct smimp_msgkey mk;
	const char *kind;
	size_t kind_len;
	enum smimp_err e;

	if (!json_is_object(v))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "message key is not an object");
	if ((e = smimp_json_get_hex(v, "key", 0, mk.key.b, sizeof mk.key.b,
				    NULL, err)) != SMIMP_OK)
		return e;
	e = smimp_json_get_string(v, "kind", 0, KIND_MAX_LEN, &kind, &kind_len,
				  err);
	if (e == SMIMP_ERR_TOO_LARGE)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "unknown message key kind");
	if (e != SMIMP_OK)
		return e;
	if (kind_len != strlen(kind) ||
	    smimp_msgkey_kind_parse(&mk.kind, kind) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "unknown message key kind");
	if ((e = smimp_json_get_hex(v, "signed_hash", 0, mk.signed_hash.b,
				    sizeof mk.signed_hash.b, NULL, err)) != SMIMP_OK)
		return e;
	*out = mk;
	return SMIMP_OK;
}

json_t *smimp_msgkey_to_json(const struct smimp_msgkey *mk)
{
	const char *kind = smimp_msgkey_kind_name(mk->kind);
	json_t *o;

	if (kind == NULL || (o = json_object()) == NULL)
		return NULL;
	if (smimp_json_set_hex(o, "key", mk->key.b, sizeof mk->key.b) != 0 ||
	    json_object_set_new(o, "kind", json_string(kind)) != 0 ||
	    smimp_json_set_hex(o, "signed_hash", mk->signed_hash.b,
			       sizeof mk->signed_hash.b) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

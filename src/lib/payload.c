/* Message payloads (spec 12): parse, validate and serialize the plaintext of
 * each message type. The plaintext comes from a sender and is hostile until
 * checked: sizes are bounded, every member typed, key pairs checked for
 * consistency, and secret material wiped wherever this file copied it. */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "smimp/address.h"
#include "smimp/b64.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/payload.h"
#include "smimp/timestamp.h"

_Static_assert(SMIMP_SECRETBOX_KEY_BYTES == crypto_secretbox_KEYBYTES,
	       "secretbox key size");

/* Latest date_sent a timestamp can write: 9999-12-31 23:59:59. */
#define TIMESTAMP_MAX 253402300799LL

/* ---- Freeing ---- */

static void wipe_str(char *s)
{
	if (s != NULL) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

static void free_addresses(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		wipe_str(v[i]);
	free(v);
}

static void free_attachments(struct smimp_attachment *a, size_t n)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		wipe_str(a[i].filename);
		if (a[i].content != NULL) {
			sodium_memzero(a[i].content, a[i].content_len);
			free(a[i].content);
		}
	}
	free(a);
}

void smimp_payload_free(struct smimp_payload *p)
{
	if (p == NULL)
		return;
	switch (p->type) {
	case SMIMP_MSGTYPE_EMAIL:
		free_addresses(p->email.to, p->email.n_to);
		free_addresses(p->email.cc, p->email.n_cc);
		wipe_str(p->email.subject);
		wipe_str(p->email.body);
		wipe_str(p->email.signature);
		free_attachments(p->email.attachments, p->email.n_attachments);
		json_decref(p->email.extensions);
		wipe_str(p->email.reply_to);
		wipe_str(p->email.auto_reply_address);
		break;
	case SMIMP_MSGTYPE_SHORT_MESSAGE:
		wipe_str(p->short_message.message);
		free_attachments(p->short_message.attachments,
				 p->short_message.n_attachments);
		break;
	case SMIMP_MSGTYPE_SECRET_ED25519:
		wipe_str(p->secret_ed25519.note);
		break;
	case SMIMP_MSGTYPE_SECRET_CURVE25519:
		wipe_str(p->secret_curve25519.note);
		break;
	case SMIMP_MSGTYPE_SECRET_XSALSA20:
		wipe_str(p->secret_xsalsa20.note);
		break;
	case SMIMP_MSGTYPE_CUSTOM:
		if (p->custom.data != NULL) {
			sodium_memzero(p->custom.data, p->custom.len);
			free(p->custom.data);
		}
		break;
	}
	sodium_memzero(p, sizeof *p);
}

void smimp_payload_bytes_free(uint8_t *buf, size_t len)
{
	if (buf == NULL)
		return;
	sodium_memzero(buf, len);
	free(buf);
}

/* ---- Rules shared by parse and validate ---- */

static bool filename_ok(const char *s, size_t len)
{
	if (len == 0 || len > SMIMP_PAYLOAD_MAX_FILENAME)
		return false;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
			return false;
	}
	return true;
}

/* auto_reply_address must be at the sender's domain (when sender known). */
static enum smimp_err check_auto_reply(const char *addr, const char *sender,
				       struct smimp_error *err)
{
	char norm[SMIMP_ADDRESS_MAX + 1];
	const char *d1, *d2;

	if (addr == NULL || sender == NULL)
		return SMIMP_OK;
	if (smimp_address_normalize_str(norm, sender, NULL) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "sender is not an address");
	d1 = smimp_address_domain(addr);
	d2 = smimp_address_domain(norm);
	if (d1 == NULL || d2 == NULL || strcmp(d1, d2) != 0)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "auto_reply_address is not at the "
				       "sender's domain");
	return SMIMP_OK;
}

/* The verdict of a key pair check. */
static enum smimp_err pair_verdict(bool ok, struct smimp_error *err)
{
	if (!ok)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "secret_key does not belong to "
				       "public_key");
	return SMIMP_OK;
}

static enum smimp_err check_ed25519_pair(const struct smimp_sign_pk *pk,
					 const struct smimp_sign_sk *sk,
					 struct smimp_error *err)
{
	struct smimp_sign_keypair kp;
	bool ok;

	smimp_sign_keypair_from_seed(&kp, sk->b);
	ok = sodium_memcmp(sk->b + SMIMP_SIGN_SEED_BYTES, pk->b,
			   sizeof pk->b) == 0 &&
	     sodium_memcmp(kp.pk.b, pk->b, sizeof pk->b) == 0;
	smimp_sign_keypair_wipe(&kp);
	return pair_verdict(ok, err);
}

static enum smimp_err check_curve25519_pair(const struct smimp_box_pk *pk,
					    const struct smimp_box_sk *sk,
					    struct smimp_error *err)
{
	struct smimp_box_pk got;

	crypto_scalarmult_base(got.b, sk->b);
	return pair_verdict(smimp_box_pk_equal(&got, pk), err);
}

/* ---- Parsing ---- */

/* A NUL-terminated malloc'ed copy of a string member (NULL when null and
 * allowed). */
static enum smimp_err get_text(char **out, const json_t *o, const char *name,
			       unsigned flags, size_t max_len,
			       struct smimp_error *err)
{
	const char *s;
	size_t len;
	enum smimp_err e;

	*out = NULL;
	e = smimp_json_get_string(o, name, flags, max_len, &s, &len, err);
	if (e != SMIMP_OK || s == NULL)
		return e;
	*out = malloc(len + 1);
	if (*out == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	memcpy(*out, s, len);
	(*out)[len] = '\0';
	return SMIMP_OK;
}

static enum smimp_err address_value(char **out, const json_t *v,
				    const char *what, struct smimp_error *err)
{
	char norm[SMIMP_ADDRESS_MAX + 1];

	*out = NULL;
	if (!json_is_string(v) ||
	    smimp_address_normalize(norm, json_string_value(v),
				    json_string_length(v), NULL) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "%s is not an address", what);
	*out = strdup(norm);
	if (*out == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	return SMIMP_OK;
}

static enum smimp_err get_address_opt(char **out, const json_t *o,
				      const char *name, struct smimp_error *err)
{
	json_t *v = json_object_get(o, name);

	*out = NULL;
	if (v == NULL)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "member \"%s\" is missing", name);
	if (json_is_null(v))
		return SMIMP_OK;
	return address_value(out, v, name, err);
}

static enum smimp_err get_addresses(char ***out, size_t *n, const json_t *o,
				    const char *name, struct smimp_error *err)
{
	json_t *arr, *v;
	enum smimp_err e;
	size_t i;

	*out = NULL;
	*n = 0;
	e = smimp_json_get_array(o, name, 0, SMIMP_PAYLOAD_MAX_ADDRESSES, &arr,
				 err);
	if (e != SMIMP_OK)
		return e;
	*out = calloc(json_array_size(arr) + 1, sizeof **out);
	if (*out == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	json_array_foreach(arr, i, v) {
		e = address_value(&(*out)[i], v, name, err);
		if (e != SMIMP_OK)
			return e;
		*n = i + 1;
	}
	return SMIMP_OK;
}

static enum smimp_err get_attachments(struct smimp_attachment **out, size_t *n,
				      const json_t *o, size_t max_bytes,
				      struct smimp_error *err)
{
	json_t *arr, *v;
	enum smimp_err e;
	size_t i;

	*out = NULL;
	*n = 0;
	e = smimp_json_get_array(o, "attachments", 0,
				 SMIMP_PAYLOAD_MAX_ATTACHMENTS, &arr, err);
	if (e != SMIMP_OK)
		return e;
	*out = calloc(json_array_size(arr) + 1, sizeof **out);
	if (*out == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	json_array_foreach(arr, i, v) {
		struct smimp_attachment *a = &(*out)[i];

		*n = i + 1;
		if (!json_is_object(v))
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "attachment %zu is not an "
					       "object", i);
		e = get_text(&a->filename, v, "filename", 0,
			     SMIMP_PAYLOAD_MAX_FILENAME, err);
		if (e == SMIMP_ERR_TOO_LARGE ||
		    (e == SMIMP_OK && !filename_ok(a->filename,
						   strlen(a->filename))))
			e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					    "attachment %zu: bad filename", i);
		if (e == SMIMP_OK)
			e = smimp_json_get_b64(v, "content", 0, max_bytes,
					       &a->content, &a->content_len,
					       err);
		if (e != SMIMP_OK) {
			smimp_error_prefix(err, "attachment %zu", i);
			return e;
		}
	}
	return SMIMP_OK;
}

static enum smimp_err parse_email(struct smimp_email *m, const json_t *o,
				  size_t max_bytes, const char *sender,
				  struct smimp_error *err)
{
	const char *s;
	size_t len;
	json_t *ext;
	enum smimp_err e;
	bool present;

	if ((e = get_addresses(&m->to, &m->n_to, o, "to", err)) != SMIMP_OK ||
	    (e = get_addresses(&m->cc, &m->n_cc, o, "cc", err)) != SMIMP_OK ||
	    (e = get_text(&m->subject, o, "subject", 0,
			  SMIMP_PAYLOAD_MAX_SUBJECT, err)) != SMIMP_OK ||
	    (e = smimp_json_get_hex(o, "thread_id", 0, m->thread_id.b,
				    sizeof m->thread_id.b, NULL,
				    err)) != SMIMP_OK ||
	    (e = smimp_json_get_hex(o, "reply_to_message_id",
				    SMIMP_JSON_NULLABLE,
				    m->reply_to_message_id.b,
				    sizeof m->reply_to_message_id.b, &present,
				    err)) != SMIMP_OK)
		return e;
	m->has_reply_to_message_id = present;
	e = smimp_json_get_string(o, "date_sent", 0, SMIMP_TIMESTAMP_LEN, &s,
				  &len, err);
	if (e == SMIMP_ERR_TOO_LARGE ||
	    (e == SMIMP_OK &&
	     smimp_timestamp_parse(&m->date_sent, s, len) != SMIMP_OK))
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				    "member \"date_sent\" is not a timestamp");
	if (e != SMIMP_OK)
		return e;
	if ((e = get_text(&m->body, o, "body", 0, max_bytes, err)) != SMIMP_OK ||
	    (e = get_text(&m->signature, o, "signature", SMIMP_JSON_NULLABLE,
			  max_bytes, err)) != SMIMP_OK ||
	    (e = get_attachments(&m->attachments, &m->n_attachments, o,
				 max_bytes, err)) != SMIMP_OK ||
	    (e = smimp_json_get_object(o, "extensions", SMIMP_JSON_NULLABLE,
				       &ext, err)) != SMIMP_OK)
		return e;
	m->extensions = json_incref(ext);
	if ((e = get_address_opt(&m->reply_to, o, "reply_to", err)) != SMIMP_OK ||
	    (e = get_address_opt(&m->auto_reply_address, o,
				 "auto_reply_address", err)) != SMIMP_OK)
		return e;
	return check_auto_reply(m->auto_reply_address, sender, err);
}

/* Decodes a hex member holding secret material, then wipes the member's
 * text inside the JSON tree (it is the caller's tree, about to be freed). */
static enum smimp_err get_secret_hex(const json_t *o, const char *name,
				     uint8_t *out, size_t out_len,
				     struct smimp_error *err)
{
	json_t *v = json_object_get(o, name);
	enum smimp_err e;

	e = smimp_json_get_hex(o, name, 0, out, out_len, NULL, err);
	if (json_is_string(v))
		sodium_memzero((char *)json_string_value(v),
			       json_string_length(v));
	return e;
}

/* The public_key and secret_key members of a secret key payload. */
static enum smimp_err get_key_pair(const json_t *o, uint8_t *pk, size_t pk_len,
				   uint8_t *sk, size_t sk_len,
				   struct smimp_error *err)
{
	enum smimp_err e;

	e = smimp_json_get_hex(o, "public_key", 0, pk, pk_len, NULL, err);
	if (e != SMIMP_OK)
		return e;
	return get_secret_hex(o, "secret_key", sk, sk_len, err);
}

static enum smimp_err parse_object(struct smimp_payload *p, const json_t *o,
				   size_t max_bytes, const char *sender,
				   struct smimp_error *err)
{
	enum smimp_err e;
	const char *s;

	switch (p->type) {
	case SMIMP_MSGTYPE_EMAIL:
		return parse_email(&p->email, o, max_bytes, sender, err);
	case SMIMP_MSGTYPE_SHORT_MESSAGE:
		if ((e = get_text(&p->short_message.message, o, "message", 0,
				  max_bytes, err)) != SMIMP_OK)
			return e;
		return get_attachments(&p->short_message.attachments,
				       &p->short_message.n_attachments, o,
				       max_bytes, err);
	case SMIMP_MSGTYPE_SECRET_ED25519: {
		struct smimp_secret_ed25519 *k = &p->secret_ed25519;

		if ((e = get_key_pair(o, k->public_key.b,
				      sizeof k->public_key.b, k->secret_key.b,
				      sizeof k->secret_key.b, err)) != SMIMP_OK ||
		    (e = get_text(&k->note, o, "note", 0,
				  SMIMP_PAYLOAD_MAX_NOTE, err)) != SMIMP_OK)
			return e;
		return check_ed25519_pair(&k->public_key, &k->secret_key, err);
	}
	case SMIMP_MSGTYPE_SECRET_CURVE25519: {
		struct smimp_secret_curve25519 *k = &p->secret_curve25519;

		if ((e = get_key_pair(o, k->public_key.b,
				      sizeof k->public_key.b, k->secret_key.b,
				      sizeof k->secret_key.b, err)) != SMIMP_OK ||
		    (e = smimp_json_get_string(o, "kind", 0, 16, &s, NULL,
					       err)) != SMIMP_OK)
			return e == SMIMP_ERR_TOO_LARGE ?
			       smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "unknown key kind") : e;
		if (smimp_msgkey_kind_parse(&k->kind, s) != SMIMP_OK)
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "unknown key kind");
		if ((e = get_text(&k->note, o, "note", 0,
				  SMIMP_PAYLOAD_MAX_NOTE, err)) != SMIMP_OK)
			return e;
		return check_curve25519_pair(&k->public_key, &k->secret_key,
					     err);
	}
	case SMIMP_MSGTYPE_SECRET_XSALSA20:
		if ((e = get_secret_hex(o, "key", p->secret_xsalsa20.key,
					sizeof p->secret_xsalsa20.key,
					err)) != SMIMP_OK)
			return e;
		return get_text(&p->secret_xsalsa20.note, o, "note", 0,
				SMIMP_PAYLOAD_MAX_NOTE, err);
	case SMIMP_MSGTYPE_CUSTOM:
		break;
	}
	return smimp_error_set(err, SMIMP_ERR_INTERNAL, "not a JSON type");
}

static void wipe_secret_members(json_t *o)
{
	static const char *const names[] = {"secret_key", "key"};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		json_t *v = json_object_get(o, names[i]);

		if (json_is_string(v))
			sodium_memzero((char *)json_string_value(v),
				       json_string_length(v));
	}
}

/* What parse_object takes besides the payload and the object. */
struct payload_args {
	size_t max_bytes;
	const char *sender;
};

static enum smimp_err read_payload(void *out, const json_t *o,
				   const void *arg, struct smimp_error *err)
{
	const struct payload_args *a = arg;
	enum smimp_err e = parse_object(out, o, a->max_bytes, a->sender, err);

	wipe_secret_members((json_t *)o);
	return e;
}

enum smimp_err smimp_payload_parse(struct smimp_payload *out,
				   const char *message_type,
				   const uint8_t *plaintext, size_t len,
				   size_t max_bytes, const char *sender,
				   struct smimp_error *err)
{
	const struct payload_args args = {max_bytes, sender};
	enum smimp_msgtype type;
	enum smimp_err e;

	memset(out, 0, sizeof *out);
	if (message_type == NULL ||
	    (e = smimp_msgtype_parse(&type, message_type, strlen(message_type),
				     err)) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "unknown message type");
	if (len > max_bytes)
		return smimp_error_set(err, SMIMP_ERR_TOO_LARGE,
				       "plaintext of %zu bytes is over the "
				       "limit of %zu", len, max_bytes);
	if (plaintext == NULL && len > 0)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "plaintext missing");
	out->type = type;
	if (type == SMIMP_MSGTYPE_CUSTOM) {
		out->custom.data = malloc(len > 0 ? len : 1);
		if (out->custom.data == NULL) {
			memset(out, 0, sizeof *out);
			return smimp_error_set(err, SMIMP_ERR_INTERNAL,
					       "out of memory");
		}
		if (len > 0)
			memcpy(out->custom.data, plaintext, len);
		out->custom.len = len;
		return SMIMP_OK;
	}
	e = smimp_json_parse_with(plaintext != NULL ? (const char *)plaintext :
				  "", len, max_bytes, NULL, read_payload, out,
				  &args, err);
	if (e != SMIMP_OK)
		smimp_payload_free(out);
	return e;
}

/* ---- Validation of a payload filled by the caller ---- */

/* Valid UTF-8 without NUL (what a JSON string can carry). */
static bool utf8_ok(const char *s)
{
	json_t *j = json_string(s);
	bool ok = j != NULL;

	json_decref(j);
	return ok;
}

static enum smimp_err text_ok(const char *s, const char *name, bool nullable,
			      size_t max_len, struct smimp_error *err)
{
	if (s == NULL) {
		if (nullable)
			return SMIMP_OK;
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "%s missing", name);
	}
	if (strlen(s) > max_len)
		return smimp_error_set(err, SMIMP_ERR_TOO_LARGE,
				       "%s longer than %zu bytes", name, max_len);
	if (!utf8_ok(s))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "%s is not valid UTF-8", name);
	return SMIMP_OK;
}

static enum smimp_err address_ok(const char *s, const char *name,
				 bool nullable, struct smimp_error *err)
{
	if (s == NULL && nullable)
		return SMIMP_OK;
	if (s == NULL || !smimp_address_is_normal(s, strlen(s)))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "%s is not an address in normal form",
				       name);
	return SMIMP_OK;
}

static enum smimp_err addresses_ok(char *const *v, size_t n, const char *name,
				   struct smimp_error *err)
{
	enum smimp_err e;

	if (n > SMIMP_PAYLOAD_MAX_ADDRESSES)
		return smimp_error_set(err, SMIMP_ERR_TOO_LARGE,
				       "more than %d addresses in %s",
				       SMIMP_PAYLOAD_MAX_ADDRESSES, name);
	if (n > 0 && v == NULL)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "%s missing", name);
	for (size_t i = 0; i < n; i++)
		if ((e = address_ok(v[i], name, false, err)) != SMIMP_OK)
			return e;
	return SMIMP_OK;
}

static enum smimp_err attachments_ok(const struct smimp_attachment *a,
				     size_t n, struct smimp_error *err)
{
	if (n > SMIMP_PAYLOAD_MAX_ATTACHMENTS)
		return smimp_error_set(err, SMIMP_ERR_TOO_LARGE,
				       "more than %d attachments",
				       SMIMP_PAYLOAD_MAX_ATTACHMENTS);
	if (n > 0 && a == NULL)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "attachments missing");
	for (size_t i = 0; i < n; i++) {
		if (a[i].filename == NULL ||
		    !filename_ok(a[i].filename, strlen(a[i].filename)) ||
		    !utf8_ok(a[i].filename))
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "attachment %zu: bad filename",
					       i);
		if (a[i].content == NULL && a[i].content_len > 0)
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "attachment %zu: content "
					       "missing", i);
	}
	return SMIMP_OK;
}

static enum smimp_err email_ok(const struct smimp_email *m, const char *sender,
			       struct smimp_error *err)
{
	enum smimp_err e;

	if ((e = addresses_ok(m->to, m->n_to, "to", err)) != SMIMP_OK ||
	    (e = addresses_ok(m->cc, m->n_cc, "cc", err)) != SMIMP_OK ||
	    (e = text_ok(m->subject, "subject", false,
			 SMIMP_PAYLOAD_MAX_SUBJECT, err)) != SMIMP_OK ||
	    (e = text_ok(m->body, "body", false, SIZE_MAX, err)) != SMIMP_OK ||
	    (e = text_ok(m->signature, "signature", true, SIZE_MAX,
			 err)) != SMIMP_OK ||
	    (e = attachments_ok(m->attachments, m->n_attachments,
				err)) != SMIMP_OK ||
	    (e = address_ok(m->reply_to, "reply_to", true, err)) != SMIMP_OK ||
	    (e = address_ok(m->auto_reply_address, "auto_reply_address", true,
			    err)) != SMIMP_OK)
		return e;
	if (m->date_sent < 0 || m->date_sent > TIMESTAMP_MAX)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "date_sent out of range");
	if (m->extensions != NULL && !json_is_object(m->extensions))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "extensions must be an object or null");
	return check_auto_reply(m->auto_reply_address, sender, err);
}

enum smimp_err smimp_payload_validate(const struct smimp_payload *p,
				      const char *sender,
				      struct smimp_error *err)
{
	enum smimp_err e;

	switch (p->type) {
	case SMIMP_MSGTYPE_EMAIL:
		return email_ok(&p->email, sender, err);
	case SMIMP_MSGTYPE_SHORT_MESSAGE:
		if ((e = text_ok(p->short_message.message, "message", false,
				 SIZE_MAX, err)) != SMIMP_OK)
			return e;
		return attachments_ok(p->short_message.attachments,
				      p->short_message.n_attachments, err);
	case SMIMP_MSGTYPE_SECRET_ED25519:
		if ((e = text_ok(p->secret_ed25519.note, "note", false,
				 SMIMP_PAYLOAD_MAX_NOTE, err)) != SMIMP_OK)
			return e;
		return check_ed25519_pair(&p->secret_ed25519.public_key,
					  &p->secret_ed25519.secret_key, err);
	case SMIMP_MSGTYPE_SECRET_CURVE25519:
		if ((e = text_ok(p->secret_curve25519.note, "note", false,
				 SMIMP_PAYLOAD_MAX_NOTE, err)) != SMIMP_OK)
			return e;
		if (p->secret_curve25519.kind != SMIMP_MSGKEY_EPHEMERAL &&
		    p->secret_curve25519.kind != SMIMP_MSGKEY_NONEPHEMERAL)
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "unknown key kind");
		return check_curve25519_pair(&p->secret_curve25519.public_key,
					     &p->secret_curve25519.secret_key,
					     err);
	case SMIMP_MSGTYPE_SECRET_XSALSA20:
		return text_ok(p->secret_xsalsa20.note, "note", false,
			       SMIMP_PAYLOAD_MAX_NOTE, err);
	case SMIMP_MSGTYPE_CUSTOM:
		if (p->custom.data == NULL && p->custom.len > 0)
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "custom payload missing");
		if (p->custom.len == SIZE_MAX) /* serialize adds a NUL */
			return smimp_error_set(err, SMIMP_ERR_TOO_LARGE,
					       "custom payload too large");
		return SMIMP_OK;
	}
	return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
			       "unknown message type");
}

/* ---- Serialization ---- */

static json_t *address_array(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) != 0) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

static json_t *attachment_array(const struct smimp_attachment *at, size_t n)
{
	json_t *a = json_array(), *o;

	for (size_t i = 0; a != NULL && i < n; i++) {
		o = json_object();
		if (o == NULL ||
		    json_object_set_new(o, "filename",
					json_string(at[i].filename)) != 0 ||
		    smimp_json_set_b64(o, "content",
				       at[i].content != NULL ? at[i].content :
				       (const uint8_t *)"",
				       at[i].content_len) != 0 ||
		    json_array_append_new(a, o) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

static json_t *str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *email_json(const struct smimp_email *m)
{
	char ts[SMIMP_TIMESTAMP_LEN + 1];
	json_t *o = json_object();

	smimp_timestamp_format(ts, m->date_sent);
	if (o == NULL ||
	    json_object_set_new(o, "to", address_array(m->to, m->n_to)) ||
	    json_object_set_new(o, "cc", address_array(m->cc, m->n_cc)) ||
	    json_object_set_new(o, "subject", json_string(m->subject)) ||
	    smimp_json_set_hex(o, "thread_id", m->thread_id.b,
			       sizeof m->thread_id.b) ||
	    (m->has_reply_to_message_id ?
	     smimp_json_set_hex(o, "reply_to_message_id",
				m->reply_to_message_id.b,
				sizeof m->reply_to_message_id.b) :
	     json_object_set_new(o, "reply_to_message_id", json_null())) ||
	    json_object_set_new(o, "date_sent", json_string(ts)) ||
	    json_object_set_new(o, "body", json_string(m->body)) ||
	    json_object_set_new(o, "signature", str_or_null(m->signature)) ||
	    json_object_set_new(o, "attachments",
				attachment_array(m->attachments,
						 m->n_attachments)) ||
	    json_object_set_new(o, "extensions", m->extensions != NULL ?
				json_incref(m->extensions) : json_null()) ||
	    json_object_set_new(o, "reply_to", str_or_null(m->reply_to)) ||
	    json_object_set_new(o, "auto_reply_address",
				str_or_null(m->auto_reply_address))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *short_message_json(const struct smimp_short_message *m)
{
	json_t *o = json_object();

	if (o == NULL ||
	    json_object_set_new(o, "message", json_string(m->message)) ||
	    json_object_set_new(o, "attachments",
				attachment_array(m->attachments,
						 m->n_attachments))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Appends s to buf at *pos (the caller sized buf). */
static void put(char *buf, size_t *pos, const char *s, size_t len)
{
	memcpy(buf + *pos, s, len);
	*pos += len;
}

/* Appends "<key>":"<hex of v>", to buf at *pos (the caller sized buf). */
static void put_hex_member(char *buf, size_t *pos, const char *key,
			   const uint8_t *v, size_t len)
{
	put(buf, pos, "\"", 1);
	put(buf, pos, key, strlen(key));
	put(buf, pos, "\":\"", 3);
	smimp_hex_encode(buf + *pos, 2 * len + 1, v, len);
	*pos += 2 * len;
	put(buf, pos, "\",", 2);
}

/* Writes a secret payload as {"<k1>":"<hex1>","<k2>":"<hex2>",
 * ["kind":"<kind>",]"note":<note>} straight into one buffer, so that the
 * secret's hex exists nowhere else. */
static enum smimp_err secret_json(uint8_t **out, size_t *out_len,
				  const char *k1, const uint8_t *v1, size_t l1,
				  const char *k2, const uint8_t *v2, size_t l2,
				  const char *kind, const char *note,
				  struct smimp_error *err)
{
	json_t *jn = json_string(note);
	char *note_json = jn != NULL ? json_dumps(jn, JSON_ENCODE_ANY) : NULL;
	size_t total, pos = 0;
	char *buf;

	json_decref(jn);
	if (note_json == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	total = 2 + strlen(k1) + 6 + 2 * l1 + strlen(note_json) + 8;
	if (k2 != NULL)
		total += strlen(k2) + 6 + 2 * l2;
	if (kind != NULL)
		total += 10 + strlen(kind);
	buf = malloc(total + 1);
	if (buf == NULL) {
		free(note_json);
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	}
	put(buf, &pos, "{", 1);
	put_hex_member(buf, &pos, k1, v1, l1);
	if (k2 != NULL)
		put_hex_member(buf, &pos, k2, v2, l2);
	if (kind != NULL) {
		put(buf, &pos, "\"kind\":\"", 8);
		put(buf, &pos, kind, strlen(kind));
		put(buf, &pos, "\",", 2);
	}
	put(buf, &pos, "\"note\":", 7);
	put(buf, &pos, note_json, strlen(note_json));
	put(buf, &pos, "}", 1);
	buf[pos] = '\0';
	free(note_json);
	*out = (uint8_t *)buf;
	*out_len = pos;
	return SMIMP_OK;
}

enum smimp_err smimp_payload_serialize(uint8_t **out, size_t *out_len,
				       const struct smimp_payload *p,
				       const char *sender,
				       struct smimp_error *err)
{
	json_t *o = NULL;
	char *s;
	enum smimp_err e;

	*out = NULL;
	*out_len = 0;
	if ((e = smimp_payload_validate(p, sender, err)) != SMIMP_OK)
		return e;
	switch (p->type) {
	case SMIMP_MSGTYPE_EMAIL:
		o = email_json(&p->email);
		break;
	case SMIMP_MSGTYPE_SHORT_MESSAGE:
		o = short_message_json(&p->short_message);
		break;
	case SMIMP_MSGTYPE_SECRET_ED25519:
		return secret_json(out, out_len, "public_key",
				   p->secret_ed25519.public_key.b,
				   SMIMP_SIGN_PK_BYTES, "secret_key",
				   p->secret_ed25519.secret_key.b,
				   SMIMP_SIGN_SK_BYTES, NULL,
				   p->secret_ed25519.note, err);
	case SMIMP_MSGTYPE_SECRET_CURVE25519:
		return secret_json(out, out_len, "public_key",
				   p->secret_curve25519.public_key.b,
				   SMIMP_BOX_PK_BYTES, "secret_key",
				   p->secret_curve25519.secret_key.b,
				   SMIMP_BOX_SK_BYTES,
				   smimp_msgkey_kind_name(p->secret_curve25519.kind),
				   p->secret_curve25519.note, err);
	case SMIMP_MSGTYPE_SECRET_XSALSA20:
		return secret_json(out, out_len, "key", p->secret_xsalsa20.key,
				   SMIMP_SECRETBOX_KEY_BYTES, NULL, NULL, 0, NULL,
				   p->secret_xsalsa20.note, err);
	case SMIMP_MSGTYPE_CUSTOM:
		*out = malloc(p->custom.len + 1);
		if (*out == NULL)
			return smimp_error_set(err, SMIMP_ERR_INTERNAL,
					       "out of memory");
		if (p->custom.len > 0)
			memcpy(*out, p->custom.data, p->custom.len);
		(*out)[p->custom.len] = '\0';
		*out_len = p->custom.len;
		return SMIMP_OK;
	}
	if (o == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	s = smimp_json_dump(o);
	json_decref(o);
	if (s == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	*out = (uint8_t *)s;
	*out_len = strlen(s);
	return SMIMP_OK;
}

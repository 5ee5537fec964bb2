/* Envelopes (spec 9): hash, encrypt, sign, serialize, parse, open, and the
 * server's acceptance check. Untrusted input: send_message bodies from any
 * sender (parsed under a size limit, each field checked), and stored
 * envelopes from a server (the reader trusts nothing in them until the
 * message hash verifies and the box opens). */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "smimp/b64.h"
#include "smimp/envelope.h"
#include "smimp/hash.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/pow.h"
#include "smimp/timestamp.h"

/* JSON bytes a body may take besides the b64 ciphertext. */
#define BODY_OVERHEAD 8192u

void smimp_envelope_clear(struct smimp_envelope *env)
{
	if (env == NULL)
		return;
	free(env->ciphertext);
	sodium_memzero(env, sizeof *env);
}

void smimp_envelope_hash(struct smimp_hash *out,
			 const struct smimp_envelope *env)
{
	struct smimp_field f[9];

	f[0] = smimp_text(env->recipient);
	f[1] = smimp_text(env->sender);
	f[2] = smimp_text(env->message_type);
	f[3] = smimp_text(env->algorithm);
	f[4] = smimp_bytes(env->message_public_key.b,
			   sizeof env->message_public_key.b);
	f[5] = smimp_bytes(env->nonce.b, sizeof env->nonce.b);
	f[6] = smimp_bytes(env->ciphertext, env->ciphertext_len);
	f[7] = smimp_text(env->has_proof_of_work ? env->proof_of_work : "");
	f[8] = smimp_bytes(env->login_token_hash.b,
			   sizeof env->login_token_hash.b);
	smimp_hash_fields(out, SMIMP_LABEL_ENVELOPE, f, 9);
}

enum smimp_err smimp_envelope_verify(const struct smimp_envelope *env,
				     const struct smimp_sign_pk *sender_pk,
				     struct smimp_error *err)
{
	struct smimp_hash h;

	smimp_envelope_hash(&h, env);
	if (smimp_signed_hash_verify(&env->message_hash, &h, sender_pk) !=
	    SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_SIGNATURE,
				       "message_hash does not verify with the "
				       "sender's key over this envelope");
	return SMIMP_OK;
}

/* Copies a NUL-terminated string into a fixed buffer; -1 when too long. */
static int copy_str(char *dst, size_t dst_size, const char *src, size_t len)
{
	if (len >= dst_size)
		return -1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

enum smimp_err smimp_envelope_encrypt(struct smimp_envelope *env,
				      const char *recipient, const char *sender,
				      const char *message_type,
				      const struct smimp_box_pk *message_key,
				      const struct smimp_box_nonce *nonce,
				      const uint8_t *plaintext,
				      size_t plaintext_len,
				      const struct smimp_sign_sk *sender_sk,
				      const struct smimp_hash *login_token_hash,
				      struct smimp_error *err)
{
	struct smimp_box_sk csk;
	enum smimp_err e = SMIMP_OK;

	memset(env, 0, sizeof *env);
	if (recipient == NULL || sender == NULL ||
	    !smimp_address_is_normal(recipient, strlen(recipient)) ||
	    !smimp_address_is_normal(sender, strlen(sender))) {
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				    "recipient and sender must be addresses "
				    "in normal form");
		goto out;
	}
	if (message_type == NULL ||
	    !smimp_msgtype_is_valid(message_type, strlen(message_type))) {
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				    "unknown message type");
		goto out;
	}
	if (plaintext == NULL && plaintext_len > 0) {
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				    "plaintext missing");
		goto out;
	}
	if (plaintext_len > SIZE_MAX - crypto_box_MACBYTES) {
		e = smimp_error_set(err, SMIMP_ERR_TOO_LARGE,
				    "plaintext too large");
		goto out;
	}
	copy_str(env->recipient, sizeof env->recipient, recipient,
		 strlen(recipient));
	copy_str(env->sender, sizeof env->sender, sender, strlen(sender));
	copy_str(env->message_type, sizeof env->message_type, message_type,
		 strlen(message_type));
	copy_str(env->algorithm, sizeof env->algorithm,
		 SMIMP_ENVELOPE_ALGORITHM, strlen(SMIMP_ENVELOPE_ALGORITHM));
	env->message_public_key = *message_key;
	if (nonce != NULL)
		env->nonce = *nonce;
	else
		randombytes_buf(env->nonce.b, sizeof env->nonce.b);
	env->login_token_hash = *login_token_hash;
	env->ciphertext_len = plaintext_len + crypto_box_MACBYTES;
	env->ciphertext = malloc(env->ciphertext_len);
	if (env->ciphertext == NULL) {
		e = smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (smimp_sign_sk_to_box(&csk, sender_sk) != SMIMP_OK) {
		e = smimp_error_set(err, SMIMP_ERR_BAD_KEY,
				    "sender secret key does not convert");
		goto out;
	}
	if (crypto_box_easy(env->ciphertext, plaintext != NULL ? plaintext :
			    (const uint8_t *)"", plaintext_len, env->nonce.b,
			    message_key->b, csk.b) != 0)
		e = smimp_error_set(err, SMIMP_ERR_BAD_KEY,
				    "message key is not usable");
out:
	sodium_memzero(&csk, sizeof csk);
	if (e != SMIMP_OK)
		smimp_envelope_clear(env);
	return e;
}

void smimp_envelope_pow_prefix(struct smimp_hash *out,
			       const struct smimp_envelope *env,
			       const struct smimp_token *pow_nonce)
{
	struct smimp_hash cth;

	smimp_pow_ciphertext_hash(&cth, env->ciphertext, env->ciphertext_len);
	smimp_pow_prefix(out, &env->login_token_hash, &cth, env->recipient,
			 env->message_type, pow_nonce);
}

enum smimp_err smimp_envelope_sign(struct smimp_envelope *env,
				   const char *proof_of_work,
				   const struct smimp_sign_sk *sender_sk,
				   struct smimp_error *err)
{
	struct smimp_hash h;

	if (proof_of_work != NULL) {
		if (copy_str(env->proof_of_work, sizeof env->proof_of_work,
			     proof_of_work, strlen(proof_of_work)) != 0)
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "proof_of_work too long");
		env->has_proof_of_work = true;
	} else {
		env->has_proof_of_work = false;
		env->proof_of_work[0] = '\0';
	}
	smimp_envelope_hash(&h, env);
	smimp_signed_hash_make(&env->message_hash, &h, sender_sk);
	return SMIMP_OK;
}

static int add_body_members(json_t *o, const struct smimp_envelope *env)
{
	/* A ciphertext is not secret: the faster codec. */
	if (smimp_json_set_b64_public(o, "message", env->ciphertext,
				      env->ciphertext_len) != 0 ||
	    json_object_set_new(o, "message_type",
				json_string(env->message_type)) != 0 ||
	    json_object_set_new(o, "algorithm", json_string(env->algorithm)) != 0 ||
	    smimp_json_set_hex(o, "message_public_key", env->message_public_key.b,
			       sizeof env->message_public_key.b) != 0 ||
	    smimp_json_set_hex(o, "nonce", env->nonce.b,
			       sizeof env->nonce.b) != 0 ||
	    json_object_set_new(o, "proof_of_work", env->has_proof_of_work ?
				json_string(env->proof_of_work) :
				json_null()) != 0 ||
	    smimp_json_set_hex(o, "message_hash", env->message_hash.b,
			       sizeof env->message_hash.b) != 0)
		return -1;
	return 0;
}

json_t *smimp_envelope_body_to_json(const struct smimp_envelope *env)
{
	json_t *o = json_object();

	if (o != NULL && add_body_members(o, env) != 0) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

char *smimp_envelope_body_dump(const struct smimp_envelope *env)
{
	json_t *o = smimp_envelope_body_to_json(env);
	char *s = o != NULL ? smimp_json_dump(o) : NULL;

	json_decref(o);
	return s;
}

/* ---- Parsing ---- */

/* Characters of the b64 of n bytes, saturating at SIZE_MAX. */
static size_t b64_len(size_t n)
{
	if (n > SIZE_MAX / 4 * 3 - 3)
		return SIZE_MAX;
	return (n + 2) / 3 * 4;
}

static size_t add_sat(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* The body members, into env (recipient, sender, login token hash aside). */
static enum smimp_err body_fields(struct smimp_envelope *env,
				  const json_t *o, size_t max_envelope_bytes,
				  struct smimp_error *err)
{
	const char *s;
	size_t len;
	enum smimp_err e;

	if (!json_is_object(o))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "envelope is not a JSON object");
	e = smimp_json_get_b64(o, "message", SMIMP_JSON_PUBLIC, max_envelope_bytes,
			       &env->ciphertext, &env->ciphertext_len, err);
	if (e != SMIMP_OK)
		return e;
	if (env->ciphertext_len < crypto_box_MACBYTES)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "member \"message\" is shorter than "
				       "an authenticator");
	e = smimp_json_get_string(o, "message_type", 0, SIZE_MAX, &s, &len,
				  err);
	if (e != SMIMP_OK)
		return e;
	if (!smimp_msgtype_is_valid(s, len))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "unknown message type");
	copy_str(env->message_type, sizeof env->message_type, s, len);
	e = smimp_json_get_string(o, "algorithm", 0, SIZE_MAX, &s, &len, err);
	if (e != SMIMP_OK)
		return e;
	if (len != strlen(SMIMP_ENVELOPE_ALGORITHM) ||
	    memcmp(s, SMIMP_ENVELOPE_ALGORITHM, len) != 0)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "unknown algorithm");
	copy_str(env->algorithm, sizeof env->algorithm, s, len);
	e = smimp_json_get_hex(o, "message_public_key", 0,
			       env->message_public_key.b,
			       sizeof env->message_public_key.b, NULL, err);
	if (e != SMIMP_OK)
		return e;
	e = smimp_json_get_hex(o, "nonce", 0, env->nonce.b,
			       sizeof env->nonce.b, NULL, err);
	if (e != SMIMP_OK)
		return e;
	e = smimp_json_get_string(o, "proof_of_work", SMIMP_JSON_NULLABLE,
				  SMIMP_ENVELOPE_POW_MAX, &s, &len, err);
	if (e != SMIMP_OK)
		return e;
	env->has_proof_of_work = s != NULL;
	if (s != NULL)
		copy_str(env->proof_of_work, sizeof env->proof_of_work, s, len);
	return smimp_json_get_hex(o, "message_hash", 0, env->message_hash.b,
				  sizeof env->message_hash.b, NULL, err);
}

enum smimp_err smimp_envelope_from_body_json(struct smimp_envelope *env,
					     const json_t *body,
					     const char *recipient,
					     const char *sender,
					     const struct smimp_hash *login_token_hash,
					     size_t max_envelope_bytes,
					     struct smimp_error *err)
{
	enum smimp_err e;

	memset(env, 0, sizeof *env);
	if (recipient == NULL || sender == NULL ||
	    copy_str(env->recipient, sizeof env->recipient, recipient,
		     strlen(recipient)) != 0 ||
	    copy_str(env->sender, sizeof env->sender, sender,
		     strlen(sender)) != 0) {
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				    "recipient or sender is not an address");
		goto out;
	}
	if (login_token_hash != NULL)
		env->login_token_hash = *login_token_hash;
	e = body_fields(env, body, max_envelope_bytes, err);
out:
	if (e != SMIMP_OK)
		smimp_envelope_clear(env);
	return e;
}

/* What smimp_envelope_from_body_json takes besides the body. */
struct body_args {
	const char *recipient, *sender;
	const struct smimp_hash *login_token_hash;
	size_t max_envelope_bytes;
};

static enum smimp_err read_body(void *env, const json_t *body,
				const void *arg, struct smimp_error *err)
{
	const struct body_args *a = arg;

	return smimp_envelope_from_body_json(env, body, a->recipient,
					     a->sender, a->login_token_hash,
					     a->max_envelope_bytes, err);
}

enum smimp_err smimp_envelope_parse_body(struct smimp_envelope *env,
					 const char *body, size_t len,
					 const char *recipient,
					 const char *sender,
					 const struct smimp_hash *login_token_hash,
					 size_t max_envelope_bytes,
					 struct smimp_error *err)
{
	const struct body_args args = {
		recipient, sender, login_token_hash, max_envelope_bytes,
	};

	memset(env, 0, sizeof *env);
	return smimp_json_parse_with(body, len,
				     add_sat(b64_len(max_envelope_bytes),
					     BODY_OVERHEAD),
				     NULL, read_body, env, &args, err);
}

/* ---- Stored envelopes ---- */

void smimp_stored_envelope_clear(struct smimp_stored_envelope *s)
{
	if (s == NULL)
		return;
	smimp_envelope_clear(&s->env);
	free(s->extensions);
	sodium_memzero(s, sizeof *s);
}

static const char *const received_via_names[] = {
	"smimp_client", "smtp_bridge", "imap_bridge", "import_api",
};

static bool folder_name_ok(const char *s, size_t len)
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

static enum smimp_err get_address(char out[SMIMP_ADDRESS_MAX + 1],
				  const json_t *o, const char *name,
				  struct smimp_error *err)
{
	const char *s;
	size_t len;
	enum smimp_err e;

	e = smimp_json_get_string(o, name, 0, SMIMP_ADDRESS_MAX, &s, &len, err);
	if (e == SMIMP_ERR_TOO_LARGE)
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				    "member \"%s\" is not an address", name);
	if (e != SMIMP_OK)
		return e;
	if (!smimp_address_is_normal(s, len))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "member \"%s\" is not an address in "
				       "normal form", name);
	copy_str(out, SMIMP_ADDRESS_MAX + 1, s, len);
	return SMIMP_OK;
}

static enum smimp_err stored_fields(struct smimp_stored_envelope *out,
				    const json_t *o, size_t max_envelope_bytes,
				    struct smimp_error *err)
{
	const char *s;
	size_t len;
	long long n;
	json_t *pp;
	enum smimp_err e;
	bool found = false;

	if ((e = body_fields(&out->env, o, max_envelope_bytes, err)) != SMIMP_OK ||
	    (e = get_address(out->env.recipient, o, "recipient", err)) != SMIMP_OK ||
	    (e = get_address(out->env.sender, o, "sender", err)) != SMIMP_OK ||
	    (e = smimp_json_get_hex(o, "sender_public_key", 0,
				    out->sender_public_key.b,
				    sizeof out->sender_public_key.b, NULL,
				    err)) != SMIMP_OK)
		return e;
	e = smimp_json_get_string(o, "received_at", 0, SMIMP_TIMESTAMP_LEN, &s,
				  &len, err);
	if (e == SMIMP_OK && smimp_timestamp_parse(&out->received_at, s, len) !=
	    SMIMP_OK)
		e = SMIMP_ERR_TOO_LARGE;
	if (e == SMIMP_ERR_TOO_LARGE)
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				    "member \"received_at\" is not a timestamp");
	if (e != SMIMP_OK)
		return e;
	if ((e = smimp_json_get_object(o, "pow_params", SMIMP_JSON_NULLABLE,
				       &pp, err)) != SMIMP_OK)
		return e;
	if (pp != NULL) {
		e = smimp_json_get_int(pp, "zero_bits", 0, 0,
				       SMIMP_POW_MAX_ZERO_BITS, &n, err);
		if (e == SMIMP_OK)
			e = smimp_json_get_hex(pp, "nonce", 0, out->pow_nonce.b,
					       sizeof out->pow_nonce.b, NULL,
					       err);
		if (e != SMIMP_OK) {
			smimp_error_prefix(err, "pow_params");
			return e;
		}
		out->has_pow_params = true;
		out->pow_zero_bits = (unsigned)n;
	}
	if ((e = smimp_json_get_hex(o, "message_id", 0, out->message_id.b,
				    sizeof out->message_id.b, NULL,
				    err)) != SMIMP_OK ||
	    (e = smimp_json_get_hex(o, "login_token_hash", 0,
				    out->env.login_token_hash.b,
				    sizeof out->env.login_token_hash.b, NULL,
				    err)) != SMIMP_OK)
		return e;
	e = smimp_json_get_string(o, "received_via", 0, SMIMP_RECEIVED_VIA_MAX,
				  &s, &len, err);
	if (e == SMIMP_OK) {
		for (size_t i = 0; i < sizeof received_via_names /
		     sizeof received_via_names[0]; i++)
			if (len == strlen(received_via_names[i]) &&
			    memcmp(s, received_via_names[i], len) == 0)
				found = true;
		if (!found)
			e = SMIMP_ERR_TOO_LARGE;
	}
	if (e == SMIMP_ERR_TOO_LARGE)
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				    "member \"received_via\" is unknown");
	if (e != SMIMP_OK)
		return e;
	copy_str(out->received_via, sizeof out->received_via, s, len);
	if ((e = smimp_json_get_bool(o, "read", 0, &out->read, err)) != SMIMP_OK ||
	    (e = smimp_json_get_b64(o, "extensions", SMIMP_JSON_NULLABLE,
				    SMIMP_ENVELOPE_EXTENSIONS_MAX,
				    &out->extensions, &out->extensions_len,
				    err)) != SMIMP_OK)
		return e;
	e = smimp_json_get_string(o, "protocol_version", 0, 7, &s, &len, err);
	if (e == SMIMP_OK && (len != strlen(SMIMP_PROTOCOL_VERSION) ||
			      memcmp(s, SMIMP_PROTOCOL_VERSION, len) != 0))
		e = SMIMP_ERR_TOO_LARGE;
	if (e == SMIMP_ERR_TOO_LARGE)
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				    "member \"protocol_version\" is not \"%s\"",
				    SMIMP_PROTOCOL_VERSION);
	if (e != SMIMP_OK)
		return e;
	copy_str(out->protocol_version, sizeof out->protocol_version, s, len);
	e = smimp_json_get_string(o, "folder", SMIMP_JSON_NULLABLE,
				  SMIMP_FOLDER_NAME_MAX, &s, &len, err);
	if (e == SMIMP_OK && s != NULL && !folder_name_ok(s, len))
		e = SMIMP_ERR_TOO_LARGE;
	if (e == SMIMP_ERR_TOO_LARGE)
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				    "member \"folder\" is not a folder name");
	if (e != SMIMP_OK)
		return e;
	out->has_folder = s != NULL;
	if (s != NULL)
		copy_str(out->folder, sizeof out->folder, s, len);
	return SMIMP_OK;
}

enum smimp_err smimp_stored_envelope_from_json(struct smimp_stored_envelope *out,
					       const json_t *obj,
					       size_t max_envelope_bytes,
					       struct smimp_error *err)
{
	enum smimp_err e;

	memset(out, 0, sizeof *out);
	e = stored_fields(out, obj, max_envelope_bytes, err);
	if (e != SMIMP_OK)
		smimp_stored_envelope_clear(out);
	return e;
}

static enum smimp_err read_stored(void *out, const json_t *obj,
				  const void *max_envelope_bytes,
				  struct smimp_error *err)
{
	return smimp_stored_envelope_from_json(
		out, obj, *(const size_t *)max_envelope_bytes, err);
}

enum smimp_err smimp_stored_envelope_parse(struct smimp_stored_envelope *out,
					   const char *buf, size_t len,
					   size_t max_envelope_bytes,
					   struct smimp_error *err)
{
	size_t max = add_sat(add_sat(b64_len(max_envelope_bytes), BODY_OVERHEAD),
			     b64_len(SMIMP_ENVELOPE_EXTENSIONS_MAX));

	memset(out, 0, sizeof *out);
	return smimp_json_parse_with(buf, len, max, NULL, read_stored, out,
				     &max_envelope_bytes, err);
}

json_t *smimp_stored_envelope_to_json(const struct smimp_stored_envelope *s)
{
	char ts[SMIMP_TIMESTAMP_LEN + 1];
	json_t *o = json_object(), *pp = NULL;

	if (o == NULL || add_body_members(o, &s->env) != 0)
		goto fail;
	smimp_timestamp_format(ts, s->received_at);
	if (s->has_pow_params) {
		pp = json_object();
		if (pp == NULL ||
		    json_object_set_new(pp, "zero_bits",
					json_integer(s->pow_zero_bits)) != 0 ||
		    smimp_json_set_hex(pp, "nonce", s->pow_nonce.b,
				       sizeof s->pow_nonce.b) != 0) {
			json_decref(pp);
			goto fail;
		}
	} else {
		pp = json_null();
	}
	if (json_object_set_new(o, "recipient", json_string(s->env.recipient)) ||
	    json_object_set_new(o, "sender", json_string(s->env.sender)) ||
	    smimp_json_set_hex(o, "sender_public_key", s->sender_public_key.b,
			       sizeof s->sender_public_key.b) ||
	    json_object_set_new(o, "received_at", json_string(ts)) ||
	    json_object_set_new(o, "pow_params", pp) ||
	    smimp_json_set_hex(o, "message_id", s->message_id.b,
			       sizeof s->message_id.b) ||
	    smimp_json_set_hex(o, "login_token_hash", s->env.login_token_hash.b,
			       sizeof s->env.login_token_hash.b) ||
	    json_object_set_new(o, "received_via",
				json_string(s->received_via[0] ? s->received_via :
					    "smimp_client")) ||
	    json_object_set_new(o, "read", json_boolean(s->read)) ||
	    (s->extensions != NULL ?
	     smimp_json_set_b64(o, "extensions", s->extensions,
				s->extensions_len) :
	     json_object_set_new(o, "extensions", json_null())) ||
	    json_object_set_new(o, "protocol_version",
				json_string(SMIMP_PROTOCOL_VERSION)) ||
	    json_object_set_new(o, "folder", s->has_folder ?
				json_string(s->folder) : json_null()))
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

void smimp_envelope_new_message_id(struct smimp_hash *out)
{
	uint8_t r[32];

	randombytes_buf(r, sizeof r);
	smimp_hash_plain(out, r, sizeof r);
	sodium_memzero(r, sizeof r);
}

/* ---- Reading ---- */

enum smimp_err smimp_envelope_open(uint8_t **plaintext, size_t *plaintext_len,
				   const struct smimp_envelope *env,
				   const struct smimp_sign_pk *sender_pk,
				   const struct smimp_box_sk *message_key_sk,
				   struct smimp_error *err)
{
	struct smimp_box_pk spk, mpk;
	uint8_t *pt = NULL;
	size_t len = 0;
	enum smimp_err e;

	*plaintext = NULL;
	*plaintext_len = 0;
	if (env->ciphertext == NULL || env->ciphertext_len < crypto_box_MACBYTES)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "envelope has no ciphertext");
	if ((e = smimp_envelope_verify(env, sender_pk, err)) != SMIMP_OK)
		return e;
	if (smimp_sign_pk_to_box(&spk, sender_pk) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_KEY,
				       "sender key does not convert to "
				       "Curve25519");
	crypto_scalarmult_base(mpk.b, message_key_sk->b);
	if (!smimp_box_pk_equal(&mpk, &env->message_public_key))
		return smimp_error_set(err, SMIMP_ERR_BAD_KEY,
				       "message key secret does not match "
				       "message_public_key");
	len = env->ciphertext_len - crypto_box_MACBYTES;
	pt = malloc(len + 1);
	if (pt == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	if (crypto_box_open_easy(pt, env->ciphertext, env->ciphertext_len,
				 env->nonce.b, spk.b, message_key_sk->b) != 0) {
		smimp_envelope_plaintext_free(pt, len + 1);
		return smimp_error_set(err, SMIMP_ERR_BAD_SIGNATURE,
				       "ciphertext does not open");
	}
	pt[len] = '\0';
	*plaintext = pt;
	*plaintext_len = len;
	return SMIMP_OK;
}

void smimp_envelope_plaintext_free(uint8_t *plaintext, size_t len)
{
	if (plaintext == NULL)
		return;
	sodium_memzero(plaintext, len);
	free(plaintext);
}

/* ---- Acceptance check ---- */

void smimp_accept_result_clear(struct smimp_accept_result *r)
{
	if (r == NULL)
		return;
	smimp_envelope_clear(&r->envelope);
	memset(r, 0, sizeof *r);
}

/* The nonce a proof_of_work string names: its last 64 characters after a
 * ':' when they are HEX32, even if the rest is malformed. */
static bool named_nonce(struct smimp_token *out, const json_t *body)
{
	const json_t *v = json_object_get(body, "proof_of_work");
	const size_t t = 2 * SMIMP_TOKEN_BYTES;
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len < t + 1 || s[len - t - 1] != ':')
		return false;
	return smimp_hex_decode(out->b, sizeof out->b, s + len - t, t) ==
	       SMIMP_OK;
}

static enum smimp_err check_pow(struct smimp_accept_result *out,
				const struct smimp_accept_request *req,
				bool named, enum smimp_pow_nonce_state state,
				const struct smimp_pow_issue *issue,
				struct smimp_error *err)
{
	const struct smimp_envelope *env = &out->envelope;
	struct smimp_pow_proof proof;
	struct smimp_hash prefix;
	unsigned need;

	if (!env->has_proof_of_work) {
		if (req->pow_required)
			return smimp_error_set(err, SMIMP_ERR_BAD_PROOF_OF_WORK,
					       "proof_of_work missing");
		return SMIMP_OK;
	}
	if (!named || smimp_pow_parse(&proof, env->proof_of_work,
				      strlen(env->proof_of_work)) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_PROOF_OF_WORK,
				       "proof_of_work is malformed");
	if (state == SMIMP_POW_NONCE_USED)
		return smimp_error_set(err, SMIMP_ERR_BAD_PROOF_OF_WORK,
				       "proof-of-work nonce already used");
	if (state != SMIMP_POW_NONCE_FRESH)
		return smimp_error_set(err, SMIMP_ERR_BAD_PROOF_OF_WORK,
				       "proof-of-work nonce unknown, expired "
				       "or of another session");
	if (!issue->for_recipient)
		return smimp_error_set(err, SMIMP_ERR_BAD_PROOF_OF_WORK,
				       "proof-of-work nonce was issued for "
				       "another recipient");
	if (!issue->for_type)
		return smimp_error_set(err, SMIMP_ERR_BAD_PROOF_OF_WORK,
				       "proof-of-work nonce was issued for "
				       "another message type");
	need = smimp_list_verdict_accepts(out->list_verdict) ? 0 :
	       issue->zero_bits;
	smimp_envelope_pow_prefix(&prefix, env, &proof.nonce);
	if (smimp_pow_verify(&proof, &prefix, need) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_PROOF_OF_WORK,
				       "proof of work is wrong or has fewer "
				       "than %u zero bits", need);
	out->has_pow_params = true;
	out->pow_zero_bits = issue->zero_bits;
	out->pow_nonce = proof.nonce;
	return SMIMP_OK;
}

/* Looks for an identical retry of out's envelope in the same session: on
 * one, out->retry and its first message_id, the envelope cleared. */
static enum smimp_err find_retry(struct smimp_accept_result *out,
				 const struct smimp_accept_request *req,
				 const struct smimp_accept_ops *ops,
				 struct smimp_error *err)
{
	bool found = false;
	enum smimp_err e = ops->retry_lookup(ops->ctx, req,
					     &out->envelope.message_hash,
					     &found, &out->message_id, err);

	if (e == SMIMP_OK && found) {
		smimp_envelope_clear(&out->envelope);
		out->retry = true;
	}
	return e;
}

static enum smimp_err accept_checks(struct smimp_accept_result *out,
				    const struct smimp_accept_request *req,
				    const struct smimp_accept_ops *ops,
				    struct smimp_error *err)
{
	enum smimp_recipient_state rstate = SMIMP_RECIPIENT_UNKNOWN;
	enum smimp_pow_nonce_state pstate = SMIMP_POW_NONCE_UNKNOWN;
	struct smimp_pow_issue issue;
	struct smimp_sign_pk master;
	struct smimp_box_pk master_box;
	struct smimp_token nonce;
	struct smimp_envelope *env = &out->envelope;
	json_t *body = NULL;
	enum smimp_err e;
	bool named = false, yes = false;

	memset(&issue, 0, sizeof issue);
	memset(&master, 0, sizeof master);
	if (req->recipient == NULL || req->sender == NULL ||
	    req->sender_pk == NULL || req->login_token_hash == NULL ||
	    ops->recipient_state == NULL || ops->retry_lookup == NULL ||
	    ops->key_provenance == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL,
				       "acceptance check called without a "
				       "required argument");
	if (!smimp_address_is_normal(req->recipient, strlen(req->recipient)) ||
	    !smimp_address_is_normal(req->sender, strlen(req->sender)))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "recipient or sender is not an address "
				       "in normal form");

	/* Recipient local and initialized. */
	if ((e = ops->recipient_state(ops->ctx, req, &rstate, &master, err)) !=
	    SMIMP_OK)
		return e;
	if (rstate != SMIMP_RECIPIENT_READY)
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND,
				       "no such user");

	/* Lists (11.8). */
	if (ops->list_lookup != NULL) {
		e = smimp_list_verdict(&out->list_verdict, req->recipient,
				       req->sender, ops->list_lookup, ops->ctx,
				       err);
		if (e != SMIMP_OK)
			return e;
		if (smimp_list_verdict_refuses(out->list_verdict))
			return smimp_error_set(err, SMIMP_ERR_REJECTED,
					       "the recipient refuses messages "
					       "from this sender");
	}

	/* Field formats and sizes; the named PoW nonce is used up first. */
	body = smimp_json_parse(req->body, req->body_len,
				add_sat(b64_len(req->max_envelope_bytes),
					BODY_OVERHEAD),
				true, err);
	if (body == NULL)
		return err->code;
	named = named_nonce(&nonce, body);
	if (named && ops->pow_consume != NULL) {
		e = ops->pow_consume(ops->ctx, req, &nonce,
				     json_string_value(json_object_get(
					     body, "message_type")),
				     &pstate, &issue, err);
		if (e != SMIMP_OK)
			goto out;
	}
	e = smimp_envelope_from_body_json(env, body, req->recipient, req->sender,
					  req->login_token_hash,
					  req->max_envelope_bytes, err);
	if (e != SMIMP_OK)
		goto out;

	/* Identical retry in the same session. */
	if ((e = find_retry(out, req, ops, err)) != SMIMP_OK || out->retry)
		goto out;

	/* Message type allowed. */
	if (ops->type_allowed != NULL) {
		yes = false;
		e = ops->type_allowed(ops->ctx, req, env->message_type, &yes,
				      err);
		if (e != SMIMP_OK)
			goto out;
		if (!yes) {
			e = smimp_error_set(err, SMIMP_ERR_FORBIDDEN,
					    "this server does not take "
					    "messages of type %s",
					    env->message_type);
			goto out;
		}
	}

	/* Algorithm supported (the parser admits only this one). */
	if (strcmp(env->algorithm, SMIMP_ENVELOPE_ALGORITHM) != 0) {
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				    "unknown algorithm");
		goto out;
	}

	/* Message key: never the master key, and of known provenance. */
	if (memcmp(env->message_public_key.b, master.b, sizeof master.b) == 0 ||
	    (smimp_sign_pk_to_box(&master_box, &master) == SMIMP_OK &&
	     smimp_box_pk_equal(&env->message_public_key, &master_box))) {
		e = smimp_error_set(err, SMIMP_ERR_BAD_KEY,
				    "message_public_key is the recipient's "
				    "master key");
		goto out;
	}
	e = ops->key_provenance(ops->ctx, req, &env->message_public_key,
				&out->key_provenance, err);
	if (e != SMIMP_OK)
		goto out;
	switch (out->key_provenance) {
	case SMIMP_KEY_EPHEMERAL_ISSUED:
	case SMIMP_KEY_NONEPHEMERAL_CURRENT:
	case SMIMP_KEY_NONEPHEMERAL_RECENT:
		break;
	case SMIMP_KEY_EPHEMERAL_USED:
		/* The key's use commits with its message: when that message is
		 * this envelope's original, which committed since the first
		 * look, this is the identical retry and answers its id. */
		if ((e = find_retry(out, req, ops, err)) != SMIMP_OK ||
		    out->retry)
			goto out;
		e = smimp_error_set(err, SMIMP_ERR_BAD_KEY,
				    "this ephemeral key already carried a "
				    "message");
		goto out;
	default:
		e = smimp_error_set(err, SMIMP_ERR_BAD_KEY,
				    "message_public_key was not issued to "
				    "this sender");
		goto out;
	}

	/* Proof of work. */
	if ((e = check_pow(out, req, named, pstate, &issue, err)) != SMIMP_OK)
		goto out;

	/* Message hash against the sender's master key. */
	if ((e = smimp_envelope_verify(env, req->sender_pk, err)) != SMIMP_OK)
		goto out;

	/* Quota. */
	if (ops->quota_check != NULL) {
		yes = false;
		e = ops->quota_check(ops->ctx, req, env->ciphertext_len, &yes,
				     err);
		if (e == SMIMP_OK && !yes)
			e = smimp_error_set(err, SMIMP_ERR_QUOTA_EXCEEDED,
					    "the recipient's mailbox is full");
	}
out:
	json_decref(body);
	return e;
}

enum smimp_err smimp_envelope_accept(struct smimp_accept_result *out,
				     const struct smimp_accept_request *req,
				     const struct smimp_accept_ops *ops,
				     struct smimp_error *err)
{
	struct smimp_error local;
	enum smimp_err e;

	/* The body's parse failure reads its code from *err. */
	if (err == NULL)
		err = &local;
	memset(out, 0, sizeof *out);
	e = accept_checks(out, req, ops, err);
	if (e != SMIMP_OK)
		smimp_accept_result_clear(out);
	return e;
}

/* JSON parsing with the spec's strictness and hard limits, and typed member
 * getters. Every input here is hostile: sizes are checked before parsing,
 * depth right after, and each getter checks type and bounds. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "smimp/b64.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "json_lift.h"

/* Every block jansson frees is wiped first: parsed payloads hold secret
 * keys as hex, and jansson's lexer and dump buffers would otherwise leave
 * copies in freed memory. Blocks stay plain malloc blocks (glibc reports
 * their size), so strings jansson returns can still be released with free(). */
static void wiping_free(void *p)
{
	if (p == NULL)
		return;
	sodium_memzero(p, malloc_usable_size(p));
	free(p);
}

void smimp_json_init(void)
{
	json_set_alloc_funcs(malloc, wiping_free);
}

static bool depth_ok(const json_t *v, int depth)
{
	const char *key;
	json_t *child;
	size_t i;

	if (depth > SMIMP_JSON_MAX_DEPTH)
		return false;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, child)
			if (!depth_ok(child, depth + 1))
				return false;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child)
			if (!depth_ok(child, depth + 1))
				return false;
	}
	return true;
}

json_t *smimp_json_parse(const char *buf, size_t len, size_t max_bytes,
			 bool object_only, struct smimp_error *err)
{
	json_error_t jerr;
	json_t *v;

	if (len > max_bytes) {
		smimp_error_set(err, SMIMP_ERR_TOO_LARGE,
				"JSON text of %zu bytes is over the limit of %zu",
				len, max_bytes);
		return NULL;
	}
	/* jansson rejects invalid UTF-8, lone surrogates and \u0000 by default. */
	v = smimp_json_load_lifted(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
				   &jerr);
	if (v == NULL) {
		smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				"malformed JSON at byte %d: %.120s",
				jerr.position, jerr.text);
		return NULL;
	}
	if (object_only && !json_is_object(v)) {
		json_decref(v);
		smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				"JSON text is not an object");
		return NULL;
	}
	if (!depth_ok(v, 1)) {
		json_decref(v);
		smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				"JSON nested deeper than %d levels",
				SMIMP_JSON_MAX_DEPTH);
		return NULL;
	}
	return v;
}

enum smimp_err smimp_json_parse_with(const char *buf, size_t len,
				     size_t max_bytes, const char *what,
				     smimp_json_reader read, void *out,
				     const void *arg, struct smimp_error *err)
{
	struct smimp_error local;
	enum smimp_err e;
	json_t *v;

	if (err == NULL)
		err = &local;
	v = smimp_json_parse(buf, len, max_bytes, true, err);
	if (v == NULL)
		return what != NULL ? smimp_error_prefix(err, "%s", what) :
		       err->code;
	e = read(out, v, arg, err);
	json_decref(v);
	return e;
}

char *smimp_json_dump(const json_t *v)
{
	return smimp_json_dump_lifted(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

bool smimp_json_has(const json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);

	return v != NULL && !json_is_null(v);
}

/* Looks a member up and applies the presence flags. Returns SMIMP_OK with
 * *out NULL when the member is absent or null and that is allowed. */
static enum smimp_err lookup(const json_t *obj, const char *name,
			     unsigned flags, json_t **out,
			     struct smimp_error *err)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, name) : NULL;

	*out = NULL;
	if (v == NULL) {
		if (flags & SMIMP_JSON_OPTIONAL)
			return SMIMP_OK;
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "member \"%s\" is missing", name);
	}
	if (json_is_null(v)) {
		if (flags & SMIMP_JSON_NULLABLE)
			return SMIMP_OK;
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "member \"%s\" may not be null", name);
	}
	*out = v;
	return SMIMP_OK;
}

static enum smimp_err mistyped(struct smimp_error *err, const char *name,
			       const char *want)
{
	return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
			       "member \"%s\" must be %s", name, want);
}

enum smimp_err smimp_json_get_string(const json_t *obj, const char *name,
				     unsigned flags, size_t max_len,
				     const char **out, size_t *out_len,
				     struct smimp_error *err)
{
	enum smimp_err e;
	json_t *v;

	*out = NULL;
	if (out_len != NULL)
		*out_len = 0;
	if ((e = lookup(obj, name, flags, &v, err)) != SMIMP_OK || v == NULL)
		return e;
	if (!json_is_string(v))
		return mistyped(err, name, "a string");
	if (json_string_length(v) > max_len)
		return smimp_error_set(err, SMIMP_ERR_TOO_LARGE,
				       "member \"%s\" is longer than %zu bytes",
				       name, max_len);
	*out = json_string_value(v);
	if (out_len != NULL)
		*out_len = json_string_length(v);
	return SMIMP_OK;
}

enum smimp_err smimp_json_get_hex(const json_t *obj, const char *name,
				  unsigned flags, uint8_t *out, size_t out_len,
				  bool *present, struct smimp_error *err)
{
	enum smimp_err e;
	json_t *v;

	if (present != NULL)
		*present = false;
	if ((e = lookup(obj, name, flags, &v, err)) != SMIMP_OK || v == NULL)
		return e;
	if (!json_is_string(v) ||
	    smimp_hex_decode(out, out_len, json_string_value(v),
			     json_string_length(v)) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "member \"%s\" must be %zu bytes of "
				       "lowercase hex", name, out_len);
	if (present != NULL)
		*present = true;
	return SMIMP_OK;
}

enum smimp_err smimp_json_get_b64(const json_t *obj, const char *name,
				  unsigned flags, size_t max_len,
				  uint8_t **out, size_t *out_len,
				  struct smimp_error *err)
{
	enum smimp_err e;
	json_t *v;

	*out = NULL;
	*out_len = 0;
	if ((e = lookup(obj, name, flags, &v, err)) != SMIMP_OK || v == NULL)
		return e;
	if (!json_is_string(v))
		return mistyped(err, name, "a base64 string");
	e = ((flags & SMIMP_JSON_PUBLIC) != 0 ? smimp_b64_decode_public :
	     smimp_b64_decode)(out, out_len, json_string_value(v),
			       json_string_length(v), max_len);
	if (e == SMIMP_ERR_TOO_LARGE)
		return smimp_error_set(err, e, "member \"%s\" decodes to more "
				       "than %zu bytes", name, max_len);
	if (e != SMIMP_OK)
		return smimp_error_set(err, e, "member \"%s\" is not canonical "
				       "base64", name);
	return SMIMP_OK;
}

enum smimp_err smimp_json_get_int(const json_t *obj, const char *name,
				  unsigned flags, long long min, long long max,
				  long long *out, struct smimp_error *err)
{
	enum smimp_err e;
	json_int_t n;
	json_t *v;

	if ((e = lookup(obj, name, flags, &v, err)) != SMIMP_OK || v == NULL)
		return e;
	if (!json_is_integer(v))
		return mistyped(err, name, "an integer");
	n = json_integer_value(v);
	if (n < min || n > max)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "member \"%s\" is outside %lld..%lld",
				       name, min, max);
	*out = n;
	return SMIMP_OK;
}

enum smimp_err smimp_json_get_bool(const json_t *obj, const char *name,
				   unsigned flags, bool *out,
				   struct smimp_error *err)
{
	enum smimp_err e;
	json_t *v;

	if ((e = lookup(obj, name, flags, &v, err)) != SMIMP_OK || v == NULL)
		return e;
	if (!json_is_boolean(v))
		return mistyped(err, name, "true or false");
	*out = json_is_true(v);
	return SMIMP_OK;
}

enum smimp_err smimp_json_get_object(const json_t *obj, const char *name,
				     unsigned flags, json_t **out,
				     struct smimp_error *err)
{
	enum smimp_err e;

	if ((e = lookup(obj, name, flags, out, err)) != SMIMP_OK || *out == NULL)
		return e;
	if (!json_is_object(*out)) {
		*out = NULL;
		return mistyped(err, name, "an object");
	}
	return SMIMP_OK;
}

enum smimp_err smimp_json_get_array(const json_t *obj, const char *name,
				    unsigned flags, size_t max_items,
				    json_t **out, struct smimp_error *err)
{
	enum smimp_err e;

	if ((e = lookup(obj, name, flags, out, err)) != SMIMP_OK || *out == NULL)
		return e;
	if (!json_is_array(*out)) {
		*out = NULL;
		return mistyped(err, name, "an array");
	}
	if (json_array_size(*out) > max_items) {
		*out = NULL;
		return smimp_error_set(err, SMIMP_ERR_TOO_LARGE,
				       "member \"%s\" has more than %zu items",
				       name, max_items);
	}
	return SMIMP_OK;
}

int smimp_json_set_hex(json_t *obj, const char *name, const uint8_t *in,
		       size_t len)
{
	char *hex = len <= (SIZE_MAX - 1) / 2 ? malloc(2 * len + 1) : NULL;
	int rc;

	if (hex == NULL)
		return -1;
	smimp_hex_encode(hex, 2 * len + 1, in, len);
	rc = json_object_set_new(obj, name, json_stringn(hex, 2 * len));
	free(hex);
	return rc;
}

/* Base64 text s (malloc'ed, taken) as obj[name]. */
static int set_b64_text(json_t *obj, const char *name, char *s)
{
	int rc;

	if (s == NULL)
		return -1;
	/* Base64 is ASCII: jansson's UTF-8 check (tens of microseconds on a
	 * message) has nothing to find. */
	rc = json_object_set_new(obj, name, json_stringn_nocheck(s, strlen(s)));
	sodium_memzero(s, strlen(s));  /* may be a secret's encoding */
	free(s);
	return rc;
}

int smimp_json_set_b64(json_t *obj, const char *name, const uint8_t *in,
		       size_t len)
{
	return set_b64_text(obj, name, smimp_b64_encode(in, len));
}

int smimp_json_set_b64_public(json_t *obj, const char *name,
			      const uint8_t *in, size_t len)
{
	return set_b64_text(obj, name, smimp_b64_encode_public(in, len));
}

/* Shared helpers for tests that read known-answer vectors: load a JSON file
 * (NUL escapes allowed: some cases test NUL bytes on purpose)
 * and decode hex members into fixed buffers. */
#ifndef SMIMP_TEST_VECTORS_UTIL_H
#define SMIMP_TEST_VECTORS_UTIL_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/record.h"

#define REFERENCE_VECTORS SMIMP_SHARED_DIR "/spec/vectors.json"

static inline json_t *vectors_load(const char *path)
{
	json_error_t jerr;
	json_t *v = json_load_file(path, JSON_REJECT_DUPLICATES |
				   JSON_ALLOW_NUL, &jerr);

	if (v == NULL)
		fprintf(stderr, "cannot load %s: %s (line %d)\n", path,
			jerr.text, jerr.line);
	return v;
}

/* The string at a dotted path such as "keys.alice.seed", or NULL. */
static inline const char *vectors_str(const json_t *root, const char *path)
{
	char buf[256], *save = NULL, *part;
	const json_t *v = root;

	if (strlen(path) >= sizeof buf)
		return NULL;
	strcpy(buf, path);
	for (part = strtok_r(buf, ".", &save); part != NULL && v != NULL;
	     part = strtok_r(NULL, ".", &save))
		v = json_object_get(v, part);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Decodes the hex string at path into out[0..len); 0 on success. */
static inline int vectors_hex(const json_t *root, const char *path, void *out,
		       size_t len)
{
	const char *s = vectors_str(root, path);

	if (s == NULL || smimp_hex_decode_str(out, len, s) != SMIMP_OK) {
		fprintf(stderr, "vector %s missing or not %zu hex bytes\n",
			path, len);
		return -1;
	}
	return 0;
}

/* The reference vectors (spec/vectors.json), loaded once; smimp_init is
 * called first. NULL when the file does not load. */
static inline json_t *vectors_ref(void)
{
	static json_t *v;

	if (v == NULL && smimp_init() == 0)
		v = vectors_load(REFERENCE_VECTORS);
	return v;
}

/* A top-level section of the reference vectors, or NULL. */
static inline json_t *vectors_section(const char *name)
{
	return json_object_get(vectors_ref(), name);
}

/* The key pair of the reference vectors' "keys.<who>" from its seed;
 * 0 on success. */
static inline int vectors_keypair(struct smimp_sign_keypair *kp,
				  const char *who)
{
	uint8_t seed[SMIMP_SIGN_SEED_BYTES];
	char path[64];

	if (who == NULL ||
	    (size_t)snprintf(path, sizeof path, "keys.%s.seed", who) >=
		    sizeof path ||
	    vectors_hex(vectors_ref(), path, seed, sizeof seed) != 0)
		return -1;
	smimp_sign_keypair_from_seed(kp, seed);
	return 0;
}

/* A test key pair from a seed of 32 copies of `byte`. */
static inline void vectors_seeded(struct smimp_sign_keypair *kp, uint8_t byte)
{
	uint8_t seed[SMIMP_SIGN_SEED_BYTES];

	smimp_init();
	memset(seed, byte, sizeof seed);
	smimp_sign_keypair_from_seed(kp, seed);
}

/* A wire record {"data": data, "signed_hash"} signed by sk, whatever the
 * data says (so tests can sign records the builder would refuse). */
static inline json_t *vectors_wire_record(const char *data,
					  const struct smimp_sign_sk *sk)
{
	struct smimp_signed_hash sh;
	struct smimp_hash h;
	json_t *o = json_object();

	smimp_record_hash(&h, data, strlen(data));
	smimp_signed_hash_make(&sh, &h, sk);
	json_object_set_new(o, "data", json_string(data));
	smimp_json_set_hex(o, "signed_hash", sh.b, sizeof sh.b);
	return o;
}

/* Builds a record of `address` (name may be NULL), appends its wire form to
 * arr and puts its signed hash in *sh (when not NULL). */
static inline void vectors_add_record(json_t *arr, const char *address,
				      int64_t seq,
				      const struct smimp_sign_pk *pk,
				      const struct smimp_signed_hash *previous,
				      int64_t t, const char *name,
				      const struct smimp_sign_sk *sk,
				      struct smimp_signed_hash *sh)
{
	struct smimp_record r;
	struct smimp_error err;
	struct smimp_record_values v = {
		.address = address, .public_key = pk, .previous = previous,
		.seq = seq, .changed_at = t, .name = name,
	};

	if (smimp_record_build(&r, &v, sk, &err) != SMIMP_OK) {
		fprintf(stderr, "build: %s\n", err.message);
		return;
	}
	json_array_append_new(arr, smimp_record_to_json(&r));
	if (sh != NULL)
		*sh = r.signed_hash;
	smimp_record_free(&r);
}

#endif

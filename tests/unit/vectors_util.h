/* Shared helpers for tests that read known-answer vectors: load a JSON file
 * (NUL escapes allowed: some cases test NUL bytes on purpose)
 * and decode hex members into fixed buffers. */
#ifndef SMIMP_TEST_VECTORS_UTIL_H
#define SMIMP_TEST_VECTORS_UTIL_H

#include <jansson.h>
#include <string.h>

#include "smimp/hex.h"

#define REFERENCE_VECTORS SMIMP_SHARED_DIR "/spec/vectors.json"

static inline json_t *vectors_load(const char *path)
{
	json_error_t jerr;
	json_t *v = json_load_file(path, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);

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

#endif

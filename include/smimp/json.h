/* JSON helpers shared by the library, the server and the client (jansson).
 * Parsing enforces the spec's rules (1): duplicate members, invalid UTF-8,
 * lone surrogates and NUL characters are rejected, and so is anything over
 * a size or nesting-depth limit. Getters check one member's type and bounds
 * and answer SMIMP_ERR_BAD_REQUEST (or _TOO_LARGE) naming the member. */
#ifndef SMIMP_JSON_H
#define SMIMP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "smimp/error.h"

#define SMIMP_JSON_MAX_DEPTH 32

/* Getter flags. Without them a member must be present and not null. */
#define SMIMP_JSON_OPTIONAL 1u /* may be absent */
#define SMIMP_JSON_NULLABLE 2u /* may be null */
/* smimp_json_get_b64: the bytes are not secret (a ciphertext), so the
 * faster variable-time codec may decode them (smimp/b64.h). */
#define SMIMP_JSON_PUBLIC 4u

/* Makes jansson wipe every block it frees (called by smimp_init; call it
 * before any other jansson use). */
void smimp_json_init(void);

/* Parses len bytes; more than max_bytes is SMIMP_ERR_TOO_LARGE. With
 * object_only the top level must be an object. Returns a new reference or
 * NULL with err filled. */
json_t *smimp_json_parse(const char *buf, size_t len, size_t max_bytes,
			 bool object_only, struct smimp_error *err);

/* Reads a parsed JSON object into out (arg: whatever else the reader needs). */
typedef enum smimp_err (*smimp_json_reader)(void *out, const json_t *v,
					    const void *arg,
					    struct smimp_error *err);

/* Parses len bytes as an object (smimp_json_parse, object_only) and hands it
 * to read(out, value, arg, err), releasing it after. A parse failure's
 * message gets the prefix `what` when not NULL. The code returned is the same
 * whether err is NULL or not. */
enum smimp_err smimp_json_parse_with(const char *buf, size_t len,
				     size_t max_bytes, const char *what,
				     smimp_json_reader read, void *out,
				     const void *arg, struct smimp_error *err);

/* Compact serialization (no spaces, insertion order, UTF-8 kept), malloc'ed;
 * NULL when out of memory. */
char *smimp_json_dump(const json_t *v);

/* True when obj has the member and it is not null. */
bool smimp_json_has(const json_t *obj, const char *name);

/* A string member: *out points into obj (valid while obj lives), *out_len
 * its byte length (may be NULL). Absent/null (when allowed) gives NULL. */
enum smimp_err smimp_json_get_string(const json_t *obj, const char *name,
				     unsigned flags, size_t max_len,
				     const char **out, size_t *out_len,
				     struct smimp_error *err);

/* A fixed-size hex member decoded into out[0..out_len). When absent/null is
 * allowed and happens, *present (if not NULL) is set false and out untouched. */
enum smimp_err smimp_json_get_hex(const json_t *obj, const char *name,
				  unsigned flags, uint8_t *out, size_t out_len,
				  bool *present, struct smimp_error *err);

/* A base64 member decoded to a malloc'ed buffer of at most max_len bytes. */
enum smimp_err smimp_json_get_b64(const json_t *obj, const char *name,
				  unsigned flags, size_t max_len,
				  uint8_t **out, size_t *out_len,
				  struct smimp_error *err);

/* An integer member (never a real) within [min, max]. */
enum smimp_err smimp_json_get_int(const json_t *obj, const char *name,
				  unsigned flags, long long min, long long max,
				  long long *out, struct smimp_error *err);

enum smimp_err smimp_json_get_bool(const json_t *obj, const char *name,
				   unsigned flags, bool *out,
				   struct smimp_error *err);

/* A member that must be an object/array (or absent/null as flags allow);
 * *out is a borrowed reference or NULL. */
enum smimp_err smimp_json_get_object(const json_t *obj, const char *name,
				     unsigned flags, json_t **out,
				     struct smimp_error *err);
enum smimp_err smimp_json_get_array(const json_t *obj, const char *name,
				    unsigned flags, size_t max_items,
				    json_t **out, struct smimp_error *err);

/* Sets obj[name] to the lowercase hex of in[0..len). 0 on success. */
int smimp_json_set_hex(json_t *obj, const char *name, const uint8_t *in,
		       size_t len);
/* Sets obj[name] to the base64 of in[0..len). 0 on success. */
int smimp_json_set_b64(json_t *obj, const char *name, const uint8_t *in,
		       size_t len);
/* The same for bytes that are not secret (a ciphertext): faster. */
int smimp_json_set_b64_public(json_t *obj, const char *name,
			      const uint8_t *in, size_t len);

#endif

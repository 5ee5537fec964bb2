/* The field hash H (spec 2.1): length-prefixed, domain-separated BLAKE2b-256
 * over a label and a list of fields. Text fields enter as their UTF-8 bytes,
 * binary fields as raw bytes (never hex or base64). */
#ifndef SMIMP_HASH_H
#define SMIMP_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smimp/types.h"

/* The labels of the spec's table, one per use. */
#define SMIMP_LABEL_RECORD "smimp/0.1/record"
#define SMIMP_LABEL_MESSAGE_KEY "smimp/0.1/message-key"
#define SMIMP_LABEL_LOGIN "smimp/0.1/login"
#define SMIMP_LABEL_LOGIN_TOKEN "smimp/0.1/login-token"
#define SMIMP_LABEL_CIPHERTEXT "smimp/0.1/ciphertext"
#define SMIMP_LABEL_POW "smimp/0.1/pow"
#define SMIMP_LABEL_ENVELOPE "smimp/0.1/envelope"
#define SMIMP_LABEL_AVATAR "smimp/0.1/avatar"
#define SMIMP_LABEL_LIST_ENTRY "smimp/0.1/list-entry"
#define SMIMP_LABEL_INIT_PASSWORD "smimp/0.1/init-password"

/* One field: bytes and their length. */
struct smimp_field {
	const void *ptr;
	size_t len;
};

/* A text field from a NUL-terminated string (NULL enters as empty). */
static inline struct smimp_field smimp_text(const char *s)
{
	struct smimp_field f = {s, s != NULL ? strlen(s) : 0};
	return f;
}

/* A binary field. */
static inline struct smimp_field smimp_bytes(const void *p, size_t len)
{
	struct smimp_field f = {p, len};
	return f;
}

/* out = H(label, fields[0], ..., fields[n-1]). */
void smimp_hash_fields(struct smimp_hash *out, const char *label,
		       const struct smimp_field *fields, size_t n);

/* Plain BLAKE2b-256 of one buffer (message ids, 9). */
void smimp_hash_plain(struct smimp_hash *out, const void *in, size_t len);

/* Constant-time equality of two hashes. */
int smimp_hash_equal(const struct smimp_hash *a, const struct smimp_hash *b);

#endif

/* Canonical RFC 4648 base64 (spec 1), standard alphabet with padding: the
 * encoding of ciphertexts, images, attachments and other blobs. Decoding
 * rejects bad padding, non-zero padding bits and any other character. */
#ifndef SMIMP_B64_H
#define SMIMP_B64_H

#include <stddef.h>
#include <stdint.h>

#include "smimp/error.h"

/* Bytes that smimp_b64_decode would produce for an encoded length, at most. */
size_t smimp_b64_max_decoded_len(size_t encoded_len);

/* Decodes s[0..len) into a malloc'ed buffer (*out, *out_len; free() it). The
 * empty string decodes to a zero-length, non-NULL buffer. More than max_len
 * decoded bytes is SMIMP_ERR_TOO_LARGE; malformed input SMIMP_ERR_BAD_REQUEST. */
enum smimp_err smimp_b64_decode(uint8_t **out, size_t *out_len,
				const char *s, size_t len, size_t max_len);

/* Returns a malloc'ed NUL-terminated encoding, or NULL when out of memory. */
char *smimp_b64_encode(const uint8_t *in, size_t len);

/* The same two for bytes that are not secret (ciphertexts, public images):
 * the same rules and results, but a table codec whose time depends on the
 * bytes. Never for plaintexts or keys. */
enum smimp_err smimp_b64_decode_public(uint8_t **out, size_t *out_len,
				       const char *s, size_t len, size_t max_len);
char *smimp_b64_encode_public(const uint8_t *in, size_t len);

#endif

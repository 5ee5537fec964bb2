/* Strict lowercase hexadecimal (spec 1): every key, hash, nonce, token and id
 * on the wire. Decoding rejects upper case, odd length and any length other
 * than the field's fixed size. */
#ifndef SMIMP_HEX_H
#define SMIMP_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "smimp/error.h"

/* Decodes exactly out_len bytes from hex[0..hex_len). Anything but 2*out_len
 * lowercase hex digits is SMIMP_ERR_BAD_REQUEST; out is untouched then. */
enum smimp_err smimp_hex_decode(uint8_t *out, size_t out_len,
				const char *hex, size_t hex_len);

/* Same for a NUL-terminated string. */
enum smimp_err smimp_hex_decode_str(uint8_t *out, size_t out_len,
				    const char *hex);

/* Writes 2*len lowercase hex digits and a NUL; out_size must be at least
 * 2*len+1 (the function writes nothing and returns -1 otherwise). */
int smimp_hex_encode(char *out, size_t out_size, const uint8_t *in, size_t len);

/* True when s[0..len) is lowercase hex of exactly `bytes` bytes. */
int smimp_hex_is_valid(const char *s, size_t len, size_t bytes);

#endif

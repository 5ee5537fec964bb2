/* Strict lowercase hex. Input is untrusted network data: every byte is
 * checked before anything is written. */
#include <string.h>

#include "smimp/hex.h"

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int smimp_hex_is_valid(const char *s, size_t len, size_t bytes)
{
	if (s == NULL || bytes > SIZE_MAX / 2 || len != 2 * bytes)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (nibble(s[i]) < 0)
			return 0;
	return 1;
}

enum smimp_err smimp_hex_decode(uint8_t *out, size_t out_len,
				const char *hex, size_t hex_len)
{
	if (!smimp_hex_is_valid(hex, hex_len, out_len))
		return SMIMP_ERR_BAD_REQUEST;
	for (size_t i = 0; i < out_len; i++)
		out[i] = (uint8_t)(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
	return SMIMP_OK;
}

enum smimp_err smimp_hex_decode_str(uint8_t *out, size_t out_len,
				    const char *hex)
{
	if (hex == NULL)
		return SMIMP_ERR_BAD_REQUEST;
	return smimp_hex_decode(out, out_len, hex, strlen(hex));
}

int smimp_hex_encode(char *out, size_t out_size, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	if (len > (SIZE_MAX - 1) / 2 || out_size < 2 * len + 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
	return 0;
}

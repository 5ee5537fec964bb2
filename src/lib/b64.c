/* Canonical base64 on top of libsodium's constant-time codec, which refuses
 * non-zero padding bits. The alphabet, length and padding rules are enforced
 * here before it runs: libsodium 1.0.18 maps some bytes >= 0x80 to values,
 * so two texts could otherwise decode to the same bytes. */
#include <stdlib.h>
#include <sodium.h>

#include "smimp/b64.h"

static int in_alphabet(const char *s, size_t len)
{
	size_t pad = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0) /* padding only at the end */
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return 0;
	}
	return pad <= 2;
}

size_t smimp_b64_max_decoded_len(size_t encoded_len)
{
	return encoded_len / 4 * 3;
}

enum smimp_err smimp_b64_decode(uint8_t **out, size_t *out_len,
				const char *s, size_t len, size_t max_len)
{
	size_t cap, got = 0;
	const char *end = NULL;
	uint8_t *buf;

	*out = NULL;
	*out_len = 0;
	if (s == NULL || len % 4 != 0 || !in_alphabet(s, len))
		return SMIMP_ERR_BAD_REQUEST;
	cap = smimp_b64_max_decoded_len(len);
	if (len > 0 && s[len - 1] == '=')
		cap -= (s[len - 2] == '=') ? 2 : 1;
	if (cap > max_len)
		return SMIMP_ERR_TOO_LARGE;
	buf = malloc(cap > 0 ? cap : 1);
	if (buf == NULL)
		return SMIMP_ERR_INTERNAL;
	if (len > 0 &&
	    (sodium_base642bin(buf, cap, s, len, NULL, &got, &end,
			       sodium_base64_VARIANT_ORIGINAL) != 0 ||
	     end != s + len || got != cap)) {
		free(buf);
		return SMIMP_ERR_BAD_REQUEST;
	}
	*out = buf;
	*out_len = got;
	return SMIMP_OK;
}

char *smimp_b64_encode(const uint8_t *in, size_t len)
{
	size_t n;
	char *s;

	if (len > (SIZE_MAX - 8) / 4 * 3)
		return NULL;
	n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	s = malloc(n);
	if (s == NULL)
		return NULL;
	sodium_bin2base64(s, n, in, len, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

/* Terminal-safe rendering of untrusted text (see render.h). */
#include <stdint.h>
#include <string.h>

#include "render.h"

/* Length of the valid UTF-8 sequence at s[0..len) and its code point, or
 * 0 when the bytes there are not valid UTF-8. */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static int is_unsafe(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
	       c == 0x200e || c == 0x200f || c == 0x061c;
}

/* Appends text to out[*pos..size), keeping room for the NUL. */
static void put(char *out, size_t size, size_t *pos, const char *text,
		size_t n)
{
	if (*pos + n + 1 > size)
		n = size - 1 - *pos;
	memcpy(out + *pos, text, n);
	*pos += n;
	out[*pos] = '\0';
}

void smc_render_safe_buf(char *out, size_t out_size, const char *s,
			 size_t len, size_t max_in)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t pos = 0, i = 0;

	if (out_size == 0)
		return;
	out[0] = '\0';
	if (len > max_in)
		len = max_in;
	while (i < len && pos + 1 < out_size) {
		uint32_t cp;
		size_t n = utf8_next(u + i, len - i, &cp);
		char esc[16];

		if (n == 0) {
			snprintf(esc, sizeof esc, "\\x%02x", u[i]);
			put(out, out_size, &pos, esc, strlen(esc));
			i++;
		} else if (is_unsafe(cp)) {
			if (cp < 0x100)
				snprintf(esc, sizeof esc, "\\x%02x",
					 (unsigned)cp);
			else
				snprintf(esc, sizeof esc, "\\u%04x",
					 (unsigned)cp);
			put(out, out_size, &pos, esc, strlen(esc));
			i += n;
		} else {
			put(out, out_size, &pos, s + i, n);
			i += n;
		}
	}
}

void smc_render_safe(FILE *f, const char *s, size_t len)
{
	char buf[1024];

	/* Chunks end on sequence boundaries only by luck, so decode here in
	 * slices that never split a UTF-8 sequence. */
	while (len > 0) {
		size_t take = len < 200 ? len : 200;

		while (take < len && take > 0 &&
		       ((unsigned char)s[take] & 0xc0) == 0x80)
			take--;
		if (take == 0)
			take = len < 200 ? len : 200;
		smc_render_safe_buf(buf, sizeof buf, s, take, take);
		fputs(buf, f);
		s += take;
		len -= take;
	}
}

/* Address and domain rules (spec 3). Every input here is untrusted: each byte
 * is classified before it is copied, bytes >= 0x80 are refused outright (no
 * Unicode case folding or look-alikes), and error messages describe bytes by
 * offset instead of echoing peer data. */
#include <string.h>

#include "smimp/address.h"

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char to_lower(unsigned char c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

/* A byte as it can go into a message: 'c' when printable ASCII, 0xNN else. */
static void describe_byte(char out[8], unsigned char c)
{
	static const char digits[] = "0123456789abcdef";

	if (c > 0x20 && c < 0x7f && c != '\'') {
		out[0] = '\'';
		out[1] = (char)c;
		out[2] = '\'';
		out[3] = '\0';
	} else {
		out[0] = '0';
		out[1] = 'x';
		out[2] = digits[c >> 4];
		out[3] = digits[c & 15];
		out[4] = '\0';
	}
}

static enum smimp_err bad_byte(struct smimp_error *err, const char *what,
			       unsigned char c, size_t offset,
			       const char *allowed)
{
	char b[8];

	describe_byte(b, c);
	if (c >= 0x80)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "%s has the non-ASCII byte %s at offset "
				       "%zu (only %s are allowed)", what, b,
				       offset, allowed);
	return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
			       "%s has the character %s at offset %zu (only %s "
			       "are allowed)", what, b, offset, allowed);
}

/* The domain rules; out receives the lower-case form (len + 1 bytes). `what`
 * names the value in messages ("domain", "address domain", "host"). On error
 * out is left holding a partial copy; callers clear it. */
static enum smimp_err domain_check(char *out, const char *s, size_t len,
				   const char *what, struct smimp_error *err)
{
	size_t start = 0, labels = 0;
	bool all_digits = true;

	if (len == 0)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "%s is empty", what);
	if (len > SMIMP_DOMAIN_MAX)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "%s is longer than %d characters", what,
				       SMIMP_DOMAIN_MAX);
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)s[i] : '.';
		size_t llen;

		if (c != '.') {
			if (!is_alnum(c) && c != '-')
				return bad_byte(err, what, c, i,
						"a-z, 0-9, '-' and '.'");
			if (!is_digit(c))
				all_digits = false;
			out[i] = to_lower(c);
			continue;
		}
		llen = i - start;
		labels++;
		if (llen == 0) {
			if (i == len)
				return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
						       "%s ends with a dot", what);
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "%s has an empty label at offset "
					       "%zu", what, i);
		}
		if (llen > SMIMP_DOMAIN_LABEL_MAX)
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "%s has a label of more than %d "
					       "characters at offset %zu", what,
					       SMIMP_DOMAIN_LABEL_MAX, start);
		if (s[start] == '-' || s[i - 1] == '-')
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "%s has a label starting or ending "
					       "with '-' at offset %zu", what,
					       start);
		if (i == len) {
			if (all_digits)
				return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
						       "%s has an all-digit last "
						       "label (IP addresses are "
						       "not domains)", what);
			break;
		}
		out[i] = '.';
		start = i + 1;
		all_digits = true;
	}
	out[len] = '\0';
	if (labels < 2 && strcmp(out, "localhost") != 0)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "%s has a single label (at least two are "
				       "needed, \"localhost\" aside)", what);
	return SMIMP_OK;
}

enum smimp_err smimp_address_domain_normalize(char out[SMIMP_DOMAIN_MAX + 1],
					      const char *s, size_t len,
					      struct smimp_error *err)
{
	enum smimp_err e;

	if (s == NULL)
		len = 0;
	e = domain_check(out, s, len, "domain", err);
	if (e != SMIMP_OK)
		out[0] = '\0';
	return e;
}

static enum smimp_err address_check(char *out, const char *s, size_t len,
				    struct smimp_error *err)
{
	const char *hash = s != NULL ? memchr(s, '#', len) : NULL;
	size_t llen;

	if (s == NULL || len == 0)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "address is empty");
	if (hash == NULL)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "address has no '#' (the form is "
				       "local#domain)");
	llen = (size_t)(hash - s);
	if (memchr(hash + 1, '#', len - llen - 1) != NULL)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "address has more than one '#'");
	if (llen == 0)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "address has an empty local part");
	if (llen > SMIMP_ADDRESS_LOCAL_MAX)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "address local part is longer than %d "
				       "characters", SMIMP_ADDRESS_LOCAL_MAX);
	for (size_t i = 0; i < llen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!is_alnum(c))
			return bad_byte(err, "address local part", c, i,
					"A-Z, a-z and 0-9");
		out[i] = to_lower(c);
	}
	out[llen] = '#';
	return domain_check(out + llen + 1, hash + 1, len - llen - 1,
			    "address domain", err);
}

enum smimp_err smimp_address_normalize(char out[SMIMP_ADDRESS_MAX + 1],
				       const char *s, size_t len,
				       struct smimp_error *err)
{
	enum smimp_err e = address_check(out, s, len, err);

	if (e != SMIMP_OK)
		out[0] = '\0';
	return e;
}

enum smimp_err smimp_address_normalize_str(char out[SMIMP_ADDRESS_MAX + 1],
					   const char *s,
					   struct smimp_error *err)
{
	return smimp_address_normalize(out, s, s != NULL ? strlen(s) : 0, err);
}

bool smimp_address_is_normal(const char *s, size_t len)
{
	char norm[SMIMP_ADDRESS_MAX + 1];

	return smimp_address_normalize(norm, s, len, NULL) == SMIMP_OK &&
	       memcmp(norm, s, len) == 0;
}

const char *smimp_address_domain(const char *address)
{
	const char *hash = address != NULL ? strchr(address, '#') : NULL;

	return hash != NULL ? hash + 1 : NULL;
}

enum smimp_err smimp_address_path_encode(char out[SMIMP_ADDRESS_PATH_MAX + 1],
					 const char *address,
					 struct smimp_error *err)
{
	char norm[SMIMP_ADDRESS_MAX + 1];
	enum smimp_err e;
	size_t n = 0;

	out[0] = '\0';
	e = smimp_address_normalize_str(norm, address, err);
	if (e != SMIMP_OK)
		return e;
	for (const char *p = norm; *p != '\0'; p++) {
		if (*p == '#') {
			memcpy(out + n, "%23", 3);
			n += 3;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return SMIMP_OK;
}

static int hex_value(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum smimp_err smimp_address_from_path(char out[SMIMP_ADDRESS_MAX + 1],
				       const char *seg, size_t len,
				       struct smimp_error *err)
{
	char buf[SMIMP_ADDRESS_MAX];
	size_t n = 0;
	enum smimp_err e;

	out[0] = '\0';
	if (seg == NULL)
		len = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)seg[i];

		if (c == '%') {
			int hi = i + 2 < len ? hex_value((unsigned char)seg[i + 1]) : -1;
			int lo = i + 2 < len ? hex_value((unsigned char)seg[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
						       "path segment has a "
						       "malformed percent escape "
						       "at offset %zu", i);
			c = (unsigned char)(hi << 4 | lo);
			if (c == 0 || c == '/')
				return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
						       "path segment has an "
						       "escape of %s at offset "
						       "%zu", c == 0 ? "NUL" :
						       "'/'", i);
			i += 2;
		} else if (c == '/' || c == '#') {
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "path segment has a literal '%c' "
					       "at offset %zu%s", (char)c, i,
					       c == '#' ? " (write it %23)" : "");
		}
		if (n == sizeof buf)
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "path segment decodes to more "
					       "than %d bytes", SMIMP_ADDRESS_MAX);
		buf[n++] = (char)c;
	}
	e = smimp_address_normalize(out, buf, n, err);
	if (e != SMIMP_OK)
		smimp_error_prefix(err, "path segment");
	return e;
}

/* Base URL derivation from smimp.txt (spec 4.1) and URL building (4.3). The
 * file and its lines are untrusted network data: sizes are checked first,
 * every byte of the authority and path is classified, and messages name
 * offsets instead of echoing the peer's bytes. */
#include <stdio.h>
#include <string.h>

#include "smimp/discovery.h"

#define HTTPS_PREFIX "https://"
#define HTTPS_PREFIX_LEN 8
#define WELL_KNOWN_PATH "/.well-known/smimp.txt"

static bool is_trim(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool ascii_ieq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		char c = a[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != b[i])
			return false;
	}
	return true;
}

/* First occurrence of needle[0..nlen) in s[0..len), or NULL. */
static const char *find(const char *s, size_t len, const char *needle,
			size_t nlen)
{
	for (size_t i = 0; i + nlen <= len; i++)
		if (memcmp(s + i, needle, nlen) == 0)
			return s + i;
	return NULL;
}

/* Port: 1-65535 in decimal, no sign, no leading zero. */
static enum smimp_err parse_port(unsigned *out, const char *s, size_t len,
				 struct smimp_error *err)
{
	unsigned v = 0;

	if (len == 0)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "port is empty");
	if (len > 5)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "port is out of range 1-65535");
	if (s[0] == '0')
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "port is zero or has a leading zero");
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "port has a character other than "
					       "0-9 at offset %zu", i);
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "port is out of range 1-65535");
	*out = v;
	return SMIMP_OK;
}

/* Rule 3: the path, checked, with every trailing '/' removed (*len). */
static enum smimp_err check_path(const char *p, size_t *len,
				 struct smimp_error *err)
{
	size_t n = *len, seg = 0;

	for (size_t i = 0; i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)p[i] : '/';

		if (c == '/') {
			if (i - seg == 2 && p[seg] == '.' && p[seg + 1] == '.')
				return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
						       "path has a \"..\" segment "
						       "at offset %zu", seg);
			seg = i + 1;
			continue;
		}
		if (c == '?' || c == '#' || c == ' ' || c < 0x20 || c == 0x7f) {
			char what[8];

			if (c > 0x20 && c < 0x7f)
				snprintf(what, sizeof what, "'%c'", (char)c);
			else
				snprintf(what, sizeof what, "0x%02x", c);
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "path has the forbidden byte %s "
					       "at offset %zu", what, i);
		}
	}
	while (n > 0 && p[n - 1] == '/')
		n--;
	*len = n;
	return SMIMP_OK;
}

static enum smimp_err line_to_base(char *out, const char *line, size_t len,
				   struct smimp_error *err)
{
	const char *rest, *sep, *slash, *colon;
	char host[SMIMP_DOMAIN_MAX + 1];
	size_t rest_len, auth_len, host_len, path_len, n;
	unsigned port = SMIMP_DISCOVERY_DEFAULT_PORT;
	enum smimp_err e;

	if (line == NULL)
		len = 0;
	if (len > SMIMP_DISCOVERY_FILE_MAX)
		return smimp_error_set(err, SMIMP_ERR_TOO_LARGE,
				       "line is longer than %d bytes",
				       SMIMP_DISCOVERY_FILE_MAX);
	while (len > 0 && is_trim(line[0])) {
		line++;
		len--;
	}
	while (len > 0 && is_trim(line[len - 1]))
		len--;
	if (len == 0)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST, "line is empty");

	/* Rule 1: the scheme. */
	rest = line;
	rest_len = len;
	sep = find(line, len, "://", 3);
	if (sep != NULL) {
		size_t scheme_len = (size_t)(sep - line);

		if (find(sep + 3, len - scheme_len - 3, "://", 3) != NULL)
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "line has \"://\" more than once");
		if (!ascii_ieq(line, scheme_len, "https"))
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "scheme is not https");
		rest = sep + 3;
		rest_len = len - scheme_len - 3;
	}

	/* Rule 2: the authority, host or host:port. */
	slash = memchr(rest, '/', rest_len);
	auth_len = slash != NULL ? (size_t)(slash - rest) : rest_len;
	if (auth_len == 0)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "host is empty");
	if (memchr(rest, '@', auth_len) != NULL)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "authority has user info ('@')");
	colon = memchr(rest, ':', auth_len);
	host_len = colon != NULL ? (size_t)(colon - rest) : auth_len;
	if (colon != NULL) {
		e = parse_port(&port, colon + 1, auth_len - host_len - 1, err);
		if (e != SMIMP_OK)
			return e;
	}
	e = smimp_address_domain_normalize(host, rest, host_len, err);
	if (e != SMIMP_OK) {
		smimp_error_prefix(err, "host");
		return e;
	}

	/* Rule 3: the path. */
	path_len = rest_len - auth_len;
	e = check_path(rest + auth_len, &path_len, err);
	if (e != SMIMP_OK)
		return e;

	/* Rule 4. Fits: at most 8 + len bytes, and len <= FILE_MAX. */
	n = 0;
	memcpy(out, HTTPS_PREFIX, HTTPS_PREFIX_LEN);
	n += HTTPS_PREFIX_LEN;
	memcpy(out + n, host, strlen(host));
	n += strlen(host);
	if (port != SMIMP_DISCOVERY_DEFAULT_PORT)
		n += (size_t)snprintf(out + n, 7, ":%u", port);
	memcpy(out + n, rest + auth_len, path_len);
	n += path_len;
	out[n] = '\0';
	return SMIMP_OK;
}

enum smimp_err smimp_discovery_base_url_from_line(
	char out[SMIMP_BASE_URL_MAX + 1], const char *line, size_t len,
	struct smimp_error *err)
{
	enum smimp_err e = line_to_base(out, line, len, err);

	if (e != SMIMP_OK)
		out[0] = '\0';
	return e;
}

enum smimp_err smimp_discovery_base_url_from_file(
	char out[SMIMP_BASE_URL_MAX + 1], const char *file, size_t len,
	struct smimp_error *err)
{
	size_t start = 0, lineno = 1;

	out[0] = '\0';
	if (file == NULL)
		len = 0;
	if (len > SMIMP_DISCOVERY_FILE_MAX)
		return smimp_error_set(err, SMIMP_ERR_TOO_LARGE,
				       "smimp.txt is larger than %d bytes",
				       SMIMP_DISCOVERY_FILE_MAX);
	if (len >= 3 && memcmp(file, "\xef\xbb\xbf", 3) == 0)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "smimp.txt starts with a byte-order "
				       "mark (it must be ASCII)");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)file[i] > 0x7f)
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "smimp.txt is not ASCII (byte 0x%02x "
					       "at offset %zu)",
					       (unsigned char)file[i], i);
	while (start < len) {
		const char *nl = memchr(file + start, '\n', len - start);
		size_t end = nl != NULL ? (size_t)(nl - file) : len;
		bool blank = true;

		for (size_t i = start; i < end; i++)
			if (!is_trim(file[i])) {
				blank = false;
				break;
			}
		if (!blank) {
			enum smimp_err e = smimp_discovery_base_url_from_line(
				out, file + start, end - start, err);

			if (e != SMIMP_OK)
				smimp_error_prefix(err, "smimp.txt line %zu",
						   lineno);
			return e;
		}
		start = end + 1;
		lineno++;
	}
	return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
			       "smimp.txt has no server line");
}

enum smimp_err smimp_discovery_well_known_url(
	char out[SMIMP_WELL_KNOWN_URL_MAX + 1], const char *domain,
	struct smimp_error *err)
{
	char norm[SMIMP_DOMAIN_MAX + 1];
	enum smimp_err e;

	out[0] = '\0';
	e = smimp_address_domain_normalize(norm, domain,
					   domain != NULL ? strlen(domain) : 0,
					   err);
	if (e != SMIMP_OK)
		return e;
	snprintf(out, SMIMP_WELL_KNOWN_URL_MAX + 1, "%s%s%s", HTTPS_PREFIX,
		 norm, WELL_KNOWN_PATH);
	return SMIMP_OK;
}

/* True when base_url is exactly what the line rules derive from it. */
static enum smimp_err check_normal(const char *base_url, size_t len,
				   struct smimp_error *err)
{
	char again[SMIMP_BASE_URL_MAX + 1];

	/* The rules run on the part after "https://", which is at most
	 * SMIMP_DISCOVERY_FILE_MAX bytes for any base URL. */
	if (base_url == NULL ||
	    len < HTTPS_PREFIX_LEN ||
	    memcmp(base_url, HTTPS_PREFIX, HTTPS_PREFIX_LEN) != 0 ||
	    smimp_discovery_base_url_from_line(again,
					       base_url + HTTPS_PREFIX_LEN,
					       len - HTTPS_PREFIX_LEN,
					       NULL) != SMIMP_OK ||
	    strcmp(again, base_url) != 0)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "not a base URL in normal form");
	return SMIMP_OK;
}

enum smimp_err smimp_discovery_split_base_url(struct smimp_base_url_parts *out,
					      const char *base_url,
					      struct smimp_error *err)
{
	size_t len = base_url != NULL ? strlen(base_url) : 0, host_len;
	const char *host, *end, *colon;
	enum smimp_err e;

	out->host[0] = '\0';
	out->port = SMIMP_DISCOVERY_DEFAULT_PORT;
	out->path = "";
	e = check_normal(base_url, len, err);
	if (e != SMIMP_OK)
		return e;
	host = base_url + HTTPS_PREFIX_LEN;
	end = strchr(host, '/');
	if (end == NULL)
		end = base_url + len;
	colon = memchr(host, ':', (size_t)(end - host));
	host_len = (size_t)((colon != NULL ? colon : end) - host);
	memcpy(out->host, host, host_len);
	out->host[host_len] = '\0';
	if (colon != NULL) {
		unsigned v = 0;

		for (const char *p = colon + 1; p < end; p++)
			v = v * 10 + (unsigned)(*p - '0');
		out->port = (uint16_t)v;
	}
	out->path = end;
	return SMIMP_OK;
}

static bool version_ok(const char *v)
{
	size_t i = 0, a = 0, b = 0;

	while (v[i] >= '0' && v[i] <= '9') {
		i++;
		a++;
	}
	if (v[i] != '.')
		return false;
	i++;
	while (v[i] >= '0' && v[i] <= '9') {
		i++;
		b++;
	}
	return v[i] == '\0' && a > 0 && b > 0 && i <= SMIMP_VERSION_MAX;
}

enum smimp_err smimp_discovery_endpoint_url(char *out, size_t out_size,
					    const char *base_url,
					    const char *version,
					    const char *endpoint,
					    struct smimp_error *err)
{
	size_t len = base_url != NULL ? strlen(base_url) : 0, need;
	enum smimp_err e;

	if (out != NULL && out_size > 0)
		out[0] = '\0';
	e = check_normal(base_url, len, err);
	if (e != SMIMP_OK)
		return e;
	if (version != NULL && !version_ok(version))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "version is not of the form "
				       "digits.digits");
	if (endpoint == NULL || endpoint[0] == '\0' || endpoint[0] == '/')
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "endpoint is empty or starts with '/'");
	for (const char *p = endpoint; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || c == '#')
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "endpoint has the forbidden byte "
					       "0x%02x at offset %zu", c,
					       (size_t)(p - endpoint));
	}
	need = len + 1 + strlen(endpoint) + 1;
	if (version != NULL)
		need += strlen(version) + 1;
	if (out == NULL || out_size < need)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL,
				       "URL buffer of %zu bytes is too small "
				       "(%zu needed)", out_size, need);
	if (version != NULL)
		snprintf(out, out_size, "%s/%s/%s", base_url, version, endpoint);
	else
		snprintf(out, out_size, "%s/%s", base_url, endpoint);
	return SMIMP_OK;
}

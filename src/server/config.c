/* Reads smimpd's configuration file: `key = value` lines, `#` comments.
 * Every value is checked here, so the rest of the daemon can trust it; any
 * problem is reported as "FILE:LINE: reason" and stops start-up. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "store.h"
#include "smimp/address.h"
#include "smimp/discovery.h"

#define LINE_MAX_BYTES 4096

enum kind { K_STRING, K_DOMAIN, K_LISTEN, K_URL, K_DATABASE, K_SIZE,
	    K_QUOTA, K_INT, K_BOOL, K_CONNECT_TO };

struct key {
	const char *name;
	enum kind kind;
	bool repeatable;
	long long min, max;     /* K_SIZE, K_INT, K_QUOTA */
	size_t offset;          /* into struct smd_config, unused for lists */
};

#define OFF(f) offsetof(struct smd_config, f)

static const struct key keys[] = {
	{"domain", K_DOMAIN, true, 0, 0, 0},
	{"listen", K_LISTEN, false, 0, 0, OFF(listen)},
	{"public_url", K_URL, false, 0, 0, OFF(public_url)},
	{"tls_cert", K_STRING, false, 0, 0, OFF(tls_cert)},
	{"tls_key", K_STRING, false, 0, 0, OFF(tls_key)},
	{"database", K_DATABASE, false, 0, 0, OFF(database)},
	{"pow_zero_bits", K_INT, false, 0, 256, OFF(pow_zero_bits)},
	{"default_quota", K_QUOTA, false, 0, LLONG_MAX / 2, OFF(default_quota)},
	{"max_request_bytes", K_SIZE, false, 1024, 1LL << 32, OFF(max_request_bytes)},
	{"max_envelope_bytes", K_SIZE, false, 1, 3LL << 30, OFF(max_envelope_bytes)},
	{"max_record_bytes", K_SIZE, false, 256, 16LL << 20, OFF(max_record_bytes)},
	{"max_history_records", K_INT, false, 1, 1000000, OFF(max_history_records)},
	{"max_ephemeral_keys", K_INT, false, 0, 1000000, OFF(max_ephemeral_keys)},
	{"max_avatar_bytes", K_SIZE, false, 1, 64LL << 20, OFF(max_avatar_bytes)},
	{"max_list_page", K_INT, false, 1, 1000000, OFF(max_list_page)},
	{"ephemeral_draws_per_hour", K_INT, false, 0, 1000000, OFF(ephemeral_draws_per_hour)},
	{"init_password_days", K_INT, false, 1, 3650, OFF(init_password_days)},
	{"max_connections", K_INT, false, 1, 1000000, OFF(max_connections)},
	{"connection_timeout", K_INT, false, 1, 3600, OFF(connection_timeout)},
	{"threads", K_INT, false, 0, 256, OFF(threads)},
	{"ca_file", K_STRING, false, 0, 0, OFF(ca_file)},
	{"connect_to", K_CONNECT_TO, true, 0, 0, 0},
	{"allow_private_addresses", K_BOOL, false, 0, 0, OFF(allow_private_addresses)},
	{"rate_per_address", K_INT, false, 0, 100000000, OFF(rate_per_address)},
	{"rate_burst_per_address", K_INT, false, 1, 100000000, OFF(rate_burst_per_address)},
	{"rate_per_session", K_INT, false, 0, 100000000, OFF(rate_per_session)},
	{"rate_burst_per_session", K_INT, false, 1, 100000000, OFF(rate_burst_per_session)},
	{"rate_limit_loopback", K_BOOL, false, 0, 0, OFF(rate_limit_loopback)},
	{"rate_ipv6_prefix", K_INT, false, 1, 128, OFF(rate_ipv6_prefix)},
};

#define NKEYS (sizeof keys / sizeof keys[0])

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL) {
		fputs("smimpd: out of memory\n", stderr);
		exit(70);
	}
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (q == NULL) {
		fputs("smimpd: out of memory\n", stderr);
		exit(70);
	}
	return q;
}

/* Removes spaces, tabs and CR at both ends, in place. */
static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
			 s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* A decimal integer with an optional binary suffix (k, m, g: KiB, MiB,
 * GiB) when allow_suffix. */
static bool parse_number(const char *s, bool allow_suffix, long long *out)
{
	char *end;
	long long v, mult = 1;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return false;
	if (allow_suffix && *end != '\0' && end[1] == '\0') {
		switch (*end) {
		case 'k': case 'K': mult = 1024; break;
		case 'm': case 'M': mult = 1024 * 1024; break;
		case 'g': case 'G': mult = 1024 * 1024 * 1024; break;
		default: return false;
		}
		end++;
	}
	if (*end != '\0' || v > LLONG_MAX / mult)
		return false;
	*out = v * mult;
	return true;
}

static bool parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned v = 0;

	if (len == 0 || len > 5 || s[0] == '0')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* "IPv4:PORT" or "[IPv6]:PORT". */
static bool parse_listen(struct smd_config *cfg, const char *v)
{
	char host[64];
	const char *colon;
	size_t hlen;
	uint16_t port;

	memset(&cfg->listen_addr, 0, sizeof cfg->listen_addr);
	if (v[0] == '[') {
		const char *close = strchr(v, ']');
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&cfg->listen_addr;

		if (close == NULL || close[1] != ':')
			return false;
		hlen = (size_t)(close - v - 1);
		if (hlen == 0 || hlen >= sizeof host)
			return false;
		memcpy(host, v + 1, hlen);
		host[hlen] = '\0';
		if (!parse_port(close + 2, strlen(close + 2), &port) ||
		    inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return false;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		cfg->listen_addr_len = sizeof *a6;
		return true;
	}
	colon = strrchr(v, ':');
	if (colon == NULL)
		return false;
	hlen = (size_t)(colon - v);
	if (hlen == 0 || hlen >= sizeof host)
		return false;
	memcpy(host, v, hlen);
	host[hlen] = '\0';
	{
		struct sockaddr_in *a4 = (struct sockaddr_in *)&cfg->listen_addr;

		if (!parse_port(colon + 1, strlen(colon + 1), &port) ||
		    inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return false;
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		cfg->listen_addr_len = sizeof *a4;
	}
	return true;
}

/* curl's --connect-to syntax: HOST:PORT:ADDR:PORT. HOST, the first PORT and
 * ADDR may be empty; ADDR may be an IPv6 literal in brackets. */
static bool parse_connect_to(struct smd_connect_to *ct, const char *v)
{
	const char *p = v, *c1, *c2, *addr_end;
	char addr[SMIMP_DOMAIN_MAX + 3];
	size_t alen;

	memset(ct, 0, sizeof *ct);
	c1 = strchr(p, ':');
	if (c1 == NULL)
		return false;
	c2 = strchr(c1 + 1, ':');
	if (c2 == NULL)
		return false;
	if (c2 > c1 + 1 && !parse_port(c1 + 1, (size_t)(c2 - c1 - 1), &ct->port))
		return false;
	p = c2 + 1;
	if (*p == '[') {
		addr_end = strchr(p, ']');
		if (addr_end == NULL || addr_end[1] != ':')
			return false;
		addr_end++;
	} else {
		addr_end = strchr(p, ':');
		if (addr_end == NULL)
			return false;
	}
	alen = (size_t)(addr_end - p);
	if (alen >= sizeof addr)
		return false;
	memcpy(addr, p, alen);
	addr[alen] = '\0';
	if (!parse_port(addr_end + 1, strlen(addr_end + 1), &ct->addr_port))
		return false;
	for (size_t i = 0; i < alen; i++)
		if (addr[i] <= ' ' || addr[i] > '~')
			return false;
	for (const char *h = v; h < c1; h++)
		if (*h <= ' ' || *h > '~')
			return false;
	ct->host = xrealloc(NULL, (size_t)(c1 - v) + 1);
	memcpy(ct->host, v, (size_t)(c1 - v));
	ct->host[c1 - v] = '\0';
	ct->addr = xstrdup(addr);
	return true;
}

static bool parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

static void set_defaults(struct smd_config *cfg)
{
	cfg->pow_zero_bits = SMD_DEFAULT_POW_ZERO_BITS;
	cfg->default_quota = SMD_DEFAULT_QUOTA;
	cfg->max_request_bytes = SMD_DEFAULT_MAX_REQUEST_BYTES;
	cfg->max_envelope_bytes = SMD_DEFAULT_MAX_ENVELOPE_BYTES;
	cfg->max_record_bytes = SMD_DEFAULT_MAX_RECORD_BYTES;
	cfg->max_history_records = SMD_DEFAULT_MAX_HISTORY_RECORDS;
	cfg->max_ephemeral_keys = SMD_DEFAULT_MAX_EPHEMERAL_KEYS;
	cfg->max_avatar_bytes = SMD_DEFAULT_MAX_AVATAR_BYTES;
	cfg->max_list_page = SMD_DEFAULT_MAX_LIST_PAGE;
	cfg->ephemeral_draws_per_hour = SMD_DEFAULT_EPHEMERAL_DRAWS_PER_HOUR;
	cfg->init_password_days = SMD_DEFAULT_INIT_PASSWORD_DAYS;
	cfg->max_connections = SMD_DEFAULT_MAX_CONNECTIONS;
	cfg->connection_timeout = SMD_DEFAULT_CONNECTION_TIMEOUT;
	cfg->threads = 0;
	cfg->allow_private_addresses = false;
	cfg->rate_per_address = SMD_DEFAULT_RATE_PER_ADDRESS;
	cfg->rate_burst_per_address = SMD_DEFAULT_RATE_BURST_PER_ADDRESS;
	cfg->rate_per_session = SMD_DEFAULT_RATE_PER_SESSION;
	cfg->rate_burst_per_session = SMD_DEFAULT_RATE_BURST_PER_SESSION;
	cfg->rate_limit_loopback = false;
	cfg->rate_ipv6_prefix = SMD_DEFAULT_RATE_IPV6_PREFIX;
}

/* Applies one `key = value`; returns NULL or a reason (static text or
 * written into why[]). */
static const char *apply(struct smd_config *cfg, const struct key *k,
			 const char *v, char *why, size_t why_size)
{
	char *base = (char *)cfg;
	long long n;
	struct smimp_error e;

	switch (k->kind) {
	case K_STRING:
		if (*v == '\0')
			return "empty value";
		*(char **)(base + k->offset) = xstrdup(v);
		return NULL;
	case K_DOMAIN: {
		char d[SMIMP_DOMAIN_MAX + 1];

		if (smimp_address_domain_normalize(d, v, strlen(v), &e) != SMIMP_OK) {
			snprintf(why, why_size, "bad domain '%.64s': %.160s", v, e.message);
			return why;
		}
		if (smd_config_hosts_domain(cfg, d)) {
			snprintf(why, why_size, "domain '%s' given twice", d);
			return why;
		}
		cfg->domains = xrealloc(cfg->domains,
					(cfg->n_domains + 1) * sizeof *cfg->domains);
		cfg->domains[cfg->n_domains++] = xstrdup(d);
		return NULL;
	}
	case K_LISTEN:
		if (!parse_listen(cfg, v))
			return "expected IPv4:PORT or [IPv6]:PORT (a numeric address)";
		cfg->listen = xstrdup(v);
		return NULL;
	case K_URL: {
		char url[SMIMP_BASE_URL_MAX + 1];
		struct smimp_base_url_parts parts;

		if (strncasecmp(v, "https://", 8) != 0)
			return "must start with https://";
		if (smimp_discovery_base_url_from_line(url, v, strlen(v), &e) != SMIMP_OK ||
		    smimp_discovery_split_base_url(&parts, url, &e) != SMIMP_OK) {
			snprintf(why, why_size, "not a valid base URL (spec 4.1): %s",
				 e.message);
			return why;
		}
		cfg->public_url = xstrdup(url);
		cfg->public_path = xstrdup(parts.path);
		return NULL;
	}
	case K_DATABASE:
		/* The kinds store.c knows: sqlite:PATH, postgresql://... */
		if (smd_store_backend(v) == NULL || strchr(v, ':')[1] == '\0')
			return "expected sqlite:PATH or postgresql://...";
		cfg->database = xstrdup(v);
		return NULL;
	case K_SIZE:
	case K_INT:
	case K_QUOTA:
		if (k->kind == K_QUOTA &&
		    (strcmp(v, "-1") == 0 || strcasecmp(v, "unlimited") == 0)) {
			cfg->default_quota = -1;
			return NULL;
		}
		if (!parse_number(v, k->kind != K_INT, &n) || n < k->min || n > k->max) {
			snprintf(why, why_size, "expected %s from %lld to %lld%s",
				 k->kind == K_INT ? "an integer" : "a size in bytes",
				 k->min, k->max,
				 k->kind == K_INT ? "" :
				 k->kind == K_QUOTA ? " (suffix k, m or g allowed), or unlimited" :
				 " (suffix k, m or g allowed)");
			return why;
		}
		if (k->offset == OFF(pow_zero_bits) || k->offset == OFF(threads))
			*(unsigned *)(base + k->offset) = (unsigned)n;
		else
			*(long long *)(base + k->offset) = n;
		return NULL;
	case K_BOOL:
		if (!parse_bool(v, (bool *)(base + k->offset)))
			return "expected true or false";
		return NULL;
	case K_CONNECT_TO:
		cfg->connect_to = xrealloc(cfg->connect_to, (cfg->n_connect_to + 1) *
					   sizeof *cfg->connect_to);
		if (!parse_connect_to(&cfg->connect_to[cfg->n_connect_to], v))
			return "expected HOST:PORT:ADDR:PORT (curl --connect-to syntax)";
		cfg->n_connect_to++;
		return NULL;
	}
	return "internal error";
}

static enum smimp_err check_whole(struct smd_config *cfg,
				  struct smimp_error *err)
{
	long long need;

	if (cfg->n_domains == 0)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "%s: no 'domain' given", cfg->path);
	if (cfg->public_url == NULL)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "%s: no 'public_url' given", cfg->path);
	/* The envelope travels as base64 inside a JSON body. */
	need = (cfg->max_envelope_bytes + 2) / 3 * 4 + 64 * 1024;
	if (cfg->max_request_bytes < need)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "%s: max_request_bytes (%lld) is too small to carry "
				       "an envelope of max_envelope_bytes (%lld): it must "
				       "be at least %lld", cfg->path,
				       cfg->max_request_bytes,
				       cfg->max_envelope_bytes, need);
	if (cfg->listen == NULL && !parse_listen(cfg, SMD_DEFAULT_LISTEN))
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "bad default listen");
	if (cfg->listen == NULL)
		cfg->listen = xstrdup(SMD_DEFAULT_LISTEN);
	if (cfg->database == NULL)
		cfg->database = xstrdup(SMD_DEFAULT_DATABASE);
	return SMIMP_OK;
}

enum smimp_err smd_config_load(struct smd_config **out, const char *path,
			       struct smimp_error *err)
{
	struct smd_config *cfg;
	FILE *f;
	char buf[LINE_MAX_BYTES + 2];
	unsigned lineno = 0;
	unsigned seen[NKEYS] = {0};
	enum smimp_err rc = SMIMP_OK;

	*out = NULL;
	cfg = calloc(1, sizeof *cfg);
	if (cfg == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	cfg->path = xstrdup(path);
	set_defaults(cfg);
	f = fopen(path, "r");
	if (f == NULL) {
		rc = smimp_error_set(err, SMIMP_ERR_NOT_FOUND, "%s: %s", path,
				     strerror(errno));
		goto out;
	}
	while (fgets(buf, sizeof buf, f) != NULL) {
		char *line, *eq, *key, *val, *hash, why[320];
		const char *problem;
		size_t i, len = strlen(buf);

		lineno++;
		if (len > LINE_MAX_BYTES || (len > 0 && buf[len - 1] != '\n' && !feof(f))) {
			rc = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					     "%s:%u: line too long", path, lineno);
			goto out;
		}
		if (memchr(buf, '\0', len) != NULL || strlen(buf) != len) {
			rc = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					     "%s:%u: NUL byte", path, lineno);
			goto out;
		}
		/* A '#' starts a comment wherever it is: no value holds one. */
		hash = strchr(buf, '#');
		if (hash != NULL)
			*hash = '\0';
		line = trim(buf);
		if (*line == '\0')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL) {
			rc = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					     "%s:%u: expected 'key = value'", path, lineno);
			goto out;
		}
		*eq = '\0';
		key = trim(line);
		val = trim(eq + 1);
		for (i = 0; i < NKEYS; i++)
			if (strcmp(keys[i].name, key) == 0)
				break;
		if (i == NKEYS) {
			rc = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					     "%s:%u: unknown key '%.64s'", path, lineno, key);
			goto out;
		}
		if (seen[i] != 0 && !keys[i].repeatable) {
			rc = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					     "%s:%u: '%s' given twice (first on line %u)",
					     path, lineno, key, seen[i]);
			goto out;
		}
		seen[i] = lineno;
		if (*val == '\0') {
			rc = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					     "%s:%u: '%s' has no value", path, lineno, key);
			goto out;
		}
		problem = apply(cfg, &keys[i], val, why, sizeof why);
		if (problem != NULL) {
			rc = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					     "%s:%u: %s: %s", path, lineno, key, problem);
			goto out;
		}
	}
	if (ferror(f)) {
		rc = smimp_error_set(err, SMIMP_ERR_INTERNAL, "%s: read error", path);
		goto out;
	}
	rc = check_whole(cfg, err);
out:
	if (f != NULL)
		fclose(f);
	if (rc != SMIMP_OK) {
		smd_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return SMIMP_OK;
}

bool smd_config_parse_size(const char *s, bool allow_unlimited, long long *out)
{
	if (allow_unlimited && (strcmp(s, "-1") == 0 || strcasecmp(s, "unlimited") == 0)) {
		*out = -1;
		return true;
	}
	return parse_number(s, true, out);
}

bool smd_config_hosts_domain(const struct smd_config *cfg, const char *domain)
{
	for (size_t i = 0; i < cfg->n_domains; i++)
		if (strcmp(cfg->domains[i], domain) == 0)
			return true;
	return false;
}

void smd_config_free(struct smd_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->n_domains; i++)
		free(cfg->domains[i]);
	free(cfg->domains);
	for (size_t i = 0; i < cfg->n_connect_to; i++) {
		free(cfg->connect_to[i].host);
		free(cfg->connect_to[i].addr);
	}
	free(cfg->connect_to);
	free(cfg->path);
	free(cfg->listen);
	free(cfg->public_url);
	free(cfg->public_path);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->database);
	free(cfg->ca_file);
	free(cfg);
}

/* threads = 0: 16 per CPU, from 16 to 64. Handlers block on the group
 * commit's fsync, and a commit can only batch the requests that are waiting
 * in handler threads, so durable writes need many more threads than CPUs;
 * an idle pool thread costs little (its stack is only reserved). */
unsigned smd_config_threads(const struct smd_config *cfg)
{
	long n;

	if (cfg->threads > 0)
		return cfg->threads;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	n = n < 1 ? 16 : n * 16;
	return n > 64 ? 64u : n < 16 ? 16u : (unsigned)n;
}

/* Remote users (spec 7.1): the current master key of another domain's
 * address. Everything fetched here is untrusted: smimp.txt (at most 4 KiB,
 * parsed by libsmimp's discovery rules) and the history (at most 1 MiB,
 * validated whole and checked against this server's pin). Transport: HTTPS
 * only, TLS 1.2+, certificates verified, no redirects, no proxies, the base
 * URL's path sent byte for byte, connect 5 s and 10 s for the whole
 * resolution, and by default no connection to loopback, private or
 * link-local addresses. A lookup blocks its caller: http.c runs remote
 * logins on offload workers, never on its I/O threads. Verified keys are cached for a minute. The only file that
 * includes curl.h. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "federation.h"
#include "smimp/discovery.h"
#include "smimp/history.h"
#include "smimp/pin.h"
#include "smimp/timestamp.h"
#include "store_identity.h"

#define CONNECT_MS 5000L
#define TOTAL_MS 10000L
#define HISTORY_MAX (1024 * 1024)
#define CACHE_SLOTS 256
#define CACHE_SECONDS 60

/* ---- cache of verified keys ---- */

struct cached {
	char address[SMIMP_ADDRESS_MAX + 1];
	struct smimp_sign_pk key;
	int64_t at;
};

static struct cached cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(const char *address)
{
	size_t h = 5381;

	for (const char *p = address; *p != '\0'; p++)
		h = h * 33 + (unsigned char)*p;
	return h % CACHE_SLOTS;
}

static bool cache_get(const char *address, struct smimp_sign_pk *key, int64_t now)
{
	struct cached *c = &cache[slot_of(address)];
	bool hit;

	pthread_mutex_lock(&cache_lock);
	hit = strcmp(c->address, address) == 0 && now - c->at < CACHE_SECONDS;
	if (hit)
		*key = c->key;
	pthread_mutex_unlock(&cache_lock);
	return hit;
}

static void cache_put(const char *address, const struct smimp_sign_pk *key, int64_t now)
{
	struct cached *c = &cache[slot_of(address)];

	pthread_mutex_lock(&cache_lock);
	snprintf(c->address, sizeof c->address, "%s", address);
	c->key = *key;
	c->at = now;
	pthread_mutex_unlock(&cache_lock);
}

/* ---- transport ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct body {
	char *buf;
	size_t len, max;
	bool too_large;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t add = size * n;
	char *nb;

	if (add > b->max - b->len) {
		b->too_large = true;
		return 0;
	}
	nb = realloc(b->buf, b->len + add + 1);
	if (nb == NULL)
		return 0;
	b->buf = nb;
	memcpy(b->buf + b->len, p, add);
	b->len += add;
	b->buf[b->len] = '\0';
	return add;
}

/* Loopback, private, link-local, unspecified, shared, multicast or
 * reserved: no place a public SMIMP server lives. */
static bool private_v4(const uint8_t a[4])
{
	return a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 ||
	       (a[0] == 169 && a[1] == 254) || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
	       (a[0] == 192 && a[1] == 168) || (a[0] == 100 && (a[1] & 0xc0) == 64);
}

static bool private_addr(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return private_v4((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		static const uint8_t zero[15] = {0};

		if (memcmp(a, mapped, 12) == 0) {
			uint8_t v4[4];

			memcpy(v4, a + 12, sizeof v4);
			return private_v4(v4);
		}
		return (memcmp(a, zero, 15) == 0 && a[15] <= 1) ||  /* :: and ::1 */
		       (a[0] & 0xfe) == 0xfc ||                     /* fc00::/7 */
		       (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||   /* fe80::/10 */
		       a[0] == 0xff;                                /* multicast */
	}
	return true;
}

static curl_socket_t open_socket(void *arg, curlsocktype purpose,
				 struct curl_sockaddr *sa)
{
	const struct smd_config *cfg = arg;

	if (purpose != CURLSOCKTYPE_IPCXN ||
	    (!cfg->allow_private_addresses && private_addr(&sa->addr)))
		return CURL_SOCKET_BAD;
	return socket(sa->family, sa->socktype, sa->protocol);
}

/* GETs url into *b (at most max bytes, within the time left until
 * deadline_ms of the monotonic clock curl uses). */
static enum smimp_err fetch(const struct smd_config *cfg, const char *url,
			    size_t max, long time_left_ms, struct body *b,
			    struct smimp_error *err)
{
	struct curl_slist *ct = NULL;
	char line[2 * SMIMP_DOMAIN_MAX + 32];
	CURL *c;
	CURLcode rc;
	long status = 0;

	memset(b, 0, sizeof *b);
	b->max = max;
	if (time_left_ms <= 0)
		return smimp_error_set(err, SMIMP_ERR_UPSTREAM, "%s: out of time", url);
	c = curl_easy_init();
	if (c == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "curl: out of memory");
	for (size_t i = 0; i < cfg->n_connect_to; i++) {
		const struct smd_connect_to *m = &cfg->connect_to[i];
		char p1[8] = "", p2[8] = "";
		struct curl_slist *n;

		if (m->port != 0)
			snprintf(p1, sizeof p1, "%u", m->port);
		if (m->addr_port != 0)
			snprintf(p2, sizeof p2, "%u", m->addr_port);
		snprintf(line, sizeof line, "%s:%s:%s:%s", m->host ? m->host : "", p1,
			 m->addr ? m->addr : "", p2);
		n = curl_slist_append(ct, line);
		if (n == NULL)
			break;
		ct = n;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (cfg->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_file);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 time_left_ms < CONNECT_MS ? time_left_ms : CONNECT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, time_left_ms);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, (void *)cfg);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "smimpd");
	if (ct != NULL)
		curl_easy_setopt(c, CURLOPT_CONNECT_TO, ct);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(ct);
	if (rc == CURLE_OK && status == 200)
		return SMIMP_OK;
	free(b->buf);
	b->buf = NULL;
	if (b->too_large || rc == CURLE_FILESIZE_EXCEEDED)
		return smimp_error_set(err, SMIMP_ERR_UPSTREAM, "%s: answer over %zu bytes",
				       url, max);
	if (rc != CURLE_OK)
		return smimp_error_set(err, SMIMP_ERR_UPSTREAM, "%s: %s", url,
				       curl_easy_strerror(rc));
	return smimp_error_set(err, SMIMP_ERR_UPSTREAM, "%s: HTTP status %ld", url, status);
}

/* ---- resolution ---- */

/* Keeps err's reason behind a prefix and makes it a 502 upstream. */
static enum smimp_err upstream(struct smimp_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static enum smimp_err upstream(struct smimp_error *err, const char *fmt, ...)
{
	char prefix[SMIMP_BASE_URL_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	smimp_error_prefix(err, "%s", prefix);
	return err->code = SMIMP_ERR_UPSTREAM;
}

static long ms_left(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return TOTAL_MS - ((now.tv_sec - start->tv_sec) * 1000L +
			   (now.tv_nsec - start->tv_nsec) / 1000000L);
}

/* Fetches and validates the history of address (4.1, 5). */
static enum smimp_err fetch_history(const struct smd_config *cfg, const char *address,
				    struct smimp_history *h, struct smimp_error *err)
{
	char well_known[SMIMP_WELL_KNOWN_URL_MAX + 1], base[SMIMP_BASE_URL_MAX + 1];
	char path[SMIMP_ADDRESS_PATH_MAX + 1], endpoint[SMIMP_ADDRESS_PATH_MAX + 32];
	char url[SMIMP_BASE_URL_MAX + sizeof endpoint + 16];
	struct timespec start;
	struct body b;
	enum smimp_err e;

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (smimp_discovery_well_known_url(well_known, smimp_address_domain(address),
					   err) != SMIMP_OK ||
	    smimp_address_path_encode(path, address, err) != SMIMP_OK)
		return err->code = SMIMP_ERR_INTERNAL;
	e = fetch(cfg, well_known, SMIMP_DISCOVERY_FILE_MAX, ms_left(&start), &b, err);
	if (e != SMIMP_OK)
		return e;
	e = smimp_discovery_base_url_from_file(base, b.buf, b.len, err);
	free(b.buf);
	if (e != SMIMP_OK)
		return upstream(err, "%s", well_known);
	snprintf(endpoint, sizeof endpoint, "get_user/%s/history", path);
	if (smimp_discovery_endpoint_url(url, sizeof url, base, "0.1", endpoint,
					 err) != SMIMP_OK)
		return err->code = SMIMP_ERR_UPSTREAM;
	e = fetch(cfg, url, HISTORY_MAX, ms_left(&start), &b, err);
	if (e != SMIMP_OK)
		return e;
	e = smimp_history_parse(h, b.buf, b.len, HISTORY_MAX, address, err);
	free(b.buf);
	if (e != SMIMP_OK)
		return upstream(err, "%s's history from %s is invalid", address,
				base);
	return SMIMP_OK;
}

struct pin_arg {
	const struct smd_db *db;
	const struct smimp_pin *pin;
	int64_t now;
};

static enum smd_store_rc pin_fn(struct smd_txn *txn, void *arg)
{
	const struct pin_arg *a = arg;

	return a->db->ops->identity->pin_put(txn, a->pin, a->now);
}

/* Checks h against the stored pin (or pins it on first contact) and
 * stores the advanced pin. Two resolutions racing may both pass the check
 * against the same old pin; both then store a pin of a valid extension. */
static enum smimp_err check_pin(const struct smd_db *db, const char *address,
				const struct smimp_history *h, struct smimp_error *err)
{
	struct smimp_pin pin;
	struct pin_arg a = {db, &pin, smimp_timestamp_now()};
	enum smd_store_rc rc = db->ops->identity->pin_get(db->st, address, &pin);

	if (rc == SMD_STORE_NOT_FOUND)
		smimp_pin_from_history(&pin, h);
	else if (rc != SMD_STORE_OK)
		return smd_store_err(rc, err);
	else if (smimp_pin_advance(&pin, h, err) != SMIMP_OK)
		return upstream(err, "%s: the other server's history does not "
				"match the pinned one", address);
	return smd_store_err(smd_db_write((struct smd_db *)db, pin_fn, &a), err);
}

enum smimp_err smd_federation_key(const struct smd_server *srv, const char *address,
				  struct smimp_sign_pk *key, bool fresh,
				  struct smimp_error *err)
{
	struct smimp_history h;
	int64_t now = smimp_timestamp_now();
	enum smimp_err e;

	if (!fresh && cache_get(address, key, now))
		return SMIMP_OK;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "libcurl does not start");
	e = fetch_history(srv->cfg, address, &h, err);
	if (e != SMIMP_OK)
		return e;
	e = check_pin(srv->db, address, &h, err);
	if (e == SMIMP_OK) {
		*key = *smimp_history_latest_key(&h);
		cache_put(address, key, now);
	}
	smimp_history_free(&h);
	return e;
}

/* HTTPS transport over libcurl (see transport.h). Every option that could
 * weaken TLS is set explicitly here, in one place. Untrusted input: response
 * bodies and headers, bounded by the caller's cap. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "transport.h"

#define USER_AGENT "smimp/0.1"
#define CONNECT_TIMEOUT_S 10L
#define TOTAL_TIMEOUT_S 60L

struct smc_transport {
	CURL *curl;
	struct curl_slist *connect_to;
	char *cacert;
	int verbose;
};

struct sink {
	char *buf;
	size_t len, cap, max;
	bool too_large;
};

static int global_refs;

int smc_transport_check_connect_to(const char *s)
{
	/* HOST:PORT:ADDR:PORT with the ports decimal (or empty, as curl
	 * allows); HOST has no ':' and ADDR may be a bracketed IPv6. */
	const char *p = strchr(s, ':');
	const char *q, *last;

	if (p == NULL)
		return -1;
	q = strchr(p + 1, ':');
	if (q == NULL)
		return -1;
	for (const char *c = p + 1; c < q; c++)
		if (*c < '0' || *c > '9')
			return -1;
	last = strrchr(q + 1, ':');
	if (last == NULL)
		return -1;
	for (const char *c = last + 1; *c != '\0'; c++)
		if (*c < '0' || *c > '9')
			return -1;
	for (const char *c = s; *c != '\0'; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
			return -1;
	return 0;
}

struct smc_transport *smc_transport_new(const struct smc_transport_opts *o)
{
	struct smc_transport *t = calloc(1, sizeof *t);

	if (t == NULL)
		return NULL;
	if (global_refs++ == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		goto fail;
	t->curl = curl_easy_init();
	if (t->curl == NULL)
		goto fail;
	for (size_t i = 0; i < o->n_connect_to; i++) {
		struct curl_slist *n = curl_slist_append(t->connect_to,
							 o->connect_to[i]);
		if (n == NULL)
			goto fail;
		t->connect_to = n;
	}
	if (o->cacert != NULL && (t->cacert = strdup(o->cacert)) == NULL)
		goto fail;
	t->verbose = o->verbose;
	return t;
fail:
	smc_transport_free(t);
	return NULL;
}

void smc_transport_free(struct smc_transport *t)
{
	if (t == NULL)
		return;
	if (t->curl != NULL)
		curl_easy_cleanup(t->curl);
	curl_slist_free_all(t->connect_to);
	free(t->cacert);
	free(t);
	if (--global_refs == 0)
		curl_global_cleanup();
}

void smc_response_free(struct smc_response *r)
{
	if (r == NULL)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (n > s->max - s->len) {
		s->too_large = true;
		return 0; /* aborts the transfer */
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap == 0 ? 4096 : s->cap;
		char *nb;

		while (cap < s->len + n + 1)
			cap *= 2;
		if (cap > s->max + 1)
			cap = s->max + 1;
		nb = realloc(s->buf, cap);
		if (nb == NULL)
			return 0;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, ptr, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

int smc_url_origin(char *out, size_t out_size, const char *url)
{
	const char *host, *end;
	size_t n;

	if (strncmp(url, "https://", 8) != 0)
		return -1;
	host = url + 8;
	end = host + strcspn(host, "/?#");
	n = (size_t)(end - url);
	if (n + 1 > out_size || end == host)
		return -1;
	memcpy(out, url, n);
	out[n] = '\0';
	return 0;
}

static bool is_tls_error(CURLcode c)
{
	switch (c) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		return true;
	default:
		return false;
	}
}

static const char *method_name(enum smc_method m)
{
	return m == SMC_GET ? "GET" : m == SMC_POST ? "POST" : "DELETE";
}

/* Applies the fixed security options; any failure is fatal for the
 * request (an option we cannot set is a protection we do not have). */
static CURLcode set_options(struct smc_transport *t, const char *url,
			    char *errbuf, struct sink *sink,
			    size_t max_response)
{
	CURL *c = t->curl;
	CURLcode rc = CURLE_OK;

#define SET(opt, val)                                                       \
	do {                                                                \
		if (rc == CURLE_OK)                                         \
			rc = curl_easy_setopt(c, opt, val);                 \
	} while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_MAXREDIRS, 0L);
	SET(CURLOPT_PATH_AS_IS, 1L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (t->cacert != NULL) {
		SET(CURLOPT_CAINFO, t->cacert);
		SET(CURLOPT_CAPATH, (char *)NULL);
	}
	if (t->connect_to != NULL)
		SET(CURLOPT_CONNECT_TO, t->connect_to);
	SET(CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	SET(CURLOPT_TIMEOUT, TOTAL_TIMEOUT_S);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_USERAGENT, USER_AGENT);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_data);
	SET(CURLOPT_WRITEDATA, sink);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_response);
	SET(CURLOPT_ACCEPT_ENCODING, (char *)NULL);
	SET(CURLOPT_HTTP_CONTENT_DECODING, 0L);
#undef SET
	return rc;
}

int smc_transport_request(struct smc_transport *t, enum smc_method method,
			  const char *url, const struct smc_auth *auth,
			  const char *body, size_t body_len,
			  size_t max_response, struct smc_response *resp,
			  struct smc_err *e)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	char origin[512], *auth_line = NULL;
	struct curl_slist *headers = NULL, *n;
	struct sink sink = {NULL, 0, 0, max_response, false};
	CURLcode rc;
	long status = 0;
	curl_off_t retry_after = -1;
	int ret = -1;

	memset(resp, 0, sizeof *resp);
	resp->retry_after = -1;
	if (smc_url_origin(origin, sizeof origin, url) != 0)
		return smc_fail(e, SMC_EXIT_PROTOCOL,
				"refusing a URL that is not https: %.200s", url);
	curl_easy_reset(t->curl);
	rc = set_options(t, url, errbuf, &sink, max_response);
	if (rc != CURLE_OK) {
		smc_fail(e, SMC_EXIT_SOFTWARE,
			 "libcurl refused a required option: %s",
			 curl_easy_strerror(rc));
		goto out;
	}
	n = curl_slist_append(headers, "Accept: application/json");
	if (n != NULL)
		headers = n;
	n = curl_slist_append(headers, "Expect:");
	if (n != NULL)
		headers = n;
	if (method == SMC_POST) {
		n = curl_slist_append(headers, "Content-Type: application/json");
		if (n != NULL)
			headers = n;
	}
	/* The session goes only to the origin that issued it (4.2). */
	if (auth != NULL && auth->session != NULL &&
	    strcmp(auth->origin, origin) == 0) {
		size_t len = strlen(auth->session) + 32;

		auth_line = malloc(len);
		if (auth_line == NULL) {
			smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
			goto out;
		}
		snprintf(auth_line, len, "SMIMP-Authentication: %s",
			 auth->session);
		n = curl_slist_append(headers, auth_line);
		if (n == NULL) {
			smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
			goto out;
		}
		headers = n;
	}
	curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, headers);
	if (method == SMC_POST) {
		curl_easy_setopt(t->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS,
				 body != NULL ? body : "");
		curl_easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(body != NULL ? body_len : 0));
	} else if (method == SMC_DELETE) {
		curl_easy_setopt(t->curl, CURLOPT_CUSTOMREQUEST, "DELETE");
	} else {
		curl_easy_setopt(t->curl, CURLOPT_HTTPGET, 1L);
	}

	rc = curl_easy_perform(t->curl);
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
	if (t->verbose > 0)
		fprintf(stderr, "smimp: %s %s -> %ld%s%s\n", method_name(method),
			url, status, rc != CURLE_OK ? " " : "",
			rc != CURLE_OK ? curl_easy_strerror(rc) : "");
	if (rc != CURLE_OK) {
		const char *detail = errbuf[0] != '\0' ? errbuf
						       : curl_easy_strerror(rc);

		if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED)
			smc_fail(e, SMC_EXIT_PROTOCOL,
				 "%s: the answer is larger than %zu bytes",
				 origin, max_response);
		else if (is_tls_error(rc))
			smc_fail(e, SMC_EXIT_PROTOCOL,
				 "TLS failure with %s (no request was sent): %s",
				 origin, detail);
		else if (rc == CURLE_UNSUPPORTED_PROTOCOL ||
			 rc == CURLE_URL_MALFORMAT)
			smc_fail(e, SMC_EXIT_PROTOCOL, "bad URL %.200s: %s",
				 url, detail);
		else
			smc_fail(e, SMC_EXIT_TEMPFAIL,
				 "cannot reach %s: %s", origin, detail);
		goto out;
	}
	if (status >= 300 && status < 400) {
		smc_fail(e, SMC_EXIT_PROTOCOL,
			 "%s answered with a redirect (HTTP %ld), which SMIMP "
			 "never follows", origin, status);
		goto out;
	}
	if (curl_easy_getinfo(t->curl, CURLINFO_RETRY_AFTER, &retry_after) ==
	    CURLE_OK && retry_after >= 0)
		resp->retry_after = (long)retry_after;
	resp->status = status;
	resp->body = sink.buf != NULL ? sink.buf : calloc(1, 1);
	if (resp->body == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	resp->len = sink.len;
	sink.buf = NULL;
	ret = 0;
out:
	curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
	curl_slist_free_all(headers);
	if (auth_line != NULL) {
		memset(auth_line, 0, strlen(auth_line));
		free(auth_line);
	}
	free(sink.buf);
	return ret;
}

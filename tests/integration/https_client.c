/* https_client: see https_client.h. */
#include "https_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTENT_TYPE "Content-Type: application/json"
#define FIRST_CAP 8192

/* A list of a, then b when b is not NULL; NULL when memory fails. */
static struct curl_slist *slist_of(const char *a, const char *b)
{
	struct curl_slist *l = curl_slist_append(NULL, a), *m;

	if (l == NULL || b == NULL)
		return l;
	m = curl_slist_append(l, b);
	if (m == NULL)
		curl_slist_free_all(l);
	return m;
}

/* Room for need bytes, never more than the bound needs. */
static int grow(struct https_client *c, size_t need)
{
	size_t cap = c->cap;
	char *p;

	while (cap < need)
		cap *= 2;
	if (cap > HTTPS_CLIENT_MAX_RESPONSE + 1)
		cap = HTTPS_CLIENT_MAX_RESPONSE + 1;
	p = realloc(c->body, cap);
	if (p == NULL)
		return -1;
	c->body = p;
	c->cap = cap;
	return 0;
}

/* libcurl's write callback; a short count fails the transfer. */
static size_t on_data(char *d, size_t size, size_t n, void *arg)
{
	struct https_client *c = arg;
	size_t k = size * n;

	if (k > HTTPS_CLIENT_MAX_RESPONSE - c->len ||
	    (c->len + k >= c->cap && grow(c, c->len + k + 1) != 0))
		return 0;
	memcpy(c->body + c->len, d, k);
	c->len += k;
	c->body[c->len] = '\0';
	return k;
}

static void set_options(struct https_client *c, const struct https_client_opts *o)
{
	CURL *h = c->h;

	curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert);
	/* Only the test CA: the system store would be parsed per handshake. */
	curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(h, CURLOPT_CONNECT_TO, c->connect_to);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, o->connect_timeout);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	/* Refuses an announced oversize body up front; on_data bounds the rest. */
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTPS_CLIENT_MAX_RESPONSE);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	/* No proxy: spares the proxy environment look-ups of every request. */
	curl_easy_setopt(h, CURLOPT_PROXY, "");
}

int https_client_init(struct https_client *c, const struct https_client_opts *o)
{
	memset(c, 0, sizeof *c);
	c->h = curl_easy_init();
	c->body = malloc(FIRST_CAP);
	c->cap = FIRST_CAP;
	c->hdrs[1][0] = slist_of(CONTENT_TYPE, NULL);
	if (o->connect_to != NULL)
		c->connect_to = slist_of(o->connect_to, NULL);
	if (c->h == NULL || c->body == NULL || c->hdrs[1][0] == NULL ||
	    (o->connect_to != NULL && c->connect_to == NULL) ||
	    (size_t)snprintf(c->base, sizeof c->base, "%s", o->base) >= sizeof c->base) {
		https_client_free(c);
		return -1;
	}
	c->body[0] = '\0';
	set_options(c, o);
	return 0;
}

void https_client_free(struct https_client *c)
{
	curl_easy_cleanup(c->h);
	for (int b = 0; b < 2; b++)
		for (int s = 0; s < 2; s++)
			curl_slist_free_all(c->hdrs[b][s]);
	curl_slist_free_all(c->connect_to);
	free(c->body);
	memset(c, 0, sizeof *c);
}

/* Builds the headers of a new session: -1 when it is too long, not one
 * header line, or memory fails. */
static int use_session(struct https_client *c, const char *session)
{
	char auth[sizeof c->sess_for + 32];
	size_t n = strlen(session);

	curl_slist_free_all(c->hdrs[0][1]);
	curl_slist_free_all(c->hdrs[1][1]);
	c->hdrs[0][1] = c->hdrs[1][1] = NULL;
	c->sess_for[0] = '\0';
	if (n >= sizeof c->sess_for || strcspn(session, "\r\n") != n)
		return -1;
	snprintf(auth, sizeof auth, "SMIMP-Authentication: %s", session);
	c->hdrs[0][1] = slist_of(auth, NULL);
	c->hdrs[1][1] = slist_of(CONTENT_TYPE, auth);
	memcpy(c->sess_for, session, n + 1);
	return c->hdrs[0][1] != NULL && c->hdrs[1][1] != NULL ? 0 : -1;
}

/* The header list of a request with or without a body and a session, kept
 * between calls; NULL with a session that use_session refuses. */
static struct curl_slist *headers_for(struct https_client *c, int body,
				      const char *session)
{
	if (session == NULL)
		return c->hdrs[body][0];
	if ((c->hdrs[body][1] == NULL || strcmp(c->sess_for, session) != 0) &&
	    use_session(c, session) != 0)
		return NULL;
	return c->hdrs[body][1];
}

/* A call refused before any transfer. */
static long refuse(struct https_client *c, CURLcode why, const char *what)
{
	c->result = why;
	snprintf(c->errbuf, sizeof c->errbuf, "%s", what);
	return 0;
}

long https_client_call(struct https_client *c, const char *path,
		       const char *session, const char *body, size_t body_len)
{
	char url[1024];
	struct curl_slist *hdrs;

	c->status = 0;
	c->len = 0;
	c->body[0] = '\0';
	if ((size_t)snprintf(url, sizeof url, "%s/0.1/%s", c->base, path) >= sizeof url)
		return refuse(c, CURLE_URL_MALFORMAT, "path too long");
	hdrs = headers_for(c, body != NULL, session);
	if (session != NULL && hdrs == NULL)
		return refuse(c, CURLE_BAD_FUNCTION_ARGUMENT, "unusable session");
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	if (body != NULL) {
		curl_easy_setopt(c->h, CURLOPT_POST, 1L);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	} else {
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
	c->result = curl_easy_perform(c->h);
	if (c->result != CURLE_OK)
		return 0;
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &c->status);
	return c->status;
}

json_t *https_client_json(const struct https_client *c)
{
	return json_loadb(c->body, c->len, 0, NULL);
}

const char *https_client_error(const struct https_client *c)
{
	return c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(c->result);
}

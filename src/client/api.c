/* SMIMP calls over the transport (see api.h). Untrusted input: answer
 * bodies, parsed with the library's strict JSON parser; error texts from the
 * server are escaped and cut short before they reach a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/json.h"

#include "api.h"
#include "login.h"
#include "render.h"

static int status_exit(long status)
{
	if (status == 429 || status >= 500)
		return SMC_EXIT_TEMPFAIL;
	if (status == 401 || status == 403)
		return SMC_EXIT_NOPERM;
	if (status >= 400)
		return SMC_EXIT_REFUSED;
	return SMC_EXIT_PROTOCOL; /* 1xx or another odd status */
}

/* Fills e from an error answer: status, the spec's code, its message. */
static int fail_status(const char *url, const struct smc_response *r,
		       struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	char code[32] = "", msg[300] = "";
	json_t *v = smimp_json_parse(r->body, r->len, 64 * 1024, true, &le);
	const char *origin_end;
	int url_len;

	if (v != NULL) {
		const char *c = json_string_value(json_object_get(v, "error"));
		const char *m = json_string_value(json_object_get(v, "message"));

		if (c != NULL)
			smc_render_safe_buf(code, sizeof code, c, strlen(c), 31);
		if (m != NULL)
			smc_render_safe_buf(msg, sizeof msg, m, strlen(m), 200);
		json_decref(v);
	}
	/* Name the endpoint without the query. */
	origin_end = strchr(url, '?');
	url_len = origin_end != NULL ? (int)(origin_end - url) : (int)strlen(url);
	if (url_len > 200)
		url_len = 200;
	smc_fail(e, status_exit(r->status), "%.*s: HTTP %ld%s%s%s%s%s",
		 url_len, url, r->status, code[0] != '\0' ? " " : "", code,
		 msg[0] != '\0' ? " (" : "", msg, msg[0] != '\0' ? ")" : "");
	e->http_status = (int)r->status;
	snprintf(e->server_code, sizeof e->server_code, "%s", code);
	if (r->status == 429 && r->retry_after >= 0) {
		size_t n = strlen(e->message);

		snprintf(e->message + n, sizeof e->message - n,
			 "; retry after %ld s", r->retry_after);
	}
	return -1;
}

int smc_api_call_url(struct smc_transport *t, const char *url,
		     const struct smc_session *sess, enum smc_method method,
		     const json_t *body, size_t max_response, json_t **out,
		     struct smc_err *e)
{
	struct smc_response r;
	struct smimp_error le = {SMIMP_OK, ""};
	struct smc_auth auth;
	char *text = NULL;
	size_t text_len = 0;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (body != NULL) {
		text = smimp_json_dump(body);
		if (text == NULL)
			return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		text_len = strlen(text);
	}
	if (sess != NULL)
		auth = smc_session_auth(sess);
	rc = smc_transport_request(t, method, url, sess != NULL ? &auth : NULL,
				   text, text_len, max_response, &r, e);
	if (text != NULL) {
		/* Bodies may carry password hashes and signed keys. */
		memset(text, 0, text_len);
		free(text);
	}
	if (rc != 0)
		return -1;
	if (r.status < 200 || r.status > 299) {
		fail_status(url, &r, e);
		smc_response_free(&r);
		return -1;
	}
	if (out != NULL && r.status != 204 && r.len > 0) {
		*out = smimp_json_parse(r.body, r.len, max_response, true, &le);
		if (*out == NULL) {
			smc_response_free(&r);
			return smc_fail(e, SMC_EXIT_PROTOCOL,
					"%.200s: the answer is not a JSON "
					"object: %s", url, le.message);
		}
	}
	smc_response_free(&r);
	return 0;
}

int smc_api_call(struct smc_transport *t, const struct smc_server *srv,
		 const struct smc_session *sess, enum smc_method method,
		 const char *endpoint, const json_t *body, size_t max_response,
		 json_t **out, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	size_t size = strlen(srv->base_url) + strlen(endpoint) + 32;
	char *url = malloc(size);
	int rc;

	if (url == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	if (smimp_discovery_endpoint_url(url, size, srv->base_url, srv->version,
					 endpoint, &le) != SMIMP_OK) {
		free(url);
		return smc_fail(e, SMC_EXIT_SOFTWARE, "cannot build URL: %s",
				le.message);
	}
	rc = smc_api_call_url(t, url, sess, method, body, max_response, out, e);
	free(url);
	return rc;
}

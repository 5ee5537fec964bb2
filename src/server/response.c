/* Building responses: JSON bodies and the one error format (spec 4.4). */
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "smimp/json.h"

static void set_body(struct smd_response *resp, int status,
		     const char *content_type, char *body, size_t len)
{
	free(resp->body);
	resp->status = status;
	resp->content_type = content_type;
	resp->body = body;
	resp->body_len = len;
}

void smd_response_error(struct smd_response *resp, enum smimp_err e,
			const char *message)
{
	static const char fallback[] =
		"{\"error\":\"internal\",\"message\":\"out of memory\"}";
	json_t *v;
	char *s = NULL;

	if (e == SMIMP_OK)
		e = SMIMP_ERR_INTERNAL;
	/* Every 429 says when to come back (4.4). */
	if (e == SMIMP_ERR_RATE_LIMITED && resp->retry_after == 0)
		resp->retry_after = 1;
	if (message == NULL || *message == '\0')
		message = smimp_err_code(e);
	v = json_pack("{s:s, s:s}", "error", smimp_err_code(e), "message", message);
	if (v == NULL) /* message not UTF-8: never expected, never echoed */
		v = json_pack("{s:s, s:s}", "error", smimp_err_code(e), "message",
			      smimp_err_code(e));
	if (v != NULL)
		s = smimp_json_dump(v);
	json_decref(v);
	resp->allow = e == SMIMP_ERR_METHOD_NOT_ALLOWED ? resp->allow : NULL;
	if (s == NULL) {
		s = strdup(fallback);
		set_body(resp, 500, "application/json", s, s != NULL ? strlen(s) : 0);
		return;
	}
	set_body(resp, smimp_err_http_status(e), "application/json", s, strlen(s));
}

void smd_response_json(struct smd_response *resp, int status, json_t *v)
{
	char *s = v != NULL ? smimp_json_dump(v) : NULL;

	json_decref(v);
	if (s == NULL) {
		smd_response_error(resp, SMIMP_ERR_INTERNAL, "cannot build the answer");
		return;
	}
	set_body(resp, status, "application/json", s, strlen(s));
}

void smd_response_bytes(struct smd_response *resp, int status,
			const char *content_type, const void *body, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy == NULL) {
		smd_response_error(resp, SMIMP_ERR_INTERNAL, "out of memory");
		return;
	}
	if (len > 0)
		memcpy(copy, body, len);
	copy[len] = '\0';
	set_body(resp, status, content_type, copy, len);
}

void smd_response_clear(struct smd_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof *resp);
}

/* The error registry: names, spec codes and HTTP statuses in one table so
 * that status and text can never drift apart. */
#include <stdio.h>
#include <string.h>

#include "smimp/error.h"

static const struct {
	const char *name;
	const char *code;
	int status;
} registry[SMIMP_ERR_COUNT] = {
	[SMIMP_OK] = {"SMIMP_OK", "ok", 200},
	[SMIMP_ERR_BAD_REQUEST] = {"SMIMP_ERR_BAD_REQUEST", "bad_request", 400},
	[SMIMP_ERR_UNAUTHENTICATED] = {"SMIMP_ERR_UNAUTHENTICATED", "unauthenticated", 401},
	[SMIMP_ERR_FORBIDDEN] = {"SMIMP_ERR_FORBIDDEN", "forbidden", 403},
	[SMIMP_ERR_REJECTED] = {"SMIMP_ERR_REJECTED", "rejected", 403},
	[SMIMP_ERR_NOT_FOUND] = {"SMIMP_ERR_NOT_FOUND", "not_found", 404},
	[SMIMP_ERR_UNSUPPORTED_VERSION] = {"SMIMP_ERR_UNSUPPORTED_VERSION", "unsupported_version", 404},
	[SMIMP_ERR_METHOD_NOT_ALLOWED] = {"SMIMP_ERR_METHOD_NOT_ALLOWED", "method_not_allowed", 405},
	[SMIMP_ERR_CONFLICT] = {"SMIMP_ERR_CONFLICT", "conflict", 409},
	[SMIMP_ERR_TOO_LARGE] = {"SMIMP_ERR_TOO_LARGE", "too_large", 413},
	[SMIMP_ERR_UNSUPPORTED_MEDIA] = {"SMIMP_ERR_UNSUPPORTED_MEDIA", "unsupported_media", 415},
	[SMIMP_ERR_BAD_SIGNATURE] = {"SMIMP_ERR_BAD_SIGNATURE", "bad_signature", 422},
	[SMIMP_ERR_BAD_PROOF_OF_WORK] = {"SMIMP_ERR_BAD_PROOF_OF_WORK", "bad_proof_of_work", 422},
	[SMIMP_ERR_BAD_KEY] = {"SMIMP_ERR_BAD_KEY", "bad_key", 422},
	[SMIMP_ERR_RATE_LIMITED] = {"SMIMP_ERR_RATE_LIMITED", "rate_limited", 429},
	[SMIMP_ERR_INTERNAL] = {"SMIMP_ERR_INTERNAL", "internal", 500},
	[SMIMP_ERR_UPSTREAM] = {"SMIMP_ERR_UPSTREAM", "upstream", 502},
	[SMIMP_ERR_QUOTA_EXCEEDED] = {"SMIMP_ERR_QUOTA_EXCEEDED", "quota_exceeded", 507},
	[SMIMP_ERR_PIN_MISMATCH] = {"SMIMP_ERR_PIN_MISMATCH", "upstream", 502},
	[SMIMP_ERR_CANCELLED] = {"SMIMP_ERR_CANCELLED", "internal", 500},
};

static int in_range(enum smimp_err e)
{
	return (int)e >= 0 && e < SMIMP_ERR_COUNT;
}

const char *smimp_err_name(enum smimp_err e)
{
	return in_range(e) ? registry[e].name : "SMIMP_ERR_UNKNOWN";
}

const char *smimp_err_code(enum smimp_err e)
{
	return in_range(e) ? registry[e].code : "internal";
}

int smimp_err_http_status(enum smimp_err e)
{
	return in_range(e) ? registry[e].status : 500;
}

enum smimp_err smimp_error_set(struct smimp_error *err, enum smimp_err code,
			       const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof err->message, fmt, ap);
		va_end(ap);
	}
	return code;
}

enum smimp_err smimp_error_prefix(struct smimp_error *err, const char *fmt, ...)
{
	char prefix[128], old[sizeof err->message];
	va_list ap;

	if (err == NULL)
		return SMIMP_ERR_INTERNAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, err->message, sizeof old);
	old[sizeof old - 1] = '\0';
	/* Built piecewise: the result is cut at the buffer's end on purpose. */
	size_t n = strlen(prefix), cap = sizeof err->message - 1;

	if (n > cap)
		n = cap;
	memcpy(err->message, prefix, n);
	if (n + 2 <= cap) {
		memcpy(err->message + n, ": ", 2);
		n += 2;
	}
	size_t rest = strlen(old);

	if (rest > cap - n)
		rest = cap - n;
	memcpy(err->message + n, old, rest);
	err->message[n + rest] = '\0';
	return err->code;
}

/* The one registry of errors: each value has a stable name, the spec's error
 * code (4.4) and the HTTP status it is answered with. Library functions
 * return one of these and may fill a struct smimp_error with a precise,
 * human-readable reason; they never abort on peer input. */
#ifndef SMIMP_ERROR_H
#define SMIMP_ERROR_H

#include <stdarg.h>

enum smimp_err {
	SMIMP_OK = 0,
	SMIMP_ERR_BAD_REQUEST,       /* 400 bad_request */
	SMIMP_ERR_UNAUTHENTICATED,   /* 401 unauthenticated */
	SMIMP_ERR_FORBIDDEN,         /* 403 forbidden */
	SMIMP_ERR_REJECTED,          /* 403 rejected */
	SMIMP_ERR_NOT_FOUND,         /* 404 not_found */
	SMIMP_ERR_UNSUPPORTED_VERSION, /* 404 unsupported_version */
	SMIMP_ERR_METHOD_NOT_ALLOWED, /* 405 method_not_allowed */
	SMIMP_ERR_CONFLICT,          /* 409 conflict */
	SMIMP_ERR_TOO_LARGE,         /* 413 too_large */
	SMIMP_ERR_UNSUPPORTED_MEDIA, /* 415 unsupported_media */
	SMIMP_ERR_BAD_SIGNATURE,     /* 422 bad_signature */
	SMIMP_ERR_BAD_PROOF_OF_WORK, /* 422 bad_proof_of_work */
	SMIMP_ERR_BAD_KEY,           /* 422 bad_key */
	SMIMP_ERR_RATE_LIMITED,      /* 429 rate_limited */
	SMIMP_ERR_INTERNAL,          /* 500 internal */
	SMIMP_ERR_UPSTREAM,          /* 502 upstream */
	SMIMP_ERR_QUOTA_EXCEEDED,    /* 507 quota_exceeded */
	/* Client-side verdicts with no wire code of their own; answered as
	 * 502 upstream when a server meets them while resolving a remote user. */
	SMIMP_ERR_PIN_MISMATCH,      /* history truncated, forked or replaced (5.1) */
	SMIMP_ERR_CANCELLED,         /* a long operation was cancelled */
	SMIMP_ERR_COUNT
};

/* A reason to show a person or write to a log. The text never holds secrets. */
struct smimp_error {
	enum smimp_err code;
	char message[256];
};

/* Stable identifier of the value, e.g. "SMIMP_ERR_BAD_KEY". */
const char *smimp_err_name(enum smimp_err e);
/* The spec's wire code, e.g. "bad_key"; "internal" for library-only values
 * that a server should never answer with directly. */
const char *smimp_err_code(enum smimp_err e);
/* The HTTP status the spec gives the code (4.4). */
int smimp_err_http_status(enum smimp_err e);

/* Fills err (when not NULL) and returns code, so callers can write
 * `return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST, "...")`. */
enum smimp_err smimp_error_set(struct smimp_error *err, enum smimp_err code,
			       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends context to an existing message: "record 2: <old message>" and
 * returns err->code. err must not be NULL (with NULL there is no code to
 * keep and SMIMP_ERR_INTERNAL is returned). */
enum smimp_err smimp_error_prefix(struct smimp_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif

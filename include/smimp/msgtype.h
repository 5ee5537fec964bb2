/* Message types (spec 12): email, short-message, secret-ed25519,
 * secret-curve25519, secret-xsalsa20, and x-custom-{name} with name
 * [a-z0-9-]{1,64}. Checks type names taken from untrusted input (request
 * bodies, URL path segments, stored envelopes). */
#ifndef SMIMP_MSGTYPE_H
#define SMIMP_MSGTYPE_H

#include <stdbool.h>
#include <stddef.h>

#include "smimp/error.h"

#define SMIMP_MSGTYPE_CUSTOM_PREFIX "x-custom-"
#define SMIMP_MSGTYPE_CUSTOM_NAME_MAX 64
/* Longest type name: "x-custom-" and 64 characters. Buffers are +1. */
#define SMIMP_MSGTYPE_MAX (9 + SMIMP_MSGTYPE_CUSTOM_NAME_MAX)

enum smimp_msgtype {
	SMIMP_MSGTYPE_EMAIL,
	SMIMP_MSGTYPE_SHORT_MESSAGE,
	SMIMP_MSGTYPE_SECRET_ED25519,
	SMIMP_MSGTYPE_SECRET_CURVE25519,
	SMIMP_MSGTYPE_SECRET_XSALSA20,
	SMIMP_MSGTYPE_CUSTOM, /* any x-custom-{name} */
};

/* Classifies s[0..len) (any bytes, NUL included). A name that is none of the
 * types above is SMIMP_ERR_BAD_REQUEST ("unknown message type", 4.4) with
 * the reason in err (which may be NULL); *out is untouched then. */
enum smimp_err smimp_msgtype_parse(enum smimp_msgtype *out, const char *s,
				   size_t len, struct smimp_error *err);

/* True when s[0..len) is a valid type name. */
bool smimp_msgtype_is_valid(const char *s, size_t len);

/* The name of a fixed type ("email", ...); NULL for SMIMP_MSGTYPE_CUSTOM,
 * whose name is the full x-custom-{name} string. */
const char *smimp_msgtype_name(enum smimp_msgtype t);

#endif

/* Message type names (spec 12). Input is an untrusted byte string from a
 * request body, a URL path or a stored envelope; only exact, lower-case
 * names pass. */
#include <string.h>

#include "smimp/msgtype.h"

static const char *const fixed_names[] = {
	[SMIMP_MSGTYPE_EMAIL] = "email",
	[SMIMP_MSGTYPE_SHORT_MESSAGE] = "short-message",
	[SMIMP_MSGTYPE_SECRET_ED25519] = "secret-ed25519",
	[SMIMP_MSGTYPE_SECRET_CURVE25519] = "secret-curve25519",
	[SMIMP_MSGTYPE_SECRET_XSALSA20] = "secret-xsalsa20",
};

const char *smimp_msgtype_name(enum smimp_msgtype t)
{
	if ((size_t)t < sizeof fixed_names / sizeof fixed_names[0])
		return fixed_names[t];
	return NULL;
}

static bool custom_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

enum smimp_err smimp_msgtype_parse(enum smimp_msgtype *out, const char *s,
				   size_t len, struct smimp_error *err)
{
	const size_t plen = sizeof SMIMP_MSGTYPE_CUSTOM_PREFIX - 1;

	if (s == NULL)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "message type missing");
	for (size_t i = 0; i < sizeof fixed_names / sizeof fixed_names[0]; i++) {
		if (len == strlen(fixed_names[i]) &&
		    memcmp(s, fixed_names[i], len) == 0) {
			*out = (enum smimp_msgtype)i;
			return SMIMP_OK;
		}
	}
	if (len > plen && len <= SMIMP_MSGTYPE_MAX &&
	    memcmp(s, SMIMP_MSGTYPE_CUSTOM_PREFIX, plen) == 0) {
		for (size_t i = plen; i < len; i++)
			if (!custom_char(s[i]))
				return smimp_error_set(err,
					SMIMP_ERR_BAD_REQUEST,
					"custom message type name may only hold "
					"a-z, 0-9 and '-'");
		*out = SMIMP_MSGTYPE_CUSTOM;
		return SMIMP_OK;
	}
	return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
			       "unknown message type");
}

bool smimp_msgtype_is_valid(const char *s, size_t len)
{
	enum smimp_msgtype t;

	return smimp_msgtype_parse(&t, s, len, NULL) == SMIMP_OK;
}

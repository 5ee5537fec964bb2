/* Remote users (spec 7.1): the current master key of an address of another
 * domain, found as a client would find it — discovery (4.1), the whole
 * history (5), validated and checked against this server's pin (5.1) —
 * over HTTPS with bounded time and size. Verified answers are cached for a
 * minute. Everything fetched is untrusted. */
#ifndef SMD_FEDERATION_H
#define SMD_FEDERATION_H

#include <stdbool.h>

#include "request.h"
#include "smimp/address.h"
#include "smimp/types.h"

/* Fills *key with the latest master key of address (normal form, of a
 * domain this server does not host); a key verified in the last minute
 * comes from the cache unless fresh. SMIMP_ERR_UPSTREAM when the remote
 * server cannot be reached, answers badly, or its history does not match
 * the pin (the message says which); SMIMP_ERR_INTERNAL for local trouble.
 * It may take up to 10 s: call it only off the I/O threads. */
enum smimp_err smd_federation_key(const struct smd_server *srv, const char *address,
				  struct smimp_sign_pk *key, bool fresh,
				  struct smimp_error *err);

#endif

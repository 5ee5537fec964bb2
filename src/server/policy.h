/* smimpd's policy: the proof-of-work difficulty a sender gets (8, 11.8)
 * and request rate limits per client address and per session (429 with
 * Retry-After). Untrusted input: the client address and the
 * SMIMP-Authentication header value, used only through their hash as keys
 * of rate buckets (in the store when it shares them between nodes, else in
 * memory). */
#ifndef SMD_POLICY_H
#define SMD_POLICY_H

#include <stdbool.h>

#include "config.h"
#include "request.h"
#include "smimp/listpolicy.h"

/* The zero bits get_pow_params hands out: 0 for whitelisted senders, the
 * configured default otherwise (refused senders never get here). */
unsigned smd_policy_pow_bits(const struct smd_config *cfg,
			     enum smimp_list_verdict verdict,
			     const char *recipient, const char *message_type);

/* Takes one token from the request's client-address bucket and, when it
 * carries SMIMP-Authentication, from that session's bucket: the store's
 * shared buckets when it has them (rate_take), else this process's. A
 * store that fails is not an error: this process's buckets stand in.
 * SMIMP_OK, or SMIMP_ERR_RATE_LIMITED with *retry_after seconds to wait. */
enum smimp_err smd_policy_admit(const struct smd_request *req,
				unsigned *retry_after, struct smimp_error *err);

#endif

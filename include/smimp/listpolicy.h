/* Whitelist and blacklist (spec 11.8). An entry is stored by its hash
 * H("smimp/0.1/list-entry", value), value a normalized address or a bare
 * domain; a sender s#d is judged first match wins: address whitelisted,
 * address blacklisted, domain whitelisted, domain blacklisted, default. */
#ifndef SMIMP_LISTPOLICY_H
#define SMIMP_LISTPOLICY_H

#include <stdbool.h>

#include "smimp/error.h"
#include "smimp/types.h"

enum smimp_list_kind {
	SMIMP_LIST_WHITELIST,
	SMIMP_LIST_BLACKLIST,
};

enum smimp_list_verdict {
	SMIMP_LIST_DEFAULT,          /* no entry matched: the default policy */
	SMIMP_LIST_ACCEPT_ADDRESS,   /* address whitelisted: zero proof of work */
	SMIMP_LIST_REFUSE_ADDRESS,   /* address blacklisted: 403 rejected */
	SMIMP_LIST_ACCEPT_DOMAIN,    /* domain whitelisted: zero proof of work */
	SMIMP_LIST_REFUSE_DOMAIN,    /* domain blacklisted: 403 rejected */
};

/* H("smimp/0.1/list-entry", value) of a NUL-terminated value. The value is
 * hashed as given: pass a normal form. */
void smimp_list_entry_hash(struct smimp_hash *out, const char *value);

/* Normalizes a list value (an address, or a bare domain when it has no '#')
 * and hashes it, as a client does before POST whitelist/blacklist.
 * SMIMP_ERR_BAD_REQUEST when it is neither. */
enum smimp_err smimp_list_entry_hash_value(struct smimp_hash *out,
					   const char *value,
					   struct smimp_error *err);

/* Store lookup: sets *listed when `owner`'s list `kind` holds `entry`.
 * Returns SMIMP_OK, or an error (typically SMIMP_ERR_INTERNAL) that the
 * verdict passes on unchanged. */
typedef enum smimp_err (*smimp_list_lookup_fn)(void *ctx, const char *owner,
					       enum smimp_list_kind kind,
					       const struct smimp_hash *entry,
					       bool *listed,
					       struct smimp_error *err);

/* Judges sender (normalized address) against owner's lists, first match wins,
 * with at most four lookups. SMIMP_ERR_BAD_REQUEST when sender has no '#'. */
enum smimp_err smimp_list_verdict(enum smimp_list_verdict *out,
				  const char *owner, const char *sender,
				  smimp_list_lookup_fn lookup, void *ctx,
				  struct smimp_error *err);

/* True for the two refusing verdicts. */
bool smimp_list_verdict_refuses(enum smimp_list_verdict v);
/* True for the two accepting verdicts (zero proof of work). */
bool smimp_list_verdict_accepts(enum smimp_list_verdict v);

#endif

/* Whitelist/blacklist entry hashes and the first-match-wins verdict (11.8).
 * The sender address comes from a session (already normalized); list
 * values come from clients and are normalized here before hashing. */
#include <string.h>

#include "smimp/address.h"
#include "smimp/hash.h"
#include "smimp/listpolicy.h"

void smimp_list_entry_hash(struct smimp_hash *out, const char *value)
{
	struct smimp_field f = smimp_text(value);

	smimp_hash_fields(out, SMIMP_LABEL_LIST_ENTRY, &f, 1);
}

enum smimp_err smimp_list_entry_hash_value(struct smimp_hash *out,
					   const char *value,
					   struct smimp_error *err)
{
	char addr[SMIMP_ADDRESS_MAX + 1];
	char dom[SMIMP_DOMAIN_MAX + 1];
	enum smimp_err e;

	if (value == NULL)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "list value missing");
	if (strchr(value, '#') != NULL) {
		e = smimp_address_normalize_str(addr, value, err);
		if (e == SMIMP_OK)
			smimp_list_entry_hash(out, addr);
		return e;
	}
	e = smimp_address_domain_normalize(dom, value, strlen(value), err);
	if (e == SMIMP_OK)
		smimp_list_entry_hash(out, dom);
	return e;
}

static enum smimp_err listed(bool *out, const char *owner,
			     enum smimp_list_kind kind, const char *value,
			     smimp_list_lookup_fn lookup, void *ctx,
			     struct smimp_error *err)
{
	struct smimp_hash h;

	*out = false;
	smimp_list_entry_hash(&h, value);
	return lookup(ctx, owner, kind, &h, out, err);
}

enum smimp_err smimp_list_verdict(enum smimp_list_verdict *out,
				  const char *owner, const char *sender,
				  smimp_list_lookup_fn lookup, void *ctx,
				  struct smimp_error *err)
{
	static const struct {
		bool domain;
		enum smimp_list_kind kind;
		enum smimp_list_verdict verdict;
	} order[] = {
		{false, SMIMP_LIST_WHITELIST, SMIMP_LIST_ACCEPT_ADDRESS},
		{false, SMIMP_LIST_BLACKLIST, SMIMP_LIST_REFUSE_ADDRESS},
		{true, SMIMP_LIST_WHITELIST, SMIMP_LIST_ACCEPT_DOMAIN},
		{true, SMIMP_LIST_BLACKLIST, SMIMP_LIST_REFUSE_DOMAIN},
	};
	const char *domain;
	enum smimp_err e;
	bool hit;

	*out = SMIMP_LIST_DEFAULT;
	if (sender == NULL || (domain = smimp_address_domain(sender)) == NULL)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "sender is not an address");
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		e = listed(&hit, owner, order[i].kind,
			   order[i].domain ? domain : sender, lookup, ctx, err);
		if (e != SMIMP_OK)
			return e;
		if (hit) {
			*out = order[i].verdict;
			return SMIMP_OK;
		}
	}
	return SMIMP_OK;
}

bool smimp_list_verdict_refuses(enum smimp_list_verdict v)
{
	return v == SMIMP_LIST_REFUSE_ADDRESS || v == SMIMP_LIST_REFUSE_DOMAIN;
}

bool smimp_list_verdict_accepts(enum smimp_list_verdict v)
{
	return v == SMIMP_LIST_ACCEPT_ADDRESS || v == SMIMP_LIST_ACCEPT_DOMAIN;
}

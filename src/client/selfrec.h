/* The account's own identity records (spec 5, 11.4): fetching its own
 * history through the pin store, and building record N+1 from the latest
 * record with some members changed (profile set) or a new master key
 * (rotate-master-key). Untrusted input: the history answer (validated and
 * checked against the pin by resolve.c). */
#ifndef SMC_SELFREC_H
#define SMC_SELFREC_H

#include <stdbool.h>
#include <jansson.h>

#include "smimp/record.h"

#include "account.h"
#include "cli.h"
#include "resolve.h"

/* What a new record changes; a NULL/false member keeps the latest value. */
struct smc_record_changes {
	const struct smimp_sign_pk *public_key;  /* new master key */
	bool set_name;
	const char *name;                 /* NULL: null */
	bool set_website;
	const char *website;              /* NULL: null */
	bool set_profiles;                /* replace the list with these */
	const char *const *profiles;
	size_t n_profiles;
	bool set_additional;
	const json_t *additional;         /* NULL: null */
};

/* The own history of a's account, validated and pinned (full fetch);
 * release it with smc_identity_free. Callers check whose key is latest. */
int smc_selfrec_history(struct smc_ctx *c, struct smc_account *a,
			struct smc_identity *id, struct smc_err *e);

/* Builds record latest+1 of h with ch applied, changed_at = max(now or
 * at, latest's changed_at), signed by signer (the latest key's secret). */
int smc_selfrec_build_next(const struct smimp_history *h,
			   const struct smc_record_changes *ch, int64_t at,
			   const struct smimp_sign_sk *signer,
			   struct smimp_record *out, struct smc_err *e);

/* POST update_profile with body (which holds "record" and possibly keys)
 * in a's session. A 409 is answered by fetching the history again: when
 * its latest record is rec (a retry of a call whose answer was lost), the
 * call counts as done. */
int smc_selfrec_post(struct smc_ctx *c, struct smc_account *a,
		     const json_t *body, const struct smimp_record *rec,
		     struct smc_err *e);

#endif

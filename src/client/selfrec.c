/* The account's own identity records (see selfrec.h). */
#include <stdlib.h>
#include <string.h>

#include "smimp/key.h"
#include "smimp/timestamp.h"

#include "selfrec.h"

int smc_selfrec_history(struct smc_ctx *c, struct smc_account *a,
			struct smc_identity *id, struct smc_err *e)
{
	struct smc_resolver r;

	if (smc_ctx_resolver(c, &r, e) != 0 ||
	    smc_resolve_identity(&r, a->ks->address, SMC_RESOLVE_FULL, id,
				 e) != 0)
		return smc_fail_prefix(e, "own identity");
	return 0;
}

int smc_selfrec_build_next(const struct smimp_history *h,
			   const struct smc_record_changes *ch, int64_t at,
			   const struct smimp_sign_sk *signer,
			   struct smimp_record *out, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	const struct smimp_record *last = smimp_history_latest(h);
	struct smimp_record_values v;
	const char **prof = NULL;
	size_t np = 0;
	int rc = -1;

	memset(&v, 0, sizeof v);
	v.address = last->address;
	v.public_key = ch->public_key != NULL ? ch->public_key
					      : &last->public_key;
	v.previous = &last->signed_hash;
	v.seq = last->seq + 1;
	if (at <= 0)
		at = smimp_timestamp_now();
	v.changed_at = at < last->changed_at ? last->changed_at : at;
	v.name = ch->set_name ? ch->name : last->name;
	v.website = ch->set_website ? ch->website : last->website;
	if (ch->set_profiles) {
		v.profiles = ch->profiles;
		v.n_profiles = ch->n_profiles;
	} else if (last->profiles != NULL) {
		json_t *p;
		size_t i;

		prof = calloc(json_array_size(last->profiles) + 1,
			      sizeof *prof);
		if (prof == NULL)
			return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		json_array_foreach(last->profiles, i, p)
			prof[np++] = json_string_value(p);
		v.profiles = prof;
		v.n_profiles = np;
	}
	v.additional = ch->set_additional ? ch->additional : last->additional;
	if (smimp_record_build(out, &v, signer, &le) != SMIMP_OK)
		smc_fail(e, SMC_EXIT_DATAERR, "the new record is refused: %s",
			 le.message);
	else
		rc = 0;
	free(prof);
	return rc;
}

int smc_selfrec_post(struct smc_ctx *c, struct smc_account *a,
		     const json_t *body, const struct smimp_record *rec,
		     struct smc_err *e)
{
	struct smc_identity id;
	const struct smimp_record *last;
	int same;

	if (smc_api_call(c->t, &a->server, &a->session, SMC_POST,
			 "update_profile", body, 64 * 1024, NULL, e) == 0)
		return 0;
	if (e->http_status != 409)
		return smc_fail_prefix(e, "update_profile");
	smc_say(c, "the server refused the record as not extending the "
		"history; checking whether an earlier attempt got it there");
	if (smc_selfrec_history(c, a, &id, e) != 0)
		return -1;
	last = smimp_history_latest(&id.history);
	same = last->seq == rec->seq &&
	       smimp_signed_hash_equal(&last->signed_hash, &rec->signed_hash);
	smc_identity_free(&id);
	if (!same)
		return smc_fail(e, SMC_EXIT_REFUSED, "update_profile: the "
				"server's history moved on (another client "
				"changed it?); run the command again");
	smc_say(c, "the record is already there: done");
	return 0;
}

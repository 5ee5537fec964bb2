/* smimp pins: list, show and forget the pins of resolved identities
 * (spec 5.1). Reads only the local pin store. */
#include <stdio.h>
#include <string.h>

#include "smimp/address.h"
#include "smimp/hex.h"
#include "smimp/timestamp.h"

#include "cli.h"
#include "pins.h"

static void print_entry(const struct smc_pin_entry *pe, int detail)
{
	char pk[65], first_pk[65], sh[193], first_sh[193];
	char seen[SMIMP_TIMESTAMP_LEN + 1], upd[SMIMP_TIMESTAMP_LEN + 1];

	smimp_hex_encode(pk, sizeof pk, pe->pin.latest_public_key.b, 32);
	smimp_timestamp_format(seen, pe->first_seen);
	smimp_timestamp_format(upd, pe->updated_at);
	if (!detail) {
		printf("%s\tseq %lld\t%s\t%s\n", pe->pin.address,
		       (long long)pe->pin.latest_seq, pk, upd);
		return;
	}
	smimp_hex_encode(first_pk, sizeof first_pk,
			 pe->pin.first_public_key.b, 32);
	smimp_hex_encode(sh, sizeof sh, pe->pin.latest_signed_hash.b, 96);
	smimp_hex_encode(first_sh, sizeof first_sh,
			 pe->pin.first_signed_hash.b, 96);
	printf("%s\n"
	       "  current key         %s\n"
	       "  latest record       seq %lld\n"
	       "  latest signed_hash  %s\n"
	       "  first key           %s\n"
	       "  first signed_hash   %s\n"
	       "  first seen          %s UTC\n"
	       "  pin last moved      %s UTC\n",
	       pe->pin.address, pk, (long long)pe->pin.latest_seq, sh,
	       first_pk, first_sh, seen, upd);
}

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	char addr[SMIMP_ADDRESS_MAX + 1];
	struct smc_args sa;
	struct smc_pins pins = {0, NULL};
	const struct smc_pin_entry *pe;
	int rc;

	rc = smc_args_parse(c, argc, argv, NULL, 2, &sa, e);
	if (rc != 0)
		return rc;
	rc = -1;
	if (smc_ctx_home(c, e) != 0)
		return -1;
	if (sa.npos >= 1 && strcmp(sa.pos[0], "forget") == 0) {
		if (sa.npos != 2)
			return smc_fail(e, SMC_EXIT_USAGE,
					"forget needs an ADDRESS");
		if (smimp_address_normalize_str(addr, sa.pos[1], &le) !=
		    SMIMP_OK)
			return smc_fail(e, SMC_EXIT_DATAERR, "%s", le.message);
		if (smc_pins_forget(&c->home, addr, e) != 0)
			return -1;
		smc_say(c, "forgot the pin of %s; the next contact trusts what "
			"its server then shows", addr);
		return 0;
	}
	if (sa.npos == 2)
		return smc_opt_unexpected(sa.pos[1], e);
	if (sa.npos == 1 &&
	    smimp_address_normalize_str(addr, sa.pos[0], &le) != SMIMP_OK)
		return smc_fail(e, SMC_EXIT_DATAERR, "%s", le.message);
	if (smc_pins_load(&c->home, &pins, e) != 0)
		return -1;
	if (sa.npos == 1) {
		pe = smc_pins_find(&pins, addr);
		if (pe == NULL) {
			smc_fail(e, SMC_EXIT_NOINPUT,
				 "no pin for %s (smimp whois %s makes one)",
				 addr, addr);
			goto out;
		}
		if (c->json) {
			json_t *o = smc_pin_entry_to_json(pe);

			rc = o != NULL ? smc_print_json(o, e)
				       : smc_fail(e, SMC_EXIT_SOFTWARE, "oom");
			json_decref(o);
			goto out;
		}
		print_entry(pe, 1);
		rc = 0;
		goto out;
	}
	if (c->json) {
		json_t *a = json_array();

		for (size_t i = 0; a != NULL && i < pins.n; i++)
			json_array_append_new(a,
					      smc_pin_entry_to_json(&pins.v[i]));
		rc = a != NULL ? smc_print_json(a, e)
			       : smc_fail(e, SMC_EXIT_SOFTWARE, "oom");
		json_decref(a);
		goto out;
	}
	for (size_t i = 0; i < pins.n; i++)
		print_entry(&pins.v[i], 0);
	rc = 0;
out:
	smc_pins_free(&pins);
	return rc;
}

const struct smc_command smc_cmd_pins = {
	"pins", "[--json] [ADDRESS | forget ADDRESS]",
	"List, show or forget the pinned identities (trust on first use).",
	"\nA pin is what smimp remembers of an identity the first time it sees\n"
	"it: the first record and the latest record it has verified. Every\n"
	"later contact must extend that history; a truncated, forked or\n"
	"replaced history is refused.\n\n"
	"  smimp pins                 one line per pin: address, latest seq,\n"
	"                             current key, when the pin last moved (UTC)\n"
	"  smimp pins ADDRESS         everything pinned for ADDRESS\n"
	"  smimp pins forget ADDRESS  drop the pin, so that the next contact\n"
	"                             trusts whatever the server then shows; do\n"
	"                             this only after the owner confirmed, out\n"
	"                             of band, that the account was reset\n\n"
	"  --json                     the pins as JSON (pin members plus\n"
	"                             first_seen and updated_at)\n",
	run,
};

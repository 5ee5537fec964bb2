/* smimp keys [status | refill [N] | rotate | maintain | import ID]: the
 * account's message keys, locally and on its server, and their upkeep
 * (keymaint.c; import in keyimport.c). Untrusted input: the server's key
 * lists, checked in keymaint.c. */
#include <stdio.h>
#include <string.h>

#include "smimp/hex.h"
#include "smimp/timestamp.h"

#include "account.h"
#include "cli.h"
#include "keyimport.h"
#include "keymaint.h"

struct local_counts {
	size_t eph_pending, eph_uploaded, eph_discarded;
	size_t ne_pending, ne_discarded;
	const struct smc_ks_key *ne;
};

static void count_local(const struct smc_keystore *ks, struct local_counts *l)
{
	memset(l, 0, sizeof *l);
	for (size_t i = 0; i < ks->n_ephemeral; i++) {
		const struct smc_ks_key *k = &ks->ephemeral[i];

		if (k->discarded_at != 0)
			l->eph_discarded++;
		else if (k->uploaded_at == 0)
			l->eph_pending++;
		else
			l->eph_uploaded++;
	}
	for (size_t i = 0; i < ks->n_nonephemeral; i++) {
		const struct smc_ks_key *k = &ks->nonephemeral[i];

		if (k->discarded_at != 0)
			l->ne_discarded++;
		else if (k->uploaded_at == 0)
			l->ne_pending++;
	}
	l->ne = smc_keystore_current_nonephemeral(ks);
}

static void age_text(char *out, size_t n, int64_t secs)
{
	if (secs < 0)
		secs = 0;
	if (secs < 3600)
		snprintf(out, n, "%lld min", (long long)(secs / 60));
	else if (secs < 2 * 86400)
		snprintf(out, n, "%lld h", (long long)(secs / 3600));
	else
		snprintf(out, n, "%lld days", (long long)(secs / 86400));
}

static int status(struct smc_ctx *c, struct smc_account *a, struct smc_err *e)
{
	struct smc_server_keys sk;
	struct local_counts l;
	char ne_hex[65], age[32], cur_hex[65] = "", created[SMIMP_TIMESTAMP_LEN + 1] = "";
	int64_t ne_age = -1;
	int rc;

	if (smc_keys_fetch_server(c, a, &sk, e) != 0)
		return -1;
	count_local(a->ks, &l);
	smimp_hex_encode(ne_hex, sizeof ne_hex, sk.ne.b, 32);
	if (l.ne != NULL) {
		ne_age = smimp_timestamp_now() - l.ne->created_at;
		smimp_hex_encode(cur_hex, sizeof cur_hex, l.ne->kp.pk.b, 32);
		smimp_timestamp_format(created, l.ne->created_at);
	}
	age_text(age, sizeof age, ne_age);
	if (c->json) {
		json_t *o = json_pack(
			"{s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:I},"
			" s:{s:I, s:I, s:I, s:s, s:b, s:b}}",
			"address", a->ks->address, "base_url", a->ks->base_url,
			"local",
			"ephemeral", (json_int_t)(l.eph_pending + l.eph_uploaded),
			"ephemeral_uploaded", (json_int_t)l.eph_uploaded,
			"ephemeral_not_uploaded", (json_int_t)l.eph_pending,
			"ephemeral_discarded", (json_int_t)l.eph_discarded,
			"nonephemeral_discarded", (json_int_t)l.ne_discarded,
			"nonephemeral_key", cur_hex,
			"nonephemeral_created_at", created,
			"nonephemeral_age_seconds", (json_int_t)ne_age,
			"server",
			"ephemeral_unissued", (json_int_t)sk.unissued,
			"ephemeral_unissued_ours", (json_int_t)sk.n_ours,
			"ephemeral_foreign", (json_int_t)sk.foreign,
			"nonephemeral_key", ne_hex,
			"nonephemeral_ours", sk.ne_known,
			"nonephemeral_current", sk.ne_current);

		rc = o != NULL ? smc_print_json(o, e)
			       : smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		json_decref(o);
	} else {
		printf("%s (%s)\n"
		       "  ephemeral keys      %zu held locally: %zu uploaded, "
		       "%zu not uploaded yet\n"
		       "                      %zu discarded (issued), kept 30 "
		       "days for messages on their way\n"
		       "  on the server       %zu not issued yet%s\n"
		       "  non-ephemeral key   %s, made %s UTC (%s old)%s\n"
		       "                      %zu earlier one(s) kept 30 days\n"
		       "  server hands out    %s (%s)\n",
		       a->ks->address, a->ks->base_url,
		       l.eph_pending + l.eph_uploaded, l.eph_uploaded,
		       l.eph_pending, l.eph_discarded, sk.unissued,
		       sk.unissued < SMC_KEYMAINT_LOW
			       ? " (low: smimp keys refill)" : "",
		       cur_hex[0] ? cur_hex : "none", created, age,
		       ne_age > SMC_KEYMAINT_NEPH_MAX_AGE
			       ? " (due: smimp keys rotate)" : "",
		       l.ne_discarded, ne_hex,
		       sk.ne_current ? "current, ours"
		       : sk.ne_known ? "an earlier key of ours: a rotation did "
				       "not finish, run smimp keys rotate"
				     : "NOT one of our keys");
		rc = 0;
	}
	if (rc == 0 && (sk.foreign > 0 || !sk.ne_known))
		rc = smc_fail(e, SMC_EXIT_PROTOCOL,
			      "the server lists %zu ephemeral key(s) that are "
			      "not ours%s; smimp keys refill replaces them",
			      sk.foreign, sk.ne_known ? ""
			      : " and a non-ephemeral key that is not ours");
	smc_server_keys_free(&sk);
	return rc;
}

static int refill(struct smc_ctx *c, struct smc_account *a, size_t n,
		  struct smc_err *e)
{
	struct smc_refill_result r;

	if (smc_keys_refill(c, a, n, &r, e) != 0)
		return -1;
	if (c->json) {
		json_t *o = json_pack("{s:I, s:I, s:I}", "added",
				      (json_int_t)r.added, "unissued",
				      (json_int_t)r.sent, "discarded",
				      (json_int_t)r.discarded);
		int rc = o != NULL ? smc_print_json(o, e)
				   : smc_fail(e, SMC_EXIT_SOFTWARE, "oom");

		json_decref(o);
		return rc;
	}
	printf("%zu new ephemeral keys; the server now holds %zu unissued "
	       "keys of %s.\n%zu issued key(s) marked discarded (secrets kept "
	       "30 days).\n", r.added, r.sent, a->ks->address, r.discarded);
	return 0;
}

static int rotate(struct smc_ctx *c, struct smc_account *a, struct smc_err *e)
{
	const struct smc_ks_key *k;
	char hex[65];

	if (smc_keys_rotate_nonephemeral(c, a, e) != 0)
		return -1;
	k = smc_keystore_current_nonephemeral(a->ks);
	smimp_hex_encode(hex, sizeof hex, k->kp.pk.b, 32);
	if (c->json) {
		json_t *o = json_pack("{s:s}", "nonephemeral_key", hex);
		int rc = o != NULL ? smc_print_json(o, e)
				   : smc_fail(e, SMC_EXIT_SOFTWARE, "oom");

		json_decref(o);
		return rc;
	}
	printf("new non-ephemeral key of %s: %s\n(the earlier one's secret is "
	       "kept 30 days for messages on their way)\n", a->ks->address,
	       hex);
	return 0;
}

static int maintain(struct smc_ctx *c, struct smc_account *a,
		    struct smc_err *e)
{
	struct smc_keymaint_report r;

	if (smc_keymaint_auto(c, a, &r, e) != 0)
		return -1;
	if (c->json) {
		json_t *o = json_pack("{s:I, s:I, s:b}", "unissued_before",
				      (json_int_t)r.unissued_before, "refilled",
				      (json_int_t)r.refilled, "rotated",
				      r.rotated);
		int rc = o != NULL ? smc_print_json(o, e)
				   : smc_fail(e, SMC_EXIT_SOFTWARE, "oom");

		json_decref(o);
		return rc;
	}
	printf("%zu unissued ephemeral keys on the server; %s; %s.\n",
	       r.unissued_before,
	       r.refilled ? "refilled" : "no refill needed",
	       r.rotated ? "non-ephemeral key replaced"
			 : "non-ephemeral key is fresh");
	if (r.refilled)
		printf("added %zu ephemeral keys\n", r.refilled);
	return 0;
}

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct smc_args sa;
	const char *sub;
	struct smc_account a;
	size_t n = SMC_KEYMAINT_TARGET;
	int rc;

	rc = smc_args_parse(c, argc, argv, NULL, 3, &sa, e);
	if (rc != 0)
		return rc;
	sub = sa.npos > 0 ? sa.pos[0] : "status";
	if (strcmp(sub, "status") == 0 || strcmp(sub, "rotate") == 0 ||
	    strcmp(sub, "maintain") == 0) {
		if (sa.npos > 1)
			return smc_fail(e, SMC_EXIT_USAGE, "keys %s takes no "
					"argument", sub);
	} else if (strcmp(sub, "refill") == 0) {
		if (sa.npos > 2)
			return smc_fail(e, SMC_EXIT_USAGE, "keys refill [N]");
		if (sa.npos == 2) {
			long v;

			if (smc_parse_long(sa.pos[1], 1,
					   SMC_KEYMAINT_MAX_REFILL, &v) != 0)
				return smc_fail(e, SMC_EXIT_USAGE,
						"N must be 1 to %d",
						SMC_KEYMAINT_MAX_REFILL);
			n = (size_t)v;
		}
	} else if (strcmp(sub, "import") == 0) {
		if (sa.npos != 2)
			return smc_fail(e, SMC_EXIT_USAGE,
					"keys import MESSAGE_ID");
	} else {
		return smc_fail(e, SMC_EXIT_USAGE, "unknown keys subcommand "
				"%.100s (status, refill, rotate, maintain, "
				"import)", sub);
	}
	if (smc_account_open(c, &a, e) != 0)
		return -1;
	rc = -1;
	if (smc_account_login(c, &a, e) != 0)
		goto out;
	if (strcmp(sub, "status") == 0)
		rc = status(c, &a, e);
	else if (strcmp(sub, "refill") == 0)
		rc = refill(c, &a, n, e);
	else if (strcmp(sub, "rotate") == 0)
		rc = rotate(c, &a, e);
	else if (strcmp(sub, "maintain") == 0)
		rc = maintain(c, &a, e);
	else
		rc = smc_keyimport_run(c, &a, sa.pos[1], e);
out:
	smc_account_close(c, &a);
	return rc;
}

const struct smc_command smc_cmd_keys = {
	"keys", "[status | refill [N] | rotate | maintain | import ID] [--json]",
	"Show and look after the account's message keys.",
	"\nkeys, keys status\n"
	"    Logs in and compares the keys held locally (ephemeral keys\n"
	"    uploaded, not uploaded yet, and discarded ones kept 30 days; the\n"
	"    non-ephemeral key and its age) with what the server holds (the\n"
	"    ephemeral keys not issued yet, the non-ephemeral key it hands\n"
	"    out). Every key the server lists must be signed by the account's\n"
	"    master key and be one whose secret the keystore holds; otherwise\n"
	"    the command fails (exit 76).\n"
	"keys refill [N]\n"
	"    Makes N new ephemeral keys (default 50, at most 10000), saves them\n"
	"    in the keystore first, then replaces the server's unissued keys\n"
	"    with the ones it still lists plus the new ones. Keys the server no\n"
	"    longer lists were issued to senders: they are marked discarded and\n"
	"    their secrets kept 30 days. A failed upload loses nothing: the next\n"
	"    refill sends the new keys again.\n"
	"keys rotate\n"
	"    Replaces the non-ephemeral key (the one senders get when the\n"
	"    ephemeral keys run out): the new key is saved first, then\n"
	"    uploaded; the earlier secret is kept 30 days. When an earlier\n"
	"    rotate got no answer, its key is sent again.\n"
	"keys maintain\n"
	"    What other commands do after login: refill to 50 when the server\n"
	"    holds fewer than 20 unissued keys, and rotate the non-ephemeral\n"
	"    key when it is older than 7 days.\n"
	"keys import ID\n"
	"    Fetches received message ID (a secret-ed25519, secret-curve25519\n"
	"    or secret-xsalsa20 message), verifies the sender and the message\n"
	"    hash, decrypts it and imports the key into the account's store of\n"
	"    imported secrets (HOME/accounts/ADDRESS/imported, encrypted with\n"
	"    the keystore's key). Nothing is imported without this command.\n\n"
	"  --json   print the result as JSON\n",
	run,
};

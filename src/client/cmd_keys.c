/* smimp keys: the state of the account's message keys, locally and on its
 * server (GET ephemeral_keys and nonephemeral_key in a session). Every key
 * the server lists is checked: signed by our master key for our address,
 * and one whose secret we hold. Untrusted input: the server's key lists. */
#include <stdio.h>
#include <string.h>

#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/msgkey.h"

#include "account.h"
#include "cli.h"

struct server_keys {
	size_t unissued;     /* ephemeral keys the server still holds */
	size_t foreign;      /* of those, keys that are not ours or badly signed */
	int ne_ok;           /* the non-ephemeral key is our current one */
	char ne_hex[65];
};

static const struct smc_ks_key *find_key(const struct smc_ks_key *v, size_t n,
					 const struct smimp_box_pk *pk)
{
	for (size_t i = 0; i < n; i++)
		if (smimp_box_pk_equal(&v[i].kp.pk, pk))
			return &v[i];
	return NULL;
}

/* 0 when mk verifies for us and is one of our keys of that kind. */
static int key_is_ours(const struct smc_keystore *ks,
		       const struct smimp_msgkey *mk, int kind)
{
	struct smimp_error le;

	if (smimp_msgkey_verify(mk, ks->address, &ks->master.kp.pk, kind,
				&le) != SMIMP_OK)
		return -1;
	if (kind == SMIMP_MSGKEY_EPHEMERAL)
		return find_key(ks->ephemeral, ks->n_ephemeral, &mk->key) != NULL
			       ? 0 : -1;
	return find_key(ks->nonephemeral, ks->n_nonephemeral, &mk->key) != NULL
		       ? 0 : -1;
}

static int fetch_server_keys(struct smc_ctx *c, struct smc_account *a,
			     struct server_keys *sk, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	const struct smc_ks_key *cur = smc_keystore_current_nonephemeral(a->ks);
	struct smimp_msgkey mk;
	json_t *ans = NULL, *list, *v;
	size_t i;

	memset(sk, 0, sizeof *sk);
	if (smc_api_call(c->t, &a->server, &a->session, SMC_GET,
			 "ephemeral_keys", NULL, SMC_API_MAX_RESPONSE, &ans,
			 e) != 0)
		return smc_fail_prefix(e, "ephemeral keys");
	list = json_object_get(ans, "keys");
	if (!json_is_array(list)) {
		json_decref(ans);
		return smc_fail(e, SMC_EXIT_PROTOCOL,
				"ephemeral_keys: the answer has no key list");
	}
	json_array_foreach(list, i, v) {
		sk->unissued++;
		if (smimp_msgkey_from_json(&mk, v, &le) != SMIMP_OK ||
		    key_is_ours(a->ks, &mk, SMIMP_MSGKEY_EPHEMERAL) != 0)
			sk->foreign++;
	}
	json_decref(ans);
	ans = NULL;
	if (smc_api_call(c->t, &a->server, &a->session, SMC_GET,
			 "nonephemeral_key", NULL, 64 * 1024, &ans, e) != 0)
		return smc_fail_prefix(e, "non-ephemeral key");
	if (smimp_msgkey_from_json(&mk, json_object_get(ans, "message_key"),
				   &le) != SMIMP_OK) {
		json_decref(ans);
		return smc_fail(e, SMC_EXIT_PROTOCOL,
				"nonephemeral_key: %s", le.message);
	}
	json_decref(ans);
	smimp_hex_encode(sk->ne_hex, sizeof sk->ne_hex, mk.key.b, 32);
	sk->ne_ok = key_is_ours(a->ks, &mk, SMIMP_MSGKEY_NONEPHEMERAL) == 0 &&
		    cur != NULL && smimp_box_pk_equal(&cur->kp.pk, &mk.key);
	return 0;
}

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct smc_optstate st = {argc, argv, 0, 0};
	struct smc_account a;
	struct server_keys sk;
	size_t live, uploaded, discarded;
	const char *arg;
	int k, rc = -1;

	while ((k = smc_opt_next(c, &st, NULL, &arg, e)) != SMC_OPT_END) {
		if (k == SMC_OPT_HELP)
			return SMC_OPT_HELP;
		if (k == SMC_OPT_ERR)
			return -1;
		return smc_fail(e, SMC_EXIT_USAGE, "unexpected argument %.100s "
				"(refill, rotate and import are still to come)",
				arg);
	}
	if (smc_account_open(c, &a, e) != 0)
		return -1;
	if (smc_account_login(c, &a, e) != 0 ||
	    fetch_server_keys(c, &a, &sk, e) != 0)
		goto out;
	smc_keystore_count_ephemeral(a.ks, &live, &uploaded);
	discarded = a.ks->n_ephemeral - live;
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s, s:{s:I, s:I, s:I}, "
				      "s:{s:I, s:I, s:s, s:b}}",
				      "address", a.ks->address,
				      "base_url", a.ks->base_url, "local",
				      "ephemeral", (json_int_t)live,
				      "ephemeral_uploaded", (json_int_t)uploaded,
				      "ephemeral_discarded", (json_int_t)discarded,
				      "server", "ephemeral_unissued",
				      (json_int_t)sk.unissued,
				      "ephemeral_foreign", (json_int_t)sk.foreign,
				      "nonephemeral_key", sk.ne_hex,
				      "nonephemeral_current", sk.ne_ok);

		rc = o != NULL ? smc_print_json(o, e)
			       : smc_fail(e, SMC_EXIT_SOFTWARE, "oom");
		json_decref(o);
	} else {
		printf("%s (%s)\n"
		       "  ephemeral keys      %zu held locally (%zu uploaded), "
		       "%zu discarded kept for 30 days\n"
		       "  on the server       %zu not issued yet\n"
		       "  non-ephemeral key   %s (%s)\n",
		       a.ks->address, a.ks->base_url, live, uploaded, discarded,
		       sk.unissued, sk.ne_hex,
		       sk.ne_ok ? "current, ours" : "NOT our current key");
		rc = 0;
	}
	if (rc == 0 && (sk.foreign > 0 || !sk.ne_ok)) {
		rc = smc_fail(e, SMC_EXIT_PROTOCOL,
			      "the server lists %zu ephemeral key(s) that are "
			      "not ours%s", sk.foreign,
			      sk.ne_ok ? "" : " and a non-ephemeral key that "
			      "is not our current one");
	}
out:
	smc_account_close(c, &a);
	return rc;
}

const struct smc_command smc_cmd_keys = {
	"keys", "[--json]",
	"Show the account's message keys, locally and on its server.",
	"\nOpens the keystore, logs in to the account's server and compares:\n"
	"the ephemeral keys held locally (uploaded or not, and discarded ones\n"
	"kept 30 days), the ephemeral keys the server has not issued yet, and\n"
	"the non-ephemeral key it hands out. Every key the server lists must be\n"
	"signed by the account's master key and be one whose secret the\n"
	"keystore holds; otherwise the command fails (exit 76).\n\n"
	"  --json   the same as JSON\n\n"
	"Still to come: keys refill [N], keys rotate, keys import ID.\n",
	run,
};

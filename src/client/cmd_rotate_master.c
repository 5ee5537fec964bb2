/* smimp rotate-master-key (spec 11.4): a new master key, published as
 * record N+1 signed by the old key, with a new non-ephemeral key and a
 * batch of ephemeral keys signed by the new key, in one update_profile.
 *
 * Crash safety: the keystore as it will be after the rotation (new master
 * current, the old one kept among old_masters, old message keys discarded
 * but kept 30 days, the new message keys) is written first to
 * HOME/accounts/ADDRESS/keystore.rotating, encrypted like the keystore.
 * Only after the server's 200 (or, when the answer was lost, after the
 * published history shows the new key) does it replace the keystore.
 * Running the command again resumes an interrupted rotation. Untrusted
 * input: the server's answers and the own history (validated, pinned). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smimp/hex.h"
#include "smimp/key.h"
#include "smimp/timestamp.h"

#include "fsutil.h"
#include "keymaint.h"
#include "passphrase.h"
#include "selfrec.h"

#define DEFAULT_EPHEMERAL 50

/* A deep copy of ks in secret memory. */
static struct smc_keystore *ks_clone(const struct smc_keystore *ks)
{
	struct smc_keystore *n = smc_secret_alloc(sizeof *n);

	if (n == NULL)
		return NULL;
	memcpy(n, ks, sizeof *n);
	n->lock_fd = -1; /* the lock stays with ks */
	n->old_masters = NULL;
	n->nonephemeral = NULL;
	n->ephemeral = NULL;
	n->cap_nonephemeral = n->cap_ephemeral = 0;
	n->old_masters = smc_secret_alloc((ks->n_old_masters + 1) *
					  sizeof *n->old_masters);
	n->nonephemeral = smc_secret_alloc((ks->n_nonephemeral + 1) *
					   sizeof *n->nonephemeral);
	n->ephemeral = smc_secret_alloc((ks->n_ephemeral + 1) *
					sizeof *n->ephemeral);
	if (n->old_masters == NULL || n->nonephemeral == NULL ||
	    n->ephemeral == NULL) {
		smc_keystore_free(n);
		return NULL;
	}
	if (ks->n_old_masters)
		memcpy(n->old_masters, ks->old_masters,
		       ks->n_old_masters * sizeof *n->old_masters);
	if (ks->n_nonephemeral)
		memcpy(n->nonephemeral, ks->nonephemeral,
		       ks->n_nonephemeral * sizeof *n->nonephemeral);
	if (ks->n_ephemeral)
		memcpy(n->ephemeral, ks->ephemeral,
		       ks->n_ephemeral * sizeof *n->ephemeral);
	n->cap_nonephemeral = ks->n_nonephemeral + 1;
	n->cap_ephemeral = ks->n_ephemeral + 1;
	return n;
}

/* The keystore after the rotation, saved to rot_path. */
static int make_rotated(const struct smc_keystore *ks, const char *rot_path,
			size_t n_eph, struct smc_keystore **out,
			struct smc_err *e)
{
	struct smc_keystore *n = ks_clone(ks);
	int64_t now = smimp_timestamp_now();
	size_t idx, first;

	*out = NULL;
	if (n == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	/* old_masters has room for one more (ks_clone). */
	n->old_masters[n->n_old_masters] = ks->master;
	n->old_masters[n->n_old_masters].replaced_at = now;
	n->n_old_masters++;
	smimp_sign_keypair_generate(&n->master.kp);
	n->master.created_at = now;
	n->master.replaced_at = 0;
	/* The server drops every message key signed by the old master in
	 * the same transaction: keep the secrets 30 days for mail in flight. */
	for (size_t i = 0; i < n->n_nonephemeral; i++)
		if (n->nonephemeral[i].discarded_at == 0)
			n->nonephemeral[i].discarded_at = now;
	for (size_t i = 0; i < n->n_ephemeral; i++)
		if (n->ephemeral[i].discarded_at == 0)
			n->ephemeral[i].discarded_at = now;
	if (smc_keystore_add_nonephemeral(n, &idx, e) != 0 ||
	    smc_keystore_add_ephemeral(n, n_eph, &first, e) != 0)
		goto fail;
	/* Marked uploaded: this keystore only becomes the real one once the
	 * server has them. */
	n->nonephemeral[idx].uploaded_at = now;
	for (size_t i = first; i < n->n_ephemeral; i++)
		n->ephemeral[i].uploaded_at = now;
	if (strlen(rot_path) >= sizeof n->path) {
		smc_fail(e, SMC_EXIT_CONFIG, "home path too long");
		goto fail;
	}
	memcpy(n->path, rot_path, strlen(rot_path) + 1);
	if (smc_keystore_save(n, e) != 0)
		goto fail;
	*out = n;
	return 0;
fail:
	smc_keystore_free(n);
	return -1;
}

/* The keys of the rotated keystore that the update carries. */
static json_t *update_body(const struct smc_keystore *n,
			   const struct smimp_record *rec)
{
	const struct smc_ks_key *ne = smc_keystore_current_nonephemeral(n);
	json_t *o = json_object(), *eph = json_array();

	if (o == NULL || eph == NULL || ne == NULL)
		goto fail;
	for (size_t i = 0; i < n->n_ephemeral; i++) {
		if (n->ephemeral[i].discarded_at != 0)
			continue;
		if (json_array_append_new(eph, smc_keys_signed_json(
				n, &n->ephemeral[i].kp.pk,
				SMIMP_MSGKEY_EPHEMERAL)) != 0)
			goto fail;
	}
	if (json_object_set_new(o, "record", smimp_record_to_json(rec)) ||
	    json_object_set_new(o, "nonephemeral_key",
				smc_keys_signed_json(n, &ne->kp.pk,
						     SMIMP_MSGKEY_NONEPHEMERAL)))
		goto fail;
	if (json_object_set_new(o, "ephemeral_keys", eph) != 0) {
		eph = NULL;
		goto fail;
	}
	return o;
fail:
	json_decref(eph);
	json_decref(o);
	return NULL;
}

/* The rotated keystore becomes the keystore. */
static int commit(struct smc_keystore *n, const char *ks_path,
		  const char *rot_path, struct smc_err *e)
{
	if (strlen(ks_path) >= sizeof n->path)
		return smc_fail(e, SMC_EXIT_CONFIG, "home path too long");
	memcpy(n->path, ks_path, strlen(ks_path) + 1);
	if (smc_keystore_save(n, e) != 0)
		return smc_fail_prefix(e, "the server has the new key but the "
				       "keystore could not be replaced (the "
				       "new key is safe in %s; run smimp "
				       "rotate-master-key again)", rot_path);
	if (unlink(rot_path) != 0)
		fprintf(stderr, "smimp: warning: could not remove %s; the "
			"next rotate-master-key will clean it up\n", rot_path);
	return 0;
}

static int parse(struct smc_ctx *c, int argc, char **argv, size_t *n_eph,
		 struct smc_err *e)
{
	static const struct smc_opt opts[] = {{"ephemeral", 1}, {NULL, 0}};
	struct smc_optstate st = {argc, argv, 0, 0};
	const char *arg;
	char *end;
	long v;
	int k;

	*n_eph = DEFAULT_EPHEMERAL;
	while ((k = smc_opt_next(c, &st, opts, &arg, e)) != SMC_OPT_END) {
		if (k == SMC_OPT_HELP || k == SMC_OPT_ERR)
			return k == SMC_OPT_HELP ? SMC_OPT_HELP : -1;
		if (k == SMC_OPT_POS)
			return smc_fail(e, SMC_EXIT_USAGE,
					"unexpected argument %.100s", arg);
		v = strtol(arg, &end, 10);
		if (*arg == '\0' || *end != '\0' || v < 0 ||
		    v > SMC_KEYMAINT_MAX_REFILL)
			return smc_fail(e, SMC_EXIT_USAGE,
					"--ephemeral wants 0 to %d",
					SMC_KEYMAINT_MAX_REFILL);
		*n_eph = (size_t)v;
	}
	return 0;
}

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct smc_account a;
	struct smc_keystore *n = NULL, *old = NULL;
	struct smc_identity id;
	struct smimp_record rec;
	struct smc_record_changes ch;
	char dir[PATH_MAX], ks_path[PATH_MAX], rot_path[PATH_MAX + 32];
	char old_hex[65], new_hex[65];
	const struct smimp_sign_pk *latest;
	json_t *body = NULL;
	size_t n_eph;
	int rc, have_id = 0, resumed = 0;

	memset(&rec, 0, sizeof rec);
	rc = parse(c, argc, argv, &n_eph, e);
	if (rc != 0)
		return rc;
	rc = -1;
	if (smc_account_open(c, &a, e) != 0)
		return -1;
	/* Locked until the command ends: the rotated keystore is a copy of
	 * this one that replaces it after the server's answer, so no other
	 * command may change the keystore in between. The lock also guards
	 * keystore.rotating. */
	if (smc_keystore_lock(a.ks, e) != 0)
		goto out;
	if (smc_home_account_dir(&c->home, a.ks->address, 0, dir, sizeof dir,
				 e) != 0 ||
	    smc_home_keystore_path(&c->home, a.ks->address, ks_path,
				   sizeof ks_path, e) != 0)
		goto out;
	if ((size_t)snprintf(rot_path, sizeof rot_path, "%s/keystore.rotating",
			     dir) >= PATH_MAX) {
		smc_fail(e, SMC_EXIT_CONFIG, "home path too long");
		goto out;
	}
	smimp_hex_encode(old_hex, sizeof old_hex, a.ks->master.kp.pk.b, 32);

	if (smc_path_exists(rot_path)) {
		char *pass = NULL;

		smc_say(c, "an earlier rotation did not finish: resuming it "
			"(the passphrase opens its keystore too)");
		if (smc_passphrase_get(c->passphrase_file, a.ks->address, 0,
				       &pass, e) != 0)
			goto out;
		rc = smc_keystore_open(rot_path, pass, &n, e);
		smc_secret_free(pass);
		if (rc != 0) {
			smc_fail_prefix(e, "%s", rot_path);
			rc = -1;
			goto out;
		}
		rc = -1;
		resumed = 1;
		if (strcmp(n->address, a.ks->address) != 0) {
			smc_fail(e, SMC_EXIT_CONFIG, "%s belongs to another "
				 "account", rot_path);
			goto out;
		}
		if (smimp_sign_pk_equal(&n->master.kp.pk, &a.ks->master.kp.pk)) {
			/* The keystore was replaced; only the cleanup was
			 * left. Not a reason to rotate once more. */
			(void)unlink(rot_path);
			printf("the earlier rotation of %s had finished (key "
			       "%s); its leftover file is removed. Run the "
			       "command again for another rotation.\n",
			       a.ks->address, old_hex);
			rc = 0;
			goto out;
		}
	}
	/* Where does the published history stand? */
	if (smc_selfrec_history(c, &a, &id, e) != 0)
		goto out;
	have_id = 1;
	latest = smimp_history_latest_key(&id.history);
	if (n != NULL && smimp_sign_pk_equal(latest, &n->master.kp.pk)) {
		smc_say(c, "the server already has the new key: finishing");
		if (commit(n, ks_path, rot_path, e) != 0)
			goto out;
		goto verify;
	}
	if (!smimp_sign_pk_equal(latest, &a.ks->master.kp.pk)) {
		smc_fail(e, SMC_EXIT_PROTOCOL, "the published key of %s is "
			 "neither this keystore's master key nor the one being "
			 "rotated to; refusing to rotate", a.ks->address);
		goto out;
	}
	if (n == NULL) {
		smc_say(c, "making a new master key, 1 non-ephemeral and %zu "
			"ephemeral message keys", n_eph);
		if (make_rotated(a.ks, rot_path, n_eph, &n, e) != 0)
			goto out;
	}
	memset(&ch, 0, sizeof ch);
	ch.public_key = &n->master.kp.pk;
	if (smc_selfrec_build_next(&id.history, &ch, n->master.created_at,
				   &a.ks->master.kp.sk, &rec, e) != 0)
		goto out;
	body = update_body(n, &rec);
	if (body == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	if (smc_account_login(c, &a, e) != 0)
		goto out;
	smc_say(c, "publishing record %lld with the new key", (long long)rec.seq);
	if (smc_selfrec_post(c, &a, body, &rec, e) != 0) {
		size_t l = strlen(e->message);

		snprintf(e->message + l, sizeof e->message - l,
			 ". The new keys are kept in %s; run smimp "
			 "rotate-master-key again to finish", rot_path);
		goto out;
	}
	if (commit(n, ks_path, rot_path, e) != 0)
		goto out;
	/* The server ended our other sessions; this one ends too. */
	smc_logout(c->t, &a.session);
verify:
	smc_identity_free(&id);
	have_id = 0;
	if (smc_selfrec_history(c, &a, &id, e) != 0) {
		smc_fail_prefix(e, "the rotation was accepted, but checking "
				"the published history failed");
		goto out;
	}
	have_id = 1;
	if (!smimp_sign_pk_equal(smimp_history_latest_key(&id.history),
				 &n->master.kp.pk)) {
		smc_fail(e, SMC_EXIT_PROTOCOL, "the server answered 200 but "
			 "does not publish the new key");
		goto out;
	}
	/* The new key logs in. */
	old = a.ks;
	a.ks = n;
	n = NULL;
	if (smc_account_login(c, &a, e) != 0) {
		smc_fail_prefix(e, "the rotation is published, but logging in "
				"with the new key failed");
		goto out;
	}
	smimp_hex_encode(new_hex, sizeof new_hex, a.ks->master.kp.pk.b, 32);
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:b}", "address",
				      a.ks->address, "old_public_key", old_hex,
				      "public_key", new_hex, "seq",
				      (json_int_t)smimp_history_latest(
					      &id.history)->seq,
				      "resumed", resumed);

		rc = o != NULL ? smc_print_json(o, e)
			       : smc_fail(e, SMC_EXIT_SOFTWARE, "oom");
		json_decref(o);
	} else {
		printf("the master key of %s is replaced (record %lld).\n"
		       "  old key   %s (kept in the keystore)\n"
		       "  new key   %s\n"
		       "Other sessions of the account have ended. Contacts "
		       "who pinned the old key\nfollow the change when they "
		       "next resolve %s.\n", a.ks->address,
		       (long long)smimp_history_latest(&id.history)->seq,
		       old_hex, new_hex, a.ks->address);
		rc = 0;
	}
out:
	if (have_id)
		smc_identity_free(&id);
	json_decref(body);
	smimp_record_free(&rec);
	smc_keystore_free(n);
	smc_keystore_free(old);
	smc_account_close(c, &a);
	return rc;
}

const struct smc_command smc_cmd_rotate_master_key = {
	"rotate-master-key", "[--ephemeral N] [--json]",
	"Replace the account's master key (and all its message keys).",
	"\nMakes a new master key (Ed25519), a new non-ephemeral key and N new\n"
	"ephemeral keys, and publishes them in one update_profile call: record\n"
	"N+1 of the identity names the new key and is signed by the old one;\n"
	"the message keys are signed by the new one. The server drops every\n"
	"message key signed by the old key and ends the account's other\n"
	"sessions. Afterwards the published history is fetched and checked,\n"
	"and the new key logs in.\n\n"
	"Everything is written to HOME/accounts/ADDRESS/keystore.rotating\n"
	"before the call and replaces the keystore only once the server has\n"
	"it. If the command is interrupted or the answer is lost, run it\n"
	"again: it resumes with the same keys (the passphrase is asked for\n"
	"both files). The old master key and the old message keys stay in the\n"
	"keystore (message keys for 30 days) so mail already on its way can\n"
	"still be read. Contacts holding a pin of the old identity follow the\n"
	"change when they next resolve the address: the new record extends\n"
	"the history they pinned.\n\n"
	"  --ephemeral N  ephemeral keys to publish (default 50, 0-10000)\n"
	"  --json         print the result as JSON\n",
	run,
};

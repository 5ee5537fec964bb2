/* smimp rotate-master-key (spec 11.4): a new master key, published as
 * record N+1 signed by the old key, with a new non-ephemeral key and a
 * batch of ephemeral keys signed by the new key, in one update_profile.
 *
 * Crash safety: the rotation itself (the new master key and the new
 * message keys, nothing else) is written first to
 * HOME/accounts/ADDRESS/keystore.rotating, encrypted like the keystore.
 * Only after the server's 200 (or, when the answer was lost, after the
 * published history shows the new key) is it applied to the keystore as
 * it is then (new master current, the old one kept among old_masters,
 * every message key held discarded but kept 30 days, the new ones added)
 * and that file removed. Running the command again resumes an interrupted
 * rotation with the same keys; keys other commands added to the keystore
 * in between are kept, since the key list is never taken from the copy.
 * Untrusted input: the server's answers and the own history (validated,
 * pinned). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "smimp/hex.h"
#include "smimp/key.h"
#include "smimp/timestamp.h"

#include "fsutil.h"
#include "keymaint.h"
#include "selfrec.h"

#define DEFAULT_EPHEMERAL 50

/* The rotation: a new master key, a new non-ephemeral key and n_eph
 * ephemeral keys, saved to rot_path (encrypted with the keystore's key)
 * before the server hears of them. */
static int make_rotation(const struct smc_keystore *ks, const char *rot_path,
			 size_t n_eph, struct smc_keystore **out,
			 struct smc_err *e)
{
	struct smc_keystore *n;
	size_t idx;

	if (smc_keystore_new_sibling(ks, rot_path, &n, e) != 0)
		return -1;
	if (smc_keystore_add_nonephemeral(n, &idx, e) != 0 ||
	    smc_keystore_add_ephemeral(n, n_eph, NULL, e) != 0 ||
	    smc_keystore_save(n, e) != 0) {
		smc_keystore_free(n);
		return -1;
	}
	*out = n;
	return 0;
}

/* Marks every key of v in use discarded at now: the server drops every
 * message key signed by the old master in the same transaction as the
 * rotation; the secrets stay 30 days for mail in flight. */
static void discard_all(struct smc_ks_key *v, size_t n, int64_t now)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].discarded_at == 0)
			v[i].discarded_at = now;
}

/* Adds rot's keys in use to ks, marked uploaded at now. Those are the
 * rotation's new keys; a keystore.rotating written by an earlier version
 * is a whole copy of the keystore, whose other keys are all discarded. */
static int add_new_keys(struct smc_keystore *ks, const struct smc_ks_key *v,
			size_t n, bool ephemeral, int64_t now,
			struct smc_err *e)
{
	for (size_t i = 0; i < n; i++) {
		struct smc_ks_key k;
		int rc;

		if (v[i].discarded_at != 0)
			continue;
		k = v[i];
		k.uploaded_at = now;
		rc = smc_keystore_add_copy(ks, ephemeral, &k, e);
		sodium_memzero(&k, sizeof k);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static size_t count_live(const struct smc_ks_key *v, size_t n)
{
	size_t live = 0;

	for (size_t i = 0; i < n; i++)
		live += v[i].discarded_at == 0;
	return live;
}

/* Fails unless ks has room for a rotation with n_neph non-ephemeral and
 * n_eph ephemeral keys (SMC_KS_MAX_KEYS of a kind) and one more old master
 * key. Checked before the rotation is made or sent, with the lock held
 * until the commit: once the server has the new key the commit must not
 * fail on it, and a refused rotation must leave no file to resume. */
static int check_room(const struct smc_keystore *ks, size_t n_neph,
		      size_t n_eph, struct smc_err *e)
{
	if (ks->n_ephemeral + n_eph > SMC_KS_MAX_KEYS ||
	    ks->n_nonephemeral + n_neph > SMC_KS_MAX_KEYS ||
	    ks->n_old_masters >= SMC_KS_MAX_KEYS)
		return smc_fail(e, SMC_EXIT_DATAERR, "the keystore has no room "
				"for the new keys (at most %u of a kind, "
				"discarded ones included); nothing was sent",
				SMC_KS_MAX_KEYS);
	return 0;
}

/* Applies the rotation rot to ks, which is locked and holds the keystore
 * as it is now: rot's master key becomes current, the old one is kept,
 * every message key ks holds is discarded and rot's are added. The copy
 * made when the rotation began is not used for the key list, so the keys
 * that other commands added between an interrupted run and its resume (a
 * refill, an automatic top-up, keys rotate) are all kept. */
static int apply_rotation(struct smc_keystore *ks,
			  const struct smc_keystore *rot, struct smc_err *e)
{
	int64_t now = smimp_timestamp_now();

	discard_all(ks->nonephemeral, ks->n_nonephemeral, now);
	discard_all(ks->ephemeral, ks->n_ephemeral, now);
	if (smc_keystore_replace_master(ks, &rot->master, now, e) != 0 ||
	    add_new_keys(ks, rot->nonephemeral, rot->n_nonephemeral, false,
			 now, e) != 0 ||
	    add_new_keys(ks, rot->ephemeral, rot->n_ephemeral, true, now,
			 e) != 0)
		return -1;
	return 0;
}

/* The update: record rec and the rotation's message keys, signed by its
 * new master key. */
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

/* The server has the rotation: it becomes the keystore's state, saved
 * over the keystore (ks is locked), and rot_path goes. A crash before the
 * save leaves rot_path for the next run to finish with; one after it
 * leaves a rot_path whose master key is the keystore's, only removed. */
static int commit(struct smc_keystore *ks, const struct smc_keystore *rot,
		  const char *rot_path, struct smc_err *e)
{
	if (apply_rotation(ks, rot, e) != 0 || smc_keystore_save(ks, e) != 0)
		return smc_fail_prefix(e, "the server has the new key but the "
				       "keystore could not be updated (the "
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

/* Opens the keystore.rotating of an earlier run, written with the
 * keystore's file key (no passphrase needed). One written for another
 * keystore (another account, or a keystore made anew since) is refused:
 * its rotation is not this keystore's to finish. */
static int open_rotation(const struct smc_keystore *ks, const char *rot_path,
			 struct smc_keystore **out, struct smc_err *e)
{
	bool foreign = false;

	if (smc_keystore_open_sibling(ks, rot_path, out, &foreign, e) == 0)
		return 0;
	if (foreign)
		return smc_fail(e, SMC_EXIT_CONFIG, "%s was not written for "
				"this keystore; move it away if that rotation "
				"is abandoned", rot_path);
	return smc_fail_prefix(e, "%s", rot_path);
}

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct smc_account a;
	struct smc_keystore *rot = NULL;
	struct smc_identity id;
	struct smimp_record rec;
	struct smc_record_changes ch;
	char dir[PATH_MAX], rot_path[PATH_MAX + 32];
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
	/* Locked until the command ends: the keystore seen here is the one
	 * the rotation is applied to after the server's answer, and the
	 * server drops every key signed by the old master, so no other
	 * command may upload one in between. The lock also guards
	 * keystore.rotating. */
	if (smc_keystore_lock(a.ks, e) != 0)
		goto out;
	if (smc_home_account_dir(&c->home, a.ks->address, 0, dir, sizeof dir,
				 e) != 0)
		goto out;
	if ((size_t)snprintf(rot_path, sizeof rot_path, "%s/keystore.rotating",
			     dir) >= PATH_MAX) {
		smc_fail(e, SMC_EXIT_CONFIG, "home path too long");
		goto out;
	}
	smimp_hex_encode(old_hex, sizeof old_hex, a.ks->master.kp.pk.b, 32);

	if (smc_path_exists(rot_path)) {
		smc_say(c, "an earlier rotation did not finish: resuming it");
		if (open_rotation(a.ks, rot_path, &rot, e) != 0)
			goto out;
		resumed = 1;
		if (smimp_sign_pk_equal(&rot->master.kp.pk,
					&a.ks->master.kp.pk)) {
			/* The keystore was updated; only the cleanup was
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
	if (rot != NULL && smimp_sign_pk_equal(latest, &rot->master.kp.pk)) {
		smc_say(c, "the server already has the new key: finishing");
		if (commit(a.ks, rot, rot_path, e) != 0)
			goto out;
		goto verify;
	}
	if (!smimp_sign_pk_equal(latest, &a.ks->master.kp.pk)) {
		smc_fail(e, SMC_EXIT_PROTOCOL, "the published key of %s is "
			 "neither this keystore's master key nor the one being "
			 "rotated to; refusing to rotate", a.ks->address);
		goto out;
	}
	if (rot == NULL) {
		if (check_room(a.ks, 1, n_eph, e) != 0)
			goto out;
		smc_say(c, "making a new master key, 1 non-ephemeral and %zu "
			"ephemeral message keys", n_eph);
		if (make_rotation(a.ks, rot_path, n_eph, &rot, e) != 0)
			goto out;
	} else if (check_room(a.ks, count_live(rot->nonephemeral,
					       rot->n_nonephemeral),
			      count_live(rot->ephemeral, rot->n_ephemeral),
			      e) != 0) {
		goto out;
	}
	memset(&ch, 0, sizeof ch);
	ch.public_key = &rot->master.kp.pk;
	if (smc_selfrec_build_next(&id.history, &ch, rot->master.created_at,
				   &a.ks->master.kp.sk, &rec, e) != 0)
		goto out;
	body = update_body(rot, &rec);
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
	if (commit(a.ks, rot, rot_path, e) != 0)
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
				 &a.ks->master.kp.pk)) {
		smc_fail(e, SMC_EXIT_PROTOCOL, "the server answered 200 but "
			 "does not publish the new key");
		goto out;
	}
	/* The new key logs in. */
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
	smc_keystore_free(rot);
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
	"The new keys are written to HOME/accounts/ADDRESS/keystore.rotating\n"
	"before the call and go into the keystore only once the server has\n"
	"them. If the command is interrupted or the answer is lost, run it\n"
	"again: it resumes with the same keys, and keys that other commands\n"
	"added meanwhile (keys refill) are kept. The old master key and the old message keys stay\n"
	"in the keystore (message keys for 30 days) so mail already on its\n"
	"way can still be read. Contacts holding a pin of the old identity\n"
	"follow the change when they next resolve the address: the new record\n"
	"extends the history they pinned.\n\n"
	"  --ephemeral N  ephemeral keys to publish (default 50, 0-10000)\n"
	"  --json         print the result as JSON\n",
	run,
};

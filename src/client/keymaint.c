/* Message key maintenance (see keymaint.h). Untrusted input: the server's
 * ephemeral_keys and nonephemeral_key answers; a listed key counts only
 * when it verifies with our master key for our address and we hold its
 * secret. */
#include <stdlib.h>
#include <string.h>

#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/timestamp.h"

#include "keymaint.h"

static const struct smc_ks_key *find_key(const struct smc_ks_key *v, size_t n,
					 const struct smimp_box_pk *pk)
{
	for (size_t i = 0; i < n; i++)
		if (smimp_box_pk_equal(&v[i].kp.pk, pk))
			return &v[i];
	return NULL;
}

/* 0 when mk verifies for us and its secret is in the keystore. */
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

void smc_server_keys_free(struct smc_server_keys *sk)
{
	free(sk->ours);
	memset(sk, 0, sizeof *sk);
}

int smc_keys_fetch_server(struct smc_ctx *c, struct smc_account *a,
			  struct smc_server_keys *sk, struct smc_err *e)
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
	if (!json_is_array(list) ||
	    json_array_size(list) > 4 * SMC_KEYMAINT_MAX_REFILL) {
		json_decref(ans);
		return smc_fail(e, SMC_EXIT_PROTOCOL,
				"ephemeral_keys: the answer has no usable key "
				"list");
	}
	if (json_array_size(list) > 0) {
		sk->ours = calloc(json_array_size(list), sizeof *sk->ours);
		if (sk->ours == NULL) {
			json_decref(ans);
			return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		}
	}
	json_array_foreach(list, i, v) {
		sk->unissued++;
		if (smimp_msgkey_from_json(&mk, v, &le) != SMIMP_OK ||
		    key_is_ours(a->ks, &mk, SMIMP_MSGKEY_EPHEMERAL) != 0) {
			sk->foreign++;
			continue;
		}
		sk->ours[sk->n_ours++] = mk.key;
	}
	json_decref(ans);
	ans = NULL;
	if (smc_api_call(c->t, &a->server, &a->session, SMC_GET,
			 "nonephemeral_key", NULL, 64 * 1024, &ans, e) != 0) {
		smc_server_keys_free(sk);
		return smc_fail_prefix(e, "non-ephemeral key");
	}
	if (ans == NULL ||
	    smimp_msgkey_from_json(&mk, json_object_get(ans, "message_key"),
				   &le) != SMIMP_OK) {
		json_decref(ans);
		smc_server_keys_free(sk);
		return smc_fail(e, SMC_EXIT_PROTOCOL, "nonephemeral_key: %s",
				le.message[0] ? le.message : "empty answer");
	}
	json_decref(ans);
	sk->ne = mk.key;
	sk->ne_known = key_is_ours(a->ks, &mk, SMIMP_MSGKEY_NONEPHEMERAL) == 0;
	sk->ne_current = sk->ne_known && cur != NULL &&
			 smimp_box_pk_equal(&cur->kp.pk, &mk.key);
	return 0;
}

json_t *smc_keys_signed_json(const struct smc_keystore *ks,
			     const struct smimp_box_pk *pk,
			     enum smimp_msgkey_kind kind)
{
	struct smimp_msgkey mk;

	smimp_msgkey_sign(&mk, ks->address, kind, pk, &ks->master.kp.sk);
	return smimp_msgkey_to_json(&mk);
}

static int listed(const struct smc_server_keys *sk,
		  const struct smimp_box_pk *pk)
{
	for (size_t i = 0; i < sk->n_ours; i++)
		if (smimp_box_pk_equal(&sk->ours[i], pk))
			return 1;
	return 0;
}

/* Whether the ephemeral key k, in use, is still unissued: never uploaded,
 * or listed by the server. An uploaded key it no longer lists was issued. */
static int unissued(const struct smc_ks_key *k,
		    const struct smc_server_keys *sk)
{
	return k->uploaded_at == 0 || listed(sk, &k->kp.pk);
}

/* The keys the next POST ephemeral_keys would carry without new ones. */
static size_t count_unissued(const struct smc_keystore *ks,
			     const struct smc_server_keys *sk)
{
	size_t n = 0;

	for (size_t i = 0; i < ks->n_ephemeral; i++)
		if (ks->ephemeral[i].discarded_at == 0 &&
		    unissued(&ks->ephemeral[i], sk))
			n++;
	return n;
}

/* smc_keys_refill with the keystore locked and freshly loaded, and sk
 * fetched under the lock. */
static int refill_locked(struct smc_ctx *c, struct smc_account *a,
			 const struct smc_server_keys *sk, size_t n,
			 struct smc_refill_result *r, struct smc_err *e)
{
	struct smc_keystore *ks = a->ks;
	json_t *body = NULL, *keys = NULL;
	uint8_t *send = NULL;
	int64_t now = smimp_timestamp_now();
	size_t live = 0;
	int rc = -1;

	/* The new keys are on disk before the server hears of them. */
	if (n > 0) {
		if (smc_keystore_add_ephemeral(ks, n, NULL, e) != 0 ||
		    smc_keystore_save(ks, e) != 0)
			return smc_fail_prefix(e, "saving %zu new ephemeral "
					       "keys", n);
		r->added = n;
	}
	send = calloc(ks->n_ephemeral + 1, 1);
	keys = json_array();
	body = json_object();
	if (send == NULL || keys == NULL || body == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ks->n_ephemeral; i++) {
		struct smc_ks_key *k = &ks->ephemeral[i];

		if (k->discarded_at != 0)
			continue;
		if (!unissued(k, sk)) {
			/* Issued (or dropped by the server): keep the secret
			 * for a message still on its way, 30 days. */
			k->discarded_at = now;
			r->discarded++;
			continue;
		}
		if (json_array_append_new(keys, smc_keys_signed_json(
				ks, &k->kp.pk, SMIMP_MSGKEY_EPHEMERAL)) != 0) {
			smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
			goto out;
		}
		send[i] = 1;
		live++;
	}
	if (live > SMC_KEYMAINT_MAX_REFILL) {
		smc_fail(e, SMC_EXIT_USAGE,
			 "%zu unissued ephemeral keys would exceed the "
			 "server's limit of %d; refill fewer", live,
			 SMC_KEYMAINT_MAX_REFILL);
		goto out;
	}
	if (json_object_set(body, "keys", keys) != 0) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	smc_say(c, "uploading %zu ephemeral keys (%zu new)", live, n);
	if (smc_api_call(c->t, &a->server, &a->session, SMC_POST,
			 "ephemeral_keys", body, 64 * 1024, NULL, e) != 0) {
		struct smc_err ignored;

		smc_fail_prefix(e, "POST ephemeral_keys");
		/* Keep the discard marks; the new keys stay unsent. */
		(void)smc_keystore_save(ks, &ignored);
		goto out;
	}
	for (size_t i = 0; i < ks->n_ephemeral; i++)
		if (send[i] && ks->ephemeral[i].uploaded_at == 0)
			ks->ephemeral[i].uploaded_at = now;
	r->sent = live;
	if (smc_keystore_save(ks, e) != 0) {
		smc_fail_prefix(e, "the server has the keys, but saving the "
				"keystore failed (the keys are in it; only "
				"their upload marks are lost)");
		goto out;
	}
	rc = 0;
out:
	free(send);
	json_decref(keys);
	json_decref(body);
	return rc;
}

/* The lock is held from fetching the server's list to the last save,
 * across the network calls: the POST replaces the server's whole unissued
 * set, computed from that list and the local keys. A concurrent refill in
 * between would have its keys dropped from the server and, seen uploaded
 * but unlisted, marked discarded here; serialized, each one sees the
 * other's keys, uploaded or still to send. */
int smc_keys_refill(struct smc_ctx *c, struct smc_account *a, size_t n,
		    struct smc_refill_result *r, struct smc_err *e)
{
	struct smc_server_keys sk;
	int rc = -1;

	memset(r, 0, sizeof *r);
	if (n > SMC_KEYMAINT_MAX_REFILL)
		return smc_fail(e, SMC_EXIT_USAGE, "at most %d keys at once",
				SMC_KEYMAINT_MAX_REFILL);
	if (smc_keystore_lock(a->ks, e) != 0)
		return -1;
	if (smc_keys_fetch_server(c, a, &sk, e) == 0) {
		rc = refill_locked(c, a, &sk, n, r, e);
		smc_server_keys_free(&sk);
	}
	smc_keystore_unlock(a->ks);
	return rc;
}

/* smc_keys_rotate_nonephemeral with the keystore locked and freshly
 * loaded. */
static int rotate_nonephemeral_locked(struct smc_ctx *c,
				      struct smc_account *a,
				      struct smc_err *e)
{
	struct smc_keystore *ks = a->ks;
	struct smc_ks_key *cur;
	json_t *body = NULL;
	int64_t now;
	size_t idx;
	int rc = -1;

	cur = (struct smc_ks_key *)smc_keystore_current_nonephemeral(ks);
	if (cur != NULL && cur->uploaded_at == 0) {
		smc_say(c, "sending again the non-ephemeral key made by an "
			"earlier attempt");
	} else {
		if (smc_keystore_add_nonephemeral(ks, &idx, e) != 0 ||
		    smc_keystore_save(ks, e) != 0)
			return smc_fail_prefix(e, "saving a new non-ephemeral "
					       "key");
		cur = &ks->nonephemeral[idx];
	}
	body = json_object();
	if (body == NULL ||
	    json_object_set_new(body, "message_key",
				smc_keys_signed_json(ks, &cur->kp.pk,
						     SMIMP_MSGKEY_NONEPHEMERAL))) {
		json_decref(body);
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	}
	if (smc_api_call(c->t, &a->server, &a->session, SMC_POST,
			 "nonephemeral_key", body, 64 * 1024, NULL, e) != 0) {
		smc_fail_prefix(e, "POST nonephemeral_key (the new key is kept; "
				"run smimp keys rotate again)");
		goto out;
	}
	now = smimp_timestamp_now();
	for (size_t i = 0; i < ks->n_nonephemeral; i++) {
		struct smc_ks_key *k = &ks->nonephemeral[i];

		if (k == cur)
			k->uploaded_at = now;
		else if (k->discarded_at == 0)
			k->discarded_at = now; /* kept 30 days (11.2) */
	}
	if (smc_keystore_save(ks, e) != 0) {
		smc_fail_prefix(e, "the server has the new non-ephemeral key, "
				"but saving the keystore failed");
		goto out;
	}
	rc = 0;
out:
	json_decref(body);
	return rc;
}

/* Locked throughout, like the refill: whether the current key still needs
 * sending, and which keys to mark discarded, must be decided on the
 * keystore as it is, and no other command may save over the new key. */
int smc_keys_rotate_nonephemeral(struct smc_ctx *c, struct smc_account *a,
				 struct smc_err *e)
{
	int rc;

	if (smc_keystore_lock(a->ks, e) != 0)
		return -1;
	rc = rotate_nonephemeral_locked(c, a, e);
	smc_keystore_unlock(a->ks);
	return rc;
}

/* The top-up of smc_keymaint_auto, locked: how many keys to add is
 * decided from the server's list and the keystore as they are under the
 * lock, so that of two top-ups at once the second sees the first one's
 * keys instead of adding as many again. */
static int top_up_locked(struct smc_ctx *c, struct smc_account *a,
			 struct smc_keymaint_report *report,
			 struct smc_err *e)
{
	struct smc_server_keys sk;
	struct smc_refill_result rr;
	size_t have, n;
	int rc = 0;

	if (smc_keys_fetch_server(c, a, &sk, e) != 0)
		return -1;
	report->unissued_before = sk.n_ours;
	if (sk.n_ours < SMC_KEYMAINT_LOW) {
		/* Keys made by a refill whose upload failed count too: they
		 * go up with this POST. */
		have = count_unissued(a->ks, &sk);
		n = have < SMC_KEYMAINT_TARGET ? SMC_KEYMAINT_TARGET - have : 0;
		smc_say(c, "only %zu ephemeral keys left on the server: "
			"adding %zu", sk.n_ours, n);
		memset(&rr, 0, sizeof rr);
		rc = refill_locked(c, a, &sk, n, &rr, e);
		report->refilled = rr.added;
	}
	smc_server_keys_free(&sk);
	return rc;
}

/* Whether the non-ephemeral key cur is to be replaced: there is none, it
 * never reached the server, or it is older than 7 days (*age, -1 without
 * a key). */
static bool ne_stale(const struct smc_ks_key *cur, int64_t *age)
{
	*age = cur != NULL ? smimp_timestamp_now() - cur->created_at : -1;
	return cur == NULL || cur->uploaded_at == 0 ||
	       *age > SMC_KEYMAINT_NEPH_MAX_AGE;
}

/* smc_keymaint_auto with the keystore locked and freshly loaded: both
 * decisions are taken on the keystore and the server's list as they are
 * under the lock, which is held until the keys are uploaded. */
static int maintain_locked(struct smc_ctx *c, struct smc_account *a,
			   struct smc_keymaint_report *report,
			   struct smc_err *e)
{
	const struct smc_ks_key *cur;

	if (top_up_locked(c, a, report, e) != 0)
		return -1;
	cur = smc_keystore_current_nonephemeral(a->ks);
	if (ne_stale(cur, &report->ne_age)) {
		smc_say(c, "replacing the non-ephemeral key%s",
			cur != NULL && cur->uploaded_at != 0
				? " (older than 7 days)" : "");
		if (rotate_nonephemeral_locked(c, a, e) != 0)
			return -1;
		report->rotated = 1;
	}
	return 0;
}

int smc_keymaint_auto(struct smc_ctx *c, struct smc_account *a,
		      struct smc_keymaint_report *report,
		      struct smc_err *e)
{
	struct smc_keymaint_report dummy;
	struct smc_server_keys sk;
	bool low;
	int rc;

	if (report == NULL)
		report = &dummy;
	memset(report, 0, sizeof *report);
	/* A first look without the lock: mostly there is nothing to do, and
	 * then a listing neither waits behind other commands nor holds them
	 * up. Work found is decided again under the lock. */
	if (smc_keys_fetch_server(c, a, &sk, e) != 0)
		return -1;
	report->unissued_before = sk.n_ours;
	low = sk.n_ours < SMC_KEYMAINT_LOW;
	smc_server_keys_free(&sk);
	if (!low && !ne_stale(smc_keystore_current_nonephemeral(a->ks),
			      &report->ne_age))
		return 0;
	if (smc_keystore_lock(a->ks, e) != 0)
		return -1;
	rc = maintain_locked(c, a, report, e);
	smc_keystore_unlock(a->ks);
	return rc;
}

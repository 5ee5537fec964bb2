/* Reading one stored envelope (see reader.h). The order is the spec's (9):
 * who sent it (pinned history), the message hash, the key, the box, then
 * the payload; every failure becomes INVALID with a reason, and the
 * plaintext is wiped when it is not returned. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "smimp/hex.h"
#include "smimp/history.h"
#include "smimp/key.h"

#include "reader.h"

/* A cap on the plaintext of one message (the ciphertext is capped by the
 * answer size already). */
#define READER_MAX_PLAINTEXT (48u * 1024u * 1024u)

static int invalid(struct smc_read_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int invalid(struct smc_read_result *r, const char *fmt, ...)
{
	va_list ap;

	r->valid = false;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
	return 0;
}

void smc_read_result_clear(struct smc_read_result *r)
{
	if (r->has_payload)
		smimp_payload_free(&r->payload);
	memset(r, 0, sizeof *r);
}

/* Where sender_public_key stands in the sender's history: resolves the
 * sender (quick when the pin's latest key is the one used), fully when
 * the key is not the pinned latest one. */
static int sender_key_status(struct smc_ctx *c, const char *sender,
			     const struct smimp_sign_pk *pk,
			     enum smimp_history_key *status, struct smc_err *e)
{
	struct smc_resolver res;
	struct smc_identity id;

	if (smc_ctx_resolver(c, &res, e) != 0)
		return -1;
	if (smc_resolve_identity(&res, sender, SMC_RESOLVE_QUICK, &id, e) != 0)
		return smc_fail_prefix(e, "cannot verify the sender");
	if (id.history.count == 0) {
		if (smimp_sign_pk_equal(&id.entry.pin.latest_public_key, pk)) {
			*status = SMIMP_HISTORY_KEY_LATEST;
			smc_identity_free(&id);
			return 0;
		}
		/* Not the pinned latest key: fetch the whole history. */
		smc_identity_free(&id);
		if (smc_resolve_identity(&res, sender, SMC_RESOLVE_FULL, &id,
					 e) != 0)
			return smc_fail_prefix(e, "cannot verify the sender");
	}
	*status = smimp_history_key_status(&id.history, pk);
	smc_identity_free(&id);
	return 0;
}

/* The secret of pk among our message keys; *eph and *index say where. */
static const struct smimp_box_sk *find_secret(const struct smc_keystore *ks,
					      const struct smimp_box_pk *pk,
					      bool *eph, size_t *index)
{
	for (size_t i = 0; i < ks->n_ephemeral; i++)
		if (smimp_box_pk_equal(&ks->ephemeral[i].kp.pk, pk)) {
			*eph = true;
			*index = i;
			return &ks->ephemeral[i].kp.sk;
		}
	for (size_t i = 0; i < ks->n_nonephemeral; i++)
		if (smimp_box_pk_equal(&ks->nonephemeral[i].kp.pk, pk)) {
			*eph = false;
			*index = i;
			return &ks->nonephemeral[i].kp.sk;
		}
	return NULL;
}

int smc_reader_open(struct smc_ctx *c, struct smc_account *a,
		    const struct smimp_stored_envelope *se, const char *id,
		    struct smc_read_result *r, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	const struct smimp_envelope *env = &se->env;
	enum smimp_history_key ks_status;
	const struct smimp_box_sk *sk;
	char got_id[65];
	uint8_t *pt = NULL;
	size_t pt_len = 0, index = 0;
	bool eph = false;
	enum smimp_err rc;

	memset(r, 0, sizeof *r);
	smimp_hex_encode(got_id, sizeof got_id, se->message_id.b,
			 sizeof se->message_id.b);
	if (strcmp(got_id, id) != 0)
		return invalid(r, "the server answered with another message "
			       "(%s)", got_id);
	if (strcmp(env->recipient, a->ks->address) != 0)
		return invalid(r, "the envelope is addressed to %s, not to this "
			       "account", env->recipient);
	if (sender_key_status(c, env->sender, &se->sender_public_key,
			      &ks_status, e) != 0)
		return -1;
	if (ks_status == SMIMP_HISTORY_KEY_ABSENT)
		return invalid(r, "sender_public_key is not a key of %s's "
			       "validated history: the server or someone else "
			       "forged the sender", env->sender);
	r->sender_key_replaced = ks_status == SMIMP_HISTORY_KEY_REPLACED;
	if (smimp_envelope_verify(env, &se->sender_public_key, &le) !=
	    SMIMP_OK)
		return invalid(r, "the message hash does not verify with the "
			       "sender's key (%s): the envelope was altered",
			       le.message);
	sk = find_secret(a->ks, &env->message_public_key, &eph, &index);
	if (sk == NULL) {
		/* Perhaps a key that another command (keys refill) made after
		 * this one loaded the keystore. */
		if (smc_keystore_reload(a->ks, e) != 0)
			return -1;
		sk = find_secret(a->ks, &env->message_public_key, &eph,
				 &index);
	}
	if (sk == NULL)
		return invalid(r, "%s", "message_public_key is not one of this "
			       "account's message keys (or it was dropped more "
			       "than 30 days after use)");
	rc = smimp_envelope_open(&pt, &pt_len, env, &se->sender_public_key, sk,
				 &le);
	if (rc != SMIMP_OK)
		return invalid(r, "the message cannot be decrypted: %s",
			       le.message);
	rc = smimp_payload_parse(&r->payload, env->message_type, pt, pt_len,
				 READER_MAX_PLAINTEXT, env->sender, &le);
	smimp_envelope_plaintext_free(pt, pt_len);
	if (rc != SMIMP_OK)
		return invalid(r, "the decrypted content is not a valid payload "
			       "of its type: %s", le.message);
	r->has_payload = true;
	r->valid = true;
	r->ephemeral = eph;
	if (smc_received_note(&c->home, a->ks->address, &env->message_hash, id,
			      eph ? &env->message_public_key : NULL, &r->seen,
			      e) != 0) {
		smc_read_result_clear(r);
		return smc_fail_prefix(e, "received record");
	}
	if (eph && a->ks->ephemeral[index].discarded_at == 0) {
		/* Used: kept 30 days for rereading, then dropped (13). */
		if (smc_keystore_mark_used(a->ks, &env->message_public_key,
					   e) != 0) {
			smc_read_result_clear(r);
			return smc_fail_prefix(e, "marking the ephemeral key "
					       "used");
		}
	}
	return 0;
}

/* The send pipeline (see send.h). Every answer of the recipient's server
 * is hostile input: the message key must carry the pinned master key and
 * verify with it (6, 9), proof-of-work parameters are bounded, the message
 * id must be a strict HEX32. Nothing is posted before every check passed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smimp/envelope.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/msgkey.h"
#include "smimp/pow.h"

#include "login.h"
#include "resolve.h"
#include "send.h"

/* A recipient server met during this command: its description (the
 * session borrows it, so it lives on the heap), what server_information
 * said, and the sender's session there. */
struct smc_send_slot {
	struct smc_server *srv;
	int info_ok;
	int pow_listed;               /* get_pow_params in server_information */
	unsigned long long max_envelope;
	struct smc_session sess;
};

static atomic_int g_cancel;
static struct sigaction g_old_int;
static int g_handler_installed;

static void on_sigint(int sig)
{
	(void)sig;
	atomic_store(&g_cancel, 1);
}

int smc_sender_cancelled(void)
{
	return atomic_load(&g_cancel) != 0;
}

const char *smc_send_status_name(enum smc_send_status st)
{
	switch (st) {
	case SMC_SEND_SENT: return "sent";
	case SMC_SEND_TEMPFAIL: return "queued";
	case SMC_SEND_FAILED: return "failed";
	case SMC_SEND_CANCELLED: return "cancelled";
	}
	return "?";
}

void smc_sender_init(struct smc_sender *s, struct smc_ctx *c,
		     struct smc_account *a)
{
	struct sigaction sa;

	memset(s, 0, sizeof *s);
	s->c = c;
	s->a = a;
	atomic_store(&g_cancel, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND; /* the second Ctrl-C kills */
	if (!g_handler_installed && sigaction(SIGINT, &sa, &g_old_int) == 0)
		g_handler_installed = 1;
}

void smc_sender_finish(struct smc_sender *s)
{
	for (size_t i = 0; i < s->n_slots; i++) {
		if (s->slots[i].sess.session != NULL)
			smc_logout(s->c->t, &s->slots[i].sess);
		free(s->slots[i].srv);
	}
	free(s->slots);
	s->slots = NULL;
	s->n_slots = 0;
	if (g_handler_installed) {
		sigaction(SIGINT, &g_old_int, NULL);
		g_handler_installed = 0;
	}
}

/* GET server_information: whether get_pow_params is offered (8: only then
 * may proof_of_work be null) and the envelope size limit. */
static int server_info(struct smc_sender *s, struct smc_send_slot *sl,
		       struct smc_err *e)
{
	json_t *ans = NULL, *apis, *limits, *v;
	size_t i;

	if (smc_api_call(s->c->t, sl->srv, NULL, SMC_GET, "server_information",
			 NULL, 256 * 1024, &ans, e) != 0)
		return smc_fail_prefix(e, "server information of %s",
				       sl->srv->domain);
	apis = json_object_get(ans, "apis");
	if (!json_is_array(apis)) {
		json_decref(ans);
		return smc_fail(e, SMC_EXIT_PROTOCOL,
				"server information of %s has no api list",
				sl->srv->domain);
	}
	sl->pow_listed = 0;
	json_array_foreach(apis, i, v)
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), "get_pow_params") == 0)
			sl->pow_listed = 1;
	sl->max_envelope = SMIMP_ENVELOPE_DEFAULT_MAX_BYTES;
	limits = json_object_get(ans, "limits");
	v = json_is_object(limits) ? json_object_get(limits,
						     "max_envelope_bytes")
				   : NULL;
	if (json_is_integer(v) && json_integer_value(v) > 0)
		sl->max_envelope = (unsigned long long)json_integer_value(v);
	json_decref(ans);
	sl->info_ok = 1;
	return 0;
}

/* The slot of srv (created, with server information and a login, on first
 * use). */
static struct smc_send_slot *slot_for(struct smc_sender *s,
				      const struct smc_server *srv,
				      struct smc_err *e)
{
	struct smc_send_slot *sl = NULL, *nv;

	for (size_t i = 0; i < s->n_slots; i++)
		if (strcmp(s->slots[i].srv->base_url, srv->base_url) == 0)
			sl = &s->slots[i];
	if (sl == NULL) {
		nv = realloc(s->slots, (s->n_slots + 1) * sizeof *nv);
		if (nv == NULL) {
			smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
			return NULL;
		}
		s->slots = nv;
		sl = &s->slots[s->n_slots];
		memset(sl, 0, sizeof *sl);
		sl->srv = malloc(sizeof *sl->srv);
		if (sl->srv == NULL) {
			smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
			return NULL;
		}
		*sl->srv = *srv;
		s->n_slots++;
	}
	if (!sl->info_ok && server_info(s, sl, e) != 0)
		return NULL;
	if (sl->sess.session == NULL) {
		smc_say(s->c, "logging in as %s to %s", s->a->ks->address,
			sl->srv->base_url);
		if (smc_login(s->c->t, sl->srv, s->a->ks->address,
			      &s->a->ks->master.kp.sk, &sl->sess, e) != 0)
			return NULL;
	}
	return sl;
}

/* Forgets a session the server no longer knows (401). */
static void slot_drop_session(struct smc_sender *s, struct smc_send_slot *sl)
{
	if (sl->sess.session != NULL)
		smc_logout(s->c->t, &sl->sess);
}

/* Step 3 of 9: POST get_message_key, then check that public_key is the
 * pinned latest key and that the key verifies with the PINNED key. */
static int draw_key(struct smc_sender *s, struct smc_send_slot *sl,
		    const struct smc_identity *id, struct smimp_msgkey *mk,
		    struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	const struct smimp_sign_pk *pinned = &id->entry.pin.latest_public_key;
	struct smimp_sign_pk pk;
	json_t *req, *ans = NULL;
	bool ne_flag = false;
	int rc = -1;

	req = json_pack("{s:s}", "address", id->address);
	if (req == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	if (smc_api_call(s->c->t, sl->srv, &sl->sess, SMC_POST,
			 "get_message_key", req, 64 * 1024, &ans, e) != 0) {
		smc_fail_prefix(e, "message key of %s", id->address);
		goto out;
	}
	if (ans == NULL ||
	    smimp_json_get_hex(ans, "public_key", 0, pk.b, sizeof pk.b, NULL,
			       &le) != SMIMP_OK ||
	    smimp_msgkey_from_json(mk, json_object_get(ans, "message_key"),
				   &le) != SMIMP_OK ||
	    smimp_json_get_bool(ans, "non_ephemeral", SMIMP_JSON_OPTIONAL,
				&ne_flag, &le) != SMIMP_OK) {
		smc_fail(e, SMC_EXIT_PROTOCOL,
			 "message key of %s: %s sent a malformed answer (%s); "
			 "nothing was sent", id->address, sl->srv->origin,
			 ans == NULL ? "empty" : le.message);
		goto out;
	}
	if (!smimp_sign_pk_equal(&pk, pinned)) {
		smc_fail(e, SMC_EXIT_PROTOCOL,
			 "message key of %s: %s names a master key that is "
			 "not the pinned one; refusing to encrypt to it. "
			 "Nothing was sent; run smimp whois %s to check the "
			 "identity", id->address, sl->srv->origin, id->address);
		goto out;
	}
	if (smimp_msgkey_verify(mk, id->address, pinned, -1, &le) != SMIMP_OK) {
		smc_fail(e, SMC_EXIT_PROTOCOL,
			 "message key of %s from %s does not verify with the "
			 "pinned key of %s (a badly signed or foreign key: %s); "
			 "it was not used and nothing was sent", id->address,
			 sl->srv->origin, id->address, le.message);
		goto out;
	}
	/* The kind trusted is the signed one, whatever non_ephemeral says. */
	rc = 0;
out:
	json_decref(req);
	json_decref(ans);
	return rc;
}

struct progress {
	const char *recipient;
	unsigned bits;
	int shown;
};

static int pow_progress(void *arg, uint64_t tries, double elapsed)
{
	struct progress *p = arg;

	fprintf(stderr, "\rsmimp: proof of work for %s (%u bits): %llu tries, "
		"%.2f M/s, %.1f s ", p->recipient, p->bits,
		(unsigned long long)tries,
		elapsed > 0 ? (double)tries / elapsed / 1e6 : 0.0, elapsed);
	p->shown = 1;
	return smc_sender_cancelled();
}

/* Step 5: get_pow_params and the solve. pow_out gets the wire string, or
 * stays empty when the server offers no proof of work. */
static int proof_of_work(struct smc_sender *s, struct smc_send_slot *sl,
			 const char *path, struct smimp_envelope *env,
			 char pow_out[SMIMP_POW_STRING_LEN + 1],
			 struct smc_send_result *r, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	char endpoint[SMIMP_ADDRESS_PATH_MAX + SMIMP_MSGTYPE_MAX + 32];
	struct smimp_token nonce;
	struct smimp_hash prefix;
	struct smimp_pow_proof proof;
	struct smimp_pow_solve_opts o;
	struct progress pr;
	long long bits = 0;
	json_t *ans = NULL;
	enum smimp_err rc;
	int interactive = !s->c->quiet && isatty(STDERR_FILENO);

	pow_out[0] = '\0';
	if (!sl->pow_listed)
		return 0;
	snprintf(endpoint, sizeof endpoint, "get_pow_params/%s/%s", path,
		 env->message_type);
	if (smc_api_call(s->c->t, sl->srv, &sl->sess, SMC_GET, endpoint, NULL,
			 64 * 1024, &ans, e) != 0)
		return smc_fail_prefix(e, "proof-of-work parameters for %s",
				       env->recipient);
	if (ans == NULL ||
	    smimp_json_get_int(ans, "zero_bits", 0, 0, 256, &bits, &le) !=
		    SMIMP_OK ||
	    smimp_json_get_hex(ans, "nonce", 0, nonce.b, sizeof nonce.b, NULL,
			       &le) != SMIMP_OK) {
		json_decref(ans);
		return smc_fail(e, SMC_EXIT_PROTOCOL,
				"proof-of-work parameters for %s from %s are "
				"malformed (%s)", env->recipient,
				sl->srv->origin,
				ans == NULL ? "empty" : le.message);
	}
	json_decref(ans);
	r->zero_bits = (unsigned)bits;
	if ((unsigned)bits > SMC_SEND_MAX_POW_BITS)
		return smc_fail(e, SMC_EXIT_REFUSED,
				"%s asks for %lld bits of proof of work for %s, "
				"more than this client spends (%u); nothing was "
				"sent", sl->srv->origin, bits, env->recipient,
				SMC_SEND_MAX_POW_BITS);
	smimp_envelope_pow_prefix(&prefix, env, &nonce);
	memset(&o, 0, sizeof o);
	memset(&pr, 0, sizeof pr);
	pr.recipient = env->recipient;
	pr.bits = (unsigned)bits;
	o.cancel = &g_cancel;
	if (interactive) {
		o.progress = pow_progress;
		o.progress_arg = &pr;
	}
	{
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = smimp_pow_solve(&proof, &prefix, &nonce, (unsigned)bits,
				     &o, &r->pow_tries);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		r->pow_seconds = (double)(t1.tv_sec - t0.tv_sec) +
				 (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	}
	if (pr.shown)
		fprintf(stderr, "\rsmimp: proof of work for %s (%u bits): "
			"%llu tries in %.1f s%s\n", env->recipient, pr.bits,
			(unsigned long long)r->pow_tries, r->pow_seconds,
			rc == SMIMP_ERR_CANCELLED ? ", cancelled" : "        ");
	if (rc == SMIMP_ERR_CANCELLED)
		return smc_fail(e, 130, "cancelled during the proof of work; "
				"nothing was sent to %s", env->recipient);
	if (rc != SMIMP_OK)
		return smc_fail(e, SMC_EXIT_SOFTWARE,
				"proof of work for %s failed", env->recipient);
	smimp_pow_format(pow_out, &proof);
	return 0;
}

/* Step 6: POST send_message. A request whose answer was lost (network
 * failure, no HTTP status) is sent again, byte for byte, in the same
 * session: the server answers an identical retry with the first id (9). */
static int post_envelope(struct smc_sender *s, struct smc_send_slot *sl,
			 const char *path, const struct smimp_envelope *env,
			 struct smc_send_result *r, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	char endpoint[SMIMP_ADDRESS_PATH_MAX + 32];
	struct smimp_hash id;
	json_t *body = smimp_envelope_body_to_json(env), *ans = NULL;
	int rc = -1;

	if (body == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	snprintf(endpoint, sizeof endpoint, "send_message/%s", path);
	for (int attempt = 0;; attempt++) {
		memset(e, 0, sizeof *e);
		if (smc_api_call(s->c->t, sl->srv, &sl->sess, SMC_POST, endpoint,
				 body, 64 * 1024, &ans, e) == 0)
			break;
		if (e->http_status != 0 || e->exit_code != SMC_EXIT_TEMPFAIL ||
		    attempt >= 2) {
			smc_fail_prefix(e, "send_message to %s", env->recipient);
			goto out;
		}
		smc_say(s->c, "no answer from %s; sending the same envelope "
			"again (safe: the server stores it once)",
			sl->srv->origin);
		sleep(attempt == 0 ? 1 : 3);
	}
	if (ans == NULL ||
	    smimp_json_get_hex(ans, "message_id", 0, id.b, sizeof id.b, NULL,
			       &le) != SMIMP_OK) {
		/* The server said 200: the message exists. Retrying would
		 * send it twice, so this is not a temporary failure. */
		smc_fail(e, SMC_EXIT_PROTOCOL,
			 "send_message to %s: %s answered 200 without a valid "
			 "message id (%s); the message was probably stored",
			 env->recipient, sl->srv->origin,
			 ans == NULL ? "empty" : le.message);
		goto out;
	}
	smimp_hex_encode(r->message_id, sizeof r->message_id, id.b,
			 sizeof id.b);
	rc = 0;
out:
	json_decref(body);
	json_decref(ans);
	return rc;
}

/* One attempt for one recipient whose identity is resolved. *relogin is
 * set when the session was refused (401) so that the caller may try once
 * more with a new one. */
static int attempt(struct smc_sender *s, const struct smc_identity *id,
		   const char *message_type, const uint8_t *pt, size_t len,
		   struct smc_send_result *r, int *relogin, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	char path[SMIMP_ADDRESS_PATH_MAX + 1];
	char pow[SMIMP_POW_STRING_LEN + 1];
	struct smimp_envelope env;
	struct smimp_msgkey mk;
	struct smc_send_slot *sl;
	int rc = -1;

	memset(&env, 0, sizeof env);
	*relogin = 0;
	if (smimp_address_path_encode(path, id->address, &le) != SMIMP_OK)
		return smc_fail(e, SMC_EXIT_DATAERR, "%s", le.message);
	sl = slot_for(s, &id->server, e);
	if (sl == NULL)
		return -1;
	if ((unsigned long long)len + SMIMP_BOX_MAC_BYTES > sl->max_envelope)
		return smc_fail(e, SMC_EXIT_DATAERR,
				"the message (%zu bytes encrypted) is larger "
				"than %s accepts (%llu bytes)",
				len + SMIMP_BOX_MAC_BYTES, sl->srv->origin,
				sl->max_envelope);
	if (draw_key(s, sl, id, &mk, e) != 0)
		goto out;
	r->non_ephemeral = mk.kind == SMIMP_MSGKEY_NONEPHEMERAL;
	if (smimp_envelope_encrypt(&env, id->address, s->a->ks->address,
				   message_type, &mk.key, NULL, pt, len,
				   &s->a->ks->master.kp.sk,
				   &sl->sess.login_token_hash, &le) != SMIMP_OK) {
		smc_fail(e, le.code == SMIMP_ERR_BAD_KEY ? SMC_EXIT_PROTOCOL
							  : SMC_EXIT_DATAERR,
			 "encrypting for %s: %s; nothing was sent", id->address,
			 le.message);
		goto out;
	}
	if (proof_of_work(s, sl, path, &env, pow, r, e) != 0)
		goto out;
	if (smc_sender_cancelled()) {
		smc_fail(e, 130, "cancelled; nothing was sent to %s",
			 id->address);
		goto out;
	}
	if (smimp_envelope_sign(&env, pow[0] != '\0' ? pow : NULL,
				&s->a->ks->master.kp.sk, &le) != SMIMP_OK) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "signing: %s", le.message);
		goto out;
	}
	if (post_envelope(s, sl, path, &env, r, e) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && e->http_status == 401) {
		slot_drop_session(s, sl);
		*relogin = 1;
	}
	smimp_envelope_clear(&env);
	return rc;
}

enum smc_send_status smc_send_one(struct smc_sender *s, const char *recipient,
				  const char *message_type,
				  const uint8_t *plaintext, size_t len,
				  struct smc_send_result *r)
{
	struct smc_resolver res;
	struct smc_identity id;
	struct smc_err *e = &r->err;
	int relogin = 0;

	memset(r, 0, sizeof *r);
	memset(&id, 0, sizeof id);
	if (smc_sender_cancelled()) {
		smc_fail(e, 130, "cancelled; nothing was sent to %.300s",
			 recipient);
		r->status = SMC_SEND_CANCELLED;
		return r->status;
	}
	if (smc_ctx_resolver(s->c, &res, e) != 0 ||
	    smc_resolve_identity(&res, recipient, SMC_RESOLVE_QUICK, &id,
				 e) != 0)
		goto done;
	for (int tries = 0; tries < 2; tries++) {
		memset(e, 0, sizeof *e);
		if (attempt(s, &id, message_type, plaintext, len, r, &relogin,
			    e) == 0 || !relogin)
			break;
		smc_say(s->c, "the session on %s ended; logging in again",
			id.server.origin);
	}
done:
	smc_identity_free(&id);
	if (r->message_id[0] != '\0')
		r->status = SMC_SEND_SENT;
	else if (e->exit_code == 130)
		r->status = SMC_SEND_CANCELLED;
	else if (e->exit_code == SMC_EXIT_TEMPFAIL)
		r->status = SMC_SEND_TEMPFAIL;
	else
		r->status = SMC_SEND_FAILED;
	return r->status;
}

/* smimp-selfcheck: a complete SMIMP exchange between alice#a.test and
 * bob#b.test computed by libsmimp, step by step, with every verification a
 * real client and server would do, and the attacks they must catch. The
 * "server" here is an in-memory stand-in for the store callbacks; no
 * network is used. Exit 0 only when every step verified. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/address.h"
#include "smimp/discovery.h"
#include "smimp/envelope.h"
#include "smimp/hash.h"
#include "smimp/json.h"
#include "smimp/history.h"
#include "smimp/key.h"
#include "smimp/login.h"
#include "smimp/msgkey.h"
#include "smimp/payload.h"
#include "smimp/pin.h"
#include "smimp/pow.h"
#include "smimp/record.h"
#include "smimp/timestamp.h"

#define POW_BITS 16
#define BOB_EPHEMERAL_KEYS 3

static int quiet;
static int step_no;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void step(const char *what)
{
	say("\n[%d] %s\n", ++step_no, what);
}

/* Fails the whole run with the library's reason. */
static void require(int ok, const char *what, const struct smimp_error *err)
{
	if (ok) {
		say("    ok: %s\n", what);
		return;
	}
	fprintf(stderr, "selfcheck FAILED at step %d: %s%s%s\n", step_no, what,
		err != NULL ? ": " : "", err != NULL ? err->message : "");
	exit(1);
}

/* One identity: its keys (current and all earlier) and its history. */
struct person {
	const char *address;
	struct smimp_sign_keypair master;
	json_t *records; /* wire records, oldest first */
	struct smimp_history history;
};

static void append_record(struct person *p, const struct smimp_sign_keypair *key,
			  const struct smimp_sign_sk *signer, const char *name,
			  const char *website, int64_t changed_at)
{
	struct smimp_record_values v = {0};
	struct smimp_record rec;
	struct smimp_error err = {0};
	const struct smimp_record *last = NULL;
	size_t n = json_array_size(p->records);

	if (n > 0)
		last = smimp_history_latest(&p->history);
	v.address = p->address;
	v.public_key = &key->pk;
	v.previous = last != NULL ? &last->signed_hash : NULL;
	v.seq = (int64_t)n;
	v.changed_at = changed_at;
	v.name = name;
	v.website = website;
	require(smimp_record_build(&rec, &v, signer, &err) == SMIMP_OK,
		"record built and signed", &err);
	if (last != NULL)
		require(smimp_history_check_next(&p->history, &rec, changed_at,
						 &err) == SMIMP_OK,
			"the server accepts it as the next link of the chain",
			&err);
	json_array_append_new(p->records, smimp_record_to_json(&rec));
	smimp_record_free(&rec);
	smimp_history_free(&p->history);
	require(smimp_history_validate(&p->history, p->records, p->address,
				       &err) == SMIMP_OK,
		"the whole history validates", &err);
}

static void person_init(struct person *p, const char *address, int64_t now)
{
	memset(p, 0, sizeof *p);
	p->address = address;
	smimp_sign_keypair_generate(&p->master);
	p->records = json_array();
	append_record(p, &p->master, &p->master.sk, NULL, NULL, now);
}

/* ---- The in-memory server of bob#b.test, as acceptance callbacks. ---- */

struct fake_server {
	struct smimp_sign_pk bob_pk;
	struct smimp_box_pk issued_key;  /* the ephemeral key alice drew */
	int issued_key_used;
	struct smimp_token pow_nonce;
	int pow_nonce_used;
	const char *session;
	int stored;                      /* an envelope was accepted */
	struct smimp_signed_hash stored_hash;
	struct smimp_hash stored_id;
};

static enum smimp_err fake_recipient(void *ctx,
				     const struct smimp_accept_request *req,
				     enum smimp_recipient_state *state,
				     struct smimp_sign_pk *master_pk,
				     struct smimp_error *err)
{
	struct fake_server *s = ctx;

	(void)err;
	*state = strcmp(req->recipient, "bob#b.test") == 0 ?
		SMIMP_RECIPIENT_READY : SMIMP_RECIPIENT_UNKNOWN;
	*master_pk = s->bob_pk;
	return SMIMP_OK;
}

static enum smimp_err fake_pow_consume(void *ctx,
				       const struct smimp_accept_request *req,
				       const struct smimp_token *nonce,
				       const char *message_type,
				       enum smimp_pow_nonce_state *state,
				       struct smimp_pow_issue *issue,
				       struct smimp_error *err)
{
	struct fake_server *s = ctx;

	(void)err;
	if (req->session != s->session ||
	    memcmp(nonce->b, s->pow_nonce.b, sizeof nonce->b) != 0) {
		*state = SMIMP_POW_NONCE_UNKNOWN;
		return SMIMP_OK;
	}
	if (s->pow_nonce_used) {
		*state = SMIMP_POW_NONCE_USED;
		return SMIMP_OK;
	}
	s->pow_nonce_used = 1;
	*state = SMIMP_POW_NONCE_FRESH;
	issue->for_recipient = strcmp(req->recipient, "bob#b.test") == 0;
	issue->for_type = message_type != NULL &&
			  strcmp(message_type, "email") == 0;
	issue->zero_bits = POW_BITS;
	return SMIMP_OK;
}

static enum smimp_err fake_retry(void *ctx,
				 const struct smimp_accept_request *req,
				 const struct smimp_signed_hash *message_hash,
				 bool *found, struct smimp_hash *message_id,
				 struct smimp_error *err)
{
	struct fake_server *s = ctx;

	(void)err;
	*found = s->stored && req->session == s->session &&
		 smimp_signed_hash_equal(message_hash, &s->stored_hash);
	if (*found)
		*message_id = s->stored_id;
	return SMIMP_OK;
}

static enum smimp_err fake_provenance(void *ctx,
				      const struct smimp_accept_request *req,
				      const struct smimp_box_pk *key,
				      enum smimp_key_provenance *out,
				      struct smimp_error *err)
{
	struct fake_server *s = ctx;

	(void)req, (void)err;
	if (!smimp_box_pk_equal(key, &s->issued_key))
		*out = SMIMP_KEY_UNKNOWN;
	else
		*out = s->issued_key_used ? SMIMP_KEY_EPHEMERAL_USED :
					    SMIMP_KEY_EPHEMERAL_ISSUED;
	return SMIMP_OK;
}

static int show_progress(void *arg, uint64_t tries, double elapsed)
{
	(void)arg;
	say("    ... %llu tries in %.2f s\n", (unsigned long long)tries, elapsed);
	return 0;
}

int main(int argc, char **argv)
{
	struct person alice, bob;
	struct smimp_sign_keypair alice_new;
	struct smimp_pin alice_pin, bob_pin, alice_pin_before;
	struct smimp_error err = {0};
	int64_t now = smimp_timestamp_now();
	char base_url[SMIMP_BASE_URL_MAX + 1];

	if (argc > 1 && strcmp(argv[1], "--quiet") == 0)
		quiet = 1;
	else if (argc > 1) {
		fprintf(stderr, "usage: smimp-selfcheck [--quiet]\n");
		return 2;
	}
	if (smimp_init() != 0) {
		fprintf(stderr, "selfcheck: libsodium failed to initialize\n");
		return 1;
	}
	say("smimp self-check: alice#a.test sends bob#b.test an encrypted email\n");

	step("addresses are parsed and normalized");
	{
		char normal[SMIMP_ADDRESS_MAX + 1];

		require(smimp_address_normalize_str(normal, "Alice#A.Test", &err)
			== SMIMP_OK && strcmp(normal, "alice#a.test") == 0,
			"Alice#A.Test -> alice#a.test", &err);
		require(smimp_address_normalize_str(normal, "bob@b.test", NULL)
			!= SMIMP_OK, "bob@b.test is refused", NULL);
	}

	step("discovery: b.test's smimp.txt gives the base URL alice signs at login");
	{
		const char file[] = "\n  HTTPS://SMIMP.B.Test:8443/smimp/  \r\n";

		require(smimp_discovery_base_url_from_file(base_url, file,
							   sizeof file - 1,
							   &err) == SMIMP_OK,
			"smimp.txt parsed", &err);
		say("    base URL: %s\n", base_url);
		require(strcmp(base_url, "https://smimp.b.test:8443/smimp") == 0,
			"base URL in normal form", NULL);
	}

	step("alice and bob create their identities (record 0, self-signed)");
	person_init(&alice, "alice#a.test", now - 7200);
	person_init(&bob, "bob#b.test", now - 7200);

	step("first contact: each pins the other's history (trust on first use)");
	smimp_pin_from_history(&alice_pin, &alice.history);
	smimp_pin_from_history(&bob_pin, &bob.history);
	alice_pin_before = alice_pin;
	require(alice_pin.latest_seq == 0 && bob_pin.latest_seq == 0,
		"pins at seq 0", NULL);

	step("alice updates her profile, then rotates her master key");
	append_record(&alice, &alice.master, &alice.master.sk, "Alice",
		      "https://alice.a.test", now - 3600);
	smimp_sign_keypair_generate(&alice_new);
	/* A rotation record carries the new key and is signed by the old. */
	append_record(&alice, &alice_new, &alice.master.sk, "Alice", NULL,
		      now - 1800);
	smimp_sign_keypair_wipe(&alice.master);
	alice.master = alice_new;
	smimp_sign_keypair_wipe(&alice_new);

	step("bob refetches alice's history: it extends the pin, the pin moves");
	require(smimp_pin_advance(&alice_pin, &alice.history, &err) == SMIMP_OK &&
		alice_pin.latest_seq == 2, "pin advanced to seq 2", &err);

	step("attacks on alice's identity are caught against the pin");
	{
		json_t *truncated = json_array();
		struct smimp_history h;
		struct person mallory;

		json_array_append(truncated, json_array_get(alice.records, 0));
		require(smimp_history_validate(&h, truncated, alice.address,
					       &err) == SMIMP_OK,
			"a truncated history is self-consistent", &err);
		require(smimp_pin_check_history(&alice_pin, &h, &err) ==
			SMIMP_ERR_PIN_MISMATCH, "truncation refused", NULL);
		say("    reason: %s\n", err.message);
		smimp_history_free(&h);
		json_decref(truncated);

		person_init(&mallory, "alice#a.test", now - 60);
		require(smimp_pin_check_history(&alice_pin_before,
						&mallory.history, &err) ==
			SMIMP_ERR_PIN_MISMATCH, "replaced history refused", NULL);
		say("    reason: %s\n", err.message);
		smimp_history_free(&mallory.history);
		json_decref(mallory.records);
		smimp_sign_keypair_wipe(&mallory.master);
	}

	/* bob's message keys, as his client uploads them */
	struct smimp_box_keypair bob_keys[BOB_EPHEMERAL_KEYS];
	struct smimp_msgkey bob_signed[BOB_EPHEMERAL_KEYS];

	step("bob signs ephemeral message keys; alice draws one and checks it");
	for (int i = 0; i < BOB_EPHEMERAL_KEYS; i++) {
		smimp_box_keypair_generate(&bob_keys[i]);
		smimp_msgkey_sign(&bob_signed[i], bob.address,
				  SMIMP_MSGKEY_EPHEMERAL, &bob_keys[i].pk,
				  &bob.master.sk);
	}
	require(smimp_msgkey_verify(&bob_signed[0], bob.address,
				    &bob_pin.latest_public_key,
				    SMIMP_MSGKEY_EPHEMERAL, &err) == SMIMP_OK,
		"message key verifies with bob's pinned key", &err);
	require(smimp_msgkey_verify(&bob_signed[0], "carol#b.test",
				    &bob_pin.latest_public_key,
				    SMIMP_MSGKEY_EPHEMERAL, NULL) ==
		SMIMP_ERR_BAD_KEY, "the same key offered for carol is refused",
		NULL);

	step("alice logs in to bob's server");
	struct smimp_token token;
	struct smimp_signed_hash login_sig;
	struct smimp_hash login_token_hash;

	smimp_random_bytes(token.b, sizeof token.b);
	smimp_login_sign(&login_sig, base_url, alice.address, &token,
			 &alice.master.sk);
	require(smimp_login_verify(&login_sig, base_url, alice.address, &token,
				   smimp_history_latest_key(&alice.history)) ==
		SMIMP_OK, "login verifies with alice's latest key", NULL);
	require(smimp_login_verify(&login_sig, "https://evil.example", alice.address,
				   &token, smimp_history_latest_key(&alice.history))
		!= SMIMP_OK, "the same signature is refused at another server",
		NULL);
	smimp_login_token_hash(&login_token_hash, &token);

	step("alice writes an email with an attachment");
	static const char attachment_bytes[] = "quarterly figures: 42\n";
	struct smimp_attachment att = {
		.filename = "figures.txt",
		.content = (uint8_t *)attachment_bytes,
		.content_len = sizeof attachment_bytes - 1,
	};
	char *to[] = {"bob#b.test"};
	struct smimp_payload mail = {.type = SMIMP_MSGTYPE_EMAIL};
	uint8_t *plain = NULL;
	size_t plain_len = 0;

	mail.email.to = to;
	mail.email.n_to = 1;
	mail.email.subject = "Hello from a.test";
	smimp_random_bytes(mail.email.thread_id.b, sizeof mail.email.thread_id.b);
	mail.email.date_sent = now;
	mail.email.body = "Hi **Bob**, the figures are attached.";
	mail.email.attachments = &att;
	mail.email.n_attachments = 1;
	require(smimp_payload_serialize(&plain, &plain_len, &mail, alice.address,
					&err) == SMIMP_OK,
		"email payload built and validated", &err);
	say("    %zu bytes of plaintext\n", plain_len);

	step("alice encrypts it to bob's ephemeral key");
	struct smimp_envelope env;

	require(smimp_envelope_encrypt(&env, bob.address, alice.address, "email",
				       &bob_signed[0].key, NULL, plain, plain_len,
				       &alice.master.sk, &login_token_hash,
				       &err) == SMIMP_OK,
		"encrypted with crypto_box", &err);
	smimp_payload_bytes_free(plain, plain_len);
	say("    %zu bytes of ciphertext\n", env.ciphertext_len);

	step("bob's server hands out a proof-of-work nonce; alice solves it");
	struct fake_server server = {.session = "alice-session"};
	struct smimp_hash prefix;
	struct smimp_pow_proof proof;
	struct smimp_pow_solve_opts opts = {.progress = show_progress};
	char pow_string[SMIMP_POW_STRING_LEN + 1];
	uint64_t tries = 0;

	server.bob_pk = *smimp_history_latest_key(&bob.history);
	server.issued_key = bob_signed[0].key;
	smimp_random_bytes(server.pow_nonce.b, sizeof server.pow_nonce.b);
	smimp_envelope_pow_prefix(&prefix, &env, &server.pow_nonce);
	require(smimp_pow_solve(&proof, &prefix, &server.pow_nonce, POW_BITS,
				&opts, &tries) == SMIMP_OK,
		"proof of work solved", NULL);
	say("    %d zero bits after %llu tries\n", POW_BITS,
	    (unsigned long long)tries);
	smimp_pow_format(pow_string, &proof);

	step("alice signs the envelope and builds the send_message body");
	char *body;

	require(smimp_envelope_sign(&env, pow_string, &alice.master.sk, &err) ==
		SMIMP_OK, "message hash signed", &err);
	body = smimp_envelope_body_dump(&env);
	require(body != NULL, "body serialized", NULL);
	say("    %zu bytes of JSON\n", strlen(body));

	step("bob's server runs the whole acceptance check");
	struct smimp_accept_ops ops = {
		.ctx = &server,
		.recipient_state = fake_recipient,
		.pow_consume = fake_pow_consume,
		.retry_lookup = fake_retry,
		.key_provenance = fake_provenance,
	};
	struct smimp_accept_request req = {
		.recipient = bob.address,
		.sender = alice.address,
		.sender_pk = smimp_history_latest_key(&alice.history),
		.login_token_hash = &login_token_hash,
		.session = server.session,
		.body = body,
		.body_len = strlen(body),
		.max_envelope_bytes = SMIMP_ENVELOPE_DEFAULT_MAX_BYTES,
		.pow_required = true,
	};
	struct smimp_accept_result accepted;

	require(smimp_envelope_accept(&accepted, &req, &ops, &err) == SMIMP_OK &&
		!accepted.retry, "envelope accepted", &err);
	/* What the server commits before it answers 200. */
	server.stored = 1;
	server.stored_hash = accepted.envelope.message_hash;
	smimp_envelope_new_message_id(&server.stored_id);
	server.issued_key_used = 1;
	smimp_accept_result_clear(&accepted);
	require(smimp_envelope_accept(&accepted, &req, &ops, &err) == SMIMP_OK &&
		accepted.retry && smimp_hash_equal(&accepted.message_id,
						   &server.stored_id),
		"an identical retry in the same session gets the first "
		"message id and stores nothing", &err);
	smimp_accept_result_clear(&accepted);
	req.session = "another-session";
	/* The ephemeral key check comes before the proof of work (9). */
	require(smimp_envelope_accept(&accepted, &req, &ops, &err) ==
		SMIMP_ERR_BAD_KEY, "the same body replayed in another session "
		"is refused", NULL);
	say("    reason: %s\n", err.message);

	step("the server stores the envelope; bob fetches it");
	struct smimp_stored_envelope stored = {0};
	struct smimp_stored_envelope fetched;
	json_t *stored_json;
	char *stored_text;

	stored.env = env;
	stored.sender_public_key = *smimp_history_latest_key(&alice.history);
	stored.received_at = now;
	stored.has_pow_params = true;
	stored.pow_zero_bits = POW_BITS;
	stored.pow_nonce = server.pow_nonce;
	smimp_envelope_new_message_id(&stored.message_id);
	snprintf(stored.received_via, sizeof stored.received_via, "smimp_client");
	snprintf(stored.protocol_version, sizeof stored.protocol_version, "%s",
		 SMIMP_PROTOCOL_VERSION);
	stored_json = smimp_stored_envelope_to_json(&stored);
	stored_text = smimp_json_dump(stored_json);
	json_decref(stored_json);
	require(stored_text != NULL &&
		smimp_stored_envelope_parse(&fetched, stored_text,
					    strlen(stored_text),
					    SMIMP_ENVELOPE_DEFAULT_MAX_BYTES,
					    &err) == SMIMP_OK,
		"stored envelope parsed", &err);
	free(stored_text);

	step("bob checks the sender key against alice's validated history");
	require(smimp_history_key_status(&alice.history,
					 &fetched.sender_public_key) ==
		SMIMP_HISTORY_KEY_LATEST, "sender_public_key is alice's latest key",
		NULL);

	step("bob verifies the message hash and decrypts");
	uint8_t *opened = NULL;
	size_t opened_len = 0;
	struct smimp_payload got;

	require(smimp_envelope_open(&opened, &opened_len, &fetched.env,
				    &fetched.sender_public_key, &bob_keys[0].sk,
				    &err) == SMIMP_OK, "opened", &err);
	require(smimp_payload_parse(&got, fetched.env.message_type, opened,
				    opened_len, SMIMP_ENVELOPE_DEFAULT_MAX_BYTES,
				    fetched.env.sender, &err) == SMIMP_OK,
		"email payload parsed", &err);
	smimp_envelope_plaintext_free(opened, opened_len);
	say("    From:    %s\n    Subject: %s\n    Body:    %s\n",
	    fetched.env.sender, got.email.subject, got.email.body);
	require(got.email.n_attachments == 1 &&
		got.email.attachments[0].content_len == att.content_len &&
		memcmp(got.email.attachments[0].content, att.content,
		       att.content_len) == 0,
		"attachment figures.txt arrived intact", NULL);
	smimp_payload_free(&got);

	step("a changed byte is caught: the message shows as invalid");
	fetched.env.ciphertext[fetched.env.ciphertext_len / 2] ^= 1;
	require(smimp_envelope_open(&opened, &opened_len, &fetched.env,
				    &fetched.sender_public_key, &bob_keys[0].sk,
				    &err) != SMIMP_OK && opened == NULL,
		"tampered ciphertext refused, no content shown", NULL);
	say("    reason: %s\n", err.message);

	smimp_stored_envelope_clear(&fetched);
	smimp_accept_result_clear(&accepted);
	smimp_envelope_clear(&env);
	free(body);
	for (int i = 0; i < BOB_EPHEMERAL_KEYS; i++)
		smimp_box_keypair_wipe(&bob_keys[i]);
	smimp_sign_keypair_wipe(&alice.master);
	smimp_sign_keypair_wipe(&bob.master);
	json_decref(alice.records);
	json_decref(bob.records);
	smimp_history_free(&alice.history);
	smimp_history_free(&bob.history);
	say("\nself-check passed: %d steps verified\n", step_no);
	return 0;
}

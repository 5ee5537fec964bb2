/* Builds the core vectors: alice#a.test (seed 0x01, rotated to seed 0x03)
 * and bob#b.test (seed 0x02); H for every label; alice's three-record
 * history with a profile change and a key rotation, and its pin; one of
 * bob's message keys; alice's login at bob's server; a proof of work; the
 * full envelope of an email with an attachment. Every input is written
 * beside its outputs so another implementation can recompute them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_vectors.h"
#include "smimp/envelope.h"
#include "smimp/hash.h"
#include "smimp/history.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/login.h"
#include "smimp/msgkey.h"
#include "smimp/payload.h"
#include "smimp/pin.h"
#include "smimp/pow.h"
#include "smimp/record.h"
#include "smimp/timestamp.h"

#define ALICE "alice#a.test"
#define BOB "bob#b.test"
#define BASE_URL "https://smimp.b.test:8443"
#define POW_BITS 12

struct seeded {
	const char *name;
	uint8_t seed_byte;
	struct smimp_sign_keypair kp;
};

static void fill(void *p, uint8_t byte, size_t len)
{
	memset(p, byte, len);
}

static int fail(const char *what, const struct smimp_error *err)
{
	fprintf(stderr, "core vectors: %s: %s\n", what,
		err != NULL ? err->message : "failed");
	return -1;
}

static void set_hex(json_t *o, const char *name, const void *p, size_t len)
{
	smimp_json_set_hex(o, name, p, len);
}

static json_t *keys_section(struct seeded *people, size_t n)
{
	json_t *out = json_object();

	for (size_t i = 0; i < n; i++) {
		json_t *k = json_object();
		uint8_t seed[SMIMP_SIGN_SEED_BYTES];
		struct smimp_box_pk cpk;

		fill(seed, people[i].seed_byte, sizeof seed);
		smimp_sign_keypair_from_seed(&people[i].kp, seed);
		smimp_sign_pk_to_box(&cpk, &people[i].kp.pk);
		set_hex(k, "seed", seed, sizeof seed);
		set_hex(k, "ed25519_public_key", people[i].kp.pk.b,
			sizeof people[i].kp.pk.b);
		set_hex(k, "curve25519_public_key", cpk.b, sizeof cpk.b);
		json_object_set_new(out, people[i].name, k);
	}
	return out;
}

/* One H case: label, fields (kind, value) and the hash. */
static json_t *hash_case(const char *label, const struct smimp_field *f,
			 const char *const *names, const char *kinds, size_t n)
{
	json_t *c = json_object(), *fields = json_array();
	struct smimp_hash h;

	for (size_t i = 0; i < n; i++) {
		json_t *fj = json_object();

		json_object_set_new(fj, "name", json_string(names[i]));
		json_object_set_new(fj, "kind",
				    json_stringn(&kinds[i], 1));
		if (kinds[i] == 't')
			json_object_set_new(fj, "text",
					    json_stringn(f[i].ptr, f[i].len));
		else
			set_hex(fj, "hex", f[i].ptr, f[i].len);
		json_array_append_new(fields, fj);
	}
	smimp_hash_fields(&h, label, f, n);
	json_object_set_new(c, "label", json_string(label));
	json_object_set_new(c, "fields", fields);
	set_hex(c, "hash", h.b, sizeof h.b);
	return c;
}

static json_t *field_hash_section(void)
{
	json_t *cases = json_array();
	uint8_t k32[32], t32[32], image[8] = {0x89, 'P', 'N', 'G', 13, 10, 26, 10};
	uint8_t n24[24], ct[20];

	fill(k32, 0x7b, sizeof k32);
	fill(t32, 0x21, sizeof t32);
	fill(n24, 0x41, sizeof n24);
	for (size_t i = 0; i < sizeof ct; i++)
		ct[i] = (uint8_t)i;
	{
		const char *data = "{\"address\":\"alice#a.test\",\"seq\":0}";
		struct smimp_field f[] = {smimp_text(data)};
		const char *names[] = {"data"};

		json_array_append_new(cases, hash_case(SMIMP_LABEL_RECORD, f,
						       names, "t", 1));
	}
	{
		struct smimp_field f[] = {smimp_text(BOB), smimp_text("ephemeral"),
					  smimp_bytes(k32, 32)};
		const char *names[] = {"address", "kind", "key"};

		json_array_append_new(cases, hash_case(SMIMP_LABEL_MESSAGE_KEY,
						       f, names, "ttb", 3));
	}
	{
		struct smimp_field f[] = {smimp_text(BASE_URL), smimp_text(ALICE),
					  smimp_bytes(t32, 32)};
		const char *names[] = {"base_url", "address", "token"};

		json_array_append_new(cases, hash_case(SMIMP_LABEL_LOGIN, f,
						       names, "ttb", 3));
	}
	{
		struct smimp_field f[] = {smimp_bytes(t32, 32)};
		const char *names[] = {"token"};

		json_array_append_new(cases, hash_case(SMIMP_LABEL_LOGIN_TOKEN,
						       f, names, "b", 1));
	}
	{
		struct smimp_field f[] = {smimp_bytes(ct, sizeof ct)};
		const char *names[] = {"ciphertext"};

		json_array_append_new(cases, hash_case(SMIMP_LABEL_CIPHERTEXT,
						       f, names, "b", 1));
	}
	{
		struct smimp_field f[] = {smimp_bytes(t32, 32), smimp_bytes(k32, 32),
					  smimp_text(BOB), smimp_text("email"),
					  smimp_bytes(t32, 32)};
		const char *names[] = {"login_token_hash", "ciphertext_hash",
				       "recipient", "message_type", "pow_nonce"};

		json_array_append_new(cases, hash_case(SMIMP_LABEL_POW, f, names,
						       "bbttb", 5));
	}
	{
		struct smimp_field f[] = {
			smimp_text(BOB), smimp_text(ALICE), smimp_text("email"),
			smimp_text(SMIMP_ENVELOPE_ALGORITHM), smimp_bytes(k32, 32),
			smimp_bytes(n24, 24), smimp_bytes(ct, sizeof ct),
			smimp_text(""), smimp_bytes(t32, 32)};
		const char *names[] = {"recipient", "sender", "message_type",
				       "algorithm", "message_public_key", "nonce",
				       "ciphertext", "proof_of_work",
				       "login_token_hash"};

		json_array_append_new(cases, hash_case(SMIMP_LABEL_ENVELOPE, f,
						       names, "ttttbbbtb", 9));
	}
	{
		struct smimp_field f[] = {smimp_text(ALICE),
					  smimp_bytes(image, sizeof image)};
		const char *names[] = {"address", "image"};

		json_array_append_new(cases, hash_case(SMIMP_LABEL_AVATAR, f,
						       names, "tb", 2));
	}
	{
		struct smimp_field f[] = {smimp_text("b.test")};
		const char *names[] = {"value"};

		json_array_append_new(cases, hash_case(SMIMP_LABEL_LIST_ENTRY, f,
						       names, "t", 1));
	}
	{
		struct smimp_field f[] = {smimp_text(ALICE),
					  smimp_text("c0ffee00c0ffee00c0ffee00c0ffee00")};
		const char *names[] = {"address", "password"};

		json_array_append_new(cases, hash_case(SMIMP_LABEL_INIT_PASSWORD,
						       f, names, "tt", 2));
	}
	return cases;
}

/* alice's history: record 0 (key alice), 1 (profile), 2 (rotation to
 * alice_rotated, signed by the old key). */
static json_t *history_section(const struct smimp_sign_keypair *alice,
			       const struct smimp_sign_keypair *rotated,
			       struct smimp_history *out)
{
	static const char *const stamps[3] = {"2026-01-01 00:00:00",
					      "2026-01-02 00:00:00",
					      "2026-01-03 00:00:00"};
	static const char *const profiles[] = {"https://social.example/@alice"};
	json_t *records = json_array(), *section = json_object(), *pin_json;
	struct smimp_error err = {0};
	struct smimp_pin pin;

	for (int i = 0; i < 3; i++) {
		struct smimp_record_values v = {0};
		struct smimp_record rec;
		const struct smimp_record *last =
			i > 0 ? &out->records[i - 1] : NULL;

		v.address = ALICE;
		v.public_key = i < 2 ? &alice->pk : &rotated->pk;
		v.previous = last != NULL ? &last->signed_hash : NULL;
		v.seq = i;
		smimp_timestamp_parse(&v.changed_at, stamps[i], SMIMP_TIMESTAMP_LEN);
		v.name = i > 0 ? "Alice" : NULL;
		v.website = i == 1 ? "https://alice.a.test" : NULL;
		v.profiles = i == 1 ? profiles : NULL;
		v.n_profiles = i == 1 ? 1 : 0;
		if (smimp_record_build(&rec, &v, &alice->sk, &err) != SMIMP_OK) {
			fail("history record", &err);
			json_decref(records);
			json_decref(section);
			return NULL;
		}
		json_array_append_new(records, smimp_record_to_json(&rec));
		smimp_record_free(&rec);
		smimp_history_free(out);
		if (smimp_history_validate(out, records, ALICE, &err) != SMIMP_OK) {
			fail("history", &err);
			json_decref(records);
			json_decref(section);
			return NULL;
		}
	}
	smimp_pin_from_history(&pin, out);
	pin_json = smimp_pin_to_json(&pin);
	json_object_set_new(section, "address", json_string(ALICE));
	json_object_set_new(section, "changed_at", json_pack("[sss]", stamps[0],
							     stamps[1], stamps[2]));
	json_object_set_new(section, "records", records);
	json_object_set_new(section, "pin", pin_json);
	return section;
}

static json_t *message_key_section(const struct smimp_sign_keypair *bob,
				   struct smimp_box_keypair *mk)
{
	json_t *s = json_object();
	struct smimp_box_sk secret;
	struct smimp_msgkey signed_key;

	fill(secret.b, 0x11, sizeof secret.b);
	smimp_box_keypair_from_secret(mk, &secret);
	smimp_msgkey_sign(&signed_key, BOB, SMIMP_MSGKEY_EPHEMERAL, &mk->pk,
			  &bob->sk);
	json_object_set_new(s, "address", json_string(BOB));
	json_object_set_new(s, "kind", json_string("ephemeral"));
	json_object_set_new(s, "signed_by", json_string("bob"));
	set_hex(s, "secret", secret.b, sizeof secret.b);
	json_object_set_new(s, "object", smimp_msgkey_to_json(&signed_key));
	return s;
}

static json_t *login_section(const struct smimp_sign_keypair *alice_now,
			     struct smimp_hash *token_hash)
{
	json_t *s = json_object();
	struct smimp_token token;
	struct smimp_signed_hash sig;

	fill(token.b, 0x21, sizeof token.b);
	smimp_login_sign(&sig, BASE_URL, ALICE, &token, &alice_now->sk);
	smimp_login_token_hash(token_hash, &token);
	json_object_set_new(s, "base_url", json_string(BASE_URL));
	json_object_set_new(s, "address", json_string(ALICE));
	json_object_set_new(s, "signed_by", json_string("alice_rotated"));
	set_hex(s, "token", token.b, sizeof token.b);
	set_hex(s, "signed_hash", sig.b, sizeof sig.b);
	set_hex(s, "login_token_hash", token_hash->b, sizeof token_hash->b);
	return s;
}

static uint8_t *email_plaintext(size_t *len)
{
	static const char content[] = "quarterly figures: 42\n";
	struct smimp_attachment att = {"figures.txt", (uint8_t *)content,
				       sizeof content - 1};
	char *to[] = {BOB};
	struct smimp_payload p = {.type = SMIMP_MSGTYPE_EMAIL};
	struct smimp_error err = {0};
	uint8_t *out = NULL;

	p.email.to = to;
	p.email.n_to = 1;
	p.email.subject = "Core vector";
	fill(p.email.thread_id.b, 0x51, sizeof p.email.thread_id.b);
	smimp_timestamp_parse(&p.email.date_sent, "2026-01-04 00:00:00",
			      SMIMP_TIMESTAMP_LEN);
	p.email.body = "Hello **Bob**.";
	p.email.attachments = &att;
	p.email.n_attachments = 1;
	if (smimp_payload_serialize(&out, len, &p, ALICE, &err) != SMIMP_OK)
		fail("email payload", &err);
	return out;
}

/* The proof of work and the envelope of alice's email to bob. */
static int envelope_sections(json_t *root, const struct smimp_sign_keypair *alice_now,
			     const struct smimp_box_keypair *mk,
			     const struct smimp_hash *token_hash)
{
	json_t *pow = json_object(), *env_json = json_object();
	struct smimp_envelope env;
	struct smimp_box_nonce nonce;
	struct smimp_token pow_nonce;
	struct smimp_hash ct_hash, prefix, env_hash;
	struct smimp_pow_proof proof;
	struct smimp_pow_solve_opts one_thread = {.threads = 1};
	struct smimp_error err = {0};
	char pow_string[SMIMP_POW_STRING_LEN + 1];
	size_t plain_len = 0;
	uint64_t tries = 0;
	uint8_t *plain = email_plaintext(&plain_len);
	int rc = -1;

	fill(nonce.b, 0x41, sizeof nonce.b);
	fill(pow_nonce.b, 0x31, sizeof pow_nonce.b);
	if (plain == NULL ||
	    smimp_envelope_encrypt(&env, BOB, ALICE, "email", &mk->pk, &nonce,
				   plain, plain_len, &alice_now->sk, token_hash,
				   &err) != SMIMP_OK) {
		fail("encrypt", &err);
		goto out;
	}
	smimp_pow_ciphertext_hash(&ct_hash, env.ciphertext, env.ciphertext_len);
	smimp_envelope_pow_prefix(&prefix, &env, &pow_nonce);
	if (smimp_pow_solve(&proof, &prefix, &pow_nonce, POW_BITS, &one_thread,
			    &tries) != SMIMP_OK) {
		fail("pow", NULL);
		goto out;
	}
	smimp_pow_format(pow_string, &proof);
	set_hex(pow, "login_token_hash", token_hash->b, sizeof token_hash->b);
	set_hex(pow, "ciphertext_hash", ct_hash.b, sizeof ct_hash.b);
	json_object_set_new(pow, "recipient", json_string(BOB));
	json_object_set_new(pow, "message_type", json_string("email"));
	set_hex(pow, "pow_nonce", pow_nonce.b, sizeof pow_nonce.b);
	set_hex(pow, "pow_prefix", prefix.b, sizeof prefix.b);
	json_object_set_new(pow, "zero_bits", json_integer(POW_BITS));
	json_object_set_new(pow, "tries", json_integer((json_int_t)tries));
	json_object_set_new(pow, "proof_of_work", json_string(pow_string));

	if (smimp_envelope_sign(&env, pow_string, &alice_now->sk, &err) !=
	    SMIMP_OK) {
		fail("sign", &err);
		goto out;
	}
	smimp_envelope_hash(&env_hash, &env);
	json_object_set_new(env_json, "sender", json_string(ALICE));
	json_object_set_new(env_json, "recipient", json_string(BOB));
	json_object_set_new(env_json, "signed_by", json_string("alice_rotated"));
	json_object_set_new(env_json, "plaintext",
			    json_stringn((const char *)plain, plain_len));
	set_hex(env_json, "nonce", nonce.b, sizeof nonce.b);
	set_hex(env_json, "ciphertext", env.ciphertext, env.ciphertext_len);
	set_hex(env_json, "envelope_hash", env_hash.b, sizeof env_hash.b);
	json_object_set_new(env_json, "body", smimp_envelope_body_to_json(&env));
	rc = 0;
out:
	json_object_set_new(root, "proof_of_work", pow);
	json_object_set_new(root, "envelope", env_json);
	smimp_payload_bytes_free(plain, plain_len);
	smimp_envelope_clear(&env);
	return rc;
}

json_t *core_vectors_build(void)
{
	struct seeded people[] = {{"alice", 0x01, {{{0}}, {{0}}}},
				  {"bob", 0x02, {{{0}}, {{0}}}},
				  {"alice_rotated", 0x03, {{{0}}, {{0}}}}};
	struct smimp_history history = {0};
	struct smimp_box_keypair mk;
	struct smimp_hash token_hash;
	json_t *root = json_object(), *hist;
	int rc = 0;

	if (smimp_init() != 0)
		return NULL;
	json_object_set_new(root, "about", json_string(
		"smimp core vectors (tools/smimp-vectors): seeds are 32 bytes of "
		"the given value; every output is recomputed by "
		"tests/unit/test_core_vectors.c. Binary values are lowercase hex."));
	json_object_set_new(root, "keys", keys_section(people, 3));
	json_object_set_new(root, "field_hash", field_hash_section());
	hist = history_section(&people[0].kp, &people[2].kp, &history);
	if (hist == NULL)
		rc = -1;
	json_object_set_new(root, "history", hist != NULL ? hist : json_null());
	json_object_set_new(root, "message_key",
			    message_key_section(&people[1].kp, &mk));
	json_object_set_new(root, "login", login_section(&people[2].kp,
							 &token_hash));
	if (envelope_sections(root, &people[2].kp, &mk, &token_hash) != 0)
		rc = -1;
	smimp_history_free(&history);
	smimp_box_keypair_wipe(&mk);
	for (size_t i = 0; i < 3; i++)
		smimp_sign_keypair_wipe(&people[i].kp);
	if (rc != 0) {
		json_decref(root);
		return NULL;
	}
	return root;
}

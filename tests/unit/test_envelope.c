/* Envelopes (spec 9): the reference vectors' "envelope" reproduced byte for
 * byte, opening by the recipient, one tampered field at a time, the stored
 * envelope's JSON, the list verdict (11.8) and every outcome of the
 * server's acceptance check with fake store callbacks. */
#include <sodium.h>
#include <string.h>

#include "smimp/b64.h"
#include "smimp/envelope.h"
#include "smimp/hash.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/listpolicy.h"
#include "smimp/pow.h"
#include "testlib.h"
#include "vectors_util.h"

/* ---- The vector envelope ---- */

struct fixture {
	json_t *v;
	struct smimp_sign_keypair alice, bob;
	struct smimp_box_keypair mk;
	struct smimp_box_nonce nonce;
	struct smimp_hash login_token_hash;
	const char *plaintext;
	const char *pow;
	struct smimp_envelope env;
};

static int fixture_init(struct fixture *f)
{
	uint8_t seed[SMIMP_SIGN_SEED_BYTES];
	struct smimp_box_sk sk;
	struct smimp_error err = {0};

	memset(f, 0, sizeof *f);
	if (smimp_init() != 0 || (f->v = vectors_load(REFERENCE_VECTORS)) == NULL)
		return -1;
	memset(seed, 0x01, sizeof seed);
	smimp_sign_keypair_from_seed(&f->alice, seed);
	memset(seed, 0x02, sizeof seed);
	smimp_sign_keypair_from_seed(&f->bob, seed);
	memset(sk.b, 0x11, sizeof sk.b);
	smimp_box_keypair_from_secret(&f->mk, &sk);
	memset(f->nonce.b, 0x41, sizeof f->nonce.b);
	if (vectors_hex(f->v, "envelope.login_token_hash", f->login_token_hash.b,
			sizeof f->login_token_hash.b) != 0)
		return -1;
	f->plaintext = vectors_str(f->v, "envelope.plaintext");
	f->pow = vectors_str(f->v, "envelope.proof_of_work");
	if (f->plaintext == NULL || f->pow == NULL)
		return -1;
	if (smimp_envelope_encrypt(&f->env, "bob#example.com",
				   "alice#example.com", "email", &f->mk.pk,
				   &f->nonce, (const uint8_t *)f->plaintext,
				   strlen(f->plaintext), &f->alice.sk,
				   &f->login_token_hash, &err) != SMIMP_OK ||
	    smimp_envelope_sign(&f->env, f->pow, &f->alice.sk, &err) !=
	    SMIMP_OK) {
		fprintf(stderr, "build: %s\n", err.message);
		return -1;
	}
	return 0;
}

static void fixture_free(struct fixture *f)
{
	smimp_envelope_clear(&f->env);
	json_decref(f->v);
}

/* The hex of a buffer, in a static buffer (tests only). */
static const char *hexs(const void *p, size_t len)
{
	static char buf[4096];

	if (smimp_hex_encode(buf, sizeof buf, p, len) != 0)
		return "";
	return buf;
}

TEST(vector_message_key)
{
	struct fixture f;

	REQUIRE(fixture_init(&f) == 0);
	CHECK_STREQ(hexs(f.mk.pk.b, 32),
		    vectors_str(f.v, "envelope.message_key_public"));
	fixture_free(&f);
}

TEST(vector_ciphertext)
{
	struct fixture f;

	REQUIRE(fixture_init(&f) == 0);
	CHECK(f.env.ciphertext_len == strlen(f.plaintext) + 16);
	CHECK_STREQ(hexs(f.env.ciphertext, f.env.ciphertext_len),
		    vectors_str(f.v, "envelope.ciphertext"));
	fixture_free(&f);
}

TEST(vector_pow_prefix)
{
	struct fixture f;
	struct smimp_hash prefix, cth;
	struct smimp_token pow_nonce;
	struct smimp_pow_proof proof;

	REQUIRE(fixture_init(&f) == 0);
	smimp_pow_ciphertext_hash(&cth, f.env.ciphertext, f.env.ciphertext_len);
	CHECK_STREQ(hexs(cth.b, 32),
		    vectors_str(f.v, "proof_of_work.ciphertext_hash"));
	memset(pow_nonce.b, 0x31, sizeof pow_nonce.b);
	smimp_envelope_pow_prefix(&prefix, &f.env, &pow_nonce);
	CHECK_STREQ(hexs(prefix.b, 32),
		    vectors_str(f.v, "proof_of_work.pow_prefix"));
	REQUIRE(smimp_pow_parse(&proof, f.pow, strlen(f.pow)) == SMIMP_OK);
	CHECK(smimp_pow_verify(&proof, &prefix, 12) == SMIMP_OK);
	CHECK(smimp_pow_verify(&proof, &prefix, 13) != SMIMP_OK);
	fixture_free(&f);
}

TEST(vector_envelope_hash)
{
	struct fixture f;
	struct smimp_hash h;

	REQUIRE(fixture_init(&f) == 0);
	smimp_envelope_hash(&h, &f.env);
	CHECK_STREQ(hexs(h.b, 32), vectors_str(f.v, "envelope.envelope_hash"));
	fixture_free(&f);
}

TEST(vector_message_hash)
{
	struct fixture f;

	REQUIRE(fixture_init(&f) == 0);
	CHECK_STREQ(hexs(f.env.message_hash.b, 96),
		    vectors_str(f.v, "envelope.message_hash"));
	CHECK(smimp_envelope_verify(&f.env, &f.alice.pk, NULL) == SMIMP_OK);
	CHECK(smimp_envelope_verify(&f.env, &f.bob.pk, NULL) ==
	      SMIMP_ERR_BAD_SIGNATURE);
	fixture_free(&f);
}

TEST(vector_body)
{
	struct fixture f;
	char *got, *want;

	REQUIRE(fixture_init(&f) == 0);
	got = smimp_envelope_body_dump(&f.env);
	want = smimp_json_dump(json_object_get(json_object_get(f.v, "envelope"),
					       "body"));
	REQUIRE(got != NULL && want != NULL);
	CHECK_STREQ(got, want);
	/* Member order exactly as the spec's table. */
	CHECK(strncmp(got, "{\"message\":\"OfB2e1iANsqM", 23) == 0);
	CHECK(strstr(got, "\"nonce\":\"4141") < strstr(got, "\"proof_of_work\""));
	CHECK(strstr(got, "\"proof_of_work\"") < strstr(got, "\"message_hash\""));
	free(got);
	free(want);
	fixture_free(&f);
}

TEST(vector_body_parses)
{
	struct fixture f;
	struct smimp_envelope env;
	struct smimp_error err = {0};
	char *body;

	REQUIRE(fixture_init(&f) == 0);
	body = smimp_json_dump(json_object_get(json_object_get(f.v, "envelope"),
					       "body"));
	REQUIRE(body != NULL);
	REQUIRE(smimp_envelope_parse_body(&env, body, strlen(body),
					  "bob#example.com", "alice#example.com",
					  &f.login_token_hash,
					  SMIMP_ENVELOPE_DEFAULT_MAX_BYTES,
					  &err) == SMIMP_OK);
	CHECK(env.ciphertext_len == f.env.ciphertext_len);
	CHECK(memcmp(env.ciphertext, f.env.ciphertext, env.ciphertext_len) == 0);
	CHECK(env.has_proof_of_work);
	CHECK_STREQ(env.proof_of_work, f.pow);
	CHECK(smimp_signed_hash_equal(&env.message_hash, &f.env.message_hash));
	CHECK(smimp_envelope_verify(&env, &f.alice.pk, NULL) == SMIMP_OK);
	smimp_envelope_clear(&env);
	free(body);
	fixture_free(&f);
}

TEST(bob_opens_vector)
{
	struct fixture f;
	uint8_t *pt = NULL;
	size_t len = 0;
	struct smimp_error err = {0};

	REQUIRE(fixture_init(&f) == 0);
	REQUIRE(smimp_envelope_open(&pt, &len, &f.env, &f.alice.pk, &f.mk.sk,
				    &err) == SMIMP_OK);
	CHECK(len == strlen(f.plaintext));
	CHECK(memcmp(pt, f.plaintext, len) == 0);
	CHECK(pt[len] == '\0');
	smimp_envelope_plaintext_free(pt, len);
	fixture_free(&f);
}

TEST(random_nonce_and_null_pow)
{
	struct fixture f;
	struct smimp_envelope e2;
	uint8_t *pt = NULL;
	size_t len = 0;
	char *body;

	REQUIRE(fixture_init(&f) == 0);
	REQUIRE(smimp_envelope_encrypt(&e2, "bob#example.com",
				       "alice#example.com", "short-message",
				       &f.mk.pk, NULL, (const uint8_t *)"hi", 2,
				       &f.alice.sk, &f.login_token_hash,
				       NULL) == SMIMP_OK);
	CHECK(memcmp(e2.nonce.b, f.nonce.b, sizeof f.nonce.b) != 0);
	REQUIRE(smimp_envelope_sign(&e2, NULL, &f.alice.sk, NULL) == SMIMP_OK);
	body = smimp_envelope_body_dump(&e2);
	REQUIRE(body != NULL);
	CHECK(strstr(body, "\"proof_of_work\":null") != NULL);
	free(body);
	CHECK(smimp_envelope_open(&pt, &len, &e2, &f.alice.pk, &f.mk.sk,
				  NULL) == SMIMP_OK);
	CHECK(len == 2 && pt != NULL && memcmp(pt, "hi", 2) == 0);
	smimp_envelope_plaintext_free(pt, len);
	/* An empty proof_of_work string hashes like null but is a string. */
	REQUIRE(smimp_envelope_sign(&e2, "", &f.alice.sk, NULL) == SMIMP_OK);
	CHECK(e2.has_proof_of_work);
	smimp_envelope_clear(&e2);
	fixture_free(&f);
}

TEST(encrypt_rejects_bad_arguments)
{
	struct fixture f;
	struct smimp_envelope e2;

	REQUIRE(fixture_init(&f) == 0);
	CHECK(smimp_envelope_encrypt(&e2, "Bob#example.com", "alice#example.com",
				     "email", &f.mk.pk, NULL,
				     (const uint8_t *)"x", 1, &f.alice.sk,
				     &f.login_token_hash, NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(e2.ciphertext == NULL);
	CHECK(smimp_envelope_encrypt(&e2, "bob#example.com", "alice#example.com",
				     "x-custom-", &f.mk.pk, NULL,
				     (const uint8_t *)"x", 1, &f.alice.sk,
				     &f.login_token_hash, NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	fixture_free(&f);
}

/* ---- Stored envelopes, and one changed field at a time ---- */

static json_t *stored_json(const struct fixture *f)
{
	struct smimp_stored_envelope s;
	json_t *o;

	memset(&s, 0, sizeof s);
	s.env = f->env; /* borrowed: not cleared here */
	s.sender_public_key = f->alice.pk;
	s.received_at = 1451606401;
	s.has_pow_params = true;
	s.pow_zero_bits = 12;
	memset(s.pow_nonce.b, 0x31, sizeof s.pow_nonce.b);
	memset(s.message_id.b, 0x77, sizeof s.message_id.b);
	strcpy(s.received_via, "smimp_client");
	o = smimp_stored_envelope_to_json(&s);
	return o;
}

/* Parses o as a stored envelope and opens it with bob's message key and
 * alice's key: the result code (plaintext must stay NULL on failure). */
static enum smimp_err open_stored(const struct fixture *f, const json_t *o)
{
	struct smimp_stored_envelope s;
	uint8_t *pt = (uint8_t *)"sentinel";
	size_t len = 99;
	char *text = smimp_json_dump(o);
	enum smimp_err e;

	if (text == NULL)
		return SMIMP_ERR_INTERNAL;
	e = smimp_stored_envelope_parse(&s, text, strlen(text),
					SMIMP_ENVELOPE_DEFAULT_MAX_BYTES, NULL);
	free(text);
	if (e != SMIMP_OK)
		return e;
	e = smimp_envelope_open(&pt, &len, &s.env, &f->alice.pk, &f->mk.sk,
				NULL);
	if (e == SMIMP_OK)
		smimp_envelope_plaintext_free(pt, len);
	else if (pt != NULL || len != 0)
		e = SMIMP_ERR_INTERNAL; /* plaintext leaked on failure */
	smimp_stored_envelope_clear(&s);
	return e;
}

TEST(stored_round_trip)
{
	struct fixture f;
	struct smimp_stored_envelope s;
	json_t *o;
	char *text, *again;

	REQUIRE(fixture_init(&f) == 0);
	REQUIRE((o = stored_json(&f)) != NULL);
	text = smimp_json_dump(o);
	REQUIRE(text != NULL);
	CHECK(strstr(text, "\"message_hash\":\"6798bc19") <
	      strstr(text, "\"recipient\":\"bob#example.com\""));
	CHECK(strstr(text, "\"received_at\":\"2016-01-01 00:00:01\"") != NULL);
	CHECK(strstr(text, "\"pow_params\":{\"zero_bits\":12,\"nonce\":\"3131") !=
	      NULL);
	CHECK(strstr(text, "\"read\":false,\"extensions\":null,"
			   "\"protocol_version\":\"0.1\",\"folder\":null}") !=
	      NULL);
	REQUIRE(smimp_stored_envelope_parse(&s, text, strlen(text),
					    SMIMP_ENVELOPE_DEFAULT_MAX_BYTES,
					    NULL) == SMIMP_OK);
	CHECK_STREQ(s.env.recipient, "bob#example.com");
	CHECK_STREQ(s.env.sender, "alice#example.com");
	CHECK(smimp_sign_pk_equal(&s.sender_public_key, &f.alice.pk));
	CHECK(s.received_at == 1451606401);
	CHECK(s.has_pow_params && s.pow_zero_bits == 12);
	CHECK(!s.read && s.extensions == NULL && !s.has_folder);
	again = NULL;
	json_decref(o);
	o = smimp_stored_envelope_to_json(&s);
	REQUIRE(o != NULL);
	again = smimp_json_dump(o);
	CHECK_STREQ(again, text);
	CHECK(open_stored(&f, o) == SMIMP_OK);
	free(again);
	free(text);
	json_decref(o);
	smimp_stored_envelope_clear(&s);
	fixture_free(&f);
}

TEST(stored_rejects_bad_fields)
{
	struct fixture f;
	json_t *o;

	REQUIRE(fixture_init(&f) == 0);
	REQUIRE((o = stored_json(&f)) != NULL);
	json_object_set_new(o, "received_via", json_string("carrier_pigeon"));
	CHECK(open_stored(&f, o) == SMIMP_ERR_BAD_REQUEST);
	json_object_set_new(o, "received_via", json_string("smtp_bridge"));
	json_object_set_new(o, "folder", json_string("Inbox"));
	CHECK(open_stored(&f, o) == SMIMP_ERR_BAD_REQUEST);
	json_object_set_new(o, "folder", json_string("in-box_2"));
	json_object_set_new(o, "protocol_version", json_string("0.2"));
	CHECK(open_stored(&f, o) == SMIMP_ERR_BAD_REQUEST);
	json_object_set_new(o, "protocol_version", json_string("0.1"));
	json_object_set_new(o, "received_at", json_string("2016-01-01T00:00:01"));
	CHECK(open_stored(&f, o) == SMIMP_ERR_BAD_REQUEST);
	json_object_set_new(o, "received_at", json_string("2016-01-01 00:00:01"));
	json_object_set_new(o, "sender", json_string("Alice#example.com"));
	CHECK(open_stored(&f, o) == SMIMP_ERR_BAD_REQUEST);
	json_object_set_new(o, "sender", json_string("alice#example.com"));
	json_object_set_new(o, "read", json_integer(0));
	CHECK(open_stored(&f, o) == SMIMP_ERR_BAD_REQUEST);
	json_object_set_new(o, "read", json_true());
	json_object_set_new(o, "extensions", json_string("AAE="));
	json_object_set_new(o, "x-future", json_string("ignored"));
	CHECK(open_stored(&f, o) == SMIMP_OK);
	json_object_del(o, "message_id");
	CHECK(open_stored(&f, o) == SMIMP_ERR_BAD_REQUEST);
	json_decref(o);
	fixture_free(&f);
}

/* Changes one member of the vector's stored envelope and expects opening to
 * fail. */
static void tamper(const char *member, json_t *value)
{
	struct fixture f;
	json_t *o;
	enum smimp_err e;

	if (fixture_init(&f) != 0 || (o = stored_json(&f)) == NULL) {
		CHECK(0);
		json_decref(value);
		return;
	}
	CHECK(open_stored(&f, o) == SMIMP_OK);
	json_object_set_new(o, member, value);
	e = open_stored(&f, o);
	CHECK(e != SMIMP_OK && e != SMIMP_ERR_INTERNAL);
	json_decref(o);
	fixture_free(&f);
}

/* Same with a changed hex member: byte i of it xored with 1. */
static void tamper_hex(const char *member, size_t nbytes)
{
	struct fixture f;
	uint8_t buf[96];
	json_t *o;

	if (fixture_init(&f) != 0 || (o = stored_json(&f)) == NULL) {
		CHECK(0);
		return;
	}
	smimp_hex_decode_str(buf, nbytes, json_string_value(json_object_get(o,
				member)));
	buf[nbytes / 2] ^= 1;
	fixture_free(&f);
	json_decref(o);
	tamper(member, json_string(hexs(buf, nbytes)));
}

TEST(tampered_recipient)
{
	tamper("recipient", json_string("carol#example.com"));
}

TEST(tampered_sender)
{
	tamper("sender", json_string("carol#example.com"));
}

TEST(tampered_message_type)
{
	tamper("message_type", json_string("short-message"));
}

TEST(tampered_algorithm)
{
	struct fixture f;
	struct smimp_hash h1, h2;

	tamper("algorithm", json_string("curve25519xsalsa20poly1305 "));
	/* The hash binds the algorithm too, whatever a parser admits. */
	REQUIRE(fixture_init(&f) == 0);
	smimp_envelope_hash(&h1, &f.env);
	strcpy(f.env.algorithm, "xchacha20poly1305");
	smimp_envelope_hash(&h2, &f.env);
	CHECK(!smimp_hash_equal(&h1, &h2));
	CHECK(smimp_envelope_verify(&f.env, &f.alice.pk, NULL) ==
	      SMIMP_ERR_BAD_SIGNATURE);
	fixture_free(&f);
}

TEST(tampered_message_public_key)
{
	tamper_hex("message_public_key", 32);
}

TEST(tampered_nonce)
{
	tamper_hex("nonce", 24);
}

TEST(tampered_ciphertext)
{
	struct fixture f;
	char *b64;

	REQUIRE(fixture_init(&f) == 0);
	f.env.ciphertext[f.env.ciphertext_len / 2] ^= 0x01;
	b64 = smimp_b64_encode(f.env.ciphertext, f.env.ciphertext_len);
	REQUIRE(b64 != NULL);
	tamper("message", json_string(b64));
	free(b64);
	/* Also at the struct level: the hash fails first. */
	CHECK(smimp_envelope_verify(&f.env, &f.alice.pk, NULL) ==
	      SMIMP_ERR_BAD_SIGNATURE);
	fixture_free(&f);
}

TEST(tampered_proof_of_work)
{
	struct fixture f;
	char pow[SMIMP_POW_STRING_LEN + 1];

	REQUIRE(fixture_init(&f) == 0);
	strcpy(pow, f.pow);
	pow[100] = pow[100] == '0' ? '1' : '0';
	fixture_free(&f);
	tamper("proof_of_work", json_string(pow));
	tamper("proof_of_work", json_null());
	tamper("proof_of_work", json_string(""));
}

TEST(tampered_login_token_hash)
{
	tamper_hex("login_token_hash", 32);
}

TEST(tampered_message_hash)
{
	tamper_hex("message_hash", 96);
	/* A valid signature by alice over another envelope's hash. */
	{
		struct fixture f;
		struct smimp_hash other;
		struct smimp_signed_hash sh;

		REQUIRE(fixture_init(&f) == 0);
		memset(other.b, 0x5a, sizeof other.b);
		smimp_signed_hash_make(&sh, &other, &f.alice.sk);
		fixture_free(&f);
		tamper("message_hash", json_string(hexs(sh.b, 96)));
	}
}

TEST(open_with_wrong_keys)
{
	struct fixture f;
	struct smimp_box_sk other;
	uint8_t *pt = NULL;
	size_t len = 0;

	REQUIRE(fixture_init(&f) == 0);
	memset(other.b, 0x12, sizeof other.b);
	CHECK(smimp_envelope_open(&pt, &len, &f.env, &f.alice.pk, &other,
				  NULL) == SMIMP_ERR_BAD_KEY);
	CHECK(pt == NULL && len == 0);
	CHECK(smimp_envelope_open(&pt, &len, &f.env, &f.bob.pk, &f.mk.sk,
				  NULL) == SMIMP_ERR_BAD_SIGNATURE);
	CHECK(pt == NULL && len == 0);
	fixture_free(&f);
}

/* ---- Body parsing ---- */

static char *vector_body_with(const struct fixture *f, const char *member,
			      json_t *value)
{
	json_t *b = json_deep_copy(json_object_get(json_object_get(f->v,
						   "envelope"), "body"));
	char *s;

	if (member != NULL) {
		if (value != NULL)
			json_object_set_new(b, member, value);
		else
			json_object_del(b, member);
	}
	s = smimp_json_dump(b);
	json_decref(b);
	return s;
}

static enum smimp_err parse_with(const struct fixture *f, const char *member,
				 json_t *value, size_t max)
{
	struct smimp_envelope env;
	char *body = vector_body_with(f, member, value);
	enum smimp_err e;

	if (body == NULL)
		return SMIMP_ERR_INTERNAL;
	e = smimp_envelope_parse_body(&env, body, strlen(body),
				      "bob#example.com", "alice#example.com",
				      &f->login_token_hash, max, NULL);
	smimp_envelope_clear(&env);
	free(body);
	return e;
}

TEST(body_field_formats)
{
	struct fixture f;
	const size_t max = SMIMP_ENVELOPE_DEFAULT_MAX_BYTES;

	REQUIRE(fixture_init(&f) == 0);
	CHECK(parse_with(&f, NULL, NULL, max) == SMIMP_OK);
	CHECK(parse_with(&f, "x-extra", json_true(), max) == SMIMP_OK);
	CHECK(parse_with(&f, "message", NULL, max) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_with(&f, "message", json_string("AAA"), max) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_with(&f, "message", json_string("AAAAAAAAAAAAAAAAAAAA"),
			 max) == SMIMP_ERR_BAD_REQUEST); /* 15 bytes */
	CHECK(parse_with(&f, "message_type", json_string("video"), max) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_with(&f, "message_type", json_integer(1), max) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_with(&f, "algorithm", json_string("xsalsa20"), max) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_with(&f, "message_public_key", json_string("7B4E"), max) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_with(&f, "nonce", json_string("41414141414141414141414141414"
						  "14141414141414141414141"),
			 max) == SMIMP_ERR_BAD_REQUEST); /* odd length */
	CHECK(parse_with(&f, "proof_of_work", json_null(), max) == SMIMP_OK);
	CHECK(parse_with(&f, "proof_of_work", json_integer(3), max) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_with(&f, "proof_of_work", NULL, max) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_with(&f, "message_hash", json_string("00"), max) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_with(&f, NULL, NULL, SIZE_MAX) == SMIMP_OK); /* no overflow */
	CHECK(parse_with(&f, NULL, NULL, 100) == SMIMP_ERR_TOO_LARGE);
	CHECK(parse_with(&f, NULL, NULL, f.env.ciphertext_len) == SMIMP_OK);
	CHECK(parse_with(&f, NULL, NULL, f.env.ciphertext_len - 1) ==
	      SMIMP_ERR_TOO_LARGE);
	fixture_free(&f);
}

TEST(body_duplicate_member)
{
	struct fixture f;
	struct smimp_envelope env;
	char *body, *dup;
	size_t n;

	REQUIRE(fixture_init(&f) == 0);
	body = vector_body_with(&f, NULL, NULL);
	REQUIRE(body != NULL);
	n = strlen(body);
	dup = malloc(n + 64);
	REQUIRE(dup != NULL);
	memcpy(dup, body, n - 1);
	strcpy(dup + n - 1, ",\"message_type\":\"email\"}");
	CHECK(smimp_envelope_parse_body(&env, dup, strlen(dup),
					"bob#example.com", "alice#example.com",
					&f.login_token_hash,
					SMIMP_ENVELOPE_DEFAULT_MAX_BYTES, NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(env.ciphertext == NULL);
	free(dup);
	free(body);
	fixture_free(&f);
}

/* ---- List verdict (11.8) ---- */

struct fake_lists {
	struct {
		enum smimp_list_kind kind;
		struct smimp_hash h;
	} e[8];
	int n;
	int lookups;
};

static void list_add(struct fake_lists *l, enum smimp_list_kind kind,
		     const char *value)
{
	l->e[l->n].kind = kind;
	smimp_list_entry_hash(&l->e[l->n].h, value);
	l->n++;
}

static enum smimp_err fake_list_lookup(void *ctx, const char *owner,
				       enum smimp_list_kind kind,
				       const struct smimp_hash *entry,
				       bool *listed, struct smimp_error *err);

TEST(list_entry_hash)
{
	struct smimp_hash a, b;
	struct smimp_field fld = smimp_text("alice#example.com");

	smimp_list_entry_hash(&a, "alice#example.com");
	smimp_hash_fields(&b, "smimp/0.1/list-entry", &fld, 1);
	CHECK(smimp_hash_equal(&a, &b));
	CHECK(smimp_list_entry_hash_value(&b, "Alice#Example.COM", NULL) ==
	      SMIMP_OK);
	CHECK(smimp_hash_equal(&a, &b));
	smimp_list_entry_hash(&a, "example.com");
	CHECK(smimp_list_entry_hash_value(&b, "EXAMPLE.com", NULL) == SMIMP_OK);
	CHECK(smimp_hash_equal(&a, &b));
	CHECK(smimp_list_entry_hash_value(&b, "example.com.", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_list_entry_hash_value(&b, "a#b#c.com", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
}

TEST(list_first_match_wins)
{
	struct fake_lists l;
	enum smimp_list_verdict v;

	memset(&l, 0, sizeof l);
	CHECK(smimp_list_verdict(&v, "bob#example.com", "alice#example.com",
				 fake_list_lookup, &l, NULL) == SMIMP_OK);
	CHECK(v == SMIMP_LIST_DEFAULT);
	CHECK(l.lookups == 4);
	/* Address whitelist beats a domain blacklist. */
	list_add(&l, SMIMP_LIST_BLACKLIST, "example.com");
	list_add(&l, SMIMP_LIST_WHITELIST, "alice#example.com");
	CHECK(smimp_list_verdict(&v, "bob#example.com", "alice#example.com",
				 fake_list_lookup, &l, NULL) == SMIMP_OK);
	CHECK(v == SMIMP_LIST_ACCEPT_ADDRESS);
	CHECK(smimp_list_verdict(&v, "bob#example.com", "carol#example.com",
				 fake_list_lookup, &l, NULL) == SMIMP_OK);
	CHECK(v == SMIMP_LIST_REFUSE_DOMAIN);
	/* Address blacklist beats a domain whitelist. */
	memset(&l, 0, sizeof l);
	list_add(&l, SMIMP_LIST_WHITELIST, "example.com");
	list_add(&l, SMIMP_LIST_BLACKLIST, "alice#example.com");
	CHECK(smimp_list_verdict(&v, "bob#example.com", "alice#example.com",
				 fake_list_lookup, &l, NULL) == SMIMP_OK);
	CHECK(v == SMIMP_LIST_REFUSE_ADDRESS);
	CHECK(smimp_list_verdict(&v, "bob#example.com", "carol#example.com",
				 fake_list_lookup, &l, NULL) == SMIMP_OK);
	CHECK(v == SMIMP_LIST_ACCEPT_DOMAIN);
	/* A domain entry does not match subdomains. */
	CHECK(smimp_list_verdict(&v, "bob#example.com", "x#sub.example.com",
				 fake_list_lookup, &l, NULL) == SMIMP_OK);
	CHECK(v == SMIMP_LIST_DEFAULT);
	CHECK(smimp_list_verdict(&v, "bob#example.com", "nohash",
				 fake_list_lookup, &l, NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
}

/* ---- The acceptance check, with a fake store ---- */

static int session_s, session_t;

struct fake_store {
	enum smimp_recipient_state rstate;
	struct smimp_sign_pk master;
	struct fake_lists lists;
	/* One PoW nonce. */
	struct smimp_token pow_nonce;
	const void *pow_session;
	bool pow_used;
	char issued_recipient[SMIMP_ADDRESS_MAX + 1];
	char issued_type[SMIMP_MSGTYPE_MAX + 1];
	unsigned issued_bits;
	int consumes;
	/* One earlier message for the retry lookup. */
	bool has_earlier;
	struct smimp_signed_hash earlier_hash;
	const void *earlier_session;
	struct smimp_hash earlier_id;
	/* The earlier message commits when the key is looked up (an original
	 * racing its identical retry): has_earlier turns true there. */
	bool earlier_at_key_lookup;
	bool type_ok;
	struct smimp_box_pk key;
	enum smimp_key_provenance provenance;
	bool quota_ok;
	char trace[128];
};

static void trace(struct fake_store *s, const char *step)
{
	strncat(s->trace, step, sizeof s->trace - strlen(s->trace) - 1);
}

static enum smimp_err fake_list_lookup(void *ctx, const char *owner,
				       enum smimp_list_kind kind,
				       const struct smimp_hash *entry,
				       bool *listed, struct smimp_error *err)
{
	struct fake_lists *l = ctx;

	(void)owner;
	(void)err;
	l->lookups++;
	*listed = false;
	for (int i = 0; i < l->n; i++)
		if (l->e[i].kind == kind && smimp_hash_equal(&l->e[i].h, entry))
			*listed = true;
	return SMIMP_OK;
}

static enum smimp_err store_lists(void *ctx, const char *owner,
				  enum smimp_list_kind kind,
				  const struct smimp_hash *entry, bool *listed,
				  struct smimp_error *err)
{
	struct fake_store *s = ctx;

	if (strcmp(owner, "bob#example.com") != 0)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "wrong owner");
	trace(s, "L");
	return fake_list_lookup(&s->lists, owner, kind, entry, listed, err);
}

static enum smimp_err store_recipient(void *ctx,
				      const struct smimp_accept_request *req,
				      enum smimp_recipient_state *state,
				      struct smimp_sign_pk *master_pk,
				      struct smimp_error *err)
{
	struct fake_store *s = ctx;

	(void)err;
	trace(s, "R");
	*state = strcmp(req->recipient, "bob#example.com") == 0 ? s->rstate :
		 SMIMP_RECIPIENT_UNKNOWN;
	*master_pk = s->master;
	return SMIMP_OK;
}

static enum smimp_err store_pow(void *ctx,
				const struct smimp_accept_request *req,
				const struct smimp_token *nonce,
				const char *message_type,
				enum smimp_pow_nonce_state *state,
				struct smimp_pow_issue *issue,
				struct smimp_error *err)
{
	struct fake_store *s = ctx;

	(void)err;
	trace(s, "P");
	*state = SMIMP_POW_NONCE_UNKNOWN;
	if (memcmp(nonce->b, s->pow_nonce.b, sizeof nonce->b) != 0 ||
	    s->pow_session != req->session)
		return SMIMP_OK;
	if (s->pow_used) {
		*state = SMIMP_POW_NONCE_USED;
		return SMIMP_OK;
	}
	s->pow_used = true;
	s->consumes++;
	*state = SMIMP_POW_NONCE_FRESH;
	issue->zero_bits = s->issued_bits;
	issue->for_recipient = strcmp(req->recipient, s->issued_recipient) == 0;
	issue->for_type = message_type != NULL &&
			  strcmp(message_type, s->issued_type) == 0;
	return SMIMP_OK;
}

static enum smimp_err store_retry(void *ctx,
				  const struct smimp_accept_request *req,
				  const struct smimp_signed_hash *message_hash,
				  bool *found, struct smimp_hash *message_id,
				  struct smimp_error *err)
{
	struct fake_store *s = ctx;

	(void)err;
	trace(s, "D");
	*found = s->has_earlier && s->earlier_session == req->session &&
		 smimp_signed_hash_equal(&s->earlier_hash, message_hash) &&
		 strcmp(req->recipient, "bob#example.com") == 0;
	if (*found)
		*message_id = s->earlier_id;
	return SMIMP_OK;
}

static enum smimp_err store_type(void *ctx,
				 const struct smimp_accept_request *req,
				 const char *message_type, bool *allowed,
				 struct smimp_error *err)
{
	struct fake_store *s = ctx;

	(void)req;
	(void)err;
	(void)message_type;
	trace(s, "T");
	*allowed = s->type_ok;
	return SMIMP_OK;
}

static enum smimp_err store_key(void *ctx,
				const struct smimp_accept_request *req,
				const struct smimp_box_pk *key,
				enum smimp_key_provenance *out,
				struct smimp_error *err)
{
	struct fake_store *s = ctx;

	(void)req;
	(void)err;
	trace(s, "K");
	if (s->earlier_at_key_lookup)
		s->has_earlier = true;
	*out = smimp_box_pk_equal(key, &s->key) ? s->provenance :
	       SMIMP_KEY_UNKNOWN;
	return SMIMP_OK;
}

static enum smimp_err store_quota(void *ctx,
				  const struct smimp_accept_request *req,
				  size_t len, bool *fits,
				  struct smimp_error *err)
{
	struct fake_store *s = ctx;

	(void)req;
	(void)err;
	(void)len;
	trace(s, "Q");
	*fits = s->quota_ok;
	return SMIMP_OK;
}

struct accept_case {
	struct fixture f;
	struct fake_store store;
	struct smimp_accept_ops ops;
	struct smimp_accept_request req;
	struct smimp_accept_result res;
	struct smimp_error err;
	char *body;
};

/* The happy setup: the vector envelope, alice's session S, bob initialized,
 * nonce 0x31.. issued to S for bob and email at 12 bits, the message key an
 * ephemeral key issued to alice. */
static int case_init(struct accept_case *c)
{
	memset(c, 0, sizeof *c);
	if (fixture_init(&c->f) != 0)
		return -1;
	c->store.rstate = SMIMP_RECIPIENT_READY;
	c->store.master = c->f.bob.pk;
	memset(c->store.pow_nonce.b, 0x31, sizeof c->store.pow_nonce.b);
	c->store.pow_session = &session_s;
	strcpy(c->store.issued_recipient, "bob#example.com");
	strcpy(c->store.issued_type, "email");
	c->store.issued_bits = 12;
	c->store.type_ok = true;
	c->store.key = c->f.mk.pk;
	c->store.provenance = SMIMP_KEY_EPHEMERAL_ISSUED;
	c->store.quota_ok = true;
	c->ops.ctx = &c->store;
	c->ops.recipient_state = store_recipient;
	c->ops.list_lookup = store_lists;
	c->ops.pow_consume = store_pow;
	c->ops.retry_lookup = store_retry;
	c->ops.type_allowed = store_type;
	c->ops.key_provenance = store_key;
	c->ops.quota_check = store_quota;
	c->body = smimp_envelope_body_dump(&c->f.env);
	if (c->body == NULL)
		return -1;
	c->req.recipient = "bob#example.com";
	c->req.sender = "alice#example.com";
	c->req.sender_pk = &c->f.alice.pk;
	c->req.login_token_hash = &c->f.login_token_hash;
	c->req.session = &session_s;
	c->req.body = c->body;
	c->req.body_len = strlen(c->body);
	c->req.max_envelope_bytes = SMIMP_ENVELOPE_DEFAULT_MAX_BYTES;
	c->req.pow_required = true;
	return 0;
}

static void case_body(struct accept_case *c, char *body)
{
	free(c->body);
	c->body = body;
	c->req.body = body;
	c->req.body_len = body != NULL ? strlen(body) : 0;
}

/* Replaces the body by the vector's with one member changed. */
static void case_member(struct accept_case *c, const char *member,
			json_t *value)
{
	case_body(c, vector_body_with(&c->f, member, value));
}

/* Replaces the envelope: message_key, type and pow as given, re-signed. */
static int case_envelope(struct accept_case *c, const struct smimp_box_pk *key,
			 const char *type, const char *pow)
{
	struct smimp_envelope e2;

	if (smimp_envelope_encrypt(&e2, "bob#example.com", "alice#example.com",
				   type, key, NULL, (const uint8_t *)"{}", 2,
				   &c->f.alice.sk, &c->f.login_token_hash,
				   NULL) != SMIMP_OK ||
	    smimp_envelope_sign(&e2, pow, &c->f.alice.sk, NULL) != SMIMP_OK)
		return -1;
	case_body(c, smimp_envelope_body_dump(&e2));
	smimp_envelope_clear(&e2);
	return c->body != NULL ? 0 : -1;
}

static enum smimp_err case_run(struct accept_case *c)
{
	smimp_accept_result_clear(&c->res);
	c->store.trace[0] = '\0';
	c->store.lists.lookups = 0;
	memset(&c->err, 0, sizeof c->err);
	return smimp_envelope_accept(&c->res, &c->req, &c->ops, &c->err);
}

static void case_free(struct accept_case *c)
{
	smimp_accept_result_clear(&c->res);
	free(c->body);
	fixture_free(&c->f);
}

TEST(accept_happy_path)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	CHECK(case_run(&c) == SMIMP_OK);
	CHECK(!c.res.retry);
	CHECK(c.res.key_provenance == SMIMP_KEY_EPHEMERAL_ISSUED);
	CHECK(c.res.has_pow_params && c.res.pow_zero_bits == 12);
	CHECK(memcmp(c.res.pow_nonce.b, c.store.pow_nonce.b, 32) == 0);
	CHECK(c.res.list_verdict == SMIMP_LIST_DEFAULT);
	CHECK(c.res.envelope.ciphertext_len == c.f.env.ciphertext_len);
	CHECK_STREQ(c.res.envelope.recipient, "bob#example.com");
	CHECK_STREQ(c.res.envelope.sender, "alice#example.com");
	CHECK(smimp_signed_hash_equal(&c.res.envelope.message_hash,
				      &c.f.env.message_hash));
	CHECK(c.store.pow_used && c.store.consumes == 1);
	/* The order of cost: recipient, lists (4), PoW nonce used up as the
	 * body parses, retry, type, key, quota. */
	CHECK_STREQ(c.store.trace, "RLLLLPDTKQ");
	case_free(&c);
}

TEST(accept_minimal_ops)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	c.ops.list_lookup = NULL;
	c.ops.type_allowed = NULL;
	c.ops.quota_check = NULL;
	CHECK(case_run(&c) == SMIMP_OK);
	CHECK_STREQ(c.store.trace, "RPDK");
	c.ops.retry_lookup = NULL;
	CHECK(case_run(&c) == SMIMP_ERR_INTERNAL);
	case_free(&c);
}

TEST(accept_retry_returns_first_id)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	REQUIRE(case_run(&c) == SMIMP_OK);
	/* The first was stored; the same envelope again in the same session. */
	c.store.has_earlier = true;
	c.store.earlier_hash = c.f.env.message_hash;
	c.store.earlier_session = &session_s;
	memset(c.store.earlier_id.b, 0xab, 32);
	CHECK(case_run(&c) == SMIMP_OK);
	CHECK(c.res.retry);
	CHECK(memcmp(c.res.message_id.b, c.store.earlier_id.b, 32) == 0);
	CHECK(c.res.envelope.ciphertext == NULL);
	CHECK(c.store.consumes == 1);
	/* In another session it is not a retry: the nonce is foreign there. */
	c.req.session = &session_t;
	CHECK(case_run(&c) == SMIMP_ERR_BAD_PROOF_OF_WORK);
	case_free(&c);
}

/* Two copies of one envelope in flight: the original commits (message and
 * its ephemeral key's use) after this copy looked for a retry; the key then
 * reads used, and this copy is the identical retry, not bad_key. */
TEST(accept_retry_racing_its_original)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	c.store.earlier_hash = c.f.env.message_hash;
	c.store.earlier_session = &session_s;
	memset(c.store.earlier_id.b, 0xcd, 32);
	c.store.earlier_at_key_lookup = true;
	c.store.provenance = SMIMP_KEY_EPHEMERAL_USED;
	CHECK(case_run(&c) == SMIMP_OK);
	CHECK(c.res.retry);
	CHECK(memcmp(c.res.message_id.b, c.store.earlier_id.b, 32) == 0);
	CHECK(c.res.envelope.ciphertext == NULL);
	/* A used key with no such earlier message stays bad_key. */
	c.store.pow_used = false;
	c.store.has_earlier = false;
	c.store.earlier_at_key_lookup = false;
	CHECK(case_run(&c) == SMIMP_ERR_BAD_KEY);
	CHECK(!c.res.retry);
	case_free(&c);
}

TEST(accept_recipient_unknown)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	c.store.rstate = SMIMP_RECIPIENT_UNINITIALIZED;
	list_add(&c.store.lists, SMIMP_LIST_BLACKLIST, "alice#example.com");
	CHECK(case_run(&c) == SMIMP_ERR_NOT_FOUND);
	c.store.rstate = SMIMP_RECIPIENT_UNKNOWN;
	CHECK(case_run(&c) == SMIMP_ERR_NOT_FOUND);
	CHECK_STREQ(c.store.trace, "R");
	case_free(&c);
}

TEST(accept_blacklisted_address_rejected)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	list_add(&c.store.lists, SMIMP_LIST_BLACKLIST, "alice#example.com");
	CHECK(case_run(&c) == SMIMP_ERR_REJECTED);
	CHECK(c.err.code == SMIMP_ERR_REJECTED);
	CHECK(!c.store.pow_used);
	/* Lists come before field formats. */
	case_member(&c, "nonce", json_string("zz"));
	CHECK(case_run(&c) == SMIMP_ERR_REJECTED);
	case_free(&c);
}

TEST(accept_blacklisted_domain_rejected)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	list_add(&c.store.lists, SMIMP_LIST_BLACKLIST, "example.com");
	CHECK(case_run(&c) == SMIMP_ERR_REJECTED);
	/* ... unless the address itself is whitelisted. */
	list_add(&c.store.lists, SMIMP_LIST_WHITELIST, "alice#example.com");
	CHECK(case_run(&c) == SMIMP_OK);
	CHECK(c.res.list_verdict == SMIMP_LIST_ACCEPT_ADDRESS);
	case_free(&c);
}

TEST(accept_whitelisted_domain_zero_pow)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	c.store.issued_bits = 200; /* the vector's proof has 12 */
	CHECK(case_run(&c) == SMIMP_ERR_BAD_PROOF_OF_WORK);
	c.store.pow_used = false;
	list_add(&c.store.lists, SMIMP_LIST_WHITELIST, "example.com");
	CHECK(case_run(&c) == SMIMP_OK);
	CHECK(c.res.list_verdict == SMIMP_LIST_ACCEPT_DOMAIN);
	/* Zero bits, but the proof is still checked: a wrong hash fails. */
	c.store.pow_used = false;
	{
		char pow[SMIMP_POW_STRING_LEN + 1];

		strcpy(pow, c.f.pow);
		pow[5] = pow[5] == 'a' ? 'b' : 'a';
		REQUIRE(case_envelope(&c, &c.f.mk.pk, "email", pow) == 0);
	}
	CHECK(case_run(&c) == SMIMP_ERR_BAD_PROOF_OF_WORK);
	case_free(&c);
}

TEST(accept_reused_pow_nonce)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	c.store.pow_used = true;
	CHECK(case_run(&c) == SMIMP_ERR_BAD_PROOF_OF_WORK);
	case_free(&c);
}

TEST(accept_pow_used_up_whatever_fails)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	/* The first send fails on the key, after the nonce was named ... */
	c.store.provenance = SMIMP_KEY_UNKNOWN;
	CHECK(case_run(&c) == SMIMP_ERR_BAD_KEY);
	CHECK(c.store.pow_used);
	/* ... and on a field format ... */
	c.store.pow_used = false;
	case_member(&c, "nonce", json_string("zz"));
	CHECK(case_run(&c) == SMIMP_ERR_BAD_REQUEST);
	CHECK(c.store.pow_used);
	/* ... so that a correct send with the same nonce fails. */
	c.store.provenance = SMIMP_KEY_EPHEMERAL_ISSUED;
	case_member(&c, NULL, NULL);
	CHECK(case_run(&c) == SMIMP_ERR_BAD_PROOF_OF_WORK);
	case_free(&c);
}

TEST(accept_pow_of_another_session)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	c.store.pow_session = &session_t;
	CHECK(case_run(&c) == SMIMP_ERR_BAD_PROOF_OF_WORK);
	CHECK(!c.store.pow_used); /* another session's nonce is not used up */
	case_free(&c);
}

TEST(accept_pow_of_another_recipient)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	strcpy(c.store.issued_recipient, "carol#example.com");
	CHECK(case_run(&c) == SMIMP_ERR_BAD_PROOF_OF_WORK);
	case_free(&c);
}

TEST(accept_pow_of_another_type)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	strcpy(c.store.issued_type, "short-message");
	CHECK(case_run(&c) == SMIMP_ERR_BAD_PROOF_OF_WORK);
	case_free(&c);
}

TEST(accept_pow_short_of_bits)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	c.store.issued_bits = 13;
	CHECK(case_run(&c) == SMIMP_ERR_BAD_PROOF_OF_WORK);
	case_free(&c);
}

TEST(accept_pow_missing_or_malformed)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	REQUIRE(case_envelope(&c, &c.f.mk.pk, "email", NULL) == 0);
	CHECK(case_run(&c) == SMIMP_ERR_BAD_PROOF_OF_WORK);
	c.req.pow_required = false;
	CHECK(case_run(&c) == SMIMP_OK);
	CHECK(!c.res.has_pow_params);
	REQUIRE(case_envelope(&c, &c.f.mk.pk, "email", "nonsense") == 0);
	CHECK(case_run(&c) == SMIMP_ERR_BAD_PROOF_OF_WORK);
	CHECK(!c.store.pow_used);
	case_free(&c);
}

TEST(accept_message_key_is_master_key)
{
	struct accept_case c;
	struct smimp_box_pk k;

	REQUIRE(case_init(&c) == 0);
	c.req.pow_required = false;
	/* Curve25519 form. */
	REQUIRE(smimp_sign_pk_to_box(&k, &c.f.bob.pk) == SMIMP_OK);
	c.store.key = k;
	REQUIRE(case_envelope(&c, &k, "email", NULL) == 0);
	CHECK(case_run(&c) == SMIMP_ERR_BAD_KEY);
	/* Ed25519 form, byte for byte. */
	memcpy(k.b, c.f.bob.pk.b, 32);
	c.store.key = k;
	REQUIRE(case_envelope(&c, &k, "email", NULL) == 0);
	CHECK(case_run(&c) == SMIMP_ERR_BAD_KEY);
	case_free(&c);
}

TEST(accept_key_not_issued_to_sender)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	c.store.provenance = SMIMP_KEY_UNKNOWN;
	CHECK(case_run(&c) == SMIMP_ERR_BAD_KEY);
	c.store.pow_used = false;
	c.store.provenance = SMIMP_KEY_EPHEMERAL_USED;
	CHECK(case_run(&c) == SMIMP_ERR_BAD_KEY);
	c.store.pow_used = false;
	c.store.provenance = SMIMP_KEY_NONEPHEMERAL_RECENT;
	CHECK(case_run(&c) == SMIMP_OK);
	c.store.pow_used = false;
	c.store.provenance = SMIMP_KEY_NONEPHEMERAL_CURRENT;
	CHECK(case_run(&c) == SMIMP_OK);
	case_free(&c);
}

TEST(accept_bad_message_hash)
{
	struct accept_case c;
	char mh[193];

	REQUIRE(case_init(&c) == 0);
	c.req.sender_pk = &c.f.bob.pk; /* not the key that signed */
	CHECK(case_run(&c) == SMIMP_ERR_BAD_SIGNATURE);
	c.req.sender_pk = &c.f.alice.pk;
	c.store.pow_used = false;
	strcpy(mh, hexs(c.f.env.message_hash.b, 96));
	mh[10] = mh[10] == '0' ? '1' : '0';
	case_member(&c, "message_hash", json_string(mh));
	CHECK(case_run(&c) == SMIMP_ERR_BAD_SIGNATURE);
	/* Another session's login token hash: the proof of work binds it
	 * first, and without one the message hash does. */
	case_member(&c, NULL, NULL);
	c.store.pow_used = false;
	{
		struct smimp_hash other = c.f.login_token_hash;

		other.b[0] ^= 1;
		c.req.login_token_hash = &other;
		CHECK(case_run(&c) == SMIMP_ERR_BAD_PROOF_OF_WORK);
		REQUIRE(case_envelope(&c, &c.f.mk.pk, "email", NULL) == 0);
		c.req.pow_required = false;
		CHECK(case_run(&c) == SMIMP_ERR_BAD_SIGNATURE);
		c.req.login_token_hash = &c.f.login_token_hash;
		CHECK(case_run(&c) == SMIMP_OK);
	}
	case_free(&c);
}

TEST(accept_quota_exceeded)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	c.store.quota_ok = false;
	CHECK(case_run(&c) == SMIMP_ERR_QUOTA_EXCEEDED);
	case_free(&c);
}

TEST(accept_oversize)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	c.req.max_envelope_bytes = c.f.env.ciphertext_len - 1;
	CHECK(case_run(&c) == SMIMP_ERR_TOO_LARGE);
	c.req.max_envelope_bytes = 10;
	CHECK(case_run(&c) == SMIMP_ERR_TOO_LARGE); /* before parsing */
	case_free(&c);
}

TEST(accept_bad_hex)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	case_member(&c, "message_public_key",
		    json_string("7B4E909BBE7FFE44C465A220037D608EE35897D31EF972F"
				"07F74892CB0F73F13"));
	CHECK(case_run(&c) == SMIMP_ERR_BAD_REQUEST);
	case_member(&c, "message", json_string("not base64!"));
	CHECK(case_run(&c) == SMIMP_ERR_BAD_REQUEST);
	case_body(&c, strdup("{\"message\": 1"));
	CHECK(case_run(&c) == SMIMP_ERR_BAD_REQUEST);
	case_body(&c, strdup("[]"));
	CHECK(case_run(&c) == SMIMP_ERR_BAD_REQUEST);
	case_free(&c);
}

TEST(accept_unknown_type)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	case_member(&c, "message_type", json_string("x-custom-"));
	CHECK(case_run(&c) == SMIMP_ERR_BAD_REQUEST);
	case_member(&c, "algorithm", json_string("aes"));
	CHECK(case_run(&c) == SMIMP_ERR_BAD_REQUEST);
	case_free(&c);
}

TEST(accept_type_not_allowed)
{
	struct accept_case c;

	REQUIRE(case_init(&c) == 0);
	c.store.type_ok = false;
	CHECK(case_run(&c) == SMIMP_ERR_FORBIDDEN);
	CHECK_STREQ(c.store.trace, "RLLLLPDT");
	case_free(&c);
}

/* An oversized text is too_large (413) whether or not the caller asked for
 * an error message: the code must not depend on err being NULL. */
TEST(too_large_without_error_struct)
{
	const size_t n = 4 * SMIMP_ENVELOPE_EXTENSIONS_MAX;
	struct smimp_stored_envelope s;
	struct smimp_accept_result res;
	struct accept_case c;
	struct fixture f;
	char *pad = malloc(n + 1);

	REQUIRE(pad != NULL);
	memset(pad, 'a', n);
	pad[n] = '\0';
	REQUIRE(fixture_init(&f) == 0);
	CHECK(parse_with(&f, "x-pad", json_string(pad), 100) ==
	      SMIMP_ERR_TOO_LARGE);
	CHECK(smimp_stored_envelope_parse(&s, pad, n, 100, NULL) ==
	      SMIMP_ERR_TOO_LARGE);
	fixture_free(&f);
	REQUIRE(case_init(&c) == 0);
	case_member(&c, "x-pad", json_string(pad));
	c.req.max_envelope_bytes = 100;
	CHECK(case_run(&c) == SMIMP_ERR_TOO_LARGE);
	CHECK(smimp_envelope_accept(&res, &c.req, &c.ops, NULL) ==
	      SMIMP_ERR_TOO_LARGE);
	smimp_accept_result_clear(&res);
	case_free(&c);
	free(pad);
}

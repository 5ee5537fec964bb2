/* This project's known-answer vectors (tests/vectors/smimp-core.json):
 * every value is recomputed from seeded keys and fixed inputs and must match
 * the file byte for byte; then the file's values are checked the way a peer
 * would check them (history and pin, message key, login, proof of work,
 * envelope), independently of how they were built. */
#include <stdlib.h>
#include <string.h>

#include "core_vectors.h"
#include "smimp/envelope.h"
#include "smimp/hash.h"
#include "smimp/history.h"
#include "smimp/key.h"
#include "smimp/login.h"
#include "smimp/msgkey.h"
#include "smimp/pin.h"
#include "smimp/pow.h"
#include "testlib.h"
#include "vectors_util.h"

#define CORE_VECTORS SMIMP_SOURCE_DIR "/tests/vectors/smimp-core.json"

/* Reports the first difference between two JSON values, with its path. */
static int same(const json_t *want, const json_t *got, const char *path)
{
	char sub[512];
	const char *key;
	json_t *w;
	size_t i;

	if (json_is_object(want) && json_is_object(got)) {
		if (json_object_size(want) != json_object_size(got)) {
			fprintf(stderr, "%s: member count differs\n", path);
			return 0;
		}
		json_object_foreach((json_t *)want, key, w) {
			snprintf(sub, sizeof sub, "%s.%s", path, key);
			if (!same(w, json_object_get(got, key), sub))
				return 0;
		}
		return 1;
	}
	if (json_is_array(want) && json_is_array(got)) {
		if (json_array_size(want) != json_array_size(got)) {
			fprintf(stderr, "%s: length differs\n", path);
			return 0;
		}
		json_array_foreach(want, i, w) {
			snprintf(sub, sizeof sub, "%s[%zu]", path, i);
			if (!same(w, json_array_get(got, i), sub))
				return 0;
		}
		return 1;
	}
	if (!json_equal(want, got)) {
		fprintf(stderr, "%s: file has %s, recomputed %s\n", path,
			json_is_string(want) ? json_string_value(want) : "(value)",
			json_is_string(got) ? json_string_value(got) : "(value)");
		return 0;
	}
	return 1;
}

TEST(recompute_every_vector)
{
	json_t *file = vectors_load(CORE_VECTORS), *built;

	REQUIRE(file != NULL);
	built = core_vectors_build();
	REQUIRE(built != NULL);
	CHECK(same(file, built, "$"));
	json_decref(built);
	json_decref(file);
}

TEST(history_validates_and_pins)
{
	json_t *file = vectors_load(CORE_VECTORS);
	json_t *hist = json_object_get(file, "history");
	struct smimp_history h;
	struct smimp_pin pin, want;
	struct smimp_error err = {0};
	struct smimp_sign_pk rotated;

	REQUIRE(file != NULL && smimp_init() == 0);
	REQUIRE(smimp_history_validate(&h, json_object_get(hist, "records"),
				       "alice#a.test", &err) == SMIMP_OK);
	CHECK(h.count == 3);
	REQUIRE(vectors_hex(file, "keys.alice_rotated.ed25519_public_key",
			    rotated.b, sizeof rotated.b) == 0);
	CHECK(smimp_sign_pk_equal(smimp_history_latest_key(&h), &rotated));
	smimp_pin_from_history(&pin, &h);
	REQUIRE(smimp_pin_from_json(&want, json_object_get(hist, "pin"), &err) ==
		SMIMP_OK);
	CHECK(memcmp(&pin, &want, sizeof pin) == 0);
	smimp_history_free(&h);
	json_decref(file);
}

TEST(message_key_verifies)
{
	json_t *file = vectors_load(CORE_VECTORS);
	struct smimp_msgkey mk;
	struct smimp_sign_pk bob;
	struct smimp_error err = {0};

	REQUIRE(file != NULL && smimp_init() == 0);
	REQUIRE(vectors_hex(file, "keys.bob.ed25519_public_key", bob.b,
			    sizeof bob.b) == 0);
	REQUIRE(smimp_msgkey_from_json(&mk, json_object_get(json_object_get(
				file, "message_key"), "object"), &err) == SMIMP_OK);
	CHECK(smimp_msgkey_verify(&mk, "bob#b.test", &bob,
				  SMIMP_MSGKEY_EPHEMERAL, &err) == SMIMP_OK);
	CHECK(smimp_msgkey_verify(&mk, "alice#a.test", &bob,
				  SMIMP_MSGKEY_EPHEMERAL, NULL) == SMIMP_ERR_BAD_KEY);
	json_decref(file);
}

TEST(login_verifies)
{
	json_t *file = vectors_load(CORE_VECTORS);
	struct smimp_token token;
	struct smimp_signed_hash sig;
	struct smimp_sign_pk alice;
	struct smimp_hash th, want;

	REQUIRE(file != NULL && smimp_init() == 0);
	REQUIRE(vectors_hex(file, "login.token", token.b, sizeof token.b) == 0);
	REQUIRE(vectors_hex(file, "login.signed_hash", sig.b, sizeof sig.b) == 0);
	REQUIRE(vectors_hex(file, "login.login_token_hash", want.b,
			    sizeof want.b) == 0);
	REQUIRE(vectors_hex(file, "keys.alice_rotated.ed25519_public_key",
			    alice.b, sizeof alice.b) == 0);
	CHECK(smimp_login_verify(&sig, vectors_str(file, "login.base_url"),
				 "alice#a.test", &token, &alice) == SMIMP_OK);
	CHECK(smimp_login_verify(&sig, "https://smimp.a.test", "alice#a.test",
				 &token, &alice) == SMIMP_ERR_BAD_SIGNATURE);
	smimp_login_token_hash(&th, &token);
	CHECK(smimp_hash_equal(&th, &want));
	json_decref(file);
}

TEST(proof_of_work_and_envelope_open)
{
	json_t *file = vectors_load(CORE_VECTORS);
	json_t *body;
	struct smimp_envelope env;
	struct smimp_hash lth, prefix;
	struct smimp_pow_proof proof;
	struct smimp_sign_pk alice;
	struct smimp_box_sk mk;
	struct smimp_error err = {0};
	const char *pow, *plaintext;
	uint8_t *opened = NULL;
	size_t opened_len = 0;

	REQUIRE(file != NULL && smimp_init() == 0);
	REQUIRE(vectors_hex(file, "login.login_token_hash", lth.b,
			    sizeof lth.b) == 0);
	REQUIRE(vectors_hex(file, "keys.alice_rotated.ed25519_public_key",
			    alice.b, sizeof alice.b) == 0);
	REQUIRE(vectors_hex(file, "message_key.secret", mk.b, sizeof mk.b) == 0);
	body = json_object_get(json_object_get(file, "envelope"), "body");
	REQUIRE(smimp_envelope_from_body_json(&env, body, "bob#b.test",
					      "alice#a.test", &lth,
					      SMIMP_ENVELOPE_DEFAULT_MAX_BYTES,
					      &err) == SMIMP_OK);
	/* The proof of work binds this ciphertext, session and recipient. */
	pow = vectors_str(file, "proof_of_work.proof_of_work");
	REQUIRE(pow != NULL);
	REQUIRE(smimp_pow_parse(&proof, pow, strlen(pow)) == SMIMP_OK);
	smimp_envelope_pow_prefix(&prefix, &env, &proof.nonce);
	CHECK(smimp_pow_verify(&proof, &prefix, 12) == SMIMP_OK);
	/* bob opens it with the message key secret. */
	CHECK(smimp_envelope_open(&opened, &opened_len, &env, &alice, &mk,
				  &err) == SMIMP_OK);
	plaintext = vectors_str(file, "envelope.plaintext");
	REQUIRE(opened != NULL && plaintext != NULL);
	CHECK(opened_len == strlen(plaintext) &&
	      memcmp(opened, plaintext, opened_len) == 0);
	smimp_envelope_plaintext_free(opened, opened_len);
	smimp_envelope_clear(&env);
	json_decref(file);
}

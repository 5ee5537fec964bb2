/* The "keys" section of the reference vectors (../shared/spec/vectors.json):
 * master key pairs from seeds and their Curve25519 forms (spec 2, 5). */
#include <sodium.h>

#include "smimp/key.h"
#include "testlib.h"
#include "vectors_util.h"

static void check_person(const char *who)
{
	char path[128];
	uint8_t seed[SMIMP_SIGN_SEED_BYTES];
	struct smimp_sign_pk pk;
	struct smimp_sign_sk sk;
	struct smimp_box_pk cpk;
	struct smimp_box_sk csk, got_csk;
	struct smimp_box_pk got_cpk;
	struct smimp_sign_keypair kp;
	json_t *v = vectors_load(REFERENCE_VECTORS);

	REQUIRE(v != NULL);
	REQUIRE(smimp_init() == 0);
	snprintf(path, sizeof path, "keys.%s.seed", who);
	REQUIRE(vectors_hex(v, path, seed, sizeof seed) == 0);
	snprintf(path, sizeof path, "keys.%s.ed25519_public_key", who);
	REQUIRE(vectors_hex(v, path, pk.b, sizeof pk.b) == 0);
	snprintf(path, sizeof path, "keys.%s.ed25519_secret_key", who);
	REQUIRE(vectors_hex(v, path, sk.b, sizeof sk.b) == 0);
	snprintf(path, sizeof path, "keys.%s.curve25519_public_key", who);
	REQUIRE(vectors_hex(v, path, cpk.b, sizeof cpk.b) == 0);
	snprintf(path, sizeof path, "keys.%s.curve25519_secret_key", who);
	REQUIRE(vectors_hex(v, path, csk.b, sizeof csk.b) == 0);
	json_decref(v);

	smimp_sign_keypair_from_seed(&kp, seed);
	CHECK(memcmp(kp.pk.b, pk.b, sizeof pk.b) == 0);
	CHECK(memcmp(kp.sk.b, sk.b, sizeof sk.b) == 0);
	CHECK(smimp_sign_pk_check(&kp.pk) == SMIMP_OK);
	CHECK(smimp_sign_pk_to_box(&got_cpk, &kp.pk) == SMIMP_OK);
	CHECK(memcmp(got_cpk.b, cpk.b, sizeof cpk.b) == 0);
	CHECK(smimp_sign_sk_to_box(&got_csk, &kp.sk) == SMIMP_OK);
	CHECK(memcmp(got_csk.b, csk.b, sizeof csk.b) == 0);
	smimp_sign_keypair_wipe(&kp);
}

TEST(alice_keys)
{
	check_person("alice");
}

TEST(bob_keys)
{
	check_person("bob");
}

TEST(alice_rotated_keys)
{
	check_person("alice_rotated");
}

TEST(invalid_point_refused)
{
	struct smimp_sign_pk pk;

	/* All zero is the identity element's encoding: a small-order point
	 * that crypto_core_ed25519_is_valid_point refuses. */
	memset(pk.b, 0, sizeof pk.b);
	CHECK(smimp_sign_pk_check(&pk) == SMIMP_ERR_BAD_KEY);
	/* y = 2 is not on the curve. */
	pk.b[0] = 2;
	CHECK(smimp_sign_pk_check(&pk) == SMIMP_ERR_BAD_KEY);
}

/* smimp_sign_pk_to_box remembers recent conversions: keys that share a
 * memo slot (same first byte) must each still get their own result,
 * the first time and again, and a refused key stays refused. */
TEST(pk_to_box_memo_is_exact)
{
	struct smimp_sign_keypair kp;
	struct smimp_sign_pk keys[24], bad;
	struct smimp_box_pk want[24], got;
	uint8_t seed[SMIMP_SIGN_SEED_BYTES] = {0};
	size_t n = 0;

	REQUIRE(smimp_init() == 0);
	/* Keys whose first bytes are equal: found by trying seeds. */
	for (unsigned i = 0; n < 3 && i < 100000; i++) {
		memcpy(seed, &i, sizeof i);
		smimp_sign_keypair_from_seed(&kp, seed);
		if (kp.pk.b[0] == 0x42)
			keys[n++] = kp.pk;
		smimp_sign_keypair_wipe(&kp);
	}
	REQUIRE(n == 3);
	for (unsigned i = 0; i < 21; i++) {  /* and a few in other slots */
		seed[0] = (uint8_t)i;
		seed[1] = 0xee;
		smimp_sign_keypair_from_seed(&kp, seed);
		keys[n++] = kp.pk;
		smimp_sign_keypair_wipe(&kp);
	}
	for (size_t i = 0; i < n; i++)
		REQUIRE(crypto_sign_ed25519_pk_to_curve25519(want[i].b, keys[i].b) == 0);
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < n; i++) {
			size_t k = round == 1 ? n - 1 - i : i;

			CHECK(smimp_sign_pk_to_box(&got, &keys[k]) == SMIMP_OK);
			CHECK(memcmp(got.b, want[k].b, sizeof got.b) == 0);
		}
	}
	memset(bad.b, 0, sizeof bad.b);
	bad.b[0] = 2;  /* not on the curve */
	CHECK(smimp_sign_pk_to_box(&got, &bad) == SMIMP_ERR_BAD_KEY);
	CHECK(smimp_sign_pk_to_box(&got, &bad) == SMIMP_ERR_BAD_KEY);
}

TEST(error_registry_codes)
{
	CHECK_STREQ(smimp_err_code(SMIMP_ERR_BAD_REQUEST), "bad_request");
	CHECK(smimp_err_http_status(SMIMP_ERR_BAD_REQUEST) == 400);
	CHECK_STREQ(smimp_err_code(SMIMP_ERR_REJECTED), "rejected");
	CHECK(smimp_err_http_status(SMIMP_ERR_REJECTED) == 403);
	CHECK_STREQ(smimp_err_code(SMIMP_ERR_UNSUPPORTED_VERSION),
		    "unsupported_version");
	CHECK(smimp_err_http_status(SMIMP_ERR_UNSUPPORTED_VERSION) == 404);
	CHECK_STREQ(smimp_err_code(SMIMP_ERR_QUOTA_EXCEEDED), "quota_exceeded");
	CHECK(smimp_err_http_status(SMIMP_ERR_QUOTA_EXCEEDED) == 507);
	CHECK_STREQ(smimp_err_code(SMIMP_ERR_PIN_MISMATCH), "upstream");
	CHECK(smimp_err_http_status(SMIMP_ERR_PIN_MISMATCH) == 502);
	CHECK_STREQ(smimp_err_code((enum smimp_err)999), "internal");
	for (int e = 0; e < SMIMP_ERR_COUNT; e++)
		CHECK(smimp_err_name((enum smimp_err)e) != NULL &&
		      strncmp(smimp_err_name((enum smimp_err)e), "SMIMP_", 6) == 0);
}

TEST(error_prefix_keeps_code_and_text)
{
	struct smimp_error err;

	CHECK(smimp_error_set(&err, SMIMP_ERR_CONFLICT, "seq %d", 3) ==
	      SMIMP_ERR_CONFLICT);
	CHECK(smimp_error_prefix(&err, "record %d", 2) == SMIMP_ERR_CONFLICT);
	CHECK_STREQ(err.message, "record 2: seq 3");
}

/* Login (spec 7): the reference vector (login hash, signed hash, login token
 * hash) and a verifier that accepts nothing but the exact base URL, address,
 * token and master key. */
#include <jansson.h>

#include "smimp/hex.h"
#include "smimp/key.h"
#include "smimp/login.h"
#include "testlib.h"
#include "vectors_util.h"

/* Alice's login of the vector: her key, the token, the body's signed hash. */
struct fixture {
	struct smimp_sign_keypair alice;
	struct smimp_token token;
	struct smimp_signed_hash sh;
	const char *base_url, *address;
};

static int load_fixture(struct fixture *f)
{
	const json_t *v = vectors_section("login");

	if (v == NULL ||
	    vectors_keypair(&f->alice, vectors_str(v, "signed_by")) != 0 ||
	    vectors_hex(v, "token", f->token.b, 32) != 0 ||
	    vectors_hex(v, "body.signed_hash", f->sh.b, 96) != 0)
		return -1;
	f->base_url = vectors_str(v, "base_url");
	f->address = vectors_str(v, "address");
	return f->base_url != NULL && f->address != NULL ? 0 : -1;
}

TEST(vector_hash)
{
	struct smimp_hash want, got;
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	REQUIRE(vectors_hex(vectors_section("login"), "hash", want.b, 32) == 0);
	smimp_login_hash(&got, f.base_url, f.address, &f.token);
	CHECK(memcmp(got.b, want.b, 32) == 0);
}

TEST(vector_signed_hash)
{
	struct smimp_signed_hash got;
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	CHECK_STREQ(vectors_str(vectors_section("login"), "body.token"),
		    vectors_str(vectors_section("login"), "token"));
	smimp_login_sign(&got, f.base_url, f.address, &f.token, &f.alice.sk);
	CHECK(memcmp(got.b, f.sh.b, 96) == 0);
}

TEST(vector_login_token_hash)
{
	struct smimp_hash want, got, pow_side;
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	REQUIRE(vectors_hex(vectors_ref(), "login.login_token_hash", want.b,
			    32) == 0);
	/* The same value binds the proof of work of the vectors. */
	REQUIRE(vectors_hex(vectors_ref(), "proof_of_work.login_token_hash",
			    pow_side.b, 32) == 0);
	smimp_login_token_hash(&got, &f.token);
	CHECK(memcmp(got.b, want.b, 32) == 0);
	CHECK(memcmp(got.b, pow_side.b, 32) == 0);
}

TEST(verify_ok)
{
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	CHECK(smimp_login_verify(&f.sh, f.base_url, f.address, &f.token,
				 &f.alice.pk) == SMIMP_OK);
}

TEST(verify_rejects_other_base_url)
{
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	CHECK(smimp_login_verify(&f.sh, "https://evil.example.com", f.address,
				 &f.token, &f.alice.pk) ==
	      SMIMP_ERR_BAD_SIGNATURE);
	CHECK(smimp_login_verify(&f.sh, "https://smimp.example.com/", f.address,
				 &f.token, &f.alice.pk) ==
	      SMIMP_ERR_BAD_SIGNATURE);
	CHECK(smimp_login_verify(&f.sh, "", f.address, &f.token,
				 &f.alice.pk) == SMIMP_ERR_BAD_SIGNATURE);
}

TEST(verify_rejects_other_address)
{
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	CHECK(smimp_login_verify(&f.sh, f.base_url, "bob#example.com",
				 &f.token, &f.alice.pk) ==
	      SMIMP_ERR_BAD_SIGNATURE);
	/* Fields are length-prefixed: moving bytes between them fails. */
	CHECK(smimp_login_verify(&f.sh, "https://smimp.example.comalice",
				 "#example.com", &f.token, &f.alice.pk) ==
	      SMIMP_ERR_BAD_SIGNATURE);
}

TEST(verify_rejects_other_token)
{
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	f.token.b[31] ^= 1;
	CHECK(smimp_login_verify(&f.sh, f.base_url, f.address, &f.token,
				 &f.alice.pk) == SMIMP_ERR_BAD_SIGNATURE);
}

TEST(verify_rejects_other_key)
{
	struct smimp_sign_keypair bob;
	struct smimp_signed_hash sh;
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	REQUIRE(vectors_keypair(&bob, "bob") == 0);
	CHECK(smimp_login_verify(&f.sh, f.base_url, f.address, &f.token,
				 &bob.pk) == SMIMP_ERR_BAD_SIGNATURE);
	/* Bob signing alice's login does not pass as alice. */
	smimp_login_sign(&sh, f.base_url, f.address, &f.token, &bob.sk);
	CHECK(smimp_login_verify(&sh, f.base_url, f.address, &f.token,
				 &f.alice.pk) == SMIMP_ERR_BAD_SIGNATURE);
	/* A tampered signature fails even with the right hash embedded. */
	f.sh.b[0] ^= 1;
	CHECK(smimp_login_verify(&f.sh, f.base_url, f.address, &f.token,
				 &f.alice.pk) == SMIMP_ERR_BAD_SIGNATURE);
}

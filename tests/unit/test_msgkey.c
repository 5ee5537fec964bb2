/* Message keys (spec 6): the reference vector, verification against the
 * owner's master key (address, kind, signer, master key in either form) and
 * the JSON form, which comes from an untrusted server. */
#include <jansson.h>

#include "smimp/hex.h"
#include "smimp/key.h"
#include "smimp/msgkey.h"
#include "testlib.h"
#include "vectors_util.h"

/* Bob's vector key pair and his message key signed for bob#example.com. */
struct fixture {
	struct smimp_sign_keypair bob;
	struct smimp_box_keypair mkp;
	struct smimp_msgkey mk;
	const char *address;
};

static int load_fixture(struct fixture *f)
{
	const json_t *v = vectors_section("message_key");
	struct smimp_box_sk secret;

	if (v == NULL || vectors_keypair(&f->bob, "bob") != 0 ||
	    vectors_hex(v, "secret", secret.b, sizeof secret.b) != 0)
		return -1;
	smimp_box_keypair_from_secret(&f->mkp, &secret);
	f->address = vectors_str(v, "address");
	smimp_msgkey_sign(&f->mk, f->address, SMIMP_MSGKEY_EPHEMERAL,
			  &f->mkp.pk, &f->bob.sk);
	return 0;
}

TEST(vector_reproduces)
{
	const json_t *v = vectors_section("message_key");
	struct smimp_signed_hash sh;
	struct smimp_box_pk pub;
	struct smimp_hash h, want;
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	REQUIRE(vectors_hex(v, "public", pub.b, 32) == 0);
	REQUIRE(vectors_hex(v, "hash", want.b, 32) == 0);
	REQUIRE(vectors_hex(v, "object.signed_hash", sh.b, 96) == 0);
	CHECK_STREQ(vectors_str(v, "kind"), "ephemeral");
	CHECK(memcmp(f.mkp.pk.b, pub.b, 32) == 0);
	smimp_msgkey_hash(&h, f.address, SMIMP_MSGKEY_EPHEMERAL, &pub);
	CHECK(memcmp(h.b, want.b, 32) == 0);
	CHECK(memcmp(f.mk.key.b, pub.b, 32) == 0);
	CHECK(f.mk.kind == SMIMP_MSGKEY_EPHEMERAL);
	CHECK(memcmp(f.mk.signed_hash.b, sh.b, 96) == 0);
}

TEST(vector_json_byte_for_byte)
{
	json_t *got, *want = json_object_get(vectors_section("message_key"),
					     "object");
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	REQUIRE(want != NULL);
	got = smimp_msgkey_to_json(&f.mk);
	REQUIRE(got != NULL);
	CHECK(json_equal(got, want));
	CHECK(json_object_size(got) == 3);
	json_decref(got);
}

TEST(vector_verify_ok)
{
	const json_t *v = vectors_section("message_key");
	struct smimp_error err = {0};
	struct smimp_msgkey mk;
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	REQUIRE(smimp_msgkey_from_json(&mk, json_object_get(v, "object"),
				       &err) == SMIMP_OK);
	CHECK(smimp_msgkey_verify(&mk, f.address, &f.bob.pk, -1, &err) ==
	      SMIMP_OK);
	CHECK(smimp_msgkey_verify(&mk, f.address, &f.bob.pk,
				  SMIMP_MSGKEY_EPHEMERAL, &err) == SMIMP_OK);
	/* The non-ephemeral kind signs and verifies the same way. */
	smimp_msgkey_sign(&mk, f.address, SMIMP_MSGKEY_NONEPHEMERAL,
			  &f.mkp.pk, &f.bob.sk);
	CHECK(smimp_msgkey_verify(&mk, f.address, &f.bob.pk,
				  SMIMP_MSGKEY_NONEPHEMERAL, &err) == SMIMP_OK);
}

TEST(verify_wrong_address)
{
	struct smimp_error err = {0};
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	CHECK(smimp_msgkey_verify(&f.mk, "alice#example.com", &f.bob.pk, -1,
				  &err) == SMIMP_ERR_BAD_KEY);
	CHECK(err.code == SMIMP_ERR_BAD_KEY && err.message[0] != '\0');
	CHECK(smimp_msgkey_verify(&f.mk, "bob#example.org", &f.bob.pk, -1,
				  NULL) == SMIMP_ERR_BAD_KEY);
}

TEST(verify_wrong_kind)
{
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	/* Expected another kind. */
	CHECK(smimp_msgkey_verify(&f.mk, f.address, &f.bob.pk,
				  SMIMP_MSGKEY_NONEPHEMERAL, NULL) ==
	      SMIMP_ERR_BAD_KEY);
	CHECK(smimp_msgkey_verify(&f.mk, f.address, &f.bob.pk, 7, NULL) ==
	      SMIMP_ERR_BAD_KEY);
	/* A server passing the ephemeral signature off as non-ephemeral. */
	f.mk.kind = SMIMP_MSGKEY_NONEPHEMERAL;
	CHECK(smimp_msgkey_verify(&f.mk, f.address, &f.bob.pk, -1, NULL) ==
	      SMIMP_ERR_BAD_KEY);
}

TEST(verify_other_signer)
{
	struct smimp_sign_keypair alice;
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	REQUIRE(vectors_keypair(&alice, "alice") == 0);
	smimp_msgkey_sign(&f.mk, f.address, SMIMP_MSGKEY_EPHEMERAL, &f.mkp.pk,
			  &alice.sk);
	CHECK(smimp_msgkey_verify(&f.mk, f.address, &f.bob.pk, -1, NULL) ==
	      SMIMP_ERR_BAD_KEY);
	CHECK(smimp_msgkey_verify(&f.mk, f.address, &alice.pk, -1, NULL) ==
	      SMIMP_OK);
}

TEST(verify_tampered)
{
	struct smimp_msgkey mk;
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	mk = f.mk;
	mk.key.b[0] ^= 1;
	CHECK(smimp_msgkey_verify(&mk, f.address, &f.bob.pk, -1, NULL) ==
	      SMIMP_ERR_BAD_KEY);
	mk = f.mk;
	mk.signed_hash.b[10] ^= 1; /* the signature */
	CHECK(smimp_msgkey_verify(&mk, f.address, &f.bob.pk, -1, NULL) ==
	      SMIMP_ERR_BAD_KEY);
	mk = f.mk;
	mk.signed_hash.b[90] ^= 1; /* the embedded hash */
	CHECK(smimp_msgkey_verify(&mk, f.address, &f.bob.pk, -1, NULL) ==
	      SMIMP_ERR_BAD_KEY);
}

TEST(verify_refuses_master_key_bytes)
{
	struct smimp_box_pk as_box;
	struct smimp_msgkey mk;
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	memcpy(as_box.b, f.bob.pk.b, 32);
	/* Correctly signed, but the key is the Ed25519 master key itself. */
	smimp_msgkey_sign(&mk, f.address, SMIMP_MSGKEY_EPHEMERAL, &as_box,
			  &f.bob.sk);
	CHECK(smimp_msgkey_verify(&mk, f.address, &f.bob.pk, -1, NULL) ==
	      SMIMP_ERR_BAD_KEY);
	smimp_msgkey_sign(&mk, f.address, SMIMP_MSGKEY_NONEPHEMERAL, &as_box,
			  &f.bob.sk);
	CHECK(smimp_msgkey_verify(&mk, f.address, &f.bob.pk, -1, NULL) ==
	      SMIMP_ERR_BAD_KEY);
}

TEST(verify_refuses_master_key_curve_form)
{
	const json_t *bob = json_object_get(vectors_section("keys"), "bob");
	struct smimp_box_pk curve, want;
	struct smimp_msgkey mk;
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	REQUIRE(vectors_hex(bob, "curve25519_public_key", want.b, 32) == 0);
	REQUIRE(smimp_sign_pk_to_box(&curve, &f.bob.pk) == SMIMP_OK);
	CHECK(memcmp(curve.b, want.b, 32) == 0);
	smimp_msgkey_sign(&mk, f.address, SMIMP_MSGKEY_NONEPHEMERAL, &curve,
			  &f.bob.sk);
	CHECK(smimp_msgkey_verify(&mk, f.address, &f.bob.pk, -1, NULL) ==
	      SMIMP_ERR_BAD_KEY);
}

TEST(json_round_trip)
{
	struct smimp_error err = {0};
	struct smimp_msgkey back;
	struct fixture f;
	char *text;
	json_t *j, *parsed;

	REQUIRE(load_fixture(&f) == 0);
	smimp_msgkey_sign(&f.mk, f.address, SMIMP_MSGKEY_NONEPHEMERAL,
			  &f.mkp.pk, &f.bob.sk);
	j = smimp_msgkey_to_json(&f.mk);
	REQUIRE(j != NULL);
	CHECK_STREQ(json_string_value(json_object_get(j, "kind")),
		    "nonephemeral");
	text = json_dumps(j, JSON_COMPACT);
	REQUIRE(text != NULL);
	parsed = json_loads(text, 0, NULL);
	REQUIRE(parsed != NULL);
	CHECK(smimp_msgkey_from_json(&back, parsed, &err) == SMIMP_OK);
	CHECK(memcmp(back.key.b, f.mk.key.b, 32) == 0);
	CHECK(back.kind == SMIMP_MSGKEY_NONEPHEMERAL);
	CHECK(memcmp(back.signed_hash.b, f.mk.signed_hash.b, 96) == 0);
	CHECK(smimp_msgkey_verify(&back, f.address, &f.bob.pk,
				  SMIMP_MSGKEY_NONEPHEMERAL, &err) == SMIMP_OK);
	json_decref(parsed);
	free(text);
	json_decref(j);
}

/* The vector object with one member replaced (NULL value: removed). */
static enum smimp_err parse_edited(const char *name, json_t *value)
{
	json_t *o = json_deep_copy(json_object_get(vectors_section("message_key"),
						   "object"));
	struct smimp_error err = {0};
	struct smimp_msgkey mk;
	enum smimp_err e;

	if (value != NULL)
		json_object_set_new(o, name, value);
	else
		json_object_del(o, name);
	e = smimp_msgkey_from_json(&mk, o, &err);
	if (e != SMIMP_OK && (err.code != e || err.message[0] == '\0'))
		e = SMIMP_ERR_INTERNAL; /* no reason given */
	json_decref(o);
	return e;
}

TEST(json_bad_hex)
{
	const char *key = vectors_str(vectors_section("message_key"),
				      "object.key");
	char upper[65];

	REQUIRE(key != NULL && strlen(key) == 64);
	memcpy(upper, key, 65);
	for (int i = 0; i < 64; i++)
		if (upper[i] >= 'a' && upper[i] <= 'f')
			upper[i] = (char)(upper[i] - 'a' + 'A');
	CHECK(parse_edited("key", json_string(upper)) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_edited("key", json_stringn(key, 62)) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_edited("key", json_integer(5)) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_edited("key", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_edited("signed_hash", json_string(key)) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_edited("signed_hash", json_null()) == SMIMP_ERR_BAD_REQUEST);
	/* Unknown members are ignored (spec 1). */
	CHECK(parse_edited("comment", json_string("x")) == SMIMP_OK);
}

TEST(json_unknown_kind)
{
	enum smimp_msgkey_kind k;

	CHECK(parse_edited("kind", json_string("Ephemeral")) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_edited("kind", json_string("permanent")) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_edited("kind", json_string("")) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_edited("kind", json_string("ephemeral ")) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_edited("kind", json_stringn("ephemeral\0x", 11)) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_edited("kind", json_string("nonephemeralnonephemeral")) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_edited("kind", json_true()) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_edited("kind", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_edited("kind", json_string("nonephemeral")) == SMIMP_OK);
	CHECK(smimp_msgkey_kind_parse(&k, "ephemeral") == SMIMP_OK &&
	      k == SMIMP_MSGKEY_EPHEMERAL);
	CHECK(smimp_msgkey_kind_parse(&k, "nonephemeral") == SMIMP_OK &&
	      k == SMIMP_MSGKEY_NONEPHEMERAL);
	CHECK(smimp_msgkey_kind_parse(&k, NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK_STREQ(smimp_msgkey_kind_name(SMIMP_MSGKEY_NONEPHEMERAL),
		    "nonephemeral");
}

TEST(json_not_an_object)
{
	struct smimp_error err = {0};
	struct smimp_msgkey mk;
	json_t *a = json_array();

	CHECK(smimp_msgkey_from_json(&mk, a, &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_msgkey_from_json(&mk, NULL, &err) == SMIMP_ERR_BAD_REQUEST);
	json_decref(a);
}

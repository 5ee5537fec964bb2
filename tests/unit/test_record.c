/* Identity records (spec 5): the reference history's records rebuilt byte
 * for byte from their values, parsing of hostile records (every type and
 * limit rule), and the server's chain-extension checks (4.4, 11.4). */
#include <stdint.h>
#include <string.h>
#include <jansson.h>

#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/record.h"
#include "smimp/timestamp.h"
#include "testlib.h"
#include "vectors_util.h"

#define ADDR "alice#example.com"
#define T0 1451606400 /* 2016-01-01 00:00:00 */
#define DAY 86400

/* Parses a record whose data is `data`, signed by alice; returns the code. */
static enum smimp_err parse_data(const char *data, struct smimp_error *err)
{
	struct smimp_sign_keypair alice;
	struct smimp_record r;
	enum smimp_err e;
	json_t *w;

	vectors_seeded(&alice, 1);
	w = vectors_wire_record(data, &alice.sk);
	e = smimp_record_from_json(&r, w, err);
	json_decref(w);
	smimp_record_free(&r);
	return e;
}

/* Record 0 data of alice with the given tail after "changed_at". */
static char *data0(const char *tail)
{
	static char buf[70000];

	snprintf(buf, sizeof buf,
		 "{\"address\":\"alice#example.com\",\"public_key\":"
		 "\"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c\","
		 "\"previous\":null,\"seq\":0,\"changed_at\":\"2016-01-01 00:00:00\"%s}",
		 tail);
	return buf;
}

/* A plain record of alice's chain: seq, key, previous, time, signer. */
static enum smimp_err make(struct smimp_record *out, int64_t seq,
			   const struct smimp_sign_pk *pk,
			   const struct smimp_signed_hash *previous,
			   int64_t changed_at, const struct smimp_sign_sk *sk)
{
	struct smimp_record_values v = {
		.address = ADDR, .public_key = pk, .previous = previous,
		.seq = seq, .changed_at = changed_at,
	};

	return smimp_record_build(out, &v, sk, NULL);
}

static int has(const struct smimp_error *err, const char *needle)
{
	if (strstr(err->message, needle) != NULL)
		return 1;
	fprintf(stderr, "message \"%s\" lacks \"%s\"\n", err->message, needle);
	return 0;
}

TEST(vectors_rebuilt_byte_for_byte)
{
	struct smimp_sign_keypair alice, rotated;
	struct smimp_record r[3];
	struct smimp_error err;
	const json_t *recs, *hashes;
	json_t *additional = json_pack("{s:n}", "pgp");
	const char *profiles[] = {"https://social.example/@alice"};
	char hex[2 * SMIMP_SIGNED_HASH_BYTES + 1];

	vectors_seeded(&alice, 1);
	vectors_seeded(&rotated, 3);
	REQUIRE(vectors_ref() != NULL);
	/* The seeded keys are the vectors' keys. */
	struct smimp_sign_pk vpk;

	REQUIRE(vectors_hex(vectors_ref(), "keys.alice.ed25519_public_key",
			    vpk.b, sizeof vpk.b) == 0);
	CHECK(smimp_sign_pk_equal(&vpk, &alice.pk));
	REQUIRE(vectors_hex(vectors_ref(), "keys.alice_rotated.ed25519_public_key",
			    vpk.b, sizeof vpk.b) == 0);
	CHECK(smimp_sign_pk_equal(&vpk, &rotated.pk));
	CHECK_STREQ(vectors_str(vectors_ref(), "history.address"), ADDR);
	recs = json_object_get(vectors_section("history"), "records");
	hashes = json_object_get(json_object_get(vectors_ref(), "history"),
				 "record_hashes");
	REQUIRE(json_array_size(recs) == 3 && json_array_size(hashes) == 3);

	struct smimp_record_values v0 = {
		.address = ADDR, .public_key = &alice.pk, .previous = NULL,
		.seq = 0, .changed_at = T0,
	};
	REQUIRE(smimp_record_build(&r[0], &v0, &alice.sk, &err) == SMIMP_OK);
	struct smimp_record_values v1 = {
		.address = ADDR, .public_key = &alice.pk,
		.previous = &r[0].signed_hash, .seq = 1,
		.changed_at = T0 + DAY, .name = "Alice",
		.website = "https://alice.example.com", .profiles = profiles,
		.n_profiles = 1, .additional = additional,
	};
	REQUIRE(smimp_record_build(&r[1], &v1, &alice.sk, &err) == SMIMP_OK);
	struct smimp_record_values v2 = {
		.address = ADDR, .public_key = &rotated.pk,
		.previous = &r[1].signed_hash, .seq = 2,
		.changed_at = T0 + 2 * DAY, .name = "Alice",
	};
	/* The rotation is signed by the OLD key. */
	REQUIRE(smimp_record_build(&r[2], &v2, &alice.sk, &err) == SMIMP_OK);

	for (size_t i = 0; i < 3; i++) {
		const json_t *w = json_array_get(recs, i);

		CHECK_STREQ(r[i].data,
			    json_string_value(json_object_get(w, "data")));
		smimp_hex_encode(hex, sizeof hex, r[i].hash.b,
				 sizeof r[i].hash.b);
		CHECK_STREQ(hex, json_string_value(json_array_get(hashes, i)));
		smimp_hex_encode(hex, sizeof hex, r[i].signed_hash.b,
				 sizeof r[i].signed_hash.b);
		CHECK_STREQ(hex, json_string_value(
					 json_object_get(w, "signed_hash")));
		json_t *mine = smimp_record_to_json(&r[i]);
		CHECK(json_equal(mine, w));
		json_decref(mine);
		smimp_record_free(&r[i]);
	}
	json_decref(additional);
}

TEST(vectors_parse_fields)
{
	const json_t *recs = json_object_get(
		json_object_get(vectors_ref(), "history"), "records");
	struct smimp_sign_keypair alice, rotated;
	struct smimp_record r;
	struct smimp_error err;

	vectors_seeded(&alice, 1);
	vectors_seeded(&rotated, 3);
	REQUIRE(smimp_record_from_json(&r, json_array_get(recs, 1), &err) ==
		SMIMP_OK);
	CHECK_STREQ(r.address, ADDR);
	CHECK(r.seq == 1 && r.has_previous && r.changed_at == T0 + DAY);
	CHECK(r.name_len == 5 && memcmp(r.name, "Alice", 5) == 0);
	CHECK(r.website != NULL &&
	      strcmp(r.website, "https://alice.example.com") == 0);
	CHECK(json_array_size(r.profiles) == 1);
	CHECK(json_is_object(r.additional));
	CHECK(smimp_sign_pk_equal(&r.public_key, &alice.pk));
	CHECK(smimp_record_verify(&r, &alice.pk, &err) == SMIMP_OK);
	CHECK(smimp_record_verify(&r, &rotated.pk, &err) ==
	      SMIMP_ERR_BAD_SIGNATURE);
	smimp_record_free(&r);

	/* Text form, and the rotation record naming the new key. */
	char *text = json_dumps(json_array_get(recs, 2), JSON_COMPACT);
	REQUIRE(smimp_record_parse(&r, text, strlen(text), &err) == SMIMP_OK);
	CHECK(smimp_sign_pk_equal(&r.public_key, &rotated.pk));
	CHECK(r.name != NULL && r.website == NULL && r.additional == NULL);
	CHECK(smimp_record_verify(&r, &alice.pk, &err) == SMIMP_OK);
	free(text);
	smimp_record_free(&r);
}

TEST(minimal_record_and_unknown_members)
{
	struct smimp_error err;

	/* Optional members absent, unknown members allowed. */
	CHECK(parse_data(data0(""), &err) == SMIMP_OK);
	CHECK(parse_data(data0(",\"x-future\":{\"a\":[1,2]}"), &err) ==
	      SMIMP_OK);
	/* Unknown members of the wire object are ignored too. */
	struct smimp_sign_keypair alice;
	struct smimp_record r;
	json_t *w;

	vectors_seeded(&alice, 1);
	w = vectors_wire_record(data0(""), &alice.sk);
	json_object_set_new(w, "extra", json_true());
	CHECK(smimp_record_from_json(&r, w, &err) == SMIMP_OK);
	json_decref(w);
	smimp_record_free(&r);
}

TEST(tampered_signed_hash_fails_verify)
{
	const json_t *recs = json_object_get(
		json_object_get(vectors_ref(), "history"), "records");
	struct smimp_sign_keypair alice;
	struct smimp_record r;
	struct smimp_error err;

	vectors_seeded(&alice, 1);
	REQUIRE(smimp_record_from_json(&r, json_array_get(recs, 0), &err) ==
		SMIMP_OK);
	r.signed_hash.b[10] ^= 1; /* signature */
	CHECK(smimp_record_verify(&r, &alice.pk, &err) ==
	      SMIMP_ERR_BAD_SIGNATURE);
	r.signed_hash.b[10] ^= 1;
	r.signed_hash.b[80] ^= 1; /* embedded hash */
	CHECK(smimp_record_verify(&r, &alice.pk, &err) ==
	      SMIMP_ERR_BAD_SIGNATURE);
	r.signed_hash.b[80] ^= 1;
	CHECK(smimp_record_verify(&r, &alice.pk, &err) == SMIMP_OK);
	smimp_record_free(&r);
}

TEST(website_must_be_https)
{
	struct smimp_error err;

	CHECK(parse_data(data0(",\"website\":\"https://a.example/x\""), &err) ==
	      SMIMP_OK);
	CHECK(parse_data(data0(",\"website\":null"), &err) == SMIMP_OK);
	CHECK(parse_data(data0(",\"website\":\"http://a.example\""), &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(has(&err, "https://"));
	CHECK(parse_data(data0(",\"website\":\"HTTPS://a.example\""), &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_data(data0(",\"website\":\"https://a.example/ x\""),
			 &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_data(data0(",\"website\":\"https://a.example/\\tx\""),
			 &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_data(data0(",\"website\":\"https://a.example/\\u0085\""),
			 &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_data(data0(",\"website\":7"), &err) ==
	      SMIMP_ERR_BAD_REQUEST);
}

TEST(website_length_limit)
{
	char tail[2200] = ",\"website\":\"https://";
	size_t n = strlen(tail);
	struct smimp_error err;

	/* 2048 bytes in all is fine, 2049 is not. */
	memset(tail + n, 'a', 2048 - 8);
	strcpy(tail + n + 2048 - 8, "\"");
	CHECK(parse_data(data0(tail), &err) == SMIMP_OK);
	memset(tail + n, 'a', 2049 - 8);
	strcpy(tail + n + 2049 - 8, "\"");
	CHECK(parse_data(data0(tail), &err) == SMIMP_ERR_TOO_LARGE);
}

TEST(too_many_profiles)
{
	char tail[1024] = ",\"profiles\":[";
	struct smimp_error err;

	for (int i = 0; i < 32; i++)
		strcat(tail, i ? ",\"p\"" : "\"p\"");
	strcat(tail, "]");
	CHECK(parse_data(data0(tail), &err) == SMIMP_OK);
	tail[strlen(tail) - 1] = '\0';
	strcat(tail, ",\"p\"]");
	CHECK(parse_data(data0(tail), &err) == SMIMP_ERR_TOO_LARGE);
	CHECK(has(&err, "profiles"));
	CHECK(parse_data(data0(",\"profiles\":[1]"), &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_data(data0(",\"profiles\":null"), &err) ==
	      SMIMP_ERR_BAD_REQUEST);
}

TEST(name_too_long)
{
	char tail[400] = ",\"name\":\"";
	size_t n = strlen(tail);
	struct smimp_error err;

	memset(tail + n, 'n', 256);
	strcpy(tail + n + 256, "\"");
	CHECK(parse_data(data0(tail), &err) == SMIMP_OK);
	memset(tail + n, 'n', 257);
	strcpy(tail + n + 257, "\"");
	CHECK(parse_data(data0(tail), &err) == SMIMP_ERR_TOO_LARGE);
	CHECK(has(&err, "name"));
	/* 128 two-byte characters are 256 bytes, 129 are too many. */
	tail[n] = '\0';
	for (int i = 0; i < 129; i++)
		strcat(tail, "\xc3\xa9");
	strcat(tail, "\"");
	CHECK(parse_data(data0(tail), &err) == SMIMP_ERR_TOO_LARGE);
	CHECK(parse_data(data0(",\"name\":[]"), &err) == SMIMP_ERR_BAD_REQUEST);
}

TEST(additional_object_or_null)
{
	struct smimp_error err;

	CHECK(parse_data(data0(",\"additional\":{}"), &err) == SMIMP_OK);
	CHECK(parse_data(data0(",\"additional\":null"), &err) == SMIMP_OK);
	CHECK(parse_data(data0(",\"additional\":[]"), &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_data(data0(",\"additional\":\"x\""), &err) ==
	      SMIMP_ERR_BAD_REQUEST);
}

TEST(duplicate_member_in_data)
{
	struct smimp_error err;

	CHECK(parse_data(data0(",\"name\":\"a\",\"name\":\"b\""), &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_data(data0(",\"seq\":0"), &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(has(&err, "data"));
	/* Lone surrogate and a data that is not an object. */
	CHECK(parse_data(data0(",\"name\":\"\\ud800\""), &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_data("[1]", &err) == SMIMP_ERR_BAD_REQUEST);
}

TEST(invalid_public_key_point)
{
	char data[512];
	struct smimp_error err;

	/* All zeros is a small-order point; ff..ff is not a point at all. */
	snprintf(data, sizeof data,
		 "{\"address\":\"alice#example.com\",\"public_key\":\"%s\","
		 "\"previous\":null,\"seq\":0,\"changed_at\":\"2016-01-01 00:00:00\"}",
		 "0000000000000000000000000000000000000000000000000000000000000000");
	CHECK(parse_data(data, &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(has(&err, "public_key"));
	snprintf(data, sizeof data,
		 "{\"address\":\"alice#example.com\",\"public_key\":\"%s\","
		 "\"previous\":null,\"seq\":0,\"changed_at\":\"2016-01-01 00:00:00\"}",
		 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
	CHECK(parse_data(data, &err) == SMIMP_ERR_BAD_REQUEST);
	/* Upper-case hex is not hex. */
	snprintf(data, sizeof data,
		 "{\"address\":\"alice#example.com\",\"public_key\":\"%s\","
		 "\"previous\":null,\"seq\":0,\"changed_at\":\"2016-01-01 00:00:00\"}",
		 "8A88E3DD7409F195FD52DB2D3CBA5D72CA6709BF1D94121BF3748801B40F6F5C");
	CHECK(parse_data(data, &err) == SMIMP_ERR_BAD_REQUEST);
}

TEST(address_must_be_normal_form)
{
	char data[512];
	struct smimp_error err;

	snprintf(data, sizeof data,
		 "{\"address\":\"Alice#example.com\",\"public_key\":"
		 "\"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c\","
		 "\"previous\":null,\"seq\":0,\"changed_at\":\"2016-01-01 00:00:00\"}");
	CHECK(parse_data(data, &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(has(&err, "address"));
	snprintf(data, sizeof data,
		 "{\"address\":\"alice\",\"public_key\":"
		 "\"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c\","
		 "\"previous\":null,\"seq\":0,\"changed_at\":\"2016-01-01 00:00:00\"}");
	CHECK(parse_data(data, &err) == SMIMP_ERR_BAD_REQUEST);
}

TEST(required_members_and_types)
{
	struct smimp_error err;

	/* Missing previous (it is required, though null). */
	CHECK(parse_data("{\"address\":\"alice#example.com\",\"public_key\":"
			 "\"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c\","
			 "\"seq\":0,\"changed_at\":\"2016-01-01 00:00:00\"}",
			 &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(has(&err, "previous"));
	/* seq a real, a string, negative. */
	CHECK(parse_data("{\"address\":\"alice#example.com\",\"public_key\":"
			 "\"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c\","
			 "\"previous\":null,\"seq\":0.0,\"changed_at\":\"2016-01-01 00:00:00\"}",
			 &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_data("{\"address\":\"alice#example.com\",\"public_key\":"
			 "\"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c\","
			 "\"previous\":null,\"seq\":-1,\"changed_at\":\"2016-01-01 00:00:00\"}",
			 &err) == SMIMP_ERR_BAD_REQUEST);
	/* A bad timestamp. */
	CHECK(parse_data("{\"address\":\"alice#example.com\",\"public_key\":"
			 "\"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c\","
			 "\"previous\":null,\"seq\":0,\"changed_at\":\"2016-01-01T00:00:00Z\"}",
			 &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(has(&err, "changed_at"));
	/* previous non-null in record 0, null after it. */
	CHECK(parse_data("{\"address\":\"alice#example.com\",\"public_key\":"
			 "\"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c\","
			 "\"previous\":null,\"seq\":1,\"changed_at\":\"2016-01-01 00:00:00\"}",
			 &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(has(&err, "previous"));
}

TEST(wire_object_rules)
{
	struct smimp_record r;
	struct smimp_error err;
	char big[SMIMP_RECORD_MAX_DATA + 200];
	json_t *w;

	CHECK(smimp_record_parse(&r, "[]", 2, &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_record_parse(&r, "{\"data\":\"{}\"}", 13, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	/* Upper-case signed_hash. */
	w = json_pack("{s:s,s:s}", "data", data0(""), "signed_hash",
		      "B5B8424519525C8E9DFE637159C84B29967BE9FC286C7D1014B3ED00BFBCC8E5"
		      "58F79B30749D6B7658762968F23423AE74A9D7CDDEC2745A9BFB276CB93FB10B"
		      "DED3A588BCB2661A04656508F2D385B486436B4A57C5152D172808BFA195294E");
	CHECK(smimp_record_from_json(&r, w, &err) == SMIMP_ERR_BAD_REQUEST);
	json_decref(w);
	/* Data over 16 KiB, even of valid JSON. */
	memset(big, ' ', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, "{}", 2);
	CHECK(parse_data(big, &err) == SMIMP_ERR_TOO_LARGE);
}

TEST(build_refuses_bad_values)
{
	struct smimp_sign_keypair alice;
	struct smimp_record r;
	struct smimp_error err;
	struct smimp_record_values v = {
		.address = "Alice#example.com", .public_key = &alice.pk,
		.seq = 0, .changed_at = T0,
	};

	vectors_seeded(&alice, 1);
	CHECK(smimp_record_build(&r, &v, &alice.sk, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	v.address = ADDR;
	v.website = "http://x.example";
	CHECK(smimp_record_build(&r, &v, &alice.sk, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	v.website = NULL;
	v.seq = 1; /* seq 1 needs a previous */
	CHECK(smimp_record_build(&r, &v, &alice.sk, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	v.seq = 0;
	v.name = "\xff";
	CHECK(smimp_record_build(&r, &v, &alice.sk, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	v.name = "ok";
	CHECK(smimp_record_build(&r, &v, &alice.sk, &err) == SMIMP_OK);
	smimp_record_free(&r);
}

TEST(check_first)
{
	struct smimp_sign_keypair alice, bob;
	struct smimp_record r;
	struct smimp_error err;

	vectors_seeded(&alice, 1);
	vectors_seeded(&bob, 2);
	REQUIRE(make(&r, 0, &alice.pk, NULL, T0, &alice.sk) == SMIMP_OK);
	CHECK(smimp_record_check_first(&r, ADDR, T0, &err) == SMIMP_OK);
	CHECK(smimp_record_check_first(&r, ADDR, T0 - 300, &err) == SMIMP_OK);
	CHECK(smimp_record_check_first(&r, ADDR, T0 - 301, &err) ==
	      SMIMP_ERR_CONFLICT);
	CHECK(smimp_record_check_first(&r, "bob#example.com", T0, &err) ==
	      SMIMP_ERR_CONFLICT);
	smimp_record_free(&r);
	/* Record 0 signed by another key than its own. */
	REQUIRE(make(&r, 0, &alice.pk, NULL, T0, &bob.sk) == SMIMP_OK);
	CHECK(smimp_record_check_first(&r, ADDR, T0, &err) ==
	      SMIMP_ERR_BAD_SIGNATURE);
	smimp_record_free(&r);
}

/* A three-record chain: alice, alice, rotated (signed by alice). */
struct chain {
	struct smimp_sign_keypair alice, rotated, bob;
	struct smimp_record r[3];
	struct smimp_sign_pk keys[2];
};

static int chain_make(struct chain *c)
{
	vectors_seeded(&c->alice, 1);
	vectors_seeded(&c->rotated, 3);
	vectors_seeded(&c->bob, 2);
	c->keys[0] = c->alice.pk;
	c->keys[1] = c->rotated.pk;
	return make(&c->r[0], 0, &c->alice.pk, NULL, T0, &c->alice.sk) ||
	       make(&c->r[1], 1, &c->alice.pk, &c->r[0].signed_hash, T0 + DAY,
		    &c->alice.sk) ||
	       make(&c->r[2], 2, &c->rotated.pk, &c->r[1].signed_hash,
		    T0 + 2 * DAY, &c->alice.sk);
}

static void chain_free(struct chain *c)
{
	for (int i = 0; i < 3; i++)
		smimp_record_free(&c->r[i]);
}

TEST(extends_accepts_valid_records)
{
	struct chain c;
	struct smimp_error err;

	REQUIRE(chain_make(&c) == 0);
	CHECK(smimp_record_check_extends(&c.r[1], &c.r[0], c.keys, 1, T0 + DAY,
					 &err) == SMIMP_OK);
	/* The key rotation, signed by the old key. */
	CHECK(smimp_record_check_extends(&c.r[2], &c.r[1], c.keys, 1,
					 T0 + 2 * DAY, &err) == SMIMP_OK);
	/* changed_at equal to the last one's, and exactly 5 minutes ahead. */
	struct smimp_record n;

	REQUIRE(make(&n, 3, &c.rotated.pk, &c.r[2].signed_hash, T0 + 2 * DAY,
		     &c.rotated.sk) == SMIMP_OK);
	CHECK(smimp_record_check_extends(&n, &c.r[2], c.keys, 2,
					 T0 + 2 * DAY - 300, &err) == SMIMP_OK);
	smimp_record_free(&n);
	chain_free(&c);
}

TEST(extends_other_address)
{
	struct chain c;
	struct smimp_record n;
	struct smimp_error err;
	struct smimp_record_values v;

	REQUIRE(chain_make(&c) == 0);
	memset(&v, 0, sizeof v);
	v.address = "bob#example.com";
	v.public_key = &c.alice.pk;
	v.previous = &c.r[1].signed_hash;
	v.seq = 2;
	v.changed_at = T0 + 2 * DAY;
	REQUIRE(smimp_record_build(&n, &v, &c.alice.sk, &err) == SMIMP_OK);
	CHECK(smimp_record_check_extends(&n, &c.r[1], c.keys, 1, T0 + 3 * DAY,
					 &err) == SMIMP_ERR_CONFLICT);
	CHECK(has(&err, "address"));
	smimp_record_free(&n);
	chain_free(&c);
}

TEST(extends_wrong_seq)
{
	struct chain c;
	struct smimp_record n;
	struct smimp_error err;

	REQUIRE(chain_make(&c) == 0);
	REQUIRE(make(&n, 3, &c.alice.pk, &c.r[1].signed_hash, T0 + 2 * DAY,
		     &c.alice.sk) == SMIMP_OK);
	CHECK(smimp_record_check_extends(&n, &c.r[1], c.keys, 1, T0 + 3 * DAY,
					 &err) == SMIMP_ERR_CONFLICT);
	CHECK(has(&err, "seq is 3, expected 2"));
	/* A replay of the last record itself. */
	CHECK(smimp_record_check_extends(&c.r[1], &c.r[1], c.keys, 1,
					 T0 + 3 * DAY, &err) ==
	      SMIMP_ERR_CONFLICT);
	smimp_record_free(&n);
	chain_free(&c);
}

TEST(extends_wrong_previous)
{
	struct chain c;
	struct smimp_record n;
	struct smimp_error err;

	REQUIRE(chain_make(&c) == 0);
	/* Previous names record 0, not the last record 1. */
	REQUIRE(make(&n, 2, &c.alice.pk, &c.r[0].signed_hash, T0 + 2 * DAY,
		     &c.alice.sk) == SMIMP_OK);
	CHECK(smimp_record_check_extends(&n, &c.r[1], c.keys, 1, T0 + 3 * DAY,
					 &err) == SMIMP_ERR_CONFLICT);
	CHECK(has(&err, "previous"));
	smimp_record_free(&n);
	chain_free(&c);
}

TEST(extends_changed_at_earlier)
{
	struct chain c;
	struct smimp_record n;
	struct smimp_error err;

	REQUIRE(chain_make(&c) == 0);
	REQUIRE(make(&n, 2, &c.alice.pk, &c.r[1].signed_hash, T0 + DAY - 1,
		     &c.alice.sk) == SMIMP_OK);
	CHECK(smimp_record_check_extends(&n, &c.r[1], c.keys, 1, T0 + 3 * DAY,
					 &err) == SMIMP_ERR_CONFLICT);
	CHECK(has(&err, "earlier"));
	smimp_record_free(&n);
	chain_free(&c);
}

TEST(extends_changed_at_too_far_ahead)
{
	struct chain c;
	struct smimp_record n;
	struct smimp_error err;
	int64_t now = T0 + 2 * DAY;

	REQUIRE(chain_make(&c) == 0);
	REQUIRE(make(&n, 2, &c.alice.pk, &c.r[1].signed_hash, now + 301,
		     &c.alice.sk) == SMIMP_OK);
	CHECK(smimp_record_check_extends(&n, &c.r[1], c.keys, 1, now, &err) ==
	      SMIMP_ERR_CONFLICT);
	CHECK(has(&err, "ahead"));
	CHECK(smimp_record_check_extends(&n, &c.r[1], c.keys, 1, now + 1,
					 &err) == SMIMP_OK);
	smimp_record_free(&n);
	chain_free(&c);
}

TEST(extends_key_used_before)
{
	struct chain c;
	struct smimp_record n;
	struct smimp_error err;

	REQUIRE(chain_make(&c) == 0);
	/* After the rotation, going back to alice's first key, signed by the
	 * rotated key, is refused. */
	REQUIRE(make(&n, 3, &c.alice.pk, &c.r[2].signed_hash, T0 + 3 * DAY,
		     &c.rotated.sk) == SMIMP_OK);
	CHECK(smimp_record_check_extends(&n, &c.r[2], c.keys, 2, T0 + 3 * DAY,
					 &err) == SMIMP_ERR_CONFLICT);
	CHECK(has(&err, "used before"));
	/* A fresh key is fine. */
	smimp_record_free(&n);
	REQUIRE(make(&n, 3, &c.bob.pk, &c.r[2].signed_hash, T0 + 3 * DAY,
		     &c.rotated.sk) == SMIMP_OK);
	CHECK(smimp_record_check_extends(&n, &c.r[2], c.keys, 2, T0 + 3 * DAY,
					 &err) == SMIMP_OK);
	smimp_record_free(&n);
	chain_free(&c);
}

TEST(extends_bad_signature)
{
	struct chain c;
	struct smimp_record n;
	struct smimp_error err;

	REQUIRE(chain_make(&c) == 0);
	/* A rotation signed by the NEW key instead of the old one. */
	REQUIRE(make(&n, 2, &c.rotated.pk, &c.r[1].signed_hash, T0 + 2 * DAY,
		     &c.rotated.sk) == SMIMP_OK);
	CHECK(smimp_record_check_extends(&n, &c.r[1], c.keys, 1, T0 + 2 * DAY,
					 &err) == SMIMP_ERR_BAD_SIGNATURE);
	smimp_record_free(&n);
	/* Signed by a stranger. */
	REQUIRE(make(&n, 2, &c.alice.pk, &c.r[1].signed_hash, T0 + 2 * DAY,
		     &c.bob.sk) == SMIMP_OK);
	CHECK(smimp_record_check_extends(&n, &c.r[1], c.keys, 1, T0 + 2 * DAY,
					 &err) == SMIMP_ERR_BAD_SIGNATURE);
	smimp_record_free(&n);
	chain_free(&c);
}

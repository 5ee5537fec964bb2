/* Identity histories (spec 5): the reference history validates, and each
 * rule of 5 that a lying server could break is caught and named. */
#include <stdint.h>
#include <string.h>
#include <jansson.h>

#include "smimp/history.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "testlib.h"
#include "vectors_util.h"

#define ADDR "alice#example.com"
#define T0 1451606400 /* 2016-01-01 00:00:00 */
#define DAY 86400

/* A fresh copy of the reference history's records array. */
static json_t *vector_records(void)
{
	return json_deep_copy(json_object_get(
		json_object_get(vectors_ref(), "history"), "records"));
}

/* Appends a record of alice (no name) to arr; its signed hash goes to *sh. */
static void add(json_t *arr, int64_t seq, const struct smimp_sign_pk *pk,
		const struct smimp_signed_hash *previous, int64_t t,
		const struct smimp_sign_sk *sk, struct smimp_signed_hash *sh)
{
	vectors_add_record(arr, ADDR, seq, pk, previous, t, NULL, sk, sh);
}

/* Validates arr (then releases it) as alice's history; checks the code and
 * that the message holds `needle`. */
static int expect(json_t *arr, enum smimp_err code, const char *needle)
{
	struct smimp_history h;
	struct smimp_error err;
	enum smimp_err e = smimp_history_validate(&h, arr, ADDR, &err);
	int ok = e == code;

	json_decref(arr);
	if (e == SMIMP_OK)
		smimp_history_free(&h);
	else if (needle != NULL && strstr(err.message, needle) == NULL)
		ok = 0;
	if (!ok)
		fprintf(stderr, "got %s \"%s\", wanted %s \"%s\"\n",
			smimp_err_name(e), e == SMIMP_OK ? "" : err.message,
			smimp_err_name(code), needle ? needle : "");
	return ok;
}

TEST(vectors_history_valid)
{
	struct smimp_sign_keypair alice, rotated, bob;
	struct smimp_history h;
	struct smimp_error err;
	json_t *arr = vector_records();

	vectors_seeded(&alice, 1);
	vectors_seeded(&rotated, 3);
	vectors_seeded(&bob, 2);
	REQUIRE(arr != NULL);
	CHECK_STREQ(vectors_str(vectors_ref(), "history.address"), ADDR);
	/* The address asked for may be in any case. */
	REQUIRE(smimp_history_validate(&h, arr, "Alice#Example.COM", &err) ==
		SMIMP_OK);
	CHECK(h.count == 3);
	CHECK_STREQ(h.address, ADDR);
	CHECK(smimp_sign_pk_equal(smimp_history_latest_key(&h), &rotated.pk));
	CHECK(smimp_history_latest(&h)->seq == 2);
	struct smimp_sign_pk vpk;

	REQUIRE(vectors_hex(vectors_ref(), "keys.alice_rotated.ed25519_public_key",
			    vpk.b, sizeof vpk.b) == 0);
	CHECK(smimp_sign_pk_equal(smimp_history_latest_key(&h), &vpk));
	CHECK(smimp_sign_pk_equal(smimp_history_key_at(&h, 0), &alice.pk));
	CHECK(smimp_sign_pk_equal(smimp_history_key_at(&h, 1), &alice.pk));
	CHECK(smimp_sign_pk_equal(smimp_history_key_at(&h, 2), &rotated.pk));
	CHECK(smimp_history_key_at(&h, 3) == NULL);
	CHECK(smimp_history_key_status(&h, &rotated.pk) ==
	      SMIMP_HISTORY_KEY_LATEST);
	CHECK(smimp_history_key_status(&h, &alice.pk) ==
	      SMIMP_HISTORY_KEY_REPLACED);
	CHECK(smimp_history_key_status(&h, &bob.pk) ==
	      SMIMP_HISTORY_KEY_ABSENT);
	smimp_history_free(&h);
	smimp_history_free(&h); /* twice is harmless */
	json_decref(arr);
}

TEST(vectors_answer_text_roundtrip)
{
	struct smimp_history h;
	struct smimp_error err;
	json_t *answer = json_pack("{s:o}", "records", vector_records());
	char *text = json_dumps(answer, JSON_COMPACT);

	REQUIRE(smimp_history_parse(&h, text, strlen(text), 1 << 20, ADDR,
				    &err) == SMIMP_OK);
	json_t *back = smimp_history_to_json(&h);
	CHECK(json_equal(back, answer));
	json_decref(back);
	smimp_history_free(&h);
	/* Over the caller's size limit. */
	CHECK(smimp_history_parse(&h, text, strlen(text), 100, ADDR, &err) ==
	      SMIMP_ERR_TOO_LARGE);
	/* Unknown members of the answer are ignored. */
	json_object_set_new(answer, "next", json_null());
	CHECK(smimp_history_from_json(&h, answer, ADDR, &err) == SMIMP_OK);
	smimp_history_free(&h);
	free(text);
	json_decref(answer);
}

TEST(malformed_answers)
{
	struct smimp_history h;
	struct smimp_error err;
	json_t *v;

	CHECK(smimp_history_parse(&h, "{\"records\":[]}", 14, 1024, ADDR,
				  &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(strstr(err.message, "no records") != NULL);
	CHECK(smimp_history_parse(&h, "{\"records\":null}", 16, 1024, ADDR,
				  &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_history_parse(&h, "[]", 2, 1024, ADDR, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_history_parse(&h, "{\"records\":[1]}", 15, 1024, ADDR,
				  &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(strstr(err.message, "record 0") != NULL);
	CHECK(smimp_history_parse(&h, "{\"records\":[],\"records\":[]}", 27,
				  1024, ADDR, &err) == SMIMP_ERR_BAD_REQUEST);
	/* The address asked for must itself be an address. */
	v = vector_records();
	CHECK(smimp_history_validate(&h, v, "alice", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	json_decref(v);
}

TEST(too_many_records)
{
	json_t *arr = json_array();
	json_t *one = json_array_get(json_object_get(
		json_object_get(vectors_ref(), "history"), "records"), 0);

	for (unsigned i = 0; i <= SMIMP_HISTORY_MAX_RECORDS; i++)
		json_array_append(arr, one);
	CHECK(expect(arr, SMIMP_ERR_TOO_LARGE, "10001 records"));
}

TEST(tampered_record_data)
{
	json_t *arr = vector_records();
	json_t *r1 = json_array_get(arr, 1);
	char *data = strdup(json_string_value(json_object_get(r1, "data")));
	char *p = strstr(data, "\"Alice\"");

	REQUIRE(p != NULL);
	p[5] = 'x'; /* "Alixe" */
	json_object_set_new(r1, "data", json_string(data));
	free(data);
	CHECK(expect(arr, SMIMP_ERR_BAD_SIGNATURE,
		     "record 1: signed_hash does not verify with record 0's "
		     "public_key"));
}

TEST(tampered_signed_hash)
{
	json_t *arr = vector_records();
	json_t *r2 = json_array_get(arr, 2);
	char *sh = strdup(json_string_value(json_object_get(r2, "signed_hash")));

	sh[0] = sh[0] == '0' ? '1' : '0';
	json_object_set_new(r2, "signed_hash", json_string(sh));
	free(sh);
	CHECK(expect(arr, SMIMP_ERR_BAD_SIGNATURE, "record 2: signed_hash"));

	/* Record 0's own signature. */
	arr = vector_records();
	json_t *r0 = json_array_get(arr, 0);
	sh = strdup(json_string_value(json_object_get(r0, "signed_hash")));
	sh[5] = sh[5] == 'a' ? 'b' : 'a';
	json_object_set_new(r0, "signed_hash", json_string(sh));
	free(sh);
	CHECK(expect(arr, SMIMP_ERR_BAD_SIGNATURE, "record 0: signed_hash "
		     "does not verify with its own public_key"));
}

TEST(wrong_previous)
{
	struct smimp_sign_keypair a;
	struct smimp_signed_hash s0, s1, bogus;
	json_t *arr = json_array();

	vectors_seeded(&a, 1);
	add(arr, 0, &a.pk, NULL, T0, &a.sk, &s0);
	add(arr, 1, &a.pk, &s0, T0 + 1, &a.sk, &s1);
	bogus = s1;
	bogus.b[0] ^= 1;
	add(arr, 2, &a.pk, &bogus, T0 + 2, &a.sk, NULL);
	CHECK(expect(arr, SMIMP_ERR_BAD_REQUEST,
		     "record 2: previous does not match record 1's "
		     "signed_hash"));
	/* Previous pointing two records back. */
	arr = json_array();
	add(arr, 0, &a.pk, NULL, T0, &a.sk, &s0);
	add(arr, 1, &a.pk, &s0, T0 + 1, &a.sk, &s1);
	add(arr, 2, &a.pk, &s0, T0 + 2, &a.sk, NULL);
	CHECK(expect(arr, SMIMP_ERR_BAD_REQUEST, "record 2: previous"));
}

TEST(seq_gap)
{
	struct smimp_sign_keypair a;
	struct smimp_signed_hash s0, s1;
	json_t *arr = json_array();

	vectors_seeded(&a, 1);
	add(arr, 0, &a.pk, NULL, T0, &a.sk, &s0);
	add(arr, 1, &a.pk, &s0, T0 + 1, &a.sk, &s1);
	add(arr, 3, &a.pk, &s1, T0 + 2, &a.sk, NULL);
	CHECK(expect(arr, SMIMP_ERR_BAD_REQUEST,
		     "record 2: seq is 3, expected 2"));
	/* Reordered records. */
	arr = vector_records();
	json_t *r1 = json_incref(json_array_get(arr, 1));
	json_array_remove(arr, 1);
	json_array_append_new(arr, r1);
	CHECK(expect(arr, SMIMP_ERR_BAD_REQUEST, "record 1: seq is 2"));
}

TEST(seq_not_starting_at_zero)
{
	struct smimp_sign_keypair a;
	struct smimp_signed_hash s0, s1;
	json_t *arr = json_array();

	vectors_seeded(&a, 1);
	add(arr, 0, &a.pk, NULL, T0, &a.sk, &s0);
	add(arr, 1, &a.pk, &s0, T0 + 1, &a.sk, &s1);
	json_array_remove(arr, 0);
	CHECK(expect(arr, SMIMP_ERR_BAD_REQUEST,
		     "record 0: seq is 1, expected 0"));
}

TEST(decreasing_changed_at)
{
	struct smimp_sign_keypair a;
	struct smimp_signed_hash s0, s1;
	json_t *arr = json_array();

	vectors_seeded(&a, 1);
	add(arr, 0, &a.pk, NULL, T0, &a.sk, &s0);
	add(arr, 1, &a.pk, &s0, T0, &a.sk, &s1); /* equal is fine */
	add(arr, 2, &a.pk, &s1, T0 - 1, &a.sk, NULL);
	CHECK(expect(arr, SMIMP_ERR_BAD_REQUEST,
		     "record 2: changed_at is earlier than record 1's"));
}

TEST(wrong_signer_on_rotation)
{
	struct smimp_sign_keypair a, b;
	struct smimp_signed_hash s0;
	json_t *arr = json_array();

	vectors_seeded(&a, 1);
	vectors_seeded(&b, 3);
	add(arr, 0, &a.pk, NULL, T0, &a.sk, &s0);
	/* The rotation record signed by the NEW key. */
	add(arr, 1, &b.pk, &s0, T0 + 1, &b.sk, NULL);
	CHECK(expect(arr, SMIMP_ERR_BAD_SIGNATURE,
		     "record 1: signed_hash does not verify with record 0's "
		     "public_key"));
}

TEST(record0_signed_by_another_key)
{
	struct smimp_sign_keypair a, b;
	json_t *arr = json_array();

	vectors_seeded(&a, 1);
	vectors_seeded(&b, 2);
	add(arr, 0, &a.pk, NULL, T0, &b.sk, NULL);
	CHECK(expect(arr, SMIMP_ERR_BAD_SIGNATURE, "record 0"));
}

TEST(key_returns_after_replacement)
{
	struct smimp_sign_keypair a, b, c;
	struct smimp_signed_hash s0, s1, s2;
	json_t *arr = json_array();

	vectors_seeded(&a, 1);
	vectors_seeded(&b, 3);
	vectors_seeded(&c, 4);
	add(arr, 0, &a.pk, NULL, T0, &a.sk, &s0);
	add(arr, 1, &b.pk, &s0, T0 + 1, &a.sk, &s1);
	add(arr, 2, &a.pk, &s1, T0 + 2, &b.sk, NULL);
	CHECK(expect(arr, SMIMP_ERR_BAD_REQUEST,
		     "record 2: public_key returns after it was replaced"));
	/* A -> B -> C -> A, the return further back. */
	arr = json_array();
	add(arr, 0, &a.pk, NULL, T0, &a.sk, &s0);
	add(arr, 1, &b.pk, &s0, T0 + 1, &a.sk, &s1);
	add(arr, 2, &c.pk, &s1, T0 + 2, &b.sk, &s2);
	add(arr, 3, &a.pk, &s2, T0 + 3, &c.sk, NULL);
	CHECK(expect(arr, SMIMP_ERR_BAD_REQUEST, "record 3: public_key"));
}

TEST(valid_key_rotations_accepted)
{
	struct smimp_sign_keypair a, b, c;
	struct smimp_signed_hash s[5];
	struct smimp_history h;
	struct smimp_error err;
	json_t *arr = json_array();

	vectors_seeded(&a, 1);
	vectors_seeded(&b, 3);
	vectors_seeded(&c, 4);
	add(arr, 0, &a.pk, NULL, T0, &a.sk, &s[0]);
	add(arr, 1, &b.pk, &s[0], T0, &a.sk, &s[1]);
	add(arr, 2, &b.pk, &s[1], T0 + 5, &b.sk, &s[2]);
	add(arr, 3, &c.pk, &s[2], T0 + 5, &b.sk, &s[3]);
	add(arr, 4, &c.pk, &s[3], T0 + DAY, &c.sk, &s[4]);
	REQUIRE(smimp_history_validate(&h, arr, ADDR, &err) == SMIMP_OK);
	CHECK(h.count == 5);
	CHECK(smimp_sign_pk_equal(smimp_history_latest_key(&h), &c.pk));
	CHECK(smimp_history_key_status(&h, &b.pk) ==
	      SMIMP_HISTORY_KEY_REPLACED);
	CHECK(smimp_signed_hash_equal(&smimp_history_latest(&h)->signed_hash,
				      &s[4]));
	smimp_history_free(&h);
	json_decref(arr);
}

TEST(address_not_normal)
{
	struct smimp_sign_keypair a;
	json_t *arr = json_array();

	vectors_seeded(&a, 1);
	/* Built by hand: the builder refuses such a record. */
	json_array_append_new(arr, vectors_wire_record(
		"{\"address\":\"Alice#example.com\",\"public_key\":"
		"\"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c\","
		"\"previous\":null,\"seq\":0,\"changed_at\":\"2016-01-01 00:00:00\"}",
		&a.sk));
	CHECK(expect(arr, SMIMP_ERR_BAD_REQUEST, "record 0: data: member "
		     "\"address\" is not an address in normal form"));
}

TEST(address_different)
{
	struct smimp_sign_keypair a;
	struct smimp_signed_hash s0;
	json_t *arr = json_array();

	vectors_seeded(&a, 1);
	vectors_add_record(arr, "bob#example.com", 0, &a.pk, NULL, T0, NULL,
			   &a.sk, NULL);
	CHECK(expect(arr, SMIMP_ERR_BAD_REQUEST, "record 0: address "
		     "bob#example.com is not the address asked for"));
	/* A later record switching address. */
	arr = json_array();
	add(arr, 0, &a.pk, NULL, T0, &a.sk, &s0);
	vectors_add_record(arr, "alice#example.org", 1, &a.pk, &s0, T0, NULL,
			   &a.sk, NULL);
	CHECK(expect(arr, SMIMP_ERR_BAD_REQUEST, "record 1: address"));
}

TEST(invalid_public_key_point)
{
	struct smimp_sign_keypair a;
	struct smimp_signed_hash s0;
	char data[1024], prev[2 * SMIMP_SIGNED_HASH_BYTES + 1];
	json_t *arr = json_array();

	vectors_seeded(&a, 1);
	add(arr, 0, &a.pk, NULL, T0, &a.sk, &s0);
	smimp_hex_encode(prev, sizeof prev, s0.b, sizeof s0.b);
	/* A small-order point (the identity), properly signed by a. */
	snprintf(data, sizeof data,
		 "{\"address\":\"alice#example.com\",\"public_key\":"
		 "\"0100000000000000000000000000000000000000000000000000000000000000\","
		 "\"previous\":\"%s\",\"seq\":1,\"changed_at\":\"2016-01-01 00:00:01\"}",
		 prev);
	json_array_append_new(arr, vectors_wire_record(data, &a.sk));
	CHECK(expect(arr, SMIMP_ERR_BAD_REQUEST,
		     "record 1: data: member \"public_key\""));
}

TEST(duplicate_member_in_record_data)
{
	struct smimp_sign_keypair a;
	json_t *arr = json_array();

	vectors_seeded(&a, 1);
	json_array_append_new(arr, vectors_wire_record(
		"{\"address\":\"alice#example.com\",\"public_key\":"
		"\"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c\","
		"\"previous\":null,\"seq\":0,\"changed_at\":\"2016-01-01 00:00:00\","
		"\"name\":\"A\",\"name\":\"B\"}",
		&a.sk));
	CHECK(expect(arr, SMIMP_ERR_BAD_REQUEST, "record 0: data"));
}

TEST(check_next_for_update_profile)
{
	struct smimp_sign_keypair alice, rotated, bob;
	struct smimp_history h;
	struct smimp_record n;
	struct smimp_error err;
	json_t *arr = vector_records();
	struct smimp_record_values v = {
		.address = ADDR, .seq = 3, .changed_at = T0 + 3 * DAY,
	};

	vectors_seeded(&alice, 1);
	vectors_seeded(&rotated, 3);
	vectors_seeded(&bob, 2);
	REQUIRE(smimp_history_validate(&h, arr, ADDR, &err) == SMIMP_OK);
	v.previous = &smimp_history_latest(&h)->signed_hash;
	/* A profile change by the current key. */
	v.public_key = &rotated.pk;
	REQUIRE(smimp_record_build(&n, &v, &rotated.sk, &err) == SMIMP_OK);
	CHECK(smimp_history_check_next(&h, &n, T0 + 3 * DAY, &err) ==
	      SMIMP_OK);
	smimp_record_free(&n);
	/* Signed by the replaced key. */
	REQUIRE(smimp_record_build(&n, &v, &alice.sk, &err) == SMIMP_OK);
	CHECK(smimp_history_check_next(&h, &n, T0 + 3 * DAY, &err) ==
	      SMIMP_ERR_BAD_SIGNATURE);
	smimp_record_free(&n);
	/* Going back to the replaced key. */
	v.public_key = &alice.pk;
	REQUIRE(smimp_record_build(&n, &v, &rotated.sk, &err) == SMIMP_OK);
	CHECK(smimp_history_check_next(&h, &n, T0 + 3 * DAY, &err) ==
	      SMIMP_ERR_CONFLICT);
	smimp_record_free(&n);
	/* To a fresh key, signed by the current one. */
	v.public_key = &bob.pk;
	REQUIRE(smimp_record_build(&n, &v, &rotated.sk, &err) == SMIMP_OK);
	CHECK(smimp_history_check_next(&h, &n, T0 + 3 * DAY, &err) ==
	      SMIMP_OK);
	smimp_record_free(&n);
	smimp_history_free(&h);
	json_decref(arr);
}

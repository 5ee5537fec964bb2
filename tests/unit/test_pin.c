/* Trust on first use (spec 5.1): the reference pin, histories checked
 * against a pin (growth accepted; truncation, forks and a replaced first
 * record refused), public_key answers, and the strict pin store form. */
#include <stdint.h>
#include <string.h>
#include <jansson.h>

#include "smimp/history.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/pin.h"
#include "testlib.h"
#include "vectors_util.h"

#define ADDR "alice#example.com"
#define T0 1451606400 /* 2016-01-01 00:00:00 */
#define DAY 86400

static const json_t *vector_pin(void)
{
	return json_object_get(vectors_section("history"), "pin");
}

/* Appends a record of alice to arr; its signed hash goes to *sh. */
static void add(json_t *arr, int64_t seq, const struct smimp_sign_pk *pk,
		const struct smimp_signed_hash *previous, int64_t t,
		const char *name, const struct smimp_sign_sk *sk,
		struct smimp_signed_hash *sh)
{
	vectors_add_record(arr, ADDR, seq, pk, previous, t, name, sk, sh);
}

/* The reference history's records; the first n of them when n < 3. */
static json_t *vector_records(size_t n)
{
	json_t *arr = json_deep_copy(json_object_get(
		json_object_get(vectors_ref(), "history"), "records"));

	while (json_array_size(arr) > n)
		json_array_remove(arr, json_array_size(arr) - 1);
	return arr;
}

/* Validates arr (released) into *h; 0 on success. */
static int validate(struct smimp_history *h, json_t *arr)
{
	struct smimp_error err;
	enum smimp_err e = smimp_history_validate(h, arr, ADDR, &err);

	if (e != SMIMP_OK)
		fprintf(stderr, "validate: %s\n", err.message);
	json_decref(arr);
	return e == SMIMP_OK ? 0 : -1;
}

/* The pin of the reference history. */
static int vector_pin_of_history(struct smimp_pin *pin)
{
	struct smimp_history h;

	if (validate(&h, vector_records(3)) != 0)
		return -1;
	smimp_pin_from_history(pin, &h);
	smimp_history_free(&h);
	return 0;
}

/* The reference history grown by `extra` records signed by the rotated
 * key; *last gets the last signed hash. */
static json_t *grown(int extra, struct smimp_signed_hash *last)
{
	struct smimp_sign_keypair rotated;
	json_t *arr = vector_records(3);
	struct smimp_signed_hash sh;

	vectors_seeded(&rotated, 3);
	smimp_hex_decode_str(sh.b, sizeof sh.b, json_string_value(
		json_object_get(json_array_get(arr, 2), "signed_hash")));
	for (int i = 0; i < extra; i++)
		add(arr, 3 + i, &rotated.pk, &sh, T0 + (3 + i) * DAY, "Al",
		    &rotated.sk, &sh);
	if (last != NULL)
		*last = sh;
	return arr;
}

TEST(vectors_pin)
{
	struct smimp_pin pin, stored;
	struct smimp_error err;
	json_t *mine;

	REQUIRE(vector_pin() != NULL);
	REQUIRE(vector_pin_of_history(&pin) == 0);
	mine = smimp_pin_to_json(&pin);
	CHECK(json_equal(mine, vector_pin()));
	json_decref(mine);
	/* The vectors' pin reads back to the same pin. */
	REQUIRE(smimp_pin_from_json(&stored, vector_pin(), &err) == SMIMP_OK);
	CHECK(memcmp(&stored, &pin, sizeof pin) == 0);
	CHECK(stored.latest_seq == 2);
	CHECK_STREQ(stored.address,
		    vectors_str(vectors_ref(), "history.pin.address"));
	struct smimp_sign_pk k;

	REQUIRE(vectors_hex(vectors_ref(), "keys.alice.ed25519_public_key", k.b,
			    sizeof k.b) == 0);
	CHECK(smimp_sign_pk_equal(&k, &stored.first_public_key));
}

TEST(pin_json_roundtrip_text)
{
	struct smimp_pin pin, back;
	struct smimp_error err;
	char *text;

	REQUIRE(vector_pin_of_history(&pin) == 0);
	json_t *j = smimp_pin_to_json(&pin);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	REQUIRE(smimp_pin_parse(&back, text, strlen(text), &err) == SMIMP_OK);
	CHECK(memcmp(&back, &pin, sizeof pin) == 0);
	free(text);
}

/* Reads the vectors' pin with one member changed (value NULL: removed). */
static enum smimp_err pin_with(const char *member, json_t *value)
{
	struct smimp_pin pin;
	struct smimp_error err;
	json_t *j = json_deep_copy(vector_pin());
	enum smimp_err e;

	if (value == NULL)
		json_object_del(j, member);
	else
		json_object_set_new(j, member, value);
	e = smimp_pin_from_json(&pin, j, &err);
	json_decref(j);
	return e;
}

TEST(pin_json_strict)
{
	struct smimp_pin pin;
	struct smimp_error err;

	CHECK(pin_with("address", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(pin_with("latest_seq", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(pin_with("extra", json_true()) == SMIMP_ERR_BAD_REQUEST);
	CHECK(pin_with("address", json_string("Alice#example.com")) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(pin_with("latest_seq", json_integer(-1)) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(pin_with("latest_seq", json_string("2")) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(pin_with("latest_seq", json_real(2.0)) == SMIMP_ERR_BAD_REQUEST);
	/* latest_seq 0 but latest differs from first. */
	CHECK(pin_with("latest_seq", json_integer(0)) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(pin_with("first_public_key",
		       json_string("00000000000000000000000000000000"
				   "00000000000000000000000000000000")) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(pin_with("latest_signed_hash", json_string("abcd")) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_pin_parse(&pin, "{\"address\":1,\"address\":2}", 25, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_pin_parse(&pin, "[]", 2, &err) == SMIMP_ERR_BAD_REQUEST);
}

TEST(same_history_accepted)
{
	struct smimp_pin pin, before;
	struct smimp_history h;
	struct smimp_error err;

	REQUIRE(vector_pin_of_history(&pin) == 0);
	before = pin;
	REQUIRE(validate(&h, vector_records(3)) == 0);
	CHECK(smimp_pin_advance(&pin, &h, &err) == SMIMP_OK);
	CHECK(memcmp(&before, &pin, sizeof pin) == 0);
	smimp_history_free(&h);
}

TEST(pin_advances_after_growth)
{
	struct smimp_sign_keypair rotated;
	struct smimp_signed_hash last;
	struct smimp_pin pin, first;
	struct smimp_history h;
	struct smimp_error err;

	vectors_seeded(&rotated, 3);
	/* First contact at record 1, then the rotation and two more. */
	REQUIRE(validate(&h, vector_records(2)) == 0);
	smimp_pin_from_history(&pin, &h);
	smimp_history_free(&h);
	first = pin;
	CHECK(pin.latest_seq == 1);
	REQUIRE(validate(&h, grown(2, &last)) == 0);
	CHECK(smimp_pin_advance(&pin, &h, &err) == SMIMP_OK);
	CHECK(pin.latest_seq == 4);
	CHECK(smimp_signed_hash_equal(&pin.latest_signed_hash, &last));
	CHECK(smimp_sign_pk_equal(&pin.latest_public_key, &rotated.pk));
	CHECK(smimp_signed_hash_equal(&pin.first_signed_hash,
				      &first.first_signed_hash));
	CHECK(smimp_sign_pk_equal(&pin.first_public_key,
				  &first.first_public_key));
	smimp_history_free(&h);
}

TEST(truncated_history_refused)
{
	struct smimp_pin pin, before;
	struct smimp_history h;
	struct smimp_error err;

	REQUIRE(vector_pin_of_history(&pin) == 0);
	before = pin;
	/* The server drops the rotation record: valid on its own. */
	REQUIRE(validate(&h, vector_records(2)) == 0);
	CHECK(smimp_pin_advance(&pin, &h, &err) == SMIMP_ERR_PIN_MISMATCH);
	CHECK(strstr(err.message, "truncated") != NULL);
	CHECK(strstr(err.message, "nothing will be sent") != NULL);
	CHECK(memcmp(&before, &pin, sizeof pin) == 0);
	smimp_history_free(&h);
}

TEST(forked_history_refused)
{
	struct smimp_sign_keypair alice, mallory;
	struct smimp_signed_hash s1;
	struct smimp_pin pin, before;
	struct smimp_history h;
	struct smimp_error err;
	json_t *arr;

	vectors_seeded(&alice, 1);
	vectors_seeded(&mallory, 9);
	REQUIRE(vector_pin_of_history(&pin) == 0);
	before = pin;
	/* Another record 2 (a rotation to mallory's key, validly signed with
	 * the stolen old key), and a record 3 on top: longer, valid, forked. */
	arr = vector_records(2);
	smimp_hex_decode_str(s1.b, sizeof s1.b, json_string_value(
		json_object_get(json_array_get(arr, 1), "signed_hash")));
	add(arr, 2, &mallory.pk, &s1, T0 + 2 * DAY, "Alice", &alice.sk, &s1);
	add(arr, 3, &mallory.pk, &s1, T0 + 3 * DAY, "Alice", &mallory.sk,
	    NULL);
	REQUIRE(validate(&h, arr) == 0);
	CHECK(smimp_pin_check_history(&pin, &h, &err) ==
	      SMIMP_ERR_PIN_MISMATCH);
	CHECK(strstr(err.message, "forked") != NULL);
	CHECK(smimp_pin_advance(&pin, &h, &err) == SMIMP_ERR_PIN_MISMATCH);
	CHECK(memcmp(&before, &pin, sizeof pin) == 0);
	smimp_history_free(&h);
}

TEST(replaced_record0_refused)
{
	struct smimp_sign_keypair mallory;
	struct smimp_signed_hash s[3];
	struct smimp_pin pin;
	struct smimp_history h;
	struct smimp_error err;
	json_t *arr = json_array();

	vectors_seeded(&mallory, 9);
	REQUIRE(vector_pin_of_history(&pin) == 0);
	/* A whole new identity for the same address, as long as the old. */
	add(arr, 0, &mallory.pk, NULL, T0, NULL, &mallory.sk, &s[0]);
	add(arr, 1, &mallory.pk, &s[0], T0, NULL, &mallory.sk, &s[1]);
	add(arr, 2, &mallory.pk, &s[1], T0, NULL, &mallory.sk, &s[2]);
	add(arr, 3, &mallory.pk, &s[2], T0, NULL, &mallory.sk, NULL);
	REQUIRE(validate(&h, arr) == 0);
	CHECK(smimp_pin_check_history(&pin, &h, &err) ==
	      SMIMP_ERR_PIN_MISMATCH);
	CHECK(strstr(err.message, "replaced") != NULL);
	smimp_history_free(&h);
}

TEST(history_of_other_address_refused)
{
	struct smimp_sign_keypair alice;
	struct smimp_record_values v = {0};
	struct smimp_record r;
	struct smimp_pin pin;
	struct smimp_history h;
	struct smimp_error err;
	json_t *arr = json_array();

	vectors_seeded(&alice, 1);
	REQUIRE(vector_pin_of_history(&pin) == 0);
	v.address = "alice#example.org";
	v.public_key = &alice.pk;
	v.changed_at = T0;
	REQUIRE(smimp_record_build(&r, &v, &alice.sk, &err) == SMIMP_OK);
	json_array_append_new(arr, smimp_record_to_json(&r));
	smimp_record_free(&r);
	REQUIRE(smimp_history_validate(&h, arr, "alice#example.org", &err) ==
		SMIMP_OK);
	json_decref(arr);
	CHECK(smimp_pin_check_history(&pin, &h, &err) ==
	      SMIMP_ERR_PIN_MISMATCH);
	smimp_history_free(&h);
}

/* A public_key answer from the vectors' pin's latest values, changed. */
static json_t *answer(const struct smimp_pin *pin, long long seq,
		      int flip_hash, int flip_key)
{
	struct smimp_signed_hash sh = pin->latest_signed_hash;
	struct smimp_sign_pk pk = pin->latest_public_key;
	json_t *o = json_object();

	sh.b[70] ^= (uint8_t)flip_hash;
	pk.b[3] ^= (uint8_t)flip_key;
	json_object_set_new(o, "address", json_string(pin->address));
	smimp_json_set_hex(o, "public_key", pk.b, sizeof pk.b);
	json_object_set_new(o, "seq", json_integer(seq));
	smimp_json_set_hex(o, "signed_hash", sh.b, sizeof sh.b);
	return o;
}

static enum smimp_err check_answer(const struct smimp_pin *pin, json_t *a,
				   enum smimp_pin_key *verdict,
				   struct smimp_error *err)
{
	enum smimp_err e = smimp_pin_check_public_key(pin, a, verdict, err);

	json_decref(a);
	return e;
}

TEST(public_key_answer_unchanged_or_refetch)
{
	struct smimp_pin pin;
	struct smimp_error err;
	enum smimp_pin_key verdict;

	REQUIRE(vector_pin_of_history(&pin) == 0);
	verdict = SMIMP_PIN_KEY_REFETCH;
	CHECK(check_answer(&pin, answer(&pin, 2, 0, 0), &verdict, &err) ==
	      SMIMP_OK);
	CHECK(verdict == SMIMP_PIN_KEY_UNCHANGED);
	/* A newer record: another key and hash, fetch the history. */
	CHECK(check_answer(&pin, answer(&pin, 3, 1, 1), &verdict, &err) ==
	      SMIMP_OK);
	CHECK(verdict == SMIMP_PIN_KEY_REFETCH);
	/* Unknown members are ignored; the address may come in any case. */
	json_t *a = answer(&pin, 2, 0, 0);
	json_object_set_new(a, "address", json_string("ALICE#example.com"));
	json_object_set_new(a, "x", json_null());
	CHECK(check_answer(&pin, a, &verdict, &err) == SMIMP_OK);
	CHECK(verdict == SMIMP_PIN_KEY_UNCHANGED);
}

TEST(public_key_answer_attacks)
{
	struct smimp_pin pin;
	struct smimp_error err;
	enum smimp_pin_key verdict;

	REQUIRE(vector_pin_of_history(&pin) == 0);
	/* Rolled back to an older record. */
	CHECK(check_answer(&pin, answer(&pin, 1, 0, 0), &verdict, &err) ==
	      SMIMP_ERR_PIN_MISMATCH);
	CHECK(strstr(err.message, "rolled back") != NULL);
	/* The pinned seq with another signed hash, or another key. */
	CHECK(check_answer(&pin, answer(&pin, 2, 1, 0), &verdict, &err) ==
	      SMIMP_ERR_PIN_MISMATCH);
	CHECK(strstr(err.message, "replaced or forked") != NULL);
	CHECK(check_answer(&pin, answer(&pin, 2, 0, 1), &verdict, &err) ==
	      SMIMP_ERR_PIN_MISMATCH);
}

TEST(public_key_answer_malformed)
{
	struct smimp_pin pin;
	struct smimp_error err;
	enum smimp_pin_key verdict;
	json_t *a;

	REQUIRE(vector_pin_of_history(&pin) == 0);
	a = answer(&pin, 2, 0, 0);
	json_object_set_new(a, "address", json_string("bob#example.com"));
	CHECK(check_answer(&pin, a, &verdict, &err) == SMIMP_ERR_BAD_REQUEST);
	a = answer(&pin, 2, 0, 0);
	json_object_del(a, "seq");
	CHECK(check_answer(&pin, a, &verdict, &err) == SMIMP_ERR_BAD_REQUEST);
	a = answer(&pin, 2, 0, 0);
	json_object_set_new(a, "seq", json_integer(-1));
	CHECK(check_answer(&pin, a, &verdict, &err) == SMIMP_ERR_BAD_REQUEST);
	a = answer(&pin, 2, 0, 0);
	json_object_set_new(a, "public_key", json_string("abc"));
	CHECK(check_answer(&pin, a, &verdict, &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(check_answer(&pin, json_array(), &verdict, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
}

/* Wire encodings (spec 1, 2): strict lowercase hex, canonical base64, the
 * field hash H against every "field_hash" case of vectors.json, and signed
 * hashes made and verified with seeded keys, tampering included. */
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/b64.h"
#include "smimp/hash.h"
#include "smimp/hex.h"
#include "smimp/key.h"
#include "testlib.h"
#include "vectors_util.h"

/* Decodes s (NUL-terminated) with a generous limit; returns the code and
 * frees the result. */
static enum smimp_err b64_with(enum smimp_err (*decode)(uint8_t **, size_t *,
							const char *, size_t,
							size_t),
			       const char *s, size_t max_len, uint8_t **kept,
			       size_t *kept_len)
{
	static uint8_t sentinel;
	uint8_t *out = &sentinel;
	size_t out_len = 99;
	enum smimp_err e = decode(&out, &out_len, s, strlen(s), max_len);

	*kept = NULL;
	*kept_len = 0;
	if (out == &sentinel)
		return SMIMP_ERR_INTERNAL; /* *out must always be set */
	if (e != SMIMP_OK && (out != NULL || out_len != 0))
		e = SMIMP_ERR_INTERNAL; /* and cleared on error */
	*kept = out;
	*kept_len = out_len;
	return e;
}

/* ... with both codecs, which must agree on the verdict and the bytes. */
static enum smimp_err b64(const char *s, size_t max_len)
{
	uint8_t *a, *b;
	size_t a_len, b_len;
	enum smimp_err e = b64_with(smimp_b64_decode, s, max_len, &a, &a_len);
	enum smimp_err f = b64_with(smimp_b64_decode_public, s, max_len, &b,
				    &b_len);

	CHECK(e == f);
	CHECK(a_len == b_len && (a_len == 0 || memcmp(a, b, a_len) == 0));
	free(a);
	free(b);
	return e;
}

TEST(hex_valid)
{
	uint8_t out[4];
	char enc[9];

	CHECK(smimp_hex_decode_str(out, 4, "00ff10ab") == SMIMP_OK);
	CHECK(out[0] == 0x00 && out[1] == 0xff && out[2] == 0x10 &&
	      out[3] == 0xab);
	CHECK(smimp_hex_encode(enc, sizeof enc, out, 4) == 0);
	CHECK_STREQ(enc, "00ff10ab");
	CHECK(smimp_hex_decode(out, 4, "0123456789abcdefXX", 8) == SMIMP_OK);
	CHECK(smimp_hex_is_valid("0123456789abcdef", 16, 8));
	CHECK(smimp_hex_is_valid("", 0, 0));
	CHECK(smimp_hex_decode(out, 0, "", 0) == SMIMP_OK);
}

TEST(hex_upper_case_rejected)
{
	uint8_t out[2] = {0x55, 0x55};

	CHECK(smimp_hex_decode_str(out, 2, "00FF") == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_hex_decode_str(out, 2, "0A0b") == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_hex_decode_str(out, 2, "ABCD") == SMIMP_ERR_BAD_REQUEST);
	CHECK(!smimp_hex_is_valid("Ff", 2, 1));
	/* Nothing written on failure. */
	CHECK(out[0] == 0x55 && out[1] == 0x55);
}

TEST(hex_length_and_alphabet)
{
	uint8_t out[3] = {0x55, 0x55, 0x55};

	CHECK(smimp_hex_decode_str(out, 2, "abc") == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_hex_decode_str(out, 2, "ab") == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_hex_decode_str(out, 2, "abcdef") == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_hex_decode_str(out, 2, "") == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_hex_decode_str(out, 2, "0g00") == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_hex_decode_str(out, 2, " 000") == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_hex_decode_str(out, 2, "0x00") == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_hex_decode(out, 2, "00\0" "0", 4) == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_hex_decode(out, 2, "00\xc3\xa4", 4) == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_hex_decode_str(out, 2, NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_hex_decode(out, 2, NULL, 4) == SMIMP_ERR_BAD_REQUEST);
	CHECK(out[0] == 0x55 && out[1] == 0x55 && out[2] == 0x55);
	/* Encoding needs room for the NUL. */
	{
		char enc[5];

		CHECK(smimp_hex_encode(enc, 4, out, 2) == -1);
		CHECK(smimp_hex_encode(enc, 5, out, 2) == 0);
	}
}

TEST(b64_valid)
{
	static const struct { const char *plain, *enc; } rfc4648[] = {
		{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
		{"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
		{"foobar", "Zm9vYmFy"},
	};
	uint8_t *out;
	size_t out_len;

	for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
		const char *p = rfc4648[i].plain, *s = rfc4648[i].enc;
		char *again;

		REQUIRE(smimp_b64_decode(&out, &out_len, s, strlen(s), 100) ==
			SMIMP_OK);
		CHECK(out != NULL);
		CHECK(out_len == strlen(p) && memcmp(out, p, out_len) == 0);
		free(out);
		again = smimp_b64_encode((const uint8_t *)p, strlen(p));
		CHECK_STREQ(again, s);
		free(again);
		again = smimp_b64_encode_public((const uint8_t *)p, strlen(p));
		CHECK_STREQ(again, s);
		free(again);
		CHECK(b64(s, 100) == SMIMP_OK);
	}
	/* The whole alphabet, '+' and '/' included. */
	CHECK(b64("+/+/", 100) == SMIMP_OK);
	CHECK(b64("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
		  100) == SMIMP_OK);
}

TEST(b64_bad_padding)
{
	CHECK(b64("Zg", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("Zg=", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("Zm8", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("Z===", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("====", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("Zm9v====", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("Zg==Zg==", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("Zm9v=", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("Zg=a", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("=Zg=", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("Zm8==", 100) == SMIMP_ERR_BAD_REQUEST);
}

TEST(b64_nonzero_padding_bits)
{
	/* Too large is told before the padding bits, by both codecs (b64
	 * compares them). */
	CHECK(b64("AB==", 0) == SMIMP_ERR_TOO_LARGE);
	CHECK(b64("AAB=", 1) == SMIMP_ERR_TOO_LARGE);
	CHECK(b64("AB==", 1) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("QQ==", 100) == SMIMP_OK);
	CHECK(b64("QR==", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("Zh==", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("Zm8=", 100) == SMIMP_OK);
	CHECK(b64("Zm9=", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("Zm9vYh==", 100) == SMIMP_ERR_BAD_REQUEST);
}

TEST(b64_alphabet)
{
	uint8_t *out = NULL;
	size_t out_len = 0;

	CHECK(b64("Zm9-", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("Zm9_", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("Zm 9", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("Zm9v\n", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("Zm9v\nZm9v", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("Zm9.", 100) == SMIMP_ERR_BAD_REQUEST);
	CHECK(b64("Z\xc3\xa4=", 100) == SMIMP_ERR_BAD_REQUEST);
	/* Found by fuzz_b64: libsodium 1.0.18 maps bytes >= 0x80 to sextets. */
	CHECK(b64("\xc0\xc2\x89\xc2", 100) == SMIMP_ERR_BAD_REQUEST);
	/* Every byte outside the alphabet, at every position of a quad. */
	for (int c = 0; c < 256; c++) {
		char q[5];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=')
			continue;
		for (int pos = 0; pos < 4; pos++) {
			memcpy(q, "AAAA", 5);
			q[pos] = (char)c;
			if (smimp_b64_decode(&out, &out_len, q, 4, 100) !=
			    SMIMP_ERR_BAD_REQUEST) {
				CHECK(!"byte outside the alphabet accepted");
				fprintf(stderr, "byte 0x%02x at %d\n", c, pos);
				free(out);
				pos = 4;
				c = 256;
			}
		}
	}
	CHECK(smimp_b64_decode(&out, &out_len, "Zm\0v", 4, 100) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(out == NULL && out_len == 0);
	CHECK(smimp_b64_decode(&out, &out_len, NULL, 0, 100) ==
	      SMIMP_ERR_BAD_REQUEST);
}

TEST(b64_empty_and_limit)
{
	uint8_t *out = NULL;
	size_t out_len = 1;

	CHECK(smimp_b64_decode(&out, &out_len, "", 0, 0) == SMIMP_OK);
	CHECK(out != NULL && out_len == 0);
	free(out);
	CHECK(b64("Zm9v", 3) == SMIMP_OK);
	CHECK(b64("Zm9v", 2) == SMIMP_ERR_TOO_LARGE);
	CHECK(b64("Zm8=", 2) == SMIMP_OK);
	CHECK(b64("Zm8=", 1) == SMIMP_ERR_TOO_LARGE);
	CHECK(b64("Zg==", 1) == SMIMP_OK);
	CHECK(b64("Zg==", 0) == SMIMP_ERR_TOO_LARGE);
	CHECK(smimp_b64_max_decoded_len(8) == 6);
}

/* Appends LE64(v) to buf[*pos..cap); false when it does not fit. */
static bool put_le64(uint8_t *buf, size_t *pos, size_t cap, uint64_t v)
{
	if (cap - *pos < 8)
		return false;
	for (int b = 0; b < 8; b++)
		buf[(*pos)++] = (uint8_t)(v >> (8 * b));
	return true;
}

/* Appends LE64(len) || p[0..len). */
static bool put_field(uint8_t *buf, size_t *pos, size_t cap, const void *p,
		      size_t len)
{
	if (!put_le64(buf, pos, cap, (uint64_t)len) || cap - *pos < len)
		return false;
	memcpy(buf + *pos, p, len);
	*pos += len;
	return true;
}

/* One field_hash case: rebuilds the encoding from the fields, checks it
 * against "encoding", and H against "hash" both ways. */
static void field_hash_case(size_t idx, json_t *c)
{
	const char *label = json_string_value(json_object_get(c, "label"));
	const char *enc_hex = json_string_value(json_object_get(c, "encoding"));
	json_t *fields = json_object_get(c, "fields"), *f;
	struct smimp_field parts[16];
	uint8_t *bins[16] = {0}, *enc = NULL, *built = NULL;
	struct smimp_hash want, h, plain;
	size_t n, i, enc_len, pos = 0;

	REQUIRE(label != NULL && enc_hex != NULL);
	n = json_array_size(fields);
	REQUIRE(n > 0 && n <= 16);
	REQUIRE(smimp_hex_decode_str(want.b, sizeof want.b,
				     json_string_value(json_object_get(c, "hash")))
		== SMIMP_OK);
	json_array_foreach(fields, i, f) {
		const char *kind = json_string_value(json_object_get(f, "kind"));

		REQUIRE(kind != NULL);
		if (strcmp(kind, "t") == 0) {
			json_t *t = json_object_get(f, "text");

			REQUIRE(json_is_string(t));
			parts[i] = smimp_bytes(json_string_value(t),
					       json_string_length(t));
		} else {
			const char *hx = json_string_value(json_object_get(f, "hex"));
			size_t blen;

			REQUIRE(strcmp(kind, "b") == 0 && hx != NULL);
			blen = strlen(hx) / 2;
			bins[i] = malloc(blen + 1);
			REQUIRE(bins[i] != NULL);
			REQUIRE(smimp_hex_decode(bins[i], blen, hx, strlen(hx)) ==
				SMIMP_OK);
			parts[i] = smimp_bytes(bins[i], blen);
		}
	}
	/* The byte string H hashes. */
	enc_len = strlen(enc_hex) / 2;
	enc = malloc(enc_len + 1);
	built = malloc(enc_len + 1);
	if (enc != NULL && built != NULL &&
	    smimp_hex_decode(enc, enc_len, enc_hex, strlen(enc_hex)) == SMIMP_OK) {
		bool fits = put_le64(built, &pos, enc_len, (uint64_t)n + 1) &&
			    put_field(built, &pos, enc_len, label, strlen(label));

		for (i = 0; i < n && fits; i++)
			fits = put_field(built, &pos, enc_len, parts[i].ptr,
					 parts[i].len);
		CHECK(fits && pos == enc_len && memcmp(built, enc, enc_len) == 0);
		smimp_hash_plain(&plain, enc, enc_len);
		CHECK(smimp_hash_equal(&plain, &want));
	} else {
		CHECK(!"encoding is not hex");
	}
	smimp_hash_fields(&h, label, parts, n);
	CHECK(smimp_hash_equal(&h, &want));
	if (!smimp_hash_equal(&h, &want))
		fprintf(stderr, "field_hash case %zu (%s) differs\n", idx, label);
	free(enc);
	free(built);
	for (i = 0; i < n; i++)
		free(bins[i]);
}

TEST(field_hash_vectors)
{
	json_t *root = vectors_load(REFERENCE_VECTORS), *cases, *c;
	size_t i;

	REQUIRE(smimp_init() == 0);
	REQUIRE(root != NULL);
	cases = json_object_get(json_object_get(root, "field_hash"), "cases");
	REQUIRE(json_array_size(cases) > 0);
	json_array_foreach(cases, i, c)
		field_hash_case(i, c);
	json_decref(root);
}

TEST(field_hash_separation)
{
	struct smimp_hash a, b;
	struct smimp_field f1[2] = {smimp_text("ab"), smimp_text("c")};
	struct smimp_field f2[2] = {smimp_text("a"), smimp_text("bc")};
	struct smimp_field f3[1] = {smimp_text("abc")};

	REQUIRE(smimp_init() == 0);
	/* Moving bytes between fields, changing their count or the label
	 * changes H. */
	smimp_hash_fields(&a, SMIMP_LABEL_LIST_ENTRY, f1, 2);
	smimp_hash_fields(&b, SMIMP_LABEL_LIST_ENTRY, f2, 2);
	CHECK(!smimp_hash_equal(&a, &b));
	smimp_hash_fields(&b, SMIMP_LABEL_LIST_ENTRY, f3, 1);
	CHECK(!smimp_hash_equal(&a, &b));
	smimp_hash_fields(&b, SMIMP_LABEL_AVATAR, f1, 2);
	CHECK(!smimp_hash_equal(&a, &b));
	smimp_hash_fields(&b, SMIMP_LABEL_LIST_ENTRY, f1, 2);
	CHECK(smimp_hash_equal(&a, &b));
}

TEST(signed_hash)
{
	json_t *root = vectors_load(REFERENCE_VECTORS);
	const char *seed_hex, *hash_hex, *sh_hex;
	uint8_t seed[SMIMP_SIGN_SEED_BYTES];
	struct smimp_sign_keypair kp, other;
	struct smimp_signed_hash sh, want, bad;
	struct smimp_hash h, emb, h2;

	REQUIRE(smimp_init() == 0);
	REQUIRE(root != NULL);
	seed_hex = json_string_value(json_object_get(
		json_object_get(json_object_get(root, "keys"), "bob"), "seed"));
	hash_hex = json_string_value(json_object_get(
		json_object_get(root, "message_key"), "hash"));
	sh_hex = json_string_value(json_object_get(json_object_get(
		json_object_get(root, "message_key"), "object"), "signed_hash"));
	REQUIRE(smimp_hex_decode_str(seed, sizeof seed, seed_hex) == SMIMP_OK);
	REQUIRE(smimp_hex_decode_str(h.b, sizeof h.b, hash_hex) == SMIMP_OK);
	REQUIRE(smimp_hex_decode_str(want.b, sizeof want.b, sh_hex) == SMIMP_OK);
	smimp_sign_keypair_from_seed(&kp, seed);
	memset(seed, 0x07, sizeof seed);
	smimp_sign_keypair_from_seed(&other, seed);

	/* Known answer: Ed25519 is deterministic. */
	smimp_signed_hash_make(&sh, &h, &kp.sk);
	CHECK(smimp_signed_hash_equal(&sh, &want));
	smimp_signed_hash_embedded(&emb, &sh);
	CHECK(smimp_hash_equal(&emb, &h));
	CHECK(smimp_signed_hash_verify(&sh, &h, &kp.pk) == SMIMP_OK);

	/* Wrong key, wrong expected hash. */
	CHECK(smimp_signed_hash_verify(&sh, &h, &other.pk) ==
	      SMIMP_ERR_BAD_SIGNATURE);
	h2 = h;
	h2.b[31] ^= 1;
	CHECK(smimp_signed_hash_verify(&sh, &h2, &kp.pk) ==
	      SMIMP_ERR_BAD_SIGNATURE);
	/* Every tampered byte, signature and embedded hash alike. */
	for (size_t i = 0; i < sizeof sh.b; i++) {
		bad = sh;
		bad.b[i] ^= 0x01;
		if (smimp_signed_hash_verify(&bad, &h, &kp.pk) !=
		    SMIMP_ERR_BAD_SIGNATURE) {
			CHECK(!"tampered signed hash accepted");
			fprintf(stderr, "byte %zu\n", i);
		}
	}
	/* A valid signature over another hash does not pass for this one. */
	smimp_signed_hash_make(&bad, &h2, &kp.sk);
	CHECK(smimp_signed_hash_verify(&bad, &h2, &kp.pk) == SMIMP_OK);
	CHECK(smimp_signed_hash_verify(&bad, &h, &kp.pk) ==
	      SMIMP_ERR_BAD_SIGNATURE);
	smimp_sign_keypair_wipe(&kp);
	smimp_sign_keypair_wipe(&other);
	json_decref(root);
}

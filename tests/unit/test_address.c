/* Address and domain rules (spec 3): every rule on both sides, the URL path
 * encoding both ways, and every case of vectors.json "addresses". */
#include <jansson.h>
#include <string.h>

#include "smimp/address.h"
#include "testlib.h"
#include "vectors_util.h"


/* Normalizes s (NUL-terminated) and returns the error code; out gets the
 * normal form. */
static enum smimp_err norm(char out[SMIMP_ADDRESS_MAX + 1], const char *s)
{
	struct smimp_error err = {0};
	enum smimp_err e = smimp_address_normalize(out, s, strlen(s), &err);

	if (e != SMIMP_OK && (err.code != e || err.message[0] == '\0'))
		return SMIMP_ERR_INTERNAL; /* no reason given: fail the check */
	return e;
}

static bool valid(const char *s)
{
	char out[SMIMP_ADDRESS_MAX + 1];

	return norm(out, s) == SMIMP_OK;
}

static bool invalid(const char *s)
{
	char out[SMIMP_ADDRESS_MAX + 1] = "junk";

	return norm(out, s) == SMIMP_ERR_BAD_REQUEST && out[0] == '\0';
}

/* A string of n copies of c followed by tail, in buf. */
static const char *rep(char *buf, char c, size_t n, const char *tail)
{
	memset(buf, c, n);
	strcpy(buf + n, tail);
	return buf;
}

TEST(vectors_addresses)
{
	json_t *root = vectors_load(REFERENCE_VECTORS);
	json_t *cases, *c;
	size_t i, n_valid = 0, n_invalid = 0;

	REQUIRE(root != NULL);
	cases = json_object_get(json_object_get(root, "addresses"), "cases");
	REQUIRE(json_array_size(cases) > 0);
	json_array_foreach(cases, i, c) {
		json_t *in = json_object_get(c, "input");
		const char *want = json_string_value(json_object_get(c, "normal"));
		char out[SMIMP_ADDRESS_MAX + 1];
		struct smimp_error err = {0};
		enum smimp_err e;

		REQUIRE(json_is_string(in) && want != NULL);
		e = smimp_address_normalize(out, json_string_value(in),
					    json_string_length(in), &err);
		if (strcmp(want, "invalid") == 0) {
			n_invalid++;
			CHECK(e == SMIMP_ERR_BAD_REQUEST);
			CHECK(err.code == SMIMP_ERR_BAD_REQUEST);
			CHECK(err.message[0] != '\0');
			CHECK(out[0] == '\0');
			if (e == SMIMP_OK)
				fprintf(stderr, "case %zu accepted: %s\n", i,
					json_string_value(in));
		} else {
			n_valid++;
			CHECK(e == SMIMP_OK);
			CHECK_STREQ(out, want);
			CHECK(smimp_address_is_normal(want, strlen(want)));
			if (e != SMIMP_OK)
				fprintf(stderr, "case %zu: %s\n", i, err.message);
		}
	}
	CHECK(n_valid > 0 && n_invalid > 0);
	json_decref(root);
}

TEST(local_part)
{
	char buf[128], out[SMIMP_ADDRESS_MAX + 1];

	CHECK(valid("a#example.com"));
	CHECK(valid("Z9#example.com"));
	CHECK(norm(out, "AbC123#example.com") == SMIMP_OK);
	CHECK_STREQ(out, "abc123#example.com");
	CHECK(valid(rep(buf, 'x', 64, "#example.com")));
	CHECK(invalid(rep(buf, 'x', 65, "#example.com")));
	CHECK(invalid("#example.com"));
	CHECK(invalid("a.b#example.com"));
	CHECK(invalid("a-b#example.com"));
	CHECK(invalid("a_b#example.com"));
	CHECK(invalid("a+b#example.com"));
	CHECK(invalid("a b#example.com"));
	CHECK(invalid("a@b#example.com"));
	CHECK(invalid("a%23b#example.com"));
	CHECK(invalid(" a#example.com"));
}

TEST(separator)
{
	CHECK(invalid(""));
	CHECK(invalid("adam"));
	CHECK(invalid("adam@example.com"));
	CHECK(invalid("adam#"));
	CHECK(invalid("a#b#example.com"));
	CHECK(invalid("adam##example.com"));
	CHECK(invalid("#"));
	CHECK(smimp_address_normalize_str((char[SMIMP_ADDRESS_MAX + 1]){0},
					  NULL, NULL) == SMIMP_ERR_BAD_REQUEST);
}

TEST(domain_labels)
{
	char buf[512];

	CHECK(valid("a#x-y.example"));
	CHECK(valid("a#xn--bcher-kva.example"));
	CHECK(valid("a#a.b"));
	buf[0] = 'a';
	buf[1] = '#';
	rep(buf + 2, 'l', 63, ".com");
	CHECK(valid(buf));
	rep(buf + 2, 'l', 64, ".com");
	CHECK(invalid(buf));
	CHECK(invalid("a#-x.com"));
	CHECK(invalid("a#x-.com"));
	CHECK(invalid("a#x.-com"));
	CHECK(invalid("a#x.com-"));
	CHECK(invalid("a#x..com"));
	CHECK(invalid("a#.x.com"));
	CHECK(invalid("a#x.com."));
	CHECK(invalid("a#x_y.com"));
	CHECK(invalid("a#x y.com"));
	CHECK(invalid("a#x.com/"));
	CHECK(invalid("a#x.com:443"));
	CHECK(invalid("a#[::1]"));
}

TEST(domain_shape)
{
	char buf[512], out[SMIMP_ADDRESS_MAX + 1];
	size_t n;

	/* Two labels at least, localhost aside (any case, no dot). */
	CHECK(invalid("a#com"));
	CHECK(norm(out, "a#LocalHost") == SMIMP_OK);
	CHECK_STREQ(out, "a#localhost");
	CHECK(invalid("a#localhost."));
	CHECK(invalid("a#localhostx"));
	CHECK(valid("a#localhost.example"));
	/* The last label is not all digits; other labels may be. */
	CHECK(invalid("a#1.2.3.4"));
	CHECK(invalid("a#example.0"));
	CHECK(invalid("a#x.00"));
	CHECK(valid("a#1.2.3.x4"));
	CHECK(valid("a#123.example"));
	CHECK(valid("a#example.4x"));
	CHECK(valid("a#1-2.example"));
	/* At most 253 characters: 4 labels of 63, 63, 63, 61. */
	strcpy(buf, "a#");
	n = 2;
	for (int l = 0; l < 4; l++) {
		size_t k = l < 3 ? 63 : 61;

		memset(buf + n, 'a' + l, k);
		n += k;
		buf[n++] = l < 3 ? '.' : '\0';
	}
	CHECK(strlen(buf) == 2 + 253);
	CHECK(norm(out, buf) == SMIMP_OK);
	CHECK(strlen(out) == 2 + SMIMP_DOMAIN_MAX);
	buf[n - 1] = 'd';
	buf[n] = '\0';
	CHECK(strlen(buf) == 2 + 254);
	CHECK(invalid(buf));
}

TEST(case_and_non_ascii)
{
	char out[SMIMP_ADDRESS_MAX + 1];
	struct smimp_error err = {0};

	CHECK(norm(out, "ADAM#EXAMPLE.COM") == SMIMP_OK);
	CHECK_STREQ(out, "adam#example.com");
	/* KELVIN SIGN (U+212A) would fold to 'k' under Unicode rules. */
	CHECK(invalid("adam#\xe2\x84\xaa" "elvin.com"));
	CHECK(invalid("\xe2\x84\xaa" "#kelvin.com"));
	CHECK(invalid("\xc3\xa4#example.com"));
	CHECK(invalid("a#ex\x80.com"));
	CHECK(invalid("a#ex\xff.com"));
	CHECK(invalid("a\x7f#example.com"));
	/* A NUL inside the given length is a byte like any other. */
	CHECK(smimp_address_normalize(out, "adam\0#example.com", 17, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_address_normalize(out, "adam#example.com\0", 17, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(strstr(err.message, "0x00") != NULL);
	CHECK(smimp_address_normalize(out, "adam#ex\xe2.com", 11, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(strstr(err.message, "non-ASCII") != NULL);
	/* err may be NULL. */
	CHECK(smimp_address_normalize(out, "x", 1, NULL) == SMIMP_ERR_BAD_REQUEST);
}

TEST(is_normal_and_domain_part)
{
	CHECK(smimp_address_is_normal("adam#example.com", 16));
	CHECK(!smimp_address_is_normal("Adam#example.com", 16));
	CHECK(!smimp_address_is_normal("adam#Example.com", 16));
	CHECK(!smimp_address_is_normal("adam#example", 12));
	CHECK(!smimp_address_is_normal("", 0));
	CHECK_STREQ(smimp_address_domain("adam#example.com"), "example.com");
	CHECK(smimp_address_domain("adam") == NULL);
	CHECK(smimp_address_domain(NULL) == NULL);
}

TEST(bare_domain)
{
	char out[SMIMP_DOMAIN_MAX + 1] = "junk";
	struct smimp_error err = {0};

	CHECK(smimp_address_domain_normalize(out, "Example.COM", 11, &err) ==
	      SMIMP_OK);
	CHECK_STREQ(out, "example.com");
	CHECK(smimp_address_domain_normalize(out, "LOCALHOST", 9, &err) ==
	      SMIMP_OK);
	CHECK_STREQ(out, "localhost");
	CHECK(smimp_address_domain_normalize(out, "a#example.com", 13, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(out[0] == '\0');
	CHECK(strstr(err.message, "'#'") != NULL);
	CHECK(smimp_address_domain_normalize(out, "example.com.", 12, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_address_domain_normalize(out, "com", 3, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_address_domain_normalize(out, "10.0.0.1", 8, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_address_domain_normalize(out, "", 0, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_address_domain_normalize(out, NULL, 5, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
}

TEST(path_encode)
{
	char out[SMIMP_ADDRESS_PATH_MAX + 1], buf[512];
	struct smimp_error err = {0};

	CHECK(smimp_address_path_encode(out, "Adam#Example.com", &err) ==
	      SMIMP_OK);
	CHECK_STREQ(out, "adam%23example.com");
	CHECK(smimp_address_path_encode(out, "adam@example.com", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(out[0] == '\0');
	CHECK(smimp_address_path_encode(out, NULL, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	/* The longest address fills the buffer exactly. */
	rep(buf, 'x', 64, "#");
	rep(buf + 65, 'y', 63, ".");
	rep(buf + 129, 'y', 63, ".");
	rep(buf + 193, 'y', 63, ".");
	rep(buf + 257, 'z', 61, "");
	CHECK(strlen(buf) == SMIMP_ADDRESS_MAX);
	CHECK(smimp_address_path_encode(out, buf, &err) == SMIMP_OK);
	CHECK(strlen(out) == SMIMP_ADDRESS_PATH_MAX);
}

TEST(path_decode)
{
	char out[SMIMP_ADDRESS_MAX + 1], enc[SMIMP_ADDRESS_PATH_MAX + 1];
	struct smimp_error err = {0};
#define FROM(s) smimp_address_from_path(out, (s), strlen(s), &err)

	CHECK(FROM("adam%23example.com") == SMIMP_OK);
	CHECK_STREQ(out, "adam#example.com");
	CHECK(FROM("Adam%23Example.COM") == SMIMP_OK);
	CHECK_STREQ(out, "adam#example.com");
	CHECK(FROM("%41dam%23ex%61mple.com") == SMIMP_OK);
	CHECK_STREQ(out, "adam#example.com");
	CHECK(FROM("x%23localhost") == SMIMP_OK);
	CHECK_STREQ(out, "x#localhost");
	/* Round trip with the encoder. */
	CHECK(smimp_address_path_encode(enc, "Bob9#Sub.Example.org", &err) ==
	      SMIMP_OK);
	CHECK(FROM(enc) == SMIMP_OK);
	CHECK_STREQ(out, "bob9#sub.example.org");
	/* Malformed escapes. */
	CHECK(FROM("adam%2") == SMIMP_ERR_BAD_REQUEST);
	CHECK(out[0] == '\0');
	CHECK(FROM("adam%") == SMIMP_ERR_BAD_REQUEST);
	CHECK(FROM("adam%2g3example.com") == SMIMP_ERR_BAD_REQUEST);
	CHECK(FROM("adam%g23example.com") == SMIMP_ERR_BAD_REQUEST);
	CHECK(FROM("adam%%23example.com") == SMIMP_ERR_BAD_REQUEST);
	CHECK(strstr(err.message, "percent escape") != NULL);
	/* Forbidden results and literals. */
	CHECK(FROM("adam%00%23example.com") == SMIMP_ERR_BAD_REQUEST);
	CHECK(FROM("adam%23example.com%2F") == SMIMP_ERR_BAD_REQUEST);
	CHECK(FROM("adam%23example.com%2f") == SMIMP_ERR_BAD_REQUEST);
	CHECK(FROM("adam%23example.com/") == SMIMP_ERR_BAD_REQUEST);
	CHECK(FROM("adam#example.com") == SMIMP_ERR_BAD_REQUEST);
	CHECK(strstr(err.message, "%23") != NULL);
	/* Decoded only once: "%2523" is a literal "%23", not a '#'. */
	CHECK(FROM("adam%2523example.com") == SMIMP_ERR_BAD_REQUEST);
	/* Decoded bytes obey the address rules (here U+212A KELVIN SIGN). */
	CHECK(FROM("adam%23%E2%84%AAelvin.com") == SMIMP_ERR_BAD_REQUEST);
	CHECK(FROM("adam%23example.com%20") == SMIMP_ERR_BAD_REQUEST);
	CHECK(FROM("") == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_address_from_path(out, NULL, 3, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	/* Too long once decoded. */
	{
		char big[1024];

		rep(big, 'a', 400, "%23example.com");
		CHECK(FROM(big) == SMIMP_ERR_BAD_REQUEST);
	}
#undef FROM
}

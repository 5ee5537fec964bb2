/* JSON rules (spec 1): duplicate members, invalid UTF-8, lone surrogates,
 * NUL characters, depth and size limits; and the typed getters: types, null,
 * optional members and bounds. */
#include <stdlib.h>
#include <string.h>

#include "smimp/json.h"
#include "testlib.h"

/* Parses a NUL-terminated text (limit 4096, any top level); returns the
 * code, the value in *out when not NULL (else it is dropped). */
static enum smimp_err parse(const char *s, json_t **out)
{
	struct smimp_error err = {0};
	json_t *v = smimp_json_parse(s, strlen(s), 4096, false, &err);

	if (out != NULL)
		*out = v;
	else
		json_decref(v);
	if (v == NULL && err.message[0] == '\0')
		return SMIMP_ERR_INTERNAL; /* a reason must be given */
	return v != NULL ? SMIMP_OK : err.code;
}

/* An object from a literal for the getter tests. */
static json_t *obj(const char *s)
{
	json_t *v = NULL;

	if (parse(s, &v) != SMIMP_OK)
		fprintf(stderr, "fixture does not parse: %s\n", s);
	return v;
}

TEST(parse_basics)
{
	struct smimp_error err = {0};
	json_t *v;

	CHECK(parse("{}", NULL) == SMIMP_OK);
	CHECK(parse("{\"a\": [1, 2.5, \"x\", null, true]}", NULL) == SMIMP_OK);
	CHECK(parse("[1]", NULL) == SMIMP_OK);
	CHECK(parse("true", NULL) == SMIMP_OK);
	CHECK(parse("", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("{", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("{} x", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("{}{}", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("{'a': 1}", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("{\"a\": 1,}", NULL) == SMIMP_ERR_BAD_REQUEST);
	/* object_only */
	v = smimp_json_parse("[1]", 3, 100, true, &err);
	CHECK(v == NULL && err.code == SMIMP_ERR_BAD_REQUEST);
	v = smimp_json_parse("\"s\"", 3, 100, true, &err);
	CHECK(v == NULL && err.code == SMIMP_ERR_BAD_REQUEST);
	v = smimp_json_parse("{}", 2, 100, true, &err);
	CHECK(json_is_object(v));
	json_decref(v);
	/* err may be NULL. */
	CHECK(smimp_json_parse("[", 1, 100, false, NULL) == NULL);
}

TEST(duplicate_member)
{
	CHECK(parse("{\"a\": 1, \"a\": 2}", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("{\"a\": 1, \"a\": 1}", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("{\"x\": {\"a\": 1, \"b\": 2, \"a\": null}}", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("[{\"a\": 1}, {\"a\": 1, \"a\": 1}]", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	/* Same name once unescaped. */
	CHECK(parse("{\"a\": 1, \"\\u0061\": 2}", NULL) == SMIMP_ERR_BAD_REQUEST);
	/* Same name in different objects is fine. */
	CHECK(parse("{\"a\": {\"a\": 1}, \"b\": [{\"a\": 2}]}", NULL) == SMIMP_OK);
	CHECK(parse("{\"a\": 1, \"A\": 2}", NULL) == SMIMP_OK);
}

TEST(invalid_utf8)
{
	CHECK(parse("\"\xc3\xa4\xe2\x9c\x93\xf0\x9f\x98\x80\"", NULL) == SMIMP_OK);
	CHECK(parse("\"\xc3\x28\"", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("\"\xc0\xaf\"", NULL) == SMIMP_ERR_BAD_REQUEST);   /* overlong */
	CHECK(parse("\"\xe0\x80\xaf\"", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("\"\xed\xa0\x80\"", NULL) == SMIMP_ERR_BAD_REQUEST); /* surrogate */
	CHECK(parse("\"\xf4\x90\x80\x80\"", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("\"\xe2\x82\"", NULL) == SMIMP_ERR_BAD_REQUEST);  /* cut */
	CHECK(parse("\"\x80\"", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("\"\xff\"", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("{\"\xc3\x28\": 1}", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("\xef\xbb\xbf{}", NULL) == SMIMP_ERR_BAD_REQUEST); /* BOM */
}

TEST(surrogates_and_nul)
{
	CHECK(parse("\"\\ud83d\\ude00\"", NULL) == SMIMP_OK);
	CHECK(parse("\"\\ud800\"", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("\"\\udc00\"", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("\"\\ud800\\u0041\"", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("\"\\ude00\\ud83d\"", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("{\"\\ud800\": 1}", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("\"a\\u0000b\"", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse("{\"a\\u0000\": 1}", NULL) == SMIMP_ERR_BAD_REQUEST);
	{
		struct smimp_error err = {0};

		CHECK(smimp_json_parse("\"a\0b\"", 5, 100, false, &err) == NULL);
		CHECK(err.code == SMIMP_ERR_BAD_REQUEST);
	}
}

TEST(depth_limit)
{
	char buf[2 * (SMIMP_JSON_MAX_DEPTH + 2) + 1];
	int d;

	/* SMIMP_JSON_MAX_DEPTH nested arrays pass, one more does not. */
	for (d = SMIMP_JSON_MAX_DEPTH; d <= SMIMP_JSON_MAX_DEPTH + 1; d++) {
		memset(buf, '[', (size_t)d);
		memset(buf + d, ']', (size_t)d);
		buf[2 * d] = '\0';
		CHECK(parse(buf, NULL) == (d <= SMIMP_JSON_MAX_DEPTH ?
					   SMIMP_OK : SMIMP_ERR_BAD_REQUEST));
	}
	/* Objects count alike. */
	{
		char obj_buf[8 * (SMIMP_JSON_MAX_DEPTH + 1) + 1];
		size_t n = 0;

		for (d = 0; d < SMIMP_JSON_MAX_DEPTH; d++)
			n += (size_t)sprintf(obj_buf + n, "{\"a\":");
		n += (size_t)sprintf(obj_buf + n, "{}");
		for (d = 0; d < SMIMP_JSON_MAX_DEPTH; d++)
			obj_buf[n++] = '}';
		obj_buf[n] = '\0';
		CHECK(parse(obj_buf, NULL) == SMIMP_ERR_BAD_REQUEST);
		CHECK(parse(obj_buf + 5, NULL) == SMIMP_ERR_BAD_REQUEST);
	}
	/* Far deeper than any limit: rejected, not a crash. */
	{
		static char deep[200001];

		memset(deep, '[', 100000);
		memset(deep + 100000, ']', 100000);
		CHECK(smimp_json_parse(deep, 200000, sizeof deep, false, NULL) ==
		      NULL);
	}
}

TEST(size_limit)
{
	struct smimp_error err = {0};
	const char *s = "{\"a\": \"0123456789\"}";
	size_t n = strlen(s);
	json_t *v;

	v = smimp_json_parse(s, n, n, true, &err);
	CHECK(v != NULL);
	json_decref(v);
	v = smimp_json_parse(s, n, n - 1, true, &err);
	CHECK(v == NULL && err.code == SMIMP_ERR_TOO_LARGE);
	CHECK(strstr(err.message, "limit") != NULL);
	v = smimp_json_parse(s, n, 0, true, &err);
	CHECK(v == NULL && err.code == SMIMP_ERR_TOO_LARGE);
}

TEST(get_string)
{
	json_t *o = obj("{\"s\": \"h\\u00e9llo\", \"n\": null, \"i\": 5, "
			"\"e\": \"\"}");
	struct smimp_error err = {0};
	const char *s;
	size_t len;

	REQUIRE(o != NULL);
	CHECK(smimp_json_get_string(o, "s", 0, 100, &s, &len, &err) == SMIMP_OK);
	CHECK_STREQ(s, "h\xc3\xa9llo");
	CHECK(len == 6);
	CHECK(smimp_json_get_string(o, "s", 0, 6, &s, NULL, &err) == SMIMP_OK);
	CHECK(smimp_json_get_string(o, "s", 0, 5, &s, &len, &err) ==
	      SMIMP_ERR_TOO_LARGE);
	CHECK(strstr(err.message, "\"s\"") != NULL);
	CHECK(smimp_json_get_string(o, "e", 0, 0, &s, &len, &err) == SMIMP_OK);
	CHECK(s != NULL && len == 0);
	/* Types, null, absence. */
	CHECK(smimp_json_get_string(o, "i", 0, 100, &s, &len, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(strstr(err.message, "\"i\"") != NULL);
	CHECK(smimp_json_get_string(o, "n", 0, 100, &s, &len, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_string(o, "n", SMIMP_JSON_NULLABLE, 100, &s, &len,
				    &err) == SMIMP_OK);
	CHECK(s == NULL && len == 0);
	CHECK(smimp_json_get_string(o, "n", SMIMP_JSON_OPTIONAL, 100, &s, &len,
				    &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_string(o, "x", 0, 100, &s, &len, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(strstr(err.message, "missing") != NULL);
	CHECK(smimp_json_get_string(o, "x", SMIMP_JSON_NULLABLE, 100, &s, &len,
				    &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_string(o, "x", SMIMP_JSON_OPTIONAL, 100, &s, &len,
				    &err) == SMIMP_OK);
	CHECK(s == NULL);
	CHECK(smimp_json_has(o, "s") && !smimp_json_has(o, "n") &&
	      !smimp_json_has(o, "x"));
	json_decref(o);
}

TEST(get_hex_and_b64)
{
	json_t *o = obj("{\"h\": \"00ff\", \"H\": \"00FF\", \"b\": \"Zm9v\", "
			"\"q\": \"QR==\", \"n\": null, \"i\": 1}");
	struct smimp_error err = {0};
	uint8_t out[2] = {0}, *bin = NULL;
	size_t len = 0;
	bool present = false;

	REQUIRE(o != NULL);
	CHECK(smimp_json_get_hex(o, "h", 0, out, 2, &present, &err) == SMIMP_OK);
	CHECK(present && out[0] == 0x00 && out[1] == 0xff);
	CHECK(smimp_json_get_hex(o, "h", 0, out, 1, &present, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_hex(o, "H", 0, out, 2, &present, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_hex(o, "i", 0, out, 2, &present, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_hex(o, "n", SMIMP_JSON_NULLABLE, out, 2, &present,
				 &err) == SMIMP_OK);
	CHECK(!present);
	CHECK(smimp_json_get_hex(o, "x", SMIMP_JSON_OPTIONAL, out, 2, &present,
				 &err) == SMIMP_OK);
	CHECK(!present);

	CHECK(smimp_json_get_b64(o, "b", 0, 3, &bin, &len, &err) == SMIMP_OK);
	CHECK(bin != NULL && len == 3 && memcmp(bin, "foo", 3) == 0);
	free(bin);
	CHECK(smimp_json_get_b64(o, "b", 0, 2, &bin, &len, &err) ==
	      SMIMP_ERR_TOO_LARGE);
	CHECK(bin == NULL);
	CHECK(smimp_json_get_b64(o, "q", 0, 10, &bin, &len, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_b64(o, "i", 0, 10, &bin, &len, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_b64(o, "n", SMIMP_JSON_NULLABLE, 10, &bin, &len,
				 &err) == SMIMP_OK);
	CHECK(bin == NULL && len == 0);
	json_decref(o);
}

TEST(get_int_and_bool)
{
	json_t *o = obj("{\"i\": 7, \"neg\": -3, \"r\": 7.0, \"s\": \"7\", "
			"\"t\": true, \"f\": false, \"z\": 0, \"n\": null, "
			"\"big\": 9223372036854775807}");
	struct smimp_error err = {0};
	long long v = 0;
	bool b = false;

	REQUIRE(o != NULL);
	CHECK(smimp_json_get_int(o, "i", 0, 1, 10, &v, &err) == SMIMP_OK);
	CHECK(v == 7);
	CHECK(smimp_json_get_int(o, "i", 0, 7, 7, &v, &err) == SMIMP_OK);
	CHECK(smimp_json_get_int(o, "i", 0, 8, 10, &v, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_int(o, "i", 0, 1, 6, &v, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_int(o, "neg", 0, 0, 10, &v, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_int(o, "r", 0, 0, 10, &v, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_int(o, "s", 0, 0, 10, &v, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_int(o, "t", 0, 0, 10, &v, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_int(o, "big", 0, 0, 1000, &v, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	v = 42;
	CHECK(smimp_json_get_int(o, "n", SMIMP_JSON_NULLABLE, 0, 10, &v, &err) ==
	      SMIMP_OK);
	CHECK(v == 42);
	CHECK(smimp_json_get_bool(o, "t", 0, &b, &err) == SMIMP_OK && b);
	CHECK(smimp_json_get_bool(o, "f", 0, &b, &err) == SMIMP_OK && !b);
	CHECK(smimp_json_get_bool(o, "z", 0, &b, &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_bool(o, "s", 0, &b, &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_bool(o, "n", 0, &b, &err) == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_bool(o, "x", 0, &b, &err) == SMIMP_ERR_BAD_REQUEST);
	json_decref(o);
}

TEST(get_object_array_and_set)
{
	json_t *o = obj("{\"o\": {}, \"a\": [1, 2, 3], \"n\": null, \"s\": \"x\"}");
	struct smimp_error err = {0};
	json_t *v;
	char *dump;
	const uint8_t bytes[3] = {0x00, 0xab, 0xff};
	uint8_t back[3];

	REQUIRE(o != NULL);
	CHECK(smimp_json_get_object(o, "o", 0, &v, &err) == SMIMP_OK &&
	      json_is_object(v));
	CHECK(smimp_json_get_object(o, "a", 0, &v, &err) ==
	      SMIMP_ERR_BAD_REQUEST && v == NULL);
	CHECK(smimp_json_get_object(o, "n", SMIMP_JSON_NULLABLE, &v, &err) ==
	      SMIMP_OK && v == NULL);
	CHECK(smimp_json_get_array(o, "a", 0, 3, &v, &err) == SMIMP_OK &&
	      json_array_size(v) == 3);
	CHECK(smimp_json_get_array(o, "a", 0, 2, &v, &err) ==
	      SMIMP_ERR_TOO_LARGE && v == NULL);
	CHECK(smimp_json_get_array(o, "o", 0, 9, &v, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_array(o, "s", 0, 9, &v, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_json_get_array(o, "x", SMIMP_JSON_OPTIONAL, 9, &v, &err) ==
	      SMIMP_OK && v == NULL);
	/* Setters round-trip through the getters; dump is compact. */
	json_decref(o);
	o = json_object();
	REQUIRE(o != NULL);
	CHECK(smimp_json_set_hex(o, "h", bytes, 3) == 0);
	CHECK(smimp_json_set_b64(o, "b", bytes, 3) == 0);
	dump = smimp_json_dump(o);
	CHECK_STREQ(dump, "{\"h\":\"00abff\",\"b\":\"AKv/\"}");
	free(dump);
	CHECK(smimp_json_get_hex(o, "h", 0, back, 3, NULL, &err) == SMIMP_OK);
	CHECK(memcmp(back, bytes, 3) == 0);
	json_decref(o);
}

/* The long-string fast path of smimp_json_parse (src/lib/json_lift.c):
 * whatever it lifts past jansson, the parsed value and every verdict are
 * those of a plain json_loadb, error position included. */
#include <stdlib.h>
#include <string.h>

#include "smimp/json.h"
#include "testlib.h"

#define BIG 4096

/* n bytes of base64 alphabet, NUL-terminated, in a static buffer per slot. */
static const char *plain_run(int slot, size_t n, char first)
{
	static char buf[4][BIG + 1];
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i++)
		buf[slot][i] = abc[(i * 7 + (size_t)first) % 64];
	if (n > 0)
		buf[slot][0] = first;
	buf[slot][n] = '\0';
	return buf[slot];
}

/* fmt with its first "%s" replaced by a and its second by b (NULL: ""),
 * malloc'ed; the caller frees it. */
static char *text(const char *fmt, const char *a, const char *b)
{
	const char *subst[2] = {a ? a : "", b ? b : ""};
	size_t n = strlen(fmt) + strlen(subst[0]) + strlen(subst[1]) + 1, o = 0;
	char *t = malloc(n);
	int k = 0;

	if (t == NULL)
		return NULL;
	for (const char *p = fmt; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 's' && k < 2) {
			memcpy(t + o, subst[k], strlen(subst[k]));
			o += strlen(subst[k++]);
			p++;
		} else {
			t[o++] = *p;
		}
	}
	t[o] = '\0';
	return t;
}

/* smimp_json_parse and a plain json_loadb agree on t: both fail at the
 * same position, or both give equal values. Returns 1 when parsed. */
static int agree(const char *t)
{
	struct smimp_error err = {0};
	json_error_t jerr;
	json_t *plain = json_loadb(t, strlen(t), JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
				   &jerr);
	json_t *ours = smimp_json_parse(t, strlen(t), 1u << 20, false, &err);
	int ok = ours != NULL;

	if (plain == NULL) {
		char want[32];

		CHECK(ours == NULL);
		snprintf(want, sizeof want, "at byte %d:", jerr.position);
		CHECK(strstr(err.message, want) != NULL);
	} else {
		CHECK(ours != NULL && json_equal(plain, ours));
	}
	json_decref(plain);
	json_decref(ours);
	return ok;
}

/* t parsed by smimp_json_parse, after checking it agrees with jansson;
 * NULL when t is NULL or does not parse. */
static json_t *parse_agreeing(const char *t)
{
	struct smimp_error err = {0};

	if (t == NULL || agree(t) != 1)
		return NULL;
	return smimp_json_parse(t, strlen(t), 1u << 20, true, &err);
}

TEST(long_values_come_back_exact)
{
	const char *a = plain_run(0, BIG, 'Q'), *b = plain_run(1, 300, 'z');
	char *t = text("{\"message\": \"%s\", \"x\": [1, \"%s\", {\"y\": null}]}", a, b);
	json_t *v = parse_agreeing(t);

	REQUIRE(v != NULL);
	CHECK_STREQ(json_string_value(json_object_get(v, "message")), a);
	CHECK(json_string_length(json_object_get(v, "message")) == BIG);
	CHECK_STREQ(json_string_value(json_array_get(json_object_get(v, "x"), 1)), b);
	json_decref(v);
	free(t);
}

TEST(boundary_lengths)
{
	for (size_t n = 250; n <= 260; n++) {
		char *t = text("[\"%s\",\"%s\"]", plain_run(0, n, 'a'), plain_run(1, n, '+'));

		REQUIRE(t != NULL);
		CHECK(agree(t) == 1);
		free(t);
	}
}

TEST(keys_and_escaped_strings_stay_with_jansson)
{
	const char *a = plain_run(0, 1000, 'k');
	char *keys = text("{\"%s\" \n\t: 1, \"v\": \"%s\"}", a, a);
	char *esc = text("{\"a\": \"%s\\u0041\", \"b\": \"\\\"%s\"}", a, a);
	char *utf = text("{\"a\": \"%s\xc3\xa4\"}", a, NULL);

	REQUIRE(keys != NULL && esc != NULL && utf != NULL);
	CHECK(agree(keys) == 1);
	CHECK(agree(esc) == 1);
	CHECK(agree(utf) == 1);
	free(keys);
	free(esc);
	free(utf);
}

TEST(input_that_looks_like_a_marker_stays_as_sent)
{
	const char *a = plain_run(0, 600, 'm');
	char *t = text("{\"m\": \"%s\", \"n\": \"!000000000000000000000000.0\", "
		       "\"o\": \"!%s.0\"}", a, a);
	json_t *v = parse_agreeing(t);

	REQUIRE(v != NULL);
	CHECK_STREQ(json_string_value(json_object_get(v, "n")),
		    "!000000000000000000000000.0");
	CHECK(json_string_length(json_object_get(v, "o")) == 603);
	json_decref(v);
	free(t);
}

TEST(refusals_are_the_same)
{
	const char *a = plain_run(0, 2000, 'r'), *b = plain_run(1, 2000, 's');
	const char *const fmts[] = {
		"{\"a\": \"%s\", \"a\": \"%s\"}",           /* duplicate member */
		"{\"a\": \"%s\", \"b\": \"%s\",}",          /* trailing comma */
		"{\"a\": \"%s\" \"b\": \"%s\"}",            /* missing comma */
		"[\"%s\", \"%s\"",                          /* unterminated array */
		"[\"%s\", \"%s",                            /* unterminated string */
		"[\"%s\", \"%s\", \"\xc3\x28\"]",           /* invalid UTF-8 after */
		"[\"%s\", \"%s\", \"a\\u0000\"]",           /* NUL escape after */
		"{\"%s\": \"%s\"} x",                       /* trailing garbage */
		"[\"%s\", \"%s\"] [",
	};

	for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
		char *t = text(fmts[i], a, b);

		REQUIRE(t != NULL);
		CHECK(agree(t) == 0);
		free(t);
	}
}

/* smimp_json_dump gives json_dumps' text for v, and leaves v as it was. */
static void dump_agrees(const json_t *v)
{
	json_t *before = json_deep_copy(v);
	char *plain = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	char *ours = smimp_json_dump(v);

	REQUIRE(before != NULL && plain != NULL && ours != NULL);
	CHECK_STREQ(ours, plain);
	CHECK(json_equal(before, v));
	json_decref(before);
	free(plain);
	free(ours);
}

TEST(dump_writes_long_values_in_place)
{
	const char *a = plain_run(0, BIG, 'Q'), *b = plain_run(1, 256, 'z');
	char *t = text("{\"message\":\"%s\",\"x\":[1,\"%s\",{\"y\":null,\"z\":\"short\"}],"
		       "\"e\":\"tab\\there\",\"n\":-2.5}", a, b);
	json_t *v = parse_agreeing(t);

	REQUIRE(v != NULL);
	dump_agrees(v);
	json_decref(v);
	free(t);
}

TEST(dump_of_strings_that_are_not_lifted)
{
	/* 255 bytes (too short), a '-' (not plain), an escape, a marker look-
	 * alike, a long key: all dumped by jansson alone, and still the same. */
	json_t *v = json_pack("{s:s, s:s, s:s, s:s}", "short", plain_run(0, 255, 'A'),
			      "dash", "-", "quote", "say \"hi\"\n", "look",
			      "!000000000000000000000000.0");
	char *longer = malloc(300);

	REQUIRE(v != NULL && longer != NULL);
	memcpy(longer, plain_run(1, 299, 'K'), 300);
	longer[150] = '-';
	json_object_set_new(v, plain_run(2, 400, 'k'), json_string(longer));
	dump_agrees(v);
	json_decref(v);
	free(longer);
}

TEST(dump_of_a_shared_value_and_a_bare_string)
{
	json_t *s = json_string(plain_run(0, 1000, 'S'));
	json_t *v = json_pack("{s:O, s:[O, O]}", "a", s, "b", s, s);

	REQUIRE(s != NULL && v != NULL);
	dump_agrees(v);   /* the same string three times */
	dump_agrees(s);   /* JSON_ENCODE_ANY: a bare string */
	json_decref(v);
	json_decref(s);
}

TEST(dump_of_a_nul_key_and_of_a_cycle)
{
	json_t *v = json_object(), *a = json_array(), *b = json_array();
	char *plain, *ours;

	REQUIRE(v != NULL && a != NULL && b != NULL);
	/* A key with a NUL in it keeps its whole length (json_deep_copy would
	 * not, so no dump_agrees here). */
	REQUIRE(json_object_setn_new(v, "a\0b", 3, json_string(plain_run(0, 300, 'N'))) == 0);
	plain = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	ours = smimp_json_dump(v);
	REQUIRE(plain != NULL && ours != NULL);
	CHECK_STREQ(ours, plain);
	CHECK(strstr(ours, "a\\u0000b") != NULL);
	free(plain);
	free(ours);
	json_decref(v);
	/* A cycle: jansson refuses to dump it, and so do we (no endless
	 * recursion, whatever the long strings). */
	REQUIRE(json_array_append_new(a, json_string(plain_run(1, 300, 'C'))) == 0);
	REQUIRE(json_array_append(a, b) == 0 && json_array_append(b, a) == 0);
	CHECK(json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY) == NULL);
	CHECK(smimp_json_dump(a) == NULL);
	json_array_clear(b);
	json_decref(a);
	json_decref(b);
}

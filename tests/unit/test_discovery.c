/* Discovery (spec 4.1) and URL building (4.3): every rule of the line and of
 * the file on both sides, every case of vectors.json "base_url", the
 * well-known URL, the split for the transport and endpoint URLs. */
#include <jansson.h>
#include <string.h>

#include "smimp/discovery.h"
#include "testlib.h"
#include "vectors_util.h"


static char got[SMIMP_BASE_URL_MAX + 1];

/* Base URL of a NUL-terminated line; NULL when rejected (with a reason). */
static const char *base(const char *line)
{
	struct smimp_error err = {0};
	enum smimp_err e;

	e = smimp_discovery_base_url_from_line(got, line, strlen(line), &err);
	if (e != SMIMP_OK)
		return err.code == e && err.message[0] != '\0' && got[0] == '\0'
			       ? NULL : "(error without a reason)";
	return got;
}

static enum smimp_err file_base(const char *file, size_t len)
{
	return smimp_discovery_base_url_from_file(got, file, len, NULL);
}

static bool is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] > 0x7f)
			return false;
	return true;
}

TEST(vectors_base_url)
{
	json_t *root = vectors_load(REFERENCE_VECTORS);
	json_t *cases, *c;
	size_t i, n_valid = 0, n_invalid = 0;

	REQUIRE(root != NULL);
	cases = json_object_get(json_object_get(root, "base_url"), "cases");
	REQUIRE(json_array_size(cases) > 0);
	json_array_foreach(cases, i, c) {
		json_t *jl = json_object_get(c, "line");
		const char *want = json_string_value(json_object_get(c, "base_url"));
		const char *line = json_string_value(jl);
		size_t len = json_string_length(jl);
		char out[SMIMP_BASE_URL_MAX + 1], file[SMIMP_BASE_URL_MAX + 8];
		struct smimp_error err = {0};
		enum smimp_err e;

		REQUIRE(line != NULL && want != NULL);
		e = smimp_discovery_base_url_from_line(out, line, len, &err);
		if (strcmp(want, "invalid") == 0) {
			n_invalid++;
			CHECK(e == SMIMP_ERR_BAD_REQUEST);
			CHECK(err.message[0] != '\0');
			if (e == SMIMP_OK)
				fprintf(stderr, "case %zu accepted: %s\n", i, out);
		} else {
			struct smimp_base_url_parts parts;
			char again[SMIMP_BASE_URL_MAX + 1];

			n_valid++;
			CHECK(e == SMIMP_OK);
			CHECK_STREQ(out, want);
			if (e != SMIMP_OK)
				fprintf(stderr, "case %zu: %s\n", i, err.message);
			/* A base URL is a fixed point of the rules. */
			CHECK(smimp_discovery_base_url_from_line(
				      again, want, strlen(want), NULL) == SMIMP_OK);
			CHECK_STREQ(again, want);
			CHECK(smimp_discovery_split_base_url(&parts, want,
							     NULL) == SMIMP_OK);
		}
		/* The same line as a whole file, after blank lines: the file
		 * adds the ASCII rule and nothing else. */
		REQUIRE(len + 6 <= sizeof file);
		memcpy(file, " \r\n\t\n", 5);
		memcpy(file + 5, line, len);
		e = smimp_discovery_base_url_from_file(out, file, len + 5, &err);
		if (strcmp(want, "invalid") == 0 || !is_ascii(line, len)) {
			CHECK(e == SMIMP_ERR_BAD_REQUEST);
		} else {
			CHECK(e == SMIMP_OK);
			CHECK_STREQ(out, want);
		}
	}
	CHECK(n_valid > 0 && n_invalid > 0);
	json_decref(root);
}

TEST(scheme)
{
	CHECK_STREQ(base("smimp.example.com"), "https://smimp.example.com");
	CHECK_STREQ(base("https://smimp.example.com"), "https://smimp.example.com");
	CHECK_STREQ(base("HtTpS://smimp.example.com"), "https://smimp.example.com");
	CHECK(base("http://smimp.example.com") == NULL);
	CHECK(base("httpss://smimp.example.com") == NULL);
	CHECK(base("ttps://smimp.example.com") == NULL);
	CHECK(base("https:/smimp.example.com") == NULL);
	CHECK(base("https:smimp.example.com") == NULL);
	CHECK(base("://smimp.example.com") == NULL);
	CHECK(base("https://https://smimp.example.com") == NULL);
	CHECK(base("https://smimp.example.com/a://b") == NULL);
	CHECK(base("smimp.example.com/a://b") == NULL);
	CHECK(base("\xef\xbb\xbfhttps://smimp.example.com") == NULL);
}

TEST(authority)
{
	CHECK_STREQ(base("SMIMP.Example.COM"), "https://smimp.example.com");
	CHECK_STREQ(base("localhost"), "https://localhost");
	CHECK_STREQ(base("x.example:8443"), "https://x.example:8443");
	CHECK_STREQ(base("x.example:443"), "https://x.example");
	CHECK_STREQ(base("x.example:1"), "https://x.example:1");
	CHECK_STREQ(base("x.example:65535"), "https://x.example:65535");
	CHECK(base("x.example:0") == NULL);
	CHECK(base("x.example:00") == NULL);
	CHECK(base("x.example:0443") == NULL);
	CHECK(base("x.example:65536") == NULL);
	CHECK(base("x.example:100000") == NULL);
	CHECK(base("x.example:") == NULL);
	CHECK(base("x.example:-1") == NULL);
	CHECK(base("x.example: 443") == NULL);
	CHECK(base("x.example:443:443") == NULL);
	CHECK(base(":443") == NULL);
	CHECK(base("user@x.example") == NULL);
	CHECK(base("user:pw@x.example") == NULL);
	CHECK(base("x.example@y.example") == NULL);
	CHECK(base("https:///x") == NULL);
	CHECK(base("/x") == NULL);
	CHECK(base("x") == NULL);
	CHECK(base("x.example.") == NULL);
	CHECK(base("10.0.0.1") == NULL);
	CHECK(base("[::1]") == NULL);
	CHECK(base("x_y.example") == NULL);
	CHECK(base("b\xc3\xbc" "cher.example") == NULL);
	CHECK(base("x.example\\y.example") == NULL);
	CHECK(base("x.example?x") == NULL);
	CHECK(base("x.example#x") == NULL);
}

TEST(path)
{
	CHECK_STREQ(base("x.example/smimp"), "https://x.example/smimp");
	CHECK_STREQ(base("x.example/Smimp/"), "https://x.example/Smimp");
	CHECK_STREQ(base("x.example/"), "https://x.example");
	CHECK_STREQ(base("x.example////"), "https://x.example");
	CHECK_STREQ(base("x.example/a//b//"), "https://x.example/a//b");
	CHECK_STREQ(base("x.example/%2e%2e"), "https://x.example/%2e%2e");
	CHECK_STREQ(base("x.example/./a/.../..b/b../a@b:c"),
		    "https://x.example/./a/.../..b/b../a@b:c");
	CHECK_STREQ(base("x.example/\xc3\xbc"), "https://x.example/\xc3\xbc");
	CHECK(base("x.example/..") == NULL);
	CHECK(base("x.example/../") == NULL);
	CHECK(base("x.example/a/../b") == NULL);
	CHECK(base("x.example/a/..") == NULL);
	CHECK(base("x.example/a?") == NULL);
	CHECK(base("x.example/a#") == NULL);
	CHECK(base("x.example/a b") == NULL);
	CHECK(base("x.example/a\tb") == NULL);
	CHECK(base("x.example/a\nb") == NULL);
	CHECK(base("x.example/a\x1f") == NULL);
	CHECK(base("x.example/a\x7f") == NULL);
	{
		struct smimp_error err = {0};

		CHECK(smimp_discovery_base_url_from_line(got, "x.example/a\0b",
							 13, &err) ==
		      SMIMP_ERR_BAD_REQUEST);
		CHECK(strstr(err.message, "0x00") != NULL);
	}
}

TEST(trimming)
{
	CHECK_STREQ(base("  x.example  "), "https://x.example");
	CHECK_STREQ(base("\t\r x.example/p/ \r\r"), "https://x.example/p");
	CHECK_STREQ(base("\rhttps://x.example\t"), "https://x.example");
	CHECK(base("") == NULL);
	CHECK(base(" \t\r ") == NULL);
	/* Only space, tab and CR are trimmed. */
	CHECK(base("\vx.example") == NULL);
	CHECK(base("\fx.example") == NULL);
	CHECK(base("x.example\n") == NULL);
	CHECK(base("x.example\v") == NULL);
	CHECK(base("x.example /p") == NULL);
}

TEST(line_length)
{
	static char line[SMIMP_DISCOVERY_FILE_MAX + 2];
	struct smimp_base_url_parts parts;
	struct smimp_error err = {0};
	size_t n = SMIMP_DISCOVERY_FILE_MAX;

	/* The longest line has no scheme: its base URL is 8 bytes longer. */
	memcpy(line, "x.example/", 10);
	memset(line + 10, 'p', n - 10);
	CHECK(smimp_discovery_base_url_from_line(got, line, n, &err) ==
	      SMIMP_OK);
	CHECK(strlen(got) == SMIMP_BASE_URL_MAX);
	CHECK(smimp_discovery_split_base_url(&parts, got, &err) == SMIMP_OK);
	CHECK(strlen(parts.path) == n - 9);
	line[n] = 'p';
	CHECK(smimp_discovery_base_url_from_line(got, line, n + 1, &err) ==
	      SMIMP_ERR_TOO_LARGE);
	CHECK(got[0] == '\0');
}

TEST(file)
{
	static char big[SMIMP_DISCOVERY_FILE_MAX + 1];
	struct smimp_error err = {0};
	const char *f;

#define FILE_OF(s) smimp_discovery_base_url_from_file(got, (s), sizeof(s) - 1, &err)
	CHECK(FILE_OF("x.example\n") == SMIMP_OK);
	CHECK_STREQ(got, "https://x.example");
	CHECK(FILE_OF("x.example") == SMIMP_OK);
	CHECK(FILE_OF("\n\r\n \t\n  x.example/a/ \r\ny.example\n") == SMIMP_OK);
	CHECK_STREQ(got, "https://x.example/a");
	/* The first non-blank line decides, even when a later one is fine. */
	CHECK(FILE_OF("\nhttp://x.example\nhttps://x.example\n") ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(strstr(err.message, "line 2") != NULL);
	/* Later lines are not read, except for the ASCII rule. */
	CHECK(FILE_OF("x.example\n\x01\x7f junk") == SMIMP_OK);
	CHECK(FILE_OF("x.example\n# caf\xc3\xa9\n") == SMIMP_ERR_BAD_REQUEST);
	CHECK(FILE_OF("\xef\xbb\xbfx.example\n") == SMIMP_ERR_BAD_REQUEST);
	CHECK(strstr(err.message, "byte-order mark") != NULL);
	CHECK(FILE_OF("x.example/\x80\n") == SMIMP_ERR_BAD_REQUEST);
	CHECK(FILE_OF("") == SMIMP_ERR_BAD_REQUEST);
	CHECK(FILE_OF("\n\n \r\n\t") == SMIMP_ERR_BAD_REQUEST);
	CHECK(FILE_OF("\vx.example\n") == SMIMP_ERR_BAD_REQUEST);
	/* A NUL is ASCII but no part of a valid line. */
	CHECK(FILE_OF("x.example\0\n") == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_discovery_base_url_from_file(got, NULL, 0, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
#undef FILE_OF
	/* 4 KiB at most. */
	memset(big, '\n', sizeof big);
	f = "x.example";
	memcpy(big + SMIMP_DISCOVERY_FILE_MAX - 10, f, strlen(f));
	CHECK(file_base(big, SMIMP_DISCOVERY_FILE_MAX) == SMIMP_OK);
	CHECK_STREQ(got, "https://x.example");
	CHECK(file_base(big, SMIMP_DISCOVERY_FILE_MAX + 1) ==
	      SMIMP_ERR_TOO_LARGE);
	CHECK(got[0] == '\0');
}

TEST(well_known_url)
{
	char out[SMIMP_WELL_KNOWN_URL_MAX + 1];
	char dom[SMIMP_DOMAIN_MAX + 1];
	struct smimp_error err = {0};

	CHECK(smimp_discovery_well_known_url(out, "Example.COM", &err) ==
	      SMIMP_OK);
	CHECK_STREQ(out, "https://example.com/.well-known/smimp.txt");
	CHECK(smimp_discovery_well_known_url(out, "localhost", &err) ==
	      SMIMP_OK);
	CHECK_STREQ(out, "https://localhost/.well-known/smimp.txt");
	CHECK(smimp_discovery_well_known_url(out, "example.com/x", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(out[0] == '\0');
	CHECK(smimp_discovery_well_known_url(out, "127.0.0.1", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_discovery_well_known_url(out, "evil.example#x", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_discovery_well_known_url(out, NULL, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	/* The longest domain fits exactly. */
	memset(dom, 'a', 63);
	dom[63] = '.';
	memset(dom + 64, 'b', 63);
	dom[127] = '.';
	memset(dom + 128, 'c', 63);
	dom[191] = '.';
	memset(dom + 192, 'd', 61);
	dom[253] = '\0';
	CHECK(smimp_discovery_well_known_url(out, dom, &err) == SMIMP_OK);
	CHECK(strlen(out) == SMIMP_WELL_KNOWN_URL_MAX);
}

TEST(split_base_url)
{
	struct smimp_base_url_parts p;
	struct smimp_error err = {0};

	CHECK(smimp_discovery_split_base_url(&p, "https://x.example", &err) ==
	      SMIMP_OK);
	CHECK_STREQ(p.host, "x.example");
	CHECK(p.port == 443);
	CHECK_STREQ(p.path, "");
	CHECK(smimp_discovery_split_base_url(&p, "https://x.example:8443/a/B",
					     &err) == SMIMP_OK);
	CHECK_STREQ(p.host, "x.example");
	CHECK(p.port == 8443);
	CHECK_STREQ(p.path, "/a/B");
	CHECK(smimp_discovery_split_base_url(&p, "https://localhost:1", &err) ==
	      SMIMP_OK);
	CHECK(p.port == 1);
	CHECK_STREQ(p.path, "");
	/* Only the exact normal form. */
	CHECK(smimp_discovery_split_base_url(&p, "x.example", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_discovery_split_base_url(&p, "https://X.example", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_discovery_split_base_url(&p, "https://x.example:443", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_discovery_split_base_url(&p, "https://x.example/", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_discovery_split_base_url(&p, "HTTPS://x.example", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_discovery_split_base_url(&p, "https:// x.example", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_discovery_split_base_url(&p, "http://x.example", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_discovery_split_base_url(&p, NULL, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(p.host[0] == '\0');
}

TEST(endpoint_url)
{
	char out[256], addr[SMIMP_ADDRESS_PATH_MAX + 1], small[28];
	struct smimp_error err = {0};

	CHECK(smimp_discovery_endpoint_url(out, sizeof out,
					   "https://x.example/smimp", "0.1",
					   "server_information", &err) ==
	      SMIMP_OK);
	CHECK_STREQ(out, "https://x.example/smimp/0.1/server_information");
	CHECK(smimp_discovery_endpoint_url(out, sizeof out, "https://x.example",
					   NULL, "version", &err) == SMIMP_OK);
	CHECK_STREQ(out, "https://x.example/version");
	REQUIRE(smimp_address_path_encode(addr, "Adam#Example.com", &err) ==
		SMIMP_OK);
	{
		char ep[SMIMP_ADDRESS_PATH_MAX + 32];

		snprintf(ep, sizeof ep, "get_user/%s/history", addr);
		CHECK(smimp_discovery_endpoint_url(out, sizeof out,
						   "https://x.example:8443",
						   "0.1", ep, &err) == SMIMP_OK);
		CHECK_STREQ(out, "https://x.example:8443/0.1/get_user/"
			    "adam%23example.com/history");
	}
	CHECK(smimp_discovery_endpoint_url(out, sizeof out, "https://x.example",
					   "0.1", "folder/email?limit=10",
					   &err) == SMIMP_OK);
	CHECK_STREQ(out, "https://x.example/0.1/folder/email?limit=10");
	/* Bad arguments. */
	CHECK(smimp_discovery_endpoint_url(out, sizeof out, "https://x.example/",
					   "0.1", "quota", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(out[0] == '\0');
	CHECK(smimp_discovery_endpoint_url(out, sizeof out, "https://x.example",
					   "1", "quota", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_discovery_endpoint_url(out, sizeof out, "https://x.example",
					   "0.1.2", "quota", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_discovery_endpoint_url(out, sizeof out, "https://x.example",
					   ".1", "quota", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_discovery_endpoint_url(out, sizeof out, "https://x.example",
					   "0.1", "", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_discovery_endpoint_url(out, sizeof out, "https://x.example",
					   "0.1", "/quota", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_discovery_endpoint_url(out, sizeof out, "https://x.example",
					   "0.1", "get_user/a#b.c", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_discovery_endpoint_url(out, sizeof out, "https://x.example",
					   "0.1", "a b", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_discovery_endpoint_url(out, sizeof out, "https://x.example",
					   "0.1", "\xc3\xa4", &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	/* Buffer too small (exactly enough works). */
	CHECK(smimp_discovery_endpoint_url(small, sizeof small,
					   "https://x.example", "0.1",
					   "quotas", &err) == SMIMP_ERR_INTERNAL);
	CHECK(small[0] == '\0');
	CHECK(smimp_discovery_endpoint_url(small, sizeof small,
					   "https://x.example", "0.1", "quota",
					   &err) == SMIMP_OK);
	CHECK_STREQ(small, "https://x.example/0.1/quota");
}

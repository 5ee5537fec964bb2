/* Message type names (spec 12): the five fixed types and x-custom-{name}
 * with name [a-z0-9-]{1,64}; everything else is 400 bad_request. */
#include <string.h>

#include "smimp/msgtype.h"
#include "testlib.h"

static int valid(const char *s)
{
	return smimp_msgtype_is_valid(s, strlen(s));
}

TEST(fixed_types)
{
	static const struct {
		const char *name;
		enum smimp_msgtype type;
	} cases[] = {
		{"email", SMIMP_MSGTYPE_EMAIL},
		{"short-message", SMIMP_MSGTYPE_SHORT_MESSAGE},
		{"secret-ed25519", SMIMP_MSGTYPE_SECRET_ED25519},
		{"secret-curve25519", SMIMP_MSGTYPE_SECRET_CURVE25519},
		{"secret-xsalsa20", SMIMP_MSGTYPE_SECRET_XSALSA20},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum smimp_msgtype t = SMIMP_MSGTYPE_CUSTOM;

		CHECK(smimp_msgtype_parse(&t, cases[i].name,
					  strlen(cases[i].name), NULL) == SMIMP_OK);
		CHECK(t == cases[i].type);
		CHECK_STREQ(smimp_msgtype_name(t), cases[i].name);
	}
	CHECK(smimp_msgtype_name(SMIMP_MSGTYPE_CUSTOM) == NULL);
}

TEST(custom_types)
{
	char name[80];
	enum smimp_msgtype t = SMIMP_MSGTYPE_EMAIL;

	CHECK(smimp_msgtype_parse(&t, "x-custom-a", 10, NULL) == SMIMP_OK);
	CHECK(t == SMIMP_MSGTYPE_CUSTOM);
	CHECK(valid("x-custom-calendar-invite-2"));
	CHECK(valid("x-custom--"));
	CHECK(valid("x-custom-0"));
	/* 64 characters of name: the most. */
	strcpy(name, "x-custom-");
	memset(name + 9, 'a', 64);
	name[73] = '\0';
	CHECK(valid(name));
	CHECK(strlen(name) == SMIMP_MSGTYPE_MAX);
	name[73] = 'a';
	name[74] = '\0';
	CHECK(!valid(name));
}

TEST(custom_name_rules)
{
	CHECK(!valid("x-custom-"));          /* empty name */
	CHECK(!valid("x-custom-Abc"));       /* upper case */
	CHECK(!valid("x-custom-a_b"));       /* underscore */
	CHECK(!valid("x-custom-a.b"));
	CHECK(!valid("x-custom-a b"));
	CHECK(!valid("x-custom-\xc3\xa9"));  /* non-ASCII */
	CHECK(!valid("X-custom-a"));
	CHECK(!valid("x-custom"));
	CHECK(!valid("x-customa"));
	CHECK(!smimp_msgtype_is_valid("x-custom-a\0b", 12)); /* NUL */
}

TEST(unknown_types)
{
	struct smimp_error err = {0};
	enum smimp_msgtype t = SMIMP_MSGTYPE_EMAIL;

	CHECK(smimp_msgtype_parse(&t, "Email", 5, &err) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(err.code == SMIMP_ERR_BAD_REQUEST);
	CHECK(t == SMIMP_MSGTYPE_EMAIL); /* untouched */
	CHECK(!valid(""));
	CHECK(!valid("email "));
	CHECK(!valid(" email"));
	CHECK(!valid("short_message"));
	CHECK(!valid("secret-x25519"));
	CHECK(!smimp_msgtype_is_valid("email\0", 6));
	CHECK(!smimp_msgtype_is_valid("emai", 4));
	CHECK(smimp_msgtype_parse(&t, NULL, 0, &err) == SMIMP_ERR_BAD_REQUEST);
}

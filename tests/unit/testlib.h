/* Minimal unit-test harness: TEST(name) registers a case; the executable runs
 * the case named in argv[1] (as ctest does, one case per ctest test) or all
 * cases when called without arguments. A failed CHECK marks the case failed;
 * REQUIRE also ends the case at once. */
#ifndef SMIMP_TESTLIB_H
#define SMIMP_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*testlib_fn)(void);

static struct { const char *name; testlib_fn fn; } testlib_cases[256];
static int testlib_ncases;
static int testlib_failed;
static int testlib_checks;

static void testlib_register(const char *name, testlib_fn fn)
{
	if (testlib_ncases < (int)(sizeof testlib_cases / sizeof testlib_cases[0])) {
		testlib_cases[testlib_ncases].name = name;
		testlib_cases[testlib_ncases].fn = fn;
		testlib_ncases++;
	}
}

#define TEST(name)                                                           \
	static void test_##name(void);                                       \
	__attribute__((constructor)) static void testlib_reg_##name(void)    \
	{ testlib_register(#name, test_##name); }                            \
	static void test_##name(void)

#define CHECK(cond)                                                          \
	do {                                                                 \
		testlib_checks++;                                            \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n",         \
				__FILE__, __LINE__, #cond);                  \
			testlib_failed = 1;                                  \
		}                                                            \
	} while (0)

#define REQUIRE(cond)                                                        \
	do {                                                                 \
		testlib_checks++;                                            \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: REQUIRE failed: %s\n",       \
				__FILE__, __LINE__, #cond);                  \
			testlib_failed = 1;                                  \
			return;                                              \
		}                                                            \
	} while (0)

#define CHECK_STREQ(a, b)                                                    \
	do {                                                                 \
		const char *testlib_a = (a), *testlib_b = (b);               \
		testlib_checks++;                                            \
		if (testlib_a == NULL || testlib_b == NULL ||                \
		    strcmp(testlib_a, testlib_b) != 0) {                     \
			fprintf(stderr, "%s:%d: CHECK_STREQ failed: "        \
				"\"%s\" != \"%s\"\n", __FILE__, __LINE__,    \
				testlib_a ? testlib_a : "(null)",            \
				testlib_b ? testlib_b : "(null)");           \
			testlib_failed = 1;                                  \
		}                                                            \
	} while (0)

static int testlib_run(int i)
{
	int checks_before = testlib_checks;

	testlib_failed = 0;
	testlib_cases[i].fn();
	if (testlib_checks == checks_before) {
		fprintf(stderr, "%s: asserted nothing\n", testlib_cases[i].name);
		testlib_failed = 1;
	}
	fprintf(stderr, "%s %s\n", testlib_failed ? "FAIL" : "ok  ",
		testlib_cases[i].name);
	return testlib_failed;
}

int main(int argc, char **argv)
{
	int failures = 0;

	for (int i = 0; i < testlib_ncases; i++) {
		if (argc > 1 && strcmp(argv[1], testlib_cases[i].name) != 0)
			continue;
		failures += testlib_run(i);
		if (argc > 1)
			return failures ? 1 : 0;
	}
	if (argc > 1) {
		fprintf(stderr, "no test named %s\n", argv[1]);
		return 2;
	}
	return failures ? 1 : 0;
}

#endif

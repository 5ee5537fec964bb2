/* Timestamps (spec 1): "YYYY-MM-DD hh:mm:ss" UTC, strict parsing of valid
 * calendar dates and times, and format/parse round trips. */
#include <string.h>

#include "smimp/timestamp.h"
#include "testlib.h"

static enum smimp_err ts(const char *s, int64_t *out)
{
	int64_t dummy;

	return smimp_timestamp_parse(out != NULL ? out : &dummy, s, strlen(s));
}

TEST(valid)
{
	int64_t t = -1;

	CHECK(ts("1970-01-01 00:00:00", &t) == SMIMP_OK && t == 0);
	CHECK(ts("2014-07-16 19:20:30", &t) == SMIMP_OK && t == 1405538430);
	CHECK(ts("2000-01-01 00:00:00", &t) == SMIMP_OK && t == 946684800);
	CHECK(ts("2038-01-19 03:14:08", &t) == SMIMP_OK && t == 2147483648LL);
	CHECK(ts("1999-12-31 23:59:59", &t) == SMIMP_OK && t == 946684799);
	CHECK(ts("9999-12-31 23:59:59", &t) == SMIMP_OK &&
	      t == 253402300799LL);
}

TEST(leap_days)
{
	int64_t t = 0;

	CHECK(ts("2024-02-29 12:00:00", &t) == SMIMP_OK && t == 1709208000);
	CHECK(ts("2000-02-29 00:00:00", NULL) == SMIMP_OK);  /* 400 rule */
	CHECK(ts("1900-02-29 00:00:00", NULL) != SMIMP_OK);  /* before 1970 */
	CHECK(ts("2100-02-29 00:00:00", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2023-02-29 00:00:00", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2024-02-30 00:00:00", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2023-02-28 23:59:59", NULL) == SMIMP_OK);
}

TEST(field_ranges)
{
	CHECK(ts("2024-04-30 00:00:00", NULL) == SMIMP_OK);
	CHECK(ts("2024-04-31 00:00:00", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2024-12-31 00:00:00", NULL) == SMIMP_OK);
	CHECK(ts("2024-12-32 00:00:00", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2024-00-10 00:00:00", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2024-13-10 00:00:00", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2024-01-00 00:00:00", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2024-01-01 24:00:00", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2024-01-01 23:60:00", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2024-01-01 23:59:60", NULL) == SMIMP_ERR_BAD_REQUEST); /* no leap seconds */
	CHECK(ts("1969-12-31 23:59:59", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("0000-01-01 00:00:00", NULL) == SMIMP_ERR_BAD_REQUEST);
}

TEST(bad_syntax)
{
	int64_t t = 12345;

	CHECK(ts("2014-07-16T19:20:30", &t) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2014-07-16 19:20:30Z", &t) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2014/07/16 19:20:30", &t) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2014-07-16 19.20.30", &t) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2014-07-16  19:20:3", &t) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2014-7-16 19:20:30", &t) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2014-07-16 9:20:30", &t) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("14-07-16 19:20:30", &t) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2014-07-16 19:20", &t) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts(" 2014-07-16 19:20:30", &t) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2014-07-16 19:20:30 ", &t) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("+014-07-16 19:20:30", &t) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2014-07-16 19:20:-1", &t) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("2014-07-1a 19:20:30", &t) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("２014-07-16 19:20:30", &t) == SMIMP_ERR_BAD_REQUEST);
	CHECK(ts("", &t) == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_timestamp_parse(&t, "2014-07-16 19:20:30\0", 20) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_timestamp_parse(&t, "2014-07-16\0" "19:20:30", 19) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_timestamp_parse(&t, NULL, 19) == SMIMP_ERR_BAD_REQUEST);
	CHECK(t == 12345); /* untouched on error */
}

TEST(format)
{
	char out[SMIMP_TIMESTAMP_LEN + 1];

	memset(out, 'x', sizeof out);
	smimp_timestamp_format(out, 0);
	CHECK_STREQ(out, "1970-01-01 00:00:00");
	smimp_timestamp_format(out, 1405538430);
	CHECK_STREQ(out, "2014-07-16 19:20:30");
	smimp_timestamp_format(out, 1709208000);
	CHECK_STREQ(out, "2024-02-29 12:00:00");
	smimp_timestamp_format(out, 253402300799LL);
	CHECK_STREQ(out, "9999-12-31 23:59:59");
}

TEST(round_trip)
{
	char out[SMIMP_TIMESTAMP_LEN + 1];
	int64_t back = -1, now = smimp_timestamp_now();

	CHECK(now > 1400000000);
	/* Every day boundary and some odd seconds over 1970..2400. */
	for (int64_t t = 0; t < 13569465600LL; t += 86400 * 37 + 3601) {
		smimp_timestamp_format(out, t);
		if (smimp_timestamp_parse(&back, out, strlen(out)) != SMIMP_OK ||
		    back != t) {
			CHECK(!"round trip failed");
			fprintf(stderr, "t=%lld -> %s\n", (long long)t, out);
			break;
		}
	}
	smimp_timestamp_format(out, now);
	CHECK(strlen(out) == SMIMP_TIMESTAMP_LEN);
	CHECK(smimp_timestamp_parse(&back, out, strlen(out)) == SMIMP_OK &&
	      back == now);
}

/* Strict UTC timestamps, computed with civil-date arithmetic so that no
 * time zone or locale of the machine can change a result. */
#include <time.h>

#include "smimp/timestamp.h"

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

enum smimp_err smimp_timestamp_parse(int64_t *out, const char *s, size_t len)
{
	int y, mo, d, h, mi, se;

	if (s == NULL || len != SMIMP_TIMESTAMP_LEN || s[4] != '-' ||
	    s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':')
		return SMIMP_ERR_BAD_REQUEST;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
	    digits(s + 17, 2, &se))
		return SMIMP_ERR_BAD_REQUEST;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59)
		return SMIMP_ERR_BAD_REQUEST;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return SMIMP_OK;
}

/* The range parse accepts: 1970-01-01 00:00:00 .. 9999-12-31 23:59:59. */
#define TIMESTAMP_MAX INT64_C(253402300799)

void smimp_timestamp_format(char out[SMIMP_TIMESTAMP_LEN + 1], int64_t t)
{
	if (t < 0)
		t = 0;
	if (t > TIMESTAMP_MAX)
		t = TIMESTAMP_MAX;
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t secs = t - days * 86400;
	/* civil_from_days */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	int parts[6];

	y += m <= 2;
	parts[0] = (int)y;
	parts[1] = (int)m;
	parts[2] = (int)d;
	parts[3] = (int)(secs / 3600);
	parts[4] = (int)(secs / 60 % 60);
	parts[5] = (int)(secs % 60);
	/* Fixed-width digits, written by hand to keep the format exact. */
	static const int width[6] = {4, 2, 2, 2, 2, 2};
	static const char sep[6] = {'-', '-', ' ', ':', ':', '\0'};
	int pos = 0;

	for (int i = 0; i < 6; i++) {
		int v = parts[i];

		for (int k = width[i] - 1; k >= 0; k--) {
			out[pos + k] = (char)('0' + v % 10);
			v /= 10;
		}
		pos += width[i];
		out[pos++] = sep[i];
	}
}

int64_t smimp_timestamp_now(void)
{
	return (int64_t)time(NULL);
}

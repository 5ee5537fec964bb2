/* Timestamps (spec 1): "YYYY-MM-DD hh:mm:ss" in UTC, exactly 19 bytes. */
#ifndef SMIMP_TIMESTAMP_H
#define SMIMP_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

#include "smimp/error.h"

#define SMIMP_TIMESTAMP_LEN 19

/* Parses s[0..len) strictly (valid calendar date, 00:00:00..23:59:59, years
 * 1970..9999) into seconds since the epoch. SMIMP_ERR_BAD_REQUEST otherwise. */
enum smimp_err smimp_timestamp_parse(int64_t *out, const char *s, size_t len);

/* Formats t into out (at least SMIMP_TIMESTAMP_LEN + 1 bytes); t is clamped
 * to the range smimp_timestamp_parse accepts, so the text always parses. */
void smimp_timestamp_format(char out[SMIMP_TIMESTAMP_LEN + 1], int64_t t);

/* The current time, seconds since the epoch. */
int64_t smimp_timestamp_now(void);

#endif

/* libFuzzer target: a get_user/{address}/history answer from bytes, as a
 * lying server could send it: parse, validate (5), and on success pin it,
 * check it against its own pin and write it back out (5.1). The same bytes
 * also go through the single-record parser. Nothing may crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "smimp/history.h"
#include "smimp/key.h"
#include "smimp/pin.h"
#include "smimp/record.h"

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smimp_history h;
	struct smimp_record r;
	struct smimp_error err;
	struct smimp_pin pin, back;
	json_t *j;

	fuzz_init();
	if (smimp_record_parse(&r, (const char *)data, size, &err) ==
	    SMIMP_OK)
		smimp_record_free(&r);
	if (smimp_history_parse(&h, (const char *)data, size, 1u << 20,
				"alice#example.com", &err) != SMIMP_OK)
		return 0;
	smimp_pin_from_history(&pin, &h);
	if (smimp_pin_check_history(&pin, &h, &err) != SMIMP_OK)
		abort(); /* a history always matches its own pin */
	j = smimp_pin_to_json(&pin);
	if (j == NULL || smimp_pin_from_json(&back, j, &err) != SMIMP_OK ||
	    memcmp(&back, &pin, sizeof pin) != 0)
		abort();
	json_decref(j);
	j = smimp_history_to_json(&h);
	json_decref(j);
	smimp_history_free(&h);
	return 0;
}

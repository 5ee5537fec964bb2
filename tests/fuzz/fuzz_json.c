/* libFuzzer target for smimp_json_parse, which lifts long plain strings past
 * jansson's lexer (src/lib/json_lift.c). Differential property: on every
 * input it agrees with a plain json_loadb with the same flags (both refuse,
 * or both give equal values), and a refusal names a reason. Dumping too:
 * smimp_json_dump of what was parsed is json_dumps' text, byte for byte. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/json.h"

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smimp_error err = {SMIMP_OK, ""};
	json_error_t jerr;
	json_t *plain, *ours;

	fuzz_init();
	plain = json_loadb((const char *)data, size,
			   JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	ours = smimp_json_parse((const char *)data, size, size, false, &err);
	if (plain == NULL) {
		if (ours != NULL || err.code != SMIMP_ERR_BAD_REQUEST ||
		    err.message[0] == '\0')
			FAIL();
	} else if (ours == NULL) {
		/* Only the depth limit refuses what jansson takes. */
		if (strstr(err.message, "nested deeper") == NULL)
			FAIL();
	} else if (!json_equal(plain, ours)) {
		FAIL();
	} else {
		char *want = json_dumps(ours, JSON_COMPACT | JSON_ENCODE_ANY);
		char *got = smimp_json_dump(ours);

		if ((want == NULL) != (got == NULL) ||
		    (want != NULL && strcmp(want, got) != 0))
			FAIL();
		free(want);
		free(got);
	}
	json_decref(plain);
	json_decref(ours);
	return 0;
}

/* libFuzzer target for strict hex (spec 1): arbitrary bytes decoded as a
 * fixed-size field. Whatever decodes must re-encode to exactly the input
 * (only canonical lowercase hex is accepted), and any bytes must survive
 * encode then decode. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/hex.h"

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t n = size / 2;
	uint8_t *bin = malloc(n + 1);
	char *enc = malloc(2 * size + 1);
	uint8_t fixed[32];

	if (bin == NULL || enc == NULL)
		goto out;
	/* Decode at the length the input implies. */
	if (smimp_hex_decode(bin, n, s, size) == SMIMP_OK) {
		if (size % 2 != 0 || !smimp_hex_is_valid(s, size, n) ||
		    smimp_hex_encode(enc, 2 * n + 1, bin, n) != 0 ||
		    memcmp(enc, s, size) != 0)
			FAIL();
	} else if (size % 2 == 0 && smimp_hex_is_valid(s, size, n)) {
		FAIL();
	}
	/* Decode as a 32-byte field: only exactly 64 characters may pass. */
	if (smimp_hex_decode(fixed, sizeof fixed, s, size) == SMIMP_OK &&
	    size != 2 * sizeof fixed)
		FAIL();
	/* Any bytes encode and decode back. */
	if (smimp_hex_encode(enc, 2 * size + 1, data, size) != 0 ||
	    strlen(enc) != 2 * size)
		FAIL();
	free(bin);
	bin = malloc(size + 1);
	if (bin == NULL)
		goto out;
	if (smimp_hex_decode(bin, size, enc, 2 * size) != SMIMP_OK ||
	    memcmp(bin, data, size) != 0)
		FAIL();
out:
	free(bin);
	free(enc);
	return 0;
}

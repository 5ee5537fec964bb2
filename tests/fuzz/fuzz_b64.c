/* libFuzzer target for canonical base64 (spec 1): arbitrary bytes decoded
 * as a blob. Round-trip property: when decoding succeeds, encoding the
 * result gives back exactly the input (so no two texts decode alike); and
 * any bytes survive encode then decode. Differential: the table codec for
 * public bytes gives the same verdicts, bytes and texts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/b64.h"

#include "fuzz_util.h"

/* The public decoder's verdict on s under max_len is want, with the same
 * bytes. */
static void same_as_public(const char *s, size_t size, size_t max_len,
			   enum smimp_err want)
{
	uint8_t *a = NULL, *b = NULL;
	size_t a_len = 0, b_len = 0;
	enum smimp_err e = smimp_b64_decode_public(&b, &b_len, s, size, max_len);

	if (e != want)
		FAIL();
	if (e == SMIMP_OK &&
	    (smimp_b64_decode(&a, &a_len, s, size, max_len) != SMIMP_OK ||
	     a_len != b_len || (a_len > 0 && memcmp(a, b, a_len) != 0)))
		FAIL();
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	uint8_t *bin = NULL;
	size_t bin_len = 0;
	char *enc, *pub;
	enum smimp_err e;

	e = smimp_b64_decode(&bin, &bin_len, s, size, size);
	if (e == SMIMP_OK) {
		if (bin == NULL || bin_len > smimp_b64_max_decoded_len(size))
			FAIL();
		enc = smimp_b64_encode(bin, bin_len);
		if (enc == NULL || strlen(enc) != size ||
		    memcmp(enc, s, size) != 0)
			FAIL();
		free(enc);
		/* The limit is exact: one byte less is too large. */
		free(bin);
		bin = NULL;
		if (bin_len > 0 &&
		    smimp_b64_decode(&bin, &bin_len, s, size, bin_len - 1) !=
			    SMIMP_ERR_TOO_LARGE)
			FAIL();
	} else if ((e != SMIMP_ERR_BAD_REQUEST && e != SMIMP_ERR_TOO_LARGE) ||
		   bin != NULL || bin_len != 0) {
		FAIL();
	}
	free(bin);
	bin = NULL;
	same_as_public(s, size, size, e);
	/* And under a limit the input may pass: too large and malformed
	 * must be told apart the same way. */
	same_as_public(s, size, size / 2,
		       smimp_b64_decode(&bin, &bin_len, s, size, size / 2));
	free(bin);
	bin = NULL;

	enc = smimp_b64_encode(data, size);
	if (enc == NULL)
		FAIL();
	if (smimp_b64_decode(&bin, &bin_len, enc, strlen(enc), size) !=
		    SMIMP_OK ||
	    bin_len != size || (size > 0 && memcmp(bin, data, size) != 0))
		FAIL();
	pub = smimp_b64_encode_public(data, size);
	if (pub == NULL || strcmp(pub, enc) != 0)
		FAIL();
	free(pub);
	free(enc);
	free(bin);
	return 0;
}

/* libFuzzer target for the address rules (spec 3): arbitrary bytes as an
 * address, a bare domain and a raw URL path segment. Checks that whatever is
 * accepted is in normal form, stable under a second pass, and survives the
 * URL path encoding round trip. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/address.h"

#include "fuzz_util.h"

static void check_address(const char *norm)
{
	char again[SMIMP_ADDRESS_MAX + 1], enc[SMIMP_ADDRESS_PATH_MAX + 1];
	size_t len = strlen(norm);

	if (len > SMIMP_ADDRESS_MAX || !smimp_address_is_normal(norm, len))
		FAIL();
	for (size_t i = 0; i < len; i++)
		if ((norm[i] >= 'A' && norm[i] <= 'Z') ||
		    (unsigned char)norm[i] >= 0x80)
			FAIL();
	if (smimp_address_normalize(again, norm, len, NULL) != SMIMP_OK ||
	    strcmp(again, norm) != 0)
		FAIL();
	if (smimp_address_domain(norm) == NULL)
		FAIL();
	if (smimp_address_path_encode(enc, norm, NULL) != SMIMP_OK ||
	    strchr(enc, '#') != NULL ||
	    smimp_address_from_path(again, enc, strlen(enc), NULL) != SMIMP_OK ||
	    strcmp(again, norm) != 0)
		FAIL();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char out[SMIMP_ADDRESS_MAX + 1], dom[SMIMP_DOMAIN_MAX + 1];
	char dom2[SMIMP_DOMAIN_MAX + 1];
	struct smimp_error err;
	enum smimp_err e;

	e = smimp_address_normalize(out, s, size, &err);
	if (e == SMIMP_OK) {
		check_address(out);
		if (smimp_address_is_normal(s, size) !=
		    (memcmp(out, s, size) == 0))
			FAIL();
	} else if (e != SMIMP_ERR_BAD_REQUEST || out[0] != '\0' ||
		   smimp_address_is_normal(s, size)) {
		FAIL();
	}

	e = smimp_address_domain_normalize(dom, s, size, &err);
	if (e == SMIMP_OK) {
		if (strlen(dom) != size ||
		    smimp_address_domain_normalize(dom2, dom, size, NULL) !=
			    SMIMP_OK ||
		    strcmp(dom, dom2) != 0)
			FAIL();
	} else if (e != SMIMP_ERR_BAD_REQUEST || dom[0] != '\0') {
		FAIL();
	}

	e = smimp_address_from_path(out, s, size, &err);
	if (e == SMIMP_OK)
		check_address(out);
	else if (e != SMIMP_ERR_BAD_REQUEST || out[0] != '\0')
		FAIL();
	return 0;
}

/* libFuzzer target for discovery (spec 4.1): arbitrary bytes as one line and
 * as a whole smimp.txt. Checks that an accepted base URL is a fixed point of
 * the rules (what the client signs is what the server derives), splits
 * cleanly and builds endpoint URLs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/discovery.h"

#include "fuzz_util.h"

static char url[SMIMP_BASE_URL_MAX + 1];
static char again[SMIMP_BASE_URL_MAX + 1];
static char endpoint[SMIMP_BASE_URL_MAX + 64];

static void check_base(const char *base)
{
	struct smimp_base_url_parts parts;
	size_t len = strlen(base);

	if (len > SMIMP_BASE_URL_MAX || strncmp(base, "https://", 8) != 0 ||
	    (len > 8 && base[len - 1] == '/'))
		FAIL();
	if (smimp_discovery_base_url_from_line(again, base, len, NULL) !=
		    SMIMP_OK ||
	    strcmp(again, base) != 0)
		FAIL();
	if (smimp_discovery_split_base_url(&parts, base, NULL) != SMIMP_OK ||
	    parts.port == 0 || parts.host[0] == '\0' ||
	    strncmp(base + 8, parts.host, strlen(parts.host)) != 0 ||
	    (parts.path[0] != '\0' && parts.path[0] != '/'))
		FAIL();
	if (smimp_discovery_endpoint_url(endpoint, sizeof endpoint, base, "0.1",
					 "get_user/a%23b.example/history",
					 NULL) != SMIMP_OK)
		FAIL();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	enum smimp_err e;

	e = smimp_discovery_base_url_from_line(url, s, size, NULL);
	if (e == SMIMP_OK)
		check_base(url);
	else if ((e != SMIMP_ERR_BAD_REQUEST && e != SMIMP_ERR_TOO_LARGE) ||
		 url[0] != '\0')
		FAIL();

	e = smimp_discovery_base_url_from_file(url, s, size, NULL);
	if (e == SMIMP_OK) {
		for (size_t i = 0; i < size; i++)
			if (data[i] > 0x7f)
				FAIL();
		check_base(url);
	} else if ((e != SMIMP_ERR_BAD_REQUEST && e != SMIMP_ERR_TOO_LARGE) ||
		   url[0] != '\0') {
		FAIL();
	}
	return 0;
}

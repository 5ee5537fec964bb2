/* libFuzzer target: the payload parser (spec 12) for every message type on
 * arbitrary bytes; whatever parses must serialize, and the serialization
 * must parse back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/key.h"
#include "smimp/payload.h"

#include "fuzz_util.h"

#define MAX_BYTES (256u * 1024)

static void one_type(const char *type, const uint8_t *data, size_t size)
{
	struct smimp_payload p, q;
	struct smimp_error err;
	uint8_t *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;

	if (smimp_payload_parse(&p, type, data, size, MAX_BYTES,
				"alice#example.com", &err) != SMIMP_OK)
		return;
	if (smimp_payload_serialize(&out, &len, &p, "alice#example.com",
				    &err) != SMIMP_OK)
		abort();
	if (smimp_payload_parse(&q, type, out, len, SIZE_MAX,
				"alice#example.com", &err) != SMIMP_OK)
		abort();
	if (smimp_payload_serialize(&out2, &len2, &q, "alice#example.com",
				    &err) != SMIMP_OK ||
	    len2 != len || memcmp(out, out2, len) != 0)
		abort();
	smimp_payload_bytes_free(out, len);
	smimp_payload_bytes_free(out2, len2);
	smimp_payload_free(&q);
	smimp_payload_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {
		"email", "short-message", "secret-ed25519",
		"secret-curve25519", "secret-xsalsa20", "x-custom-fuzz",
	};

	fuzz_init();
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		one_type(types[i], data, size);
	return 0;
}

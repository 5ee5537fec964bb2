/* What every libFuzzer target here shares: the entry point's prototype, a
 * FAIL() that names a broken property and crashes (so libFuzzer keeps the
 * input), and a one-time smimp_init. */
#ifndef SMIMP_FUZZ_UTIL_H
#define SMIMP_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "smimp/key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken property: say which, then crash so libFuzzer keeps the input. */
#define FAIL()                                                               \
	do {                                                                 \
		fprintf(stderr, "%s:%d: property failed\n", __FILE__, __LINE__); \
		abort();                                                     \
	} while (0)

/* smimp_init, once per process. */
static inline void fuzz_init(void)
{
	static int ready;

	if (!ready) {
		if (smimp_init() != 0)
			FAIL();
		ready = 1;
	}
}

#endif

/* This project's known-answer vectors (tests/vectors/smimp-core.json), built
 * from seeded keys and fixed nonces, tokens and values by one function that
 * both the generator (tools/smimp-vectors) and the test that recomputes them
 * (tests/unit/test_core_vectors.c) call. */
#ifndef SMIMP_CORE_VECTORS_H
#define SMIMP_CORE_VECTORS_H

#include <jansson.h>

/* Computes every vector; a new reference, or NULL with a reason on stderr
 * when a library call failed. */
json_t *core_vectors_build(void);

#endif

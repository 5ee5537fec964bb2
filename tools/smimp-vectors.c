/* smimp-vectors: writes this project's known-answer vectors as JSON to
 * stdout. Regenerate tests/vectors/smimp-core.json with
 *   build/release/tools/smimp-vectors > tests/vectors/smimp-core.json
 * only when a deliberate change of the wire format requires it (and record
 * that change in docs/PROTOCOL.md). */
#include <stdio.h>
#include <stdlib.h>

#include "core_vectors.h"

int main(void)
{
	json_t *v = core_vectors_build();

	if (v == NULL)
		return 1;
	if (json_dumpf(v, stdout, JSON_INDENT(1)) != 0) {
		json_decref(v);
		return 1;
	}
	fputc('\n', stdout);
	json_decref(v);
	return 0;
}

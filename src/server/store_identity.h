/* The identity area of the store (store.h): histories, key bindings,
 * message keys (ephemeral and non-ephemeral), login tokens, sessions,
 * avatars and remote pins. A table of functions per backend; handlers never
 * see SQL. Values passed in are checked and normalized by the caller. */
#ifndef SMD_STORE_IDENTITY_H
#define SMD_STORE_IDENTITY_H

#include "store.h"

struct smd_identity_store {
	const char *area; /* "identity", for logs */
};

#endif

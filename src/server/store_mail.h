/* The mail area of the store (store.h): proof-of-work nonces, ephemeral
 * key draws, messages, folders, whitelists and blacklists, quota. A table
 * of functions per backend; handlers never see SQL. Values passed in are
 * checked and normalized by the caller. */
#ifndef SMD_STORE_MAIL_H
#define SMD_STORE_MAIL_H

#include "store.h"

struct smd_mail_store {
	const char *area; /* "mail", for logs */
};

#endif

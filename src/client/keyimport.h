/* smimp keys import ID (spec 12, 13): a received secret-* message is
 * fetched, its sender's history resolved and checked, its message hash
 * verified and its content decrypted with our message key, and the key it
 * carries is added to HOME/accounts/ADDRESS/imported, a file encrypted
 * (crypto_secretbox, fresh nonce per write) with the keystore's file key,
 * 0600, replaced atomically under the keystore's lock (keystore.lock), so
 * that concurrent imports lose no entry. Only ever on the user's explicit
 * request.
 * Untrusted input: the stored envelope, the sender's history and the
 * decrypted payload. */
#ifndef SMC_KEYIMPORT_H
#define SMC_KEYIMPORT_H

#include "account.h"
#include "cli.h"

/* Imports the key of message id (64 hex digits) for the logged-in account
 * a and prints what was imported (public parts and the note, escaped;
 * never a secret). */
int smc_keyimport_run(struct smc_ctx *c, struct smc_account *a,
		      const char *id, struct smc_err *e);

#endif

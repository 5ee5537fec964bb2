/* Reading one stored envelope (spec 9, 12, 13): resolve the sender (pins,
 * 5.1), place sender_public_key in the sender's validated history, verify
 * message_hash, find the secret of message_public_key in the keystore
 * (ephemeral keys in any state, every non-ephemeral key), decrypt, parse
 * the payload strictly, and consult the received record. A message that
 * fails any check is INVALID with the reason and no byte of its content.
 * Untrusted input: the stored envelope (from the account's server) and the
 * plaintext (from the sender). */
#ifndef SMC_READER_H
#define SMC_READER_H

#include <stdbool.h>

#include "smimp/envelope.h"
#include "smimp/payload.h"

#include "account.h"
#include "cli.h"
#include "received.h"

struct smc_read_result {
	bool valid;
	char reason[400];            /* why the message is invalid */
	bool sender_key_replaced;    /* signed with a key since replaced */
	bool ephemeral;              /* sent to one of our ephemeral keys */
	bool has_payload;
	struct smimp_payload payload;/* valid only: release with
				      * smc_read_result_clear */
	struct smc_received_verdict seen;
};

/* Checks and opens se for account a. Returns 0 with *r filled whether the
 * message is valid or not; -1 only when the check could not be made (the
 * sender's identity changed against its pin: SMC_EXIT_PIN; network; local
 * files). A successful read of a message to an ephemeral key marks that
 * key used in the keystore (kept 30 days, then dropped). */
int smc_reader_open(struct smc_ctx *c, struct smc_account *a,
		    const struct smimp_stored_envelope *se, const char *id,
		    struct smc_read_result *r, struct smc_err *e);

void smc_read_result_clear(struct smc_read_result *r);

#endif

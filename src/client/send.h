/* The send pipeline (spec 9), shared by send, sms, send-key, send-custom
 * and the outbox: for one recipient, resolve and check the identity
 * against its pin, log the sender in to the recipient's server, draw a
 * message key and verify it with the PINNED key, encrypt, solve the proof
 * of work, sign and post the envelope. Sessions are kept per server for
 * the whole command, so several recipients on one server share a login.
 * Untrusted input: every server answer (server_information, message keys,
 * proof-of-work parameters, message ids). */
#ifndef SMC_SEND_H
#define SMC_SEND_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "smimp/address.h"
#include "smimp/msgtype.h"

#include "account.h"
#include "cli.h"
#include "err.h"

/* Most proof-of-work bits the client agrees to spend on one message; a
 * server asking for more is refused (a hostile server could ask for 256). */
#define SMC_SEND_MAX_POW_BITS 40u

enum smc_send_status {
	SMC_SEND_SENT,       /* 200: the recipient's server stored it */
	SMC_SEND_TEMPFAIL,   /* network, 5xx, 429: worth retrying later */
	SMC_SEND_FAILED,     /* permanent: refused, bad identity or key */
	SMC_SEND_CANCELLED,  /* Ctrl-C */
};

struct smc_send_result {
	enum smc_send_status status;
	char message_id[65];     /* hex, when SENT */
	int non_ephemeral;       /* the signed key was the non-ephemeral one */
	unsigned zero_bits;      /* proof-of-work difficulty asked */
	uint64_t pow_tries;
	double pow_seconds;
	struct smc_err err;      /* why, unless SENT */
};

struct smc_send_slot;

/* One command's sending state: the account (keystore open), sessions per
 * recipient server, and the cancel flag that SIGINT sets. */
struct smc_sender {
	struct smc_ctx *c;
	struct smc_account *a;
	struct smc_send_slot *slots;
	size_t n_slots;
};

/* Prepares sending for account a (opened with smc_account_open) and
 * installs a SIGINT handler that cancels cleanly (a second Ctrl-C kills). */
void smc_sender_init(struct smc_sender *s, struct smc_ctx *c,
		     struct smc_account *a);

/* Logs out of every session, restores SIGINT, frees. */
void smc_sender_finish(struct smc_sender *s);

/* True once Ctrl-C was pressed. */
int smc_sender_cancelled(void);

/* Sends plaintext[0..len) of message_type to recipient (any spelling; it
 * is normalized). Fills r; returns r->status. */
enum smc_send_status smc_send_one(struct smc_sender *s, const char *recipient,
				  const char *message_type,
				  const uint8_t *plaintext, size_t len,
				  struct smc_send_result *r);

const char *smc_send_status_name(enum smc_send_status st);

#endif

/* Delivery for the sending commands (send, sms, send-key, send-custom,
 * outbox flush): the account, the outbox and the send pipeline together.
 * Each message to each recipient is first written to the outbox, then
 * sent; the entry is removed after the server's 200 or a permanent
 * failure, and kept with a backoff after a temporary one (network, 5xx,
 * 429). Results are printed one line per recipient (or as JSON). */
#ifndef SMC_DELIVERY_H
#define SMC_DELIVERY_H

#include <jansson.h>

#include "account.h"
#include "cli.h"
#include "outbox.h"
#include "send.h"

struct smc_delivery {
	struct smc_ctx *c;
	struct smc_account a;
	struct smc_outbox ob;
	struct smc_sender snd;
	json_t *results;      /* --json: one object per recipient */
	unsigned n_sent, n_queued, n_failed, n_cancelled;
	struct smc_err first_failure;
	int started;
};

/* Opens the account (passphrase), its outbox (and lock) and the sender. */
int smc_delivery_start(struct smc_ctx *c, struct smc_delivery *d,
		       struct smc_err *e);

/* Queues and sends plaintext[0..len) of message_type to recipient, and
 * reports the result. */
void smc_delivery_send(struct smc_delivery *d, const char *recipient,
		       const char *message_type, const uint8_t *plaintext,
		       size_t len);

/* Retries outbox entries: every entry (all), or those whose backoff has
 * run out. counted: the results decide the command's exit status (else
 * they are only reported). Returns the number of entries tried, -1 on a
 * local error. */
int smc_delivery_flush(struct smc_delivery *d, int all, int counted,
		       struct smc_err *e);

/* Prints the JSON results (with --json), closes everything, and returns
 * the command's status: 0 when every message was delivered, else -1 with e
 * filled (the first permanent failure's exit code, 130 after Ctrl-C, or
 * SMC_EXIT_TEMPFAIL when messages wait in the outbox). */
int smc_delivery_finish(struct smc_delivery *d, struct smc_err *e);

/* Reads a whole file (or stdin for NULL or "-") of at most max bytes into
 * a malloc'ed, NUL-terminated buffer. */
int smc_read_input(const char *path, size_t max, char **out, size_t *len,
		   struct smc_err *e);

/* Attachments from files (--attach): the file name is the path's last
 * component, which must be a valid attachment name (12). */
struct smimp_attachment;
int smc_attachments_load(char *const *paths, size_t n,
			 struct smimp_attachment **out, struct smc_err *e);
void smc_attachments_free(struct smimp_attachment *v, size_t n);

#define SMC_MAX_ATTACHMENT (16u * 1024u * 1024u)

#endif

/* The outbox (spec 13): messages not delivered yet, one file per message
 * and recipient in HOME/accounts/ADDRESS/outbox/ID, mode 0600, replaced
 * atomically. A file holds, inside a crypto_secretbox under a key derived
 * from the keystore's file key (crypto_kdf, context "smcoutbx"), the
 * recipient, the message type, the plaintext payload and the retry state:
 * nothing of a queued message is on disk in the clear. An entry is written
 * before the first attempt and removed only after the recipient's server
 * answered 200 (or the failure is permanent), so a crash loses nothing.
 * Untrusted input: the files (their MAC rejects any change). */
#ifndef SMC_OUTBOX_H
#define SMC_OUTBOX_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "smimp/address.h"
#include "smimp/msgtype.h"

#include "err.h"
#include "home.h"
#include "keystore.h"

#define SMC_OUTBOX_ID_LEN 32            /* hex characters */
#define SMC_OUTBOX_MAX_PAYLOAD (48u * 1024u * 1024u)
#define SMC_OUTBOX_BACKOFF_FIRST 60     /* seconds before the first retry */
#define SMC_OUTBOX_BACKOFF_MAX (6 * 3600)

struct smc_outbox_entry {
	char id[SMC_OUTBOX_ID_LEN + 1];
	char recipient[SMIMP_ADDRESS_MAX + 1];
	char message_type[SMIMP_MSGTYPE_MAX + 1];
	uint8_t *payload;          /* malloc'ed; wiped by smc_outbox_entry_free */
	size_t payload_len;
	int64_t created_at;
	int64_t next_attempt_at;   /* when the next automatic retry is due */
	unsigned attempts;         /* attempts made so far */
	char last_error[400];
};

/* The outbox of an open account: its directory and the key of its files
 * (sodium_malloc'ed inside). */
struct smc_outbox {
	char dir[PATH_MAX];
	char lock_path[PATH_MAX];
	uint8_t *key;
	int lock_fd;
};

/* Opens (creating the directory) the outbox of ks's account and takes its
 * lock, which serializes senders and flushes of one account. */
int smc_outbox_open(struct smc_outbox *ob, const struct smc_home *h,
		    const struct smc_keystore *ks, struct smc_err *e);
void smc_outbox_close(struct smc_outbox *ob);

/* A new entry (fresh id, created now, due now) holding a copy of
 * payload[0..len). */
int smc_outbox_entry_new(struct smc_outbox_entry *en, const char *recipient,
			 const char *message_type, const uint8_t *payload,
			 size_t len, struct smc_err *e);
void smc_outbox_entry_free(struct smc_outbox_entry *en);

/* Writes en (atomic replace). */
int smc_outbox_put(const struct smc_outbox *ob,
		   const struct smc_outbox_entry *en, struct smc_err *e);

/* Reads and decrypts entry id. */
int smc_outbox_get(const struct smc_outbox *ob, const char *id,
		   struct smc_outbox_entry *en, struct smc_err *e);

/* Removes entry id (SMC_EXIT_NOINPUT when there is none). */
int smc_outbox_remove(const struct smc_outbox *ob, const char *id,
		      struct smc_err *e);

/* The ids in the outbox, sorted; *ids is a malloc'ed array of n entries of
 * SMC_OUTBOX_ID_LEN + 1 bytes. */
int smc_outbox_ids(const struct smc_outbox *ob,
		   char (**ids)[SMC_OUTBOX_ID_LEN + 1], size_t *n,
		   struct smc_err *e);

/* Records a failed attempt: attempts + 1, the error, and the next retry
 * after an exponential backoff (60 s doubling, at most 6 h). */
void smc_outbox_entry_failed(struct smc_outbox_entry *en, const char *error);

/* True when s is a well-formed outbox id. */
int smc_outbox_id_valid(const char *s);

#endif

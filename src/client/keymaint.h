/* Message key maintenance (spec 6, 11.2, 11.3, 13): what the account's
 * server holds, refilling ephemeral keys, replacing the non-ephemeral key,
 * and the automatic top-up other commands call after login. Every new key
 * is written to the keystore before the server hears of it, so a crash or
 * a lost answer never leaves the server with a key whose secret is gone.
 * Untrusted input: the server's key lists (each key must be signed by our
 * master key for our address and be one whose secret we hold). */
#ifndef SMC_KEYMAINT_H
#define SMC_KEYMAINT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "smimp/msgkey.h"

#include "account.h"
#include "cli.h"

#define SMC_KEYMAINT_LOW 20            /* top up below this many unissued */
#define SMC_KEYMAINT_TARGET 50         /* ... to this many */
#define SMC_KEYMAINT_NEPH_MAX_AGE (7 * 86400) /* replace the non-ephemeral
						* key after a week (13) */
#define SMC_KEYMAINT_MAX_REFILL 10000  /* spec 11.3's per-account limit */

/* The server's view of our message keys. */
struct smc_server_keys {
	size_t unissued;          /* ephemeral keys the server lists */
	size_t foreign;           /* of those: not ours or badly signed */
	struct smimp_box_pk *ours; /* malloc'ed: the listed keys that are ours */
	size_t n_ours;
	int ne_known;             /* the non-ephemeral key is one of ours */
	int ne_current;           /* ... and our current one */
	struct smimp_box_pk ne;   /* the non-ephemeral key it hands out */
};

/* GET ephemeral_keys and nonephemeral_key in a's session. */
int smc_keys_fetch_server(struct smc_ctx *c, struct smc_account *a,
			  struct smc_server_keys *out, struct smc_err *e);
void smc_server_keys_free(struct smc_server_keys *sk);

/* The signed wire form {"key", "kind", "signed_hash"} of one of our keys,
 * signed with the keystore's current master key. NULL when out of memory. */
json_t *smc_keys_signed_json(const struct smc_keystore *ks,
			     const struct smimp_box_pk *pk,
			     enum smimp_msgkey_kind kind);

struct smc_refill_result {
	size_t added;       /* new keys made */
	size_t sent;        /* keys in the POST (the new unissued set) */
	size_t discarded;   /* uploaded keys the server no longer lists */
};

/* Makes n new ephemeral keys, saves the keystore, then replaces the
 * server's unissued keys with the union of the ones it still lists that
 * are ours and every local key never uploaded (these new ones included).
 * Uploaded keys the server no longer lists were issued: they are marked
 * discarded now and their secrets kept 30 days. On a failed POST the new
 * keys stay in the keystore, not uploaded, and the next refill sends them. */
int smc_keys_refill(struct smc_ctx *c, struct smc_account *a, size_t n,
		    struct smc_refill_result *r, struct smc_err *e);

/* Replaces the non-ephemeral key: a new key pair is saved first, then
 * POST nonephemeral_key; on success the earlier keys are marked discarded
 * (kept 30 days). A key made by an earlier attempt that never got an
 * answer is sent again instead of making another. */
int smc_keys_rotate_nonephemeral(struct smc_ctx *c, struct smc_account *a,
				 struct smc_err *e);

struct smc_keymaint_report {
	size_t unissued_before;
	size_t refilled;     /* keys added (0: no refill needed) */
	int rotated;         /* the non-ephemeral key was replaced */
	int64_t ne_age;      /* age in seconds of the current key before */
};

/* Automatic top-up, for any command that holds a logged-in account
 * (smc_account_login): refills to SMC_KEYMAINT_TARGET when the server has
 * fewer than SMC_KEYMAINT_LOW unissued ephemeral keys of ours, and replaces
 * the non-ephemeral key when it is older than SMC_KEYMAINT_NEPH_MAX_AGE or
 * an earlier replacement did not finish. Both are decided and done under
 * the keystore lock, so of two top-ups at once only the first adds keys
 * (keys of a refill whose upload failed count toward the target and go up
 * too). report may be NULL. Errors are returned; a caller whose main job
 * is something else may print e and go on (nothing is lost: the keystore
 * is saved before every call). */
int smc_keymaint_auto(struct smc_ctx *c, struct smc_account *a,
		      struct smc_keymaint_report *report, struct smc_err *e);

#endif

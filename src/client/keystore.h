/* The per-account keystore (spec 13), HOME/accounts/ADDRESS/keystore:
 * Argon2id (crypto_pwhash, salt and limits in the file) derives the key of
 * a crypto_secretbox that holds, as JSON, the master key pair (and replaced
 * ones), every non-ephemeral and ephemeral message key pair with when it
 * was made, uploaded and discarded (kept 30 days after discard), and the
 * account's address, base URL and state. The file is 0600 and replaced
 * atomically; every secret lives in sodium_malloc'ed memory.
 *
 * Concurrent commands: each one keeps its own copy in memory, so a change
 * is only safe as "lock, reload, change, save, unlock" (smc_keystore_lock):
 * otherwise two commands that both load, change and save would each write
 * back their own copy, and the later save would drop the earlier one's
 * change, such as the secrets of keys already uploaded. Reading needs no
 * lock: a save replaces the file in one rename, so a reader sees one whole
 * version, at worst an older one (smc_keystore_reload refreshes it). */
#ifndef SMC_KEYSTORE_H
#define SMC_KEYSTORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smimp/address.h"
#include "smimp/discovery.h"
#include "smimp/types.h"

#include "err.h"

#define SMC_KS_KEEP_DISCARDED (30 * 86400) /* seconds a discarded key stays */
#define SMC_KS_MAX_KEYS 20000u             /* message keys of one kind */
#define SMC_KS_LOCK_TIMEOUT 30             /* seconds to wait for the lock */

enum smc_ks_state {
	SMC_KS_PENDING,  /* keys made, initialize_account not yet confirmed */
	SMC_KS_READY,    /* the server accepted record 0 and the keys */
};

struct smc_ks_key {
	struct smimp_box_keypair kp;
	int64_t created_at;
	int64_t uploaded_at;   /* 0: never uploaded */
	int64_t discarded_at;  /* 0: in use */
};

struct smc_ks_master {
	struct smimp_sign_keypair kp;
	int64_t created_at;
	int64_t replaced_at;   /* 0: the current key */
};

/* Allocated with sodium_malloc by create/open; free with smc_keystore_free. */
struct smc_keystore {
	char path[PATH_MAX];
	char address[SMIMP_ADDRESS_MAX + 1];
	char base_url[SMIMP_BASE_URL_MAX + 1];
	enum smc_ks_state state;
	int64_t created_at;
	struct smc_ks_master master;
	struct smc_ks_master *old_masters;   /* replaced master keys */
	size_t n_old_masters;
	struct smc_ks_key *nonephemeral;     /* current one has discarded_at 0 */
	size_t n_nonephemeral, cap_nonephemeral;
	struct smc_ks_key *ephemeral;
	size_t n_ephemeral, cap_ephemeral;
	/* File encryption: derived once per process, a fresh nonce per save. */
	unsigned long long opslimit;
	size_t memlimit;
	uint8_t salt[16];
	uint8_t key[32];
	int lock_fd;   /* the lock on PATH.lock while held, else -1 */
};

/* A new keystore for address at path (which must not exist yet) with a
 * fresh master key pair, encrypted under passphrase with Argon2id limits
 * from SMIMP_KDF ("interactive", "moderate" (default) or "sensitive").
 * Nothing is written until smc_keystore_save. It comes back locked (see
 * smc_keystore_lock), and path is checked under the lock, so that a
 * concurrent create of the same keystore fails instead of overwriting. */
int smc_keystore_create(const char *path, const char *address,
			const char *base_url, const char *passphrase,
			struct smc_keystore **out, struct smc_err *e);

/* A new keystore object at path for ks's account (address, base URL,
 * state), encrypted with ks's file key, so that ks's passphrase opens it,
 * with a fresh master key (created now) and no message keys. Nothing is
 * written until smc_keystore_save; it is not locked. rotate-master-key
 * keeps the keys of a rotation that has not finished in one. */
int smc_keystore_new_sibling(const struct smc_keystore *ks, const char *path,
			     struct smc_keystore **out, struct smc_err *e);

/* Opens path, a file written with ks's file key (smc_keystore_new_sibling),
 * with that key: no passphrase. -1 with *foreign set when path has another
 * account, salt or limits (then only its passphrase opens it). */
int smc_keystore_open_sibling(const struct smc_keystore *ks, const char *path,
			      struct smc_keystore **out, bool *foreign,
			      struct smc_err *e);

/* Opens and decrypts path. A wrong passphrase (or an altered file) is
 * SMC_EXIT_NOPERM; a damaged file SMC_EXIT_CONFIG. */
int smc_keystore_open(const char *path, const char *passphrase,
		      struct smc_keystore **out, struct smc_err *e);

/* Drops keys discarded more than SMC_KS_KEEP_DISCARDED ago, then writes
 * the keystore atomically (0600) under a fresh nonce. The caller holds
 * the lock (smc_keystore_lock) and reloaded under it. */
int smc_keystore_save(struct smc_keystore *ks, struct smc_err *e);

/* Replaces ks's content with the file's as it is now, decrypted with the
 * key derived at open (no passphrase needed). Pointers and indices into
 * ks's key lists are invalid afterwards, and unsaved changes are gone. */
int smc_keystore_reload(struct smc_keystore *ks, struct smc_err *e);

/* Takes the exclusive lock on PATH.lock (created 0600), waiting up to
 * SMC_KS_LOCK_TIMEOUT seconds for other smimp commands (then
 * SMC_EXIT_TEMPFAIL naming the lock file), and reloads ks, so that what
 * other commands saved meanwhile is kept by the next save. Every change
 * of the keystore is made and saved between this and smc_keystore_unlock.
 * The kernel drops the lock of a killed command: it never goes stale. */
int smc_keystore_lock(struct smc_keystore *ks, struct smc_err *e);
void smc_keystore_unlock(struct smc_keystore *ks); /* no-op if not held */

/* Marks the ephemeral key pk used (discarded now, kept 30 days for
 * rereading) unless it is already, as one locked update. */
int smc_keystore_mark_used(struct smc_keystore *ks,
			   const struct smimp_box_pk *pk, struct smc_err *e);

/* Wipes and releases (and unlocks); NULL allowed. */
void smc_keystore_free(struct smc_keystore *ks);

/* Appends n fresh ephemeral key pairs (created now, not uploaded); *first
 * (may be NULL) gets the index of the first new one. */
int smc_keystore_add_ephemeral(struct smc_keystore *ks, size_t n,
			       size_t *first, struct smc_err *e);

/* Appends one fresh non-ephemeral key pair; its index in *index. The
 * caller discards the previous one once the server has the new one. */
int smc_keystore_add_nonephemeral(struct smc_keystore *ks, size_t *index,
				  struct smc_err *e);

/* Appends a copy of the key record k to the ephemeral or the
 * non-ephemeral list. */
int smc_keystore_add_copy(struct smc_keystore *ks, bool ephemeral,
			  const struct smc_ks_key *k, struct smc_err *e);

/* Makes m (its replaced_at ignored) the master key; the current one joins
 * old_masters, replaced at now. */
int smc_keystore_replace_master(struct smc_keystore *ks,
				const struct smc_ks_master *m, int64_t now,
				struct smc_err *e);

/* The current non-ephemeral key (the newest not discarded), or NULL. */
const struct smc_ks_key *smc_keystore_current_nonephemeral(
	const struct smc_keystore *ks);

/* Counts of ephemeral keys: not discarded, and of those uploaded. */
void smc_keystore_count_ephemeral(const struct smc_keystore *ks,
				  size_t *live, size_t *uploaded);

const char *smc_keystore_state_name(enum smc_ks_state s);

#endif

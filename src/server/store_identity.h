/* The identity area of the store (store.h): histories, key bindings,
 * message keys (ephemeral and non-ephemeral), login tokens, sessions,
 * avatars and remote pins. A table of functions per backend; handlers never
 * see SQL. Values passed in are checked and normalized by the caller.
 *
 * Reads take the store (struct smd_store *); writes take a transaction and
 * run inside smd_db_write(). Every call answers an enum smd_store_rc;
 * NOT_FOUND means "no such row" as each function says. */
#ifndef SMD_STORE_IDENTITY_H
#define SMD_STORE_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "smimp/msgkey.h"
#include "smimp/pin.h"
#include "smimp/types.h"
#include "store.h"

/* One record of a stored history (5). */
struct smd_record_row {
	int64_t seq;
	char *data;                 /* malloc'ed exact bytes (NUL after them),
				     * or NULL when not asked for; free() it */
	size_t data_len;
	struct smimp_signed_hash signed_hash;
	struct smimp_sign_pk public_key;
};

/* A login token (7), kept under its login token hash. */
struct smd_login_token {
	char address[SMIMP_ADDRESS_MAX + 1];
	int64_t expires_at;
	bool used;
};

/* An avatar (11.7). */
struct smd_avatar {
	struct smimp_hash hash;     /* BLAKE2b-256 of the image */
	struct smimp_signed_hash signed_hash;
	const char *mime;           /* static "image/png" or "image/jpeg" */
	uint8_t *image;             /* malloc'ed or NULL when not asked for */
	size_t image_len;
};

/* Called per record, oldest first; return false to stop. row->data is only
 * valid during the call. */
typedef bool (*smd_record_cb)(const struct smd_record_row *row, void *arg);
/* Called per message key; return false to stop. */
typedef bool (*smd_msgkey_cb)(const struct smimp_msgkey *mk, void *arg);

struct smd_identity_store {
	const char *area; /* "identity", for logs */

	/* ---- reads ---- */

	/* The latest record of address (with its data when with_data);
	 * NOT_FOUND for no account or no history (not initialized). */
	enum smd_store_rc (*latest_record)(struct smd_store *st, const char *address,
					   bool with_data, struct smd_record_row *out);
	/* Every record of address, oldest first; NOT_FOUND when none. */
	enum smd_store_rc (*history)(struct smd_store *st, const char *address,
				     smd_record_cb cb, void *arg);
	enum smd_store_rc (*token_get)(struct smd_store *st,
				       const struct smimp_hash *token_hash,
				       struct smd_login_token *out);
	/* The session stored under hash, whether live or not: *destroyed says
	 * if it was ended. NOT_FOUND when unknown. */
	enum smd_store_rc (*session_get)(struct smd_store *st,
					 const uint8_t hash[SMD_SESSION_HASH_BYTES],
					 struct smd_session *out, bool *destroyed);
	/* The current non-ephemeral key; NOT_FOUND when none. */
	enum smd_store_rc (*nonephemeral_get)(struct smd_store *st, int64_t account_id,
					      struct smimp_msgkey *out);
	/* The ephemeral keys not issued yet, oldest first. */
	enum smd_store_rc (*ephemeral_list)(struct smd_store *st, int64_t account_id,
					    smd_msgkey_cb cb, void *arg);
	/* The avatar of an account (image only when with_image). */
	enum smd_store_rc (*avatar_get)(struct smd_store *st, int64_t account_id,
					bool with_image, struct smd_avatar *out);
	/* The avatar with this image hash, image included. */
	enum smd_store_rc (*avatar_file)(struct smd_store *st,
					 const struct smimp_hash *hash,
					 struct smd_avatar *out);
	/* The pin of a remote address (5.1, 7.1); NOT_FOUND when none. */
	enum smd_store_rc (*pin_get)(struct smd_store *st, const char *address,
				     struct smimp_pin *out);

	/* ---- writes, inside smd_db_write() ---- */

	enum smd_store_rc (*txn_latest_record)(struct smd_txn *txn, int64_t account_id,
					       bool with_data,
					       struct smd_record_row *out);
	/* OK when a record of the account's history has public_key pk,
	 * NOT_FOUND when none has (5: a replaced key must not return). One
	 * lookup in record_keys, whatever the length of the history. */
	enum smd_store_rc (*txn_record_has_key)(struct smd_txn *txn, int64_t account_id,
						const struct smimp_sign_pk *pk);
	enum smd_store_rc (*record_add)(struct smd_txn *txn, int64_t account_id,
					const struct smd_record_row *row);
	/* The address pk is bound to (5); NOT_FOUND when unbound. */
	enum smd_store_rc (*key_binding)(struct smd_txn *txn,
					 const struct smimp_sign_pk *pk,
					 char address[SMIMP_ADDRESS_MAX + 1]);
	/* Binds pk to address (no-op when it already is). */
	enum smd_store_rc (*key_bind)(struct smd_txn *txn, const struct smimp_sign_pk *pk,
				      const char *address, int64_t now);
	/* initialized = 1, the password forgotten, the failure count reset. */
	enum smd_store_rc (*account_initialize)(struct smd_txn *txn, int64_t account_id);
	/* Counts one failed initialization attempt at now. */
	enum smd_store_rc (*init_failure)(struct smd_txn *txn, const char *address,
					  int64_t now);
	/* Makes mk the current non-ephemeral key; the one it replaces stays as
	 * recent (replaced_at = now); recent keys older than 30 days go. */
	enum smd_store_rc (*nonephemeral_set)(struct smd_txn *txn, int64_t account_id,
					      const struct smimp_msgkey *mk,
					      const struct smimp_sign_pk *signer,
					      int64_t now);
	/* Replaces every ephemeral key not issued yet with keys[0..n); a key
	 * the account has (had) already is kept as it is. */
	enum smd_store_rc (*ephemeral_replace)(struct smd_txn *txn, int64_t account_id,
					       const struct smimp_msgkey *keys, size_t n,
					       const struct smimp_sign_pk *signer);
	/* Drops every message key (ephemeral, issued or not, current and
	 * recent non-ephemeral) not signed by keep (11.4). */
	enum smd_store_rc (*msgkeys_drop_others)(struct smd_txn *txn, int64_t account_id,
						 const struct smimp_sign_pk *keep);
	/* Stores a token (and forgets a few long-expired ones). */
	enum smd_store_rc (*token_add)(struct smd_txn *txn,
				       const struct smimp_hash *token_hash,
				       const char *address, int64_t expires_at,
				       int64_t now);
	/* Marks a token used and fills *out with it as it was. NOT_FOUND when
	 * unknown or already used. */
	enum smd_store_rc (*token_use)(struct smd_txn *txn,
				       const struct smimp_hash *token_hash,
				       struct smd_login_token *out);
	/* Stores a session (and forgets a few long-expired ones). */
	enum smd_store_rc (*session_add)(struct smd_txn *txn, const struct smd_session *s,
					 int64_t now);
	enum smd_store_rc (*session_destroy)(struct smd_txn *txn,
					     const uint8_t hash[SMD_SESSION_HASH_BYTES]);
	/* Ends every session of address but keep; keep's key becomes pk (11.4). */
	enum smd_store_rc (*sessions_rekey)(struct smd_txn *txn, const char *address,
					    const uint8_t keep[SMD_SESSION_HASH_BYTES],
					    const struct smimp_sign_pk *pk);
	enum smd_store_rc (*avatar_set)(struct smd_txn *txn, int64_t account_id,
					const struct smd_avatar *a, int64_t now);
	enum smd_store_rc (*avatar_delete)(struct smd_txn *txn, int64_t account_id);
	enum smd_store_rc (*pin_put)(struct smd_txn *txn, const struct smimp_pin *pin,
				     int64_t now);
};

#endif

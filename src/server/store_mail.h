/* The mail area of the store (store.h): ephemeral key draws, proof-of-work
 * nonces, messages, folders, whitelists and blacklists. A table of
 * functions per backend; handlers never see SQL. Values passed in are
 * checked and normalized by the caller (addresses in normal form, message
 * types and folder names valid); the store trusts them.
 *
 * Reads take the store; writes take a transaction of smd_db_write() or of
 * the grouped writer (write_grouped below) and must be safe to run again. */
#ifndef SMD_STORE_MAIL_H
#define SMD_STORE_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smimp/envelope.h"
#include "smimp/listpolicy.h"
#include "smimp/msgkey.h"
#include "smimp/msgtype.h"
#include "smimp/types.h"
#include "store.h"

#define SMD_DISPLAY_NAME_MAX 256   /* bytes of a folder's display_name */
#define SMD_LIST_DATA_MAX (16 * 1024) /* decoded bytes of a list note */

/* A local account as the mail calls need it. */
struct smd_mail_recipient {
	int64_t account_id;
	bool initialized;
	bool has_master;                 /* false until record 0 is stored */
	struct smimp_sign_pk master_pk;  /* the latest record's public_key */
	long long quota_limit;           /* -1 = none */
	long long used_bytes;            /* -1: not known (the store may cache
					  * the rest; the insert checks the
					  * quota in its transaction) */
	bool has_lists;                  /* any whitelist or blacklist entry */
};

/* get_message_key (9.3): what the draw gave. */
struct smd_key_draw {
	struct smimp_msgkey key;
	bool non_ephemeral;
};

/* A message to store (9), all fields of the accepted envelope. */
struct smd_message_new {
	const struct smimp_accept_result *acc;   /* envelope and what to store */
	const char *recipient;
	const uint8_t *session_hash;             /* SMD_SESSION_HASH_BYTES */
	struct smimp_sign_pk sender_public_key;
	struct smimp_hash message_id;            /* fresh */
	int64_t received_at;
	/* Set when the send's proof-of-work nonce turned out used inside the
	 * transaction: only an identical retry (an original that raced this
	 * request and committed first) may answer; anything else is
	 * SMIMP_ERR_BAD_PROOF_OF_WORK and nothing is stored. */
	bool retry_only;
	/* Out: SMIMP_OK with the id stored (message_id, or the first id of an
	 * identical retry found inside the transaction), or
	 * SMIMP_ERR_QUOTA_EXCEEDED / SMIMP_ERR_BAD_KEY (ephemeral key used
	 * meanwhile) / SMIMP_ERR_NOT_FOUND (recipient gone) /
	 * SMIMP_ERR_BAD_PROOF_OF_WORK (retry_only); then the write function
	 * answers SMD_STORE_CONFLICT and nothing is stored. */
	enum smimp_err outcome;
	struct smimp_hash stored_id;
};

/* One line of a folder listing (11.5). */
struct smd_message_meta {
	struct smimp_hash message_id;
	int64_t received_at;
	bool read;
	char sender[SMIMP_ADDRESS_MAX + 1];
	long long size;
	char message_type[SMIMP_MSGTYPE_MAX + 1];
};

/* A listing page position: strictly older than (received_at, message_id). */
struct smd_cursor {
	bool set;
	int64_t received_at;
	struct smimp_hash message_id;
};

struct smd_folder {
	char name[SMIMP_FOLDER_NAME_MAX + 1];
	char display_name[SMD_DISPLAY_NAME_MAX + 1];
	bool has_parent;
	char parent[SMIMP_FOLDER_NAME_MAX + 1];
	char message_type[SMIMP_MSGTYPE_MAX + 1];
};

/* A folder change (POST folders/{type}/{name}); NULL members: unchanged. */
struct smd_folder_update {
	const char *name;
	const char *display_name;
	bool set_parent;
	const char *parent;              /* NULL with set_parent: the root */
};

struct smd_list_entry {
	struct smimp_hash hash;
	uint8_t *data;                   /* malloc'ed by the store; the callback
					  * may keep it (set to NULL) */
	size_t data_len;
};

typedef bool (*smd_meta_cb)(const struct smd_message_meta *m, void *arg);
typedef bool (*smd_folder_cb)(const struct smd_folder *f, void *arg);
typedef bool (*smd_list_cb)(struct smd_list_entry *e, void *arg);

struct smd_mail_store {
	const char *area; /* "mail", for logs */

	/* Runs fn like store.h's write(), but may run the functions of
	 * concurrent callers in one synced transaction (group commit), each
	 * in a savepoint of its own: one caller's failure rolls back only its
	 * own changes. fn must touch nothing but the store through txn. */
	enum smd_store_rc (*write_grouped)(struct smd_store *st,
					   smd_store_write_fn fn, void *arg);

	/* ---- reads ---- */
	/* NOT_FOUND when there is no such local account. */
	enum smd_store_rc (*recipient_get)(struct smd_store *st,
					   const char *address,
					   struct smd_mail_recipient *out);
	enum smd_store_rc (*list_has)(struct smd_store *st, const char *owner,
				      enum smimp_list_kind kind,
				      const struct smimp_hash *hash, bool *listed);
	/* An envelope with message_hash accepted for recipient in the session
	 * session_hash: *found and its id. */
	enum smd_store_rc (*retry_find)(struct smd_store *st,
					const char *recipient,
					const uint8_t *session_hash,
					const struct smimp_signed_hash *message_hash,
					bool *found, struct smimp_hash *message_id);
	/* Where key comes from for recipient and sender at time now (6, 9). */
	enum smd_store_rc (*key_provenance)(struct smd_store *st,
					    const char *recipient,
					    const char *sender,
					    const struct smimp_box_pk *key,
					    int64_t now,
					    enum smimp_key_provenance *out);
	/* The stored envelope of owner's message id (NOT_FOUND otherwise). */
	enum smd_store_rc (*message_get)(struct smd_store *st, const char *owner,
					 const struct smimp_hash *id,
					 struct smimp_stored_envelope *out);
	/* Owner's messages of message_type in folder (NULL: the root), newest
	 * first, ties by message_id, after cursor, at most limit of them.
	 * NOT_FOUND when the folder does not exist. */
	enum smd_store_rc (*message_list)(struct smd_store *st, const char *owner,
					  const char *message_type,
					  const char *folder,
					  const struct smd_cursor *after,
					  unsigned limit, smd_meta_cb cb,
					  void *arg);
	/* Owner's folders, of message_type or all (NULL), by type and name. */
	enum smd_store_rc (*folder_list)(struct smd_store *st, const char *owner,
					 const char *message_type,
					 smd_folder_cb cb, void *arg);
	enum smd_store_rc (*list_entries)(struct smd_store *st, const char *owner,
					  enum smimp_list_kind kind,
					  smd_list_cb cb, void *arg);

	/* ---- writes, inside a transaction ---- */
	/* Draws one unissued ephemeral key of recipient for sender unless
	 * sender drew max_per_hour in the 3600 s before now or none is left;
	 * then the current non-ephemeral key. NOT_FOUND: no such account or
	 * no key at all. */
	enum smd_store_rc (*key_draw)(struct smd_txn *txn, const char *recipient,
				      const char *sender, int64_t now,
				      long long max_per_hour,
				      struct smd_key_draw *out);
	/* Uses up nonce, a proof-of-work nonce of session_hash's (checked by
	 * the caller, pow_nonce.h): *fresh when no send named it before.
	 * NOT_FOUND when the session is gone. */
	enum smd_store_rc (*pow_use)(struct smd_txn *txn,
				     const uint8_t *session_hash,
				     const struct smimp_token *nonce, bool *fresh);
	/* Whether nonce was used, writing nothing. send_message looks first
	 * and uses the nonce up in the same grouped transaction as the
	 * message insert (or alone, before answering, when the send fails);
	 * message_insert must therefore write nothing when it answers
	 * CONFLICT with an outcome. */
	enum smd_store_rc (*pow_used)(struct smd_store *st,
				      const uint8_t *session_hash,
				      const struct smimp_token *nonce, bool *used);
	/* Stores the message, marks an issued ephemeral key used and adds its
	 * size to used_bytes, quota re-checked (see smd_message_new). */
	enum smd_store_rc (*message_insert)(struct smd_txn *txn,
					    struct smd_message_new *m);
	/* Subtracts the size from used_bytes. */
	enum smd_store_rc (*message_delete)(struct smd_txn *txn, const char *owner,
					    const struct smimp_hash *id);
	enum smd_store_rc (*message_set_read)(struct smd_txn *txn,
					      const char *owner,
					      const struct smimp_hash *id,
					      bool read);
	/* folder NULL: the root. NOT_FOUND: no such message or folder;
	 * CONFLICT: the folder exists only for another type. */
	enum smd_store_rc (*message_move)(struct smd_txn *txn, const char *owner,
					  const struct smimp_hash *id,
					  const char *folder);
	enum smd_store_rc (*message_set_extensions)(struct smd_txn *txn,
						    const char *owner,
						    const struct smimp_hash *id,
						    const uint8_t *data,
						    size_t len, bool null);
	/* CONFLICT: exists, or the parent is of another type; NOT_FOUND: no
	 * such parent. */
	enum smd_store_rc (*folder_create)(struct smd_txn *txn, const char *owner,
					   const struct smd_folder *f);
	/* CONFLICT: the new name exists, the parent is of another type or
	 * under the folder itself; NOT_FOUND: no such folder or parent. */
	enum smd_store_rc (*folder_update)(struct smd_txn *txn, const char *owner,
					   const char *message_type,
					   const char *name,
					   const struct smd_folder_update *u);
	/* CONFLICT: it holds messages or folders. */
	enum smd_store_rc (*folder_delete)(struct smd_txn *txn, const char *owner,
					   const char *message_type,
					   const char *name);
	/* CONFLICT: hash listed already. */
	enum smd_store_rc (*list_add)(struct smd_txn *txn, const char *owner,
				      enum smimp_list_kind kind,
				      const struct smimp_hash *hash,
				      const uint8_t *data, size_t len,
				      int64_t now);
	enum smd_store_rc (*list_remove)(struct smd_txn *txn, const char *owner,
					 enum smimp_list_kind kind,
					 const struct smimp_hash *hash);
};

/* Runs fn through the mail store's grouped writer, retrying soft errors. */
enum smd_store_rc smd_db_write_grouped(struct smd_db *db,
				       smd_store_write_fn fn, void *arg);

#endif

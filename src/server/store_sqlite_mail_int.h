/* Internal to the SQLite mail store files (store_sqlite_mail*.c): small row
 * and lookup helpers they share, and the functions one file gives the
 * other's ops table. Input is trusted (checked by the handlers). */
#ifndef SMD_STORE_SQLITE_MAIL_INT_H
#define SMD_STORE_SQLITE_MAIL_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sqlite_conn.h"
#include "store_mail.h"

/* A borrowed reader connection with one statement. */
struct mrd {
	struct smd_store *st;
	struct conn *c;
	int slot;
};

/* Borrows a reader and prepares sql on it; NULL (reader given back) when it
 * does not prepare. */
sqlite3_stmt *smd_mrd_begin(struct mrd *r, struct smd_store *st,
			    const char *sql);
/* Resets s and gives the reader back. */
void smd_mrd_end(struct mrd *r, sqlite3_stmt *s);
/* The store answer for a step result that is neither ROW nor DONE. */
enum smd_store_rc smd_mrd_fail(struct conn *c, const char *what);

/* The id of the account at address inside txn (initialized or not). */
enum smd_store_rc smd_mtx_account_id(struct smd_txn *txn, const char *address,
				     int64_t *id);

/* Mailbox functions (store_sqlite_mailbox.c). */
enum smd_store_rc smd_sqm_message_get(struct smd_store *st, const char *owner,
				      const struct smimp_hash *id,
				      struct smimp_stored_envelope *out);
enum smd_store_rc smd_sqm_message_list(struct smd_store *st, const char *owner,
				       const char *message_type,
				       const char *folder,
				       const struct smd_cursor *after,
				       unsigned limit, smd_meta_cb cb, void *arg);
enum smd_store_rc smd_sqm_message_delete(struct smd_txn *txn, const char *owner,
					 const struct smimp_hash *id);
enum smd_store_rc smd_sqm_message_set_read(struct smd_txn *txn,
					   const char *owner,
					   const struct smimp_hash *id, bool read);
enum smd_store_rc smd_sqm_message_move(struct smd_txn *txn, const char *owner,
				       const struct smimp_hash *id,
				       const char *folder);
enum smd_store_rc smd_sqm_message_set_extensions(struct smd_txn *txn,
						 const char *owner,
						 const struct smimp_hash *id,
						 const uint8_t *data, size_t len,
						 bool null);

/* Folders (store_sqlite_folders.c). */
enum smd_store_rc smd_sqm_folder_list(struct smd_store *st, const char *owner,
				      const char *message_type,
				      smd_folder_cb cb, void *arg);
enum smd_store_rc smd_sqm_folder_create(struct smd_txn *txn, const char *owner,
					const struct smd_folder *f);
enum smd_store_rc smd_sqm_folder_update(struct smd_txn *txn, const char *owner,
					const char *message_type,
					const char *name,
					const struct smd_folder_update *u);
enum smd_store_rc smd_sqm_folder_delete(struct smd_txn *txn, const char *owner,
					const char *message_type,
					const char *name);
/* The id of owner's folder (account_id) of message_type named name:
 * NOT_FOUND when none, CONFLICT when the name exists for another type. */
enum smd_store_rc smd_sqm_folder_id(struct smd_txn *txn, int64_t account_id,
				    const char *message_type, const char *name,
				    int64_t *id);

/* Grouped writes (store_sqlite_group.c). */
enum smd_store_rc smd_sqm_write_grouped(struct smd_store *st,
					smd_store_write_fn fn, void *arg);

#endif

/* SQLite mailbox of the mail area (store_mail.h, 11.5): reading, listing,
 * deleting, flagging, moving messages and their extensions data. Every
 * query is scoped to the owner's account, so another user's message id is
 * simply not found. Input is trusted; every value is bound. */
#include <string.h>

#include "store_sqlite_mail_int.h"

static const char SQL_MSG_GET[] =
	"SELECT " SMD_ENVELOPE_COLUMNS " FROM messages m"
	" LEFT JOIN folders f ON f.id = m.folder_id"
	" WHERE m.account_id = (SELECT id FROM accounts WHERE address = ?)"
	" AND m.message_id = ?";

enum smd_store_rc smd_sqm_message_get(struct smd_store *st, const char *owner,
				      const struct smimp_hash *id,
				      struct smimp_stored_envelope *out)
{
	struct mrd r;
	sqlite3_stmt *s = smd_mrd_begin(&r, st, SQL_MSG_GET);
	enum smd_store_rc ret = SMD_STORE_OK;
	int rc;

	memset(out, 0, sizeof *out);
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, id->b, sizeof id->b, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		struct smd_row row;

		smd_sq_cols(s, &row);
		if (!smd_row_envelope(&row, out)) {
			smimp_stored_envelope_clear(out);
			ret = SMD_STORE_ERROR;
		}
	} else {
		ret = rc == SQLITE_DONE ? SMD_STORE_NOT_FOUND :
		      smd_mrd_fail(r.c, "message get");
	}
	smd_mrd_end(&r, s);
	return ret;
}

/* ---- listing ---- */

static const char SQL_LIST_ACCOUNT[] = "SELECT id FROM accounts WHERE address = ?";
static const char SQL_LIST_FOLDER[] =
	"SELECT id FROM folders WHERE account_id = ? AND message_type = ?"
	" AND name = ?";
#define LIST_SELECT \
	"SELECT message_id, received_at, read, sender, size FROM messages" \
	" WHERE account_id = ?1 AND message_type = ?2 AND folder_id IS ?3"
static const char SQL_LIST_FIRST[] =
	LIST_SELECT " ORDER BY received_at DESC, message_id DESC LIMIT ?6";
static const char SQL_LIST_AFTER[] =
	LIST_SELECT " AND (received_at < ?4 OR (received_at = ?4 AND message_id < ?5))"
	" ORDER BY received_at DESC, message_id DESC LIMIT ?6";

/* The id that sql finds: bound to (a) when account < 0, else to
 * (account, a, b). */
static enum smd_store_rc lookup_id(struct conn *c, const char *sql,
				   int64_t account, const char *a,
				   const char *b, int64_t *out)
{
	sqlite3_stmt *s = smd_sq_prep(c, sql);
	int rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	if (account >= 0) {
		sqlite3_bind_int64(s, 1, account);
		sqlite3_bind_text(s, 2, a, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, b, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return SMD_STORE_OK;
	return rc == SQLITE_DONE ? SMD_STORE_NOT_FOUND : smd_mrd_fail(c, "lookup");
}

static enum smd_store_rc list_rows(struct conn *c, int64_t account,
				   const char *message_type, bool in_folder,
				   int64_t folder_id, const struct smd_cursor *after,
				   unsigned limit, smd_meta_cb cb, void *arg)
{
	bool paged = after != NULL && after->set;
	sqlite3_stmt *s = smd_sq_prep(c, paged ? SQL_LIST_AFTER : SQL_LIST_FIRST);
	enum smd_store_rc ret = SMD_STORE_OK;
	int rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, account);
	sqlite3_bind_text(s, 2, message_type, -1, SQLITE_STATIC);
	if (in_folder)
		sqlite3_bind_int64(s, 3, folder_id);
	else
		sqlite3_bind_null(s, 3);
	if (paged) {
		sqlite3_bind_int64(s, 4, after->received_at);
		sqlite3_bind_blob(s, 5, after->message_id.b,
				  sizeof after->message_id.b, SQLITE_STATIC);
	}
	sqlite3_bind_int64(s, 6, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct smd_message_meta m;
		struct smd_row row;

		smd_sq_cols(s, &row);
		if (!smd_row_meta(&row, message_type, &m))
			continue;
		if (!cb(&m, arg))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = smd_mrd_fail(c, "message list");
	sqlite3_reset(s);
	return ret;
}

enum smd_store_rc smd_sqm_message_list(struct smd_store *st, const char *owner,
				       const char *message_type,
				       const char *folder,
				       const struct smd_cursor *after,
				       unsigned limit, smd_meta_cb cb, void *arg)
{
	int slot;
	struct conn *c = smd_sq_reader_get(st, &slot);
	int64_t account = 0, folder_id = 0;
	enum smd_store_rc r;

	r = lookup_id(c, SQL_LIST_ACCOUNT, -1, owner, NULL, &account);
	if (r == SMD_STORE_OK && folder != NULL)
		r = lookup_id(c, SQL_LIST_FOLDER, account, message_type, folder,
			      &folder_id);
	if (r == SMD_STORE_OK)
		r = list_rows(c, account, message_type, folder != NULL, folder_id,
			      after, limit, cb, arg);
	smd_sq_reader_put(st, slot);
	return r;
}

/* ---- writes ---- */

static const char SQL_MSG_ROW[] =
	"SELECT id, size, message_type FROM messages WHERE account_id = ?"
	" AND message_id = ?";

/* Finds owner's message: its row id, size and type. */
static enum smd_store_rc message_row(struct smd_txn *txn, const char *owner,
				     const struct smimp_hash *id, int64_t *account,
				     int64_t *row, int64_t *size,
				     char type[SMIMP_MSGTYPE_MAX + 1])
{
	enum smd_store_rc r = smd_mtx_account_id(txn, owner, account);
	sqlite3_stmt *s;
	int rc;

	if (r != SMD_STORE_OK)
		return r;
	s = smd_sq_prep(txn->c, SQL_MSG_ROW);
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, *account);
	sqlite3_bind_blob(s, 2, id->b, sizeof id->b, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*row = sqlite3_column_int64(s, 0);
		*size = sqlite3_column_int64(s, 1);
		if (type != NULL)
			smd_col_text(s, 2, type, SMIMP_MSGTYPE_MAX + 1);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return SMD_STORE_OK;
	return rc == SQLITE_DONE ? SMD_STORE_NOT_FOUND :
	       smd_mrd_fail(txn->c, "message row");
}

static const char SQL_MSG_DELETE[] = "DELETE FROM messages WHERE id = ?";
static const char SQL_MSG_UNUSE[] =
	"UPDATE accounts SET used_bytes = max(0, used_bytes - ?) WHERE id = ?";

enum smd_store_rc smd_sqm_message_delete(struct smd_txn *txn, const char *owner,
					 const struct smimp_hash *id)
{
	int64_t account, row, size;
	enum smd_store_rc r = message_row(txn, owner, id, &account, &row, &size,
					  NULL);
	sqlite3_stmt *s;

	if (r != SMD_STORE_OK)
		return r;
	s = smd_sq_prep(txn->c, SQL_MSG_DELETE);
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, row);
	if ((r = smd_sq_step_done(txn->c, s, "message delete")) != SMD_STORE_OK)
		return r;
	s = smd_sq_prep(txn->c, SQL_MSG_UNUSE);
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, size);
	sqlite3_bind_int64(s, 2, account);
	return smd_sq_step_done(txn->c, s, "used bytes");
}

static const char SQL_MSG_READ[] = "UPDATE messages SET read = ? WHERE id = ?";
static const char SQL_MSG_FOLDER[] =
	"UPDATE messages SET folder_id = ? WHERE id = ?";
static const char SQL_MSG_EXT[] =
	"UPDATE messages SET extensions = ? WHERE id = ?";

enum smd_store_rc smd_sqm_message_set_read(struct smd_txn *txn,
					   const char *owner,
					   const struct smimp_hash *id, bool read)
{
	int64_t account, row, size;
	enum smd_store_rc r = message_row(txn, owner, id, &account, &row, &size,
					  NULL);
	sqlite3_stmt *s;

	if (r != SMD_STORE_OK)
		return r;
	s = smd_sq_prep(txn->c, SQL_MSG_READ);
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int(s, 1, read ? 1 : 0);
	sqlite3_bind_int64(s, 2, row);
	return smd_sq_step_done(txn->c, s, "message read");
}

enum smd_store_rc smd_sqm_message_move(struct smd_txn *txn, const char *owner,
				       const struct smimp_hash *id,
				       const char *folder)
{
	int64_t account, row, size, folder_id = 0;
	char type[SMIMP_MSGTYPE_MAX + 1];
	enum smd_store_rc r = message_row(txn, owner, id, &account, &row, &size,
					  type);
	sqlite3_stmt *s;

	if (r != SMD_STORE_OK)
		return r;
	if (folder != NULL &&
	    (r = smd_sqm_folder_id(txn, account, type, folder, &folder_id)) !=
	    SMD_STORE_OK)
		return r;
	s = smd_sq_prep(txn->c, SQL_MSG_FOLDER);
	if (s == NULL)
		return SMD_STORE_ERROR;
	if (folder != NULL)
		sqlite3_bind_int64(s, 1, folder_id);
	else
		sqlite3_bind_null(s, 1);
	sqlite3_bind_int64(s, 2, row);
	return smd_sq_step_done(txn->c, s, "message move");
}

enum smd_store_rc smd_sqm_message_set_extensions(struct smd_txn *txn,
						 const char *owner,
						 const struct smimp_hash *id,
						 const uint8_t *data, size_t len,
						 bool null)
{
	int64_t account, row, size;
	enum smd_store_rc r = message_row(txn, owner, id, &account, &row, &size,
					  NULL);
	sqlite3_stmt *s;

	if (r != SMD_STORE_OK)
		return r;
	s = smd_sq_prep(txn->c, SQL_MSG_EXT);
	if (s == NULL)
		return SMD_STORE_ERROR;
	if (null)
		sqlite3_bind_null(s, 1);
	else
		sqlite3_bind_blob64(s, 1, len > 0 ? (const void *)data : "", len,
				    SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, row);
	return smd_sq_step_done(txn->c, s, "message extensions");
}

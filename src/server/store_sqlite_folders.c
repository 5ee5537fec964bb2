/* SQLite folders of the mail area (store_mail.h, 11.5): per message type,
 * names unique within a type, parents of the same type, no cycles, deletion
 * only when empty and childless. Input is trusted; every value is bound. */
#include <stdio.h>

#include "store_sqlite_mail_int.h"

#define MAX_DEPTH 10000   /* a parent chain longer than this is corrupt */

static const char SQL_FOLDER_ID[] =
	"SELECT id FROM folders WHERE account_id = ? AND message_type = ?"
	" AND name = ?";
static const char SQL_FOLDER_ANY_TYPE[] =
	"SELECT 1 FROM folders WHERE account_id = ? AND name = ? LIMIT 1";

enum smd_store_rc smd_sqm_folder_id(struct smd_txn *txn, int64_t account_id,
				    const char *message_type, const char *name,
				    int64_t *id)
{
	sqlite3_stmt *s = smd_sq_prep(txn->c, SQL_FOLDER_ID);
	int rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, account_id);
	sqlite3_bind_text(s, 2, message_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return SMD_STORE_OK;
	if (rc != SQLITE_DONE)
		return smd_mrd_fail(txn->c, "folder id");
	/* Not of this type: a folder of another type is a conflict (4.4). */
	s = smd_sq_prep(txn->c, SQL_FOLDER_ANY_TYPE);
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, account_id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return SMD_STORE_CONFLICT;
	return rc == SQLITE_DONE ? SMD_STORE_NOT_FOUND :
	       smd_mrd_fail(txn->c, "folder id");
}

static const char SQL_FOLDERS_ALL[] =
	"SELECT f.name, f.display_name, p.name, f.message_type FROM folders f"
	" LEFT JOIN folders p ON p.id = f.parent_id"
	" WHERE f.account_id = (SELECT id FROM accounts WHERE address = ?1)"
	" ORDER BY f.message_type, f.name";
static const char SQL_FOLDERS_TYPE[] =
	"SELECT f.name, f.display_name, p.name, f.message_type FROM folders f"
	" LEFT JOIN folders p ON p.id = f.parent_id"
	" WHERE f.account_id = (SELECT id FROM accounts WHERE address = ?1)"
	" AND f.message_type = ?2 ORDER BY f.name";

enum smd_store_rc smd_sqm_folder_list(struct smd_store *st, const char *owner,
				      const char *message_type,
				      smd_folder_cb cb, void *arg)
{
	struct mrd r;
	sqlite3_stmt *s = smd_mrd_begin(&r, st, message_type != NULL ?
					SQL_FOLDERS_TYPE : SQL_FOLDERS_ALL);
	enum smd_store_rc ret = SMD_STORE_OK;
	int rc;

	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	if (message_type != NULL)
		sqlite3_bind_text(s, 2, message_type, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct smd_folder f;
		struct smd_row row;

		smd_sq_cols(s, &row);
		smd_row_folder(&row, &f);
		if (!cb(&f, arg))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = smd_mrd_fail(r.c, "folder list");
	smd_mrd_end(&r, s);
	return ret;
}

static const char SQL_FOLDER_ADD[] =
	"INSERT INTO folders (account_id, message_type, name, display_name,"
	" parent_id) VALUES (?, ?, ?, ?, ?)";

enum smd_store_rc smd_sqm_folder_create(struct smd_txn *txn, const char *owner,
					const struct smd_folder *f)
{
	int64_t account, parent = 0;
	enum smd_store_rc r = smd_mtx_account_id(txn, owner, &account);
	sqlite3_stmt *s;

	if (r != SMD_STORE_OK)
		return r;
	if (f->has_parent &&
	    (r = smd_sqm_folder_id(txn, account, f->message_type, f->parent,
				   &parent)) != SMD_STORE_OK)
		return r;
	s = smd_sq_prep(txn->c, SQL_FOLDER_ADD);
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, account);
	sqlite3_bind_text(s, 2, f->message_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, f->display_name, -1, SQLITE_STATIC);
	if (f->has_parent)
		sqlite3_bind_int64(s, 5, parent);
	else
		sqlite3_bind_null(s, 5);
	return smd_sq_step_done(txn->c, s, "folder add");
}

static const char SQL_FOLDER_PARENT[] = "SELECT parent_id FROM folders WHERE id = ?";

/* CONFLICT when folder `id` is `start` or one of its ancestors: moving id
 * under start would make a cycle. */
static enum smd_store_rc check_no_cycle(struct smd_txn *txn, int64_t id,
					int64_t start)
{
	int64_t cur = start;

	for (int depth = 0; depth < MAX_DEPTH; depth++) {
		sqlite3_stmt *s;
		int rc;
		bool top;

		if (cur == id)
			return SMD_STORE_CONFLICT;
		s = smd_sq_prep(txn->c, SQL_FOLDER_PARENT);
		if (s == NULL)
			return SMD_STORE_ERROR;
		sqlite3_bind_int64(s, 1, cur);
		rc = sqlite3_step(s);
		top = rc != SQLITE_ROW || sqlite3_column_type(s, 0) == SQLITE_NULL;
		if (!top)
			cur = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return smd_mrd_fail(txn->c, "folder parent");
		if (top)
			return SMD_STORE_OK;
	}
	fputs("smimpd: store: folder parent chain too long\n", stderr);
	return SMD_STORE_ERROR;
}

static const char SQL_FOLDER_SET[] =
	"UPDATE folders SET name = coalesce(?1, name),"
	" display_name = coalesce(?2, display_name),"
	" parent_id = CASE WHEN ?3 THEN ?4 ELSE parent_id END WHERE id = ?5";

enum smd_store_rc smd_sqm_folder_update(struct smd_txn *txn, const char *owner,
					const char *message_type,
					const char *name,
					const struct smd_folder_update *u)
{
	int64_t account, id, parent = 0;
	enum smd_store_rc r = smd_mtx_account_id(txn, owner, &account);
	sqlite3_stmt *s;

	if (r != SMD_STORE_OK)
		return r;
	r = smd_sqm_folder_id(txn, account, message_type, name, &id);
	if (r != SMD_STORE_OK)  /* of another type only: not this folder */
		return r == SMD_STORE_CONFLICT ? SMD_STORE_NOT_FOUND : r;
	if (u->set_parent && u->parent != NULL) {
		r = smd_sqm_folder_id(txn, account, message_type, u->parent, &parent);
		if (r == SMD_STORE_OK)
			r = check_no_cycle(txn, id, parent);
		if (r != SMD_STORE_OK)
			return r;
	}
	s = smd_sq_prep(txn->c, SQL_FOLDER_SET);
	if (s == NULL)
		return SMD_STORE_ERROR;
	if (u->name != NULL)
		sqlite3_bind_text(s, 1, u->name, -1, SQLITE_STATIC);
	if (u->display_name != NULL)
		sqlite3_bind_text(s, 2, u->display_name, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, u->set_parent ? 1 : 0);
	if (u->set_parent && u->parent != NULL)
		sqlite3_bind_int64(s, 4, parent);
	sqlite3_bind_int64(s, 5, id);
	return smd_sq_step_done(txn->c, s, "folder update");
}

static const char SQL_FOLDER_BUSY[] =
	"SELECT EXISTS (SELECT 1 FROM messages WHERE folder_id = ?1)"
	" OR EXISTS (SELECT 1 FROM folders WHERE parent_id = ?1)";
static const char SQL_FOLDER_DEL[] = "DELETE FROM folders WHERE id = ?";

enum smd_store_rc smd_sqm_folder_delete(struct smd_txn *txn, const char *owner,
					const char *message_type,
					const char *name)
{
	int64_t account, id;
	enum smd_store_rc r = smd_mtx_account_id(txn, owner, &account);
	sqlite3_stmt *s;
	bool busy;
	int rc;

	if (r != SMD_STORE_OK)
		return r;
	r = smd_sqm_folder_id(txn, account, message_type, name, &id);
	if (r != SMD_STORE_OK)
		return r == SMD_STORE_CONFLICT ? SMD_STORE_NOT_FOUND : r;
	s = smd_sq_prep(txn->c, SQL_FOLDER_BUSY);
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	busy = rc == SQLITE_ROW && sqlite3_column_int(s, 0) != 0;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return smd_mrd_fail(txn->c, "folder busy");
	if (busy)
		return SMD_STORE_CONFLICT;
	s = smd_sq_prep(txn->c, SQL_FOLDER_DEL);
	if (s == NULL)
		return SMD_STORE_ERROR;
	sqlite3_bind_int64(s, 1, id);
	return smd_sq_step_done(txn->c, s, "folder delete");
}

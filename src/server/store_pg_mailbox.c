/* PostgreSQL mailbox and folders of the mail area (store_mail.h, 11.5):
 * reading, listing, deleting, flagging and moving messages; folders per
 * message type (names unique within a type, parents of the same type, no
 * cycles, deletion only when empty and childless). Every write locks the
 * owner's account row first (smd_pgm_account_lock), so one owner's changes
 * take turns across nodes. Every query is scoped to the owner's account.
 * Input is trusted; every value is bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_conn.h"
#include "store_mail.h"

#define MAX_DEPTH 10000   /* a parent chain longer than this is corrupt */

static const char SQL_MSG_GET[] =
	"SELECT " SMD_ENVELOPE_COLUMNS " FROM messages m"
	" LEFT JOIN folders f ON f.id = m.folder_id"
	" WHERE m.account_id = (SELECT id FROM accounts WHERE address = $1)"
	" AND m.message_id = $2";

enum smd_store_rc smd_pgm_message_get(struct smd_store *st, const char *owner,
				      const struct smimp_hash *id,
				      struct smimp_stored_envelope *out)
{
	struct pgp p = {0};
	struct smd_row r;
	PGresult *res;
	enum smd_store_rc rc;

	memset(out, 0, sizeof *out);
	smd_pgp_text(&p, owner);
	smd_pgp_blob(&p, id->b, sizeof id->b);
	rc = smd_pg_read_row(st, SQL_MSG_GET, &p, "message get", &res);
	if (rc == SMD_STORE_OK)
		smd_pg_cols(res, 0, &r);
	if (rc == SMD_STORE_OK && !smd_row_envelope(&r, out)) {
		smimp_stored_envelope_clear(out);
		rc = SMD_STORE_ERROR;
	}
	PQclear(res);
	return rc;
}

/* ---- listing ---- */

static const char SQL_LIST_ACCOUNT[] = "SELECT id FROM accounts WHERE address = $1";
static const char SQL_LIST_FOLDER[] =
	"SELECT id FROM folders WHERE account_id = $1 AND message_type = $2"
	" AND name = $3";
#define LIST_SELECT \
	"SELECT message_id, received_at, read, sender, size FROM messages" \
	" WHERE account_id = $1 AND message_type = $2"
#define LIST_AFTER \
	" AND (received_at < $4 OR (received_at = $4 AND message_id < $5))"
#define LIST_ORDER " ORDER BY received_at DESC, message_id DESC LIMIT $6"
/* Four forms so that each uses the listing index: root or folder, first
 * page or after a cursor. $3 (and $4, $5) are always bound. */
static const char SQL_LIST_ROOT[] =
	LIST_SELECT " AND folder_id IS NULL AND $3::bigint IS NULL"
	" AND ($4::bigint IS NULL OR $5::bytea IS NULL)" LIST_ORDER;
static const char SQL_LIST_ROOT_AFTER[] =
	LIST_SELECT " AND folder_id IS NULL AND $3::bigint IS NULL" LIST_AFTER LIST_ORDER;
static const char SQL_LIST_IN[] =
	LIST_SELECT " AND folder_id = $3"
	" AND ($4::bigint IS NULL OR $5::bytea IS NULL)" LIST_ORDER;
static const char SQL_LIST_IN_AFTER[] =
	LIST_SELECT " AND folder_id = $3" LIST_AFTER LIST_ORDER;

enum smd_store_rc smd_pgm_message_list(struct smd_store *st, const char *owner,
				       const char *message_type,
				       const char *folder,
				       const struct smd_cursor *after,
				       unsigned limit, smd_meta_cb cb, void *arg)
{
	bool paged = after != NULL && after->set;
	int slot;
	struct pgconn *c = smd_pg_get(st, &slot);
	struct pgp p = {0};
	PGresult *res = NULL;
	int64_t account = 0, folder_id = 0;
	enum smd_store_rc rc;
	const char *sql;

	if (c == NULL)
		return SMD_STORE_BUSY;
	smd_pgp_text(&p, owner);
	rc = smd_pg_row(c, SQL_LIST_ACCOUNT, &p, "message list", &res);
	if (rc == SMD_STORE_OK) {
		account = smd_pg_int(res, 0, 0);
		PQclear(res);
		res = NULL;
	}
	if (rc == SMD_STORE_OK && folder != NULL) {
		p.n = 0;
		smd_pgp_int(&p, account);
		smd_pgp_text(&p, message_type);
		smd_pgp_text(&p, folder);
		rc = smd_pg_row(c, SQL_LIST_FOLDER, &p, "message list", &res);
		if (rc == SMD_STORE_OK) {
			folder_id = smd_pg_int(res, 0, 0);
			PQclear(res);
			res = NULL;
		}
	}
	if (rc == SMD_STORE_OK) {
		sql = folder != NULL ? (paged ? SQL_LIST_IN_AFTER : SQL_LIST_IN) :
		      (paged ? SQL_LIST_ROOT_AFTER : SQL_LIST_ROOT);
		p.n = 0;
		smd_pgp_int(&p, account);
		smd_pgp_text(&p, message_type);
		if (folder != NULL)
			smd_pgp_int(&p, folder_id);
		else
			smd_pgp_null(&p);
		if (paged) {
			smd_pgp_int(&p, after->received_at);
			smd_pgp_blob(&p, after->message_id.b, sizeof after->message_id.b);
		} else {
			smd_pgp_null(&p);
			smd_pgp_null(&p);
		}
		smd_pgp_int(&p, limit);
		res = smd_pg_run(c, sql, &p, &rc, "message list");
	}
	smd_pg_put(st, slot);
	if (res == NULL)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		struct smd_message_meta m;
		struct smd_row r;

		smd_pg_cols(res, i, &r);
		if (!smd_row_meta(&r, message_type, &m))
			continue;
		if (!cb(&m, arg))
			break;
	}
	PQclear(res);
	return SMD_STORE_OK;
}

/* ---- message writes ---- */

static const char SQL_MSG_ROW[] =
	"SELECT id, size, message_type FROM messages WHERE account_id = $1"
	" AND message_id = $2";

/* Locks owner's account and finds the message: its row id, size, type. */
static enum smd_store_rc message_row(struct smd_txn *txn, const char *owner,
				     const struct smimp_hash *id, int64_t *account,
				     int64_t *row, int64_t *size,
				     char type[SMIMP_MSGTYPE_MAX + 1])
{
	enum smd_store_rc rc = smd_pgm_account_lock(txn, owner, account);
	struct pgp p = {0};
	PGresult *res;

	if (rc != SMD_STORE_OK)
		return rc;
	smd_pgp_int(&p, *account);
	smd_pgp_blob(&p, id->b, sizeof id->b);
	rc = smd_pg_row(txn->c, SQL_MSG_ROW, &p, "message row", &res);
	if (rc != SMD_STORE_OK)
		return rc;
	*row = smd_pg_int(res, 0, 0);
	*size = smd_pg_int(res, 0, 1);
	if (type != NULL)
		smd_pg_text(res, 0, 2, type, SMIMP_MSGTYPE_MAX + 1);
	PQclear(res);
	return SMD_STORE_OK;
}

static const char SQL_MSG_DELETE[] = "DELETE FROM messages WHERE id = $1";
static const char SQL_MSG_UNUSE[] =
	"UPDATE accounts SET used_bytes = greatest(0, used_bytes - $1) WHERE id = $2";

enum smd_store_rc smd_pgm_message_delete(struct smd_txn *txn, const char *owner,
					 const struct smimp_hash *id)
{
	int64_t account, row, size;
	enum smd_store_rc rc = message_row(txn, owner, id, &account, &row, &size, NULL);
	struct pgp p = {0};
	long n = 0;

	if (rc != SMD_STORE_OK)
		return rc;
	smd_pgp_int(&p, row);
	rc = smd_pg_do(txn->c, SQL_MSG_DELETE, &p, "message delete", &n);
	if (rc != SMD_STORE_OK)
		return rc;
	if (n == 0)
		return SMD_STORE_NOT_FOUND;
	p.n = 0;
	smd_pgp_int(&p, size);
	smd_pgp_int(&p, account);
	return smd_pg_do(txn->c, SQL_MSG_UNUSE, &p, "used bytes", NULL);
}

static const char SQL_MSG_READ[] = "UPDATE messages SET read = $1 WHERE id = $2";
static const char SQL_MSG_FOLDER[] = "UPDATE messages SET folder_id = $1 WHERE id = $2";
static const char SQL_MSG_EXT[] = "UPDATE messages SET extensions = $1 WHERE id = $2";

enum smd_store_rc smd_pgm_message_set_read(struct smd_txn *txn, const char *owner,
					   const struct smimp_hash *id, bool read)
{
	int64_t account, row, size;
	enum smd_store_rc rc = message_row(txn, owner, id, &account, &row, &size, NULL);
	struct pgp p = {0};

	if (rc != SMD_STORE_OK)
		return rc;
	smd_pgp_bool(&p, read);
	smd_pgp_int(&p, row);
	return smd_pg_do(txn->c, SQL_MSG_READ, &p, "message read", NULL);
}

static enum smd_store_rc folder_id(struct smd_txn *txn, int64_t account_id,
				   const char *message_type, const char *name,
				   int64_t *id);

enum smd_store_rc smd_pgm_message_move(struct smd_txn *txn, const char *owner,
				       const struct smimp_hash *id,
				       const char *folder)
{
	int64_t account, row, size, fid = 0;
	char type[SMIMP_MSGTYPE_MAX + 1];
	enum smd_store_rc rc = message_row(txn, owner, id, &account, &row, &size, type);
	struct pgp p = {0};

	if (rc != SMD_STORE_OK)
		return rc;
	if (folder != NULL &&
	    (rc = folder_id(txn, account, type, folder, &fid)) != SMD_STORE_OK)
		return rc;
	if (folder != NULL)
		smd_pgp_int(&p, fid);
	else
		smd_pgp_null(&p);
	smd_pgp_int(&p, row);
	return smd_pg_do(txn->c, SQL_MSG_FOLDER, &p, "message move", NULL);
}

enum smd_store_rc smd_pgm_message_set_extensions(struct smd_txn *txn,
						 const char *owner,
						 const struct smimp_hash *id,
						 const uint8_t *data, size_t len,
						 bool null)
{
	int64_t account, row, size;
	enum smd_store_rc rc = message_row(txn, owner, id, &account, &row, &size, NULL);
	struct pgp p = {0};

	if (rc != SMD_STORE_OK)
		return rc;
	if (null)
		smd_pgp_null(&p);
	else
		smd_pgp_blob(&p, data, len);
	smd_pgp_int(&p, row);
	return smd_pg_do(txn->c, SQL_MSG_EXT, &p, "message extensions", NULL);
}

/* ---- folders ---- */

static const char SQL_FOLDER_ID[] =
	"SELECT id FROM folders WHERE account_id = $1 AND message_type = $2"
	" AND name = $3";
static const char SQL_FOLDER_ANY_TYPE[] =
	"SELECT 1 FROM folders WHERE account_id = $1 AND name = $2 LIMIT 1";

/* NOT_FOUND when none, CONFLICT when the name exists for another type. */
static enum smd_store_rc folder_id(struct smd_txn *txn, int64_t account_id,
				   const char *message_type, const char *name,
				   int64_t *id)
{
	struct pgp p = {0};
	PGresult *res;
	enum smd_store_rc rc;

	smd_pgp_int(&p, account_id);
	smd_pgp_text(&p, message_type);
	smd_pgp_text(&p, name);
	rc = smd_pg_row(txn->c, SQL_FOLDER_ID, &p, "folder id", &res);
	if (rc == SMD_STORE_OK) {
		*id = smd_pg_int(res, 0, 0);
		PQclear(res);
		return SMD_STORE_OK;
	}
	if (rc != SMD_STORE_NOT_FOUND)
		return rc;
	/* Not of this type: a folder of another type is a conflict (4.4). */
	p.n = 0;
	smd_pgp_int(&p, account_id);
	smd_pgp_text(&p, name);
	rc = smd_pg_row(txn->c, SQL_FOLDER_ANY_TYPE, &p, "folder id", &res);
	PQclear(res);
	return rc == SMD_STORE_OK ? SMD_STORE_CONFLICT : rc;
}

static const char SQL_FOLDERS_ALL[] =
	"SELECT f.name, f.display_name, p.name, f.message_type FROM folders f"
	" LEFT JOIN folders p ON p.id = f.parent_id"
	" WHERE f.account_id = (SELECT id FROM accounts WHERE address = $1)"
	" ORDER BY f.message_type, f.name";
static const char SQL_FOLDERS_TYPE[] =
	"SELECT f.name, f.display_name, p.name, f.message_type FROM folders f"
	" LEFT JOIN folders p ON p.id = f.parent_id"
	" WHERE f.account_id = (SELECT id FROM accounts WHERE address = $1)"
	" AND f.message_type = $2 ORDER BY f.name";

enum smd_store_rc smd_pgm_folder_list(struct smd_store *st, const char *owner,
				      const char *message_type,
				      smd_folder_cb cb, void *arg)
{
	struct pgp p = {0};
	enum smd_store_rc rc;
	PGresult *res;

	smd_pgp_text(&p, owner);
	if (message_type != NULL)
		smd_pgp_text(&p, message_type);
	res = smd_pg_read(st, message_type != NULL ? SQL_FOLDERS_TYPE :
			  SQL_FOLDERS_ALL, &p, &rc, "folder list");
	if (res == NULL)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		struct smd_folder f;
		struct smd_row r;

		smd_pg_cols(res, i, &r);
		smd_row_folder(&r, &f);
		if (!cb(&f, arg))
			break;
	}
	PQclear(res);
	return SMD_STORE_OK;
}

static const char SQL_FOLDER_ADD[] =
	"INSERT INTO folders (account_id, message_type, name, display_name,"
	" parent_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

enum smd_store_rc smd_pgm_folder_create(struct smd_txn *txn, const char *owner,
					const struct smd_folder *f)
{
	int64_t account, parent = 0;
	enum smd_store_rc rc = smd_pgm_account_lock(txn, owner, &account);
	struct pgp p = {0};
	long n = 0;

	if (rc != SMD_STORE_OK)
		return rc;
	if (f->has_parent &&
	    (rc = folder_id(txn, account, f->message_type, f->parent, &parent)) !=
	    SMD_STORE_OK)
		return rc;
	smd_pgp_int(&p, account);
	smd_pgp_text(&p, f->message_type);
	smd_pgp_text(&p, f->name);
	smd_pgp_text(&p, f->display_name);
	if (f->has_parent)
		smd_pgp_int(&p, parent);
	else
		smd_pgp_null(&p);
	rc = smd_pg_do(txn->c, SQL_FOLDER_ADD, &p, "folder add", &n);
	return rc == SMD_STORE_OK && n == 0 ? SMD_STORE_CONFLICT : rc;
}

static const char SQL_FOLDER_PARENT[] = "SELECT parent_id FROM folders WHERE id = $1";

/* CONFLICT when folder `id` is `start` or one of its ancestors. */
static enum smd_store_rc check_no_cycle(struct smd_txn *txn, int64_t id, int64_t start)
{
	int64_t cur = start;

	for (int depth = 0; depth < MAX_DEPTH; depth++) {
		struct pgp p = {0};
		PGresult *res;
		enum smd_store_rc rc;
		bool top;

		if (cur == id)
			return SMD_STORE_CONFLICT;
		smd_pgp_int(&p, cur);
		rc = smd_pg_row(txn->c, SQL_FOLDER_PARENT, &p, "folder parent", &res);
		if (rc == SMD_STORE_NOT_FOUND)
			return SMD_STORE_OK;
		if (rc != SMD_STORE_OK)
			return rc;
		top = smd_pg_null(res, 0, 0);
		if (!top)
			cur = smd_pg_int(res, 0, 0);
		PQclear(res);
		if (top)
			return SMD_STORE_OK;
	}
	fputs("smimpd: store: folder parent chain too long\n", stderr);
	return SMD_STORE_ERROR;
}

static const char SQL_FOLDER_SET[] =
	"UPDATE folders SET name = coalesce($1, name),"
	" display_name = coalesce($2, display_name),"
	" parent_id = CASE WHEN $3::boolean THEN $4::bigint ELSE parent_id END"
	" WHERE id = $5";

enum smd_store_rc smd_pgm_folder_update(struct smd_txn *txn, const char *owner,
					const char *message_type, const char *name,
					const struct smd_folder_update *u)
{
	int64_t account, id, parent = 0;
	enum smd_store_rc rc = smd_pgm_account_lock(txn, owner, &account);
	struct pgp p = {0};

	if (rc != SMD_STORE_OK)
		return rc;
	rc = folder_id(txn, account, message_type, name, &id);
	if (rc != SMD_STORE_OK)  /* of another type only: not this folder */
		return rc == SMD_STORE_CONFLICT ? SMD_STORE_NOT_FOUND : rc;
	if (u->set_parent && u->parent != NULL) {
		rc = folder_id(txn, account, message_type, u->parent, &parent);
		if (rc == SMD_STORE_OK)
			rc = check_no_cycle(txn, id, parent);
		if (rc != SMD_STORE_OK)
			return rc;
	}
	smd_pgp_text(&p, u->name);
	smd_pgp_text(&p, u->display_name);
	smd_pgp_bool(&p, u->set_parent);
	if (u->set_parent && u->parent != NULL)
		smd_pgp_int(&p, parent);
	else
		smd_pgp_null(&p);
	smd_pgp_int(&p, id);
	return smd_pg_do(txn->c, SQL_FOLDER_SET, &p, "folder update", NULL);
}

static const char SQL_FOLDER_BUSY[] =
	"SELECT EXISTS (SELECT 1 FROM messages WHERE folder_id = $1)"
	" OR EXISTS (SELECT 1 FROM folders WHERE parent_id = $1)";
static const char SQL_FOLDER_DEL[] = "DELETE FROM folders WHERE id = $1";

enum smd_store_rc smd_pgm_folder_delete(struct smd_txn *txn, const char *owner,
					const char *message_type, const char *name)
{
	int64_t account, id;
	enum smd_store_rc rc = smd_pgm_account_lock(txn, owner, &account);
	struct pgp p = {0};
	PGresult *res;
	bool busy;

	if (rc != SMD_STORE_OK)
		return rc;
	rc = folder_id(txn, account, message_type, name, &id);
	if (rc != SMD_STORE_OK)
		return rc == SMD_STORE_CONFLICT ? SMD_STORE_NOT_FOUND : rc;
	smd_pgp_int(&p, id);
	rc = smd_pg_row(txn->c, SQL_FOLDER_BUSY, &p, "folder busy", &res);
	if (rc != SMD_STORE_OK)
		return rc == SMD_STORE_NOT_FOUND ? SMD_STORE_ERROR : rc;
	busy = smd_pg_int(res, 0, 0) != 0;
	PQclear(res);
	if (busy)
		return SMD_STORE_CONFLICT;
	return smd_pg_do(txn->c, SQL_FOLDER_DEL, &p, "folder delete", NULL);
}

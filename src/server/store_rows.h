/* Rows read back from either store backend, turned into the store's
 * structs in one place. A backend reads the columns of a result row into a
 * struct smd_row (smd_sq_cols in sqlite_conn.h, smd_pg_cols in pg_conn.h);
 * the converters below know the column order, which the SELECTs of both
 * backends share. Every value is hostile: fixed-size blobs must have their
 * exact size, texts are cut to their buffers, copies are NUL-terminated. */
#ifndef SMD_STORE_ROWS_H
#define SMD_STORE_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "smimp/envelope.h"
#include "smimp/msgkey.h"
#include "smimp/pin.h"
#include "store.h"
#include "store_identity.h"
#include "store_mail.h"

#define SMD_ROW_COLS 20   /* the widest row: a stored envelope */

/* One column: its bytes (valid until the backend moves off the row) and
 * its value read as an integer (0 when it is none). A column the result
 * does not have reads as SQL NULL. */
struct smd_val {
	bool null;
	const void *p;      /* NULL when null */
	size_t n;
	int64_t i;
};

struct smd_row {
	struct smd_val col[SMD_ROW_COLS];
};

/* Copies a column of exactly n bytes; false otherwise (or NULL). */
bool smd_val_blob(const struct smd_val *v, void *out, size_t n);
/* Copies a text column into out[0..size), cut at a NUL or the size. */
void smd_val_text(const struct smd_val *v, char *out, size_t size);
/* A malloc'ed copy with a NUL after it ("" for NULL); NULL when out of
 * memory. */
void *smd_val_dup(const struct smd_val *v, size_t *len);

/* Each takes the columns of its SELECT, in this order. */

/* seq, signed_hash, public_key[, data when with_data]. */
enum smd_store_rc smd_row_record(const struct smd_row *r, bool with_data,
				 struct smd_record_row *out);
/* key, signed_hash from column col on. */
bool smd_row_msgkey(const struct smd_row *r, int col, enum smimp_msgkey_kind kind,
		    struct smimp_msgkey *out);
/* address, expires_at[, used]: a row without used (token_use) is unused. */
void smd_row_token(const struct smd_row *r, struct smd_login_token *out);
/* address, remote, public_key, login_token_hash, expires_at, destroyed. */
enum smd_store_rc smd_row_session(const struct smd_row *r,
				  const uint8_t hash[SMD_SESSION_HASH_BYTES],
				  struct smd_session *out, bool *destroyed);
/* hash, signed_hash, mime[, image when with_image]. */
enum smd_store_rc smd_row_avatar(const struct smd_row *r, bool with_image,
				 struct smd_avatar *out);
/* first_signed_hash, first_public_key, latest_seq, latest_signed_hash,
 * latest_public_key. */
enum smd_store_rc smd_row_pin(const struct smd_row *r, const char *address,
			      struct smimp_pin *out);
/* The column lists the converters below read, the same in both dialects. */
#define SMD_ACCOUNT_COLUMNS "id, address, initialized, quota_limit, used_bytes, created_at"
/* messages m LEFT JOIN folders f (the message's folder). */
#define SMD_ENVELOPE_COLUMNS \
	"m.recipient, m.sender, m.message_type, m.algorithm," \
	" m.message_public_key, m.nonce, m.ciphertext, m.proof_of_work," \
	" m.login_token_hash, m.message_hash, m.sender_public_key," \
	" m.received_at, m.pow_zero_bits, m.pow_nonce, m.message_id," \
	" m.received_via, m.read, m.extensions, m.protocol_version, f.name"

/* SMD_ACCOUNT_COLUMNS. */
void smd_row_account(const struct smd_row *r, struct smd_account *out);
/* The account's columns, then init_password_hash, init_password_expires,
 * init_failures, init_failed_at. */
void smd_row_account_secret(const struct smd_row *r, struct smd_account *acct,
			    struct smd_account_secret *out);
/* id, initialized, quota_limit, used_bytes, latest public_key (NULL before
 * record 0), has_lists. */
void smd_row_recipient(const struct smd_row *r, struct smd_mail_recipient *out);
/* SMD_ENVELOPE_COLUMNS. false: malformed (clear out). */
bool smd_row_envelope(const struct smd_row *r, struct smimp_stored_envelope *out);
/* message_id, received_at, read, sender, size; false: a malformed row to
 * skip. */
bool smd_row_meta(const struct smd_row *r, const char *message_type,
		  struct smd_message_meta *out);
/* name, display_name, parent name (NULL at the root), message_type. */
void smd_row_folder(const struct smd_row *r, struct smd_folder *out);

/* The message insert's checks on the recipient's quota_limit and
 * used_bytes (read in its transaction), once no identical retry was found:
 * false, with m->outcome set, when nothing may be stored. */
bool smd_row_insert_admits(struct smd_message_new *m, int64_t quota_limit,
			   int64_t used_bytes);

#endif

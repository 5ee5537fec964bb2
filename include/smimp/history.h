/* Identity histories (spec 5): the whole signed chain of an account's
 * records, oldest first, as get_user/{address}/history answers it. Every
 * history here comes from a server that may lie: validation checks every
 * rule of 5 and names the record and the rule that failed. */
#ifndef SMIMP_HISTORY_H
#define SMIMP_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "smimp/address.h"
#include "smimp/error.h"
#include "smimp/record.h"
#include "smimp/types.h"

#define SMIMP_HISTORY_MAX_RECORDS SMIMP_RECORD_MAX_RECORDS

/* A validated history. Only smimp_history_validate and its wrappers fill
 * one, so holding a struct smimp_history means every rule of 5 held.
 * Release it with smimp_history_free(). */
struct smimp_history {
	char address[SMIMP_ADDRESS_MAX + 1]; /* normal form */
	size_t count;                        /* at least 1 */
	struct smimp_record *records;        /* owned, records[i].seq == i */
};

/* Where a key stands in a history. */
enum smimp_history_key {
	SMIMP_HISTORY_KEY_ABSENT,   /* never a key of this address */
	SMIMP_HISTORY_KEY_LATEST,   /* the current key */
	SMIMP_HISTORY_KEY_REPLACED, /* an earlier key, since replaced */
};

/* Validates `records`, a JSON array of wire records oldest first, as the
 * history of `address` (any case; it is normalized first). A history is
 * valid when it has 1 to SMIMP_HISTORY_MAX_RECORDS records, each parses
 * (smimp_record_from_json), seq equals its index, address is literally the
 * normal form asked for, previous is the prior signed_hash (null in record
 * 0), changed_at never decreases, no public_key returns after it was
 * replaced, and each signed hash verifies with the previous record's key
 * (record 0: its own). On failure err names the record and the rule, e.g.
 * "record 2: previous does not match record 1's signed_hash"; the code is
 * SMIMP_ERR_BAD_REQUEST (format or chain rule), SMIMP_ERR_TOO_LARGE (a
 * limit), SMIMP_ERR_BAD_SIGNATURE (a signed hash) or SMIMP_ERR_INTERNAL (out
 * of memory). A caller that fetched the history from another server answers
 * any of them as upstream. *out is filled only on success, and is then
 * owned by the caller. */
enum smimp_err smimp_history_validate(struct smimp_history *out,
				      const json_t *records,
				      const char *address,
				      struct smimp_error *err);

/* Same from the answer object {"records": [...]} (unknown members
 * ignored). */
enum smimp_err smimp_history_from_json(struct smimp_history *out,
				       const json_t *answer,
				       const char *address,
				       struct smimp_error *err);

/* Same from the answer's text text[0..len) (strict JSON); more than
 * max_bytes is SMIMP_ERR_TOO_LARGE. */
enum smimp_err smimp_history_parse(struct smimp_history *out,
				   const char *text, size_t len,
				   size_t max_bytes, const char *address,
				   struct smimp_error *err);

/* The answer object {"records": [...]}: a new reference, NULL when out of
 * memory. */
json_t *smimp_history_to_json(const struct smimp_history *h);

/* Releases what h owns and zeroes it. Accepts NULL and a zeroed struct. */
void smimp_history_free(struct smimp_history *h);

/* The latest record and its key (h valid, so never NULL). */
const struct smimp_record *smimp_history_latest(const struct smimp_history *h);
const struct smimp_sign_pk *smimp_history_latest_key(const struct smimp_history *h);

/* The master key in force from record i on; NULL when i >= count. */
const struct smimp_sign_pk *smimp_history_key_at(const struct smimp_history *h,
						 size_t i);

/* Whether pk is the latest key, an earlier (replaced) key, or no key of
 * this history. Readers use it for sender_public_key (9): LATEST is fine,
 * REPLACED is shown with a warning, ABSENT is invalid. */
enum smimp_history_key smimp_history_key_status(const struct smimp_history *h,
						const struct smimp_sign_pk *pk);

/* For update_profile (11.4): checks that next extends h with
 * smimp_record_check_extends, every key of h counting as earlier. Same
 * errors (SMIMP_ERR_CONFLICT, SMIMP_ERR_BAD_SIGNATURE, or
 * SMIMP_ERR_INTERNAL when out of memory). */
enum smimp_err smimp_history_check_next(const struct smimp_history *h,
					const struct smimp_record *next,
					int64_t now, struct smimp_error *err);

#endif

/* Identity records (spec 5): one entry of an account's signed history,
 * {"data": "<record JSON text>", "signed_hash": HEX96}. Builds and signs
 * records, and parses untrusted ones (from servers, from update_profile and
 * initialize_account bodies) checking every type and limit rule of 5. The
 * exact `data` bytes are kept: they are what is hashed and signed. */
#ifndef SMIMP_RECORD_H
#define SMIMP_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "smimp/address.h"
#include "smimp/error.h"
#include "smimp/types.h"

#define SMIMP_RECORD_MAX_DATA 16384u    /* bytes of one record's data (5) */
#define SMIMP_RECORD_MAX_RECORDS 10000u /* records in one history (5) */
#define SMIMP_RECORD_MAX_NAME 256u      /* bytes of name */
#define SMIMP_RECORD_MAX_WEBSITE 2048u  /* bytes of website */
#define SMIMP_RECORD_MAX_PROFILES 32u   /* entries of profiles */
#define SMIMP_RECORD_MAX_PROFILE 2048u  /* bytes of one profile */
/* Largest wire object {"data", "signed_hash"} accepted as text: the data
 * string may be escaped up to six bytes per byte ("\u001f"). */
#define SMIMP_RECORD_MAX_WIRE (6u * SMIMP_RECORD_MAX_DATA + 1024u)
/* How far ahead of the server's clock changed_at may be (5, 4.4). */
#define SMIMP_RECORD_MAX_AHEAD 300

/* A parsed record. Every member is set by a successful parse or build and
 * owned by the struct; release it with smimp_record_free(). */
struct smimp_record {
	char address[SMIMP_ADDRESS_MAX + 1]; /* normal form, as in data */
	struct smimp_sign_pk public_key;
	bool has_previous;                   /* false only when seq is 0 */
	struct smimp_signed_hash previous;   /* zero when !has_previous */
	int64_t seq;
	int64_t changed_at;                  /* seconds since the epoch */
	/* Optional members; pointers into `fields`, NULL when absent or null. */
	const char *name;
	size_t name_len;
	const char *website;
	size_t website_len;
	json_t *profiles;   /* borrowed from fields: array of strings or NULL */
	json_t *additional; /* borrowed from fields: object or NULL */
	json_t *fields;     /* owned: the parsed data object, unknown members too */
	char *data;         /* owned: the exact data bytes, NUL-terminated */
	size_t data_len;
	struct smimp_hash hash;              /* H("smimp/0.1/record", data) */
	struct smimp_signed_hash signed_hash;
};

/* The values a new record is built from. NULL name/website/additional
 * become JSON null; profiles may be NULL when n_profiles is 0 (written []). */
struct smimp_record_values {
	const char *address;                       /* normal form */
	const struct smimp_sign_pk *public_key;
	const struct smimp_signed_hash *previous;  /* NULL for record 0 */
	int64_t seq;
	int64_t changed_at;
	const char *name;
	const char *website;
	const char *const *profiles;
	size_t n_profiles;
	const json_t *additional;                  /* copied, not kept */
};

/* out = H("smimp/0.1/record", data[0..len)). */
void smimp_record_hash(struct smimp_hash *out, const char *data, size_t len);

/* Builds the data string from v (compact JSON, members in the order of the
 * spec's table: address, public_key, previous, seq, changed_at, name,
 * website, profiles, additional), signs its hash with signer_sk (the
 * previous record's master key, or record 0's own) and fills *out as a
 * parse would. Values that break a rule of 5 are refused with the parse's
 * error (nothing is signed then); SMIMP_ERR_INTERNAL when out of memory.
 * On error *out holds nothing to free (it may be freed all the same). */
enum smimp_err smimp_record_build(struct smimp_record *out,
				  const struct smimp_record_values *v,
				  const struct smimp_sign_sk *signer_sk,
				  struct smimp_error *err);

/* Parses a wire record (an object with "data" and "signed_hash"; unknown
 * members ignored). Checks every type and limit rule of 5 on the data:
 * a JSON object (no duplicate member, valid UTF-8) of at most
 * SMIMP_RECORD_MAX_DATA bytes; address in normal form; public_key a valid
 * point that converts to Curve25519; previous null exactly when seq is 0;
 * seq >= 0; changed_at a timestamp; name, website, profiles, additional as
 * in the spec's table. Does not check the signature (that needs the
 * previous record's key: smimp_record_verify). Errors: SMIMP_ERR_BAD_REQUEST
 * for a format, SMIMP_ERR_TOO_LARGE for a limit, SMIMP_ERR_INTERNAL when out
 * of memory; *out then holds nothing to free. */
enum smimp_err smimp_record_from_json(struct smimp_record *out,
				      const json_t *wire,
				      struct smimp_error *err);

/* Same from the wire object's text text[0..len) (strict JSON, at most
 * SMIMP_RECORD_MAX_WIRE bytes). */
enum smimp_err smimp_record_parse(struct smimp_record *out, const char *text,
				  size_t len, struct smimp_error *err);

/* The wire object {"data": ..., "signed_hash": HEX96}: a new reference, or
 * NULL when out of memory. */
json_t *smimp_record_to_json(const struct smimp_record *r);

/* Releases what r owns and zeroes it. Accepts NULL and a zeroed struct. */
void smimp_record_free(struct smimp_record *r);

/* Checks that r's signed hash embeds H(data) and is signer's signature.
 * SMIMP_ERR_BAD_SIGNATURE otherwise. */
enum smimp_err smimp_record_verify(const struct smimp_record *r,
				   const struct smimp_sign_pk *signer,
				   struct smimp_error *err);

/* For initialize_account (11.1): r must be a valid record 0 for `address`
 * (already in normal form): seq 0, previous null, the same address,
 * changed_at at most SMIMP_RECORD_MAX_AHEAD seconds after now
 * (SMIMP_ERR_CONFLICT for these), and signed by its own public_key
 * (SMIMP_ERR_BAD_SIGNATURE). Whether the key belongs to another address is
 * the server's own lookup. */
enum smimp_err smimp_record_check_first(const struct smimp_record *r,
					const char *address, int64_t now,
					struct smimp_error *err);

/* For update_profile (11.4): checks that next extends the chain whose last
 * record is `last`. earlier_keys[0..n_earlier_keys) are the public keys of
 * the chain's records (any order, repeats allowed; `last`'s own key may be
 * among them). SMIMP_ERR_CONFLICT when next is for another address, its seq
 * is not last's + 1 (or the history would pass SMIMP_RECORD_MAX_RECORDS),
 * its previous is not last's signed_hash, its changed_at is earlier than
 * last's or more than SMIMP_RECORD_MAX_AHEAD seconds after now, or its
 * public_key differs from last's and is one of earlier_keys (a key may not
 * return after it was replaced). Then SMIMP_ERR_BAD_SIGNATURE unless next is
 * signed by last's public_key. */
enum smimp_err smimp_record_check_extends(const struct smimp_record *next,
					  const struct smimp_record *last,
					  const struct smimp_sign_pk *earlier_keys,
					  size_t n_earlier_keys, int64_t now,
					  struct smimp_error *err);

#endif

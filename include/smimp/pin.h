/* Trust on first use (spec 5.1): the pin a client (or a server resolving a
 * remote user) keeps per address, checked against every history and
 * public_key answer fetched later. Both answers come from servers that may
 * lie; the pin itself is read back from the client's own pin store, still
 * strictly. */
#ifndef SMIMP_PIN_H
#define SMIMP_PIN_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "smimp/address.h"
#include "smimp/error.h"
#include "smimp/history.h"
#include "smimp/types.h"

/* What 5.1 stores: the first record's signed_hash and public_key, and the
 * latest record's seq, signed_hash and public_key. */
struct smimp_pin {
	char address[SMIMP_ADDRESS_MAX + 1]; /* normal form */
	struct smimp_signed_hash first_signed_hash;
	struct smimp_sign_pk first_public_key;
	int64_t latest_seq;
	struct smimp_signed_hash latest_signed_hash;
	struct smimp_sign_pk latest_public_key;
};

/* The verdict on a public_key answer that is not an attack. */
enum smimp_pin_key {
	SMIMP_PIN_KEY_UNCHANGED, /* same seq, signed_hash and key as pinned */
	SMIMP_PIN_KEY_REFETCH,   /* newer: fetch and check the history again */
};

/* The pin of a validated history (first contact). */
void smimp_pin_from_history(struct smimp_pin *out,
			    const struct smimp_history *h);

/* Checks a newly fetched, validated history against pin: same address,
 * record 0 equal to the pinned first record, and a record at the pinned
 * latest seq equal to the pinned latest record. SMIMP_ERR_PIN_MISMATCH
 * otherwise, with a plain message for the user saying whether the history
 * was truncated, or replaced/forked, and that nothing will be sent. */
enum smimp_err smimp_pin_check_history(const struct smimp_pin *pin,
				       const struct smimp_history *h,
				       struct smimp_error *err);

/* smimp_pin_check_history, then moves the pin to h's latest record. On
 * error pin is unchanged. */
enum smimp_err smimp_pin_advance(struct smimp_pin *pin,
				 const struct smimp_history *h,
				 struct smimp_error *err);

/* Checks a get_user/{address}/public_key answer
 * {"address", "public_key", "seq", "signed_hash"} (unknown members ignored)
 * against pin. The answer is not signed on its own, so only an exact match
 * of seq, signed_hash and public_key is UNCHANGED; a higher seq is REFETCH.
 * A lower seq (rolled back), or the pinned seq with another signed_hash or
 * key (replaced), is SMIMP_ERR_PIN_MISMATCH; a malformed answer or one for
 * another address is SMIMP_ERR_BAD_REQUEST. *verdict is set only on
 * SMIMP_OK. */
enum smimp_err smimp_pin_check_public_key(const struct smimp_pin *pin,
					  const json_t *answer,
					  enum smimp_pin_key *verdict,
					  struct smimp_error *err);

/* The pin store form: {"address", "first_signed_hash", "first_public_key",
 * "latest_seq", "latest_signed_hash", "latest_public_key"} (as in the
 * spec's vectors). A new reference, NULL when out of memory. */
json_t *smimp_pin_to_json(const struct smimp_pin *pin);

/* Reads the pin store form strictly: every member present with its type,
 * no other member, address in normal form, keys valid points, latest_seq
 * from 0 to SMIMP_HISTORY_MAX_RECORDS - 1, and when latest_seq is 0 the
 * latest record equal to the first. SMIMP_ERR_BAD_REQUEST otherwise. */
enum smimp_err smimp_pin_from_json(struct smimp_pin *out, const json_t *v,
				   struct smimp_error *err);

/* Same from text[0..len). */
enum smimp_err smimp_pin_parse(struct smimp_pin *out, const char *text,
			       size_t len, struct smimp_error *err);

#endif

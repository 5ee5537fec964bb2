/* Message keys (spec 6): Curve25519 keys of a recipient, signed by its
 * master key together with the owner's address and the key's kind:
 * {"key": HEX32, "kind": "ephemeral"|"nonephemeral", "signed_hash": HEX96}. */
#ifndef SMIMP_MSGKEY_H
#define SMIMP_MSGKEY_H

#include <jansson.h>

#include "smimp/error.h"
#include "smimp/types.h"

enum smimp_msgkey_kind {
	SMIMP_MSGKEY_EPHEMERAL,
	SMIMP_MSGKEY_NONEPHEMERAL,
};

struct smimp_msgkey {
	struct smimp_box_pk key;
	enum smimp_msgkey_kind kind;
	struct smimp_signed_hash signed_hash;
};

/* "ephemeral" / "nonephemeral". */
const char *smimp_msgkey_kind_name(enum smimp_msgkey_kind kind);
/* Parses a kind name; SMIMP_ERR_BAD_REQUEST for anything else. */
enum smimp_err smimp_msgkey_kind_parse(enum smimp_msgkey_kind *out,
				       const char *s);

/* H("smimp/0.1/message-key", address, kind, key). */
void smimp_msgkey_hash(struct smimp_hash *out, const char *address,
		       enum smimp_msgkey_kind kind, const struct smimp_box_pk *key);

/* Signs key for address with the owner's master secret key. */
void smimp_msgkey_sign(struct smimp_msgkey *out, const char *address,
		       enum smimp_msgkey_kind kind, const struct smimp_box_pk *key,
		       const struct smimp_sign_sk *master_sk);

/* Checks a message key for `address`: its signed hash verifies with
 * master_pk over this address and the key's own kind, and the key is not the
 * master key in either form. With expect_kind >= 0 the kind must also match.
 * SMIMP_ERR_BAD_KEY on any failure (the spec's code for message keys). */
enum smimp_err smimp_msgkey_verify(const struct smimp_msgkey *mk,
				   const char *address,
				   const struct smimp_sign_pk *master_pk,
				   int expect_kind, struct smimp_error *err);

/* JSON form. parse checks formats only (SMIMP_ERR_BAD_REQUEST); call
 * smimp_msgkey_verify for the signature. */
enum smimp_err smimp_msgkey_from_json(struct smimp_msgkey *out, const json_t *v,
				      struct smimp_error *err);
/* A new reference; NULL when out of memory or the kind is unknown. */
json_t *smimp_msgkey_to_json(const struct smimp_msgkey *mk);

#endif

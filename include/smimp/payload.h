/* Message payloads (spec 12): the plaintext inside an envelope, one JSON
 * object per type (email, short-message, secret-ed25519, secret-curve25519,
 * secret-xsalsa20) or any bytes (x-custom-*). Parses plaintexts that a
 * sender chose, so every member is checked and every size bounded; secret
 * keys parsed here are wiped by smimp_payload_free. */
#ifndef SMIMP_PAYLOAD_H
#define SMIMP_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "smimp/error.h"
#include "smimp/msgkey.h"
#include "smimp/msgtype.h"
#include "smimp/types.h"

/* Limits applied when parsing (building checks them too). */
#define SMIMP_PAYLOAD_MAX_ADDRESSES 1000    /* per to / cc list */
#define SMIMP_PAYLOAD_MAX_ATTACHMENTS 1000
#define SMIMP_PAYLOAD_MAX_SUBJECT 16384     /* bytes */
#define SMIMP_PAYLOAD_MAX_FILENAME 255      /* bytes */
#define SMIMP_PAYLOAD_MAX_NOTE 65536        /* bytes */
#define SMIMP_SECRETBOX_KEY_BYTES 32u

/* An attachment: {"filename": TEXT, "content": B64}. The filename is 1-255
 * bytes with no control character, '/' or '\\', and not "." or "..". */
struct smimp_attachment {
	char *filename;
	uint8_t *content;
	size_t content_len;
};

/* email (12). String members are NUL-terminated UTF-8 (JSON strings never
 * hold NUL here). A NULL pointer stands for null where null is allowed. */
struct smimp_email {
	char **to;                  /* addresses (normal form) */
	size_t n_to;
	char **cc;
	size_t n_cc;
	char *subject;
	struct smimp_token thread_id;
	bool has_reply_to_message_id;
	struct smimp_hash reply_to_message_id;
	int64_t date_sent;          /* seconds since the epoch; untrusted */
	char *body;                 /* Markdown; never render HTML from it */
	char *signature;            /* Markdown or NULL */
	struct smimp_attachment *attachments;
	size_t n_attachments;
	json_t *extensions;         /* an object, or NULL (sender's, 11.6) */
	char *reply_to;             /* address or NULL */
	char *auto_reply_address;   /* address at the sender's domain, or NULL */
};

struct smimp_short_message {
	char *message;
	struct smimp_attachment *attachments;
	size_t n_attachments;
};

/* A signing key pair: secret_key is libsodium's seed || public key. */
struct smimp_secret_ed25519 {
	struct smimp_sign_pk public_key;
	struct smimp_sign_sk secret_key;
	char *note;
};

struct smimp_secret_curve25519 {
	struct smimp_box_pk public_key;
	struct smimp_box_sk secret_key;
	enum smimp_msgkey_kind kind;
	char *note;
};

struct smimp_secret_xsalsa20 {
	uint8_t key[SMIMP_SECRETBOX_KEY_BYTES];
	char *note;
};

struct smimp_custom_payload {
	uint8_t *data;
	size_t len;
};

struct smimp_payload {
	enum smimp_msgtype type;
	union {
		struct smimp_email email;
		struct smimp_short_message short_message;
		struct smimp_secret_ed25519 secret_ed25519;
		struct smimp_secret_curve25519 secret_curve25519;
		struct smimp_secret_xsalsa20 secret_xsalsa20;
		struct smimp_custom_payload custom;
	};
};

/* Parses the plaintext of a message of type message_type (the envelope's)
 * into out. plaintext[0..len) is at most max_bytes (SMIMP_ERR_TOO_LARGE).
 * JSON types must be a strict JSON object (1: no duplicate member, valid
 * Unicode); unknown members are ignored; each known member is checked:
 * addresses valid (stored in normal form), HEX32 ids, a timestamp, canonical
 * b64 attachments, key pairs whose halves match (secret-ed25519: the secret
 * key's seed gives the public key and its embedded public half equals it;
 * secret-curve25519: public_key = scalarmult_base(secret_key)). When sender
 * is not NULL, an email's auto_reply_address must be at the sender's domain.
 * x-custom-* takes any bytes. SMIMP_ERR_BAD_REQUEST otherwise. On success
 * the caller owns *out: release it with smimp_payload_free; on error *out
 * holds nothing to free. */
enum smimp_err smimp_payload_parse(struct smimp_payload *out,
				   const char *message_type,
				   const uint8_t *plaintext, size_t len,
				   size_t max_bytes, const char *sender,
				   struct smimp_error *err);

/* Frees what smimp_payload_parse allocated, wiping every byte of it
 * (sodium_memzero: keys, notes, texts), then zeroes *p. NULL allowed.
 * Call it only on a payload that smimp_payload_parse filled: for one you
 * filled yourself, free your own memory. */
void smimp_payload_free(struct smimp_payload *p);

/* Checks a payload you filled (the rules of smimp_payload_parse; addresses
 * must already be in normal form). */
enum smimp_err smimp_payload_validate(const struct smimp_payload *p,
				      const char *sender,
				      struct smimp_error *err);

/* Validates p, then writes its plaintext: compact JSON with members in the
 * spec's order (email: to, cc, subject, thread_id, reply_to_message_id,
 * date_sent, body, signature, attachments, extensions, reply_to,
 * auto_reply_address), or the custom bytes. *out is malloc'ed (*out_len
 * bytes and a NUL); release it with smimp_payload_bytes_free, which wipes
 * it (secret payloads hold keys). Secret payloads are assembled without
 * intermediate copies of the keys. */
enum smimp_err smimp_payload_serialize(uint8_t **out, size_t *out_len,
				       const struct smimp_payload *p,
				       const char *sender,
				       struct smimp_error *err);

/* Wipes and frees a serialized payload (NULL allowed). */
void smimp_payload_bytes_free(uint8_t *buf, size_t len);

#endif

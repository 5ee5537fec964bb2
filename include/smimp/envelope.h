/* Envelopes (spec 9): the send_message body, its signed message hash, the
 * stored envelope that GET message/{id} returns, encryption and opening,
 * and the server's whole acceptance check of a send_message request.
 * Parses untrusted bodies (from senders) and stored envelopes (from a
 * server, as the reader sees them). */
#ifndef SMIMP_ENVELOPE_H
#define SMIMP_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "smimp/address.h"
#include "smimp/error.h"
#include "smimp/listpolicy.h"
#include "smimp/msgtype.h"
#include "smimp/types.h"

#define SMIMP_ENVELOPE_ALGORITHM "curve25519xsalsa20poly1305"
#define SMIMP_ENVELOPE_ALGORITHM_MAX 32
/* Longest proof_of_work string a body may carry (a well-formed one is
 * SMIMP_POW_STRING_LEN, 194, characters; longer is SMIMP_ERR_TOO_LARGE). */
#define SMIMP_ENVELOPE_POW_MAX 1024
/* Default limit of the decoded ciphertext (server_information's
 * max_envelope_bytes). */
#define SMIMP_ENVELOPE_DEFAULT_MAX_BYTES (16u * 1024 * 1024)
/* Largest decoded `extensions` of a stored envelope (11.6). */
#define SMIMP_ENVELOPE_EXTENSIONS_MAX (1024u * 1024)
#define SMIMP_RECEIVED_VIA_MAX 16
#define SMIMP_FOLDER_NAME_MAX 64
#define SMIMP_PROTOCOL_VERSION "0.1"

/* One envelope: the send_message body plus the three values the message
 * hash binds that travel elsewhere (recipient from the path, sender and
 * login token hash from the session). Owns `ciphertext` (malloc'ed);
 * release it with smimp_envelope_clear(). */
struct smimp_envelope {
	char recipient[SMIMP_ADDRESS_MAX + 1];
	char sender[SMIMP_ADDRESS_MAX + 1];
	char message_type[SMIMP_MSGTYPE_MAX + 1];
	char algorithm[SMIMP_ENVELOPE_ALGORITHM_MAX + 1];
	struct smimp_box_pk message_public_key;
	struct smimp_box_nonce nonce;
	uint8_t *ciphertext;
	size_t ciphertext_len;
	bool has_proof_of_work;             /* false: null on the wire */
	char proof_of_work[SMIMP_ENVELOPE_POW_MAX + 1]; /* exact string sent */
	struct smimp_hash login_token_hash;
	struct smimp_signed_hash message_hash;
};

/* Frees the ciphertext and zeroes the struct. Accepts NULL and a zeroed
 * struct. */
void smimp_envelope_clear(struct smimp_envelope *env);

/* H("smimp/0.1/envelope", recipient, sender, message_type, algorithm,
 * message_public_key, nonce, ciphertext, proof_of_work (empty when null),
 * login_token_hash). */
void smimp_envelope_hash(struct smimp_hash *out,
			 const struct smimp_envelope *env);

/* Checks message_hash: it embeds the envelope hash of env's fields and its
 * signature verifies with sender_pk. SMIMP_ERR_BAD_SIGNATURE otherwise. */
enum smimp_err smimp_envelope_verify(const struct smimp_envelope *env,
				     const struct smimp_sign_pk *sender_pk,
				     struct smimp_error *err);

/* ---- Sending: encrypt, (solve the proof of work), sign. ---- */

/* Step 1. Fills env (cleared first) with recipient, sender, message_type
 * (each checked: addresses in normal form, a valid type), the algorithm,
 * message_key, the nonce (random when nonce is NULL; give one only for
 * known-answer tests), login_token_hash and
 * ciphertext = crypto_box_easy(plaintext, nonce, message_key,
 * crypto_sign_ed25519_sk_to_curve25519(sender_sk)). The proof of work and
 * message hash are left empty. SMIMP_ERR_BAD_REQUEST for a bad argument,
 * SMIMP_ERR_BAD_KEY for an unusable key, SMIMP_ERR_INTERNAL when out of
 * memory; env is cleared on error. */
enum smimp_err smimp_envelope_encrypt(struct smimp_envelope *env,
				      const char *recipient, const char *sender,
				      const char *message_type,
				      const struct smimp_box_pk *message_key,
				      const struct smimp_box_nonce *nonce,
				      const uint8_t *plaintext,
				      size_t plaintext_len,
				      const struct smimp_sign_sk *sender_sk,
				      const struct smimp_hash *login_token_hash,
				      struct smimp_error *err);

/* The proof-of-work prefix (8) of an encrypted envelope for the nonce that
 * get_pow_params gave: solve it with smimp_pow_solve. */
void smimp_envelope_pow_prefix(struct smimp_hash *out,
			       const struct smimp_envelope *env,
			       const struct smimp_token *pow_nonce);

/* Step 2. Sets proof_of_work (the exact string, or NULL for null; at most
 * SMIMP_ENVELOPE_POW_MAX bytes) and signs the envelope hash with sender_sk
 * into message_hash. */
enum smimp_err smimp_envelope_sign(struct smimp_envelope *env,
				   const char *proof_of_work,
				   const struct smimp_sign_sk *sender_sk,
				   struct smimp_error *err);

/* The send_message body, members in the order message, message_type,
 * algorithm, message_public_key, nonce, proof_of_work, message_hash. A new
 * reference, or NULL when out of memory. */
json_t *smimp_envelope_body_to_json(const struct smimp_envelope *env);
/* The same, serialized compactly (malloc'ed; NULL when out of memory). */
char *smimp_envelope_body_dump(const struct smimp_envelope *env);

/* ---- Parsing. ---- */

/* Parses a send_message body (a JSON object) into env (cleared first),
 * taking recipient, sender and login_token_hash from the caller. Strict:
 * message canonical b64 of at least 16 and at most max_envelope_bytes
 * decoded bytes (SMIMP_ERR_TOO_LARGE past it), message_type a valid type,
 * algorithm exactly curve25519xsalsa20poly1305, message_public_key HEX32,
 * nonce HEX24, proof_of_work a string or null, message_hash HEX96; other
 * members ignored. SMIMP_ERR_BAD_REQUEST otherwise; env is cleared. */
enum smimp_err smimp_envelope_from_body_json(struct smimp_envelope *env,
					     const json_t *body,
					     const char *recipient,
					     const char *sender,
					     const struct smimp_hash *login_token_hash,
					     size_t max_envelope_bytes,
					     struct smimp_error *err);

/* Same from the raw body bytes (strict JSON, 1); a body too long to hold
 * max_envelope_bytes of ciphertext is SMIMP_ERR_TOO_LARGE before parsing. */
enum smimp_err smimp_envelope_parse_body(struct smimp_envelope *env,
					 const char *body, size_t len,
					 const char *recipient,
					 const char *sender,
					 const struct smimp_hash *login_token_hash,
					 size_t max_envelope_bytes,
					 struct smimp_error *err);

/* The stored envelope (9, 11.5): what GET message/{id} returns. */
struct smimp_stored_envelope {
	struct smimp_envelope env; /* recipient, sender, login_token_hash too */
	struct smimp_sign_pk sender_public_key;
	int64_t received_at;                 /* seconds since the epoch */
	bool has_pow_params;                 /* false: pow_params null */
	unsigned pow_zero_bits;
	struct smimp_token pow_nonce;
	struct smimp_hash message_id;
	char received_via[SMIMP_RECEIVED_VIA_MAX + 1];
	bool read;
	uint8_t *extensions;                 /* malloc'ed; NULL: null */
	size_t extensions_len;
	char protocol_version[8];
	bool has_folder;                     /* false: null (the root folder) */
	char folder[SMIMP_FOLDER_NAME_MAX + 1];
};

void smimp_stored_envelope_clear(struct smimp_stored_envelope *s);

/* Parses a stored envelope (a JSON text from a server) strictly: every
 * field of the body and of the table in 9, with its type; recipient and
 * sender addresses in normal form; received_via one of smimp_client,
 * smtp_bridge, imap_bridge, import_api; protocol_version "0.1"; folder null
 * or [a-z0-9_-]{1,64}; extensions null or b64. Unknown members ignored. It
 * does not verify anything: call smimp_envelope_open. */
enum smimp_err smimp_stored_envelope_parse(struct smimp_stored_envelope *out,
					   const char *buf, size_t len,
					   size_t max_envelope_bytes,
					   struct smimp_error *err);
enum smimp_err smimp_stored_envelope_from_json(struct smimp_stored_envelope *out,
					       const json_t *obj,
					       size_t max_envelope_bytes,
					       struct smimp_error *err);

/* The stored envelope's JSON: the body members in their order, then
 * recipient, sender, sender_public_key, received_at, pow_params, message_id,
 * login_token_hash, received_via, read, extensions, protocol_version,
 * folder. NULL when out of memory. */
json_t *smimp_stored_envelope_to_json(const struct smimp_stored_envelope *s);

/* A fresh message id: BLAKE2b-256 of 32 fresh random bytes (9). */
void smimp_envelope_new_message_id(struct smimp_hash *out);

/* ---- Reading. ---- */

/* Opens env for its recipient: verifies message_hash with sender_pk (which
 * the caller has found in the sender's validated history, 9), checks that
 * message_key_sk is the secret of message_public_key, then
 * crypto_box_open_easy(ciphertext, nonce, pk_to_curve25519(sender_pk),
 * message_key_sk). On success *plaintext is malloc'ed (*plaintext_len
 * bytes, plus a NUL after them); free it with smimp_envelope_plaintext_free.
 * On any failure *plaintext is NULL and no byte of plaintext is returned:
 * SMIMP_ERR_BAD_SIGNATURE (message hash, or the box's authenticator),
 * SMIMP_ERR_BAD_KEY (sender_pk unusable or message_key_sk not the secret of
 * message_public_key), SMIMP_ERR_INTERNAL (out of memory). */
enum smimp_err smimp_envelope_open(uint8_t **plaintext, size_t *plaintext_len,
				   const struct smimp_envelope *env,
				   const struct smimp_sign_pk *sender_pk,
				   const struct smimp_box_sk *message_key_sk,
				   struct smimp_error *err);

/* Wipes and frees a plaintext from smimp_envelope_open (NULL allowed). */
void smimp_envelope_plaintext_free(uint8_t *plaintext, size_t len);

/* ---- The server's acceptance check of send_message (9). ---- */

/* What the server knows of the request before the body is read. The
 * session has been checked: sender, sender_pk and login_token_hash are the
 * session's. */
struct smimp_accept_request {
	const char *recipient;      /* from the path, normalized */
	const char *sender;         /* the session's address, normalized */
	const struct smimp_sign_pk *sender_pk;  /* its current master key */
	const struct smimp_hash *login_token_hash; /* the session's (7) */
	const void *session;        /* the server's handle, for the callbacks */
	const char *body;           /* raw body bytes */
	size_t body_len;
	size_t max_envelope_bytes;  /* decoded ciphertext limit */
	bool pow_required;          /* the server lists get_pow_params (8) */
};

enum smimp_recipient_state {
	SMIMP_RECIPIENT_UNKNOWN,        /* not a local user: 404 */
	SMIMP_RECIPIENT_UNINITIALIZED,  /* account not initialized yet: 404 */
	SMIMP_RECIPIENT_READY,
};

/* Where a message key comes from, as the server's store knows it. */
enum smimp_key_provenance {
	SMIMP_KEY_UNKNOWN,              /* not the recipient's, never issued to
					 * this sender, or expired */
	SMIMP_KEY_EPHEMERAL_ISSUED,     /* ephemeral, issued to this sender,
					 * within 7 days, has carried no
					 * accepted message yet */
	SMIMP_KEY_EPHEMERAL_USED,       /* ephemeral, issued to this sender, but
					 * it already carried one message */
	SMIMP_KEY_NONEPHEMERAL_CURRENT,
	SMIMP_KEY_NONEPHEMERAL_RECENT,  /* replaced less than 30 days ago */
};

enum smimp_pow_nonce_state {
	SMIMP_POW_NONCE_UNKNOWN,  /* never issued, expired, or of another
				   * session (then NOT used up) */
	SMIMP_POW_NONCE_USED,     /* named by an earlier send_message */
	SMIMP_POW_NONCE_FRESH,    /* was unused; this call used it up */
};

/* What the server's store knows of a fresh nonce: the difficulty it was
 * issued with, and whether it was issued for this send's recipient and for
 * the message type the body names. */
struct smimp_pow_issue {
	unsigned zero_bits;
	bool for_recipient;
	bool for_type;
};

/* The server's store and policy, as callbacks. Each returns SMIMP_OK and
 * its answer through the out parameter, or an error of its own (say
 * SMIMP_ERR_INTERNAL on a database failure), which smimp_envelope_accept
 * returns unchanged. ctx is passed to every callback (and as the lookup
 * ctx to list_lookup); req is the request being checked. */
struct smimp_accept_ops {
	void *ctx;
	/* Required. The recipient's state and, when READY, its current master
	 * public key. */
	enum smimp_err (*recipient_state)(void *ctx,
					  const struct smimp_accept_request *req,
					  enum smimp_recipient_state *state,
					  struct smimp_sign_pk *master_pk,
					  struct smimp_error *err);
	/* Optional (NULL: no lists). Membership of an entry hash in the
	 * recipient's (owner's) whitelist or blacklist (11.8). */
	smimp_list_lookup_fn list_lookup;
	/* Optional (NULL: the server offers no proof of work, and every named
	 * nonce is unknown). Called once, as soon as the body is parsed as
	 * JSON and its proof_of_work names a nonce, before any other check
	 * can fail: when the nonce was issued to req->session and is unused,
	 * it MUST mark it used durably (whatever happens next) and answer
	 * FRESH with what it was issued for, judged against req->recipient
	 * and message_type (the body's "message_type" as sent, unchecked;
	 * NULL when it is missing or not a string); used before: USED;
	 * otherwise (unknown, expired, another session's: left untouched):
	 * UNKNOWN. */
	enum smimp_err (*pow_consume)(void *ctx,
				      const struct smimp_accept_request *req,
				      const struct smimp_token *nonce,
				      const char *message_type,
				      enum smimp_pow_nonce_state *state,
				      struct smimp_pow_issue *issue,
				      struct smimp_error *err);
	/* Required. An envelope with this message_hash for req->recipient
	 * accepted earlier in req->session: *found and its message id. */
	enum smimp_err (*retry_lookup)(void *ctx,
				       const struct smimp_accept_request *req,
				       const struct smimp_signed_hash *message_hash,
				       bool *found, struct smimp_hash *message_id,
				       struct smimp_error *err);
	/* Optional (NULL: every type, as a public server). Whether the
	 * recipient's server takes this type from this sender. */
	enum smimp_err (*type_allowed)(void *ctx,
				       const struct smimp_accept_request *req,
				       const char *message_type, bool *allowed,
				       struct smimp_error *err);
	/* Required. The provenance of message_public_key for this recipient
	 * and sender (6, 9, 11.2, 11.3). */
	enum smimp_err (*key_provenance)(void *ctx,
					 const struct smimp_accept_request *req,
					 const struct smimp_box_pk *key,
					 enum smimp_key_provenance *out,
					 struct smimp_error *err);
	/* Optional (NULL: no quota). Whether ciphertext_len more bytes fit in
	 * the recipient's mailbox. */
	enum smimp_err (*quota_check)(void *ctx,
				      const struct smimp_accept_request *req,
				      size_t ciphertext_len, bool *fits,
				      struct smimp_error *err);
};

/* What to store (or answer) after a successful check. */
struct smimp_accept_result {
	bool retry;                        /* identical retry: answer message_id
					    * and store nothing (envelope empty) */
	struct smimp_hash message_id;      /* set only when retry */
	struct smimp_envelope envelope;    /* the parsed envelope (owns its
					    * ciphertext) */
	enum smimp_list_verdict list_verdict;
	enum smimp_key_provenance key_provenance; /* EPHEMERAL_ISSUED: mark the
					    * key used in the storing
					    * transaction */
	bool has_pow_params;               /* pow_params to store */
	unsigned pow_zero_bits;            /* as issued by get_pow_params */
	struct smimp_token pow_nonce;
};

void smimp_accept_result_clear(struct smimp_accept_result *r);

/* The whole acceptance check of POST send_message/{recipient}, in the
 * spec's order of cost (9), the session being checked already:
 *  1. recipient local and initialized (else SMIMP_ERR_NOT_FOUND);
 *  2. lists, first match wins (11.8): refused is SMIMP_ERR_REJECTED,
 *     whitelisted needs zero proof-of-work bits;
 *  3. field formats and sizes (SMIMP_ERR_BAD_REQUEST, _TOO_LARGE); the PoW
 *     nonce the body names is used up here (ops->pow_consume) as soon as
 *     the body parses as JSON, whichever check fails later;
 *  4. identical retry (same message_hash and recipient, same session):
 *     SMIMP_OK with retry set and the first message id;
 *  5. message type allowed (SMIMP_ERR_FORBIDDEN);
 *  6. algorithm supported (SMIMP_ERR_BAD_REQUEST);
 *  7. message_public_key neither form of the recipient's master key, and
 *     an ephemeral key issued to this sender and unused, or a current or
 *     recent non-ephemeral key (SMIMP_ERR_BAD_KEY);
 *  8. proof of work: null only when !req->pow_required; nonce fresh, of
 *     this recipient and type; hash recomputed; enough zero bits
 *     (SMIMP_ERR_BAD_PROOF_OF_WORK);
 *  9. message hash against req->sender_pk (SMIMP_ERR_BAD_SIGNATURE);
 * 10. quota (SMIMP_ERR_QUOTA_EXCEEDED).
 * On SMIMP_OK *out holds what to store (clear it afterwards); on error *out
 * is cleared and err says why. */
enum smimp_err smimp_envelope_accept(struct smimp_accept_result *out,
				     const struct smimp_accept_request *req,
				     const struct smimp_accept_ops *ops,
				     struct smimp_error *err);

#endif

/* Stateless proof-of-work nonces: see pow_nonce.h for the layout. */
#include "pow_nonce.h"

#include <string.h>

#include <sodium.h>

#include "session.h"

#define RANDOM_BYTES 10
#define BITS_AT 10
#define FORMAT_AT 11
#define FORMAT 1
#define RECIPIENT_TAG_AT 12
#define TYPE_TAG_AT 17
#define BIND_TAG_BYTES 5
#define AUTH_AT 22
#define AUTH_BYTES (SMIMP_TOKEN_BYTES - AUTH_AT)

_Static_assert(AUTH_BYTES == 10, "nonce layout");
_Static_assert(SMD_POW_KEY_BYTES >= crypto_generichash_KEYBYTES_MIN &&
	       SMD_POW_KEY_BYTES <= crypto_generichash_KEYBYTES_MAX,
	       "nonce key size");

/* The first out_len bytes of BLAKE2b keyed with key over the domain byte
 * and two length-prefixed fields. */
static void keyed_tag(uint8_t *out, size_t out_len, const struct smd_pow_key *key,
		      uint8_t domain, const void *a, size_t a_len,
		      const void *b, size_t b_len)
{
	crypto_generichash_state st;
	uint8_t full[crypto_generichash_BYTES];
	uint8_t len[8];

	crypto_generichash_init(&st, key->b, sizeof key->b, sizeof full);
	crypto_generichash_update(&st, &domain, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)((uint64_t)a_len >> (56 - 8 * i));
	crypto_generichash_update(&st, len, sizeof len);
	crypto_generichash_update(&st, a, a_len);
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)((uint64_t)b_len >> (56 - 8 * i));
	crypto_generichash_update(&st, len, sizeof len);
	crypto_generichash_update(&st, b, b_len);
	crypto_generichash_final(&st, full, sizeof full);
	memcpy(out, full, out_len);
	sodium_memzero(&st, sizeof st);
}

static void bind_tag(uint8_t out[BIND_TAG_BYTES], const struct smd_pow_key *key,
		     uint8_t domain, const uint8_t *nonce, const char *value)
{
	keyed_tag(out, BIND_TAG_BYTES, key, domain, nonce, RANDOM_BYTES, value,
		  strlen(value));
}

static void auth_tag(uint8_t out[AUTH_BYTES], const struct smd_pow_key *key,
		     const uint8_t *session_hash, const uint8_t *nonce)
{
	keyed_tag(out, AUTH_BYTES, key, 'a', session_hash, SMD_SESSION_HASH_BYTES,
		  nonce, AUTH_AT);
}

unsigned smd_pow_nonce_mint(struct smimp_token *out, const struct smd_pow_key *key,
			const uint8_t *session_hash, const char *recipient,
			const char *message_type, unsigned zero_bits)
{
	randombytes_buf(out->b, RANDOM_BYTES);
	out->b[BITS_AT] = (uint8_t)(zero_bits > SMD_POW_BITS_MAX ? SMD_POW_BITS_MAX :
				    zero_bits);
	out->b[FORMAT_AT] = FORMAT;
	bind_tag(out->b + RECIPIENT_TAG_AT, key, 'r', out->b, recipient);
	bind_tag(out->b + TYPE_TAG_AT, key, 't', out->b, message_type);
	auth_tag(out->b + AUTH_AT, key, session_hash, out->b);
	return out->b[BITS_AT];
}

bool smd_pow_nonce_open(struct smimp_pow_issue *issue,
			const struct smimp_token *nonce,
			const struct smd_pow_key *key,
			const uint8_t *session_hash, const char *recipient,
			const char *message_type)
{
	uint8_t tag[AUTH_BYTES];

	memset(issue, 0, sizeof *issue);
	auth_tag(tag, key, session_hash, nonce->b);
	if (sodium_memcmp(tag, nonce->b + AUTH_AT, AUTH_BYTES) != 0 ||
	    nonce->b[FORMAT_AT] != FORMAT)
		return false;
	issue->zero_bits = nonce->b[BITS_AT];
	bind_tag(tag, key, 'r', nonce->b, recipient);
	issue->for_recipient = sodium_memcmp(tag, nonce->b + RECIPIENT_TAG_AT,
					     BIND_TAG_BYTES) == 0;
	if (message_type != NULL) {
		bind_tag(tag, key, 't', nonce->b, message_type);
		issue->for_type = sodium_memcmp(tag, nonce->b + TYPE_TAG_AT,
						BIND_TAG_BYTES) == 0;
	}
	return true;
}

/* libsodium behind the server's crypto module: random bytes, Argon2id
 * password hashes and wiping. */
#include <sodium.h>

#include "crypto.h"

_Static_assert(SMD_PWHASH_STR_BYTES == crypto_pwhash_STRBYTES,
	       "SMD_PWHASH_STR_BYTES must match crypto_pwhash_STRBYTES");

void smd_random(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}

int smd_pwhash(char out[SMD_PWHASH_STR_BYTES], const uint8_t *in, size_t len)
{
	return crypto_pwhash_str_alg(out, (const char *)in, len,
				     crypto_pwhash_OPSLIMIT_INTERACTIVE,
				     crypto_pwhash_MEMLIMIT_INTERACTIVE,
				     crypto_pwhash_ALG_ARGON2ID13) == 0 ? 0 : -1;
}

bool smd_pwhash_verify(const char *str, const uint8_t *in, size_t len)
{
	return crypto_pwhash_str_verify(str, (const char *)in, len) == 0;
}

void smd_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}

/* libsodium behind the server's crypto module: random bytes, Argon2id
 * password hashes and wiping. */
#include <pthread.h>
#include <sodium.h>

#include "crypto.h"

/* Each check takes crypto_pwhash_MEMLIMIT_INTERACTIVE (64 MiB): without a
 * bound, unauthenticated initialize_account calls on every handler thread
 * at once could take gigabytes. The others wait their turn (a check lasts
 * tens of milliseconds). */
#define PWHASH_AT_ONCE 4

static pthread_mutex_t pw_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pw_free = PTHREAD_COND_INITIALIZER;
static unsigned pw_running;

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
	bool ok;

	pthread_mutex_lock(&pw_lock);
	while (pw_running >= PWHASH_AT_ONCE)
		pthread_cond_wait(&pw_free, &pw_lock);
	pw_running++;
	pthread_mutex_unlock(&pw_lock);
	ok = crypto_pwhash_str_verify(str, (const char *)in, len) == 0;
	pthread_mutex_lock(&pw_lock);
	pw_running--;
	pthread_cond_signal(&pw_free);
	pthread_mutex_unlock(&pw_lock);
	return ok;
}

void smd_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}

/* Master keys, conversions and signed hashes. All cryptography is
 * libsodium's; this file only fixes how the protocol uses it. */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sodium.h>

#include "smimp/hash.h"
#include "smimp/json.h"
#include "smimp/key.h"

_Static_assert(SMIMP_SIGN_PK_BYTES == crypto_sign_PUBLICKEYBYTES, "pk size");
_Static_assert(SMIMP_SIGN_SK_BYTES == crypto_sign_SECRETKEYBYTES, "sk size");
_Static_assert(SMIMP_SIGN_SEED_BYTES == crypto_sign_SEEDBYTES, "seed size");
_Static_assert(SMIMP_SIGNATURE_BYTES == crypto_sign_BYTES, "signature size");
_Static_assert(SMIMP_BOX_PK_BYTES == crypto_box_PUBLICKEYBYTES, "box pk size");
_Static_assert(SMIMP_BOX_SK_BYTES == crypto_box_SECRETKEYBYTES, "box sk size");
_Static_assert(SMIMP_BOX_NONCE_BYTES == crypto_box_NONCEBYTES, "nonce size");
_Static_assert(SMIMP_BOX_MAC_BYTES == crypto_box_MACBYTES, "mac size");
_Static_assert(SMIMP_HASH_BYTES == crypto_generichash_BYTES, "hash size");
_Static_assert(SMIMP_SIGNED_HASH_BYTES == crypto_sign_BYTES + SMIMP_HASH_BYTES,
	       "signed hash size");

int smimp_init(void)
{
	if (sodium_init() < 0)
		return -1;
	smimp_json_init();
	return 0;
}

void smimp_random_bytes(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}

void smimp_sign_keypair_generate(struct smimp_sign_keypair *kp)
{
	crypto_sign_keypair(kp->pk.b, kp->sk.b);
}

void smimp_sign_keypair_from_seed(struct smimp_sign_keypair *kp,
				  const uint8_t seed[SMIMP_SIGN_SEED_BYTES])
{
	crypto_sign_seed_keypair(kp->pk.b, kp->sk.b, seed);
}

void smimp_box_keypair_generate(struct smimp_box_keypair *kp)
{
	crypto_box_keypair(kp->pk.b, kp->sk.b);
}

void smimp_box_keypair_from_secret(struct smimp_box_keypair *kp,
				   const struct smimp_box_sk *sk)
{
	if (&kp->sk != sk)
		memcpy(kp->sk.b, sk->b, sizeof kp->sk.b);
	crypto_scalarmult_base(kp->pk.b, kp->sk.b);
}

void smimp_sign_keypair_wipe(struct smimp_sign_keypair *kp)
{
	sodium_memzero(kp, sizeof *kp);
}

void smimp_box_keypair_wipe(struct smimp_box_keypair *kp)
{
	sodium_memzero(kp, sizeof *kp);
}

/* The conversion costs a point decompression (tens of microseconds) and a
 * server makes it for the same few master keys on every message, so recent
 * results are remembered: public values only, a pure function, so a hit is
 * always right. Direct-mapped, one lock per slot. */
#define PK_MEMO_SLOTS 256u

static struct {
	pthread_mutex_t lock;
	bool used;
	struct smimp_sign_pk pk;
	struct smimp_box_pk box;
} pk_memo[PK_MEMO_SLOTS];
static pthread_once_t pk_memo_once = PTHREAD_ONCE_INIT;

static void pk_memo_setup(void)
{
	for (unsigned i = 0; i < PK_MEMO_SLOTS; i++)
		pthread_mutex_init(&pk_memo[i].lock, NULL);
}

enum smimp_err smimp_sign_pk_to_box(struct smimp_box_pk *out,
				    const struct smimp_sign_pk *pk)
{
	unsigned slot = pk->b[0] % PK_MEMO_SLOTS;  /* keys are uniform bytes */
	bool hit;

	pthread_once(&pk_memo_once, pk_memo_setup);
	pthread_mutex_lock(&pk_memo[slot].lock);
	hit = pk_memo[slot].used && memcmp(pk_memo[slot].pk.b, pk->b, sizeof pk->b) == 0;
	if (hit)
		*out = pk_memo[slot].box;
	pthread_mutex_unlock(&pk_memo[slot].lock);
	if (hit)
		return SMIMP_OK;
	if (crypto_sign_ed25519_pk_to_curve25519(out->b, pk->b) != 0)
		return SMIMP_ERR_BAD_KEY;
	pthread_mutex_lock(&pk_memo[slot].lock);
	pk_memo[slot].used = true;
	pk_memo[slot].pk = *pk;
	pk_memo[slot].box = *out;
	pthread_mutex_unlock(&pk_memo[slot].lock);
	return SMIMP_OK;
}

enum smimp_err smimp_sign_pk_check(const struct smimp_sign_pk *pk)
{
	struct smimp_box_pk box;

	if (!crypto_core_ed25519_is_valid_point(pk->b))
		return SMIMP_ERR_BAD_KEY;
	return smimp_sign_pk_to_box(&box, pk);
}

enum smimp_err smimp_sign_sk_to_box(struct smimp_box_sk *out,
				    const struct smimp_sign_sk *sk)
{
	if (crypto_sign_ed25519_sk_to_curve25519(out->b, sk->b) != 0)
		return SMIMP_ERR_BAD_KEY;
	return SMIMP_OK;
}

int smimp_sign_pk_equal(const struct smimp_sign_pk *a,
			const struct smimp_sign_pk *b)
{
	return sodium_memcmp(a->b, b->b, sizeof a->b) == 0;
}

int smimp_box_pk_equal(const struct smimp_box_pk *a,
		       const struct smimp_box_pk *b)
{
	return sodium_memcmp(a->b, b->b, sizeof a->b) == 0;
}

int smimp_signed_hash_equal(const struct smimp_signed_hash *a,
			    const struct smimp_signed_hash *b)
{
	return sodium_memcmp(a->b, b->b, sizeof a->b) == 0;
}

void smimp_signed_hash_make(struct smimp_signed_hash *out,
			    const struct smimp_hash *h,
			    const struct smimp_sign_sk *sk)
{
	unsigned long long len = 0;

	crypto_sign(out->b, &len, h->b, sizeof h->b, sk->b);
}

void smimp_signed_hash_embedded(struct smimp_hash *out,
				const struct smimp_signed_hash *sh)
{
	memcpy(out->b, sh->b + SMIMP_SIGNATURE_BYTES, sizeof out->b);
}

enum smimp_err smimp_signed_hash_verify(const struct smimp_signed_hash *sh,
					const struct smimp_hash *expected,
					const struct smimp_sign_pk *pk)
{
	struct smimp_hash embedded;

	smimp_signed_hash_embedded(&embedded, sh);
	if (!smimp_hash_equal(&embedded, expected))
		return SMIMP_ERR_BAD_SIGNATURE;
	if (crypto_sign_verify_detached(sh->b, embedded.b, sizeof embedded.b,
					pk->b) != 0)
		return SMIMP_ERR_BAD_SIGNATURE;
	return SMIMP_OK;
}

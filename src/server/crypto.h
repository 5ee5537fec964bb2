/* The server's few direct uses of libsodium (the only server file that
 * includes sodium.h is crypto.c): random bytes, Argon2id password hashes,
 * wiping. Protocol cryptography lives in libsmimp. */
#ifndef SMD_CRYPTO_H
#define SMD_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Fills buf with len random bytes. */
void smd_random(void *buf, size_t len);

/* Argon2id hash (crypto_pwhash_str, interactive limits) of in[0..len) into
 * out. 0 on success, -1 when out of memory. */
int smd_pwhash(char out[SMD_PWHASH_STR_BYTES], const uint8_t *in, size_t len);

/* True when in[0..len) matches the crypto_pwhash_str string. At most a few
 * checks run at once (64 MiB each); the others wait. */
bool smd_pwhash_verify(const char *str, const uint8_t *in, size_t len);

/* Wipes len bytes at p, in a way the compiler keeps. */
void smd_wipe(void *p, size_t len);

#endif

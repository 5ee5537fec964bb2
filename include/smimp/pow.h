/* Proof of work (spec 8). pow_prefix = H("smimp/0.1/pow", login_token_hash,
 * H("smimp/0.1/ciphertext", ciphertext), recipient, message_type, nonce);
 * a try is pow_hash = BLAKE2b-256(pow_prefix || value), one 64-byte block;
 * a proof has zero_bits leading zero bits (bit 7 of byte 0 first) and
 * travels as "{pow_hash}:{value}:{nonce}" in lowercase hex. */
#ifndef SMIMP_POW_H
#define SMIMP_POW_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "smimp/error.h"
#include "smimp/types.h"

#define SMIMP_POW_MAX_ZERO_BITS 256u
/* Length of the proof_of_work string: 64 + 1 + 64 + 1 + 64. */
#define SMIMP_POW_STRING_LEN 194u

struct smimp_pow_proof {
	struct smimp_hash pow_hash;
	struct smimp_token value;
	struct smimp_token nonce;
};

/* H("smimp/0.1/ciphertext", ciphertext). */
void smimp_pow_ciphertext_hash(struct smimp_hash *out, const uint8_t *ct,
			       size_t ct_len);

void smimp_pow_prefix(struct smimp_hash *out,
		      const struct smimp_hash *login_token_hash,
		      const struct smimp_hash *ciphertext_hash,
		      const char *recipient, const char *message_type,
		      const struct smimp_token *nonce);

/* Leading zero bits of a hash, bit 7 of byte 0 first (0..256). */
unsigned smimp_pow_leading_zero_bits(const struct smimp_hash *h);

/* Parses the wire string strictly; SMIMP_ERR_BAD_PROOF_OF_WORK if malformed. */
enum smimp_err smimp_pow_parse(struct smimp_pow_proof *out, const char *s,
			       size_t len);
/* Writes the wire string and a NUL into out. */
void smimp_pow_format(char out[SMIMP_POW_STRING_LEN + 1],
		      const struct smimp_pow_proof *p);

/* Recomputes pow_hash from prefix and value, compares it with the proof's
 * and counts its zero bits. SMIMP_ERR_BAD_PROOF_OF_WORK on any failure.
 * (Which nonce is acceptable is the caller's business: see envelope.h.) */
enum smimp_err smimp_pow_verify(const struct smimp_pow_proof *p,
				const struct smimp_hash *prefix,
				unsigned zero_bits);

/* Progress report: tries so far (all threads) and seconds elapsed. Return
 * non-zero to cancel. Called about every 250 ms, always from the thread that
 * called smimp_pow_solve (which is also solver thread 0). */
typedef int (*smimp_pow_progress_fn)(void *arg, uint64_t tries, double elapsed);

struct smimp_pow_solve_opts {
	unsigned threads;                 /* 0: one per online core */
	smimp_pow_progress_fn progress;   /* may be NULL */
	void *progress_arg;
	atomic_int *cancel;               /* may be NULL; set non-zero to stop */
};

/* Finds a value for prefix with zero_bits leading zero bits and fills out
 * (nonce copied in). Thread t of T tries i = t, t+T, t+2T, ... as
 * value = LE256(i) (i < 2^64); the answer is the first such i whatever the
 * number of threads (unless cancelled after a thread found one: then a valid
 * but possibly later i). opts may be NULL (all cores, no progress, no
 * cancel). Cancellation is seen within a few thousand tries per thread.
 * *tries_out (may be NULL) receives the total tries. Returns SMIMP_OK,
 * SMIMP_ERR_CANCELLED, SMIMP_ERR_BAD_REQUEST (zero_bits over 256), or
 * SMIMP_ERR_INTERNAL (thread creation or allocation failed). */
enum smimp_err smimp_pow_solve(struct smimp_pow_proof *out,
			       const struct smimp_hash *prefix,
			       const struct smimp_token *nonce,
			       unsigned zero_bits,
			       const struct smimp_pow_solve_opts *opts,
			       uint64_t *tries_out);

#endif

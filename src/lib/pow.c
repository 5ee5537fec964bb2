/* Proof of work (spec 8): the prefix, the strict wire string, verification
 * and the multi-threaded solver. Proof strings come from the network and are
 * parsed strictly; the solver works only on the caller's own inputs. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "smimp/hash.h"
#include "smimp/hex.h"
#include "smimp/pow.h"

#define CACHE_LINE 64
/* Tries between two looks at the shared state: about a millisecond. */
#define BATCH 4096u
#define MAX_THREADS 1024u
#define PROGRESS_INTERVAL 0.25 /* seconds */

_Static_assert(SMIMP_HASH_BYTES + SMIMP_TOKEN_BYTES == 64,
	       "one try hashes one 64-byte input");
_Static_assert(SMIMP_POW_STRING_LEN ==
	       2 * SMIMP_HASH_BYTES + 1 + 2 * SMIMP_TOKEN_BYTES + 1 +
	       2 * SMIMP_TOKEN_BYTES, "proof string length");

void smimp_pow_ciphertext_hash(struct smimp_hash *out, const uint8_t *ct,
			       size_t ct_len)
{
	struct smimp_field f = smimp_bytes(ct, ct_len);

	smimp_hash_fields(out, SMIMP_LABEL_CIPHERTEXT, &f, 1);
}

void smimp_pow_prefix(struct smimp_hash *out,
		      const struct smimp_hash *login_token_hash,
		      const struct smimp_hash *ciphertext_hash,
		      const char *recipient, const char *message_type,
		      const struct smimp_token *nonce)
{
	struct smimp_field f[5];

	f[0] = smimp_bytes(login_token_hash->b, sizeof login_token_hash->b);
	f[1] = smimp_bytes(ciphertext_hash->b, sizeof ciphertext_hash->b);
	f[2] = smimp_text(recipient);
	f[3] = smimp_text(message_type);
	f[4] = smimp_bytes(nonce->b, sizeof nonce->b);
	smimp_hash_fields(out, SMIMP_LABEL_POW, f, 5);
}

static unsigned zero_bits_of(const uint8_t *h, size_t len)
{
	unsigned n = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t b = h[i];

		if (b == 0) {
			n += 8;
			continue;
		}
		while ((b & 0x80) == 0) {
			n++;
			b = (uint8_t)(b << 1);
		}
		break;
	}
	return n;
}

unsigned smimp_pow_leading_zero_bits(const struct smimp_hash *h)
{
	return zero_bits_of(h->b, sizeof h->b);
}

enum smimp_err smimp_pow_parse(struct smimp_pow_proof *out, const char *s,
			       size_t len)
{
	const size_t h = 2 * SMIMP_HASH_BYTES, t = 2 * SMIMP_TOKEN_BYTES;
	struct smimp_pow_proof p;

	if (s == NULL || len != SMIMP_POW_STRING_LEN || s[h] != ':' ||
	    s[h + 1 + t] != ':' ||
	    smimp_hex_decode(p.pow_hash.b, sizeof p.pow_hash.b, s, h) != SMIMP_OK ||
	    smimp_hex_decode(p.value.b, sizeof p.value.b, s + h + 1, t) != SMIMP_OK ||
	    smimp_hex_decode(p.nonce.b, sizeof p.nonce.b, s + h + 1 + t + 1,
			     t) != SMIMP_OK)
		return SMIMP_ERR_BAD_PROOF_OF_WORK;
	*out = p;
	return SMIMP_OK;
}

void smimp_pow_format(char out[SMIMP_POW_STRING_LEN + 1],
		      const struct smimp_pow_proof *p)
{
	const size_t h = 2 * SMIMP_HASH_BYTES, t = 2 * SMIMP_TOKEN_BYTES;

	/* Each encode writes a NUL that the next colon replaces. */
	smimp_hex_encode(out, h + 1, p->pow_hash.b, sizeof p->pow_hash.b);
	smimp_hex_encode(out + h + 1, t + 1, p->value.b, sizeof p->value.b);
	smimp_hex_encode(out + h + 1 + t + 1, t + 1, p->nonce.b,
			 sizeof p->nonce.b);
	out[h] = ':';
	out[h + 1 + t] = ':';
}

/* pow_hash = BLAKE2b-256(prefix || value). */
static void pow_hash_of(struct smimp_hash *out, const struct smimp_hash *prefix,
			const struct smimp_token *value)
{
	uint8_t in[SMIMP_HASH_BYTES + SMIMP_TOKEN_BYTES];

	memcpy(in, prefix->b, SMIMP_HASH_BYTES);
	memcpy(in + SMIMP_HASH_BYTES, value->b, SMIMP_TOKEN_BYTES);
	smimp_hash_plain(out, in, sizeof in);
}

enum smimp_err smimp_pow_verify(const struct smimp_pow_proof *p,
				const struct smimp_hash *prefix,
				unsigned zero_bits)
{
	struct smimp_hash h;

	pow_hash_of(&h, prefix, &p->value);
	if (!smimp_hash_equal(&h, &p->pow_hash) ||
	    smimp_pow_leading_zero_bits(&h) < zero_bits)
		return SMIMP_ERR_BAD_PROOF_OF_WORK;
	return SMIMP_OK;
}

/* --- Solver -------------------------------------------------------------
 * Thread t of T tries i = t, t+T, t+2T, ... (value = LE256(i), i < 2^64).
 * Each try writes the low 8 bytes of the value in place and hashes the
 * 64-byte buffer once. Every BATCH tries a thread adds its count to the
 * shared total, looks at the stop flags and at the best hit so far. The
 * answer is the smallest hit: a thread stops when it finds one or when it
 * has passed another thread's, so every smaller i has been tried and the
 * result does not depend on the number of threads (unless cancelled). */

struct solve_shared {
	_Alignas(CACHE_LINE) atomic_uint_fast64_t best; /* UINT64_MAX: none */
	_Alignas(CACHE_LINE) atomic_uint_fast64_t tries;
	_Alignas(CACHE_LINE) atomic_int stop; /* progress cancelled or error */
	/* Read-only while the threads run. */
	_Alignas(CACHE_LINE) uint8_t prefix[SMIMP_HASH_BYTES];
	unsigned zero_bits;
	uint64_t stride;
	atomic_int *cancel;
	/* Used by thread 0 (the caller's thread) only. */
	smimp_pow_progress_fn progress;
	void *progress_arg;
	double t0, last_report;
};

/* One per thread, each on its own cache lines. */
struct solve_worker {
	_Alignas(CACHE_LINE) struct solve_shared *sh;
	uint64_t first;
	pthread_t tid;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void store_le64(uint8_t *p, uint64_t v)
{
	for (int k = 0; k < 8; k++)
		p[k] = (uint8_t)(v >> (8 * k));
}

static int must_stop(struct solve_shared *sh)
{
	return atomic_load_explicit(&sh->stop, memory_order_relaxed) != 0 ||
	       (sh->cancel != NULL &&
		atomic_load_explicit(sh->cancel, memory_order_relaxed) != 0);
}

static void record_hit(struct solve_shared *sh, uint64_t i)
{
	uint_fast64_t cur = atomic_load_explicit(&sh->best, memory_order_relaxed);

	while (i < cur &&
	       !atomic_compare_exchange_weak_explicit(&sh->best, &cur, i,
						      memory_order_relaxed,
						      memory_order_relaxed))
		;
}

static void report_progress(struct solve_shared *sh)
{
	double now = now_seconds();
	uint64_t tries;

	if (now - sh->last_report < PROGRESS_INTERVAL)
		return;
	sh->last_report = now;
	tries = atomic_load_explicit(&sh->tries, memory_order_relaxed);
	if (sh->progress(sh->progress_arg, tries, now - sh->t0) != 0)
		atomic_store_explicit(&sh->stop, 1, memory_order_relaxed);
}

static void solve_run(struct solve_worker *w, int reporter)
{
	struct solve_shared *sh = w->sh;
	const uint64_t stride = sh->stride;
	const unsigned zero_bits = sh->zero_bits;
	/* The bits of byte 0 that must be zero: rejects most tries at once. */
	const uint8_t mask0 = zero_bits >= 8 ? 0xff :
			      (uint8_t)(0xff00u >> zero_bits);
	uint8_t in[SMIMP_HASH_BYTES + SMIMP_TOKEN_BYTES];
	uint8_t *const value = in + SMIMP_HASH_BYTES;
	uint8_t out[SMIMP_HASH_BYTES];
	uint64_t i = w->first;

	memcpy(in, sh->prefix, SMIMP_HASH_BYTES);
	memset(value, 0, SMIMP_TOKEN_BYTES);
	for (;;) {
		uint64_t best = atomic_load_explicit(&sh->best,
						     memory_order_relaxed);
		uint64_t room, n, k;
		int last = 0, hit = 0;

		if (i > best || must_stop(sh))
			break;
		/* Further steps before i would pass 2^64 - 1. */
		room = (UINT64_MAX - i) / stride;
		n = BATCH;
		if (room < n) {
			n = room + 1;
			last = 1;
		}
		for (k = 0; k < n; k++) {
			store_le64(value, i);
			crypto_generichash(out, sizeof out, in, sizeof in,
					   NULL, 0);
			if ((out[0] & mask0) == 0 &&
			    zero_bits_of(out, sizeof out) >= zero_bits) {
				hit = 1;
				k++;
				break;
			}
			i += stride;
		}
		atomic_fetch_add_explicit(&sh->tries, k, memory_order_relaxed);
		if (hit) {
			record_hit(sh, i);
			break;
		}
		if (reporter && sh->progress != NULL)
			report_progress(sh);
		if (last)
			break;
	}
}

static void *solve_thread(void *arg)
{
	solve_run(arg, 0);
	return NULL;
}

static unsigned default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1u : n > (long)MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

enum smimp_err smimp_pow_solve(struct smimp_pow_proof *out,
			       const struct smimp_hash *prefix,
			       const struct smimp_token *nonce,
			       unsigned zero_bits,
			       const struct smimp_pow_solve_opts *opts,
			       uint64_t *tries_out)
{
	struct solve_shared sh;
	struct solve_worker *w;
	unsigned nthreads, started = 1;
	enum smimp_err e;
	uint64_t best;

	if (tries_out != NULL)
		*tries_out = 0;
	if (zero_bits > SMIMP_POW_MAX_ZERO_BITS)
		return SMIMP_ERR_BAD_REQUEST;
	nthreads = opts != NULL && opts->threads != 0 ? opts->threads :
						      default_threads();
	if (nthreads > MAX_THREADS)
		nthreads = MAX_THREADS;

	memset(&sh, 0, sizeof sh);
	atomic_init(&sh.best, UINT64_MAX);
	atomic_init(&sh.tries, 0);
	atomic_init(&sh.stop, 0);
	memcpy(sh.prefix, prefix->b, sizeof sh.prefix);
	sh.zero_bits = zero_bits;
	sh.stride = nthreads;
	sh.cancel = opts != NULL ? opts->cancel : NULL;
	sh.progress = opts != NULL ? opts->progress : NULL;
	sh.progress_arg = opts != NULL ? opts->progress_arg : NULL;
	sh.t0 = sh.last_report = now_seconds();

	w = aligned_alloc(CACHE_LINE, nthreads * sizeof *w);
	if (w == NULL)
		return SMIMP_ERR_INTERNAL;
	for (unsigned t = 0; t < nthreads; t++) {
		w[t].sh = &sh;
		w[t].first = t;
	}
	/* Thread 0 is the caller's: it also reports progress. */
	for (; started < nthreads; started++)
		if (pthread_create(&w[started].tid, NULL, solve_thread,
				   &w[started]) != 0) {
			atomic_store(&sh.stop, 1);
			break;
		}
	if (started == nthreads)
		solve_run(&w[0], 1);
	for (unsigned t = 1; t < started; t++)
		pthread_join(w[t].tid, NULL);
	free(w);

	if (tries_out != NULL)
		*tries_out = atomic_load(&sh.tries);
	best = atomic_load(&sh.best);
	if (started != nthreads) {
		e = SMIMP_ERR_INTERNAL;
	} else if (best != UINT64_MAX) {
		struct smimp_pow_proof p;

		memset(p.value.b, 0, sizeof p.value.b);
		store_le64(p.value.b, best);
		memcpy(p.nonce.b, nonce->b, sizeof p.nonce.b);
		pow_hash_of(&p.pow_hash, prefix, &p.value);
		*out = p;
		e = SMIMP_OK;
	} else if (must_stop(&sh)) {
		e = SMIMP_ERR_CANCELLED;
	} else {
		/* All 2^64 values tried: not reachable in practice. */
		e = SMIMP_ERR_INTERNAL;
	}
	return e;
}

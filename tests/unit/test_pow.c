/* Proof of work (spec 8): the reference vector, verification, the strict
 * wire string (hostile input) and the threaded solver: result, cancellation
 * and progress reports. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include <sodium.h>

#include "smimp/hex.h"
#include "smimp/key.h"
#include "smimp/pow.h"
#include "testlib.h"
#include "vectors_util.h"

/* The reference vectors' proof_of_work section. */
#define POW vectors_section("proof_of_work")

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The vector's prefix, nonce and proof. */
struct fixture {
	struct smimp_hash prefix;
	struct smimp_token nonce;
	struct smimp_pow_proof proof;
	unsigned zero_bits;
};

static int load_fixture(struct fixture *f)
{
	const char *s = vectors_str(POW, "proof_of_work");

	if (s == NULL || vectors_hex(POW, "pow_prefix", f->prefix.b, 32) ||
	    vectors_hex(POW, "pow_nonce", f->nonce.b, 32) ||
	    smimp_pow_parse(&f->proof, s, strlen(s)) != SMIMP_OK)
		return -1;
	f->zero_bits = (unsigned)json_integer_value(json_object_get(
		POW, "zero_bits"));
	return 0;
}

TEST(vector_ciphertext_hash)
{
	const char *hex = json_string_value(json_object_get(
		json_object_get(vectors_ref(), "envelope"), "ciphertext"));
	struct smimp_hash want, got;
	uint8_t *ct;
	size_t len;

	REQUIRE(hex != NULL && strlen(hex) % 2 == 0);
	len = strlen(hex) / 2;
	ct = malloc(len);
	REQUIRE(ct != NULL);
	REQUIRE(smimp_hex_decode(ct, len, hex, 2 * len) == SMIMP_OK);
	REQUIRE(vectors_hex(POW, "ciphertext_hash", want.b, 32) == 0);
	smimp_pow_ciphertext_hash(&got, ct, len);
	CHECK(memcmp(got.b, want.b, 32) == 0);
	free(ct);
}

TEST(vector_prefix)
{
	struct smimp_hash lth, cth, want, got;
	struct smimp_token nonce;

	REQUIRE(vectors_hex(POW, "login_token_hash", lth.b, 32) == 0);
	REQUIRE(vectors_hex(POW, "ciphertext_hash", cth.b, 32) == 0);
	REQUIRE(vectors_hex(POW, "pow_nonce", nonce.b, 32) == 0);
	REQUIRE(vectors_hex(POW, "pow_prefix", want.b, 32) == 0);
	smimp_pow_prefix(&got, &lth, &cth, vectors_str(POW, "recipient"),
			 vectors_str(POW, "message_type"), &nonce);
	CHECK(memcmp(got.b, want.b, 32) == 0);
}

TEST(vector_solve_one_thread)
{
	struct smimp_pow_solve_opts opts = {.threads = 1};
	struct smimp_pow_proof p;
	struct smimp_token value;
	struct smimp_hash pow_hash;
	char str[SMIMP_POW_STRING_LEN + 1];
	struct fixture f;
	uint64_t tries = 0;

	REQUIRE(load_fixture(&f) == 0);
	REQUIRE(f.zero_bits == 12);
	REQUIRE(vectors_hex(POW, "value", value.b, 32) == 0);
	REQUIRE(vectors_hex(POW, "pow_hash", pow_hash.b, 32) == 0);
	REQUIRE(smimp_pow_solve(&p, &f.prefix, &f.nonce, f.zero_bits, &opts,
				&tries) == SMIMP_OK);
	/* i = 9516 is the 9517th try. */
	CHECK(tries == 9517);
	CHECK(memcmp(p.value.b, value.b, 32) == 0);
	CHECK(memcmp(p.pow_hash.b, pow_hash.b, 32) == 0);
	CHECK(memcmp(p.nonce.b, f.nonce.b, 32) == 0);
	CHECK(smimp_pow_leading_zero_bits(&p.pow_hash) == 12);
	smimp_pow_format(str, &p);
	CHECK_STREQ(str, vectors_str(POW, "proof_of_work"));
}

TEST(vector_verify_ok)
{
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	CHECK(smimp_pow_verify(&f.proof, &f.prefix, f.zero_bits) == SMIMP_OK);
	CHECK(smimp_pow_verify(&f.proof, &f.prefix, 1) == SMIMP_OK);
}

TEST(verify_short_of_bits)
{
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	/* The vector's hash has exactly 12 leading zero bits. */
	CHECK(smimp_pow_verify(&f.proof, &f.prefix, 13) ==
	      SMIMP_ERR_BAD_PROOF_OF_WORK);
	CHECK(smimp_pow_verify(&f.proof, &f.prefix, 256) ==
	      SMIMP_ERR_BAD_PROOF_OF_WORK);
	CHECK(smimp_pow_verify(&f.proof, &f.prefix, 257) ==
	      SMIMP_ERR_BAD_PROOF_OF_WORK);
}

TEST(verify_wrong_hash)
{
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	f.proof.pow_hash.b[31] ^= 1;
	CHECK(smimp_pow_verify(&f.proof, &f.prefix, 0) ==
	      SMIMP_ERR_BAD_PROOF_OF_WORK);
	/* An all-zero claimed hash does not pass for any difficulty. */
	memset(f.proof.pow_hash.b, 0, 32);
	CHECK(smimp_pow_verify(&f.proof, &f.prefix, 12) ==
	      SMIMP_ERR_BAD_PROOF_OF_WORK);
}

TEST(verify_tampered_value)
{
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	f.proof.value.b[31] ^= 0x80;
	CHECK(smimp_pow_verify(&f.proof, &f.prefix, 0) ==
	      SMIMP_ERR_BAD_PROOF_OF_WORK);
}

TEST(verify_other_prefix)
{
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	f.prefix.b[0] ^= 1;
	CHECK(smimp_pow_verify(&f.proof, &f.prefix, 0) ==
	      SMIMP_ERR_BAD_PROOF_OF_WORK);
}

TEST(verify_zero_bits_accepts_any_value)
{
	struct smimp_pow_proof p;
	struct smimp_hash prefix;
	uint8_t in[64];

	smimp_init();
	for (int n = 0; n < 16; n++) {
		randombytes_buf(prefix.b, 32);
		randombytes_buf(p.value.b, 32);
		randombytes_buf(p.nonce.b, 32);
		memcpy(in, prefix.b, 32);
		memcpy(in + 32, p.value.b, 32);
		crypto_generichash(p.pow_hash.b, 32, in, 64, NULL, 0);
		CHECK(smimp_pow_verify(&p, &prefix, 0) == SMIMP_OK);
		p.pow_hash.b[5] ^= 4;
		CHECK(smimp_pow_verify(&p, &prefix, 0) ==
		      SMIMP_ERR_BAD_PROOF_OF_WORK);
	}
}

TEST(parse_format_round_trip)
{
	const char *s = vectors_str(POW, "proof_of_work");
	char out[SMIMP_POW_STRING_LEN + 1];
	struct smimp_pow_proof p;
	struct smimp_hash pow_hash;

	REQUIRE(s != NULL && strlen(s) == SMIMP_POW_STRING_LEN);
	REQUIRE(smimp_pow_parse(&p, s, strlen(s)) == SMIMP_OK);
	REQUIRE(vectors_hex(POW, "pow_hash", pow_hash.b, 32) == 0);
	CHECK(memcmp(p.pow_hash.b, pow_hash.b, 32) == 0);
	CHECK(p.nonce.b[0] == 0x31 && p.value.b[0] == 0x2c && p.value.b[1] == 0x25);
	memset(out, 'x', sizeof out);
	smimp_pow_format(out, &p);
	CHECK(out[SMIMP_POW_STRING_LEN] == '\0');
	CHECK_STREQ(out, s);
}

/* True when parse rejects s[0..len). */
static int rejects(const char *s, size_t len)
{
	struct smimp_pow_proof p;

	memset(&p, 0xa5, sizeof p);
	return smimp_pow_parse(&p, s, len) == SMIMP_ERR_BAD_PROOF_OF_WORK;
}

TEST(parse_rejects_malformed)
{
	const char *good = vectors_str(POW, "proof_of_work");
	char buf[SMIMP_POW_STRING_LEN + 8];
	const size_t n = SMIMP_POW_STRING_LEN;

	REQUIRE(good != NULL && strlen(good) == n);
#define EDIT(stmt, len)                                                      \
	do {                                                                 \
		memcpy(buf, good, n + 1);                                    \
		stmt;                                                        \
		CHECK(rejects(buf, len));                                    \
	} while (0)
	EDIT(buf[2] = 'B', n);                      /* upper case in the hash */
	EDIT(buf[70] = 'C', n);                     /* upper case in the value */
	EDIT(buf[193] = 'F', n);                    /* upper case in the nonce */
	EDIT(buf[64] = '-', n);                     /* first colon missing */
	EDIT(buf[129] = '0', n);                    /* second colon missing */
	EDIT(buf[10] = 'g', n);                     /* not hex */
	EDIT(buf[100] = ' ', n);                    /* space */
	EDIT(buf[150] = '\0', n);                   /* NUL inside */
	EDIT((void)0, n - 1);                       /* one character short */
	EDIT(strcat(buf, "0"), n + 1);              /* extra hex digit */
	EDIT(strcat(buf, "\n"), n + 1);             /* trailing newline */
	EDIT(strcat(buf, ":"), n + 1);              /* trailing colon */
	/* A colon moved by one: parts of 63 and 65 hex digits. */
	EDIT((buf[63] = ':', buf[64] = '0'), n);
	EDIT((buf[129] = 'a', buf[130] = ':'), n);
	/* Only two parts, or four. */
	EDIT((void)0, 129);
	EDIT((memcpy(buf + n, ":00", 4)), n + 3);
#undef EDIT
	CHECK(rejects("", 0));
	CHECK(rejects("::", 2));
	CHECK(rejects(NULL, 0));
}

TEST(leading_zero_bits_crafted)
{
	struct smimp_hash h;

	memset(h.b, 0, 32);
	CHECK(smimp_pow_leading_zero_bits(&h) == 256);
	h.b[31] = 1;
	CHECK(smimp_pow_leading_zero_bits(&h) == 255);
	memset(h.b, 0, 32);
	h.b[0] = 0x80;
	CHECK(smimp_pow_leading_zero_bits(&h) == 0);
	h.b[0] = 0xff;
	CHECK(smimp_pow_leading_zero_bits(&h) == 0);
	h.b[0] = 0x01;
	CHECK(smimp_pow_leading_zero_bits(&h) == 7);
	h.b[0] = 0x00;
	h.b[1] = 0x40;
	CHECK(smimp_pow_leading_zero_bits(&h) == 9);
	/* Bits after the first set bit do not count. */
	h.b[1] = 0x10;
	h.b[2] = 0x00;
	CHECK(smimp_pow_leading_zero_bits(&h) == 11);
	memset(h.b, 0, 32);
	h.b[16] = 0x08;
	CHECK(smimp_pow_leading_zero_bits(&h) == 132);
}

TEST(solve_multi_thread)
{
	struct fixture f;

	REQUIRE(load_fixture(&f) == 0);
	for (unsigned t = 0; t <= 5; t++) {
		struct smimp_pow_solve_opts opts = {.threads = t};
		struct smimp_pow_proof p;
		uint64_t tries = 0;

		REQUIRE(smimp_pow_solve(&p, &f.prefix, &f.nonce, f.zero_bits,
					&opts, &tries) == SMIMP_OK);
		CHECK(smimp_pow_verify(&p, &f.prefix, f.zero_bits) == SMIMP_OK);
		CHECK(memcmp(p.nonce.b, f.nonce.b, 32) == 0);
		/* The smallest i, whatever the number of threads. */
		CHECK(memcmp(p.value.b, f.proof.value.b, 32) == 0);
		CHECK(tries >= 9517);
	}
}

TEST(solve_random_prefixes)
{
	struct smimp_pow_solve_opts opts = {.threads = 3};
	struct smimp_pow_proof p;
	struct smimp_hash prefix;
	struct smimp_token nonce;

	smimp_init();
	for (int n = 0; n < 8; n++) {
		randombytes_buf(prefix.b, 32);
		randombytes_buf(nonce.b, 32);
		REQUIRE(smimp_pow_solve(&p, &prefix, &nonce, 10, &opts, NULL) ==
			SMIMP_OK);
		CHECK(smimp_pow_verify(&p, &prefix, 10) == SMIMP_OK);
		CHECK(memcmp(p.nonce.b, nonce.b, 32) == 0);
	}
}

TEST(solve_zero_bits_first_try)
{
	struct smimp_pow_solve_opts opts = {.threads = 1};
	struct smimp_pow_proof p;
	struct smimp_token zero;
	struct fixture f;
	uint64_t tries = 0;

	REQUIRE(load_fixture(&f) == 0);
	memset(zero.b, 0, 32);
	REQUIRE(smimp_pow_solve(&p, &f.prefix, &f.nonce, 0, &opts, &tries) ==
		SMIMP_OK);
	CHECK(tries == 1);
	CHECK(memcmp(p.value.b, zero.b, 32) == 0);
	CHECK(smimp_pow_verify(&p, &f.prefix, 0) == SMIMP_OK);
}

TEST(solve_rejects_over_256_bits)
{
	struct fixture f;
	struct smimp_pow_proof p;

	REQUIRE(load_fixture(&f) == 0);
	CHECK(smimp_pow_solve(&p, &f.prefix, &f.nonce, 257, NULL, NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
}

struct canceller {
	atomic_int *flag;
	double delay;
};

static void *cancel_later(void *arg)
{
	struct canceller *c = arg;
	struct timespec ts = {0, (long)(c->delay * 1e9)};

	nanosleep(&ts, NULL);
	atomic_store(c->flag, 1);
	return NULL;
}

TEST(solve_cancel_prompt)
{
	atomic_int cancel = 0;
	struct canceller c = {&cancel, 0.2};
	struct smimp_pow_solve_opts opts = {.threads = 0, .cancel = &cancel};
	struct smimp_pow_proof p;
	struct fixture f;
	pthread_t tid;
	uint64_t tries = 0;
	double t0, dt;

	REQUIRE(load_fixture(&f) == 0);
	REQUIRE(pthread_create(&tid, NULL, cancel_later, &c) == 0);
	t0 = now_seconds();
	CHECK(smimp_pow_solve(&p, &f.prefix, &f.nonce, SMIMP_POW_MAX_ZERO_BITS,
			      &opts, &tries) == SMIMP_ERR_CANCELLED);
	dt = now_seconds() - t0;
	pthread_join(tid, NULL);
	CHECK(tries > 0);
	/* 0.2 s plus at most a batch per thread (generous for sanitizers). */
	CHECK(dt >= 0.19 && dt < 1.5);
}

TEST(solve_cancelled_before_start)
{
	atomic_int cancel = 1;
	struct smimp_pow_solve_opts opts = {.threads = 2, .cancel = &cancel};
	struct smimp_pow_proof p;
	struct fixture f;
	uint64_t tries = 1;

	REQUIRE(load_fixture(&f) == 0);
	CHECK(smimp_pow_solve(&p, &f.prefix, &f.nonce, f.zero_bits, &opts,
			      &tries) == SMIMP_ERR_CANCELLED);
	CHECK(tries == 0);
}

struct progress_log {
	int calls;
	uint64_t last_tries;
	double last_elapsed;
	int monotonic;
};

static int on_progress(void *arg, uint64_t tries, double elapsed)
{
	struct progress_log *log = arg;

	if (tries < log->last_tries || elapsed < log->last_elapsed)
		log->monotonic = 0;
	log->last_tries = tries;
	log->last_elapsed = elapsed;
	return ++log->calls >= 3;
}

TEST(solve_progress_reports_and_cancels)
{
	struct progress_log log = {0, 0, 0.0, 1};
	struct smimp_pow_solve_opts opts = {
		.threads = 2, .progress = on_progress, .progress_arg = &log};
	struct smimp_pow_proof p;
	struct fixture f;
	uint64_t tries = 0;

	REQUIRE(load_fixture(&f) == 0);
	CHECK(smimp_pow_solve(&p, &f.prefix, &f.nonce, SMIMP_POW_MAX_ZERO_BITS,
			      &opts, &tries) == SMIMP_ERR_CANCELLED);
	CHECK(log.calls == 3);
	CHECK(log.monotonic);
	CHECK(log.last_tries > 0 && log.last_tries <= tries);
	/* About every 250 ms: the third report comes after ~0.75 s. */
	CHECK(log.last_elapsed >= 0.7 && log.last_elapsed < 3.0);
}

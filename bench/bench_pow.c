/* Proof-of-work solver speed (spec 8): a bare crypto_generichash loop over a
 * 64-byte input on one core, the solver on one thread and on every core,
 * and their ratios. Takes no input; prints figures, asserts nothing.
 * Rates are given per wall-clock second and per CPU second: on a shared
 * machine the wall figures move with other load, the CPU figures much less.
 * Usage: bench_pow [seconds per run, default 3] */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "smimp/key.h"
#include "smimp/pow.h"

static double clock_seconds(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_seconds(void)
{
	return clock_seconds(CLOCK_MONOTONIC);
}

/* CPU time of the whole process: all threads, joined ones included. */
static double cpu_seconds(void)
{
	return clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

struct rate {
	double wall; /* tries per wall-clock second */
	double cpu;  /* tries per CPU second */
};

/* Hashes per second of the bare call the solver is built on. */
static struct rate bare_rate(double seconds)
{
	uint8_t in[64], out[32];
	volatile uint8_t sink = 0;
	uint64_t n = 0;
	double t0 = now_seconds(), c0 = cpu_seconds(), dt;
	struct rate r;

	randombytes_buf(in, sizeof in);
	do {
		for (int k = 0; k < 65536; k++) {
			crypto_generichash(out, 32, in, 64, NULL, 0);
			sink ^= out[0];
		}
		n += 65536;
		dt = now_seconds() - t0;
	} while (dt < seconds);
	(void)sink;
	r.wall = (double)n / dt;
	r.cpu = (double)n / (cpu_seconds() - c0);
	return r;
}

/* Cancels the solve once the wanted time has passed. */
static int stop_after(void *arg, uint64_t tries, double elapsed)
{
	(void)tries;
	return elapsed >= *(const double *)arg;
}

/* Tries per second of the solver with an unreachable difficulty. */
static struct rate solver_rate(unsigned threads, double seconds)
{
	struct smimp_pow_solve_opts opts = {
		.threads = threads, .progress = stop_after,
		.progress_arg = &seconds};
	struct smimp_pow_proof p;
	struct smimp_hash prefix;
	struct smimp_token nonce;
	uint64_t tries = 0;
	enum smimp_err e;
	double t0, c0;
	struct rate r;

	randombytes_buf(prefix.b, sizeof prefix.b);
	randombytes_buf(nonce.b, sizeof nonce.b);
	t0 = now_seconds();
	c0 = cpu_seconds();
	e = smimp_pow_solve(&p, &prefix, &nonce, SMIMP_POW_MAX_ZERO_BITS, &opts,
			    &tries);
	r.cpu = (double)tries / (cpu_seconds() - c0);
	r.wall = (double)tries / (now_seconds() - t0);
	if (e != SMIMP_ERR_CANCELLED)
		fprintf(stderr, "solver returned %d\n", (int)e);
	return r;
}

static void row(const char *name, struct rate r)
{
	printf("%-38s %10.3f %10.3f\n", name, r.wall / 1e6, r.cpu / 1e6);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 3.0;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct rate bare, one, all;

	if (smimp_init() != 0 || seconds <= 0) {
		fprintf(stderr, "usage: bench_pow [seconds per run]\n");
		return 1;
	}
	bare = bare_rate(seconds);
	one = solver_rate(1, seconds);
	all = solver_rate(0, seconds);

	printf("proof of work, %.1f s per run, %ld online cores\n\n",
	       seconds, cores);
	printf("%-38s %10s %10s\n", "run (M tries/s)", "wall", "per CPU s");
	row("bare crypto_generichash(64 B), 1 core", bare);
	row("smimp_pow_solve, 1 thread", one);
	row("smimp_pow_solve, all cores", all);
	printf("\n%-38s %10s %10s %8s\n", "ratio", "wall", "CPU", "target");
	printf("%-38s %10.3f %10.3f %8s\n", "1 thread / bare", one.wall / bare.wall,
	       one.cpu / bare.cpu, ">=0.90");
	/* Per CPU second, the speed-up all cores would give if they were
	 * all free: the per-CPU-second ratio times the number of cores. */
	printf("%-38s %10.3f %10.3f %8s\n", "all cores / 1 thread",
	       all.wall / one.wall, all.cpu / one.cpu * (double)cores,
	       cores >= 2 ? ">=1.8" : "-");
	return 0;
}

/* Client errors: what failed, said for a person, and the exit code it ends
 * the program with (documented in docs/smimp.1). Every failure path of the
 * client fills one of these; messages never hold secrets, and text that came
 * from a peer is cut short and escaped before it gets here. */
#ifndef SMC_ERR_H
#define SMC_ERR_H

#include "smimp/error.h"

/* Exit codes (sysexits.h values where one fits, and 10 for a changed
 * identity). */
enum smc_exit {
	SMC_EXIT_OK = 0,
	SMC_EXIT_PIN = 10,        /* pinned history truncated, forked or replaced */
	SMC_EXIT_USAGE = 64,      /* bad command line */
	SMC_EXIT_DATAERR = 65,    /* bad input data (address, file content) */
	SMC_EXIT_NOINPUT = 66,    /* missing input file, account or pin */
	SMC_EXIT_REFUSED = 69,    /* the server refused the request (4xx) */
	SMC_EXIT_SOFTWARE = 70,   /* internal error */
	SMC_EXIT_CANTCREAT = 73,  /* cannot create a local file */
	SMC_EXIT_IOERR = 74,      /* local I/O error */
	SMC_EXIT_TEMPFAIL = 75,   /* network, 5xx or 429: try again later */
	SMC_EXIT_PROTOCOL = 76,   /* TLS failure or bad data from a server */
	SMC_EXIT_NOPERM = 77,     /* wrong passphrase or password, 401/403 */
	SMC_EXIT_CONFIG = 78,     /* unusable home directory or keystore */
};

struct smc_err {
	int exit_code;            /* enum smc_exit */
	int http_status;          /* 0 unless a server answered with an error */
	char server_code[32];     /* the server's "error" member, if any */
	char message[640];
};

/* Fills e (exit code and message) and returns -1, for
 * `return smc_fail(e, SMC_EXIT_IOERR, "...")`. */
int smc_fail(struct smc_err *e, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends "context: " to e->message; returns -1. */
int smc_fail_prefix(struct smc_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Turns a library error into a client error with the given exit code
 * (SMIMP_ERR_PIN_MISMATCH always becomes SMC_EXIT_PIN); returns -1. */
int smc_fail_lib(struct smc_err *e, int exit_code,
		 const struct smimp_error *le, const char *context);

#endif

/* smimp-testclient: prints the JSON bodies the integration tests send,
 * made from seeded keys (seed N = 32 bytes of value N), so shell tests can
 * drive smimpd without a full client. Test use only: keys are not secret.
 *
 * Subcommands live in tables: smimp-testclient.c has the identity ones;
 * another file may add a table by defining tc_mail_commands and
 * tc_mail_ncommands (found at link time, see smimp-testclient.c). */
#ifndef SMIMP_TESTCLIENT_H
#define SMIMP_TESTCLIENT_H

#include <stddef.h>
#include <jansson.h>

#include "smimp/msgkey.h"
#include "smimp/types.h"

struct tc_command {
	const char *name;
	const char *usage;                 /* arguments, for --help */
	int min_args;                      /* after the name */
	int (*run)(int argc, char **argv); /* argv[0] is the name; 0 = ok */
};

/* Optional tables of other files (weak: absent unless linked in). */
extern const struct tc_command tc_mail_commands[] __attribute__((weak));
extern const size_t tc_mail_ncommands __attribute__((weak));

/* The master key pair of seed text s (a number 0-255). Exits on bad input. */
void tc_keypair(struct smimp_sign_keypair *kp, const char *s);
/* A fresh random message key for address, signed by kp. */
json_t *tc_msgkey(const char *address, enum smimp_msgkey_kind kind,
		  const struct smimp_sign_keypair *kp);
/* Decodes a hex argument of exactly n bytes; exits on bad input. */
void tc_hex_arg(uint8_t *out, size_t n, const char *s);
/* Prints v compactly with a newline and releases it; 0, or 1 when v is NULL. */
int tc_print(json_t *v);

#endif

/* smimp-read-seal: the send_message body for a chosen plaintext, built the
 * way a client builds it (encrypt, solve the proof of work, sign) from a
 * seeded sender key (seed N = 32 bytes of value N, as smimp-testclient), so
 * the reading tests can send payloads no honest client would (hostile file
 * names, escape sequences). Test use only: the keys are not secret.
 *
 * usage: smimp-read-seal RECIPIENT SENDER SEED MESSAGE_KEY TOKEN TYPE
 *                        NONCE ZERO_BITS PLAINTEXT_FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/envelope.h"
#include "smimp/hex.h"
#include "smimp/key.h"
#include "smimp/login.h"
#include "smimp/pow.h"

static void hex_arg(uint8_t *out, size_t n, const char *s)
{
	if (smimp_hex_decode_str(out, n, s) != SMIMP_OK) {
		fprintf(stderr, "smimp-read-seal: bad hex argument %.80s\n", s);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct smimp_sign_keypair kp;
	struct smimp_box_pk mk;
	struct smimp_token token, nonce;
	struct smimp_hash lth, prefix;
	struct smimp_envelope env;
	struct smimp_error err = {SMIMP_OK, ""};
	struct smimp_pow_solve_opts opts = {1, NULL, NULL, NULL};
	struct smimp_pow_proof proof;
	char pow[SMIMP_POW_STRING_LEN + 1];
	uint8_t seed[32], *pt = NULL;
	size_t len = 0, cap = 0;
	char *body;
	FILE *f;
	int rc = 1;

	if (argc != 10) {
		fprintf(stderr, "usage: smimp-read-seal RECIPIENT SENDER SEED "
			"MESSAGE_KEY TOKEN TYPE NONCE ZERO_BITS FILE\n");
		return 2;
	}
	if (smimp_init() != 0)
		return 1;
	memset(seed, atoi(argv[3]), sizeof seed);
	smimp_sign_keypair_from_seed(&kp, seed);
	hex_arg(mk.b, sizeof mk.b, argv[4]);
	hex_arg(token.b, sizeof token.b, argv[5]);
	hex_arg(nonce.b, sizeof nonce.b, argv[7]);
	f = fopen(argv[9], "rb");
	if (f == NULL) {
		perror(argv[9]);
		return 1;
	}
	for (;;) {
		size_t k;

		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			pt = realloc(pt, cap);
			if (pt == NULL)
				return 1;
		}
		k = fread(pt + len, 1, cap - len, f);
		if (k == 0)
			break;
		len += k;
	}
	fclose(f);
	smimp_login_token_hash(&lth, &token);
	if (smimp_envelope_encrypt(&env, argv[1], argv[2], argv[6], &mk, NULL,
				   pt, len, &kp.sk, &lth, &err) != SMIMP_OK) {
		fprintf(stderr, "smimp-read-seal: %s\n", err.message);
		free(pt);
		return 1;
	}
	free(pt);
	smimp_envelope_pow_prefix(&prefix, &env, &nonce);
	if (smimp_pow_solve(&proof, &prefix, &nonce,
			    (unsigned)strtoul(argv[8], NULL, 10), &opts,
			    NULL) != SMIMP_OK)
		goto out;
	smimp_pow_format(pow, &proof);
	if (smimp_envelope_sign(&env, pow, &kp.sk, &err) != SMIMP_OK)
		goto out;
	body = smimp_envelope_body_dump(&env);
	if (body != NULL) {
		puts(body);
		free(body);
		rc = 0;
	}
out:
	smimp_envelope_clear(&env);
	smimp_sign_keypair_wipe(&kp);
	return rc;
}

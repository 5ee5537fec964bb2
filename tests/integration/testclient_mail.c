/* smimp-testclient mail subcommands (see testclient.h): send_message bodies
 * built the way a client builds them (encrypt, solve the proof of work,
 * sign) from seeded keys, and list entries. Input: the test scripts'
 * command line. Test use only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/b64.h"
#include "smimp/envelope.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/listpolicy.h"
#include "smimp/login.h"
#include "smimp/pow.h"
#include "testclient.h"

/* send-body RECIPIENT SENDER SEED MESSAGE_KEY TOKEN TYPE NONCE|- ZERO_BITS
 *           [SIZE]
 * TOKEN is the login token of the sender's session (its hash is bound in);
 * NONCE "-" sends proof_of_work null; SIZE plaintext bytes (default 64). */
static int cmd_send_body(int argc, char **argv)
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
	size_t size = argc > 9 ? (size_t)strtoul(argv[9], NULL, 10) : 64;
	uint8_t *pt = malloc(size + 1);
	char *body;
	int rc = 1;

	if (pt == NULL)
		return 1;
	for (size_t i = 0; i < size; i++)
		pt[i] = (uint8_t)('a' + i % 26);
	tc_keypair(&kp, argv[3]);
	tc_hex_arg(mk.b, sizeof mk.b, argv[4]);
	tc_hex_arg(token.b, sizeof token.b, argv[5]);
	smimp_login_token_hash(&lth, &token);
	if (smimp_envelope_encrypt(&env, argv[1], argv[2], argv[6], &mk, NULL, pt,
				   size, &kp.sk, &lth, &err) != SMIMP_OK) {
		fprintf(stderr, "send-body: %s\n", err.message);
		free(pt);
		return 1;
	}
	free(pt);
	if (strcmp(argv[7], "-") != 0) {
		tc_hex_arg(nonce.b, sizeof nonce.b, argv[7]);
		smimp_envelope_pow_prefix(&prefix, &env, &nonce);
		if (smimp_pow_solve(&proof, &prefix, &nonce,
				    (unsigned)strtoul(argv[8], NULL, 10), &opts,
				    NULL) != SMIMP_OK)
			goto out;
		smimp_pow_format(pow, &proof);
	}
	if (smimp_envelope_sign(&env, strcmp(argv[7], "-") != 0 ? pow : NULL,
				&kp.sk, &err) != SMIMP_OK)
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

/* list-body VALUE [NOTE]: {"hash": H(list-entry, VALUE), "data": b64(NOTE)} */
static int cmd_list_body(int argc, char **argv)
{
	struct smimp_hash h;
	struct smimp_error err = {SMIMP_OK, ""};
	const char *note = argc > 2 ? argv[2] : "note";
	char hex[2 * SMIMP_HASH_BYTES + 1], *b64;
	int rc;

	if (smimp_list_entry_hash_value(&h, argv[1], &err) != SMIMP_OK) {
		fprintf(stderr, "list-body: %s\n", err.message);
		return 1;
	}
	smimp_hex_encode(hex, sizeof hex, h.b, sizeof h.b);
	b64 = smimp_b64_encode((const uint8_t *)note, strlen(note));
	if (b64 == NULL)
		return 1;
	rc = tc_print(json_pack("{s:s, s:s}", "hash", hex, "data", b64));
	free(b64);
	return rc;
}

/* list-hash VALUE: the entry hash alone. */
static int cmd_list_hash(int argc, char **argv)
{
	struct smimp_hash h;
	struct smimp_error err = {SMIMP_OK, ""};
	char hex[2 * SMIMP_HASH_BYTES + 1];

	(void)argc;
	if (smimp_list_entry_hash_value(&h, argv[1], &err) != SMIMP_OK)
		return 1;
	smimp_hex_encode(hex, sizeof hex, h.b, sizeof h.b);
	puts(hex);
	return 0;
}

const struct tc_command tc_mail_commands[] = {
	{"send-body", "RECIPIENT SENDER SEED MESSAGE_KEY TOKEN TYPE NONCE|- ZERO_BITS [SIZE]",
	 8, cmd_send_body},
	{"list-body", "VALUE [NOTE]", 1, cmd_list_body},
	{"list-hash", "VALUE", 1, cmd_list_hash},
};
const size_t tc_mail_ncommands = sizeof tc_mail_commands / sizeof tc_mail_commands[0];

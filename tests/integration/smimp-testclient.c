/* smimp-testclient: the identity subcommands and the dispatcher (see
 * testclient.h). Input: the command line of the test scripts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/b64.h"
#include "smimp/hash.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/login.h"
#include "smimp/record.h"
#include "smimp/timestamp.h"
#include "testclient.h"

static void die(const char *what, const char *arg)
{
	fprintf(stderr, "smimp-testclient: %s: %s\n", what, arg);
	exit(2);
}

void tc_keypair(struct smimp_sign_keypair *kp, const char *s)
{
	uint8_t seed[SMIMP_SIGN_SEED_BYTES];
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0 || v > 255)
		die("seed must be 0-255", s);
	memset(seed, (int)v, sizeof seed);
	smimp_sign_keypair_from_seed(kp, seed);
}

json_t *tc_msgkey(const char *address, enum smimp_msgkey_kind kind,
		  const struct smimp_sign_keypair *kp)
{
	struct smimp_box_keypair bk;
	struct smimp_msgkey mk;

	smimp_box_keypair_generate(&bk);
	smimp_msgkey_sign(&mk, address, kind, &bk.pk, &kp->sk);
	return smimp_msgkey_to_json(&mk);
}

void tc_hex_arg(uint8_t *out, size_t n, const char *s)
{
	if (smimp_hex_decode_str(out, n, s) != SMIMP_OK)
		die("bad hex", s);
}

int tc_print(json_t *v)
{
	char *s = v != NULL ? smimp_json_dump(v) : NULL;

	json_decref(v);
	if (s == NULL)
		return 1;
	puts(s);
	free(s);
	return 0;
}

static json_t *keys_array(const char *address, const struct smimp_sign_keypair *kp,
			  long n)
{
	json_t *a = json_array();

	for (long i = 0; i < n; i++)
		json_array_append_new(a, tc_msgkey(address, SMIMP_MSGKEY_EPHEMERAL, kp));
	return a;
}

/* pubkey SEED */
static int cmd_pubkey(int argc, char **argv)
{
	struct smimp_sign_keypair kp;
	char hex[65];

	(void)argc;
	tc_keypair(&kp, argv[1]);
	smimp_hex_encode(hex, sizeof hex, kp.pk.b, sizeof kp.pk.b);
	puts(hex);
	return 0;
}

/* A signed record: seq, previous (hex or "-"), its key, its signer. */
static json_t *make_record(const char *address, const char *seq, const char *prev,
			   const char *key_seed, const char *signer_seed,
			   const char *name, long ahead)
{
	struct smimp_sign_keypair kp, signer;
	struct smimp_signed_hash previous;
	struct smimp_record r;
	struct smimp_record_values v = {0};
	struct smimp_error err;
	json_t *j;

	tc_keypair(&kp, key_seed);
	tc_keypair(&signer, signer_seed);
	v.address = address;
	v.public_key = &kp.pk;
	if (strcmp(prev, "-") != 0) {
		tc_hex_arg(previous.b, sizeof previous.b, prev);
		v.previous = &previous;
	}
	v.seq = atol(seq);
	v.changed_at = smimp_timestamp_now() + ahead;
	v.name = name;
	if (smimp_record_build(&r, &v, &signer.sk, &err) != SMIMP_OK)
		die("record", err.message);
	j = smimp_record_to_json(&r);
	smimp_record_free(&r);
	return j;
}

/* init-body ADDRESS PASSWORD SEED [N_EPHEMERAL [KEY_SEED]]: key_seed signs
 * the message keys (default SEED; another one makes them bad). */
static int cmd_init_body(int argc, char **argv)
{
	struct smimp_sign_keypair kp;
	struct smimp_hash h;
	struct smimp_field f[2] = {smimp_text(argv[1]), smimp_text(argv[2])};
	json_t *v;

	tc_keypair(&kp, argc > 5 ? argv[5] : argv[3]);
	smimp_hash_fields(&h, SMIMP_LABEL_INIT_PASSWORD, f, 2);
	v = json_pack("{s:n, s:o, s:o, s:o}", "password_hash",
		      "record", make_record(argv[1], "0", "-", argv[3], argv[3], NULL, 0),
		      "nonephemeral_key", tc_msgkey(argv[1], SMIMP_MSGKEY_NONEPHEMERAL, &kp),
		      "ephemeral_keys", keys_array(argv[1], &kp, argc > 4 ? atol(argv[4]) : 3));
	smimp_json_set_hex(v, "password_hash", h.b, sizeof h.b);
	return tc_print(v);
}

/* record ADDRESS SEQ PREV|- KEY_SEED SIGNER_SEED [NAME [AHEAD_SECONDS]] */
static int cmd_record(int argc, char **argv)
{
	return tc_print(make_record(argv[1], argv[2], argv[3], argv[4], argv[5],
				    argc > 6 ? argv[6] : NULL,
				    argc > 7 ? atol(argv[7]) : 0));
}

/* profile-body ADDRESS SEQ PREV KEY_SEED SIGNER_SEED [NAME]: with a new key
 * (KEY_SEED != SIGNER_SEED) also message keys signed by the new key. */
static int cmd_profile_body(int argc, char **argv)
{
	struct smimp_sign_keypair kp;
	json_t *v = json_pack("{s:o}", "record",
			      make_record(argv[1], argv[2], argv[3], argv[4], argv[5],
					  argc > 6 ? argv[6] : NULL, 0));

	if (strcmp(argv[4], argv[5]) != 0) {
		tc_keypair(&kp, argv[4]);
		json_object_set_new(v, "nonephemeral_key",
				    tc_msgkey(argv[1], SMIMP_MSGKEY_NONEPHEMERAL, &kp));
		json_object_set_new(v, "ephemeral_keys", keys_array(argv[1], &kp, 2));
	}
	return tc_print(v);
}

/* login-body BASE_URL ADDRESS TOKEN SEED */
static int cmd_login_body(int argc, char **argv)
{
	struct smimp_sign_keypair kp;
	struct smimp_token token;
	struct smimp_signed_hash sh;
	char hex[2 * sizeof sh.b + 1];

	(void)argc;
	tc_keypair(&kp, argv[4]);
	tc_hex_arg(token.b, sizeof token.b, argv[3]);
	smimp_login_sign(&sh, argv[1], argv[2], &token, &kp.sk);
	smimp_hex_encode(hex, sizeof hex, sh.b, sizeof sh.b);
	return tc_print(json_pack("{s:s, s:s}", "token", argv[3], "signed_hash", hex));
}

/* neph-body ADDRESS SEED [master]: {"message_key"}; with "master" the key
 * is the master key's Curve25519 form (which servers refuse). */
static int cmd_neph_body(int argc, char **argv)
{
	struct smimp_sign_keypair kp;
	struct smimp_box_pk box;
	struct smimp_msgkey mk;

	tc_keypair(&kp, argv[2]);
	if (argc > 3 && strcmp(argv[3], "master") == 0) {
		smimp_sign_pk_to_box(&box, &kp.pk);
		smimp_msgkey_sign(&mk, argv[1], SMIMP_MSGKEY_NONEPHEMERAL, &box, &kp.sk);
		return tc_print(json_pack("{s:o}", "message_key", smimp_msgkey_to_json(&mk)));
	}
	return tc_print(json_pack("{s:o}", "message_key",
				  tc_msgkey(argv[1], SMIMP_MSGKEY_NONEPHEMERAL, &kp)));
}

/* keys-body ADDRESS SEED N: {"keys": [N ephemeral keys]} */
static int cmd_keys_body(int argc, char **argv)
{
	struct smimp_sign_keypair kp;

	(void)argc;
	tc_keypair(&kp, argv[2]);
	return tc_print(json_pack("{s:o}", "keys", keys_array(argv[1], &kp, atol(argv[3]))));
}

/* avatar-body ADDRESS SEED FILE: {"image", "signed_hash"} */
static int cmd_avatar_body(int argc, char **argv)
{
	struct smimp_sign_keypair kp;
	struct smimp_signed_hash sh;
	struct smimp_hash h;
	struct smimp_field f[2];
	static uint8_t buf[1 << 20];
	char hex[2 * sizeof sh.b + 1], *b64;
	FILE *fp = fopen(argv[3], "rb");
	size_t n;

	(void)argc;
	if (fp == NULL)
		die("cannot open", argv[3]);
	n = fread(buf, 1, sizeof buf, fp);
	fclose(fp);
	tc_keypair(&kp, argv[2]);
	f[0] = smimp_text(argv[1]);
	f[1] = smimp_bytes(buf, n);
	smimp_hash_fields(&h, SMIMP_LABEL_AVATAR, f, 2);
	smimp_signed_hash_make(&sh, &h, &kp.sk);
	smimp_hex_encode(hex, sizeof hex, sh.b, sizeof sh.b);
	b64 = smimp_b64_encode(buf, n);
	if (b64 == NULL)
		return 1;
	n = (size_t)tc_print(json_pack("{s:s, s:s}", "image", b64, "signed_hash", hex));
	free(b64);
	return (int)n;
}

static const struct tc_command identity_commands[] = {
	{"pubkey", "SEED", 1, cmd_pubkey},
	{"init-body", "ADDRESS PASSWORD SEED [N_EPHEMERAL [KEY_SEED]]", 3, cmd_init_body},
	{"record", "ADDRESS SEQ PREV|- KEY_SEED SIGNER_SEED [NAME [AHEAD]]", 5, cmd_record},
	{"profile-body", "ADDRESS SEQ PREV KEY_SEED SIGNER_SEED [NAME]", 5, cmd_profile_body},
	{"login-body", "BASE_URL ADDRESS TOKEN SEED", 4, cmd_login_body},
	{"neph-body", "ADDRESS SEED [master]", 2, cmd_neph_body},
	{"keys-body", "ADDRESS SEED N", 3, cmd_keys_body},
	{"avatar-body", "ADDRESS SEED FILE", 3, cmd_avatar_body},
};

static const struct tc_command *find(const struct tc_command *t, size_t n,
				     const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

static void usage_of(const struct tc_command *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  %s %s\n", t[i].name, t[i].usage);
}

int main(int argc, char **argv)
{
	const size_t nid = sizeof identity_commands / sizeof identity_commands[0];
	const size_t nmail = &tc_mail_ncommands != NULL ? tc_mail_ncommands : 0;
	const struct tc_command *c = NULL;

	if (smimp_init() != 0)
		return 1;
	if (argc >= 2) {
		c = find(identity_commands, nid, argv[1]);
		if (c == NULL && nmail > 0)
			c = find(tc_mail_commands, nmail, argv[1]);
	}
	if (c == NULL || argc - 2 < c->min_args) {
		fprintf(stderr, "usage: smimp-testclient COMMAND ARGS...\n");
		usage_of(identity_commands, nid);
		if (nmail > 0)
			usage_of(tc_mail_commands, nmail);
		return 2;
	}
	return c->run(argc - 1, argv + 1);
}

/* smimp send-key ADDRESS --ed25519|--curve25519 KIND|--xsalsa20: a secret
 * key message (spec 12, secret-*). The key is newly generated, or read from
 * --key-file; a generated key can be kept with --save. Secrets live in
 * sodium_malloc'ed memory and are wiped; they are never printed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "smimp/hex.h"
#include "smimp/key.h"
#include "smimp/payload.h"

#include "cli.h"
#include "delivery.h"
#include "fsutil.h"

enum { OPT_ED, OPT_CURVE, OPT_XSALSA, OPT_NOTE, OPT_KEY_FILE, OPT_SAVE };
static const struct smc_opt opts[] = {
	{"ed25519", 0}, {"curve25519", 1}, {"xsalsa20", 0}, {"note", 1},
	{"key-file", 1}, {"save", 1}, {NULL, 0},
};

/* The secret from a key file: hex, surrounding white space ignored, of
 * `bytes` bytes (or alt_bytes when non-zero). Returns the size read. */
static size_t read_key_file(const char *path, uint8_t *out, size_t bytes,
			    size_t alt_bytes, struct smc_err *e)
{
	char *text = NULL;
	size_t len = 0, start = 0, got = 0;
	bool missing;

	if (smc_file_read(path, 4096, true, &text, &len, &missing, e) != 0) {
		smc_fail_prefix(e, "--key-file");
		return 0;
	}
	while (start < len && (text[start] == ' ' || text[start] == '\t' ||
			       text[start] == '\n' || text[start] == '\r'))
		start++;
	while (len > start && (text[len - 1] == ' ' || text[len - 1] == '\t' ||
			       text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (smimp_hex_decode(out, bytes, text + start, len - start) == SMIMP_OK)
		got = bytes;
	else if (alt_bytes != 0 &&
		 smimp_hex_decode(out, alt_bytes, text + start, len - start) ==
			 SMIMP_OK)
		got = alt_bytes;
	else if (alt_bytes != 0)
		smc_fail(e, SMC_EXIT_DATAERR, "--key-file %s: want %zu or %zu "
			 "bytes as lowercase hex", path, bytes, alt_bytes);
	else
		smc_fail(e, SMC_EXIT_DATAERR, "--key-file %s: want %zu bytes "
			 "as lowercase hex", path, bytes);
	smc_secret_free(text);
	return got;
}

/* Writes the secret as hex to a new file (0600). */
static int save_key(const char *path, const uint8_t *k, size_t len,
		    struct smc_err *e)
{
	char *hex = smc_secret_alloc(2 * len + 2);
	int rc;

	if (hex == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	if (smc_path_exists(path)) {
		smc_secret_free(hex);
		return smc_fail(e, SMC_EXIT_CANTCREAT, "--save %s: the file "
				"exists; not overwriting it", path);
	}
	smimp_hex_encode(hex, 2 * len + 1, k, len);
	hex[2 * len] = '\n';
	rc = smc_file_write_atomic(path, hex, 2 * len + 1, e);
	smc_secret_free(hex);
	return rc != 0 ? smc_fail_prefix(e, "--save") : 0;
}

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	struct smc_optstate st = {argc, argv, 0, 0};
	struct smc_delivery d;
	struct smimp_payload *pl = smc_secret_alloc(sizeof *pl);
	const char *address = NULL, *note = "", *key_file = NULL, *save = NULL;
	const char *kind = NULL, *arg, *type = NULL;
	char pub[129];
	uint8_t *pt = NULL;
	size_t pt_len = 0;
	int k, which = -1, rc = -1;

	if (pl == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	memset(&d, 0, sizeof d);
	while ((k = smc_opt_next(c, &st, opts, &arg, e)) != SMC_OPT_END) {
		switch (k) {
		case SMC_OPT_HELP:
			rc = SMC_OPT_HELP;
			goto out;
		case SMC_OPT_ERR:
			goto out;
		case SMC_OPT_POS:
			if (address != NULL) {
				smc_opt_unexpected(arg, e);
				goto out;
			}
			address = arg;
			break;
		case OPT_ED: case OPT_CURVE: case OPT_XSALSA:
			if (which >= 0) {
				smc_fail(e, SMC_EXIT_USAGE, "give one of "
					 "--ed25519, --curve25519, --xsalsa20");
				goto out;
			}
			which = k;
			kind = arg;
			break;
		case OPT_NOTE: note = arg; break;
		case OPT_KEY_FILE: key_file = arg; break;
		case OPT_SAVE: save = arg; break;
		}
	}
	if (address == NULL || which < 0) {
		smc_fail(e, SMC_EXIT_USAGE, address == NULL ? "ADDRESS is missing"
			 : "give --ed25519, --curve25519 KIND or --xsalsa20");
		goto out;
	}
	if (key_file != NULL && save != NULL) {
		smc_fail(e, SMC_EXIT_USAGE, "--save is for a generated key; the "
			 "key of --key-file is already in a file");
		goto out;
	}
	pub[0] = '\0';
	if (which == OPT_ED) {
		struct smimp_secret_ed25519 *s = &pl->secret_ed25519;
		struct smimp_sign_keypair kp;

		pl->type = SMIMP_MSGTYPE_SECRET_ED25519;
		type = "secret-ed25519";
		if (key_file != NULL) {
			/* A 32-byte seed or a 64-byte libsodium secret key. */
			uint8_t buf[64];
			size_t got = read_key_file(key_file, buf, 32, 64, e);

			if (got == 0)
				goto out;
			smimp_sign_keypair_from_seed(&kp, buf);
			if (got == 64 && sodium_memcmp(buf + 32, kp.pk.b, 32) != 0) {
				sodium_memzero(buf, sizeof buf);
				smimp_sign_keypair_wipe(&kp);
				smc_fail(e, SMC_EXIT_DATAERR, "--key-file %s: "
					 "the secret key's public half does "
					 "not match its seed", key_file);
				goto out;
			}
			sodium_memzero(buf, sizeof buf);
		} else {
			smimp_sign_keypair_generate(&kp);
		}
		s->public_key = kp.pk;
		s->secret_key = kp.sk;
		smimp_sign_keypair_wipe(&kp);
		smimp_hex_encode(pub, sizeof pub, s->public_key.b, 32);
		if (save != NULL && save_key(save, s->secret_key.b, 32, e) != 0)
			goto out;
		s->note = (char *)note;
	} else if (which == OPT_CURVE) {
		struct smimp_secret_curve25519 *s = &pl->secret_curve25519;
		struct smimp_box_keypair kp;

		pl->type = SMIMP_MSGTYPE_SECRET_CURVE25519;
		type = "secret-curve25519";
		if (smimp_msgkey_kind_parse(&s->kind, kind) != SMIMP_OK) {
			smc_fail(e, SMC_EXIT_USAGE, "--curve25519 wants "
				 "ephemeral or nonephemeral");
			goto out;
		}
		if (key_file != NULL) {
			struct smimp_box_sk sk;

			if (read_key_file(key_file, sk.b, 32, 0, e) == 0)
				goto out;
			smimp_box_keypair_from_secret(&kp, &sk);
			sodium_memzero(&sk, sizeof sk);
		} else {
			smimp_box_keypair_generate(&kp);
		}
		s->public_key = kp.pk;
		s->secret_key = kp.sk;
		smimp_box_keypair_wipe(&kp);
		smimp_hex_encode(pub, sizeof pub, s->public_key.b, 32);
		if (save != NULL && save_key(save, s->secret_key.b, 32, e) != 0)
			goto out;
		s->note = (char *)note;
	} else {
		struct smimp_secret_xsalsa20 *s = &pl->secret_xsalsa20;

		pl->type = SMIMP_MSGTYPE_SECRET_XSALSA20;
		type = "secret-xsalsa20";
		if (key_file != NULL) {
			if (read_key_file(key_file, s->key, 32, 0, e) == 0)
				goto out;
		} else {
			randombytes_buf(s->key, sizeof s->key);
		}
		if (save != NULL && save_key(save, s->key, 32, e) != 0)
			goto out;
		s->note = (char *)note;
	}
	if (smimp_payload_serialize(&pt, &pt_len, pl, NULL, &le) != SMIMP_OK) {
		smc_fail(e, SMC_EXIT_DATAERR, "the key message cannot be built: "
			 "%s", le.message);
		goto out;
	}
	if (smc_delivery_start(c, &d, e) != 0)
		goto out;
	if (!c->json) {
		if (pub[0] != '\0')
			printf("%s key with public key %s\n", type, pub);
		if (key_file == NULL)
			printf("%s\n", save != NULL
			       ? "the new key's secret is also in the --save file"
			       : "the new key is kept nowhere here: only the "
				 "recipient will hold it");
	}
	smc_delivery_send(&d, address, type, pt, pt_len);
	rc = smc_delivery_finish(&d, e);
out:
	smimp_payload_bytes_free(pt, pt_len);
	smc_secret_free(pl);
	return rc;
}

const struct smc_command smc_cmd_send_key = {
	"send-key",
	"ADDRESS --ed25519|--curve25519 KIND|--xsalsa20 [--note TEXT] "
	"[--key-file FILE | --save FILE]",
	"Send a secret key (to share an account, alias or list).",
	"\nSends a secret-ed25519 (signing key pair), secret-curve25519 (box key\n"
	"pair of KIND ephemeral or nonephemeral) or secret-xsalsa20 (secretbox\n"
	"key) message to ADDRESS. The key is newly generated unless --key-file\n"
	"gives one. The recipient's client imports it only when its user asks\n"
	"(smimp keys import). Delivery works as for smimp send.\n\n"
	"  --ed25519               a signing key pair\n"
	"  --curve25519 KIND       a Curve25519 key pair; KIND is ephemeral or\n"
	"                          nonephemeral\n"
	"  --xsalsa20              a 32-byte secretbox key\n"
	"  --note TEXT             a note for the recipient (default empty)\n"
	"  --key-file FILE         send this key instead of a new one: lowercase\n"
	"                          hex of the secret (Ed25519: the 32-byte seed or\n"
	"                          libsodium's 64-byte secret key; Curve25519 and\n"
	"                          XSalsa20: 32 bytes)\n"
	"  --save FILE             keep a copy of the generated secret in FILE\n"
	"                          (a new file, mode 0600, the --key-file format)\n"
	"  --json                  print the result as JSON\n\n"
	"The public key (for key pairs) is printed; secrets never are.\n",
	run,
};

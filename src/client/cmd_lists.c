/* smimp whitelist|blacklist add|list|remove and smimp quota (spec 11.8,
 * 11.9). An entry is H("smimp/0.1/list-entry", value) on the server; its
 * data is the client's own note: 0x01 || nonce(24) || crypto_secretbox of
 * {"value", "note"} under a key derived from the master secret key
 * (H("smimp-client/list-note-key", seed)), so every device holding the
 * keystore reads it; notes made under an earlier master key are opened
 * with the old keys the keystore keeps. Untrusted input: the list and
 * quota answers (sizes bounded, notes authenticated, texts escaped). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "smimp/address.h"
#include "smimp/b64.h"
#include "smimp/hash.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/listpolicy.h"

#include "account.h"
#include "cli.h"
#include "render.h"

#define NOTE_LABEL "smimp-client/list-note-key"
#define NOTE_VERSION 1
#define NOTE_MAX 4096                 /* bytes of a note typed by the user */
#define DATA_MAX (16 * 1024)          /* decoded data accepted back */
#define MAX_ENTRIES 100000

static void note_key(uint8_t key[32], const struct smimp_sign_sk *sk)
{
	struct smimp_field f = smimp_bytes(sk->b, SMIMP_SIGN_SEED_BYTES);
	struct smimp_hash h;

	smimp_hash_fields(&h, NOTE_LABEL, &f, 1);
	memcpy(key, h.b, 32);
	sodium_memzero(&h, sizeof h);
}

/* value: normal form of an address or a bare domain. */
static int normal_value(char out[SMIMP_ADDRESS_MAX + 1], const char *in,
			struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	enum smimp_err rc;

	if (strchr(in, '#') != NULL)
		rc = smimp_address_normalize_str(out, in, &le);
	else
		rc = smimp_address_domain_normalize(out, in, strlen(in), &le);
	if (rc != SMIMP_OK)
		return smc_fail(e, SMC_EXIT_USAGE, "%.100s is neither an "
				"address nor a domain: %s", in, le.message);
	return 0;
}

static char *seal_note(const struct smc_keystore *ks, const char *value,
		       const char *note, struct smc_err *e)
{
	uint8_t key[32], *buf = NULL;
	json_t *o = json_pack("{s:s, s:s}", "value", value, "note", note);
	char *plain = o != NULL ? smimp_json_dump(o) : NULL, *b64 = NULL;
	size_t n;

	json_decref(o);
	if (plain == NULL) {
		smc_fail(e, SMC_EXIT_DATAERR, "the note must be valid UTF-8");
		return NULL;
	}
	n = strlen(plain);
	buf = malloc(1 + crypto_secretbox_NONCEBYTES + n +
		     crypto_secretbox_MACBYTES);
	if (buf != NULL) {
		buf[0] = NOTE_VERSION;
		randombytes_buf(buf + 1, crypto_secretbox_NONCEBYTES);
		note_key(key, &ks->master.kp.sk);
		crypto_secretbox_easy(buf + 1 + crypto_secretbox_NONCEBYTES,
				      (const uint8_t *)plain, n, buf + 1, key);
		sodium_memzero(key, sizeof key);
		b64 = smimp_b64_encode(buf, 1 + crypto_secretbox_NONCEBYTES +
					       n + crypto_secretbox_MACBYTES);
	}
	if (b64 == NULL)
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	sodium_memzero(plain, n);
	free(plain);
	free(buf);
	return b64;
}

/* Opens data with the current or an earlier master key's note key; the
 * parsed {"value", "note"} or NULL. */
static json_t *open_note(const struct smc_keystore *ks, const uint8_t *d,
			 size_t n)
{
	const size_t hdr = 1 + crypto_secretbox_NONCEBYTES;
	struct smimp_error le = {SMIMP_OK, ""};
	uint8_t key[32], *plain;
	json_t *v = NULL;

	if (n < hdr + crypto_secretbox_MACBYTES || d[0] != NOTE_VERSION)
		return NULL;
	plain = malloc(n - hdr);
	if (plain == NULL)
		return NULL;
	for (size_t i = 0; i <= ks->n_old_masters && v == NULL; i++) {
		const struct smimp_sign_sk *sk =
			i == 0 ? &ks->master.kp.sk : &ks->old_masters[i - 1].kp.sk;

		note_key(key, sk);
		if (crypto_secretbox_open_easy(plain, d + hdr, n - hdr, d + 1,
					       key) == 0)
			v = smimp_json_parse((const char *)plain,
					     n - hdr - crypto_secretbox_MACBYTES,
					     DATA_MAX, true, &le);
	}
	sodium_memzero(key, sizeof key);
	free(plain);
	if (v != NULL && (!json_is_string(json_object_get(v, "value")) ||
			  !json_is_string(json_object_get(v, "note")))) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

static int list_add(struct smc_ctx *c, struct smc_account *a,
		    const char *list, const char *value_in, const char *note,
		    struct smc_err *e)
{
	char value[SMIMP_ADDRESS_MAX + 1], hex[65];
	struct smimp_hash h;
	json_t *body = NULL;
	char *data = NULL;
	int rc = -1;

	if (normal_value(value, value_in, e) != 0)
		return -1;
	if (note == NULL)
		note = "";
	if (strlen(note) > NOTE_MAX)
		return smc_fail(e, SMC_EXIT_USAGE, "the note is longer than %d "
				"bytes", NOTE_MAX);
	smimp_list_entry_hash(&h, value);
	smimp_hex_encode(hex, sizeof hex, h.b, sizeof h.b);
	data = seal_note(a->ks, value, note, e);
	if (data == NULL)
		return -1;
	body = json_pack("{s:s, s:s}", "hash", hex, "data", data);
	if (body == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	if (smc_api_call(c->t, &a->server, &a->session, SMC_POST, list, body,
			 64 * 1024, NULL, e) != 0) {
		if (e->http_status == 409)
			smc_fail(e, SMC_EXIT_REFUSED, "%s is already on the %s "
				 "(a note cannot be edited: remove and add "
				 "again)", value, list);
		else
			smc_fail_prefix(e, "adding %s to the %s", value, list);
		goto out;
	}
	printf("%s added to the %s of %s\n", value, list, a->ks->address);
	rc = 0;
out:
	json_decref(body);
	free(data);
	return rc;
}

static int list_remove(struct smc_ctx *c, struct smc_account *a,
		       const char *list, const char *arg, struct smc_err *e)
{
	char value[SMIMP_ADDRESS_MAX + 1], hex[65], endpoint[128];
	struct smimp_hash h;

	if (strlen(arg) == 64 &&
	    smimp_hex_decode_str(h.b, sizeof h.b, arg) == SMIMP_OK) {
		/* An entry hash, as list shows for notes it cannot open. */
		snprintf(value, sizeof value, "entry %.16s...", arg);
	} else {
		if (normal_value(value, arg, e) != 0)
			return -1;
		smimp_list_entry_hash(&h, value);
	}
	smimp_hex_encode(hex, sizeof hex, h.b, sizeof h.b);
	snprintf(endpoint, sizeof endpoint, "%s/%s", list, hex);
	if (smc_api_call(c->t, &a->server, &a->session, SMC_DELETE, endpoint,
			 NULL, 64 * 1024, NULL, e) != 0) {
		if (e->http_status == 404)
			return smc_fail(e, SMC_EXIT_NOINPUT, "%s is not on the "
					"%s", value, list);
		return smc_fail_prefix(e, "removing %s from the %s", value,
				       list);
	}
	printf("%s removed from the %s of %s\n", value, list, a->ks->address);
	return 0;
}

static int list_show(struct smc_ctx *c, struct smc_account *a,
		     const char *list, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	json_t *ans = NULL, *entries, *v, *out = NULL;
	size_t i;
	int rc = -1;

	if (smc_api_call(c->t, &a->server, &a->session, SMC_GET, list, NULL,
			 SMC_API_MAX_RESPONSE, &ans, e) != 0)
		return smc_fail_prefix(e, "reading the %s", list);
	entries = json_object_get(ans, "entries");
	if (!json_is_array(entries) || json_array_size(entries) > MAX_ENTRIES) {
		smc_fail(e, SMC_EXIT_PROTOCOL, "%s: the answer has no usable "
			 "entry list", list);
		goto done;
	}
	if (c->json && (out = json_array()) == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto done;
	}
	if (!c->json && json_array_size(entries) == 0)
		printf("the %s of %s is empty\n", list, a->ks->address);
	json_array_foreach(entries, i, v) {
		struct smimp_hash h, want;
		uint8_t *data = NULL;
		size_t dlen = 0;
		json_t *note = NULL;
		const char *value = NULL, *text = NULL, *problem = NULL;
		char hex[65];

		if (smimp_json_get_hex(v, "hash", 0, h.b, sizeof h.b, NULL,
				       &le) != SMIMP_OK) {
			smc_fail(e, SMC_EXIT_PROTOCOL, "%s: entry %zu has no "
				 "valid hash", list, i);
			goto done;
		}
		smimp_hex_encode(hex, sizeof hex, h.b, sizeof h.b);
		if (smimp_json_get_b64(v, "data", 0, DATA_MAX, &data, &dlen,
				       &le) != SMIMP_OK)
			problem = "its data is not valid base64";
		else if ((note = open_note(a->ks, data, dlen)) == NULL)
			problem = "its note cannot be decrypted (not made by "
				  "this account's keys)";
		else {
			value = json_string_value(json_object_get(note, "value"));
			text = json_string_value(json_object_get(note, "note"));
			smimp_list_entry_hash(&want, value);
			if (!smimp_hash_equal(&want, &h))
				problem = "its note names another value (moved "
					  "between entries?)";
		}
		free(data);
		if (c->json) {
			json_t *o = json_pack("{s:s, s:s?, s:s?, s:b, s:s?}",
					      "hash", hex,
					      "value", problem ? NULL : value,
					      "note", problem ? NULL : text,
					      "decrypted", problem == NULL,
					      "problem", problem);

			if (o == NULL || json_array_append_new(out, o) != 0) {
				json_decref(note);
				smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
				goto done;
			}
		} else if (problem != NULL) {
			printf("(entry %s: %s)\n", hex, problem);
		} else {
			smc_render_safe(stdout, value, strlen(value));
			if (text[0] != '\0') {
				fputc('\t', stdout);
				smc_render_safe(stdout, text, strlen(text));
			}
			fputc('\n', stdout);
		}
		json_decref(note);
	}
	rc = c->json ? smc_print_json(out, e) : 0;
done:
	json_decref(out);
	json_decref(ans);
	return rc;
}

static int run_list(const char *list, struct smc_ctx *c, int argc,
		    char **argv, struct smc_err *e)
{
	static const struct smc_opt opts[] = {{"note", 1}, {NULL, 0}};
	struct smc_args sa;
	struct smc_account a;
	const char *sub, *note;
	int rc;

	rc = smc_args_parse(c, argc, argv, opts, 2, &sa, e);
	if (rc != 0)
		return rc;
	note = sa.val[0];
	sub = sa.npos > 0 ? sa.pos[0] : "list";
	if (!((strcmp(sub, "list") == 0 && sa.npos <= 1 && note == NULL) ||
	      (strcmp(sub, "add") == 0 && sa.npos == 2) ||
	      (strcmp(sub, "remove") == 0 && sa.npos == 2 && note == NULL)))
		return smc_fail(e, SMC_EXIT_USAGE, "%s add ADDRESS|DOMAIN "
				"[--note TEXT] | list | remove ADDRESS|DOMAIN",
				list);
	if (smc_account_open(c, &a, e) != 0)
		return -1;
	rc = -1;
	if (smc_account_login(c, &a, e) == 0) {
		if (strcmp(sub, "add") == 0)
			rc = list_add(c, &a, list, sa.pos[1], note, e);
		else if (strcmp(sub, "remove") == 0)
			rc = list_remove(c, &a, list, sa.pos[1], e);
		else
			rc = list_show(c, &a, list, e);
	}
	smc_account_close(c, &a);
	return rc;
}

static int run_whitelist(struct smc_ctx *c, int argc, char **argv,
			 struct smc_err *e)
{
	return run_list("whitelist", c, argc, argv, e);
}

static int run_blacklist(struct smc_ctx *c, int argc, char **argv,
			 struct smc_err *e)
{
	return run_list("blacklist", c, argc, argv, e);
}

#define LIST_HELP(WHAT, EFFECT)                                               \
	"\n" WHAT " add ADDRESS|DOMAIN [--note TEXT]\n"                         \
	"    Puts an address (local#domain) or a whole domain (exactly that\n" \
	"    domain, not its subdomains) on the " WHAT ": " EFFECT "\n"        \
	"    The server stores only H(value) and an encrypted note holding the\n" \
	"    value and TEXT (at most 4096 bytes), readable only with this\n"   \
	"    account's keys. A note cannot be edited: remove and add again.\n" \
	WHAT " list [--json]\n"                                                \
	"    Lists the entries with their notes decrypted; an entry whose note\n" \
	"    cannot be decrypted is shown by its hash and said so.\n"         \
	WHAT " remove ADDRESS|DOMAIN|HASH\n"                                   \
	"    Removes the entry (a 64-digit HASH as list shows it also works).\n" \
	"\nFor a sender s#d the server decides, first match wins: address\n"  \
	"whitelisted (accepted, zero proof of work), address blacklisted\n"   \
	"(refused), domain whitelisted, domain blacklisted, else its default.\n"

const struct smc_command smc_cmd_whitelist = {
	"whitelist", "add ADDRESS|DOMAIN [--note TEXT] | list | remove ADDRESS|DOMAIN",
	"Senders accepted with zero proof of work, with private notes.",
	LIST_HELP("whitelist", "its messages are accepted with a\n"
		  "    zero-bit proof of work."),
	run_whitelist,
};

const struct smc_command smc_cmd_blacklist = {
	"blacklist", "add ADDRESS|DOMAIN [--note TEXT] | list | remove ADDRESS|DOMAIN",
	"Senders refused by the server, with private notes.",
	LIST_HELP("blacklist", "the server refuses to hand it\n"
		  "    message keys or take its messages (403 rejected)."),
	run_blacklist,
};

/* ---- quota ---------------------------------------------------------- */

static void human(char *out, size_t n, long long v)
{
	if (v < 0)
		snprintf(out, n, "unlimited");
	else if (v < 10 * 1024)
		snprintf(out, n, "%lld bytes", v);
	else if (v < 10LL * 1024 * 1024)
		snprintf(out, n, "%lld KiB", v / 1024);
	else
		snprintf(out, n, "%lld MiB", v / (1024 * 1024));
}

static int run_quota(struct smc_ctx *c, int argc, char **argv,
		     struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	struct smc_account a;
	struct smc_args sa;
	long long used, limit, avail;
	json_t *ans = NULL;
	int rc;

	rc = smc_args_parse(c, argc, argv, NULL, 0, &sa, e);
	if (rc != 0)
		return rc;
	rc = -1;
	if (smc_account_open(c, &a, e) != 0)
		return -1;
	if (smc_account_login(c, &a, e) != 0)
		goto out;
	if (smc_api_call(c->t, &a.server, &a.session, SMC_GET, "quota", NULL,
			 64 * 1024, &ans, e) != 0) {
		smc_fail_prefix(e, "quota");
		goto out;
	}
	if (ans == NULL ||
	    smimp_json_get_int(ans, "used", 0, 0, INT64_MAX, &used, &le) ||
	    smimp_json_get_int(ans, "limit", 0, -1, INT64_MAX, &limit, &le) ||
	    smimp_json_get_int(ans, "available", 0, -1, INT64_MAX, &avail,
			       &le)) {
		smc_fail(e, SMC_EXIT_PROTOCOL, "quota: bad answer: %s",
			 ans == NULL ? "empty" : le.message);
		goto out;
	}
	if (c->json) {
		json_t *o = json_pack("{s:s, s:I, s:I, s:I}", "address",
				      a.ks->address, "used", (json_int_t)used,
				      "limit", (json_int_t)limit, "available",
				      (json_int_t)avail);

		rc = o != NULL ? smc_print_json(o, e)
			       : smc_fail(e, SMC_EXIT_SOFTWARE, "oom");
		json_decref(o);
	} else {
		char u[32], l[32], v[32];

		human(u, sizeof u, used);
		human(l, sizeof l, limit);
		human(v, sizeof v, avail);
		printf("%s\n  used       %s (%lld bytes)\n  limit      %s\n"
		       "  available  %s\n", a.ks->address, u, used, l, v);
		if (limit > 0)
			printf("  (%lld%% used)\n", used * 100 / limit);
		rc = 0;
	}
out:
	json_decref(ans);
	smc_account_close(c, &a);
	return rc;
}

const struct smc_command smc_cmd_quota = {
	"quota", "[--json]",
	"Show the mailbox's use and limit.",
	"\nAsks the account's server how many bytes the stored messages take\n"
	"(their ciphertexts), the account's limit and what is left (-1 or\n"
	"\"unlimited\": no limit). When the mailbox is full, senders get\n"
	"507 quota_exceeded.\n\n"
	"  --json   print used, limit and available as JSON\n",
	run_quota,
};

/* smimp keys import (see keyimport.h):
 * GET message/{id}/false, the stored envelope parsed strictly, then the
 * read pipeline of `smimp read` (reader.c). Any failure imports nothing. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "smimp/envelope.h"
#include "smimp/hash.h"
#include "smimp/msgtype.h"
#include "smimp/hex.h"
#include "smimp/key.h"
#include "smimp/json.h"
#include "smimp/payload.h"
#include "smimp/timestamp.h"

#include "fsutil.h"
#include "keyimport.h"
#include "render.h"
#include "reader.h"

#define IMP_FORMAT "smimp-imported-keys"
#define IMP_MAX_FILE (16u * 1024u * 1024u)
#define IMP_MAX_KEYS 10000u

static int id_check(char out[65], const char *s, struct smc_err *e)
{
	if (strlen(s) != 64)
		goto bad;
	for (size_t i = 0; i < 64; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			goto bad;
		out[i] = ch;
	}
	out[64] = '\0';
	return 0;
bad:
	return smc_fail(e, SMC_EXIT_USAGE, "a message id is 64 hex digits");
}

/* Reads the imported-keys file (missing: an empty list). */
static json_t *imp_load(const struct smc_keystore *ks, const char *path,
			struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	uint8_t nonce[crypto_secretbox_NONCEBYTES], *ct = NULL;
	char *text = NULL, *plain = NULL;
	json_t *outer = NULL, *inner = NULL;
	const char *fmt;
	size_t len, ct_len;
	bool missing;

	if (smc_file_read(path, IMP_MAX_FILE, false, &text, &len, &missing,
			  e) != 0) {
		if (missing)
			return json_pack("{s:[]}", "keys");
		return NULL;
	}
	outer = smimp_json_parse(text, len, IMP_MAX_FILE, true, &le);
	fmt = json_string_value(json_object_get(outer, "format"));
	if (outer == NULL || fmt == NULL || strcmp(fmt, IMP_FORMAT) != 0 ||
	    smimp_json_get_hex(outer, "nonce", 0, nonce, sizeof nonce, NULL,
			       &le) != SMIMP_OK ||
	    smimp_json_get_b64(outer, "ciphertext", 0, IMP_MAX_FILE, &ct,
			       &ct_len, &le) != SMIMP_OK ||
	    ct_len < crypto_secretbox_MACBYTES) {
		smc_fail(e, SMC_EXIT_CONFIG, "%s is damaged", path);
		goto out;
	}
	plain = smc_secret_alloc(ct_len);
	if (plain == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	if (crypto_secretbox_open_easy((uint8_t *)plain, ct, ct_len, nonce,
				       ks->key) != 0) {
		smc_fail(e, SMC_EXIT_CONFIG, "%s does not open with this "
			 "keystore's key (altered, or from another keystore)",
			 path);
		goto out;
	}
	inner = smimp_json_parse(plain, ct_len - crypto_secretbox_MACBYTES,
				 IMP_MAX_FILE, true, &le);
	if (inner == NULL || !json_is_array(json_object_get(inner, "keys"))) {
		json_decref(inner);
		inner = NULL;
		smc_fail(e, SMC_EXIT_CONFIG, "%s: damaged content", path);
	}
out:
	smc_secret_free(plain);
	free(ct);
	free(text);
	json_decref(outer);
	return inner;
}

static int imp_save(const struct smc_keystore *ks, const char *path,
		    const json_t *inner, struct smc_err *e)
{
	uint8_t nonce[crypto_secretbox_NONCEBYTES], *ct = NULL;
	char *plain = NULL, *text = NULL;
	size_t plain_len;
	json_t *outer = NULL;
	int rc = -1;

	plain_len = json_dumpb(inner, NULL, 0, JSON_COMPACT);
	if (plain_len == 0 || plain_len > IMP_MAX_FILE / 2)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "imported keys too large");
	plain = smc_secret_alloc(plain_len);
	ct = malloc(plain_len + crypto_secretbox_MACBYTES);
	if (plain == NULL || ct == NULL ||
	    json_dumpb(inner, plain, plain_len, JSON_COMPACT) != plain_len)
		goto oom;
	randombytes_buf(nonce, sizeof nonce);
	crypto_secretbox_easy(ct, (const uint8_t *)plain, plain_len, nonce,
			      ks->key);
	outer = json_object();
	if (outer == NULL ||
	    json_object_set_new(outer, "format", json_string(IMP_FORMAT)) ||
	    json_object_set_new(outer, "version", json_integer(1)) ||
	    smimp_json_set_hex(outer, "nonce", nonce, sizeof nonce) ||
	    smimp_json_set_b64(outer, "ciphertext", ct,
			       plain_len + crypto_secretbox_MACBYTES))
		goto oom;
	text = json_dumps(outer, JSON_INDENT(1));
	if (text == NULL)
		goto oom;
	rc = smc_file_write_atomic(path, text, strlen(text), e);
	goto out;
oom:
	smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
out:
	free(text);
	free(ct);
	smc_secret_free(plain);
	json_decref(outer);
	return rc;
}

/* Adds entry (of message id) to store's key list, unless that message was
 * imported before or the list is full. */
static int imp_append(json_t *store, const char *id, json_t *entry,
		      struct smc_err *e)
{
	json_t *keys = json_object_get(store, "keys"), *v;
	size_t i;

	json_array_foreach(keys, i, v) {
		const char *mid = json_string_value(
			json_object_get(v, "message_id"));

		if (mid != NULL && strcmp(mid, id) == 0)
			return smc_fail(e, SMC_EXIT_CANTCREAT, "the key of "
					"message %s was imported before (%s); "
					"nothing changed", id,
					json_string_value(json_object_get(
						v, "imported_at")));
	}
	if (json_array_size(keys) >= IMP_MAX_KEYS)
		return smc_fail(e, SMC_EXIT_CANTCREAT, "%u imported keys "
				"already", IMP_MAX_KEYS);
	if (json_array_append(keys, entry) != 0)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	return 0;
}

/* The read-modify-write of the imported file, under the keystore's lock
 * (the file is encrypted with the keystore's key): without it, of two
 * imports at once the later save would drop the other's entry. */
static int imp_add(struct smc_keystore *ks, const char *path, const char *id,
		   json_t *entry, struct smc_err *e)
{
	json_t *store;
	int rc = -1;

	if (smc_keystore_lock(ks, e) != 0)
		return -1;
	store = imp_load(ks, path, e);
	if (store != NULL && imp_append(store, id, entry, e) == 0)
		rc = imp_save(ks, path, store, e);
	json_decref(store);
	smc_keystore_unlock(ks);
	return rc;
}

/* The entry to store, and what to show (public half, note). */
static json_t *entry_of(const struct smimp_payload *p, char *pub_hex,
			size_t pub_size, const char **kind_out,
			const char **note)
{
	char sec[129];
	json_t *o = NULL;

	*kind_out = "";
	switch (p->type) {
	case SMIMP_MSGTYPE_SECRET_ED25519:
		smimp_hex_encode(pub_hex, pub_size,
				 p->secret_ed25519.public_key.b, 32);
		smimp_hex_encode(sec, sizeof sec,
				 p->secret_ed25519.secret_key.b, 64);
		o = json_pack("{s:s, s:s, s:s}", "type", "secret-ed25519",
			      "public_key", pub_hex, "secret_key", sec);
		*note = p->secret_ed25519.note;
		break;
	case SMIMP_MSGTYPE_SECRET_CURVE25519:
		smimp_hex_encode(pub_hex, pub_size,
				 p->secret_curve25519.public_key.b, 32);
		smimp_hex_encode(sec, sizeof sec,
				 p->secret_curve25519.secret_key.b, 32);
		*kind_out = smimp_msgkey_kind_name(p->secret_curve25519.kind);
		o = json_pack("{s:s, s:s, s:s, s:s}", "type",
			      "secret-curve25519", "public_key", pub_hex,
			      "secret_key", sec, "kind", *kind_out);
		*note = p->secret_curve25519.note;
		break;
	case SMIMP_MSGTYPE_SECRET_XSALSA20: {
		struct smimp_hash h;

		/* A key id to show: a hash, never the key. */
		smimp_hash_plain(&h, p->secret_xsalsa20.key, 32);
		smimp_hex_encode(pub_hex, pub_size, h.b, 32);
		smimp_hex_encode(sec, sizeof sec, p->secret_xsalsa20.key, 32);
		o = json_pack("{s:s, s:s, s:s}", "type", "secret-xsalsa20",
			      "key_id", pub_hex, "key", sec);
		*note = p->secret_xsalsa20.note;
		break;
	}
	default:
		break;
	}
	sodium_memzero(sec, sizeof sec);
	return o;
}

int smc_keyimport_run(struct smc_ctx *c, struct smc_account *a,
		      const char *id_arg, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	struct smimp_stored_envelope se;
	struct smc_read_result rr;
	enum smimp_msgtype type;
	const char *kind = "", *note = NULL;
	char id[65], endpoint[128], dir[PATH_MAX], path[PATH_MAX + 16];
	char pub_hex[65], ts[SMIMP_TIMESTAMP_LEN + 1];
	json_t *ans = NULL, *entry = NULL;
	int rc = -1, have_rr = 0;

	memset(&se, 0, sizeof se);
	memset(&rr, 0, sizeof rr);
	if (id_check(id, id_arg, e) != 0)
		return -1;
	snprintf(endpoint, sizeof endpoint, "message/%s/false", id);
	if (smc_api_call(c->t, &a->server, &a->session, SMC_GET, endpoint,
			 NULL, SMC_API_MAX_RESPONSE, &ans, e) != 0)
		return smc_fail_prefix(e, "fetching message %s", id);
	if (ans == NULL ||
	    smimp_stored_envelope_from_json(&se, ans,
					    SMIMP_ENVELOPE_DEFAULT_MAX_BYTES * 4,
					    &le) != SMIMP_OK) {
		smc_fail(e, SMC_EXIT_PROTOCOL, "message %s: the server sent "
			 "an invalid envelope: %s", id,
			 ans == NULL ? "empty" : le.message);
		goto out;
	}
	if (strcmp(se.env.recipient, a->ks->address) != 0) {
		smc_fail(e, SMC_EXIT_PROTOCOL, "message %s is addressed to "
			 "%s, not to %s", id, se.env.recipient, a->ks->address);
		goto out;
	}
	if (smimp_msgtype_parse(&type, se.env.message_type,
				strlen(se.env.message_type), &le) != SMIMP_OK ||
	    (type != SMIMP_MSGTYPE_SECRET_ED25519 &&
	     type != SMIMP_MSGTYPE_SECRET_CURVE25519 &&
	     type != SMIMP_MSGTYPE_SECRET_XSALSA20)) {
		smc_fail(e, SMC_EXIT_DATAERR, "message %s is of type %.80s, "
			 "not a secret key (secret-ed25519, secret-curve25519 "
			 "or secret-xsalsa20)", id, se.env.message_type);
		goto out;
	}
	/* The read path of `smimp read` (reader.c): sender resolved and
	 * pinned, sender_public_key in its history, message hash verified,
	 * decrypted with our message key, payload parsed strictly. */
	if (smc_reader_open(c, a, &se, id, &rr, e) != 0) {
		smc_fail_prefix(e, "message %s", id);
		goto out;
	}
	have_rr = 1;
	if (!rr.valid || !rr.has_payload) {
		smc_fail(e, SMC_EXIT_PROTOCOL, "message %s is INVALID (%s); "
			 "nothing imported", id, rr.reason);
		goto out;
	}
	if (rr.sender_key_replaced)
		fprintf(stderr, "smimp: warning: %s has replaced the key that "
			"signed this message since\n", se.env.sender);
	entry = entry_of(&rr.payload, pub_hex, sizeof pub_hex, &kind, &note);
	smimp_timestamp_format(ts, smimp_timestamp_now());
	if (entry == NULL ||
	    json_object_set_new(entry, "note", json_string(note ? note : "")) ||
	    json_object_set_new(entry, "from", json_string(se.env.sender)) ||
	    json_object_set_new(entry, "message_id", json_string(id)) ||
	    json_object_set_new(entry, "imported_at", json_string(ts))) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	if (smc_home_account_dir(&c->home, a->ks->address, 0, dir, sizeof dir,
				 e) != 0)
		goto out;
	snprintf(path, sizeof path, "%s/imported", dir);
	if (imp_add(a->ks, path, id, entry, e) != 0)
		goto out;
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
				      "imported", se.env.message_type,
				      type == SMIMP_MSGTYPE_SECRET_XSALSA20
					      ? "key_id" : "public_key", pub_hex,
				      "kind", kind, "note", note ? note : "",
				      "from", se.env.sender, "message_id", id);

		rc = o != NULL ? smc_print_json(o, e)
			       : smc_fail(e, SMC_EXIT_SOFTWARE, "oom");
		json_decref(o);
	} else {
		printf("imported a %s key from %s (message %s, verified "
		       "and decrypted)\n  %s %s\n",
		       se.env.message_type, se.env.sender, id,
		       type == SMIMP_MSGTYPE_SECRET_XSALSA20 ? "key id    "
							     : "public key",
		       pub_hex);
		if (kind[0])
			printf("  kind       %s\n", kind);
		printf("  note       ");
		smc_render_safe(stdout, note ? note : "", note ? strlen(note) : 0);
		printf("\n  stored in  %s (encrypted with the keystore's key)\n",
		       path);
		rc = 0;
	}
out:
	json_decref(entry);
	json_decref(ans);
	if (have_rr)
		smc_read_result_clear(&rr);
	smimp_stored_envelope_clear(&se);
	return rc;
}

/* The outbox (see outbox.h). Untrusted input: the entry files, which may
 * have been damaged or altered; the secretbox MAC rejects any change, the
 * decrypted document is checked member by member, and the id inside must
 * equal the file's name. Plaintext lives in malloc'ed buffers that are
 * wiped before they are freed. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "smimp/address.h"
#include "smimp/b64.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/timestamp.h"

#include "fsutil.h"
#include "outbox.h"

#define OB_FORMAT "smimp-outbox"
#define OB_MAX_FILE (SMC_OUTBOX_MAX_PAYLOAD * 2u + 64u * 1024u)
#define OB_MAX_INNER (SMC_OUTBOX_MAX_PAYLOAD / 3u * 4u + 64u * 1024u)

_Static_assert(crypto_kdf_KEYBYTES == 32, "kdf key size");

int smc_outbox_id_valid(const char *s)
{
	return smimp_hex_is_valid(s, strlen(s), SMC_OUTBOX_ID_LEN / 2);
}

int smc_outbox_open(struct smc_outbox *ob, const struct smc_home *h,
		    const struct smc_keystore *ks, struct smc_err *e)
{
	char acct[PATH_MAX];

	memset(ob, 0, sizeof *ob);
	ob->lock_fd = -1;
	if (smc_home_account_dir(h, ks->address, 1, acct, sizeof acct, e) != 0)
		return -1;
	if (snprintf(ob->dir, sizeof ob->dir, "%s/outbox", acct) >=
		    (int)sizeof ob->dir ||
	    snprintf(ob->lock_path, sizeof ob->lock_path, "%s/outbox.lock",
		     acct) >= (int)sizeof ob->lock_path)
		return smc_fail(e, SMC_EXIT_CONFIG, "home path too long");
	if (smc_dir_ensure(ob->dir, e) != 0)
		return -1;
	ob->key = smc_secret_alloc(crypto_secretbox_KEYBYTES);
	if (ob->key == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	/* A subkey of the keystore's file key: only the passphrase opens
	 * the outbox, and the key itself is never on disk. */
	crypto_kdf_derive_from_key(ob->key, crypto_secretbox_KEYBYTES, 1,
				   "smcoutbx", ks->key);
	if (smc_lock_acquire(ob->lock_path, &ob->lock_fd, e) != 0) {
		smc_outbox_close(ob);
		return -1;
	}
	return 0;
}

void smc_outbox_close(struct smc_outbox *ob)
{
	if (ob->lock_fd >= 0)
		smc_lock_release(ob->lock_fd);
	smc_secret_free(ob->key);
	ob->key = NULL;
	ob->lock_fd = -1;
}

static void wipe_free(void *p, size_t len)
{
	if (p != NULL) {
		sodium_memzero(p, len);
		free(p);
	}
}

void smc_outbox_entry_free(struct smc_outbox_entry *en)
{
	wipe_free(en->payload, en->payload_len);
	sodium_memzero(en, sizeof *en);
}

int smc_outbox_entry_new(struct smc_outbox_entry *en, const char *recipient,
			 const char *message_type, const uint8_t *payload,
			 size_t len, struct smc_err *e)
{
	uint8_t rnd[SMC_OUTBOX_ID_LEN / 2];

	memset(en, 0, sizeof *en);
	if (len > SMC_OUTBOX_MAX_PAYLOAD)
		return smc_fail(e, SMC_EXIT_DATAERR,
				"the message is larger than the outbox keeps "
				"(%u bytes)", SMC_OUTBOX_MAX_PAYLOAD);
	randombytes_buf(rnd, sizeof rnd);
	smimp_hex_encode(en->id, sizeof en->id, rnd, sizeof rnd);
	snprintf(en->recipient, sizeof en->recipient, "%s", recipient);
	snprintf(en->message_type, sizeof en->message_type, "%s",
		 message_type);
	en->payload = malloc(len > 0 ? len : 1);
	if (en->payload == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	if (len > 0)
		memcpy(en->payload, payload, len);
	en->payload_len = len;
	en->created_at = smimp_timestamp_now();
	en->next_attempt_at = en->created_at;
	return 0;
}

void smc_outbox_entry_failed(struct smc_outbox_entry *en, const char *error)
{
	int64_t delay = SMC_OUTBOX_BACKOFF_FIRST;

	for (unsigned i = 0; i < en->attempts && delay < SMC_OUTBOX_BACKOFF_MAX;
	     i++)
		delay *= 2;
	if (delay > SMC_OUTBOX_BACKOFF_MAX)
		delay = SMC_OUTBOX_BACKOFF_MAX;
	en->attempts++;
	en->next_attempt_at = smimp_timestamp_now() + delay;
	snprintf(en->last_error, sizeof en->last_error, "%s", error);
}

static int entry_path(const struct smc_outbox *ob, const char *id,
		      char out[PATH_MAX], struct smc_err *e)
{
	if (!smc_outbox_id_valid(id))
		return smc_fail(e, SMC_EXIT_USAGE,
				"%.100s is not an outbox id (32 hex digits; "
				"smimp outbox lists them)", id);
	if (snprintf(out, PATH_MAX, "%s/%s", ob->dir, id) >= PATH_MAX)
		return smc_fail(e, SMC_EXIT_CONFIG, "home path too long");
	return 0;
}

static json_t *inner_json(const struct smc_outbox_entry *en)
{
	json_t *o = json_object();

	if (o == NULL ||
	    json_object_set_new(o, "id", json_string(en->id)) ||
	    json_object_set_new(o, "recipient", json_string(en->recipient)) ||
	    json_object_set_new(o, "message_type",
				json_string(en->message_type)) ||
	    smimp_json_set_b64(o, "payload", en->payload, en->payload_len) ||
	    json_object_set_new(o, "created_at",
				json_integer(en->created_at)) ||
	    json_object_set_new(o, "next_attempt_at",
				json_integer(en->next_attempt_at)) ||
	    json_object_set_new(o, "attempts", json_integer(en->attempts)) ||
	    json_object_set_new(o, "last_error", json_string(en->last_error))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int smc_outbox_put(const struct smc_outbox *ob,
		   const struct smc_outbox_entry *en, struct smc_err *e)
{
	char path[PATH_MAX];
	uint8_t nonce[crypto_secretbox_NONCEBYTES];
	json_t *inner = NULL, *outer = NULL;
	char *plain = NULL, *text = NULL;
	uint8_t *box = NULL;
	size_t plain_len = 0, box_len = 0;
	int rc = -1;

	if (entry_path(ob, en->id, path, e) != 0)
		return -1;
	inner = inner_json(en);
	if (inner == NULL || (plain = smimp_json_dump(inner)) == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	plain_len = strlen(plain);
	box_len = plain_len + crypto_secretbox_MACBYTES;
	box = malloc(box_len);
	if (box == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	randombytes_buf(nonce, sizeof nonce);
	crypto_secretbox_easy(box, (const uint8_t *)plain, plain_len, nonce,
			      ob->key);
	outer = json_object();
	if (outer == NULL ||
	    json_object_set_new(outer, "format", json_string(OB_FORMAT)) ||
	    json_object_set_new(outer, "version", json_integer(1)) ||
	    smimp_json_set_hex(outer, "nonce", nonce, sizeof nonce) ||
	    smimp_json_set_b64(outer, "box", box, box_len) ||
	    (text = smimp_json_dump(outer)) == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	if (smc_file_write_atomic(path, text, strlen(text), e) != 0) {
		smc_fail_prefix(e, "outbox");
		goto out;
	}
	rc = 0;
out:
	json_decref(inner);
	json_decref(outer);
	wipe_free(plain, plain_len);
	free(box);
	free(text);
	return rc;
}

static int read_inner(const json_t *v, const char *id,
		      struct smc_outbox_entry *en, struct smimp_error *le)
{
	const char *s;
	size_t n;
	long long t;

	if (smimp_json_get_string(v, "id", 0, SMC_OUTBOX_ID_LEN, &s, &n,
				  le) != SMIMP_OK)
		return -1;
	if (strcmp(s, id) != 0) {
		smimp_error_set(le, SMIMP_ERR_BAD_REQUEST,
				"the entry belongs to another id");
		return -1;
	}
	snprintf(en->id, sizeof en->id, "%s", s);
	if (smimp_json_get_string(v, "recipient", 0, SMIMP_ADDRESS_MAX, &s, &n,
				  le) != SMIMP_OK ||
	    !smimp_address_is_normal(s, n))
		return -1;
	memcpy(en->recipient, s, n + 1);
	if (smimp_json_get_string(v, "message_type", 0, SMIMP_MSGTYPE_MAX, &s,
				  &n, le) != SMIMP_OK ||
	    !smimp_msgtype_is_valid(s, n))
		return -1;
	memcpy(en->message_type, s, n + 1);
	if (smimp_json_get_b64(v, "payload", 0, SMC_OUTBOX_MAX_PAYLOAD,
			       &en->payload, &en->payload_len, le) != SMIMP_OK)
		return -1;
	if (smimp_json_get_int(v, "created_at", 0, 0, INT64_MAX / 2, &t, le))
		return -1;
	en->created_at = t;
	if (smimp_json_get_int(v, "next_attempt_at", 0, 0, INT64_MAX / 2, &t,
			       le))
		return -1;
	en->next_attempt_at = t;
	if (smimp_json_get_int(v, "attempts", 0, 0, 1000000000, &t, le))
		return -1;
	en->attempts = (unsigned)t;
	if (smimp_json_get_string(v, "last_error", 0, 100000, &s, &n, le))
		return -1;
	snprintf(en->last_error, sizeof en->last_error, "%s", s);
	return 0;
}

int smc_outbox_get(const struct smc_outbox *ob, const char *id,
		   struct smc_outbox_entry *en, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	char path[PATH_MAX];
	uint8_t nonce[crypto_secretbox_NONCEBYTES];
	char *text = NULL;
	uint8_t *box = NULL, *plain = NULL;
	size_t text_len = 0, box_len = 0, plain_len = 0;
	json_t *outer = NULL, *inner = NULL;
	const char *fmt;
	bool missing = false;
	int rc = -1;

	memset(en, 0, sizeof *en);
	if (entry_path(ob, id, path, e) != 0)
		return -1;
	if (smc_file_read(path, OB_MAX_FILE, false, &text, &text_len, &missing,
			  e) != 0) {
		if (missing)
			smc_fail(e, SMC_EXIT_NOINPUT,
				 "no outbox entry %s (smimp outbox lists them)",
				 id);
		return -1;
	}
	outer = smimp_json_parse(text, text_len, OB_MAX_FILE, true, &le);
	if (outer == NULL ||
	    smimp_json_get_string(outer, "format", 0, 32, &fmt, NULL, &le) ||
	    strcmp(fmt, OB_FORMAT) != 0 ||
	    smimp_json_get_hex(outer, "nonce", 0, nonce, sizeof nonce, NULL,
			       &le) ||
	    smimp_json_get_b64(outer, "box", 0, OB_MAX_INNER, &box, &box_len,
			       &le) ||
	    box_len < crypto_secretbox_MACBYTES) {
		smc_fail(e, SMC_EXIT_CONFIG, "outbox entry %s is damaged", id);
		goto out;
	}
	plain_len = box_len - crypto_secretbox_MACBYTES;
	plain = malloc(plain_len + 1);
	if (plain == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	if (crypto_secretbox_open_easy(plain, box, box_len, nonce, ob->key) != 0) {
		smc_fail(e, SMC_EXIT_CONFIG,
			 "outbox entry %s does not decrypt with this keystore "
			 "(altered, or written under another passphrase)", id);
		goto out;
	}
	inner = smimp_json_parse((const char *)plain, plain_len, OB_MAX_INNER,
				 true, &le);
	if (inner == NULL || read_inner(inner, id, en, &le) != 0) {
		smc_outbox_entry_free(en);
		smc_fail(e, SMC_EXIT_CONFIG, "outbox entry %s is damaged: %s",
			 id, le.message);
		goto out;
	}
	rc = 0;
out:
	json_decref(outer);
	json_decref(inner);
	free(text);
	free(box);
	wipe_free(plain, plain_len + 1);
	return rc;
}

int smc_outbox_remove(const struct smc_outbox *ob, const char *id,
		      struct smc_err *e)
{
	char path[PATH_MAX];

	if (entry_path(ob, id, path, e) != 0)
		return -1;
	if (unlink(path) != 0) {
		if (errno == ENOENT)
			return smc_fail(e, SMC_EXIT_NOINPUT,
					"no outbox entry %s", id);
		return smc_fail(e, SMC_EXIT_IOERR, "cannot remove %s: %s",
				path, strerror(errno));
	}
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

int smc_outbox_ids(const struct smc_outbox *ob,
		   char (**ids)[SMC_OUTBOX_ID_LEN + 1], size_t *n,
		   struct smc_err *e)
{
	DIR *d = opendir(ob->dir);
	struct dirent *de;
	char (*v)[SMC_OUTBOX_ID_LEN + 1] = NULL, (*nv)[SMC_OUTBOX_ID_LEN + 1];
	size_t cnt = 0, cap = 0;

	*ids = NULL;
	*n = 0;
	if (d == NULL)
		return smc_fail(e, SMC_EXIT_IOERR, "cannot read %s: %s",
				ob->dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != SMC_OUTBOX_ID_LEN ||
		    !smc_outbox_id_valid(de->d_name))
			continue; /* temporary files and strangers */
		if (cnt == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			nv = realloc(v, cap * sizeof *v);
			if (nv == NULL) {
				free(v);
				closedir(d);
				return smc_fail(e, SMC_EXIT_SOFTWARE,
						"out of memory");
			}
			v = nv;
		}
		memcpy(v[cnt++], de->d_name, SMC_OUTBOX_ID_LEN + 1);
	}
	closedir(d);
	if (cnt > 1)
		qsort(v, cnt, sizeof *v, cmp_id);
	*ids = v;
	*n = cnt;
	return 0;
}

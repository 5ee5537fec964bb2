/* The encrypted keystore (see keystore.h). Untrusted input: the file may
 * have been damaged or altered; its KDF limits are bounded before use, the
 * secretbox MAC rejects any change to the ciphertext, and the decrypted
 * document is checked member by member (every key pair must match its
 * public half). Plaintext only ever lives in sodium_malloc'ed buffers and
 * in jansson blocks, which libsmimp wipes when freed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "smimp/address.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/timestamp.h"

#include "fsutil.h"
#include "keystore.h"

#define KS_FORMAT "smimp-keystore"
#define KS_KDF_ALG "argon2id13"
#define KS_MAX_FILE (64u * 1024u * 1024u)
#define KS_MAX_PLAIN (48u * 1024u * 1024u)

_Static_assert(sizeof(((struct smc_keystore *)0)->salt) ==
	       crypto_pwhash_SALTBYTES, "salt size");
_Static_assert(sizeof(((struct smc_keystore *)0)->key) ==
	       crypto_secretbox_KEYBYTES, "key size");

const char *smc_keystore_state_name(enum smc_ks_state s)
{
	return s == SMC_KS_READY ? "ready" : "pending";
}

static void free_keys(struct smc_keystore *ks)
{
	smc_secret_free(ks->old_masters);
	smc_secret_free(ks->nonephemeral);
	smc_secret_free(ks->ephemeral);
}

void smc_keystore_free(struct smc_keystore *ks)
{
	if (ks == NULL)
		return;
	free_keys(ks);
	smc_keystore_unlock(ks);
	smc_secret_free(ks); /* wipes the master key and the file key */
}

static struct smc_keystore *ks_alloc(void)
{
	struct smc_keystore *ks = smc_secret_alloc(sizeof *ks);

	if (ks != NULL)
		ks->lock_fd = -1;
	return ks;
}

/* An empty keystore object for path (shorter than PATH_MAX) that encrypts
 * with ks's file key: the same salt, limits and derived key, so ks's
 * passphrase opens it. */
static struct smc_keystore *ks_alloc_like(const struct smc_keystore *ks,
					  const char *path)
{
	struct smc_keystore *n = ks_alloc();

	if (n == NULL)
		return NULL;
	strcpy(n->path, path);
	n->opslimit = ks->opslimit;
	n->memlimit = ks->memlimit;
	memcpy(n->salt, ks->salt, sizeof n->salt);
	memcpy(n->key, ks->key, sizeof n->key);
	return n;
}

/* Takes the lock file beside the keystore: the keystore file itself is
 * replaced by every save, and a lock on it would go with the old file. */
static int lock_file(struct smc_keystore *ks, struct smc_err *e)
{
	char lock[PATH_MAX + 8];

	/* fcntl locks belong to the process: a second lock would not wait,
	 * and the first unlock would drop both. */
	if (ks->lock_fd >= 0)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "%s: locked twice",
				ks->path);
	snprintf(lock, sizeof lock, "%s.lock", ks->path);
	return smc_lock_acquire_timed(lock, SMC_KS_LOCK_TIMEOUT, &ks->lock_fd,
				      e);
}

/* Grows a secret array of key records to hold want entries. */
static int grow(struct smc_ks_key **v, size_t n, size_t *cap, size_t want,
		struct smc_err *e)
{
	struct smc_ks_key *nv;
	size_t ncap = *cap == 0 ? 64 : *cap;

	if (want > SMC_KS_MAX_KEYS)
		return smc_fail(e, SMC_EXIT_DATAERR,
				"more than %u message keys of one kind",
				SMC_KS_MAX_KEYS);
	if (want <= *cap)
		return 0;
	while (ncap < want)
		ncap *= 2;
	nv = smc_secret_alloc(ncap * sizeof *nv);
	if (nv == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	if (n > 0)
		memcpy(nv, *v, n * sizeof *nv);
	smc_secret_free(*v);
	*v = nv;
	*cap = ncap;
	return 0;
}

static void new_key(struct smc_ks_key *k, int64_t now)
{
	smimp_box_keypair_generate(&k->kp);
	k->created_at = now;
	k->uploaded_at = 0;
	k->discarded_at = 0;
}

int smc_keystore_add_ephemeral(struct smc_keystore *ks, size_t n,
			       size_t *first, struct smc_err *e)
{
	int64_t now = smimp_timestamp_now();

	if (grow(&ks->ephemeral, ks->n_ephemeral, &ks->cap_ephemeral,
		 ks->n_ephemeral + n, e) != 0)
		return -1;
	if (first != NULL)
		*first = ks->n_ephemeral;
	for (size_t i = 0; i < n; i++)
		new_key(&ks->ephemeral[ks->n_ephemeral++], now);
	return 0;
}

int smc_keystore_add_nonephemeral(struct smc_keystore *ks, size_t *index,
				  struct smc_err *e)
{
	if (grow(&ks->nonephemeral, ks->n_nonephemeral, &ks->cap_nonephemeral,
		 ks->n_nonephemeral + 1, e) != 0)
		return -1;
	*index = ks->n_nonephemeral;
	new_key(&ks->nonephemeral[ks->n_nonephemeral++], smimp_timestamp_now());
	return 0;
}

int smc_keystore_add_copy(struct smc_keystore *ks, bool ephemeral,
			  const struct smc_ks_key *k, struct smc_err *e)
{
	struct smc_ks_key **v = ephemeral ? &ks->ephemeral : &ks->nonephemeral;
	size_t *n = ephemeral ? &ks->n_ephemeral : &ks->n_nonephemeral;
	size_t *cap = ephemeral ? &ks->cap_ephemeral : &ks->cap_nonephemeral;

	if (grow(v, *n, cap, *n + 1, e) != 0)
		return -1;
	(*v)[(*n)++] = *k;
	return 0;
}

int smc_keystore_replace_master(struct smc_keystore *ks,
				const struct smc_ks_master *m, int64_t now,
				struct smc_err *e)
{
	struct smc_ks_master *old;

	if (ks->n_old_masters >= SMC_KS_MAX_KEYS)
		return smc_fail(e, SMC_EXIT_DATAERR, "more than %u old master "
				"keys", SMC_KS_MAX_KEYS);
	old = smc_secret_alloc((ks->n_old_masters + 1) * sizeof *old);
	if (old == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	if (ks->n_old_masters > 0)
		memcpy(old, ks->old_masters,
		       ks->n_old_masters * sizeof *old);
	old[ks->n_old_masters] = ks->master;
	old[ks->n_old_masters].replaced_at = now;
	smc_secret_free(ks->old_masters);
	ks->old_masters = old;
	ks->n_old_masters++;
	ks->master = *m;
	ks->master.replaced_at = 0;
	return 0;
}

const struct smc_ks_key *smc_keystore_current_nonephemeral(
	const struct smc_keystore *ks)
{
	for (size_t i = ks->n_nonephemeral; i > 0; i--)
		if (ks->nonephemeral[i - 1].discarded_at == 0)
			return &ks->nonephemeral[i - 1];
	return NULL;
}

void smc_keystore_count_ephemeral(const struct smc_keystore *ks, size_t *live,
				  size_t *uploaded)
{
	*live = 0;
	*uploaded = 0;
	for (size_t i = 0; i < ks->n_ephemeral; i++) {
		if (ks->ephemeral[i].discarded_at != 0)
			continue;
		(*live)++;
		if (ks->ephemeral[i].uploaded_at != 0)
			(*uploaded)++;
	}
}

/* ---- file key ------------------------------------------------------- */

static int kdf_limits(unsigned long long *ops, size_t *mem, struct smc_err *e)
{
	const char *level = getenv("SMIMP_KDF");

	if (level == NULL || level[0] == '\0' || strcmp(level, "moderate") == 0) {
		*ops = crypto_pwhash_OPSLIMIT_MODERATE;
		*mem = crypto_pwhash_MEMLIMIT_MODERATE;
	} else if (strcmp(level, "interactive") == 0) {
		*ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	} else if (strcmp(level, "sensitive") == 0) {
		*ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
		*mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
	} else {
		return smc_fail(e, SMC_EXIT_USAGE,
				"SMIMP_KDF must be interactive, moderate or "
				"sensitive");
	}
	return 0;
}

static int derive_key(struct smc_keystore *ks, const char *passphrase,
		      struct smc_err *e)
{
	if (crypto_pwhash(ks->key, sizeof ks->key, passphrase,
			  strlen(passphrase), ks->salt, ks->opslimit,
			  ks->memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return smc_fail(e, SMC_EXIT_SOFTWARE,
				"Argon2id needs more memory than is available "
				"(%zu MiB)", ks->memlimit >> 20);
	return 0;
}

int smc_keystore_create(const char *path, const char *address,
			const char *base_url, const char *passphrase,
			struct smc_keystore **out, struct smc_err *e)
{
	struct smc_keystore *ks;
	size_t idx;

	*out = NULL;
	if (strlen(path) >= PATH_MAX || strlen(address) > SMIMP_ADDRESS_MAX ||
	    strlen(base_url) > SMIMP_BASE_URL_MAX)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "keystore: bad argument");
	ks = ks_alloc();
	if (ks == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	strcpy(ks->path, path);
	/* Locked before the check, so that of two commands creating the same
	 * keystore the second finds the first one's file. */
	if (lock_file(ks, e) != 0)
		goto fail;
	if (smc_path_exists(path)) {
		smc_fail(e, SMC_EXIT_CANTCREAT,
			 "%s already exists; not overwriting a keystore", path);
		goto fail;
	}
	strcpy(ks->address, address);
	strcpy(ks->base_url, base_url);
	ks->state = SMC_KS_PENDING;
	ks->created_at = smimp_timestamp_now();
	smimp_sign_keypair_generate(&ks->master.kp);
	ks->master.created_at = ks->created_at;
	if (kdf_limits(&ks->opslimit, &ks->memlimit, e) != 0)
		goto fail;
	smimp_random_bytes(ks->salt, sizeof ks->salt);
	if (derive_key(ks, passphrase, e) != 0)
		goto fail;
	if (smc_keystore_add_nonephemeral(ks, &idx, e) != 0)
		goto fail;
	*out = ks;
	return 0;
fail:
	smc_keystore_free(ks);
	return -1;
}

int smc_keystore_new_sibling(const struct smc_keystore *ks, const char *path,
			     struct smc_keystore **out, struct smc_err *e)
{
	struct smc_keystore *n;

	*out = NULL;
	if (strlen(path) >= PATH_MAX)
		return smc_fail(e, SMC_EXIT_CONFIG, "%s: path too long", path);
	n = ks_alloc_like(ks, path);
	if (n == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	strcpy(n->address, ks->address);
	strcpy(n->base_url, ks->base_url);
	n->state = ks->state;
	n->created_at = ks->created_at;
	smimp_sign_keypair_generate(&n->master.kp);
	n->master.created_at = smimp_timestamp_now();
	*out = n;
	return 0;
}

/* ---- serialization -------------------------------------------------- */

static json_t *ts_or_null(int64_t t)
{
	char ts[SMIMP_TIMESTAMP_LEN + 1];

	if (t == 0)
		return json_null();
	smimp_timestamp_format(ts, t);
	return json_string(ts);
}

static json_t *ts_json(int64_t t)
{
	char ts[SMIMP_TIMESTAMP_LEN + 1];

	smimp_timestamp_format(ts, t);
	return json_string(ts);
}

static json_t *master_json(const struct smc_ks_master *m)
{
	json_t *o = json_object();

	if (o == NULL ||
	    smimp_json_set_hex(o, "public_key", m->kp.pk.b, sizeof m->kp.pk.b) ||
	    smimp_json_set_hex(o, "secret_key", m->kp.sk.b, sizeof m->kp.sk.b) ||
	    json_object_set_new(o, "created_at", ts_json(m->created_at)) ||
	    json_object_set_new(o, "replaced_at", ts_or_null(m->replaced_at))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *key_json(const struct smc_ks_key *k)
{
	json_t *o = json_object();

	if (o == NULL ||
	    smimp_json_set_hex(o, "public_key", k->kp.pk.b, sizeof k->kp.pk.b) ||
	    smimp_json_set_hex(o, "secret_key", k->kp.sk.b, sizeof k->kp.sk.b) ||
	    json_object_set_new(o, "created_at", ts_json(k->created_at)) ||
	    json_object_set_new(o, "uploaded_at", ts_or_null(k->uploaded_at)) ||
	    json_object_set_new(o, "discarded_at", ts_or_null(k->discarded_at))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *keys_json(const struct smc_ks_key *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++) {
		json_t *k = key_json(&v[i]);

		if (k == NULL || json_array_append_new(a, k) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *inner_json(const struct smc_keystore *ks)
{
	json_t *o = json_object(), *old = json_array();

	for (size_t i = 0; old != NULL && i < ks->n_old_masters; i++) {
		json_t *m = master_json(&ks->old_masters[i]);

		if (m == NULL || json_array_append_new(old, m) != 0) {
			json_decref(old);
			old = NULL;
		}
	}
	if (o == NULL || old == NULL ||
	    json_object_set_new(o, "version", json_integer(1)) ||
	    json_object_set_new(o, "address", json_string(ks->address)) ||
	    json_object_set_new(o, "base_url", json_string(ks->base_url)) ||
	    json_object_set_new(o, "state",
				json_string(smc_keystore_state_name(ks->state))) ||
	    json_object_set_new(o, "created_at", ts_json(ks->created_at)) ||
	    json_object_set_new(o, "master", master_json(&ks->master)) ||
	    json_object_set_new(o, "old_masters", old) ||
	    json_object_set_new(o, "nonephemeral",
				keys_json(ks->nonephemeral, ks->n_nonephemeral)) ||
	    json_object_set_new(o, "ephemeral",
				keys_json(ks->ephemeral, ks->n_ephemeral))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Drops keys discarded too long ago (spec 13: 30 days). */
static void prune(struct smc_ks_key *v, size_t *n, int64_t now)
{
	size_t w = 0;

	for (size_t i = 0; i < *n; i++) {
		if (v[i].discarded_at != 0 &&
		    now - v[i].discarded_at > SMC_KS_KEEP_DISCARDED)
			continue;
		if (w != i)
			v[w] = v[i];
		w++;
	}
	if (w < *n)
		sodium_memzero(&v[w], (*n - w) * sizeof *v);
	*n = w;
}

int smc_keystore_save(struct smc_keystore *ks, struct smc_err *e)
{
	uint8_t nonce[crypto_secretbox_NONCEBYTES];
	json_t *inner = NULL, *outer = NULL, *kdf = NULL;
	char *plain = NULL, *text = NULL;
	uint8_t *ct = NULL;
	size_t plain_len, ct_len;
	int64_t now = smimp_timestamp_now();
	int rc = -1;

	prune(ks->ephemeral, &ks->n_ephemeral, now);
	prune(ks->nonephemeral, &ks->n_nonephemeral, now);
	inner = inner_json(ks);
	if (inner == NULL)
		goto oom;
	/* Dump straight into secret memory: no plain malloc copy. */
	plain_len = json_dumpb(inner, NULL, 0, JSON_COMPACT);
	if (plain_len == 0 || plain_len > KS_MAX_PLAIN)
		goto oom;
	plain = smc_secret_alloc(plain_len);
	if (plain == NULL ||
	    json_dumpb(inner, plain, plain_len, JSON_COMPACT) != plain_len)
		goto oom;
	ct_len = plain_len + crypto_secretbox_MACBYTES;
	ct = malloc(ct_len);
	if (ct == NULL)
		goto oom;
	randombytes_buf(nonce, sizeof nonce);
	crypto_secretbox_easy(ct, (const uint8_t *)plain, plain_len, nonce,
			      ks->key);

	outer = json_object();
	kdf = json_object();
	if (outer == NULL || kdf == NULL ||
	    json_object_set_new(kdf, "algorithm", json_string(KS_KDF_ALG)) ||
	    json_object_set_new(kdf, "opslimit",
				json_integer((json_int_t)ks->opslimit)) ||
	    json_object_set_new(kdf, "memlimit",
				json_integer((json_int_t)ks->memlimit)) ||
	    smimp_json_set_hex(kdf, "salt", ks->salt, sizeof ks->salt) ||
	    json_object_set_new(outer, "format", json_string(KS_FORMAT)) ||
	    json_object_set_new(outer, "version", json_integer(1)) ||
	    json_object_set_new(outer, "address", json_string(ks->address)) ||
	    json_object_set(outer, "kdf", kdf) ||
	    smimp_json_set_hex(outer, "nonce", nonce, sizeof nonce) ||
	    smimp_json_set_b64(outer, "ciphertext", ct, ct_len))
		goto oom;
	text = json_dumps(outer, JSON_INDENT(1));
	if (text == NULL)
		goto oom;
	{
		size_t n = strlen(text);
		char *nl = realloc(text, n + 2);

		if (nl == NULL)
			goto oom;
		text = nl;
		memcpy(text + n, "\n", 2);
	}
	rc = smc_file_write_atomic(ks->path, text, strlen(text), e);
	goto out;
oom:
	smc_fail(e, SMC_EXIT_SOFTWARE, "keystore: out of memory");
out:
	free(text);
	free(ct);
	json_decref(kdf);
	json_decref(outer);
	json_decref(inner);
	smc_secret_free(plain);
	return rc;
}

/* ---- parsing -------------------------------------------------------- */

static int get_ts(const json_t *o, const char *name, int nullable,
		  int64_t *out)
{
	json_t *v = json_object_get(o, name);
	const char *s;

	*out = 0;
	if (nullable && json_is_null(v))
		return 0;
	s = json_string_value(v);
	if (s == NULL || smimp_timestamp_parse(out, s, strlen(s)) != SMIMP_OK)
		return -1;
	return *out == 0 ? -1 : 0;
}

static int get_hex(const json_t *o, const char *name, uint8_t *out,
		   size_t len)
{
	const char *s = json_string_value(json_object_get(o, name));

	return s != NULL && smimp_hex_decode_str(out, len, s) == SMIMP_OK ? 0
									  : -1;
}

static int parse_master(const json_t *o, struct smc_ks_master *m)
{
	struct smimp_sign_keypair check;
	int rc = -1;

	if (get_hex(o, "public_key", m->kp.pk.b, sizeof m->kp.pk.b) != 0 ||
	    get_hex(o, "secret_key", m->kp.sk.b, sizeof m->kp.sk.b) != 0 ||
	    get_ts(o, "created_at", 0, &m->created_at) != 0 ||
	    get_ts(o, "replaced_at", 1, &m->replaced_at) != 0)
		return -1;
	/* The secret key's seed must give the stored public key. */
	smimp_sign_keypair_from_seed(&check, m->kp.sk.b);
	if (sodium_memcmp(check.sk.b, m->kp.sk.b, sizeof check.sk.b) == 0 &&
	    sodium_memcmp(check.pk.b, m->kp.pk.b, sizeof check.pk.b) == 0)
		rc = 0;
	smimp_sign_keypair_wipe(&check);
	return rc;
}

static int parse_keys(const json_t *a, struct smc_ks_key **v, size_t *n,
		      size_t *cap, struct smc_err *e)
{
	json_t *o;
	size_t i;

	if (!json_is_array(a))
		return smc_fail(e, SMC_EXIT_CONFIG, "a key list is missing");
	if (grow(v, 0, cap, json_array_size(a), e) != 0)
		return -1;
	json_array_foreach(a, i, o) {
		struct smc_ks_key *k = &(*v)[i];
		struct smimp_box_pk pk;

		if (get_hex(o, "public_key", pk.b, sizeof pk.b) != 0 ||
		    get_hex(o, "secret_key", k->kp.sk.b, sizeof k->kp.sk.b) != 0 ||
		    get_ts(o, "created_at", 0, &k->created_at) != 0 ||
		    get_ts(o, "uploaded_at", 1, &k->uploaded_at) != 0 ||
		    get_ts(o, "discarded_at", 1, &k->discarded_at) != 0)
			return smc_fail(e, SMC_EXIT_CONFIG,
					"message key %zu is damaged", i);
		smimp_box_keypair_from_secret(&k->kp, &k->kp.sk);
		if (!smimp_box_pk_equal(&pk, &k->kp.pk))
			return smc_fail(e, SMC_EXIT_CONFIG,
					"message key %zu does not match its "
					"public key", i);
		*n = i + 1;
	}
	return 0;
}

static int parse_inner(struct smc_keystore *ks, const json_t *in,
		       const char *outer_address, struct smc_err *e)
{
	const char *addr = json_string_value(json_object_get(in, "address"));
	const char *base = json_string_value(json_object_get(in, "base_url"));
	const char *state = json_string_value(json_object_get(in, "state"));
	json_t *old = json_object_get(in, "old_masters"), *m;
	size_t i;

	if (json_integer_value(json_object_get(in, "version")) != 1 ||
	    addr == NULL || !smimp_address_is_normal(addr, strlen(addr)) ||
	    strcmp(addr, outer_address) != 0 || base == NULL ||
	    strlen(base) > SMIMP_BASE_URL_MAX || state == NULL ||
	    get_ts(in, "created_at", 0, &ks->created_at) != 0)
		return smc_fail(e, SMC_EXIT_CONFIG,
				"%s: the account data is damaged", ks->path);
	strcpy(ks->address, addr);
	strcpy(ks->base_url, base);
	if (strcmp(state, "ready") == 0)
		ks->state = SMC_KS_READY;
	else if (strcmp(state, "pending") == 0)
		ks->state = SMC_KS_PENDING;
	else
		return smc_fail(e, SMC_EXIT_CONFIG, "%s: unknown state",
				ks->path);
	if (parse_master(json_object_get(in, "master"), &ks->master) != 0)
		return smc_fail(e, SMC_EXIT_CONFIG,
				"%s: the master key is damaged", ks->path);
	if (!json_is_array(old))
		return smc_fail(e, SMC_EXIT_CONFIG, "%s: old_masters missing",
				ks->path);
	if (json_array_size(old) > 0) {
		ks->old_masters = smc_secret_alloc(json_array_size(old) *
						   sizeof *ks->old_masters);
		if (ks->old_masters == NULL)
			return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		json_array_foreach(old, i, m) {
			if (parse_master(m, &ks->old_masters[i]) != 0)
				return smc_fail(e, SMC_EXIT_CONFIG,
						"%s: old master key %zu is "
						"damaged", ks->path, i);
			ks->n_old_masters = i + 1;
		}
	}
	if (parse_keys(json_object_get(in, "nonephemeral"), &ks->nonephemeral,
		       &ks->n_nonephemeral, &ks->cap_nonephemeral, e) != 0 ||
	    parse_keys(json_object_get(in, "ephemeral"), &ks->ephemeral,
		       &ks->n_ephemeral, &ks->cap_ephemeral, e) != 0)
		return smc_fail_prefix(e, "%s", ks->path);
	return 0;
}

/* The outer document of a keystore file: what deriving the key and
 * decrypting need. ct is malloc'ed. */
struct ks_file {
	char address[SMIMP_ADDRESS_MAX + 1];
	unsigned long long opslimit;
	size_t memlimit;
	uint8_t salt[16];
	uint8_t nonce[crypto_secretbox_NONCEBYTES];
	uint8_t *ct;
	size_t ct_len;
};

/* Reads path and checks its outer document (format, address, bounded KDF
 * limits). Nothing secret is touched yet. */
static int file_load(const char *path, struct ks_file *f, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	json_t *outer, *kdf;
	const char *s, *addr;
	char *text = NULL;
	size_t len;
	long long ops, mem;
	int rc = -1;

	memset(f, 0, sizeof *f);
	if (smc_file_read(path, KS_MAX_FILE, false, &text, &len, NULL, e) != 0)
		return -1;
	outer = smimp_json_parse(text, len, KS_MAX_FILE, true, &le);
	free(text);
	if (outer == NULL)
		return smc_fail(e, SMC_EXIT_CONFIG, "%s is not a keystore: %s",
				path, le.message);
	kdf = json_object_get(outer, "kdf");
	s = json_string_value(json_object_get(outer, "format"));
	addr = json_string_value(json_object_get(outer, "address"));
	if (s == NULL || strcmp(s, KS_FORMAT) != 0 ||
	    json_integer_value(json_object_get(outer, "version")) != 1 ||
	    addr == NULL || strlen(addr) > SMIMP_ADDRESS_MAX ||
	    !smimp_address_is_normal(addr, strlen(addr))) {
		smc_fail(e, SMC_EXIT_CONFIG,
			 "%s is not a version 1 smimp keystore", path);
		goto out;
	}
	strcpy(f->address, addr);
	s = json_string_value(json_object_get(kdf, "algorithm"));
	if (s == NULL || strcmp(s, KS_KDF_ALG) != 0 ||
	    smimp_json_get_int(kdf, "opslimit", 0,
			       crypto_pwhash_OPSLIMIT_MIN, 64, &ops, &le) ||
	    smimp_json_get_int(kdf, "memlimit", 0, 8192,
			       (long long)crypto_pwhash_MEMLIMIT_SENSITIVE * 4,
			       &mem, &le)) {
		smc_fail(e, SMC_EXIT_CONFIG,
			 "%s: unsupported or out-of-bounds key derivation "
			 "parameters", path);
		goto out;
	}
	f->opslimit = (unsigned long long)ops;
	f->memlimit = (size_t)mem;
	if (smimp_json_get_hex(kdf, "salt", 0, f->salt, sizeof f->salt, NULL,
			       &le) != SMIMP_OK ||
	    smimp_json_get_hex(outer, "nonce", 0, f->nonce, sizeof f->nonce,
			       NULL, &le) != SMIMP_OK ||
	    smimp_json_get_b64(outer, "ciphertext", 0, KS_MAX_PLAIN +
			       crypto_secretbox_MACBYTES, &f->ct, &f->ct_len,
			       &le) != SMIMP_OK ||
	    f->ct_len < crypto_secretbox_MACBYTES) {
		smc_fail(e, SMC_EXIT_CONFIG, "%s is damaged: %s", path,
			 le.message[0] ? le.message : "ciphertext too short");
		goto out;
	}
	rc = 0;
out:
	json_decref(outer);
	return rc;
}

/* Decrypts f with ks->key into ks, whose key lists must still be empty. */
static int decrypt_into(struct smc_keystore *ks, const struct ks_file *f,
			struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	size_t plain_len = f->ct_len - crypto_secretbox_MACBYTES;
	char *plain = smc_secret_alloc(plain_len + 1);
	json_t *inner = NULL;
	int rc = -1;

	if (plain == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	if (crypto_secretbox_open_easy((uint8_t *)plain, f->ct, f->ct_len,
				       f->nonce, ks->key) != 0) {
		smc_fail(e, SMC_EXIT_NOPERM,
			 "wrong passphrase for the keystore of %s (or the file "
			 "%s was altered)", f->address, ks->path);
		goto out;
	}
	inner = smimp_json_parse(plain, plain_len, KS_MAX_PLAIN, true, &le);
	if (inner == NULL) {
		smc_fail(e, SMC_EXIT_CONFIG, "%s: damaged content: %s",
			 ks->path, le.message);
		goto out;
	}
	rc = parse_inner(ks, inner, f->address, e);
out:
	json_decref(inner);
	smc_secret_free(plain);
	return rc;
}

int smc_keystore_open(const char *path, const char *passphrase,
		      struct smc_keystore **out, struct smc_err *e)
{
	struct smc_keystore *ks;
	struct ks_file f;

	*out = NULL;
	if (strlen(path) >= PATH_MAX)
		return smc_fail(e, SMC_EXIT_CONFIG, "path too long");
	if (file_load(path, &f, e) != 0)
		return -1;
	ks = ks_alloc();
	if (ks == NULL) {
		free(f.ct);
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	}
	strcpy(ks->path, path);
	ks->opslimit = f.opslimit;
	ks->memlimit = f.memlimit;
	memcpy(ks->salt, f.salt, sizeof ks->salt);
	if (derive_key(ks, passphrase, e) == 0 && decrypt_into(ks, &f, e) == 0) {
		*out = ks;
		ks = NULL;
	}
	free(f.ct);
	smc_keystore_free(ks);
	return *out != NULL ? 0 : -1;
}

/* ---- reloading and locking ------------------------------------------ */

/* Moves fresh's content into ks, which callers keep pointers to; ks keeps
 * its lock. */
static void ks_take(struct smc_keystore *ks, struct smc_keystore *fresh)
{
	fresh->lock_fd = ks->lock_fd;
	free_keys(ks);
	memcpy(ks, fresh, sizeof *ks);
	smc_secret_free(fresh); /* the shell only: its key lists are ks's now */
}

/* Opens path with ks's file key, without the passphrase: *out, or NULL
 * with *foreign set when the file's account, salt or limits are not ks's
 * (its key would not fit), or NULL on another failure (e says why). */
static int open_like(const struct smc_keystore *ks, const char *path,
		     struct smc_keystore **out, bool *foreign,
		     struct smc_err *e)
{
	struct smc_keystore *fresh = NULL;
	struct ks_file f;
	int rc = -1;

	*out = NULL;
	*foreign = false;
	if (file_load(path, &f, e) != 0)
		return -1;
	if (strcmp(f.address, ks->address) != 0 ||
	    f.opslimit != ks->opslimit || f.memlimit != ks->memlimit ||
	    sodium_memcmp(f.salt, ks->salt, sizeof ks->salt) != 0) {
		*foreign = true;
		goto out;
	}
	fresh = ks_alloc_like(ks, path);
	if (fresh == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	if (decrypt_into(fresh, &f, e) != 0)
		goto out;
	*out = fresh;
	fresh = NULL;
	rc = 0;
out:
	smc_keystore_free(fresh);
	free(f.ct);
	return rc;
}

int smc_keystore_reload(struct smc_keystore *ks, struct smc_err *e)
{
	struct smc_keystore *fresh;
	bool foreign;

	/* The key derived at open fits this salt and these limits only. No
	 * command changes them, so a difference means that the file was
	 * replaced by hand. */
	if (open_like(ks, ks->path, &fresh, &foreign, e) != 0)
		return foreign ? smc_fail(e, SMC_EXIT_CONFIG, "%s was replaced "
					  "by another keystore while this "
					  "command ran; run it again",
					  ks->path) : -1;
	ks_take(ks, fresh);
	return 0;
}

int smc_keystore_open_sibling(const struct smc_keystore *ks, const char *path,
			      struct smc_keystore **out, bool *foreign,
			      struct smc_err *e)
{
	if (strlen(path) >= PATH_MAX)
		return smc_fail(e, SMC_EXIT_CONFIG, "%s: path too long", path);
	return open_like(ks, path, out, foreign, e);
}

int smc_keystore_lock(struct smc_keystore *ks, struct smc_err *e)
{
	if (lock_file(ks, e) != 0)
		return -1;
	if (smc_keystore_reload(ks, e) != 0) {
		smc_keystore_unlock(ks);
		return -1;
	}
	return 0;
}

void smc_keystore_unlock(struct smc_keystore *ks)
{
	smc_lock_release(ks->lock_fd);
	ks->lock_fd = -1;
}

int smc_keystore_mark_used(struct smc_keystore *ks,
			   const struct smimp_box_pk *pk, struct smc_err *e)
{
	int rc = 0;

	if (smc_keystore_lock(ks, e) != 0)
		return -1;
	for (size_t i = 0; i < ks->n_ephemeral; i++) {
		struct smc_ks_key *k = &ks->ephemeral[i];

		if (!smimp_box_pk_equal(&k->kp.pk, pk))
			continue;
		if (k->discarded_at == 0) {
			k->discarded_at = smimp_timestamp_now();
			rc = smc_keystore_save(ks, e);
		}
		break;
	}
	smc_keystore_unlock(ks);
	return rc;
}

/* One suite of store tests (store.h, store_identity.h, store_mail.h) run
 * against any backend: smimpd_store_test URL, where URL is "sqlite:PATH" or
 * "postgresql://..." of an empty database. Every operation of the three
 * tables, their NOT_FOUND/CONFLICT answers, and concurrent key draws (no
 * key issued twice). Values are made up here: no untrusted input. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "store_identity.h"
#include "store_mail.h"

static int fails, checks;
static struct smd_db db;

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (ok)
		return;
	fails++;
	fputs("FAIL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
static void check_rc(enum smd_store_rc got, enum smd_store_rc want,
		     const char *what, int line)
{
	check(got == want, "%s: store answered %d, want %d (line %d)", what,
	      (int)got, (int)want, line);
}
#define CHECK_RC(got, want, what) check_rc((got), (want), (what), __LINE__)

static void fill(void *p, size_t n, int seed)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)p)[i] = (uint8_t)(seed * 31 + (int)i * 7 + 1);
}

/* ---- write steps: one function, the step chosen by the argument ---- */

enum step {
	ACCOUNT_ADD, ACCOUNT_QUOTA, ACCOUNT_SECRET, ACCOUNT_REMOVE, INIT_FAILURE,
	ACCOUNT_INIT, RECORD_ADD, TXN_LATEST, RECORD_HAS_KEY, KEY_BIND, KEY_BINDING,
	NONEPH_SET, EPH_REPLACE, KEYS_DROP, TOKEN_ADD, TOKEN_USE, SESSION_ADD,
	SESSION_DESTROY, SESSIONS_REKEY, AVATAR_SET, AVATAR_DELETE, PIN_PUT,
	KEY_DRAW, POW_USE, SECRET, MSG_INSERT, MSG_DELETE, MSG_READ,
	MSG_MOVE, MSG_EXT, FOLDER_CREATE, FOLDER_UPDATE, FOLDER_DELETE, LIST_ADD,
	LIST_REMOVE,
};

struct w {
	enum step step;
	const char *address, *other, *folder, *type;
	int64_t id, now;
	long long n;
	struct smd_account_new anew;
	struct smd_account acct;
	struct smd_account_secret sec;
	struct smd_record_row row;
	struct smimp_sign_pk pk;
	size_t nkeys;
	char bound[SMIMP_ADDRESS_MAX + 1];
	struct smimp_msgkey mk, mks[8];
	struct smimp_hash hash;
	struct smd_login_token tok;
	struct smd_session sess;
	struct smd_avatar av;
	struct smimp_pin pin;
	struct smd_key_draw draw;
	struct smimp_token nonce;
	uint8_t secret[32];
	size_t secret_len;
	struct smd_message_new msg;
	struct smd_folder f;
	struct smd_folder_update fu;
	uint8_t data[16];
	bool flag;
};

static enum smd_store_rc wfn(struct smd_txn *t, void *arg)
{
	struct w *a = arg;
	const struct smd_store_ops *o = db.ops;
	const struct smd_identity_store *id = o->identity;
	const struct smd_mail_store *m = o->mail;

	switch (a->step) {
	case ACCOUNT_ADD: return o->account_add(t, &a->anew);
	case ACCOUNT_QUOTA: return o->account_set_quota(t, a->address, a->n);
	case ACCOUNT_SECRET: return o->txn_account_secret(t, a->address, &a->acct, &a->sec);
	case ACCOUNT_REMOVE: return o->account_remove(t, a->address);
	case INIT_FAILURE: return id->init_failure(t, a->address, a->now);
	case ACCOUNT_INIT: return id->account_initialize(t, a->id);
	case RECORD_ADD: return id->record_add(t, a->id, &a->row);
	case TXN_LATEST: return id->txn_latest_record(t, a->id, true, &a->row);
	case RECORD_HAS_KEY: return id->txn_record_has_key(t, a->id, &a->pk);
	case KEY_BIND: return id->key_bind(t, &a->pk, a->address, a->now);
	case KEY_BINDING: return id->key_binding(t, &a->pk, a->bound);
	case NONEPH_SET: return id->nonephemeral_set(t, a->id, &a->mk, &a->pk, a->now);
	case EPH_REPLACE: return id->ephemeral_replace(t, a->id, a->mks, a->nkeys, &a->pk);
	case KEYS_DROP: return id->msgkeys_drop_others(t, a->id, &a->pk);
	case TOKEN_ADD: return id->token_add(t, &a->hash, a->address, a->now + 60, a->now);
	case TOKEN_USE: return id->token_use(t, &a->hash, &a->tok);
	case SESSION_ADD: return id->session_add(t, &a->sess, a->now);
	case SESSION_DESTROY: return id->session_destroy(t, a->sess.hash);
	case SESSIONS_REKEY: return id->sessions_rekey(t, a->address, a->sess.hash, &a->pk);
	case AVATAR_SET: return id->avatar_set(t, a->id, &a->av, a->now);
	case AVATAR_DELETE: return id->avatar_delete(t, a->id);
	case PIN_PUT: return id->pin_put(t, &a->pin, a->now);
	case KEY_DRAW: return m->key_draw(t, a->address, a->other, a->now, a->n, &a->draw);
	case POW_USE: return m->pow_use(t, a->sess.hash, &a->nonce, &a->flag);
	case SECRET: return o->txn_secret(t, a->address, a->data, a->secret, a->secret_len);
	case MSG_INSERT: return m->message_insert(t, &a->msg);
	case MSG_DELETE: return m->message_delete(t, a->address, &a->hash);
	case MSG_READ: return m->message_set_read(t, a->address, &a->hash, a->flag);
	case MSG_MOVE: return m->message_move(t, a->address, &a->hash, a->folder);
	case MSG_EXT: return m->message_set_extensions(t, a->address, &a->hash, a->data,
							sizeof a->data, a->flag);
	case FOLDER_CREATE: return m->folder_create(t, a->address, &a->f);
	case FOLDER_UPDATE: return m->folder_update(t, a->address, a->type, a->folder, &a->fu);
	case FOLDER_DELETE: return m->folder_delete(t, a->address, a->type, a->folder);
	case LIST_ADD: return m->list_add(t, a->address, SMIMP_LIST_BLACKLIST, &a->hash,
					  a->data, sizeof a->data, a->now);
	case LIST_REMOVE: return m->list_remove(t, a->address, SMIMP_LIST_BLACKLIST, &a->hash);
	}
	return SMD_STORE_ERROR;
}

static enum smd_store_rc W(struct w *a, enum step s)
{
	a->step = s;
	return smd_db_write(&db, wfn, a);
}

static enum smd_store_rc G(struct w *a, enum step s)
{
	a->step = s;
	return smd_db_write_grouped(&db, wfn, a);
}

/* ---- callbacks ---- */

static bool count_account(const struct smd_account *a, void *arg)
{
	(void)a;
	++*(int *)arg;
	return true;
}
static bool count_record(const struct smd_record_row *r, void *arg)
{
	(void)r;
	++*(int *)arg;
	return true;
}
static bool count_msgkey(const struct smimp_msgkey *k, void *arg)
{
	(void)k;
	++*(int *)arg;
	return true;
}
static bool count_folder(const struct smd_folder *f, void *arg)
{
	(void)f;
	++*(int *)arg;
	return true;
}
static bool count_list(struct smd_list_entry *e, void *arg)
{
	(void)e;
	++*(int *)arg;
	return true;
}

struct page {
	int n;
	struct smd_cursor last;
};
static bool collect_meta(const struct smd_message_meta *mm, void *arg)
{
	struct page *p = arg;

	p->n++;
	p->last.set = true;
	p->last.received_at = mm->received_at;
	p->last.message_id = mm->message_id;
	return true;
}

/* ---- sections ---- */

static const char *ALICE = "alice#a.test", *BOB = "bob#a.test";
static const int64_t NOW = 1700000000;

static int64_t account_id(const char *address)
{
	struct smd_account a;

	CHECK_RC(db.ops->account_get(db.st, address, &a), SMD_STORE_OK, "account get");
	return a.id;
}

static void test_accounts(void)
{
	struct w a = {0};
	struct smd_account acct;
	int n = 0;

	a.anew = (struct smd_account_new){ALICE, "a.test", "$argon2id$fake", NOW + 3600, 1000, NOW};
	CHECK_RC(W(&a, ACCOUNT_ADD), SMD_STORE_OK, "account add");
	CHECK_RC(W(&a, ACCOUNT_ADD), SMD_STORE_CONFLICT, "account add twice");
	a.anew.address = BOB;
	a.anew.quota_limit = -1;
	CHECK_RC(W(&a, ACCOUNT_ADD), SMD_STORE_OK, "account add bob");
	CHECK_RC(db.ops->account_get(db.st, ALICE, &acct), SMD_STORE_OK, "account get");
	check(strcmp(acct.address, ALICE) == 0 && !acct.initialized &&
	      acct.quota_limit == 1000 && acct.used_bytes == 0 && acct.created_at == NOW,
	      "account fields");
	CHECK_RC(db.ops->account_get(db.st, "nobody#a.test", &acct), SMD_STORE_NOT_FOUND,
		 "account get unknown");
	CHECK_RC(db.ops->account_list(db.st, count_account, &n), SMD_STORE_OK, "account list");
	check(n == 2, "account list: %d accounts", n);
	a.address = ALICE;
	a.n = 5000;
	CHECK_RC(W(&a, ACCOUNT_QUOTA), SMD_STORE_OK, "quota");
	a.address = "nobody#a.test";
	CHECK_RC(W(&a, ACCOUNT_QUOTA), SMD_STORE_NOT_FOUND, "quota of unknown");
	a.address = ALICE;
	CHECK_RC(W(&a, ACCOUNT_SECRET), SMD_STORE_OK, "txn account secret");
	check(strcmp(a.sec.pwhash, "$argon2id$fake") == 0 && a.sec.failures == 0 &&
	      a.acct.quota_limit == 5000, "secret fields");
	a.now = NOW + 5;
	CHECK_RC(W(&a, INIT_FAILURE), SMD_STORE_OK, "init failure");
	CHECK_RC(W(&a, ACCOUNT_SECRET), SMD_STORE_OK, "txn account secret");
	check(a.sec.failures == 1 && a.sec.failed_at == NOW + 5 &&
	      a.sec.expires_at == NOW + 3600, "init failure counted");
	a.id = a.acct.id;
	CHECK_RC(W(&a, ACCOUNT_INIT), SMD_STORE_OK, "account initialize");
	CHECK_RC(W(&a, ACCOUNT_SECRET), SMD_STORE_OK, "txn account secret");
	check(a.acct.initialized && a.sec.pwhash[0] == '\0' && a.sec.failures == 0,
	      "initialized, password forgotten");
	a.id = account_id(BOB);
	CHECK_RC(W(&a, ACCOUNT_INIT), SMD_STORE_OK, "account initialize bob");
}

static void test_records(void)
{
	struct w a = {0};
	struct smd_record_row r;
	char data0[] = "{\"seq\":0}", data1[] = "{\"seq\":1}";
	int n = 0;

	a.id = account_id(ALICE);
	a.row.seq = 0;
	a.row.data = data0;
	a.row.data_len = strlen(data0);
	fill(a.row.signed_hash.b, sizeof a.row.signed_hash.b, 1);
	fill(a.row.public_key.b, sizeof a.row.public_key.b, 2);
	CHECK_RC(W(&a, RECORD_ADD), SMD_STORE_OK, "record 0");
	CHECK_RC(W(&a, RECORD_ADD), SMD_STORE_CONFLICT, "record 0 twice");
	a.row.seq = 1;
	a.row.data = data1;
	a.row.data_len = strlen(data1);
	fill(a.row.public_key.b, sizeof a.row.public_key.b, 3);
	CHECK_RC(W(&a, RECORD_ADD), SMD_STORE_OK, "record 1");
	CHECK_RC(db.ops->identity->latest_record(db.st, ALICE, true, &r), SMD_STORE_OK,
		 "latest record");
	check(r.seq == 1 && r.data != NULL && strcmp(r.data, data1) == 0 &&
	      r.data_len == strlen(data1) && r.public_key.b[0] == a.row.public_key.b[0],
	      "latest record fields");
	free(r.data);
	CHECK_RC(db.ops->identity->latest_record(db.st, ALICE, false, &r), SMD_STORE_OK,
		 "latest record without data");
	check(r.data == NULL && r.seq == 1, "no data asked, none given");
	CHECK_RC(db.ops->identity->latest_record(db.st, "nobody#a.test", false, &r),
		 SMD_STORE_NOT_FOUND, "latest record of nobody");
	CHECK_RC(db.ops->identity->history(db.st, ALICE, count_record, &n), SMD_STORE_OK,
		 "history");
	check(n == 2, "history: %d records", n);
	CHECK_RC(db.ops->identity->history(db.st, BOB, count_record, &n), SMD_STORE_NOT_FOUND,
		 "history of bob (none)");
	CHECK_RC(W(&a, TXN_LATEST), SMD_STORE_OK, "txn latest record");
	check(a.row.seq == 1 && strcmp(a.row.data, data1) == 0, "txn latest fields");
	free(a.row.data);
	/* The keys of the history: each record's, no other, not another's. */
	fill(a.pk.b, sizeof a.pk.b, 2);
	CHECK_RC(W(&a, RECORD_HAS_KEY), SMD_STORE_OK, "key of record 0");
	fill(a.pk.b, sizeof a.pk.b, 3);
	CHECK_RC(W(&a, RECORD_HAS_KEY), SMD_STORE_OK, "key of record 1");
	fill(a.pk.b, sizeof a.pk.b, 99);
	CHECK_RC(W(&a, RECORD_HAS_KEY), SMD_STORE_NOT_FOUND, "key of no record");
	a.id = account_id(BOB);
	fill(a.pk.b, sizeof a.pk.b, 2);
	CHECK_RC(W(&a, RECORD_HAS_KEY), SMD_STORE_NOT_FOUND, "alice's key, bob's history");
	/* Key bindings. */
	fill(a.pk.b, sizeof a.pk.b, 2);
	a.address = ALICE;
	a.now = NOW;
	CHECK_RC(W(&a, KEY_BIND), SMD_STORE_OK, "key bind");
	CHECK_RC(W(&a, KEY_BIND), SMD_STORE_OK, "key bind again (no-op)");
	CHECK_RC(W(&a, KEY_BINDING), SMD_STORE_OK, "key binding");
	check(strcmp(a.bound, ALICE) == 0, "bound to alice");
	fill(a.pk.b, sizeof a.pk.b, 99);
	CHECK_RC(W(&a, KEY_BINDING), SMD_STORE_NOT_FOUND, "unbound key");
}

static void test_keys(void)
{
	struct w a = {0};
	struct smimp_msgkey mk;
	int n = 0;

	a.id = account_id(BOB);
	a.now = NOW;
	fill(a.pk.b, sizeof a.pk.b, 7);                 /* signer */
	fill(a.mk.key.b, sizeof a.mk.key.b, 10);
	fill(a.mk.signed_hash.b, sizeof a.mk.signed_hash.b, 11);
	CHECK_RC(db.ops->identity->nonephemeral_get(db.st, a.id, &mk), SMD_STORE_NOT_FOUND,
		 "no non-ephemeral key yet");
	CHECK_RC(W(&a, NONEPH_SET), SMD_STORE_OK, "non-ephemeral set");
	fill(a.mk.key.b, sizeof a.mk.key.b, 12);
	a.now = NOW + 10;
	CHECK_RC(W(&a, NONEPH_SET), SMD_STORE_OK, "non-ephemeral replaced");
	CHECK_RC(db.ops->identity->nonephemeral_get(db.st, a.id, &mk), SMD_STORE_OK,
		 "non-ephemeral get");
	check(memcmp(mk.key.b, a.mk.key.b, sizeof mk.key.b) == 0 &&
	      mk.kind == SMIMP_MSGKEY_NONEPHEMERAL, "current non-ephemeral key");
	for (int i = 0; i < 8; i++) {
		fill(a.mks[i].key.b, sizeof a.mks[i].key.b, 100 + i);
		fill(a.mks[i].signed_hash.b, sizeof a.mks[i].signed_hash.b, 200 + i);
	}
	a.nkeys = 8;
	CHECK_RC(W(&a, EPH_REPLACE), SMD_STORE_OK, "ephemeral replace");
	CHECK_RC(db.ops->identity->ephemeral_list(db.st, a.id, count_msgkey, &n), SMD_STORE_OK,
		 "ephemeral list");
	check(n == 8, "ephemeral keys: %d", n);
}

static void test_tokens_sessions(void)
{
	struct w a = {0};
	struct smd_login_token tok;
	struct smd_session s;
	bool destroyed = true;

	fill(a.hash.b, sizeof a.hash.b, 40);
	a.address = ALICE;
	a.now = NOW;
	CHECK_RC(W(&a, TOKEN_ADD), SMD_STORE_OK, "token add");
	CHECK_RC(db.ops->identity->token_get(db.st, &a.hash, &tok), SMD_STORE_OK, "token get");
	check(!tok.used && tok.expires_at == NOW + 60 && strcmp(tok.address, ALICE) == 0,
	      "token fields");
	CHECK_RC(W(&a, TOKEN_USE), SMD_STORE_OK, "token use");
	check(strcmp(a.tok.address, ALICE) == 0 && a.tok.expires_at == NOW + 60, "used token");
	CHECK_RC(W(&a, TOKEN_USE), SMD_STORE_NOT_FOUND, "token used twice");
	CHECK_RC(db.ops->identity->token_get(db.st, &a.hash, &tok), SMD_STORE_OK, "token get");
	check(tok.used, "token marked used");
	/* Sessions. */
	for (int i = 0; i < 2; i++) {
		fill(a.sess.hash, sizeof a.sess.hash, 50 + i);
		snprintf(a.sess.address, sizeof a.sess.address, "%s", ALICE);
		fill(a.sess.public_key.b, sizeof a.sess.public_key.b, 3);
		fill(a.sess.login_token_hash.b, sizeof a.sess.login_token_hash.b, 40);
		a.sess.expires_at = NOW + 3600;
		CHECK_RC(W(&a, SESSION_ADD), SMD_STORE_OK, "session add");
	}
	CHECK_RC(db.ops->identity->session_get(db.st, a.sess.hash, &s, &destroyed),
		 SMD_STORE_OK, "session get");
	check(!destroyed && !s.remote && strcmp(s.address, ALICE) == 0 &&
	      s.expires_at == NOW + 3600 && s.public_key.b[0] == a.sess.public_key.b[0],
	      "session fields");
	/* Rekey ends the other session (51 kept) and changes the key. */
	fill(a.pk.b, sizeof a.pk.b, 77);
	CHECK_RC(W(&a, SESSIONS_REKEY), SMD_STORE_OK, "sessions rekey");
	CHECK_RC(db.ops->identity->session_get(db.st, a.sess.hash, &s, &destroyed),
		 SMD_STORE_OK, "session get");
	check(!destroyed && memcmp(s.public_key.b, a.pk.b, sizeof a.pk.b) == 0, "rekeyed");
	fill(s.hash, sizeof s.hash, 50);
	CHECK_RC(db.ops->identity->session_get(db.st, s.hash, &s, &destroyed),
		 SMD_STORE_OK, "other session get");
	check(destroyed, "other session ended by rekey");
	CHECK_RC(W(&a, SESSION_DESTROY), SMD_STORE_OK, "session destroy");
	CHECK_RC(db.ops->identity->session_get(db.st, a.sess.hash, &s, &destroyed),
		 SMD_STORE_OK, "session get");
	check(destroyed, "session destroyed");
	fill(s.hash, sizeof s.hash, 99);
	CHECK_RC(db.ops->identity->session_get(db.st, s.hash, &s, &destroyed),
		 SMD_STORE_NOT_FOUND, "unknown session");
	/* A live session of bob's for the mail tests. */
	fill(a.sess.hash, sizeof a.sess.hash, 60);
	snprintf(a.sess.address, sizeof a.sess.address, "%s", BOB);
	CHECK_RC(W(&a, SESSION_ADD), SMD_STORE_OK, "session add bob");
}

static void test_avatars_pins(void)
{
	struct w a = {0};
	struct smd_avatar av;
	struct smimp_pin pin;
	uint8_t img[300];

	fill(img, sizeof img, 5);
	a.id = account_id(ALICE);
	a.now = NOW;
	fill(a.av.hash.b, sizeof a.av.hash.b, 6);
	fill(a.av.signed_hash.b, sizeof a.av.signed_hash.b, 7);
	a.av.mime = "image/png";
	a.av.image = img;
	a.av.image_len = sizeof img;
	CHECK_RC(W(&a, AVATAR_SET), SMD_STORE_OK, "avatar set");
	a.av.mime = "image/jpeg";
	CHECK_RC(W(&a, AVATAR_SET), SMD_STORE_OK, "avatar replaced");
	CHECK_RC(db.ops->identity->avatar_get(db.st, a.id, false, &av), SMD_STORE_OK,
		 "avatar get");
	check(av.image == NULL && strcmp(av.mime, "image/jpeg") == 0, "avatar meta");
	CHECK_RC(db.ops->identity->avatar_file(db.st, &a.av.hash, &av), SMD_STORE_OK,
		 "avatar file");
	check(av.image_len == sizeof img && memcmp(av.image, img, sizeof img) == 0,
	      "avatar image bytes");
	free(av.image);
	CHECK_RC(W(&a, AVATAR_DELETE), SMD_STORE_OK, "avatar delete");
	CHECK_RC(db.ops->identity->avatar_get(db.st, a.id, true, &av), SMD_STORE_NOT_FOUND,
		 "avatar gone");
	snprintf(a.pin.address, sizeof a.pin.address, "carol#b.test");
	fill(a.pin.first_signed_hash.b, sizeof a.pin.first_signed_hash.b, 8);
	fill(a.pin.first_public_key.b, sizeof a.pin.first_public_key.b, 9);
	fill(a.pin.latest_signed_hash.b, sizeof a.pin.latest_signed_hash.b, 10);
	fill(a.pin.latest_public_key.b, sizeof a.pin.latest_public_key.b, 11);
	a.pin.latest_seq = 3;
	CHECK_RC(W(&a, PIN_PUT), SMD_STORE_OK, "pin put");
	a.pin.latest_seq = 4;
	CHECK_RC(W(&a, PIN_PUT), SMD_STORE_OK, "pin update");
	CHECK_RC(db.ops->identity->pin_get(db.st, "carol#b.test", &pin), SMD_STORE_OK, "pin get");
	check(pin.latest_seq == 4 && memcmp(&pin.latest_public_key, &a.pin.latest_public_key,
					    sizeof pin.latest_public_key) == 0, "pin fields");
	CHECK_RC(db.ops->identity->pin_get(db.st, "dave#b.test", &pin), SMD_STORE_NOT_FOUND,
		 "no pin");
}

/* ---- concurrent draws: no key issued twice ---- */

#define DRAWERS 8
static struct smimp_box_pk drawn[DRAWERS];
static bool drawn_eph[DRAWERS];

static void *drawer(void *arg)
{
	int i = (int)(intptr_t)arg;
	struct w a = {0};
	char sender[64];

	snprintf(sender, sizeof sender, "s%d#c.test", i);
	a.address = BOB;
	a.other = sender;
	a.now = NOW;
	a.n = 10;
	if (G(&a, KEY_DRAW) == SMD_STORE_OK) {
		drawn[i] = a.draw.key.key;
		drawn_eph[i] = !a.draw.non_ephemeral;
	}
	return NULL;
}

static void test_draws(void)
{
	pthread_t t[DRAWERS];
	struct w a = {0};
	int eph = 0, n = 0;
	bool dup = false;

	for (int i = 0; i < DRAWERS; i++)
		pthread_create(&t[i], NULL, drawer, (void *)(intptr_t)i);
	for (int i = 0; i < DRAWERS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < DRAWERS; i++) {
		eph += drawn_eph[i];
		for (int j = 0; j < i; j++)
			dup |= drawn_eph[i] && drawn_eph[j] &&
			       memcmp(&drawn[i], &drawn[j], sizeof drawn[i]) == 0;
	}
	check(eph == DRAWERS && !dup, "concurrent draws: %d ephemeral, duplicate %d", eph, dup);
	CHECK_RC(db.ops->identity->ephemeral_list(db.st, account_id(BOB), count_msgkey, &n),
		 SMD_STORE_OK, "ephemeral list");
	check(n == 0, "all 8 keys issued, %d left", n);
	/* None left: the non-ephemeral key. Hourly limit: 0 allowed. */
	a.address = BOB;
	a.other = "s0#c.test";
	a.now = NOW + 1;
	a.n = 10;
	CHECK_RC(G(&a, KEY_DRAW), SMD_STORE_OK, "draw when none left");
	check(a.draw.non_ephemeral, "non-ephemeral when none left");
	a.address = "nobody#a.test";
	CHECK_RC(G(&a, KEY_DRAW), SMD_STORE_NOT_FOUND, "draw for nobody");
}

/* A nonce's single use (the nonce itself is checked by pow_nonce.c). */
static void pow_used_is(const struct w *a, bool want, const char *what)
{
	bool used = !want;

	CHECK_RC(db.ops->mail->pow_used(db.st, a->sess.hash, &a->nonce, &used),
		 SMD_STORE_OK, what);
	check(used == want, what);
}

static void test_pow(void)
{
	struct w a = {0};

	fill(a.sess.hash, sizeof a.sess.hash, 60);
	fill(a.nonce.b, sizeof a.nonce.b, 61);
	pow_used_is(&a, false, "a nonce not named yet is unused");
	CHECK_RC(G(&a, POW_USE), SMD_STORE_OK, "pow use");
	check(a.flag, "the first use is fresh");
	pow_used_is(&a, true, "a nonce named once is used");
	CHECK_RC(G(&a, POW_USE), SMD_STORE_OK, "pow use again");
	check(!a.flag, "the second use is not fresh");
	fill(a.nonce.b, sizeof a.nonce.b, 62);
	pow_used_is(&a, false, "another nonce is unused");
	CHECK_RC(G(&a, POW_USE), SMD_STORE_OK, "pow use of another nonce");
	check(a.flag, "another nonce's first use is fresh");
	fill(a.sess.hash, sizeof a.sess.hash, 99);
	CHECK_RC(G(&a, POW_USE), SMD_STORE_NOT_FOUND, "pow use without its session");
	check(!a.flag, "no use without its session");
}

/* The server's secrets: stored once, the same for every later caller. */
static void test_secret(void)
{
	struct w a = {0};
	uint8_t first[sizeof a.data];

	a.address = "test_secret";     /* the secret's name */
	a.secret_len = sizeof a.data;  /* the fresh value is a.data */
	fill(a.data, sizeof a.data, 1);
	CHECK_RC(W(&a, SECRET), SMD_STORE_OK, "secret stored");
	check(memcmp(a.secret, a.data, sizeof a.data) == 0, "the fresh secret is stored");
	memcpy(first, a.secret, sizeof a.data);
	fill(a.data, sizeof a.data, 2);
	CHECK_RC(W(&a, SECRET), SMD_STORE_OK, "secret read");
	check(memcmp(a.secret, first, sizeof a.data) == 0, "the stored secret wins");
	a.secret_len = 8;
	CHECK_RC(W(&a, SECRET), SMD_STORE_NOT_FOUND, "secret of another length");
}

/* ---- messages, folders, lists, quota ---- */

static struct smimp_accept_result acc;
static uint8_t session60[SMD_SESSION_HASH_BYTES];

/* Set for the next insert only: the nonce was found used (retry_only). */
static bool next_retry_only;

static enum smd_store_rc insert(const char *to, int seed, size_t len, int64_t at,
				struct smimp_hash *id, enum smimp_err *outcome)
{
	struct w a = {0};
	static uint8_t ct[4096];
	struct smimp_envelope *e = &acc.envelope;
	enum smd_store_rc rc;

	memset(&acc, 0, sizeof acc);
	snprintf(e->recipient, sizeof e->recipient, "%s", to);
	snprintf(e->sender, sizeof e->sender, "s0#c.test");
	snprintf(e->message_type, sizeof e->message_type, "email");
	snprintf(e->algorithm, sizeof e->algorithm, "x25519-xsalsa20-poly1305");
	fill(e->message_public_key.b, sizeof e->message_public_key.b, 10); /* old non-eph */
	fill(e->nonce.b, sizeof e->nonce.b, seed);
	fill(ct, len, seed);
	e->ciphertext = ct;
	e->ciphertext_len = len;
	e->has_proof_of_work = seed % 2 == 0;
	snprintf(e->proof_of_work, sizeof e->proof_of_work, "pow-%d", seed);
	fill(e->login_token_hash.b, sizeof e->login_token_hash.b, 40);
	fill(e->message_hash.b, sizeof e->message_hash.b, seed + 1000);
	acc.key_provenance = SMIMP_KEY_NONEPHEMERAL_RECENT;
	acc.has_pow_params = e->has_proof_of_work;
	acc.pow_zero_bits = 8;
	fill(acc.pow_nonce.b, sizeof acc.pow_nonce.b, 61);
	fill(session60, sizeof session60, 60);
	a.msg.acc = &acc;
	a.msg.recipient = to;
	a.msg.session_hash = session60;
	fill(a.msg.sender_public_key.b, sizeof a.msg.sender_public_key.b, 3);
	fill(a.msg.message_id.b, sizeof a.msg.message_id.b, seed + 2000);
	a.msg.received_at = at;
	a.msg.retry_only = next_retry_only;
	next_retry_only = false;
	rc = G(&a, MSG_INSERT);
	*id = a.msg.stored_id;
	*outcome = a.msg.outcome;
	return rc;
}

static void test_messages(void)
{
	struct smimp_hash ids[12], id;
	struct smimp_stored_envelope env;
	struct smd_mail_recipient rcpt;
	struct smd_account acct;
	enum smd_store_rc rc;
	enum smimp_err out;
	struct w a = {0};
	struct page pg = {0};
	bool found = false;
	enum smimp_key_provenance prov;
	int n = 0;

	CHECK_RC(db.ops->mail->recipient_get(db.st, BOB, &rcpt), SMD_STORE_OK, "recipient get");
	check(rcpt.initialized && !rcpt.has_master && rcpt.quota_limit == -1 &&
	      !rcpt.has_lists, "recipient fields");
	CHECK_RC(db.ops->mail->recipient_get(db.st, ALICE, &rcpt), SMD_STORE_OK, "recipient");
	check(rcpt.has_master && rcpt.quota_limit == 5000, "alice has a master key");
	for (int i = 0; i < 12; i++) {
		rc = insert(BOB, i, 100 + (size_t)i, NOW + i / 2, &ids[i], &out);
		CHECK_RC(rc, SMD_STORE_OK, "message insert");
	}
	CHECK_RC(db.ops->account_get(db.st, BOB, &acct), SMD_STORE_OK, "account get");
	check(acct.used_bytes == 12 * 100 + 66, "used bytes %lld", acct.used_bytes);
	/* An identical retry (same hash, same session) answers the first id. */
	rc = insert(BOB, 3, 103, NOW + 99, &id, &out);
	CHECK_RC(rc, SMD_STORE_OK, "identical retry");
	check(memcmp(&id, &ids[3], sizeof id) == 0, "retry answers the first id");
	acc.envelope.ciphertext = NULL;
	CHECK_RC(db.ops->mail->retry_find(db.st, BOB, session60, &acc.envelope.message_hash,
					  &found, &id), SMD_STORE_OK, "retry find");
	check(found && memcmp(&id, &ids[3], sizeof id) == 0, "retry find finds it");
	/* With the nonce found used, only an identical retry answers. */
	next_retry_only = true;
	rc = insert(BOB, 3, 103, NOW + 99, &id, &out);
	CHECK_RC(rc, SMD_STORE_OK, "identical retry with a used nonce");
	check(memcmp(&id, &ids[3], sizeof id) == 0, "it answers the first id");
	next_retry_only = true;
	rc = insert(BOB, 20, 120, NOW + 99, &id, &out);
	CHECK_RC(rc, SMD_STORE_CONFLICT, "another envelope with a used nonce");
	check(out == SMIMP_ERR_BAD_PROOF_OF_WORK, "it is bad_proof_of_work");
	CHECK_RC(db.ops->account_get(db.st, BOB, &acct), SMD_STORE_OK, "account get");
	check(acct.used_bytes == 12 * 100 + 66, "nothing stored: used bytes %lld",
	      acct.used_bytes);
	/* Stored bytes come back as they went in. */
	CHECK_RC(db.ops->mail->message_get(db.st, BOB, &ids[4], &env), SMD_STORE_OK,
		 "message get");
	{
		uint8_t ct[104];

		fill(ct, sizeof ct, 4);
		check(env.env.ciphertext_len == 104 &&
		      memcmp(env.env.ciphertext, ct, sizeof ct) == 0 &&
		      env.env.has_proof_of_work && strcmp(env.env.proof_of_work, "pow-4") == 0 &&
		      env.has_pow_params && env.pow_zero_bits == 8 && !env.read &&
		      !env.has_folder && env.extensions == NULL &&
		      strcmp(env.received_via, "smimp_client") == 0 &&
		      strcmp(env.protocol_version, "0.1") == 0 &&
		      env.received_at == NOW + 2 && strcmp(env.env.sender, "s0#c.test") == 0,
		      "message fields round trip");
	}
	smimp_stored_envelope_clear(&env);
	CHECK_RC(db.ops->mail->message_get(db.st, ALICE, &ids[4], &env), SMD_STORE_NOT_FOUND,
		 "another owner's message is not found");
	CHECK_RC(db.ops->mail->message_get(db.st, BOB, &ids[5], &env), SMD_STORE_OK,
		 "message get odd");
	check(!env.env.has_proof_of_work && !env.has_pow_params, "null pow round trip");
	smimp_stored_envelope_clear(&env);
	/* Pages of 5, newest first, no message twice. */
	for (int page = 0; page < 4; page++) {
		struct page p = {0};
		struct smd_cursor after = pg.last;

		CHECK_RC(db.ops->mail->message_list(db.st, BOB, "email", NULL, &after, 5,
						    collect_meta, &p), SMD_STORE_OK, "list");
		n += p.n;
		pg.last = p.last;
		if (p.n < 5)
			break;
	}
	check(n == 12, "paged listing saw %d messages", n);
	/* Key provenance. */
	CHECK_RC(db.ops->mail->key_provenance(db.st, BOB, "s0#c.test",
					      &acc.envelope.message_public_key, NOW,
					      &prov), SMD_STORE_OK, "key provenance");
	check(prov == SMIMP_KEY_NONEPHEMERAL_RECENT, "recent non-ephemeral: %d", (int)prov);
	CHECK_RC(db.ops->mail->key_provenance(db.st, BOB, "s0#c.test", &drawn[0], NOW, &prov),
		 SMD_STORE_OK, "key provenance ephemeral");
	check(prov == SMIMP_KEY_EPHEMERAL_ISSUED || prov == SMIMP_KEY_UNKNOWN,
	      "ephemeral provenance");
	/* Flags, extensions, folders. */
	a.address = BOB;
	a.hash = ids[0];
	a.flag = true;
	CHECK_RC(G(&a, MSG_READ), SMD_STORE_OK, "set read");
	fill(a.data, sizeof a.data, 9);
	a.flag = false;
	CHECK_RC(G(&a, MSG_EXT), SMD_STORE_OK, "set extensions");
	snprintf(a.f.name, sizeof a.f.name, "work");
	snprintf(a.f.display_name, sizeof a.f.display_name, "Work");
	snprintf(a.f.message_type, sizeof a.f.message_type, "email");
	CHECK_RC(G(&a, FOLDER_CREATE), SMD_STORE_OK, "folder create");
	CHECK_RC(G(&a, FOLDER_CREATE), SMD_STORE_CONFLICT, "folder create twice");
	snprintf(a.f.name, sizeof a.f.name, "sub");
	a.f.has_parent = true;
	snprintf(a.f.parent, sizeof a.f.parent, "work");
	CHECK_RC(G(&a, FOLDER_CREATE), SMD_STORE_OK, "subfolder create");
	snprintf(a.f.parent, sizeof a.f.parent, "nope");
	snprintf(a.f.name, sizeof a.f.name, "x");
	CHECK_RC(G(&a, FOLDER_CREATE), SMD_STORE_NOT_FOUND, "folder with unknown parent");
	a.folder = "work";
	CHECK_RC(G(&a, MSG_MOVE), SMD_STORE_OK, "move to folder");
	CHECK_RC(db.ops->mail->message_get(db.st, BOB, &ids[0], &env), SMD_STORE_OK, "get");
	check(env.read && env.has_folder && strcmp(env.folder, "work") == 0 &&
	      env.extensions_len == sizeof a.data &&
	      memcmp(env.extensions, a.data, sizeof a.data) == 0, "read, folder, extensions");
	smimp_stored_envelope_clear(&env);
	pg = (struct page){0};
	CHECK_RC(db.ops->mail->message_list(db.st, BOB, "email", "work", NULL, 50,
					    collect_meta, &pg), SMD_STORE_OK, "list folder");
	check(pg.n == 1, "one message in work: %d", pg.n);
	CHECK_RC(db.ops->mail->message_list(db.st, BOB, "email", "nope", NULL, 50,
					    collect_meta, &pg), SMD_STORE_NOT_FOUND,
		 "list unknown folder");
	a.type = "email";
	CHECK_RC(G(&a, FOLDER_DELETE), SMD_STORE_CONFLICT, "delete non-empty folder");
	a.fu = (struct smd_folder_update){NULL, "Job", true, "sub"};
	CHECK_RC(G(&a, FOLDER_UPDATE), SMD_STORE_CONFLICT, "folder under its own child");
	a.fu = (struct smd_folder_update){"job", "Job", false, NULL};
	CHECK_RC(G(&a, FOLDER_UPDATE), SMD_STORE_OK, "folder rename");
	n = 0;
	CHECK_RC(db.ops->mail->folder_list(db.st, BOB, NULL, count_folder, &n), SMD_STORE_OK,
		 "folder list");
	check(n == 2, "two folders: %d", n);
	a.folder = NULL;
	CHECK_RC(G(&a, MSG_MOVE), SMD_STORE_OK, "move to the root");
	a.folder = "sub";
	CHECK_RC(G(&a, FOLDER_DELETE), SMD_STORE_OK, "folder delete");
	CHECK_RC(G(&a, FOLDER_DELETE), SMD_STORE_NOT_FOUND, "folder deleted twice");
	/* Delete gives the bytes back. */
	CHECK_RC(G(&a, MSG_DELETE), SMD_STORE_OK, "message delete");
	CHECK_RC(G(&a, MSG_DELETE), SMD_STORE_NOT_FOUND, "message deleted twice");
	CHECK_RC(db.ops->account_get(db.st, BOB, &acct), SMD_STORE_OK, "account get");
	check(acct.used_bytes == 12 * 100 + 66 - 100, "used bytes after delete %lld",
	      acct.used_bytes);
	/* Quota: alice has 5000 bytes. */
	rc = insert(ALICE, 50, 4000, NOW, &id, &out);
	CHECK_RC(rc, SMD_STORE_OK, "insert under quota");
	rc = insert(ALICE, 51, 1001, NOW, &id, &out);
	check(rc == SMD_STORE_CONFLICT && out == SMIMP_ERR_QUOTA_EXCEEDED, "over quota refused");
	rc = insert(ALICE, 52, 1000, NOW, &id, &out);
	CHECK_RC(rc, SMD_STORE_OK, "insert up to the quota");
	rc = insert("nobody#a.test", 53, 10, NOW, &id, &out);
	check(rc == SMD_STORE_CONFLICT && out == SMIMP_ERR_NOT_FOUND, "insert for nobody");
	/* Lists. */
	bool listed = true;

	a.address = BOB;
	fill(a.hash.b, sizeof a.hash.b, 70);
	a.now = NOW;
	CHECK_RC(G(&a, LIST_ADD), SMD_STORE_OK, "list add");
	CHECK_RC(G(&a, LIST_ADD), SMD_STORE_CONFLICT, "list add twice");
	CHECK_RC(db.ops->mail->recipient_get(db.st, BOB, &rcpt), SMD_STORE_OK, "recipient");
	check(rcpt.has_lists, "a list entry shows in the recipient");
	CHECK_RC(db.ops->mail->list_has(db.st, BOB, SMIMP_LIST_BLACKLIST, &a.hash, &listed),
		 SMD_STORE_OK, "list has");
	check(listed, "listed");
	CHECK_RC(db.ops->mail->list_has(db.st, BOB, SMIMP_LIST_WHITELIST, &a.hash, &listed),
		 SMD_STORE_OK, "list has (white)");
	check(!listed, "not whitelisted");
	n = 0;
	CHECK_RC(db.ops->mail->list_entries(db.st, BOB, SMIMP_LIST_BLACKLIST, count_list, &n),
		 SMD_STORE_OK, "list entries");
	check(n == 1, "one entry: %d", n);
	CHECK_RC(G(&a, LIST_REMOVE), SMD_STORE_OK, "list remove");
	CHECK_RC(G(&a, LIST_REMOVE), SMD_STORE_NOT_FOUND, "list remove twice");
	CHECK_RC(db.ops->mail->recipient_get(db.st, BOB, &rcpt), SMD_STORE_OK, "recipient");
	check(!rcpt.has_lists, "no list entry left");
}

static void test_drop_and_remove(void)
{
	struct w a = {0};
	struct smimp_msgkey mk;
	struct smd_account acct;
	bool destroyed;
	struct smd_session s;

	a.id = account_id(BOB);
	fill(a.pk.b, sizeof a.pk.b, 123);   /* not the signer of any key */
	CHECK_RC(W(&a, KEYS_DROP), SMD_STORE_OK, "drop other keys");
	CHECK_RC(db.ops->identity->nonephemeral_get(db.st, a.id, &mk), SMD_STORE_NOT_FOUND,
		 "keys of another signer dropped");
	a.address = BOB;
	CHECK_RC(W(&a, ACCOUNT_REMOVE), SMD_STORE_OK, "account remove");
	CHECK_RC(W(&a, ACCOUNT_REMOVE), SMD_STORE_NOT_FOUND, "account remove twice");
	CHECK_RC(db.ops->account_get(db.st, BOB, &acct), SMD_STORE_NOT_FOUND, "removed");
	fill(s.hash, sizeof s.hash, 60);
	CHECK_RC(db.ops->identity->session_get(db.st, s.hash, &s, &destroyed),
		 SMD_STORE_NOT_FOUND, "sessions removed with the account");
}

/* ---- shared rate buckets (PostgreSQL; SQLite's are in smimpd's memory) ---- */

#define RATE_THREADS 8
#define RATE_TAKES 40
#define RATE_BURST 100

static struct smimp_hash rate_key;
static int rate_admitted[RATE_THREADS];

/* RATE_TAKES takes from one bucket, counting the admitted ones. */
static void *rate_taker(void *arg)
{
	int i = (int)(intptr_t)arg;

	for (int k = 0; k < RATE_TAKES; k++) {
		double wait = -1;

		if (db.ops->rate_take(db.st, &rate_key, 1, RATE_BURST, &wait) ==
		    SMD_STORE_OK && wait == 0)
			rate_admitted[i]++;
	}
	return NULL;
}

static void test_rate(void)
{
	pthread_t t[RATE_THREADS];
	struct smimp_hash other;
	time_t t0 = time(NULL);
	double wait = 0;
	int admitted = 0;
	long elapsed;

	if (db.ops->rate_take == NULL) {
		check(strcmp(db.ops->scheme, "sqlite") == 0,
		      "%s has no shared rate buckets", db.ops->scheme);
		return;
	}
	fill(rate_key.b, sizeof rate_key.b, 200);
	fill(other.b, sizeof other.b, 201);
	/* 320 concurrent takes at one per second: the burst and at most one
	 * more per second elapsed, never two for one token. */
	for (int i = 0; i < RATE_THREADS; i++)
		pthread_create(&t[i], NULL, rate_taker, (void *)(intptr_t)i);
	for (int i = 0; i < RATE_THREADS; i++) {
		pthread_join(t[i], NULL);
		admitted += rate_admitted[i];
	}
	elapsed = (long)(time(NULL) - t0) + 1;
	check(admitted >= RATE_BURST && admitted <= RATE_BURST + elapsed,
	      "concurrent takes: %d admitted, want %d to %ld", admitted,
	      RATE_BURST, RATE_BURST + elapsed);
	/* Refused: the next token comes within one token's time. */
	for (int k = 0; k < 3 && wait == 0; k++)
		CHECK_RC(db.ops->rate_take(db.st, &rate_key, 1, RATE_BURST, &wait),
			 SMD_STORE_OK, "rate take");
	check(wait > 0 && wait <= 1.0, "refused take: wait %f s", wait);
	/* Another key has a full bucket of its own; rate 0 is no limit. */
	CHECK_RC(db.ops->rate_take(db.st, &other, 1, 1, &wait), SMD_STORE_OK,
		 "rate take, another key");
	check(wait == 0, "another key admitted: wait %f", wait);
	CHECK_RC(db.ops->rate_take(db.st, &other, 1, 1, &wait), SMD_STORE_OK,
		 "rate take, burst 1");
	check(wait > 0, "burst 1: the second take refused");
	CHECK_RC(db.ops->rate_take(db.st, &other, 0, 1, &wait), SMD_STORE_OK,
		 "rate take, rate 0");
	check(wait == 0, "rate 0 admits: wait %f", wait);
}

int main(int argc, char **argv)
{
	struct smimp_error err = {0};

	if (argc != 2) {
		fputs("usage: smimpd_store_test DATABASE_URL\n", stderr);
		return 64;
	}
	if (smd_db_open(&db, argv[1], &err) != SMIMP_OK) {
		fprintf(stderr, "open %s: %s\n", argv[1], err.message);
		return 1;
	}
	test_accounts();
	test_records();
	test_keys();
	test_tokens_sessions();
	test_avatars_pins();
	test_draws();
	test_pow();
	test_secret();
	test_messages();
	test_drop_and_remove();
	test_rate();
	smd_db_close(&db);
	/* Opening again applies nothing. */
	if (smd_db_open(&db, argv[1], &err) != SMIMP_OK) {
		fprintf(stderr, "reopen %s: %s\n", argv[1], err.message);
		return 1;
	}
	smd_db_close(&db);
	printf("%s: %d checks, %d failed\n", db.ops != NULL ? db.ops->scheme : "?",
	       checks, fails);
	return fails == 0 ? 0 : 1;
}

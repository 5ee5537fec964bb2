/* libFuzzer target: smimpd's request handling (router, handlers, session
 * checks, store) driven through smd_route() against a temporary SQLite
 * store, the way http.c drives it, minus libmicrohttpd. Built from the
 * server's sources without main.c, http.c and federation.c (see
 * src/server/CMakeLists.txt); this file supplies smd_request_query and a
 * federation stub that never touches the network.
 *
 * Set-up, once per process: a store in a temp folder (on /dev/shm when it
 * exists) for the hosted domain a.test, accounts alice (seed 1) and bob
 * (seed 2) initialized with seeded keys, dave left uninitialized, live
 * sessions of alice, bob and of the remote user carl#b.test (seed 3, "known"
 * through the federation stub), one destroyed session, a folder and three
 * messages from bob in alice's mailbox.
 *
 * Input framing (text friendly, so seeds are readable):
 *   byte 0  method: 'G' GET, 'P' POST, 'D' DELETE, anything else OTHER
 *   byte 1  SMIMP-Authentication: 'a' alice, 'b' bob, 'r' remote carl,
 *           'x' a destroyed session, 'h' the raw line after the path,
 *           anything else none
 *   byte 2  Host: '1' a.test, '2' a.test:443, '3' b.test, '4' A.Test:8443,
 *           '5' "", anything else none
 *   then the path up to '\n' (a '?' starts the query string), then with
 *   'h' the header line, then the body (the rest).
 * Macros in the path and body, expanded with values the fuzzer cannot
 * forge, so the success paths are reached too:
 *   $T a fresh login token for alice      $S alice's login signature of $T
 *   $E a valid send_message body bob->alice in bob's session
 *   $K a valid ephemeral message key of alice ($N: a non-ephemeral one)
 *   $A a valid avatar body of alice       $M the id of one of alice's messages
 *   $R the next valid record of alice (a profile update, same key)
 *
 * Properties checked: every answer has a status in 200..599 and a body
 * unless 204; error bodies are JSON with "error"; no input makes the
 * server answer 500 (set FUZZ_SERVER_ALLOW_500=1 to ignore that one).
 * FUZZ_SERVER_VERBOSE=1 prints every request and its answer. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "federation.h"
#include "pow_nonce.h"
#include "request.h"
#include "routes.h"
#include "store.h"
#include "crypto.h"
#include "smimp/b64.h"
#include "smimp/envelope.h"
#include "smimp/hash.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/login.h"
#include "smimp/msgkey.h"
#include "smimp/pow.h"
#include "smimp/record.h"
#include "smimp/timestamp.h"
#include "fuzz_util.h"

#define BASE_URL "https://a.test"
#define ALICE "alice#a.test"
#define BOB "bob#a.test"
#define DAVE "dave#a.test"
#define CARL "carl#b.test"
#define MAX_QUERY 16
#define MAX_MSGS 3

/* What http.c's connection handle is to smd_request_query: the query. */
struct smd_http_conn {
	size_t n;
	char *name[MAX_QUERY];
	char *value[MAX_QUERY];    /* NULL when the argument has no '=' */
};

static struct smd_config *cfg;
static struct smd_db db;
static struct smd_server srv;
static struct smd_pow_key pow_key;
static char dir[256];
static struct smimp_sign_keypair kp_alice, kp_bob, kp_carl;
static char sess_alice[256], sess_bob[256], sess_carl[256], sess_dead[256];
static struct smimp_token tok_bob;       /* the login token of sess_bob */
static char msg_ids[MAX_MSGS][65];
static size_t n_msgs, next_msg;
static bool verbose;   /* FUZZ_SERVER_VERBOSE: every request on stderr */

/* ---- what http.c and federation.c would provide ---- */

const char *smd_request_query(const struct smd_request *req, const char *name)
{
	const struct smd_http_conn *c = (const struct smd_http_conn *)req->conn;

	if (c == NULL)
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->name[i], name) == 0)
			return c->value[i];
	return NULL;
}

enum smimp_err smd_federation_key(const struct smd_server *s, const char *address,
				  struct smimp_sign_pk *key, bool fresh,
				  struct smimp_error *err)
{
	(void)s;
	(void)fresh;
	if (strcmp(address, CARL) == 0) {
		*key = kp_carl.pk;
		return SMIMP_OK;
	}
	return smimp_error_set(err, SMIMP_ERR_UPSTREAM, "fuzz: no network");
}

/* ---- requests ---- */

static void query_parse(struct smd_http_conn *c, const char *q)
{
	memset(c, 0, sizeof *c);
	while (q != NULL && *q != '\0' && c->n < MAX_QUERY) {
		const char *amp = strchr(q, '&');
		size_t len = amp != NULL ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		size_t nlen = eq != NULL ? (size_t)(eq - q) : len;

		c->name[c->n] = strndup(q, nlen);
		c->value[c->n] = eq != NULL ? strndup(eq + 1, len - nlen - 1) : NULL;
		c->n++;
		q = amp != NULL ? amp + 1 : NULL;
	}
}

static void query_free(struct smd_http_conn *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->name[i]);
		free(c->value[i]);
	}
	c->n = 0;
}

static void check_response(const struct smd_response *r, const char *path)
{
	if (r->status < 200 || r->status > 599) {
		fprintf(stderr, "status %d for %s\n", r->status, path);
		FAIL();
	}
	if (r->status != 204 && r->body == NULL && r->body_len != 0)
		FAIL();
	if (r->status >= 400) {
		json_error_t je;
		json_t *v = json_loadb(r->body, r->body_len, 0, &je);

		if (v == NULL || !json_is_string(json_object_get(v, "error"))) {
			fprintf(stderr, "error body not JSON for %s: %.*s\n", path,
				(int)r->body_len, r->body != NULL ? r->body : "");
			FAIL();
		}
		json_decref(v);
	}
	if (r->status == 500 && getenv("FUZZ_SERVER_ALLOW_500") == NULL) {
		fprintf(stderr, "500 for %s: %.*s\n", path, (int)r->body_len,
			r->body != NULL ? r->body : "");
		FAIL();
	}
}

/* One request; path may carry "?query". Returns the status; the answer's
 * JSON (when out != NULL and it is JSON) goes to *out. */
static int call(enum smd_method m, const char *path, const char *auth,
		const char *host, const char *body, size_t body_len, json_t **out)
{
	struct smd_http_conn conn;
	struct smd_request req;
	struct smd_response resp;
	char *p = strdup(path), *q = strchr(p, '?');
	uint8_t *b = malloc(body_len + 1);
	int status;

	if (p == NULL || b == NULL)
		FAIL();
	if (q != NULL)
		*q++ = '\0';
	query_parse(&conn, q);
	memcpy(b, body, body_len);
	b[body_len] = '\0';
	memset(&req, 0, sizeof req);
	memset(&resp, 0, sizeof resp);
	req.method = m;
	req.path = p;
	req.host = host;
	req.auth = auth;
	req.client_addr = "192.0.2.7";
	req.content_type = "application/json";
	req.body = b;
	req.body_len = body_len;
	req.conn = &conn;
	req.srv = &srv;
	smd_route(&req, &resp);
	if (verbose)
		fprintf(stderr, "fuzz_server: %d %s -> %d %.120s\n", (int)m, p,
			resp.status, resp.body != NULL ? resp.body : "");
	check_response(&resp, p);
	status = resp.status;
	if (out != NULL) {
		json_error_t je;

		*out = resp.body != NULL ? json_loadb(resp.body, resp.body_len, 0, &je) : NULL;
	}
	smd_response_clear(&resp);
	query_free(&conn);
	free(b);
	free(p);
	return status;
}

static int call_json(enum smd_method m, const char *path, const char *auth,
		     json_t *body, json_t **out)
{
	char *s = body != NULL ? smimp_json_dump(body) : strdup("");
	int st;

	if (s == NULL)
		FAIL();
	st = call(m, path, auth, "a.test", s, strlen(s), out);
	free(s);
	json_decref(body);
	return st;
}

/* ---- set-up helpers (the way smimp-testclient builds bodies) ---- */

static void keypair(struct smimp_sign_keypair *kp, int seed)
{
	uint8_t s[SMIMP_SIGN_SEED_BYTES];

	memset(s, seed, sizeof s);
	smimp_sign_keypair_from_seed(kp, s);
}

static json_t *msgkey(const char *address, enum smimp_msgkey_kind kind,
		      const struct smimp_sign_keypair *kp)
{
	struct smimp_box_keypair bk;
	struct smimp_msgkey mk;

	smimp_box_keypair_generate(&bk);
	smimp_msgkey_sign(&mk, address, kind, &bk.pk, &kp->sk);
	return smimp_msgkey_to_json(&mk);
}

static json_t *record(const char *address, int64_t seq,
		      const struct smimp_signed_hash *prev,
		      const struct smimp_sign_keypair *kp, const char *name)
{
	struct smimp_record r;
	struct smimp_record_values v;
	struct smimp_error err;
	json_t *j;

	memset(&v, 0, sizeof v);
	v.address = address;
	v.public_key = &kp->pk;
	v.previous = prev;
	v.seq = seq;
	v.changed_at = smimp_timestamp_now();
	v.name = name;
	if (smimp_record_build(&r, &v, &kp->sk, &err) != SMIMP_OK)
		FAIL();
	j = smimp_record_to_json(&r);
	smimp_record_free(&r);
	return j;
}

struct add_arg {
	struct smd_account_new a;
};

static enum smd_store_rc add_fn(struct smd_txn *txn, void *arg)
{
	return db.ops->account_add(txn, &((struct add_arg *)arg)->a);
}

/* Adds an account with the one-time password "pw-" + address. */
static void account_add(const char *address)
{
	char password[128], pwhash[SMD_PWHASH_STR_BYTES];
	struct smimp_field f[2];
	struct smimp_hash h;
	struct add_arg a;

	snprintf(password, sizeof password, "pw-%s", address);
	f[0] = smimp_text(address);
	f[1] = smimp_text(password);
	smimp_hash_fields(&h, SMIMP_LABEL_INIT_PASSWORD, f, 2);
	if (smd_pwhash(pwhash, h.b, sizeof h.b) != 0)
		FAIL();
	memset(&a, 0, sizeof a);
	a.a.address = address;
	a.a.domain = "a.test";
	a.a.pwhash = pwhash;
	a.a.now = (int64_t)time(NULL);
	a.a.expires_at = a.a.now + 86400;
	a.a.quota_limit = 1 << 20;
	if (smd_db_write(&db, add_fn, &a) != SMD_STORE_OK)
		FAIL();
}

static void account_init(const char *address, const struct smimp_sign_keypair *kp,
			 int n_eph)
{
	char password[128], path[128], hex[65];
	struct smimp_field f[2];
	struct smimp_hash h;
	json_t *eph = json_array();

	snprintf(password, sizeof password, "pw-%s", address);
	f[0] = smimp_text(address);
	f[1] = smimp_text(password);
	smimp_hash_fields(&h, SMIMP_LABEL_INIT_PASSWORD, f, 2);
	smimp_hex_encode(hex, sizeof hex, h.b, sizeof h.b);
	for (int i = 0; i < n_eph; i++)
		json_array_append_new(eph, msgkey(address, SMIMP_MSGKEY_EPHEMERAL, kp));
	snprintf(path, sizeof path, "/0.1/initialize_account/%.*s%%23a.test",
		 (int)(strchr(address, '#') - address), address);
	if (call_json(SMD_POST, path, NULL,
		      json_pack("{s:s, s:o, s:o, s:o}", "password_hash", hex,
				"record", record(address, 0, NULL, kp, NULL),
				"nonephemeral_key",
				msgkey(address, SMIMP_MSGKEY_NONEPHEMERAL, kp),
				"ephemeral_keys", eph), NULL) != 200)
		FAIL();
}

static const char *path_of(const char *address, char *buf, size_t size)
{
	const char *h = strchr(address, '#');

	snprintf(buf, size, "%.*s%%23%s", (int)(h - address), address, h + 1);
	return buf;
}

/* A fresh login token of address, hex into tok_hex (65 bytes). */
static void fresh_token(const char *address, char *tok_hex)
{
	char path[160], enc[100];
	json_t *v = NULL;

	snprintf(path, sizeof path, "/0.1/create_session/%s",
		 path_of(address, enc, sizeof enc));
	if (call(SMD_GET, path, NULL, "a.test", "", 0, &v) != 200 ||
	    !json_is_string(json_object_get(v, "token")))
		FAIL();
	snprintf(tok_hex, 65, "%s", json_string_value(json_object_get(v, "token")));
	json_decref(v);
}

static void login_sig(const char *address, const char *tok_hex,
		      const struct smimp_sign_keypair *kp, char *sig_hex)
{
	struct smimp_token t;
	struct smimp_signed_hash sh;

	if (smimp_hex_decode_str(t.b, sizeof t.b, tok_hex) != SMIMP_OK)
		FAIL();
	smimp_login_sign(&sh, BASE_URL, address, &t, &kp->sk);
	smimp_hex_encode(sig_hex, 2 * sizeof sh.b + 1, sh.b, sizeof sh.b);
}

/* Logs address in; the session id goes to out; its token to *tok. */
static void login(const char *address, const struct smimp_sign_keypair *kp,
		  char *out, size_t out_size, struct smimp_token *tok)
{
	char tok_hex[65], sig[2 * SMIMP_SIGNED_HASH_BYTES + 1], path[160], enc[100];
	json_t *v = NULL;

	fresh_token(address, tok_hex);
	login_sig(address, tok_hex, kp, sig);
	snprintf(path, sizeof path, "/0.1/create_session/%s",
		 path_of(address, enc, sizeof enc));
	if (call_json(SMD_POST, path, NULL,
		      json_pack("{s:s, s:s}", "token", tok_hex, "signed_hash", sig),
		      &v) != 200 || !json_is_string(json_object_get(v, "session")))
		FAIL();
	snprintf(out, out_size, "%s", json_string_value(json_object_get(v, "session")));
	json_decref(v);
	if (tok != NULL && smimp_hex_decode_str(tok->b, sizeof tok->b, tok_hex) != SMIMP_OK)
		FAIL();
}

/* A valid send_message body from bob to alice in bob's session (NULL when
 * the server would not hand out what it needs, e.g. bob got refused). */
static char *envelope_body(void)
{
	struct smimp_envelope env;
	struct smimp_error err = {SMIMP_OK, ""};
	struct smimp_hash lth, prefix;
	struct smimp_box_pk mk;
	struct smimp_token nonce;
	struct smimp_pow_proof proof;
	struct smimp_pow_solve_opts opts = {1, NULL, NULL, NULL};
	char pow[SMIMP_POW_STRING_LEN + 1], *body = NULL;
	const char *s;
	json_t *v = NULL;
	unsigned bits;
	static const uint8_t pt[] = "{\"message\":\"fuzz\",\"attachments\":[]}";

	if (call_json(SMD_POST, "/0.1/get_message_key", sess_bob,
		      json_pack("{s:s}", "address", ALICE), &v) != 200)
		goto fail;
	s = json_string_value(json_object_get(json_object_get(v, "message_key"), "key"));
	if (s == NULL || smimp_hex_decode_str(mk.b, sizeof mk.b, s) != SMIMP_OK)
		goto fail;
	json_decref(v);
	v = NULL;
	if (call(SMD_GET, "/0.1/get_pow_params/alice%23a.test/short-message", sess_bob,
		 "a.test", "", 0, &v) != 200)
		goto fail;
	s = json_string_value(json_object_get(v, "nonce"));
	bits = (unsigned)json_integer_value(json_object_get(v, "zero_bits"));
	if (s == NULL || bits > 8 ||
	    smimp_hex_decode_str(nonce.b, sizeof nonce.b, s) != SMIMP_OK)
		goto fail;
	json_decref(v);
	v = NULL;
	smimp_login_token_hash(&lth, &tok_bob);
	if (smimp_envelope_encrypt(&env, ALICE, BOB, "short-message", &mk, NULL, pt,
				   sizeof pt - 1, &kp_bob.sk, &lth, &err) != SMIMP_OK)
		goto fail;
	smimp_envelope_pow_prefix(&prefix, &env, &nonce);
	if (smimp_pow_solve(&proof, &prefix, &nonce, bits, &opts, NULL) == SMIMP_OK) {
		smimp_pow_format(pow, &proof);
		if (smimp_envelope_sign(&env, pow, &kp_bob.sk, &err) == SMIMP_OK)
			body = smimp_envelope_body_dump(&env);
	}
	smimp_envelope_clear(&env);
	return body;
fail:
	json_decref(v);
	return NULL;
}

/* Sends one message bob->alice and keeps its id in the ring msg_ids;
 * false when the fixture no longer allows it (the fuzzer listed bob). */
static bool send_one(void)
{
	char *b = envelope_body();
	json_t *v = NULL;
	const char *id;
	bool ok = false;

	if (b != NULL &&
	    call(SMD_POST, "/0.1/send_message/alice%23a.test", sess_bob, "a.test", b,
		 strlen(b), &v) == 200 &&
	    (id = json_string_value(json_object_get(v, "message_id"))) != NULL) {
		snprintf(msg_ids[next_msg++ % MAX_MSGS], 65, "%s", id);
		if (n_msgs < MAX_MSGS)
			n_msgs++;
		ok = true;
	}
	json_decref(v);
	free(b);
	return ok;
}

static char *avatar_body(void)
{
	static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
				      0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1,
				      0, 0, 0, 1, 8, 6, 0, 0, 0};
	struct smimp_field f[2] = {smimp_text(ALICE), smimp_bytes(png, sizeof png)};
	struct smimp_signed_hash sh;
	struct smimp_hash h;
	char hex[2 * SMIMP_SIGNED_HASH_BYTES + 1], *b64, *out;
	json_t *v;

	smimp_hash_fields(&h, SMIMP_LABEL_AVATAR, f, 2);
	smimp_signed_hash_make(&sh, &h, &kp_alice.sk);
	smimp_hex_encode(hex, sizeof hex, sh.b, sizeof sh.b);
	b64 = smimp_b64_encode(png, sizeof png);
	v = json_pack("{s:s, s:s}", "image", b64, "signed_hash", hex);
	out = smimp_json_dump(v);
	json_decref(v);
	free(b64);
	return out;
}

/* The next record of alice's chain, same key (NULL when it cannot be read). */
static char *next_record(void)
{
	json_t *v = NULL, *r;
	struct smimp_signed_hash prev;
	const char *sh;
	char *out = NULL;
	json_int_t seq;

	if (call(SMD_GET, "/0.1/get_user/alice%23a.test/public_key", NULL, "a.test",
		 "", 0, &v) != 200)
		goto out;
	sh = json_string_value(json_object_get(v, "signed_hash"));
	seq = json_integer_value(json_object_get(v, "seq"));
	if (sh == NULL || smimp_hex_decode_str(prev.b, sizeof prev.b, sh) != SMIMP_OK)
		goto out;
	r = record(ALICE, seq + 1, &prev, &kp_alice, "Alice");
	out = smimp_json_dump(r);
	json_decref(r);
out:
	json_decref(v);
	return out;
}

static void relogin(void)
{
	login(ALICE, &kp_alice, sess_alice, sizeof sess_alice, NULL);
	login(BOB, &kp_bob, sess_bob, sizeof sess_bob, &tok_bob);
	login(CARL, &kp_carl, sess_carl, sizeof sess_carl, NULL);
}

static void cleanup(void)
{
	char cmd[300];

	smd_db_close(&db);
	smd_config_free(cfg);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_server: could not remove %s\n", dir);
}

static void setup(void)
{
	struct smimp_error err = {SMIMP_OK, ""};
	char path[300];
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" :
			   getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	FILE *f;

	fuzz_init();
	verbose = getenv("FUZZ_SERVER_VERBOSE") != NULL;
	snprintf(dir, sizeof dir, "%s/fuzz_server.XXXXXX", base);
	if (mkdtemp(dir) == NULL)
		FAIL();
	snprintf(path, sizeof path, "%s/smimpd.conf", dir);
	f = fopen(path, "w");
	if (f == NULL)
		FAIL();
	fprintf(f, "domain = a.test\n"
		"public_url = " BASE_URL "\n"
		"database = sqlite:%s/fuzz.db\n"
		"pow_zero_bits = 2\n"
		"max_request_bytes = 80k\n"
		"max_envelope_bytes = 2k\n"
		"max_record_bytes = 2k\n"
		"max_history_records = 40\n"
		"max_ephemeral_keys = 40\n"
		"max_avatar_bytes = 1k\n"
		"max_list_page = 4\n"
		"ephemeral_draws_per_hour = 5\n"
		"threads = 1\n", dir);
	fclose(f);
	if (smd_config_load(&cfg, path, &err) != SMIMP_OK ||
	    smd_db_open(&db, cfg->database, &err) != SMIMP_OK) {
		fprintf(stderr, "fuzz_server: %s\n", err.message);
		FAIL();
	}
	atexit(cleanup);
	srv.cfg = cfg;
	srv.db = &db;
	srv.pow_key = &pow_key;
	if (smd_db_secret(&db, SMD_POW_KEY_NAME, pow_key.b, sizeof pow_key.b) !=
	    SMD_STORE_OK)
		FAIL();
	keypair(&kp_alice, 1);
	keypair(&kp_bob, 2);
	keypair(&kp_carl, 3);
	account_add(ALICE);
	account_add(BOB);
	account_add(DAVE);
	account_init(ALICE, &kp_alice, 30);
	account_init(BOB, &kp_bob, 3);
	login(ALICE, &kp_alice, sess_dead, sizeof sess_dead, NULL);
	if (call(SMD_POST, "/0.1/destroy_session", sess_dead, "a.test", "", 0, NULL) != 204)
		FAIL();
	relogin();
	for (int i = 0; i < MAX_MSGS; i++)
		if (!send_one())
			FAIL();
	if (call_json(SMD_POST, "/0.1/folders", sess_alice,
		      json_pack("{s:s, s:s, s:n, s:s}", "display_name", "Work", "name",
				"work", "parent", "message_type", "email"), NULL) != 201)
		FAIL();
}

/* ---- macros ---- */

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			FAIL();
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

struct macros {
	char tok[65];
	char sig[2 * SMIMP_SIGNED_HASH_BYTES + 1];
	char *env, *avatar, *rec;
	char *eph, *neph;
};

static void macros_free(struct macros *m)
{
	free(m->env);
	free(m->avatar);
	free(m->rec);
	free(m->eph);
	free(m->neph);
}

static char *key_text(enum smimp_msgkey_kind kind)
{
	json_t *k = msgkey(ALICE, kind, &kp_alice);
	char *s = smimp_json_dump(k);

	json_decref(k);
	return s;
}

static void expand(struct buf *out, const char *in, size_t len, struct macros *m)
{
	for (size_t i = 0; i < len; i++) {
		const char *v = NULL;

		if (in[i] != '$' || i + 1 == len) {
			put(out, in + i, 1);
			continue;
		}
		switch (in[i + 1]) {
		case 'T':
		case 'S':
			if (m->tok[0] == '\0') {
				fresh_token(ALICE, m->tok);
				login_sig(ALICE, m->tok, &kp_alice, m->sig);
			}
			v = in[i + 1] == 'T' ? m->tok : m->sig;
			break;
		case 'E':
			if (m->env == NULL)
				m->env = envelope_body();
			v = m->env;
			break;
		case 'K':
			if (m->eph == NULL)
				m->eph = key_text(SMIMP_MSGKEY_EPHEMERAL);
			v = m->eph;
			break;
		case 'N':
			if (m->neph == NULL)
				m->neph = key_text(SMIMP_MSGKEY_NONEPHEMERAL);
			v = m->neph;
			break;
		case 'A':
			if (m->avatar == NULL)
				m->avatar = avatar_body();
			v = m->avatar;
			break;
		case 'R':
			if (m->rec == NULL)
				m->rec = next_record();
			v = m->rec;
			break;
		case 'M':
			v = n_msgs > 0 ? msg_ids[(unsigned char)in[i] % n_msgs] : "";
			break;
		default:
			put(out, in + i, 1);
			continue;
		}
		if (v != NULL)
			put(out, v, strlen(v));
		i++;
	}
	if (out->p == NULL)
		put(out, "", 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static const char *const hosts[] = {"a.test", "a.test:443", "b.test",
					    "A.Test:8443", ""};
	const char *d = (const char *)data, *end = d + size, *nl, *auth = NULL, *host = NULL;
	struct buf path = {0}, hdr = {0}, body = {0};
	struct macros m;
	enum smd_method method;

	if (!ready) {
		setup();
		ready = true;
	}
	if (size < 4)
		return 0;
	memset(&m, 0, sizeof m);
	method = d[0] == 'G' ? SMD_GET : d[0] == 'P' ? SMD_POST :
		 d[0] == 'D' ? SMD_DELETE : SMD_OTHER;
	if (d[2] >= '1' && d[2] <= '5')
		host = hosts[d[2] - '1'];
	d += 3;
	nl = memchr(d, '\n', (size_t)(end - d));
	if (nl == NULL)
		nl = end;
	/* The path as libmicrohttpd hands it over: a C string from '/'. */
	put(&path, "", 0);
	if (memchr(d, '\0', (size_t)(nl - d)) != NULL)
		goto out;
	expand(&path, d, (size_t)(nl - d), &m);
	if (path.p[0] != '/')
		goto out;
	d = nl < end ? nl + 1 : end;
	switch (data[1]) {
	case 'a': auth = sess_alice; break;
	case 'b': auth = sess_bob; break;
	case 'r': auth = sess_carl; break;
	case 'x': auth = sess_dead; break;
	case 'h':
		nl = memchr(d, '\n', (size_t)(end - d));
		if (nl == NULL)
			nl = end;
		if (memchr(d, '\0', (size_t)(nl - d)) != NULL)
			goto out;
		put(&hdr, d, (size_t)(nl - d));
		if (hdr.p == NULL)
			put(&hdr, "", 0);
		auth = hdr.p;
		d = nl < end ? nl + 1 : end;
		break;
	default:
		break;
	}
	expand(&body, d, (size_t)(end - d), &m);
	call(method, path.p, auth, host, body.p, body.len, NULL);
	/* Keep the fixture alive: a destroyed or ended session is replaced. */
	if (strstr(path.p, "destroy_session") != NULL ||
	    strstr(path.p, "update_profile") != NULL)
		relogin();
	/* A deleted message is replaced, so $M keeps naming live ones. */
	if (method == SMD_DELETE && strstr(path.p, "/message/") != NULL)
		(void)send_one();
out:
	macros_free(&m);
	free(path.p);
	free(hdr.p);
	free(body.p);
	return 0;
}

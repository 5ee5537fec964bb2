/* smimp-crash-sender: the load and the bookkeeping of the crash tests
 * (crash_server.sh, fault_*.sh). A libcurl client of one smimpd that
 *   init    initializes the accounts of a file (seeded master keys, N
 *           ephemeral keys each);
 *   load    runs N sender threads until a stop file appears: each delivery
 *           is get_message_key + get_pow_params + send_message from
 *           account i to another account; every message answered 200 is
 *           recorded with its message_id and the exact body sent, every
 *           message key received with its kind. A request that fails in
 *           transport (the server was killed) is retried: a lost answer of
 *           send_message is retried with the identical body in the same
 *           session (the server's identical-retry rule, 9);
 *   verify  logs in as every recipient, fetches every recorded message and
 *           compares it field by field with the bytes sent, lists the
 *           folders (no id twice, every recorded id listed) and checks that
 *           no ephemeral key was received twice;
 *   probe   times one public call (get_user/ADDRESS/public_key) in a loop.
 * Environment: CS_BASE (https://HOST:PORT, the server's public_url),
 * CS_CACERT (the test CA). Connections go to 127.0.0.1:PORT.
 * Output files in OUTDIR: sent.N lines "MID RECIPIENT SENDER RETRIED B64",
 * keys.N lines "RECIPIENT SENDER KIND KEYHEX", stats.N.
 * Test use only: the keys are seeded, not secret. */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "smimp/b64.h"
#include "smimp/envelope.h"
#include "smimp/hex.h"
#include "smimp/login.h"
#include "smimp/msgkey.h"
#include "smimp/pow.h"

#include "https_client.h"
#include "test_session.h"

#define MAX_ACCOUNTS 64

static struct test_account *accts;
static unsigned n_accts;
static char base[256], connect_to[600];
static const char *cacert;
static const char *stop_file;
static atomic_int failures;

/* Connections go to 127.0.0.1 and give up after 3 s: the server may be
 * down for a while. */
static void client_init(struct https_client *c)
{
	struct https_client_opts o = {base, cacert, connect_to, 3};

	if (https_client_init(c, &o) != 0)
		exit(1);
}

/* A GET that waits out rate limiting (429; smimpd's Retry-After is about a
 * second): the verifier reads thousands of messages in one session, and a
 * refusal to answer now is not a lost message. */
static long read_call(struct https_client *c, const char *path, const char *session)
{
	long st = https_client_call(c, path, session, NULL, 0);

	for (int i = 0; st == 429 && i < 60; i++) {
		sleep(1);
		st = https_client_call(c, path, session, NULL, 0);
	}
	return st;
}

static void complain(const char *what, struct https_client *c)
{
	static atomic_int n;

	if (atomic_fetch_add(&n, 1) < 20)
		fprintf(stderr, "crash-sender: %s: %ld %.200s\n", what, c->status, c->body);
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int stopping(void)
{
	return stop_file != NULL && access(stop_file, F_OK) == 0;
}

static int initialize(struct https_client *c, const struct test_account *a, long n_keys)
{
	struct smimp_error err = {SMIMP_OK, ""};
	long st = test_session_initialize(c, a, n_keys, &err);

	if (st < 0)
		fprintf(stderr, "crash-sender: initialize_account: %s\n", err.message);
	else if (st != 200)
		complain("initialize_account", c);
	return st == 200 ? 0 : -1;
}

/* Logs a in (0, or -1); a refused login, not an outage, is shown. */
static int login(struct https_client *c, const struct test_account *a, struct test_login *l)
{
	enum test_login_result r = test_session_login(c, base, a, l);

	if (r == TEST_LOGIN_POST_FAILED && c->status != 0 && c->status < 500)
		complain("POST create_session", c);
	return r == TEST_LOGIN_OK ? 0 : -1;
}

/* ---- load ---- */

struct sender {
	pthread_t t;
	unsigned idx;
	const char *dir;
	long ok, ok_retried, lost, refused, transport, eph, noneph;
	long conn_err, http5xx;
	long status_hist[6];   /* by hundreds */
};

/* A transient failure: the server is down or restarting, or answers 5xx. */
static int transient(long st)
{
	return st == 0 || st >= 500 || st == 429;
}

static long send_retries = 600;
static int allow_refusals;

/* Counts a transient failure: no answer, or a 5xx (shown, a few). */
static void count_transient(struct sender *w, struct https_client *c, long st)
{
	static atomic_int shown;

	w->transport++;
	if (st == 0) {
		w->conn_err++;
	} else if (st >= 500) {
		w->http5xx++;
		if (atomic_fetch_add(&shown, 1) < 8)
			fprintf(stderr, "crash-sender: 5xx: %ld %.200s\n", st, c->body);
	}
}

static void *load_thread(void *p)
{
	struct sender *w = p;
	const struct test_account *me = &accts[w->idx % n_accts];
	struct https_client c;
	struct test_login lg = {.session = ""};
	char path[512], fn[1024];
	unsigned seed = 0x9e3779b9u ^ (w->idx * 2654435761u), n = 0;
	FILE *sent, *keys;

	snprintf(fn, sizeof fn, "%s/sent.%u", w->dir, w->idx);
	sent = fopen(fn, "w");
	snprintf(fn, sizeof fn, "%s/keys.%u", w->dir, w->idx);
	keys = fopen(fn, "w");
	if (sent == NULL || keys == NULL) {
		perror(fn);
		exit(1);
	}
	client_init(&c);
	while (!stopping()) {
		const struct test_account *to =
			&accts[(w->idx + 1 + n % (n_accts - 1)) % n_accts];
		struct smimp_msgkey mk;
		struct smimp_token nonce;
		struct smimp_hash lth, prefix;
		struct smimp_envelope env;
		struct smimp_error err = {SMIMP_OK, ""};
		struct smimp_pow_solve_opts opts = {1, NULL, NULL, NULL};
		struct smimp_pow_proof proof;
		char pow[SMIMP_POW_STRING_LEN + 1], keyhex[65];
		const char *s;
		char *send, *b64;
		size_t size;
		uint8_t *pt;
		unsigned zb;
		json_t *j;
		long st;
		int retried = 0;

		if (lg.session[0] == '\0' && login(&c, me, &lg) != 0) {
			lg.session[0] = '\0';
			count_transient(w, &c, c.status);
			nap_ms(50);
			continue;
		}
		st = test_session_draw_key(&c, lg.session, to, &mk);
		if (st == -1) {
			complain("message key", &c);
			continue;
		}
		if (st != 200) {
			if (st == 401)
				lg.session[0] = '\0';
			else if (!transient(st))
				complain("get_message_key", &c);
			if (transient(st))
				count_transient(w, &c, st);
			nap_ms(50);
			continue;
		}
		smimp_hex_encode(keyhex, sizeof keyhex, mk.key.b, sizeof mk.key.b);
		fprintf(keys, "%s %s %s %s\n", to->address, me->address,
			smimp_msgkey_kind_name(mk.kind), keyhex);
		fflush(keys);
		if (mk.kind == SMIMP_MSGKEY_EPHEMERAL)
			w->eph++;
		else
			w->noneph++;
		n++;
		st = test_session_pow_params(&c, lg.session, to, &nonce, &zb);
		if (st == -1)
			continue;
		if (st != 200) {
			if (st == 401)
				lg.session[0] = '\0';
			else if (!transient(st))
				complain("get_pow_params", &c);
			if (transient(st))
				count_transient(w, &c, st);
			continue;
		}
		/* 16 bytes to 6 KiB of varying content */
		size = 16 + rand_r(&seed) % 6144;
		pt = malloc(size);
		if (pt == NULL)
			exit(1);
		for (size_t i = 0; i < size; i++)
			pt[i] = (uint8_t)rand_r(&seed);
		smimp_login_token_hash(&lth, &lg.token);
		if (smimp_envelope_encrypt(&env, to->address, me->address, "email",
					   &mk.key, NULL, pt, size, &me->kp.sk, &lth,
					   &err) != SMIMP_OK) {
			fprintf(stderr, "crash-sender: encrypt: %s\n", err.message);
			exit(1);
		}
		free(pt);
		smimp_envelope_pow_prefix(&prefix, &env, &nonce);
		if (smimp_pow_solve(&proof, &prefix, &nonce, zb, &opts, NULL) != SMIMP_OK)
			exit(1);
		smimp_pow_format(pow, &proof);
		if (smimp_envelope_sign(&env, pow, &me->kp.sk, &err) != SMIMP_OK)
			exit(1);
		send = smimp_envelope_body_dump(&env);
		smimp_envelope_clear(&env);
		if (send == NULL)
			exit(1);
		snprintf(path, sizeof path, "send_message/%s", to->path_addr);
		/* A lost answer: retry the identical body in the same session
		 * (for up to about a minute: the server restarts meanwhile). */
		for (long attempt = 0;; attempt++) {
			st = https_client_call(&c, path, lg.session, send, strlen(send));
			if (!transient(st))
				break;
			count_transient(w, &c, st);
			if (attempt >= send_retries)
				break;
			retried = 1;
			nap_ms(100);
		}
		w->status_hist[st / 100 < 6 ? st / 100 : 5]++;
		if (st == 200) {
			j = https_client_json(&c);
			s = json_string_value(json_object_get(j, "message_id"));
			b64 = smimp_b64_encode((const uint8_t *)send, strlen(send));
			if (s == NULL || strlen(s) != 64 || b64 == NULL) {
				complain("send_message 200 without message_id", &c);
				atomic_fetch_add(&failures, 1);
			} else {
				fprintf(sent, "%s %s %s %d %s\n", s, to->address,
					me->address, retried, b64);
				fflush(sent);
				w->ok++;
				w->ok_retried += retried;
			}
			free(b64);
			json_decref(j);
		} else if (retried) {
			/* The first try may have been stored, answer lost:
			 * allowed (9); a retry refused, e.g. a used nonce. */
			w->lost++;
			complain("send_message retry after a lost answer", &c);
		} else {
			w->refused++;
			complain("send_message", &c);
			if (st == 401)
				lg.session[0] = '\0';
		}
		free(send);
	}
	https_client_free(&c);
	fclose(sent);
	fclose(keys);
	return NULL;
}

static int cmd_load(const char *dir, unsigned n_senders)
{
	struct sender *w = calloc(n_senders, sizeof *w);
	long ok = 0, retried = 0, lost = 0, refused = 0, transport = 0, eph = 0, noneph = 0;
	long conn_err = 0, http5xx = 0;
	char fn[1024];
	FILE *f;

	for (unsigned i = 0; i < n_senders; i++) {
		w[i].idx = i;
		w[i].dir = dir;
		pthread_create(&w[i].t, NULL, load_thread, &w[i]);
	}
	for (unsigned i = 0; i < n_senders; i++) {
		pthread_join(w[i].t, NULL);
		ok += w[i].ok;
		retried += w[i].ok_retried;
		lost += w[i].lost;
		refused += w[i].refused;
		transport += w[i].transport;
		eph += w[i].eph;
		noneph += w[i].noneph;
		conn_err += w[i].conn_err;
		http5xx += w[i].http5xx;
	}
	snprintf(fn, sizeof fn, "%s/load.stats", dir);
	f = fopen(fn, "w");
	if (f != NULL) {
		fprintf(f, "answered_200=%ld\nanswered_200_after_retry=%ld\n"
			"unanswered_then_refused=%ld\nrefused=%ld\n"
			"transport_errors=%ld\nephemeral_keys_drawn=%ld\n"
			"nonephemeral_keys_drawn=%ld\nconnection_errors=%ld\n"
			"http_5xx=%ld\n",
			ok, retried, lost, refused, transport, eph, noneph, conn_err,
			http5xx);
		fclose(f);
	}
	printf("load: %ld answered 200 (%ld after a retry of the identical envelope), "
	       "%ld lost then refused, %ld refused, %ld transport errors, "
	       "%ld ephemeral / %ld non-ephemeral keys drawn\n",
	       ok, retried, lost, refused, transport, eph, noneph);
	free(w);
	return (refused > 0 && !allow_refusals) || atomic_load(&failures) > 0 ? 1 : 0;
}

/* ---- verify ---- */

struct sent_rec {
	char mid[65];
	char recipient[128], sender[128];
	int retried;
	char *body;   /* the exact bytes sent */
	int seen;
};

static struct sent_rec *recs;
static size_t n_recs, cap_recs, n_recs_seen;

static int load_records(const char *dir)
{
	char fn[1024];
	char *line = NULL;
	size_t lcap = 0;

	for (unsigned i = 0;; i++) {
		FILE *f;

		snprintf(fn, sizeof fn, "%s/sent.%u", dir, i);
		f = fopen(fn, "r");
		if (f == NULL)
			break;
		while (getline(&line, &lcap, f) > 0) {
			struct sent_rec r = {0};
			char b64[1 << 16];
			size_t blen;
			uint8_t *raw;

			if (sscanf(line, "%64s %127s %127s %d %65535s", r.mid, r.recipient,
				   r.sender, &r.retried, b64) != 5) {
				fprintf(stderr, "verify: bad record line in %s\n", fn);
				return -1;
			}
			if (smimp_b64_decode(&raw, &blen, b64, strlen(b64), 1u << 20) != SMIMP_OK)
				return -1;
			r.body = malloc(blen + 1);
			memcpy(r.body, raw, blen);
			r.body[blen] = '\0';
			free(raw);
			if (n_recs == cap_recs) {
				cap_recs = cap_recs ? cap_recs * 2 : 1024;
				recs = realloc(recs, cap_recs * sizeof *recs);
			}
			recs[n_recs++] = r;
		}
		fclose(f);
	}
	free(line);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int str_is(json_t *o, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL && strcmp(v, want) == 0;
}

static int cmd_verify(const char *dir)
{
	struct https_client c;
	long present = 0, bad = 0, listed = 0, dup_ids = 0, unlisted = 0;
	char fn[1024];

	if (load_records(dir) != 0)
		return 2;
	client_init(&c);
	for (unsigned a = 0; a < n_accts; a++) {
		struct test_login lg;
		char path[512], after[256] = "";
		char **ids = NULL;
		size_t n_ids = 0, cap_ids = 0;

		if (login(&c, &accts[a], &lg) != 0) {
			fprintf(stderr, "verify: cannot log in as %s\n", accts[a].address);
			return 1;
		}
		/* every message of the folder listing, page by page */
		for (;;) {
			json_t *j, *msgs, *m, *next;
			size_t k;

			snprintf(path, sizeof path, "folder/email?limit=1000%s%s",
				 after[0] ? "&after=" : "", after);
			if (read_call(&c, path, lg.session) != 200) {
				complain("folder listing", &c);
				bad++;
				break;
			}
			j = https_client_json(&c);
			msgs = json_object_get(j, "messages");
			json_array_foreach(msgs, k, m) {
				const char *id = json_string_value(json_object_get(m, "message_id"));

				if (n_ids == cap_ids) {
					cap_ids = cap_ids ? 2 * cap_ids : 1024;
					ids = realloc(ids, cap_ids * sizeof *ids);
				}
				ids[n_ids++] = strdup(id ? id : "");
			}
			next = json_object_get(j, "next");
			if (!json_is_string(next) || json_array_size(msgs) == 0) {
				json_decref(j);
				break;
			}
			snprintf(after, sizeof after, "%s", json_string_value(next));
			json_decref(j);
		}
		listed += (long)n_ids;
		qsort(ids, n_ids, sizeof *ids, cmp_str);
		for (size_t i = 1; i < n_ids; i++)
			if (strcmp(ids[i - 1], ids[i]) == 0) {
				fprintf(stderr, "verify: %s listed twice for %s\n", ids[i],
					accts[a].address);
				dup_ids++;
			}
		for (size_t r = 0; r < n_recs; r++) {
			struct sent_rec *x = &recs[r];
			json_t *stored, *sentj, *v;
			const char *key;
			char *idp = x->mid;
			int ok = 1;

			if (strcmp(x->recipient, accts[a].address) != 0)
				continue;
			if (bsearch(&idp, ids, n_ids, sizeof *ids, cmp_str) == NULL) {
				fprintf(stderr, "verify: %s (to %s) not listed\n", x->mid,
					x->recipient);
				unlisted++;
			}
			snprintf(path, sizeof path, "message/%s/false", x->mid);
			if (read_call(&c, path, lg.session) != 200) {
				fprintf(stderr, "verify: LOST message %s to %s (answered 200, "
					"retried %d): GET %ld %.200s\n", x->mid, x->recipient,
					x->retried, c.status, c.body);
				bad++;
				continue;
			}
			stored = https_client_json(&c);
			sentj = json_loads(x->body, 0, NULL);
			if (stored == NULL || sentj == NULL) {
				bad++;
				json_decref(stored);
				json_decref(sentj);
				continue;
			}
			json_object_foreach(sentj, key, v) {
				if (!json_equal(v, json_object_get(stored, key))) {
					fprintf(stderr, "verify: message %s: field %s differs\n",
						x->mid, key);
					ok = 0;
				}
			}
			if (!str_is(stored, "recipient", x->recipient) ||
			    !str_is(stored, "sender", x->sender) ||
			    !str_is(stored, "message_id", x->mid)) {
				fprintf(stderr, "verify: message %s: recipient/sender/id differ\n",
					x->mid);
				ok = 0;
			}
			json_decref(stored);
			json_decref(sentj);
			if (ok) {
				present++;
				x->seen = 1;
			} else {
				bad++;
			}
		}
		for (size_t i = 0; i < n_ids; i++)
			free(ids[i]);
		free(ids);
		snprintf(path, sizeof path, "destroy_session");
		https_client_call(&c, path, lg.session, "{}", 2);
	}
	https_client_free(&c);
	/* the same message_id answered twice (two 200s naming one id) is
	 * allowed only for an identical retry; our senders never retry after
	 * a 200, so every recorded id must be distinct */
	{
		char **mids = malloc((n_recs + 1) * sizeof *mids);

		for (size_t r = 0; r < n_recs; r++)
			mids[r] = recs[r].mid;
		qsort(mids, n_recs, sizeof *mids, cmp_str);
		for (size_t r = 1; r < n_recs; r++)
			if (strcmp(mids[r - 1], mids[r]) == 0) {
				fprintf(stderr, "verify: message_id %s answered twice\n", mids[r]);
				dup_ids++;
			}
		free(mids);
	}
	snprintf(fn, sizeof fn, "%s/verify.stats", dir);
	{
		FILE *f = fopen(fn, "w");

		if (f != NULL) {
			fprintf(f, "recorded=%zu\npresent_identical=%ld\nbad=%ld\n"
				"listed=%ld\nduplicate_ids=%ld\nunlisted=%ld\n",
				n_recs, present, bad, listed, dup_ids, unlisted);
			fclose(f);
		}
	}
	printf("verify: %zu answered 200, %ld present and byte-identical, %ld lost or "
	       "different; %ld listed, %ld ids twice, %ld recorded but not listed\n",
	       n_recs, present, bad, listed, dup_ids, unlisted);
	for (size_t r = 0; r < n_recs; r++)
		free(recs[r].body);
	free(recs);
	n_recs_seen = n_recs;
	recs = NULL;
	return bad == 0 && dup_ids == 0 && unlisted == 0 && present == (long)n_recs_seen ? 0 : 1;
}

/* ---- probe: time a public call ---- */

/* probe ADDRESS SECONDS: GET get_user/ADDRESS/public_key in a loop on one
 * keep-alive connection; prints the count, the failures and the slowest. */
static int cmd_probe(const char *address, double seconds)
{
	struct https_client c;
	char path[512];
	const char *h = strchr(address, '#');
	double end = test_now_s() + seconds, worst = 0, sum = 0;
	long n = 0, bad = 0;

	if (h == NULL)
		return 2;
	snprintf(path, sizeof path, "get_user/%.*s%%23%s/public_key",
		 (int)(h - address), address, h + 1);
	client_init(&c);
	while (test_now_s() < end) {
		double t0 = test_now_s(), dt;

		if (https_client_call(&c, path, NULL, NULL, 0) != 200)
			bad++;
		dt = test_now_s() - t0;
		sum += dt;
		if (dt > worst)
			worst = dt;
		n++;
		nap_ms(20);
	}
	https_client_free(&c);
	printf("probe: %ld calls, %ld failed, mean %.1f ms, max %.1f ms\n", n, bad,
	       n ? 1000 * sum / (double)n : 0, 1000 * worst);
	return bad == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *b = getenv("CS_BASE");
	char host[256];
	unsigned port;
	int n, rc = 2;

	cacert = getenv("CS_CACERT");
	if (argc < 3 || b == NULL || cacert == NULL ||
	    sscanf(b, "https://%255[^:/]:%u", host, &port) != 2) {
		fprintf(stderr, "usage: CS_BASE=https://HOST:PORT CS_CACERT=FILE "
			"smimp-crash-sender init ACCOUNTS N_KEYS | load ACCOUNTS DIR "
			"N_SENDERS STOP_FILE | verify ACCOUNTS DIR | probe ADDRESS SECONDS\n");
		return 2;
	}
	if (smimp_init() != 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	snprintf(base, sizeof base, "%s", b);
	snprintf(connect_to, sizeof connect_to, "%s:%u:127.0.0.1:%u", host, port, port);
	if (strcmp(argv[1], "probe") == 0 && argc == 4)
		return cmd_probe(argv[2], atof(argv[3]));
	/* ACCOUNTS: "ADDRESS PASSWORD" lines (password "-" once initialized) */
	n = test_accounts_load(argv[2], MAX_ACCOUNTS, &accts);
	if (n < 2) {
		fprintf(stderr, "crash-sender: need at least 2 accounts in %s\n", argv[2]);
		free(accts);
		return 2;
	}
	n_accts = (unsigned)n;
	if (strcmp(argv[1], "init") == 0 && argc == 4) {
		struct https_client c;

		client_init(&c);
		rc = 0;
		for (unsigned i = 0; i < n_accts; i++)
			if (initialize(&c, &accts[i], atol(argv[3])) != 0)
				rc = 1;
		https_client_free(&c);
	} else if (strcmp(argv[1], "load") == 0 && argc == 6) {
		stop_file = argv[5];
		if (getenv("CS_SEND_RETRIES") != NULL)
			send_retries = atol(getenv("CS_SEND_RETRIES"));
		allow_refusals = getenv("CS_ALLOW_REFUSALS") != NULL;
		rc = cmd_load(argv[3], (unsigned)atoi(argv[4]));
	} else if (strcmp(argv[1], "verify") == 0 && argc == 4) {
		rc = cmd_verify(argv[3]);
	} else {
		fprintf(stderr, "crash-sender: bad command line\n");
	}
	free(accts);
	curl_global_cleanup();
	return rc;
}

/* bench_smimpd: a load generator for a running smimpd (see
 * run_bench_smimpd.sh, which makes the CA, the accounts and the server).
 * Many concurrent authenticated clients, each a thread with one libcurl
 * easy handle (one keep-alive HTTPS connection), measure in one run:
 *   create_session   GET + POST create_session (a local login)
 *   delivery         get_message_key + get_pow_params + send_message of a
 *                    4 KiB message (encrypted and signed with libsmimp)
 *   fetch            GET message/{id}/false of the stored messages
 *   public_key       GET get_user/{address}/public_key
 *   idle             RSS with N idle keep-alive TLS connections open
 * and smimpd's CPU time per operation (utime+stime of /proc/PID/stat
 * before and after each phase) and peak RSS (VmHWM). Every phase is bounded
 * by a duration and a count. Loopback only; test keys (seeded), not secret.
 *
 * Usage: bench_smimpd --pid PID --port PORT --cacert FILE --domain D
 *        --accounts FILE [--threads N] [--seconds S] [--idle N]
 *        [--phases session,delivery,fetch,pubkey]  (fetch needs delivery)
 *        [--connect-port P]  (connect to 127.0.0.1:P for https://D:PORT,
 *                             e.g. a second node of the same public_url)
 *        [--start-file F]    (after set-up print "bench: ready" on stderr
 *                             and wait for F to exist: generators started
 *                             together then run their phases together)
 * FILE: "ADDRESS PASSWORD" lines, accounts added but not yet initialized. */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "smimp/envelope.h"
#include "smimp/login.h"
#include "smimp/msgkey.h"
#include "smimp/pow.h"

#include "https_client.h"
#include "test_session.h"

#define MSG_BYTES 4096
#define MAX_ACCOUNTS 1024
#define EPHEMERAL_UPLOAD 100   /* ephemeral keys per account */
#define MIDS_PER_ACCOUNT 256   /* stored ids kept for the fetch phase */

struct account {
	struct test_account id;
	struct test_login login;    /* set up once, used by every phase */
	pthread_mutex_t mu;
	char mids[MIDS_PER_ACCOUNT][65];
	unsigned n_mids;
};

static struct account *accts;
static unsigned n_accts;
static char base[256], connect_to[256], cacert[1024];
static pid_t server_pid;
static unsigned n_threads = 64, idle_conns = 1000;
static double phase_seconds = 5.0;
static char phases[128] = "session,delivery,fetch,pubkey";
static uint8_t plaintext[MSG_BYTES];

/* No connect timeout of its own (libcurl's): handshakes under full load
 * may be slow, and a phase should not count them as failures. */
static void client_init(struct https_client *c)
{
	struct https_client_opts o = {base, cacert, connect_to, 0};

	if (https_client_init(c, &o) != 0) {
		fprintf(stderr, "bench: cannot set up a client\n");
		exit(1);
	}
}

/* One request (see https_client_call); a transport error is shown. */
static long call(struct https_client *c, const char *path, const char *session,
		 const char *body, size_t body_len)
{
	long st = https_client_call(c, path, session, body, body_len);

	if (st == 0)
		fprintf(stderr, "bench: %s: %s\n", path, https_client_error(c));
	return st;
}

static void complain(const char *what, struct https_client *c)
{
	static atomic_int n;

	if (atomic_fetch_add(&n, 1) < 10)
		fprintf(stderr, "bench: %s: %ld %.200s\n", what, c->status, c->body);
}

/* A test_session request failed: a transport error is shown as call()
 * shows it, then the answer. */
static void failed(const char *what, struct https_client *c)
{
	if (c->status == 0)
		fprintf(stderr, "bench: %s: %s\n", what, https_client_error(c));
	complain(what, c);
}

/* ---- server figures ---- */

static double server_cpu_s(void)
{
	char path[64], line[2048];
	unsigned long ut = 0, st = 0;
	FILE *f;
	char *p;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)server_pid);
	f = fopen(path, "r");
	if (f == NULL || fgets(line, sizeof line, f) == NULL) {
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	p = strrchr(line, ')');   /* comm may hold spaces */
	if (p == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		   &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long server_kib(const char *field)
{
	char path[64], line[256];
	long v = -1;
	size_t n = strlen(field);
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)server_pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

static double self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ---- set-up: initialize every account ---- */

static int initialize(struct https_client *c, const struct account *a)
{
	struct smimp_error err = {SMIMP_OK, ""};
	long st = test_session_initialize(c, &a->id, EPHEMERAL_UPLOAD, &err);

	if (st < 0)
		fprintf(stderr, "bench: record: %s\n", err.message);
	else if (st != 200)
		failed("initialize_account", c);
	return st == 200 ? 0 : -1;
}

/* Logs a in: the session and its token go to *l. */
static int login(struct https_client *c, const struct account *a, struct test_login *l)
{
	switch (test_session_login(c, base, &a->id, l)) {
	case TEST_LOGIN_OK:
		return 0;
	case TEST_LOGIN_GET_FAILED:
		failed("GET create_session", c);
		break;
	case TEST_LOGIN_POST_FAILED:
		failed("POST create_session", c);
		break;
	case TEST_LOGIN_BAD_REPLY:
		break;
	}
	return -1;
}

/* ---- one delivery: draw a key, get PoW params, send 4 KiB ---- */

static int deliver(struct https_client *c, struct account *from, struct account *to)
{
	struct smimp_msgkey mk;
	struct smimp_token nonce;
	struct smimp_hash lth, prefix;
	struct smimp_envelope env;
	struct smimp_error err = {SMIMP_OK, ""};
	struct smimp_pow_solve_opts opts = {1, NULL, NULL, NULL};
	struct smimp_pow_proof proof;
	char pow[SMIMP_POW_STRING_LEN + 1], path[256];
	const char *s, *session = from->login.session;
	char *send;
	unsigned zb;
	json_t *j;
	long st;

	st = test_session_draw_key(c, session, &to->id, &mk);
	if (st != 200) {
		if (st != -1)
			failed("get_message_key", c);
		return -1;
	}
	st = test_session_pow_params(c, session, &to->id, &nonce, &zb);
	if (st != 200) {
		if (st != -1)
			failed("get_pow_params", c);
		return -1;
	}
	smimp_login_token_hash(&lth, &from->login.token);
	if (smimp_envelope_encrypt(&env, to->id.address, from->id.address, "email",
				   &mk.key, NULL, plaintext, sizeof plaintext,
				   &from->id.kp.sk, &lth, &err) != SMIMP_OK) {
		fprintf(stderr, "bench: encrypt: %s\n", err.message);
		return -1;
	}
	smimp_envelope_pow_prefix(&prefix, &env, &nonce);
	if (smimp_pow_solve(&proof, &prefix, &nonce, zb, &opts, NULL) != SMIMP_OK) {
		smimp_envelope_clear(&env);
		return -1;
	}
	smimp_pow_format(pow, &proof);
	if (smimp_envelope_sign(&env, pow, &from->id.kp.sk, &err) != SMIMP_OK) {
		smimp_envelope_clear(&env);
		return -1;
	}
	send = smimp_envelope_body_dump(&env);
	smimp_envelope_clear(&env);
	if (send == NULL)
		return -1;
	snprintf(path, sizeof path, "send_message/%s", to->id.path_addr);
	st = call(c, path, session, send, strlen(send));
	free(send);
	if (st != 200) {
		complain("send_message", c);
		return -1;
	}
	j = https_client_json(c);
	s = json_string_value(json_object_get(j, "message_id"));
	if (s != NULL && strlen(s) == 64) {
		pthread_mutex_lock(&to->mu);
		if (to->n_mids < MIDS_PER_ACCOUNT)
			strcpy(to->mids[to->n_mids++], s);
		pthread_mutex_unlock(&to->mu);
	}
	json_decref(j);
	return 0;
}

/* ---- phases ---- */

enum phase { P_INIT, P_SESSION, P_DELIVERY, P_FETCH, P_PUBKEY };
static const char *phase_names[] = {"initialize_account", "create_session",
				    "full delivery", "fetch 4 KiB message",
				    "get_user public_key"};

/* A timed phase starts when every client has its connection (two waits:
 * all warm, then the clock is read and the workers go). */
static pthread_barrier_t warm, go;

struct worker {
	pthread_t t;
	unsigned idx;
	enum phase ph;
	long max_ops;
	double until;
	long ok, failed;
	double lat_sum;   /* seconds */
};

static void *work(void *p)
{
	struct worker *w = p;
	struct https_client c;
	unsigned n = 0;

	client_init(&c);
	if (w->ph == P_INIT) {
		for (unsigned i = w->idx; i < n_accts; i += n_threads) {
			if (initialize(&c, &accts[i]) == 0 &&
			    login(&c, &accts[i], &accts[i].login) == 0)
				w->ok++;
			else
				w->failed++;
		}
		https_client_free(&c);
		return NULL;
	}
	/* Warm the connection first: a TLS handshake is not part of a phase
	 * (neither its time nor either side's CPU). */
	call(&c, "../version", NULL, NULL, 0);
	pthread_barrier_wait(&warm);
	pthread_barrier_wait(&go);
	while (w->ok + w->failed < w->max_ops && test_now_s() < w->until) {
		struct account *me = &accts[w->idx % n_accts];
		double t0 = test_now_s();
		int rc = -1;
		char path[256];

		switch (w->ph) {
		case P_SESSION: {
			struct test_login tmp;   /* a new session, not kept */

			rc = login(&c, me, &tmp);
			break;
		}
		case P_DELIVERY: {
			/* the k-th recipient after me, never myself */
			unsigned k = 1 + (n % (n_accts - 1));

			rc = deliver(&c, me, &accts[(w->idx + k) % n_accts]);
			break;
		}
		case P_FETCH:
			if (me->n_mids == 0)
				goto out;
			snprintf(path, sizeof path, "message/%s/false",
				 me->mids[n % me->n_mids]);
			rc = call(&c, path, me->login.session, NULL, 0) == 200 &&
			     c.len > MSG_BYTES ? 0 : -1;
			if (rc != 0)
				complain("fetch", &c);
			break;
		case P_PUBKEY:
			snprintf(path, sizeof path, "get_user/%s/public_key",
				 accts[(w->idx + n) % n_accts].id.path_addr);
			rc = call(&c, path, NULL, NULL, 0) == 200 ? 0 : -1;
			if (rc != 0)
				complain("public_key", &c);
			break;
		default:
			break;
		}
		n++;
		w->lat_sum += test_now_s() - t0;
		if (rc == 0)
			w->ok++;
		else
			w->failed++;
	}
out:
	https_client_free(&c);
	return NULL;
}

struct result {
	const char *name;
	long ok, failed;
	double secs, srv_cpu, gen_cpu, lat_ms;
};

static struct result run_phase(enum phase ph, unsigned threads, long total_ops,
			       double seconds)
{
	struct worker *w = calloc(threads, sizeof *w);
	struct result r = {phase_names[ph], 0, 0, 0, 0, 0, 0};
	bool timed = ph != P_INIT;
	double c0, g0, t0;

	if (timed) {
		pthread_barrier_init(&warm, NULL, threads + 1);
		pthread_barrier_init(&go, NULL, threads + 1);
	}
	for (unsigned i = 0; i < threads; i++) {
		w[i].idx = i;
		w[i].ph = ph;
		w[i].max_ops = total_ops / threads + 1;
		if (pthread_create(&w[i].t, NULL, work, &w[i]) != 0) {
			fprintf(stderr, "bench_smimpd: cannot start thread %u\n", i);
			exit(1);
		}
	}
	if (timed)
		pthread_barrier_wait(&warm);
	c0 = server_cpu_s();
	g0 = self_cpu_s();
	t0 = test_now_s();
	for (unsigned i = 0; i < threads; i++)
		w[i].until = t0 + seconds;
	if (timed)
		pthread_barrier_wait(&go);
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(w[i].t, NULL);
		r.ok += w[i].ok;
		r.failed += w[i].failed;
		r.lat_ms += w[i].lat_sum;
	}
	r.secs = test_now_s() - t0;
	fprintf(stderr, "bench: phase %s: monotonic %.6f,%.6f\n", r.name, t0, t0 + r.secs);
	r.srv_cpu = server_cpu_s() - c0;
	r.gen_cpu = self_cpu_s() - g0;
	r.lat_ms = r.ok + r.failed > 0 ? 1000.0 * r.lat_ms / (double)(r.ok + r.failed) : 0;
	if (timed) {
		pthread_barrier_destroy(&warm);
		pthread_barrier_destroy(&go);
	}
	free(w);
	return r;
}

/* ---- idle connections ---- */

static long idle_phase(unsigned n, long *rss_before, long *rss_after)
{
	CURLM *m = curl_multi_init();
	struct https_client *cs = calloc(n, sizeof *cs);
	char url[512];
	int running = 1;
	long ok = 0;
	CURLMsg *msg;
	int left, shown = 0;

	snprintf(url, sizeof url, "%s/version", base);
	*rss_before = server_kib("VmRSS");
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)n + 16);
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)n + 16);
	for (unsigned i = 0; i < n; i++) {
		client_init(&cs[i]);
		curl_easy_setopt(cs[i].h, CURLOPT_URL, url);
		curl_easy_setopt(cs[i].h, CURLOPT_FRESH_CONNECT, 1L);
		curl_multi_add_handle(m, cs[i].h);
		/* Open them in batches of 50: a herd of 1,000 handshakes at
		 * once only measures the generator's TLS code. */
		if ((i + 1) % 50 != 0 && i + 1 != n)
			continue;
		running = 1;
		while (running) {
			curl_multi_perform(m, &running);
			if (running)
				curl_multi_poll(m, NULL, 0, 100, NULL);
		}
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			long st = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &st);
			if (msg->data.result == CURLE_OK && st == 200)
				ok++;
			else if (++shown <= 5)
				fprintf(stderr, "bench: idle connection: %s, status %ld\n",
					curl_easy_strerror(msg->data.result), st);
		}
	}
	/* The connections stay in the multi handle's cache, open and idle. */
	sleep(1);
	*rss_after = server_kib("VmRSS");
	for (unsigned i = 0; i < n; i++) {
		curl_multi_remove_handle(m, cs[i].h);
		https_client_free(&cs[i]);
	}
	curl_multi_cleanup(m);
	free(cs);
	return ok;
}

static void print_row(const struct result *r, double ops_scale)
{
	double ops = (double)r->ok * ops_scale;

	if (r->secs <= 0)
		return;

	printf("%-22s %8ld %6ld %7.2f %10.0f %9.1f %9.1f %8.2f\n", r->name, r->ok,
	       r->failed, r->secs, ops / r->secs,
	       ops > 0 ? 1e6 * r->srv_cpu / ops : 0,
	       ops > 0 ? 1e6 * r->gen_cpu / ops : 0, r->lat_ms);
}

/* FILE: accounts added but not yet initialized. */
static int load_accounts(const char *file)
{
	struct test_account *ids;
	int n = test_accounts_load(file, MAX_ACCOUNTS, &ids);

	if (n >= 2)
		accts = calloc((size_t)n, sizeof *accts);
	if (accts == NULL) {
		free(ids);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		accts[i].id = ids[i];
		pthread_mutex_init(&accts[i].mu, NULL);
	}
	n_accts = (unsigned)n;
	free(ids);
	return 0;
}

int main(int argc, char **argv)
{
	const char *accounts = NULL, *domain = NULL;
	unsigned port = 0, connect_port = 0;
	const char *start_file = NULL;
	struct rlimit rl;
	struct result r[8];
	long rss0, rss1, idle_ok;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--pid") == 0)
			server_pid = (pid_t)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--port") == 0)
			port = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--cacert") == 0)
			snprintf(cacert, sizeof cacert, "%s", argv[i + 1]);
		else if (strcmp(argv[i], "--domain") == 0)
			domain = argv[i + 1];
		else if (strcmp(argv[i], "--accounts") == 0)
			accounts = argv[i + 1];
		else if (strcmp(argv[i], "--threads") == 0)
			n_threads = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--seconds") == 0)
			phase_seconds = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--idle") == 0)
			idle_conns = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--phases") == 0)
			snprintf(phases, sizeof phases, "%s", argv[i + 1]);
		else if (strcmp(argv[i], "--connect-port") == 0)
			connect_port = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--start-file") == 0)
			start_file = argv[i + 1];
		else {
			fprintf(stderr, "bench_smimpd: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (server_pid <= 0 || port == 0 || cacert[0] == '\0' || domain == NULL ||
	    accounts == NULL || n_threads == 0 || n_threads > 1024) {
		fprintf(stderr, "usage: bench_smimpd --pid PID --port PORT --cacert FILE "
			"--domain D --accounts FILE [--threads N] [--seconds S] "
			"[--idle N]\n");
		return 2;
	}
	if (smimp_init() != 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (load_accounts(accounts) != 0) {
		fprintf(stderr, "bench_smimpd: need at least 2 accounts in %s\n", accounts);
		return 2;
	}
	if (n_threads > n_accts)
		n_threads = n_accts;
	snprintf(base, sizeof base, "https://%s:%u", domain, port);
	snprintf(connect_to, sizeof connect_to, "%s:%u:127.0.0.1:%u", domain, port,
		 connect_port ? connect_port : port);
	for (size_t i = 0; i < sizeof plaintext; i++)
		plaintext[i] = (uint8_t)('a' + i % 26);

	r[0] = run_phase(P_INIT, n_threads, (long)n_accts, 600);
	if (r[0].failed > 0) {
		fprintf(stderr, "bench_smimpd: %ld accounts could not be set up\n",
			r[0].failed);
		return 1;
	}
	if (start_file != NULL) {
		fprintf(stderr, "bench: ready\n");
		for (int i = 0; access(start_file, F_OK) != 0; i++) {
			if (i > 30000) {   /* 300 s */
				fprintf(stderr, "bench_smimpd: no %s\n", start_file);
				return 1;
			}
			nanosleep(&(struct timespec){0, 10000000}, NULL);
		}
	}
	memset(&r[1], 0, 4 * sizeof r[1]);
	for (int i = 1; i <= 4; i++)
		r[i].name = phase_names[i];
	if (strstr(phases, "session") != NULL)
		r[1] = run_phase(P_SESSION, n_threads, 20000, phase_seconds);
	if (strstr(phases, "delivery") != NULL)
		r[2] = run_phase(P_DELIVERY, n_threads, 40000, phase_seconds);
	if (strstr(phases, "fetch") != NULL)
		r[3] = run_phase(P_FETCH, n_threads, 200000, phase_seconds);
	if (strstr(phases, "pubkey") != NULL)
		r[4] = run_phase(P_PUBKEY, n_threads, 200000, phase_seconds);
	rss0 = rss1 = 0;
	idle_ok = idle_conns > 0 ? idle_phase(idle_conns, &rss0, &rss1) : 0;

	printf("\nsmimpd benchmark: %u accounts, %u concurrent clients (keep-alive "
	       "HTTPS), %.0f s per phase, %d-byte messages\n",
	       n_accts, n_threads, phase_seconds, MSG_BYTES);
	printf("%-22s %8s %6s %7s %10s %9s %9s %8s\n", "operation", "ok", "failed",
	       "seconds", "ops/s", "srv us/op", "gen us/op", "lat ms");
	for (int i = 1; i <= 4; i++)
		print_row(&r[i], 1.0);
	printf("(create_session counts GET+POST as one login; a delivery is "
	       "3 requests)\n");
	printf("peak RSS (VmHWM) of smimpd: %.1f MiB\n", server_kib("VmHWM") / 1024.0);
	printf("idle TLS connections: %ld of %u open; smimpd RSS %.1f -> %.1f MiB "
	       "(+%.1f MiB)\n", idle_ok, idle_conns, rss0 / 1024.0, rss1 / 1024.0,
	       (rss1 - rss0) / 1024.0);
	curl_global_cleanup();
	return 0;
}

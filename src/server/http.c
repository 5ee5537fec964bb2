/* libmicrohttpd glue, the only file that includes microhttpd.h. Untrusted
 * input: everything a peer sends. Here: bodies are capped at
 * max_request_bytes (413 when the Content-Length says more: after the
 * excess is read and dropped when it is at most 1 MiB, at once beyond),
 * connections are capped and timed out, and the path goes to the router raw
 * (percent escapes are decoded per segment by handlers, never here).
 *
 * Threads: one libmicrohttpd daemon with a pool of internal threads, each
 * with its own epoll set; handlers run on those threads. The main thread
 * only waits for signals.
 *
 * Certificate reload (SIGHUP): libmicrohttpd 0.9.75 cannot swap a running
 * daemon's certificate, so a new daemon is started on the same listening
 * socket with the new certificate: the old daemon is quiesced
 * (MHD_quiesce_daemon hands the socket over, no connection is refused
 * meanwhile because the kernel keeps queueing them), the new daemon accepts
 * from then on, and the old one finishes its requests, answers them with
 * "Connection: close" and is stopped once its connections are gone (or
 * after connection_timeout plus a grace period). A certificate or key that
 * does not load is reported and the old one stays in service. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "policy.h"
#include "routes.h"
#include "smimp/json.h"
#include "tls.h"

#define LOG_PATH_MAX 160      /* characters of a path in the log */
#define DRAIN_GRACE 5         /* seconds past connection_timeout */
#define STOP_WAIT 10          /* seconds SIGTERM waits for requests in flight */
#define BODY_PREALLOC (64 * 1024) /* body bytes reserved at once */
#define DISCARD_MAX (1024 * 1024) /* body bytes read past the limit before
				   * the connection is closed */

/* One running libmicrohttpd daemon. */
struct instance {
	struct MHD_Daemon *d;
	const struct smd_server *srv;
	struct smd_tls_pem pem;     /* must outlive d */
	atomic_uint inflight;       /* requests between first call and completion */
	atomic_bool draining;       /* quiesced: answer with Connection: close */
	MHD_socket listen_fd;       /* once quiesced */
	time_t quiesced_at;
	struct instance *next;
};

/* One request, from its first call to the completion callback. */
struct reqctx {
	struct instance *inst;
	struct timespec start;
	char method[32];
	char path[LOG_PATH_MAX * 4 + 4];  /* escaped for the log */
	char *body;
	size_t len, cap;
	size_t discarded;         /* body bytes dropped after a 413 */
	bool too_large;
	bool answered;
	int status;
	/* A request that may wait on another server runs on an offload
	 * worker while its connection is suspended (spec 7.1). */
	struct smd_request req;
	struct smd_response resp;
	char addr[INET6_ADDRSTRLEN];
	struct MHD_Connection *conn;
	bool offloaded;           /* resp holds the worker's answer once resumed */
	struct reqctx *next;      /* in the offload queue */
};

static const uint8_t empty_body[1] = {0};

static long long elapsed_us(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - start->tv_sec) * 1000000LL +
	       (now.tv_nsec - start->tv_nsec) / 1000;
}

/* Copies s for the log: bytes outside 0x21-0x7E as \xNN, cut to
 * LOG_PATH_MAX input bytes. */
static void escape_for_log(char *out, size_t out_size, const char *s)
{
	size_t o = 0, i;

	for (i = 0; s[i] != '\0' && i < LOG_PATH_MAX && o + 5 < out_size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c > 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, out_size - o, "\\x%02x", c);
	}
	if (s[i] != '\0' && o + 4 < out_size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	fprintf(stderr, "smimpd: http: %s\n", line);
}

/* Keeps the path raw: the router splits it and handlers decode segments. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

const char *smd_request_query(const struct smd_request *req, const char *name)
{
	return MHD_lookup_connection_value((struct MHD_Connection *)req->conn,
					   MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result queue(struct MHD_Connection *c, struct reqctx *ctx,
			     struct smd_response *r)
{
	struct MHD_Response *mr;
	enum MHD_Result ok;
	char num[24];

	mr = MHD_create_response_from_buffer(r->body_len, r->body,
					     MHD_RESPMEM_MUST_FREE);
	if (mr == NULL) {
		smd_response_clear(r);
		return MHD_NO;
	}
	r->body = NULL;  /* owned by mr now */
	if (r->content_type != NULL)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
					r->content_type);
	if (r->no_store)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (r->retry_after > 0) {
		snprintf(num, sizeof num, "%u", r->retry_after);
		MHD_add_response_header(mr, MHD_HTTP_HEADER_RETRY_AFTER, num);
	}
	if (r->allow != NULL)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_ALLOW, r->allow);
	MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
	if (atomic_load(&ctx->inst->draining))
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
	ok = MHD_queue_response(c, (unsigned)r->status, mr);
	MHD_destroy_response(mr);
	if (ok == MHD_YES) {
		ctx->status = r->status;
		ctx->answered = true;
	}
	smd_response_clear(r);
	return ok;
}

static enum MHD_Result queue_error(struct MHD_Connection *c, struct reqctx *ctx,
				   enum smimp_err e, const char *message)
{
	struct smd_response r;

	memset(&r, 0, sizeof r);
	smd_response_error(&r, e, message);
	return queue(c, ctx, &r);
}

static enum smd_method method_of(const char *m)
{
	if (strcmp(m, MHD_HTTP_METHOD_GET) == 0)
		return SMD_GET;
	if (strcmp(m, MHD_HTTP_METHOD_POST) == 0)
		return SMD_POST;
	if (strcmp(m, MHD_HTTP_METHOD_DELETE) == 0)
		return SMD_DELETE;
	return SMD_OTHER;
}

/* The first call for a request: set up its context and refuse a body that
 * announces itself as too large before reading any of it. */
static enum MHD_Result begin(struct instance *inst, struct MHD_Connection *c,
			     const char *url, const char *method, void **con_cls)
{
	const struct smd_config *cfg = inst->srv->cfg;
	struct reqctx *ctx = calloc(1, sizeof *ctx);
	const char *cl;

	if (ctx == NULL)
		return MHD_NO;
	ctx->inst = inst;
	atomic_fetch_add(&inst->inflight, 1);
	clock_gettime(CLOCK_MONOTONIC, &ctx->start);
	escape_for_log(ctx->method, sizeof ctx->method, method);
	escape_for_log(ctx->path, sizeof ctx->path, url);
	*con_cls = ctx;
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					 MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL) {
		char *end;
		unsigned long long n;

		errno = 0;
		n = strtoull(cl, &end, 10);
		if (errno != 0 || n > (unsigned long long)cfg->max_request_bytes) {
			/* A body of modest excess is read and dropped, so the
			 * client gets its 413 cleanly after sending it (an
			 * answer queued mid-upload closes the connection under
			 * a client still writing, which then often sees only a
			 * reset). A larger one is answered at once. */
			ctx->too_large = true;
			if (errno == 0 && n - (unsigned long long)cfg->max_request_bytes
					  <= DISCARD_MAX)
				return MHD_YES;
			return queue_error(c, ctx, SMIMP_ERR_TOO_LARGE,
					   "request body over max_request_bytes");
		}
		/* Reserve what was announced, up to BODY_PREALLOC: a peer
		 * that announces much and sends slowly gets memory only as
		 * its bytes arrive. */
		if (n > 0) {
			size_t cap = n < BODY_PREALLOC ? (size_t)n : BODY_PREALLOC;

			ctx->body = malloc(cap + 1);
			if (ctx->body == NULL)
				return MHD_NO;
			ctx->cap = cap;
		}
	}
	return MHD_YES;
}

/* Takes one piece of the body. */
static enum MHD_Result take(struct reqctx *ctx, struct MHD_Connection *c,
			    const char *data, size_t *size)
{
	size_t max = (size_t)ctx->inst->srv->cfg->max_request_bytes;
	size_t n = *size;

	*size = 0;
	if (ctx->answered || ctx->too_large) {
		/* Discard a little so the client can read its 413; a body
		 * that goes on and on costs it the connection. */
		ctx->discarded += n;
		return ctx->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
	}
	if (n > max - ctx->len) {
		ctx->too_large = true;
		free(ctx->body);
		ctx->body = NULL;
		ctx->len = ctx->cap = 0;
		/* libmicrohttpd may not take an answer in the middle of a
		 * body; then the rest is discarded and the 413 goes at the end. */
		(void)queue_error(c, ctx, SMIMP_ERR_TOO_LARGE,
				  "request body over max_request_bytes");
		return MHD_YES;
	}
	if (ctx->len + n > ctx->cap) {
		size_t cap = ctx->cap == 0 ? 4096 : ctx->cap;
		char *p;

		while (cap < ctx->len + n)
			cap = cap > max / 2 ? max : cap * 2;
		p = realloc(ctx->body, cap + 1);
		if (p == NULL)
			return MHD_NO;
		ctx->body = p;
		ctx->cap = cap;
	}
	memcpy(ctx->body + ctx->len, data, n);
	ctx->len += n;
	return MHD_YES;
}

/* The peer's address as text in buf, or NULL. */
static const char *client_addr(struct MHD_Connection *c, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	if (sa == NULL)
		return NULL;
	if (sa->sa_family == AF_INET)
		return inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
				 buf, (socklen_t)size);
	if (sa->sa_family == AF_INET6)
		return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
				 buf, (socklen_t)size);
	return NULL;
}

/* ---- requests that may wait on another server ----
 * A remote login may take up to 10 s. libmicrohttpd binds each connection to
 * one I/O thread, so a handler that waits there stalls every connection of
 * that thread. Such requests are suspended and run by a few offload workers
 * instead (a quarter of the handler threads, at least one); when all are
 * busy the request is answered 429 at once rather than queued behind a slow
 * server. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct reqctx *head, *tail;
	unsigned idle;            /* workers waiting for a request */
	bool stopping;
	pthread_t *threads;
	unsigned n;
} offload = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL,
	     0, false, NULL, 0};

static void *offload_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&offload.lock);
	for (;;) {
		struct reqctx *ctx;

		offload.idle++;
		while (offload.head == NULL && !offload.stopping)
			pthread_cond_wait(&offload.wake, &offload.lock);
		offload.idle--;
		if (offload.head == NULL)
			break;
		ctx = offload.head;
		offload.head = ctx->next;
		if (offload.head == NULL)
			offload.tail = NULL;
		pthread_mutex_unlock(&offload.lock);
		smd_route(&ctx->req, &ctx->resp);
		MHD_resume_connection(ctx->conn);
		pthread_mutex_lock(&offload.lock);
	}
	pthread_mutex_unlock(&offload.lock);
	return NULL;
}

static bool offload_start(const struct smd_config *cfg)
{
	unsigned n = smd_config_threads(cfg) / 4;

	offload.n = n > 0 ? n : 1;
	offload.threads = calloc(offload.n, sizeof *offload.threads);
	if (offload.threads == NULL)
		return false;
	for (unsigned i = 0; i < offload.n; i++) {
		if (pthread_create(&offload.threads[i], NULL, offload_worker, NULL) != 0) {
			offload.n = i;
			return false;
		}
	}
	return true;
}

/* Lets the workers finish what they run and the requests handed to them,
 * then joins them. */
static void offload_stop(void)
{
	pthread_mutex_lock(&offload.lock);
	offload.stopping = true;
	pthread_cond_broadcast(&offload.wake);
	pthread_mutex_unlock(&offload.lock);
	for (unsigned i = 0; i < offload.n; i++)
		pthread_join(offload.threads[i], NULL);
	free(offload.threads);
	offload.threads = NULL;
	offload.n = 0;
}

/* Suspends c and hands ctx to a free worker; false when none is free. The
 * suspension comes first, so a worker can never resume it too early. */
static bool offload_submit(struct reqctx *ctx, struct MHD_Connection *c)
{
	bool ok;

	pthread_mutex_lock(&offload.lock);
	ok = !offload.stopping && offload.idle > 0 && offload.head == NULL;
	if (ok) {
		ctx->conn = c;
		ctx->offloaded = true;
		ctx->next = NULL;
		MHD_suspend_connection(c);
		offload.head = offload.tail = ctx;
		pthread_cond_signal(&offload.wake);
	}
	pthread_mutex_unlock(&offload.lock);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct instance *inst = cls;
	struct reqctx *ctx = *con_cls;
	struct smd_request *req;
	struct smimp_error err = {SMIMP_OK, ""};

	(void)version;
	if (ctx == NULL)
		return begin(inst, c, url, method, con_cls);
	if (*upload_data_size > 0)
		return take(ctx, c, upload_data, upload_data_size);
	if (ctx->answered)
		return MHD_YES;
	if (ctx->too_large)
		return queue_error(c, ctx, SMIMP_ERR_TOO_LARGE,
				   "request body over max_request_bytes");
	if (ctx->offloaded) /* resumed: the worker's answer is ready */
		return queue(c, ctx, &ctx->resp);
	req = &ctx->req;
	req->method = method_of(method);
	req->path = url;
	req->host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	req->auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "SMIMP-Authentication");
	req->content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							MHD_HTTP_HEADER_CONTENT_TYPE);
	if (ctx->body != NULL) {
		ctx->body[ctx->len] = '\0';
		req->body = (const uint8_t *)ctx->body;
	} else {
		req->body = empty_body;
	}
	req->body_len = ctx->len;
	req->conn = (struct smd_http_conn *)c;
	req->srv = inst->srv;
	req->client_addr = client_addr(c, ctx->addr, sizeof ctx->addr);
	if (smd_policy_admit(req, &ctx->resp.retry_after, &err) != SMIMP_OK)
		smd_response_error(&ctx->resp, SMIMP_ERR_RATE_LIMITED, err.message);
	else if (!smd_route_may_block(req))
		smd_route(req, &ctx->resp);
	else if (offload_submit(ctx, c))
		return MHD_YES;
	else
		smd_response_error(&ctx->resp, SMIMP_ERR_RATE_LIMITED,
				   "too many requests are waiting on other "
				   "servers; try again shortly");
	return queue(c, ctx, &ctx->resp);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct instance *inst = cls;
	struct reqctx *ctx = *con_cls;

	(void)c;
	if (ctx == NULL)
		return;
	*con_cls = NULL;
	if (ctx->status != 0)
		fprintf(stderr, "smimpd: %s %s %d %lldus%s\n", ctx->method, ctx->path,
			ctx->status, elapsed_us(&ctx->start),
			toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
	else if (ctx->too_large)
		fprintf(stderr, "smimpd: %s %s 413 %lldus (closed: body went on "
			"past the limit)\n", ctx->method, ctx->path,
			elapsed_us(&ctx->start));
	else
		fprintf(stderr, "smimpd: %s %s - %lldus (no answer)\n", ctx->method,
			ctx->path, elapsed_us(&ctx->start));
	smd_response_clear(&ctx->resp);
	free(ctx->body);
	free(ctx);
	atomic_fetch_sub(&inst->inflight, 1);
}

/* Starts a daemon with pem (taken over), on a new socket (listen_fd
 * MHD_INVALID_SOCKET) or on one handed over by a quiesced daemon. */
static struct instance *instance_start(const struct smd_server *srv,
				       struct smd_tls_pem *pem, MHD_socket listen_fd)
{
	const struct smd_config *cfg = srv->cfg;
	struct instance *inst = calloc(1, sizeof *inst);
	struct MHD_OptionItem where[2];
	unsigned flags, threads = smd_config_threads(cfg);
	uint16_t port;

	if (inst == NULL) {
		smd_tls_free(pem);
		return NULL;
	}
	inst->srv = srv;
	inst->pem = *pem;
	memset(pem, 0, sizeof *pem);
	atomic_init(&inst->inflight, 0);
	atomic_init(&inst->draining, false);
	inst->listen_fd = MHD_INVALID_SOCKET;
	if (listen_fd != MHD_INVALID_SOCKET) {
		where[0] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET,
						   (intptr_t)listen_fd, NULL};
	} else {
		where[0] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0,
						   (void *)&cfg->listen_addr};
	}
	where[1] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	port = ntohs(cfg->listen_addr.ss_family == AF_INET6 ?
		     ((const struct sockaddr_in6 *)&cfg->listen_addr)->sin6_port :
		     ((const struct sockaddr_in *)&cfg->listen_addr)->sin_port);
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS |
		MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (cfg->listen_addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	inst->d = MHD_start_daemon(
		flags, port, NULL, NULL, on_request, inst,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
		MHD_OPTION_ARRAY, where,
		MHD_OPTION_HTTPS_MEM_CERT, inst->pem.cert,
		MHD_OPTION_HTTPS_MEM_KEY, inst->pem.key,
		MHD_OPTION_HTTPS_PRIORITIES, SMD_TLS_PRIORITIES,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, inst,
		MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
		MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0u,
		MHD_OPTION_END);
	if (inst->d == NULL) {
		smd_tls_free(&inst->pem);
		free(inst);
		return NULL;
	}
	return inst;
}

/* Stops accepting on inst; returns the listening socket (still open). */
static MHD_socket instance_quiesce(struct instance *inst)
{
	atomic_store(&inst->draining, true);
	inst->listen_fd = MHD_quiesce_daemon(inst->d);
	inst->quiesced_at = time(NULL);
	return inst->listen_fd;
}

static void instance_stop(struct instance *inst)
{
	MHD_stop_daemon(inst->d);
	smd_tls_free(&inst->pem);
	free(inst);
}

static unsigned connections_of(struct instance *inst)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(inst->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info != NULL ? info->num_connections : 0;
}

/* Stops the quiesced daemons that have no connection left, or whose
 * connections outlived the idle timeout and have no request in flight. */
static void reap(struct instance **old, long long timeout)
{
	time_t now = time(NULL);

	for (struct instance **p = old; *p != NULL;) {
		struct instance *inst = *p;
		bool idle = atomic_load(&inst->inflight) == 0;
		long long age = (long long)(now - inst->quiesced_at);

		if (connections_of(inst) == 0 || (idle && age > timeout + DRAIN_GRACE) ||
		    age > 2 * (timeout + DRAIN_GRACE)) {
			*p = inst->next;
			instance_stop(inst);
			fprintf(stderr, "smimpd: previous listener stopped\n");
			continue;
		}
		p = &inst->next;
	}
}

/* SIGHUP: a new daemon with the certificate and key read again. */
static struct instance *reload(const struct smd_server *srv,
			       struct instance *cur, struct instance **old)
{
	const struct smd_config *cfg = srv->cfg;
	struct smimp_error err = {SMIMP_OK, ""};
	struct smd_tls_pem pem, backup;
	struct instance *next;
	MHD_socket fd;

	if (smd_tls_load(&pem, cfg->tls_cert, cfg->tls_key, &err) != SMIMP_OK) {
		fprintf(stderr, "smimpd: reload: %s; keeping the certificate in use\n",
			err.message);
		return cur;
	}
	if (smd_tls_copy(&backup, &cur->pem, &err) != SMIMP_OK) {
		fprintf(stderr, "smimpd: reload: %s; keeping the certificate in use\n",
			err.message);
		smd_tls_free(&pem);
		return cur;
	}
	fd = instance_quiesce(cur);
	if (fd == MHD_INVALID_SOCKET) {
		fprintf(stderr, "smimpd: reload: cannot hand the listening socket over; "
			"keeping the certificate in use\n");
		atomic_store(&cur->draining, false);
		smd_tls_free(&pem);
		smd_tls_free(&backup);
		return cur;
	}
	cur->next = *old;
	*old = cur;
	next = instance_start(srv, &pem, fd);
	if (next == NULL) {
		fprintf(stderr, "smimpd: reload: the new certificate was refused by "
			"the TLS library; going on with the old one\n");
		next = instance_start(srv, &backup, fd);
	} else {
		smd_tls_free(&backup);
		fprintf(stderr, "smimpd: reload: certificate and key reloaded from %s "
			"and %s\n", cfg->tls_cert, cfg->tls_key);
	}
	return next;
}

static void stop_all(struct instance *cur, struct instance *old, MHD_socket fd)
{
	time_t until = time(NULL) + STOP_WAIT;
	bool busy = true;

	while (busy && time(NULL) < until) {
		busy = atomic_load(&cur->inflight) > 0;
		for (struct instance *i = old; i != NULL && !busy; i = i->next)
			busy = atomic_load(&i->inflight) > 0;
		if (busy)
			nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	}
	while (old != NULL) {
		struct instance *n = old->next;

		instance_stop(old);
		old = n;
	}
	instance_stop(cur);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

int smd_http_serve(const struct smd_server *srv)
{
	const struct smd_config *cfg = srv->cfg;
	struct smimp_error err = {SMIMP_OK, ""};
	struct instance *cur, *old = NULL;
	struct smd_tls_pem pem;
	sigset_t set;
	MHD_socket fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (smd_tls_load(&pem, cfg->tls_cert, cfg->tls_key, &err) != SMIMP_OK) {
		fprintf(stderr, "smimpd: %s\n", err.message);
		return SMD_EXIT_CONFIG;
	}
	if (!offload_start(cfg)) {
		fprintf(stderr, "smimpd: cannot start threads\n");
		offload_stop();
		smd_tls_free(&pem);
		return SMD_EXIT_OSERR;
	}
	cur = instance_start(srv, &pem, MHD_INVALID_SOCKET);
	if (cur == NULL) {
		offload_stop();
		fprintf(stderr, "smimpd: cannot serve on %s\n", cfg->listen);
		return SMD_EXIT_OSERR;
	}
	fprintf(stderr, "smimpd: serving %s on %s (%u threads)\n", cfg->public_url,
		cfg->listen, smd_config_threads(cfg));
	for (;;) {
		struct timespec tick = {1, 0};
		int sig = sigtimedwait(&set, NULL, &tick);

		if (old != NULL)
			reap(&old, cfg->connection_timeout);
		if (sig == SIGHUP) {
			cur = reload(srv, cur, &old);
			if (cur == NULL) {
				fprintf(stderr, "smimpd: no listener left; stopping\n");
				offload_stop();
				while (old != NULL) {
					struct instance *n = old->next;

					instance_stop(old);
					old = n;
				}
				return SMD_EXIT_OSERR;
			}
		} else if (sig == SIGTERM || sig == SIGINT) {
			fprintf(stderr, "smimpd: %s: stopping\n",
				sig == SIGTERM ? "SIGTERM" : "SIGINT");
			break;
		}
	}
	/* Stop accepting, let the requests in flight finish, then stop. */
	fd = instance_quiesce(cur);
	if (fd == MHD_INVALID_SOCKET)
		fprintf(stderr, "smimpd: cannot quiesce the listener; stopping "
			"at once\n");
	/* Suspended requests are resumed by their workers (each bounded by
	 * the remote lookup's 10 s) before any daemon is stopped. */
	offload_stop();
	stop_all(cur, old, fd);
	fprintf(stderr, "smimpd: stopped\n");
	return 0;
}

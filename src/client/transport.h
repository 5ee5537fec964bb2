/* HTTPS transport (spec 4.2), the only module that sees libcurl. Fails
 * closed: the peer's certificate and host name are verified, TLS 1.2 is the
 * minimum, only https URLs are allowed, redirects are never followed (a 3xx
 * answer is an error), the URL path is sent byte for byte, and a response
 * larger than the caller's cap is cut off and refused. The
 * SMIMP-Authentication header is sent only to the origin that issued it.
 * Untrusted input: everything the network answers. */
#ifndef SMC_TRANSPORT_H
#define SMC_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define SMC_TRANSPORT_MAX_CONNECT_TO 32

/* Explicit trust and routing options (never defaults: 4.2). */
struct smc_transport_opts {
	const char *cacert;      /* PEM file of trusted CAs instead of the
				  * system's, or NULL */
	const char *connect_to[SMC_TRANSPORT_MAX_CONNECT_TO];
	size_t n_connect_to;     /* curl's HOST:PORT:ADDR:PORT entries */
	int verbose;             /* >0: log method, URL and status to stderr */
};

struct smc_transport;

/* A session credential and the origin ("https://host[:port]") it belongs
 * to. The header goes only to URLs of exactly that origin. */
struct smc_auth {
	const char *origin;
	const char *session;
};

enum smc_method { SMC_GET, SMC_POST, SMC_DELETE };

/* One HTTP answer; body is malloc'ed and NUL-terminated (free it with
 * smc_response_free). */
struct smc_response {
	long status;
	char *body;
	size_t len;
	long retry_after;        /* seconds from Retry-After, or -1 */
};

/* NULL when out of memory or libcurl fails to initialize. */
struct smc_transport *smc_transport_new(const struct smc_transport_opts *o);
void smc_transport_free(struct smc_transport *t);

/* Checks one --connect-to value (HOST:PORT:ADDR:PORT; HOST and ADDR may be
 * empty as in curl, PORTs decimal). 0 when well formed. */
int smc_transport_check_connect_to(const char *s);

/* Sends one request to an https URL and reads the answer, at most
 * max_response bytes of body. body may be NULL (no body; POST sends an
 * empty one). auth may be NULL. Returns 0 with *resp filled for any HTTP
 * answer other than a redirect (the caller judges the status); -1 with e
 * filled otherwise: SMC_EXIT_TEMPFAIL for a network failure or timeout,
 * SMC_EXIT_PROTOCOL for any TLS failure, a redirect, a non-https URL or an
 * oversized answer. */
int smc_transport_request(struct smc_transport *t, enum smc_method method,
			  const char *url, const struct smc_auth *auth,
			  const char *body, size_t body_len,
			  size_t max_response, struct smc_response *resp,
			  struct smc_err *e);

void smc_response_free(struct smc_response *r);

/* Writes "https://host[:port]" of an https URL into out; -1 when url is not
 * https or out is too small. */
int smc_url_origin(char *out, size_t out_size, const char *url);

#endif

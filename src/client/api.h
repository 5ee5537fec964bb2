/* SMIMP calls over the transport: endpoint URLs built from a resolved
 * server (4.3), JSON bodies, and error answers {"error", "message"} (4.4)
 * turned into client errors that name the server's code. Untrusted input:
 * every answer body. */
#ifndef SMC_API_H
#define SMC_API_H

#include <stddef.h>
#include <jansson.h>

#include "smimp/discovery.h"

#include "err.h"
#include "transport.h"

#define SMC_API_MAX_RESPONSE (64u * 1024u * 1024u) /* default answer cap */

/* A server as discovery found it (4.1, 4.3). */
struct smc_server {
	char domain[SMIMP_DOMAIN_MAX + 1];
	char base_url[SMIMP_BASE_URL_MAX + 1];
	char origin[SMIMP_BASE_URL_MAX + 1];  /* https://host[:port] */
	char version[SMIMP_VERSION_MAX + 1];  /* the version both speak */
};

/* A session on a server (7); see login.h. NULL for public calls. */
struct smc_session;

/* Calls {base}/{version}/{endpoint} (endpoint already URL-encoded). body
 * may be NULL. On a 2xx answer returns 0 and *out (may be NULL) gets the
 * parsed JSON object (NULL for 204 or an empty body). Otherwise -1 with e
 * filled: the HTTP status, the server's error code and a message (its
 * message, escaped and cut short); SMC_EXIT_TEMPFAIL for 5xx and 429,
 * SMC_EXIT_NOPERM for 401 and 403, SMC_EXIT_REFUSED for other 4xx,
 * SMC_EXIT_PROTOCOL for an answer that is not the JSON promised. */
int smc_api_call(struct smc_transport *t, const struct smc_server *srv,
		 const struct smc_session *sess, enum smc_method method,
		 const char *endpoint, const json_t *body, size_t max_response,
		 json_t **out, struct smc_err *e);

/* Same for an absolute URL (discovery and /version). */
int smc_api_call_url(struct smc_transport *t, const char *url,
		     const struct smc_session *sess, enum smc_method method,
		     const json_t *body, size_t max_response, json_t **out,
		     struct smc_err *e);

#endif

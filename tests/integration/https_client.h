/* https_client: the small libcurl HTTPS client of the test and bench load
 * generators (smimp-crash-sender, bench_smimpd). One client is one easy
 * handle, so one keep-alive connection, used by one thread at a time.
 *
 * A client trusts only the CA file it is given, connects where connect_to
 * says (libcurl's --connect-to form "HOST:PORT:ADDR:PORT"), uses no proxy
 * and keeps its request headers between calls: a call allocates nothing
 * unless the session changes or the response outgrows the buffer.
 * Responses are hostile input: at most HTTPS_CLIENT_MAX_RESPONSE bytes are
 * kept, a larger one fails the call. Test use only. */
#ifndef SMIMP_HTTPS_CLIENT_H
#define SMIMP_HTTPS_CLIENT_H

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>

/* Above smimpd's largest answer with its default limits (a message of up
 * to max_envelope_bytes, 16 MiB). */
#define HTTPS_CLIENT_MAX_RESPONSE ((size_t)64 << 20)
#define HTTPS_CLIENT_SESSION_MAX 255   /* bytes of a session token */

struct https_client_opts {
	const char *base;         /* "https://HOST:PORT", the public_url */
	const char *cacert;       /* the CA file, the only one trusted */
	const char *connect_to;   /* "HOST:PORT:ADDR:PORT", or NULL */
	long connect_timeout;     /* seconds; 0 for libcurl's default */
};

/* Stays where it is from init to free (libcurl keeps pointers into it). */
struct https_client {
	/* The easy handle, for a caller that drives it itself (e.g. in a
	 * multi handle, after setting CURLOPT_URL). */
	CURL *h;
	/* The last response, read only: status 0 when there is none; body
	 * holds the len bytes received and a NUL (never NULL after init). */
	long status;
	char *body;
	size_t len, cap;
	CURLcode result;          /* of the last transfer */
	char errbuf[CURL_ERROR_SIZE];
	/* Private. */
	char base[256];
	struct curl_slist *connect_to;
	/* Request headers: [has body][has session], the session ones for
	 * sess_for (a client speaks as one account at a time). */
	struct curl_slist *hdrs[2][2];
	char sess_for[HTTPS_CLIENT_SESSION_MAX + 1];
};

/* Sets up c; 0, or -1 (nothing to free) when libcurl or memory fails. The
 * strings of o are copied. curl_global_init comes first. */
int https_client_init(struct https_client *c, const struct https_client_opts *o);
void https_client_free(struct https_client *c);

/* One request to BASE/0.1/PATH: a POST of body_len bytes of JSON, or a GET
 * when body is NULL; session (or NULL) goes in SMIMP-Authentication.
 * Returns the HTTP status, 0 when there is none (transport error, response
 * too large, path too long, session unusable: see https_client_error). */
long https_client_call(struct https_client *c, const char *path,
		       const char *session, const char *body, size_t body_len);

/* The body of the last response parsed as JSON (a new reference), or NULL. */
json_t *https_client_json(const struct https_client *c);

/* Why the last call got no status, for messages. */
const char *https_client_error(const struct https_client *c);

#endif

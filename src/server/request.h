/* One HTTP request and its response as handlers see them: no
 * libmicrohttpd types (http.c fills these in). Everything in a request is
 * untrusted peer input: the path is raw (not percent-decoded), header
 * values and the body are whatever the peer sent, within the size limits
 * http.c enforced. */
#ifndef SMD_REQUEST_H
#define SMD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "smimp/error.h"

struct smd_config;
struct smd_db;
struct smd_pow_key;     /* pow_nonce.h */
struct smd_http_conn;   /* http.c's handle of the connection */

/* What every handler may use; read-only while serving. */
struct smd_server {
	const struct smd_config *cfg;
	struct smd_db *db;
	const struct smd_pow_key *pow_key;  /* authenticates PoW nonces */
};

enum smd_method { SMD_GET, SMD_POST, SMD_DELETE, SMD_OTHER };

struct smd_request {
	enum smd_method method;
	const char *path;          /* raw URL path, starts with '/' */
	const char *host;          /* Host header or NULL */
	const char *auth;          /* SMIMP-Authentication header or NULL */
	const char *client_addr;   /* the peer's IP address as text, or NULL */
	const char *content_type;  /* Content-Type header or NULL */
	const uint8_t *body;       /* never NULL; body_len bytes, NUL after them */
	size_t body_len;
	struct smd_http_conn *conn;
	const struct smd_server *srv;
};

/* A response under construction; the body is malloc'ed and owned by it. */
struct smd_response {
	int status;                /* 0 until set */
	char *body;
	size_t body_len;
	const char *content_type;  /* static string */
	bool no_store;             /* add Cache-Control: no-store */
	unsigned retry_after;      /* seconds; 0 = no Retry-After header */
	const char *allow;         /* Allow header (405), static string or NULL */
};

/* The value of query argument name, raw (not percent-decoded), or NULL.
 * Implemented in http.c. */
const char *smd_request_query(const struct smd_request *req, const char *name);

/* Sets status and a JSON body (compact); takes the reference to v. A JSON
 * that cannot be serialized becomes a 500 error. */
void smd_response_json(struct smd_response *resp, int status, json_t *v);

/* Sets a body of bytes with a static content type. */
void smd_response_bytes(struct smd_response *resp, int status,
			const char *content_type, const void *body, size_t len);

/* The one place an error becomes a response: the status and code come from
 * the registry (smimp_err_http_status, smimp_err_code), the message is
 * message or, when NULL or empty, the code. {"error": CODE, "message": TEXT}. */
void smd_response_error(struct smd_response *resp, enum smimp_err e,
			const char *message);

/* Frees the body; the response may be reused. */
void smd_response_clear(struct smd_response *resp);

#endif

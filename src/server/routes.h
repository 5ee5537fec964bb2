/* The router: method + path to handler (spec 4.3). Turns every handler
 * error into the one error response. Input: the raw request path. */
#ifndef SMD_ROUTES_H
#define SMD_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "request.h"

#define SMD_MAX_ARGS 6

/* The path segments after the endpoint name, raw (not percent-decoded). */
struct smd_args {
	const char *seg[SMD_MAX_ARGS];
	size_t len[SMD_MAX_ARGS];
	size_t n;
};

/* A handler fills resp and returns SMIMP_OK, or returns an error (with a
 * reason in err) and leaves resp alone: the router answers the error. */
typedef enum smimp_err (*smd_handler)(const struct smd_request *req,
				      const struct smd_args *args,
				      struct smd_response *resp,
				      struct smimp_error *err);

/* One endpoint: its first path segment after the version, its method, how
 * many further segments it takes, and its handler. */
struct smd_route {
	const char *name;
	enum smd_method method;
	unsigned min_args, max_args;
	smd_handler fn;
	/* When set and true for a request, the handler may wait on another
	 * server (a remote login): http.c runs it off its I/O threads. */
	bool (*may_block)(const struct smd_request *req,
			  const struct smd_args *args);
};

/* The routes of one API area; each api_<area>.c defines its table. */
struct smd_route_table {
	const struct smd_route *routes;
	size_t n;
};

#define SMD_ROUTE_TABLE(arr) { (arr), sizeof(arr) / sizeof((arr)[0]) }

extern const struct smd_route_table smd_routes_info;     /* api_info.c */
extern const struct smd_route_table smd_routes_identity; /* api_identity.c */
extern const struct smd_route_table smd_routes_mail;     /* api_mail.c */

/* Answers req into resp (which starts zeroed). */
void smd_route(const struct smd_request *req, struct smd_response *resp);

/* True when req goes to a route that may wait on another server (remote
 * logins): http.c runs those off its I/O threads. */
bool smd_route_may_block(const struct smd_request *req);

/* Writes the distinct endpoint names the router serves under a version
 * (for server_information's "apis") into out[0..max) and returns how many. */
size_t smd_route_names(const char **out, size_t max);

#endif

/* The router: method + path to handler (spec 4.3). Turns every handler
 * error into the one error response. Input: the raw request path. */
#ifndef SMD_ROUTES_H
#define SMD_ROUTES_H

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

/* Answers req into resp (which starts zeroed). */
void smd_route(const struct smd_request *req, struct smd_response *resp);

/* Writes the distinct endpoint names the router serves under a version
 * (for server_information's "apis") into out[0..max) and returns how many. */
size_t smd_route_names(const char **out, size_t max);

#endif

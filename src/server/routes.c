/* The route table and the path rules of spec 4.3: {base}/version,
 * {base}/{version}/{endpoint}/..., unsupported versions, unknown paths and
 * wrong methods. Untrusted input: the raw path; it is only split and
 * compared here, handlers decode their own segments. */
#include <string.h>

#include "api_info.h"
#include "config.h"
#include "routes.h"

#define PROTOCOL_VERSION "0.1"
#define MAX_SEGMENTS (2 + SMD_MAX_ARGS)

static const struct smd_route_table *const tables[] = {
	&smd_routes_info,
	&smd_routes_identity,
	&smd_routes_mail,
};

#define NTABLES (sizeof tables / sizeof tables[0])

/* Iterates r over every route of every area table. */
#define FOR_EACH_ROUTE(r)                                                    \
	for (size_t t_ = 0; t_ < NTABLES; t_++)                               \
		for (const struct smd_route *r = tables[t_]->routes;          \
		     r < tables[t_]->routes + tables[t_]->n; r++)

/* The Allow header for a set of methods, bit (1 << enum smd_method). */
static const char *const allow_header[8] = {
	NULL, "GET", "POST", "GET, POST", "DELETE", "GET, DELETE",
	"POST, DELETE", "GET, POST, DELETE",
};

size_t smd_route_names(const char **out, size_t max)
{
	size_t n = 0;

	FOR_EACH_ROUTE(r) {
		bool seen = false;

		for (size_t j = 0; j < n && !seen; j++)
			seen = strcmp(out[j], r->name) == 0;
		if (!seen && n < max)
			out[n++] = r->name;
	}
	return n;
}

/* "digits.digits" */
static bool is_version(const char *s, size_t len)
{
	size_t i = 0, d1 = 0, d2 = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9') {
		i++;
		d1++;
	}
	if (d1 == 0 || i == len || s[i] != '.')
		return false;
	i++;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		i++;
		d2++;
	}
	return d2 > 0 && i == len;
}

static bool seg_is(const char *seg, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(seg, lit, len) == 0;
}

static void run(const struct smd_request *req, const struct smd_args *args,
		smd_handler fn, struct smd_response *resp)
{
	struct smimp_error err = {SMIMP_OK, ""};
	enum smimp_err rc = fn(req, args, resp, &err);

	if (rc != SMIMP_OK)
		smd_response_error(resp, rc, err.message);
	else if (resp->status == 0)
		smd_response_error(resp, SMIMP_ERR_INTERNAL, "no answer");
}

static void method_not_allowed(struct smd_response *resp, const char *allow)
{
	resp->allow = allow;
	smd_response_error(resp, SMIMP_ERR_METHOD_NOT_ALLOWED,
			   "method not allowed on this path");
}

/* What a path and method lead to. */
enum match {
	MATCH_WELL_KNOWN,
	MATCH_VERSION,
	MATCH_ROUTE,         /* *found and *args are set */
	MATCH_UNSUPPORTED,   /* a version this server does not speak */
	MATCH_METHOD,        /* the path exists for other methods: *allowed */
	MATCH_NOT_FOUND,
};

static enum match match(const struct smd_request *req, struct smd_args *args,
			const struct smd_route **found, unsigned *allowed)
{
	const struct smd_config *cfg = req->srv->cfg;
	const char *p = req->path, *seg[MAX_SEGMENTS];
	size_t len[MAX_SEGMENTS], nseg = 0, plen;

	*allowed = 0;   /* bit per enum smd_method of this shape */
	if (strcmp(p, "/.well-known/smimp.txt") == 0) {
		*allowed = 1u << SMD_GET;
		return req->method == SMD_GET ? MATCH_WELL_KNOWN : MATCH_METHOD;
	}
	/* The base URL's path, when it has one, prefixes every call. */
	plen = strlen(cfg->public_path);
	if (plen > 0) {
		if (strncmp(p, cfg->public_path, plen) != 0 || p[plen] != '/')
			return MATCH_NOT_FOUND;
		p += plen;
	}
	if (*p != '/')
		return MATCH_NOT_FOUND;
	p++;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t l = slash != NULL ? (size_t)(slash - p) : strlen(p);

		if (nseg == MAX_SEGMENTS)
			return MATCH_NOT_FOUND;
		seg[nseg] = p;
		len[nseg++] = l;
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	if (nseg == 1 && seg_is(seg[0], len[0], "version")) {
		*allowed = 1u << SMD_GET;
		return req->method == SMD_GET ? MATCH_VERSION : MATCH_METHOD;
	}
	if (!is_version(seg[0], len[0]))
		return MATCH_NOT_FOUND;
	if (!seg_is(seg[0], len[0], PROTOCOL_VERSION))
		return MATCH_UNSUPPORTED;
	if (nseg < 2)
		return MATCH_NOT_FOUND;
	args->n = nseg - 2;
	for (size_t i = 0; i < args->n; i++) {
		args->seg[i] = seg[i + 2];
		args->len[i] = len[i + 2];
	}
	FOR_EACH_ROUTE(r) {
		if (!seg_is(seg[1], len[1], r->name) || args->n < r->min_args ||
		    args->n > r->max_args)
			continue;
		if (r->method == req->method) {
			*found = r;
			return MATCH_ROUTE;
		}
		*allowed |= 1u << r->method;
	}
	return *allowed != 0 ? MATCH_METHOD : MATCH_NOT_FOUND;
}

bool smd_route_may_block(const struct smd_request *req)
{
	const struct smd_route *r = NULL;
	struct smd_args args;
	unsigned allowed;

	return match(req, &args, &r, &allowed) == MATCH_ROUTE &&
	       r->may_block != NULL && r->may_block(req, &args);
}

void smd_route(const struct smd_request *req, struct smd_response *resp)
{
	const struct smd_route *r = NULL;
	struct smd_args args;
	unsigned allowed;

	switch (match(req, &args, &r, &allowed)) {
	case MATCH_WELL_KNOWN:
		run(req, NULL, smd_api_well_known, resp);
		return;
	case MATCH_VERSION:
		run(req, NULL, smd_api_version, resp);
		return;
	case MATCH_ROUTE:
		run(req, &args, r->fn, resp);
		return;
	case MATCH_UNSUPPORTED:
		smd_response_error(resp, SMIMP_ERR_UNSUPPORTED_VERSION,
				   "this server speaks SMIMP " PROTOCOL_VERSION);
		return;
	case MATCH_METHOD:
		method_not_allowed(resp, allow_header[allowed & 7u]);
		return;
	case MATCH_NOT_FOUND:
		break;
	}
	smd_response_error(resp, SMIMP_ERR_NOT_FOUND, "no such endpoint");
}

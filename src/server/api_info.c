/* Public information: the protocol versions (4.3), what this server offers
 * and its limits (10), and smimp.txt for the hosted domains (4.1).
 * Untrusted input: the Host header of well-known requests. */
#include <string.h>

#include "api_info.h"
#include "config.h"
#include "smimp/address.h"

#ifndef SMD_VERSION
#define SMD_VERSION "unknown"
#endif

enum smimp_err smd_api_version(const struct smd_request *req,
			       const struct smd_args *args,
			       struct smd_response *resp,
			       struct smimp_error *err)
{
	(void)req;
	(void)args;
	(void)err;
	smd_response_json(resp, 200, json_pack("{s:[s]}", "versions", "0.1"));
	return SMIMP_OK;
}

enum smimp_err smd_api_server_information(const struct smd_request *req,
					  const struct smd_args *args,
					  struct smd_response *resp,
					  struct smimp_error *err)
{
	const struct smd_config *cfg = req->srv->cfg;
	const char *names[64];
	size_t n = smd_route_names(names, sizeof names / sizeof names[0]);
	json_t *apis = json_array(), *v;

	(void)args;
	if (apis == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	json_array_append_new(apis, json_string("version"));
	for (size_t i = 0; i < n; i++)
		json_array_append_new(apis, json_string(names[i]));
	v = json_pack("{s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:s}",
		      "apis", apis,
		      "limits",
		      "max_request_bytes", (json_int_t)cfg->max_request_bytes,
		      "max_envelope_bytes", (json_int_t)cfg->max_envelope_bytes,
		      "max_record_bytes", (json_int_t)cfg->max_record_bytes,
		      "max_history_records", (json_int_t)cfg->max_history_records,
		      "max_ephemeral_keys", (json_int_t)cfg->max_ephemeral_keys,
		      "max_avatar_bytes", (json_int_t)cfg->max_avatar_bytes,
		      "max_list_page", (json_int_t)cfg->max_list_page,
		      "software", "smimpd " SMD_VERSION);
	if (v == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	smd_response_json(resp, 200, v);
	return SMIMP_OK;
}

enum smimp_err smd_api_well_known(const struct smd_request *req,
				  const struct smd_args *args,
				  struct smd_response *resp,
				  struct smimp_error *err)
{
	const struct smd_config *cfg = req->srv->cfg;
	char domain[SMIMP_DOMAIN_MAX + 1];
	const char *host = req->host, *colon;
	size_t hlen;
	size_t ulen = strlen(cfg->public_url);
	char line[sizeof domain + 4096];
	struct smimp_error ignored;

	(void)args;
	if (host == NULL)
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND, "no Host header");
	colon = strchr(host, ':');
	hlen = colon != NULL ? (size_t)(colon - host) : strlen(host);
	if (smimp_address_domain_normalize(domain, host, hlen, &ignored) != SMIMP_OK ||
	    !smd_config_hosts_domain(cfg, domain))
		return smimp_error_set(err, SMIMP_ERR_NOT_FOUND,
				       "this server does not host that domain");
	if (ulen + 2 > sizeof line)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "public_url too long");
	memcpy(line, cfg->public_url, ulen);
	line[ulen] = '\n';
	smd_response_bytes(resp, 200, "text/plain; charset=us-ascii", line, ulen + 1);
	return SMIMP_OK;
}

static const struct smd_route info_routes[] = {
	{"server_information", SMD_GET, 0, 0, smd_api_server_information, NULL},
};

const struct smd_route_table smd_routes_info = SMD_ROUTE_TABLE(info_routes);

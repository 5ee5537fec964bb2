/* Resolution (see resolve.h). Every answer here is untrusted: smimp.txt is
 * capped at 4 KiB and parsed by the library's discovery rules, /version
 * must be a list of strings, histories are validated in full before the
 * pin store sees them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/address.h"
#include "smimp/json.h"
#include "smimp/pin.h"

#include "resolve.h"

/* The versions this client speaks, in no particular order. */
static const char *const client_versions[] = {"0.1"};

#define HISTORY_MAX_BYTES (SMC_API_MAX_RESPONSE)

static void say(const struct smc_resolver *r, const char *what,
		const char *a)
{
	if (!r->quiet)
		fprintf(stderr, "smimp: %s %s\n", what, a);
}

/* "digits.digits" into major/minor; -1 otherwise. */
static int parse_version(const char *s, long *major, long *minor)
{
	char *end;

	if (s[0] < '0' || s[0] > '9' || strlen(s) > SMIMP_VERSION_MAX)
		return -1;
	*major = strtol(s, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return -1;
	*minor = strtol(end + 1, &end, 10);
	return *end == '\0' ? 0 : -1;
}

static int pick_version(const json_t *ans, char out[SMIMP_VERSION_MAX + 1])
{
	json_t *list = json_object_get(ans, "versions"), *v;
	long best_major = -1, best_minor = -1;
	size_t i;

	if (!json_is_array(list))
		return -1;
	json_array_foreach(list, i, v) {
		const char *s = json_string_value(v);
		long ma, mi;

		if (s == NULL || parse_version(s, &ma, &mi) != 0)
			continue;
		for (size_t k = 0; k < sizeof client_versions /
					       sizeof client_versions[0]; k++) {
			if (strcmp(s, client_versions[k]) != 0)
				continue;
			if (ma > best_major ||
			    (ma == best_major && mi > best_minor)) {
				best_major = ma;
				best_minor = mi;
				snprintf(out, SMIMP_VERSION_MAX + 1, "%s", s);
			}
		}
	}
	return best_major < 0 ? -1 : 0;
}

int smc_resolve_server_at(const struct smc_resolver *r, const char *domain,
			  const char *base_url, struct smc_server *out,
			  struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	char url[SMIMP_BASE_URL_MAX + 32];
	json_t *ans = NULL;

	memset(out, 0, sizeof *out);
	snprintf(out->domain, sizeof out->domain, "%s", domain);
	snprintf(out->base_url, sizeof out->base_url, "%s", base_url);
	if (smc_url_origin(out->origin, sizeof out->origin, base_url) != 0)
		return smc_fail(e, SMC_EXIT_PROTOCOL, "bad base URL %.200s",
				base_url);
	if (smimp_discovery_endpoint_url(url, sizeof url, base_url, NULL,
					 "version", &le) != SMIMP_OK)
		return smc_fail(e, SMC_EXIT_PROTOCOL, "base URL of %s: %s",
				domain, le.message);
	if (smc_api_call_url(r->t, url, NULL, SMC_GET, NULL, 64 * 1024, &ans,
			     e) != 0)
		return smc_fail_prefix(e, "protocol versions of %s", domain);
	if (ans == NULL || pick_version(ans, out->version) != 0) {
		json_decref(ans);
		return smc_fail(e, SMC_EXIT_PROTOCOL,
				"%s (server of %s) speaks no protocol version "
				"this client knows (0.1)", base_url, domain);
	}
	json_decref(ans);
	return 0;
}

int smc_resolve_server(const struct smc_resolver *r, const char *domain,
		       struct smc_server *out, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	char url[SMIMP_WELL_KNOWN_URL_MAX + 1];
	char base[SMIMP_BASE_URL_MAX + 1];
	struct smc_response resp;

	if (smimp_discovery_well_known_url(url, domain, &le) != SMIMP_OK)
		return smc_fail(e, SMC_EXIT_DATAERR, "%s", le.message);
	say(r, "looking up the server of", domain);
	if (smc_transport_request(r->t, SMC_GET, url, NULL, NULL, 0,
				  SMIMP_DISCOVERY_FILE_MAX, &resp, e) != 0)
		return smc_fail_prefix(e, "discovery for %s", domain);
	if (resp.status != 200) {
		long st = resp.status;

		smc_response_free(&resp);
		return smc_fail(e, st == 404 ? SMC_EXIT_REFUSED
				    : st >= 500 ? SMC_EXIT_TEMPFAIL
						: SMC_EXIT_PROTOCOL,
				"discovery for %s: %s answered HTTP %ld; is %s "
				"an SMIMP domain?", domain, url, st, domain);
	}
	if (smimp_discovery_base_url_from_file(base, resp.body, resp.len,
					       &le) != SMIMP_OK) {
		smc_response_free(&resp);
		return smc_fail(e, SMC_EXIT_PROTOCOL,
				"discovery for %s: invalid smimp.txt (%s); "
				"nothing was sent", domain, le.message);
	}
	smc_response_free(&resp);
	return smc_resolve_server_at(r, domain, base, out, e);
}

void smc_identity_free(struct smc_identity *id)
{
	smimp_history_free(&id->history);
}

static int fetch_history(const struct smc_resolver *r,
			 const struct smc_server *srv, const char *address,
			 const char *path, struct smimp_history *out,
			 struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	char endpoint[SMIMP_ADDRESS_PATH_MAX + 32];
	json_t *ans = NULL;

	snprintf(endpoint, sizeof endpoint, "get_user/%s/history", path);
	say(r, "fetching the history of", address);
	if (smc_api_call(r->t, srv, NULL, SMC_GET, endpoint, NULL,
			 HISTORY_MAX_BYTES, &ans, e) != 0)
		return smc_fail_prefix(e, "history of %s", address);
	if (ans == NULL ||
	    smimp_history_from_json(out, ans, address, &le) != SMIMP_OK) {
		json_decref(ans);
		return smc_fail(e, SMC_EXIT_PROTOCOL,
				"the history of %s from %s is invalid: %s; "
				"nothing will be sent to this address", address,
				srv->origin, ans == NULL ? "empty answer"
							 : le.message);
	}
	json_decref(ans);
	return 0;
}

/* QUICK mode's first step: SMC_PIN_SAME when the server's public_key answer
 * matches the pin exactly, SMC_PIN_ADVANCED when the history must be
 * fetched. */
/* Says what to do after a pin mismatch. */
static void pin_advice(struct smc_err *e, const char *address)
{
	size_t n = strlen(e->message);

	/* The library's message already ends its sentence. */
	while (n > 0 && (e->message[n - 1] == '.' || e->message[n - 1] == ' '))
		e->message[--n] = '\0';
	snprintf(e->message + n, sizeof e->message - n,
		 ". If %s confirms through another channel that the account "
		 "was reset, run: smimp pins forget %s", address, address);
}

static int check_public_key(const struct smc_resolver *r,
			    const struct smc_server *srv, const char *address,
			    const char *path, const struct smimp_pin *pin,
			    enum smimp_pin_key *verdict, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	char endpoint[SMIMP_ADDRESS_PATH_MAX + 32];
	json_t *ans = NULL;
	enum smimp_err rc;

	snprintf(endpoint, sizeof endpoint, "get_user/%s/public_key", path);
	if (smc_api_call(r->t, srv, NULL, SMC_GET, endpoint, NULL, 64 * 1024,
			 &ans, e) != 0)
		return smc_fail_prefix(e, "public key of %s", address);
	rc = ans != NULL ? smimp_pin_check_public_key(pin, ans, verdict, &le)
			 : smimp_error_set(&le, SMIMP_ERR_BAD_REQUEST, "empty");
	json_decref(ans);
	if (rc != SMIMP_OK) {
		smc_fail_lib(e, SMC_EXIT_PROTOCOL, &le, address);
		if (e->exit_code == SMC_EXIT_PIN)
			pin_advice(e, address);
		return -1;
	}
	return 0;
}

int smc_resolve_identity(const struct smc_resolver *r, const char *address,
			 enum smc_resolve_mode mode, struct smc_identity *out,
			 struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	char path[SMIMP_ADDRESS_PATH_MAX + 1];
	struct smc_pins pins = {0, NULL};
	const struct smc_pin_entry *known;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (smimp_address_normalize_str(out->address, address, &le) != SMIMP_OK)
		return smc_fail(e, SMC_EXIT_DATAERR, "%s", le.message);
	if (smimp_address_path_encode(path, out->address, &le) != SMIMP_OK)
		return smc_fail(e, SMC_EXIT_DATAERR, "%s", le.message);
	if (smc_resolve_server(r, smimp_address_domain(out->address),
			       &out->server, e) != 0)
		return -1;
	if (smc_pins_load(r->home, &pins, e) != 0)
		return -1;
	known = smc_pins_find(&pins, out->address);
	if (known != NULL && mode == SMC_RESOLVE_QUICK) {
		enum smimp_pin_key verdict;

		if (check_public_key(r, &out->server, out->address, path,
				     &known->pin, &verdict, e) != 0)
			goto out;
		if (verdict == SMIMP_PIN_KEY_UNCHANGED) {
			out->entry = *known;
			out->before = *known;
			out->change = SMC_PIN_SAME;
			rc = 0;
			goto out;
		}
	}
	if (fetch_history(r, &out->server, out->address, path, &out->history,
			  e) != 0)
		goto out;
	if (smc_pins_commit(r->home, &out->history, &out->change, &out->before,
			    e) != 0) {
		if (e->exit_code == SMC_EXIT_PIN)
			pin_advice(e, out->address);
		goto out;
	}
	smc_pins_free(&pins);
	if (smc_pins_load(r->home, &pins, e) != 0)
		goto out;
	known = smc_pins_find(&pins, out->address);
	if (known == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "pin of %s vanished",
			 out->address);
		goto out;
	}
	out->entry = *known;
	rc = 0;
out:
	smc_pins_free(&pins);
	if (rc != 0)
		smc_identity_free(out);
	return rc;
}

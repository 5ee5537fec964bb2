/* Sessions (see login.h). Untrusted input: the token answer (a strict
 * HEX32; anything else stops the login before anything is signed) and the
 * session answer (bounded printable text). */
#include <stdio.h>
#include <string.h>

#include "smimp/address.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/login.h"

#include "fsutil.h"
#include "login.h"

struct smc_auth smc_session_auth(const struct smc_session *s)
{
	struct smc_auth a = {s->srv != NULL ? s->srv->origin : "", s->session};

	return a;
}

int smc_login(struct smc_transport *t, const struct smc_server *srv,
	      const char *address, const struct smimp_sign_sk *master_sk,
	      struct smc_session *s, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	char path[SMIMP_ADDRESS_PATH_MAX + 1], endpoint[64 + sizeof path];
	struct smimp_token token;
	struct smimp_signed_hash sh;
	json_t *ans = NULL, *req = NULL;
	const char *sess_text;
	size_t sess_len;
	long long expires = 0;
	int rc = -1;

	memset(s, 0, sizeof *s);
	if (smimp_address_path_encode(path, address, &le) != SMIMP_OK)
		return smc_fail(e, SMC_EXIT_DATAERR, "%s", le.message);
	snprintf(endpoint, sizeof endpoint, "create_session/%s", path);
	if (smc_api_call(t, srv, NULL, SMC_GET, endpoint, NULL, 64 * 1024,
			 &ans, e) != 0)
		return smc_fail_prefix(e, "login as %s", address);
	if (ans == NULL ||
	    smimp_json_get_hex(ans, "token", 0, token.b, sizeof token.b, NULL,
			       &le) != SMIMP_OK) {
		smc_fail(e, SMC_EXIT_PROTOCOL,
			 "login as %s: bad token answer from %s: %s", address,
			 srv->origin, ans == NULL ? "empty" : le.message);
		goto out;
	}
	json_decref(ans);
	ans = NULL;

	smimp_login_sign(&sh, srv->base_url, address, &token, master_sk);
	req = json_object();
	if (req == NULL || smimp_json_set_hex(req, "token", token.b,
					      sizeof token.b) != 0 ||
	    smimp_json_set_hex(req, "signed_hash", sh.b, sizeof sh.b) != 0) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	if (smc_api_call(t, srv, NULL, SMC_POST, endpoint, req, 64 * 1024,
			 &ans, e) != 0) {
		smc_fail_prefix(e, "login as %s", address);
		goto out;
	}
	if (ans == NULL ||
	    smimp_json_get_string(ans, "session", 0, SMC_SESSION_MAX,
				  &sess_text, &sess_len, &le) != SMIMP_OK ||
	    smimp_json_get_int(ans, "expires_in", SMIMP_JSON_OPTIONAL, 0,
			       100LL * 365 * 86400, &expires, &le) != SMIMP_OK) {
		smc_fail(e, SMC_EXIT_PROTOCOL,
			 "login as %s: bad session answer from %s: %s", address,
			 srv->origin, ans == NULL ? "empty" : le.message);
		goto out;
	}
	for (size_t i = 0; i < sess_len; i++) {
		/* It becomes a header value: printable ASCII only. */
		if (sess_text[i] <= 0x20 || sess_text[i] >= 0x7f) {
			smc_fail(e, SMC_EXIT_PROTOCOL,
				 "login as %s: %s sent a session with "
				 "characters a header cannot carry", address,
				 srv->origin);
			goto out;
		}
	}
	if (sess_len < 16) {
		smc_fail(e, SMC_EXIT_PROTOCOL,
			 "login as %s: %s sent a session too short to be "
			 "secret", address, srv->origin);
		goto out;
	}
	s->session = smc_secret_alloc(sess_len + 1);
	if (s->session == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	memcpy(s->session, sess_text, sess_len);
	s->session[sess_len] = '\0';
	s->srv = srv;
	snprintf(s->address, sizeof s->address, "%s", address);
	smimp_login_token_hash(&s->login_token_hash, &token);
	s->expires_in = (long)expires;
	rc = 0;
out:
	json_decref(ans);
	json_decref(req);
	return rc;
}

void smc_logout(struct smc_transport *t, struct smc_session *s)
{
	struct smc_err ignored;

	if (s->session != NULL && s->srv != NULL)
		(void)smc_api_call(t, s->srv, s, SMC_POST, "destroy_session",
				   NULL, 64 * 1024, NULL, &ignored);
	smc_secret_free(s->session);
	memset(s, 0, sizeof *s);
}

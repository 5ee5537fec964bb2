/* Sessions (spec 7): GET create_session/{address} for a single-use token,
 * sign H("smimp/0.1/login", base_url, address, token) with the master key,
 * POST it back for a session; destroy_session when done. The session text
 * is a bearer credential: it lives in sodium_malloc'ed memory, is sent only
 * to the server that issued it and is never printed. */
#ifndef SMC_LOGIN_H
#define SMC_LOGIN_H

#include "smimp/address.h"
#include "smimp/types.h"

#include "api.h"
#include "err.h"
#include "transport.h"

#define SMC_SESSION_MAX 512 /* longest session text accepted */

struct smc_session {
	const struct smc_server *srv;          /* borrowed */
	char address[SMIMP_ADDRESS_MAX + 1];   /* who logged in */
	char *session;                         /* sodium_malloc'ed */
	struct smimp_hash login_token_hash;    /* bound into PoW and envelopes */
	long expires_in;
};

/* Logs address in to srv with its master secret key. *s is filled on
 * success and must be ended with smc_logout. */
int smc_login(struct smc_transport *t, const struct smc_server *srv,
	      const char *address, const struct smimp_sign_sk *master_sk,
	      struct smc_session *s, struct smc_err *e);

/* Ends the session on the server (best effort: failures are ignored, the
 * session expires anyway) and wipes it. Safe on a zeroed struct. */
void smc_logout(struct smc_transport *t, struct smc_session *s);

/* The auth the transport needs for calls in this session. */
struct smc_auth smc_session_auth(const struct smc_session *s);

#endif

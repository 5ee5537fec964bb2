/* Resolution (spec 4.1, 4.3, 5, 5.1): a domain to its server (smimp.txt,
 * base URL, common protocol version), and an address to its validated,
 * pinned identity. A history that is invalid, or that does not extend the
 * pin (truncated, forked, replaced), stops everything with a plain
 * explanation (SMC_EXIT_PIN). Untrusted input: smimp.txt, /version, and the
 * public_key and history answers. */
#ifndef SMC_RESOLVE_H
#define SMC_RESOLVE_H

#include "smimp/history.h"

#include "api.h"
#include "err.h"
#include "home.h"
#include "pins.h"
#include "transport.h"

/* Everything resolution needs. */
struct smc_resolver {
	struct smc_transport *t;
	const struct smc_home *home;
	int quiet;               /* no progress lines on stderr */
};

/* Discovery and version choice for a domain. */
int smc_resolve_server(const struct smc_resolver *r, const char *domain,
		       struct smc_server *out, struct smc_err *e);

/* The version choice for a base URL already known (an account's own
 * server, from its keystore). */
int smc_resolve_server_at(const struct smc_resolver *r, const char *domain,
			  const char *base_url, struct smc_server *out,
			  struct smc_err *e);

enum smc_resolve_mode {
	SMC_RESOLVE_FULL,   /* always fetch and validate the whole history */
	SMC_RESOLVE_QUICK,  /* known pin: ask public_key first, fetch the
			     * history only when it moved */
};

/* A resolved identity. history is set (validated) unless QUICK found the
 * pin unchanged; entry is the pin as stored afterwards. */
struct smc_identity {
	char address[SMIMP_ADDRESS_MAX + 1];
	struct smc_server server;
	struct smimp_history history;   /* count 0 when not fetched */
	struct smc_pin_entry entry;
	enum smc_pin_change change;
	struct smc_pin_entry before;    /* the pin before, unless NEW */
};

/* Resolves address (normalized here) and commits its pin. */
int smc_resolve_identity(const struct smc_resolver *r, const char *address,
			 enum smc_resolve_mode mode, struct smc_identity *out,
			 struct smc_err *e);
void smc_identity_free(struct smc_identity *id);

#endif

/* smimpd's configuration: the file format (`key = value`, `#` comments) and
 * the values it yields. Untrusted input: none at run time; the file is the
 * operator's, but every value is still checked and a bad one stops start-up
 * with the file name and line. */
#ifndef SMD_CONFIG_H
#define SMD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "smimp/error.h"

/* Defaults (spec sections 5, 9.3, 10, 11 where the spec gives one). */
#define SMD_DEFAULT_LISTEN "127.0.0.1:8443"
#define SMD_DEFAULT_DATABASE "sqlite:./smimpd.db"
#define SMD_DEFAULT_POW_ZERO_BITS 16u
#define SMD_DEFAULT_QUOTA (1024LL * 1024 * 1024)          /* 1 GiB */
#define SMD_DEFAULT_MAX_REQUEST_BYTES (24LL * 1024 * 1024)
#define SMD_DEFAULT_MAX_ENVELOPE_BYTES (16LL * 1024 * 1024)
#define SMD_DEFAULT_MAX_RECORD_BYTES (16LL * 1024)        /* spec 5 */
#define SMD_DEFAULT_MAX_HISTORY_RECORDS 10000LL           /* spec 5 */
#define SMD_DEFAULT_MAX_EPHEMERAL_KEYS 10000LL            /* spec 11.3 */
#define SMD_DEFAULT_MAX_AVATAR_BYTES (256LL * 1024)       /* spec 11.7 */
#define SMD_DEFAULT_MAX_LIST_PAGE 1000LL                  /* spec 11.5 */
#define SMD_DEFAULT_EPHEMERAL_DRAWS_PER_HOUR 20LL         /* spec 9.3 */
#define SMD_DEFAULT_INIT_PASSWORD_DAYS 7LL                /* spec 11.1 */
#define SMD_DEFAULT_MAX_CONNECTIONS 4096LL
#define SMD_DEFAULT_CONNECTION_TIMEOUT 30LL               /* seconds */
#define SMD_DEFAULT_RATE_PER_ADDRESS 500LL        /* requests per second */
#define SMD_DEFAULT_RATE_BURST_PER_ADDRESS 1000LL
#define SMD_DEFAULT_RATE_PER_SESSION 300LL
#define SMD_DEFAULT_RATE_BURST_PER_SESSION 600LL
#define SMD_DEFAULT_RATE_IPV6_PREFIX 64LL         /* bits: one /64 is one client */

/* One `connect_to` mapping, curl's --connect-to HOST:PORT:ADDR:PORT. An empty
 * host or addr and a port of 0 mean "any" / "unchanged", as in curl. */
struct smd_connect_to {
	char *host;
	uint16_t port;
	char *addr;
	uint16_t addr_port;
};

struct smd_config {
	char *path;                     /* the file it was read from */
	char **domains;                 /* normal form, no duplicates */
	size_t n_domains;
	char *listen;                   /* as written, for messages */
	struct sockaddr_storage listen_addr;
	socklen_t listen_addr_len;
	char *public_url;               /* the base URL (spec 4.1), normalized */
	char *public_path;              /* its path part ("" or "/x/y") */
	char *tls_cert;
	char *tls_key;
	char *database;                 /* "sqlite:PATH" */
	unsigned pow_zero_bits;
	long long default_quota;        /* bytes, -1 = unlimited */
	long long max_request_bytes;
	long long max_envelope_bytes;
	long long max_record_bytes;
	long long max_history_records;
	long long max_ephemeral_keys;
	long long max_avatar_bytes;
	long long max_list_page;
	long long ephemeral_draws_per_hour;
	long long init_password_days;
	long long max_connections;
	long long connection_timeout;   /* seconds */
	unsigned threads;               /* 0 = one per CPU */
	char *ca_file;
	struct smd_connect_to *connect_to;
	size_t n_connect_to;
	bool allow_private_addresses;
	/* Request rate limits (token buckets): requests per second (0 = no
	 * limit) and bucket sizes, per client address and per session;
	 * loopback clients are exempt from the per-address limit unless
	 * rate_limit_loopback; IPv6 clients are counted by their first
	 * rate_ipv6_prefix bits. */
	long long rate_per_address;
	long long rate_burst_per_address;
	long long rate_per_session;
	long long rate_burst_per_session;
	bool rate_limit_loopback;
	long long rate_ipv6_prefix;
};

/* Reads and checks the file at path. On success *out is a new configuration
 * (free with smd_config_free) and SMIMP_OK is returned; otherwise err says
 * "PATH:LINE: what is wrong" (or "PATH: ..." for whole-file problems). */
enum smimp_err smd_config_load(struct smd_config **out, const char *path,
			       struct smimp_error *err);

/* True when domain (normal form) is one of the hosted domains. */
bool smd_config_hosts_domain(const struct smd_config *cfg, const char *domain);

/* Parses a size as the file takes it: bytes, with an optional suffix k, m
 * or g (KiB, MiB, GiB); "unlimited" or "-1" give -1 when allow_unlimited.
 * False when s is anything else. */
bool smd_config_parse_size(const char *s, bool allow_unlimited, long long *out);

/* Accepts NULL. */
void smd_config_free(struct smd_config *cfg);

/* The number of request-handling threads: the threads key, or when it is 0,
 * 16 per CPU from 16 to 64 (durable writes wait in handler threads for the
 * group commit, so they need many more threads than CPUs). */
unsigned smd_config_threads(const struct smd_config *cfg);

#endif

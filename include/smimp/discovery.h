/* Discovery (spec 4.1) and the URLs built on it (4.3). Derives the base URL
 * from a domain's smimp.txt, which is untrusted data fetched from the
 * network: client and server must derive it byte for byte alike, because it
 * is signed at login (7). Also builds the well-known and endpoint URLs and
 * splits a base URL for the transport.
 *
 * Malformed input is SMIMP_ERR_BAD_REQUEST and an oversized file
 * SMIMP_ERR_TOO_LARGE, like every other parser of the library; a server that
 * meets either while resolving another domain answers 502 upstream. */
#ifndef SMIMP_DISCOVERY_H
#define SMIMP_DISCOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "smimp/address.h"
#include "smimp/error.h"

#define SMIMP_DISCOVERY_FILE_MAX 4096  /* bytes of smimp.txt (4.2) */
#define SMIMP_DISCOVERY_DEFAULT_PORT 443
/* Longest base URL: "https://" in front of the longest possible line.
 * Buffers are SMIMP_BASE_URL_MAX + 1 bytes. */
#define SMIMP_BASE_URL_MAX (SMIMP_DISCOVERY_FILE_MAX + 8)
/* "https://" domain "/.well-known/smimp.txt" */
#define SMIMP_WELL_KNOWN_URL_MAX (8 + SMIMP_DOMAIN_MAX + 22)
/* Longest protocol version accepted in a URL ("0.1"). */
#define SMIMP_VERSION_MAX 15

/* Derives the base URL from one line of smimp.txt as found, line[0..len),
 * before trimming (rules 1-4 of 4.1): spaces, tabs and CR are trimmed at both
 * ends; an optional scheme must be https (any case); the host must be a
 * domain (3), lower-cased; the port 1-65535 without leading zeros, dropped
 * when 443; the path may not hold '?', '#', space, tab, bytes below 0x20,
 * 0x7F or a ".." segment, loses every trailing '/' and is otherwise kept byte
 * for byte (bytes above 0x7F included: the whole-file ASCII rule is
 * smimp_discovery_base_url_from_file's). Writes the base URL and a NUL to
 * out. A line over SMIMP_DISCOVERY_FILE_MAX bytes is SMIMP_ERR_TOO_LARGE, an
 * empty or invalid one SMIMP_ERR_BAD_REQUEST; out is empty then. */
enum smimp_err smimp_discovery_base_url_from_line(
	char out[SMIMP_BASE_URL_MAX + 1], const char *line, size_t len,
	struct smimp_error *err);

/* Derives the base URL from the whole body of a fetched smimp.txt,
 * file[0..len): at most SMIMP_DISCOVERY_FILE_MAX bytes (else
 * SMIMP_ERR_TOO_LARGE), ASCII only (no byte above 0x7F, no byte-order mark),
 * lines ending at LF; the first line that is not empty after trimming
 * spaces, tabs and CR is passed to smimp_discovery_base_url_from_line. No
 * such line, or an invalid one, is SMIMP_ERR_BAD_REQUEST (the client then
 * sends nothing). out is empty on error. */
enum smimp_err smimp_discovery_base_url_from_file(
	char out[SMIMP_BASE_URL_MAX + 1], const char *file, size_t len,
	struct smimp_error *err);

/* Writes "https://{domain}/.well-known/smimp.txt" for a NUL-terminated
 * domain, which is checked and lower-cased first (3; SMIMP_ERR_BAD_REQUEST
 * otherwise, out empty). */
enum smimp_err smimp_discovery_well_known_url(
	char out[SMIMP_WELL_KNOWN_URL_MAX + 1], const char *domain,
	struct smimp_error *err);

/* A base URL taken apart for the transport. */
struct smimp_base_url_parts {
	char host[SMIMP_DOMAIN_MAX + 1]; /* lower case, no port */
	uint16_t port;                   /* 443 when the URL names none */
	const char *path;                /* "" or "/...", no trailing '/';
					  * points into the base URL given */
};

/* Splits a NUL-terminated base URL, which must be in the exact form
 * smimp_discovery_base_url_from_line produces (SMIMP_ERR_BAD_REQUEST
 * otherwise). out->path lives as long as base_url. */
enum smimp_err smimp_discovery_split_base_url(struct smimp_base_url_parts *out,
					      const char *base_url,
					      struct smimp_error *err);

/* Writes "{base_url}/{version}/{endpoint}" and a NUL into out[0..out_size);
 * with version NULL, "{base_url}/{endpoint}" (for "version" itself, 4.3).
 * base_url must be in normal form (as for split), version "digits.digits"
 * of at most SMIMP_VERSION_MAX characters, endpoint a non-empty path that
 * does not start with '/' and holds only bytes 0x21-0x7E other than '#'
 * (segments already encoded, e.g. with smimp_address_path_encode; a query
 * such as "?limit=10" may follow). Bad arguments are SMIMP_ERR_BAD_REQUEST;
 * an out_size too small is SMIMP_ERR_INTERNAL. out is empty on error. */
enum smimp_err smimp_discovery_endpoint_url(char *out, size_t out_size,
					    const char *base_url,
					    const char *version,
					    const char *endpoint,
					    struct smimp_error *err);

#endif

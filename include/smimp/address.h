/* Addresses (spec 3): `local#domain`, and bare domains. Parses, checks and
 * normalizes names from untrusted input (request bodies, URL path segments,
 * signed records, list entries, smimp.txt). Only ASCII letters, digits, '-',
 * '.' and the one '#' pass, so no Unicode look-alike (the Kelvin sign, say)
 * can ever compare equal to an ASCII name. */
#ifndef SMIMP_ADDRESS_H
#define SMIMP_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "smimp/error.h"

#define SMIMP_ADDRESS_LOCAL_MAX 64   /* characters of the local part */
#define SMIMP_DOMAIN_MAX 253         /* characters of a domain */
#define SMIMP_DOMAIN_LABEL_MAX 63    /* characters of one domain label */
/* Longest address: local '#' domain. Buffers are SMIMP_ADDRESS_MAX + 1. */
#define SMIMP_ADDRESS_MAX (SMIMP_ADDRESS_LOCAL_MAX + 1 + SMIMP_DOMAIN_MAX)
/* Longest address as a URL path segment ('#' written "%23"). */
#define SMIMP_ADDRESS_PATH_MAX (SMIMP_ADDRESS_MAX + 2)

/* Checks s[0..len) as an address (3) and writes its normal form (lower case)
 * and a NUL to out. Anything else is SMIMP_ERR_BAD_REQUEST with the reason in
 * err; out is then the empty string. s may hold any bytes (NUL included). */
enum smimp_err smimp_address_normalize(char out[SMIMP_ADDRESS_MAX + 1],
				       const char *s, size_t len,
				       struct smimp_error *err);

/* Same for a NUL-terminated string (NULL is SMIMP_ERR_BAD_REQUEST). */
enum smimp_err smimp_address_normalize_str(char out[SMIMP_ADDRESS_MAX + 1],
					   const char *s,
					   struct smimp_error *err);

/* True when s[0..len) is a valid address already in normal form, as signed
 * data must carry it (5, 6, 7). */
bool smimp_address_is_normal(const char *s, size_t len);

/* Checks s[0..len) as a domain (3: at most 253 characters, labels of 1-63
 * characters of a-z 0-9 '-' not starting or ending with '-', at least two
 * labels unless "localhost", last label not all digits, no trailing dot) and
 * writes its normal form (lower case) and a NUL to out. Used for the domain
 * of an address, smimp.txt hosts and bare-domain list entries (11.8).
 * SMIMP_ERR_BAD_REQUEST otherwise, out the empty string. */
enum smimp_err smimp_address_domain_normalize(char out[SMIMP_DOMAIN_MAX + 1],
					      const char *s, size_t len,
					      struct smimp_error *err);

/* The domain part of a NUL-terminated address: a pointer just past its first
 * '#' (into address), or NULL when there is none. No validation: call it on
 * an address that smimp_address_normalize produced. */
const char *smimp_address_domain(const char *address);

/* Writes the URL path segment of an address (3): its normal form with '#'
 * written "%23", e.g. "adam%23example.com", and a NUL. The address is
 * checked and normalized first (SMIMP_ERR_BAD_REQUEST, out empty). */
enum smimp_err smimp_address_path_encode(char out[SMIMP_ADDRESS_PATH_MAX + 1],
					 const char *address,
					 struct smimp_error *err);

/* For servers: decodes one raw (not yet unescaped) URL path segment
 * seg[0..len) and normalizes the address it holds into out. Percent escapes
 * are "%XX" with hex digits of either case; a malformed escape, "%00", an
 * escape that yields '/', a literal '/' or a literal '#' (the spec writes it
 * "%23") is SMIMP_ERR_BAD_REQUEST, and so is a decoded value that is not an
 * address. out is the empty string on error. */
enum smimp_err smimp_address_from_path(char out[SMIMP_ADDRESS_MAX + 1],
				       const char *seg, size_t len,
				       struct smimp_error *err);

#endif

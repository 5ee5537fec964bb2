/* TLS material for the listener: the certificate chain and key files read
 * into memory and checked with GnuTLS before libmicrohttpd gets them, so a
 * bad file is reported plainly at start-up or on reload (SIGHUP). */
#ifndef SMD_TLS_H
#define SMD_TLS_H

#include <stddef.h>
#include <time.h>

#include "smimp/error.h"

/* GnuTLS priorities: TLS 1.3 and 1.2 only, ECDHE key exchange, AEAD
 * ciphers only (AES-128-GCM first: cheapest with AES-NI), no SHA-1
 * signatures, safe renegotiation, the server's order of preference. */
#define SMD_TLS_PRIORITIES                                                   \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:"                        \
	"-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"          \
	"-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"                    \
	"-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1:%SAFE_RENEGOTIATION:%SERVER_PRECEDENCE"

/* A certificate chain and its key as PEM text, NUL-terminated. */
struct smd_tls_pem {
	char *cert;
	char *key;        /* wiped when freed */
	size_t key_size;  /* bytes allocated for key */
};

/* Reads cert_file and key_file (at most 1 MiB each) and checks that they
 * parse and belong together. On error err names the file and the reason and
 * pem is left empty. */
enum smimp_err smd_tls_load(struct smd_tls_pem *pem, const char *cert_file,
			    const char *key_file, struct smimp_error *err);

/* Checks the leaf (first) certificate of pem for serving host at time
 * now: it parses, names host (subjectAltName, as clients check it) and is
 * valid at now. SMIMP_OK with *not_after; otherwise err says what is wrong
 * (SMIMP_ERR_BAD_REQUEST). */
enum smimp_err smd_tls_check_leaf(const struct smd_tls_pem *pem,
				  const char *host, time_t now,
				  time_t *not_after, struct smimp_error *err);

/* Copies src into dst (both PEM texts); SMIMP_ERR_INTERNAL when out of
 * memory. */
enum smimp_err smd_tls_copy(struct smd_tls_pem *dst,
			    const struct smd_tls_pem *src,
			    struct smimp_error *err);

/* Wipes and frees the texts; pem is left empty. Accepts an empty pem. */
void smd_tls_free(struct smd_tls_pem *pem);

#endif

/* Reads and checks the listener's certificate and key with GnuTLS. The
 * files are the operator's; their content is still only trusted once GnuTLS
 * has parsed it. */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "tls.h"

#define PEM_MAX (1024 * 1024)

/* Reads a whole file into a NUL-terminated malloc'ed buffer. */
static char *read_file(const char *path, size_t *size, struct smimp_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL) {
		smimp_error_set(err, SMIMP_ERR_INTERNAL, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(PEM_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, PEM_MAX + 1, f);
	if (ferror(f) || n > PEM_MAX || n == 0) {
		smimp_error_set(err, SMIMP_ERR_INTERNAL, "%s: %s", path,
				ferror(f) ? "read error" : n == 0 ? "empty file" :
				"larger than 1 MiB");
		fclose(f);
		smd_wipe(buf, PEM_MAX + 1);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (strlen(buf) != n) {
		smimp_error_set(err, SMIMP_ERR_INTERNAL, "%s: not a PEM file", path);
		smd_wipe(buf, PEM_MAX + 1);
		free(buf);
		return NULL;
	}
	*size = PEM_MAX + 1;
	return buf;
}

enum smimp_err smd_tls_load(struct smd_tls_pem *pem, const char *cert_file,
			    const char *key_file, struct smimp_error *err)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_datum_t c, k;
	size_t csize;
	int rc;

	memset(pem, 0, sizeof *pem);
	pem->cert = read_file(cert_file, &csize, err);
	if (pem->cert == NULL)
		return SMIMP_ERR_INTERNAL;
	pem->key = read_file(key_file, &pem->key_size, err);
	if (pem->key == NULL) {
		smd_tls_free(pem);
		return SMIMP_ERR_INTERNAL;
	}
	if (gnutls_certificate_allocate_credentials(&cred) < 0) {
		smd_tls_free(pem);
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	}
	c.data = (unsigned char *)pem->cert;
	c.size = (unsigned)strlen(pem->cert);
	k.data = (unsigned char *)pem->key;
	k.size = (unsigned)strlen(pem->key);
	rc = gnutls_certificate_set_x509_key_mem(cred, &c, &k, GNUTLS_X509_FMT_PEM);
	gnutls_certificate_free_credentials(cred);
	if (rc < 0) {
		smd_tls_free(pem);
		return smimp_error_set(err, SMIMP_ERR_INTERNAL,
				       "%s and %s: not a usable certificate and key: %s",
				       cert_file, key_file, gnutls_strerror(rc));
	}
	return SMIMP_OK;
}

enum smimp_err smd_tls_check_leaf(const struct smd_tls_pem *pem,
				  const char *host, time_t now,
				  time_t *not_after, struct smimp_error *err)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t c = {(unsigned char *)pem->cert,
			    (unsigned)strlen(pem->cert)};
	enum smimp_err e = SMIMP_OK;
	time_t from;

	*not_after = 0;
	if (gnutls_x509_crt_init(&crt) < 0)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	/* Import takes the first certificate of a PEM chain: the leaf. */
	if (gnutls_x509_crt_import(crt, &c, GNUTLS_X509_FMT_PEM) < 0) {
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				    "the certificate does not parse");
		goto out;
	}
	from = gnutls_x509_crt_get_activation_time(crt);
	*not_after = gnutls_x509_crt_get_expiration_time(crt);
	if (from == (time_t)-1 || *not_after == (time_t)-1)
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				    "the certificate's validity does not parse");
	else if (now < from)
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				    "the certificate is not valid yet");
	else if (now > *not_after)
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				    "the certificate has expired");
	else if (!gnutls_x509_crt_check_hostname(crt, host))
		e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				    "the certificate does not name %s, the "
				    "host of public_url: clients will refuse "
				    "it", host);
out:
	gnutls_x509_crt_deinit(crt);
	return e;
}

enum smimp_err smd_tls_copy(struct smd_tls_pem *dst,
			    const struct smd_tls_pem *src,
			    struct smimp_error *err)
{
	size_t klen = strlen(src->key);

	memset(dst, 0, sizeof *dst);
	dst->cert = strdup(src->cert);
	dst->key = malloc(klen + 1);
	if (dst->cert == NULL || dst->key == NULL) {
		free(dst->cert);
		free(dst->key);
		memset(dst, 0, sizeof *dst);
		return smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
	}
	memcpy(dst->key, src->key, klen + 1);
	dst->key_size = klen + 1;
	return SMIMP_OK;
}

void smd_tls_free(struct smd_tls_pem *pem)
{
	free(pem->cert);
	if (pem->key != NULL) {
		smd_wipe(pem->key, pem->key_size);
		free(pem->key);
	}
	memset(pem, 0, sizeof *pem);
}

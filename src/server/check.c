/* See check.h. */
#include <stdio.h>

#include "check.h"
#include "cli.h"
#include "smimp/discovery.h"
#include "tls.h"

/* The certificate and key (both configured: main.c checks) for the host
 * of public_url; 0 or -1 (said). */
static int check_tls(const struct smd_config *cfg, time_t now)
{
	struct smimp_error err = {SMIMP_OK, ""};
	struct smimp_base_url_parts url;
	struct smd_tls_pem pem;
	time_t not_after;
	long days;
	char until[32];

	if (smimp_discovery_split_base_url(&url, cfg->public_url, &err) != SMIMP_OK) {
		fprintf(stderr, "smimpd: %s: public_url: %s\n", cfg->path,
			err.message);
		return -1;
	}
	if (smd_tls_load(&pem, cfg->tls_cert, cfg->tls_key, &err) != SMIMP_OK) {
		fprintf(stderr, "smimpd: %s\n", err.message);
		return -1;
	}
	if (smd_tls_check_leaf(&pem, url.host, now, &not_after, &err) != SMIMP_OK) {
		fprintf(stderr, "smimpd: %s: %s\n", cfg->tls_cert, err.message);
		smd_tls_free(&pem);
		return -1;
	}
	smd_tls_free(&pem);
	days = (long)((not_after - now) / 86400);
	strftime(until, sizeof until, "%Y-%m-%d %H:%M UTC", gmtime(&not_after));
	printf("certificate %s: names %s, valid until %s (%ld days)\n",
	       cfg->tls_cert, url.host, until, days);
	if (days < SMD_CHECK_EXPIRY_WARN_DAYS)
		fprintf(stderr, "smimpd: warning: %s expires in %ld days: renew "
			"it and send SIGHUP\n", cfg->tls_cert, days);
	return 0;
}

int smd_check(const struct smd_config *cfg, time_t now)
{
	printf("configuration %s: ok\n", cfg->path);
	if (check_tls(cfg, now) != 0)
		return SMD_EXIT_CONFIG_ERR;
	return SMD_EXIT_OK;
}

/* smimp send-custom TYPE ADDRESS < BYTES: an x-custom-* message (spec
 * 12), any bytes from standard input, through the send pipeline and the
 * outbox (delivery.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/msgtype.h"

#include "cli.h"
#include "delivery.h"

#define MAX_CUSTOM (16u * 1024u * 1024u)

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct smc_delivery d;
	struct smc_args sa;
	char type[SMIMP_MSGTYPE_MAX + 16];
	enum smimp_msgtype t;
	char *data = NULL;
	size_t len = 0;
	int rc;

	rc = smc_args_parse(c, argc, argv, NULL, 2, &sa, e);
	if (rc != 0)
		return rc;
	if (sa.npos < 2)
		return smc_fail(e, SMC_EXIT_USAGE, "TYPE and ADDRESS are needed");
	/* "name" and "x-custom-name" both name x-custom-name. */
	if (strncmp(sa.pos[0], SMIMP_MSGTYPE_CUSTOM_PREFIX,
		    strlen(SMIMP_MSGTYPE_CUSTOM_PREFIX)) == 0)
		snprintf(type, sizeof type, "%.*s", SMIMP_MSGTYPE_MAX + 1,
			 sa.pos[0]);
	else
		snprintf(type, sizeof type, "%s%.*s", SMIMP_MSGTYPE_CUSTOM_PREFIX,
			 SMIMP_MSGTYPE_CUSTOM_NAME_MAX + 1, sa.pos[0]);
	if (smimp_msgtype_parse(&t, type, strlen(type), NULL) != SMIMP_OK ||
	    t != SMIMP_MSGTYPE_CUSTOM)
		return smc_fail(e, SMC_EXIT_USAGE,
				"TYPE must be x-custom-NAME (or NAME) with NAME "
				"1-64 characters of a-z, 0-9 and -");
	if (smc_read_input(NULL, MAX_CUSTOM, &data, &len, e) != 0)
		return -1;
	if (smc_delivery_start(c, &d, e) != 0) {
		free(data);
		return -1;
	}
	smc_delivery_send(&d, sa.pos[1], type, (const uint8_t *)data, len);
	if (!smc_sender_cancelled())
		(void)smc_delivery_flush(&d, 0, 0, e);
	rc = smc_delivery_finish(&d, e);
	free(data);
	return rc;
}

const struct smc_command smc_cmd_send_custom = {
	"send-custom", "TYPE ADDRESS < BYTES",
	"Send any bytes as an x-custom-* message.",
	"\nSends standard input, byte for byte (at most 16 MiB), as a message of\n"
	"type x-custom-NAME to ADDRESS; TYPE is x-custom-NAME or just NAME\n"
	"(1-64 characters of a-z, 0-9 and -). Clients for people ignore these\n"
	"types; they are for programs. Delivery works as for smimp send.\n\n"
	"  --json   print the result as JSON\n",
	run,
};

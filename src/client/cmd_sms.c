/* smimp sms ADDRESS [TEXT...]: a short message (spec 12, short-message)
 * to one recipient, through the send pipeline and the outbox
 * (delivery.h). Untrusted input: none besides the command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smimp/payload.h"

#include "cli.h"
#include "delivery.h"

#define MAX_TEXT (1024u * 1024u)

enum { OPT_ATTACH };
static const struct smc_opt opts[] = {{"attach", 1}, {NULL, 0}};

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	struct smc_optstate st = {argc, argv, 0, 0};
	struct smc_delivery d;
	struct smimp_payload pl;
	struct smimp_attachment *att = NULL;
	char *attach[64], *text = NULL;
	const char *address = NULL, *arg;
	size_t n_attach = 0, text_len = 0, words = 0, pt_len = 0;
	uint8_t *pt = NULL;
	int k, rc = -1;

	memset(&d, 0, sizeof d);
	/* Collect the arguments: ADDRESS first, then the words of TEXT. */
	{
		char **w = calloc((size_t)argc + 1, sizeof *w);

		if (w == NULL)
			return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		while ((k = smc_opt_next(c, &st, opts, &arg, e)) != SMC_OPT_END) {
			if (k == SMC_OPT_HELP || k == SMC_OPT_ERR) {
				free(w);
				return k == SMC_OPT_HELP ? SMC_OPT_HELP : -1;
			}
			if (k == OPT_ATTACH) {
				if (n_attach == sizeof attach / sizeof attach[0]) {
					free(w);
					return smc_fail(e, SMC_EXIT_USAGE,
							"too many attachments");
				}
				attach[n_attach++] = (char *)arg;
			} else if (address == NULL) {
				address = arg;
			} else {
				w[words++] = (char *)arg;
			}
		}
		if (address == NULL) {
			free(w);
			return smc_fail(e, SMC_EXIT_USAGE, "ADDRESS is missing");
		}
		if (words > 0) {
			size_t len = 0;

			for (size_t i = 0; i < words; i++)
				len += strlen(w[i]) + 1;
			text = malloc(len + 1);
			if (text == NULL) {
				free(w);
				return smc_fail(e, SMC_EXIT_SOFTWARE,
						"out of memory");
			}
			text[0] = '\0';
			for (size_t i = 0; i < words; i++) {
				if (i > 0)
					strcat(text, " ");
				strcat(text, w[i]);
			}
			text_len = strlen(text);
		}
		free(w);
	}
	if (text == NULL) {
		if (isatty(STDIN_FILENO))
			fprintf(stderr, "smimp: type the message; end it with "
				"Ctrl-D\n");
		if (smc_read_input(NULL, MAX_TEXT, &text, &text_len, e) != 0)
			return -1;
		/* A trailing newline from a pipe or a terminal is not part
		 * of a short message. */
		if (text_len > 0 && text[text_len - 1] == '\n')
			text[--text_len] = '\0';
	}
	if (text_len == 0) {
		smc_fail(e, SMC_EXIT_USAGE, "the message is empty");
		goto out;
	}
	if (smc_attachments_load(attach, n_attach, &att, e) != 0)
		goto out;
	memset(&pl, 0, sizeof pl);
	pl.type = SMIMP_MSGTYPE_SHORT_MESSAGE;
	pl.short_message.message = text;
	pl.short_message.attachments = att;
	pl.short_message.n_attachments = n_attach;
	if (smimp_payload_serialize(&pt, &pt_len, &pl, NULL, &le) != SMIMP_OK) {
		smc_fail(e, SMC_EXIT_DATAERR, "the message cannot be built: %s",
			 le.message);
		goto out;
	}
	if (smc_delivery_start(c, &d, e) != 0)
		goto out;
	smc_delivery_send(&d, address, "short-message", pt, pt_len);
	if (!smc_sender_cancelled())
		(void)smc_delivery_flush(&d, 0, 0, e);
	rc = smc_delivery_finish(&d, e);
out:
	smimp_payload_bytes_free(pt, pt_len);
	smc_attachments_free(att, n_attach);
	free(text);
	return rc;
}

const struct smc_command smc_cmd_sms = {
	"sms", "ADDRESS [TEXT...] [--attach FILE]...",
	"Send a short message.",
	"\nSends a short-message to ADDRESS: the words of TEXT joined by spaces,\n"
	"or, without TEXT, standard input (one trailing newline removed).\n"
	"Delivery works as for smimp send: pinned identity, verified message\n"
	"key, proof of work, the outbox for temporary failures.\n\n"
	"  --attach FILE   attach a file (repeatable)\n"
	"  --json          print the result as JSON\n",
	run,
};

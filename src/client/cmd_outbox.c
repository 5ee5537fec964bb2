/* smimp outbox [list | flush [--due] | drop ID]: the messages waiting to be
 * delivered (spec 13). Entries are decrypted with the keystore's key
 * (outbox.h), so every subcommand asks for the passphrase. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/timestamp.h"

#include "cli.h"
#include "delivery.h"
#include "render.h"

enum { OPT_DUE };
static const struct smc_opt opts[] = {{"due", 0}, {NULL, 0}};

static int list(struct smc_delivery *d, struct smc_err *e)
{
	char (*ids)[SMC_OUTBOX_ID_LEN + 1] = NULL;
	size_t n = 0;
	json_t *arr = d->c->json ? json_array() : NULL;
	int rc = 0;

	if (smc_outbox_ids(&d->ob, &ids, &n, e) != 0)
		return -1;
	if (!d->c->json && n == 0)
		printf("the outbox of %s is empty\n", d->a.ks->address);
	for (size_t i = 0; i < n; i++) {
		struct smc_outbox_entry en;
		struct smc_err e2;
		char created[SMIMP_TIMESTAMP_LEN + 1], next[SMIMP_TIMESTAMP_LEN + 1];

		if (smc_outbox_get(&d->ob, ids[i], &en, &e2) != 0) {
			fprintf(stderr, "smimp: %s\n", e2.message);
			continue;
		}
		smimp_timestamp_format(created, en.created_at);
		smimp_timestamp_format(next, en.next_attempt_at);
		if (arr != NULL) {
			json_array_append_new(arr, json_pack(
				"{s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:s}",
				"id", en.id, "recipient", en.recipient,
				"message_type", en.message_type,
				"size", (json_int_t)en.payload_len,
				"created_at", created,
				"attempts", (json_int_t)en.attempts,
				"next_attempt_at", next,
				"last_error", en.last_error));
		} else {
			printf("%s  %s  to %s  %zu bytes  queued %s UTC\n"
			       "    attempts %u, next retry %s UTC\n", en.id,
			       en.message_type, en.recipient,
			       en.payload_len, created,
			       en.attempts, next);
			if (en.last_error[0] != '\0') {
				printf("    last error: ");
				smc_render_safe(stdout, en.last_error,
						strlen(en.last_error));
				putchar('\n');
			}
		}
		smc_outbox_entry_free(&en);
	}
	free(ids);
	if (arr != NULL) {
		rc = smc_print_json(arr, e);
		json_decref(arr);
	}
	return rc;
}

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct smc_delivery d;
	struct smc_args sa;
	const char *sub;
	int due, rc, json;

	rc = smc_args_parse(c, argc, argv, opts, 2, &sa, e);
	if (rc != 0)
		return rc;
	due = sa.val[OPT_DUE] != NULL;
	sub = sa.npos > 0 ? sa.pos[0] : "list";
	if (strcmp(sub, "list") == 0 || strcmp(sub, "flush") == 0) {
		if (sa.npos > 1)
			return smc_opt_unexpected(sa.pos[1], e);
	} else if (strcmp(sub, "drop") == 0) {
		if (sa.npos != 2)
			return smc_fail(e, SMC_EXIT_USAGE, "drop needs an ID");
		if (!smc_outbox_id_valid(sa.pos[1]))
			return smc_fail(e, SMC_EXIT_USAGE,
					"%.100s is not an outbox id (32 hex "
					"digits; smimp outbox lists them)",
					sa.pos[1]);
	} else {
		return smc_fail(e, SMC_EXIT_USAGE, "unknown subcommand %.100s "
				"(list, flush, drop)", sub);
	}
	if (due && strcmp(sub, "flush") != 0)
		return smc_fail(e, SMC_EXIT_USAGE, "--due is for flush");
	/* list prints its own JSON; delivery's results are for flush. */
	json = c->json;
	if (strcmp(sub, "flush") != 0)
		c->json = 0;
	if (smc_delivery_start(c, &d, e) != 0)
		return -1;
	c->json = json;
	if (strcmp(sub, "list") == 0) {
		rc = list(&d, e);
	} else if (strcmp(sub, "drop") == 0) {
		rc = smc_outbox_remove(&d.ob, sa.pos[1], e);
		if (rc == 0 && !c->json)
			printf("dropped %s: it will not be sent\n", sa.pos[1]);
	} else {
		int n = smc_delivery_flush(&d, !due, 1, e);

		rc = n < 0 ? -1 : 0;
		if (n == 0 && !c->json)
			printf("nothing to send%s\n", due ? " now (no entry "
			       "is due)" : ": the outbox is empty");
	}
	if (rc != 0) {
		struct smc_err keep = *e;

		(void)smc_delivery_finish(&d, e);
		*e = keep;
		return -1;
	}
	return smc_delivery_finish(&d, e);
}

const struct smc_command smc_cmd_outbox = {
	"outbox", "[list | flush [--due] | drop ID]",
	"List, retry or drop the messages waiting to be delivered.",
	"\nA message that could not be delivered now (network error, HTTP 5xx\n"
	"or 429) waits in HOME/accounts/ADDRESS/outbox, one file per message\n"
	"and recipient, encrypted with a key derived from the keystore's (the\n"
	"passphrase opens it). The message itself is kept, not the envelope:\n"
	"a retry draws a new message key, encrypts again and solves a new proof\n"
	"of work, since proof-of-work nonces die with their session.\n"
	"Automatic retries back off: 1 minute after the first failure, then\n"
	"doubling up to 6 hours; every send command retries the entries that\n"
	"are due, and so does `smimp outbox flush --due` (for cron or a\n"
	"systemd timer).\n\n"
	"  list (default)  the entries: id, type, recipient, size, attempts,\n"
	"                  next retry and the last error (--json: an array)\n"
	"  flush           retry every entry now (--due: only those whose\n"
	"                  backoff has run out); delivered entries are removed,\n"
	"                  refused ones are reported and removed\n"
	"  drop ID         remove an entry without sending it\n\n"
	"Exit status of flush: 0 when everything tried was delivered, 75 when\n"
	"entries still wait, otherwise the first failure's code.\n",
	run,
};

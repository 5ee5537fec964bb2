/* smimp send: an email (spec 12) to one or more recipients. The payload
 * lists To and Cc; Bcc recipients get the same message but are listed
 * nowhere. Every recipient gets an envelope of its own, encrypted to its
 * own message key (delivery.h). A reply (--reply-to-id) reads the parent
 * from the account's own mailbox, verifies and decrypts it, and takes its
 * thread id, subject and sender as defaults. Untrusted input: the files
 * given, and the parent message (a stored envelope from our server). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "smimp/address.h"
#include "smimp/envelope.h"
#include "smimp/hex.h"
#include "smimp/key.h"
#include "smimp/payload.h"
#include "smimp/timestamp.h"

#include "cli.h"
#include "delivery.h"
#include "render.h"
#include "resolve.h"

#define MAX_RECIPIENTS 1000
#define MAX_BODY (16u * 1024u * 1024u)

enum { OPT_TO, OPT_CC, OPT_BCC, OPT_SUBJECT, OPT_BODY_FILE, OPT_ATTACH,
       OPT_REPLY_TO_ID, OPT_THREAD_ID };
static const struct smc_opt opts[] = {
	{"to", 1}, {"cc", 1}, {"bcc", 1}, {"subject", 1}, {"body-file", 1},
	{"attach", 1}, {"reply-to-id", 1}, {"thread-id", 1}, {NULL, 0},
};

struct addr_list {
	char **v;
	size_t n;
};

struct send_args {
	struct addr_list to, cc, bcc;
	const char *subject;
	const char *body_file;
	char *attach[SMIMP_PAYLOAD_MAX_ATTACHMENTS];
	size_t n_attach;
	const char *reply_to_id;
	const char *thread_id;
};

static void list_free(struct addr_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* Adds the normalized address to l, unless one of the lists already has
 * it (a person named twice gets one envelope). */
static int list_add(struct addr_list *l, const char *a, const char *opt,
		    const struct send_args *sa, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	char norm[SMIMP_ADDRESS_MAX + 1];
	char **nv;
	const struct addr_list *all[3] = {&sa->to, &sa->cc, &sa->bcc};

	if (smimp_address_normalize_str(norm, a, &le) != SMIMP_OK)
		return smc_fail(e, SMC_EXIT_USAGE, "--%s %.100s: %s", opt, a,
				le.message);
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < all[k]->n; i++)
			if (strcmp(all[k]->v[i], norm) == 0)
				return 0;
	if (sa->to.n + sa->cc.n + sa->bcc.n >= MAX_RECIPIENTS)
		return smc_fail(e, SMC_EXIT_USAGE, "more than %d recipients",
				MAX_RECIPIENTS);
	nv = realloc(l->v, (l->n + 1) * sizeof *nv);
	if (nv == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	l->v = nv;
	l->v[l->n] = strdup(norm);
	if (l->v[l->n] == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	l->n++;
	return 0;
}

static int parse_args(struct smc_ctx *c, int argc, char **argv,
		      struct send_args *a, struct smc_err *e)
{
	struct smc_optstate st = {argc, argv, 0, 0};
	const char *arg;
	int k;

	while ((k = smc_opt_next(c, &st, opts, &arg, e)) != SMC_OPT_END) {
		switch (k) {
		case SMC_OPT_HELP:
			return SMC_OPT_HELP;
		case SMC_OPT_ERR:
			return -1;
		case SMC_OPT_POS:
			return smc_fail(e, SMC_EXIT_USAGE,
					"unexpected argument %.100s (recipients "
					"go after --to)", arg);
		case OPT_TO:
			if (list_add(&a->to, arg, "to", a, e) != 0)
				return -1;
			break;
		case OPT_CC:
			if (list_add(&a->cc, arg, "cc", a, e) != 0)
				return -1;
			break;
		case OPT_BCC:
			if (list_add(&a->bcc, arg, "bcc", a, e) != 0)
				return -1;
			break;
		case OPT_SUBJECT:
			a->subject = arg;
			break;
		case OPT_BODY_FILE:
			a->body_file = arg;
			break;
		case OPT_ATTACH:
			if (a->n_attach == SMIMP_PAYLOAD_MAX_ATTACHMENTS)
				return smc_fail(e, SMC_EXIT_USAGE,
						"too many attachments");
			a->attach[a->n_attach++] = (char *)arg;
			break;
		case OPT_REPLY_TO_ID:
			if (!smimp_hex_is_valid(arg, strlen(arg), 32))
				return smc_fail(e, SMC_EXIT_USAGE,
						"--reply-to-id wants a message "
						"id (64 hex digits)");
			a->reply_to_id = arg;
			break;
		case OPT_THREAD_ID:
			if (!smimp_hex_is_valid(arg, strlen(arg), 32))
				return smc_fail(e, SMC_EXIT_USAGE,
						"--thread-id wants 64 lowercase "
						"hex digits");
			a->thread_id = arg;
			break;
		}
	}
	return 0;
}

/* What a reply takes from its parent. */
struct parent {
	struct smimp_token thread_id;
	char *subject;
	char sender[SMIMP_ADDRESS_MAX + 1];
};

static const struct smimp_box_sk *find_secret(const struct smc_keystore *ks,
					      const struct smimp_box_pk *pk)
{
	for (size_t i = 0; i < ks->n_ephemeral; i++)
		if (smimp_box_pk_equal(&ks->ephemeral[i].kp.pk, pk))
			return &ks->ephemeral[i].kp.sk;
	for (size_t i = 0; i < ks->n_nonephemeral; i++)
		if (smimp_box_pk_equal(&ks->nonephemeral[i].kp.pk, pk))
			return &ks->nonephemeral[i].kp.sk;
	return NULL;
}

/* Reads message id from our own mailbox, checks it as a reader must (9:
 * sender key in the sender's validated history, message hash, box) and
 * takes thread id, subject and sender from its email payload. */
static int parent_lookup(struct smc_ctx *c, struct smc_account *a,
			 const char *id, struct parent *p, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	struct smimp_stored_envelope se;
	struct smimp_payload pl;
	struct smc_identity sender;
	struct smc_resolver r;
	const struct smimp_box_sk *sk;
	char endpoint[128];
	uint8_t *pt = NULL;
	size_t pt_len = 0;
	json_t *ans = NULL;
	int rc = -1, have_pl = 0;

	memset(&se, 0, sizeof se);
	memset(&sender, 0, sizeof sender);
	if (smc_account_login(c, a, e) != 0)
		return smc_fail_prefix(e, "reading the message replied to");
	snprintf(endpoint, sizeof endpoint, "message/%s/false", id);
	if (smc_api_call(c->t, &a->server, &a->session, SMC_GET, endpoint, NULL,
			 SMC_API_MAX_RESPONSE, &ans, e) != 0) {
		smc_fail_prefix(e, "the message replied to");
		goto out;
	}
	if (ans == NULL ||
	    smimp_stored_envelope_from_json(&se, ans, SMC_API_MAX_RESPONSE,
					    &le) != SMIMP_OK) {
		smc_fail(e, SMC_EXIT_PROTOCOL, "the message replied to is "
			 "malformed: %s", ans == NULL ? "empty" : le.message);
		goto out;
	}
	if (strcmp(se.env.recipient, a->ks->address) != 0 ||
	    strcmp(se.env.message_type, "email") != 0) {
		smc_fail(e, SMC_EXIT_DATAERR, "message %s is not an email to "
			 "%s", id, a->ks->address);
		goto out;
	}
	if (smc_ctx_resolver(c, &r, e) != 0 ||
	    smc_resolve_identity(&r, se.env.sender, SMC_RESOLVE_FULL, &sender,
				 e) != 0) {
		smc_fail_prefix(e, "the sender of the message replied to");
		goto out;
	}
	if (smimp_history_key_status(&sender.history, &se.sender_public_key) ==
	    SMIMP_HISTORY_KEY_ABSENT) {
		smc_fail(e, SMC_EXIT_PROTOCOL, "the message replied to is "
			 "invalid: it was not signed by a key of %s",
			 se.env.sender);
		goto out;
	}
	sk = find_secret(a->ks, &se.env.message_public_key);
	if (sk == NULL) {
		smc_fail(e, SMC_EXIT_PROTOCOL, "the message replied to was "
			 "encrypted to a key this keystore does not hold");
		goto out;
	}
	if (smimp_envelope_open(&pt, &pt_len, &se.env, &se.sender_public_key,
				sk, &le) != SMIMP_OK ||
	    smimp_payload_parse(&pl, "email", pt, pt_len, SMC_API_MAX_RESPONSE,
				se.env.sender, &le) != SMIMP_OK) {
		smc_fail(e, SMC_EXIT_PROTOCOL, "the message replied to is "
			 "invalid: %s", le.message);
		goto out;
	}
	have_pl = 1;
	p->thread_id = pl.email.thread_id;
	p->subject = strdup(pl.email.subject);
	snprintf(p->sender, sizeof p->sender, "%s", se.env.sender);
	if (p->subject == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (have_pl)
		smimp_payload_free(&pl);
	smimp_envelope_plaintext_free(pt, pt_len);
	smimp_stored_envelope_clear(&se);
	smc_identity_free(&sender);
	json_decref(ans);
	return rc;
}

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	struct send_args a;
	struct smc_delivery d;
	struct smimp_payload pl;
	struct parent parent;
	struct smimp_attachment *att = NULL;
	char *body = NULL, *subject = NULL;
	size_t body_len = 0;
	uint8_t *pt = NULL;
	size_t pt_len = 0;
	int rc;

	memset(&a, 0, sizeof a);
	memset(&d, 0, sizeof d);
	memset(&parent, 0, sizeof parent);
	rc = parse_args(c, argc, argv, &a, e);
	if (rc != 0)
		goto out_args;
	rc = -1;
	if (a.subject == NULL && a.reply_to_id == NULL) {
		smc_fail(e, SMC_EXIT_USAGE, "--subject is missing");
		goto out_args;
	}
	if (a.to.n + a.cc.n + a.bcc.n == 0 && a.reply_to_id == NULL) {
		smc_fail(e, SMC_EXIT_USAGE, "no recipient: give --to ADDRESS");
		goto out_args;
	}
	if (smc_attachments_load(a.attach, a.n_attach, &att, e) != 0)
		goto out_args;
	if (a.body_file == NULL && isatty(STDIN_FILENO))
		fprintf(stderr, "smimp: type the message (Markdown); end it "
			"with Ctrl-D on a line of its own\n");
	if (smc_read_input(a.body_file, MAX_BODY, &body, &body_len, e) != 0) {
		smc_fail_prefix(e, "the message body");
		goto out_args;
	}
	if (smc_delivery_start(c, &d, e) != 0)
		goto out_args;
	if (a.reply_to_id != NULL && (a.thread_id == NULL || a.subject == NULL ||
				      a.to.n + a.cc.n + a.bcc.n == 0)) {
		if (parent_lookup(c, &d.a, a.reply_to_id, &parent, e) != 0)
			goto out;
		if (a.to.n + a.cc.n + a.bcc.n == 0 &&
		    list_add(&a.to, parent.sender, "to", &a, e) != 0)
			goto out;
		smc_say(c, "replying to a message of %s", parent.sender);
	}
	if (a.thread_id != NULL)
		smimp_hex_decode_str(parent.thread_id.b, 32, a.thread_id);
	else if (a.reply_to_id == NULL)
		smimp_random_bytes(parent.thread_id.b, 32);
	if (a.subject != NULL) {
		subject = strdup(a.subject);
	} else {
		const char *ps = parent.subject != NULL ? parent.subject : "";

		if (strncasecmp(ps, "re:", 3) == 0)
			subject = strdup(ps);
		else if ((subject = malloc(strlen(ps) + 5)) != NULL)
			sprintf(subject, "Re: %s", ps);
	}
	if (subject == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}

	memset(&pl, 0, sizeof pl);
	pl.type = SMIMP_MSGTYPE_EMAIL;
	pl.email.to = a.to.v;
	pl.email.n_to = a.to.n;
	pl.email.cc = a.cc.v;
	pl.email.n_cc = a.cc.n;
	pl.email.subject = subject;
	pl.email.thread_id = parent.thread_id;
	if (a.reply_to_id != NULL) {
		pl.email.has_reply_to_message_id = true;
		smimp_hex_decode_str(pl.email.reply_to_message_id.b, 32,
				     a.reply_to_id);
	}
	pl.email.date_sent = smimp_timestamp_now();
	pl.email.body = body;
	pl.email.attachments = att;
	pl.email.n_attachments = a.n_attach;
	if (smimp_payload_serialize(&pt, &pt_len, &pl, d.a.ks->address, &le) !=
	    SMIMP_OK) {
		smc_fail(e, SMC_EXIT_DATAERR, "the email cannot be built: %s",
			 le.message);
		goto out;
	}
	/* To, Cc and Bcc alike: each their own envelope; the payload is the
	 * same for all and names To and Cc only. */
	for (size_t i = 0; i < a.to.n; i++)
		smc_delivery_send(&d, a.to.v[i], "email", pt, pt_len);
	for (size_t i = 0; i < a.cc.n; i++)
		smc_delivery_send(&d, a.cc.v[i], "email", pt, pt_len);
	for (size_t i = 0; i < a.bcc.n; i++)
		smc_delivery_send(&d, a.bcc.v[i], "email", pt, pt_len);
	if (!smc_sender_cancelled())
		(void)smc_delivery_flush(&d, 0, 0, e);
	rc = 0;
out:
	smimp_payload_bytes_free(pt, pt_len);
	if (d.started) {
		struct smc_err e2;

		memset(&e2, 0, sizeof e2);
		if (smc_delivery_finish(&d, &e2) != 0 && rc == 0) {
			*e = e2;
			rc = -1;
		}
	}
out_args:
	free(subject);
	free(parent.subject);
	free(body);
	smc_attachments_free(att, a.n_attach);
	list_free(&a.to);
	list_free(&a.cc);
	list_free(&a.bcc);
	return rc;
}

const struct smc_command smc_cmd_send = {
	"send",
	"--to ADDRESS [--to ...] [--cc ADDRESS]... [--bcc ADDRESS]... "
	"--subject TEXT [--body-file FILE] [--attach FILE]... "
	"[--reply-to-id ID [--thread-id HEX]]",
	"Send an email, end-to-end encrypted, to one or more recipients.",
	"\nThe body is Markdown, read from --body-file FILE or standard input.\n"
	"For every recipient (To, Cc and Bcc) the client resolves the address,\n"
	"checks its identity against the pin (a truncated, forked or replaced\n"
	"history stops that recipient: nothing is sent to it), logs in to the\n"
	"recipient's server with this account's key, draws a message key and\n"
	"verifies it with the pinned key, encrypts to it, solves the proof of\n"
	"work (progress on a terminal; Ctrl-C cancels) and posts the envelope.\n"
	"To and Cc are listed in the message; Bcc recipients get the same\n"
	"message in envelopes of their own and are listed nowhere.\n\n"
	"Every message is written to the outbox (encrypted) before it is sent,\n"
	"and stays there when the recipient's server cannot take it now\n"
	"(network error, HTTP 5xx or 429); see smimp outbox. A refusal (other\n"
	"4xx, a bad identity or key) is shown and not queued. After its own\n"
	"messages, send also retries outbox entries whose backoff has run out.\n\n"
	"  --to, --cc, --bcc ADDRESS  recipients (each repeatable)\n"
	"  --subject TEXT          the subject (a reply defaults to \"Re: \" and\n"
	"                          the parent's subject)\n"
	"  --body-file FILE        the body (default: standard input)\n"
	"  --attach FILE           attach FILE under its base name (repeatable;\n"
	"                          at most 16 MiB each)\n"
	"  --reply-to-id ID        reply to message ID of this account's mailbox:\n"
	"                          it is read and verified, and its thread id,\n"
	"                          subject and sender (when no recipient is\n"
	"                          given) are used\n"
	"  --thread-id HEX         the thread (default: a new random one, or the\n"
	"                          parent's for a reply)\n"
	"  --json                  print the per-recipient results as JSON\n\n"
	"Exit status: 0 when every recipient got the message, 75 when some wait\n"
	"in the outbox, otherwise the first failure's code (10: a changed\n"
	"identity).\n",
	run,
};

/* smimp read ID: fetch a stored envelope (GET message/{id}/false), check
 * and open it (reader.h), and show it safely: headers and the Markdown
 * body as text with every control character and escape sequence
 * neutralized (render.h), nothing fetched, links shown as text. Secret
 * keys are never shown; custom payloads only as bytes to a non-terminal.
 * An invalid message is shown as INVALID with the reason, never its
 * content. Untrusted input: the envelope (server) and the payload (sender). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/msgkey.h"
#include "smimp/timestamp.h"

#include "account.h"
#include "attach.h"
#include "cli.h"
#include "mbox.h"
#include "reader.h"
#include "render.h"

#define READ_MAX_ENVELOPE (48u * 1024u * 1024u)

enum { OPT_SAVE, OPT_RAW, OPT_MARK, OPT_NO_MARK };
static const struct smc_opt opts[] = {
	{"save-attachments", 1}, {"raw", 0}, {"mark-read", 0}, {"no-mark", 0},
	{NULL, 0},
};

struct read_args {
	char id[SMC_MBOX_ID_LEN + 1];
	const char *save_dir;
	int raw;
	int mark;
};

static int parse_args(struct smc_ctx *c, int argc, char **argv,
		      struct read_args *ra, struct smc_err *e)
{
	struct smc_optstate st = {argc, argv, 0, 0};
	const char *arg, *id = NULL;
	int k;

	ra->mark = 1;
	while ((k = smc_opt_next(c, &st, opts, &arg, e)) != SMC_OPT_END) {
		switch (k) {
		case SMC_OPT_HELP:
			return SMC_OPT_HELP;
		case SMC_OPT_ERR:
			return -1;
		case SMC_OPT_POS:
			if (id != NULL)
				return smc_opt_unexpected(arg, e);
			id = arg;
			break;
		case OPT_SAVE:
			ra->save_dir = arg;
			break;
		case OPT_RAW:
			ra->raw = 1;
			break;
		case OPT_MARK:
			ra->mark = 1;
			break;
		case OPT_NO_MARK:
			ra->mark = 0;
			break;
		}
	}
	if (id == NULL)
		return smc_fail(e, SMC_EXIT_USAGE, "which message? (an id "
				"from smimp list)");
	if (ra->raw && isatty(STDOUT_FILENO))
		return smc_fail(e, SMC_EXIT_USAGE,
				"--raw writes the message's bytes as they are: "
				"redirect stdout to a file or a pipe");
	return smc_mbox_id(ra->id, id, e);
}

/* ---- safe text output --------------------------------------------------- */

static void text(const char *s, size_t len)
{
	smc_render_safe(stdout, s, len);
}

static void header(const char *label, const char *s)
{
	printf("%-12s ", label);
	text(s, strlen(s));
	putchar('\n');
}

/* A multi-line block: line breaks and tabs kept, everything else that
 * could drive a terminal (CR, ESC, C1, bidi controls) escaped. */
static void block(const char *s, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '\n' && s[i] != '\t')
			continue;
		text(s + start, i - start);
		if (i < len)
			putchar(s[i]);
		start = i + 1;
	}
	if (len == 0 || s[len - 1] != '\n')
		putchar('\n');
}

static void address_list(const char *label, char **v, size_t n)
{
	if (n == 0)
		return;
	printf("%-12s ", label);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			fputs(", ", stdout);
		text(v[i], strlen(v[i]));
	}
	putchar('\n');
}

static void hex_header(const char *label, const uint8_t *b, size_t n)
{
	char hex[65];

	smimp_hex_encode(hex, sizeof hex, b, n);
	printf("%-12s %s\n", label, hex);
}

static int attachments(const struct read_args *ra,
		       const struct smimp_attachment *at, size_t n,
		       struct smc_err *e)
{
	char saved[SMC_ATTACH_NAME_MAX + 16];
	int dirfd = -1, rc = 0;

	if (n == 0)
		return 0;
	if (ra->save_dir != NULL &&
	    smc_attach_open_dir(ra->save_dir, &dirfd, e) != 0)
		return -1;
	printf("Attachments  %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		printf("  %zu. ", i + 1);
		text(at[i].filename, strlen(at[i].filename));
		printf(" (%zu bytes)", at[i].content_len);
		if (dirfd >= 0) {
			if (smc_attach_save(dirfd, at[i].filename,
					    at[i].content, at[i].content_len,
					    saved, e) != 0) {
				rc = -1;
				putchar('\n');
				break;
			}
			fputs(" saved as ", stdout);
			text(ra->save_dir, strlen(ra->save_dir));
			putchar('/');
			text(saved, strlen(saved));
		}
		putchar('\n');
	}
	if (dirfd >= 0)
		close(dirfd);
	if (ra->save_dir == NULL)
		printf("             (smimp read ID --save-attachments DIR "
		       "saves them)\n");
	return rc;
}

static void secret_note(const char *kind, const char *pk_hex,
			const char *note, const char *id)
{
	printf("Secret key   %s\n", kind);
	if (pk_hex != NULL)
		printf("Public key   %s\n", pk_hex);
	if (note != NULL && note[0] != '\0') {
		printf("Note\n");
		block(note, strlen(note));
	}
	printf("\nThis message carries a secret key. It is not shown, and it "
	       "is not imported\nunless you ask: smimp keys import %s\n", id);
}

static int show_payload(const struct read_args *ra,
			const struct smimp_stored_envelope *se,
			const struct smimp_payload *p, struct smc_err *e)
{
	char ts[SMIMP_TIMESTAMP_LEN + 1], hex[65];

	switch (p->type) {
	case SMIMP_MSGTYPE_EMAIL: {
		const struct smimp_email *m = &p->email;

		address_list("To", m->to, m->n_to);
		address_list("Cc", m->cc, m->n_cc);
		if (m->reply_to != NULL)
			header("Reply-To", m->reply_to);
		if (m->auto_reply_address != NULL)
			header("Auto-Reply", m->auto_reply_address);
		header("Subject", m->subject);
		smimp_timestamp_format(ts, m->date_sent);
		printf("%-12s %s UTC (the sender's clock: not verified)\n",
		       "Date", ts);
		hex_header("Thread", m->thread_id.b, sizeof m->thread_id.b);
		if (m->has_reply_to_message_id)
			hex_header("In-Reply-To", m->reply_to_message_id.b,
				   sizeof m->reply_to_message_id.b);
		if (attachments(ra, m->attachments, m->n_attachments, e) != 0)
			return -1;
		putchar('\n');
		block(m->body, strlen(m->body));
		if (m->signature != NULL) {
			printf("-- \n");
			block(m->signature, strlen(m->signature));
		}
		return 0;
	}
	case SMIMP_MSGTYPE_SHORT_MESSAGE:
		if (attachments(ra, p->short_message.attachments,
				p->short_message.n_attachments, e) != 0)
			return -1;
		putchar('\n');
		block(p->short_message.message,
		      strlen(p->short_message.message));
		return 0;
	case SMIMP_MSGTYPE_SECRET_ED25519:
		smimp_hex_encode(hex, sizeof hex,
				 p->secret_ed25519.public_key.b, 32);
		secret_note("Ed25519 signing key pair (secret-ed25519)", hex,
			    p->secret_ed25519.note, ra->id);
		return 0;
	case SMIMP_MSGTYPE_SECRET_CURVE25519: {
		char kind[96];

		smimp_hex_encode(hex, sizeof hex,
				 p->secret_curve25519.public_key.b, 32);
		snprintf(kind, sizeof kind, "Curve25519 %s message key pair "
			 "(secret-curve25519)",
			 smimp_msgkey_kind_name(p->secret_curve25519.kind));
		secret_note(kind, hex, p->secret_curve25519.note, ra->id);
		return 0;
	}
	case SMIMP_MSGTYPE_SECRET_XSALSA20:
		secret_note("XSalsa20 secret key (secret-xsalsa20)", NULL,
			    p->secret_xsalsa20.note, ra->id);
		return 0;
	case SMIMP_MSGTYPE_CUSTOM:
		if (ra->raw) {
			/* stdout is not a terminal (checked): the bytes as
			 * they are, nothing else on stdout. */
			if (p->custom.len > 0 &&
			    fwrite(p->custom.data, 1, p->custom.len, stdout) !=
				    p->custom.len)
				return smc_fail(e, SMC_EXIT_IOERR,
						"cannot write the output");
			return 0;
		}
		printf("Custom data  %zu bytes of type ", p->custom.len);
		text(se->env.message_type, strlen(se->env.message_type));
		printf("\n\nsmimp does not show custom payloads; smimp read %s "
		       "--raw > FILE writes\nthe bytes to a file or pipe.\n",
		       ra->id);
		return 0;
	}
	return 0;
}

static void warnings(const struct smimp_stored_envelope *se,
		     const struct smc_read_result *r)
{
	if (r->sender_key_replaced)
		printf("WARNING      signed with a master key of %s that has "
		       "since been replaced;\n             the message is "
		       "authentic, but ask the sender if in doubt\n",
		       se->env.sender);
	if (r->seen.replay)
		printf("WARNING      this very envelope was received before as "
		       "message %s (first\n             read %s UTC): a replay "
		       "by the server or someone else\n", r->seen.replay_of,
		       r->seen.replay_seen_at);
	if (r->seen.key_reused)
		printf("WARNING      another message (%s) was sent to the same "
		       "one-time\n             (ephemeral) key: the server "
		       "handed a key out twice, or a replay\n",
		       r->seen.key_reused_by);
}

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	struct read_args ra;
	struct smc_account a;
	struct smimp_stored_envelope se;
	struct smc_read_result r;
	char endpoint[128], ts[SMIMP_TIMESTAMP_LEN + 1];
	json_t *ans = NULL;
	int rc;

	memset(&ra, 0, sizeof ra);
	memset(&se, 0, sizeof se);
	memset(&r, 0, sizeof r);
	rc = parse_args(c, argc, argv, &ra, e);
	if (rc != 0)
		return rc;
	if (smc_account_open(c, &a, e) != 0)
		return -1;
	rc = -1;
	if (smc_account_login(c, &a, e) != 0)
		goto out;
	snprintf(endpoint, sizeof endpoint, "message/%s/false", ra.id);
	if (smc_api_call(c->t, &a.server, &a.session, SMC_GET, endpoint, NULL,
			 SMC_API_MAX_RESPONSE, &ans, e) != 0) {
		if (e->http_status == 404)
			smc_fail(e, SMC_EXIT_NOINPUT, "no message %s in the "
				 "mailbox of %s (smimp list shows the ids)",
				 ra.id, a.ks->address);
		goto out;
	}
	if (!ra.raw)
		printf("%-12s %s\n", "Message", ra.id);
	if (ans == NULL || smimp_stored_envelope_from_json(
				   &se, ans, READ_MAX_ENVELOPE, &le) != SMIMP_OK) {
		printf("%-12s INVALID: the server's envelope is malformed "
		       "(%s)\n\nThe content is not shown.\n", "Status",
		       ans == NULL ? "empty answer" : le.message);
		smc_fail(e, SMC_EXIT_DATAERR, "message %s is invalid", ra.id);
		goto out;
	}
	if (smc_reader_open(c, &a, &se, ra.id, &r, e) != 0)
		goto out;
	if (!r.valid) {
		if (ra.raw)
			printf("%-12s %s\n", "Message", ra.id);
		printf("%-12s %s (claimed by the envelope, not verified)\n",
		       "From", se.env.sender);
		printf("%-12s INVALID: ", "Status");
		text(r.reason, strlen(r.reason));
		printf("\n\nThe content is not shown.\n");
		smc_fail(e, SMC_EXIT_DATAERR, "message %s is invalid", ra.id);
		goto out;
	}
	if (ra.raw && r.payload.type != SMIMP_MSGTYPE_CUSTOM) {
		smc_fail(e, SMC_EXIT_USAGE, "--raw is for x-custom-* messages; "
			 "this one is %s", se.env.message_type);
		goto out;
	}
	if (ra.raw) {
		/* Only the bytes on stdout; the verdict on stderr. */
		smc_say(c, "message %s from %s: valid (%s), %zu bytes", ra.id,
			se.env.sender, se.env.message_type, r.payload.custom.len);
		fflush(stdout);
		rc = show_payload(&ra, &se, &r.payload, e);
	} else {
		smimp_timestamp_format(ts, se.received_at);
		printf("%-12s VALID: signed by %s (key in its pinned history), "
		       "decrypted\n", "Status", se.env.sender);
		warnings(&se, &r);
		printf("%-12s %s\n", "Type", se.env.message_type);
		printf("%-12s %s\n", "From", se.env.sender);
		printf("%-12s %s UTC (by the server)\n", "Received", ts);
		rc = show_payload(&ra, &se, &r.payload, e);
	}
	if (rc == 0 && ra.mark && !se.read) {
		json_t *body = json_pack("{s:b}", "read", 1);

		snprintf(endpoint, sizeof endpoint, "message_read/%s", ra.id);
		rc = body != NULL ? smc_api_call(c->t, &a.server, &a.session,
						 SMC_POST, endpoint, body,
						 64 * 1024, NULL, e)
				  : smc_fail(e, SMC_EXIT_SOFTWARE, "oom");
		json_decref(body);
		if (rc != 0)
			smc_fail_prefix(e, "the message was shown, but marking "
					"it read failed");
	}
out:
	smc_read_result_clear(&r);
	smimp_stored_envelope_clear(&se);
	json_decref(ans);
	smc_account_close(c, &a);
	return rc;
}

const struct smc_command smc_cmd_read = {
	"read", "ID [--save-attachments DIR] [--raw] [--mark-read|--no-mark]",
	"Verify, decrypt and show one message.",
	"\nFetches message ID (GET message/ID/false) from the account's server\n"
	"and checks it before showing anything: the sender's identity is\n"
	"resolved against its pin (a changed identity stops here, exit 10),\n"
	"sender_public_key must be a key of the sender's validated history, the\n"
	"message hash must verify, message_public_key must be one of this\n"
	"account's message keys, and the box must open. Any failure shows the\n"
	"message as INVALID with the reason and never its content (exit 65).\n"
	"A key the sender has since replaced, an envelope received before under\n"
	"another id (replay), or two messages to one ephemeral key are shown as\n"
	"warnings. After a successful read the ephemeral key is marked used\n"
	"(its secret is kept 30 days).\n\n"
	"Text is shown as it is, never interpreted: no HTML, nothing fetched,\n"
	"links as text; control characters and terminal escape sequences are\n"
	"shown escaped (\\x1b). The Date header is the sender's claim.\n"
	"Secret keys (secret-* types) are never shown: import one with\n"
	"smimp keys import ID. Custom payloads (x-custom-*) are shown as a size.\n\n"
	"  --save-attachments DIR  save attachments in DIR (created 0700 when\n"
	"                          missing) under sanitized names: no path\n"
	"                          separators, leading dots or dashes, control\n"
	"                          characters; at most 200 bytes; never\n"
	"                          overwriting a file (name-1.ext, ...); 0600\n"
	"  --raw                   x-custom-* only: write the payload bytes to\n"
	"                          stdout, which must not be a terminal\n"
	"  --mark-read             mark the message read after showing it (the\n"
	"                          default; an invalid message stays unread)\n"
	"  --no-mark               leave the read flag as it is\n",
	run,
};

/* Delivery for the sending commands (see delivery.h). The outbox entry of
 * a message is written before the first byte goes out and removed only
 * after a 200 or a permanent failure: a crash or a kill at any point loses
 * nothing (at worst a message whose 200 was lost is sent once more by a
 * later flush). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smimp/payload.h"
#include "smimp/timestamp.h"

#include "delivery.h"
#include "fsutil.h"

int smc_read_input(const char *path, size_t max, char **out, size_t *len,
		   struct smc_err *e)
{
	char *buf;
	size_t n = 0, cap = 4096;

	*out = NULL;
	*len = 0;
	if (path != NULL && strcmp(path, "-") != 0) {
		bool missing;

		return smc_file_read(path, max, false, out, len, &missing, e);
	}
	buf = malloc(cap + 1);
	if (buf == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb;

			if (cap > max) {
				free(buf);
				return smc_fail(e, SMC_EXIT_DATAERR,
						"standard input is larger than "
						"%zu bytes", max);
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (nb == NULL) {
				free(buf);
				return smc_fail(e, SMC_EXIT_SOFTWARE,
						"out of memory");
			}
			buf = nb;
		}
		r = read(STDIN_FILENO, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return smc_fail(e, SMC_EXIT_IOERR,
					"cannot read standard input: %s",
					strerror(errno));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		free(buf);
		return smc_fail(e, SMC_EXIT_DATAERR,
				"standard input is larger than %zu bytes", max);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int smc_delivery_start(struct smc_ctx *c, struct smc_delivery *d,
		       struct smc_err *e)
{
	memset(d, 0, sizeof *d);
	d->c = c;
	d->ob.lock_fd = -1;
	if (smc_account_open(c, &d->a, e) != 0)
		return -1;
	if (smc_ctx_transport(c, e) != 0 ||
	    smc_outbox_open(&d->ob, &c->home, d->a.ks, e) != 0) {
		smc_account_close(c, &d->a);
		return -1;
	}
	smc_sender_init(&d->snd, c, &d->a);
	if (c->json)
		d->results = json_array();
	d->started = 1;
	return 0;
}

/* One result line (or JSON object). counted: part of the command's own
 * messages (automatic retries of older entries are only reported). */
static void report(struct smc_delivery *d, const struct smc_outbox_entry *en,
		   const struct smc_send_result *r, int counted)
{
	if (d->results != NULL) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "recipient",
				      en->recipient, "message_type",
				      en->message_type, "status",
				      smc_send_status_name(r->status));

		if (o != NULL) {
			if (r->status == SMC_SEND_SENT) {
				json_object_set_new(o, "message_id",
						    json_string(r->message_id));
				json_object_set_new(o, "non_ephemeral",
						    json_boolean(r->non_ephemeral));
				json_object_set_new(o, "pow_zero_bits",
						    json_integer(r->zero_bits));
			} else {
				json_object_set_new(o, "error",
						    json_string(r->err.message));
			}
			if (r->status == SMC_SEND_TEMPFAIL)
				json_object_set_new(o, "outbox_id",
						    json_string(en->id));
			json_array_append_new(d->results, o);
		}
	} else {
		switch (r->status) {
		case SMC_SEND_SENT:
			printf("sent to %s: message id %s\n", en->recipient,
			       r->message_id);
			if (r->non_ephemeral)
				printf("  note: encrypted to the non-ephemeral "
				       "key of %s (no one-time key was left), so "
				       "this message has no forward secrecy on "
				       "the recipient's side\n", en->recipient);
			break;
		case SMC_SEND_TEMPFAIL:
			printf("queued for %s: outbox id %s (%s); smimp outbox "
			       "flush retries it\n", en->recipient, en->id,
			       r->err.message);
			break;
		case SMC_SEND_FAILED:
			printf("NOT sent to %s: %s\n", en->recipient,
			       r->err.message);
			break;
		case SMC_SEND_CANCELLED:
			printf("cancelled: nothing was sent to %s\n",
			       en->recipient);
			break;
		}
	}
	fflush(stdout);
	if (!counted)
		return;
	switch (r->status) {
	case SMC_SEND_SENT: d->n_sent++; break;
	case SMC_SEND_TEMPFAIL: d->n_queued++; break;
	case SMC_SEND_CANCELLED: d->n_cancelled++; break;
	case SMC_SEND_FAILED:
		if (d->n_failed++ == 0)
			d->first_failure = r->err;
		break;
	}
}

/* Attempts en (already on disk) and settles its outbox file. */
static void attempt_entry(struct smc_delivery *d, struct smc_outbox_entry *en,
			  int counted)
{
	struct smc_send_result r;
	struct smc_err e2;

	smc_send_one(&d->snd, en->recipient, en->message_type, en->payload,
		     en->payload_len, &r);
	if (r.status == SMC_SEND_TEMPFAIL) {
		smc_outbox_entry_failed(en, r.err.message);
		if (smc_outbox_put(&d->ob, en, &e2) != 0)
			fprintf(stderr, "smimp: cannot update outbox entry "
				"%s: %s\n", en->id, e2.message);
	} else if (smc_outbox_remove(&d->ob, en->id, &e2) != 0) {
		fprintf(stderr, "smimp: cannot remove outbox entry %s: %s; "
			"remove it with smimp outbox drop %s or it will be "
			"sent again\n", en->id, e2.message, en->id);
	}
	report(d, en, &r, counted);
}

void smc_delivery_send(struct smc_delivery *d, const char *recipient,
		       const char *message_type, const uint8_t *plaintext,
		       size_t len)
{
	struct smc_outbox_entry en;
	struct smc_send_result r;

	memset(&r, 0, sizeof r);
	if (smc_outbox_entry_new(&en, recipient, message_type, plaintext, len,
				 &r.err) != 0 ||
	    smc_outbox_put(&d->ob, &en, &r.err) != 0) {
		/* Not on disk: not sent either, so nothing can be lost. */
		snprintf(en.recipient, sizeof en.recipient, "%.*s",
			 SMIMP_ADDRESS_MAX, recipient);
		r.status = SMC_SEND_FAILED;
		report(d, &en, &r, 1);
		smc_outbox_entry_free(&en);
		return;
	}
	attempt_entry(d, &en, 1);
	smc_outbox_entry_free(&en);
}

int smc_delivery_flush(struct smc_delivery *d, int all, int counted,
		       struct smc_err *e)
{
	char (*ids)[SMC_OUTBOX_ID_LEN + 1] = NULL;
	size_t n = 0;
	int tried = 0;
	int64_t now = smimp_timestamp_now();

	if (smc_outbox_ids(&d->ob, &ids, &n, e) != 0)
		return -1;
	for (size_t i = 0; i < n && !smc_sender_cancelled(); i++) {
		struct smc_outbox_entry en;
		struct smc_err e2;

		if (smc_outbox_get(&d->ob, ids[i], &en, &e2) != 0) {
			fprintf(stderr, "smimp: skipping outbox entry: %s\n",
				e2.message);
			continue;
		}
		if (all || en.next_attempt_at <= now) {
			smc_say(d->c, "retrying outbox entry %s (%s to %s, "
				"attempt %u)", en.id, en.message_type,
				en.recipient, en.attempts + 1);
			attempt_entry(d, &en, counted);
			tried++;
		}
		smc_outbox_entry_free(&en);
	}
	free(ids);
	return tried;
}

int smc_delivery_finish(struct smc_delivery *d, struct smc_err *e)
{
	int rc = 0;

	if (!d->started)
		return -1;
	smc_sender_finish(&d->snd);
	smc_outbox_close(&d->ob);
	smc_account_close(d->c, &d->a);
	if (d->results != NULL) {
		if (smc_print_json(d->results, e) != 0)
			rc = -1;
		json_decref(d->results);
		d->results = NULL;
	}
	d->started = 0;
	if (rc != 0)
		return rc;
	if (d->n_failed > 0) {
		*e = d->first_failure;
		if (d->n_failed + d->n_queued + d->n_cancelled > 1 ||
		    d->n_sent > 0)
			smc_fail_prefix(e, "%u of %u messages not delivered; "
					"first failure",
					d->n_failed + d->n_queued +
						d->n_cancelled,
					d->n_failed + d->n_queued +
						d->n_cancelled + d->n_sent);
		if (e->exit_code == 0)
			e->exit_code = SMC_EXIT_SOFTWARE;
		e->http_status = -1; /* no usage line */
		return -1;
	}
	if (d->n_cancelled > 0) {
		smc_fail(e, 130, "cancelled");
		e->http_status = -1;
		return -1;
	}
	if (d->n_queued > 0) {
		smc_fail(e, SMC_EXIT_TEMPFAIL,
			 "%u message%s waiting in the outbox; smimp outbox "
			 "flush retries now", d->n_queued,
			 d->n_queued == 1 ? " is" : "s are");
		e->http_status = -1;
		return -1;
	}
	return 0;
}

void smc_attachments_free(struct smimp_attachment *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++) {
		free(v[i].filename);
		free(v[i].content);
	}
	free(v);
}

int smc_attachments_load(char *const *paths, size_t n,
			 struct smimp_attachment **out, struct smc_err *e)
{
	struct smimp_attachment *v;

	*out = NULL;
	if (n == 0)
		return 0;
	v = calloc(n, sizeof *v);
	if (v == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *slash = strrchr(paths[i], '/');
		const char *name = slash != NULL ? slash + 1 : paths[i];
		size_t nlen = strlen(name);
		char *data = NULL;
		size_t len = 0;
		bool missing;

		if (nlen == 0 || nlen > SMIMP_PAYLOAD_MAX_FILENAME ||
		    strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
		    strchr(name, '\\') != NULL) {
			smc_attachments_free(v, n);
			return smc_fail(e, SMC_EXIT_USAGE,
					"--attach %.200s: the file name cannot "
					"be an attachment name", paths[i]);
		}
		for (size_t k = 0; k < nlen; k++)
			if ((unsigned char)name[k] < 0x20 || name[k] == 0x7f) {
				smc_attachments_free(v, n);
				return smc_fail(e, SMC_EXIT_USAGE,
						"--attach: the file name has "
						"control characters");
			}
		if (smc_file_read(paths[i], SMC_MAX_ATTACHMENT, false, &data,
				  &len, &missing, e) != 0) {
			smc_attachments_free(v, n);
			return smc_fail_prefix(e, "--attach");
		}
		v[i].filename = strdup(name);
		v[i].content = (uint8_t *)data;
		v[i].content_len = len;
		if (v[i].filename == NULL) {
			smc_attachments_free(v, n);
			return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		}
	}
	*out = v;
	return 0;
}

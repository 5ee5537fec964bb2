/* libFuzzer target: envelope parsers (spec 9) on arbitrary bytes: the
 * send_message body, the stored envelope (and its JSON round trip), and the
 * server's acceptance check with permissive fake callbacks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/envelope.h"
#include "smimp/json.h"
#include "smimp/key.h"

#include "fuzz_util.h"

#define MAX_ENVELOPE (64u * 1024)

static enum smimp_err cb_recipient(void *ctx,
				   const struct smimp_accept_request *req,
				   enum smimp_recipient_state *state,
				   struct smimp_sign_pk *master_pk,
				   struct smimp_error *err)
{
	(void)ctx;
	(void)req;
	(void)err;
	*state = SMIMP_RECIPIENT_READY;
	memset(master_pk->b, 0x22, sizeof master_pk->b);
	return SMIMP_OK;
}

static enum smimp_err cb_list(void *ctx, const char *owner,
			      enum smimp_list_kind kind,
			      const struct smimp_hash *entry, bool *listed,
			      struct smimp_error *err)
{
	(void)ctx;
	(void)owner;
	(void)kind;
	(void)err;
	*listed = (entry->b[0] & 0x0f) == 0;
	return SMIMP_OK;
}

static enum smimp_err cb_pow(void *ctx, const struct smimp_accept_request *req,
			     const struct smimp_token *nonce,
			     const char *message_type,
			     enum smimp_pow_nonce_state *state,
			     struct smimp_pow_issue *issue,
			     struct smimp_error *err)
{
	(void)ctx;
	(void)req;
	(void)err;
	*state = (enum smimp_pow_nonce_state)(nonce->b[0] % 3);
	issue->for_recipient = nonce->b[2] != 0;
	issue->for_type = message_type != NULL &&
			  strcmp(message_type, "email") == 0;
	issue->zero_bits = nonce->b[1] % 4;
	return SMIMP_OK;
}

static enum smimp_err cb_retry(void *ctx, const struct smimp_accept_request *req,
			       const struct smimp_signed_hash *mh, bool *found,
			       struct smimp_hash *id, struct smimp_error *err)
{
	(void)ctx;
	(void)req;
	(void)err;
	*found = mh->b[0] == 0xff;
	memset(id->b, 1, sizeof id->b);
	return SMIMP_OK;
}

static enum smimp_err cb_key(void *ctx, const struct smimp_accept_request *req,
			     const struct smimp_box_pk *key,
			     enum smimp_key_provenance *out,
			     struct smimp_error *err)
{
	(void)ctx;
	(void)req;
	(void)err;
	*out = (enum smimp_key_provenance)(key->b[0] % 5);
	return SMIMP_OK;
}

static void fuzz_accept(const uint8_t *data, size_t size)
{
	static const struct smimp_accept_ops ops = {
		.recipient_state = cb_recipient,
		.list_lookup = cb_list,
		.pow_consume = cb_pow,
		.retry_lookup = cb_retry,
		.key_provenance = cb_key,
	};
	struct smimp_sign_pk pk;
	struct smimp_hash lth;
	struct smimp_accept_request req = {
		.recipient = "bob#example.com",
		.sender = "alice#example.com",
		.sender_pk = &pk,
		.login_token_hash = &lth,
		.session = &pk,
		.body = (const char *)data,
		.body_len = size,
		.max_envelope_bytes = MAX_ENVELOPE,
		.pow_required = true,
	};
	struct smimp_accept_result res;
	struct smimp_error err;

	memset(pk.b, 0x33, sizeof pk.b);
	memset(lth.b, 0x44, sizeof lth.b);
	if (smimp_envelope_accept(&res, &req, &ops, &err) == SMIMP_OK)
		smimp_accept_result_clear(&res);
}

static void fuzz_stored(const uint8_t *data, size_t size)
{
	struct smimp_stored_envelope s, again;
	struct smimp_box_sk sk;
	struct smimp_error err;
	uint8_t *pt = NULL;
	size_t len = 0;
	json_t *o;
	char *text;

	if (smimp_stored_envelope_parse(&s, (const char *)data, size,
					MAX_ENVELOPE, &err) != SMIMP_OK)
		return;
	/* What parses must serialize and parse again. */
	o = smimp_stored_envelope_to_json(&s);
	if (o == NULL)
		abort();
	text = smimp_json_dump(o);
	json_decref(o);
	if (text == NULL ||
	    smimp_stored_envelope_parse(&again, text, strlen(text),
					MAX_ENVELOPE, &err) != SMIMP_OK)
		abort();
	free(text);
	smimp_stored_envelope_clear(&again);
	memset(sk.b, 0x11, sizeof sk.b);
	if (smimp_envelope_open(&pt, &len, &s.env, &s.sender_public_key, &sk,
				&err) == SMIMP_OK)
		smimp_envelope_plaintext_free(pt, len);
	else if (pt != NULL)
		abort();
	smimp_stored_envelope_clear(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smimp_envelope env;
	struct smimp_hash lth;
	struct smimp_error err;
	char *body;

	fuzz_init();
	memset(lth.b, 0x44, sizeof lth.b);
	if (smimp_envelope_parse_body(&env, (const char *)data, size,
				      "bob#example.com", "alice#example.com",
				      &lth, MAX_ENVELOPE, &err) == SMIMP_OK) {
		body = smimp_envelope_body_dump(&env);
		if (body == NULL)
			abort();
		free(body);
		smimp_envelope_clear(&env);
	}
	fuzz_stored(data, size);
	fuzz_accept(data, size);
	return 0;
}

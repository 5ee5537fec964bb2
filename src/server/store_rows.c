/* Rows of either backend into the store's structs (store_rows.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_rows.h"

bool smd_val_blob(const struct smd_val *v, void *out, size_t n)
{
	if (v->null || v->n != n)
		return false;
	memcpy(out, v->p, n);
	return true;
}

void smd_val_text(const struct smd_val *v, char *out, size_t size)
{
	size_t n = v->null ? 0 : v->n;
	const char *nul = n > 0 ? memchr(v->p, '\0', n) : NULL;

	if (size == 0)
		return;
	if (nul != NULL)
		n = (size_t)(nul - (const char *)v->p);
	if (n >= size)
		n = size - 1;
	if (n > 0)
		memcpy(out, v->p, n);
	out[n] = '\0';
}

void *smd_val_dup(const struct smd_val *v, size_t *len)
{
	size_t n = v->null ? 0 : v->n;
	uint8_t *out = malloc(n + 1);

	if (out != NULL) {
		if (n > 0)
			memcpy(out, v->p, n);
		out[n] = 0;
	}
	*len = n;
	return out;
}

/* ---- identity ---- */

enum smd_store_rc smd_row_record(const struct smd_row *r, bool with_data,
				 struct smd_record_row *out)
{
	memset(out, 0, sizeof *out);
	out->seq = r->col[0].i;
	if (!smd_val_blob(&r->col[1], out->signed_hash.b, sizeof out->signed_hash.b) ||
	    !smd_val_blob(&r->col[2], out->public_key.b, sizeof out->public_key.b))
		return SMD_STORE_ERROR;
	if (with_data) {
		out->data = smd_val_dup(&r->col[3], &out->data_len);
		if (out->data == NULL)
			return SMD_STORE_ERROR;
	}
	return SMD_STORE_OK;
}

bool smd_row_msgkey(const struct smd_row *r, int col, enum smimp_msgkey_kind kind,
		    struct smimp_msgkey *out)
{
	out->kind = kind;
	return smd_val_blob(&r->col[col], out->key.b, sizeof out->key.b) &&
	       smd_val_blob(&r->col[col + 1], out->signed_hash.b,
			    sizeof out->signed_hash.b);
}

void smd_row_token(const struct smd_row *r, struct smd_login_token *out)
{
	smd_val_text(&r->col[0], out->address, sizeof out->address);
	out->expires_at = r->col[1].i;
	out->used = r->col[2].i != 0;
}

enum smd_store_rc smd_row_session(const struct smd_row *r,
				  const uint8_t hash[SMD_SESSION_HASH_BYTES],
				  struct smd_session *out, bool *destroyed)
{
	memset(out, 0, sizeof *out);
	memcpy(out->hash, hash, SMD_SESSION_HASH_BYTES);
	smd_val_text(&r->col[0], out->address, sizeof out->address);
	out->remote = r->col[1].i != 0;
	out->expires_at = r->col[4].i;
	*destroyed = r->col[5].i != 0;
	if (!smd_val_blob(&r->col[2], out->public_key.b, sizeof out->public_key.b) ||
	    !smd_val_blob(&r->col[3], out->login_token_hash.b,
			  sizeof out->login_token_hash.b))
		return SMD_STORE_ERROR;
	return SMD_STORE_OK;
}

enum smd_store_rc smd_row_avatar(const struct smd_row *r, bool with_image,
				 struct smd_avatar *out)
{
	char mime[16];

	memset(out, 0, sizeof *out);
	if (!smd_val_blob(&r->col[0], out->hash.b, sizeof out->hash.b) ||
	    !smd_val_blob(&r->col[1], out->signed_hash.b, sizeof out->signed_hash.b) ||
	    r->col[2].null)
		return SMD_STORE_ERROR;
	/* Only ever one of two static strings, whatever the row says. */
	smd_val_text(&r->col[2], mime, sizeof mime);
	out->mime = strcmp(mime, "image/png") == 0 ? "image/png" : "image/jpeg";
	if (with_image) {
		out->image = smd_val_dup(&r->col[3], &out->image_len);
		if (out->image == NULL)
			return SMD_STORE_ERROR;
	}
	return SMD_STORE_OK;
}

enum smd_store_rc smd_row_pin(const struct smd_row *r, const char *address,
			      struct smimp_pin *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->address, sizeof out->address, "%s", address);
	out->latest_seq = r->col[2].i;
	if (!smd_val_blob(&r->col[0], out->first_signed_hash.b,
			  sizeof out->first_signed_hash.b) ||
	    !smd_val_blob(&r->col[1], out->first_public_key.b,
			  sizeof out->first_public_key.b) ||
	    !smd_val_blob(&r->col[3], out->latest_signed_hash.b,
			  sizeof out->latest_signed_hash.b) ||
	    !smd_val_blob(&r->col[4], out->latest_public_key.b,
			  sizeof out->latest_public_key.b))
		return SMD_STORE_ERROR;
	return SMD_STORE_OK;
}

/* ---- accounts ---- */

void smd_row_account(const struct smd_row *r, struct smd_account *out)
{
	memset(out, 0, sizeof *out);
	out->id = r->col[0].i;
	smd_val_text(&r->col[1], out->address, sizeof out->address);
	out->initialized = r->col[2].i != 0;
	out->quota_limit = r->col[3].i;
	out->used_bytes = r->col[4].i;
	out->created_at = r->col[5].i;
}

void smd_row_account_secret(const struct smd_row *r, struct smd_account *acct,
			    struct smd_account_secret *out)
{
	if (acct != NULL)
		smd_row_account(r, acct);
	memset(out, 0, sizeof *out);
	smd_val_text(&r->col[6], out->pwhash, sizeof out->pwhash);
	out->expires_at = r->col[7].i;
	out->failures = (unsigned)r->col[8].i;
	out->failed_at = r->col[9].i;
}

/* ---- mail ---- */

void smd_row_recipient(const struct smd_row *r, struct smd_mail_recipient *out)
{
	out->account_id = r->col[0].i;
	out->initialized = r->col[1].i != 0;
	out->quota_limit = r->col[2].i;
	out->used_bytes = r->col[3].i;
	out->has_master = smd_val_blob(&r->col[4], out->master_pk.b,
				       sizeof out->master_pk.b);
	out->has_lists = r->col[5].i != 0;
}

bool smd_row_envelope(const struct smd_row *r, struct smimp_stored_envelope *o)
{
	const struct smd_val *v = r->col;
	struct smimp_envelope *e = &o->env;
	bool ok = true;

	smd_val_text(&v[0], e->recipient, sizeof e->recipient);
	smd_val_text(&v[1], e->sender, sizeof e->sender);
	smd_val_text(&v[2], e->message_type, sizeof e->message_type);
	smd_val_text(&v[3], e->algorithm, sizeof e->algorithm);
	ok &= smd_val_blob(&v[4], e->message_public_key.b,
			   sizeof e->message_public_key.b);
	ok &= smd_val_blob(&v[5], e->nonce.b, sizeof e->nonce.b);
	e->ciphertext = smd_val_dup(&v[6], &e->ciphertext_len);
	ok &= e->ciphertext != NULL;
	e->has_proof_of_work = !v[7].null;
	if (e->has_proof_of_work)
		smd_val_text(&v[7], e->proof_of_work, sizeof e->proof_of_work);
	ok &= smd_val_blob(&v[8], e->login_token_hash.b, sizeof e->login_token_hash.b);
	ok &= smd_val_blob(&v[9], e->message_hash.b, sizeof e->message_hash.b);
	ok &= smd_val_blob(&v[10], o->sender_public_key.b,
			   sizeof o->sender_public_key.b);
	o->received_at = v[11].i;
	o->has_pow_params = !v[12].null;
	if (o->has_pow_params) {
		o->pow_zero_bits = (unsigned)v[12].i;
		ok &= smd_val_blob(&v[13], o->pow_nonce.b, sizeof o->pow_nonce.b);
	}
	ok &= smd_val_blob(&v[14], o->message_id.b, sizeof o->message_id.b);
	smd_val_text(&v[15], o->received_via, sizeof o->received_via);
	o->read = v[16].i != 0;
	if (!v[17].null) {
		o->extensions = smd_val_dup(&v[17], &o->extensions_len);
		ok &= o->extensions != NULL;
	}
	smd_val_text(&v[18], o->protocol_version, sizeof o->protocol_version);
	o->has_folder = !v[19].null;
	if (o->has_folder)
		smd_val_text(&v[19], o->folder, sizeof o->folder);
	return ok;
}

bool smd_row_meta(const struct smd_row *r, const char *message_type,
		  struct smd_message_meta *out)
{
	memset(out, 0, sizeof *out);
	if (!smd_val_blob(&r->col[0], out->message_id.b, sizeof out->message_id.b))
		return false;
	out->received_at = r->col[1].i;
	out->read = r->col[2].i != 0;
	smd_val_text(&r->col[3], out->sender, sizeof out->sender);
	out->size = r->col[4].i;
	snprintf(out->message_type, sizeof out->message_type, "%s", message_type);
	return true;
}

void smd_row_folder(const struct smd_row *r, struct smd_folder *out)
{
	memset(out, 0, sizeof *out);
	smd_val_text(&r->col[0], out->name, sizeof out->name);
	smd_val_text(&r->col[1], out->display_name, sizeof out->display_name);
	out->has_parent = !r->col[2].null;
	if (out->has_parent)
		smd_val_text(&r->col[2], out->parent, sizeof out->parent);
	smd_val_text(&r->col[3], out->message_type, sizeof out->message_type);
}

bool smd_row_insert_admits(struct smd_message_new *m, int64_t quota_limit,
			   int64_t used_bytes)
{
	size_t len = m->acc->envelope.ciphertext_len;

	if (m->retry_only) {
		m->outcome = SMIMP_ERR_BAD_PROOF_OF_WORK;
		return false;
	}
	if (quota_limit >= 0 && (uint64_t)used_bytes + len > (uint64_t)quota_limit) {
		m->outcome = SMIMP_ERR_QUOTA_EXCEEDED;
		return false;
	}
	return true;
}

/* Validation of whole identity histories (spec 5). The input is a history
 * answer from a server that may lie, truncate or fork: each record is
 * parsed strictly, then every chain rule and signature is checked, and a
 * failure names the record and the rule. */
#include <stdlib.h>
#include <string.h>

#include "smimp/history.h"
#include "smimp/json.h"
#include "smimp/key.h"

void smimp_history_free(struct smimp_history *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->count; i++)
		smimp_record_free(&h->records[i]);
	free(h->records);
	memset(h, 0, sizeof *h);
}

/* True when pk is one of keys[0..n). Keys are public: plain memcmp. */
static bool key_in(const struct smimp_sign_pk *pk,
		   const struct smimp_sign_pk *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(pk->b, keys[i]->b, sizeof pk->b) == 0)
			return true;
	return false;
}

/* The chain rules of record i against record i-1 (i >= 1) and the keys of
 * records 0..i-1 (distinct, in *keys, the last one being record i-1's). */
static enum smimp_err check_link(const struct smimp_record *r,
				 const struct smimp_record *prev, size_t i,
				 const struct smimp_sign_pk *const *keys,
				 size_t nkeys, struct smimp_error *err)
{
	if (!r->has_previous ||
	    !smimp_signed_hash_equal(&r->previous, &prev->signed_hash))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "record %zu: previous does not match "
				       "record %zu's signed_hash", i, i - 1);
	if (r->changed_at < prev->changed_at)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "record %zu: changed_at is earlier than "
				       "record %zu's", i, i - 1);
	if (!smimp_sign_pk_equal(&r->public_key, &prev->public_key) &&
	    key_in(&r->public_key, keys, nkeys))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "record %zu: public_key returns after "
				       "it was replaced", i);
	if (smimp_record_verify(r, &prev->public_key, NULL) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_SIGNATURE,
				       "record %zu: signed_hash does not "
				       "verify with record %zu's public_key",
				       i, i - 1);
	return SMIMP_OK;
}

enum smimp_err smimp_history_validate(struct smimp_history *out,
				      const json_t *records,
				      const char *address,
				      struct smimp_error *err)
{
	struct smimp_history h;
	const struct smimp_sign_pk **keys = NULL;
	struct smimp_error local;
	size_t n, nkeys = 0;
	enum smimp_err e;

	if (err == NULL)
		err = &local;
	memset(out, 0, sizeof *out);
	memset(&h, 0, sizeof h);
	if (smimp_address_normalize_str(h.address, address, err) != SMIMP_OK)
		return smimp_error_prefix(err, "address asked for");
	if (!json_is_array(records))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "history records are not an array");
	n = json_array_size(records);
	if (n == 0)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "history has no records");
	if (n > SMIMP_HISTORY_MAX_RECORDS)
		return smimp_error_set(err, SMIMP_ERR_TOO_LARGE,
				       "history has %zu records, more than %u",
				       n, SMIMP_HISTORY_MAX_RECORDS);
	h.records = calloc(n, sizeof *h.records);
	keys = calloc(n, sizeof *keys);
	if (h.records == NULL || keys == NULL) {
		e = smimp_error_set(err, SMIMP_ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct smimp_record *r = &h.records[i];

		e = smimp_record_from_json(r, json_array_get(records, i), err);
		if (e != SMIMP_OK) {
			smimp_error_prefix(err, "record %zu", i);
			goto out;
		}
		h.count = i + 1;
		if (r->seq < 0 || (uint64_t)r->seq != i) {
			e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					    "record %zu: seq is %lld, expected "
					    "%zu", i, (long long)r->seq, i);
			goto out;
		}
		if (strcmp(r->address, h.address) != 0) {
			e = smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					    "record %zu: address %s is not the "
					    "address asked for (%s)", i,
					    r->address, h.address);
			goto out;
		}
		if (i == 0) {
			/* Parsing already refused a non-null previous. */
			if (smimp_record_verify(r, &r->public_key, NULL) !=
			    SMIMP_OK) {
				e = smimp_error_set(err,
						    SMIMP_ERR_BAD_SIGNATURE,
						    "record 0: signed_hash does "
						    "not verify with its own "
						    "public_key");
				goto out;
			}
		} else {
			e = check_link(r, &h.records[i - 1], i, keys, nkeys,
				       err);
			if (e != SMIMP_OK)
				goto out;
		}
		if (nkeys == 0 ||
		    !smimp_sign_pk_equal(&r->public_key, keys[nkeys - 1]))
			keys[nkeys++] = &r->public_key;
	}
	*out = h;
	memset(&h, 0, sizeof h);
	e = SMIMP_OK;
out:
	free(keys);
	smimp_history_free(&h);
	return e;
}

enum smimp_err smimp_history_from_json(struct smimp_history *out,
				       const json_t *answer,
				       const char *address,
				       struct smimp_error *err)
{
	json_t *records;
	enum smimp_err e;

	memset(out, 0, sizeof *out);
	if (!json_is_object(answer))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "history answer is not a JSON object");
	e = smimp_json_get_array(answer, "records", 0,
				 SMIMP_HISTORY_MAX_RECORDS, &records, err);
	if (e != SMIMP_OK)
		return e;
	return smimp_history_validate(out, records, address, err);
}

static enum smimp_err read_history(void *out, const json_t *v,
				   const void *address, struct smimp_error *err)
{
	return smimp_history_from_json(out, v, address, err);
}

enum smimp_err smimp_history_parse(struct smimp_history *out,
				   const char *text, size_t len,
				   size_t max_bytes, const char *address,
				   struct smimp_error *err)
{
	memset(out, 0, sizeof *out);
	return smimp_json_parse_with(text, len, max_bytes, NULL, read_history,
				     out, address, err);
}

json_t *smimp_history_to_json(const struct smimp_history *h)
{
	json_t *o = json_object(), *a = json_array();

	if (o == NULL || a == NULL || json_object_set(o, "records", a) != 0)
		goto fail;
	for (size_t i = 0; i < h->count; i++)
		if (json_array_append_new(a, smimp_record_to_json(
						     &h->records[i])) != 0)
			goto fail;
	json_decref(a);
	return o;
fail:
	json_decref(a);
	json_decref(o);
	return NULL;
}

const struct smimp_record *smimp_history_latest(const struct smimp_history *h)
{
	return h->count > 0 ? &h->records[h->count - 1] : NULL;
}

const struct smimp_sign_pk *smimp_history_latest_key(const struct smimp_history *h)
{
	return h->count > 0 ? &h->records[h->count - 1].public_key : NULL;
}

const struct smimp_sign_pk *smimp_history_key_at(const struct smimp_history *h,
						 size_t i)
{
	return i < h->count ? &h->records[i].public_key : NULL;
}

enum smimp_history_key smimp_history_key_status(const struct smimp_history *h,
						const struct smimp_sign_pk *pk)
{
	if (h->count == 0)
		return SMIMP_HISTORY_KEY_ABSENT;
	if (smimp_sign_pk_equal(pk, smimp_history_latest_key(h)))
		return SMIMP_HISTORY_KEY_LATEST;
	for (size_t i = 0; i < h->count; i++)
		if (smimp_sign_pk_equal(pk, &h->records[i].public_key))
			return SMIMP_HISTORY_KEY_REPLACED;
	return SMIMP_HISTORY_KEY_ABSENT;
}

enum smimp_err smimp_history_check_next(const struct smimp_history *h,
					const struct smimp_record *next,
					int64_t now, struct smimp_error *err)
{
	struct smimp_sign_pk *keys;
	size_t nkeys = 0;
	enum smimp_err e;

	if (h->count == 0)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL,
				       "empty history");
	keys = malloc(h->count * sizeof *keys);
	if (keys == NULL)
		return smimp_error_set(err, SMIMP_ERR_INTERNAL,
				       "out of memory");
	for (size_t i = 0; i < h->count; i++)
		if (nkeys == 0 || memcmp(keys[nkeys - 1].b,
					 h->records[i].public_key.b,
					 sizeof keys[0].b) != 0)
			keys[nkeys++] = h->records[i].public_key;
	e = smimp_record_check_extends(next, smimp_history_latest(h), keys,
				       nkeys, now, err);
	free(keys);
	return e;
}

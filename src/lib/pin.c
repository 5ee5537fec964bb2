/* Trust on first use (spec 5.1): pins, their checks against fetched
 * histories and public_key answers (untrusted, from servers), and the pin
 * store form (read back strictly). */
#include <string.h>

#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/pin.h"

void smimp_pin_from_history(struct smimp_pin *out,
			    const struct smimp_history *h)
{
	const struct smimp_record *first = &h->records[0];
	const struct smimp_record *latest = smimp_history_latest(h);

	memset(out, 0, sizeof *out);
	memcpy(out->address, h->address, sizeof out->address);
	out->first_signed_hash = first->signed_hash;
	out->first_public_key = first->public_key;
	out->latest_seq = latest->seq;
	out->latest_signed_hash = latest->signed_hash;
	out->latest_public_key = latest->public_key;
}

enum smimp_err smimp_pin_check_history(const struct smimp_pin *pin,
				       const struct smimp_history *h,
				       struct smimp_error *err)
{
	const struct smimp_record *r;

	if (strcmp(pin->address, h->address) != 0)
		return smimp_error_set(err, SMIMP_ERR_PIN_MISMATCH,
				       "This history belongs to another "
				       "address than the pin.");
	if (h->count == 0 || pin->latest_seq < 0 ||
	    (uint64_t)pin->latest_seq >= h->count)
		return smimp_error_set(err, SMIMP_ERR_PIN_MISMATCH,
				       "The server truncated this address's "
				       "history: it shows %zu records, but %lld "
				       "were seen before. This may be an "
				       "attack; nothing will be sent to this "
				       "address.", h->count,
				       (long long)pin->latest_seq + 1);
	r = &h->records[0];
	if (!smimp_signed_hash_equal(&r->signed_hash, &pin->first_signed_hash) ||
	    !smimp_sign_pk_equal(&r->public_key, &pin->first_public_key))
		return smimp_error_set(err, SMIMP_ERR_PIN_MISMATCH,
				       "This address's identity was replaced: "
				       "its first record is not the one seen "
				       "before. This may be an attack; nothing "
				       "will be sent to this address.");
	r = &h->records[pin->latest_seq];
	if (!smimp_signed_hash_equal(&r->signed_hash,
				     &pin->latest_signed_hash) ||
	    !smimp_sign_pk_equal(&r->public_key, &pin->latest_public_key))
		return smimp_error_set(err, SMIMP_ERR_PIN_MISMATCH,
				       "This address's history was forked or "
				       "rewritten: record %lld is not the one "
				       "seen before. This may be an attack; "
				       "nothing will be sent to this address.",
				       (long long)pin->latest_seq);
	return SMIMP_OK;
}

enum smimp_err smimp_pin_advance(struct smimp_pin *pin,
				 const struct smimp_history *h,
				 struct smimp_error *err)
{
	enum smimp_err e = smimp_pin_check_history(pin, h, err);

	if (e == SMIMP_OK)
		smimp_pin_from_history(pin, h);
	return e;
}

enum smimp_err smimp_pin_check_public_key(const struct smimp_pin *pin,
					  const json_t *answer,
					  enum smimp_pin_key *verdict,
					  struct smimp_error *err)
{
	char address[SMIMP_ADDRESS_MAX + 1];
	struct smimp_signed_hash sh;
	struct smimp_sign_pk pk;
	const char *s;
	size_t len;
	long long seq;
	struct smimp_error local;
	enum smimp_err e;

	if (err == NULL)
		err = &local;
	if (!json_is_object(answer))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "public_key answer is not a JSON "
				       "object");
	if ((e = smimp_json_get_string(answer, "address", 0, SIZE_MAX, &s,
				       &len, err)) != SMIMP_OK ||
	    (e = smimp_json_get_hex(answer, "public_key", 0, pk.b, sizeof pk.b,
				    NULL, err)) != SMIMP_OK ||
	    (e = smimp_json_get_int(answer, "seq", 0, 0, INT64_MAX, &seq,
				    err)) != SMIMP_OK ||
	    (e = smimp_json_get_hex(answer, "signed_hash", 0, sh.b,
				    sizeof sh.b, NULL, err)) != SMIMP_OK)
		return smimp_error_prefix(err, "public_key answer");
	if (smimp_address_normalize(address, s, len, NULL) != SMIMP_OK ||
	    strcmp(address, pin->address) != 0)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "public_key answer is for another "
				       "address");
	if (seq < pin->latest_seq)
		return smimp_error_set(err, SMIMP_ERR_PIN_MISMATCH,
				       "The server claims record %lld is this "
				       "address's latest, but record %lld was "
				       "seen before: its history was rolled "
				       "back. This may be an attack; nothing "
				       "will be sent to this address.", seq,
				       (long long)pin->latest_seq);
	if (seq > pin->latest_seq) {
		*verdict = SMIMP_PIN_KEY_REFETCH;
		return SMIMP_OK;
	}
	if (!smimp_signed_hash_equal(&sh, &pin->latest_signed_hash) ||
	    !smimp_sign_pk_equal(&pk, &pin->latest_public_key))
		return smimp_error_set(err, SMIMP_ERR_PIN_MISMATCH,
				       "The server shows another record %lld "
				       "for this address than the one seen "
				       "before: its history was replaced or "
				       "forked. This may be an attack; nothing "
				       "will be sent to this address.", seq);
	*verdict = SMIMP_PIN_KEY_UNCHANGED;
	return SMIMP_OK;
}

json_t *smimp_pin_to_json(const struct smimp_pin *pin)
{
	json_t *o = json_object();

	if (o == NULL ||
	    json_object_set_new(o, "address", json_string(pin->address)) ||
	    smimp_json_set_hex(o, "first_signed_hash", pin->first_signed_hash.b,
			       sizeof pin->first_signed_hash.b) ||
	    smimp_json_set_hex(o, "first_public_key", pin->first_public_key.b,
			       sizeof pin->first_public_key.b) ||
	    json_object_set_new(o, "latest_seq",
				json_integer(pin->latest_seq)) ||
	    smimp_json_set_hex(o, "latest_signed_hash",
			       pin->latest_signed_hash.b,
			       sizeof pin->latest_signed_hash.b) ||
	    smimp_json_set_hex(o, "latest_public_key", pin->latest_public_key.b,
			       sizeof pin->latest_public_key.b)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

enum smimp_err smimp_pin_from_json(struct smimp_pin *out, const json_t *v,
				   struct smimp_error *err)
{
	static const char *const members[] = {
		"address", "first_signed_hash", "first_public_key",
		"latest_seq", "latest_signed_hash", "latest_public_key",
	};
	struct smimp_error local;
	struct smimp_pin p;
	const char *key, *s;
	json_t *value;
	size_t len;
	long long seq;
	enum smimp_err e;

	if (err == NULL)
		err = &local;
	memset(&p, 0, sizeof p);
	if (!json_is_object(v))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "pin is not a JSON object");
	json_object_foreach((json_t *)v, key, value) {
		size_t i = 0;

		while (i < sizeof members / sizeof members[0] &&
		       strcmp(key, members[i]) != 0)
			i++;
		if (i == sizeof members / sizeof members[0])
			return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
					       "pin has an unknown member");
	}
	if ((e = smimp_json_get_string(v, "address", 0, SIZE_MAX, &s,
				       &len, err)) != SMIMP_OK ||
	    (e = smimp_json_get_hex(v, "first_signed_hash", 0,
				    p.first_signed_hash.b,
				    sizeof p.first_signed_hash.b, NULL,
				    err)) != SMIMP_OK ||
	    (e = smimp_json_get_hex(v, "first_public_key", 0,
				    p.first_public_key.b,
				    sizeof p.first_public_key.b, NULL,
				    err)) != SMIMP_OK ||
	    (e = smimp_json_get_int(v, "latest_seq", 0, 0,
				    SMIMP_HISTORY_MAX_RECORDS - 1, &seq,
				    err)) != SMIMP_OK ||
	    (e = smimp_json_get_hex(v, "latest_signed_hash", 0,
				    p.latest_signed_hash.b,
				    sizeof p.latest_signed_hash.b, NULL,
				    err)) != SMIMP_OK ||
	    (e = smimp_json_get_hex(v, "latest_public_key", 0,
				    p.latest_public_key.b,
				    sizeof p.latest_public_key.b, NULL,
				    err)) != SMIMP_OK) {
		smimp_error_prefix(err, "pin");
		return err->code = SMIMP_ERR_BAD_REQUEST;
	}
	if (len > SMIMP_ADDRESS_MAX || !smimp_address_is_normal(s, len))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "pin: address is not in normal form");
	memcpy(p.address, s, len);
	p.address[len] = '\0';
	p.latest_seq = seq;
	if (smimp_sign_pk_check(&p.first_public_key) != SMIMP_OK ||
	    smimp_sign_pk_check(&p.latest_public_key) != SMIMP_OK)
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "pin: a public key is not a valid point");
	if (seq == 0 &&
	    (!smimp_signed_hash_equal(&p.first_signed_hash,
				      &p.latest_signed_hash) ||
	     !smimp_sign_pk_equal(&p.first_public_key, &p.latest_public_key)))
		return smimp_error_set(err, SMIMP_ERR_BAD_REQUEST,
				       "pin: latest_seq is 0 but the latest "
				       "record is not the first");
	*out = p;
	return SMIMP_OK;
}

static enum smimp_err read_pin(void *out, const json_t *v, const void *arg,
			       struct smimp_error *err)
{
	(void)arg;
	return smimp_pin_from_json(out, v, err);
}

enum smimp_err smimp_pin_parse(struct smimp_pin *out, const char *text,
			       size_t len, struct smimp_error *err)
{
	return smimp_json_parse_with(text, len, 4096, "pin", read_pin, out,
				     NULL, err);
}

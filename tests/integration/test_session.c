/* test_session: an SMIMP account driven over https_client (see the header). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smimp/hash.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/pow.h"
#include "smimp/record.h"
#include "smimp/timestamp.h"

#include "test_session.h"

/* Seeded by index and address: generators given different account files
 * (one per node) must not derive the same key. */
static void seed_keypair(struct smimp_sign_keypair *kp, unsigned i, const char *addr)
{
	uint8_t seed[SMIMP_SIGN_SEED_BYTES];

	memset(seed, 0x5a, sizeof seed);
	memcpy(seed, &i, sizeof i);
	for (size_t k = 0; addr[k] != '\0'; k++)
		seed[sizeof i + k % (sizeof seed - sizeof i)] ^= (uint8_t)addr[k];
	smimp_sign_keypair_from_seed(kp, seed);
}

static int account_set(struct test_account *a, const char *address,
		       const char *password, unsigned i)
{
	const char *hash = strchr(address, '#');

	if (hash == NULL)
		return -1;
	snprintf(a->address, sizeof a->address, "%s", address);
	snprintf(a->password, sizeof a->password, "%s", password);
	snprintf(a->path_addr, sizeof a->path_addr, "%.*s%%23%s",
		 (int)(hash - address), address, hash + 1);
	seed_keypair(&a->kp, i, a->address);
	return 0;
}

int test_accounts_load(const char *file, unsigned max, struct test_account **out)
{
	FILE *f = fopen(file, "r");
	struct test_account *as = calloc(max, sizeof *as);
	char a[128], pw[128];
	unsigned n = 0;

	if (f == NULL || as == NULL) {
		perror(file);
		goto fail;
	}
	while (n < max && fscanf(f, "%127s %127s", a, pw) == 2) {
		if (account_set(&as[n], a, pw, n) != 0)
			goto fail;
		n++;
	}
	fclose(f);
	*out = as;
	return (int)n;
fail:
	if (f != NULL)
		fclose(f);
	free(as);
	*out = NULL;
	return -1;
}

/* A new message key of a, signed with its master key. */
static json_t *msgkey_json(const struct test_account *a, enum smimp_msgkey_kind kind)
{
	struct smimp_box_keypair bk;
	struct smimp_msgkey mk;

	smimp_box_keypair_generate(&bk);
	smimp_msgkey_sign(&mk, a->address, kind, &bk.pk, &a->kp.sk);
	return smimp_msgkey_to_json(&mk);
}

/* The body of initialize_account (to free), or NULL. */
static char *initialize_body(const struct test_account *a, long n_keys,
			     struct smimp_error *err)
{
	struct smimp_field f[2] = {smimp_text(a->address), smimp_text(a->password)};
	struct smimp_record_values v = {0};
	struct smimp_record r;
	struct smimp_hash h;
	json_t *body, *keys = json_array();
	char *s;

	smimp_hash_fields(&h, SMIMP_LABEL_INIT_PASSWORD, f, 2);
	v.address = a->address;
	v.public_key = &a->kp.pk;
	v.changed_at = smimp_timestamp_now();
	if (smimp_record_build(&r, &v, &a->kp.sk, err) != SMIMP_OK) {
		json_decref(keys);
		return NULL;
	}
	for (long i = 0; i < n_keys; i++)
		json_array_append_new(keys, msgkey_json(a, SMIMP_MSGKEY_EPHEMERAL));
	body = json_pack("{s:n, s:o, s:o, s:o}", "password_hash",
			 "record", smimp_record_to_json(&r),
			 "nonephemeral_key", msgkey_json(a, SMIMP_MSGKEY_NONEPHEMERAL),
			 "ephemeral_keys", keys);
	smimp_record_free(&r);
	s = NULL;
	if (body != NULL && smimp_json_set_hex(body, "password_hash", h.b, sizeof h.b) == 0)
		s = smimp_json_dump(body);
	json_decref(body);
	if (s == NULL)
		smimp_error_set(err, SMIMP_ERR_INTERNAL, "initialize_account body");
	return s;
}

long test_session_initialize(struct https_client *c, const struct test_account *a,
			     long n_keys, struct smimp_error *err)
{
	char path[256], *s = initialize_body(a, n_keys, err);
	long st;

	if (s == NULL)
		return -1;
	snprintf(path, sizeof path, "initialize_account/%s", a->path_addr);
	st = https_client_call(c, path, NULL, s, strlen(s));
	free(s);
	return st;
}

/* The reply's string member name, copied to out (cap bytes), or -1. */
static int reply_string(const struct https_client *c, const char *name, char *out,
			size_t cap)
{
	json_t *j = https_client_json(c);
	const char *s = json_string_value(json_object_get(j, name));
	int rc = -1;

	if (s != NULL && strlen(s) < cap) {
		memcpy(out, s, strlen(s) + 1);
		rc = 0;
	}
	json_decref(j);
	return rc;
}

enum test_login_result test_session_login(struct https_client *c, const char *base,
					  const struct test_account *a,
					  struct test_login *out)
{
	struct smimp_signed_hash sh;
	char path[256], tok[2 * sizeof out->token.b + 1], hex[2 * sizeof sh.b + 1];
	char body[64 + sizeof tok + sizeof hex];

	snprintf(path, sizeof path, "create_session/%s", a->path_addr);
	if (https_client_call(c, path, NULL, NULL, 0) != 200)
		return TEST_LOGIN_GET_FAILED;
	if (reply_string(c, "token", tok, sizeof tok) != 0 ||
	    smimp_hex_decode_str(out->token.b, sizeof out->token.b, tok) != SMIMP_OK)
		return TEST_LOGIN_BAD_REPLY;
	smimp_login_sign(&sh, base, a->address, &out->token, &a->kp.sk);
	smimp_hex_encode(hex, sizeof hex, sh.b, sizeof sh.b);
	snprintf(body, sizeof body, "{\"token\":\"%s\",\"signed_hash\":\"%s\"}", tok, hex);
	if (https_client_call(c, path, NULL, body, strlen(body)) != 200)
		return TEST_LOGIN_POST_FAILED;
	if (reply_string(c, "session", out->session, sizeof out->session) != 0)
		return TEST_LOGIN_BAD_REPLY;
	return TEST_LOGIN_OK;
}

long test_session_draw_key(struct https_client *c, const char *session,
			   const struct test_account *to, struct smimp_msgkey *mk)
{
	struct smimp_error err = {SMIMP_OK, ""};
	char body[256];
	json_t *j;
	long st;

	snprintf(body, sizeof body, "{\"address\":\"%s\"}", to->address);
	st = https_client_call(c, "get_message_key", session, body, strlen(body));
	if (st != 200)
		return st;
	j = https_client_json(c);
	if (smimp_msgkey_from_json(mk, json_object_get(j, "message_key"), &err) != SMIMP_OK)
		st = -1;
	json_decref(j);
	return st;
}

long test_session_pow_params(struct https_client *c, const char *session,
			     const struct test_account *to, struct smimp_token *nonce,
			     unsigned *zero_bits)
{
	char path[256];
	const char *s;
	json_t *j, *zb;
	long st;

	snprintf(path, sizeof path, "get_pow_params/%s/email", to->path_addr);
	st = https_client_call(c, path, session, NULL, 0);
	if (st != 200)
		return st;
	j = https_client_json(c);
	s = json_string_value(json_object_get(j, "nonce"));
	zb = json_object_get(j, "zero_bits");
	if (s == NULL || smimp_hex_decode_str(nonce->b, sizeof nonce->b, s) != SMIMP_OK ||
	    !json_is_integer(zb) || json_integer_value(zb) < 0 ||
	    json_integer_value(zb) > SMIMP_POW_MAX_ZERO_BITS)
		st = -1;
	else
		*zero_bits = (unsigned)json_integer_value(zb);
	json_decref(j);
	return st;
}

double test_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

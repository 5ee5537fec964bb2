/* Message payloads (spec 12): build/parse round trips of every type, the
 * reference vectors' email plaintext byte for byte, and the rules a parser
 * of untrusted plaintexts must enforce. */
#include <sodium.h>
#include <string.h>

#include "smimp/key.h"
#include "smimp/payload.h"
#include "testlib.h"
#include "vectors_util.h"

#define MAX_BYTES (1024u * 1024)

static enum smimp_err parse_str(struct smimp_payload *p, const char *type,
				const char *text, const char *sender)
{
	struct smimp_error err = {0};
	enum smimp_err e = smimp_payload_parse(p, type, (const uint8_t *)text,
					       strlen(text), MAX_BYTES, sender,
					       &err);

	if (e != SMIMP_OK)
		fprintf(stderr, "  (parse: %s)\n", err.message);
	return e;
}

/* Serializes p and compares with want (when not NULL); returns the text
 * (free() it) or NULL. */
static char *serialize(const struct smimp_payload *p, const char *sender)
{
	struct smimp_error err = {0};
	uint8_t *out = NULL;
	size_t len = 0;

	if (smimp_payload_serialize(&out, &len, p, sender, &err) != SMIMP_OK) {
		fprintf(stderr, "  (serialize: %s)\n", err.message);
		return NULL;
	}
	if (strlen((char *)out) != len) {
		smimp_payload_bytes_free(out, len);
		return NULL;
	}
	return (char *)out;
}

/* Parses text, serializes the result and expects the same bytes back. */
static void round_trip(const char *type, const char *text)
{
	struct smimp_payload p;
	char *again;

	REQUIRE(parse_str(&p, type, text, NULL) == SMIMP_OK);
	again = serialize(&p, NULL);
	CHECK_STREQ(again, text);
	free(again);
	smimp_payload_free(&p);
}

static const char *vector_email(json_t **v)
{
	*v = NULL;
	if (smimp_init() != 0)
		return NULL;
	*v = vectors_load(REFERENCE_VECTORS);
	return *v != NULL ? vectors_str(*v, "envelope.plaintext") : NULL;
}

TEST(email_vector_built)
{
	char *to[] = {"bob#example.com"};
	struct smimp_payload p;
	json_t *v = NULL;
	const char *want = vector_email(&v);
	char *got;

	REQUIRE(want != NULL);
	memset(&p, 0, sizeof p);
	p.type = SMIMP_MSGTYPE_EMAIL;
	p.email.to = to;
	p.email.n_to = 1;
	p.email.subject = "Test vector";
	memset(p.email.thread_id.b, 0x51, sizeof p.email.thread_id.b);
	p.email.date_sent = 1451606400; /* 2016-01-01 00:00:00 */
	p.email.body = "Hello **Bob**.";
	got = serialize(&p, "alice#example.com");
	CHECK_STREQ(got, want);
	free(got);
	json_decref(v);
}

TEST(email_vector_parsed)
{
	struct smimp_payload p;
	json_t *v = NULL;
	const char *text = vector_email(&v);

	REQUIRE(text != NULL);
	REQUIRE(parse_str(&p, "email", text, "alice#example.com") == SMIMP_OK);
	CHECK(p.type == SMIMP_MSGTYPE_EMAIL);
	CHECK(p.email.n_to == 1);
	CHECK_STREQ(p.email.to[0], "bob#example.com");
	CHECK(p.email.n_cc == 0);
	CHECK_STREQ(p.email.subject, "Test vector");
	CHECK(p.email.thread_id.b[0] == 0x51 && p.email.thread_id.b[31] == 0x51);
	CHECK(!p.email.has_reply_to_message_id);
	CHECK(p.email.date_sent == 1451606400);
	CHECK_STREQ(p.email.body, "Hello **Bob**.");
	CHECK(p.email.signature == NULL && p.email.extensions == NULL);
	CHECK(p.email.n_attachments == 0);
	CHECK(p.email.reply_to == NULL && p.email.auto_reply_address == NULL);
	smimp_payload_free(&p);
	round_trip("email", text);
	json_decref(v);
}

static const char full_email[] =
	"{\"to\":[\"bob#example.com\",\"carol#example.org\"],"
	"\"cc\":[\"dave#example.net\"],"
	"\"subject\":\"Re: caf\xc3\xa9 \\\"quoted\\\"\","
	"\"thread_id\":\"5151515151515151515151515151515151515151515151515151515151515151\","
	"\"reply_to_message_id\":\"7777777777777777777777777777777777777777777777777777777777777777\","
	"\"date_sent\":\"2016-02-29 23:59:59\","
	"\"body\":\"Line 1\\nLine 2\","
	"\"signature\":\"-- Alice\","
	"\"attachments\":[{\"filename\":\"a.txt\",\"content\":\"aGVsbG8=\"},"
	"{\"filename\":\"empty\",\"content\":\"\"}],"
	"\"extensions\":{\"label\":[1,2]},"
	"\"reply_to\":\"alicelist#example.com\","
	"\"auto_reply_address\":\"noreply#example.com\"}";

TEST(email_full_round_trip)
{
	struct smimp_payload p;

	REQUIRE(parse_str(&p, "email", full_email, "alice#example.com") ==
		SMIMP_OK);
	CHECK(p.email.n_to == 2 && p.email.n_cc == 1);
	CHECK(p.email.has_reply_to_message_id);
	CHECK(p.email.n_attachments == 2);
	CHECK_STREQ(p.email.attachments[0].filename, "a.txt");
	CHECK(p.email.attachments[0].content_len == 5 &&
	      memcmp(p.email.attachments[0].content, "hello", 5) == 0);
	CHECK(p.email.attachments[1].content_len == 0);
	CHECK(json_is_object(p.email.extensions));
	CHECK_STREQ(p.email.auto_reply_address, "noreply#example.com");
	smimp_payload_free(&p);
	round_trip("email", full_email);
}

TEST(email_addresses_normalized)
{
	struct smimp_payload p;

	REQUIRE(parse_str(&p, "email",
			  "{\"to\":[\"Bob#Example.COM\"],\"cc\":[],\"subject\":\"\","
			  "\"thread_id\":\"5151515151515151515151515151515151515151515151515151515151515151\","
			  "\"reply_to_message_id\":null,\"date_sent\":\"2016-01-01 00:00:00\","
			  "\"body\":\"\",\"signature\":null,\"attachments\":[],"
			  "\"extensions\":null,\"reply_to\":\"ALICE#example.com\","
			  "\"auto_reply_address\":null}", NULL) == SMIMP_OK);
	CHECK_STREQ(p.email.to[0], "bob#example.com");
	CHECK_STREQ(p.email.reply_to, "alice#example.com");
	smimp_payload_free(&p);
}

/* full_email with one member replaced by `value` (raw JSON) or removed
 * (value NULL), parsed; returns the result code. */
static enum smimp_err email_with(const char *member, const char *value,
				 const char *sender)
{
	json_error_t jerr;
	json_t *o = json_loads(full_email, 0, &jerr);
	struct smimp_payload p;
	enum smimp_err e;
	char *text;

	if (o == NULL)
		return SMIMP_ERR_INTERNAL;
	if (value == NULL) {
		json_object_del(o, member);
	} else {
		json_t *nv = json_loads(value, JSON_DECODE_ANY, &jerr);

		if (nv == NULL) {
			json_decref(o);
			return SMIMP_ERR_INTERNAL;
		}
		json_object_set_new(o, member, nv);
	}
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return SMIMP_ERR_INTERNAL;
	e = smimp_payload_parse(&p, "email", (const uint8_t *)text,
				strlen(text), MAX_BYTES, sender, NULL);
	if (e == SMIMP_OK)
		smimp_payload_free(&p);
	free(text);
	return e;
}

TEST(email_bad_address_in_to)
{
	CHECK(email_with("to", "[\"bob\"]", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("to", "[\"bob#example.com\",\"x#-bad.com\"]", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("to", "[1]", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("to", "\"bob#example.com\"", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("cc", "[\"a#b#c.com\"]", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("reply_to", "\"nobody\"", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("to", "[]", NULL) == SMIMP_OK);
}

TEST(email_bad_thread_id)
{
	CHECK(email_with("thread_id", "\"51\"", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("thread_id",
			 "\"5151515151515151515151515151515151515151515151515151515151515A51\"",
			 NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("thread_id", "null", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("reply_to_message_id", "\"77\"", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("reply_to_message_id", "null", NULL) == SMIMP_OK);
}

TEST(email_bad_b64_attachment)
{
	CHECK(email_with("attachments",
			 "[{\"filename\":\"a\",\"content\":\"aGVsbG8\"}]", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("attachments",
			 "[{\"filename\":\"a\",\"content\":\"aGVsbG9=\"}]", NULL) ==
	      SMIMP_ERR_BAD_REQUEST); /* non-zero padding bits */
	CHECK(email_with("attachments",
			 "[{\"filename\":\"a\",\"content\":\"aGVs bG8=\"}]", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("attachments", "[{\"filename\":\"a\"}]", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("attachments", "[\"a\"]", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("attachments", "{}", NULL) == SMIMP_ERR_BAD_REQUEST);
}

TEST(email_bad_filename)
{
	CHECK(email_with("attachments",
			 "[{\"filename\":\"../etc/passwd\",\"content\":\"\"}]",
			 NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("attachments",
			 "[{\"filename\":\"..\",\"content\":\"\"}]", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("attachments",
			 "[{\"filename\":\"\",\"content\":\"\"}]", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("attachments",
			 "[{\"filename\":\"a\\nb\",\"content\":\"\"}]", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("attachments",
			 "[{\"filename\":\"r\\u00e9sum\\u00e9.pdf\",\"content\":\"\"}]",
			 NULL) == SMIMP_OK);
}

TEST(email_other_members)
{
	CHECK(email_with("date_sent", "\"2016-02-30 00:00:00\"", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("date_sent", "\"2016-01-01T00:00:00\"", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("subject", "null", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("subject", NULL, NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("body", "1", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("signature", "null", NULL) == SMIMP_OK);
	CHECK(email_with("signature", "false", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("extensions", "[]", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("extensions", "null", NULL) == SMIMP_OK);
	CHECK(email_with("reply_to", NULL, NULL) == SMIMP_ERR_BAD_REQUEST);
}

TEST(email_auto_reply_at_sender_domain)
{
	CHECK(email_with("auto_reply_address", "\"noreply#example.com\"",
			 "alice#example.com") == SMIMP_OK);
	CHECK(email_with("auto_reply_address", "\"noreply#example.com\"",
			 "Alice#EXAMPLE.com") == SMIMP_OK);
	CHECK(email_with("auto_reply_address", "\"noreply#evil.example\"",
			 "alice#example.com") == SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("auto_reply_address", "\"noreply#sub.example.com\"",
			 "alice#example.com") == SMIMP_ERR_BAD_REQUEST);
	CHECK(email_with("auto_reply_address", "\"noreply#evil.example\"",
			 NULL) == SMIMP_OK);
	CHECK(email_with("auto_reply_address", "null", "alice#example.com") ==
	      SMIMP_OK);
}

TEST(unknown_member_ignored)
{
	struct smimp_payload p;

	CHECK(email_with("x-future", "{\"a\":1}", NULL) == SMIMP_OK);
	REQUIRE(parse_str(&p, "short-message",
			  "{\"message\":\"hi\",\"attachments\":[],\"mood\":\"ok\"}",
			  NULL) == SMIMP_OK);
	CHECK_STREQ(p.short_message.message, "hi");
	smimp_payload_free(&p);
}

TEST(duplicate_member_rejected)
{
	struct smimp_payload p;

	CHECK(parse_str(&p, "short-message",
			"{\"message\":\"a\",\"message\":\"b\","
			"\"attachments\":[]}", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_str(&p, "secret-xsalsa20",
			"{\"key\":\"00\",\"note\":\"\",\"note\":\"\"}",
			NULL) == SMIMP_ERR_BAD_REQUEST);
	/* Inside an attachment too. */
	CHECK(email_with("attachments",
			 "[{\"filename\":\"a\",\"content\":\"\"}]", NULL) == SMIMP_OK);
	{
		const char *t = "{\"message\":\"m\",\"attachments\":[{\"filename\":"
				"\"a\",\"filename\":\"b\",\"content\":\"\"}]}";

		CHECK(parse_str(&p, "short-message", t, NULL) ==
		      SMIMP_ERR_BAD_REQUEST);
	}
}

TEST(json_rules)
{
	struct smimp_payload p;
	static const uint8_t bad_utf8[] =
		"{\"message\":\"\xff\",\"attachments\":[]}";

	CHECK(smimp_payload_parse(&p, "short-message", bad_utf8,
				  sizeof bad_utf8 - 1, MAX_BYTES, NULL, NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_str(&p, "short-message",
			"{\"message\":\"\\ud800\",\"attachments\":[]}", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_str(&p, "short-message", "[]", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_str(&p, "email", "", NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_payload_parse(&p, "short-message", (const uint8_t *)
				  "{\"message\":\"hi\",\"attachments\":[]}", 33,
				  20, NULL, NULL) == SMIMP_ERR_TOO_LARGE);
	CHECK(parse_str(&p, "video", "{}", NULL) == SMIMP_ERR_BAD_REQUEST);
}

TEST(short_message_round_trip)
{
	char *got;
	struct smimp_attachment at = {"pic.png", (uint8_t *)"\x89PNG", 4};
	struct smimp_payload p;

	memset(&p, 0, sizeof p);
	p.type = SMIMP_MSGTYPE_SHORT_MESSAGE;
	p.short_message.message = "see you at 8";
	p.short_message.attachments = &at;
	p.short_message.n_attachments = 1;
	got = serialize(&p, NULL);
	CHECK_STREQ(got, "{\"message\":\"see you at 8\",\"attachments\":"
			 "[{\"filename\":\"pic.png\",\"content\":\"iVBORw==\"}]}");
	if (got != NULL)
		round_trip("short-message", got);
	free(got);
	CHECK(parse_str(&p, "short-message", "{\"message\":\"x\"}", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
}

TEST(secret_ed25519_round_trip)
{
	struct smimp_sign_keypair kp;
	struct smimp_payload p, q;
	uint8_t seed[32];
	char *got;

	REQUIRE(smimp_init() == 0);
	memset(seed, 0x03, sizeof seed);
	smimp_sign_keypair_from_seed(&kp, seed);
	memset(&p, 0, sizeof p);
	p.type = SMIMP_MSGTYPE_SECRET_ED25519;
	p.secret_ed25519.public_key = kp.pk;
	p.secret_ed25519.secret_key = kp.sk;
	p.secret_ed25519.note = "the list's key";
	got = serialize(&p, NULL);
	REQUIRE(got != NULL);
	CHECK(strncmp(got, "{\"public_key\":\"ed4928c6", 22) == 0);
	CHECK(strstr(got, "\"secret_key\":\"0303030303") != NULL);
	CHECK(strstr(got, "\"note\":\"the list's key\"}") != NULL);
	REQUIRE(parse_str(&q, "secret-ed25519", got, NULL) == SMIMP_OK);
	CHECK(memcmp(q.secret_ed25519.secret_key.b, kp.sk.b, 64) == 0);
	CHECK(memcmp(q.secret_ed25519.public_key.b, kp.pk.b, 32) == 0);
	CHECK_STREQ(q.secret_ed25519.note, "the list's key");
	smimp_payload_free(&q);
	/* smimp_payload_free wipes: nothing of the key is left. */
	CHECK(sodium_is_zero(q.secret_ed25519.secret_key.b, 64));
	CHECK(q.secret_ed25519.note == NULL);
	round_trip("secret-ed25519", got);
	smimp_payload_bytes_free((uint8_t *)got, strlen(got));
	smimp_sign_keypair_wipe(&kp);
}

TEST(secret_ed25519_mismatched_halves)
{
	struct smimp_sign_keypair a, b;
	struct smimp_payload p;
	uint8_t seed[32];
	char *text;

	REQUIRE(smimp_init() == 0);
	memset(seed, 0x01, sizeof seed);
	smimp_sign_keypair_from_seed(&a, seed);
	memset(seed, 0x02, sizeof seed);
	smimp_sign_keypair_from_seed(&b, seed);
	memset(&p, 0, sizeof p);
	p.type = SMIMP_MSGTYPE_SECRET_ED25519;
	p.secret_ed25519.note = "";
	/* public_key of b, secret key of a: its embedded half is a's. */
	p.secret_ed25519.public_key = b.pk;
	p.secret_ed25519.secret_key = a.sk;
	CHECK(smimp_payload_validate(&p, NULL, NULL) == SMIMP_ERR_BAD_REQUEST);
	/* Embedded half changed to b's, but a's seed does not give it. */
	memcpy(p.secret_ed25519.secret_key.b + 32, b.pk.b, 32);
	CHECK(smimp_payload_validate(&p, NULL, NULL) == SMIMP_ERR_BAD_REQUEST);
	/* The same on the wire. */
	p.secret_ed25519.public_key = a.pk;
	p.secret_ed25519.secret_key = a.sk;
	text = serialize(&p, NULL);
	REQUIRE(text != NULL);
	text[strlen("{\"public_key\":\"") + 3] ^= 1; /* '8' <-> '9' etc. */
	CHECK(parse_str(&p, "secret-ed25519", text, NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	smimp_payload_bytes_free((uint8_t *)text, strlen(text));
	CHECK(parse_str(&p, "secret-ed25519",
			"{\"public_key\":\"00\",\"secret_key\":\"00\",\"note\":\"\"}",
			NULL) == SMIMP_ERR_BAD_REQUEST);
}

TEST(secret_curve25519_round_trip)
{
	struct smimp_box_keypair kp;
	struct smimp_box_sk sk;
	struct smimp_payload p, q;
	char *got;

	REQUIRE(smimp_init() == 0);
	memset(sk.b, 0x11, sizeof sk.b);
	smimp_box_keypair_from_secret(&kp, &sk);
	memset(&p, 0, sizeof p);
	p.type = SMIMP_MSGTYPE_SECRET_CURVE25519;
	p.secret_curve25519.public_key = kp.pk;
	p.secret_curve25519.secret_key = kp.sk;
	p.secret_curve25519.kind = SMIMP_MSGKEY_NONEPHEMERAL;
	p.secret_curve25519.note = "n\"q";
	got = serialize(&p, NULL);
	REQUIRE(got != NULL);
	CHECK_STREQ(got, "{\"public_key\":\"7b4e909bbe7ffe44c465a220037d608ee35897"
			 "d31ef972f07f74892cb0f73f13\",\"secret_key\":\"111111111"
			 "1111111111111111111111111111111111111111111111111111111"
			 "\",\"kind\":\"nonephemeral\",\"note\":\"n\\\"q\"}");
	REQUIRE(parse_str(&q, "secret-curve25519", got, NULL) == SMIMP_OK);
	CHECK(q.secret_curve25519.kind == SMIMP_MSGKEY_NONEPHEMERAL);
	CHECK(memcmp(q.secret_curve25519.secret_key.b, sk.b, 32) == 0);
	smimp_payload_free(&q);
	round_trip("secret-curve25519", got);
	smimp_payload_bytes_free((uint8_t *)got, strlen(got));
	/* Mismatch: pk is not scalarmult_base(sk). */
	p.secret_curve25519.secret_key.b[0] ^= 0x40;
	CHECK(smimp_payload_validate(&p, NULL, NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_str(&q, "secret-curve25519",
			"{\"public_key\":\"7b4e909bbe7ffe44c465a220037d608ee35897"
			"d31ef972f07f74892cb0f73f13\",\"secret_key\":\"111111111"
			"1111111111111111111111111111111111111111111111111111111"
			"\",\"kind\":\"temporary\",\"note\":\"\"}", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_str(&q, "secret-curve25519",
			"{\"public_key\":\"7b4e909bbe7ffe44c465a220037d608ee35897"
			"d31ef972f07f74892cb0f73f13\",\"secret_key\":\"111111111"
			"1111111111111111111111111111111111111111111111111111112"
			"\",\"kind\":\"ephemeral\",\"note\":\"\"}", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
}

TEST(secret_xsalsa20_round_trip)
{
	struct smimp_payload p, q;
	char *got;

	memset(&p, 0, sizeof p);
	p.type = SMIMP_MSGTYPE_SECRET_XSALSA20;
	memset(p.secret_xsalsa20.key, 0xee, 32);
	p.secret_xsalsa20.note = "backup key";
	got = serialize(&p, NULL);
	REQUIRE(got != NULL);
	CHECK_STREQ(got, "{\"key\":\"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
			 "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\",\"note\":\"backup key\"}");
	REQUIRE(parse_str(&q, "secret-xsalsa20", got, NULL) == SMIMP_OK);
	CHECK(q.secret_xsalsa20.key[31] == 0xee);
	smimp_payload_free(&q);
	CHECK(sodium_is_zero(q.secret_xsalsa20.key, 32));
	round_trip("secret-xsalsa20", got);
	smimp_payload_bytes_free((uint8_t *)got, strlen(got));
	CHECK(parse_str(&q, "secret-xsalsa20",
			"{\"key\":\"EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE"
			"EEEEEEEEEEEEEE\",\"note\":\"\"}", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_str(&q, "secret-xsalsa20", "{\"key\":\"ee\",\"note\":\"\"}",
			NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(parse_str(&q, "secret-xsalsa20",
			"{\"key\":\"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
			"eeeeeeeeeeee\"}", NULL) == SMIMP_ERR_BAD_REQUEST);
}

TEST(custom_any_bytes)
{
	static const uint8_t bytes[] = {0x00, 0xff, '{', 0x80, 0x00};
	struct smimp_payload p;
	uint8_t *out = NULL;
	size_t len = 0;

	REQUIRE(smimp_payload_parse(&p, "x-custom-calendar", bytes, sizeof bytes,
				    MAX_BYTES, NULL, NULL) == SMIMP_OK);
	CHECK(p.type == SMIMP_MSGTYPE_CUSTOM);
	CHECK(p.custom.len == sizeof bytes &&
	      memcmp(p.custom.data, bytes, sizeof bytes) == 0);
	REQUIRE(smimp_payload_serialize(&out, &len, &p, NULL, NULL) == SMIMP_OK);
	CHECK(len == sizeof bytes && memcmp(out, bytes, len) == 0);
	smimp_payload_bytes_free(out, len);
	smimp_payload_free(&p);
	REQUIRE(smimp_payload_parse(&p, "x-custom-e", NULL, 0, MAX_BYTES, NULL,
				    NULL) == SMIMP_OK);
	CHECK(p.custom.len == 0);
	smimp_payload_free(&p);
	CHECK(smimp_payload_parse(&p, "x-custom-e", bytes, sizeof bytes, 4, NULL,
				  NULL) == SMIMP_ERR_TOO_LARGE);
}

TEST(custom_name_rules)
{
	struct smimp_payload p;

	CHECK(smimp_payload_parse(&p, "x-custom-", (const uint8_t *)"x", 1,
				  MAX_BYTES, NULL, NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_payload_parse(&p, "x-custom-Cal", (const uint8_t *)"x", 1,
				  MAX_BYTES, NULL, NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_payload_parse(&p, "x-custom-a_b", (const uint8_t *)"x", 1,
				  MAX_BYTES, NULL, NULL) == SMIMP_ERR_BAD_REQUEST);
	CHECK(smimp_payload_parse(&p, "x-custom-a-1", (const uint8_t *)"x", 1,
				  MAX_BYTES, NULL, NULL) == SMIMP_OK);
	smimp_payload_free(&p);
}

TEST(build_validation)
{
	char *bad_to[] = {"Bob#example.com"};
	char *to[] = {"bob#example.com"};
	struct smimp_attachment at = {"a/b", (uint8_t *)"", 0};
	struct smimp_payload p;
	uint8_t *out = (uint8_t *)"x";
	size_t len = 1;

	memset(&p, 0, sizeof p);
	p.type = SMIMP_MSGTYPE_EMAIL;
	p.email.to = bad_to;
	p.email.n_to = 1;
	p.email.subject = "s";
	p.email.body = "b";
	CHECK(smimp_payload_serialize(&out, &len, &p, NULL, NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	CHECK(out == NULL && len == 0);
	p.email.to = to;
	CHECK(smimp_payload_validate(&p, NULL, NULL) == SMIMP_OK);
	p.email.subject = "\xff";
	CHECK(smimp_payload_validate(&p, NULL, NULL) == SMIMP_ERR_BAD_REQUEST);
	p.email.subject = NULL;
	CHECK(smimp_payload_validate(&p, NULL, NULL) == SMIMP_ERR_BAD_REQUEST);
	p.email.subject = "s";
	p.email.attachments = &at;
	p.email.n_attachments = 1;
	CHECK(smimp_payload_validate(&p, NULL, NULL) == SMIMP_ERR_BAD_REQUEST);
	p.email.n_attachments = 0;
	p.email.auto_reply_address = "x#other.example";
	CHECK(smimp_payload_validate(&p, "alice#example.com", NULL) ==
	      SMIMP_ERR_BAD_REQUEST);
	p.email.auto_reply_address = "x#example.com";
	CHECK(smimp_payload_validate(&p, "alice#example.com", NULL) == SMIMP_OK);
	p.email.date_sent = -1;
	CHECK(smimp_payload_validate(&p, NULL, NULL) == SMIMP_ERR_BAD_REQUEST);
}

/* smimpd's stateless proof-of-work nonces (src/server/pow_nonce.c): what a
 * minted nonce proves, and that nothing else opens. */
#include <stdint.h>
#include <string.h>
#include <sodium.h>

#include "pow_nonce.h"
#include "session.h"
#include "testlib.h"

static struct smd_pow_key key;
static uint8_t session[SMD_SESSION_HASH_BYTES];

static void setup(void)
{
	if (sodium_init() < 0)
		abort();
	memset(key.b, 0x42, sizeof key.b);
	memset(session, 0x17, sizeof session);
}

TEST(mint_then_open)
{
	struct smimp_token n;
	struct smimp_pow_issue info;

	setup();
	smd_pow_nonce_mint(&n, &key, session, "bob#b.test", "email", 12);
	REQUIRE(smd_pow_nonce_open(&info, &n, &key, session, "bob#b.test", "email"));
	CHECK(info.zero_bits == 12);
	CHECK(info.for_recipient);
	CHECK(info.for_type);
}

TEST(binding_to_recipient_and_type)
{
	struct smimp_token n;
	struct smimp_pow_issue info;

	setup();
	smd_pow_nonce_mint(&n, &key, session, "bob#b.test", "email", 3);
	/* Still this session's nonce (so it is used up), but not for these. */
	REQUIRE(smd_pow_nonce_open(&info, &n, &key, session, "carol#b.test", "email"));
	CHECK(!info.for_recipient);
	CHECK(info.for_type);
	REQUIRE(smd_pow_nonce_open(&info, &n, &key, session, "bob#b.test", "sms"));
	CHECK(info.for_recipient);
	CHECK(!info.for_type);
	REQUIRE(smd_pow_nonce_open(&info, &n, &key, session, "bob#b.test", NULL));
	CHECK(!info.for_type);
	CHECK(info.zero_bits == 3);
}

TEST(other_session_or_key_is_unknown)
{
	struct smimp_token n;
	struct smimp_pow_issue info;
	struct smd_pow_key other_key;
	uint8_t other[SMD_SESSION_HASH_BYTES];

	setup();
	other_key = key;
	other_key.b[31] ^= 1;
	memcpy(other, session, sizeof other);
	other[0] ^= 0x80;
	smd_pow_nonce_mint(&n, &key, session, "bob#b.test", "email", 0);
	CHECK(!smd_pow_nonce_open(&info, &n, &key, other, "bob#b.test", "email"));
	CHECK(!smd_pow_nonce_open(&info, &n, &other_key, session, "bob#b.test",
				  "email"));
}

/* Any change of any bit (difficulty, tags, random part, authenticator). */
TEST(every_bit_is_authenticated)
{
	struct smimp_token n, t;
	struct smimp_pow_issue info;
	int opened = 0;

	setup();
	smd_pow_nonce_mint(&n, &key, session, "bob#b.test", "email", 20);
	for (size_t i = 0; i < 8 * sizeof n.b; i++) {
		t = n;
		t.b[i / 8] ^= (uint8_t)(1u << (i % 8));
		opened += smd_pow_nonce_open(&info, &t, &key, session, "bob#b.test",
					     "email");
	}
	CHECK(opened == 0);
	memset(t.b, 0, sizeof t.b);
	CHECK(!smd_pow_nonce_open(&info, &t, &key, session, "bob#b.test", "email"));
}

TEST(nonces_are_distinct_and_bits_capped)
{
	struct smimp_token a, b;
	struct smimp_pow_issue info;

	setup();
	CHECK(smd_pow_nonce_mint(&a, &key, session, "bob#b.test", "email", 300) ==
	      SMD_POW_BITS_MAX);
	smd_pow_nonce_mint(&b, &key, session, "bob#b.test", "email", 300);
	CHECK(memcmp(a.b, b.b, sizeof a.b) != 0);
	REQUIRE(smd_pow_nonce_open(&info, &a, &key, session, "bob#b.test", "email"));
	CHECK(info.zero_bits == 255);
}


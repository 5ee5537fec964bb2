/* Who a client is for the per-address rate limit (src/server/rate_client.c):
 * IPv4 addresses as they are, IPv4-mapped ones as IPv4, IPv6 by prefix. */
#include <string.h>

#include "rate_client.h"
#include "testlib.h"

static bool name_is(const char *addr, unsigned prefix, const char *want,
		    bool want_loopback)
{
	char out[SMD_RATE_CLIENT_MAX];
	bool loopback = !want_loopback;

	return smd_rate_client(addr, prefix, out, &loopback) &&
	       strcmp(out, want) == 0 && loopback == want_loopback;
}

TEST(ipv4_is_itself)
{
	CHECK(name_is("192.0.2.7", 64, "192.0.2.7", false));
	CHECK(name_is("127.0.0.1", 64, "127.0.0.1", true));
	CHECK(name_is("127.200.3.4", 64, "127.200.3.4", true));
}

TEST(ipv4_mapped_is_ipv4)
{
	/* A dual-stack socket reports IPv4 peers like this: one prefix for
	 * all of them would make every IPv4 client one client. */
	CHECK(name_is("::ffff:192.0.2.7", 64, "192.0.2.7", false));
	CHECK(name_is("::ffff:198.51.100.1", 64, "198.51.100.1", false));
	CHECK(name_is("::ffff:127.0.0.1", 64, "127.0.0.1", true));
}

TEST(ipv6_by_prefix)
{
	CHECK(name_is("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64, "2001:db8:1:2::/64",
		      false));
	/* Another host of the same /64 is the same client... */
	CHECK(name_is("2001:db8:1:2::99", 64, "2001:db8:1:2::/64", false));
	/* ...one of the next /64 is not. */
	CHECK(name_is("2001:db8:1:3::99", 64, "2001:db8:1:3::/64", false));
	CHECK(name_is("2001:db8:1:2:aaaa::1", 48, "2001:db8:1::/48", false));
	CHECK(name_is("2001:db8:1:2:aaaa::1", 128, "2001:db8:1:2:aaaa::1/128",
		      false));
	/* A prefix that is not a whole number of bytes. */
	CHECK(name_is("2001:db8:ffff::1", 36, "2001:db8:f000::/36", false));
	CHECK(name_is("ff02::1", 1, "8000::/1", false));
	CHECK(name_is("::1", 64, "::/64", true));
	CHECK(name_is("::1", 128, "::1/128", true));
}

TEST(refuses_what_is_no_address)
{
	char out[SMD_RATE_CLIENT_MAX];
	bool loopback = true;

	CHECK(!smd_rate_client("", 64, out, &loopback));
	CHECK(!loopback);
	CHECK(!smd_rate_client("example.org", 64, out, &loopback));
	CHECK(!smd_rate_client("192.0.2.256", 64, out, &loopback));
	CHECK(!smd_rate_client("2001:db8::1%eth0", 64, out, &loopback));
	CHECK(!smd_rate_client("2001:db8::1", 0, out, &loopback));
	CHECK(!smd_rate_client("2001:db8::1", 129, out, &loopback));
	CHECK(out[0] == '\0');
}

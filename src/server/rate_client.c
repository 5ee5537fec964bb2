/* See rate_client.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "rate_client.h"

static bool v4_name(const unsigned char b[4], char out[SMD_RATE_CLIENT_MAX],
		    bool *loopback)
{
	*loopback = b[0] == 127;
	return inet_ntop(AF_INET, b, out, SMD_RATE_CLIENT_MAX) != NULL;
}

bool smd_rate_client(const char *addr, unsigned v6_prefix,
		     char out[SMD_RATE_CLIENT_MAX], bool *loopback)
{
	struct in6_addr a6;
	unsigned char v4[4];
	char text[INET6_ADDRSTRLEN];
	unsigned full, rest;

	*loopback = false;
	out[0] = '\0';
	if (inet_pton(AF_INET, addr, v4) == 1)
		return v4_name(v4, out, loopback);
	if (v6_prefix < 1 || v6_prefix > 128 ||
	    inet_pton(AF_INET6, addr, &a6) != 1)
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&a6))
		return v4_name(a6.s6_addr + 12, out, loopback);
	*loopback = IN6_IS_ADDR_LOOPBACK(&a6);
	full = v6_prefix / 8;
	rest = v6_prefix % 8;
	if (rest != 0)
		a6.s6_addr[full++] &= (unsigned char)(0xff00u >> rest);
	memset(a6.s6_addr + full, 0, sizeof a6.s6_addr - full);
	if (inet_ntop(AF_INET6, &a6, text, sizeof text) == NULL)
		return false;
	return (size_t)snprintf(out, SMD_RATE_CLIENT_MAX, "%s/%u", text,
				v6_prefix) < SMD_RATE_CLIENT_MAX;
}

/* Who a client is for the per-address request rate limit: its IPv4
 * address, or the network prefix of its IPv6 address (by default the /64
 * that one subscriber or host usually gets: per single IPv6 address the
 * limit would be no limit, a host picks new ones at will). Pure functions
 * of the address text; untrusted input (the peer's address as formatted by
 * smimpd) is parsed with inet_pton and nothing else. */
#ifndef SMD_RATE_CLIENT_H
#define SMD_RATE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

/* Room for the longest name: an IPv6 address text and "/128". */
#define SMD_RATE_CLIENT_MAX 64

/* Writes addr's client name to out: an IPv4 address as it is, also when
 * addr writes it IPv4-mapped (::ffff:a.b.c.d, as a dual-stack socket
 * reports IPv4 peers); an IPv6 address cut to its first v6_prefix bits
 * (1..128) and written "PREFIX/BITS". *loopback tells whether addr is a
 * loopback address (127.0.0.0/8, ::1, or mapped). false when addr is not an
 * IP address or v6_prefix is out of range. */
bool smd_rate_client(const char *addr, unsigned v6_prefix,
		     char out[SMD_RATE_CLIENT_MAX], bool *loopback);

#endif

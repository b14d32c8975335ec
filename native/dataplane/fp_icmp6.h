/*
 * fp_icmp6.h — ICMPv6 handled by the control thread (RFC 4443).
 *
 * This first step answers Echo Requests addressed to the router's own
 * addresses; error generation, Neighbor Discovery and MLD follow. Runs on
 * the control thread only.
 */
#ifndef FP_ICMP6_H
#define FP_ICMP6_H

#include <stdbool.h>

struct rte_mbuf;

/* Turn a punted Echo Request for one of our addresses into its Echo Reply,
 * in place. Returns true when m is now a reply to send back out of the
 * port it came in on (m->port, a port index); false when it is not an Echo
 * Request for us (the caller counts and frees it). Invalid messages (bad
 * checksum, truncated, code != 0) are counted. */
bool fp_icmp6_echo_reply(struct rte_mbuf *m);

#endif

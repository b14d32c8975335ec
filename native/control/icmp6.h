/*
 * control/icmp6.h — ICMPv6 handled by the control thread (RFC 4443).
 *
 * Echo Replies for the router's own (preferred) addresses, and the errors
 * of RFC 4443 for packets it drops or cannot deliver locally. Runs on the
 * control thread only; what it builds leaves through fp_ctl_output().
 */
#ifndef FP_ICMP6_H
#define FP_ICMP6_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mbuf;

/* Turn a punted Echo Request for one of our addresses into its Echo Reply,
 * in place. Returns true when m is now a reply to send (fp_ctl_output:
 * routed, or back on the port it came in on, m->port, for a link-local
 * sender); false when it is not an Echo
 * Request for us (the caller counts and frees it). Invalid messages (bad
 * checksum, truncated, code != 0) are counted. */
bool fp_icmp6_echo_reply(struct rte_mbuf *m);

struct fp_lcore;

/* A new frame from port index p carrying an ICMPv6 message of len bytes
 * (zeroed; *icmp points at it): Ethernet from the port's MAC to dst_mac (or,
 * for a multicast dst, its 33:33:xx MAC), IPv6 src -> dst with the given
 * hop limit. Finish with fp_icmp6_checksum(). NULL when out of mbufs. */
struct rte_mbuf *fp_icmp6_alloc(uint16_t p, const uint8_t src[16],
				const uint8_t dst[16], const uint8_t *dst_mac,
				uint8_t hop_limit, uint16_t len, uint8_t **icmp);

/* Fill in the ICMPv6 checksum of a frame built by fp_icmp6_alloc(). */
void fp_icmp6_checksum(struct rte_mbuf *m);

/* Answer the dropped packet m (as received: m->port its ingress port index)
 * with an ICMPv6 error: Destination Unreachable (1), Packet Too Big (2,
 * param = MTU), Time Exceeded (3), Parameter Problem (4, param = pointer).
 * The error quotes as much of m as fits in 1280 bytes, comes from the
 * ingress interface's address, goes back to the frame's sender, and is
 * rate-limited by a token bucket per lcore (icmpErrors.perSecond / burst):
 * the lcore's own when it asked for the error (rate_checked), else the
 * control thread's bucket for the punting lcore lc. Never about an ICMPv6
 * error, nor to a multicast or unspecified source, nor (but for Packet Too
 * Big) about a multicast destination. Takes ownership of m. */
void fp_icmp6_error(struct fp_lcore *lc, struct rte_mbuf *m, uint8_t type,
		    uint8_t code, uint32_t param, bool rate_checked);

/* Forget the control thread's buckets (router stop). */
void fp_icmp6_reset(void);

/* A packet for one of our unicast addresses that no local protocol takes:
 * UDP gets Destination Unreachable (port unreachable), an unrecognized next
 * header Parameter Problem (code 1). Returns true when m was taken. */
bool fp_icmp6_local_unreachable(struct fp_lcore *lc, struct rte_mbuf *m);


#endif

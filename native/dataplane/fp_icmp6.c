/*
 * fp_icmp6.c — Echo Reply for the router's own addresses (RFC 4443 4.2),
 * on the control thread.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "fp_icmp6.h"
#include "fp_ip6.h"
#include "fp_router.h"

#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ICMP6_HOP_LIMIT 64 /* the default hop limit a host would use */

/* Is addr one of the router's unicast addresses (any interface)? */
static bool
is_local_address(const uint8_t addr[16])
{
	uint32_t p, a;

	for (p = 0; p < fp_router.nports; p++)
		for (a = 0; a < fp_router.ports[p].naddrs; a++)
			if (memcmp(fp_router.ports[p].addrs[a].addr, addr, 16) == 0)
				return true;
	return false;
}

bool
fp_icmp6_echo_reply(struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip6;
	uint8_t *icmp, tmp[16];
	uint16_t plen;
	uint16_t in_idx = m->port;

	if (m->data_len < FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN + 8 || in_idx >= fp_router.nports)
		return false;
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ip6 = (struct rte_ipv6_hdr *)(eth + 1);
	icmp = (uint8_t *)(ip6 + 1);
	plen = rte_be_to_cpu_16(ip6->payload_len);
	if (ip6->proto != FP_IPPROTO_ICMPV6 || icmp[0] != ICMP6_ECHO_REQUEST)
		return false;
	if (fp_ip6_is_multicast(ip6->dst_addr) || !is_local_address(ip6->dst_addr))
		return false;
	/* A reply never goes to an unspecified or multicast source. */
	if (fp_ip6_is_unspecified(ip6->src_addr) || fp_ip6_is_multicast(ip6->src_addr))
		return false;
	if (plen < 8 || (uint32_t)plen + FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN > m->data_len ||
	    icmp[1] != 0 || rte_ipv6_udptcp_cksum_verify(ip6, icmp) != 0) {
		fp_router.ctl_ctr[FP_CCTR_icmp6_invalid]++;
		return false;
	}
	fp_router.ctl_ctr[FP_CCTR_icmp6_echo_requests]++;

	/* The reply: addresses swapped (our address, the one asked, becomes the
	 * source), type 129, identifier, sequence and data echoed. */
	memcpy(tmp, ip6->src_addr, 16);
	memcpy(ip6->src_addr, ip6->dst_addr, 16);
	memcpy(ip6->dst_addr, tmp, 16);
	ip6->hop_limits = ICMP6_HOP_LIMIT;
	icmp[0] = ICMP6_ECHO_REPLY;
	icmp[2] = icmp[3] = 0;
	{
		uint16_t ck = rte_ipv6_udptcp_cksum(ip6, icmp);
		memcpy(icmp + 2, &ck, 2);
	}
	/* Back to the sender's MAC (Neighbor Discovery will resolve it through
	 * the neighbour table instead), from the port's. */
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&fp_router.ports[in_idx].mac, &eth->src_addr);
	/* Drop Ethernet padding after the ICMPv6 message. */
	if (m->pkt_len > (uint32_t)plen + FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN)
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - plen - FP_ETHER_HDR_LEN - FP_IP6_HDR_LEN));
	fp_router.ctl_ctr[FP_CCTR_icmp6_echo_replies]++;
	return true;
}

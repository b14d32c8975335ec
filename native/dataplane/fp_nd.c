/*
 * fp_nd.c — answer Neighbor Solicitations (RFC 4861 7.1.1, 7.2.3, 7.2.4),
 * on the control thread.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "fp_ip6.h"
#include "fp_nd.h"
#include "fp_router.h"

#define ND_NEIGHBOR_SOLICIT 135
#define ND_NEIGHBOR_ADVERT 136
#define ND_HOP_LIMIT 255
#define ND_OPT_SOURCE_LINKADDR 1
#define ND_OPT_TARGET_LINKADDR 2
#define ND_NA_FLAG_ROUTER 0x80
#define ND_NA_FLAG_SOLICITED 0x40
#define ND_NA_FLAG_OVERRIDE 0x20
#define ND_NS_LEN 24 /* type, code, checksum, reserved, target */
#define ND_NA_LEN 32 /* the same plus one target link-layer option */

/* Is addr one of the addresses of port index p? */
static bool
is_port_address(uint16_t p, const uint8_t addr[16])
{
	uint32_t a;

	for (a = 0; a < fp_router.ports[p].naddrs; a++)
		if (memcmp(fp_router.ports[p].addrs[a].addr, addr, 16) == 0)
			return true;
	return false;
}

/* Validate an NS (7.1.1) and find its source link-layer option.
 * Returns false when the message must be dropped. */
static bool
ns_valid(const struct rte_ipv6_hdr *ip6, const uint8_t *icmp, uint16_t len,
	 const uint8_t **slla)
{
	uint16_t off = ND_NS_LEN;
	bool src_unspec = fp_ip6_is_unspecified(ip6->src_addr);

	*slla = NULL;
	if (ip6->hop_limits != ND_HOP_LIMIT || icmp[1] != 0 || len < ND_NS_LEN ||
	    rte_ipv6_udptcp_cksum_verify(ip6, icmp) != 0 ||
	    fp_ip6_is_multicast(icmp + 8))
		return false;
	while (off + 2 <= len) {
		uint16_t olen = (uint16_t)(icmp[off + 1] * 8);
		if (olen == 0 || off + olen > len)
			return false; /* zero-length or overrunning option */
		if (icmp[off] == ND_OPT_SOURCE_LINKADDR && olen >= 8)
			*slla = icmp + off + 2;
		off = (uint16_t)(off + olen);
	}
	/* DAD probes (from ::) go to a solicited-node group, without SLLAO. */
	if (src_unspec && (!fp_ip6_is_router_group(ip6->dst_addr) || *slla != NULL))
		return false;
	return true;
}

bool
fp_nd_solicitation(struct rte_mbuf *m)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip6;
	uint8_t *icmp, target[16], dst_mac[6];
	const uint8_t *slla;
	uint16_t len, in_idx = m->port;
	bool dad;

	if (m->data_len < FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN + 4 || in_idx >= fp_router.nports)
		return false;
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ip6 = (struct rte_ipv6_hdr *)(eth + 1);
	icmp = (uint8_t *)(ip6 + 1);
	len = rte_be_to_cpu_16(ip6->payload_len);
	if (ip6->proto != FP_IPPROTO_ICMPV6 || icmp[0] != ND_NEIGHBOR_SOLICIT)
		return false;
	if ((uint32_t)len + FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN > m->data_len ||
	    !ns_valid(ip6, icmp, len, &slla)) {
		fp_router.ctl_ctr[FP_CCTR_nd_invalid]++;
		return false;
	}
	fp_router.ctl_ctr[FP_CCTR_nd_ns_in]++;
	memcpy(target, icmp + 8, 16);
	if (!is_port_address(in_idx, target))
		return false; /* not ours: nothing to say (we do not proxy) */

	dad = fp_ip6_is_unspecified(ip6->src_addr);
	if (!dad && slla != NULL && fp_neighbour_learn(ip6->src_addr, in_idx, slla) > 0)
		fp_router.ctl_ctr[FP_CCTR_nd_learned]++;

	/* The advertisement: from the target, to the solicitor (or, answering
	 * DAD, to all nodes), Router and Override set, Solicited unless DAD. */
	if (dad) {
		memcpy(ip6->dst_addr, all_nodes, 16);
		memcpy(dst_mac, (const uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 1 }, 6);
	} else {
		memcpy(ip6->dst_addr, ip6->src_addr, 16);
		memcpy(dst_mac, slla != NULL ? slla : eth->src_addr.addr_bytes, 6);
	}
	memcpy(ip6->src_addr, target, 16);
	ip6->hop_limits = ND_HOP_LIMIT;
	ip6->payload_len = rte_cpu_to_be_16(ND_NA_LEN);
	if (rte_pktmbuf_tailroom(m) + m->data_len < FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN + ND_NA_LEN)
		return false;
	m->data_len = m->pkt_len = FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN + ND_NA_LEN;
	memset(icmp, 0, ND_NA_LEN);
	icmp[0] = ND_NEIGHBOR_ADVERT;
	icmp[4] = ND_NA_FLAG_ROUTER | ND_NA_FLAG_OVERRIDE | (dad ? 0 : ND_NA_FLAG_SOLICITED);
	memcpy(icmp + 8, target, 16);
	icmp[24] = ND_OPT_TARGET_LINKADDR;
	icmp[25] = 1; /* 8 bytes */
	memcpy(icmp + 26, fp_router.ports[in_idx].mac.addr_bytes, 6);
	{
		uint16_t ck = rte_ipv6_udptcp_cksum(ip6, icmp);
		memcpy(icmp + 2, &ck, 2);
	}
	memcpy(eth->dst_addr.addr_bytes, dst_mac, 6);
	rte_ether_addr_copy(&fp_router.ports[in_idx].mac, &eth->src_addr);
	fp_router.ctl_ctr[FP_CCTR_nd_na_out]++;
	return true;
}

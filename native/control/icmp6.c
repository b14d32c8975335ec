/*
 * control/icmp6.c — Echo Reply for the router's own addresses (RFC 4443 4.2),
 * on the control thread.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ring.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "icmp6.h"
#include "udp.h"
#include "../core/ip6.h"
#include "../core/proto.h"
#include "../core/router.h"
#include "ctl.h"

#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ICMP6_HOP_LIMIT 64 /* the default hop limit a host would use */

struct rte_mbuf *
fp_icmp6_alloc(uint16_t p, const uint8_t src[16], const uint8_t dst[16],
	       const uint8_t *dst_mac, uint8_t hop_limit, uint16_t len, uint8_t **icmp)
{
	const struct fp_port *port = &fp_router.ports[p];
	struct rte_mbuf *m = rte_pktmbuf_alloc(fp_router.pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip6;

	if (m == NULL)
		return NULL;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN + len));
	if (eth == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	ip6 = (struct rte_ipv6_hdr *)(eth + 1);
	if (fp_ip6_is_multicast(dst)) {
		/* RFC 2464 7: 33:33 and the group's last four bytes. */
		eth->dst_addr.addr_bytes[0] = 0x33;
		eth->dst_addr.addr_bytes[1] = 0x33;
		memcpy(eth->dst_addr.addr_bytes + 2, dst + 12, 4);
	} else {
		memcpy(eth->dst_addr.addr_bytes, dst_mac, 6);
	}
	rte_ether_addr_copy(&port->mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(FP_ETHERTYPE_IPV6);
	ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip6->payload_len = rte_cpu_to_be_16(len);
	ip6->proto = FP_IPPROTO_ICMPV6;
	ip6->hop_limits = hop_limit;
	memcpy(ip6->src_addr, src, 16);
	memcpy(ip6->dst_addr, dst, 16);
	*icmp = (uint8_t *)(ip6 + 1);
	memset(*icmp, 0, len);
	m->port = p;
	return m;
}

void
fp_icmp6_checksum(struct rte_mbuf *m)
{
	struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, FP_ETHER_HDR_LEN);
	uint8_t *icmp = (uint8_t *)(ip6 + 1);
	uint16_t ck;

	icmp[2] = icmp[3] = 0;
	ck = rte_ipv6_udptcp_cksum(ip6, icmp);
	memcpy(icmp + 2, &ck, 2);
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
	if (fp_ip6_is_multicast(ip6->dst_addr) || !fp_addr_is_local_usable(ip6->dst_addr))
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
	/* Addressed for the link it came in on (what a link-local destination
	 * needs); fp_ctl_output() routes any other destination. */
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&fp_router.ports[in_idx].mac, &eth->src_addr);
	/* Drop Ethernet padding after the ICMPv6 message. */
	if (m->pkt_len > (uint32_t)plen + FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN)
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - plen - FP_ETHER_HDR_LEN - FP_IP6_HDR_LEN));
	fp_router.ctl_ctr[FP_CCTR_icmp6_echo_replies]++;
	return true;
}

/* ---- errors (RFC 4443 2.4) ------------------------------------------------ */

#define ICMP6_PACKET_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_ERROR_MAX_PACKET 1280 /* IPv6 minimum MTU: errors fit in it */

/* Buckets for the errors the control thread decides on (address and port
 * unreachable, parameter problem), one per punting lcore; those the lcores
 * decide on were limited by the lcore's own bucket already. */
static struct fp_tokens ctl_tokens[FP_MAX_WORKERS];

static bool
error_allowed(const struct fp_lcore *lc)
{
	return fp_tokens_take(&ctl_tokens[lc->worker], rte_rdtsc(), rte_get_tsc_hz(),
			      fp_router.icmp_error_rate, fp_router.icmp_error_burst);
}

void
fp_icmp6_reset(void)
{
	memset(ctl_tokens, 0, sizeof(ctl_tokens));
}

void
fp_icmp6_error(struct fp_lcore *lc, struct rte_mbuf *m, uint8_t type, uint8_t code,
	       uint32_t param, bool rate_checked)
{
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv6_hdr *bad = (const struct rte_ipv6_hdr *)(frame + FP_ETHER_HDR_LEN);
	uint16_t in_idx = m->port;
	const uint8_t *src;
	struct rte_mbuf *e;
	uint8_t *icmp;
	uint32_t quote;

	if (in_idx >= fp_router.nports)
		goto drop;
	/* Never about an ICMPv6 error (type < 128), never to multicast or ::. */
	if (fp_ip6_is_multicast(bad->src_addr) || fp_ip6_is_unspecified(bad->src_addr) ||
	    (fp_ip6_is_multicast(bad->dst_addr) && type != ICMP6_PACKET_TOO_BIG) ||
	    (bad->proto == FP_IPPROTO_ICMPV6 && m->data_len > FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN &&
	     frame[FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN] < 128)) {
		fp_router.ctl_ctr[FP_CCTR_icmp6_error_not_allowed]++;
		goto drop;
	}
	/* From the ingress interface's address; built for the ingress link
	 * (to the previous hop's MAC), then routed by fp_ctl_output() unless the
	 * destination is link-local. Looked up before the rate limit, so an
	 * error that cannot be sent takes no token. */
	src = fp_port_source(in_idx, bad->src_addr);
	if (src == NULL) { /* no preferred address on the interface (yet) */
		fp_router.ctl_ctr[FP_CCTR_icmp6_error_no_source]++;
		goto drop;
	}
	if (!rate_checked && !error_allowed(lc)) {
		fp_router.ctl_ctr[FP_CCTR_icmp6_error_suppressed]++;
		goto drop;
	}
	quote = m->data_len - FP_ETHER_HDR_LEN;
	if (quote > ICMP6_ERROR_MAX_PACKET - FP_IP6_HDR_LEN - 8)
		quote = ICMP6_ERROR_MAX_PACKET - FP_IP6_HDR_LEN - 8;
	e = fp_icmp6_alloc(in_idx, src, bad->src_addr, frame + 6,
			   ICMP6_HOP_LIMIT, (uint16_t)(8 + quote), &icmp);
	if (e == NULL)
		goto drop;
	icmp[0] = type;
	icmp[1] = code;
	if (type == ICMP6_PACKET_TOO_BIG || type == 4 /* parameter problem */) {
		uint32_t v = rte_cpu_to_be_32(param); /* MTU, or pointer */
		memcpy(icmp + 4, &v, 4);
	}
	memcpy(icmp + 8, bad, quote);
	{
		/* Errors are labelled as the router's other flows (RFC 6437,
		 * flowlabels.md); ND and MLD keep label 0, as Linux's ndisc. */
		struct rte_ipv6_hdr *eh = rte_pktmbuf_mtod_offset(e, struct rte_ipv6_hdr *,
								   FP_ETHER_HDR_LEN);
		eh->vtc_flow = rte_cpu_to_be_32(6u << 28 | fp_udp_auto_label(eh->src_addr, eh->dst_addr,
									    FP_IPPROTO_ICMPV6, 0, 0));
	}
	fp_icmp6_checksum(e);
	rte_pktmbuf_free(m);
	if (type == ICMP6_TIME_EXCEEDED)
		fp_router.ctl_ctr[FP_CCTR_icmp6_time_exceeded]++;
	else if (type == ICMP6_PACKET_TOO_BIG)
		fp_router.ctl_ctr[FP_CCTR_icmp6_too_big]++;
	else if (type == 4)
		fp_router.ctl_ctr[FP_CCTR_icmp6_param_problem]++;
	else
		fp_router.ctl_ctr[FP_CCTR_icmp6_unreachable]++;
	fp_ctl_output(lc, e);
	return;
drop:
	rte_pktmbuf_free(m);
}

/* ---- packets to us that no local protocol takes ---------------------------- */

#define ICMP6_DST_UNREACH 1
#define ICMP6_PORT_UNREACH 4
#define ICMP6_PARAM_PROB 4
#define ICMP6_PARAM_NEXT_HEADER 1
#define IPPROTO_UDP_ 17

/* Protocols this router does not answer with Parameter Problem: transports
 * it may serve later, and headers handled elsewhere or meaningless here. */
static bool
next_header_known(uint8_t nh)
{
	switch (nh) {
	case 0:  /* hop-by-hop */
	case 6:  /* TCP */
	case 17: /* UDP */
	case 43: /* routing */
	case 44: /* fragment */
	case 50: /* ESP */
	case 51: /* AH */
	case 58: /* ICMPv6 */
	case 59: /* no next header */
	case 60: /* destination options */
		return true;
	default:
		return false;
	}
}

bool
fp_icmp6_local_unreachable(struct fp_lcore *lc, struct rte_mbuf *m)
{
	const struct rte_ipv6_hdr *ip6;

	if (m->data_len < FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN || m->port >= fp_router.nports)
		return false;
	ip6 = rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, FP_ETHER_HDR_LEN);
	if (fp_ip6_is_multicast(ip6->dst_addr) || !fp_addr_is_local_usable(ip6->dst_addr))
		return false;
	if (ip6->proto == IPPROTO_UDP_) {
		/* No UDP service listens here yet: port unreachable (RFC 4443 3.1),
		 * which is also how traceroute learns it reached the router. */
		fp_icmp6_error(lc, m, ICMP6_DST_UNREACH, ICMP6_PORT_UNREACH, 0, false);
		return true;
	}
	if (!next_header_known(ip6->proto)) {
		/* Unrecognized Next Header, pointing at the field (4.2). */
		fp_icmp6_error(lc, m, ICMP6_PARAM_PROB, ICMP6_PARAM_NEXT_HEADER, 6, false);
		return true;
	}
	return false;
}

/* An Echo Request for one of our addresses: answered in place and routed
 * back (fp_ctl_output). */
static bool
icmp6_punt_echo(struct fp_lcore *lc, struct rte_mbuf *m)
{
	if (!fp_icmp6_echo_reply(m))
		return false;
	fp_ctl_output(lc, m);
	return true;
}

static const struct fp_punt_handler icmp6_punt_handlers[] = {
	{ FP_IPPROTO_ICMPV6, ICMP6_ECHO_REQUEST, icmp6_punt_echo },
	{ 0, 0, NULL },
};

static struct fp_proto icmp6_proto = {
	.name = "icmp6",
	.order = FP_PROTO_ORDER_ICMP6,
	.punt = icmp6_punt_handlers,
};
FP_PROTO_REGISTER(icmp6_proto)

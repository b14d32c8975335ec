/*
 * datapath/lcore.c — the worker lcore poll loop (one per worker, l3fwd's shape).
 *
 * Per iteration: run pending commands, rx burst on each queue, classify and
 * forward each vector (flow cache, then a bulk FIB lookup for the misses),
 * flush tx buffers, expire a few flow entries, report QSBR quiescence.
 * Nothing here locks, blocks, makes system calls or allocates.
 *
 * Accounting: every received packet ends in exactly one of forwarded (counted
 * when the tx queue accepts it), punted, or drop_<reason>.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "../core/ecmp.h"
#include "../core/ip6.h"
#include "../core/router.h"
#include "../core/trie6.h"
#include "siftr_tap.h"

#define FP_EXPIRE_PERIOD_US 100
/* Fewest entries the expiry scan visits per period. */
#define FP_EXPIRE_VISIT_MIN 8
/* Packets between a bucket's prefetch and the read of its head. */
#define FP_PREFETCH_LAG 8
/* Packets ahead whose headers are prefetched. */
#define FP_PREFETCH_AHEAD 4

/* Drop one packet for a reason. */
static inline void
lcore_drop(struct fp_lcore *lc, struct rte_mbuf *m, uint16_t in_idx,
	   enum fp_drop_reason reason)
{
	lc->drop[reason]++;
	lc->ctr[FP_CTR_dropped]++;
	lc->port_ctr[in_idx][FP_PCTR_idrops]++;
	rte_pktmbuf_free(m);
}

/* Hand a packet to the control thread. m->hash.usr says why: 0 for a
 * packet to the router itself, else the FIB next hop whose neighbour is
 * unresolved (the control thread holds the packet and solicits). */
static inline void
lcore_punt_for(struct fp_lcore *lc, struct rte_mbuf *m, uint16_t in_idx,
	       uint32_t unresolved_nh)
{
	m->port = in_idx; /* the control thread wants our port index */
	m->hash.usr = unresolved_nh;
	if (unlikely(rte_ring_sp_enqueue(lc->punt_ring, m) != 0)) {
		lcore_drop(lc, m, in_idx, FP_DROP_punt_ring_full);
		return;
	}
	lc->ctr[FP_CTR_punted]++;
}

static inline void
lcore_punt(struct fp_lcore *lc, struct rte_mbuf *m, uint16_t in_idx)
{
	lcore_punt_for(lc, m, in_idx, 0);
}

/* Drop a packet for a reason that deserves an ICMPv6 error (RFC 4443), and
 * give it to the control thread to quote in that error. It counts as
 * dropped, not punted: the error is a new packet. A full ring only loses
 * the error. */
static inline void
lcore_drop_with_error(struct fp_lcore *lc, struct rte_mbuf *m, uint16_t in_idx,
		      enum fp_drop_reason reason, uint8_t type, uint8_t code,
		      uint16_t param)
{
	lc->drop[reason]++;
	lc->ctr[FP_CTR_dropped]++;
	lc->port_ctr[in_idx][FP_PCTR_idrops]++;
	/* The rate limit is applied here, before the punt ring: a flood of
	 * expiring packets costs the control thread nothing. */
	if (!fp_tokens_take(&lc->icmp_tokens, rte_rdtsc(), lc->tsc_hz,
			    fp_router.icmp_error_rate, fp_router.icmp_error_burst)) {
		lc->ctr[FP_CTR_icmp6_error_ratelimited]++;
		rte_pktmbuf_free(m);
		return;
	}
	m->port = in_idx;
	m->hash.usr = FP_PUNT_ICMP6_ERROR(type, code, param);
	if (unlikely(rte_ring_sp_enqueue(lc->punt_ring, m) != 0))
		rte_pktmbuf_free(m);
}

static inline void
lcore_drop_time_exceeded(struct fp_lcore *lc, struct rte_mbuf *m, uint16_t in_idx)
{
	lcore_drop_with_error(lc, m, in_idx, FP_DROP_hop_limit, 3, 0, 0);
}

static inline void
lcore_drop_too_big(struct fp_lcore *lc, struct rte_mbuf *m, uint16_t in_idx,
		   uint16_t mtu)
{
	lcore_drop_with_error(lc, m, in_idx, FP_DROP_mtu_exceeded, 2, 0, mtu);
}

/* Tag a frame for a VLAN sub-interface: the parent's PMD inserts the
 * 802.1Q header where it can, else it is inserted here (rte_vlan_insert
 * moves the MACs 4 bytes into the headroom). False when it cannot be. */
static __rte_noinline bool
lcore_vlan_tag(struct rte_mbuf **m, const struct fp_port *vlan)
{
	(*m)->vlan_tci = vlan->vlan_id;
	if (fp_router.ports[vlan->parent].hw_vlan_insert) {
		(*m)->ol_flags |= RTE_MBUF_F_TX_VLAN;
		return true;
	}
	return rte_vlan_insert(m) == 0;
}

/* Send the buffered packets of one port; what the PMD refuses is dropped. */
static inline void
lcore_tx_flush(struct fp_lcore *lc, uint16_t out_idx)
{
	struct fp_txbuf *tb = &lc->tx[out_idx];
	const struct fp_port *out = &fp_router.ports[out_idx];
	uint64_t bytes = tb->bytes;
	uint16_t sent, i;

	if (unlikely(out->kind != FP_IF_PORT)) {
		/* A VLAN's frames leave tagged through its parent; a loopback
		 * sends nothing (no route makes it an egress). */
		uint16_t k = 0;
		for (i = 0; i < tb->n; i++) {
			if (out->kind == FP_IF_VLAN && lcore_vlan_tag(&tb->pkts[i], out)) {
				tb->pkts[k++] = tb->pkts[i];
				continue;
			}
			bytes -= tb->pkts[i]->pkt_len;
			lc->drop[FP_DROP_tx_full]++;
			lc->ctr[FP_CTR_dropped]++;
			lc->port_ctr[out_idx][FP_PCTR_oerrors]++;
			rte_pktmbuf_free(tb->pkts[i]);
		}
		tb->n = k;
	}
	sent = rte_eth_tx_burst(out->port_id,
				lc->txq[out_idx], tb->pkts, tb->n);
	for (i = sent; i < tb->n; i++) {
		bytes -= tb->pkts[i]->pkt_len;
		lc->drop[FP_DROP_tx_full]++;
		lc->ctr[FP_CTR_dropped]++;
		lc->port_ctr[out_idx][FP_PCTR_oerrors]++;
		rte_pktmbuf_free(tb->pkts[i]);
	}
	lc->ctr[FP_CTR_forwarded] += sent;
	lc->ctr[FP_CTR_tx_packets] += sent;
	lc->ctr[FP_CTR_tx_bytes] += bytes;
	lc->port_ctr[out_idx][FP_PCTR_opackets] += sent;
	lc->port_ctr[out_idx][FP_PCTR_obytes] += bytes;
	tb->n = 0;
	tb->bytes = 0;
}

/* Queue a packet for transmission on a port. */
static inline void
lcore_tx_enqueue(struct fp_lcore *lc, struct rte_mbuf *m, uint16_t out_idx)
{
	struct fp_txbuf *tb = &lc->tx[out_idx];

	tb->bytes += m->pkt_len;
	tb->pkts[tb->n++] = m;
	if (unlikely(tb->n == FP_TXBUF))
		lcore_tx_flush(lc, out_idx);
}

/*
 * The hit loop's output, queued per egress port after the loop. Queueing in
 * the loop itself costs either a store-reload chain per packet (the port's
 * count in memory) or, keeping the count in a register, a data-dependent
 * branch whenever consecutive packets leave by different ports — taken at
 * random under ECMP over two ports, mispredicted about half the time. Here
 * the loop only fills two local arrays; when every packet of the vector
 * leaves by one port (the common case) they go to its buffer in one copy.
 */
static inline void
lcore_tx_gather(struct fp_lcore *lc, struct rte_mbuf **pkts,
		const uint16_t *ports, uint16_t n, uint32_t bytes)
{
	uint16_t p, i, mixed = 0;
	struct fp_txbuf *tb;

	if (n == 0)
		return;
	p = ports[0];
	for (i = 1; i < n; i++)
		mixed |= ports[i] ^ p;
	if (unlikely(mixed != 0)) {
		for (i = 0; i < n; i++)
			lcore_tx_enqueue(lc, pkts[i], ports[i]);
		return;
	}
	tb = &lc->tx[p];
	if (tb->n + n > FP_TXBUF)
		lcore_tx_flush(lc, p);
	memcpy(&tb->pkts[tb->n], pkts, n * sizeof(pkts[0]));
	tb->n = (uint16_t)(tb->n + n);
	tb->bytes += bytes;
}

/* The forwarding step proper: hop limit, then L2. The ethertype stays
 * IPv6; the source is the egress port's MAC. Both paths then queue what
 * they forward with lcore_tx_gather. */
static inline void
lcore_rewrite(uint8_t *eth, const uint8_t dst_mac[6], uint16_t out_port)
{
	eth[FP_ETHER_HDR_LEN + FP_IP6_OFF_HLIM]--;
	memcpy(eth, dst_mac, 6);
	memcpy(eth + 6, fp_router.ports[out_port].mac.addr_bytes, 6);
}

/* Has the interface joined this group (control/mld.c)? Read under the port's
 * sequence lock. */
static inline bool
lcore_mcast_joined(const struct fp_port *port, const uint8_t *g)
{
	uint32_t s1, s2, i;
	bool hit;

	do {
		s1 = __atomic_load_n(&port->mcast_seq, __ATOMIC_ACQUIRE);
		hit = false;
		for (i = 0; i < port->nmcast && i < FP_MAX_MCAST; i++)
			if (memcmp(port->mcast[i], g, 16) == 0)
				hit = true;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&port->mcast_seq, __ATOMIC_RELAXED);
	} while ((s1 & 1) || s1 != s2);
	return hit;
}

/*
 * Classify a frame the fast check did not pass: find the drop reason, punt
 * what is for us, trim Ethernet padding. Returns true when the packet may
 * still be forwarded.
 */
static __rte_noinline bool
lcore_classify_slow(struct fp_lcore *lc, struct rte_mbuf *m, uint16_t in_idx)
{
	const struct fp_port *port = &fp_router.ports[in_idx];
	uint8_t *eth = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip6 = eth + FP_ETHER_HDR_LEN;
	uint32_t frame_len = m->data_len;
	uint16_t ethertype, plen;

	if (unlikely(frame_len < FP_ETHER_HDR_LEN)) {
		lcore_drop(lc, m, in_idx, FP_DROP_truncated);
		return false;
	}
	ethertype = (uint16_t)(eth[12] << 8 | eth[13]);
	if (ethertype == RTE_ETHER_TYPE_VLAN && port->kind == FP_IF_PORT &&
	    frame_len >= FP_ETHER_HDR_LEN + 4) {
		/* 802.1Q: to the sub-interface of that VLAN id, untagged,
		 * processed after this vector (lcore_vlan_deferred). */
		uint16_t vid = (uint16_t)((eth[14] << 8 | eth[15]) & 0xfff);
		uint8_t sub = __atomic_load_n(&fp_router.vlan_map[in_idx][vid], __ATOMIC_ACQUIRE);
		if (sub == 0 || rte_vlan_strip(m) != 0) {
			lcore_drop(lc, m, in_idx, FP_DROP_vlan_unknown);
			return false;
		}
		lc->vlan_idx[lc->nvlan] = (uint16_t)(sub - 1);
		lc->vlan_pkts[lc->nvlan++] = m;
		return false;
	}
	if (unlikely(ethertype != FP_ETHERTYPE_IPV6)) {
		lc->port_ctr[in_idx][FP_PCTR_noproto]++;
		lcore_drop(lc, m, in_idx, FP_DROP_not_ip6);
		return false;
	}
	/* Unicast for another station (we may be promiscuous). */
	if (unlikely(!(eth[0] & 1) &&
		     memcmp(eth, port->mac.addr_bytes, RTE_ETHER_ADDR_LEN) != 0)) {
		lcore_drop(lc, m, in_idx, FP_DROP_l2_other_host);
		return false;
	}
	if (unlikely(frame_len < FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN)) {
		lcore_drop(lc, m, in_idx, FP_DROP_truncated);
		return false;
	}
	if (unlikely((ip6[0] >> 4) != 6)) {
		lcore_drop(lc, m, in_idx, FP_DROP_bad_version);
		return false;
	}
	plen = (uint16_t)(ip6[FP_IP6_OFF_PLEN] << 8 | ip6[FP_IP6_OFF_PLEN + 1]);
	if (unlikely((uint32_t)plen + FP_IP6_HDR_LEN + FP_ETHER_HDR_LEN !=
		     m->pkt_len)) {
		if ((uint32_t)plen + FP_IP6_HDR_LEN + FP_ETHER_HDR_LEN >
		    m->pkt_len) {
			lcore_drop(lc, m, in_idx, FP_DROP_bad_length);
			return false;
		}
		/* Ethernet padding after a short packet: not ours to send on. */
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - plen -
					       FP_IP6_HDR_LEN - FP_ETHER_HDR_LEN));
	}
	if (unlikely(fp_ip6_is_multicast(ip6 + FP_IP6_OFF_SRC))) {
		lcore_drop(lc, m, in_idx, FP_DROP_src_invalid);
		return false;
	}
	if (unlikely(fp_ip6_is_multicast(ip6 + FP_IP6_OFF_DST))) {
		if (fp_ip6_is_router_group(ip6 + FP_IP6_OFF_DST) ||
		    lcore_mcast_joined(port, ip6 + FP_IP6_OFF_DST))
			lcore_punt(lc, m, in_idx);
		else
			lcore_drop(lc, m, in_idx, FP_DROP_mcast_unjoined);
		return false;
	}
	/* Hop-by-hop options must be examined by every router: slow path. */
	if (unlikely(ip6[FP_IP6_OFF_NXT] == FP_IPPROTO_HOPOPTS)) {
		lcore_punt(lc, m, in_idx);
		return false;
	}
	return true;
}

/*
 * Validate a received frame. Returns true when it should go on to the flow
 * cache / FIB; false when it was dropped or punted. The common case (a
 * single-segment IPv6 frame for our MAC, exact payload length, unicast
 * source and destination, no hop-by-hop header) is one branch-free test;
 * everything else takes lcore_classify_slow().
 */
static inline bool
lcore_classify(struct fp_lcore *lc, struct rte_mbuf *m, uint16_t in_idx,
	       uint64_t port_mac64)
{
	const uint8_t *eth = rte_pktmbuf_mtod(m, const uint8_t *);
	uint64_t w0, w1, w2;
	uint32_t plen;
	bool ok;

	/* Three little-endian words cover Ethernet and IPv6 up to the first
	 * source byte: w0 = bytes 0-7 (destination MAC), w1 = 8-15 (ethertype,
	 * version), w2 = 16-23 (payload length, next header, src[0]). Reads past
	 * a short frame stay inside the mbuf's buffer; the length test below
	 * makes their values irrelevant. */
	memcpy(&w0, eth, 8);
	memcpy(&w1, eth + 8, 8);
	memcpy(&w2, eth + 16, 8);
	plen = __builtin_bswap16((uint16_t)(w2 >> 16));
	ok = (m->data_len >= FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN) &
	     (((w0 ^ port_mac64) & 0xffffffffffffull) == 0) &
	     /* ethertype 86dd at bytes 12-13, version 6 in byte 14's high nibble */
	     ((w1 & 0x00f0ffff00000000ull) == 0x0060dd8600000000ull) &
	     (plen + FP_IP6_HDR_LEN + FP_ETHER_HDR_LEN == m->pkt_len) &
	     (((w2 >> 32) & 0xff) != FP_IPPROTO_HOPOPTS) &  /* next header */
	     (((w2 >> 48) & 0xff) != 0xff) &                /* src multicast */
	     (eth[FP_ETHER_HDR_LEN + FP_IP6_OFF_DST] != 0xff); /* dst multicast */
	if (likely(ok))
		return true;
	return lcore_classify_slow(lc, m, in_idx);
}

/* lcore_resolve(): the next hop has no usable link-layer address. */
#define FP_RESOLVE_UNRESOLVED (-2)

/* Resolve a FIB next hop to an action; returns -1 when ok, a drop reason, or
 * FP_RESOLVE_UNRESOLVED (the control thread will solicit). */
static inline int
lcore_resolve(struct fp_lcore *lc, uint32_t nh, const uint8_t *dst,
	      struct fp_flow_action *act)
{
	const struct fp_neigh_table *nt = &fp_router.neigh;
	const struct fp_port *out;
	uint32_t type = nh & FP_NH_TYPE_MASK;
	int idx;
	uint8_t state;

	if (type == FP_NH_GATEWAY) {
		idx = (int)(nh & FP_NH_INDEX_MASK);
	} else {
		/* Connected: the destination itself is the neighbour. */
		idx = fp_neigh_lookup(nt, dst, (uint16_t)(nh & FP_NH_INDEX_MASK));
		if (idx < 0)
			return FP_RESOLVE_UNRESOLVED;
	}
	const struct fp_neigh *n = &nt->entries[idx];
	state = fp_neigh_read(n, act->dst_mac);
	if (!fp_neigh_usable(state))
		return FP_RESOLVE_UNRESOLVED;
	out = &fp_router.ports[n->port_idx];
	if (unlikely(!out->up))
		return FP_DROP_port_down;
	if (unlikely(out->link_state == FP_LINK_DOWN))
		return FP_DROP_link_down;
	act->out_port = n->port_idx;
	act->out_mtu = out->mtu;
	act->neigh = (uint32_t)idx;
	lc->neigh_used[idx] = 1; /* a reachability hint for NUD */
	return -1;
}

/*
 * ECMP (RFC 6438): pick a member of next-hop group `nh` for this packet.
 * A nonzero flow label hashes with (src, dst); label 0 hashes (src, dst,
 * next header) and the UDP/TCP ports when they directly follow the IPv6
 * header. Out of line: the single-next-hop path never comes here. The group
 * was written before the FIB published the route pointing at it and is
 * not freed before a grace period this burst holds back.
 */
static __rte_noinline uint32_t
lcore_group_pick(const struct rte_mbuf *m, const uint8_t *ip6, uint32_t nh)
{
	return fp_ecmp_pick(&fp_router.fib, nh, ip6, m->data_len - FP_ETHER_HDR_LEN);
}

/* Whether a missed flow gets an entry; counts the ones that do not. */
static inline bool
lcore_admitted(struct fp_lcore *lc, uint32_t hash)
{
	if (likely(fp_flow_admitted(&lc->flowcache->admit, hash)))
		return true;
	lc->ctr[FP_CTR_flow_unadmitted]++;
	return false;
}

/* Slow path for the packets the flow cache did not take. */
static void
lcore_slow_path(struct fp_lcore *lc, struct rte_mbuf **pkts, uint32_t *hashes,
		uint16_t n, uint16_t in_idx, uint32_t gen, uint64_t now)
{
	uint8_t dsts[FP_BURST][16];
	uint32_t nhs[FP_BURST];
	const struct fp_trie6 *fib = fp_fib_active(&fp_router.fib);
	/* The last gateway resolved in this vector: a vector's packets mostly
	 * share a next hop, and resolving it again re-reads the neighbour
	 * under its sequence lock and the egress port. Reusing the answer
	 * within one vector is as if those packets had arrived a little
	 * earlier. */
	uint32_t memo_nh = FP_NH_NONE;
	struct fp_flow_action memo_act;
	int memo_reason = -1;
	struct rte_mbuf *fwd[FP_BURST];
	uint16_t fwd_port[FP_BURST], nfwd = 0;
	uint32_t fwd_bytes = 0;
	uint16_t i;

	for (i = 0; i < n; i++)
		memcpy(dsts[i],
		       rte_pktmbuf_mtod_offset(pkts[i], uint8_t *,
					       FP_ETHER_HDR_LEN + FP_IP6_OFF_DST),
		       16);
	fp_trie6_lookup_bulk(fib, (const uint8_t (*)[16])dsts, nhs, n);
	lc->ctr[FP_CTR_fib_lookups] += n;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *eth = rte_pktmbuf_mtod(m, uint8_t *);
		uint8_t *ip6 = eth + FP_ETHER_HDR_LEN;
		uint32_t nh = nhs[i];
		struct fp_flow_action act;
		bool cacheable = true;
		int reason;

		if (nh == FP_NH_NONE) {
			if (fp_ip6_is_unspec_or_loopback(dsts[i]))
				lcore_drop(lc, m, in_idx, FP_DROP_dst_invalid);
			else /* destination unreachable: no route */
				lcore_drop_with_error(lc, m, in_idx, FP_DROP_no_route, 1, 0, 0);
			continue;
		}
		if ((nh & FP_NH_TYPE_MASK) == FP_NH_LOCAL) {
			lcore_punt(lc, m, in_idx);
			continue;
		}
		if (unlikely(fp_ip6_is_unspec_or_loopback(dsts[i]))) {
			lcore_drop(lc, m, in_idx, FP_DROP_dst_invalid);
			continue;
		}
		if (unlikely(fp_ip6_is_unspecified(ip6 + FP_IP6_OFF_SRC))) {
			lcore_drop(lc, m, in_idx, FP_DROP_src_invalid);
			continue;
		}
		if (unlikely(fp_ip6_is_linklocal(ip6 + FP_IP6_OFF_SRC) ||
			     fp_ip6_is_linklocal(dsts[i]))) {
			lcore_drop(lc, m, in_idx, FP_DROP_scope);
			continue;
		}
		if (unlikely(ip6[FP_IP6_OFF_HLIM] <= 1)) {
			lcore_drop_time_exceeded(lc, m, in_idx);
			continue;
		}
		if (unlikely((nh & FP_NH_TYPE_MASK) == FP_NH_GROUP)) {
			/* The flow cache keys on (src, dst, label): a labelled
			 * flow's choice is cached, so it always takes one path;
			 * an unlabelled one hashes its ports, which the key
			 * lacks, so each packet picks again. */
			cacheable = (ip6[1] & 0x0f) != 0 || ip6[2] != 0 || ip6[3] != 0;
			nh = lcore_group_pick(m, ip6, nh);
		}
		if (nh == memo_nh) {
			act = memo_act;
			reason = memo_reason;
		} else {
			reason = lcore_resolve(lc, nh, dsts[i], &act);
			if ((nh & FP_NH_TYPE_MASK) == FP_NH_GATEWAY) {
				memo_nh = nh;
				memo_act = act;
				memo_reason = reason;
			}
		}
		if (reason == FP_RESOLVE_UNRESOLVED) {
			/* Neighbor Discovery: the control thread holds it and
			 * solicits the next hop (control/nd.c). */
			lc->ctr[FP_CTR_resolve_punted]++;
			lcore_punt_for(lc, m, in_idx, nh);
			continue;
		}
		if (reason >= 0) {
			lcore_drop(lc, m, in_idx, (enum fp_drop_reason)reason);
			continue;
		}
		if (unlikely(m->pkt_len - FP_ETHER_HDR_LEN > act.out_mtu)) {
			lcore_drop_too_big(lc, m, in_idx, act.out_mtu);
			continue;
		}
		/* ip6flow_create: after a successful forward, never for ICMPv6;
		 * and under a flood only for the admitted share (struct
		 * fp_flow_admit). */
		if (lc->flowcache->maxflows != 0 && !fp_flow_select_direct(&lc->select) && cacheable &&
		    ip6[FP_IP6_OFF_NXT] != FP_IPPROTO_ICMPV6 &&
		    lcore_admitted(lc, hashes[i])) {
			struct fp_flow_key key;
			struct fp_flow_entry *e;

			fp_flow_key_from_ip6(&key, ip6, in_idx);
			e = fp_flowcache_insert(lc->flowcache, &key, hashes[i],
						&act, gen, now);
			if (e != NULL)
				fp_flow_hit(e, fp_flow_tick(now));
		}
		lcore_rewrite(eth, act.dst_mac, act.out_port);
		fwd[nfwd] = m;
		fwd_port[nfwd++] = act.out_port;
		fwd_bytes += m->pkt_len;
	}
	lcore_tx_gather(lc, fwd, fwd_port, nfwd, fwd_bytes);
}

/* Read packet i's bucket head and prefetch the entry it points to. */
static inline void
lcore_prefetch_entry(const struct fp_flowcache *fc, const uint32_t *hashes,
		     uint32_t *heads, uint16_t i, uint32_t admit_shift)
{
	/* Under a flood a flow outside the admitted share has no entry to
	 * find (what an earlier, wider share left of it goes idle and
	 * expires): an empty chain sends it to the slow path without a bucket
	 * or entry read, and the hit loop needs no test of its own. */
	if (unlikely(!fp_flow_in_share(admit_shift, hashes[i]))) {
		heads[i] = FP_FLOW_NONE;
		return;
	}
	heads[i] = fp_flowcache_head(fc, hashes[i]);
	if (heads[i] != FP_FLOW_NONE)
		rte_prefetch0(&fc->entries[heads[i]]);
}

/* Process one received vector from one port, in passes so that memory
 * latency overlaps across the vector instead of stalling each packet:
 * classify, hash and prefetch each flow's bucket (headers prefetched a few
 * packets ahead), reading bucket heads and prefetching their first entries
 * a few packets behind; then look up and forward. (The per-flow lines are cold at high flow counts: between two
 * packets of a flow the rx stream has evicted them.) */
static void
lcore_rx_vector(struct fp_lcore *lc, struct rte_mbuf **pkts, uint16_t n,
		uint16_t in_idx, uint32_t gen, uint64_t now, bool sub)
{
	struct rte_mbuf *valid[FP_BURST], *miss[FP_BURST];
	uint32_t label_port[FP_BURST];
	uint32_t hashes[FP_BURST], heads[FP_BURST], miss_hash[FP_BURST];
	struct fp_flowcache *fc = lc->flowcache;
	const bool direct = fp_flow_select_direct(&lc->select);
	bool cache_on = fc->maxflows != 0 && !direct;
	const uint32_t tick = fp_flow_tick(now);
	/* Read once: the hit loop's stores could alias it. */
	const uint32_t admit_shift = fc->admit.shift;
	const uint64_t port_mac64 = fp_router.ports[in_idx].mac64;
	uint64_t bytes = 0, hits = 0, misses = 0, stale = 0;
	uint16_t nvalid = 0, nmiss = 0, i;

	/* Prefetch headers a few packets ahead (l3fwd's PREFETCH_OFFSET): a
	 * NIC's DMA leaves them outside L1; a separate pass costs more. */
	for (i = 0; i < n && i < FP_PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (i + FP_PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + FP_PREFETCH_AHEAD], void *));
		bytes += m->pkt_len;
		if (!lcore_classify(lc, m, in_idx, port_mac64))
			continue;
		if (cache_on) {
			const uint8_t *ip6 = rte_pktmbuf_mtod_offset(m, uint8_t *,
								      FP_ETHER_HDR_LEN);
			label_port[nvalid] = fp_flow_label_port(ip6, in_idx);
			hashes[nvalid] = fp_flowcache_hash_ip6(ip6, label_port[nvalid]);
			rte_prefetch0(fp_flowcache_bucket(fc, hashes[nvalid]));
			/* The bucket prefetched FP_PREFETCH_LAG packets ago has
			 * had time to arrive: read it, prefetch its entry. */
			if (nvalid >= FP_PREFETCH_LAG)
				lcore_prefetch_entry(fc, hashes, heads,
						     nvalid - FP_PREFETCH_LAG, admit_shift);
		}
		valid[nvalid++] = m;
	}
	/* SIFTR: the one test per vector while it is off. */
	if (unlikely(lc->siftr.table != NULL) && nvalid > 0)
		fp_siftr_tap(lc, valid, nvalid, now);
	if (!sub) { /* a sub-interface's frames were counted by the lcore once */
		lc->ctr[FP_CTR_rx_packets] += n;
		lc->ctr[FP_CTR_rx_bytes] += bytes;
	}
	lc->port_ctr[in_idx][FP_PCTR_ipackets] += n;
	lc->port_ctr[in_idx][FP_PCTR_ibytes] += bytes;

	if (!cache_on) {
		if (direct)
			lc->ctr[FP_CTR_flow_direct] += nvalid;
		if (nvalid > 0)
			lcore_slow_path(lc, valid, hashes, nvalid, in_idx, gen, now);
		return;
	}

	for (i = nvalid > FP_PREFETCH_LAG ? nvalid - FP_PREFETCH_LAG : 0; i < nvalid; i++)
		lcore_prefetch_entry(fc, hashes, heads, i, admit_shift);

	struct rte_mbuf *fwd[FP_BURST];
	uint16_t fwd_port[FP_BURST], nfwd = 0;
	uint32_t fwd_bytes = 0;

	for (i = 0; i < nvalid; i++) {
		struct rte_mbuf *m = valid[i];
		uint8_t *eth = rte_pktmbuf_mtod(m, uint8_t *);
		uint8_t *ip6 = eth + FP_ETHER_HDR_LEN;
		struct fp_flow_entry *e;
		const struct fp_flow_adj *adj;
		const struct fp_port *out;

		e = fp_flowcache_lookup_ip6(fc, ip6, label_port[i], heads[i]);
		if (unlikely(e == NULL || e->generation != gen)) {
			stale += e != NULL;
			misses++;
			miss_hash[nmiss] = hashes[i];
			miss[nmiss++] = m;
			continue;
		}
		fp_flow_hit(e, tick);
		adj = fp_flowcache_adj(fc, e);
		out = &fp_router.ports[adj->out_port];
		if (unlikely(ip6[FP_IP6_OFF_HLIM] <= 1)) {
			e->dropped++;
			lcore_drop_time_exceeded(lc, m, in_idx);
			continue;
		}
		if (unlikely(m->pkt_len - FP_ETHER_HDR_LEN > out->mtu)) {
			e->dropped++;
			lcore_drop_too_big(lc, m, in_idx, out->mtu);
			continue;
		}
		if (unlikely(!out->up)) {
			e->dropped++;
			lcore_drop(lc, m, in_idx, FP_DROP_port_down);
			continue;
		}
		hits++;
		lcore_rewrite(eth, adj->dst_mac, adj->out_port);
		fwd[nfwd] = m;
		fwd_port[nfwd++] = adj->out_port;
		fwd_bytes += m->pkt_len;
	}
	lcore_tx_gather(lc, fwd, fwd_port, nfwd, fwd_bytes);
	lc->ctr[FP_CTR_flow_hit] += hits;
	lc->ctr[FP_CTR_flow_miss] += misses;
	lc->ctr[FP_CTR_flow_stale] += stale;
	if (nmiss > 0)
		lcore_slow_path(lc, miss, miss_hash, nmiss, in_idx, gen, now);
}

/* The 802.1Q frames of the last vector, untagged: each group goes through
 * the vector path again as received on its sub-interface. */
static __rte_noinline void
lcore_vlan_deferred(struct fp_lcore *lc, uint32_t gen, uint64_t now)
{
	struct rte_mbuf *group[FP_BURST];
	uint16_t n = lc->nvlan, done = 0, i, k;
	bool taken[FP_BURST] = { false };

	lc->nvlan = 0;
	while (done < n) {
		uint16_t idx = UINT16_MAX;

		for (i = 0, k = 0; i < n; i++) {
			if (taken[i])
				continue;
			if (idx == UINT16_MAX)
				idx = lc->vlan_idx[i];
			if (lc->vlan_idx[i] == idx) {
				taken[i] = true;
				group[k++] = lc->vlan_pkts[i];
			}
		}
		done = (uint16_t)(done + k);
		if (unlikely(!fp_router.ports[idx].up)) {
			lc->port_ctr[idx][FP_PCTR_ipackets] += k;
			for (i = 0; i < k; i++)
				lcore_drop(lc, group[i], idx, FP_DROP_port_down);
			continue;
		}
		lcore_rx_vector(lc, group, k, idx, gen, now, true);
	}
}

/* Send what the control thread queued for this lcore, each packet on the
 * port it names (m->port: a port index), through this lcore's tx queue. */
static void
lcore_ctl_tx(struct fp_lcore *lc)
{
	struct rte_mbuf *pkts[FP_BURST];
	unsigned n, i;

	n = rte_ring_sc_dequeue_burst(lc->ctl_tx_ring, (void **)pkts, FP_BURST, NULL);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint16_t out_idx = m->port;
		uint32_t len = m->pkt_len;

		if (out_idx < fp_router.nports && fp_router.ports[out_idx].up &&
		    fp_router.ports[out_idx].kind != FP_IF_LOOP &&
		    (fp_router.ports[out_idx].kind == FP_IF_PORT ||
		     lcore_vlan_tag(&m, &fp_router.ports[out_idx])) &&
		    rte_eth_tx_burst(fp_router.ports[out_idx].port_id,
				     lc->txq[out_idx], &m, 1) == 1) {
			lc->ctr[FP_CTR_ctl_tx]++;
			lc->port_ctr[out_idx][FP_PCTR_opackets]++;
			lc->port_ctr[out_idx][FP_PCTR_obytes] += len;
			continue;
		}
		lc->ctr[FP_CTR_ctl_tx_full]++;
		rte_pktmbuf_free(m);
	}
}

/* flowCache.mode auto's state as the lcore's counters. */
static void
lcore_select_publish(struct fp_lcore *lc)
{
	const struct fp_flow_select *s = &lc->select;

	lc->ctr[FP_CTR_flow_select_direct] = s->steady == FP_LOOKUP_DIRECT;
	lc->ctr[FP_CTR_flow_select_probes] = s->probes;
	lc->ctr[FP_CTR_flow_select_switches] = s->switches;
	lc->ctr[FP_CTR_flow_select_abandoned] = s->abandoned;
	lc->ctr[FP_CTR_flow_select_cache_cycles] = s->cpp_x16[FP_LOOKUP_CACHE] / 16;
	lc->ctr[FP_CTR_flow_select_direct_cycles] = s->cpp_x16[FP_LOOKUP_DIRECT] / 16;
}

/* Execute commands queued by control operations. */
static void
lcore_run_commands(struct fp_lcore *lc)
{
	void *obj;

	while (rte_ring_sc_dequeue(lc->cmd_ring, &obj) == 0) {
		struct fp_cmd *cmd = obj;

		switch (cmd->type) {
		case FP_CMD_FLOW_FLUSH:
			fp_flowcache_flush(lc->flowcache);
			break;
		case FP_CMD_FLOW_REPLACE:
			fp_flowcache_flush(lc->flowcache);
			cmd->old_mem = lc->flowcache_mem;
			lc->flowcache_mem = cmd->new_mem;
			lc->flowcache = cmd->new_fc;
			break;
		case FP_CMD_FLOW_SNAPSHOT:
			cmd->count = fp_flowcache_snapshot(lc->flowcache, cmd->buf,
							   cmd->max, rte_rdtsc());
			break;
		case FP_CMD_SIFTR_SET: {
			struct fp_siftr_lcore old = lc->siftr;

			lc->siftr = cmd->siftr;
			cmd->siftr = old;
			break;
		}
		case FP_CMD_FLOW_MODE:
			fp_flow_select_enable(&lc->select, cmd->select_auto);
			lcore_select_publish(lc);
			break;
		case FP_CMD_SIFTR_CONFIG:
			if (lc->siftr.table != NULL)
				fp_tcpstat_set_config(lc->siftr.table,
						      &cmd->tcpstat_cfg);
			break;
		}
		lc->ctr[FP_CTR_cmd_handled]++;
		__atomic_store_n(&cmd->done, 1, __ATOMIC_RELEASE);
	}
}

/* Entries the expiry scan visits per period: a whole pass of the table
 * within a quarter of the idle timeout, so an entry goes between 1 and 1.25
 * idle timeouts after its last packet (each hit stamps it; its idleness is
 * seen one pass late at most). Scanning faster buys nothing and costs the packets their cache
 * lines: 64 entries every 100 us was 2.4-3% of the worker at 10k flows
 * (perf); at the defaults (16384 entries, 5 s) this visits 8. */
static inline uint32_t
lcore_expire_visit(const struct fp_lcore *lc, uint64_t period)
{
	uint64_t v = (uint64_t)lc->flowcache->maxflows * period * 4 /
		     (lc->idle_cycles + 1);

	return v < FP_EXPIRE_VISIT_MIN ? FP_EXPIRE_VISIT_MIN : (uint32_t)v + 1;
}

/* flowCache.mode auto: advance the measurement (the lookup it picks is
 * select.current) and publish its figures. A worker without a cache
 * (maxflows 0, or resized to it) has nothing to choose. */
static __rte_noinline void
lcore_select_lookup(struct fp_lcore *lc, uint64_t now)
{
	if (lc->flowcache->maxflows == 0)
		fp_flow_select_restart(&lc->select);
	else
		fp_flow_select_update(&lc->select, now, lc->ctr[FP_CTR_busy_cycles],
				      lc->ctr[FP_CTR_rx_packets], lc->flowcache->inuse);
	lcore_select_publish(lc);
}

int
fp_lcore_main(void *arg)
{
	struct fp_lcore *lc = arg;
	struct rte_mbuf *pkts[FP_BURST];
	const uint64_t expire_period =
		rte_get_tsc_hz() / 1000000 * FP_EXPIRE_PERIOD_US;
	uint64_t next_expire = 0;
	uint16_t q, p;

	rte_rcu_qsbr_thread_register(fp_router.qsbr, lc->worker);
	rte_rcu_qsbr_thread_online(fp_router.qsbr, lc->worker);

	uint64_t busy_since = 0; /* start of the previous iteration, if it was busy */

	while (!__atomic_load_n(&fp_router.stop_workers, __ATOMIC_RELAXED)) {
		/* One TSC read per iteration: it also closes the previous one. */
		uint64_t start = rte_rdtsc();
		uint32_t gen = fp_generation_load();
		uint32_t received = 0;

		if (unlikely(!rte_ring_empty(lc->cmd_ring)))
			lcore_run_commands(lc);
		if (unlikely(!rte_ring_empty(lc->ctl_tx_ring)))
			lcore_ctl_tx(lc);

		for (q = 0; q < lc->nrxq; q++) {
			uint16_t in_idx = lc->rxq[q].port_idx;
			uint16_t n;

			if (unlikely(!fp_router.ports[in_idx].up)) {
				/* A down interface receives nothing: drain and drop. */
				n = rte_eth_rx_burst(lc->rxq[q].port_id,
						     lc->rxq[q].queue, pkts, FP_BURST);
				lc->ctr[FP_CTR_rx_packets] += n;
				lc->port_ctr[in_idx][FP_PCTR_ipackets] += n;
				while (n > 0)
					lcore_drop(lc, pkts[--n], in_idx,
						   FP_DROP_port_down);
				continue;
			}
			n = rte_eth_rx_burst(lc->rxq[q].port_id, lc->rxq[q].queue,
					     pkts, FP_BURST);
			if (n == 0)
				continue;
			received += n;
			lcore_rx_vector(lc, pkts, n, in_idx, gen, start, false);
			if (unlikely(lc->nvlan > 0))
				lcore_vlan_deferred(lc, gen, start);
		}
		for (p = 0; p < fp_router.nports; p++)
			if (lc->tx[p].n > 0)
				lcore_tx_flush(lc, p);

		if (unlikely(start >= next_expire)) {
			/* The cache is aged and judged only while it is the
			 * lookup in force (core/flowselect.h). */
			if (fp_flow_select_cache_steady(&lc->select)) {
				fp_flowcache_expire(lc->flowcache, start, lc->idle_cycles,
						    gen, lcore_expire_visit(lc, expire_period),
						    lc->neigh_used,
						    lc->neigh_used_n);
				if (lc->flowcache->maxflows != 0)
					lc->ctr[FP_CTR_flow_admit_shift] = fp_flowcache_admit_update(
						lc->flowcache, lc->ctr[FP_CTR_flow_hit],
						lc->ctr[FP_CTR_flow_miss]);
			}
			if (lc->select.enabled)
				lcore_select_lookup(lc, start);
			if (lc->siftr.table != NULL)
				fp_siftr_expire(lc, start);
			next_expire = start + expire_period;
		}
		lc->ctr[FP_CTR_loops]++;
		if (busy_since != 0)
			lc->ctr[FP_CTR_busy_cycles] += start - busy_since;
		busy_since = 0;
		if (received > 0) {
			lc->ctr[FP_CTR_busy_loops]++;
			busy_since = start;
		}
		rte_rcu_qsbr_quiescent(fp_router.qsbr, lc->worker);
	}

	for (p = 0; p < fp_router.nports; p++)
		if (lc->tx[p].n > 0)
			lcore_tx_flush(lc, p);
	/* What the control thread queued before the stop (ICMPv6 errors,
	 * released held packets, ND) was counted as sent when queued: send it,
	 * rather than leave it in the ring. Bounded: the control thread may
	 * still be queueing. */
	for (unsigned burst = 0; burst < 64 && !rte_ring_empty(lc->ctl_tx_ring); burst++)
		lcore_ctl_tx(lc);
	lcore_run_commands(lc);
	rte_rcu_qsbr_thread_offline(fp_router.qsbr, lc->worker);
	rte_rcu_qsbr_thread_unregister(fp_router.qsbr, lc->worker);
	return 0;
}

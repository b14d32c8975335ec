/*
 * control/ctl.c — the control thread: consumes the per-lcore punt rings.
 *
 * It is an EAL control thread (rte_ctrl_thread_create: runs on the CPUs no
 * worker uses). It answers ICMPv6 Echo Requests to the router's addresses
 * (control/icmp6.c) and Neighbor Solicitations for them (control/nd.c); everything
 * else punted (other ND, MLD, hop-by-hop...) is counted and freed until the
 * control-plane work handles it (punt_dropped).
 * Replies go back through the punting worker's control tx ring: a port's
 * spare tx queue does not exist on every PMD (af_packet), the workers' do.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "../core/ecmp.h"
#include "../core/ip6.h"
#include "../core/proto.h"
#include "../core/router.h"
#include "../core/trie6.h"
#include "ctl.h"
#include "frag.h"
#include "icmp6.h"
#include "linux.h"
#include "mld.h"
#include "nd.h"

#define FP_CTL_POLL_NS 200000 /* 0.2 ms between empty polls */
#define ND_NEIGHBOR_ADVERT_TYPE 136

void
fp_ctl_send(struct fp_lcore *lc, struct rte_mbuf *m, uint16_t out_idx)
{
	m->port = out_idx;
	/* The router's own packet over the MTU (a large echo reply, a socket
	 * datagram): it is the source, so it fragments (RFC 8200 4.5). */
	if (out_idx < fp_router.nports &&
	    m->pkt_len > FP_ETHER_HDR_LEN + (uint32_t)fp_router.ports[out_idx].mtu) {
		if (!fp_frag_output(lc, m, out_idx)) {
			fp_router.ctl_ctr[FP_CCTR_ctl_too_big]++;
			rte_pktmbuf_free(m);
		}
		return;
	}
	if (rte_ring_sp_enqueue(lc->ctl_tx_ring, m) != 0) {
		fp_router.ctl_ctr[FP_CCTR_ctl_tx_ring_full]++;
		rte_pktmbuf_free(m);
	}
}

void
fp_ctl_output(struct fp_lcore *lc, struct rte_mbuf *m)
{
	const uint8_t *dst = rte_pktmbuf_mtod_offset(m, const uint8_t *,
						     FP_ETHER_HDR_LEN + FP_IP6_OFF_DST);
	uint8_t mac[6];
	uint32_t nh = FP_NH_NONE;
	uint16_t out_idx = 0;
	bool usable = false;
	int idx = -1;

	if (fp_ip6_is_multicast(dst) || fp_ip6_is_linklocal(dst)) {
		fp_ctl_send(lc, m, m->port); /* scoped to the link it was built for */
		return;
	}
	/* Writers of the FIB and the neighbour table hold ctl_lock: holding it
	 * makes this thread a safe reader without joining QSBR. */
	pthread_mutex_lock(&fp_router.ctl_lock);
	if (fp_router.running)
		nh = fp_trie6_lookup(fp_fib_active(&fp_router.fib), dst);
	if ((nh & FP_NH_TYPE_MASK) == FP_NH_GROUP) /* ECMP: as the workers pick */
		nh = fp_ecmp_pick(&fp_router.fib, nh, rte_pktmbuf_mtod_offset(m, uint8_t *,
				  FP_ETHER_HDR_LEN), m->data_len - FP_ETHER_HDR_LEN);
	if (nh != FP_NH_NONE && (nh & FP_NH_TYPE_MASK) != FP_NH_LOCAL) {
		if ((nh & FP_NH_TYPE_MASK) == FP_NH_GATEWAY)
			idx = (int)(nh & FP_NH_INDEX_MASK);
		else
			idx = fp_neigh_lookup(&fp_router.neigh, dst, (uint16_t)(nh & FP_NH_INDEX_MASK));
		if (idx >= 0) {
			const struct fp_neigh *n = &fp_router.neigh.entries[idx];
			usable = fp_neigh_usable(fp_neigh_read(n, mac));
			out_idx = n->port_idx;
		}
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);

	if (nh == FP_NH_NONE || (nh & FP_NH_TYPE_MASK) == FP_NH_LOCAL) {
		fp_router.ctl_ctr[FP_CCTR_ctl_no_route]++;
		rte_pktmbuf_free(m);
		return;
	}
	if (!usable) {
		m->hash.usr = nh;
		fp_nd_resolve(lc, m, true);
		return;
	}
	{
		uint8_t *eth = rte_pktmbuf_mtod(m, uint8_t *);
		memcpy(eth, mac, 6);
		memcpy(eth + 6, fp_router.ports[out_idx].mac.addr_bytes, 6);
	}
	fp_ctl_send(lc, m, out_idx);
}

/* Offer m to the protocol registered for what it carries (core/proto.h):
 * its next header, behind a hop-by-hop header if there is one, and for
 * ICMPv6 its type. */
static bool
ctl_dispatch(struct fp_lcore *lc, struct rte_mbuf *m, bool *mirrored)
{
	const uint8_t *ip6;
	uint16_t proto, off = FP_IP6_HDR_LEN, type = FP_PUNT_ANY_TYPE;

	if (m->data_len < FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN + 8)
		return false;
	ip6 = rte_pktmbuf_mtod_offset(m, const uint8_t *, FP_ETHER_HDR_LEN);
	proto = ip6[FP_IP6_OFF_NXT];
	if (proto == 0) {
		proto = FP_PUNT_HBH | ip6[off];
		off = (uint16_t)(off + 8 * (ip6[off + 1] + 1));
	}
	if ((proto & 0xff) == FP_IPPROTO_ICMPV6) {
		if ((uint32_t)FP_ETHER_HDR_LEN + off + 1 > m->data_len)
			return false;
		type = ip6[off];
		/* The kernel behind a mirror learns its peers' link-layer
		 * addresses from the advertisements fastpath receives. */
		if (type == ND_NEIGHBOR_ADVERT_TYPE)
			*mirrored = fp_mirror_copy(m);
	}
	return fp_proto_punt(lc, m, proto, type);
}

/* One punted packet: answer what the control plane handles, send the answer
 * back through the worker that punted it (its tx queues), drop the rest. */
static void
ctl_handle(struct fp_lcore *lc, struct rte_mbuf *m)
{
	bool mirrored = false;

	if (FP_PUNT_IS_ICMP6_ERROR(m->hash.usr)) {
		uint32_t usr = m->hash.usr;
		fp_icmp6_error(lc, m, (usr >> 24) & 0x7f, (usr >> 16) & 0xff, usr & 0xffff, true);
		return;
	}
	if (m->hash.usr != 0) {
		/* The worker found no link-layer address for its next hop. */
		fp_nd_resolve(lc, m, false);
		return;
	}
	/* Fragments for the router: the rest sees whole datagrams. */
	m = fp_frag_input(lc, m);
	if (m == NULL)
		return;
	if (ctl_dispatch(lc, m, &mirrored))
		return;
	/* No fastpath protocol took it: the kernel behind the interface's
	 * mirror answers it (docs/linux-integration.md), unless it has its
	 * copy already. */
	if (!mirrored && fp_mirror_input(m))
		return;
	if (fp_icmp6_local_unreachable(lc, m))
		return;
	fp_router.ctl_ctr[FP_CCTR_punt_dropped]++;
	rte_pktmbuf_free(m);
}

static void *
ctl_main(void *arg)
{
	struct rte_mbuf *pkts[FP_BURST];
	struct timespec ts = { 0, FP_CTL_POLL_NS };
	(void)arg;

	while (!__atomic_load_n(&fp_router.ctl_stop, __ATOMIC_RELAXED)) {
		unsigned total = 0, w, n, i;
		uint32_t farewell = __atomic_load_n(&fp_router.farewell_req, __ATOMIC_ACQUIRE);

		if (unlikely(farewell != fp_router.farewell_done)) {
			fp_proto_farewell();
			__atomic_store_n(&fp_router.farewell_done, farewell, __ATOMIC_RELEASE);
		}

		for (w = 0; w < fp_router.nworkers; w++) {
			struct fp_lcore *lc = fp_router.lcores[w];

			n = rte_ring_sc_dequeue_burst(lc->punt_ring, (void **)pkts,
						      FP_BURST, NULL);
			fp_router.ctl_ctr[FP_CCTR_punt_received] += n;
			for (i = 0; i < n; i++)
				ctl_handle(lc, pkts[i]);
			total += n;
		}
		fp_proto_timers();
		/* Counted after the burst is handled: a reader that saw the punt
		 * rings empty knows the packets taken before are dealt with
		 * once this moves (tests wait on it instead of sleeping). */
		fp_router.ctl_ctr[FP_CCTR_ctl_loops]++;
		if (total == 0)
			nanosleep(&ts, NULL);
	}
	return NULL;
}

int
fp_ctl_start(struct fp_err *err)
{
	int rc;

	fp_router.ctl_stop = 0;
	/* Addresses become tentative and DAD is scheduled before any worker
	 * receives: an answer to a probe can never find an address that has
	 * not started. (No route changes here: the caller holds ctl_lock.) */
	fp_dad_timers();
	fp_mld_start();
	rc = rte_ctrl_thread_create(&fp_router.ctl_thread, "fp-ctl", NULL,
				    ctl_main, NULL);
	fp_router.ctl_running = rc == 0;
	if (rc != 0)
		return fp_err_set(err, rc > 0 ? rc : -rc,
				  "cannot create the control thread: %s",
				  strerror(rc > 0 ? rc : -rc));
	return 0;
}

void
fp_ctl_stop(void)
{
	if (!fp_router.ctl_running)
		return;
	__atomic_store_n(&fp_router.ctl_stop, 1, __ATOMIC_RELAXED);
	pthread_join(fp_router.ctl_thread, NULL);
	fp_router.ctl_running = false;
	fp_nd_reset();
	fp_nd_ra_reset();
	fp_dad_reset();
	fp_nd_nud_reset();
	fp_icmp6_reset();
	fp_mld_reset();
}

static struct fp_proto ctl_proto = {
	.name = "ctl",
	.order = FP_PROTO_ORDER_CTL,
	.start = fp_ctl_start,
	.stop = fp_ctl_stop,
};
FP_PROTO_REGISTER(ctl_proto)

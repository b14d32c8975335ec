/*
 * datapath/siftr_tap.c — see siftr_tap.h. Runs on a worker lcore only.
 */
#include <string.h>

#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "../core/ip6.h"
#include "../core/router.h"
#include "siftr_tap.h"
#include "tcpstat.h"

/* Extension headers walked to reach TCP; a packet with more is not looked
 * at (no legitimate TCP segment carries that many). */
#define FP_SIFTR_EXT_MAX 4
#define FP_TCP_HDR_LEN 20
/* Table slots the expiry visits per call (every FP_EXPIRE_PERIOD_US). */
#define FP_SIFTR_EXPIRE_VISIT 64

/* The record time: CLOCK_REALTIME at enable plus the TSC since, in us. The
 * split division cannot overflow however long SIFTR runs. */
static inline uint64_t
siftr_now_us(const struct fp_lcore *lc, uint64_t tsc)
{
	uint64_t d = tsc - lc->siftr.base_tsc, hz = lc->tsc_hz;

	return lc->siftr.base_us + d / hz * 1000000 + d % hz * 1000000 / hz;
}

/* Parse the IPv6 packet at ip6 (len bytes in the first segment, plen its
 * payload length) as a TCP segment: 0 and seg filled, or -1 when it is not
 * TCP, is a fragment, or is too short to hold the TCP header. */
static int
siftr_parse(const uint8_t *ip6, uint32_t len, struct fp_tcp_segment *seg)
{
	uint32_t plen = (uint32_t)ip6[4] << 8 | ip6[5];
	uint32_t off = FP_IP6_HDR_LEN;
	uint8_t nh = ip6[6];
	unsigned i;

	for (i = 0; nh != FP_IPPROTO_TCP; i++) {
		uint32_t hlen;

		/* Fragments are not reassembled on the fast path: the
		 * first one alone would give a wrong payload length. */
		if (i == FP_SIFTR_EXT_MAX ||
		    (nh != FP_IPPROTO_HOPOPTS && nh != FP_IPPROTO_ROUTING &&
		     nh != FP_IPPROTO_DSTOPTS) ||
		    off + 2 > len)
			return -1;
		hlen = ((uint32_t)ip6[off + 1] + 1) * 8;
		nh = ip6[off];
		off += hlen;
	}
	if (off + FP_TCP_HDR_LEN > len || off - FP_IP6_HDR_LEN > plen)
		return -1;
	memcpy(seg->src, ip6 + FP_IP6_OFF_SRC, 16);
	memcpy(seg->dst, ip6 + FP_IP6_OFF_DST, 16);
	return fp_tcp_header_parse(ip6 + off, len - off,
				   plen - (off - FP_IP6_HDR_LEN), seg);
}

void
fp_siftr_tap(struct fp_lcore *lc, struct rte_mbuf **pkts, uint16_t n,
	     uint64_t tsc)
{
	struct fp_tcpstat_record recs[FP_BURST];
	struct fp_tcp_segment segs[FP_BURST];
	uint32_t hashes[FP_BURST];
	struct fp_tcpstat *t = lc->siftr.table;
	uint64_t now_us = siftr_now_us(lc, tsc);
	unsigned nseg = 0, nrec = 0, sent, i;

	/* Three passes, as the flow cache does: parse and hash, prefetching
	 * each bucket; prefetch the entry each bucket names; then update. A
	 * table of many connections does not fit a small L2: the misses of a
	 * vector overlap instead of queueing one behind the other. */
	for (i = 0; i < n; i++) {
		const struct rte_mbuf *m = pkts[i];
		const uint8_t *ip6 = rte_pktmbuf_mtod_offset(m, const uint8_t *,
							     FP_ETHER_HDR_LEN);

		if (ip6[6] != FP_IPPROTO_TCP && ip6[6] != FP_IPPROTO_HOPOPTS &&
		    ip6[6] != FP_IPPROTO_ROUTING && ip6[6] != FP_IPPROTO_DSTOPTS)
			continue;
		if (siftr_parse(ip6, m->data_len - FP_ETHER_HDR_LEN, &segs[nseg]) < 0)
			continue;
		hashes[nseg] = fp_tcpstat_hash(&segs[nseg]);
		rte_prefetch0(fp_tcpstat_bucket(t, hashes[nseg]));
		nseg++;
	}
	for (i = 0; i < nseg; i++) {
		const uint8_t *e = (const uint8_t *)fp_tcpstat_first(t, hashes[i]);

		if (e != NULL) {
			rte_prefetch0(e);
			rte_prefetch0(e + RTE_CACHE_LINE_SIZE);
			rte_prefetch0(e + 2 * RTE_CACHE_LINE_SIZE);
			rte_prefetch0(e + 3 * RTE_CACHE_LINE_SIZE);
		}
	}
	for (i = 0; i < nseg; i++)
		if (fp_tcpstat_update_hashed(t, &segs[i], hashes[i], now_us,
					     &recs[nrec]) != 0)
			nrec++;
	if (nrec == 0)
		return;
	sent = rte_ring_sp_enqueue_burst_elem(lc->siftr.ring, recs, sizeof(recs[0]),
					      nrec, NULL);
	for (i = sent; i < nrec; i++)
		fp_tcpstat_note_ring_full(t, &recs[i]);
}

void
fp_siftr_expire(struct fp_lcore *lc, uint64_t tsc)
{
	fp_tcpstat_expire(lc->siftr.table, siftr_now_us(lc, tsc),
			  FP_SIFTR_EXPIRE_VISIT);
}

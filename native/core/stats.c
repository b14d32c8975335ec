/*
 * core/stats.c — the stats snapshot: one array of words read by JS.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <string.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "event.h"
#include "router.h"

/*
 * Snapshot layout (uint64 words):
 *   [0] tsc_hz  [1] tsc now  [2] generation  [3] nworkers  [4] nports
 *   [5 .. 5+CTL)                       control-thread counters
 *   FIB (FP_FIB_WORDS): routes, routes down, max routes, tbl8 groups, in use, reserved
 *               (both ~0 when unknown), bytes per copy, rebuilds,
 *               last and longest rebuild in ns
 *   resources (FP_RES_WORDS + nworkers x FP_RES_WORKER_WORDS): packet
 *               buffers of the main pool (size, in use) and of the other
 *               fastpath pools (the 64 KiB one for fragments: size, in
 *               use), the event ring (used, size); per worker its punt,
 *               control-tx and SIFTR rings' used slots
 *   per worker: lcore_id, lcore counters, drop reasons, nports x port counters
 *   per port:   ethdev ipackets, opackets, ibytes, obytes, imissed,
 *               ierrors, oerrors, rx_nombuf
 */
#define FP_STATS_HDR 5
#define FP_ETHDEV_WORDS 8
#define FP_FIB_WORDS 10
#define FP_RES_WORDS 6
#define FP_RES_WORKER_WORDS 3

size_t
fp_stats_size(void)
{
	size_t per = 1 + FP_LCORE_CTR_MAX + FP_DROP_MAX +
		     (size_t)fp_router.nports * FP_PORT_CTR_MAX;
	return FP_STATS_HDR + FP_CTL_CTR_MAX + FP_FIB_WORDS + FP_RES_WORDS +
	       fp_router.nworkers * (FP_RES_WORKER_WORDS + per) +
	       (size_t)fp_router.nports * FP_ETHDEV_WORDS;
}

/* Packet-buffer pools of fastpath's own other than the main one: buffers
 * and buffers in use (what a leak would grow), summed. */
struct pool_sum {
	uint64_t size, in_use;
};

static void
pool_add(struct rte_mempool *mp, void *arg)
{
	struct pool_sum *sum = arg;

	if (mp == fp_router.pool || strncmp(mp->name, "fp_", 3) != 0 ||
	    mp->private_data_size < sizeof(struct rte_pktmbuf_pool_private))
		return;
	sum->size += mp->size;
	sum->in_use += rte_mempool_in_use_count(mp);
}

static unsigned
ring_used(const struct rte_ring *r)
{
	return r != NULL ? rte_ring_count(r) : 0;
}

size_t
fp_stats_snapshot(uint64_t *out, size_t max)
{
	struct fp_fib_stats fs;
	size_t n = 0, need;
	uint32_t w, p;

	pthread_mutex_lock(&fp_router.ctl_lock);
	need = fp_stats_size();
	if (!fp_router.running || max < need) {
		pthread_mutex_unlock(&fp_router.ctl_lock);
		return 0;
	}
	out[n++] = rte_get_tsc_hz();
	out[n++] = rte_rdtsc();
	out[n++] = fp_generation_load();
	out[n++] = fp_router.nworkers;
	out[n++] = fp_router.nports;
	fp_router.ctl_ctr[FP_CCTR_events_dropped] = fp_event_dropped();
	memcpy(out + n, fp_router.ctl_ctr, sizeof(fp_router.ctl_ctr));
	n += FP_CTL_CTR_MAX;
	fp_fib_get_stats(&fp_router.fib, &fs);
	out[n++] = fs.routes;
	out[n++] = fs.routes_down;
	out[n++] = fs.max_routes;
	out[n++] = fs.tbl8_groups;
	out[n++] = fs.tbl8_in_use;
	out[n++] = fs.bytes_per_copy;
	out[n++] = fs.rebuilds;
	out[n++] = fs.rebuild_last_ns;
	out[n++] = fs.rebuild_max_ns;
	{
		struct pool_sum other = { 0, 0 };

		rte_mempool_walk(pool_add, &other);
		out[n++] = fp_router.pool != NULL ? fp_router.pool->size : 0;
		out[n++] = fp_router.pool != NULL ? rte_mempool_in_use_count(fp_router.pool) : 0;
		out[n++] = other.size;
		out[n++] = other.in_use;
		out[n++] = fp_event_ring_used();
		out[n++] = fp_event_ring_size();
	}
	for (w = 0; w < fp_router.nworkers; w++) {
		const struct fp_lcore *lc = fp_router.lcores[w];

		out[n++] = ring_used(lc->punt_ring);
		out[n++] = ring_used(lc->ctl_tx_ring);
		out[n++] = ring_used(lc->siftr.ring);
	}
	for (w = 0; w < fp_router.nworkers; w++) {
		const struct fp_lcore *lc = fp_router.lcores[w];
		out[n++] = lc->lcore_id;
		memcpy(out + n, lc->ctr, sizeof(lc->ctr));
		n += FP_LCORE_CTR_MAX;
		memcpy(out + n, lc->drop, sizeof(lc->drop));
		n += FP_DROP_MAX;
		for (p = 0; p < fp_router.nports; p++) {
			memcpy(out + n, lc->port_ctr[p], sizeof(lc->port_ctr[p]));
			n += FP_PORT_CTR_MAX;
		}
	}
	for (p = 0; p < fp_router.nports; p++) {
		struct rte_eth_stats st;
		memset(&st, 0, sizeof(st));
		/* Device counters exist for ports; clones have their own only. */
		if (fp_router.ports[p].kind == FP_IF_PORT)
			rte_eth_stats_get(fp_router.ports[p].port_id, &st);
		out[n++] = st.ipackets;
		out[n++] = st.opackets;
		out[n++] = st.ibytes;
		out[n++] = st.obytes;
		out[n++] = st.imissed;
		out[n++] = st.ierrors;
		out[n++] = st.oerrors;
		out[n++] = st.rx_nombuf;
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return n;
}

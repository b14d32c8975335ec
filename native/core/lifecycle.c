/*
 * core/lifecycle.c — router start (two phases) and stop: worker lcores,
 * tables, ports, and the protocols registered in proto.h. Under ctl_lock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "proto.h"
#include "internal.h"
#include "event.h"
#include "router.h"

#define FP_PUNT_RING_SIZE 1024
#define FP_CMD_RING_SIZE 64

/* ---- workers ------------------------------------------------------------ */

static int
lcore_create(unsigned w, unsigned lcore_id, uint32_t maxflows,
	     uint32_t hashsize, struct fp_err *err)
{
	static unsigned instance;
	int socket = (int)rte_lcore_to_socket_id(lcore_id);
	struct fp_lcore *lc;
	char name[RTE_RING_NAMESIZE];
	struct fp_flowcache_counters fcc;
	uint32_t p;
	int rc;

	lc = rte_zmalloc_socket("fp_lcore", sizeof(*lc), RTE_CACHE_LINE_SIZE, socket);
	if (lc == NULL)
		return fp_err_set(err, ENOMEM, "no memory for worker %u", w);
	fp_router.lcores[w] = lc;
	lc->lcore_id = lcore_id;
	lc->worker = w;
	instance++;
	snprintf(name, sizeof(name), "fp_cmd_%u_%u", instance, w);
	lc->cmd_ring = rte_ring_create(name, FP_CMD_RING_SIZE, socket, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "fp_punt_%u_%u", instance, w);
	lc->punt_ring = rte_ring_create(name, FP_PUNT_RING_SIZE, socket,
					RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "fp_ctltx_%u_%u", instance, w);
	lc->ctl_tx_ring = rte_ring_create(name, FP_PUNT_RING_SIZE, socket,
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (lc->cmd_ring == NULL || lc->punt_ring == NULL || lc->ctl_tx_ring == NULL)
		return fp_err_set(err, ENOMEM, "cannot create rings for worker %u: %s",
				  w, rte_strerror(rte_errno));
	lc->tsc_hz = rte_get_tsc_hz();
	lc->neigh_used_n = fp_router.neigh.max;
	lc->neigh_used = rte_zmalloc_socket("fp_neigh_used", lc->neigh_used_n,
					    RTE_CACHE_LINE_SIZE, socket);
	if (lc->neigh_used == NULL)
		return fp_err_set(err, ENOMEM, "no memory for worker %u", w);

	fcc.insert = &lc->ctr[FP_CTR_flow_insert];
	fcc.reap = &lc->ctr[FP_CTR_flow_reap];
	fcc.expire = &lc->ctr[FP_CTR_flow_expire];
	fcc.invalidate = &lc->ctr[FP_CTR_flow_invalidate];
	fcc.folded_uses = &lc->ctr[FP_CTR_flow_folded_uses];
	fcc.folded_forwarded = &lc->ctr[FP_CTR_flow_folded_forwarded];
	fcc.folded_dropped = &lc->ctr[FP_CTR_flow_folded_dropped];
	fcc.inuse = &lc->ctr[FP_CTR_flow_inuse];
	rc = fp_flowcache_build(socket, maxflows, hashsize, &fcc, &lc->flowcache,
				&lc->flowcache_mem, err);
	if (rc < 0)
		return rc;
	lc->idle_cycles = rte_get_tsc_hz() / 1000 * fp_router.flow_idle_ms;
	fp_flow_select_init(&lc->select, fp_router.flow_select_auto, rte_get_tsc_hz());

	/* Queue w of every port is this worker's. */
	for (p = 0; p < fp_router.nphys; p++) {
		lc->rxq[lc->nrxq].port_idx = (uint16_t)p;
		lc->rxq[lc->nrxq].port_id = fp_router.ports[p].port_id;
		lc->rxq[lc->nrxq].queue = (uint16_t)w;
		lc->nrxq++;
	}
	/* Every interface this worker sends on uses its queue w: a VLAN
	 * sends on its parent's. */
	for (p = 0; p < FP_MAX_IFACES; p++)
		lc->txq[p] = (uint16_t)w;
	return 0;
}

static void
lcore_destroy(unsigned w)
{
	struct fp_lcore *lc = fp_router.lcores[w];
	struct rte_mbuf *m;

	if (lc == NULL)
		return;
	if (lc->punt_ring != NULL)
		while (rte_ring_dequeue(lc->punt_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
	if (lc->ctl_tx_ring != NULL)
		while (rte_ring_dequeue(lc->ctl_tx_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
	rte_ring_free(lc->punt_ring);
	rte_ring_free(lc->ctl_tx_ring);
	rte_ring_free(lc->cmd_ring);
	rte_free(lc->flowcache_mem);
	rte_free(lc->neigh_used);
	rte_free(lc);
	fp_router.lcores[w] = NULL;
}

/* ---- start / stop ------------------------------------------------------- */

/* Free everything start created; safe on a half-started router. The
 * control thread must not be running (fp_proto_stop()). */
static void
router_teardown(void)
{
	uint32_t i;

	for (i = 0; i < fp_router.nphys; i++)
		fp_port_release((uint16_t)i);
	for (i = 0; i < FP_MAX_WORKERS; i++)
		lcore_destroy(i);
	memset(&fp_router.ports[0], 0, sizeof(fp_router.ports));
	memset(fp_router.vlan_map, 0, sizeof(fp_router.vlan_map));
	fp_router.nphys = 0;
	if (fp_router.fib.copy[0] != NULL)
		fp_fib_free(&fp_router.fib);
	if (fp_router.neigh.entries != NULL)
		fp_neigh_free(&fp_router.neigh);
	rte_free(fp_router.qsbr);
	fp_router.qsbr = NULL;
	fp_router.nports = 0;
	fp_router.nworkers = 0;
	fp_router.running = false;
	fp_router.launched = false;
}

int
fp_router_start(const struct fp_router_config *cfg, struct fp_err *err)
{
	char msg[FP_ERRMSG_MAX];
	size_t qsz;
	uint32_t i;
	int rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.eal_ready) {
		rc = fp_err_set(err, EINVAL, "EAL is not initialised");
		goto out;
	}
	if (fp_router.running) {
		rc = fp_err_set(err, EBUSY, "a router is already running in this process");
		goto out;
	}
	if (cfg->nworkers == 0 || cfg->nworkers > FP_MAX_WORKERS ||
	    cfg->nports == 0 || cfg->nports > FP_MAX_PORTS) {
		rc = fp_err_set(err, EINVAL, "need 1..%d workers and 1..%d ports",
				FP_MAX_WORKERS, FP_MAX_PORTS);
		goto out;
	}
	for (i = 0; i < cfg->nworkers; i++) {
		unsigned l = cfg->worker_lcores[i];
		if (!rte_lcore_is_enabled(l) || l == rte_get_main_lcore() ||
		    rte_eal_get_lcore_state(l) != WAIT) {
			rc = fp_err_set(err, EINVAL,
					"eal.workers: lcore %u is not an idle worker lcore "
					"of this EAL (EAL was initialised with other lcores?)",
					l);
			goto out;
		}
	}

	memset(fp_router.ports, 0, sizeof(fp_router.ports));
	memset(fp_router.ctl_ctr, 0, sizeof(fp_router.ctl_ctr));
	fp_router.nworkers = cfg->nworkers;
	fp_router.flow_maxflows = cfg->flow_maxflows;
	fp_router.flow_hashsize = cfg->flow_hashsize;
	fp_router.flow_idle_ms = cfg->flow_idle_ms;
	fp_router.flow_admission = cfg->flow_admission;
	fp_router.flow_select_auto = cfg->flow_select_auto;
	fp_router.nd_base_reachable_ms = cfg->nd_base_reachable_ms;
	fp_router.icmp_error_rate = cfg->icmp_error_rate;
	fp_router.icmp_error_burst = cfg->icmp_error_burst;
	fp_router.stop_workers = 0;

	if (fp_router.pool == NULL) {
		fp_router.pool = rte_pktmbuf_pool_create("fp_mbuf", cfg->mbufs,
							 cfg->mbuf_cache, 0,
							 RTE_MBUF_DEFAULT_BUF_SIZE,
							 (int)rte_socket_id());
		if (fp_router.pool == NULL) {
			rc = fp_err_set(err, ENOMEM,
					"mempool.mbufs: cannot create a pool of %u mbufs: %s "
					"(raise eal.memoryMb)",
					cfg->mbufs, rte_strerror(rte_errno));
			goto out;
		}
	}

	if (fp_event_init() < 0) {
		rc = fp_err_set(err, ENOMEM, "cannot create the event queue: %s",
				rte_strerror(rte_errno));
		goto fail;
	}
	qsz = rte_rcu_qsbr_get_memsize(cfg->nworkers);
	fp_router.qsbr = rte_zmalloc("fp_qsbr", qsz, RTE_CACHE_LINE_SIZE);
	if (fp_router.qsbr == NULL ||
	    rte_rcu_qsbr_init(fp_router.qsbr, cfg->nworkers) != 0) {
		rc = fp_err_set(err, ENOMEM, "cannot create the QSBR variable");
		goto fail;
	}
	if (fp_fib_init(&fp_router.fib, cfg->max_routes, cfg->tbl8_groups, fp_router.qsbr, msg,
			sizeof(msg)) < 0) {
		rc = fp_err_set(err, ENOMEM, "%s", msg);
		goto fail;
	}
	if (fp_neigh_init(&fp_router.neigh, cfg->max_neighbours, fp_router.qsbr,
			  msg, sizeof(msg)) < 0) {
		rc = fp_err_set(err, ENOMEM, "%s", msg);
		goto fail;
	}

	for (i = 0; i < cfg->nports; i++) {
		fp_router.nports = i + 1;
		fp_router.nphys = i + 1;
		rc = fp_port_setup((uint16_t)i, &cfg->ports[i], err);
		if (rc < 0)
			goto fail;
	}
	for (i = 0; i < cfg->nports; i++) {
		rc = fp_port_address_routes((uint16_t)i, err);
		if (rc < 0)
			goto fail;
	}
	for (i = 0; i < cfg->nworkers; i++) {
		rc = lcore_create(i, cfg->worker_lcores[i], cfg->flow_maxflows,
				  cfg->flow_hashsize, err);
		if (rc < 0)
			goto fail;
	}
	fp_router.running = true;
	rc = 0;
	goto out;
fail:
	router_teardown();
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_router_launch(struct fp_err *err)
{
	uint32_t i;
	int rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running || fp_router.launched) {
		rc = fp_err_set(err, EINVAL, fp_router.launched ? "already launched"
								 : "no router is configured");
		goto out;
	}
	for (i = 0; i < fp_router.nports; i++) {
		if (i >= fp_router.nphys)
			break;
		rc = fp_port_start((uint16_t)i, err);
		if (rc < 0)
			goto fail;
	}
	rc = fp_proto_start(err);
	if (rc < 0)
		goto fail;
	for (i = 0; i < fp_router.nworkers; i++) {
		rc = rte_eal_remote_launch(fp_lcore_main, fp_router.lcores[i],
					   fp_router.lcores[i]->lcore_id);
		if (rc != 0) {
			unsigned j;
			__atomic_store_n(&fp_router.stop_workers, 1, __ATOMIC_RELAXED);
			for (j = 0; j < i; j++)
				rte_eal_wait_lcore(fp_router.lcores[j]->lcore_id);
			rc = fp_err_set(err, EBUSY, "cannot launch worker on lcore %u",
					fp_router.lcores[i]->lcore_id);
			fp_proto_stop();
			router_teardown();
			goto out;
		}
	}
	fp_router.launched = true;
	rc = 0;
	goto out;
fail:
	router_teardown();
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

/* Before the workers stop, the control thread queues what the router should
 * say as it goes (fp_proto_farewell: final Router Advertisements, so that
 * hosts drop it as their default router now rather than when the lifetime
 * runs out, up to 30 minutes of blackholed traffic later) and the workers
 * send it. Bounded: a control thread that does not answer within
 * FAREWELL_MS costs the farewell, not the stop. Called with ctl_lock held;
 * drops it while waiting (the control thread may need it). */
#define FAREWELL_MS 200

static void
router_farewell(void)
{
	uint64_t deadline = rte_get_tsc_cycles() + rte_get_tsc_hz() / 1000 * FAREWELL_MS;
	uint32_t req = fp_router.farewell_req + 1, w;

	if (!fp_router.ctl_running)
		return;
	__atomic_store_n(&fp_router.farewell_req, req, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&fp_router.ctl_lock);
	while (__atomic_load_n(&fp_router.farewell_done, __ATOMIC_ACQUIRE) != req &&
	       rte_get_tsc_cycles() < deadline)
		rte_delay_us_sleep(1000);
	for (w = 0; w < fp_router.nworkers; w++)
		while (!rte_ring_empty(fp_router.lcores[w]->ctl_tx_ring) &&
		       rte_get_tsc_cycles() < deadline)
			rte_delay_us_sleep(1000);
	pthread_mutex_lock(&fp_router.ctl_lock);
}

int
fp_router_stop(struct fp_err *err)
{
	uint32_t i;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running || fp_router.stopping) {
		pthread_mutex_unlock(&fp_router.ctl_lock);
		return fp_err_set(err, EINVAL, fp_router.running ? "the router is stopping"
							       : "no router is running");
	}
	if (fp_router.launched) {
		fp_router.stopping = true;
		router_farewell();
		__atomic_store_n(&fp_router.stop_workers, 1, __ATOMIC_RELAXED);
		for (i = 0; i < fp_router.nworkers; i++)
			rte_eal_wait_lcore(fp_router.lcores[i]->lcore_id);
		/* From here worker commands are refused, also while the lock
		 * is released to join the control thread. */
		fp_router.launched = false;
		fp_proto_stop();
	}
	router_teardown();
	fp_router.stopping = false;
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return 0;
}

/*
 * core/commands.c — commands to the worker lcores through their command
 * rings, and the flow-cache operations built on them. Under ctl_lock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <unistd.h>

#include <rte_malloc.h>

#include "router.h"

#define FP_CMD_TIMEOUT_US 2000000

/* Callers hold ctl_lock. cmds[] has one command per worker. */
static int
cmd_all_locked(struct fp_cmd *cmds, struct fp_err *err)
{
	uint64_t deadline;
	uint32_t w;

	for (w = 0; w < fp_router.nworkers; w++) {
		cmds[w].done = 0;
		if (rte_ring_mp_enqueue(fp_router.lcores[w]->cmd_ring, &cmds[w]) != 0)
			return fp_err_set(err, EBUSY, "worker %u command ring is full", w);
	}
	deadline = rte_get_timer_cycles() +
		   rte_get_timer_hz() / 1000000 * FP_CMD_TIMEOUT_US;
	for (w = 0; w < fp_router.nworkers; w++) {
		while (!__atomic_load_n(&cmds[w].done, __ATOMIC_ACQUIRE)) {
			if (rte_get_timer_cycles() > deadline)
				/* The command stays queued; never free it. */
				return fp_err_set(err, EBUSY,
						  "worker %u did not answer within %u ms",
						  w, FP_CMD_TIMEOUT_US / 1000);
			usleep(20);
		}
	}
	return 0;
}

int
fp_router_cmd_all(struct fp_cmd *cmds, struct fp_err *err)
{
	int rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	rc = fp_router.launched ? cmd_all_locked(cmds, err)
				: fp_err_set(err, EINVAL, "no router is running");
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_flowcache_build(int socket, uint32_t maxflows, uint32_t hashsize,
		   const struct fp_flowcache_counters *ctr, struct fp_flowcache **fc,
		   void **mem, struct fp_err *err)
{
	*fc = NULL;
	*mem = rte_zmalloc_socket("fp_flowcache",
				  fp_flowcache_memsize(maxflows, hashsize, fp_router.neigh.max),
				  RTE_CACHE_LINE_SIZE, socket);
	if (*mem == NULL)
		return fp_err_set(err, ENOMEM,
				  "flowCache: no memory for %u flows x %u buckets per worker",
				  maxflows, hashsize);
	*fc = fp_flowcache_init(*mem, maxflows, hashsize, fp_router.neigh.max, ctr);
	if (*fc == NULL) {
		rte_free(*mem);
		*mem = NULL;
		return fp_err_set(err, EINVAL,
				  "flowCache.hashsize: %u is not a power of two in 1..%u",
				  hashsize, FP_FLOWCACHE_MAX_HASHSIZE);
	}
	(*fc)->admit.enabled = fp_router.flow_admission;
	return 0;
}

int
fp_flowcache_configure(uint32_t maxflows, uint32_t hashsize, struct fp_err *err)
{
	struct fp_cmd cmds[FP_MAX_WORKERS];
	uint32_t w;
	int rc = 0;

	if (hashsize == 0 || (hashsize & (hashsize - 1)) != 0 ||
	    hashsize > FP_FLOWCACHE_MAX_HASHSIZE)
		return fp_err_set(err, EINVAL,
				  "hashsize: expected a power of two 1..%u, got %u",
				  FP_FLOWCACHE_MAX_HASHSIZE, hashsize);
	if (maxflows > FP_FLOWCACHE_MAX_FLOWS)
		return fp_err_set(err, EINVAL, "maxflows: expected 0..%u, got %u",
				  FP_FLOWCACHE_MAX_FLOWS, maxflows);
	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.launched) {
		rc = fp_err_set(err, EINVAL, "no router is running");
		goto out;
	}
	memset(cmds, 0, sizeof(cmds));
	/* Build every new cache first, so a failure changes nothing. */
	for (w = 0; w < fp_router.nworkers; w++) {
		struct fp_lcore *lc = fp_router.lcores[w];
		int socket = (int)rte_lcore_to_socket_id(lc->lcore_id);
		cmds[w].type = FP_CMD_FLOW_REPLACE;
		rc = fp_flowcache_build(socket, maxflows, hashsize, &lc->flowcache->ctr,
					&cmds[w].new_fc, &cmds[w].new_mem, err);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		for (w = 0; w < fp_router.nworkers; w++)
			rte_free(cmds[w].new_mem);
		goto out;
	}
	rc = cmd_all_locked(cmds, err);
	if (rc == 0) {
		for (w = 0; w < fp_router.nworkers; w++)
			rte_free(cmds[w].old_mem);
		fp_router.flow_maxflows = maxflows;
		fp_router.flow_hashsize = hashsize;
	}
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_flowcache_set_mode(bool select_auto, struct fp_err *err)
{
	struct fp_cmd cmds[FP_MAX_WORKERS];
	uint32_t w;
	int rc;

	memset(cmds, 0, sizeof(cmds));
	for (w = 0; w < FP_MAX_WORKERS; w++) {
		cmds[w].type = FP_CMD_FLOW_MODE;
		cmds[w].select_auto = select_auto;
	}
	rc = fp_router_cmd_all(cmds, err);
	if (rc == 0) /* for a worker's state made later */
		__atomic_store_n(&fp_router.flow_select_auto, select_auto, __ATOMIC_RELAXED);
	return rc;
}

int
fp_flowcache_flush_all(struct fp_err *err)
{
	struct fp_cmd cmds[FP_MAX_WORKERS];
	uint32_t w;

	memset(cmds, 0, sizeof(cmds));
	for (w = 0; w < FP_MAX_WORKERS; w++)
		cmds[w].type = FP_CMD_FLOW_FLUSH;
	return fp_router_cmd_all(cmds, err);
}

int
fp_flowcache_collect(struct fp_flow_info **out, uint32_t **workers,
		     uint32_t *count, struct fp_err *err)
{
	struct fp_cmd cmds[FP_MAX_WORKERS];
	struct fp_flow_info *all;
	uint32_t *who;
	uint32_t w, per, total = 0, i;
	int rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.launched) {
		rc = fp_err_set(err, EINVAL, "no router is running");
		goto out;
	}
	per = fp_router.flow_maxflows;
	all = malloc(sizeof(*all) * (size_t)(per ? per : 1) * fp_router.nworkers);
	who = malloc(sizeof(*who) * (size_t)(per ? per : 1) * fp_router.nworkers);
	if (all == NULL || who == NULL) {
		free(all);
		free(who);
		rc = fp_err_set(err, ENOMEM, "no memory for the flow list");
		goto out;
	}
	memset(cmds, 0, sizeof(cmds));
	for (w = 0; w < fp_router.nworkers; w++) {
		cmds[w].type = FP_CMD_FLOW_SNAPSHOT;
		cmds[w].buf = all + (size_t)w * per;
		cmds[w].max = per;
	}
	rc = cmd_all_locked(cmds, err);
	if (rc < 0) {
		/* A worker may still write into the buffers: leak, don't free. */
		goto out;
	}
	for (w = 0; w < fp_router.nworkers; w++)
		for (i = 0; i < cmds[w].count; i++) {
			all[total] = all[(size_t)w * per + i];
			who[total++] = w;
		}
	*out = all;
	*workers = who;
	*count = total;
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

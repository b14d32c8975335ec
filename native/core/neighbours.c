/*
 * core/neighbours.c — the neighbour table API: static neighbours, flush
 * and listing (entries learned by ND are control/nud.c). Under ctl_lock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "proto.h"
#include "router.h"

int
fp_neighbour_add(const uint8_t addr[16], uint16_t port_idx, const uint8_t mac[6],
		 struct fp_err *err)
{
	int rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running)
		rc = fp_err_set(err, EINVAL, "no router is running");
	else if (port_idx >= fp_router.nports)
		rc = fp_err_set(err, EINVAL, "bad interface index %u", port_idx);
	else {
		rc = fp_neigh_set(&fp_router.neigh, addr, port_idx, mac,
				  FP_NEIGH_PERMANENT);
		if (rc < 0)
			rc = fp_err_set(err, -rc, "cannot add neighbour: %s",
					rc == -ENOSPC ? "neighbour table full"
						      : strerror(-rc));
		else {
			rc = 0;
			fp_router.ctl_ctr[FP_CCTR_neighbour_changes]++;
			fp_generation_bump();
		}
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_neighbour_delete(const uint8_t addr[16], uint16_t port_idx, struct fp_err *err)
{
	int rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running)
		rc = fp_err_set(err, EINVAL, "no router is running");
	else {
		rc = fp_neigh_delete(&fp_router.neigh, addr, port_idx);
		if (rc < 0)
			rc = fp_err_set(err, ENOENT, "no such neighbour");
		else {
			fp_router.ctl_ctr[FP_CCTR_neighbour_changes]++;
			fp_generation_bump();
		}
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_neighbour_flush(uint16_t port_idx, bool all_ports)
{
	uint32_t i;
	int removed = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	for (i = 0; fp_router.running && i < fp_router.neigh.max; i++) {
		const struct fp_neigh *n = &fp_router.neigh.entries[i];
		if (!n->in_use || n->state == FP_NEIGH_PERMANENT || n->state == FP_NEIGH_NONE ||
		    (!all_ports && n->port_idx != port_idx))
			continue;
		if (fp_neigh_delete(&fp_router.neigh, n->addr, n->port_idx) == 0)
			removed++;
	}
	if (removed > 0) {
		fp_router.ctl_ctr[FP_CCTR_neighbour_changes] += (uint64_t)removed;
		fp_generation_bump();
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return removed;
}

uint32_t
fp_neighbour_list(struct fp_neigh_info *out, uint32_t max)
{
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();
	uint32_t i, n = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	for (i = 0; fp_router.running && i < fp_router.neigh.max && n < max; i++) {
		const struct fp_neigh *e = &fp_router.neigh.entries[i];
		if (!e->in_use)
			continue;
		memcpy(out[n].addr, e->addr, 16);
		memcpy(out[n].mac, e->mac, 6);
		out[n].state = e->state;
		out[n].port_idx = e->port_idx;
		out[n].route_refs = e->route_refs;
		out[n].age_ms = (now - e->updated_tsc) * 1000 / hz;
		n++;
	}
	if (fp_router.running && n < max)
		n += fp_proto_neigh_list(out + n, max - n);
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return n;
}

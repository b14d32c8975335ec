/*
 * core/routes.c — the routing table API: static routes added, deleted and
 * listed (the FIB itself is core/fib.c). Under ctl_lock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "router.h"

int
fp_route_add(const uint8_t prefix[16], uint8_t plen, const uint8_t *via,
	     uint16_t port_idx, struct fp_err *err)
{
	struct fp_route r;
	char msg[160];
	int rc, nidx = -1;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running) {
		rc = fp_err_set(err, EINVAL, "no router is running");
		goto out;
	}
	if (port_idx >= fp_router.nports || plen > 128) {
		rc = fp_err_set(err, EINVAL, "bad interface index or prefix length");
		goto out;
	}
	memset(&r, 0, sizeof(r));
	memcpy(r.prefix, prefix, 16);
	r.plen = plen;
	r.kind = FP_ROUTE_STATIC;
	r.port_idx = port_idx;
	if (fp_fib_find(&fp_router.fib, prefix, plen) != NULL) {
		rc = fp_err_set(err, EEXIST, "a route for this prefix exists");
		goto out;
	}
	if (via != NULL) {
		nidx = fp_neigh_get(&fp_router.neigh, via, port_idx, true);
		if (nidx < 0) {
			rc = fp_err_set(err, ENOSPC, "neighbour table full");
			goto out;
		}
		r.has_via = true;
		memcpy(r.via, via, 16);
		r.nexthop = FP_NH_GATEWAY | (uint32_t)nidx;
		fp_router.neigh.entries[nidx].route_refs++;
	} else {
		r.nexthop = FP_NH_CONNECTED | port_idx;
	}
	rc = fp_fib_add(&fp_router.fib, &r, msg, sizeof(msg));
	if (rc < 0) {
		if (nidx >= 0)
			fp_neigh_unref(&fp_router.neigh, (uint32_t)nidx);
		rc = fp_err_set(err, -rc, "cannot add route: %s", msg);
		goto out;
	}
	fp_router.ctl_ctr[FP_CCTR_route_changes]++;
	fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
	fp_generation_bump();
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_route_delete(const uint8_t prefix[16], uint8_t plen, struct fp_err *err)
{
	struct fp_route *r, old;
	int rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running) {
		rc = fp_err_set(err, EINVAL, "no router is running");
		goto out;
	}
	r = fp_fib_find(&fp_router.fib, prefix, plen);
	if (r == NULL) {
		rc = fp_err_set(err, ENOENT, "no route for this prefix");
		goto out;
	}
	if (r->kind != FP_ROUTE_STATIC) {
		rc = fp_err_set(err, EPERM,
				"the route comes from an interface address; remove "
				"the address instead");
		goto out;
	}
	rc = fp_fib_delete(&fp_router.fib, prefix, plen, &old);
	if (rc < 0) {
		rc = fp_err_set(err, -rc, "cannot delete route: %s", strerror(-rc));
		goto out;
	}
	fp_generation_bump();
	if (old.has_via)
		fp_neigh_unref(&fp_router.neigh, old.nexthop & FP_NH_INDEX_MASK);
	fp_router.ctl_ctr[FP_CCTR_route_changes]++;
	fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

uint32_t
fp_route_list(struct fp_route *out, uint32_t max)
{
	uint32_t n = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (fp_router.running) {
		n = fp_router.fib.nroutes < max ? fp_router.fib.nroutes : max;
		memcpy(out, fp_router.fib.routes, sizeof(*out) * n);
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return n;
}

/*
 * core/routes.c — the routing table API: static routes added, deleted and
 * listed (the FIB itself is core/fib.c), and routes that follow link state.
 * Under ctl_lock.
 *
 * Routes follow link state: a route through an interface that cannot carry
 * traffic (administratively down, or its link is down) is withdrawn from the
 * FIB and kept in the route list as down, so the next less specific route
 * takes over, or, with none, the packet gets Destination Unreachable (no
 * route). When the interface comes back, so do its routes. This covers
 * static routes (their dev) and connected prefixes; an interface's local
 * /128s stay (packets to the router's own addresses are punted whatever the
 * link does). Admin changes come from core/iface.c, link changes from
 * control/link.c; both end in fp_routes_follow_links_locked().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "router.h"

/* A restore the FIB refused (tbl8 groups or routes full): retried at the
 * next link change or route delete. Under ctl_lock. */
static bool restore_pending;

bool
fp_iface_routable(uint16_t idx)
{
	const struct fp_port *port;

	if (idx >= fp_router.nports)
		return false;
	port = &fp_router.ports[idx];
	/* Before launch a port is not started (`up` is set when it is) and
	 * its link is UNKNOWN: the config's routes go in as up, and launch
	 * (control/link.c) withdraws those through a link found down. UNKNOWN
	 * counts as up: the data path refuses only a link it knows is down. */
	return port->in_use && (port->up || !fp_router.launched) &&
	       port->link_state != FP_LINK_DOWN;
}

int
fp_routes_follow_links_locked(int going_down)
{
	bool routable[FP_MAX_IFACES];
	uint32_t i, changed = 0;
	char msg[160];

	if (!fp_router.running)
		return 0;
	for (i = 0; i < FP_MAX_IFACES; i++)
		routable[i] = (int)i != going_down && fp_iface_routable((uint16_t)i);
	restore_pending = false;
	/* A state change never moves a route in the list. */
	for (i = 0; i < fp_router.fib.nroutes; i++) {
		struct fp_route *r = &fp_router.fib.routes[i];
		uint8_t want;
		int rc;

		if (r->kind == FP_ROUTE_LOCAL)
			continue;
		want = r->port_idx < FP_MAX_IFACES && routable[r->port_idx] ? FP_ROUTE_UP
									    : FP_ROUTE_DOWN;
		if (r->state == want)
			continue;
		rc = fp_fib_set_state(&fp_router.fib, r->prefix, r->plen, want, msg,
				      sizeof(msg));
		if (rc > 0) {
			changed++;
			fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
			fp_router.ctl_ctr[want == FP_ROUTE_UP ? FP_CCTR_routes_restored
							      : FP_CCTR_routes_withdrawn]++;
		} else if (rc < 0) {
			/* The route keeps its old state: a refused restore
			 * stays down (and is retried), a refused withdrawal
			 * (no memory for a rebuild) stays in the FIB, where
			 * the data path drops toward the down link. */
			fp_router.ctl_ctr[want == FP_ROUTE_UP ? FP_CCTR_routes_restore_failed
							      : FP_CCTR_routes_withdraw_failed]++;
			if (want == FP_ROUTE_UP)
				restore_pending = true;
		}
	}
	/* Flows built on the old routes are rebuilt on their next hit. */
	if (changed > 0)
		fp_generation_bump();
	return (int)changed;
}

int
fp_routes_follow_links(void)
{
	int n;

	pthread_mutex_lock(&fp_router.ctl_lock);
	n = fp_routes_follow_links_locked(-1);
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return n;
}

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
	/* Through a down interface: in the list, not in the FIB. */
	r.state = fp_iface_routable(port_idx) ? FP_ROUTE_UP : FP_ROUTE_DOWN;
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
	if (r.state == FP_ROUTE_UP) {
		fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
		fp_generation_bump();
	}
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
	if (old.state == FP_ROUTE_UP)
		fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
	/* Room freed: a restore the FIB refused may fit now. */
	if (restore_pending)
		fp_routes_follow_links_locked(-1);
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

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

#include "proto.h"
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

bool
fp_route_uses_port(const struct fp_route *r, uint16_t idx)
{
	const struct fp_nhgroup *g;
	unsigned i;

	if (r->nh_count == 0)
		return r->port_idx == idx;
	g = &fp_router.fib.nhg[r->nexthop & FP_NH_INDEX_MASK];
	for (i = 0; i < g->nmembers; i++)
		if (g->members[i].port_idx == idx)
			return true;
	return false;
}

void
fp_route_release_locked(const struct fp_route *old)
{
	const struct fp_nhgroup *g;
	unsigned i;

	if (old->nh_count == 0) {
		if (old->has_via)
			fp_neigh_unref(&fp_router.neigh, old->nexthop & FP_NH_INDEX_MASK);
		return;
	}
	/* The FIB change that removed the route has passed its grace
	 * period: no worker reads the group now. */
	g = &fp_router.fib.nhg[old->nexthop & FP_NH_INDEX_MASK];
	for (i = 0; i < g->nmembers; i++)
		if (g->members[i].has_via)
			fp_neigh_unref(&fp_router.neigh,
				       g->members[i].nexthop & FP_NH_INDEX_MASK);
	fp_nhg_free(&fp_router.fib, old->nexthop & FP_NH_INDEX_MASK);
}

/*
 * A group route after a link change: members through an interface that
 * cannot carry traffic leave the group, those through one that can come
 * back. A different set of up members means a new group (workers may be
 * reading the old one's buckets), the route switched to it through the
 * FIB's commit, and the old group freed after that commit's grace period.
 * No member up: the route is withdrawn (its group keeps the record). Returns
 * 1 when the FIB changed, 0 when nothing did, < 0 when the FIB refused
 * (the route keeps its old group and state).
 */
static int
routes_group_follow(struct fp_route *r, const bool *routable, char *msg, size_t msglen)
{
	struct fp_fib *fib = &fp_router.fib;
	uint32_t old_g = r->nexthop & FP_NH_INDEX_MASK;
	struct fp_nhgroup *og = &fib->nhg[old_g], *ng;
	bool differs = false;
	unsigned i, up = 0;
	int g, rc;

	for (i = 0; i < og->nmembers; i++) {
		uint16_t p = og->members[i].port_idx;
		uint8_t want = p < FP_MAX_IFACES && routable[p] ? FP_ROUTE_UP : FP_ROUTE_DOWN;

		differs |= want != og->members[i].state;
		up += want == FP_ROUTE_UP;
	}
	if (up == 0) {
		if (r->state == FP_ROUTE_DOWN) {
			/* Only the record changes: workers never read members. */
			for (i = 0; i < og->nmembers; i++)
				og->members[i].state = FP_ROUTE_DOWN;
			return 0;
		}
		rc = fp_fib_set_state(fib, r->prefix, r->plen, FP_ROUTE_DOWN, msg, msglen);
		if (rc < 0) {
			fp_router.ctl_ctr[FP_CCTR_routes_withdraw_failed]++;
			return rc;
		}
		for (i = 0; i < og->nmembers; i++)
			og->members[i].state = FP_ROUTE_DOWN;
		fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
		fp_router.ctl_ctr[FP_CCTR_routes_withdrawn]++;
		return 1;
	}
	if (!differs && r->state == FP_ROUTE_UP)
		return 0;
	g = fp_nhg_alloc(fib);
	if (g < 0) {
		fp_router.ctl_ctr[r->state == FP_ROUTE_UP ? FP_CCTR_routes_withdraw_failed
							  : FP_CCTR_routes_restore_failed]++;
		if (r->state == FP_ROUTE_DOWN)
			restore_pending = true;
		return g;
	}
	ng = &fib->nhg[g];
	ng->nmembers = og->nmembers;
	memcpy(ng->members, og->members, sizeof(ng->members));
	for (i = 0; i < ng->nmembers; i++) {
		uint16_t p = ng->members[i].port_idx;

		ng->members[i].state = p < FP_MAX_IFACES && routable[p] ? FP_ROUTE_UP
									: FP_ROUTE_DOWN;
	}
	fp_nhg_fill(ng);
	/* The new group is whole before the route points at it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	rc = fp_fib_set_nexthop(fib, r->prefix, r->plen, FP_NH_GROUP | (uint32_t)g, msg,
				msglen);
	if (rc == 0 && r->state == FP_ROUTE_DOWN) {
		rc = fp_fib_set_state(fib, r->prefix, r->plen, FP_ROUTE_UP, msg, msglen);
		if (rc < 0) {
			r->nexthop = FP_NH_GROUP | old_g;
			restore_pending = true;
		} else {
			fp_router.ctl_ctr[FP_CCTR_routes_restored]++;
		}
	}
	if (rc < 0) {
		fp_router.ctl_ctr[r->state == FP_ROUTE_UP ? FP_CCTR_routes_withdraw_failed
							  : FP_CCTR_routes_restore_failed]++;
		fp_nhg_free(fib, (uint32_t)g);
		return rc;
	}
	/* fib_commit waited the grace period: the old group is unused (a
	 * down route's group was in no copy). */
	fp_nhg_free(fib, old_g);
	fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
	return 1;
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
		if (r->nh_count > 0) {
			rc = routes_group_follow(r, routable, msg, sizeof(msg));
			if (rc > 0)
				changed++;
			continue;
		}
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

void
fp_routes_room_freed_locked(void)
{
	/* A restore the FIB refused may fit now. */
	if (restore_pending)
		fp_routes_follow_links_locked(-1);
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

/* Why a route of another kind may not be changed here. */
int
fp_route_kind_refused(const struct fp_route *r, struct fp_err *err)
{
	if (r->kind == FP_ROUTE_KERNEL)
		return fp_err_set(err, EPERM, "the route is imported from the kernel's "
				  "routing table; change it there");
	if (r->kind != FP_ROUTE_STATIC)
		return fp_err_set(err, EPERM, "the route comes from an interface "
				  "address; remove the address instead");
	return fp_err_set(err, EPERM, "the route is a static route");
}

/* Routes fastpath owns win over imported ones (docs/linux-integration.md):
 * an owned route added where an imported one is takes its place, and the
 * importer is told so that it installs its route again once the prefix is
 * free. Caller holds ctl_lock. */
static void
route_evict_kernel_locked(const uint8_t prefix[16], uint8_t plen, uint8_t kind)
{
	struct fp_route *r = fp_fib_find(&fp_router.fib, prefix, plen);
	struct fp_route old;

	if (kind == FP_ROUTE_KERNEL || r == NULL || r->kind != FP_ROUTE_KERNEL)
		return;
	if (fp_fib_delete(&fp_router.fib, prefix, plen, &old) < 0)
		return; /* the add then says EEXIST */
	fp_generation_bump();
	fp_route_release_locked(&old);
	fp_router.ctl_ctr[FP_CCTR_route_changes]++;
	fp_proto_route_shadowed(prefix, plen);
}

void
fp_route_evict_kernel_locked(const uint8_t prefix[16], uint8_t plen)
{
	route_evict_kernel_locked(prefix, plen, FP_ROUTE_STATIC);
}

int
fp_route_add(const uint8_t prefix[16], uint8_t plen, const uint8_t *via,
	     uint16_t port_idx, struct fp_err *err)
{
	return fp_route_add_kind(prefix, plen, via, port_idx, FP_ROUTE_STATIC, 0, err);
}

int
fp_route_add_kind(const uint8_t prefix[16], uint8_t plen, const uint8_t *via,
		  uint16_t port_idx, uint8_t kind, uint8_t proto, struct fp_err *err)
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
	r.kind = kind;
	r.proto = proto;
	r.port_idx = port_idx;
	/* Through a down interface: in the list, not in the FIB. */
	r.state = fp_iface_routable(port_idx) ? FP_ROUTE_UP : FP_ROUTE_DOWN;
	route_evict_kernel_locked(prefix, plen, kind);
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
	return fp_route_delete_kind(prefix, plen, FP_ROUTE_STATIC, err);
}

int
fp_route_delete_kind(const uint8_t prefix[16], uint8_t plen, uint8_t kind, struct fp_err *err)
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
	if (r->kind != kind) {
		rc = fp_route_kind_refused(r, err);
		goto out;
	}
	rc = fp_fib_delete(&fp_router.fib, prefix, plen, &old);
	if (rc < 0) {
		rc = fp_err_set(err, -rc, "cannot delete route: %s", strerror(-rc));
		goto out;
	}
	fp_generation_bump();
	fp_route_release_locked(&old);
	fp_router.ctl_ctr[FP_CCTR_route_changes]++;
	if (old.state == FP_ROUTE_UP)
		fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
	fp_routes_room_freed_locked();
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_route_add_group(const uint8_t prefix[16], uint8_t plen, const struct fp_route_nh *nhs,
		   unsigned n, struct fp_err *err)
{
	return fp_route_add_group_kind(prefix, plen, nhs, n, FP_ROUTE_STATIC, 0, err);
}

int
fp_route_add_group_kind(const uint8_t prefix[16], uint8_t plen, const struct fp_route_nh *nhs,
			unsigned n, uint8_t kind, uint8_t proto, struct fp_err *err)
{
	struct fp_fib *fib = &fp_router.fib;
	struct fp_nhgroup *ng;
	struct fp_route r;
	char msg[160];
	unsigned i, j, up;
	int rc, g = -1;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running) {
		rc = fp_err_set(err, EINVAL, "no router is running");
		goto out;
	}
	if (plen > 128) {
		rc = fp_err_set(err, EINVAL, "bad prefix length");
		goto out;
	}
	if (n < 2 || n > FP_NHG_MEMBERS) {
		rc = fp_err_set(err, EINVAL, "nexthops: %u next hops (2..%u)", n,
				FP_NHG_MEMBERS);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (nhs[i].port_idx >= fp_router.nports ||
		    !fp_router.ports[nhs[i].port_idx].in_use) {
			rc = fp_err_set(err, EINVAL, "nexthops[%u].dev: no such interface", i);
			goto out;
		}
		if (nhs[i].weight < 1 || nhs[i].weight > FP_NHG_WEIGHT_MAX) {
			rc = fp_err_set(err, EINVAL, "nexthops[%u].weight: %u (1..%u)", i,
					nhs[i].weight, FP_NHG_WEIGHT_MAX);
			goto out;
		}
		for (j = 0; j < i; j++)
			if (nhs[j].port_idx == nhs[i].port_idx &&
			    nhs[j].has_via == nhs[i].has_via &&
			    memcmp(nhs[j].via, nhs[i].via, 16) == 0) {
				rc = fp_err_set(err, EINVAL, "nexthops[%u]: the same next hop "
						"as nexthops[%u]", i, j);
				goto out;
			}
	}
	route_evict_kernel_locked(prefix, plen, kind);
	if (fp_fib_find(fib, prefix, plen) != NULL) {
		rc = fp_err_set(err, EEXIST, "a route for this prefix exists");
		goto out;
	}
	g = fp_nhg_alloc(fib);
	if (g < 0) {
		rc = fp_err_set(err, ENOSPC, "the next-hop groups are exhausted (%u)",
				FP_NHG_MAX);
		goto out;
	}
	ng = &fib->nhg[g];
	for (i = 0; i < n; i++) {
		struct fp_nhg_member *m = &ng->members[i];

		m->port_idx = nhs[i].port_idx;
		m->weight = nhs[i].weight;
		m->state = fp_iface_routable(m->port_idx) ? FP_ROUTE_UP : FP_ROUTE_DOWN;
		if (nhs[i].has_via) {
			int nidx = fp_neigh_get(&fp_router.neigh, nhs[i].via, m->port_idx, true);

			if (nidx < 0) {
				rc = fp_err_set(err, ENOSPC, "neighbour table full");
				goto fail;
			}
			m->has_via = true;
			memcpy(m->via, nhs[i].via, 16);
			m->nexthop = FP_NH_GATEWAY | (uint32_t)nidx;
			fp_router.neigh.entries[nidx].route_refs++;
		} else {
			m->nexthop = FP_NH_CONNECTED | m->port_idx;
		}
		ng->nmembers = (uint8_t)(i + 1);
	}
	up = fp_nhg_fill(ng);
	memset(&r, 0, sizeof(r));
	memcpy(r.prefix, prefix, 16);
	r.plen = plen;
	r.kind = kind;
	r.proto = proto;
	r.port_idx = nhs[0].port_idx;
	r.nh_count = (uint8_t)n;
	r.nexthop = FP_NH_GROUP | (uint32_t)g;
	r.state = up > 0 ? FP_ROUTE_UP : FP_ROUTE_DOWN;
	/* The group is whole before the FIB publishes the route. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	rc = fp_fib_add(fib, &r, msg, sizeof(msg));
	if (rc < 0) {
		rc = fp_err_set(err, -rc, "cannot add route: %s", msg);
		goto fail;
	}
	fp_router.ctl_ctr[FP_CCTR_route_changes]++;
	if (r.state == FP_ROUTE_UP) {
		fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
		fp_generation_bump();
	}
	goto out;
fail:
	/* Nothing published the group. */
	for (i = 0; i < ng->nmembers; i++)
		if (ng->members[i].has_via)
			fp_neigh_unref(&fp_router.neigh, ng->members[i].nexthop & FP_NH_INDEX_MASK);
	fp_nhg_free(fib, (uint32_t)g);
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

uint32_t
fp_route_list_members(struct fp_route *out, struct fp_nhg_member (*members)[FP_NHG_MEMBERS],
		      uint32_t max)
{
	uint32_t n = 0, i;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (fp_router.running) {
		n = fp_router.fib.nroutes < max ? fp_router.fib.nroutes : max;
		memcpy(out, fp_router.fib.routes, sizeof(*out) * n);
		for (i = 0; i < n; i++)
			if (out[i].nh_count > 0)
				memcpy(members[i],
				       fp_router.fib.nhg[out[i].nexthop & FP_NH_INDEX_MASK].members,
				       sizeof(members[i]));
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return n;
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

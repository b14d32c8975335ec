/*
 * core/routes_batch.c — static routes in batches (a full table at routing-
 * protocol speed) and the replacement of a route's next hop. The FIB side
 * is core/fib_batch.c; here are the checks and the neighbour references a
 * route holds. Each call takes ctl_lock once for the whole batch.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdlib.h>

#include "router.h"

/* Check one spec; fill r (state from its interface). */
static int
spec_route(const struct fp_route_spec *s, struct fp_route *r, struct fp_err *err)
{
	if (s->port_idx >= fp_router.nports || !fp_router.ports[s->port_idx].in_use)
		return fp_err_set(err, EINVAL, "no interface with index %u", s->port_idx);
	if (s->plen > 128)
		return fp_err_set(err, EINVAL, "prefix length %u is over 128", s->plen);
	memset(r, 0, sizeof(*r));
	memcpy(r->prefix, s->prefix, 16);
	r->plen = s->plen;
	r->kind = FP_ROUTE_STATIC;
	r->port_idx = s->port_idx;
	r->state = fp_iface_routable(s->port_idx) ? FP_ROUTE_UP : FP_ROUTE_DOWN;
	r->has_via = s->has_via;
	if (s->has_via)
		memcpy(r->via, s->via, 16);
	else
		r->nexthop = FP_NH_CONNECTED | s->port_idx;
	return 0;
}

/* The neighbour entry a gateway route points at, referenced. */
static int
route_take_neigh(struct fp_route *r, struct fp_err *err)
{
	int nidx;

	if (!r->has_via)
		return 0;
	nidx = fp_neigh_get(&fp_router.neigh, r->via, r->port_idx, true);
	if (nidx < 0)
		return fp_err_set(err, ENOSPC, "the neighbour table is full (raise "
				  "neighbourDiscovery.maxNeighbours)");
	r->nexthop = FP_NH_GATEWAY | (uint32_t)nidx;
	fp_router.neigh.entries[nidx].route_refs++;
	return 0;
}

static void
route_drop_neigh(const struct fp_route *r)
{
	if (r->has_via)
		fp_neigh_unref(&fp_router.neigh, r->nexthop & FP_NH_INDEX_MASK);
}

/* A batch's route array, with ctl_lock taken on a running router; NULL
 * (nothing held, *rc the error) otherwise. */
static struct fp_route *
batch_begin(uint32_t n, struct fp_err *err, int *rc)
{
	struct fp_route *routes = malloc((size_t)(n ? n : 1) * sizeof(*routes));

	if (routes == NULL) {
		*rc = fp_err_set(err, ENOMEM, "no memory for a batch of %u routes", n);
		return NULL;
	}
	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running) {
		pthread_mutex_unlock(&fp_router.ctl_lock);
		free(routes);
		*rc = fp_err_set(err, EINVAL, "no router is running");
		return NULL;
	}
	return routes;
}

int
fp_route_add_many(const struct fp_route_spec *specs, uint32_t n, uint32_t *bad,
		  struct fp_err *err)
{
	return fp_route_add_many_kind(specs, n, FP_ROUTE_STATIC, NULL, bad, err);
}

int
fp_route_add_many_kind(const struct fp_route_spec *specs, uint32_t n, uint8_t kind,
		       const uint8_t *protos, uint32_t *bad, struct fp_err *err)
{
	struct fp_route *routes;
	uint32_t i, taken = 0;
	char msg[160];
	int rc = 0;

	*bad = 0;
	routes = batch_begin(n, err, &rc);
	if (routes == NULL)
		return rc;
	for (i = 0; i < n; i++) {
		rc = spec_route(&specs[i], &routes[i], err);
		if (rc == 0) {
			routes[i].kind = kind;
			routes[i].proto = protos != NULL ? protos[i] : 0;
			if (kind != FP_ROUTE_KERNEL)
				fp_route_evict_kernel_locked(specs[i].prefix, specs[i].plen);
			rc = route_take_neigh(&routes[i], err);
		}
		if (rc < 0) {
			*bad = i;
			goto undo;
		}
		taken++;
	}
	rc = fp_fib_add_many(&fp_router.fib, routes, n, bad, msg, sizeof(msg));
	if (rc < 0) {
		rc = fp_err_set(err, -rc, "cannot add route: %s", msg);
		goto undo;
	}
	fp_router.ctl_ctr[FP_CCTR_route_changes] += n;
	fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
	fp_generation_bump();
	goto out;
undo:
	for (i = 0; i < taken; i++)
		route_drop_neigh(&routes[i]);
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	free(routes);
	return rc;
}

int
fp_route_delete_many(const uint8_t (*prefixes)[16], const uint8_t *plens,
		     uint32_t n, uint32_t *bad, struct fp_err *err)
{
	return fp_route_delete_many_kind(prefixes, plens, n, FP_ROUTE_STATIC, bad, err);
}

int
fp_route_delete_many_kind(const uint8_t (*prefixes)[16], const uint8_t *plens, uint32_t n,
			  uint8_t kind, uint32_t *bad, struct fp_err *err)
{
	struct fp_route *old;
	uint32_t i;
	char msg[160];
	int rc = 0;

	*bad = 0;
	old = batch_begin(n, err, &rc);
	if (old == NULL)
		return rc;
	for (i = 0; i < n; i++) {
		const struct fp_route *r;

		if (plens[i] > 128) {
			*bad = i;
			rc = fp_err_set(err, EINVAL, "prefix length %u is over 128", plens[i]);
			goto out;
		}
		r = fp_fib_find(&fp_router.fib, prefixes[i], plens[i]);
		if (r != NULL && r->kind != kind) {
			*bad = i;
			rc = fp_route_kind_refused(r, err);
			goto out;
		}
	}
	rc = fp_fib_delete_many(&fp_router.fib, prefixes, plens, n, old, bad, msg,
				sizeof(msg));
	if (rc < 0) {
		rc = fp_err_set(err, -rc, "cannot delete route: %s", msg);
		goto out;
	}
	fp_generation_bump();
	for (i = 0; i < n; i++)
		fp_route_release_locked(&old[i]);
	fp_router.ctl_ctr[FP_CCTR_route_changes] += n;
	fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
	fp_routes_room_freed_locked();
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	free(old);
	return rc;
}

int
fp_route_replace(const struct fp_route_spec *spec, struct fp_err *err)
{
	return fp_route_replace_kind(spec, FP_ROUTE_STATIC, 0, err);
}

int
fp_route_replace_kind(const struct fp_route_spec *spec, uint8_t kind, uint8_t proto,
		      struct fp_err *err)
{
	struct fp_route nr, old, *r;
	char msg[160];
	int rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running) {
		rc = fp_err_set(err, EINVAL, "no router is running");
		goto out;
	}
	rc = spec_route(spec, &nr, err);
	if (rc < 0)
		goto out;
	nr.kind = kind;
	nr.proto = proto;
	r = fp_fib_find(&fp_router.fib, nr.prefix, nr.plen);
	if (r == NULL) {
		rc = fp_err_set(err, ENOENT, "no route for this prefix");
		goto out;
	}
	if (r->kind != kind) {
		rc = fp_route_kind_refused(r, err);
		goto out;
	}
	rc = route_take_neigh(&nr, err);
	if (rc < 0)
		goto out;
	old = *r;
	if (old.nh_count == 0 && old.state == FP_ROUTE_UP && nr.state == FP_ROUTE_UP) {
		/* The common case: one commit, no moment without the route. */
		rc = fp_fib_set_nexthop(&fp_router.fib, nr.prefix, nr.plen, nr.nexthop,
					msg, sizeof(msg));
		if (rc < 0) {
			route_drop_neigh(&nr);
			rc = fp_err_set(err, -rc, "cannot replace route: %s", msg);
			goto out;
		}
		r = fp_fib_find(&fp_router.fib, nr.prefix, nr.plen);
		r->has_via = nr.has_via;
		memcpy(r->via, nr.via, 16);
		r->port_idx = nr.port_idx;
		r->proto = nr.proto;
		route_drop_neigh(&old);
	} else {
		/* From or to a group, or a state change (an interface down):
		 * the old route out, the new one in; put the old one back if
		 * the FIB refuses the new (it had room for it a moment ago). */
		rc = fp_fib_delete(&fp_router.fib, nr.prefix, nr.plen, &old);
		if (rc == 0)
			rc = fp_fib_add(&fp_router.fib, &nr, msg, sizeof(msg));
		if (rc < 0) {
			char m2[160];

			route_drop_neigh(&nr);
			/* The old route still holds its references. */
			if (fp_fib_find(&fp_router.fib, old.prefix, old.plen) == NULL)
				fp_fib_add(&fp_router.fib, &old, m2, sizeof(m2));
			rc = fp_err_set(err, -rc, "cannot replace route: %s", msg);
			fp_generation_bump();
			goto out;
		}
		fp_route_release_locked(&old);
	}
	fp_router.ctl_ctr[FP_CCTR_route_changes]++;
	fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
	fp_generation_bump();
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

/*
 * fp_fib.c — double-buffered rte_fib6 with a shadow route list; see fp_fib.h.
 * Callers hold fp_router.ctl_lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_fib6.h>
#include <rte_rcu_qsbr.h>

#include "fp_fib.h"

void
fp_prefix_mask(uint8_t out[16], const uint8_t in[16], uint8_t plen)
{
	int i;

	for (i = 0; i < 16; i++) {
		int bits = (int)plen - i * 8;
		uint8_t m = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
		out[i] = in[i] & m;
	}
}

int
fp_fib_init(struct fp_fib *fib, uint32_t max_routes, struct rte_rcu_qsbr *qsbr,
	    char *errmsg, size_t errlen)
{
	static unsigned instance;
	struct rte_fib6_conf conf;
	char name[64];
	int i;

	memset(fib, 0, sizeof(*fib));
	memset(&conf, 0, sizeof(conf));
	conf.type = RTE_FIB6_TRIE;
	conf.default_nh = FP_NH_NONE;
	conf.max_routes = (int)max_routes;
	conf.rib_ext_sz = 0;
	conf.trie.nh_sz = RTE_FIB6_TRIE_4B;
	/* tbl8 groups hold prefixes longer than /24: one per 8 further bits per
	 * distinct /24; 16 MiB at 16384 groups (4-byte next hops). */
	conf.trie.num_tbl8 = max_routes < 16384 ? 16384 : max_routes;
	instance++;
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "fp_fib6_%u_%d", instance, i);
		fib->copy[i] = rte_fib6_create(name, SOCKET_ID_ANY, &conf);
		if (fib->copy[i] == NULL) {
			snprintf(errmsg, errlen, "rte_fib6_create(%u routes): %s",
				 max_routes, rte_strerror(rte_errno));
			fp_fib_free(fib);
			return -ENOMEM;
		}
	}
	fib->routes = calloc(max_routes, sizeof(*fib->routes));
	if (fib->routes == NULL) {
		snprintf(errmsg, errlen, "no memory for %u routes", max_routes);
		fp_fib_free(fib);
		return -ENOMEM;
	}
	fib->max_routes = max_routes;
	fib->qsbr = qsbr;
	fib->active = fib->copy[0];
	return 0;
}

void
fp_fib_free(struct fp_fib *fib)
{
	rte_fib6_free(fib->copy[0]);
	rte_fib6_free(fib->copy[1]);
	free(fib->routes);
	memset(fib, 0, sizeof(*fib));
}

struct fp_route *
fp_fib_find(struct fp_fib *fib, const uint8_t prefix[16], uint8_t plen)
{
	uint8_t net[16];
	uint32_t i;

	fp_prefix_mask(net, prefix, plen);
	for (i = 0; i < fib->nroutes; i++)
		if (fib->routes[i].plen == plen &&
		    memcmp(fib->routes[i].prefix, net, 16) == 0)
			return &fib->routes[i];
	return NULL;
}

/* Apply one change to both copies: inactive first, publish, wait, then old. */
static int
fib_apply(struct fp_fib *fib, const uint8_t net[16], uint8_t plen,
	  uint32_t nexthop, bool add)
{
	struct rte_fib6 *old = fib->active;
	struct rte_fib6 *next = old == fib->copy[0] ? fib->copy[1] : fib->copy[0];
	int rc;

	rc = add ? rte_fib6_add(next, net, plen, nexthop)
		 : rte_fib6_delete(next, net, plen);
	if (rc < 0)
		return rc;
	__atomic_store_n(&fib->active, next, __ATOMIC_RELEASE);
	/* Every online worker passes a quiescent point: none reads `old` now. */
	rte_rcu_qsbr_synchronize(fib->qsbr, RTE_QSBR_THRID_INVALID);
	rc = add ? rte_fib6_add(old, net, plen, nexthop)
		 : rte_fib6_delete(old, net, plen);
	if (rc < 0) {
		/* Keep the copies identical: undo on `next`, which is safe to
		 * change only after readers moved back to `old`. */
		__atomic_store_n(&fib->active, old, __ATOMIC_RELEASE);
		rte_rcu_qsbr_synchronize(fib->qsbr, RTE_QSBR_THRID_INVALID);
		if (add)
			rte_fib6_delete(next, net, plen);
		return rc;
	}
	return 0;
}

int
fp_fib_add(struct fp_fib *fib, const struct fp_route *route)
{
	struct fp_route r = *route;
	int rc;

	fp_prefix_mask(r.prefix, route->prefix, route->plen);
	if (fp_fib_find(fib, r.prefix, r.plen) != NULL)
		return -EEXIST;
	if (fib->nroutes >= fib->max_routes)
		return -ENOSPC;
	rc = fib_apply(fib, r.prefix, r.plen, r.nexthop, true);
	if (rc < 0)
		return rc == -ENOSPC ? -ENOSPC : rc;
	fib->routes[fib->nroutes++] = r;
	return 0;
}

int
fp_fib_delete(struct fp_fib *fib, const uint8_t prefix[16], uint8_t plen,
	      struct fp_route *old)
{
	struct fp_route *r = fp_fib_find(fib, prefix, plen);
	int rc;

	if (r == NULL)
		return -ENOENT;
	rc = fib_apply(fib, r->prefix, r->plen, 0, false);
	if (rc < 0)
		return rc;
	if (old != NULL)
		*old = *r;
	*r = fib->routes[--fib->nroutes];
	return 0;
}

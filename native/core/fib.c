/*
 * core/fib.c — double-buffered rte_fib6 rebuilt from its route list; see
 * core/fib.h. Callers hold fp_router.ctl_lock; workers only read `active`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_fib6.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_rcu_qsbr.h>
#include <rte_version.h>

#include "fib.h"
#include "fib_internal.h"


/*
 * The head of rte_fib6's private trie struct (lib/fib/trie.h) in 22.11:
 * rte_fib6 offers no way to read how many tbl8 groups are in use, nor to
 * correct its reservation count. Used only on 22.11 and only while a fresh
 * copy shows exactly the fields it was created with (fib_copy_create); on
 * any other DPDK the figures are reported as -1 and copies are rebuilt.
 */
struct fib_trie_head_22_11 {
	uint32_t number_tbl8s;
	uint32_t rsvd_tbl8s;
	uint32_t cur_tbl8s;
	uint64_t def_nh;
	enum rte_fib_trie_nh_sz nh_sz;
	uint64_t *tbl8;
	uint32_t *tbl8_pool;
	uint32_t tbl8_pool_pos;
};

/* The private head of a copy when its layout is the one known here. */
static struct fib_trie_head_22_11 *
fib_view(const struct fp_fib *fib, int slot)
{
#if RTE_VER_YEAR == 22 && RTE_VER_MONTH == 11
	struct fib_trie_head_22_11 *h;

	if (fib->copy[slot] == NULL)
		return NULL;
	h = rte_fib6_get_dp(fib->copy[slot]);
	if (h == NULL || h->number_tbl8s != fib->tbl8_groups ||
	    h->nh_sz != RTE_FIB6_TRIE_4B || h->tbl8 == NULL ||
	    h->tbl8_pool == NULL || h->tbl8_pool_pos > h->number_tbl8s)
		return NULL;
	return h;
#else
	(void)fib;
	(void)slot;
	return NULL;
#endif
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

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

void
fib_key_make(struct fib_key *k, const uint8_t prefix[16], uint8_t plen)
{
	memset(k, 0, sizeof(*k));
	fp_prefix_mask(k->prefix, prefix, plen);
	k->plen = plen;
}

/* Create copy[slot] empty, under a name no other copy has. */
static int
fib_copy_create(struct fp_fib *fib, int slot)
{
	struct rte_fib6_conf conf;
	char name[64];

	memset(&conf, 0, sizeof(conf));
	conf.type = RTE_FIB6_TRIE;
	conf.default_nh = FP_NH_NONE;
	conf.max_routes = (int)fib->max_routes;
	conf.rib_ext_sz = 0;
	conf.trie.nh_sz = RTE_FIB6_TRIE_4B;
	conf.trie.num_tbl8 = fib->tbl8_groups;
	snprintf(name, sizeof(name), "fp_fib6_%u_%u", fib->instance, fib->serial++);
	fib->copy[slot] = rte_fib6_create(name, SOCKET_ID_ANY, &conf);
	if (fib->copy[slot] == NULL)
		return rte_errno == ENOSPC ? -ENOMEM : -(rte_errno ? rte_errno : ENOMEM);
	fib->deletes_since_build[slot] = 0;
	{
		const struct fib_trie_head_22_11 *h = fib_view(fib, slot);

		fib->exact[slot] = !fib->rebuild_only && h != NULL && h->rsvd_tbl8s == 0 &&
				   h->cur_tbl8s == 0 && h->tbl8_pool_pos == 0 &&
				   h->def_nh == FP_NH_NONE;
	}
	return 0;
}

/* Add a route to one copy; *reserved gets the tbl8 groups it reserved. */
int
fib_copy_add(struct fp_fib *fib, int slot, const struct fp_route *r,
	     uint8_t *reserved)
{
	struct fib_trie_head_22_11 *h = fib->exact[slot] ? fib_view(fib, slot) : NULL;
	uint32_t before = h != NULL ? h->rsvd_tbl8s : 0;
	int rc;

	rc = rte_fib6_add(fib->copy[slot], r->prefix, r->plen, r->nexthop);
	*reserved = rc == 0 && h != NULL ? (uint8_t)(h->rsvd_tbl8s - before) : 0;
	return rc;
}

/* Delete a route from one copy and give back what its add reserved. */
int
fib_copy_delete(struct fp_fib *fib, int slot, const struct fp_route *r,
		uint8_t reserved)
{
	struct fib_trie_head_22_11 *h = fib->exact[slot] ? fib_view(fib, slot) : NULL;
	int rc;

	rc = rte_fib6_delete(fib->copy[slot], r->prefix, r->plen);
	if (rc < 0)
		return rc;
	if (h != NULL && h->rsvd_tbl8s >= reserved)
		h->rsvd_tbl8s -= reserved;
	else
		fib->deletes_since_build[slot]++;
	return 0;
}

static int
fib_copy_change(struct fp_fib *fib, int slot, const struct fib_change *c)
{
	/* rte_fib6_add of an existing prefix rewrites its next hop in place
	 * (the trie's modify path) and reserves nothing new. */
	if (c->replace)
		return rte_fib6_add(fib->copy[slot], c->route->prefix, c->route->plen,
				    c->route->nexthop);
	return c->add ? fib_copy_add(fib, slot, c->route, &fib->pending_reserved[slot])
		      : fib_copy_delete(fib, slot, c->route,
					fib->reserved[c->route - fib->routes][slot]);
}

/*
 * Recreate copy[slot] from the list's up routes with `skip` left out,
 * shortest prefixes first (each route then reserves tbl8 groups below its
 * parent only, as on a table built in order). Down routes are not replayed
 * and their record for the copy is 0. The copy must be inactive. On failure
 * it stays stale.
 */
int
fib_copy_rebuild(struct fp_fib *fib, int slot, const struct fp_route *skip)
{
	return fib_copy_rebuild_mask(fib, slot, skip, NULL);
}

int
fib_copy_rebuild_mask(struct fp_fib *fib, int slot, const struct fp_route *skip,
		      const uint8_t *skip_pos)
{
	uint32_t count[130], i;
	uint64_t t0 = now_ns(), dt;
	int rc;

	fib->stale[slot] = true;
	rte_fib6_free(fib->copy[slot]);
	fib->copy[slot] = NULL;
	rc = fib_copy_create(fib, slot);
	if (rc < 0)
		return rc;
	/* Counting sort of positions by prefix length. */
	memset(count, 0, sizeof(count));
	for (i = 0; i < fib->nroutes; i++)
		count[fib->routes[i].plen + 1]++;
	for (i = 1; i < 130; i++)
		count[i] += count[i - 1];
	for (i = 0; i < fib->nroutes; i++)
		fib->replay_order[count[fib->routes[i].plen]++] = i;
	for (i = 0; i < fib->nroutes; i++) {
		const struct fp_route *r = &fib->routes[fib->replay_order[i]];

		if (r == skip || r->state == FP_ROUTE_DOWN ||
		    (skip_pos != NULL && skip_pos[fib->replay_order[i]])) {
			fib->reserved[fib->replay_order[i]][slot] = 0;
			continue;
		}
		rc = fib_copy_add(fib, slot, r, &fib->reserved[fib->replay_order[i]][slot]);
		if (rc < 0)
			return rc;
	}
	fib->stale[slot] = false;
	fib->rebuilds++;
	dt = now_ns() - t0;
	fib->rebuild_last_ns = dt;
	if (dt > fib->rebuild_max_ns)
		fib->rebuild_max_ns = dt;
	return 0;
}

/* Whether a failed change may have written part of itself into the copy:
 * only a tbl8 pool that ran dry inside the trie's update does that; the
 * reservation check and the RIB refuse before writing. Unknown → assume so. */
bool
fib_copy_maybe_torn(const struct fp_fib *fib, int slot)
{
	const struct fib_trie_head_22_11 *h = fib_view(fib, slot);

	return h == NULL || h->tbl8_pool_pos >= h->number_tbl8s;
}

/*
 * Bring the inactive copy[slot] to "list + change" (a restore is an add of a
 * route the list holds as down, a withdrawal a delete of one it holds as
 * up: a rebuild replays neither). A refusal after deletes
 * since the copy was built may be the reservation drift (see core/fib.h), and a
 * torn or stale copy must be rebuilt anyway: rebuild, then retry once. What
 * fails on a freshly built copy is real. A delete is replayed as "list
 * without the route"; an add is applied after, so its refusal leaves the
 * copy whole.
 */
static int
fib_copy_apply(struct fp_fib *fib, int slot, const struct fib_change *c)
{
	int rc;

	if (!fib->stale[slot] && fib->copy[slot] != NULL) {
		rc = fib_copy_change(fib, slot, c);
		if (rc == 0)
			return 0;
		if (!fib_copy_maybe_torn(fib, slot) &&
		    !(rc == -ENOSPC && fib->deletes_since_build[slot] > 0))
			return rc; /* intact, and a rebuild would not change the answer */
	}
	rc = fib_copy_rebuild(fib, slot, c->add ? NULL : c->route);
	if (rc < 0 || !c->add)
		return rc;
	rc = fib_copy_change(fib, slot, c);
	if (rc < 0 && fib_copy_maybe_torn(fib, slot))
		fib->stale[slot] = true;
	return rc;
}

void
fib_publish(struct fp_fib *fib, int next)
{
	fib->active_idx = (uint8_t)next;
	__atomic_store_n(&fib->active, fib->copy[next], __ATOMIC_RELEASE);
	/* Every online worker passes a quiescent point: none reads the other
	 * copy now. */
	rte_rcu_qsbr_synchronize(fib->qsbr, RTE_QSBR_THRID_INVALID);
}

/* Apply one change: inactive copy first, publish, wait, then the old copy.
 * A failure on the old copy leaves it stale; it is rebuilt before it is
 * published again, so the change stands. */
static int
fib_commit(struct fp_fib *fib, const struct fib_change *c)
{
	int next = fib->active_idx ^ 1, old = fib->active_idx;
	int rc;

	rc = fib_copy_apply(fib, next, c);
	if (rc < 0)
		return rc;
	fib_publish(fib, next);
	if (fib_copy_apply(fib, old, c) < 0)
		fib->stale[old] = true;
	return 0;
}

int
fp_fib_init(struct fp_fib *fib, uint32_t max_routes, uint32_t tbl8_groups,
	    struct rte_rcu_qsbr *qsbr, char *errmsg, size_t errlen)
{
	static unsigned instance;
	struct rte_hash_parameters hp;
	char name[64];
	int i, rc;

	memset(fib, 0, sizeof(*fib));
	fib->instance = ++instance;
	fib->max_routes = max_routes;
	fib->tbl8_groups = tbl8_groups ? tbl8_groups : FP_FIB_TBL8_DEFAULT;
	fib->qsbr = qsbr;
	for (i = 0; i < 2; i++) {
		rc = fib_copy_create(fib, i);
		if (rc < 0) {
			snprintf(errmsg, errlen, "rte_fib6_create(%u routes, %u tbl8 "
				 "groups): %s", max_routes, fib->tbl8_groups,
				 rte_strerror(-rc));
			fp_fib_free(fib);
			return -ENOMEM;
		}
	}
	memset(&hp, 0, sizeof(hp));
	snprintf(name, sizeof(name), "fp_fibidx_%u", fib->instance);
	hp.name = name;
	hp.entries = max_routes < 8 ? 8 : max_routes;
	hp.key_len = sizeof(struct fib_key);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = SOCKET_ID_ANY;
	/* The extendable table guarantees `entries` insertions succeed. */
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	fib->index = rte_hash_create(&hp);
	fib->routes = calloc(max_routes, sizeof(*fib->routes));
	fib->reserved = calloc(max_routes, sizeof(*fib->reserved));
	fib->replay_order = calloc(max_routes ? max_routes : 1, sizeof(uint32_t));
	fib->nhg = calloc(FP_NHG_MAX, sizeof(*fib->nhg));
	if (fib->index == NULL || fib->routes == NULL || fib->reserved == NULL ||
	    fib->replay_order == NULL || fib->nhg == NULL) {
		snprintf(errmsg, errlen, "no memory for %u routes", max_routes);
		fp_fib_free(fib);
		return -ENOMEM;
	}
	fib->active_idx = 0;
	fib->active = fib->copy[0];
	return 0;
}

void
fp_fib_free(struct fp_fib *fib)
{
	rte_fib6_free(fib->copy[0]);
	rte_fib6_free(fib->copy[1]);
	rte_hash_free(fib->index);
	free(fib->routes);
	free(fib->reserved);
	free(fib->replay_order);
	free(fib->nhg);
	memset(fib, 0, sizeof(*fib));
}

struct fp_route *
fp_fib_find(struct fp_fib *fib, const uint8_t prefix[16], uint8_t plen)
{
	struct fib_key k;
	void *pos;

	fib_key_make(&k, prefix, plen);
	if (rte_hash_lookup_data(fib->index, &k, &pos) < 0)
		return NULL;
	return &fib->routes[(uintptr_t)pos];
}

/* Say why the FIB refused an add (or a restore). */
void
fib_add_error(const struct fp_fib *fib, int rc, char *errmsg, size_t errlen)
{
	if (rc == -ENOSPC)
		snprintf(errmsg, errlen, "the FIB's tbl8 groups are exhausted (%u "
			 "per copy; raise routing.tbl8Groups)", fib->tbl8_groups);
	else
		snprintf(errmsg, errlen, "the FIB refused the route: %s",
			 strerror(-rc));
}

int
fp_fib_add(struct fp_fib *fib, const struct fp_route *route, char *errmsg,
	   size_t errlen)
{
	struct fib_change c = { 0 };
	struct fib_key k;
	struct fp_route r = *route;
	int rc;

	fib_key_make(&k, route->prefix, route->plen);
	memcpy(r.prefix, k.prefix, 16);
	if (rte_hash_lookup(fib->index, &k) >= 0) {
		snprintf(errmsg, errlen, "a route for this prefix exists");
		return -EEXIST;
	}
	if (fib->nroutes >= fib->max_routes) {
		snprintf(errmsg, errlen, "the route table is full (%u routes; "
			 "raise routing.maxRoutes)", fib->max_routes);
		return -ENOSPC;
	}
	/* Index first: the route is in the list only once the FIB has it. */
	if (rte_hash_add_key_data(fib->index, &k, (void *)(uintptr_t)fib->nroutes) < 0) {
		snprintf(errmsg, errlen, "the route index is full (%u routes; "
			 "raise routing.maxRoutes)", fib->max_routes);
		return -ENOSPC;
	}
	if (r.state == FP_ROUTE_DOWN) {
		/* Its interface is down: the list only, nothing reserved. */
		fib->reserved[fib->nroutes][0] = 0;
		fib->reserved[fib->nroutes][1] = 0;
		fib->routes[fib->nroutes++] = r;
		fib->nroutes_down++;
		return 0;
	}
	r.state = FP_ROUTE_UP;
	c.add = true;
	c.route = &r;
	rc = fib_commit(fib, &c);
	if (rc < 0) {
		rte_hash_del_key(fib->index, &k);
		fib_add_error(fib, rc, errmsg, errlen);
		return rc;
	}
	fib->reserved[fib->nroutes][0] = fib->pending_reserved[0];
	fib->reserved[fib->nroutes][1] = fib->pending_reserved[1];
	fib->routes[fib->nroutes++] = r;
	return 0;
}

int
fp_fib_delete(struct fp_fib *fib, const uint8_t prefix[16], uint8_t plen,
	      struct fp_route *old)
{
	struct fib_change c = { 0 };
	struct fib_key k;
	struct fp_route *r;
	uint32_t pos, last;
	void *data;
	int rc;

	fib_key_make(&k, prefix, plen);
	if (rte_hash_lookup_data(fib->index, &k, &data) < 0)
		return -ENOENT;
	pos = (uint32_t)(uintptr_t)data;
	r = &fib->routes[pos];
	if (r->state == FP_ROUTE_DOWN) {
		/* Withdrawn already: in neither copy. */
		fib->nroutes_down--;
	} else {
		c.add = false;
		c.route = r;
		rc = fib_commit(fib, &c);
		if (rc < 0)
			return rc;
	}
	if (old != NULL)
		*old = *r;
	rte_hash_del_key(fib->index, &k);
	last = --fib->nroutes;
	if (pos != last) {
		/* Keep the list dense: the last route takes the hole. */
		fib->routes[pos] = fib->routes[last];
		memcpy(fib->reserved[pos], fib->reserved[last], sizeof(fib->reserved[pos]));
		fib_key_make(&k, fib->routes[pos].prefix, fib->routes[pos].plen);
		rte_hash_add_key_data(fib->index, &k, (void *)(uintptr_t)pos);
	}
	return 0;
}

int
fp_fib_set_state(struct fp_fib *fib, const uint8_t prefix[16], uint8_t plen,
		 uint8_t state, char *errmsg, size_t errlen)
{
	struct fib_change c = { 0 };
	struct fp_route *r = fp_fib_find(fib, prefix, plen);
	uint32_t pos;
	int rc;

	if (r == NULL) {
		snprintf(errmsg, errlen, "no route for this prefix");
		return -ENOENT;
	}
	if (state != FP_ROUTE_UP && state != FP_ROUTE_DOWN) {
		snprintf(errmsg, errlen, "bad route state %u", state);
		return -EINVAL;
	}
	if (r->state == state)
		return 0;
	pos = (uint32_t)(r - fib->routes);
	/* While this runs the list still says the old state: a rebuild
	 * replays neither a route being restored (down) nor one being
	 * withdrawn (the skipped route of a delete). */
	c.add = state == FP_ROUTE_UP;
	c.route = r;
	rc = fib_commit(fib, &c);
	if (rc < 0) {
		if (c.add)
			fib_add_error(fib, rc, errmsg, errlen);
		else
			snprintf(errmsg, errlen, "the FIB could not withdraw the "
				 "route: %s", strerror(-rc));
		return rc;
	}
	if (c.add) {
		fib->reserved[pos][0] = fib->pending_reserved[0];
		fib->reserved[pos][1] = fib->pending_reserved[1];
		fib->nroutes_down--;
	} else {
		/* The delete gave back what the add reserved. */
		fib->reserved[pos][0] = 0;
		fib->reserved[pos][1] = 0;
		fib->nroutes_down++;
	}
	r->state = state;
	return 1;
}

int
fp_fib_set_nexthop(struct fp_fib *fib, const uint8_t prefix[16], uint8_t plen,
		   uint32_t nexthop, char *errmsg, size_t errlen)
{
	struct fib_change c = { 0 };
	struct fp_route *r = fp_fib_find(fib, prefix, plen), nr;
	int rc;

	if (r == NULL) {
		snprintf(errmsg, errlen, "no route for this prefix");
		return -ENOENT;
	}
	if (r->state == FP_ROUTE_UP && r->nexthop != nexthop) {
		nr = *r;
		nr.nexthop = nexthop;
		c.add = true;
		c.replace = true;
		c.route = &nr;
		rc = fib_commit(fib, &c);
		if (rc < 0) {
			fib_add_error(fib, rc, errmsg, errlen);
			return rc;
		}
	}
	r->nexthop = nexthop;
	return 0;
}

int
fp_nhg_alloc(struct fp_fib *fib)
{
	uint32_t i, g;

	for (i = 0; i < FP_NHG_MAX; i++) {
		g = (fib->nhg_hint + i) % FP_NHG_MAX;
		if (!fib->nhg[g].in_use) {
			memset(&fib->nhg[g], 0, sizeof(fib->nhg[g]));
			fib->nhg[g].in_use = true;
			fib->nhg_hint = (g + 1) % FP_NHG_MAX;
			fib->nhg_used++;
			return (int)g;
		}
	}
	return -ENOSPC;
}

void
fp_nhg_free(struct fp_fib *fib, uint32_t g)
{
	if (g < FP_NHG_MAX && fib->nhg[g].in_use) {
		fib->nhg[g].in_use = false;
		fib->nhg_used--;
	}
}

unsigned
fp_nhg_fill(struct fp_nhgroup *g)
{
	uint32_t total = 0, count[FP_NHG_MEMBERS], rem[FP_NHG_MEMBERS];
	unsigned i, up = 0, b = 0, filled = 0;

	for (i = 0; i < g->nmembers; i++)
		if (g->members[i].state == FP_ROUTE_UP) {
			total += g->members[i].weight;
			up++;
		}
	if (up == 0) {
		memset(g->bucket, 0, sizeof(g->bucket));
		return 0;
	}
	/* Each up member gets buckets in proportion to its weight; the
	 * remainder goes to the largest fractions, first member first. */
	for (i = 0; i < g->nmembers; i++) {
		uint32_t w = g->members[i].state == FP_ROUTE_UP ? g->members[i].weight : 0;

		count[i] = w * FP_NHG_BUCKETS / total;
		rem[i] = w * FP_NHG_BUCKETS % total;
		filled += count[i];
	}
	while (filled < FP_NHG_BUCKETS) {
		unsigned best = 0;

		for (i = 1; i < g->nmembers; i++)
			if (rem[i] > rem[best])
				best = i;
		count[best]++;
		rem[best] = 0;
		filled++;
	}
	/* Interleaved, so that neighbouring buckets name different members. */
	while (b < FP_NHG_BUCKETS)
		for (i = 0; i < g->nmembers && b < FP_NHG_BUCKETS; i++)
			if (count[i] > 0) {
				count[i]--;
				g->bucket[b++] = g->members[i].nexthop;
			}
	return up;
}

void
fp_fib_get_stats(const struct fp_fib *fib, struct fp_fib_stats *st)
{
	const struct fib_trie_head_22_11 *h = fib_view(fib, fib->active_idx);
	/* RIB nodes: rte_fib6 sizes the RIB at two nodes per route (prefix
	 * plus branch), about 64 bytes each with its mempool header. */
	uint64_t rib = (uint64_t)fib->max_routes * 2 * 64;

	memset(st, 0, sizeof(*st));
	st->routes = fib->nroutes;
	st->routes_down = fib->nroutes_down;
	st->max_routes = fib->max_routes;
	st->tbl8_groups = fib->tbl8_groups;
	st->tbl8_in_use = h != NULL ? (int64_t)h->tbl8_pool_pos : -1;
	st->tbl8_reserved = h != NULL ? (int64_t)h->rsvd_tbl8s : -1;
	st->bytes_per_copy = (1ull << 24) * 4 +
			     ((uint64_t)fib->tbl8_groups + 1) * 256 * 4 +
			     (uint64_t)fib->tbl8_groups * 4 + rib;
	st->rebuilds = fib->rebuilds;
	st->rebuild_last_ns = fib->rebuild_last_ns;
	st->rebuild_max_ns = fib->rebuild_max_ns;
}

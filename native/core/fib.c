/*
 * core/fib.c — two copies of the trie (core/trie6.h) kept equal to the route
 * list; see core/fib.h. Callers hold fp_router.ctl_lock; workers only read
 * `active`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_memory.h>
#include <rte_rcu_qsbr.h>

#include "fib.h"
#include "fib_internal.h"
#include "trie6.h"

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

int
fib_index_add(struct fp_fib *fib, const uint8_t prefix[16], uint8_t plen, uint32_t pos)
{
	struct fib_key k;
	int rc;

	fib_key_make(&k, prefix, plen);
	rc = rte_hash_add_key_data(fib->index, &k, (void *)(uintptr_t)pos);
	if (rc == 0)
		fib->len_count[plen]++;
	return rc;
}

void
fib_index_move(struct fp_fib *fib, const struct fp_route *r, uint32_t pos)
{
	struct fib_key k;

	fib_key_make(&k, r->prefix, r->plen);
	rte_hash_add_key_data(fib->index, &k, (void *)(uintptr_t)pos);
}

void
fib_index_del(struct fp_fib *fib, const uint8_t prefix[16], uint8_t plen)
{
	struct fib_key k;

	fib_key_make(&k, prefix, plen);
	if (rte_hash_del_key(fib->index, &k) >= 0)
		fib->len_count[plen]--;
}

/* One index probe per shorter prefix length the list holds. */
const struct fp_route *
fib_cover(const struct fp_fib *fib, const struct fp_route *r)
{
	struct fib_key k;
	void *pos;
	int len;

	for (len = (int)r->plen - 1; len >= 0; len--) {
		if (fib->len_count[len] == 0)
			continue;
		fib_key_make(&k, r->prefix, (uint8_t)len);
		if (rte_hash_lookup_data(fib->index, &k, &pos) >= 0) {
			const struct fp_route *c = &fib->routes[(uintptr_t)pos];

			if (c->state == FP_ROUTE_UP && c->plen == len)
				return c;
		}
	}
	return NULL;
}

/* Create copy[slot] empty. */
static int
fib_copy_create(struct fp_fib *fib, int slot)
{
	fib->copy[slot] = fp_trie6_create(fib->tbl8_groups, SOCKET_ID_ANY);
	return fib->copy[slot] == NULL ? -ENOMEM : 0;
}

int
fib_copy_add(struct fp_fib *fib, int slot, const struct fp_route *r)
{
	return fp_trie6_add(fib->copy[slot], r->prefix, r->plen, r->nexthop);
}

int
fib_copy_delete(struct fp_fib *fib, int slot, const struct fp_route *r,
		const struct fp_route *cover)
{
	return fp_trie6_delete(fib->copy[slot], r->prefix, r->plen,
			       cover != NULL ? cover->nexthop : 0,
			       cover != NULL ? cover->plen : 0);
}

/* One change to one copy (an add of an existing prefix rewrites its next
 * hop: the replace). */
static int
fib_copy_change(struct fp_fib *fib, int slot, const struct fib_change *c)
{
	return c->add ? fib_copy_add(fib, slot, c->route)
		      : fib_copy_delete(fib, slot, c->route, c->cover);
}

/*
 * Recreate copy[slot] from the list's up routes with `skip` left out. Down
 * routes are not replayed. The copy must be inactive. On failure it stays
 * stale.
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
	uint64_t t0 = now_ns(), dt;
	uint32_t i;
	int rc;

	fib->stale[slot] = true;
	fp_trie6_free(fib->copy[slot]);
	fib->copy[slot] = NULL;
	rc = fib_copy_create(fib, slot);
	if (rc < 0)
		return rc;
	for (i = 0; i < fib->nroutes; i++) {
		const struct fp_route *r = &fib->routes[i];

		if (r == skip || r->state == FP_ROUTE_DOWN ||
		    (skip_pos != NULL && skip_pos[i]))
			continue;
		rc = fib_copy_add(fib, slot, r);
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

/*
 * Bring the inactive copy[slot] to "list + change" (a restore is an add of a
 * route the list holds as down, a withdrawal a delete of one it holds as
 * up: a rebuild replays neither). A stale copy is rebuilt first (a delete
 * as "list without the route"). A refusal leaves the copy as it was: the
 * trie never half-applies a change.
 */
static int
fib_copy_apply(struct fp_fib *fib, int slot, const struct fib_change *c)
{
	int rc;

	if (!fib->stale[slot] && fib->copy[slot] != NULL)
		return fib_copy_change(fib, slot, c);
	rc = fib_copy_rebuild(fib, slot, c->add ? NULL : c->route);
	if (rc < 0 || !c->add)
		return rc;
	return fib_copy_change(fib, slot, c);
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
fib_commit(struct fp_fib *fib, struct fib_change *c)
{
	int next = fib->active_idx ^ 1, old = fib->active_idx;
	int rc;

	if (!c->add)
		c->cover = fib_cover(fib, c->route); /* the same for both copies */
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
			snprintf(errmsg, errlen, "no memory for the FIB's two copies "
				 "(%u tbl8 groups, %llu MiB each; lower routing.tbl8Groups "
				 "or raise eal.memoryMb)", fib->tbl8_groups,
				 (unsigned long long)(fp_trie6_table_bytes(fib->tbl8_groups) >> 20));
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
	fib->nhg = calloc(FP_NHG_MAX, sizeof(*fib->nhg));
	if (fib->index == NULL || fib->routes == NULL || fib->nhg == NULL) {
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
	fp_trie6_free(fib->copy[0]);
	fp_trie6_free(fib->copy[1]);
	rte_hash_free(fib->index);
	free(fib->routes);
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
	if (fib_index_add(fib, r.prefix, r.plen, fib->nroutes) < 0) {
		snprintf(errmsg, errlen, "the route index is full (%u routes; "
			 "raise routing.maxRoutes)", fib->max_routes);
		return -ENOSPC;
	}
	if (r.state == FP_ROUTE_DOWN) {
		/* Its interface is down: the list only. */
		fib->routes[fib->nroutes++] = r;
		fib->nroutes_down++;
		return 0;
	}
	r.state = FP_ROUTE_UP;
	c.add = true;
	c.route = &r;
	rc = fib_commit(fib, &c);
	if (rc < 0) {
		fib_index_del(fib, r.prefix, r.plen);
		fib_add_error(fib, rc, errmsg, errlen);
		return rc;
	}
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
	fib_index_del(fib, prefix, plen);
	last = --fib->nroutes;
	if (pos != last) {
		/* Keep the list dense: the last route takes the hole. */
		fib->routes[pos] = fib->routes[last];
		fib_index_move(fib, &fib->routes[pos], pos);
	}
	return 0;
}

int
fp_fib_set_state(struct fp_fib *fib, const uint8_t prefix[16], uint8_t plen,
		 uint8_t state, char *errmsg, size_t errlen)
{
	struct fib_change c = { 0 };
	struct fp_route *r = fp_fib_find(fib, prefix, plen);
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
	if (c.add)
		fib->nroutes_down--;
	else
		fib->nroutes_down++;
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
		c.add = true; /* of an existing prefix: its next hop rewritten */
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
	const struct fp_trie6 *t = fib->copy[fib->active_idx];

	memset(st, 0, sizeof(*st));
	st->routes = fib->nroutes;
	st->routes_down = fib->nroutes_down;
	st->max_routes = fib->max_routes;
	st->tbl8_groups = fib->tbl8_groups;
	st->tbl8_in_use = t != NULL ? fp_trie6_groups_in_use(t) : 0;
	st->bytes_per_copy = fp_trie6_table_bytes(fib->tbl8_groups) +
			     fp_trie6_control_bytes(fib->tbl8_groups);
	st->rebuilds = fib->rebuilds;
	st->rebuild_last_ns = fib->rebuild_last_ns;
	st->rebuild_max_ns = fib->rebuild_max_ns;
}

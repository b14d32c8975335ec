/*
 * core/routes_query.c — reading the routing table at scale: the route count,
 * pages of routes in key order (a cursor and a covering prefix), and the
 * route the data plane would choose for a destination. Under ctl_lock, like
 * every other reader of the route list (core/routes.c).
 *
 * Why pages are selected, not read from a sorted index: the route list
 * (fp_router.fib.routes) is unordered (a delete moves the last route into
 * the hole) and every add and delete already costs two FIB copy updates and
 * a grace period. An ordered index kept beside it would make each change pay
 * for listings that are rare, and it would be one more structure to keep
 * exactly in step with the list. A page instead scans the list once and keeps
 * the `max` smallest keys after the cursor in a bounded max-heap: O(n log max)
 * per page, so paging through the whole table costs O(n²/max · log max) —
 * about 250 scans of a million routes at 4096 per page, which is seconds, not
 * minutes, and nothing on the update path.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trie6.h"

#include "router.h"

/* A heap entry: a route's key (its prefix masked to its length, as the FIB
 * index keys it) and where the route is in the list. */
struct page_slot {
	uint8_t prefix[16];
	uint8_t plen;
	uint32_t pos;
};

static int
key_cmp(const uint8_t pa[16], uint8_t la, const uint8_t pb[16], uint8_t lb)
{
	int c = memcmp(pa, pb, 16);

	if (c != 0)
		return c;
	return (int)la - (int)lb;
}

static int
slot_cmp(const struct page_slot *a, const struct page_slot *b)
{
	return key_cmp(a->prefix, a->plen, b->prefix, b->plen);
}

static void
slot_swap(struct page_slot *a, struct page_slot *b)
{
	struct page_slot t = *a;

	*a = *b;
	*b = t;
}

/* Restore the max-heap property below slot i (the largest key on top). */
static void
heap_sift_down(struct page_slot *h, uint32_t n, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < n && slot_cmp(&h[l], &h[m]) > 0)
			m = l;
		if (r < n && slot_cmp(&h[r], &h[m]) > 0)
			m = r;
		if (m == i)
			return;
		slot_swap(&h[i], &h[m]);
		i = m;
	}
}

static void
heap_sift_up(struct page_slot *h, uint32_t i)
{
	while (i > 0 && slot_cmp(&h[(i - 1) / 2], &h[i]) < 0) {
		slot_swap(&h[(i - 1) / 2], &h[i]);
		i = (i - 1) / 2;
	}
}

/* Whether a key lies inside the covering prefix `within`: the same or a
 * longer length, and equal to it on its bits. */
static bool
key_within(const uint8_t prefix[16], uint8_t plen, const struct fp_route_key *within)
{
	uint8_t masked[16];

	if (plen < within->plen)
		return false;
	fp_prefix_mask(masked, prefix, within->plen);
	return memcmp(masked, within->prefix, 16) == 0;
}

uint32_t
fp_route_count(void)
{
	uint32_t n;

	pthread_mutex_lock(&fp_router.ctl_lock);
	n = fp_router.running ? fp_router.fib.nroutes : 0;
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return n;
}

/* Copy the selected routes out in key order, with each group route's
 * members appended to page->members. Caller holds ctl_lock. */
static int
page_copy_out(struct page_slot *heap, uint32_t n, struct fp_route_page *page)
{
	const struct fp_fib *fib = &fp_router.fib;
	uint32_t i, groups = 0, k = 0;

	/* Heap sort in place: popping the largest to the end leaves the
	 * slots in ascending key order. */
	for (i = n; i > 1; i--) {
		slot_swap(&heap[0], &heap[i - 1]);
		heap_sift_down(heap, i - 1, 0);
	}
	for (i = 0; i < n; i++)
		groups += fib->routes[heap[i].pos].nh_count > 0;
	page->routes = malloc(sizeof(*page->routes) * (n ? n : 1));
	page->members = malloc(sizeof(*page->members) * FP_NHG_MEMBERS * (groups ? groups : 1));
	if (page->routes == NULL || page->members == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct fp_route *r = &fib->routes[heap[i].pos];

		page->routes[i] = *r;
		if (r->nh_count > 0) {
			memcpy(&page->members[k],
			       fib->nhg[r->nexthop & FP_NH_INDEX_MASK].members,
			       sizeof(*page->members) * r->nh_count);
			k += r->nh_count;
		}
	}
	page->n = n;
	return 0;
}

int
fp_route_list_page(const struct fp_route_key *after, const struct fp_route_key *within,
		   uint32_t max, struct fp_route_page *page, struct fp_err *err)
{
	const struct fp_fib *fib = &fp_router.fib;
	struct page_slot *heap = NULL;
	uint32_t i, n = 0, cap;
	int rc = 0;

	memset(page, 0, sizeof(*page));
	if (max == 0)
		return fp_err_set(err, EINVAL, "max: expected at least 1");
	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running)
		goto out;
	cap = max < fib->nroutes ? max : fib->nroutes;
	heap = malloc(sizeof(*heap) * (cap ? cap : 1));
	if (heap == NULL) {
		rc = fp_err_set(err, ENOMEM, "route page: no memory for %u routes", cap);
		goto out;
	}
	for (i = 0; i < fib->nroutes; i++) {
		const struct fp_route *r = &fib->routes[i];
		struct page_slot s;

		fp_prefix_mask(s.prefix, r->prefix, r->plen);
		s.plen = r->plen;
		s.pos = i;
		if (after != NULL && key_cmp(s.prefix, s.plen, after->prefix, after->plen) <= 0)
			continue;
		if (within != NULL && !key_within(s.prefix, s.plen, within))
			continue;
		if (n < cap) {
			heap[n] = s;
			heap_sift_up(heap, n++);
		} else {
			/* A full page: this route is one more after it, or it
			 * displaces the largest key, which then is. */
			page->more = true;
			if (slot_cmp(&s, &heap[0]) < 0) {
				heap[0] = s;
				heap_sift_down(heap, n, 0);
			}
		}
	}
	if (page_copy_out(heap, n, page) < 0) {
		fp_route_page_free(page);
		rc = fp_err_set(err, ENOMEM, "route page: no memory for %u routes", n);
	}
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	free(heap);
	return rc;
}

void
fp_route_page_free(struct fp_route_page *page)
{
	free(page->routes);
	free(page->members);
	memset(page, 0, sizeof(*page));
}

int
fp_route_lookup(const uint8_t addr[16], struct fp_route *out,
		struct fp_nhg_member members[FP_NHG_MEMBERS], struct fp_err *err)
{
	const struct fp_route *r;
	uint8_t depth;
	int rc = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running)
		goto out;
	/* The active copy is what workers read; under ctl_lock it holds
	 * exactly the list's up routes (core/fib.h), so the prefix length its
	 * match carries names the route forwarding uses. */
	if (fp_trie6_lookup_len(fp_fib_active(&fp_router.fib), addr, &depth) == FP_NH_NONE)
		goto out;
	r = fp_fib_find(&fp_router.fib, addr, depth);
	if (r == NULL) {
		/* A FIB entry with no route in the list: a broken invariant,
		 * reported rather than shown as "no route". */
		rc = fp_err_set(err, EIO, "route lookup: FIB entry /%u has no route in the list",
				depth);
		goto out;
	}
	*out = *r;
	if (r->nh_count > 0)
		memcpy(members, fp_router.fib.nhg[r->nexthop & FP_NH_INDEX_MASK].members,
		       sizeof(*members) * r->nh_count);
	rc = 1;
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

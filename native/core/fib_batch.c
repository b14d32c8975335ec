/*
 * core/fib_batch.c — many routes added or deleted as one change (see
 * core/fib.h, "Batches"). Under ctl_lock.
 *
 * Why batches: a single change is applied to the inactive copy, published,
 * and waits a QSBR grace period before it is applied to the other copy, so
 * one route costs two trie updates plus a wait (microseconds with a busy
 * worker, more when the worker's core is shared). A full BGP table arrives
 * as hundreds of thousands of routes: the same steps once per batch leave
 * only the trie updates.
 *
 * All or nothing: the batch is entered in the index past the end of the
 * list first (a rebuild replays only routes[0..nroutes), so it cannot see
 * them), then applied to the inactive copy; a refusal takes back what went
 * into that copy and out of the index, and nothing was published. Only
 * after the inactive copy holds the whole batch does the list grow, the
 * copy go live and, after the grace period, the other copy follow. A
 * refusal on that second copy cannot be reported any more (the batch is
 * live): the copy is marked stale and rebuilt from the list before it is
 * next published, as for single changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_hash.h>

#include "fib.h"
#include "fib_internal.h"

/* Positions sorted by prefix length, shortest first (longest_first:
 * the other way round). An add in this order finds its parents' groups
 * made; a delete in the reverse order finds each route's cover still in the
 * copy (core/fib_internal.h). */
static void
order_by_length(const struct fp_fib *fib, const uint32_t *pos, uint32_t n,
		bool longest_first, uint32_t *order)
{
	uint32_t count[130], i;

	memset(count, 0, sizeof(count));
	for (i = 0; i < n; i++)
		count[fib->routes[pos[i]].plen + 1]++;
	for (i = 1; i < 130; i++)
		count[i] += count[i - 1];
	for (i = 0; i < n; i++)
		order[count[fib->routes[pos[i]].plen]++] = pos[i];
	if (longest_first)
		for (i = 0; i < n / 2; i++) {
			uint32_t t = order[i];
			order[i] = order[n - 1 - i];
			order[n - 1 - i] = t;
		}
}

/* Take the first k routes of order[] (list positions) back out of a copy,
 * the last added first. */
static void
add_undo(struct fp_fib *fib, int slot, const uint32_t *order, uint32_t k)
{
	while (k-- > 0) {
		const struct fp_route *r = &fib->routes[order[k]];

		if (r->state == FP_ROUTE_DOWN)
			continue;
		if (fib_copy_delete(fib, slot, r, fib_cover(fib, r)) < 0)
			fib->stale[slot] = true;
	}
}

/* Add the routes at list positions order[0..n) to one copy; on a refusal,
 * *failed is the position refused and what went in is taken back (a
 * refusal writes nothing: core/trie6.h). */
static int
add_to_copy(struct fp_fib *fib, int slot, const uint32_t *order, uint32_t n,
	    uint32_t *failed)
{
	uint32_t k;
	int rc;

	for (k = 0; k < n; k++) {
		const struct fp_route *r = &fib->routes[order[k]];

		if (r->state == FP_ROUTE_DOWN)
			continue;
		rc = fib_copy_add(fib, slot, r);
		if (rc < 0) {
			*failed = order[k];
			add_undo(fib, slot, order, k);
			return rc;
		}
	}
	return 0;
}

/* Remove the first i batch entries from the index. */
static void
unindex(struct fp_fib *fib, uint32_t base, uint32_t i)
{
	while (i-- > 0)
		fib_index_del(fib, fib->routes[base + i].prefix, fib->routes[base + i].plen);
}

int
fp_fib_add_many(struct fp_fib *fib, const struct fp_route *routes, uint32_t n,
		uint32_t *bad, char *errmsg, size_t errlen)
{
	uint32_t base = fib->nroutes, downs = 0, failed = base, i, *order, *pos;
	int next = fib->active_idx ^ 1, old = fib->active_idx, rc;
	struct fib_key key;

	*bad = 0;
	if (n == 0)
		return 0;
	if (n > fib->max_routes - fib->nroutes) {
		*bad = fib->max_routes - fib->nroutes;
		snprintf(errmsg, errlen, "the route table is full (%u routes; raise "
			 "routing.maxRoutes)", fib->max_routes);
		return -ENOSPC;
	}
	order = malloc((size_t)n * sizeof(*order));
	pos = malloc((size_t)n * sizeof(*pos));
	if (order == NULL || pos == NULL) {
		free(order);
		free(pos);
		snprintf(errmsg, errlen, "no memory for a batch of %u routes", n);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct fp_route *r = &fib->routes[base + i];

		*r = routes[i];
		fib_key_make(&key, routes[i].prefix, routes[i].plen);
		memcpy(r->prefix, key.prefix, 16);
		if (rte_hash_lookup(fib->index, &key) >= 0) {
			snprintf(errmsg, errlen, "a route for this prefix exists%s",
				 " (in the table or earlier in the batch)");
			rc = -EEXIST;
			goto fail_index;
		}
		if (fib_index_add(fib, key.prefix, key.plen, base + i) < 0) {
			snprintf(errmsg, errlen, "the route index is full (%u routes; "
				 "raise routing.maxRoutes)", fib->max_routes);
			rc = -ENOSPC;
			goto fail_index;
		}
		pos[i] = base + i;
		if (r->state == FP_ROUTE_DOWN)
			downs++;
		else
			r->state = FP_ROUTE_UP;
	}
	order_by_length(fib, pos, n, false, order);

	if (fib->stale[next] || fib->copy[next] == NULL) {
		rc = fib_copy_rebuild(fib, next, NULL);
		if (rc < 0)
			goto fail_copy;
	}
	rc = add_to_copy(fib, next, order, n, &failed);
	if (rc < 0)
		goto fail_copy;

	fib->nroutes += n;
	fib->nroutes_down += downs;
	fib_publish(fib, next);
	if (fib->stale[old] || fib->copy[old] == NULL) {
		if (fib_copy_rebuild(fib, old, NULL) < 0)
			fib->stale[old] = true;
	} else if (add_to_copy(fib, old, order, n, &failed) < 0) {
		fib->stale[old] = true;
	}
	free(order);
	free(pos);
	return 0;

fail_copy:
	*bad = failed - base;
	fib_add_error(fib, rc, errmsg, errlen);
	unindex(fib, base, n);
	free(order);
	free(pos);
	return rc;
fail_index:
	*bad = i;
	unindex(fib, base, i);
	free(order);
	free(pos);
	return rc;
}

static int
cmp_desc(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Delete the batch (list positions order[], longest prefixes first, with
 * their covers) from one copy; a refusal (never expected: the routes are in
 * it) rebuilds the copy without them. */
static int
delete_from_copy(struct fp_fib *fib, int slot, const uint32_t *order,
		 const struct fp_route **covers, uint32_t n, const uint8_t *mask)
{
	uint32_t i;

	if (fib->stale[slot] || fib->copy[slot] == NULL)
		return fib_copy_rebuild_mask(fib, slot, NULL, mask);
	for (i = 0; i < n; i++) {
		const struct fp_route *r = &fib->routes[order[i]];

		if (r->state == FP_ROUTE_DOWN)
			continue;
		if (fib_copy_delete(fib, slot, r, covers[i]) < 0)
			return fib_copy_rebuild_mask(fib, slot, NULL, mask);
	}
	return 0;
}

int
fp_fib_delete_many(struct fp_fib *fib, const uint8_t (*prefixes)[16],
		   const uint8_t *plens, uint32_t n, struct fp_route *old,
		   uint32_t *bad, char *errmsg, size_t errlen)
{
	int next = fib->active_idx ^ 1, prev = fib->active_idx, rc = 0;
	struct fib_key key;
	const struct fp_route **covers;
	uint32_t *pos, *order, i;
	uint8_t *mask;
	void *data;

	*bad = 0;
	if (n == 0)
		return 0;
	pos = malloc((size_t)n * sizeof(*pos));
	order = malloc((size_t)n * sizeof(*order));
	covers = malloc((size_t)n * sizeof(*covers));
	mask = calloc(fib->nroutes ? fib->nroutes : 1, 1);
	if (pos == NULL || order == NULL || covers == NULL || mask == NULL) {
		snprintf(errmsg, errlen, "no memory for a batch of %u routes", n);
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		fib_key_make(&key, prefixes[i], plens[i]);
		if (rte_hash_lookup_data(fib->index, &key, &data) < 0) {
			snprintf(errmsg, errlen, "no route for this prefix");
			rc = -ENOENT;
			break;
		}
		pos[i] = (uint32_t)(uintptr_t)data;
		if (mask[pos[i]]) {
			snprintf(errmsg, errlen, "the prefix is twice in the batch");
			rc = -EINVAL;
			break;
		}
		mask[pos[i]] = 1;
	}
	if (rc < 0) {
		*bad = i;
		goto out;
	}
	order_by_length(fib, pos, n, true, order);
	/* Every route shorter than one in the batch is in the copy when that
	 * one leaves it: the covers, found once, hold for both copies. */
	for (i = 0; i < n; i++)
		covers[i] = fib_cover(fib, &fib->routes[order[i]]);
	rc = delete_from_copy(fib, next, order, covers, n, mask);
	if (rc < 0) {
		/* Nothing published; the copy is rebuilt before it is. */
		fib->stale[next] = true;
		snprintf(errmsg, errlen, "the FIB could not be rebuilt: %s", strerror(-rc));
		goto out;
	}
	fib_publish(fib, next);
	if (delete_from_copy(fib, prev, order, covers, n, mask) < 0)
		fib->stale[prev] = true;

	for (i = 0; i < n; i++)
		old[i] = fib->routes[pos[i]];
	/* Remove from the list, highest position first: the last route moves
	 * into each hole, and it is never one still to be removed. */
	qsort(pos, n, sizeof(*pos), cmp_desc);
	for (i = 0; i < n; i++) {
		uint32_t p = pos[i], last;

		if (fib->routes[p].state == FP_ROUTE_DOWN)
			fib->nroutes_down--;
		fib_index_del(fib, fib->routes[p].prefix, fib->routes[p].plen);
		last = --fib->nroutes;
		if (p != last) {
			fib->routes[p] = fib->routes[last];
			fib_index_move(fib, &fib->routes[p], p);
		}
	}
out:
	free(pos);
	free(order);
	free(covers);
	free(mask);
	return rc;
}

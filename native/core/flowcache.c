/*
 * core/flowcache.c — per-lcore flow cache; see core/flowcache.h for the rules.
 * Only the owning lcore calls these functions (no locks by design).
 */
#include <string.h>

#include "flowcache.h"


static inline size_t
align64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

size_t
fp_flowcache_memsize(uint32_t maxflows, uint32_t hashsize)
{
	return align64(sizeof(struct fp_flowcache)) +
	       align64((size_t)hashsize * sizeof(uint32_t)) +
	       (size_t)maxflows * sizeof(struct fp_flow_entry);
}

struct fp_flowcache *
fp_flowcache_init(void *mem, uint32_t maxflows, uint32_t hashsize,
		  const struct fp_flowcache_counters *ctr)
{
	struct fp_flowcache *fc = mem;
	uint8_t *p = mem;
	uint32_t i;

	if (hashsize == 0 || (hashsize & (hashsize - 1)) != 0 ||
	    hashsize > FP_FLOWCACHE_MAX_HASHSIZE ||
	    maxflows > FP_FLOWCACHE_MAX_FLOWS)
		return NULL;

	memset(fc, 0, sizeof(*fc));
	fc->maxflows = maxflows;
	fc->hashsize = hashsize;
	fc->ctr = *ctr;
	fc->buckets = (uint32_t *)(p + align64(sizeof(*fc)));
	fc->entries = (struct fp_flow_entry *)(p + align64(sizeof(*fc)) +
					       align64((size_t)hashsize * 4));
	for (i = 0; i < hashsize; i++)
		fc->buckets[i] = FP_FLOW_NONE;
	/* Free list threaded through hash_next, in index order. */
	for (i = 0; i < maxflows; i++) {
		fc->entries[i].in_use = 0;
		fc->entries[i].hash_next = i + 1 < maxflows ? i + 1 : FP_FLOW_NONE;
	}
	fc->free_head = maxflows ? 0 : FP_FLOW_NONE;
	fc->fifo_newest = fc->fifo_oldest = FP_FLOW_NONE;
	*fc->ctr.inuse = 0;
	return fc;
}

/* Unlink an entry from its bucket chain and the FIFO list. */
static void
flow_unlink(struct fp_flowcache *fc, struct fp_flow_entry *e)
{
	uint32_t idx = (uint32_t)(e - fc->entries);
	uint32_t *pp = &fc->buckets[e->bucket];

	while (*pp != idx)
		pp = &fc->entries[*pp].hash_next;
	*pp = e->hash_next;

	if (e->fifo_prev != FP_FLOW_NONE)
		fc->entries[e->fifo_prev].fifo_next = e->fifo_next;
	else
		fc->fifo_newest = e->fifo_next;
	if (e->fifo_next != FP_FLOW_NONE)
		fc->entries[e->fifo_next].fifo_prev = e->fifo_prev;
	else
		fc->fifo_oldest = e->fifo_prev;
}

/* Link an entry at the head of its bucket and as the newest in the FIFO. */
static void
flow_link(struct fp_flowcache *fc, struct fp_flow_entry *e, uint32_t bucket)
{
	uint32_t idx = (uint32_t)(e - fc->entries);

	e->bucket = bucket;
	e->hash_next = fc->buckets[bucket];
	fc->buckets[bucket] = idx;
	e->fifo_prev = FP_FLOW_NONE;
	e->fifo_next = fc->fifo_newest;
	if (fc->fifo_newest != FP_FLOW_NONE)
		fc->entries[fc->fifo_newest].fifo_prev = idx;
	fc->fifo_newest = idx;
	if (fc->fifo_oldest == FP_FLOW_NONE)
		fc->fifo_oldest = idx;
}

/* Add an entry's per-flow counters to the lcore totals (ip6flow_addstats). */
static void
flow_fold(struct fp_flowcache *fc, struct fp_flow_entry *e)
{
	*fc->ctr.folded_uses += e->uses;
	*fc->ctr.folded_forwarded += e->uses - e->dropped;
	*fc->ctr.folded_dropped += e->dropped;
	e->uses = e->dropped = e->scan_uses = 0;
}

/* Return a removed entry to the free list. */
static void
flow_release(struct fp_flowcache *fc, struct fp_flow_entry *e)
{
	e->in_use = 0;
	e->hash_next = fc->free_head;
	fc->free_head = (uint32_t)(e - fc->entries);
	fc->inuse--;
	*fc->ctr.inuse = fc->inuse;
}

void
fp_flowcache_remove(struct fp_flowcache *fc, struct fp_flow_entry *e)
{
	flow_unlink(fc, e);
	flow_fold(fc, e);
	flow_release(fc, e);
}

struct fp_flow_entry *
fp_flowcache_insert(struct fp_flowcache *fc, const struct fp_flow_key *key,
		    uint32_t hash, const struct fp_flow_action *action,
		    uint32_t generation, uint64_t now)
{
	uint32_t bucket = hash & (fc->hashsize - 1);
	struct fp_flow_entry *e;

	if (fc->maxflows == 0)
		return NULL;

	e = fp_flowcache_lookup(fc, key, hash);
	if (e != NULL) {
		/* Refresh: as ip6flow_create, fold and reset, re-insert as newest. */
		flow_unlink(fc, e);
		flow_fold(fc, e);
	} else if (fc->free_head != FP_FLOW_NONE) {
		e = &fc->entries[fc->free_head];
		fc->free_head = e->hash_next;
		fc->inuse++;
		*fc->ctr.inuse = fc->inuse;
	} else {
		/* Full: reap the oldest (FIFO replacement, as ip6_flow.c). */
		e = &fc->entries[fc->fifo_oldest];
		flow_unlink(fc, e);
		flow_fold(fc, e);
		(*fc->ctr.reap)++;
	}

	e->key = *key;
	__builtin_memcpy(e->dst_mac, action->dst_mac, 6);
	e->out_port = action->out_port;
	e->out_mtu = action->out_mtu;
	e->nexthop = action->nexthop;
	e->neigh = action->neigh;
	e->generation = generation;
	e->created = now;
	e->last_used = now;
	e->uses = e->dropped = e->scan_uses = 0;
	e->in_use = 1;
	flow_link(fc, e, bucket);
	(*fc->ctr.insert)++;
	return e;
}

uint32_t
fp_flowcache_expire(struct fp_flowcache *fc, uint64_t now, uint64_t idle_cycles,
		    uint32_t current_gen, uint32_t max_visit, uint8_t *touched,
		    uint32_t ntouched)
{
	uint32_t removed = 0;
	uint32_t n;

	if (fc->maxflows == 0 || fc->inuse == 0)
		return 0;
	if (max_visit > fc->maxflows)
		max_visit = fc->maxflows;
	for (n = 0; n < max_visit; n++) {
		struct fp_flow_entry *e = &fc->entries[fc->scan_cursor];

		if (++fc->scan_cursor == fc->maxflows)
			fc->scan_cursor = 0;
		if (!e->in_use)
			continue;
		if (e->generation != current_gen) {
			fp_flowcache_remove(fc, e);
			(*fc->ctr.invalidate)++;
			removed++;
		} else if (e->uses != e->scan_uses) {
			e->scan_uses = e->uses; /* used since the last visit */
			e->last_used = now;
			if (e->neigh < ntouched)
				touched[e->neigh] = 1;
		} else if (now - e->last_used > idle_cycles) {
			fp_flowcache_remove(fc, e);
			(*fc->ctr.expire)++;
			removed++;
		}
	}
	return removed;
}

void
fp_flowcache_flush(struct fp_flowcache *fc)
{
	while (fc->fifo_oldest != FP_FLOW_NONE) {
		fp_flowcache_remove(fc, &fc->entries[fc->fifo_oldest]);
		(*fc->ctr.invalidate)++;
	}
}

uint32_t
fp_flowcache_snapshot(const struct fp_flowcache *fc, struct fp_flow_entry *out,
		      uint32_t max)
{
	uint32_t n = 0;
	uint32_t i = fc->fifo_oldest;

	while (i != FP_FLOW_NONE && n < max) {
		out[n++] = fc->entries[i];
		i = fc->entries[i].fifo_prev;
	}
	return n;
}

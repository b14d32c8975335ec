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

uint32_t
fp_flowcache_nslots(uint32_t maxflows, uint32_t hashsize)
{
	uint64_t want = (uint64_t)maxflows + maxflows / 2;
	uint64_t n = hashsize;

	/* Bad geometry is refused by fp_flowcache_init; size it as nothing. */
	if (maxflows == 0 || hashsize == 0 || (hashsize & (hashsize - 1)) != 0 ||
	    hashsize > FP_FLOWCACHE_MAX_HASHSIZE || maxflows > FP_FLOWCACHE_MAX_FLOWS)
		return 0;
	while (n < want || n < 2)
		n <<= 1;
	return (uint32_t)n;
}

size_t
fp_flowcache_memsize(uint32_t maxflows, uint32_t hashsize)
{
	size_t nslots = fp_flowcache_nslots(maxflows, hashsize);

	return align64(sizeof(struct fp_flowcache)) +
	       nslots * (sizeof(struct fp_flow_entry) + sizeof(struct fp_flow_meta));
}

struct fp_flowcache *
fp_flowcache_init(void *mem, uint32_t maxflows, uint32_t hashsize,
		  const struct fp_flowcache_counters *ctr)
{
	struct fp_flowcache *fc = mem;
	uint8_t *p = mem;

	if (hashsize == 0 || (hashsize & (hashsize - 1)) != 0 ||
	    hashsize > FP_FLOWCACHE_MAX_HASHSIZE ||
	    maxflows > FP_FLOWCACHE_MAX_FLOWS)
		return NULL;

	memset(fc, 0, sizeof(*fc));
	fc->maxflows = maxflows;
	fc->hashsize = hashsize;
	fc->nslots = fp_flowcache_nslots(maxflows, hashsize);
	fc->mask = fc->nslots ? fc->nslots - 1 : 0;
	fc->ctr = *ctr;
	p += align64(sizeof(*fc));
	fc->entries = fc->nslots ? (struct fp_flow_entry *)p : NULL;
	fc->meta = fc->nslots ? (struct fp_flow_meta *)(p + (size_t)fc->nslots *
							 sizeof(struct fp_flow_entry))
			      : NULL;
	/* The memory is zeroed: every slot is empty (in_use 0). */
	fc->fifo_newest = fc->fifo_oldest = FP_FLOW_NONE;
	*fc->ctr.inuse = 0;
	return fc;
}

struct fp_flow_entry *
fp_flowcache_probe(struct fp_flowcache *fc, const uint64_t k[4],
		   uint32_t label_port, uint32_t hash)
{
	uint32_t i = fp_flowcache_home_slot(fc, hash) + 1, d;

	for (d = 2; d <= FP_FLOW_PROBE_MAX; d++) {
		struct fp_flow_entry *e = &fc->entries[++i & fc->mask];

		if (!e->in_use)
			return NULL;
		if (fp_flow_key_eq_words(e, k, label_port))
			return e;
	}
	return NULL;
}

/* FIFO (insertion order, newest first) through the cold halves. */
static void
fifo_unlink(struct fp_flowcache *fc, uint32_t idx)
{
	struct fp_flow_meta *m = &fc->meta[idx];

	if (m->fifo_prev != FP_FLOW_NONE)
		fc->meta[m->fifo_prev].fifo_next = m->fifo_next;
	else
		fc->fifo_newest = m->fifo_next;
	if (m->fifo_next != FP_FLOW_NONE)
		fc->meta[m->fifo_next].fifo_prev = m->fifo_prev;
	else
		fc->fifo_oldest = m->fifo_prev;
}

static void
fifo_link_newest(struct fp_flowcache *fc, uint32_t idx)
{
	struct fp_flow_meta *m = &fc->meta[idx];

	m->fifo_prev = FP_FLOW_NONE;
	m->fifo_next = fc->fifo_newest;
	if (fc->fifo_newest != FP_FLOW_NONE)
		fc->meta[fc->fifo_newest].fifo_prev = idx;
	fc->fifo_newest = idx;
	if (fc->fifo_oldest == FP_FLOW_NONE)
		fc->fifo_oldest = idx;
}

/* Add a slot's per-flow counters to the lcore totals (ip6flow_addstats). */
static void
flow_fold(struct fp_flowcache *fc, uint32_t idx)
{
	struct fp_flow_entry *e = &fc->entries[idx];
	struct fp_flow_meta *m = &fc->meta[idx];

	*fc->ctr.folded_uses += e->uses;
	*fc->ctr.folded_forwarded += e->uses - m->dropped;
	*fc->ctr.folded_dropped += m->dropped;
	e->uses = m->dropped = m->scan_uses = 0;
}

/* Move a live slot to an empty one; the FIFO neighbours follow it. */
static void
flow_move(struct fp_flowcache *fc, uint32_t from, uint32_t to)
{
	struct fp_flow_meta *m;

	fc->entries[to] = fc->entries[from];
	fc->meta[to] = fc->meta[from];
	fc->entries[from].in_use = 0;
	m = &fc->meta[to];
	if (m->fifo_prev != FP_FLOW_NONE)
		fc->meta[m->fifo_prev].fifo_next = to;
	else
		fc->fifo_newest = to;
	if (m->fifo_next != FP_FLOW_NONE)
		fc->meta[m->fifo_next].fifo_prev = to;
	else
		fc->fifo_oldest = to;
}

/* Empty a slot and shift back the entries after it that may move closer to
 * their home, so that no lookup meets a hole before its key (no tombstones:
 * a miss still stops at the first empty slot). */
static void
flow_vacate(struct fp_flowcache *fc, uint32_t hole)
{
	uint32_t j = hole;

	fc->entries[hole].in_use = 0;
	for (;;) {
		const struct fp_flow_entry *e;
		uint32_t home;

		j = (j + 1) & fc->mask;
		e = &fc->entries[j];
		if (!e->in_use)
			return;
		home = fp_flowcache_home_slot(fc, e->hash);
		/* The hole lies on e's probe path before e: e may move there. */
		if (((hole - home) & fc->mask) < ((j - home) & fc->mask)) {
			flow_move(fc, j, hole);
			hole = j;
		}
	}
}

static void
flow_remove_at(struct fp_flowcache *fc, uint32_t idx)
{
	fifo_unlink(fc, idx);
	flow_fold(fc, idx);
	flow_vacate(fc, idx);
	fc->inuse--;
	*fc->ctr.inuse = fc->inuse;
}

void
fp_flowcache_remove(struct fp_flowcache *fc, struct fp_flow_entry *e)
{
	flow_remove_at(fc, (uint32_t)(e - fc->entries));
}

/* A slot for a new flow of this hash: the first empty one on its probe
 * path, else (a crowded neighbourhood, rare at two-thirds load) the oldest
 * flow on that path, reaped in place. */
static uint32_t
flow_slot_for(struct fp_flowcache *fc, uint32_t hash)
{
	uint32_t i = fp_flowcache_home_slot(fc, hash), victim = i, d;

	for (d = 0; d <= FP_FLOW_PROBE_MAX; d++, i = (i + 1) & fc->mask) {
		if (!fc->entries[i].in_use) {
			fc->inuse++;
			*fc->ctr.inuse = fc->inuse;
			return i;
		}
		if (fc->meta[i].created < fc->meta[victim].created)
			victim = i;
	}
	fifo_unlink(fc, victim);
	flow_fold(fc, victim);
	(*fc->ctr.reap)++;
	return victim;
}

struct fp_flow_entry *
fp_flowcache_insert(struct fp_flowcache *fc, const struct fp_flow_key *key,
		    uint32_t hash, const struct fp_flow_action *action,
		    uint32_t generation, uint64_t now)
{
	struct fp_flow_entry *e;
	struct fp_flow_meta *m;
	uint32_t idx;

	if (fc->maxflows == 0)
		return NULL;

	e = fp_flowcache_lookup(fc, key, hash);
	if (e != NULL) {
		/* Refresh: as ip6flow_create, fold and reset, re-insert as newest. */
		idx = (uint32_t)(e - fc->entries);
		fifo_unlink(fc, idx);
		flow_fold(fc, idx);
	} else {
		if (fc->inuse == fc->maxflows) {
			/* Full: reap the oldest (FIFO replacement, as ip6_flow.c). */
			flow_remove_at(fc, fc->fifo_oldest);
			(*fc->ctr.reap)++;
		}
		idx = flow_slot_for(fc, hash);
		e = &fc->entries[idx];
	}

	m = &fc->meta[idx];
	e->key = *key;
	__builtin_memcpy(e->dst_mac, action->dst_mac, 6);
	e->out_port = action->out_port;
	e->generation = generation;
	e->hash = hash;
	e->in_use = 1;
	e->uses = 0;
	m->dropped = m->scan_uses = 0;
	m->out_mtu = action->out_mtu;
	m->nexthop = action->nexthop;
	m->neigh = action->neigh;
	m->created = now;
	m->last_used = now;
	fifo_link_newest(fc, idx);
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
	if (max_visit > fc->nslots)
		max_visit = fc->nslots;
	/* A removal may shift a later entry back over the cursor: that entry
	 * waits one more round for its visit, which only delays its expiry. */
	for (n = 0; n < max_visit; n++) {
		uint32_t idx = fc->scan_cursor;
		struct fp_flow_entry *e = &fc->entries[idx];
		struct fp_flow_meta *m = &fc->meta[idx];

		fc->scan_cursor = (fc->scan_cursor + 1) & fc->mask;
		if (!e->in_use)
			continue;
		if (e->generation != current_gen) {
			flow_remove_at(fc, idx);
			(*fc->ctr.invalidate)++;
			removed++;
		} else if (e->uses != m->scan_uses) {
			m->scan_uses = e->uses; /* used since the last visit */
			m->last_used = now;
			if (m->neigh < ntouched)
				touched[m->neigh] = 1;
		} else if (now - m->last_used > idle_cycles) {
			flow_remove_at(fc, idx);
			(*fc->ctr.expire)++;
			removed++;
		}
	}
	return removed;
}

void
fp_flowcache_flush(struct fp_flowcache *fc)
{
	/* Everything goes: fold and clear each live slot, nothing to shift. */
	while (fc->fifo_oldest != FP_FLOW_NONE) {
		uint32_t idx = fc->fifo_oldest;

		fc->fifo_oldest = fc->meta[idx].fifo_prev;
		flow_fold(fc, idx);
		fc->entries[idx].in_use = 0;
		(*fc->ctr.invalidate)++;
	}
	fc->fifo_newest = FP_FLOW_NONE;
	fc->inuse = 0;
	*fc->ctr.inuse = 0;
}

uint32_t
fp_flowcache_snapshot(const struct fp_flowcache *fc, struct fp_flow_record *out,
		      uint32_t max)
{
	uint32_t n = 0;
	uint32_t i = fc->fifo_oldest;

	while (i != FP_FLOW_NONE && n < max) {
		const struct fp_flow_entry *e = &fc->entries[i];
		const struct fp_flow_meta *m = &fc->meta[i];
		struct fp_flow_record *r = &out[n++];

		r->key = e->key;
		memcpy(r->dst_mac, e->dst_mac, 6);
		r->out_port = e->out_port;
		r->out_mtu = m->out_mtu;
		r->generation = e->generation;
		r->nexthop = m->nexthop;
		r->neigh = m->neigh;
		r->uses = e->uses;
		r->dropped = m->dropped;
		r->created = m->created;
		r->last_used = m->last_used;
		i = m->fifo_prev;
	}
	return n;
}

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

/* The packed heads, with 3 bytes of slack: fp_flowcache_head reads 4 bytes
 * from the last head's first byte. */
static size_t
flow_heads_bytes(uint32_t hashsize, uint32_t head_bits)
{
	return ((size_t)hashsize * head_bits + 7) / 8 + 3;
}

size_t
fp_flowcache_memsize(uint32_t maxflows, uint32_t hashsize, uint32_t nadj)
{
	return align64(sizeof(struct fp_flowcache)) +
	       align64(flow_heads_bytes(hashsize, fp_flowcache_head_bits(maxflows))) +
	       align64((size_t)nadj * sizeof(struct fp_flow_adj)) +
	       (size_t)maxflows * sizeof(struct fp_flow_entry);
}

struct fp_flowcache *
fp_flowcache_init(void *mem, uint32_t maxflows, uint32_t hashsize, uint32_t nadj,
		  const struct fp_flowcache_counters *ctr)
{
	struct fp_flowcache *fc = mem;
	uint8_t *p = mem;
	uint32_t i;

	if (hashsize == 0 || (hashsize & (hashsize - 1)) != 0 ||
	    hashsize > FP_FLOWCACHE_MAX_HASHSIZE ||
	    maxflows > FP_FLOWCACHE_MAX_FLOWS || nadj > FP_FLOW_MAX_NEIGH)
		return NULL;

	memset(fc, 0, sizeof(*fc));
	fc->maxflows = maxflows;
	fc->hashsize = hashsize;
	fc->nadj = nadj;
	fc->ctr = *ctr;
	p += align64(sizeof(*fc));
	fc->head_bits = fp_flowcache_head_bits(maxflows);
	fc->head_none = (UINT32_C(1) << fc->head_bits) - 1;
	fc->heads = p;
	p += align64(flow_heads_bytes(hashsize, fc->head_bits));
	fc->adj = (struct fp_flow_adj *)p;
	p += align64((size_t)nadj * sizeof(struct fp_flow_adj));
	fc->entries = (struct fp_flow_entry *)p;
	/* All ones: every chain empty. */
	memset(fc->heads, 0xff, flow_heads_bytes(hashsize, fc->head_bits));
	memset(fc->adj, 0, (size_t)nadj * sizeof(struct fp_flow_adj));
	/* Free list threaded through hash_next, in index order. */
	for (i = 0; i < maxflows; i++) {
		fc->entries[i].key.label_port = FP_FLOW_FREE;
		fc->entries[i].hash_next = i + 1 < maxflows ? i + 1 : FP_FLOW_NONE;
	}
	fc->free_head = maxflows ? 0 : FP_FLOW_NONE;
	fp_flow_admit_init(&fc->admit);
	*fc->ctr.inuse = 0;
	return fc;
}

static inline bool
flow_in_use(const struct fp_flow_entry *e)
{
	return e->key.label_port != FP_FLOW_FREE;
}

/* Point a hash's chain head at entry idx (FP_FLOW_NONE: empty). Only the
 * lcore that owns the cache writes it, so the read-modify-write of the
 * neighbouring heads' bits is safe. */
static void
flow_head_set(struct fp_flowcache *fc, uint32_t hash, uint32_t idx)
{
	uint32_t bit = fp_flowcache_head_bit(fc, hash), w;
	uint32_t v = idx == FP_FLOW_NONE ? fc->head_none : idx;
	uint8_t *p = fc->heads + (bit >> 3);

	memcpy(&w, p, 4);
	w = (w & ~(fc->head_none << (bit & 7))) | v << (bit & 7);
	memcpy(p, &w, 4);
}

/* Unlink an entry from its bucket chain (its bucket is its key's hash). */
static void
flow_unlink(struct fp_flowcache *fc, struct fp_flow_entry *e)
{
	uint32_t idx = (uint32_t)(e - fc->entries);
	uint32_t hash = fp_flowcache_hash(&e->key);
	uint32_t i = fp_flowcache_head(fc, hash);

	if (i == idx) {
		flow_head_set(fc, hash, e->hash_next);
		return;
	}
	while (fc->entries[i].hash_next != idx)
		i = fc->entries[i].hash_next;
	fc->entries[i].hash_next = e->hash_next;
}

/* Add an entry's per-flow counters to the lcore totals (ip6flow_addstats)
 * and restart them. */
static void
flow_fold(struct fp_flowcache *fc, struct fp_flow_entry *e)
{
	uint64_t uses = fp_flow_uses(e);

	*fc->ctr.folded_uses += uses;
	*fc->ctr.folded_forwarded += uses - e->dropped;
	*fc->ctr.folded_dropped += e->dropped;
	e->uses_neigh &= ~FP_FLOW_USES_MASK;
	e->dropped = 0;
}

/* Return a removed entry to the free list. */
static void
flow_release(struct fp_flowcache *fc, struct fp_flow_entry *e)
{
	e->key.label_port = FP_FLOW_FREE;
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

/* The entry to reap from a full table (see fp_flowcache_insert). */
static struct fp_flow_entry *
flow_victim(struct fp_flowcache *fc, uint32_t generation, uint32_t tick)
{
	struct fp_flow_entry *best = NULL;
	uint32_t best_idle = 0, n;

	for (n = 0; n < FP_FLOW_REAP_SAMPLE && n < fc->maxflows; n++) {
		struct fp_flow_entry *e = &fc->entries[fc->reap_cursor];
		uint32_t idle = tick - e->stamp;

		if (++fc->reap_cursor == fc->maxflows)
			fc->reap_cursor = 0;
		if (e->generation != generation ||
		    (fc->admit.shift != 0 &&
		     !fp_flow_in_share(fc->admit.shift, fp_flowcache_hash(&e->key))))
			return e;
		if (best == NULL || idle > best_idle) {
			best = e;
			best_idle = idle;
		}
	}
	return best;
}

struct fp_flow_entry *
fp_flowcache_insert(struct fp_flowcache *fc, const struct fp_flow_key *key,
		    uint32_t hash, const struct fp_flow_action *action,
		    uint32_t generation, uint64_t now)
{
	uint32_t tick = fp_flow_tick(now);
	struct fp_flow_entry *e;

	if (fc->maxflows == 0 || action->neigh >= fc->nadj)
		return NULL;

	e = fp_flowcache_lookup(fc, key, hash);
	if (e != NULL) {
		/* Refresh, as ip6flow_create: fold and reset, same bucket. */
		flow_fold(fc, e);
	} else {
		if (fc->free_head != FP_FLOW_NONE) {
			e = &fc->entries[fc->free_head];
			fc->free_head = e->hash_next;
			fc->inuse++;
			*fc->ctr.inuse = fc->inuse;
		} else {
			/* Full: every slot is in use, so the sample is too. */
			e = flow_victim(fc, generation, tick);
			flow_unlink(fc, e);
			flow_fold(fc, e);
			(*fc->ctr.reap)++;
		}
		e->key = *key;
		e->hash_next = fp_flowcache_head(fc, hash);
		flow_head_set(fc, hash, (uint32_t)(e - fc->entries));
	}
	__builtin_memcpy(fc->adj[action->neigh].dst_mac, action->dst_mac, 6);
	fc->adj[action->neigh].out_port = action->out_port;
	e->generation = generation;
	e->uses_neigh = (uint64_t)action->neigh << FP_FLOW_USES_BITS;
	e->dropped = 0;
	e->created = tick;
	e->stamp = tick;
	(*fc->ctr.insert)++;
	return e;
}

uint32_t
fp_flowcache_expire(struct fp_flowcache *fc, uint64_t now, uint64_t idle_cycles,
		    uint32_t current_gen, uint32_t max_visit, uint8_t *touched,
		    uint32_t ntouched)
{
	uint32_t tick = fp_flow_tick(now);
	uint64_t idle_ticks64 = idle_cycles >> FP_FLOW_TICK_SHIFT;
	uint32_t idle_ticks = idle_ticks64 > UINT32_MAX ? UINT32_MAX : (uint32_t)idle_ticks64;
	/* Before the first whole pass, "since the previous visit" is taken
	 * as the idle timeout. */
	uint32_t recent = fc->pass_ticks ? fc->pass_ticks : idle_ticks;
	uint32_t removed = 0;
	uint32_t n;

	if (fc->maxflows == 0 || fc->inuse == 0)
		return 0;
	if (max_visit > fc->maxflows)
		max_visit = fc->maxflows;
	for (n = 0; n < max_visit; n++) {
		struct fp_flow_entry *e = &fc->entries[fc->scan_cursor];
		uint32_t idle;

		if (++fc->scan_cursor == fc->maxflows) {
			fc->scan_cursor = 0;
			fc->pass_ticks = tick - fc->pass_start;
			fc->pass_start = tick;
		}
		if (!flow_in_use(e))
			continue;
		idle = tick - e->stamp;
		if (e->generation != current_gen) {
			fp_flowcache_remove(fc, e);
			(*fc->ctr.invalidate)++;
			removed++;
		} else if (idle > idle_ticks) {
			fp_flowcache_remove(fc, e);
			(*fc->ctr.expire)++;
			removed++;
		} else {
			uint32_t neigh = fp_flow_neigh(e);

			if (idle <= recent && neigh < ntouched)
				touched[neigh] = 1;
			if (fp_flow_uses(e) >= FP_FLOW_USES_REFRESH ||
			    e->dropped >= FP_FLOW_DROPPED_REFRESH) {
				flow_fold(fc, e);
				e->created = tick;
			}
			if (tick - e->created > UINT32_C(1) << 31)
				e->created = tick - (UINT32_C(1) << 31);
		}
	}
	return removed;
}

void
fp_flowcache_flush(struct fp_flowcache *fc)
{
	uint32_t i;

	for (i = 0; i < fc->maxflows && fc->inuse > 0; i++)
		if (flow_in_use(&fc->entries[i])) {
			fp_flowcache_remove(fc, &fc->entries[i]);
			(*fc->ctr.invalidate)++;
		}
}

uint32_t
fp_flowcache_snapshot(const struct fp_flowcache *fc, struct fp_flow_info *out,
		      uint32_t max, uint64_t now)
{
	uint32_t tick = fp_flow_tick(now);
	/* Cycles since now's tick began, so that a stamp of this tick reads
	 * as idle for that long, not as if it were in the future. */
	uint64_t frac = now & ((UINT64_C(1) << FP_FLOW_TICK_SHIFT) - 1);
	uint32_t n = 0, i;

	for (i = 0; i < fc->maxflows && n < max; i++) {
		const struct fp_flow_entry *e = &fc->entries[i];
		const struct fp_flow_adj *a;
		struct fp_flow_info *o;

		if (!flow_in_use(e))
			continue;
		a = fp_flowcache_adj(fc, e);
		o = &out[n++];
		o->key = e->key;
		__builtin_memcpy(o->dst_mac, a->dst_mac, 6);
		o->out_port = a->out_port;
		o->generation = e->generation;
		o->neigh = fp_flow_neigh(e);
		o->uses = fp_flow_uses(e);
		o->dropped = e->dropped;
		o->age_cycles = ((uint64_t)(uint32_t)(tick - e->created) << FP_FLOW_TICK_SHIFT) + frac;
		o->idle_cycles = ((uint64_t)(uint32_t)(tick - e->stamp) << FP_FLOW_TICK_SHIFT) + frac;
	}
	return n;
}

uint32_t
fp_flowcache_admit_update(struct fp_flowcache *fc, uint64_t hits, uint64_t misses)
{
	struct fp_flow_admit *a = &fc->admit;
	uint64_t reaps = *fc->ctr.reap;
	uint64_t h = hits - a->hits, lookups = h + (misses - a->misses);
	uint64_t r = reaps - a->reaps;
	bool thrash;

	if (!a->enabled)
		return 0;
	if (!a->primed || lookups < FP_FLOW_ADMIT_WINDOW) {
		if (!a->primed) {
			a->hits = hits;
			a->misses = misses;
			a->reaps = reaps;
			a->primed = true;
		}
		return a->shift;
	}
	a->hits = hits;
	a->misses = misses;
	a->reaps = reaps;
	if (a->shift > 0 && fc->inuse < fc->maxflows - fc->maxflows / 8) {
		a->shift = 0;
		a->quiet = 0;
		a->quiet_needed = 1;
		a->thrashed = a->just_widened = false;
		return 0;
	}
	thrash = h * 4 < lookups && r * 16 > lookups;
	if (thrash && a->just_widened) {
		/* The wider share does not fit: back at once, and wait longer
		 * before the next try. */
		if (a->quiet_needed < FP_FLOW_ADMIT_MAX_QUIET)
			a->quiet_needed *= 2;
		a->shift++;
		a->quiet = 0;
		a->thrashed = false;
	} else if (thrash) {
		/* Two windows in a row: the first after a change still reaps
		 * what the old share left in the table. */
		if (a->thrashed && a->shift < FP_FLOW_ADMIT_MAX_SHIFT) {
			a->shift++;
			a->thrashed = false;
		} else {
			a->thrashed = true;
		}
		a->quiet = 0;
	} else if (a->shift > 0 && ++a->quiet >= a->quiet_needed) {
		a->shift--;
		a->quiet = 0;
		a->just_widened = true;
		a->thrashed = false;
		return a->shift;
	}
	if (!thrash)
		a->thrashed = false;
	a->just_widened = false;
	return a->shift;
}

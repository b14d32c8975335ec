/*
 * core/flowcache.h — per-lcore IPv6 fast-forward flow cache.
 *
 * Semantics follow NetBSD's ip6_flow.c (ip6flow): a flow is keyed by source,
 * destination and flow label (plus, here, the ingress port); an entry is made
 * after a packet was forwarded by the slow path (FIB + neighbour); none is
 * made for ICMPv6; maxflows 0 disables the cache; when full, an entry is
 * reaped (a stale one first, else the least recently used of a sample: see
 * fp_flowcache_insert); entries idle longer than the timeout expire
 * (ip6flow_slowtimo); per-flow uses /
 * forwarded / dropped are folded into the lcore counters when an entry dies
 * (ip6flow_addstats).
 *
 * Where fastpath differs: there is no lock. Each worker lcore owns one cache
 * and is the only thread that reads or writes it; other threads ask it to
 * flush, resize or snapshot through its command ring. Validity is a
 * generation number compared on every hit, instead of rtcache_validate().
 *
 * This file has no DPDK dependency so the logic is unit-tested on its own.
 * Memory is given by the caller (fp_flowcache_memsize()), so nothing here
 * allocates.
 */
#ifndef FP_FLOWCACHE_H
#define FP_FLOWCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

#define FP_FLOWCACHE_MAX_FLOWS (1u << 22)
#define FP_FLOWCACHE_MAX_HASHSIZE (1u << 20)
#define FP_FLOW_NONE UINT32_MAX

/* What a flow matches: (src, dst, flow label, in-port). 36 bytes, no padding,
 * so keys compare word by word. */
struct fp_flow_key {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t label_port; /* flow label (low 20 bits) | ingress port << 20 */
};

/* What the slow path resolved for a flow; the cache keeps the next hop's
 * MAC and egress per neighbour (struct fp_flow_adj), not per flow. */
struct fp_flow_action {
	uint8_t dst_mac[6];
	uint16_t out_port;
	uint16_t out_mtu; /* checked by the slow path; hits read the port's MTU */
	uint32_t neigh;   /* neighbour-table index of the next hop */
};

/* A neighbour's rewrite, as this lcore last resolved it. Every change of a
 * neighbour's MAC or its removal bumps the global generation, so an entry
 * that passes the generation check finds here a MAC at least as new as the
 * one it was built with (the slow path rewrites it on every resolve). */
struct fp_flow_adj {
	uint8_t dst_mac[6];
	uint16_t out_port;
};

/* Time in the cache is kept in ticks of 2^20 TSC cycles (0.26-0.5 ms at
 * 2-4 GHz) in 32 bits, so that two stamps fit the entry's one line; 2^32
 * ticks are 13-26 days, far beyond the longest idle timeout (1 hour). */
#define FP_FLOW_TICK_SHIFT 20
/* Per-flow uses share a word with the neighbour index (20 bits: the
 * neighbour table holds at most 2^20). An entry whose uses pass 2^43, or
 * whose dropped pass 2^31, is refreshed by the expiry scan: its counts go to
 * the lcore totals and restart, as ip6flow_create's refresh does. */
#define FP_FLOW_USES_BITS 44
#define FP_FLOW_USES_MASK ((UINT64_C(1) << FP_FLOW_USES_BITS) - 1)
#define FP_FLOW_USES_REFRESH (UINT64_C(1) << 43)
#define FP_FLOW_DROPPED_REFRESH (UINT32_C(1) << 31)
#define FP_FLOW_MAX_NEIGH (UINT32_C(1) << (64 - FP_FLOW_USES_BITS))
/* key.label_port of a free entry: in-port 4095, never an interface. */
#define FP_FLOW_FREE UINT32_MAX
/* Entries the reap samples when the table is full. */
#define FP_FLOW_REAP_SAMPLE 8

/*
 * One entry is one cache line, and it is everything the cache keeps per flow
 * (so 1M flows take 61 MiB, plus their bucket heads): a hit reads the key,
 * generation and neighbour index, and writes uses and stamp, in this one
 * line, then reads the neighbour's rewrite from the adjacency array (a few
 * lines for all flows). What is not here is derived: forwarded = uses -
 * dropped (a hit forwards or drops); the bucket is the key's hash; a free
 * entry has key.label_port FP_FLOW_FREE; idleness is now - stamp, which the
 * hit writes, so the scan keeps no copy of the counts.
 */
struct fp_flow_entry {
	struct fp_flow_key key;
	uint32_t generation; /* global generation the entry was built under */
	uint32_t hash_next;  /* next index in the bucket chain, or the free list */
	uint32_t dropped;    /* hits dropped (hop limit, too big, port down) */
	uint64_t uses_neigh; /* uses (low 44 bits) | neighbour index << 44 */
	uint32_t created;    /* tick; the scan keeps it within 2^31 of now */
	uint32_t stamp;      /* tick of the last hit */
} __attribute__((aligned(64)));

#ifndef __cplusplus
_Static_assert(sizeof(struct fp_flow_entry) == 64, "a flow entry is one cache line");
#endif

/* One flow as listed (fp_flowcache_snapshot): the entry with its rewrite
 * and times resolved, and full-width counters. */
struct fp_flow_info {
	struct fp_flow_key key;
	uint8_t dst_mac[6];
	uint16_t out_port;
	uint32_t generation;
	uint32_t neigh;
	uint64_t uses;
	uint64_t dropped;
	uint64_t age_cycles;  /* since it was created (or refreshed) */
	uint64_t idle_cycles; /* since its last hit */
};

static inline uint32_t
fp_flow_tick(uint64_t tsc)
{
	return (uint32_t)(tsc >> FP_FLOW_TICK_SHIFT);
}

static inline uint64_t
fp_flow_uses(const struct fp_flow_entry *e)
{
	return e->uses_neigh & FP_FLOW_USES_MASK;
}

static inline uint32_t
fp_flow_neigh(const struct fp_flow_entry *e)
{
	return (uint32_t)(e->uses_neigh >> FP_FLOW_USES_BITS);
}

/* Count a packet against a flow (uses cannot carry into the neighbour bits:
 * the scan refreshes an entry long before). */
static inline void
fp_flow_hit(struct fp_flow_entry *e, uint32_t tick)
{
	e->uses_neigh++;
	e->stamp = tick;
}

/*
 * Admission under a flow flood (fastpath's own; ip6_flow.c caches every
 * forwarded flow). When more flows cycle through a worker than its table
 * holds, each miss reaps an entry that would have been hit later, hits fall
 * to nothing, and the cache costs an insert and a reap per packet for no
 * gain (at 100k flows and 16384 entries: half the rate of the cache off).
 * Then only a fixed share of flows, 1 in 2^shift by the top bits of their
 * hash, gets an entry: the same flows every time, so the share that fits
 * stays and is hit, and the rest go the slow path without the insert. A
 * reap takes an entry outside the share before any inside it, so what an
 * earlier, wider share left makes room first.
 * Judged every FP_FLOW_ADMIT_WINDOW lookups: thrashing (fewer than 1 in 4
 * lookups hit while more than 1 in 16 reap) in two windows in a row narrows
 * the share by half; quiet_needed windows in a row without it widen it
 * again, and a widening that thrashes at once is taken back and doubles
 * quiet_needed (up to FP_FLOW_ADMIT_MAX_QUIET), so the share settles
 * instead of swinging. A table that holds its flows
 * never reaps, so never narrows; once the flood is over, its entries expire
 * and the room this leaves admits every flow again.
 */
#define FP_FLOW_ADMIT_WINDOW 4096
#define FP_FLOW_ADMIT_MAX_SHIFT 8
#define FP_FLOW_ADMIT_MAX_QUIET 256

struct fp_flow_admit {
	uint32_t shift;        /* 0: every flow is admitted */
	uint32_t quiet;        /* windows in a row without thrashing */
	uint32_t quiet_needed; /* before the share widens */
	bool just_widened;     /* the window after a widening */
	bool thrashed;         /* the previous window thrashed */
	bool primed;           /* the window's start is set */
	bool enabled;          /* false: every flow, always (config floodAdmission) */
	uint64_t hits, misses, reaps; /* the owner's counts at the window's start */
};

/* Every flow admitted; the first judgement only takes the owner's counts
 * as its window's start. */
static inline void
fp_flow_admit_init(struct fp_flow_admit *a)
{
	a->shift = 0;
	a->quiet = 0;
	a->quiet_needed = 1;
	a->just_widened = false;
	a->thrashed = false;
	a->primed = false;
	a->enabled = true;
	a->hits = a->misses = a->reaps = 0;
}

/* Whether a flow with this hash is in the share 1 in 2^shift. */
static inline bool
fp_flow_in_share(uint32_t shift, uint32_t hash)
{
	return shift == 0 || (hash >> (32 - shift)) == 0;
}

/* Whether a miss with this flow hash gets an entry. */
static inline bool
fp_flow_admitted(const struct fp_flow_admit *a, uint32_t hash)
{
	return fp_flow_in_share(a->shift, hash);
}

struct fp_flowcache;

/* Judge the window that ends at these cumulative counts of the owner's hits
 * and misses (reaps are the cache's own), once it has FP_FLOW_ADMIT_WINDOW
 * lookups. A table with room (under 7/8 full) admits every flow again at
 * once: nothing is thrashing it. Returns the shift in force. */
uint32_t fp_flowcache_admit_update(struct fp_flowcache *fc, uint64_t hits,
				   uint64_t misses);

/* Counters the cache updates: indexes into the owner's counter array. */
struct fp_flowcache_counters {
	uint64_t *insert, *reap, *expire, *invalidate;
	uint64_t *folded_uses, *folded_forwarded, *folded_dropped;
	uint64_t *inuse;
};

struct fp_flowcache {
	uint32_t maxflows;
	uint32_t hashsize; /* power of two */
	uint32_t nadj;     /* adjacency slots: the neighbour table's size */
	uint32_t inuse;
	uint32_t free_head; /* free list through hash_next */
	uint32_t scan_cursor;
	uint32_t reap_cursor;
	uint32_t pass_start; /* tick the scan's current pass began */
	uint32_t pass_ticks; /* how long its last whole pass took */
	struct fp_flowcache_counters ctr;
	struct fp_flow_admit admit;   /* which misses get an entry */
	/* hashsize chain heads, head_bits each, packed: an entry index, or
	 * head_none (all ones) for an empty chain. As wide as maxflows needs
	 * and no wider: a million flows' 2^20 heads take 2.5 MiB, not 4
	 * (issue 12's 64 MiB per lcore), and 10k flows' 32768 heads 60 KiB,
	 * not 128, of the L2 the hits share. */
	uint8_t *heads;
	uint32_t head_bits;
	uint32_t head_none;
	struct fp_flow_adj *adj;      /* nadj rewrites, by neighbour index */
	struct fp_flow_entry *entries; /* maxflows entries */
};

/* Bits of a bucket head for a table of maxflows entries: indexes
 * 0..maxflows-1 and the all-ones empty mark. */
static inline uint32_t
fp_flowcache_head_bits(uint32_t maxflows)
{
	uint32_t b = 1;

	while ((UINT32_C(1) << b) - 1 < maxflows)
		b++;
	return b;
}

/* Bytes needed for a cache of this geometry (header + buckets + adjacency
 * + entries). The memory given to fp_flowcache_init must be 64-byte
 * aligned. */
size_t fp_flowcache_memsize(uint32_t maxflows, uint32_t hashsize, uint32_t nadj);

/* Lay a cache out in memory of fp_flowcache_memsize() bytes. Returns NULL
 * on bad geometry (hashsize not a power of two, out of range; nadj above
 * FP_FLOW_MAX_NEIGH). */
struct fp_flowcache *fp_flowcache_init(void *mem, uint32_t maxflows,
				       uint32_t hashsize, uint32_t nadj,
				       const struct fp_flowcache_counters *ctr);

/* The rewrite of a hit's next hop. */
static inline const struct fp_flow_adj *
fp_flowcache_adj(const struct fp_flowcache *fc, const struct fp_flow_entry *e)
{
	return &fc->adj[fp_flow_neigh(e)];
}

/* One 8-byte word of a key or header, whatever its alignment. */
static inline uint64_t
fp_flow_word(const void *p)
{
	uint64_t w;

	__builtin_memcpy(&w, p, 8);
	return w;
}

/* Hash of a key given as its four address words (source, then destination)
 * and label_port: CRC32C when the CPU has SSE4.2, a multiply mix otherwise.
 * The words go in as values: copying a header into a local key first made
 * the compiler store it with two 16-byte vector stores and reload it as
 * four 8-byte words, for the hash and again for the compare (6-7 cycles a
 * packet on Zen 3, measured in isolation). */
static inline uint32_t
fp_flowcache_hash_words(uint64_t s0, uint64_t s1, uint64_t d0, uint64_t d1,
			uint32_t label_port)
{
#if defined(__SSE4_2__)
	/* Two independent chains (source, destination) halve the latency. */
	uint64_t hs = _mm_crc32_u64(0xdeadbeef, s0);
	uint64_t hd = _mm_crc32_u64(0x9e3779b9, d0);
	hs = _mm_crc32_u64(hs, s1);
	hd = _mm_crc32_u64(hd, d1);
	return _mm_crc32_u32((uint32_t)(hs ^ (hd << 1) ^ (hd >> 31)), label_port);
#else
	const uint64_t k[5] = { s0, s1, d0, d1, label_port };
	uint64_t h = 0x9e3779b97f4a7c15ull;
	int i;
	for (i = 0; i < 5; i++) {
		h ^= k[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 33;
	}
	return (uint32_t)h;
#endif
}

/* Hash of a key. Inline: it runs for every packet. */
static inline uint32_t
fp_flowcache_hash(const struct fp_flow_key *key)
{
	return fp_flowcache_hash_words(fp_flow_word(key->src), fp_flow_word(key->src + 8),
				       fp_flow_word(key->dst), fp_flow_word(key->dst + 8),
				       key->label_port);
}

/* Hash of the key a packet would have, read straight from its IPv6 header
 * (src and dst at ip6 + 8) and its label_port; equals fp_flowcache_hash(). */
static inline uint32_t
fp_flowcache_hash_ip6(const uint8_t *ip6, uint32_t label_port)
{
	return fp_flowcache_hash_words(fp_flow_word(ip6 + 8), fp_flow_word(ip6 + 16),
				       fp_flow_word(ip6 + 24), fp_flow_word(ip6 + 32),
				       label_port);
}

/* Walk a bucket chain from its head for the key (s0, s1, d0, d1,
 * label_port), held in registers. */
static inline struct fp_flow_entry *
fp_flowcache_lookup_words(struct fp_flowcache *fc, uint64_t s0, uint64_t s1,
			  uint64_t d0, uint64_t d1, uint32_t label_port, uint32_t i)
{
	while (i != FP_FLOW_NONE) {
		struct fp_flow_entry *e = &fc->entries[i];
		const uint8_t *ek = (const uint8_t *)&e->key;
		if (((fp_flow_word(ek) ^ s0) | (fp_flow_word(ek + 8) ^ s1) |
		     (fp_flow_word(ek + 16) ^ d0) | (fp_flow_word(ek + 24) ^ d1) |
		     (uint64_t)(e->key.label_port ^ label_port)) == 0)
			return e;
		i = e->hash_next;
	}
	return NULL;
}

/* Walk a bucket chain from its head for the flow of an IPv6 header, without
 * building a key first. */
static inline struct fp_flow_entry *
fp_flowcache_lookup_ip6(struct fp_flowcache *fc, const uint8_t *ip6,
			uint32_t label_port, uint32_t i)
{
	return fp_flowcache_lookup_words(fc, fp_flow_word(ip6 + 8), fp_flow_word(ip6 + 16),
					 fp_flow_word(ip6 + 24), fp_flow_word(ip6 + 32),
					 label_port, i);
}

/* The label_port word of a packet's key. */
static inline uint32_t
fp_flow_label_port(const uint8_t *ip6, uint16_t in_port)
{
	return ((uint32_t)(ip6[1] & 0x0f) << 16) | ((uint32_t)ip6[2] << 8) |
	       ip6[3] | ((uint32_t)in_port << 20);
}

/* Walk a bucket chain from its head for a key. */
static inline struct fp_flow_entry *
fp_flowcache_lookup_from(struct fp_flowcache *fc, const struct fp_flow_key *key,
			 uint32_t i)
{
	return fp_flowcache_lookup_words(fc, fp_flow_word(key->src), fp_flow_word(key->src + 8),
					 fp_flow_word(key->dst), fp_flow_word(key->dst + 8),
					 key->label_port, i);
}

/* Bit offset of a hash's chain head in fc->heads (< 2^20 heads of at most
 * 23 bits: it fits 32 bits). */
static inline uint32_t
fp_flowcache_head_bit(const struct fp_flowcache *fc, uint32_t hash)
{
	return (hash & (fc->hashsize - 1)) * fc->head_bits;
}

/* Where a hash's chain head is, for prefetching. */
static inline const uint8_t *
fp_flowcache_bucket(const struct fp_flowcache *fc, uint32_t hash)
{
	return fc->heads + (fp_flowcache_head_bit(fc, hash) >> 3);
}

/* A hash's chain head: an entry index, or FP_FLOW_NONE. One 4-byte load
 * (a head of at most 23 bits starts within its first byte's 8 bits; the
 * array has 3 bytes of slack after the last). */
static inline uint32_t
fp_flowcache_head(const struct fp_flowcache *fc, uint32_t hash)
{
	uint32_t bit = fp_flowcache_head_bit(fc, hash), w;

	__builtin_memcpy(&w, fc->heads + (bit >> 3), 4);
	w = (w >> (bit & 7)) & fc->head_none;
	return w == fc->head_none ? FP_FLOW_NONE : w;
}

/* Find the entry for a key, or NULL. Does not check the generation. */
static inline struct fp_flow_entry *
fp_flowcache_lookup(struct fp_flowcache *fc, const struct fp_flow_key *key,
		    uint32_t hash)
{
	return fp_flowcache_lookup_from(fc, key, fp_flowcache_head(fc, hash));
}

/* Create or refresh the entry for key (ip6flow_create). An existing entry has
 * its counters folded and reset. When full, one entry is reaped: of
 * FP_FLOW_REAP_SAMPLE entries from a moving hand, the first built under
 * another generation, else the least recently used (the rule of
 * ip6flow_reap's table-wide pass, on a sample: a whole pass, or the LRU
 * list that ip6flow keeps for its one-entry reap, would cost per packet or
 * 8 bytes per flow; an entry outside the admitted share, see struct
 * fp_flow_admit, goes before a live one inside it). Returns NULL when
 * maxflows is 0 or the action's
 * neighbour index is beyond nadj. The new entry has no uses yet. */
struct fp_flow_entry *fp_flowcache_insert(struct fp_flowcache *fc,
					  const struct fp_flow_key *key,
					  uint32_t hash,
					  const struct fp_flow_action *action,
					  uint32_t generation, uint64_t now);

/* Remove one entry, folding its counters (ip6flow_free). */
void fp_flowcache_remove(struct fp_flowcache *fc, struct fp_flow_entry *e);

/* Expire entries idle for more than idle_cycles (since their last hit's
 * stamp), or built under another generation than current_gen; visits at
 * most max_visit slots from a cursor so the cost per call is bounded.
 * An entry hit since the scan's previous visit (within the last pass's
 * length) also sets touched[its neigh] = 1 (when neigh < ntouched): the
 * owner's hint to Neighbor Unreachability Detection that the next hop
 * carries traffic, which hits alone never say. The visit also refreshes
 * entries whose counts near their width and keeps `created` in range.
 * Returns how many were removed. */
uint32_t fp_flowcache_expire(struct fp_flowcache *fc, uint64_t now,
			     uint64_t idle_cycles, uint32_t current_gen,
			     uint32_t max_visit, uint8_t *touched,
			     uint32_t ntouched);

/* Remove every entry (ip6flow_invalidate_all), folding counters. */
void fp_flowcache_flush(struct fp_flowcache *fc);

/* Describe up to max live entries into out, in table order, with ages and
 * idle times as of now (TSC). Returns the count. */
uint32_t fp_flowcache_snapshot(const struct fp_flowcache *fc,
			       struct fp_flow_info *out, uint32_t max, uint64_t now);

static inline uint32_t
fp_flow_key_label(const struct fp_flow_key *key)
{
	return key->label_port & 0xfffff;
}

static inline uint16_t
fp_flow_key_port(const struct fp_flow_key *key)
{
	return (uint16_t)(key->label_port >> 20);
}

/* Build a key from an IPv6 header (40 bytes at ip6) and an ingress port. */
static inline void
fp_flow_key_from_ip6(struct fp_flow_key *key, const uint8_t *ip6,
		     uint16_t in_port)
{
	__builtin_memcpy(key->src, ip6 + 8, 32);
	key->label_port = ((uint32_t)(ip6[1] & 0x0f) << 16) |
			  ((uint32_t)ip6[2] << 8) | ip6[3] | ((uint32_t)in_port << 20);
}

#endif

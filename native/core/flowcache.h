/*
 * core/flowcache.h — per-lcore IPv6 fast-forward flow cache.
 *
 * Semantics follow NetBSD's ip6_flow.c (ip6flow): a flow is keyed by source,
 * destination and flow label (plus, here, the ingress port); an entry is made
 * after a packet was forwarded by the slow path (FIB + neighbour); none is
 * made for ICMPv6; maxflows 0 disables the cache; when full, the oldest entry
 * is reaped (FIFO, as ip6flow_reap(1) does with TAILQ_LAST); entries idle
 * longer than the timeout expire (ip6flow_slowtimo); per-flow uses /
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

/* What to do with a hit. The source MAC and ethertype are not stored: the
 * source is the egress port's MAC and the ethertype stays IPv6. */
struct fp_flow_action {
	uint8_t dst_mac[6];
	uint16_t out_port;
	uint16_t out_mtu; /* for listing; the fast path reads the port's MTU */
	uint32_t nexthop; /* FIB next-hop value, for listing */
	uint32_t neigh;   /* neighbour-table index of the next hop */
};

/*
 * One entry, two cache lines. The first holds everything a hit reads or
 * writes (key, next-hop MAC, egress, generation, chain link, use count), so
 * a hit costs one cache line; the second is touched only on insert, removal,
 * the expiry scan and listing. Per-flow `forwarded` is uses - dropped: a hit
 * either forwards or drops.
 */
struct fp_flow_entry {
	struct fp_flow_key key;
	uint8_t dst_mac[6];
	uint16_t out_port;
	uint32_t generation; /* global generation the entry was built under */
	uint32_t hash_next;  /* next index in the bucket chain */
	uint32_t pad0;
	uint64_t uses;
	/* second cache line */
	uint64_t dropped;
	uint64_t scan_uses; /* uses seen by the previous expiry visit */
	uint64_t created;   /* TSC */
	uint64_t last_used; /* TSC of the visit that last saw uses change */
	uint32_t fifo_prev; /* towards newer */
	uint32_t fifo_next; /* towards older */
	uint32_t bucket;
	uint32_t nexthop;
	uint16_t out_mtu;
	uint16_t in_use;
	uint32_t neigh; /* the next hop's neighbour index (reachability hints) */
} __attribute__((aligned(64)));

/* Counters the cache updates: indexes into the owner's counter array. */
struct fp_flowcache_counters {
	uint64_t *insert, *reap, *expire, *invalidate;
	uint64_t *folded_uses, *folded_forwarded, *folded_dropped;
	uint64_t *inuse;
};

struct fp_flowcache {
	uint32_t maxflows;
	uint32_t hashsize; /* power of two */
	uint32_t inuse;
	uint32_t fifo_newest;
	uint32_t fifo_oldest;
	uint32_t free_head; /* free list through hash_next */
	uint32_t scan_cursor;
	uint32_t pad;
	struct fp_flowcache_counters ctr;
	uint32_t *buckets;            /* hashsize heads */
	struct fp_flow_entry *entries; /* maxflows entries */
};

/* Bytes needed for a cache of this geometry (header + buckets + entries).
 * The memory given to fp_flowcache_init must be 64-byte aligned. */
size_t fp_flowcache_memsize(uint32_t maxflows, uint32_t hashsize);

/* Lay a cache out in zeroed memory of fp_flowcache_memsize() bytes.
 * Returns NULL on bad geometry (hashsize not a power of two, out of range). */
struct fp_flowcache *fp_flowcache_init(void *mem, uint32_t maxflows,
				       uint32_t hashsize,
				       const struct fp_flowcache_counters *ctr);

/* Hash of a key (CRC32C when the CPU has SSE4.2, a multiply mix otherwise).
 * Inline: it runs for every packet. */
static inline uint32_t
fp_flowcache_hash(const struct fp_flow_key *key)
{
	const uint64_t *k = (const uint64_t *)key;
#if defined(__SSE4_2__)
	/* Two independent chains (source, destination) halve the latency. */
	uint64_t hs = _mm_crc32_u64(0xdeadbeef, k[0]);
	uint64_t hd = _mm_crc32_u64(0x9e3779b9, k[2]);
	hs = _mm_crc32_u64(hs, k[1]);
	hd = _mm_crc32_u64(hd, k[3]);
	return _mm_crc32_u32((uint32_t)(hs ^ (hd << 1) ^ (hd >> 31)), key->label_port);
#else
	uint64_t h = 0x9e3779b97f4a7c15ull;
	int i;
	for (i = 0; i < 5; i++) {
		h ^= i < 4 ? k[i] : key->label_port;
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 33;
	}
	return (uint32_t)h;
#endif
}

/* Hash of the key a packet would have, read straight from its IPv6 header
 * (src and dst at ip6 + 8) and its label_port; equals fp_flowcache_hash(). */
static inline uint32_t
fp_flowcache_hash_ip6(const uint8_t *ip6, uint32_t label_port)
{
	struct fp_flow_key k;

	__builtin_memcpy(k.src, ip6 + 8, 32);
	k.label_port = label_port;
	return fp_flowcache_hash(&k);
}

/* Walk a bucket chain from its head for the flow of an IPv6 header, without
 * building a key first. */
static inline struct fp_flow_entry *
fp_flowcache_lookup_ip6(struct fp_flowcache *fc, const uint8_t *ip6,
			uint32_t label_port, uint32_t i)
{
	uint64_t k[4];

	__builtin_memcpy(k, ip6 + 8, 32);
	while (i != FP_FLOW_NONE) {
		struct fp_flow_entry *e = &fc->entries[i];
		const uint64_t *ek = (const uint64_t *)&e->key;
		if (((ek[0] ^ k[0]) | (ek[1] ^ k[1]) | (ek[2] ^ k[2]) |
		     (ek[3] ^ k[3]) | (uint64_t)(e->key.label_port ^ label_port)) == 0)
			return e;
		i = e->hash_next;
	}
	return NULL;
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
	const uint64_t *k = (const uint64_t *)key;

	while (i != FP_FLOW_NONE) {
		struct fp_flow_entry *e = &fc->entries[i];
		const uint64_t *ek = (const uint64_t *)&e->key;
		if (((ek[0] ^ k[0]) | (ek[1] ^ k[1]) | (ek[2] ^ k[2]) |
		     (ek[3] ^ k[3]) | (uint64_t)(e->key.label_port ^ key->label_port)) == 0)
			return e;
		i = e->hash_next;
	}
	return NULL;
}

/* A hash's bucket (its chain head), for prefetching. */
static inline uint32_t *
fp_flowcache_bucket(const struct fp_flowcache *fc, uint32_t hash)
{
	return &fc->buckets[hash & (fc->hashsize - 1)];
}

/* Find the entry for a key, or NULL. Does not check the generation. */
static inline struct fp_flow_entry *
fp_flowcache_lookup(struct fp_flowcache *fc, const struct fp_flow_key *key,
		    uint32_t hash)
{
	return fp_flowcache_lookup_from(fc, key,
					fc->buckets[hash & (fc->hashsize - 1)]);
}

/* Create or refresh the entry for key (ip6flow_create). An existing entry has
 * its counters folded and reset. When full, the oldest entry is reaped.
 * Returns NULL only when maxflows is 0. */
struct fp_flow_entry *fp_flowcache_insert(struct fp_flowcache *fc,
					  const struct fp_flow_key *key,
					  uint32_t hash,
					  const struct fp_flow_action *action,
					  uint32_t generation, uint64_t now);

/* Remove one entry, folding its counters (ip6flow_free). */
void fp_flowcache_remove(struct fp_flowcache *fc, struct fp_flow_entry *e);

/* Expire entries idle for more than idle_cycles, or built under another
 * generation than current_gen; visits at most max_visit slots from a cursor
 * so the cost per call is bounded. Idleness is seen by the scan (uses did
 * not change since its previous visit), so a hit writes no timestamp.
 * An entry used since the previous visit also sets touched[its neigh] = 1
 * (when neigh < ntouched): the owner's hint to Neighbor Unreachability
 * Detection that the next hop carries traffic, which hits alone never say.
 * Returns how many were removed. */
uint32_t fp_flowcache_expire(struct fp_flowcache *fc, uint64_t now,
			     uint64_t idle_cycles, uint32_t current_gen,
			     uint32_t max_visit, uint8_t *touched,
			     uint32_t ntouched);

/* Remove every entry (ip6flow_invalidate_all), folding counters. */
void fp_flowcache_flush(struct fp_flowcache *fc);

/* Copy up to max live entries into out (oldest first). Returns the count. */
uint32_t fp_flowcache_snapshot(const struct fp_flowcache *fc,
			       struct fp_flow_entry *out, uint32_t max);

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

/*
 * core/trie6.h — fastpath's IPv6 longest-prefix-match table: a DIR-24-8
 * trie (a 2^24-entry first level indexed by the address's first 3 bytes,
 * then 256-entry tbl8 groups, one per further byte) whose entries carry the
 * length of the prefix that wrote them.
 *
 * Why not rte_fib6 (DPDK 22.11), which has the same lookup structure: it
 * keeps a RIB (a binary trie of every prefix) beside the table and walks it
 * several times per change to find covered and covering prefixes, which
 * made a full table (250,000 routes) take 3 s to load, two thirds of it in
 * RIB pointer chasing, and 2 x 64 bytes of RIB per route per copy; its tbl8
 * reservation count drifts on delete (the 5,444-change defect). Here a
 * change needs no RIB: each entry's prefix length (kept beside the table,
 * control side only) says whether a new prefix may overwrite it (a shorter
 * or equal one wrote it) and which entries a delete restores (those the
 * deleted prefix wrote), and the caller names the covering route to
 * restore them to (fastpath's route index finds it, core/fib.c). Groups are
 * allocated exactly and given back as soon as their 256 entries are alike,
 * so the groups in use are a function of the routes alone, not of their
 * history: two copies holding the same routes use the same number.
 *
 * A change never tears: an add counts the groups its path lacks before it
 * writes anything (-ENOSPC with nothing changed); a delete allocates none.
 *
 * Not safe for concurrent readers while it changes (a freed group is
 * reused at once): core/fib.c changes only the copy no worker reads.
 *
 * Entry: bit 31 set → the rest is a tbl8 group index; else a next hop
 * (31 bits, core/fib.h's encoding; 0 = no route).
 */
#ifndef FP_TRIE6_H
#define FP_TRIE6_H

#include <stddef.h>
#include <stdint.h>

#define FP_TRIE6_EXT 0x80000000u
#define FP_TRIE6_TBL24 (1u << 24)
#define FP_TRIE6_MAX_GROUPS (1u << 24) /* so that group indexes fit 31 bits easily */

struct fp_trie6 {
	uint32_t *tbl24;    /* read by workers */
	uint32_t *tbl8;     /* ngroups x 256, read by workers */
	uint8_t *len24;     /* prefix length that wrote each tbl24 entry */
	uint8_t *len8;      /* the same for tbl8 entries */
	uint32_t *free_groups; /* a stack of free group indexes */
	uint32_t nfree;
	uint32_t ngroups;
};

/* Bytes the workers' tables take (tbl24 + groups) and the control side's
 * length arrays, for a trie of `ngroups` groups. */
uint64_t fp_trie6_table_bytes(uint32_t ngroups);
uint64_t fp_trie6_control_bytes(uint32_t ngroups);

/* An empty trie (every address: next hop 0). NULL when out of memory or
 * ngroups is out of range. The tables come from EAL memory (hugepages where
 * there are some), the length arrays from the heap. */
struct fp_trie6 *fp_trie6_create(uint32_t ngroups, int socket_id);
void fp_trie6_free(struct fp_trie6 *t);

/* Add prefix/plen → nh (nh != 0, < 2^31), or rewrite the next hop of a
 * prefix already there. 0, or -ENOSPC (groups exhausted; nothing written)
 * or -EINVAL. */
int fp_trie6_add(struct fp_trie6 *t, const uint8_t prefix[16], uint8_t plen,
		 uint32_t nh);
/* Delete prefix/plen: its addresses go back to the covering route (the
 * longest prefix shorter than plen the trie holds: cover_nh, cover_len;
 * 0, 0 when there is none). The caller must name the true cover. */
int fp_trie6_delete(struct fp_trie6 *t, const uint8_t prefix[16], uint8_t plen,
		    uint32_t cover_nh, uint8_t cover_len);
/* Next hop and matching prefix length for one address (control side: the
 * length arrays). */
uint32_t fp_trie6_lookup_len(const struct fp_trie6 *t, const uint8_t addr[16],
			     uint8_t *plen);

static inline uint32_t
fp_trie6_groups_in_use(const struct fp_trie6 *t)
{
	return t->ngroups - t->nfree;
}

static inline uint32_t
fp_trie6_tbl24_index(const uint8_t a[16])
{
	return (uint32_t)a[0] << 16 | (uint32_t)a[1] << 8 | a[2];
}

static inline uint32_t
fp_trie6_lookup(const struct fp_trie6 *t, const uint8_t a[16])
{
	uint32_t e = t->tbl24[fp_trie6_tbl24_index(a)];
	unsigned i = 3;

	while (__builtin_expect((e & FP_TRIE6_EXT) != 0, 0))
		e = t->tbl8[(size_t)(e & ~FP_TRIE6_EXT) << 8 | a[i++]];
	return e;
}

/* Look up n addresses, level by level: the first-level entries of all are
 * prefetched before any is read, then each pass follows one more byte for
 * every address still in a group. The per-address walk was a chain of
 * dependent loads (six for a /64, each waiting for the last: 12% of the
 * worker on one `test` after the load, cache off); a pass's loads are
 * independent, so the core overlaps them. */
static inline void
fp_trie6_lookup_bulk(const struct fp_trie6 *t, const uint8_t (*a)[16],
		     uint32_t *nh, unsigned n)
{
	/* Locals: stores to nh[] could alias the table pointers otherwise. */
	const uint32_t *tbl24 = t->tbl24, *tbl8 = t->tbl8;
	unsigned i, depth;
	uint32_t ext = 0;

	for (i = 0; i < n; i++)
		__builtin_prefetch(&tbl24[fp_trie6_tbl24_index(a[i])]);
	for (i = 0; i < n; i++) {
		nh[i] = tbl24[fp_trie6_tbl24_index(a[i])];
		ext |= nh[i];
	}
	/* An address in a group at pass `depth` has followed depth - 3 group
	 * links, so byte `depth` indexes its next group. */
	for (depth = 3; depth < 16 && (ext & FP_TRIE6_EXT) != 0; depth++) {
		ext = 0;
		for (i = 0; i < n; i++) {
			uint32_t e = nh[i];

			if (e & FP_TRIE6_EXT) {
				e = tbl8[(size_t)(e & ~FP_TRIE6_EXT) << 8 | a[i][depth]];
				nh[i] = e;
				ext |= e;
			}
		}
	}
}

#endif

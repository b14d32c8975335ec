/*
 * core/neigh.h — neighbour table: (IPv6 address, port) → MAC and state.
 *
 * Writers: control operations only, serialised by fp_router.ctl_lock.
 * Readers: worker lcores, without locks. Entries live in a fixed array and
 * are updated in place under a per-entry sequence lock, so a reader never
 * uses a torn MAC. The (address, port) index is an rte_hash in lock-free
 * reader/writer mode; a deleted key's slot is freed only after a QSBR grace
 * period, so a concurrent lookup never reads a reused slot.
 *
 * States are RFC 4861's: static entries are PERMANENT; learned ones move
 * REACHABLE → STALE → DELAY → PROBE under Neighbor Unreachability Detection
 * on the control thread (control/nd.c). INCOMPLETE next hops live in the
 * control thread's resolution table, not here. Entries referenced by
 * gateway routes are kept (state NONE, unresolved) when their MAC is
 * deleted, so the route keeps its next-hop index.
 */
#ifndef FP_NEIGH_H
#define FP_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

struct rte_hash;
struct rte_rcu_qsbr;

enum fp_neigh_state {
	FP_NEIGH_NONE = 0, /* unresolved: no link-layer address */
	FP_NEIGH_INCOMPLETE,
	FP_NEIGH_REACHABLE,
	FP_NEIGH_STALE,
	FP_NEIGH_DELAY,
	FP_NEIGH_PROBE,
	FP_NEIGH_PERMANENT,
};

struct fp_neigh {
	uint32_t seq; /* odd while being written */
	uint8_t state;
	bool in_use;
	uint16_t port_idx;
	uint8_t mac[6];
	uint8_t addr[16];
	uint8_t probes;      /* NUD: unicast probes sent in PROBE */
	uint32_t route_refs; /* gateway routes using this entry */
	uint64_t updated_tsc;
	/* NUD timers, control side only (under ctl_lock; lcores never read) */
	uint64_t nud_deadline; /* TSC: REACHABLE ends / DELAY ends / next probe */
	uint64_t last_used;    /* TSC a worker last reported traffic to it */
} __attribute__((aligned(64)));

struct fp_neigh_key {
	uint8_t addr[16];
	uint16_t port_idx;
	uint16_t pad;
};

struct fp_neigh_table {
	struct fp_neigh *entries;
	uint32_t max;
	uint32_t count;
	struct rte_hash *index;
	struct rte_rcu_qsbr *qsbr;
};

int fp_neigh_init(struct fp_neigh_table *t, uint32_t max,
		  struct rte_rcu_qsbr *qsbr, char *errmsg, size_t errlen);
void fp_neigh_free(struct fp_neigh_table *t);
/* Index of the entry for (addr, port), creating an unresolved one if asked.
 * Returns the index, or -ENOENT / -ENOSPC. */
int fp_neigh_get(struct fp_neigh_table *t, const uint8_t addr[16],
		 uint16_t port_idx, bool create);
/* Set a static (PERMANENT) link-layer address. Returns the index or -errno. */
int fp_neigh_set(struct fp_neigh_table *t, const uint8_t addr[16],
		 uint16_t port_idx, const uint8_t mac[6], uint8_t state);
/* Change an entry's state, keeping its MAC (NUD transitions). */
void fp_neigh_set_state(struct fp_neigh_table *t, uint32_t idx, uint8_t state);
/* Remove the link-layer address; frees the entry unless routes use it. */
int fp_neigh_delete(struct fp_neigh_table *t, const uint8_t addr[16],
		    uint16_t port_idx);
/* Drop one gateway-route reference, freeing an unresolved unused entry. */
void fp_neigh_unref(struct fp_neigh_table *t, uint32_t idx);
/* Lcore-side lookup of an index by (addr, port); -1 if none. */
int fp_neigh_lookup(const struct fp_neigh_table *t, const uint8_t addr[16],
		    uint16_t port_idx);

/* Consistent read of an entry's MAC and state (lcores, lock-free). */
static inline uint8_t
fp_neigh_read(const struct fp_neigh *n, uint8_t mac[6])
{
	uint32_t s1, s2;
	uint8_t state;

	do {
		s1 = __atomic_load_n(&n->seq, __ATOMIC_ACQUIRE);
		state = n->state;
		__builtin_memcpy(mac, n->mac, 6);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&n->seq, __ATOMIC_RELAXED);
	} while ((s1 & 1) || s1 != s2);
	return state;
}

static inline bool
fp_neigh_usable(uint8_t state)
{
	return state >= FP_NEIGH_REACHABLE;
}

#endif

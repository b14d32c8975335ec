/*
 * fp_fib.h — IPv6 FIB: DPDK rte_fib6 (DIR-24-8-style trie), double-buffered.
 *
 * Why rte_fib6 and not rte_lpm6: rte_fib6's trie does a bulk lookup with
 * fewer memory accesses for typical prefix lengths (/48, /64), its next hops
 * are up to 8 bytes, and it keeps its own RIB, so deletes restore the covering
 * route correctly.
 *
 * Why double-buffered: rte_fib6 (22.11) has no RCU integration; an update
 * frees and reuses tbl8 groups a concurrent reader may be walking. The control
 * side updates the inactive copy, publishes it with one atomic pointer store,
 * waits one QSBR grace period (every worker reports quiescence once per poll
 * loop, so this is microseconds), then applies the same change to the old
 * copy. Readers never lock; writers are serialised by fp_router.ctl_lock.
 *
 * Next-hop encoding (31 bits): 0 = no route, or FP_NH_TYPE in bits 28..30
 * and an index in bits 0..27.
 */
#ifndef FP_FIB_H
#define FP_FIB_H

#include <stdbool.h>
#include <stdint.h>

struct rte_fib6;
struct rte_rcu_qsbr;

#define FP_NH_NONE 0u
#define FP_NH_LOCAL (1u << 28)     /* for the router itself: punt */
#define FP_NH_CONNECTED (2u << 28) /* on-link, index = port index */
#define FP_NH_GATEWAY (3u << 28)   /* via a neighbour, index = neighbour idx */
#define FP_NH_TYPE_MASK (7u << 28)
#define FP_NH_INDEX_MASK ((1u << 28) - 1)

enum fp_route_kind {
	FP_ROUTE_STATIC,    /* added by the user */
	FP_ROUTE_CONNECTED, /* from an interface address */
	FP_ROUTE_LOCAL,     /* the interface address itself (/128) */
};

struct fp_route {
	uint8_t prefix[16];
	uint8_t plen;
	uint8_t kind;      /* enum fp_route_kind */
	uint16_t port_idx; /* egress port index */
	bool has_via;
	uint8_t via[16];
	uint32_t nexthop; /* encoded FIB value */
};

struct fp_fib {
	struct rte_fib6 *copy[2];
	struct rte_fib6 *active; /* read by lcores with an acquire load */
	struct rte_rcu_qsbr *qsbr;
	uint32_t max_routes;
	uint32_t nroutes;
	struct fp_route *routes; /* shadow list for listing and replay */
};

static inline struct rte_fib6 *
fp_fib_active(struct fp_fib *fib)
{
	return __atomic_load_n(&fib->active, __ATOMIC_ACQUIRE);
}

int fp_fib_init(struct fp_fib *fib, uint32_t max_routes,
		struct rte_rcu_qsbr *qsbr, char *errmsg, size_t errlen);
void fp_fib_free(struct fp_fib *fib);
/* Add a route; -EEXIST if the exact prefix exists, -ENOSPC when full. */
int fp_fib_add(struct fp_fib *fib, const struct fp_route *route);
/* Delete a route; -ENOENT if absent. The removed route is copied to *old. */
int fp_fib_delete(struct fp_fib *fib, const uint8_t prefix[16], uint8_t plen,
		  struct fp_route *old);
/* Find the route with exactly this prefix, or NULL. */
struct fp_route *fp_fib_find(struct fp_fib *fib, const uint8_t prefix[16],
			     uint8_t plen);
/* Zero the host bits of a prefix. */
void fp_prefix_mask(uint8_t out[16], const uint8_t in[16], uint8_t plen);

#endif

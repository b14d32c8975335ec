/*
 * core/fib.h — IPv6 FIB: two copies of fastpath's own DIR-24-8 trie
 * (core/trie6.h), double-buffered, with fastpath's route list as the source
 * of truth.
 *
 * Why its own trie and not DPDK's rte_fib6 (used up to 2026-12): rte_fib6
 * walks a RIB several times per change (a full table took 3 s to load, two
 * thirds of it there), keeps 2 x 64 bytes of RIB per route per copy, and in
 * 22.11 its tbl8 reservation count drifts on every delete until adds of
 * prefixes longer than /24 fail for good (5,444 changes with the default
 * size), which needed a patch of its private struct. The trie here needs no
 * RIB (its entries carry the prefix length that wrote them; a delete's
 * covering route comes from the route index), allocates groups exactly and
 * never half-applies a change.
 *
 * Why double-buffered: the trie reuses a freed group at once, so a reader
 * must never be on a copy that changes. The control side updates the
 * inactive copy, publishes it with one atomic pointer store, waits one QSBR
 * grace period (every worker reports quiescence once per poll loop, so this
 * is microseconds), then applies the same change to the old copy. Readers
 * never lock; writers are serialised by fp_router.ctl_lock. A copy that
 * refuses a change the other took (not expected: both hold the same routes,
 * so they use the same groups) is marked stale and rebuilt from the list
 * before it is published again. A copy is only ever published when it holds
 * exactly the list's up routes.
 *
 * Route state (routes follow link state): each route in the list is up or
 * down. A down route (its interface is administratively down or has no
 * carrier) is in the list only: in neither copy and left out of every
 * rebuild. Withdrawing a route is a delete from both copies, restoring it
 * an add, each through the same commit as any change; deleting a down route
 * touches the list only, and adding a route as down puts it in the list
 * only. The caller decides the state (core/routes.c, from the interface);
 * this layer only keeps it. A delete's addresses go back to the longest up
 * route that covers it (found in the index, one probe per prefix length the
 * list holds). native/test/fib_test.c still shows rte_fib6's defect on bare
 * rte_fib6, and churn through this layer.
 *
 * Next-hop encoding (31 bits): 0 = no route, or FP_NH_TYPE in bits 28..30
 * and an index in bits 0..27.
 */
#ifndef FP_FIB_H
#define FP_FIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fp_trie6;
struct rte_hash;
struct rte_rcu_qsbr;

#define FP_NH_NONE 0u
#define FP_NH_LOCAL (1u << 28)     /* for the router itself: punt */
#define FP_NH_CONNECTED (2u << 28) /* on-link, index = port index */
#define FP_NH_GATEWAY (3u << 28)   /* via a neighbour, index = neighbour idx */
#define FP_NH_GROUP (4u << 28)     /* ECMP, index = next-hop group (below) */
#define FP_NH_TYPE_MASK (7u << 28)
#define FP_NH_INDEX_MASK ((1u << 28) - 1)

/* Default tbl8 groups per copy when the config names none (1 KiB each with
 * 4-byte next hops): enough for several thousand long prefixes. */
#define FP_FIB_TBL8_DEFAULT 16384u

/*
 * Next-hop groups (ECMP, docs/flowlabels.md): a route whose next hop is
 * FP_NH_GROUP | g forwards through fib->nhg[g]. Workers read only
 * `bucket`, lock-free: a group is written before the route pointing at it
 * is published, never rewritten while a route points at it (a change of
 * members builds a new group and switches the route to it), and freed only
 * after the FIB change that stopped using it has passed its grace period.
 * The members (all of them, up or down) are the control side's record.
 */
#define FP_NHG_MAX 4096u
#define FP_NHG_MEMBERS 16u
#define FP_NHG_BUCKETS 64u
#define FP_NHG_WEIGHT_MAX 16u

struct fp_nhg_member {
	uint8_t via[16];
	uint16_t port_idx;
	bool has_via;
	uint8_t weight;   /* 1..FP_NHG_WEIGHT_MAX */
	uint8_t state;    /* enum fp_route_state */
	uint32_t nexthop; /* FP_NH_GATEWAY | neighbour or FP_NH_CONNECTED | port */
};

struct fp_nhgroup {
	uint32_t bucket[FP_NHG_BUCKETS]; /* read by workers: member next hops */
	uint8_t nmembers;
	bool in_use;
	struct fp_nhg_member members[FP_NHG_MEMBERS];
};

enum fp_route_kind {
	FP_ROUTE_STATIC,    /* added by the user */
	FP_ROUTE_CONNECTED, /* from an interface address */
	FP_ROUTE_LOCAL,     /* the interface address itself (/128) */
	FP_ROUTE_KERNEL,    /* imported from a Linux routing table (control/rtimport.c) */
};

enum fp_route_state {
	FP_ROUTE_UP = 0, /* in both FIB copies */
	FP_ROUTE_DOWN,   /* withdrawn: in the list only (see above) */
};

struct fp_route {
	uint8_t prefix[16];
	uint8_t plen;
	uint8_t kind;      /* enum fp_route_kind */
	uint16_t port_idx; /* egress port index */
	bool has_via;
	uint8_t state;     /* enum fp_route_state */
	uint8_t nh_count;  /* ECMP: members of its group (0: a single next hop) */
	uint8_t proto;     /* FP_ROUTE_KERNEL: the kernel's rtm_protocol; 0 otherwise */
	uint8_t via[16];
	uint32_t nexthop; /* encoded FIB value */
};

/* What the FIB holds and what it costs; gauges, except the counters noted. */
struct fp_fib_stats {
	uint32_t routes;      /* in the list, up and down */
	uint32_t routes_down; /* of which withdrawn (in neither copy) */
	uint32_t max_routes;
	uint32_t tbl8_groups;    /* per copy */
	uint32_t tbl8_in_use;    /* active copy */
	uint64_t bytes_per_copy; /* tbl24 + tbl8 groups + their prefix lengths */
	uint64_t rebuilds;       /* counter: copies recreated from the list */
	uint64_t rebuild_last_ns;
	uint64_t rebuild_max_ns;
};

struct fp_fib {
	struct fp_trie6 *copy[2];
	struct fp_trie6 *active; /* read by lcores with an acquire load */
	uint8_t active_idx;      /* copy[active_idx] == active */
	bool stale[2];           /* copy differs from the list: rebuild first */
	struct rte_rcu_qsbr *qsbr;
	uint32_t max_routes;
	uint32_t tbl8_groups;
	uint32_t nroutes;
	uint32_t nroutes_down; /* routes in the list with state FP_ROUTE_DOWN */
	struct fp_route *routes; /* the list: listing, replay, source of truth */
	struct rte_hash *index;  /* (prefix, plen) → position in routes[] */
	uint32_t len_count[129]; /* routes in the index per prefix length */
	unsigned instance;       /* names the index */
	uint64_t rebuilds;
	uint64_t rebuild_last_ns;
	uint64_t rebuild_max_ns;
	struct fp_nhgroup *nhg;  /* FP_NHG_MAX groups, allocated at init */
	uint32_t nhg_used;
	uint32_t nhg_hint;       /* where the next free search starts */
};

static inline struct fp_trie6 *
fp_fib_active(struct fp_fib *fib)
{
	return __atomic_load_n(&fib->active, __ATOMIC_ACQUIRE);
}

/* Create both copies and the index; tbl8_groups 0 picks the default. */
int fp_fib_init(struct fp_fib *fib, uint32_t max_routes, uint32_t tbl8_groups,
		struct rte_rcu_qsbr *qsbr, char *errmsg, size_t errlen);
void fp_fib_free(struct fp_fib *fib);
/* Add a route; -EEXIST if the exact prefix exists, -ENOSPC when the route
 * list or the tbl8 groups are full (errmsg says which, and the config field
 * that raises it), -ENOMEM when a copy cannot be recreated. A route whose
 * state is FP_ROUTE_DOWN goes into the list only. */
int fp_fib_add(struct fp_fib *fib, const struct fp_route *route, char *errmsg,
	       size_t errlen);
/* Delete a route (from the list only when it is down); -ENOENT if absent.
 * The removed route is copied to *old. */
int fp_fib_delete(struct fp_fib *fib, const uint8_t prefix[16], uint8_t plen,
		  struct fp_route *old);
/* Withdraw a route from both copies (FP_ROUTE_DOWN) or put it back
 * (FP_ROUTE_UP); it stays in the list either way. Returns 1 when the state
 * changed, 0 when it already was `state`, -ENOENT if absent; a restore the
 * FIB refuses returns what an add would (-ENOSPC, errmsg says which limit)
 * and leaves the route down. */
int fp_fib_set_state(struct fp_fib *fib, const uint8_t prefix[16], uint8_t plen,
		     uint8_t state, char *errmsg, size_t errlen);
/* Find the route with exactly this prefix, or NULL (O(1), hashed). */
struct fp_route *fp_fib_find(struct fp_fib *fib, const uint8_t prefix[16],
			     uint8_t plen);
/* Point an existing route at another next hop (a group switch): in both
 * copies through the same commit as any change when it is up, in the list
 * only when it is down. */
int fp_fib_set_nexthop(struct fp_fib *fib, const uint8_t prefix[16], uint8_t plen,
		       uint32_t nexthop, char *errmsg, size_t errlen);
/* A free group (zeroed, in_use set) or -ENOSPC; and give one back. Freeing
 * is the caller's to time: only after the FIB change that stopped using
 * the group (fib_commit waits the grace period). */
int fp_nhg_alloc(struct fp_fib *fib);
void fp_nhg_free(struct fp_fib *fib, uint32_t g);
/* Fill a group's buckets by weight from its up members; returns how many
 * members are up (0: the buckets are left empty). */
unsigned fp_nhg_fill(struct fp_nhgroup *g);
/*
 * Batches (core/fib_batch.c): many routes added or deleted as one change —
 * applied to the inactive copy, published with one grace-period wait, then
 * applied to the other copy — instead of one publish and wait per route.
 * All or nothing: on any refusal the list and the active copy are as
 * before, *bad is the index of the entry refused and errmsg says why.
 * add_many: -EEXIST (the prefix exists, or is twice in the batch), -ENOSPC
 * (routing.maxRoutes or routing.tbl8Groups, errmsg names which).
 * delete_many: -ENOENT (absent), -EINVAL
 * (twice in the batch); the removed routes are copied to old[] in batch
 * order for the caller to release.
 */
int fp_fib_add_many(struct fp_fib *fib, const struct fp_route *routes, uint32_t n,
		    uint32_t *bad, char *errmsg, size_t errlen);
int fp_fib_delete_many(struct fp_fib *fib, const uint8_t (*prefixes)[16],
		       const uint8_t *plens, uint32_t n, struct fp_route *old,
		       uint32_t *bad, char *errmsg, size_t errlen);
void fp_fib_get_stats(const struct fp_fib *fib, struct fp_fib_stats *st);
/* Zero the host bits of a prefix. */
void fp_prefix_mask(uint8_t out[16], const uint8_t in[16], uint8_t plen);

#endif

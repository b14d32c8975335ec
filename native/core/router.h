/*
 * core/router.h — the router's shared state and its control API.
 *
 * Threads and ownership (see docs/architecture.md):
 *  - Worker lcores run fp_lcore_main(). Each owns its struct fp_lcore: rx
 *    queues, one tx queue per port, tx buffers, flow cache, counters. Nobody
 *    else writes them; other threads talk to a lcore through its cmd ring.
 *  - The control thread (fp_ctl) drains the punt rings.
 *  - Control operations (routes, neighbours, flow-cache commands, start/stop)
 *    come from the JS thread or libuv pool threads; they are serialised by
 *    fp_router.ctl_lock, which no lcore ever takes.
 *  - The FIB is double-buffered and swapped under QSBR (core/fib.h); neighbour
 *    entries are updated in place under a per-entry sequence lock (core/neigh.h);
 *    every such change bumps fp_router.generation so flow-cache entries built
 *    earlier are rebuilt on their next hit.
 */
#ifndef FP_ROUTER_H
#define FP_ROUTER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <rte_atomic.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_rcu_qsbr.h>

#include "counters.h"
#include "fib.h"
#include "flowcache.h"
#include "flowselect.h"
#include "linkq.h"
#include "neigh.h"
#include "tokens.h"
#include "../datapath/tcpstat.h"

#define FP_MAX_PORTS 16  /* physical ports (DPDK devices) */
#define FP_MAX_IFACES 32 /* interface slots: ports, then clones (a destroyed clone's
			  * slot is reused once every slot has been used) */
#define FP_VLAN_IDS 4096
#define FP_MAX_MCAST 32  /* multicast groups joined per interface (control/mld.c) */
#define FP_MAX_WORKERS 64
#define FP_MAX_ADDRS 16
#define FP_BURST 32
#define FP_TXBUF 64
#define FP_NAME_MAX 32
#define FP_DEVARGS_MAX 512
#define FP_ERRMSG_MAX 256

/* An error for the caller: an errno-style code and a message naming the input. */
struct fp_err {
	int code; /* positive errno */
	char msg[FP_ERRMSG_MAX];
};

int fp_err_set(struct fp_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* An interface address (IPv6 with prefix length). */
struct fp_addr {
	uint8_t addr[16];
	uint8_t plen;
};

/* An interface address's state (RFC 4862 5.4). A tentative address answers
 * nothing but duplicate address detection and is never a source; a
 * duplicated one loses its local route and stays so until the interface
 * comes up again. */
enum fp_addr_state {
	FP_ADDR_NONE = 0, /* not (yet) configured: the "previous" of a new one */
	FP_ADDR_TENTATIVE,
	FP_ADDR_PREFERRED,
	FP_ADDR_DUPLICATED,
};

/* Port configuration handed to fp_router_start(). */
struct fp_port_config {
	char name[FP_NAME_MAX];
	char device[FP_DEVARGS_MAX]; /* PCI address or vdev devargs */
	bool is_vdev;
	bool set_mac;
	uint8_t mac[6];
	uint16_t mtu;
	bool promiscuous;
	uint16_t rx_desc, tx_desc;
	bool router_adverts;
	uint16_t ra_max_interval_s, ra_min_interval_s, ra_router_lifetime_s;
	uint8_t dad_transmits; /* DupAddrDetectTransmits; 0: no DAD */
	uint8_t mld_version;   /* 1 or 2 */
	uint32_t naddrs;
	struct fp_addr addrs[FP_MAX_ADDRS];
};

struct fp_router_config {
	uint32_t nworkers;
	unsigned worker_lcores[FP_MAX_WORKERS];
	uint32_t nports;
	struct fp_port_config ports[FP_MAX_PORTS];
	uint32_t flow_maxflows;
	uint32_t flow_hashsize;
	uint32_t flow_idle_ms;
	bool flow_admission; /* admission under a flow flood (core/flowcache.h) */
	bool flow_select_auto; /* flowCache.mode auto (core/flowselect.h) */
	uint32_t mbufs;
	uint32_t mbuf_cache;
	uint32_t max_routes;
	uint32_t tbl8_groups; /* per FIB copy; 0 = FP_FIB_TBL8_DEFAULT */
	uint32_t max_neighbours;
	uint32_t nd_base_reachable_ms; /* BaseReachableTime */
	uint32_t icmp_error_rate;      /* per second and worker lcore */
	uint32_t icmp_error_burst;
};

/* A router port (interface). Written only while no lcore runs, except `up`.
 * The fields every forwarded packet reads come first (one cache line). */
enum fp_iface_kind {
	FP_IF_PORT = 0, /* a DPDK device */
	FP_IF_VLAN,     /* 802.1Q sub-interface of a port */
	FP_IF_LOOP,     /* loopback clone: addresses only */
};

struct fp_port {
	uint64_t mac64; /* the MAC in the low 6 bytes (memory order), for compares */
	struct rte_ether_addr mac;
	uint16_t mtu;
	volatile bool up; /* admin state, read by lcores */
	/* Admin down→up transitions (under ctl_lock): control/dad.c restarts
	 * DAD on each, even one too quick for its loop to see the port down. */
	uint32_t up_count;
	bool promiscuous;
	uint16_t port_id; /* DPDK port id (a VLAN's: its parent's) */
	uint8_t kind;     /* enum fp_iface_kind */
	bool in_use;      /* false once destroyed: the slot stays, unused */
	uint16_t parent;  /* VLAN: the port's index */
	uint16_t vlan_id; /* VLAN: 1..4094; 0 otherwise */
	bool hw_vlan_insert; /* port: the PMD inserts 802.1Q tags on tx */
	uint32_t pcount;     /* promiscuous references (ifpromisc) */
	uint32_t amcount;    /* all-multicast references */
	uint8_t mld_version; /* configured MLD version (control/mld.c) */
	bool mc_filter;      /* port: rte_eth_dev_set_mc_addr_list works */
	/* Joined multicast groups (control/mld.c) for the lcores: odd mcast_seq
	 * while being written. */
	uint32_t mcast_seq;
	uint8_t nmcast;
	uint8_t mcast[FP_MAX_MCAST][16];
	uint16_t ifindex; /* 1-based, stable while the router runs */
	bool is_vdev;
	uint16_t nb_rxq, nb_txq;
	int ctl_txq; /* tx queue reserved for the control thread, -1 if none */
	bool router_adverts; /* send RAs, answer RSs (control/nd.c) */
	uint16_t ra_max_interval_s, ra_min_interval_s, ra_router_lifetime_s;
	uint8_t dad_transmits;
	char name[FP_NAME_MAX];
	char devname[FP_NAME_MAX * 2]; /* ethdev name, for hot-unplug */
	char device[FP_DEVARGS_MAX];
	uint32_t naddrs;
	struct fp_addr addrs[FP_MAX_ADDRS];
	/* enum fp_addr_state per address; written by the control thread (DAD),
	 * read by anyone (single bytes). */
	volatile uint8_t addr_state[FP_MAX_ADDRS];
	/* Link state (control/link.c): enum fp_link_state, written by the control
	 * thread, read by lcores; the if.c queue of pending states (under
	 * control/link.c's lock); where the state comes from. */
	volatile uint8_t link_state;
	uint8_t link_source; /* enum fp_link_source */
	uint32_t link_queue;
	unsigned kernel_ifindex; /* af_packet: the kernel interface */
	char kernel_ifname[FP_NAME_MAX];
} __rte_cache_aligned;

enum fp_link_source {
	FP_LINK_SOURCE_POLL = 0, /* rte_eth_link_get_nowait every 100 ms */
	FP_LINK_SOURCE_LSC,      /* link-status-change interrupts */
	FP_LINK_SOURCE_NETLINK,  /* af_packet: the kernel interface's carrier */
};

/* m->hash.usr of a punted packet: 0 = for the router itself; a FIB next hop
 * value (< 2^31) = its neighbour is unresolved; with the top bit set = a
 * dropped packet to answer with an ICMPv6 error: type (bits 24-30), code
 * (16-23), parameter (0-15: the MTU of a Packet Too Big). */
#define FP_PUNT_ICMP6_ERROR(type, code, param)                                 \
	(0x80000000u | ((uint32_t)(type) << 24) | ((uint32_t)(code) << 16) |   \
	 (uint32_t)(param))
#define FP_PUNT_IS_ICMP6_ERROR(usr) (((usr) & 0x80000000u) != 0)

/* Commands a worker lcore executes on its own flow cache. */
enum fp_cmd_type {
	FP_CMD_FLOW_FLUSH,
	FP_CMD_FLOW_REPLACE,  /* swap in a new (empty) cache of another geometry */
	FP_CMD_FLOW_SNAPSHOT, /* copy entries out */
	FP_CMD_SIFTR_SET,     /* swap the lcore's SIFTR state (on, off) */
	FP_CMD_SIFTR_CONFIG,  /* new SIFTR settings (ppl, port filter) */
	FP_CMD_FLOW_MODE,     /* flowCache.mode: cache or auto */
};

/* A worker's SIFTR state (datapath/siftr_tap.c, control/siftr_writer.c).
 * table == NULL is "disabled": the one test per vector. */
struct fp_siftr_lcore {
	struct fp_tcpstat *table; /* this worker's connections */
	struct rte_ring *ring;    /* records to the writer thread (elem ring) */
	uint64_t base_tsc;        /* TSC at enable ... */
	uint64_t base_us;         /* ... and CLOCK_REALTIME then, in us */
};

struct fp_cmd {
	enum fp_cmd_type type;
	volatile int done;
	/* FLOW_REPLACE: new cache in, old memory out */
	void *new_mem;
	struct fp_flowcache *new_fc;
	void *old_mem;
	/* FLOW_SNAPSHOT */
	struct fp_flow_info *buf;
	uint32_t max;
	uint32_t count;
	/* SIFTR_SET: new state in, old state out; SIFTR_CONFIG: settings */
	struct fp_siftr_lcore siftr;
	struct fp_tcpstat_config tcpstat_cfg;
	/* FLOW_MODE */
	bool select_auto;
};

struct fp_txbuf {
	uint16_t n;
	uint32_t bytes; /* of the buffered packets */
	struct rte_mbuf *pkts[FP_TXBUF];
};

/* Everything a worker lcore touches (l3fwd's lcore_conf). */
struct fp_lcore {
	unsigned lcore_id;
	unsigned worker; /* 0-based worker index = QSBR thread id = rx queue */
	uint16_t nrxq;
	struct {
		uint16_t port_idx, port_id, queue;
	} rxq[FP_MAX_PORTS];
	uint16_t txq[FP_MAX_IFACES]; /* tx queue id per interface index */
	struct fp_txbuf tx[FP_MAX_IFACES];
	/* 802.1Q frames demultiplexed to a sub-interface during a vector,
	 * processed after it (datapath/lcore.c) */
	uint16_t nvlan;
	uint16_t vlan_idx[FP_BURST];
	struct rte_mbuf *vlan_pkts[FP_BURST];
	struct fp_flowcache *flowcache;
	void *flowcache_mem;
	/* Which lookup the vectors use (select.current): the cache, or the FIB
	 * alone when flowCache.mode auto measured it cheaper
	 * (core/flowselect.h). */
	struct fp_flow_select select;
	uint64_t idle_cycles;
	struct rte_ring *cmd_ring;
	struct rte_ring *punt_ring;
	struct rte_ring *ctl_tx_ring; /* control thread -> this lcore's tx queues */
	/* Reachability hints for NUD: 1 = traffic went to this neighbour index
	 * since the control thread last looked (it clears them). */
	uint8_t *neigh_used;
	uint32_t neigh_used_n;
	/* ICMPv6 errors this lcore asks for (hop limit, no route, too big) */
	struct fp_tokens icmp_tokens;
	struct fp_siftr_lcore siftr;
	uint64_t tsc_hz;
	uint64_t ctr[FP_LCORE_CTR_MAX] __rte_cache_aligned;
	uint64_t drop[FP_DROP_MAX] __rte_cache_aligned;
	uint64_t port_ctr[FP_MAX_IFACES][FP_PORT_CTR_MAX] __rte_cache_aligned;
} __rte_cache_aligned;

struct fp_router {
	bool eal_ready;
	bool running;  /* tables and ports configured (fp_router_start) */
	bool launched; /* ports started, workers and control thread running */
	pthread_mutex_t ctl_lock;
	uint32_t nports; /* interface slots in use (ports, then clones) */
	uint32_t nphys;  /* of which DPDK ports: slots 0..nphys-1 */
	struct fp_port ports[FP_MAX_IFACES];
	uint16_t port_idx_by_id[RTE_MAX_ETHPORTS];
	/* Port index x VLAN id → sub-interface index + 1 (0: none); read by
	 * lcores for 802.1Q frames */
	uint8_t vlan_map[FP_MAX_PORTS][FP_VLAN_IDS];
	uint32_t nworkers;
	struct fp_lcore *lcores[FP_MAX_WORKERS];
	struct rte_mempool *pool;
	struct rte_rcu_qsbr *qsbr;
	struct fp_fib fib;
	struct fp_neigh_table neigh;
	uint32_t generation; /* bumped on every route/neighbour/interface change */
	volatile int stop_workers;
	/* fp_router_stop asks the control thread for its farewell packets
	 * (fp_proto_farewell) by moving req; the thread moves done to match. */
	uint32_t farewell_req, farewell_done;
	bool stopping; /* fp_router_stop is under way (it drops ctl_lock) */
	uint32_t flow_maxflows, flow_hashsize, flow_idle_ms;
	bool flow_admission;
	bool flow_select_auto;
	uint32_t nd_base_reachable_ms;
	uint32_t icmp_error_rate, icmp_error_burst;
	/* control thread */
	pthread_t ctl_thread;
	bool ctl_running;
	volatile int ctl_stop;
	uint64_t ctl_ctr[FP_CTL_CTR_MAX];
};

extern struct fp_router fp_router;

/* Monotonic milliseconds, for timers kept in wall units (flow-label
 * linger, reassembly deadlines). Not for the data path. */
static inline uint64_t
fp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Milliseconds in TSC cycles (control-plane timers). */
static inline uint64_t
fp_ms_to_tsc(uint64_t ms)
{
	return rte_get_tsc_hz() / 1000 * ms;
}

static inline uint32_t
fp_generation_load(void)
{
	return __atomic_load_n(&fp_router.generation, __ATOMIC_ACQUIRE);
}

static inline void
fp_generation_bump(void)
{
	__atomic_add_fetch(&fp_router.generation, 1, __ATOMIC_RELEASE);
}

/* EAL, once per process. argv is copied. */
int fp_eal_init(int argc, char **argv, struct fp_err *err);
void fp_eal_cleanup(void);

/* Configure ports, tables and workers (nothing forwards yet), so that
 * routes and neighbours can be installed before the first packet; then
 * launch ports, workers and the control thread; stop them all again. */
int fp_router_start(const struct fp_router_config *cfg, struct fp_err *err);
int fp_router_launch(struct fp_err *err);
int fp_router_stop(struct fp_err *err);

/* Worker loop (datapath/lcore.c). */
int fp_lcore_main(void *arg);

/* Run a command on every worker and wait for each to finish it. */
int fp_router_cmd_all(struct fp_cmd *cmds, struct fp_err *err);

/* Flow cache control (core/commands.c). */
/* A worker's flow cache as the router's settings make it, in memory on its
 * socket: an adjacency slot per neighbour-table entry, flood admission as
 * configured. On failure (ENOMEM, or EINVAL for the geometry) nothing is
 * left allocated and *fc, *mem are NULL. */
int fp_flowcache_build(int socket, uint32_t maxflows, uint32_t hashsize,
		       const struct fp_flowcache_counters *ctr, struct fp_flowcache **fc,
		       void **mem, struct fp_err *err);
int fp_flowcache_configure(uint32_t maxflows, uint32_t hashsize,
			   struct fp_err *err);
int fp_flowcache_flush_all(struct fp_err *err);
/* flowCache.mode on every worker, at once (auto: measure cache against FIB
 * alone; cache: the cache always, the FIB alone left at once). */
int fp_flowcache_set_mode(bool select_auto, struct fp_err *err);
/* Entries of every worker; *out is malloc'ed, worker of each in *workers. */
int fp_flowcache_collect(struct fp_flow_info **out, uint32_t **workers,
			 uint32_t *count, struct fp_err *err);

/* Stats snapshot: the layout is described in core/stats.c. */
size_t fp_stats_size(void);
size_t fp_stats_snapshot(uint64_t *out, size_t max);

/* Find a port by name; -1 if none. */
int fp_port_index(const char *name);

/* Index of addr among port p's addresses, or -1. */
int fp_port_addr_index(uint16_t p, const uint8_t addr[16]);
/* Is addr a preferred (usable) address of port p / of any port? */
bool fp_port_addr_usable(uint16_t p, const uint8_t addr[16]);
bool fp_addr_is_local_usable(const uint8_t addr[16]);
/* The source for a packet from port p to dst: a preferred address of p of
 * the same scope (link-local for a link-local dst), else any preferred one;
 * NULL when p has none. */
const uint8_t *fp_port_source(uint16_t p, const uint8_t dst[16]);
/* Install or remove the local /128 route of port p's address a (DAD).
 * Takes ctl_lock. */
void fp_port_addr_route(uint16_t p, uint32_t a, bool present);

/* Routes and neighbours (core/router.c); each takes ctl_lock and bumps the
 * generation after the change is visible to lcores. */
int fp_route_add(const uint8_t prefix[16], uint8_t plen, const uint8_t *via,
		 uint16_t port_idx, struct fp_err *err);
int fp_route_delete(const uint8_t prefix[16], uint8_t plen, struct fp_err *err);
uint32_t fp_route_list(struct fp_route *out, uint32_t max);
/* ECMP (core/routes.c): a static route through 2..FP_NHG_MEMBERS next hops
 * (via may be all zero with has_via false for on-link members; weight
 * 1..FP_NHG_WEIGHT_MAX). err names the offending member. */
struct fp_route_nh {
	uint8_t via[16];
	bool has_via;
	uint16_t port_idx;
	uint8_t weight;
};
int fp_route_add_group(const uint8_t prefix[16], uint8_t plen,
		       const struct fp_route_nh *nhs, unsigned n, struct fp_err *err);
/* The list with each group route's members: members[i] holds route i's
 * (nh_count of them) when route i is a group route. */
uint32_t fp_route_list_members(struct fp_route *out, struct fp_nhg_member (*members)[FP_NHG_MEMBERS],
			       uint32_t max);
/* The same with the route's kind and (FP_ROUTE_KERNEL) the kernel's
 * protocol: control/rtimport.c adds FP_ROUTE_KERNEL routes. Adding a
 * route of another kind over an FP_ROUTE_KERNEL one replaces it (routes
 * fastpath owns win) and tells the protocols (route_shadowed). A delete
 * takes only a route of that kind (EPERM otherwise). */
int fp_route_add_kind(const uint8_t prefix[16], uint8_t plen, const uint8_t *via,
		      uint16_t port_idx, uint8_t kind, uint8_t proto, struct fp_err *err);
int fp_route_add_group_kind(const uint8_t prefix[16], uint8_t plen,
			    const struct fp_route_nh *nhs, unsigned n, uint8_t kind,
			    uint8_t proto, struct fp_err *err);
int fp_route_delete_kind(const uint8_t prefix[16], uint8_t plen, uint8_t kind,
			 struct fp_err *err);
/* EPERM naming why route r (of another kind) may not be changed. */
int fp_route_kind_refused(const struct fp_route *r, struct fp_err *err);
/* An owned route is coming for this prefix: an imported one there leaves
 * (and the protocols hear route_shadowed). Caller holds ctl_lock. */
void fp_route_evict_kernel_locked(const uint8_t prefix[16], uint8_t plen);
/* Whether route r goes through interface idx (any member of a group). */
bool fp_route_uses_port(const struct fp_route *r, uint16_t idx);
/* What a removed route held: its neighbour references, its group. Called
 * after the FIB change that removed it. Caller holds ctl_lock. */
void fp_route_release_locked(const struct fp_route *old);

/* Reading a large table (core/routes_query.c): a full table is too big to
 * copy out in one array, so listings come in pages ordered by key (prefix
 * bytes, then length) and resume after a key, not a position, so that
 * changes between pages neither repeat nor skip the routes that stay. Each
 * takes ctl_lock. */
struct fp_route_key {
	uint8_t prefix[16]; /* host bits zero */
	uint8_t plen;
};
struct fp_route_page {
	struct fp_route *routes;       /* n routes in key order (malloc'ed) */
	struct fp_nhg_member *members; /* each group route's nh_count members,
					* in route order (malloc'ed) */
	uint32_t n;
	bool more; /* routes past the last one match too: there is a next page */
};
/* Routes in the list, up and down (O(1): the list's length). */
uint32_t fp_route_count(void);
/* The first `max` (>= 1) routes with a key after `after` (NULL: from the
 * start) and inside `within` (NULL: any; else the same or a longer length
 * matching its bits). Free the page with fp_route_page_free. */
int fp_route_list_page(const struct fp_route_key *after, const struct fp_route_key *within,
		       uint32_t max, struct fp_route_page *page, struct fp_err *err);
void fp_route_page_free(struct fp_route_page *page);
/* The route forwarding would choose for addr: the longest match in the
 * active FIB copy (so never a down route), with its members when it is a
 * group route. Returns 1 and fills *out, 0 for no route, < 0 on error. */
int fp_route_lookup(const uint8_t addr[16], struct fp_route *out,
		    struct fp_nhg_member members[FP_NHG_MEMBERS], struct fp_err *err);

/* Routes follow link state (core/routes.c). Whether routes through
 * interface idx belong in the FIB: it exists, is administratively up (or not
 * yet started: before launch) and its link is not down. Caller holds
 * ctl_lock. */
bool fp_iface_routable(uint16_t idx);
/* Withdraw every static and connected route through an interface that is
 * not routable, restore the others (local /128s are left alone); bump the
 * generation if anything changed. `going_down`: an interface index to treat
 * as down already (-1: none), so that its routes leave before the
 * interface stops sending. Returns how many routes changed state. The
 * _locked form is for ctl_lock holders (core/iface.c, control/link.c at
 * launch); fp_routes_follow_links() takes the lock (control/link.c on a
 * link change). */
int fp_routes_follow_links_locked(int going_down);
int fp_routes_follow_links(void);
/* Routes were deleted: retry restores the FIB refused for lack of room. */
void fp_routes_room_freed_locked(void);

/* Batches (core/routes_batch.c): static routes with one next hop each,
 * added or deleted as one FIB change (core/fib.h, "Batches"); all or
 * nothing, *bad the index of the entry refused. Each takes ctl_lock. */
struct fp_route_spec {
	uint8_t prefix[16];
	uint8_t plen;
	bool has_via;
	uint16_t port_idx;
	uint8_t via[16];
};
int fp_route_add_many(const struct fp_route_spec *specs, uint32_t n, uint32_t *bad,
		      struct fp_err *err);
/* The same for routes of `kind`, with each route's protocol (protos[i],
 * or NULL for none): control/rtimport.c's dumps. */
int fp_route_add_many_kind(const struct fp_route_spec *specs, uint32_t n, uint8_t kind,
			   const uint8_t *protos, uint32_t *bad, struct fp_err *err);
int fp_route_delete_many_kind(const uint8_t (*prefixes)[16], const uint8_t *plens, uint32_t n,
			      uint8_t kind, uint32_t *bad, struct fp_err *err);
int fp_route_delete_many(const uint8_t (*prefixes)[16], const uint8_t *plens,
			 uint32_t n, uint32_t *bad, struct fp_err *err);
/* Point an existing static route at another single next hop: one FIB
 * change (the trie rewrites the next hop in place) when the route is up
 * and the new interface routable; otherwise the route is re-entered with
 * its new state under the same lock hold. ENOENT, EPERM (not static). */
int fp_route_replace(const struct fp_route_spec *spec, struct fp_err *err);
/* The same for a route of `kind` (FP_ROUTE_KERNEL: control/rtimport.c's
 * changed routes), setting its protocol. */
int fp_route_replace_kind(const struct fp_route_spec *spec, uint8_t kind, uint8_t proto,
			  struct fp_err *err);

struct fp_neigh_info {
	uint8_t addr[16];
	uint8_t mac[6];
	uint8_t state;
	uint16_t port_idx;
	uint32_t route_refs;
	uint64_t age_ms;
};
int fp_neighbour_add(const uint8_t addr[16], uint16_t port_idx,
		     const uint8_t mac[6], struct fp_err *err);
int fp_neighbour_delete(const uint8_t addr[16], uint16_t port_idx,
			struct fp_err *err);
/* Learned entries and, after them, the next hops being resolved
 * (INCOMPLETE, from the control thread's table). */
uint32_t fp_neighbour_list(struct fp_neigh_info *out, uint32_t max);
/* Remove every learned (non-static) entry, on one port or all; returns how
 * many. Static entries and route placeholders stay. */
int fp_neighbour_flush(uint16_t port_idx, bool all_ports);

/* Admin state of an interface (IFF_UP). */
int fp_port_set_up(uint16_t port_idx, bool up, struct fp_err *err);

/* Interface cloning (NetBSD if_clone_create / if_clone_destroy). A VLAN
 * sub-interface of port `parent` with 802.1Q id `vlan_id`, or a loopback;
 * with its addresses. Returns the new index or -errno (err says why):
 * EEXIST name in use or VLAN id taken on the parent, EINVAL bad VLAN id or
 * parent, ENOSPC no interface slot left (all in use).
 * A failed clone leaves nothing behind. */
int fp_iface_clone(uint8_t kind, const char *name, uint16_t parent,
		   uint16_t vlan_id, const struct fp_addr *addrs, uint32_t naddrs,
		   struct fp_err *err);
/* Destroy a clone: its routes, neighbours and addresses go, the name is
 * free again, the index is reused only once every other has been (sockets
 * bound to it stop, its protocol state goes). EOPNOTSUPP for a port, EBUSY while
 * VLANs use it. */
int fp_iface_destroy(uint16_t idx, struct fp_err *err);
/* Promiscuous / all-multicast references, as NetBSD's ifpromisc: the
 * first "on" programs the device, the last "off" clears it; "off" with no
 * reference is EINVAL. A VLAN passes its references to its parent. */
int fp_iface_set_promisc(uint16_t idx, bool on, struct fp_err *err);
int fp_iface_set_allmulti(uint16_t idx, bool on, struct fp_err *err);
/* The same, for callers that hold ctl_lock already (MLD at launch). */
int fp_iface_set_allmulti_locked(uint16_t idx, bool on);

/* Change an interface's MTU: within the device's limits for a port
 * (EINVAL outside), at most the parent's for a VLAN. */
int fp_iface_set_mtu(uint16_t idx, uint16_t mtu, struct fp_err *err);

#endif

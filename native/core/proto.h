/*
 * core/proto.h — how control-plane protocols hook into core.
 *
 * Core never calls a protocol by name (the model: VPP's ip6_link delegates,
 * NetBSD if.c's per-domain ifattach). Each protocol in native/control/ fills
 * one struct fp_proto and registers it from its own file at load time
 * (FP_PROTO_REGISTER); core walks the list in `order`, lowest first when
 * starting and when told of a change, highest first when stopping. A hook
 * left NULL is skipped.
 *
 * Threads and locks: every hook is called with fp_router.ctl_lock held,
 * except stop(), which is called without it (a protocol's thread may need
 * the lock to finish) and then stop_locked(), with it, and timers(), which
 * the control thread calls on each turn of its loop, without it.
 */
#ifndef FP_PROTO_H
#define FP_PROTO_H

#include <stdbool.h>
#include <stdint.h>

struct fp_err;
struct fp_lcore;
struct fp_neigh_info;
struct rte_mbuf;
struct rte_eth_conf;
struct rte_eth_dev_info;

/* A punted packet for the router that a protocol takes: by next header
 * (after a hop-by-hop header, for FP_PUNT_HBH) and, for ICMPv6, type (the
 * model: grout's icmp6_input_register_callback). handle() returns true when
 * it took the packet (answered, queued or dropped and counted); false
 * leaves it to the control thread (port unreachable, or counted as
 * punt_dropped). Control thread, no lock. */
#define FP_PUNT_ANY_TYPE 0xffff
#define FP_PUNT_HBH 0x100 /* next header behind a hop-by-hop header */
struct fp_punt_handler {
	uint16_t proto;     /* next header, | FP_PUNT_HBH */
	uint16_t icmp_type; /* ICMPv6 type, or FP_PUNT_ANY_TYPE */
	bool (*handle)(struct fp_lcore *lc, struct rte_mbuf *m);
};

struct fp_proto {
	const char *name;
	int order; /* FP_PROTO_ORDER_*: who runs first */
	/* A port is being configured: add what the protocol needs (link-state
	 * interrupts, say) to its device configuration. */
	void (*port_configure)(uint16_t port_idx, const struct rte_eth_dev_info *info,
			       struct rte_eth_conf *conf);
	/* The router is launching (ports started, workers not yet). */
	int (*start)(struct fp_err *err);
	/* The router is stopping (workers stopped). */
	void (*stop)(void);
	void (*stop_locked)(void);
	/* An interface was cloned on a running router. */
	void (*iface_added)(uint16_t idx);
	/* A cloned interface was destroyed (its index may name another one
	 * later): drop what refers to it. */
	void (*iface_removed)(uint16_t idx);
	/* The control thread's tick: run what is due. */
	void (*timers)(void);
	/* The router is about to stop: queue what it should say before it goes
	 * (final Router Advertisements). Runs in the control thread while the
	 * workers still send (fp_router_stop waits for it, briefly). */
	void (*farewell)(void);
	/* Neighbour entries the protocol holds outside the table (ND's
	 * resolutions in progress): append up to max, return how many. */
	uint32_t (*neigh_list)(struct fp_neigh_info *out, uint32_t max);
	/* An owned route took the place of an imported one (FP_ROUTE_KERNEL)
	 * for this prefix; the importer keeps its route aside. Called with
	 * ctl_lock held, from any thread: only record it. */
	void (*route_shadowed)(const uint8_t prefix[16], uint8_t plen);
	/* Punted packets it takes; ends with a NULL handle. */
	const struct fp_punt_handler *punt;
	struct fp_proto *next;
};

/* Orders: link state first (the others read it), the control thread
 * (ND, DAD, MLD, ICMPv6 share it) after. */
#define FP_PROTO_ORDER_LINK 10
#define FP_PROTO_ORDER_FRAG 15 /* before the control thread reads its state */
#define FP_PROTO_ORDER_LINUX 18 /* stops after the control thread that reads its fds */
#define FP_PROTO_ORDER_CTL 20
#define FP_PROTO_ORDER_DAD 25
#define FP_PROTO_ORDER_ND 30
#define FP_PROTO_ORDER_MLD 40
#define FP_PROTO_ORDER_ICMP6 45
#define FP_PROTO_ORDER_UDP 50
#define FP_PROTO_ORDER_SIFTR 60 /* stops first: the footer before the rest */
#define FP_PROTO_ORDER_CAPTURE 70 /* control/capture.c: only a stop hook */

void fp_proto_register(struct fp_proto *p);
#define FP_PROTO_REGISTER(p)                                                   \
	static void __attribute__((constructor)) fp_proto_register_##p(void)  \
	{                                                                      \
		fp_proto_register(&p);                                         \
	}

/* Walks used by core (ctl_lock held unless said). */
void fp_proto_port_configure(uint16_t port_idx, const struct rte_eth_dev_info *info,
			     struct rte_eth_conf *conf);
int fp_proto_start(struct fp_err *err); /* stops what started on failure */
void fp_proto_stop(void);               /* releases ctl_lock around stop() */
void fp_proto_iface_added(uint16_t idx);
void fp_proto_iface_removed(uint16_t idx);
void fp_proto_timers(void);
void fp_proto_farewell(void); /* control thread, no lock */
/* Offer a punted packet to the protocol registered for (proto, type);
 * true when one took it. Control thread, no lock. */
bool fp_proto_punt(struct fp_lcore *lc, struct rte_mbuf *m, uint16_t proto, uint16_t icmp_type);
uint32_t fp_proto_neigh_list(struct fp_neigh_info *out, uint32_t max);
void fp_proto_route_shadowed(const uint8_t prefix[16], uint8_t plen); /* ctl_lock held */

#endif

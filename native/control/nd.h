/*
 * control/nd.h — Neighbor Discovery on the control thread (RFC 4861).
 *
 * This step answers Neighbor Solicitations for the receiving interface's
 * addresses with a Neighbor Advertisement (Router, Solicited and Override
 * flags as section 7.2.4 says) and learns the solicitor's link-layer
 * address (STALE, section 7.2.3). Resolving next hops, NUD states and
 * timers, DAD and Router Advertisements follow.
 */
#ifndef FP_ND_H
#define FP_ND_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mbuf;

/* If m is a Neighbor Solicitation for one of our addresses, turn it into
 * the Neighbor Advertisement in place and return true (send it out of
 * m->port). Invalid ND messages are counted; false means "not answered". */
bool fp_nd_solicitation(struct rte_mbuf *m);

/* Learn a link-layer address from Neighbor Discovery (state STALE); static
 * (PERMANENT) entries are never changed. Returns 1 when the table changed,
 * 0 when not, negative errno when full. Control thread. */
int fp_neighbour_learn(const uint8_t addr[16], uint16_t port_idx,
		       const uint8_t mac[6], uint8_t state);
/* A valid Neighbor Advertisement for addr on port_idx (RFC 4861 7.2.5):
 * takes the target link-layer address (tlla, may be NULL) per the Solicited
 * and Override flags, confirms reachability when solicited. `resolving`:
 * the control thread is resolving addr (an INCOMPLETE entry), so an entry
 * may be created. Returns 1 when the MAC changed or an entry was made. */
int fp_neighbour_advert(const uint8_t addr[16], uint16_t port_idx,
			const uint8_t *tlla, bool solicited, bool override,
			bool resolving);

#endif

struct fp_lcore;

/* A packet whose next hop (m->hash.usr, a FIB value) has no link-layer
 * address yet: hold it (at most FP_ND_HOLD per next hop), solicit the next
 * hop (multicast NS, RetransTimer 1 s, 3 tries), send it when the answer
 * comes. `local`: the router originated it (no hop-limit decrement, no
 * error when resolution fails). Takes ownership of m. */
void fp_nd_resolve(struct fp_lcore *lc, struct rte_mbuf *m, bool local);

/* If m is a Neighbor Advertisement, learn from it (REACHABLE when
 * solicited), send what was held for it, free m and return true. */
bool fp_nd_advertisement(struct rte_mbuf *m);

/* Retransmit solicitations and give up on silent next hops. */
void fp_nd_timers(void);

/* Free everything held (router stop). */
void fp_nd_reset(void);

/* Send periodic Router Advertisements on ports that have them enabled. */
void fp_nd_ra_timers(void);

/* If m is a Router Solicitation, answer it (when this port advertises),
 * free m and return true. */
bool fp_nd_router_solicitation(struct fp_lcore *lc, struct rte_mbuf *m);

/* Forget RA schedules (router stop). */
void fp_nd_ra_reset(void);

/* Duplicate Address Detection (control/dad.c). Timers: (re)start when a port
 * comes up, send probes, conclude. */
void fp_dad_timers(void);
void fp_dad_reset(void);
/* Port p's link went from unknown to up: run DAD again (if.c). */
void fp_dad_restart(uint16_t p);
/* A valid NS for target arrived on port p (probe: from ::, with the nonce
 * option's 6 bytes or NULL). True when target is an address of p that is
 * not preferred: such an NS is never answered. */
bool fp_dad_solicitation(uint16_t p, const uint8_t target[16], bool probe,
			 const uint8_t *nonce);
/* A valid NA for target arrived on port p; true when target is one of our
 * addresses (tentative: now duplicated). */
bool fp_dad_advertisement(uint16_t p, const uint8_t target[16]);

/* Neighbor Unreachability Detection timers (every 100 ms): REACHABLE →
 * STALE after ReachableTime, STALE → DELAY on traffic, DELAY → PROBE after
 * 5 s, 3 unicast probes 1 s apart, then the entry is removed; garbage
 * collection of unused STALE entries. */
void fp_nd_nud_timers(void);
void fp_nd_nud_reset(void);
/* ReachableTime now (randomised BaseReachableTime), in TSC cycles / ms. */
uint64_t fp_nd_reachable_tsc(void);
uint32_t fp_nd_reachable_ms(void);
/* The neighbour table was full: collect unused STALE entries soon. */
void fp_nd_gc_request(void);
struct fp_neigh_info;
/* The next hops being resolved (INCOMPLETE), for listing. */
uint32_t fp_nd_pending_list(struct fp_neigh_info *out, uint32_t max);

/* Send a Neighbor Solicitation for target out of port p from src:
 * multicast to the target's solicited-node group, or unicast to unicast_mac;
 * with one 8-byte option (source link-layer address, or a DAD nonce).
 * False when no mbuf. */
#define FP_ND_OPT_NONCE 14
bool fp_nd_send_ns(struct fp_lcore *lc, uint16_t p, const uint8_t src[16],
		   const uint8_t target[16], const uint8_t *unicast_mac, uint8_t opt_type,
		   const uint8_t opt_value[6]);

#define FP_ND_HOLD 3            /* packets held per unresolved next hop */
#define FP_ND_MAX_INCOMPLETE 256 /* bound on next hops being resolved */

/*
 * control/mld.h — MLD listener (RFC 2710 MLDv1, RFC 3810 MLDv2) after NetBSD's
 * mld6.c, on the control thread.
 *
 * Per interface (ports and VLANs), a reference-counted list of joined
 * groups. Joins and leaves come from JS (interfaces.joinGroup) and from the
 * router itself (ff02::1, ff02::2, ff02::16, the solicited-node group of
 * every address). Workers read a copy of the joined set (fp_port.mcast,
 * under a sequence lock) to punt packets to joined groups and drop the
 * others; the control thread answers queries and sends reports.
 */
#ifndef FP_MLD_H
#define FP_MLD_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mbuf;
struct fp_err;
struct fp_lcore;

#define FP_MLD_MAX_GROUPS FP_MAX_MCAST /* groups per interface (core/router.h) */

/* Listener states of mld6.c (MLDv1) */
enum fp_mld_state {
	FP_MLD_NON_LISTENER = 0,
	FP_MLD_DELAYING,
	FP_MLD_IDLE,
};

struct fp_mld_group_info {
	uint8_t addr[16];
	uint8_t state;        /* enum fp_mld_state */
	bool reported_last;   /* "I am the last to report" (v1) */
	bool automatic;       /* joined by the router itself */
	uint32_t refs;
	uint32_t timer_ms;    /* until the next report, 0: none pending */
};

/* Join / leave (reference counted). 0 or -errno (err says why). */
int fp_mld_join(uint16_t p, const uint8_t group[16], struct fp_err *err);
int fp_mld_leave(uint16_t p, const uint8_t group[16], struct fp_err *err);
/* The groups of interface p; returns how many (at most max). */
uint32_t fp_mld_groups(uint16_t p, struct fp_mld_group_info *out, uint32_t max);
/* Which MLD version an interface speaks now (2, or 1 while a v1 querier is
 * present or when configured so). */
uint8_t fp_mld_version(uint16_t p);

/* Control thread: an MLD message punted to us (hop-by-hop packets); true
 * when taken (m freed). */
bool fp_mld_input(struct rte_mbuf *m);
/* Control thread: timers (reports, retransmissions, v1-querier timeout). */
void fp_mld_timers(void);
/* Router start / stop: automatic memberships, state reset. */
void fp_mld_start(void);
/* A VLAN cloned at run time: its automatic memberships. */
void fp_mld_iface(uint16_t p);
void fp_mld_reset(void);
/* An address was added to / removed from interface p: its solicited-node
 * group follows it. */
void fp_mld_address(uint16_t p, const uint8_t addr[16], bool added);

#endif

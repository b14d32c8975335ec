/*
 * control/nud.c — the neighbour cache as ND messages change it (RFC 4861
 * 7.2.3-7.2.5: learning from solicitations and advertisements) and the
 * start of each entry's unreachability-detection clock. Called from the
 * control thread; takes ctl_lock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "../core/router.h"
#include "ctl.h"
#include "nd.h"

/* A learned entry has just been written in state `state`: start its NUD
 * clock. Callers hold ctl_lock. */
static void
nud_begin(uint32_t idx, uint8_t state)
{
	struct fp_neigh *n = &fp_router.neigh.entries[idx];

	n->probes = 0;
	if (state == FP_NEIGH_REACHABLE)
		n->nud_deadline = rte_rdtsc() + fp_nd_reachable_tsc();
}

/* The table is full: ask the NUD tick to collect unused stale entries. */
static void
neigh_full(void)
{
	fp_router.ctl_ctr[FP_CCTR_nd_table_full]++;
	fp_nd_gc_request();
}

int
fp_neighbour_learn(const uint8_t addr[16], uint16_t port_idx, const uint8_t mac[6],
		   uint8_t state)
{
	int idx, rc = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running || port_idx >= fp_router.nports)
		goto out;
	idx = fp_neigh_lookup(&fp_router.neigh, addr, port_idx);
	if (idx >= 0) {
		const struct fp_neigh *n = &fp_router.neigh.entries[idx];
		bool same_mac = memcmp(n->mac, mac, 6) == 0;
		/* Static entries stay; a solicitation with the address we
		 * have changes nothing (RFC 4861 7.2.3). */
		if (n->state == FP_NEIGH_PERMANENT ||
		    (n->state != FP_NEIGH_NONE && same_mac &&
		     (state == FP_NEIGH_STALE || n->state == state)))
			goto out;
	}
	rc = fp_neigh_set(&fp_router.neigh, addr, port_idx, mac, state);
	if (rc >= 0) {
		nud_begin((uint32_t)rc, state);
		rc = 1;
		fp_router.ctl_ctr[FP_CCTR_neighbour_changes]++;
		fp_generation_bump();
	} else if (rc == -ENOSPC) {
		neigh_full();
	}
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_neighbour_advert(const uint8_t addr[16], uint16_t port_idx, const uint8_t *tlla,
		    bool solicited, bool override, bool resolving)
{
	struct fp_neigh *n;
	uint8_t state;
	int idx, rc = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running || port_idx >= fp_router.nports)
		goto out;
	idx = fp_neigh_lookup(&fp_router.neigh, addr, port_idx);
	n = idx >= 0 ? &fp_router.neigh.entries[idx] : NULL;
	if (n == NULL || n->state == FP_NEIGH_NONE) {
		/* INCOMPLETE (or a route's placeholder): needs the address;
		 * with no entry and nothing asked, the NA is ignored (7.2.5). */
		if (tlla == NULL || (n == NULL && !resolving))
			goto out;
		rc = fp_neigh_set(&fp_router.neigh, addr, port_idx, tlla,
				  solicited ? FP_NEIGH_REACHABLE : FP_NEIGH_STALE);
		if (rc < 0) {
			if (rc == -ENOSPC)
				neigh_full();
			goto out;
		}
		nud_begin((uint32_t)rc, solicited ? FP_NEIGH_REACHABLE : FP_NEIGH_STALE);
		rc = 1;
		goto changed;
	}
	if (n->state == FP_NEIGH_PERMANENT)
		goto out;
	if (!override && tlla != NULL && memcmp(tlla, n->mac, 6) != 0) {
		/* Another address without Override: do not take it; a
		 * REACHABLE entry becomes STALE, to be probed when used. */
		if (n->state == FP_NEIGH_REACHABLE) {
			fp_neigh_set_state(&fp_router.neigh, (uint32_t)idx, FP_NEIGH_STALE);
		}
		goto out;
	}
	if (tlla != NULL && memcmp(tlla, n->mac, 6) != 0) {
		/* Override with a new address: take it. */
		state = solicited ? FP_NEIGH_REACHABLE : FP_NEIGH_STALE;
		fp_neigh_set(&fp_router.neigh, addr, port_idx, tlla, state);
		nud_begin((uint32_t)idx, state);
		rc = 1;
		goto changed;
	}
	if (solicited) {
		/* Confirmation (e.g. of a DELAY or PROBE entry). */
		if (n->state != FP_NEIGH_REACHABLE)
			fp_neigh_set_state(&fp_router.neigh, (uint32_t)idx, FP_NEIGH_REACHABLE);
		nud_begin((uint32_t)idx, FP_NEIGH_REACHABLE);
		fp_router.ctl_ctr[FP_CCTR_nd_nud_confirmed]++;
	}
	goto out;
changed:
	fp_router.ctl_ctr[FP_CCTR_neighbour_changes]++;
	fp_generation_bump();
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

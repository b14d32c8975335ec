/*
 * fp_nd.h — Neighbor Discovery on the control thread (RFC 4861).
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

struct rte_mbuf;

/* If m is a Neighbor Solicitation for one of our addresses, turn it into
 * the Neighbor Advertisement in place and return true (send it out of
 * m->port). Invalid ND messages are counted; false means "not answered". */
bool fp_nd_solicitation(struct rte_mbuf *m);

#endif

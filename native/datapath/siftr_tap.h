/*
 * datapath/siftr_tap.h — the worker's side of SIFTR: forwarded TCP segments
 * into the worker's connection table (tcpstat.h), records out through its
 * ring to the writer thread (control/siftr_writer.c).
 *
 * Cost when SIFTR is disabled: one test of lc->siftr.table per received
 * vector, in lcore_rx_vector; nothing per packet.
 */
#ifndef FP_SIFTR_TAP_H
#define FP_SIFTR_TAP_H

#include <stdint.h>

struct fp_lcore;
struct rte_mbuf;

/* The packets of one vector that passed validation for forwarding (transit
 * unicast IPv6): the TCP segments among them update the table, and the
 * records it asks for go to the ring; a full ring skips them and counts
 * (nskip_*_malloc, ring_full). tsc: the vector's TSC reading. */
void fp_siftr_tap(struct fp_lcore *lc, struct rte_mbuf **pkts, uint16_t n,
		  uint64_t tsc);

/* Expire closed and idle connections (a bounded slice of the table). */
void fp_siftr_expire(struct fp_lcore *lc, uint64_t tsc);

#endif

/*
 * control/ctl.h — the control thread (control/ctl.c) and link state
 * (control/link.c), as other control files and the bindings see them. Core
 * reaches both only through their struct fp_proto (core/proto.h).
 */
#ifndef FP_CTL_H
#define FP_CTL_H

#include <stdint.h>

struct fp_err;
struct fp_lcore;
struct rte_mbuf;

/* Control thread (control/ctl.c). */
int fp_ctl_start(struct fp_err *err);
void fp_ctl_stop(void);

/* Link state (control/link.c). Choose port p's source and ask for LSC
 * interrupts in conf where the PMD has them (before configure); read the
 * first states and start listening (launch); stop; the control thread's
 * tick: read sources, apply queued states. */
struct rte_eth_dev_info;
struct rte_eth_conf;
int fp_link_configure(uint16_t p, const struct rte_eth_dev_info *info,
		      struct rte_eth_conf *conf);
int fp_link_start(struct fp_err *err);
void fp_link_stop(void);
void fp_link_timers(void);

/* Queue a control-plane frame on a worker's control tx ring, to go out of
 * port index out_idx; counted and freed when the ring is full. */
void fp_ctl_send(struct fp_lcore *lc, struct rte_mbuf *m, uint16_t out_idx);

/* Send a frame the router originated (built for port m->port by
 * fp_icmp6_alloc): link-local and multicast destinations go out of that
 * port as built; others are routed like forwarded packets (FIB, neighbour,
 * resolution when needed, no hop-limit decrement), so replies and errors
 * take the route back rather than the way the packet came in. */
void fp_ctl_output(struct fp_lcore *lc, struct rte_mbuf *m);

#endif

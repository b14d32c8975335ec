/*
 * control/frag.h — fragments addressed to the router are reassembled
 * (RFC 8200 4.5, with control/reasm.c), and what the router sends is
 * fragmented when it is larger than the egress MTU (the router is then the
 * source: RFC 8200 allows source fragmentation only).
 *
 * Reassembled datagrams live in mbufs of a small pool of 64 KiB buffers
 * (fp_frag_big_pool), so that the control thread's handlers (echo, UDP
 * sockets) see them in one piece like any other packet. Control thread
 * only, except fp_frag_big_pool (any thread, for building large sends).
 */
#ifndef FP_FRAG_H
#define FP_FRAG_H

#include <stdbool.h>
#include <stdint.h>

struct fp_lcore;
struct rte_mbuf;
struct rte_mempool;

/* The largest IPv6 payload a reassembled or built datagram may have here:
 * a 64 KiB mbuf less its headroom, the Ethernet and IPv6 headers. */
#define FP_FRAG_MAX_PAYLOAD 65353u

/* A punted packet for the router: if it is a fragment, reassemble. Returns
 * the packet to go on with (m itself when not a fragment, or the whole
 * datagram when this fragment completed it), NULL when m was taken (held,
 * dropped and counted, or answered with an ICMPv6 error). */
struct rte_mbuf *fp_frag_input(struct fp_lcore *lc, struct rte_mbuf *m);

/* A frame for port out_idx larger than its MTU: send it as fragments on
 * lc's control tx ring (frees m). False when it cannot be fragmented (the
 * caller drops it). */
bool fp_frag_output(struct fp_lcore *lc, struct rte_mbuf *m, uint16_t out_idx);

/* The pool of 64 KiB buffers; NULL before the first router launched. */
struct rte_mempool *fp_frag_big_pool(void);

#endif

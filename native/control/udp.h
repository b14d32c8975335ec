/*
 * control/udp.h — UDP sockets on the router's own addresses, carrying flow
 * labels with Linux's semantics (control/flowlabel.c, after ip6_flowlabel.c).
 *
 * fastpath owns its NICs, so an application beside the router can reach the
 * router's addresses only through the router: these sockets are that way in.
 *
 * Receive: a worker punts a packet for a local address; the control thread
 * (fp_udp_input) checks it, finds the socket by (address, port, interface)
 * and queues the mbuf on the socket's receive ring (bounded: a full ring
 * drops and counts, the worker is never held up). When the ring goes from
 * empty to not empty it posts one FP_EVENT_SOCKET (readable); JS drains the
 * ring until it is empty (fp_udp_recv).
 * Send: JS builds the datagram under ctl_lock (fp_udp_send: label checks,
 * source address, checksum) and queues it on one multi-producer ring that
 * the control thread drains on its tick, routing each datagram as every
 * packet the router originates (fp_ctl_output) onto a worker's control tx
 * ring; it then posts FP_EVENT_SOCKET (sent, with the socket's last sequence
 * number handed on) so that JS can resolve the sends.
 *
 * Locks: the socket table and the label manager are changed under
 * fp_router.ctl_lock, by API calls and by the control thread. Each socket's
 * receive ring has one producer (the control thread) and one consumer (the
 * JS thread).
 */
#ifndef FP_UDP_H
#define FP_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowlabel.h"

struct fp_err;
struct fp_lcore;
struct rte_mbuf;

#define FP_UDP_MAX_SOCKETS 256
#define FP_UDP_EPHEMERAL_LO 49152 /* RFC 6335 dynamic ports */

/* FP_EVENT_SOCKET: event.state says which, event.port_idx the socket slot,
 * event.addr[4..5] its generation (host order; a slot is reused), and for a
 * send, event.addr[0..3] the last sequence number handed on. */
enum fp_udp_event {
	FP_UDP_EVENT_READABLE = 1,
	FP_UDP_EVENT_SENT = 2,
};

struct fp_udp_open_args {
	uint8_t addr[16];
	uint16_t port;  /* 0 picks a free one */
	int iface;      /* -1: any (required for a link-local address) */
	struct fp_flowlabel_owner owner;
	bool reflect;   /* answer with the label of the datagram answered */
	uint32_t rx_queue; /* datagrams waiting for JS, at most (power of two) */
};

/* What a received datagram says; payload points into the mbuf. */
struct fp_udp_datagram {
	uint8_t src[16];
	uint16_t src_port;
	uint32_t flow_label;
	uint16_t iface;
	uint8_t hop_limit;
	const uint8_t *payload;
	uint16_t len;
};

/* Router-wide settings, taken at launch. */
struct fp_udp_config {
	bool auto_labels;  /* RFC 6437 labels on datagrams sent without one */
	bool state_ranges; /* Linux's flowlabel_state_ranges */
};
void fp_udp_configure(const struct fp_udp_config *cfg);

/* Sockets (JS thread; take ctl_lock). Return -errno with err filled. */
/* Returns the slot; *gen gets the socket's generation. */
int fp_udp_open(const struct fp_udp_open_args *a, uint16_t *gen, struct fp_err *err);
int fp_udp_close(int slot, struct fp_err *err);
/* Local address and port a socket is bound to. */
int fp_udp_local(int slot, uint8_t addr[16], uint16_t *port, struct fp_err *err);
/* Queue a datagram; *seq gets its sequence number (FP_UDP_EVENT_SENT). */
int fp_udp_send(int slot, const uint8_t dst[16], uint16_t dport, const uint8_t *data,
		uint32_t len, uint32_t flow_label, uint32_t *seq, struct fp_err *err);
/* Take up to max received datagrams (mbufs: read with fp_udp_datagram_read,
 * then rte_pktmbuf_free). JS thread; no lock. */
unsigned fp_udp_recv(int slot, struct rte_mbuf **out, unsigned max);
void fp_udp_datagram_read(const struct rte_mbuf *m, struct fp_udp_datagram *d);

/* Flow labels (JS thread; take ctl_lock): ip6_flowlabel.c's GET, PUT, RENEW
 * for the socket; the listing of /proc/net/ip6_flowlabel. */
int fp_udp_label_get(int slot, const struct fp_flowlabel_req *req, struct fp_err *err);
int fp_udp_label_put(int slot, uint32_t label, struct fp_err *err);
int fp_udp_label_renew(int slot, uint32_t label, uint8_t share, uint32_t linger_s,
		       uint32_t expires_s, struct fp_err *err);
size_t fp_udp_label_list(struct fp_flowlabel_info *out, size_t max);

/* RFC 6437 3 / Linux's ip6_make_flowlabel: the label of a flow the router
 * originates, from a hash of it; never 0, the stateless bit 0x80000 set
 * when state ranges are on; 0 when automatic labels are off. Any thread. */
uint32_t fp_udp_auto_label(const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
			   uint16_t sport, uint16_t dport);

/* Control thread: a punted packet for a local address; true when taken. */
bool fp_udp_input(struct fp_lcore *lc, struct rte_mbuf *m);

#endif

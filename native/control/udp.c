/*
 * control/udp.c — UDP sockets on the router's addresses and the router's
 * flow-label manager; see udp.h for the paths and the locks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_jhash.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "../core/event.h"
#include "../core/ip6.h"
#include "../core/proto.h"
#include "../core/router.h"
#include "ctl.h"
#include "frag.h"
#include "udp.h"

#define UDP_HDR_LEN 8
#define UDP_TX_RING 1024     /* datagrams from JS waiting for the control thread */
#define UDP_HOP_LIMIT 64
#define UDP_RX_QUEUE_MAX 65536
#define UDP_IFACE_ANY (-1)
/* Bound to an interface since destroyed: receives nothing (its index may
 * name another interface later) and refuses to send. */
#define UDP_IFACE_GONE (-2)

struct udp_socket {
	bool in_use;
	uint8_t addr[16];
	uint16_t port;
	int iface; /* UDP_IFACE_ANY, UDP_IFACE_GONE, or an interface index */
	struct fp_flowlabel_owner owner;
	struct fp_flowlabel_sock fl;
	bool reflect;
	struct rte_ring *rxq; /* SP: control thread, SC: JS thread */
	/* The peer last heard from (its label: fl.rcv_flowinfo), for reflect. */
	uint8_t peer[16];
	uint16_t peer_port;
	uint32_t seq_queued; /* last sequence number given to a send */
	uint32_t seq_sent;   /* last handed to a worker (control thread) */
	uint16_t gen;        /* tells this socket from the slot's earlier ones */
};

static struct udp_socket sockets[FP_UDP_MAX_SOCKETS];
static struct fp_flowlabel_mgr labels;
static bool labels_ready;
static struct fp_udp_config udp_cfg = { .auto_labels = true, .state_ranges = true };
static struct rte_ring *tx_ring; /* MP: JS thread(s), SC: control thread */
static unsigned ring_serial;
static uint16_t gen_serial;

/* The manager exists from the first socket on; settings apply at launch. */
static void
labels_setup(void)
{
	struct fp_flowlabel_config c;

	if (labels_ready)
		return;
	fp_flowlabel_config_default(&c);
	c.state_ranges = udp_cfg.state_ranges;
	c.seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull | 1;
	fp_flowlabel_init(&labels, &c);
	labels_ready = true;
}

void
fp_udp_configure(const struct fp_udp_config *cfg)
{
	pthread_mutex_lock(&fp_router.ctl_lock);
	udp_cfg = *cfg;
	pthread_mutex_unlock(&fp_router.ctl_lock);
}

static struct udp_socket *
socket_locked(int slot, struct fp_err *err, int *rc)
{
	if (!fp_router.running) {
		*rc = fp_err_set(err, EINVAL, "no router is running");
		return NULL;
	}
	if (slot < 0 || slot >= FP_UDP_MAX_SOCKETS || !sockets[slot].in_use) {
		*rc = fp_err_set(err, EBADF, "socket %d is not open", slot);
		return NULL;
	}
	return &sockets[slot];
}

/* The socket bound to (addr, port) on iface, or -1. iface -1 (a bind to
 * every interface) matches sockets on any interface, as a clash. */
static int
socket_find(const uint8_t addr[16], uint16_t port, int iface)
{
	int i;

	for (i = 0; i < FP_UDP_MAX_SOCKETS; i++) {
		const struct udp_socket *s = &sockets[i];
		if (s->in_use && s->port == port && memcmp(s->addr, addr, 16) == 0 &&
		    (s->iface == UDP_IFACE_ANY || iface == UDP_IFACE_ANY || s->iface == iface))
			return i;
	}
	return -1;
}

int
fp_udp_open(const struct fp_udp_open_args *a, uint16_t *gen, struct fp_err *err)
{
	struct udp_socket *s = NULL;
	char name[RTE_RING_NAMESIZE];
	uint32_t q;
	int slot, rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running) {
		rc = fp_err_set(err, EINVAL, "no router is running");
		goto out;
	}
	if (fp_ip6_is_linklocal(a->addr)) {
		if (a->iface < 0 || a->iface >= (int)fp_router.nports) {
			rc = fp_err_set(err, EINVAL, "a link-local address needs its interface");
			goto out;
		}
		if (!fp_port_addr_usable((uint16_t)a->iface, a->addr)) {
			rc = fp_err_set(err, EADDRNOTAVAIL, "the address is not a preferred "
					"address of that interface");
			goto out;
		}
	} else if (!fp_addr_is_local_usable(a->addr) ||
		   (a->iface >= 0 && !fp_port_addr_usable((uint16_t)a->iface, a->addr))) {
		rc = fp_err_set(err, EADDRNOTAVAIL, "the address is not one of the "
				"router's preferred addresses%s",
				a->iface >= 0 ? " on that interface" : "");
		goto out;
	}
	for (slot = 0; slot < FP_UDP_MAX_SOCKETS && sockets[slot].in_use; slot++)
		;
	if (slot == FP_UDP_MAX_SOCKETS) {
		rc = fp_err_set(err, EMFILE, "all %d sockets are open", FP_UDP_MAX_SOCKETS);
		goto out;
	}
	s = &sockets[slot];
	memset(s, 0, sizeof(*s));
	memcpy(s->addr, a->addr, 16);
	s->iface = a->iface;
	s->port = a->port;
	if (s->port == 0) {
		/* A free dynamic port, starting at a varying place. */
		uint32_t span = 65536 - FP_UDP_EPHEMERAL_LO, i, start = (uint32_t)rte_rdtsc();
		for (i = 0; i < span; i++) {
			uint16_t p = (uint16_t)(FP_UDP_EPHEMERAL_LO + (start + i) % span);
			if (socket_find(a->addr, p, a->iface) < 0) {
				s->port = p;
				break;
			}
		}
		if (s->port == 0) {
			rc = fp_err_set(err, EADDRINUSE, "no free dynamic port");
			goto out;
		}
	} else if (socket_find(a->addr, a->port, a->iface) >= 0) {
		rc = fp_err_set(err, EADDRINUSE, "port %u is already bound on that address",
				a->port);
		goto out;
	}
	q = a->rx_queue < 2 ? 2 : a->rx_queue > UDP_RX_QUEUE_MAX ? UDP_RX_QUEUE_MAX : a->rx_queue;
	snprintf(name, sizeof(name), "fp_udp_%u", ring_serial++);
	/* Ring capacity is size - 1: ask for the next power of two above q. */
	s->rxq = rte_ring_create(name, rte_align32pow2(q + 1), SOCKET_ID_ANY,
				 RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (s->rxq == NULL) {
		rc = fp_err_set(err, ENOMEM, "cannot create the receive queue: %s",
				rte_strerror(rte_errno));
		goto out;
	}
	if (tx_ring == NULL) {
		tx_ring = rte_ring_create("fp_udp_tx", UDP_TX_RING, SOCKET_ID_ANY, RING_F_SC_DEQ);
		if (tx_ring == NULL) {
			rte_ring_free(s->rxq);
			rc = fp_err_set(err, ENOMEM, "cannot create the send queue: %s",
					rte_strerror(rte_errno));
			goto out;
		}
	}
	labels_setup();
	s->owner = a->owner;
	s->reflect = a->reflect;
	s->gen = ++gen_serial;
	fp_flowlabel_sock_init(&s->fl, false);
	s->in_use = true;
	fp_router.ctl_ctr[FP_CCTR_udp_sockets_opened]++;
	*gen = s->gen;
	rc = slot;
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

/* Free a socket: its leases, its queued datagrams. ctl_lock held. */
static void
socket_free(struct udp_socket *s)
{
	struct rte_mbuf *m;

	fp_flowlabel_sock_close(&labels, &s->fl, fp_now_ms());
	while (rte_ring_sc_dequeue(s->rxq, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(s->rxq);
	memset(s, 0, sizeof(*s));
}

int
fp_udp_close(int slot, struct fp_err *err)
{
	struct udp_socket *s;
	int rc = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	s = socket_locked(slot, err, &rc);
	if (s != NULL)
		socket_free(s);
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_udp_local(int slot, uint8_t addr[16], uint16_t *port, struct fp_err *err)
{
	struct udp_socket *s;
	int rc = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	s = socket_locked(slot, err, &rc);
	if (s != NULL) {
		memcpy(addr, s->addr, 16);
		*port = s->port;
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

uint32_t
fp_udp_auto_label(const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
		  uint16_t sport, uint16_t dport)
{
	uint32_t h;

	if (!udp_cfg.auto_labels)
		return 0;
	h = rte_jhash(src, 16, 0x5f3759df);
	h = rte_jhash(dst, 16, h);
	h = rte_jhash_2words(sport, dport, h ^ proto);
	h ^= h >> 12;
	h &= FP_FLOWLABEL_MASK;
	if (udp_cfg.state_ranges)
		h |= FP_FLOWLABEL_STATELESS_FLAG;
	return h ? h : 1;
}

int
fp_udp_send(int slot, const uint8_t dst[16], uint16_t dport, const uint8_t *data,
	    uint32_t len, uint32_t flow_label, uint32_t *seq, struct fp_err *err)
{
	struct udp_socket *s;
	struct rte_mbuf *m;
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip6;
	struct rte_mempool *pool;
	uint8_t *frame, *udp;
	uint32_t frame_len;
	uint16_t out, ck;
	int rc = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	s = socket_locked(slot, err, &rc);
	if (s == NULL)
		goto out;
	if (flow_label > FP_FLOWLABEL_MASK) {
		rc = fp_err_set(err, EINVAL, "flowLabel: %u is over 20 bits", flow_label);
		goto out;
	}
	if (fp_ip6_is_unspecified(dst) || dport == 0) {
		rc = fp_err_set(err, EINVAL, "a destination address and port are needed");
		goto out;
	}
	if (flow_label != 0 && fp_flowlabel_send_check(&labels, &s->fl, flow_label, fp_now_ms()) < 0) {
		/* udpv6_sendmsg: a label the socket does not hold. */
		rc = fp_err_set(err, EINVAL, "flowLabel: 0x%05x is not leased on this socket",
				flow_label);
		goto out;
	}
	if (flow_label == 0 && s->reflect && s->peer_port == dport &&
	    memcmp(s->peer, dst, 16) == 0)
		flow_label = s->fl.rcv_flowinfo; /* the peer's label (for reflect) */
	if (flow_label == 0)
		flow_label = fp_udp_auto_label(s->addr, dst, IPPROTO_UDP, s->port, dport);
	if (s->iface == UDP_IFACE_GONE) {
		rc = fp_err_set(err, ENXIO, "the socket's interface was destroyed");
		goto out;
	}
	/* Build for the bound interface, or the first port: fp_ctl_output
	 * routes it (a link-local or multicast destination stays on m->port). */
	out = s->iface >= 0 ? (uint16_t)s->iface : 0;
	if ((fp_ip6_is_linklocal(dst) || fp_ip6_is_multicast(dst)) && s->iface < 0) {
		rc = fp_err_set(err, EINVAL, "a link-local or multicast destination needs a "
				"socket bound to an interface");
		goto out;
	}
	if (len > FP_FRAG_MAX_PAYLOAD - UDP_HDR_LEN) {
		rc = fp_err_set(err, EMSGSIZE, "%u bytes: a datagram carries at most %u here",
				len, FP_FRAG_MAX_PAYLOAD - UDP_HDR_LEN);
		goto out;
	}
	/* Over the MTU it leaves as fragments (fp_ctl_send); what does not fit
	 * a regular mbuf is built in a 64 KiB one. */
	frame_len = FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN + UDP_HDR_LEN + len;
	pool = frame_len <= (uint32_t)rte_pktmbuf_data_room_size(fp_router.pool) - RTE_PKTMBUF_HEADROOM
		       ? fp_router.pool
		       : fp_frag_big_pool();
	m = pool != NULL ? rte_pktmbuf_alloc(pool) : NULL;
	frame = m == NULL ? NULL : (uint8_t *)rte_pktmbuf_append(m, (uint16_t)frame_len);
	if (frame == NULL) {
		rte_pktmbuf_free(m);
		rc = fp_err_set(err, ENOBUFS, "no packet buffer");
		goto out;
	}
	/* Ethernet from the port; the destination MAC is filled in when the
	 * datagram is routed (multicast: 33:33 and the group's last 4 bytes). */
	eth = (struct rte_ether_hdr *)frame;
	memset(eth, 0, sizeof(*eth));
	if (fp_ip6_is_multicast(dst)) {
		eth->dst_addr.addr_bytes[0] = 0x33;
		eth->dst_addr.addr_bytes[1] = 0x33;
		memcpy(eth->dst_addr.addr_bytes + 2, dst + 12, 4);
	}
	rte_ether_addr_copy(&fp_router.ports[out].mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(FP_ETHERTYPE_IPV6);
	ip6 = (struct rte_ipv6_hdr *)(frame + FP_ETHER_HDR_LEN);
	ip6->vtc_flow = rte_cpu_to_be_32((6u << 28) | flow_label);
	ip6->payload_len = rte_cpu_to_be_16((uint16_t)(UDP_HDR_LEN + len));
	ip6->proto = IPPROTO_UDP;
	ip6->hop_limits = UDP_HOP_LIMIT;
	memcpy(ip6->src_addr, s->addr, 16);
	memcpy(ip6->dst_addr, dst, 16);
	udp = (uint8_t *)(ip6 + 1);
	udp[0] = (uint8_t)(s->port >> 8), udp[1] = (uint8_t)s->port;
	udp[2] = (uint8_t)(dport >> 8), udp[3] = (uint8_t)dport;
	udp[4] = (uint8_t)((UDP_HDR_LEN + len) >> 8), udp[5] = (uint8_t)(UDP_HDR_LEN + len);
	udp[6] = udp[7] = 0;
	memcpy(udp + UDP_HDR_LEN, data, len);
	ck = rte_ipv6_udptcp_cksum(ip6, udp);
	memcpy(udp + 6, &ck, 2);
	m->port = out;
	m->hash.fdir.lo = ++s->seq_queued;
	m->hash.fdir.hi = (uint32_t)slot | (uint32_t)s->gen << 16;
	if (rte_ring_mp_enqueue(tx_ring, m) != 0) {
		s->seq_queued--;
		rte_pktmbuf_free(m);
		fp_router.ctl_ctr[FP_CCTR_udp_tx_queue_full]++;
		rc = fp_err_set(err, ENOBUFS, "the send queue is full");
		goto out;
	}
	*seq = s->seq_queued;
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

unsigned
fp_udp_recv(int slot, struct rte_mbuf **out, unsigned max)
{
	struct rte_ring *q;

	if (slot < 0 || slot >= FP_UDP_MAX_SOCKETS)
		return 0;
	/* The ring lives until close, which runs on this (the JS) thread. */
	q = __atomic_load_n(&sockets[slot].rxq, __ATOMIC_ACQUIRE);
	return q == NULL ? 0 : rte_ring_sc_dequeue_burst(q, (void **)out, max, NULL);
}

void
fp_udp_datagram_read(const struct rte_mbuf *m, struct fp_udp_datagram *d)
{
	const struct rte_ipv6_hdr *ip6 =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, FP_ETHER_HDR_LEN);
	const uint8_t *udp = (const uint8_t *)(ip6 + 1);

	memcpy(d->src, ip6->src_addr, 16);
	d->src_port = (uint16_t)(udp[0] << 8 | udp[1]);
	d->flow_label = rte_be_to_cpu_32(ip6->vtc_flow) & FP_FLOWLABEL_MASK;
	d->iface = m->port;
	d->hop_limit = ip6->hop_limits;
	d->payload = udp + UDP_HDR_LEN;
	d->len = (uint16_t)((udp[4] << 8 | udp[5]) - UDP_HDR_LEN);
}

/* ---- flow labels ------------------------------------------------------- */

int
fp_udp_label_get(int slot, const struct fp_flowlabel_req *req, struct fp_err *err)
{
	struct udp_socket *s;
	int rc = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	s = socket_locked(slot, err, &rc);
	if (s != NULL) {
		rc = fp_flowlabel_get(&labels, &s->fl, &s->owner, req, fp_now_ms());
		if (rc < 0)
			rc = fp_err_set(err, -rc, "flow label 0x%05x: %s", req->label,
					strerror(-rc));
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_udp_label_put(int slot, uint32_t label, struct fp_err *err)
{
	struct udp_socket *s;
	int rc = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	s = socket_locked(slot, err, &rc);
	if (s != NULL) {
		rc = fp_flowlabel_put(&labels, &s->fl, label, 0, fp_now_ms());
		if (rc < 0)
			rc = fp_err_set(err, rc == -ESRCH ? ENOENT : -rc,
					"flow label 0x%05x is not leased on this socket", label);
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_udp_label_renew(int slot, uint32_t label, uint8_t share, uint32_t linger_s,
		   uint32_t expires_s, struct fp_err *err)
{
	struct udp_socket *s;
	int rc = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	s = socket_locked(slot, err, &rc);
	if (s != NULL) {
		rc = fp_flowlabel_renew(&labels, &s->fl, &s->owner, label, share, linger_s,
					expires_s, fp_now_ms());
		if (rc < 0)
			rc = fp_err_set(err, rc == -ESRCH ? ENOENT : -rc, "flow label 0x%05x: %s",
					label, rc == -ESRCH ? "not leased on this socket"
							    : strerror(-rc));
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

size_t
fp_udp_label_list(struct fp_flowlabel_info *out, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (labels_ready)
		n = fp_flowlabel_list(&labels, out, max, fp_now_ms());
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return n;
}

/* ---- control thread ---------------------------------------------------- */

bool
fp_udp_input(struct fp_lcore *lc, struct rte_mbuf *m)
{
	struct rte_ipv6_hdr *ip6;
	const uint8_t *udp;
	struct udp_socket *s;
	uint16_t ulen, dport;
	int slot;

	(void)lc;
	if (m->data_len < FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN + UDP_HDR_LEN ||
	    m->nb_segs != 1)
		return false;
	ip6 = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, FP_ETHER_HDR_LEN);
	if (ip6->proto != IPPROTO_UDP || fp_ip6_is_multicast(ip6->dst_addr))
		return false;
	udp = (const uint8_t *)(ip6 + 1);
	ulen = (uint16_t)(udp[4] << 8 | udp[5]);
	dport = (uint16_t)(udp[2] << 8 | udp[3]);
	pthread_mutex_lock(&fp_router.ctl_lock);
	slot = fp_router.running ? socket_find(ip6->dst_addr, dport, m->port) : -1;
	if (slot < 0) {
		pthread_mutex_unlock(&fp_router.ctl_lock);
		return false; /* port unreachable, by the caller */
	}
	s = &sockets[slot];
	/* RFC 8200 8.1: the UDP checksum is mandatory in IPv6; the length
	 * must match the IPv6 payload. */
	if (ulen < UDP_HDR_LEN || ulen != rte_be_to_cpu_16(ip6->payload_len) ||
	    (udp[6] == 0 && udp[7] == 0) || rte_ipv6_udptcp_cksum_verify(ip6, udp) != 0) {
		fp_router.ctl_ctr[FP_CCTR_udp_bad]++;
		pthread_mutex_unlock(&fp_router.ctl_lock);
		rte_pktmbuf_free(m);
		return true;
	}
	memcpy(s->peer, ip6->src_addr, 16);
	s->peer_port = (uint16_t)(udp[0] << 8 | udp[1]);
	s->fl.rcv_flowinfo = rte_be_to_cpu_32(ip6->vtc_flow) & FP_FLOWLABEL_MASK;
	if (rte_ring_sp_enqueue(s->rxq, m) != 0) {
		fp_router.ctl_ctr[FP_CCTR_udp_rx_queue_full]++;
		pthread_mutex_unlock(&fp_router.ctl_lock);
		rte_pktmbuf_free(m);
		return true;
	}
	fp_router.ctl_ctr[FP_CCTR_udp_received]++;
	/* Empty to not empty: tell JS (it drains until empty, so a later
	 * datagram while it drains needs no event of its own). */
	if (rte_ring_count(s->rxq) == 1) {
		uint8_t a[16] = { 0 };
		memcpy(a + 4, &s->gen, 2);
		fp_event_notify(FP_EVENT_SOCKET, (uint16_t)slot, FP_UDP_EVENT_READABLE, 0, a, 0);
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return true;
}

/* The control thread's tick: hand queued sends to the workers, tell JS how
 * far each socket got, and run the label manager's gc timer. */
static void
udp_timers(void)
{
	struct rte_mbuf *pkts[FP_BURST];
	bool sent[FP_UDP_MAX_SOCKETS] = { false };
	unsigned n, i;
	uint64_t t;

	if (tx_ring != NULL && fp_router.nworkers > 0 &&
	    (n = rte_ring_sc_dequeue_burst(tx_ring, (void **)pkts, FP_BURST, NULL)) > 0) {
		for (i = 0; i < n; i++) {
			uint32_t seq = pkts[i]->hash.fdir.lo, slot = pkts[i]->hash.fdir.hi & 0xffff;
			uint16_t gen = (uint16_t)(pkts[i]->hash.fdir.hi >> 16);
			struct fp_lcore *lc = fp_router.lcores[seq % fp_router.nworkers];

			pkts[i]->hash.usr = 0;
			fp_ctl_output(lc, pkts[i]);
			fp_router.ctl_ctr[FP_CCTR_udp_sent]++;
			/* Unlocked: a socket closed meanwhile has another gen. */
			if (slot < FP_UDP_MAX_SOCKETS && sockets[slot].gen == gen) {
				sockets[slot].seq_sent = seq;
				sent[slot] = true;
			}
		}
		for (i = 0; i < FP_UDP_MAX_SOCKETS; i++) {
			uint8_t a[16] = { 0 };
			uint32_t seq = sockets[i].seq_sent;
			uint16_t gen = sockets[i].gen;
			if (!sent[i])
				continue;
			memcpy(a, &seq, 4);
			memcpy(a + 4, &gen, 2);
			fp_event_notify(FP_EVENT_SOCKET, (uint16_t)i, FP_UDP_EVENT_SENT, 0, a, 0);
		}
	}
	if (labels_ready && (t = fp_flowlabel_gc_deadline(&labels)) != 0 && fp_now_ms() >= t) {
		pthread_mutex_lock(&fp_router.ctl_lock);
		fp_flowlabel_gc(&labels, fp_now_ms());
		pthread_mutex_unlock(&fp_router.ctl_lock);
	}
}

/* An interface was destroyed (ctl_lock held): its sockets stay open (JS
 * still holds them) but receive nothing more; sends get ENXIO. */
static void
udp_iface_removed(uint16_t idx)
{
	int i;

	for (i = 0; i < FP_UDP_MAX_SOCKETS; i++)
		if (sockets[i].in_use && sockets[i].iface == (int)idx)
			__atomic_store_n(&sockets[i].iface, UDP_IFACE_GONE, __ATOMIC_RELEASE);
}

/* Router stop (ctl_lock held, control thread stopped): every socket closes,
 * the labels go; what was queued is freed. */
static void
udp_stop_locked(void)
{
	struct rte_mbuf *m;
	int i;

	for (i = 0; i < FP_UDP_MAX_SOCKETS; i++)
		if (sockets[i].in_use)
			socket_free(&sockets[i]);
	if (tx_ring != NULL) {
		while (rte_ring_sc_dequeue(tx_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
	}
	if (labels_ready) {
		fp_flowlabel_free(&labels);
		labels_ready = false;
	}
}

static const struct fp_punt_handler udp_punt_handlers[] = {
	{ IPPROTO_UDP, FP_PUNT_ANY_TYPE, fp_udp_input },
	{ 0, 0, NULL },
};

static struct fp_proto udp_proto = {
	.name = "udp",
	.punt = udp_punt_handlers,
	.order = FP_PROTO_ORDER_UDP,
	.stop_locked = udp_stop_locked,
	.iface_removed = udp_iface_removed,
	.timers = udp_timers,
};
FP_PROTO_REGISTER(udp_proto)

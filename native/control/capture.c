/*
 * control/capture.c — see capture.h.
 *
 * A capture is: a pcap-filter expression compiled by libpcap (pcap_compile
 * on a "dead" Ethernet handle) and converted to eBPF by DPDK
 * (rte_bpf_convert, rte_bpf_load; JIT-compiled where DPDK can), a mempool
 * for the copies, a multi-producer ring of them, and one rx and/or tx
 * callback per queue of each captured port. A copy carries a small header
 * (TSC, length on the wire, interface, direction) in its headroom; the
 * reader turns the TSC into wall time with the pair taken at start.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#include <rte_bpf.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "../core/proto.h"
#include "../core/router.h"
#include "capture.h"

#define CAPTURE_CHUNK 32 /* frames filtered and copied at once */

/* What each copy carries in front of the frame (its first segment's
 * headroom), from the callback to the reader. */
struct capture_meta {
	uint64_t tsc;
	uint32_t wire_len;
	uint16_t iface;
	uint8_t direction;
	uint8_t pad;
};

/* The callbacks' user_param: one per captured interface and direction. */
struct capture_tap {
	uint16_t iface;
	uint8_t direction;
};

/* One installed callback, to remove at stop. */
struct capture_hook {
	uint16_t port_id, queue;
	uint8_t direction;
	const struct rte_eth_rxtx_callback *cb;
};

/* Counters by lcore id (the last slot: a thread that is no lcore, which
 * never bursts here but must not index out of range). Written with relaxed
 * atomics once per burst. */
struct capture_ctr {
	uint64_t seen, matched, captured, dropped;
} __rte_cache_aligned;

/* The one capture. Written under fp_router.ctl_lock; what the callbacks
 * read (ring, pool, bpf, snaplen, taps) is set before they are installed
 * and freed only after a grace period following their removal. */
static struct {
	uint64_t id; /* the current or last capture; 0 = none yet */
	bool active; /* ring and pool exist (running, or stopped but unread) */
	bool running; /* callbacks installed */
	uint64_t next_id;
	struct rte_ring *ring;
	struct rte_mempool *pool;
	struct rte_bpf *bpf;
	uint64_t (*jit)(void *);
	uint32_t snaplen;
	uint64_t base_tsc, base_ns, tsc_hz;
	struct capture_tap taps[FP_MAX_PORTS][2];
	struct capture_hook *hooks;
	uint32_t nhooks;
	struct rte_mbuf *pending; /* dequeued, did not fit the last read */
	struct fp_capture_stats final; /* the counters when it stopped */
	struct capture_ctr ctr[RTE_MAX_LCORE + 1];
} cap;

static struct capture_ctr *
capture_ctr(void)
{
	unsigned id = rte_lcore_id();

	return &cap.ctr[id < RTE_MAX_LCORE ? id : RTE_MAX_LCORE];
}

static inline void
ctr_add(uint64_t *c, uint64_t n)
{
	if (n != 0)
		__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* The frame as it is on the wire: a tag the NIC stripped on rx or is to
 * insert on tx goes back into the copy. Returns the bytes added (0 or 4),
 * or -1 when the copy cannot take the tag. */
static int
capture_vlan_restore(const struct rte_mbuf *m, struct rte_mbuf **copy, uint8_t dir)
{
	uint64_t flag = dir == FP_CAPTURE_DIR_RX ? RTE_MBUF_F_RX_VLAN_STRIPPED
						 : RTE_MBUF_F_TX_VLAN;

	if (!(m->ol_flags & flag))
		return 0;
	(*copy)->vlan_tci = m->vlan_tci;
	return rte_vlan_insert(copy) == 0 ? RTE_VLAN_HLEN : -1;
}

/* Filter, copy and queue a burst (the callbacks' common part). */
static void
capture_burst(const struct capture_tap *tap, struct rte_mbuf **pkts, uint16_t n)
{
	struct capture_ctr *ctr = capture_ctr();
	struct rte_mbuf *copies[CAPTURE_CHUNK];
	uint64_t rc[CAPTURE_CHUNK];
	uint64_t tsc = rte_rdtsc();
	uint64_t matched = 0, captured = 0, dropped = 0;
	uint16_t off, i;

	for (off = 0; off < n; off += CAPTURE_CHUNK) {
		uint16_t k = RTE_MIN(n - off, CAPTURE_CHUNK);
		unsigned nc = 0, done;

		if (cap.bpf == NULL)
			for (i = 0; i < k; i++)
				rc[i] = 1;
		else if (cap.jit != NULL)
			for (i = 0; i < k; i++)
				rc[i] = cap.jit(pkts[off + i]);
		else
			rte_bpf_exec_burst(cap.bpf, (void **)&pkts[off], rc, k);

		for (i = 0; i < k; i++) {
			struct rte_mbuf *m = pkts[off + i];
			struct rte_mbuf *copy;
			struct capture_meta *meta;
			int tag;

			if (rc[i] == 0)
				continue;
			matched++;
			copy = rte_pktmbuf_copy(m, cap.pool, 0, cap.snaplen);
			if (copy == NULL) {
				dropped++;
				continue;
			}
			tag = capture_vlan_restore(m, &copy, tap->direction);
			if (tag < 0 ||
			    (meta = (struct capture_meta *)rte_pktmbuf_prepend(
				     copy, sizeof(*meta))) == NULL) {
				rte_pktmbuf_free(copy);
				dropped++;
				continue;
			}
			meta->tsc = tsc;
			meta->wire_len = m->pkt_len + (uint32_t)tag;
			meta->iface = tap->iface;
			meta->direction = tap->direction;
			copies[nc++] = copy;
		}
		done = nc == 0 ? 0
			       : rte_ring_mp_enqueue_burst(cap.ring, (void **)copies,
							   nc, NULL);
		captured += done;
		for (i = done; i < nc; i++) {
			rte_pktmbuf_free(copies[i]);
			dropped++;
		}
	}
	ctr_add(&ctr->seen, n);
	ctr_add(&ctr->matched, matched);
	ctr_add(&ctr->captured, captured);
	ctr_add(&ctr->dropped, dropped);
}

static uint16_t
capture_rx_cb(uint16_t port_id, uint16_t queue, struct rte_mbuf *pkts[],
	      uint16_t n, uint16_t max_pkts, void *user_param)
{
	if (n > 0)
		capture_burst(user_param, pkts, n);
	return n;
}

static uint16_t
capture_tx_cb(uint16_t port_id, uint16_t queue, struct rte_mbuf *pkts[],
	      uint16_t n, void *user_param)
{
	if (n > 0)
		capture_burst(user_param, pkts, n);
	return n;
}

static void
capture_sum(struct fp_capture_stats *st)
{
	unsigned i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i <= RTE_MAX_LCORE; i++) {
		st->seen += __atomic_load_n(&cap.ctr[i].seen, __ATOMIC_RELAXED);
		st->matched += __atomic_load_n(&cap.ctr[i].matched, __ATOMIC_RELAXED);
		st->captured += __atomic_load_n(&cap.ctr[i].captured, __ATOMIC_RELAXED);
		st->dropped += __atomic_load_n(&cap.ctr[i].dropped, __ATOMIC_RELAXED);
	}
}

/* Compile `expr` (pcap-filter(7)) for Ethernet frames into cap.bpf/jit. */
static int
capture_filter_load(const char *expr, uint32_t snaplen, struct fp_err *err)
{
	struct bpf_program code;
	struct rte_bpf_prm *prm;
	struct rte_bpf_jit jit;
	pcap_t *dead;
	int rc;

	dead = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	if (dead == NULL)
		return fp_err_set(err, ENOMEM, "filter \"%s\": pcap_open_dead failed", expr);
	rc = pcap_compile(dead, &code, expr, 1, PCAP_NETMASK_UNKNOWN);
	if (rc != 0) {
		fp_err_set(err, EINVAL, "filter \"%s\": %s", expr, pcap_geterr(dead));
		pcap_close(dead);
		return -1;
	}
	prm = rte_bpf_convert(&code);
	pcap_freecode(&code);
	pcap_close(dead);
	if (prm == NULL)
		return fp_err_set(err, EINVAL, "filter \"%s\": cannot convert it to eBPF: %s",
				  expr, rte_strerror(rte_errno));
	cap.bpf = rte_bpf_load(prm);
	rte_free(prm);
	if (cap.bpf == NULL)
		return fp_err_set(err, EINVAL, "filter \"%s\": eBPF load failed: %s", expr,
				  rte_strerror(rte_errno));
	cap.jit = NULL;
	if (rte_bpf_get_jit(cap.bpf, &jit) == 0 && jit.func != NULL)
		cap.jit = jit.func;
	return 0;
}

/* Remove every installed callback and wait until no worker can be inside
 * one; then free them. ctl_lock held. */
static void
capture_unhook_locked(void)
{
	uint32_t i;

	for (i = 0; i < cap.nhooks; i++) {
		struct capture_hook *h = &cap.hooks[i];
		int rc = h->direction == FP_CAPTURE_DIR_RX
				 ? rte_eth_remove_rx_callback(h->port_id, h->queue, h->cb)
				 : rte_eth_remove_tx_callback(h->port_id, h->queue, h->cb);
		if (rc != 0)
			h->cb = NULL; /* not on the list: nothing to wait for, nothing to free */
	}
	/* Workers report quiescence once per loop, outside any burst; an
	 * offline (stopped) worker holds nothing. */
	if (cap.nhooks > 0)
		rte_rcu_qsbr_synchronize(fp_router.qsbr, RTE_QSBR_THRID_INVALID);
	for (i = 0; i < cap.nhooks; i++)
		rte_free((void *)(uintptr_t)cap.hooks[i].cb);
	free(cap.hooks);
	cap.hooks = NULL;
	cap.nhooks = 0;
	if (cap.running)
		capture_sum(&cap.final);
	cap.running = false;
}

/* Free the ring, what is left in it and the pool. ctl_lock held, no
 * callbacks installed. */
static void
capture_free_locked(void)
{
	void *obj;

	if (cap.pending != NULL)
		rte_pktmbuf_free(cap.pending);
	cap.pending = NULL;
	if (cap.ring != NULL) {
		while (rte_ring_sc_dequeue(cap.ring, &obj) == 0)
			rte_pktmbuf_free(obj);
		rte_ring_free(cap.ring);
	}
	cap.ring = NULL;
	rte_mempool_free(cap.pool);
	cap.pool = NULL;
	if (cap.bpf != NULL)
		rte_bpf_destroy(cap.bpf);
	cap.bpf = NULL;
	cap.jit = NULL;
	cap.active = false;
}

/* Install one callback per queue of each captured port and direction. */
static int
capture_hook_locked(const struct fp_capture_params *p, struct fp_err *err)
{
	uint32_t total = 0, i;

	for (i = 0; i < p->niface; i++) {
		const struct fp_port *port = &fp_router.ports[p->iface[i]];
		if (p->direction & FP_CAPTURE_DIR_RX)
			total += port->nb_rxq;
		if (p->direction & FP_CAPTURE_DIR_TX)
			total += port->nb_txq;
	}
	cap.hooks = calloc(total, sizeof(*cap.hooks));
	if (cap.hooks == NULL)
		return fp_err_set(err, ENOMEM, "capture: no memory for %u callbacks", total);
	for (i = 0; i < p->niface; i++) {
		uint16_t idx = p->iface[i];
		const struct fp_port *port = &fp_router.ports[idx];
		uint16_t q;

		cap.taps[i][0] = (struct capture_tap){ idx, FP_CAPTURE_DIR_RX };
		cap.taps[i][1] = (struct capture_tap){ idx, FP_CAPTURE_DIR_TX };
		for (q = 0; (p->direction & FP_CAPTURE_DIR_RX) && q < port->nb_rxq; q++) {
			struct capture_hook *h = &cap.hooks[cap.nhooks];
			h->cb = rte_eth_add_rx_callback(port->port_id, q, capture_rx_cb,
							&cap.taps[i][0]);
			if (h->cb == NULL)
				goto fail;
			*h = (struct capture_hook){ port->port_id, q, FP_CAPTURE_DIR_RX, h->cb };
			cap.nhooks++;
		}
		for (q = 0; (p->direction & FP_CAPTURE_DIR_TX) && q < port->nb_txq; q++) {
			struct capture_hook *h = &cap.hooks[cap.nhooks];
			h->cb = rte_eth_add_tx_callback(port->port_id, q, capture_tx_cb,
							&cap.taps[i][1]);
			if (h->cb == NULL)
				goto fail;
			*h = (struct capture_hook){ port->port_id, q, FP_CAPTURE_DIR_TX, h->cb };
			cap.nhooks++;
		}
		continue;
	fail:
		fp_err_set(err, rte_errno == ENOTSUP ? EOPNOTSUPP : EIO,
			   "capture: %s: cannot add a callback on queue %u: %s", port->name, q,
			   rte_strerror(rte_errno));
		cap.running = false;
		capture_unhook_locked();
		return -1;
	}
	return 0;
}

/* Check the parameters against the running router. ctl_lock held. */
static int
capture_check_locked(const struct fp_capture_params *p, struct fp_err *err)
{
	uint32_t i, j;

	if (!fp_router.launched)
		return fp_err_set(err, EINVAL, "capture: no router is running");
	if (p->niface == 0 || p->niface > FP_MAX_PORTS)
		return fp_err_set(err, EINVAL, "capture: expected 1..%u interfaces", FP_MAX_PORTS);
	if (p->direction == 0 || (p->direction & ~(FP_CAPTURE_DIR_RX | FP_CAPTURE_DIR_TX)))
		return fp_err_set(err, EINVAL, "capture: direction: expected rx, tx or both");
	if (p->snaplen < 64 || p->snaplen > FP_CAPTURE_MAX_SNAPLEN)
		return fp_err_set(err, EINVAL, "capture: snaplen %u: expected 64..%u",
				  p->snaplen, FP_CAPTURE_MAX_SNAPLEN);
	if (p->buffer < FP_CAPTURE_MIN_BUFFER || p->buffer > FP_CAPTURE_MAX_BUFFER)
		return fp_err_set(err, EINVAL, "capture: buffer %u: expected %u..%u frames",
				  p->buffer, FP_CAPTURE_MIN_BUFFER, FP_CAPTURE_MAX_BUFFER);
	for (i = 0; i < p->niface; i++) {
		uint16_t idx = p->iface[i];
		const struct fp_port *port = &fp_router.ports[idx];

		if (idx >= fp_router.nports || !port->in_use)
			return fp_err_set(err, ENOENT, "capture: no interface with index %u", idx);
		if (port->kind != FP_IF_PORT)
			return fp_err_set(err, EOPNOTSUPP,
					  "capture: %s is a %s, not a port: capture its parent port "
					  "(with a filter such as \"vlan %u\" for a VLAN)",
					  port->name, port->kind == FP_IF_VLAN ? "VLAN" : "loopback",
					  port->vlan_id);
		for (j = 0; j < i; j++)
			if (p->iface[j] == idx)
				return fp_err_set(err, EINVAL, "capture: %s named twice", port->name);
	}
	if (cap.running)
		return fp_err_set(err, EBUSY,
				  "capture: a capture is already running (id %" PRIu64
				  "); stop it first",
				  cap.id);
	return 0;
}

int64_t
fp_capture_start(const struct fp_capture_params *p, struct fp_err *err)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct timespec now;
	int64_t id = -1;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (capture_check_locked(p, err) < 0)
		goto out;
	if (cap.active)
		capture_free_locked(); /* a stopped capture nobody read to the end */
	memset(cap.ctr, 0, sizeof(cap.ctr));
	memset(&cap.final, 0, sizeof(cap.final));
	cap.snaplen = p->snaplen;
	if (p->filter[0] != '\0' && capture_filter_load(p->filter, p->snaplen, err) < 0)
		goto fail;
	cap.next_id++;
	snprintf(name, sizeof(name), "fp_cap_pool%" PRIu64, cap.next_id);
	/* One mbuf per frame of up to 2 KiB; longer ones take a chain. */
	cap.pool = rte_pktmbuf_pool_create(name, p->buffer, 0, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (cap.pool == NULL) {
		fp_err_set(err, ENOMEM, "capture: buffer %u: cannot allocate the copies' pool: %s",
			   p->buffer, rte_strerror(rte_errno));
		goto fail;
	}
	snprintf(name, sizeof(name), "fp_cap_ring%" PRIu64, cap.next_id);
	cap.ring = rte_ring_create(name, p->buffer, SOCKET_ID_ANY,
				   RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (cap.ring == NULL) {
		fp_err_set(err, ENOMEM, "capture: buffer %u: cannot allocate the ring: %s",
			   p->buffer, rte_strerror(rte_errno));
		goto fail;
	}
	cap.active = true;
	cap.tsc_hz = rte_get_tsc_hz();
	clock_gettime(CLOCK_REALTIME, &now);
	cap.base_tsc = rte_rdtsc();
	cap.base_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	cap.running = true;
	if (capture_hook_locked(p, err) < 0)
		goto fail;
	cap.id = cap.next_id;
	id = (int64_t)cap.id;
	goto out;
fail:
	cap.running = false;
	capture_free_locked();
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return id;
}

static uint64_t
capture_time_ns(uint64_t tsc)
{
	uint64_t d = tsc - cap.base_tsc;

	return cap.base_ns + d / cap.tsc_hz * 1000000000ull +
	       d % cap.tsc_hz * 1000000000ull / cap.tsc_hz;
}

static size_t
record_size(uint32_t cap_len)
{
	return sizeof(struct fp_capture_record) + ((cap_len + 3u) & ~3u);
}

int64_t
fp_capture_read(uint64_t id, uint8_t *out, size_t max, uint32_t *npkts, struct fp_err *err)
{
	size_t used = 0;
	int64_t rc;

	*npkts = 0;
	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!cap.active || cap.id != id) {
		rc = fp_err_set(err, ENOENT, "capture %" PRIu64 ": no such capture", id);
		goto out;
	}
	for (;;) {
		struct rte_mbuf *m = cap.pending;
		struct fp_capture_record rec;
		const struct capture_meta *meta;
		const void *data;
		void *obj;

		if (m == NULL) {
			if (rte_ring_sc_dequeue(cap.ring, &obj) != 0)
				break;
			m = obj;
		}
		meta = rte_pktmbuf_mtod(m, const struct capture_meta *);
		memset(&rec, 0, sizeof(rec));
		rec.cap_len = m->pkt_len - (uint32_t)sizeof(*meta);
		if (used + record_size(rec.cap_len) > max) {
			cap.pending = m; /* the next read takes it first */
			break;
		}
		cap.pending = NULL;
		rec.time_ns = capture_time_ns(meta->tsc);
		rec.wire_len = meta->wire_len;
		rec.iface = meta->iface;
		rec.direction = meta->direction;
		memcpy(out + used, &rec, sizeof(rec));
		data = rte_pktmbuf_read(m, sizeof(*meta), rec.cap_len,
					out + used + sizeof(rec));
		if (data != out + used + sizeof(rec))
			memcpy(out + used + sizeof(rec), data, rec.cap_len);
		memset(out + used + sizeof(rec) + rec.cap_len, 0,
		       record_size(rec.cap_len) - sizeof(rec) - rec.cap_len);
		used += record_size(rec.cap_len);
		(*npkts)++;
		rte_pktmbuf_free(m);
	}
	rc = (int64_t)used;
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_capture_status(uint64_t id, struct fp_capture_stats *st, bool *running, struct fp_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (cap.id != id || id == 0)
		rc = fp_err_set(err, ENOENT, "capture %" PRIu64 ": no such capture", id);
	else if (cap.running)
		capture_sum(st);
	else
		*st = cap.final;
	*running = rc == 0 && cap.running;
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_capture_stop(uint64_t id, struct fp_capture_stats *st, struct fp_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (cap.id != id || id == 0) {
		rc = fp_err_set(err, ENOENT, "capture %" PRIu64 ": no such capture", id);
	} else {
		if (cap.running)
			capture_unhook_locked();
		*st = cap.final;
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

void
fp_capture_release(uint64_t id)
{
	pthread_mutex_lock(&fp_router.ctl_lock);
	if (cap.id == id && cap.active) {
		if (cap.running)
			capture_unhook_locked();
		capture_free_locked();
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
}

/* The router stops (workers stopped, ports not yet closed): a capture
 * still running ends here, its copies with it. */
static void
capture_router_stop_locked(void)
{
	if (cap.running)
		capture_unhook_locked();
	if (cap.active)
		capture_free_locked();
}

static struct fp_proto capture_proto = {
	.name = "capture",
	.order = FP_PROTO_ORDER_CAPTURE,
	.stop_locked = capture_router_stop_locked,
};
FP_PROTO_REGISTER(capture_proto)

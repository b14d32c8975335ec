/*
 * control/frag.c — reassembly of fragments for the router and fragmentation
 * of what it sends; see frag.h. The reassembly state is control/reasm.c's,
 * owned by the control thread alone.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "../core/ip6.h"
#include "../core/proto.h"
#include "../core/router.h"
#include "ctl.h"
#include "frag.h"
#include "icmp6.h"
#include "reasm.h"

#define FRAG_BIG_MBUFS 63        /* datagrams reassembled or built at once */
#define FRAG_BIG_ROOM 65535      /* mbuf data room (the most a uint16 says) */
#define FRAG_MAX_PIECES 64       /* 65535 / 1232 < 54 */
#define FRAG_SENDERS 64          /* remembered first-fragment senders */

static struct fp_reasm reasm;
static void *reasm_mem;
static struct rte_mempool *big_pool;
static unsigned pool_serial;
static uint32_t ident;

/* Where a reassembly's first fragment came from, to send its Time Exceeded
 * back the way it came (reasm.c keys only by addresses). */
static struct {
	uint8_t src[16];
	uint8_t mac[6];
	uint16_t port;
	bool used;
} senders[FRAG_SENDERS];
static unsigned senders_next;

struct rte_mempool *
fp_frag_big_pool(void)
{
	return __atomic_load_n(&big_pool, __ATOMIC_ACQUIRE);
}

/* Whether the IPv6 packet has a Fragment header (after Hop-by-Hop,
 * Destination Options or Routing headers, as RFC 8200 4.1 orders them). */
static bool
is_fragment(const uint8_t *ip6, uint32_t len)
{
	uint32_t off = FP_IP6_HDR_LEN;
	uint8_t nh = ip6[6];
	int hops = 0;

	while ((nh == 0 || nh == 43 || nh == 60) && hops++ < 8) {
		if (off + 8 > len)
			return false;
		nh = ip6[off];
		off += 8u + 8u * ip6[off + 1];
	}
	return nh == FP_IPPROTO_FRAGMENT;
}

static void
sender_remember(const uint8_t src[16], const uint8_t mac[6], uint16_t port)
{
	unsigned i;

	for (i = 0; i < FRAG_SENDERS; i++)
		if (senders[i].used && memcmp(senders[i].src, src, 16) == 0)
			break;
	if (i == FRAG_SENDERS)
		i = senders_next++ % FRAG_SENDERS;
	memcpy(senders[i].src, src, 16);
	memcpy(senders[i].mac, mac, 6);
	senders[i].port = port;
	senders[i].used = true;
}

/* A frame holding `pkt` (IPv6 first) as if received from `mac` on port:
 * what fp_icmp6_error() and the handlers expect. From the big pool when it
 * does not fit a regular mbuf. */
static struct rte_mbuf *
frame_from(const uint8_t *pkt, size_t len, const uint8_t *src_mac, uint16_t port)
{
	size_t room = (size_t)rte_pktmbuf_data_room_size(fp_router.pool) - RTE_PKTMBUF_HEADROOM;
	struct rte_mempool *pool = len + FP_ETHER_HDR_LEN <= room ? fp_router.pool : big_pool;
	struct rte_mbuf *m = pool != NULL ? rte_pktmbuf_alloc(pool) : NULL;
	uint8_t *f;

	if (m == NULL)
		return NULL;
	f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(FP_ETHER_HDR_LEN + len));
	if (f == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(f, fp_router.ports[port].mac.addr_bytes, 6);
	memcpy(f + 6, src_mac, 6);
	f[12] = FP_ETHERTYPE_IPV6 >> 8;
	f[13] = FP_ETHERTYPE_IPV6 & 0xff;
	memcpy(f + FP_ETHER_HDR_LEN, pkt, len);
	m->port = port;
	return m;
}

struct rte_mbuf *
fp_frag_input(struct fp_lcore *lc, struct rte_mbuf *m)
{
	struct fp_reasm_result res;
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *ip6 = frame + FP_ETHER_HDR_LEN;
	uint32_t len;
	struct rte_mbuf *whole;

	if (reasm_mem == NULL || m->nb_segs != 1 ||
	    m->data_len < FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN)
		return m;
	len = m->data_len - FP_ETHER_HDR_LEN;
	if (!is_fragment(ip6, len) || fp_ip6_is_multicast(ip6 + 24))
		return m;
	fp_router.ctl_ctr[FP_CCTR_frag_received]++;
	fp_reasm_input_if(&reasm, ip6, len, m->port, fp_now_ms(), &res);
	switch (res.verdict) {
	case FP_REASM_HELD:
		/* Remember the sender of a first fragment (offset 0). */
		sender_remember(ip6 + 8, frame + 6, m->port);
		rte_pktmbuf_free(m);
		return NULL;
	case FP_REASM_COMPLETE:
		whole = frame_from(res.pkt, res.len, frame + 6, m->port);
		rte_pktmbuf_free(m);
		if (whole == NULL) {
			fp_router.ctl_ctr[FP_CCTR_frag_dropped]++;
			return NULL;
		}
		fp_router.ctl_ctr[FP_CCTR_frag_reassembled]++;
		return whole;
	case FP_REASM_ICMP:
		fp_router.ctl_ctr[FP_CCTR_frag_dropped]++;
		fp_icmp6_error(lc, m, res.icmp_type, res.icmp_code, res.icmp_pointer, false);
		return NULL;
	default:
		fp_router.ctl_ctr[FP_CCTR_frag_dropped]++;
		rte_pktmbuf_free(m);
		return NULL;
	}
}

/* fp_reasm_expire's callback: Time Exceeded, code 1, quoting the first
 * fragment, back to its sender (RFC 8200 4.5). */
static void
frag_expired(void *ctx, const uint8_t *quote, size_t len)
{
	struct fp_lcore *lc = ctx;
	struct rte_mbuf *m;
	unsigned i;

	fp_router.ctl_ctr[FP_CCTR_frag_timeouts]++;
	for (i = 0; i < FRAG_SENDERS; i++)
		if (senders[i].used && len >= FP_IP6_HDR_LEN &&
		    memcmp(senders[i].src, quote + 8, 16) == 0)
			break;
	if (i == FRAG_SENDERS || senders[i].port >= fp_router.nports)
		return;
	m = frame_from(quote, len, senders[i].mac, senders[i].port);
	if (m != NULL)
		fp_icmp6_error(lc, m, FP_REASM_ICMP_TIME_EXCEEDED, FP_REASM_ICMP_TE_REASSEMBLY, 0, false);
}

/* fp_frag_split's buffers: one regular mbuf per fragment, after a copy of
 * the original Ethernet header. */
struct split_ctx {
	struct rte_mbuf *pieces[FRAG_MAX_PIECES];
	const uint8_t *eth;
	unsigned n;
};

static uint8_t *
split_buf(void *arg, size_t len, unsigned index)
{
	struct split_ctx *c = arg;
	struct rte_mbuf *m;
	uint8_t *f;

	if (index >= FRAG_MAX_PIECES || (m = rte_pktmbuf_alloc(fp_router.pool)) == NULL)
		return NULL;
	f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(FP_ETHER_HDR_LEN + len));
	if (f == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(f, c->eth, FP_ETHER_HDR_LEN);
	c->pieces[c->n++] = m;
	return f + FP_ETHER_HDR_LEN;
}

bool
fp_frag_output(struct fp_lcore *lc, struct rte_mbuf *m, uint16_t out_idx)
{
	struct split_ctx c = { .n = 0 };
	const uint8_t *frame;
	unsigned i;
	int rc;

	if (m->nb_segs != 1 || out_idx >= fp_router.nports)
		return false;
	frame = rte_pktmbuf_mtod(m, const uint8_t *);
	c.eth = frame;
	rc = fp_frag_split(frame + FP_ETHER_HDR_LEN, m->data_len - FP_ETHER_HDR_LEN,
			   fp_router.ports[out_idx].mtu, ++ident, split_buf, &c);
	if (rc <= 0) {
		for (i = 0; i < c.n; i++)
			rte_pktmbuf_free(c.pieces[i]);
		return false;
	}
	rte_pktmbuf_free(m);
	for (i = 0; i < c.n; i++) {
		fp_router.ctl_ctr[FP_CCTR_frag_sent]++;
		fp_ctl_send(lc, c.pieces[i], out_idx);
	}
	return true;
}

/* The control thread's tick: Time Exceeded for reassemblies out of time. */
static void
frag_timers(void)
{
	if (reasm_mem != NULL && fp_router.nworkers > 0 &&
	    fp_now_ms() >= fp_reasm_next_deadline(&reasm))
		fp_reasm_expire(&reasm, fp_now_ms(), frag_expired, fp_router.lcores[0]);
}

/* Launch: the reassembly state and the pool of 64 KiB buffers. */
static int
frag_start(struct fp_err *err)
{
	struct fp_reasm_cfg cfg = { .max_payload = FP_FRAG_MAX_PAYLOAD };
	char name[RTE_MEMPOOL_NAMESIZE];
	size_t sz = fp_reasm_mem_size(&cfg);

	reasm_mem = aligned_alloc(64, (sz + 63) & ~(size_t)63);
	cfg.hash_seed = (uint32_t)rte_rdtsc();
	if (reasm_mem == NULL || fp_reasm_init(&reasm, &cfg, reasm_mem, sz) != 0) {
		free(reasm_mem);
		reasm_mem = NULL;
		return fp_err_set(err, ENOMEM, "cannot set up fragment reassembly");
	}
	/* Created once and kept for the process: a big buffer may still sit in
	 * a queue that is drained after the protocols stop. */
	snprintf(name, sizeof(name), "fp_big_%u", pool_serial++);
	if (big_pool == NULL)
		__atomic_store_n(&big_pool, rte_pktmbuf_pool_create(name, FRAG_BIG_MBUFS, 0, 0,
								    FRAG_BIG_ROOM, SOCKET_ID_ANY),
				 __ATOMIC_RELEASE);
	if (big_pool == NULL) {
		free(reasm_mem);
		reasm_mem = NULL;
		return fp_err_set(err, ENOMEM, "cannot create the 64 KiB buffer pool: %s",
				  rte_strerror(rte_errno));
	}
	ident = (uint32_t)rte_rdtsc();
	memset(senders, 0, sizeof(senders));
	return 0;
}

/* Stop (control thread joined): forget every reassembly. */
static void
frag_stop_locked(void)
{
	if (reasm_mem != NULL) {
		fp_reasm_flush(&reasm);
		free(reasm_mem);
		reasm_mem = NULL;
	}
}

static struct fp_proto frag_proto = {
	.name = "frag",
	.order = FP_PROTO_ORDER_FRAG,
	.start = frag_start,
	.stop_locked = frag_stop_locked,
	.timers = frag_timers,
};
FP_PROTO_REGISTER(frag_proto)

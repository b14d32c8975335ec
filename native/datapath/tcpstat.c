/*
 * tcpstat.c — per-lcore TCP connection inference for SIFTR; see tcpstat.h
 * for the rules and where each comes from in FreeBSD's siftr.c.
 *
 * Thread rules: only the lcore that owns a table calls these functions (the
 * seed's pfil hook, siftr_chkpkt6, runs per CPU without sleeping; here the
 * table is per lcore, so nothing locks). No allocation after
 * fp_tcpstat_init, no syscalls, no clock reads: time is the caller's now_us.
 */
#include <string.h>

#include "tcpstat.h"

/* struct fp_tcpstat_endpoint.flags */
#define EP_SYN 0x0001        /* sent a SYN: isn, syn_time valid */
#define EP_SEQ 0x0002        /* snd_max valid */
#define EP_ACK 0x0004        /* ack_max valid */
#define EP_FIN 0x0008        /* sent a FIN: fin_seq valid */
#define EP_SYN_REXMIT 0x0010 /* its SYN was sent again (Karn) */
#define EP_SYN_ACKED 0x0020  /* the other side acknowledged its SYN */
#define EP_TS_TIMING 0x0040  /* ts_val is being timed */
#define EP_TS_LAST 0x0080    /* ts_last valid */
#define EP_SEQ_TIMING 0x0100 /* rtt_seq is being timed */
#define EP_RTT 0x0200        /* srtt_us holds a sample */
#define EP_ECN 0x0400        /* its SYN asked for / agreed to ECN */

/* struct fp_tcpstat_entry.flags */
#define CONN_WSCALE 0x01    /* both offered window scaling */
#define CONN_SACK 0x02      /* both offered SACK-permitted */
#define CONN_TS 0x04        /* both offered timestamps */
#define CONN_ECN 0x08       /* ECN negotiated */
#define CONN_RESET 0x10     /* a RST was seen */
#define CONN_CLOSED 0x20    /* closed_at valid (both closed, or RST) */
#define CONN_MIDSTREAM 0x40 /* picked up without its SYN */

#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)

/* Round up to a multiple of 64 bytes. */
static inline size_t
align64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

/* Read a big-endian 16-bit value. */
static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/* Read a big-endian 32-bit value. */
static inline uint32_t
rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

int
fp_tcp_options_parse(const uint8_t *opt, size_t len, struct fp_tcp_opts *out)
{
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	while (i < len) {
		uint8_t kind = opt[i];
		size_t olen;

		if (kind == FP_TCPOPT_EOL)
			break;
		if (kind == FP_TCPOPT_NOP) {
			i++;
			continue;
		}
		/* As tcp_dooptions: no room for the length byte, a length
		 * below 2 or past the end stops the walk. */
		if (len - i < 2) {
			out->present |= FP_TCPO_BAD;
			break;
		}
		olen = opt[i + 1];
		if (olen < 2 || olen > len - i) {
			out->present |= FP_TCPO_BAD;
			break;
		}
		switch (kind) {
		case FP_TCPOPT_MAXSEG:
			if (olen != FP_TCPOLEN_MAXSEG)
				goto bad_length;
			out->present |= FP_TCPO_MSS;
			out->mss = rd16(opt + i + 2);
			break;
		case FP_TCPOPT_WINDOW:
			if (olen != FP_TCPOLEN_WINDOW)
				goto bad_length;
			out->present |= FP_TCPO_WSCALE;
			out->wscale = opt[i + 2];
			break;
		case FP_TCPOPT_SACK_PERMITTED:
			if (olen != FP_TCPOLEN_SACK_PERMITTED)
				goto bad_length;
			out->present |= FP_TCPO_SACKOK;
			break;
		case FP_TCPOPT_SACK:
			if (olen < 10 || (olen - 2) % 8 != 0)
				goto bad_length;
			out->present |= FP_TCPO_SACK;
			break;
		case FP_TCPOPT_TIMESTAMP:
			if (olen != FP_TCPOLEN_TIMESTAMP)
				goto bad_length;
			out->present |= FP_TCPO_TS;
			out->tsval = rd32(opt + i + 2);
			out->tsecr = rd32(opt + i + 6);
			break;
		default:
			break; /* unknown kinds are skipped by their length */
		}
		i += olen;
		continue;
bad_length:
		/* A known option with the wrong length is ignored (as
		 * tcp_dooptions does), and the segment counted as malformed. */
		out->present |= FP_TCPO_BAD;
		i += olen;
	}
	return (out->present & FP_TCPO_BAD) ? -1 : 0;
}

int
fp_tcp_header_parse(const uint8_t *th, size_t avail, uint32_t tcp_len,
		    struct fp_tcp_segment *seg)
{
	size_t hlen;

	if (avail < 20)
		return -1;
	hlen = (size_t)(th[12] >> 4) * 4;
	if (hlen < 20 || hlen > avail || hlen > tcp_len)
		return -1;
	seg->sport = rd16(th);
	seg->dport = rd16(th + 2);
	seg->seq = rd32(th + 4);
	seg->ack = rd32(th + 8);
	seg->flags = th[13];
	seg->window = rd16(th + 14);
	seg->payload_len = tcp_len - (uint32_t)hlen;
	fp_tcp_options_parse(th + 20, hlen - 20, &seg->opts);
	return 0;
}

size_t
fp_tcpstat_memsize(uint32_t capacity)
{
	uint32_t hashsize = 1;

	if (capacity == 0 || capacity > FP_TCPSTAT_MAX_ENTRIES)
		return 0;
	while (hashsize < capacity)
		hashsize <<= 1;
	return align64(sizeof(struct fp_tcpstat)) +
	       align64((size_t)hashsize * sizeof(uint32_t)) +
	       (size_t)capacity * sizeof(struct fp_tcpstat_entry);
}

/* Empty every bucket and thread all entries on the free list. */
static void
table_clear(struct fp_tcpstat *t)
{
	uint32_t i;

	for (i = 0; i < t->hashsize; i++)
		t->buckets[i] = FP_TCPSTAT_NONE;
	for (i = 0; i < t->capacity; i++) {
		memset(&t->entries[i], 0, sizeof(t->entries[i]));
		t->entries[i].hash_next = i + 1 < t->capacity ? i + 1 : FP_TCPSTAT_NONE;
	}
	t->free_head = 0;
	t->lru_head = t->lru_tail = FP_TCPSTAT_NONE;
	t->inuse = 0;
	t->scan_cursor = 0;
}

struct fp_tcpstat *
fp_tcpstat_init(void *mem, uint32_t capacity,
		const struct fp_tcpstat_config *cfg)
{
	struct fp_tcpstat *t = mem;
	uint8_t *p = mem;
	uint32_t hashsize = 1;

	if (capacity == 0 || capacity > FP_TCPSTAT_MAX_ENTRIES)
		return NULL;
	while (hashsize < capacity)
		hashsize <<= 1;
	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	t->capacity = capacity;
	t->hashsize = hashsize;
	t->buckets = (uint32_t *)(p + align64(sizeof(*t)));
	t->entries = (struct fp_tcpstat_entry *)(p + align64(sizeof(*t)) +
		      align64((size_t)hashsize * sizeof(uint32_t)));
	table_clear(t);
	return t;
}

void
fp_tcpstat_set_config(struct fp_tcpstat *t, const struct fp_tcpstat_config *cfg)
{
	t->cfg = *cfg;
}

void
fp_tcpstat_flush(struct fp_tcpstat *t)
{
	table_clear(t);
	memset(&t->ctr, 0, sizeof(t->ctr));
}

/* Hash of the 4-tuple with its two endpoints in a fixed order, so that both
 * directions of a connection hash alike. */
static uint32_t
tuple_hash(const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp)
{
	const uint8_t *lo = a, *hi = b;
	uint16_t lop = ap, hip = bp;
	uint64_t w[4], h, a0, a1, b0, b1;
	int i;

	/* Order the endpoints by address then port, as two big-endian words
	 * (memcmp's order without a library call on the packet path). */
	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	a0 = __builtin_bswap64(a0);
	a1 = __builtin_bswap64(a1);
	b0 = __builtin_bswap64(b0);
	b1 = __builtin_bswap64(b1);
	if (a0 > b0 || (a0 == b0 && (a1 > b1 || (a1 == b1 && ap > bp)))) {
		lo = b, hi = a;
		lop = bp, hip = ap;
	}
	memcpy(w, lo, 16);
	memcpy(w + 2, hi, 16);
	h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)lop << 16 | hip);
	for (i = 0; i < 4; i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 33;
	}
	return (uint32_t)(h ^ (h >> 32));
}

/* True when endpoint ep is (addr, port). */
static inline bool
ep_is(const struct fp_tcpstat_endpoint *ep, const uint8_t *addr, uint16_t port)
{
	return ep->port == port && memcmp(ep->addr, addr, 16) == 0;
}

/* Find the connection of a 4-tuple in either direction; *from is the index
 * of the endpoint that is (a, ap). */
static struct fp_tcpstat_entry *
find(struct fp_tcpstat *t, uint32_t hash, const uint8_t *a, uint16_t ap,
     const uint8_t *b, uint16_t bp, unsigned *from)
{
	uint32_t i = t->buckets[hash & (t->hashsize - 1)];

	while (i != FP_TCPSTAT_NONE) {
		struct fp_tcpstat_entry *e = &t->entries[i];
		if (e->hash == hash) {
			if (ep_is(&e->ep[0], a, ap) && ep_is(&e->ep[1], b, bp)) {
				*from = 0;
				return e;
			}
			if (ep_is(&e->ep[1], a, ap) && ep_is(&e->ep[0], b, bp)) {
				*from = 1;
				return e;
			}
		}
		i = e->hash_next;
	}
	return NULL;
}

struct fp_tcpstat_entry *
fp_tcpstat_lookup(struct fp_tcpstat *t, const uint8_t a[16], uint16_t aport,
		  const uint8_t b[16], uint16_t bport)
{
	unsigned from;

	return find(t, tuple_hash(a, aport, b, bport), a, aport, b, bport, &from);
}

/* Take an entry off the LRU list. */
static void
lru_unlink(struct fp_tcpstat *t, struct fp_tcpstat_entry *e)
{
	if (e->lru_prev != FP_TCPSTAT_NONE)
		t->entries[e->lru_prev].lru_next = e->lru_next;
	else
		t->lru_head = e->lru_next;
	if (e->lru_next != FP_TCPSTAT_NONE)
		t->entries[e->lru_next].lru_prev = e->lru_prev;
	else
		t->lru_tail = e->lru_prev;
}

/* Put an entry at the head (most recently used) of the LRU list. */
static void
lru_push(struct fp_tcpstat *t, struct fp_tcpstat_entry *e)
{
	uint32_t idx = (uint32_t)(e - t->entries);

	e->lru_prev = FP_TCPSTAT_NONE;
	e->lru_next = t->lru_head;
	if (t->lru_head != FP_TCPSTAT_NONE)
		t->entries[t->lru_head].lru_prev = idx;
	t->lru_head = idx;
	if (t->lru_tail == FP_TCPSTAT_NONE)
		t->lru_tail = idx;
}

/* Mark an entry used now: move it to the LRU head. */
static void
lru_touch(struct fp_tcpstat *t, struct fp_tcpstat_entry *e)
{
	if (t->lru_head == (uint32_t)(e - t->entries))
		return;
	lru_unlink(t, e);
	lru_push(t, e);
}

/* True when an entry may go: closed for close_grace_us, or unused for
 * idle_us (0 = never idle out). */
static bool
expired(const struct fp_tcpstat *t, const struct fp_tcpstat_entry *e,
	uint64_t now)
{
	if ((e->flags & CONN_CLOSED) && now >= e->closed_at &&
	    now - e->closed_at >= t->cfg.close_grace_us)
		return true;
	return t->cfg.idle_us != 0 && now > e->last_seen &&
	       now - e->last_seen >= t->cfg.idle_us;
}

/* Unlink an entry from its bucket and the LRU list; put it on the free list. */
static void
entry_remove(struct fp_tcpstat *t, struct fp_tcpstat_entry *e)
{
	uint32_t idx = (uint32_t)(e - t->entries);
	uint32_t *pp = &t->buckets[e->hash & (t->hashsize - 1)];

	while (*pp != idx)
		pp = &t->entries[*pp].hash_next;
	*pp = e->hash_next;
	lru_unlink(t, e);
	e->in_use = 0;
	e->hash_next = t->free_head;
	t->free_head = idx;
	t->inuse--;
}

/* A free entry for a new connection, linked under hash; when the table is
 * full, an expired one from the least recently used end. NULL if none. */
static struct fp_tcpstat_entry *
entry_alloc(struct fp_tcpstat *t, uint32_t hash, uint64_t now)
{
	struct fp_tcpstat_entry *e;
	uint32_t idx = t->free_head, bucket;

	if (idx == FP_TCPSTAT_NONE) {
		uint32_t i = t->lru_tail, n;
		for (n = 0; i != FP_TCPSTAT_NONE && n < FP_TCPSTAT_REUSE_PROBE; n++) {
			e = &t->entries[i];
			if (expired(t, e, now)) {
				entry_remove(t, e);
				t->ctr.reused++;
				idx = t->free_head;
				break;
			}
			i = e->lru_prev;
		}
		if (idx == FP_TCPSTAT_NONE)
			return NULL;
	}
	e = &t->entries[idx];
	t->free_head = e->hash_next;
	memset(e, 0, sizeof(*e));
	e->in_use = 1;
	e->hash = hash;
	bucket = hash & (t->hashsize - 1);
	e->hash_next = t->buckets[bucket];
	t->buckets[bucket] = idx;
	lru_push(t, e);
	t->inuse++;
	t->ctr.created++;
	return e;
}

/* Reset an entry's connection state for a new connection from src to dst,
 * keeping its place in the table. */
static void
entry_start(struct fp_tcpstat_entry *e, const struct fp_tcp_segment *seg,
	    uint8_t initiator_state, uint8_t responder_state)
{
	memset(e->ep, 0, sizeof(e->ep));
	memcpy(e->ep[0].addr, seg->src, 16);
	e->ep[0].port = seg->sport;
	e->ep[0].state = initiator_state;
	memcpy(e->ep[1].addr, seg->dst, 16);
	e->ep[1].port = seg->dport;
	e->ep[1].state = responder_state;
	e->closed_at = 0;
	e->counter = 0;
	e->flags = 0;
}

/* True when a SYN without ACK opens a new connection on an existing entry:
 * the old one is over (closed, reset, picked up mid-stream), or its
 * initiator tries again with another ISN before any answer. A resent SYN
 * (same ISN) is a retransmission. */
static bool
is_new_syn(const struct fp_tcpstat_entry *e, const struct fp_tcp_segment *seg,
	   unsigned from)
{
	const struct fp_tcpstat_endpoint *i = &e->ep[0];

	if ((seg->flags & (FP_TH_SYN | FP_TH_ACK | FP_TH_RST)) != FP_TH_SYN)
		return false;
	if (from == 0 && (i->flags & EP_SYN) && seg->seq == i->isn)
		return false;
	if (e->flags & (CONN_CLOSED | CONN_RESET | CONN_MIDSTREAM))
		return true;
	return from == 0 && i->state == FP_TCPS_SYN_SENT;
}

/* Fold one RTT sample into an endpoint's leg (RFC 6298: srtt += (R - srtt)/8,
 * the first sample taken as is). */
static void
rtt_sample(struct fp_tcpstat *t, struct fp_tcpstat_endpoint *ep, uint64_t us)
{
	uint32_t r = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;

	if (!(ep->flags & EP_RTT)) {
		ep->srtt_us = r;
		ep->flags |= EP_RTT;
	} else {
		int64_t d = (int64_t)r - (int64_t)ep->srtt_us;
		ep->srtt_us = (uint32_t)((int64_t)ep->srtt_us + d / 8);
	}
	t->ctr.rtt_samples++;
}

/* Learn the handshake options of s's SYN; on a SYN/ACK, settle what both
 * sides agreed (window scaling, SACK, timestamps, ECN). */
static void
track_syn(struct fp_tcpstat_entry *e, struct fp_tcpstat_endpoint *s,
	  const struct fp_tcpstat_endpoint *r,
	  const struct fp_tcp_segment *seg, uint64_t now)
{
	uint8_t ecn = seg->flags & (FP_TH_ECE | FP_TH_CWR);
	uint8_t both;

	if (!(s->flags & EP_SYN)) {
		s->isn = seg->seq;
		s->syn_time = now;
		s->flags |= EP_SYN;
		s->synopts = seg->opts.present &
			     (FP_TCPO_MSS | FP_TCPO_WSCALE | FP_TCPO_SACKOK | FP_TCPO_TS);
		s->mss = (seg->opts.present & FP_TCPO_MSS) ? seg->opts.mss : 0;
		s->wscale = seg->opts.wscale > FP_TCP_MAX_WINSHIFT ?
				    FP_TCP_MAX_WINSHIFT : seg->opts.wscale;
		/* RFC 3168 6.1.1: ECN-setup SYN has ECE and CWR, the
		 * ECN-setup SYN/ACK ECE only. */
		if ((seg->flags & FP_TH_ACK) ? ecn == FP_TH_ECE
					      : ecn == (FP_TH_ECE | FP_TH_CWR))
			s->flags |= EP_ECN;
	}
	if (!(seg->flags & FP_TH_ACK) || !(r->flags & EP_SYN))
		return;
	both = s->synopts & r->synopts;
	if (both & FP_TCPO_WSCALE)
		e->flags |= CONN_WSCALE;
	if (both & FP_TCPO_SACKOK)
		e->flags |= CONN_SACK;
	if (both & FP_TCPO_TS)
		e->flags |= CONN_TS;
	if ((s->flags & EP_ECN) && (r->flags & EP_ECN))
		e->flags |= CONN_ECN;
}

/* Sequence space of s's segment: highest sequence sent, retransmissions
 * (Karn: they cancel the data timing they overlap), start of data and
 * timestamp timing, FIN position. */
static void
track_send(struct fp_tcpstat *t, struct fp_tcpstat_entry *e,
	   struct fp_tcpstat_endpoint *s, const struct fp_tcp_segment *seg,
	   uint64_t now)
{
	uint8_t fl = seg->flags;
	uint32_t seq = seg->seq;
	uint32_t span = seg->payload_len + !!(fl & FP_TH_SYN) + !!(fl & FP_TH_FIN);
	uint32_t end = seq + span;

	if (span > 0) {
		if ((s->flags & EP_SEQ) && SEQ_LT(seq, s->snd_max)) {
			s->rexmits++;
			t->ctr.rexmits++;
			if (fl & FP_TH_SYN)
				s->flags |= EP_SYN_REXMIT;
			if ((s->flags & EP_SEQ_TIMING) && SEQ_LT(seq, s->rtt_seq))
				s->flags &= ~EP_SEQ_TIMING;
		} else if (!(e->flags & CONN_TS) && seg->payload_len > 0 &&
			   !(fl & FP_TH_SYN) && (s->flags & EP_SEQ) &&
			   !(s->flags & EP_SEQ_TIMING)) {
			s->rtt_seq = end;
			s->seq_start = now;
			s->flags |= EP_SEQ_TIMING;
		}
		if (!(s->flags & EP_SEQ) || SEQ_GT(end, s->snd_max))
			s->snd_max = end;
		s->flags |= EP_SEQ;
	} else if (!(s->flags & EP_SEQ)) {
		s->snd_max = seq;
		s->flags |= EP_SEQ;
	}

	/* Timestamps: time a TSval newer than the last one timed, carried by
	 * a segment the other side will acknowledge (data or FIN). */
	if ((e->flags & CONN_TS) && (seg->opts.present & FP_TCPO_TS) &&
	    !(fl & FP_TH_SYN) && span > 0 && !(s->flags & EP_TS_TIMING) &&
	    (!(s->flags & EP_TS_LAST) || SEQ_GT(seg->opts.tsval, s->ts_last))) {
		s->ts_val = s->ts_last = seg->opts.tsval;
		s->ts_start = now;
		s->flags |= EP_TS_TIMING | EP_TS_LAST;
	}

	if ((fl & FP_TH_FIN) && !(s->flags & EP_FIN)) {
		s->fin_seq = seq + seg->payload_len + !!(fl & FP_TH_SYN);
		s->flags |= EP_FIN;
	}
}

/* What s's ACK tells about r's data: the cumulative ACK, and RTT samples
 * for s's leg (s answered something r sent): r's SYN, r's TSval echoed in
 * an advancing ACK, or r's timed data covered. */
static void
track_ack(struct fp_tcpstat *t, struct fp_tcpstat_entry *e,
	  struct fp_tcpstat_endpoint *s, struct fp_tcpstat_endpoint *r,
	  const struct fp_tcp_segment *seg, uint64_t now)
{
	uint32_t ack = seg->ack;
	bool advanced = !(s->flags & EP_ACK) || SEQ_GT(ack, s->ack_max);

	if (advanced) {
		s->ack_max = ack;
		s->flags |= EP_ACK;
	}
	if ((r->flags & EP_SYN) && !(r->flags & EP_SYN_ACKED) &&
	    SEQ_GEQ(ack, r->isn + 1)) {
		r->flags |= EP_SYN_ACKED;
		if (!(r->flags & EP_SYN_REXMIT) && now >= r->syn_time)
			rtt_sample(t, s, now - r->syn_time);
	}
	if ((e->flags & CONN_TS) && (seg->opts.present & FP_TCPO_TS) &&
	    (r->flags & EP_TS_TIMING)) {
		if (seg->opts.tsecr == r->ts_val) {
			if (advanced) {
				if (now >= r->ts_start)
					rtt_sample(t, s, now - r->ts_start);
				r->flags &= ~EP_TS_TIMING;
			}
		} else if (SEQ_GT(seg->opts.tsecr, r->ts_val)) {
			r->flags &= ~EP_TS_TIMING; /* its echo was missed */
		}
	}
	if ((r->flags & EP_SEQ_TIMING) && SEQ_GEQ(ack, r->rtt_seq)) {
		if (now >= r->seq_start)
			rtt_sample(t, s, now - r->seq_start);
		r->flags &= ~EP_SEQ_TIMING;
	}
}

/* State of the sender s after sending flags (RFC 9293 3.3.2). */
static void
state_on_send(struct fp_tcpstat_endpoint *s, uint8_t fl)
{
	if ((fl & (FP_TH_SYN | FP_TH_ACK)) == FP_TH_SYN) {
		if (s->state == FP_TCPS_CLOSED || s->state == FP_TCPS_LISTEN)
			s->state = FP_TCPS_SYN_SENT;
	} else if (fl & FP_TH_SYN) {
		if (s->state == FP_TCPS_LISTEN || s->state == FP_TCPS_SYN_SENT)
			s->state = FP_TCPS_SYN_RECEIVED;
	}
	if (fl & FP_TH_FIN) {
		if (s->state == FP_TCPS_ESTABLISHED ||
		    s->state == FP_TCPS_SYN_RECEIVED)
			s->state = FP_TCPS_FIN_WAIT_1;
		else if (s->state == FP_TCPS_CLOSE_WAIT)
			s->state = FP_TCPS_LAST_ACK;
	}
}

/* State of the receiver r once s's segment has reached it: its SYN or FIN
 * acknowledged first, then the segment's SYN or FIN. */
static void
state_on_receive(struct fp_tcpstat_endpoint *r, const struct fp_tcp_segment *seg)
{
	uint8_t fl = seg->flags;

	if ((fl & (FP_TH_SYN | FP_TH_ACK)) == FP_TH_SYN &&
	    (r->state == FP_TCPS_LISTEN || r->state == FP_TCPS_SYN_SENT))
		r->state = FP_TCPS_SYN_RECEIVED;
	if (fl & FP_TH_ACK) {
		if ((r->flags & EP_SYN) && SEQ_GEQ(seg->ack, r->isn + 1) &&
		    (r->state == FP_TCPS_SYN_RECEIVED ||
		     (r->state == FP_TCPS_SYN_SENT && (fl & FP_TH_SYN))))
			r->state = FP_TCPS_ESTABLISHED;
		if ((r->flags & EP_FIN) && SEQ_GEQ(seg->ack, r->fin_seq + 1)) {
			if (r->state == FP_TCPS_FIN_WAIT_1)
				r->state = FP_TCPS_FIN_WAIT_2;
			else if (r->state == FP_TCPS_CLOSING)
				r->state = FP_TCPS_TIME_WAIT;
			else if (r->state == FP_TCPS_LAST_ACK)
				r->state = FP_TCPS_CLOSED;
		}
	}
	if (fl & FP_TH_FIN) {
		if (r->state == FP_TCPS_ESTABLISHED ||
		    r->state == FP_TCPS_SYN_RECEIVED)
			r->state = FP_TCPS_CLOSE_WAIT;
		else if (r->state == FP_TCPS_FIN_WAIT_1)
			r->state = FP_TCPS_CLOSING;
		else if (r->state == FP_TCPS_FIN_WAIT_2)
			r->state = FP_TCPS_TIME_WAIT;
	}
}

/* True for the states an endpoint ends in (CLOSED, TIME_WAIT). */
static inline bool
state_done(uint8_t s)
{
	return s == FP_TCPS_CLOSED || s == FP_TCPS_TIME_WAIT;
}

/* Everything one segment from endpoint `from` teaches about its connection. */
static void
track(struct fp_tcpstat *t, struct fp_tcpstat_entry *e, unsigned from,
      const struct fp_tcp_segment *seg, uint64_t now)
{
	struct fp_tcpstat_endpoint *s = &e->ep[from], *r = &e->ep[from ^ 1];
	uint8_t fl = seg->flags;

	if (fl & FP_TH_RST) {
		s->state = r->state = FP_TCPS_CLOSED;
		e->flags |= CONN_RESET | CONN_CLOSED;
		e->closed_at = now;
		return;
	}
	if (fl & FP_TH_SYN)
		track_syn(e, s, r, seg, now);
	/* The window of a SYN is never scaled (RFC 7323 2.2). */
	s->wnd = (fl & FP_TH_SYN) || !(e->flags & CONN_WSCALE)
			 ? seg->window
			 : (uint32_t)seg->window << s->wscale;
	track_send(t, e, s, seg, now);
	if (fl & FP_TH_ACK)
		track_ack(t, e, s, r, seg, now);
	state_on_send(s, fl);
	state_on_receive(r, seg);
	if (!(e->flags & CONN_CLOSED) && state_done(s->state) &&
	    state_done(r->state)) {
		e->flags |= CONN_CLOSED;
		e->closed_at = now;
	}
}

/* The MSS the local side may send: the smaller offer, a missing option
 * counting as the IPv6 default (t_maxseg after the handshake). */
static uint32_t
max_seg(const struct fp_tcpstat_entry *e)
{
	uint32_t m = 0;
	int i;

	for (i = 0; i < 2; i++) {
		const struct fp_tcpstat_endpoint *ep = &e->ep[i];
		uint32_t v;
		if (!(ep->flags & EP_SYN))
			continue;
		v = ep->mss ? ep->mss : FP_TCPSTAT_DEFAULT_MSS6;
		if (m == 0 || v < m)
			m = v;
	}
	return m;
}

/* Fill a record for the segment just tracked, from the local side's view. */
static void
fill_record(const struct fp_tcpstat *t, const struct fp_tcpstat_entry *e,
	    unsigned from, const struct fp_tcp_segment *seg, uint64_t now,
	    uint32_t what, bool rexmit, struct fp_tcpstat_record *rec)
{
	unsigned l = t->cfg.local_is_responder ? 1 : 0;
	const struct fp_tcpstat_endpoint *loc = &e->ep[l], *rem = &e->ep[l ^ 1];
	uint64_t srtt = (uint64_t)loc->srtt_us + rem->srtt_us;
	uint32_t flags = 0, una;

	memset(rec, 0, sizeof(*rec));
	rec->time_us = now;
	memcpy(rec->laddr, loc->addr, 16);
	memcpy(rec->faddr, rem->addr, 16);
	rec->lport = loc->port;
	rec->fport = rem->port;
	rec->direction = from == l ? FP_TCPSTAT_DIR_OUT : FP_TCPSTAT_DIR_IN;
	rec->what = (uint8_t)what;
	if (e->flags & CONN_WSCALE) {
		rec->snd_scale = rem->wscale;
		rec->rcv_scale = loc->wscale;
	}
	rec->conn_state = loc->state;
	rec->sack_enabled = !!(e->flags & CONN_SACK);
	rec->seg_flags = seg->flags;
	rec->t_flags2 = (e->flags & CONN_ECN) ? FP_TF2_ECN_PERMIT : 0;
	rec->snd_wnd = rem->wnd;
	rec->rcv_wnd = loc->wnd;
	rec->max_seg_size = max_seg(e);
	rec->srtt = srtt > UINT32_MAX ? UINT32_MAX : (uint32_t)srtt;

	if (loc->flags & EP_SYN)
		flags |= FP_TF_SENTSYN;
	if (loc->flags & EP_FIN)
		flags |= FP_TF_SENTFIN;
	if (loc->synopts & FP_TCPO_WSCALE)
		flags |= FP_TF_REQ_SCALE;
	if (rem->synopts & FP_TCPO_WSCALE)
		flags |= FP_TF_RCVD_SCALE;
	if (loc->synopts & FP_TCPO_TS)
		flags |= FP_TF_REQ_TSTMP;
	if (rem->synopts & FP_TCPO_TS)
		flags |= FP_TF_RCVD_TSTMP;
	if (e->flags & CONN_SACK)
		flags |= FP_TF_SACK_PERMIT;
	if (rexmit)
		flags |= FP_TF_FASTRECOVERY;
	rec->flags = flags;
	rec->seg_rexmit = rexmit;

	/* snd_max - snd_una; before any ACK, snd_una is the ISN. */
	if (loc->flags & EP_SEQ) {
		if (rem->flags & EP_ACK)
			una = rem->ack_max;
		else
			una = (loc->flags & EP_SYN) ? loc->isn : loc->snd_max;
		if (SEQ_GT(loc->snd_max, una))
			rec->sent_inflight_bytes = loc->snd_max - una;
	}
	rec->flowid = e->hash ? e->hash : 1; /* the seed refuses flowid 0 */
	rec->flowtype = FP_TCPSTAT_FLOWTYPE;
	rec->rtt_local_us = loc->srtt_us;
	rec->rtt_remote_us = rem->srtt_us;
	rec->rexmit_local = loc->rexmits;
	rec->rexmit_remote = rem->rexmits;
	rec->payload_len = seg->payload_len;
}

/* Count a segment in n_in / n_out, seen from the local side. */
static inline uint8_t
count_dir(struct fp_tcpstat *t, unsigned from)
{
	unsigned l = t->cfg.local_is_responder ? 1 : 0;

	if (from == l) {
		t->ctr.n_out++;
		return FP_TCPSTAT_DIR_OUT;
	}
	t->ctr.n_in++;
	return FP_TCPSTAT_DIR_IN;
}

uint32_t
fp_tcpstat_hash(const struct fp_tcp_segment *seg)
{
	return tuple_hash(seg->src, seg->sport, seg->dst, seg->dport);
}

uint32_t
fp_tcpstat_update(struct fp_tcpstat *t, const struct fp_tcp_segment *seg,
		  uint64_t now_us, struct fp_tcpstat_record *rec)
{
	return fp_tcpstat_update_hashed(t, seg, fp_tcpstat_hash(seg), now_us, rec);
}

uint32_t
fp_tcpstat_update_hashed(struct fp_tcpstat *t, const struct fp_tcp_segment *seg,
			 uint32_t hash, uint64_t now_us,
			 struct fp_tcpstat_record *rec)
{
	const struct fp_tcpstat_config *cfg = &t->cfg;
	struct fp_tcpstat_entry *e;
	uint32_t what = 0, rexmits_before;
	unsigned from = 0;
	uint8_t fl = seg->flags, dir;

	if (cfg->port_filter != 0 && cfg->port_filter != seg->sport &&
	    cfg->port_filter != seg->dport) {
		t->ctr.filtered++;
		return 0;
	}
	if (seg->opts.present & FP_TCPO_BAD)
		t->ctr.bad_options++;

	e = find(t, hash, seg->src, seg->sport, seg->dst, seg->dport, &from);
	if (e != NULL && expired(t, e, now_us)) {
		entry_remove(t, e);
		t->ctr.expired++;
		e = NULL;
	}
	if (e != NULL && is_new_syn(e, seg, from)) {
		entry_start(e, seg, FP_TCPS_CLOSED, FP_TCPS_LISTEN);
		t->ctr.created++;
		from = 0;
		what |= FP_TCPSTAT_NEW_FLOW;
	}
	if (e == NULL) {
		bool syn = (fl & (FP_TH_SYN | FP_TH_ACK | FP_TH_RST)) == FP_TH_SYN;
		bool pickup = cfg->pickup_midstream &&
			      !(fl & (FP_TH_SYN | FP_TH_RST));

		/* With no entry, the sender is the initiator unless it
		 * answers a SYN. */
		dir = count_dir(t, (fl & (FP_TH_SYN | FP_TH_ACK)) ==
					   (FP_TH_SYN | FP_TH_ACK));
		if (!syn && !pickup) {
			if (dir == FP_TCPSTAT_DIR_IN)
				t->ctr.nskip_in_inpcb++;
			else
				t->ctr.nskip_out_inpcb++;
			return 0;
		}
		e = entry_alloc(t, hash, now_us);
		if (e == NULL) {
			t->ctr.table_full++;
			if (dir == FP_TCPSTAT_DIR_IN)
				t->ctr.nskip_in_malloc++;
			else
				t->ctr.nskip_out_malloc++;
			return 0;
		}
		if (syn) {
			entry_start(e, seg, FP_TCPS_CLOSED, FP_TCPS_LISTEN);
		} else {
			entry_start(e, seg, FP_TCPS_ESTABLISHED,
				    FP_TCPS_ESTABLISHED);
			e->flags |= CONN_MIDSTREAM;
		}
		from = 0;
		what |= FP_TCPSTAT_NEW_FLOW;
	} else {
		dir = count_dir(t, from);
	}

	if (e->flags & CONN_RESET) {
		if (dir == FP_TCPSTAT_DIR_IN)
			t->ctr.nskip_in_tcpcb++;
		else
			t->ctr.nskip_out_tcpcb++;
		return 0;
	}

	rexmits_before = e->ep[from].rexmits;
	track(t, e, from, seg, now_us);
	e->last_seen = now_us;
	lru_touch(t, e);

	/* siftr_process_pkt: log every ppl-th segment of the connection. */
	if (cfg->ppl > 1) {
		/* (counter + 1) % ppl without a division per segment; a
		 * counter left above a lowered ppl wraps on its next segment. */
		if (++e->counter >= cfg->ppl)
			e->counter = 0;
		if (e->counter == 0)
			what |= FP_TCPSTAT_LOG;
	} else {
		what |= FP_TCPSTAT_LOG;
	}
	if (what & FP_TCPSTAT_LOG)
		t->ctr.records++;
	if (what != 0)
		fill_record(t, e, from, seg, now_us, what,
			    e->ep[from].rexmits != rexmits_before, rec);
	return what;
}

void
fp_tcpstat_note_ring_full(struct fp_tcpstat *t,
			  const struct fp_tcpstat_record *rec)
{
	t->ctr.ring_full++;
	if (rec->direction == FP_TCPSTAT_DIR_IN)
		t->ctr.nskip_in_malloc++;
	else
		t->ctr.nskip_out_malloc++;
}

uint32_t
fp_tcpstat_expire(struct fp_tcpstat *t, uint64_t now_us, uint32_t max_visit)
{
	uint32_t removed = 0, n;

	if (max_visit > t->capacity)
		max_visit = t->capacity;
	for (n = 0; n < max_visit; n++) {
		struct fp_tcpstat_entry *e = &t->entries[t->scan_cursor];
		if (++t->scan_cursor == t->capacity)
			t->scan_cursor = 0;
		if (e->in_use && expired(t, e, now_us)) {
			entry_remove(t, e);
			removed++;
		}
	}
	t->ctr.expired += removed;
	return removed;
}

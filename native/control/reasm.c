/*
 * reasm.c — IPv6 fragment reassembly and fragmentation; see reasm.h for the
 * rules and the RFC each comes from.
 *
 * Caller: the control thread only, on byte buffers it copied out of mbufs;
 * no locks of its own, no clock (now_ms comes in), no DPDK, no Node, no
 * malloc (the caller hands one memory block to fp_reasm_init).
 *
 * Layout of one reassembly: its bytes live in an "image" of
 * FP_REASM_MAX_UNFRAG + max_payload bytes, mapped page by page onto
 * 256-byte chunks of the shared budget. Fragmentable byte o goes to image
 * offset FP_REASM_MAX_UNFRAG + o; the offset-0 fragment's Unfragmentable
 * Part of U bytes goes right before it, at FP_REASM_MAX_UNFRAG - U, so the
 * finished packet is the image's one contiguous run from there. The
 * fragments received are kept as [start, end) intervals sorted by start,
 * which is how overlaps (RFC 5722) are found; since none may overlap, the
 * datagram is complete when the offset-0 and last fragments are in and
 * the bytes received equal the end.
 */
#include <errno.h>
#include <string.h>

#include "reasm.h"

#define IP6_HDR 40u
#define NH_HOPOPTS 0
#define NH_TCP 6
#define NH_UDP 17
#define NH_ROUTING 43
#define NH_FRAGMENT 44
#define NH_ESP 50
#define NH_AH 51
#define NH_ICMPV6 58
#define NH_DSTOPTS 60
#define BASE FP_REASM_MAX_UNFRAG /* image offset of fragmentable byte 0 */

enum { Q_FREE = 0, Q_LIVE, Q_DEAD };

/* One reassembly, or a tombstone (Q_DEAD: key and deadline only). */
struct fp_reasm_q {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t ident;
	uint32_t zone;        /* arrival interface + 1 for scoped addresses, else 0 */
	uint32_t hnext;       /* hash chain: slot + 1, 0 ends it */
	uint64_t seq;         /* creation order */
	uint64_t deadline_ms; /* first arrival + timeout (RFC 8200 §4.5) */
	uint32_t end;         /* fragmentable length, once have_last */
	uint32_t max_end;     /* highest fragment end seen */
	uint32_t recvd;       /* fragmentable bytes held */
	uint32_t nchunks;     /* budget chunks held */
	uint16_t nfrags;      /* intervals held */
	uint16_t unfrag_len;  /* offset-0 fragment's Unfragmentable Part */
	uint16_t nh_off;      /* its Next Header byte that named the Fragment header */
	uint16_t first_dlen;  /* its data length (for the Time Exceeded quote) */
	uint8_t frag_hdr[8];  /* its Fragment header as received */
	uint8_t state;        /* Q_FREE, Q_LIVE, Q_DEAD */
	uint8_t ecn_seen;     /* bit per ECN codepoint seen (RFC 3168 §5.3) */
	bool have_first;
	bool have_last;
};

/* Big-endian 16-bit read. */
static uint32_t
rd16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

/* Big-endian 32-bit read. */
static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Big-endian 16-bit write. */
static void
wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Big-endian 32-bit write. */
static void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Round up to a multiple of 8 (memory layout). */
static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* cfg with defaults filled in and values clamped (see reasm.h). */
static struct fp_reasm_cfg
normalize(const struct fp_reasm_cfg *in)
{
	struct fp_reasm_cfg c = { 0 };
	uint32_t npages, min_mem;

	if (in)
		c = *in;
	if (!c.max_queues)
		c.max_queues = FP_REASM_DEF_MAX_QUEUES;
	if (c.max_queues > 65536)
		c.max_queues = 65536;
	if (!c.max_per_source)
		c.max_per_source = FP_REASM_DEF_MAX_PER_SOURCE;
	if (c.max_per_source > c.max_queues)
		c.max_per_source = c.max_queues;
	if (!c.max_frags)
		c.max_frags = FP_REASM_DEF_MAX_FRAGS;
	if (c.max_frags > 8192) /* 65536 / 8: one per 8-octet unit */
		c.max_frags = 8192;
	if (!c.max_payload || c.max_payload > FP_REASM_MAX_PAYLOAD)
		c.max_payload = FP_REASM_MAX_PAYLOAD;
	if (c.max_payload < FP_REASM_MIN_PAYLOAD)
		c.max_payload = FP_REASM_MIN_PAYLOAD;
	if (!c.timeout_ms)
		c.timeout_ms = FP_REASM_TIMEOUT_MS;
	if (!c.mem_bytes)
		c.mem_bytes = FP_REASM_DEF_MEM_BYTES;
	if (c.mem_bytes > (1u << 30))
		c.mem_bytes = 1u << 30;
	/* The budget holds at least one datagram of the largest size. */
	npages = (BASE + c.max_payload + FP_REASM_CHUNK - 1) / FP_REASM_CHUNK;
	min_mem = npages * FP_REASM_CHUNK;
	if (c.mem_bytes < min_mem)
		c.mem_bytes = min_mem;
	c.mem_bytes -= c.mem_bytes % FP_REASM_CHUNK;
	return c;
}

/* Sizes derived from a normalized cfg; fills r's counts when r is given and
 * returns the memory block size. */
static size_t
layout(const struct fp_reasm_cfg *c, struct fp_reasm *r, uint8_t *mem)
{
	uint32_t npages = (BASE + c->max_payload + FP_REASM_CHUNK - 1) / FP_REASM_CHUNK;
	uint32_t nchunks = c->mem_bytes / FP_REASM_CHUNK;
	uint32_t nbuckets = 1;
	size_t off = 0;

	while (nbuckets < c->max_queues)
		nbuckets <<= 1;
	if (r) {
		r->npages = npages;
		r->nchunks = nchunks;
		r->nbuckets = nbuckets;
		r->q = (struct fp_reasm_q *)(void *)(mem + off);
	}
	off += align8((size_t)c->max_queues * sizeof(struct fp_reasm_q));
	if (r)
		r->pages = (uint32_t *)(void *)(mem + off);
	off += align8((size_t)c->max_queues * npages * sizeof(uint32_t));
	if (r)
		r->ivs = (uint32_t *)(void *)(mem + off);
	off += align8((size_t)c->max_queues * c->max_frags * 2 * sizeof(uint32_t));
	if (r)
		r->buckets = (uint32_t *)(void *)(mem + off);
	off += align8((size_t)nbuckets * sizeof(uint32_t));
	if (r)
		r->free_chunks = (uint32_t *)(void *)(mem + off);
	off += align8((size_t)nchunks * sizeof(uint32_t));
	if (r)
		r->chunks = mem + off;
	off += (size_t)nchunks * FP_REASM_CHUNK;
	if (r)
		r->out = mem + off;
	off += align8(IP6_HDR + FP_REASM_MAX_PAYLOAD);
	return off;
}

/* Memory block size for cfg (see reasm.h). */
size_t
fp_reasm_mem_size(const struct fp_reasm_cfg *cfg)
{
	struct fp_reasm_cfg c = normalize(cfg);

	return layout(&c, NULL, NULL);
}

/* Lay the state out over mem and empty it (see reasm.h). */
int
fp_reasm_init(struct fp_reasm *r, const struct fp_reasm_cfg *cfg, void *mem,
	      size_t mem_len)
{
	struct fp_reasm_cfg c = normalize(cfg);
	uint32_t i;

	if (!r || !mem || ((uintptr_t)mem & 7) || mem_len < layout(&c, NULL, NULL))
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->cfg = c;
	layout(&c, r, mem);
	memset(r->q, 0, (size_t)c.max_queues * sizeof(struct fp_reasm_q));
	memset(r->pages, 0, (size_t)c.max_queues * r->npages * sizeof(uint32_t));
	memset(r->buckets, 0, (size_t)r->nbuckets * sizeof(uint32_t));
	for (i = 0; i < r->nchunks; i++)
		r->free_chunks[i] = r->nchunks - 1 - i;
	r->nfree = r->nchunks;
	return 0;
}

/* Page table of queue i. */
static uint32_t *
q_pages(struct fp_reasm *r, uint32_t i)
{
	return r->pages + (size_t)i * r->npages;
}

/* Interval list of queue i: pairs start, end. */
static uint32_t *
q_ivs(struct fp_reasm *r, uint32_t i)
{
	return r->ivs + (size_t)i * r->cfg.max_frags * 2;
}

/* Bucket of a key (FNV-1a over source, destination, Identification, seeded). */
static uint32_t
key_bucket(const struct fp_reasm *r, const uint8_t *src, const uint8_t *dst,
	   uint32_t ident, uint32_t zone)
{
	uint32_t h = 2166136261u ^ r->cfg.hash_seed;
	int k;

	for (k = 0; k < 16; k++)
		h = (h ^ src[k]) * 16777619u;
	for (k = 0; k < 16; k++)
		h = (h ^ dst[k]) * 16777619u;
	h = (h ^ ident) * 16777619u;
	h = (h ^ zone) * 16777619u;
	h ^= h >> 15;
	return h & (r->nbuckets - 1);
}

/* Slot of the datagram (src, dst, ident) (RFC 8200 §4.5's key) in zone,
 * or -1. */
static int32_t
find(const struct fp_reasm *r, const uint8_t *src, const uint8_t *dst,
     uint32_t ident, uint32_t zone)
{
	uint32_t s = r->buckets[key_bucket(r, src, dst, ident, zone)];

	while (s) {
		const struct fp_reasm_q *q = &r->q[s - 1];

		if (q->ident == ident && q->zone == zone && !memcmp(q->src, src, 16) &&
		    !memcmp(q->dst, dst, 16))
			return (int32_t)(s - 1);
		s = q->hnext;
	}
	return -1;
}

/* Unlink slot i from its hash chain. */
static void
hash_remove(struct fp_reasm *r, uint32_t i)
{
	struct fp_reasm_q *q = &r->q[i];
	uint32_t *link = &r->buckets[key_bucket(r, q->src, q->dst, q->ident, q->zone)];

	while (*link) {
		if (*link == i + 1) {
			*link = q->hnext;
			q->hnext = 0;
			return;
		}
		link = &r->q[*link - 1].hnext;
	}
}

/* Give queue i's chunks back and forget its fragments. */
static void
release_data(struct fp_reasm *r, uint32_t i)
{
	struct fp_reasm_q *q = &r->q[i];
	uint32_t *pt = q_pages(r, i);
	uint32_t p;

	if (q->nchunks) {
		for (p = 0; p < r->npages; p++) {
			if (pt[p]) {
				r->free_chunks[r->nfree++] = pt[p] - 1;
				pt[p] = 0;
			}
		}
	}
	q->nchunks = 0;
	q->nfrags = 0;
	q->recvd = 0;
	q->have_first = false;
	q->have_last = false;
}

/* Free slot i entirely (completed, expired, evicted). */
static void
q_free(struct fp_reasm *r, uint32_t i)
{
	release_data(r, i);
	hash_remove(r, i);
	r->q[i].state = Q_FREE;
	r->nused--;
}

/* Discard the whole datagram in slot i (RFC 5722 and the other
 * whole-datagram reasons): its bytes go, its key stays as a tombstone until
 * the deadline so later fragments of it are dropped too. */
static void
q_kill(struct fp_reasm *r, uint32_t i)
{
	release_data(r, i);
	r->q[i].state = Q_DEAD;
	r->ctr.discarded++;
}

/* Oldest slot other than except: from src when src is set; holding chunks
 * when need_data (else tombstones are preferred). -1 when none. */
static int32_t
pick_victim(const struct fp_reasm *r, int32_t except, const uint8_t *src,
	    bool need_data)
{
	int32_t best = -1;
	bool best_dead = false;
	uint32_t i;

	for (i = 0; i < r->cfg.max_queues; i++) {
		const struct fp_reasm_q *q = &r->q[i];
		bool dead = q->state == Q_DEAD;

		if (q->state == Q_FREE || (int32_t)i == except)
			continue;
		if (src && memcmp(q->src, src, 16))
			continue;
		if (need_data && !q->nchunks)
			continue;
		if (best >= 0) {
			if (!need_data && dead != best_dead) {
				if (!dead)
					continue; /* tombstones go first */
			} else if (q->seq > r->q[best].seq) {
				continue;
			}
		}
		best = (int32_t)i;
		best_dead = dead;
	}
	return best;
}

/* A new queue for (src, dst, ident), evicting as the limits say. */
static uint32_t
q_new(struct fp_reasm *r, const uint8_t *src, const uint8_t *dst, uint32_t ident,
      uint32_t zone, uint64_t now_ms)
{
	struct fp_reasm_q *q;
	uint32_t i, n = 0, b;
	int32_t v;

	for (i = 0; i < r->cfg.max_queues; i++)
		if (r->q[i].state != Q_FREE && !memcmp(r->q[i].src, src, 16))
			n++;
	if (n >= r->cfg.max_per_source) {
		v = pick_victim(r, -1, src, false);
		if (v >= 0) {
			q_free(r, (uint32_t)v);
			r->ctr.evictions_source++;
		}
	}
	if (r->nused >= r->cfg.max_queues) {
		v = pick_victim(r, -1, NULL, false);
		q_free(r, (uint32_t)v); /* nused > 0, so there is one */
		r->ctr.evictions++;
	}
	for (i = 0; r->q[i].state != Q_FREE; i++)
		;
	q = &r->q[i];
	memset(q, 0, sizeof(*q));
	memcpy(q->src, src, 16);
	memcpy(q->dst, dst, 16);
	q->ident = ident;
	q->zone = zone;
	q->seq = ++r->seq;
	q->deadline_ms = now_ms + r->cfg.timeout_ms;
	q->state = Q_LIVE;
	b = key_bucket(r, src, dst, ident, zone);
	q->hnext = r->buckets[b];
	r->buckets[b] = i + 1;
	r->nused++;
	return i;
}

/* Chunks queue i lacks to cover image bytes [a, b). */
static uint32_t
img_need(struct fp_reasm *r, uint32_t i, uint32_t a, uint32_t b)
{
	const uint32_t *pt = q_pages(r, i);
	uint32_t p, n = 0;

	for (p = a / FP_REASM_CHUNK; p <= (b - 1) / FP_REASM_CHUNK; p++)
		if (!pt[p])
			n++;
	return n;
}

/* Copy n bytes into queue i's image at offset a (chunks already ensured). */
static void
img_write(struct fp_reasm *r, uint32_t i, uint32_t a, const uint8_t *src, uint32_t n)
{
	uint32_t *pt = q_pages(r, i);

	while (n) {
		uint32_t p = a / FP_REASM_CHUNK, in = a % FP_REASM_CHUNK;
		uint32_t k = FP_REASM_CHUNK - in < n ? FP_REASM_CHUNK - in : n;

		if (!pt[p]) {
			pt[p] = r->free_chunks[--r->nfree] + 1;
			r->q[i].nchunks++;
		}
		memcpy(r->chunks + (size_t)(pt[p] - 1) * FP_REASM_CHUNK + in, src, k);
		a += k;
		src += k;
		n -= k;
	}
}

/* Copy n bytes out of queue i's image from offset a. */
static void
img_read(struct fp_reasm *r, uint32_t i, uint32_t a, uint8_t *dst, uint32_t n)
{
	const uint32_t *pt = q_pages(r, i);

	while (n) {
		uint32_t p = a / FP_REASM_CHUNK, in = a % FP_REASM_CHUNK;
		uint32_t k = FP_REASM_CHUNK - in < n ? FP_REASM_CHUNK - in : n;

		memcpy(dst, r->chunks + (size_t)(pt[p] - 1) * FP_REASM_CHUNK + in, k);
		a += k;
		dst += k;
		n -= k;
	}
}

/* Free chunks until need are free, evicting the oldest other reassemblies
 * that hold data; false if even that is not enough. */
static bool
ensure_chunks(struct fp_reasm *r, uint32_t i, uint32_t need)
{
	while (r->nfree < need) {
		int32_t v = pick_victim(r, (int32_t)i, NULL, true);

		if (v < 0)
			return false;
		q_free(r, (uint32_t)v);
		r->ctr.evictions++;
	}
	return true;
}

/* Bytes of d (dlen long, starting with header nh) that the header chain
 * through the upper-layer header needs (RFC 7112 §5; for TCP, UDP and
 * ICMPv6 their first 20, 8, 8 bytes as Linux's ipv6frag_thdr_truncated);
 * SIZE_MAX when an extension header runs past dlen. */
static size_t
chain_len(const uint8_t *d, size_t dlen, uint8_t nh)
{
	size_t off = 0, hl;

	for (;;) {
		switch (nh) {
		case NH_HOPOPTS:
		case NH_ROUTING:
		case NH_DSTOPTS:
		case 135: /* mobility */
		case 139: /* HIP */
		case 140: /* shim6 */
		case 253: /* experimental (RFC 3692) */
		case 254:
			if (off + 2 > dlen)
				return SIZE_MAX;
			hl = ((size_t)d[off + 1] + 1) * 8;
			break;
		case NH_AH:
			if (off + 2 > dlen)
				return SIZE_MAX;
			hl = ((size_t)d[off + 1] + 2) * 4;
			break;
		case NH_FRAGMENT:
			if (off + 8 > dlen)
				return SIZE_MAX;
			hl = 8;
			break;
		case NH_TCP:
			return off + 20;
		case NH_UDP:
		case NH_ICMPV6:
			return off + 8;
		default: /* ESP, No Next Header, other upper layers */
			return off;
		}
		nh = d[off];
		off += hl;
		if (off > dlen)
			return SIZE_MAX;
	}
}

/* Fill out as a drop and count it; returns 0 (for tail calls). */
static int
verdict_drop(struct fp_reasm *r, struct fp_reasm_result *out,
	     enum fp_reasm_drop reason)
{
	out->verdict = FP_REASM_DROP;
	out->reason = reason;
	r->ctr.drops[reason]++;
	return 0;
}

/* Fill out as an ICMPv6 error quoting the input packet and count it. */
static int
verdict_icmp(struct fp_reasm *r, struct fp_reasm_result *out,
	     enum fp_reasm_drop reason, uint8_t type, uint8_t code,
	     uint32_t pointer, const uint8_t *pkt, size_t len)
{
	verdict_drop(r, out, reason);
	out->verdict = FP_REASM_ICMP;
	out->icmp_type = type;
	out->icmp_code = code;
	out->icmp_pointer = pointer;
	out->quote = pkt;
	out->quote_len = len;
	r->ctr.icmp++;
	return 0;
}

/* Kill slot i's datagram (tombstone) and drop with reason. */
static int
verdict_kill(struct fp_reasm *r, struct fp_reasm_result *out, uint32_t i,
	     enum fp_reasm_drop reason)
{
	q_kill(r, i);
	return verdict_drop(r, out, reason);
}

/* RFC 5722: OVERLAP or DUPLICATE if [start, end) meets a held fragment,
 * else NONE with *pos where it goes in the sorted list. */
static enum fp_reasm_drop
iv_check(struct fp_reasm *r, uint32_t i, uint32_t start, uint32_t end,
	 uint32_t *pos)
{
	const uint32_t *iv = q_ivs(r, i);
	uint32_t k, n = r->q[i].nfrags;

	*pos = n;
	for (k = 0; k < n; k++) {
		uint32_t s = iv[2 * k], e = iv[2 * k + 1];

		if (s == start && e == end)
			return FP_REASM_DROP_DUPLICATE;
		if (s < end && start < e)
			return FP_REASM_DROP_OVERLAP;
		if (s > start && *pos == n)
			*pos = k;
	}
	return FP_REASM_DROP_NONE;
}

/* Insert [start, end) at pos in queue i's sorted interval list. */
static void
iv_insert(struct fp_reasm *r, uint32_t i, uint32_t pos, uint32_t start,
	  uint32_t end)
{
	uint32_t *iv = q_ivs(r, i);
	uint32_t n = r->q[i].nfrags;

	memmove(iv + 2 * (pos + 1), iv + 2 * pos, (size_t)(n - pos) * 2 * sizeof(uint32_t));
	iv[2 * pos] = start;
	iv[2 * pos + 1] = end;
	r->q[i].nfrags++;
}

/* Build the reassembled packet of queue i into r->out (RFC 8200 §4.5) and
 * free the queue; a Not-ECT/ECT mix is discarded instead (RFC 3168 §5.3). */
static int
complete(struct fp_reasm *r, uint32_t i, struct fp_reasm_result *out)
{
	struct fp_reasm_q *q = &r->q[i];
	uint32_t u = q->unfrag_len, len = u + q->end;

	if ((q->ecn_seen & 1) && (q->ecn_seen & ~1)) {
		q_free(r, i);
		r->ctr.discarded++;
		return verdict_drop(r, out, FP_REASM_DROP_ECN);
	}
	img_read(r, i, BASE - u, r->out, len);
	wr16(r->out + 4, len - IP6_HDR);
	r->out[q->nh_off] = q->frag_hdr[0];
	if (q->ecn_seen & 8)
		r->out[1] |= 0x30; /* CE */
	q_free(r, i);
	r->ctr.reassembled++;
	out->verdict = FP_REASM_COMPLETE;
	out->pkt = r->out;
	out->len = len;
	return 0;
}

/* fp_reasm_input's body; returns 0 from every exit so that each can be a
 * tail call of the verdict helpers. */
static int
input(struct fp_reasm *r, const uint8_t *p, size_t len, uint32_t zone,
      uint64_t now_ms, struct fp_reasm_result *out)
{
	size_t off = IP6_HDR, nh_off = 6, hl, data, dlen, uf;
	uint32_t offset, start, end, need, pos, ident, plen;
	enum fp_reasm_drop why;
	struct fp_reasm_q *q;
	bool more, over;
	int32_t found;
	uint32_t i;
	uint8_t nh;

	memset(out, 0, sizeof(*out));
	r->ctr.frags_in++;
	/* The IPv6 header and Payload Length (RFC 8200 §3). */
	if (len < IP6_HDR)
		return verdict_drop(r, out, FP_REASM_DROP_TRUNCATED);
	if ((p[0] >> 4) != 6)
		return verdict_drop(r, out, FP_REASM_DROP_MALFORMED);
	plen = rd16(p + 4);
	if (!plen) /* Jumbo Payload: no Fragment header allowed (RFC 2675) */
		return verdict_drop(r, out, FP_REASM_DROP_MALFORMED);
	if (IP6_HDR + plen > len)
		return verdict_drop(r, out, FP_REASM_DROP_TRUNCATED);
	len = IP6_HDR + plen;
	/* Walk to the Fragment header: Hop-by-Hop only first (RFC 8200 §4.1),
	 * then Destination Options and Routing headers. */
	nh = p[6];
	while (nh != NH_FRAGMENT) {
		if (nh == NH_HOPOPTS && off != IP6_HDR)
			return verdict_drop(r, out, FP_REASM_DROP_MALFORMED);
		if (nh != NH_HOPOPTS && nh != NH_ROUTING && nh != NH_DSTOPTS)
			return verdict_drop(r, out, FP_REASM_DROP_NOT_FRAGMENT);
		if (off + 2 > len)
			return verdict_drop(r, out, FP_REASM_DROP_TRUNCATED);
		hl = ((size_t)p[off + 1] + 1) * 8;
		if (off + hl > len)
			return verdict_drop(r, out, FP_REASM_DROP_TRUNCATED);
		nh_off = off;
		nh = p[off];
		off += hl;
	}
	if (off + 8 > len)
		return verdict_drop(r, out, FP_REASM_DROP_TRUNCATED);
	offset = rd16(p + off + 2) & 0xfff8; /* 13 bits of 8-octet units */
	more = p[off + 3] & 1;
	ident = rd32(p + off + 4);
	data = off + 8;
	dlen = len - data;

	/* RFC 6946: an atomic fragment is a whole packet, kept apart from any
	 * reassembly. */
	if (!offset && !more) {
		memcpy(r->out, p, off);
		memcpy(r->out + off, p + data, dlen);
		wr16(r->out + 4, (uint32_t)(off + dlen - IP6_HDR));
		r->out[nh_off] = p[off];
		r->ctr.atomic++;
		out->verdict = FP_REASM_COMPLETE;
		out->atomic = true;
		out->pkt = r->out;
		out->len = off + dlen;
		return 0;
	}
	if (!dlen)
		return verdict_drop(r, out, FP_REASM_DROP_EMPTY);
	/* RFC 8200 §4.5: M = 1 and not a multiple of 8 → Parameter Problem at
	 * the Payload Length field. */
	if (more && (dlen & 7))
		return verdict_icmp(r, out, FP_REASM_DROP_BAD_LENGTH,
				    FP_REASM_ICMP_PARAM_PROBLEM, FP_REASM_ICMP_PP_HEADER,
				    4, p, len);
	/* RFC 8200 §4.5: reassembled Payload Length over 65535 → Parameter
	 * Problem at the Fragment Offset field. */
	uf = off - IP6_HDR;
	if (uf + offset + dlen > FP_REASM_MAX_PAYLOAD)
		return verdict_icmp(r, out, FP_REASM_DROP_TOO_BIG,
				    FP_REASM_ICMP_PARAM_PROBLEM, FP_REASM_ICMP_PP_HEADER,
				    (uint32_t)(off + 2), p, len);
	/* RFC 8200 §4.5 / RFC 7112 §5: the first fragment holds the whole
	 * header chain, else Parameter Problem code 3, pointer 0. */
	if (!offset && chain_len(p + data, dlen, p[off]) > dlen)
		return verdict_icmp(r, out, FP_REASM_DROP_CHAIN,
				    FP_REASM_ICMP_PARAM_PROBLEM, FP_REASM_ICMP_PP_CHAIN,
				    0, p, len);
	if (off > FP_REASM_MAX_UNFRAG)
		return verdict_drop(r, out, FP_REASM_DROP_UNFRAG_TOO_LONG);
	over = uf + offset + dlen > r->cfg.max_payload;

	found = find(r, p + 8, p + 24, ident, zone);
	if (found >= 0 && r->q[found].state == Q_DEAD) /* RFC 5722 */
		return verdict_drop(r, out, FP_REASM_DROP_DEAD);
	if (over) {
		if (found >= 0)
			return verdict_kill(r, out, (uint32_t)found, FP_REASM_DROP_OVER_LIMIT);
		return verdict_drop(r, out, FP_REASM_DROP_OVER_LIMIT);
	}
	i = found >= 0 ? (uint32_t)found : q_new(r, p + 8, p + 24, ident, zone, now_ms);
	q = &r->q[i];
	start = offset;
	end = offset + (uint32_t)dlen;

	/* The last fragment fixes the length (RFC 8200 §4.5); a second,
	 * different end or data past it is a corrupt datagram. */
	if (!more ? (q->have_last && end != q->end) || end < q->max_end
		  : q->have_last && end > q->end)
		return verdict_kill(r, out, i, FP_REASM_DROP_INCONSISTENT);
	why = iv_check(r, i, start, end, &pos);
	if (why != FP_REASM_DROP_NONE)
		return verdict_kill(r, out, i, why);
	if (q->nfrags >= r->cfg.max_frags)
		return verdict_kill(r, out, i, FP_REASM_DROP_TOO_MANY_FRAGS);
	/* The result's Payload Length uses the offset-0 fragment's
	 * Unfragmentable Part. */
	if (!offset || q->have_first) {
		uint32_t u = !offset ? (uint32_t)uf : q->unfrag_len - IP6_HDR;
		uint32_t e = end > q->max_end ? end : q->max_end;

		if (u + e > r->cfg.max_payload)
			return verdict_kill(r, out, i, FP_REASM_DROP_OVER_LIMIT);
	}
	need = img_need(r, i, BASE + start, BASE + end);
	if (!offset)
		need += img_need(r, i, BASE - (uint32_t)off, BASE);
	if (!ensure_chunks(r, i, need))
		return verdict_kill(r, out, i, FP_REASM_DROP_NO_MEMORY);

	img_write(r, i, BASE + start, p + data, (uint32_t)dlen);
	if (!offset) {
		img_write(r, i, BASE - (uint32_t)off, p, (uint32_t)off);
		memcpy(q->frag_hdr, p + off, 8);
		q->unfrag_len = (uint16_t)off;
		q->nh_off = (uint16_t)nh_off;
		q->first_dlen = (uint16_t)dlen;
		q->have_first = true;
	}
	iv_insert(r, i, pos, start, end);
	q->recvd += (uint32_t)dlen;
	if (end > q->max_end)
		q->max_end = end;
	if (!more) {
		q->have_last = true;
		q->end = end;
	}
	q->ecn_seen |= (uint8_t)(1u << ((p[1] >> 4) & 3));
	if (q->have_first && q->have_last && q->recvd == q->end)
		return complete(r, i, out);
	out->verdict = FP_REASM_HELD;
	return 0;
}

/* Take one fragment (see reasm.h); the work is in input(). */
void
fp_reasm_input(struct fp_reasm *r, const uint8_t *ip6_packet, size_t len,
	       uint64_t now_ms, struct fp_reasm_result *out)
{
	fp_reasm_input_if(r, ip6_packet, len, FP_REASM_NO_IF, now_ms, out);
}

/* fe80::/10: an address that means something on one link only. */
static bool
link_scoped(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

void
fp_reasm_input_if(struct fp_reasm *r, const uint8_t *ip6_packet, size_t len,
		  uint32_t ifindex, uint64_t now_ms, struct fp_reasm_result *out)
{
	uint32_t zone = 0;

	/* As Linux's ip6frag key: the interface joins the key only when an
	 * address is link-scoped (two links may reuse the same link-locals);
	 * a global datagram may arrive over several interfaces. */
	if (ifindex != FP_REASM_NO_IF && len >= 40 &&
	    (link_scoped(ip6_packet + 8) || link_scoped(ip6_packet + 24)))
		zone = ifindex + 1;
	(void)input(r, ip6_packet, len, zone, now_ms, out);
}

/* Abandon the reassemblies past their deadline (RFC 8200 §4.5). */
unsigned
fp_reasm_expire(struct fp_reasm *r, uint64_t now_ms, fp_reasm_expired_fn fn,
		void *ctx)
{
	unsigned owed = 0;
	uint32_t i;

	for (i = 0; i < r->cfg.max_queues; i++) {
		struct fp_reasm_q *q = &r->q[i];

		if (q->state == Q_FREE || q->deadline_ms > now_ms)
			continue;
		if (q->state == Q_LIVE) {
			r->ctr.timeouts++;
			/* RFC 8200 §4.5: Time Exceeded only if offset 0 came,
			 * quoting it. */
			if (q->have_first) {
				uint32_t u = q->unfrag_len, n = q->first_dlen;

				if (n > FP_REASM_QUOTE_MAX - u - 8)
					n = FP_REASM_QUOTE_MAX - u - 8;
				img_read(r, i, BASE - u, r->quote, u);
				memcpy(r->quote + u, q->frag_hdr, 8);
				img_read(r, i, BASE, r->quote + u + 8, n);
				r->ctr.time_exceeded++;
				owed++;
				if (fn)
					fn(ctx, r->quote, u + 8 + n);
			}
		}
		q_free(r, i);
	}
	return owed;
}

/* Earliest deadline held, UINT64_MAX when none. */
uint64_t
fp_reasm_next_deadline(const struct fp_reasm *r)
{
	uint64_t t = UINT64_MAX;
	uint32_t i;

	for (i = 0; i < r->cfg.max_queues; i++)
		if (r->q[i].state != Q_FREE && r->q[i].deadline_ms < t)
			t = r->q[i].deadline_ms;
	return t;
}

/* Free every queue and tombstone, owing nothing. */
void
fp_reasm_flush(struct fp_reasm *r)
{
	uint32_t i;

	for (i = 0; i < r->cfg.max_queues; i++)
		if (r->q[i].state != Q_FREE)
			q_free(r, i);
}

/* Queues in use, tombstones included. */
uint32_t
fp_reasm_queues(const struct fp_reasm *r)
{
	return r->nused;
}

/* Budget bytes in use (whole chunks). */
size_t
fp_reasm_bytes(const struct fp_reasm *r)
{
	return (size_t)(r->nchunks - r->nfree) * FP_REASM_CHUNK;
}

/* Counter name of a drop reason. */
const char *
fp_reasm_drop_name(enum fp_reasm_drop reason)
{
	static const char *const names[FP_REASM_DROP_MAX] = {
		[FP_REASM_DROP_NONE] = "none",
		[FP_REASM_DROP_TRUNCATED] = "truncated",
		[FP_REASM_DROP_MALFORMED] = "malformed",
		[FP_REASM_DROP_NOT_FRAGMENT] = "not_fragment",
		[FP_REASM_DROP_EMPTY] = "empty",
		[FP_REASM_DROP_BAD_LENGTH] = "bad_length",
		[FP_REASM_DROP_TOO_BIG] = "too_big",
		[FP_REASM_DROP_CHAIN] = "incomplete_chain",
		[FP_REASM_DROP_UNFRAG_TOO_LONG] = "unfrag_too_long",
		[FP_REASM_DROP_OVER_LIMIT] = "over_limit",
		[FP_REASM_DROP_OVERLAP] = "overlap",
		[FP_REASM_DROP_DUPLICATE] = "duplicate",
		[FP_REASM_DROP_INCONSISTENT] = "inconsistent",
		[FP_REASM_DROP_TOO_MANY_FRAGS] = "too_many_frags",
		[FP_REASM_DROP_DEAD] = "dead",
		[FP_REASM_DROP_NO_MEMORY] = "no_memory",
		[FP_REASM_DROP_ECN] = "ecn",
	};

	if ((unsigned)reason >= FP_REASM_DROP_MAX)
		return "unknown";
	return names[reason];
}

/* Fragment a packet for an MTU (RFC 8200 §4.5, RFC 7112 §5; see reasm.h). */
int
fp_frag_split(const uint8_t *p, size_t len, uint16_t mtu, uint32_t ident,
	      fp_frag_buf_fn get_buf, void *ctx)
{
	size_t off = IP6_HDR, ufl = IP6_HDR, uf_nh = 6, hl, fl, maxd, o, n, cl;
	unsigned k = 0;
	uint8_t nh;

	if (len < IP6_HDR || (p[0] >> 4) != 6)
		return -EINVAL;
	if (!rd16(p + 4) || IP6_HDR + rd16(p + 4) > len)
		return -EINVAL;
	len = IP6_HDR + rd16(p + 4);
	if (len <= mtu)
		return 0;
	/* RFC 8200 §4.5: the Unfragmentable Part runs through the last
	 * Routing header, else the Hop-by-Hop header, else the IPv6 header. */
	nh = p[6];
	while (nh == NH_HOPOPTS || nh == NH_ROUTING || nh == NH_DSTOPTS) {
		uint8_t cur = nh;
		size_t at = off;

		if (nh == NH_HOPOPTS && off != IP6_HDR)
			return -EINVAL;
		if (off + 2 > len)
			return -EINVAL;
		hl = ((size_t)p[off + 1] + 1) * 8;
		if (off + hl > len)
			return -EINVAL;
		nh = p[off];
		off += hl;
		if (cur == NH_HOPOPTS || cur == NH_ROUTING) {
			ufl = off;
			uf_nh = at;
		}
	}
	if (nh == NH_FRAGMENT || p[uf_nh] == NH_FRAGMENT)
		return -EINVAL;
	if (ufl + 8 + 8 > mtu)
		return -EMSGSIZE;
	maxd = (mtu - ufl - 8) & ~(size_t)7;
	fl = len - ufl;
	/* RFC 7112 §5: the whole header chain in the first fragment. */
	cl = chain_len(p + ufl, fl, p[uf_nh]);
	if (cl == SIZE_MAX || cl > fl)
		return -EINVAL;
	if (cl > maxd)
		return -EMSGSIZE;
	for (o = 0; o < fl; o += n, k++) {
		uint8_t *b, *f;
		bool more;

		n = fl - o < maxd ? fl - o : maxd;
		more = o + n < fl;
		b = get_buf(ctx, ufl + 8 + n, k);
		if (!b)
			return -ENOBUFS;
		memcpy(b, p, ufl);
		wr16(b + 4, (uint32_t)(ufl + 8 + n - IP6_HDR));
		b[uf_nh] = NH_FRAGMENT;
		f = b + ufl;
		f[0] = p[uf_nh];
		f[1] = 0;
		wr16(f + 2, (uint32_t)o | more);
		wr32(f + 4, ident);
		memcpy(f + 8, p + ufl + o, n);
	}
	return (int)k;
}

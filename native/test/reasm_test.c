/*
 * reasm_test.c — unit tests of IPv6 reassembly and fragmentation
 * (native/control/reasm.c), which has no DPDK or Node dependency. Built and
 * run by test/unit/reasm.test.ts. Datagrams are IPv6/UDP with optional
 * extension headers, fragmented by this file's own mkfrag (independent of
 * fp_frag_split) or by fp_frag_split for the round trips. Time is driven
 * by hand; randomness is a fixed-seed xorshift. Every packet handed to
 * fp_reasm_input is first copied into a buffer of exactly its length, so a
 * read past the end shows under -fsanitize=address.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../control/reasm.h"

#include "check.h"

#define EXT_HBH 1  /* Hop-by-Hop, 8 bytes (unfragmentable) */
#define EXT_DST1 2 /* Destination Options before Routing, 16 bytes */
#define EXT_RT 4   /* Routing, 24 bytes (unfragmentable) */
#define EXT_DST2 8 /* Destination Options after Routing, 8 bytes (fragmentable) */
#define MAXPKT (40 + 65535 + 64)

/* ---- helpers ---------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

/* xorshift64*: the tests' only randomness, fixed seed. */
static uint32_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 2685821657736338717ull) >> 32);
}

/* Uniform in [0, n). */
static uint32_t
rndn(uint32_t n)
{
	return n ? rnd() % n : 0;
}

/* Big-endian 16-bit read. */
static uint32_t
rd16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
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

/* A datagram: its bytes, where its Unfragmentable Part ends and which byte
 * is the Next Header the Fragment header will be inserted after. */
struct dg {
	uint8_t b[MAXPKT];
	size_t len, ufl, uf_nh;
};

/* Build an IPv6/UDP datagram from source 2001:db8::<src> with exts and
 * payload bytes of a pattern drawn from seed. */
static void
build(struct dg *d, int exts, size_t payload, uint8_t src, uint32_t seed)
{
	uint8_t *b = d->b;
	size_t off = 40, at = 6, k;

	memset(b, 0, 40);
	b[0] = 0x60;
	b[2] = 0x12; /* flow label 0x01234 */
	b[3] = 0x34;
	b[7] = 64;
	b[8] = 0x20, b[9] = 0x01, b[10] = 0x0d, b[11] = 0xb8, b[23] = src;
	b[24] = 0x20, b[25] = 0x01, b[26] = 0x0d, b[27] = 0xb8, b[29] = 1, b[39] = 1;
	d->ufl = 40;
	d->uf_nh = 6;
	if (exts & EXT_HBH) {
		b[at] = 0;
		at = off;
		memset(b + off, 0, 8);
		b[off + 2] = 1; /* PadN, 4 */
		b[off + 3] = 4;
		off += 8;
		d->ufl = off;
		d->uf_nh = at;
	}
	if (exts & EXT_DST1) {
		b[at] = 60;
		at = off;
		memset(b + off, 0, 16);
		b[off + 1] = 1;
		b[off + 2] = 1; /* PadN, 12 */
		b[off + 3] = 12;
		off += 16;
	}
	if (exts & EXT_RT) {
		b[at] = 43;
		at = off;
		memset(b + off, 0, 24);
		b[off + 1] = 2;
		b[off + 2] = 4; /* segment routing, segments left 0 */
		b[off + 8] = 0x20, b[off + 9] = 0x01, b[off + 23] = 7;
		off += 24;
		d->ufl = off;
		d->uf_nh = at;
	}
	if (exts & EXT_DST2) {
		b[at] = 60;
		at = off;
		memset(b + off, 0, 8);
		b[off + 2] = 1;
		b[off + 3] = 4;
		off += 8;
	}
	b[at] = 17;
	wr16(b + off, 4000);
	wr16(b + off + 2, 5000);
	wr16(b + off + 4, (uint32_t)(8 + payload));
	wr16(b + off + 6, 0);
	off += 8;
	for (k = 0; k < payload; k++) {
		seed = seed * 1103515245u + 12345u;
		b[off + k] = (uint8_t)(seed >> 16);
	}
	d->len = off + payload;
	wr16(b + 4, (uint32_t)(d->len - 40));
}

/* Fragment of d holding fragmentable bytes [o, o + n), flag m, into f;
 * returns its length (RFC 8200 §4.5's layout). */
static size_t
mkfrag(uint8_t *f, const struct dg *d, uint32_t o, uint32_t n, int m,
       uint32_t ident)
{
	uint8_t *fh = f + d->ufl;

	memcpy(f, d->b, d->ufl);
	f[d->uf_nh] = 44;
	fh[0] = d->b[d->uf_nh];
	fh[1] = 0;
	wr16(fh + 2, o | (m ? 1u : 0u));
	wr32(fh + 4, ident);
	memcpy(fh + 8, d->b + d->ufl + o, n);
	wr16(f + 4, (uint32_t)(d->ufl + 8 + n - 40));
	return d->ufl + 8 + n;
}

/* A fragment to send: offset, length, M. */
struct piece {
	uint32_t o, n;
	int m;
};

/* Cut the fragmentable part of d into pieces of size bytes (a multiple
 * of 8); returns how many. */
static unsigned
plan(const struct dg *d, uint32_t size, struct piece *pc)
{
	uint32_t fl = (uint32_t)(d->len - d->ufl), o;
	unsigned k = 0;

	for (o = 0; o < fl; o += size, k++) {
		pc[k].o = o;
		pc[k].n = fl - o < size ? fl - o : size;
		pc[k].m = o + pc[k].n < fl;
	}
	return k;
}

/* Shuffle n pieces (Fisher-Yates). */
static void
shuffle(struct piece *pc, unsigned n)
{
	unsigned k;

	for (k = n; k > 1; k--) {
		unsigned j = rndn(k);
		struct piece t = pc[k - 1];

		pc[k - 1] = pc[j];
		pc[j] = t;
	}
}

static struct fp_reasm R;
static uint8_t *mem;
static struct fp_reasm_result res;
static uint8_t *last_copy;
static uint8_t fbuf[MAXPKT];

/* Fresh state with cfg (NULL: defaults). */
static struct fp_reasm *
mk(const struct fp_reasm_cfg *cfg)
{
	size_t size = fp_reasm_mem_size(cfg);

	free(mem);
	mem = malloc(size);
	CHECK(mem != NULL);
	CHECK(fp_reasm_init(&R, cfg, mem, size) == 0);
	return &R;
}

/* Feed one packet (copied to an exact-size buffer) at now; the verdict. */
static enum fp_reasm_verdict
feed(const uint8_t *pkt, size_t len, uint64_t now)
{
	free(last_copy);
	last_copy = malloc(len ? len : 1);
	if (!last_copy)
		abort(); /* not a check: keeps the count to real assertions */
	memcpy(last_copy, pkt, len);
	fp_reasm_input(&R, last_copy, len, now, &res);
	return res.verdict;
}

/* Feed fragment pc of d with ident at now. */
static enum fp_reasm_verdict
feed_piece(const struct dg *d, const struct piece *pc, uint32_t ident, uint64_t now)
{
	size_t n = mkfrag(fbuf, d, pc->o, pc->n, pc->m, ident);

	return feed(fbuf, n, now);
}

/* The result is d, reassembled. */
static int
is_dg(const struct dg *d)
{
	return res.verdict == FP_REASM_COMPLETE && res.len == d->len &&
	       !memcmp(res.pkt, d->b, d->len);
}

/* Budget and table are within their limits and consistent. */
static int
sane(const struct fp_reasm *r)
{
	return fp_reasm_queues(r) <= r->cfg.max_queues &&
	       fp_reasm_bytes(r) <= r->cfg.mem_bytes &&
	       r->nfree <= r->nchunks;
}

/* Time Exceeded reports from fp_reasm_expire. */
static unsigned expired_calls;
static uint8_t expired_quote[FP_REASM_QUOTE_MAX];
static size_t expired_len;

/* fp_reasm_expired_fn that records the quote. */
static void
on_expired(void *ctx, const uint8_t *quote, size_t len)
{
	(void)ctx;
	expired_calls++;
	if (len > FP_REASM_QUOTE_MAX)
		len = 0, expired_calls += 1000; /* shows as a wrong count */
	memcpy(expired_quote, quote, len);
	expired_len = len;
}

static struct dg D1, D2, D3, D4;
static struct piece P[9000];

/* ---- reassembly in any order -------------------------------------------- */

/* In order, reverse order, random order, and interleaved datagrams. */
static void
test_orders(void)
{
	struct fp_reasm *r = mk(NULL);
	unsigned n, k, it;

	build(&D1, 0, 3000, 1, 1);
	n = plan(&D1, 1232, P);
	CHECK(n == 3);
	EXPECT(feed_piece(&D1, &P[0], 7, 0) == FP_REASM_HELD, "first held");
	EXPECT(feed_piece(&D1, &P[1], 7, 1) == FP_REASM_HELD, "second held");
	feed_piece(&D1, &P[2], 7, 2);
	EXPECT(is_dg(&D1) && !res.atomic, "in order: reassembled equal");
	EXPECT(fp_reasm_queues(r) == 0 && fp_reasm_bytes(r) == 0, "nothing held after");

	for (k = n; k-- > 0;)
		feed_piece(&D1, &P[k], 8, 10);
	EXPECT(is_dg(&D1), "reverse order: reassembled equal");
	EXPECT(r->ctr.reassembled == 2 && r->ctr.frags_in == 6, "counters %llu %llu",
	       (unsigned long long)r->ctr.reassembled, (unsigned long long)r->ctr.frags_in);

	/* Random sizes, extension headers, fragment sizes and orders. */
	for (it = 0; it < 300; it++) {
		int exts = (int)rndn(16);
		size_t payload = 1 + rndn(12000);
		uint32_t size, fl, bad = 0;

		build(&D1, exts, payload, (uint8_t)(1 + rndn(5)), rnd());
		fl = (uint32_t)(D1.len - D1.ufl);
		size = 8 * (1 + rndn(200));
		if (fl / size > 60)
			size = ((fl / 60) + 8) & ~7u;
		n = plan(&D1, size, P);
		if (n < 2) { /* one piece would be atomic: split it */
			size = ((fl / 2) + 7) & ~7u;
			n = plan(&D1, size, P);
		}
		shuffle(P, n);
		for (k = 0; k + 1 < n; k++)
			if (feed_piece(&D1, &P[k], 1000 + it, it) != FP_REASM_HELD)
				bad++;
		feed_piece(&D1, &P[n - 1], 1000 + it, it);
		EXPECT(!bad && is_dg(&D1), "random order %u: %u early verdicts, last %d", it, bad, res.verdict);
	}
	EXPECT(fp_reasm_queues(r) == 0 && fp_reasm_bytes(r) == 0, "nothing held after random");

	/* Three datagrams (same addresses, different idents) interleaved. */
	for (it = 0; it < 50; it++) {
		struct {
			const struct dg *d;
			struct piece pc;
			uint32_t ident;
		} all[200], t;
		unsigned na = 0, done = 0, j;
		const struct dg *ds[3] = { &D1, &D2, &D3 };

		build(&D1, EXT_HBH, 2000 + rndn(3000), 9, rnd());
		build(&D2, 0, 2000 + rndn(3000), 9, rnd());
		build(&D3, EXT_RT | EXT_DST2, 2000 + rndn(3000), 9, rnd());
		for (j = 0; j < 3; j++) {
			n = plan(ds[j], 8 * (40 + rndn(100)), P);
			for (k = 0; k < n; k++) {
				all[na].d = ds[j];
				all[na].pc = P[k];
				all[na++].ident = 50 + j;
			}
		}
		for (k = na; k > 1; k--) {
			j = rndn(k);
			t = all[k - 1], all[k - 1] = all[j], all[j] = t;
		}
		for (k = 0; k < na; k++) {
			if (feed_piece(all[k].d, &all[k].pc, all[k].ident, 5) == FP_REASM_COMPLETE) {
				EXPECT(is_dg(all[k].d), "interleaved: datagram %u equal", all[k].ident);
				done++;
			}
		}
		EXPECT(done == 3, "interleaved: 3 complete (%u)", done);
	}
	printf("orders: in order, reverse, 300 random, 50 interleaved\n");
}

/* ---- RFC 5722: overlaps and duplicates ---------------------------------- */

/* Exact duplicates and overlaps discard the whole datagram, and its later
 * fragments too, until the deadline. */
static void
test_overlaps(void)
{
	struct fp_reasm *r = mk(NULL);
	struct piece a, b;
	unsigned n;

	build(&D1, 0, 4000, 1, 2);
	n = plan(&D1, 1232, P);
	CHECK(n == 4);
	/* Exact duplicate of the second fragment. */
	feed_piece(&D1, &P[0], 1, 1000);
	feed_piece(&D1, &P[1], 1, 1000);
	EXPECT(feed_piece(&D1, &P[1], 1, 1000) == FP_REASM_DROP &&
	       res.reason == FP_REASM_DROP_DUPLICATE, "duplicate: %d %d", res.verdict, res.reason);
	EXPECT(r->ctr.discarded == 1 && r->ctr.drops[FP_REASM_DROP_DUPLICATE] == 1, "counted");
	EXPECT(fp_reasm_queues(r) == 1 && fp_reasm_bytes(r) == 0, "a tombstone, no bytes");
	/* The fragments not yet received are discarded too (RFC 5722). */
	EXPECT(feed_piece(&D1, &P[2], 1, 1001) == FP_REASM_DROP &&
	       res.reason == FP_REASM_DROP_DEAD, "later fragment dead");
	EXPECT(feed_piece(&D1, &P[3], 1, 1002) == FP_REASM_DROP &&
	       res.reason == FP_REASM_DROP_DEAD, "last fragment dead");
	EXPECT(feed_piece(&D1, &P[0], 1, 1003) == FP_REASM_DROP &&
	       res.reason == FP_REASM_DROP_DEAD, "first fragment again dead");
	EXPECT(r->ctr.drops[FP_REASM_DROP_DEAD] == 3, "dead counted");
	/* The tombstone lasts until the first arrival's deadline, owes nothing. */
	EXPECT(fp_reasm_next_deadline(r) == 1000 + FP_REASM_TIMEOUT_MS, "deadline kept");
	expired_calls = 0;
	EXPECT(fp_reasm_expire(r, 1000 + FP_REASM_TIMEOUT_MS, on_expired, NULL) == 0 &&
	       expired_calls == 0, "tombstone owes no Time Exceeded");
	EXPECT(r->ctr.timeouts == 0, "a tombstone is not a timeout");
	EXPECT(fp_reasm_queues(r) == 0 && fp_reasm_next_deadline(r) == UINT64_MAX, "gone");
	/* The same key then works again. */
	for (unsigned k = 0; k < n; k++)
		feed_piece(&D1, &P[k], 1, 70000);
	EXPECT(is_dg(&D1), "same ident after the tombstone: reassembled");

	/* Partial overlap: a fragment starting 8 bytes into another. */
	feed_piece(&D1, &P[0], 2, 0);
	b.o = P[1].o - 8, b.n = P[1].n, b.m = 1;
	EXPECT(feed_piece(&D1, &b, 2, 0) == FP_REASM_DROP &&
	       res.reason == FP_REASM_DROP_OVERLAP, "partial overlap");
	EXPECT(feed_piece(&D1, &P[1], 2, 0) == FP_REASM_DROP &&
	       res.reason == FP_REASM_DROP_DEAD, "clean fragment after overlap dead");

	/* A fragment that covers another. */
	feed_piece(&D1, &P[1], 3, 0);
	a.o = 0, a.n = P[1].o + P[1].n + 8, a.m = 1;
	EXPECT(feed_piece(&D1, &a, 3, 0) == FP_REASM_DROP &&
	       res.reason == FP_REASM_DROP_OVERLAP, "covering fragment");
	/* One inside another. */
	feed_piece(&D1, &P[1], 4, 0);
	a.o = P[1].o + 64, a.n = 64, a.m = 1;
	EXPECT(feed_piece(&D1, &a, 4, 0) == FP_REASM_DROP &&
	       res.reason == FP_REASM_DROP_OVERLAP, "inner fragment");
	/* The last fragment overlapping by its start only. */
	feed_piece(&D1, &P[2], 5, 0);
	a.o = P[3].o - 16, a.n = P[3].n + 16, a.m = 0;
	EXPECT(feed_piece(&D1, &a, 5, 0) == FP_REASM_DROP &&
	       res.reason == FP_REASM_DROP_OVERLAP, "last overlapping");
	/* Adjacent is not overlapping. */
	feed_piece(&D1, &P[2], 6, 0);
	EXPECT(feed_piece(&D1, &P[1], 6, 0) == FP_REASM_HELD, "adjacent held");
	EXPECT(r->ctr.drops[FP_REASM_DROP_OVERLAP] == 4 && r->ctr.discarded == 5,
	       "overlaps %llu discarded %llu", (unsigned long long)r->ctr.drops[FP_REASM_DROP_OVERLAP],
	       (unsigned long long)r->ctr.discarded);
	/* Other datagrams from the same source are not touched. */
	feed_piece(&D1, &P[0], 6, 0);
	feed_piece(&D1, &P[3], 6, 0);
	EXPECT(is_dg(&D1), "neighbour datagram completes");
	fp_reasm_flush(r);
	EXPECT(fp_reasm_queues(r) == 0 && r->nfree == r->nchunks, "flush frees all");
	printf("overlaps: duplicate, partial, covering, inner, last; tombstones\n");
}

/* ---- RFC 8200 §4.5: timeout -------------------------------------------- */

/* 60 s after the first-arriving fragment; Time Exceeded quoting offset 0
 * only when it came. */
static void
test_timeout(void)
{
	struct fp_reasm *r = mk(NULL);
	uint8_t first[2000];
	size_t flen;
	unsigned n;

	EXPECT(fp_reasm_next_deadline(r) == UINT64_MAX, "nothing, no deadline");
	build(&D1, EXT_HBH, 4000, 1, 3);
	n = plan(&D1, 1232, P);
	flen = mkfrag(first, &D1, P[0].o, P[0].n, P[0].m, 11);
	CHECK(flen > FP_REASM_QUOTE_MAX);
	/* Missing the last fragment. */
	feed_piece(&D1, &P[0], 11, 1000);
	feed_piece(&D1, &P[1], 11, 30000); /* does not push the deadline */
	EXPECT(fp_reasm_next_deadline(r) == 61000, "deadline %llu",
	       (unsigned long long)fp_reasm_next_deadline(r));
	expired_calls = 0;
	EXPECT(fp_reasm_expire(r, 60999, on_expired, NULL) == 0 && fp_reasm_queues(r) == 1,
	       "not yet");
	EXPECT(fp_reasm_expire(r, 61000, on_expired, NULL) == 1 && expired_calls == 1,
	       "Time Exceeded owed");
	EXPECT(expired_len == FP_REASM_QUOTE_MAX && !memcmp(expired_quote, first, expired_len),
	       "quote is the first fragment (%zu bytes)", expired_len);
	EXPECT(r->ctr.timeouts == 1 && r->ctr.time_exceeded == 1, "counted");
	EXPECT(fp_reasm_queues(r) == 0 && fp_reasm_bytes(r) == 0, "freed");

	/* Missing the first fragment: freed silently. */
	feed_piece(&D1, &P[1], 12, 2000);
	feed_piece(&D1, &P[n - 1], 12, 2000);
	expired_calls = 0;
	EXPECT(fp_reasm_expire(r, 62000, on_expired, NULL) == 0 && expired_calls == 0,
	       "no Time Exceeded without offset 0");
	EXPECT(r->ctr.timeouts == 2 && r->ctr.time_exceeded == 1, "timeout counted, no ICMP");
	EXPECT(fp_reasm_queues(r) == 0, "freed");

	/* A short first fragment is quoted whole; NULL callback is allowed. */
	build(&D2, EXT_RT, 600, 2, 4);
	n = plan(&D2, 200, P);
	CHECK(n == 4);
	flen = mkfrag(first, &D2, P[0].o, P[0].n, P[0].m, 13);
	feed_piece(&D2, &P[0], 13, 5);
	feed_piece(&D2, &P[n - 1], 13, 6);
	expired_calls = 0;
	EXPECT(fp_reasm_expire(r, 100000, on_expired, NULL) == 1 && expired_len == flen &&
	       !memcmp(expired_quote, first, flen), "whole short first fragment quoted");
	feed_piece(&D2, &P[0], 14, 5);
	EXPECT(fp_reasm_expire(r, 100000, NULL, NULL) == 1 && fp_reasm_queues(r) == 0,
	       "NULL callback");
	/* A configured timeout. */
	{
		struct fp_reasm_cfg c = { .timeout_ms = 500 };

		r = mk(&c);
		feed_piece(&D2, &P[0], 15, 100);
		EXPECT(fp_reasm_next_deadline(r) == 600, "configured timeout");
	}
	printf("timeout: deadline from first arrival, Time Exceeded only with offset 0\n");
}

/* ---- RFC 6946: atomic fragments ----------------------------------------- */

/* Offset 0, M = 0: the packet at once, never mixed with a queue. */
static void
test_atomic(void)
{
	struct fp_reasm *r = mk(NULL);
	struct piece whole;
	size_t len;
	unsigned n, k;

	build(&D1, EXT_HBH | EXT_DST1 | EXT_RT | EXT_DST2, 100, 1, 5);
	whole.o = 0, whole.n = (uint32_t)(D1.len - D1.ufl), whole.m = 0;
	EXPECT(feed_piece(&D1, &whole, 77, 0) == FP_REASM_COMPLETE && res.atomic && is_dg(&D1),
	       "atomic with extension headers: the packet");
	EXPECT(r->ctr.atomic == 1 && r->ctr.reassembled == 0 && fp_reasm_queues(r) == 0,
	       "atomic counted, nothing queued");
	/* Same key as a reassembly in progress: neither disturbs the other. */
	build(&D2, 0, 5000, 1, 6);
	n = plan(&D2, 1232, P);
	feed_piece(&D2, &P[0], 77, 0);
	build(&D3, 0, 50, 1, 7);
	whole.n = (uint32_t)(D3.len - D3.ufl);
	EXPECT(feed_piece(&D3, &whole, 77, 0) == FP_REASM_COMPLETE && res.atomic && is_dg(&D3),
	       "atomic beside a queue with its key");
	EXPECT(fp_reasm_queues(r) == 1, "queue untouched");
	for (k = 1; k < n; k++)
		feed_piece(&D2, &P[k], 77, 0);
	EXPECT(is_dg(&D2) && !res.atomic, "the queued datagram still completes");
	/* Even beside a tombstone. */
	feed_piece(&D2, &P[0], 78, 0);
	feed_piece(&D2, &P[0], 78, 0);
	EXPECT(res.reason == FP_REASM_DROP_DUPLICATE, "tombstone made");
	EXPECT(feed_piece(&D3, &whole, 78, 0) == FP_REASM_COMPLETE && res.atomic,
	       "atomic beside a tombstone");
	/* Atomic with padding after Payload Length: trimmed. */
	len = mkfrag(fbuf, &D3, 0, whole.n, 0, 79);
	memset(fbuf + len, 0xee, 20);
	EXPECT(feed(fbuf, len + 20, 0) == FP_REASM_COMPLETE && is_dg(&D3), "padding trimmed");
	printf("atomic: processed at once, apart from queues\n");
}

/* ---- lengths and malformed headers -------------------------------------- */

/* Bad lengths, truncation, malformed chains, inconsistent ends. */
static void
test_lengths(void)
{
	struct fp_reasm *r = mk(NULL);
	struct piece a;
	size_t len;
	unsigned n;

	build(&D1, 0, 3000, 1, 8);
	n = plan(&D1, 1232, P);
	/* M = 1, length not a multiple of 8: Parameter Problem at Payload Length. */
	a.o = 0, a.n = 1230, a.m = 1;
	len = mkfrag(fbuf, &D1, a.o, a.n, a.m, 1);
	EXPECT(feed(fbuf, len, 0) == FP_REASM_ICMP && res.reason == FP_REASM_DROP_BAD_LENGTH &&
	       res.icmp_type == 4 && res.icmp_code == 0 && res.icmp_pointer == 4,
	       "bad length: PP code 0 pointer 4 (%d %u %u %u)", res.verdict, res.icmp_type,
	       res.icmp_code, res.icmp_pointer);
	EXPECT(res.quote == last_copy && res.quote_len == len, "quotes the fragment");
	EXPECT(fp_reasm_queues(r) == 0, "nothing queued");
	/* ... also with link padding after it: the quote is trimmed. */
	memset(fbuf + len, 0, 6);
	EXPECT(feed(fbuf, len + 6, 0) == FP_REASM_ICMP && res.quote_len == len, "trimmed quote");
	/* The last fragment may have any length. */
	a.o = 1232, a.n = 13, a.m = 0;
	EXPECT(feed_piece(&D1, &a, 2, 0) == FP_REASM_HELD, "odd last fragment held");
	/* Empty fragments. */
	a.o = 8, a.n = 0, a.m = 1;
	EXPECT(feed_piece(&D1, &a, 3, 0) == FP_REASM_DROP && res.reason == FP_REASM_DROP_EMPTY,
	       "empty fragment");
	a.m = 0;
	EXPECT(feed_piece(&D1, &a, 3, 0) == FP_REASM_DROP && res.reason == FP_REASM_DROP_EMPTY,
	       "empty last fragment");

	/* Truncated and malformed. */
	len = mkfrag(fbuf, &D1, P[1].o, P[1].n, P[1].m, 4);
	EXPECT(feed(fbuf, 39, 0) == FP_REASM_DROP && res.reason == FP_REASM_DROP_TRUNCATED,
	       "shorter than the IPv6 header");
	EXPECT(feed(fbuf, 0, 0) == FP_REASM_DROP && res.reason == FP_REASM_DROP_TRUNCATED,
	       "empty buffer");
	EXPECT(feed(fbuf, len - 1, 0) == FP_REASM_DROP && res.reason == FP_REASM_DROP_TRUNCATED,
	       "shorter than Payload Length");
	EXPECT(feed(fbuf, 44, 0) == FP_REASM_DROP && res.reason == FP_REASM_DROP_TRUNCATED,
	       "Fragment header cut");
	fbuf[0] = 0x40;
	EXPECT(feed(fbuf, len, 0) == FP_REASM_DROP && res.reason == FP_REASM_DROP_MALFORMED,
	       "version 4");
	fbuf[0] = 0x60;
	wr16(fbuf + 4, 0);
	EXPECT(feed(fbuf, len, 0) == FP_REASM_DROP && res.reason == FP_REASM_DROP_MALFORMED,
	       "jumbo Payload Length 0");
	wr16(fbuf + 4, (uint32_t)(len - 40));
	fbuf[6] = 17;
	EXPECT(feed(fbuf, len, 0) == FP_REASM_DROP && res.reason == FP_REASM_DROP_NOT_FRAGMENT,
	       "no Fragment header");
	build(&D2, EXT_HBH | EXT_DST1 | EXT_RT, 3000, 1, 9);
	len = mkfrag(fbuf, &D2, 1232, 1232, 1, 5);
	fbuf[40] = 0; /* Hop-by-Hop after Hop-by-Hop */
	EXPECT(feed(fbuf, len, 0) == FP_REASM_DROP && res.reason == FP_REASM_DROP_MALFORMED,
	       "Hop-by-Hop not first");
	fbuf[40] = 60;
	fbuf[49] = 200; /* Destination Options longer than the packet */
	wr16(fbuf + 4, 40);
	EXPECT(feed(fbuf, 80, 0) == FP_REASM_DROP && res.reason == FP_REASM_DROP_TRUNCATED,
	       "extension header past the end");
	EXPECT(feed(fbuf, 49, 0) == FP_REASM_DROP && res.reason == FP_REASM_DROP_TRUNCATED,
	       "extension header length byte missing");
	EXPECT(r->ctr.frags_in == 15, "every input counted (%llu)", (unsigned long long)r->ctr.frags_in);

	/* The last fragment sets the length; a second end, or data past it,
	 * discards the datagram. */
	feed_piece(&D1, &P[n - 1], 6, 0);
	a.o = P[n - 1].o + 16, a.n = 8, a.m = 0;
	EXPECT(feed_piece(&D1, &a, 6, 0) == FP_REASM_DROP && res.reason == FP_REASM_DROP_INCONSISTENT,
	       "second last fragment with another end");
	feed_piece(&D1, &P[n - 1], 7, 0);
	a.o = P[n - 1].o + P[n - 1].n + 8, a.n = 8, a.m = 1;
	EXPECT(feed_piece(&D1, &a, 7, 0) == FP_REASM_DROP && res.reason == FP_REASM_DROP_INCONSISTENT,
	       "data past the end");
	feed_piece(&D1, &P[1], 8, 0);
	a.o = 8, a.n = 16, a.m = 0;
	EXPECT(feed_piece(&D1, &a, 8, 0) == FP_REASM_DROP && res.reason == FP_REASM_DROP_INCONSISTENT,
	       "end before data already held");
	EXPECT(r->ctr.discarded == 3, "three discarded");
	printf("lengths: bad length, empty, truncated, malformed, inconsistent ends\n");
}

/* ---- sizes: 65535, max_payload, RFC 7112 -------------------------------- */

/* Parameter Problem over 65535; 65535 itself accepted; the configured
 * maximum; first fragments without the header chain. */
static void
test_sizes(void)
{
	struct fp_reasm_cfg c = { 0 };
	struct fp_reasm *r = mk(NULL);
	struct piece a;
	unsigned n, k;

	EXPECT(r->cfg.max_payload == 65535 && r->cfg.timeout_ms == 60000 &&
	       r->cfg.max_queues == FP_REASM_DEF_MAX_QUEUES, "defaults");
	build(&D1, 0, 100, 1, 10);
	/* Offset 65528 + 16 bytes: Parameter Problem at the Fragment Offset. */
	memcpy(fbuf, D1.b, 40);
	fbuf[6] = 44;
	memset(fbuf + 40, 0, 8 + 16);
	fbuf[40] = 17;
	wr16(fbuf + 42, 65528 | 1);
	wr16(fbuf + 4, 24);
	EXPECT(feed(fbuf, 64, 0) == FP_REASM_ICMP && res.reason == FP_REASM_DROP_TOO_BIG &&
	       res.icmp_type == 4 && res.icmp_code == 0 && res.icmp_pointer == 42,
	       "> 65535: PP pointer 42 (%u)", res.icmp_pointer);
	/* With a Hop-by-Hop header first the pointer moves and the header counts. */
	build(&D2, EXT_HBH, 100, 1, 11);
	memcpy(fbuf, D2.b, 48);
	fbuf[40] = 44;
	memset(fbuf + 48, 0, 16);
	fbuf[48] = 17;
	wr16(fbuf + 50, 65520); /* 8 + 65520 + 8 = 65536 */
	wr16(fbuf + 4, 24);
	EXPECT(feed(fbuf, 64, 0) == FP_REASM_ICMP && res.reason == FP_REASM_DROP_TOO_BIG &&
	       res.icmp_pointer == 50, "> 65535 after HBH: pointer 50 (%u)", res.icmp_pointer);
	wr16(fbuf + 50, 65512); /* exactly 65535 with 7 bytes... 8 + 65512 + 8 = 65528 */
	EXPECT(feed(fbuf, 64, 0) == FP_REASM_HELD, "just under: held");
	fp_reasm_flush(r);

	/* The largest datagram, Payload Length 65535, reassembles. */
	build(&D3, 0, 65535 - 8, 1, 12);
	CHECK(D3.len == 40 + 65535);
	n = plan(&D3, 1232, P);
	shuffle(P, n);
	for (k = 0; k < n; k++)
		feed_piece(&D3, &P[k], 99, 0);
	EXPECT(is_dg(&D3) && rd16(res.pkt + 4) == 65535, "65535 reassembled from %u fragments", n);

	/* max_payload 1460: 1500-byte packets pass (RFC 8200), 1501 do not. */
	c.max_payload = 1460;
	r = mk(&c);
	build(&D1, 0, 1460 - 8, 1, 13);
	CHECK(D1.len == 1500);
	n = plan(&D1, 728, P);
	for (k = 0; k < n; k++)
		feed_piece(&D1, &P[k], 1, 0);
	EXPECT(is_dg(&D1), "1500 bytes reassembled at max_payload 1460");
	build(&D2, 0, 1461 - 8, 1, 14);
	n = plan(&D2, 728, P);
	EXPECT(feed_piece(&D2, &P[0], 2, 0) == FP_REASM_HELD, "first of 1501 held");
	EXPECT(feed_piece(&D2, &P[n - 1], 2, 0) == FP_REASM_DROP &&
	       res.reason == FP_REASM_DROP_OVER_LIMIT, "1501: over the limit");
	EXPECT(feed_piece(&D2, &P[1], 2, 0) == FP_REASM_DROP && res.reason == FP_REASM_DROP_DEAD,
	       "datagram discarded");
	EXPECT(feed_piece(&D2, &P[n - 1], 3, 0) == FP_REASM_DROP &&
	       res.reason == FP_REASM_DROP_OVER_LIMIT && fp_reasm_queues(r) == 1,
	       "over the limit alone: nothing queued");
	/* The offset-0 fragment's Unfragmentable Part counts: a later fragment
	 * ending at 1460 fits with 40 bytes of header but not with 88. */
	build(&D3, EXT_HBH | EXT_DST1 | EXT_RT, 1460 - 48 - 8, 1, 15);
	CHECK(D3.len == 1500 && D3.ufl == 88);
	a.o = 1440, a.n = 20, a.m = 0;
	memcpy(&D4, &D3, sizeof(D4));
	D4.ufl = 40, D4.uf_nh = 6; /* same bytes but sent with no headers before */
	EXPECT(feed_piece(&D4, &a, 4, 0) == FP_REASM_HELD, "late fragment alone fits");
	a.o = 0, a.n = 16, a.m = 1;
	EXPECT(feed_piece(&D3, &a, 4, 0) == FP_REASM_DROP &&
	       res.reason == FP_REASM_DROP_OVER_LIMIT, "with the first's headers it does not");
	c.max_payload = 10;
	r = mk(&c);
	EXPECT(r->cfg.max_payload == FP_REASM_MIN_PAYLOAD, "max_payload clamped to 1460");

	/* RFC 7112: a first fragment without the whole chain. */
	r = mk(NULL);
	build(&D1, EXT_DST2, 3000, 1, 16);
	D1.b[D1.ufl + 1] = 1; /* Destination Options of 16 bytes claimed, 8 there */
	a.o = 0, a.n = 8, a.m = 1;
	EXPECT(feed_piece(&D1, &a, 5, 0) == FP_REASM_ICMP && res.reason == FP_REASM_DROP_CHAIN &&
	       res.icmp_type == 4 && res.icmp_code == 3 && res.icmp_pointer == 0,
	       "extension header past the first fragment: PP code 3 pointer 0");
	build(&D1, EXT_DST2, 3000, 1, 16);
	D1.b[D1.ufl] = 6; /* TCP after the Destination Options: 20 bytes needed */
	a.n = 24;
	EXPECT(feed_piece(&D1, &a, 6, 0) == FP_REASM_ICMP && res.reason == FP_REASM_DROP_CHAIN,
	       "TCP header cut");
	a.n = 32;
	EXPECT(feed_piece(&D1, &a, 6, 0) == FP_REASM_HELD, "TCP header whole: held");
	build(&D1, 0, 3000, 1, 16);
	a.n = 8;
	EXPECT(feed_piece(&D1, &a, 7, 0) == FP_REASM_HELD, "UDP header whole: held");
	a.o = 8, a.n = 8;
	EXPECT(feed_piece(&D1, &a, 8, 0) == FP_REASM_HELD, "only the first fragment is checked");
	EXPECT(r->ctr.icmp == 2 && r->ctr.drops[FP_REASM_DROP_CHAIN] == 2, "counted");

	/* An Unfragmentable Part longer than FP_REASM_MAX_UNFRAG. */
	build(&D1, EXT_HBH, 3000, 1, 17);
	memcpy(fbuf, D1.b, 40);
	fbuf[6] = 0;
	memset(fbuf + 40, 0, 1032);
	fbuf[40] = 44;
	fbuf[41] = 127; /* 1024 bytes */
	fbuf[42] = 1;
	fbuf[43] = 255;
	fbuf[1064] = 17;
	wr16(fbuf + 1066, 8 | 1);
	wr16(fbuf + 4, 1024 + 8 + 8);
	EXPECT(feed(fbuf, 40 + 1024 + 16, 0) == FP_REASM_DROP &&
	       res.reason == FP_REASM_DROP_UNFRAG_TOO_LONG, "unfragmentable part too long");
	printf("sizes: 65535 limit, max_payload, RFC 7112 chain, long unfragmentable part\n");
}

/* ---- bounds ------------------------------------------------------------- */

/* Table full, per-source limit, byte budget, fragments per datagram. */
static void
test_limits(void)
{
	struct fp_reasm_cfg c = { .max_queues = 4, .max_per_source = 4 };
	struct fp_reasm *r = mk(&c);
	static struct dg ds[6];
	struct piece p0, p1;
	unsigned k, n;

	/* Five datagrams from five sources, two fragments each. */
	for (k = 1; k <= 5; k++)
		build(&ds[k], 0, 2000, (uint8_t)k, 20 + k);
	n = plan(&ds[1], 1232, P);
	CHECK(n == 2);
	p0 = P[0], p1 = P[1];
	for (k = 1; k <= 5; k++)
		EXPECT(feed_piece(&ds[k], &p0, 1, k) == FP_REASM_HELD, "source %u held", k);
	EXPECT(r->ctr.evictions == 1 && fp_reasm_queues(r) == 4, "table full: one evicted");
	feed_piece(&ds[5], &p1, 1, 10);
	EXPECT(is_dg(&ds[5]), "newest completes");
	feed_piece(&ds[2], &p1, 1, 10);
	EXPECT(is_dg(&ds[2]), "second oldest was kept");
	EXPECT(feed_piece(&ds[1], &p1, 1, 10) == FP_REASM_HELD, "oldest was evicted: starts anew");
	fp_reasm_flush(r);

	/* Tombstones are evicted before live reassemblies. */
	c.max_queues = 3;
	r = mk(&c);
	feed_piece(&ds[1], &p0, 1, 1);
	feed_piece(&ds[2], &p0, 1, 2);
	feed_piece(&ds[2], &p0, 1, 2); /* duplicate: tombstone */
	feed_piece(&ds[3], &p0, 1, 3);
	EXPECT(feed_piece(&ds[4], &p0, 1, 4) == FP_REASM_HELD && r->ctr.evictions == 1,
	       "table full: one evicted");
	EXPECT(feed_piece(&ds[2], &p0, 1, 5) == FP_REASM_HELD, "it was the tombstone");
	EXPECT(r->ctr.evictions == 2, "then the oldest live one");
	EXPECT(feed_piece(&ds[1], &p1, 1, 6) == FP_REASM_HELD, "source 1 was that one");
	feed_piece(&ds[4], &p1, 1, 7);
	EXPECT(is_dg(&ds[4]), "source 4 kept");

	/* Per-source limit: the source's own oldest goes. */
	c.max_queues = 16, c.max_per_source = 2;
	r = mk(&c);
	feed_piece(&ds[1], &p0, 1, 1);
	feed_piece(&ds[2], &p0, 1, 2);
	feed_piece(&ds[1], &p0, 2, 3);
	feed_piece(&ds[1], &p0, 3, 4);
	EXPECT(r->ctr.evictions_source == 1 && r->ctr.evictions == 0 && fp_reasm_queues(r) == 3,
	       "source at its limit evicts its oldest");
	feed_piece(&ds[2], &p1, 1, 5);
	EXPECT(is_dg(&ds[2]), "other source untouched");
	feed_piece(&ds[1], &p1, 2, 5);
	EXPECT(is_dg(&ds[1]), "ident 2 kept");
	feed_piece(&ds[1], &p1, 3, 5);
	EXPECT(is_dg(&ds[1]), "ident 3 kept");
	EXPECT(feed_piece(&ds[1], &p1, 1, 5) == FP_REASM_HELD, "ident 1 was evicted");

	/* Byte budget: max_payload 1460 makes the minimum budget 10 chunks;
	 * a 1232-byte first fragment takes 6. */
	c = (struct fp_reasm_cfg){ .max_payload = 1460, .mem_bytes = 1 };
	r = mk(&c);
	EXPECT(r->cfg.mem_bytes == 10 * FP_REASM_CHUNK, "budget clamped to one datagram (%u)",
	       r->cfg.mem_bytes);
	for (k = 1; k <= 2; k++)
		build(&ds[k], 0, 1400, (uint8_t)k, 30 + k);
	n = plan(&ds[1], 1232, P);
	CHECK(n == 2);
	p0 = P[0], p1 = P[1];
	feed_piece(&ds[1], &p0, 1, 1);
	EXPECT(fp_reasm_bytes(r) == 6 * FP_REASM_CHUNK, "6 chunks (%zu)", fp_reasm_bytes(r));
	EXPECT(feed_piece(&ds[2], &p0, 1, 2) == FP_REASM_HELD && r->ctr.evictions == 1,
	       "budget full: oldest evicted");
	EXPECT(sane(r), "within the budget");
	feed_piece(&ds[2], &p1, 1, 3);
	EXPECT(is_dg(&ds[2]), "the newer completes");
	EXPECT(feed_piece(&ds[1], &p1, 1, 4) == FP_REASM_HELD, "the evicted one starts anew");

	/* Fragments per datagram. */
	c = (struct fp_reasm_cfg){ .max_frags = 4 };
	r = mk(&c);
	build(&D1, 0, 600, 1, 40);
	n = plan(&D1, 120, P);
	CHECK(n == 6);
	for (k = 0; k < 4; k++)
		EXPECT(feed_piece(&D1, &P[k], 1, 0) == FP_REASM_HELD, "fragment %u held", k);
	EXPECT(feed_piece(&D1, &P[4], 1, 0) == FP_REASM_DROP &&
	       res.reason == FP_REASM_DROP_TOO_MANY_FRAGS, "fifth fragment: too many");
	EXPECT(r->ctr.discarded == 1 && fp_reasm_bytes(r) == 0, "datagram discarded");
	n = plan(&D1, 160, P);
	for (k = 0; k < n; k++)
		feed_piece(&D1, &P[k], 2, 0);
	EXPECT(n == 4 && is_dg(&D1), "four fragments are fine");
	printf("limits: table, tombstones first, per source, budget, fragments\n");
}

/* ---- RFC 3168 §5.3: ECN ------------------------------------------------- */

/* Set the ECN bits of a built fragment. */
static void
set_ecn(uint8_t *f, unsigned ecn)
{
	f[1] = (uint8_t)((f[1] & ~0x30) | (ecn << 4));
}

/* CE spreads to the whole datagram; Not-ECT mixed with ECT discards it. */
static void
test_ecn(void)
{
	struct fp_reasm *r = mk(NULL);
	unsigned n, k;
	size_t len;

	build(&D1, 0, 3000, 1, 50);
	set_ecn(D1.b, 2); /* ECT(0) */
	n = plan(&D1, 1232, P);
	for (k = 0; k < n; k++) {
		len = mkfrag(fbuf, &D1, P[k].o, P[k].n, P[k].m, 1);
		if (k == 1)
			set_ecn(fbuf, 3); /* CE */
		feed(fbuf, len, 0);
	}
	EXPECT(res.verdict == FP_REASM_COMPLETE && ((res.pkt[1] >> 4) & 3) == 3,
	       "CE in one fragment: CE");
	EXPECT(res.len == D1.len && !memcmp(res.pkt + 2, D1.b + 2, D1.len - 2) &&
	       res.pkt[0] == D1.b[0], "otherwise equal");
	for (k = 0; k < n; k++)
		feed_piece(&D1, &P[k], 2, 0);
	EXPECT(is_dg(&D1), "all ECT(0): unchanged");
	for (k = 0; k < n; k++) {
		len = mkfrag(fbuf, &D1, P[k].o, P[k].n, P[k].m, 3);
		if (k == 2)
			set_ecn(fbuf, 0); /* Not-ECT */
		feed(fbuf, len, 0);
	}
	EXPECT(res.verdict == FP_REASM_DROP && res.reason == FP_REASM_DROP_ECN,
	       "Not-ECT with ECT: discarded");
	EXPECT(fp_reasm_queues(r) == 0 && fp_reasm_bytes(r) == 0, "nothing kept");
	printf("ecn: CE kept, Not-ECT/ECT mix discarded\n");
}

/* ---- fuzz --------------------------------------------------------------- */

/* Random bytes shaped like IPv6 with extension and Fragment headers: no
 * crash, no read past the buffer (ASan), limits and results consistent. */
static void
test_fuzz_bytes(void)
{
	struct fp_reasm_cfg c = { .max_queues = 8, .max_per_source = 3, .max_frags = 6,
				  .max_payload = 1460 };
	struct fp_reasm *r = mk(&c);
	static const uint8_t nhs[] = { 0, 43, 60, 44, 44, 44, 17, 6, 58, 51, 59, 135 };
	uint8_t buf[256];
	unsigned it, bad = 0, complete = 0, held = 0;
	uint64_t now = 0;

	for (it = 0; it < 300000; it++) {
		size_t len = rndn(200), k, off;

		for (k = 0; k < len; k++)
			buf[k] = (uint8_t)rnd();
		if (len >= 40 && rndn(8)) {
			buf[0] = 0x60 | (buf[0] & 0x0f);
			memset(buf + 8, 0, 31); /* few addresses: queues meet */
			buf[23] = (uint8_t)rndn(4);
			buf[39] = (uint8_t)rndn(2);
			if (rndn(4))
				wr16(buf + 4, (uint32_t)(len - 40 - rndn(3)));
			buf[6] = nhs[rndn(sizeof(nhs))];
			for (off = 40; off + 8 <= len && rndn(3);) {
				buf[off + 1] = (uint8_t)rndn(3);
				buf[off] = nhs[rndn(sizeof(nhs))];
				if (off + 8 <= len && rndn(2)) {
					buf[off + 1] = 0;
					buf[off + 4] = 0;
					buf[off + 5] = 0;
					buf[off + 6] = 0;
					buf[off + 7] = (uint8_t)rndn(3); /* ident */
					buf[off + 2] = (uint8_t)rndn(2);
				}
				off += ((size_t)buf[off + 1] + 1) * 8;
			}
		}
		feed(buf, len, now);
		if (res.verdict == FP_REASM_COMPLETE) {
			complete++;
			if (res.len < 40 || 40 + rd16(res.pkt + 4) != res.len)
				bad++;
		} else if (res.verdict == FP_REASM_HELD) {
			held++;
		} else if (res.reason <= FP_REASM_DROP_NONE || res.reason >= FP_REASM_DROP_MAX) {
			bad++;
		} else if (res.verdict == FP_REASM_ICMP &&
			   (res.quote != last_copy || res.quote_len > len || res.icmp_type != 4 ||
			    res.icmp_pointer >= res.quote_len)) {
			bad++;
		}
		if (!sane(r))
			bad++;
		now += rndn(500);
		if (now >= fp_reasm_next_deadline(r))
			fp_reasm_expire(r, now, on_expired, NULL);
	}
	EXPECT(!bad, "fuzz: %u inconsistent results", bad);
	EXPECT(held > 1000 && complete > 100, "fuzz reached queues (%u held, %u complete)", held,
	       complete);
	fp_reasm_expire(r, UINT64_MAX - 1, NULL, NULL);
	EXPECT(fp_reasm_queues(r) == 0 && r->nfree == r->nchunks, "all freed at the end");
	printf("fuzz: 300000 random packets (%u held, %u complete)\n", held, complete);
}

/* Four senders interleaved, each sending datagrams (new ident each) as a
 * shuffled plan plus stray true slices that may overlap or duplicate:
 * whatever completes is exactly the datagram, and the tables stay within
 * their limits through evictions and timeouts. */
static void
test_fuzz_slices(void)
{
	struct fp_reasm_cfg c = { .max_queues = 6, .max_per_source = 2, .max_frags = 24,
				  .timeout_ms = 3000 };
	struct fp_reasm *r = mk(&c);
	static struct dg ds[4];
	static struct piece plans[4][64];
	unsigned nplan[4] = { 0 }, next[4] = { 0 }, ident[4] = { 0 };
	unsigned it, wrong = 0, complete = 0;
	uint64_t now = 0;

	for (it = 0; it < 200000; it++) {
		unsigned id = rndn(4);
		struct dg *d = &ds[id];
		uint32_t fl;
		struct piece a;
		enum fp_reasm_verdict v;

		if (next[id] == nplan[id]) { /* a new datagram */
			build(d, (int)rndn(16), 100 + rndn(4000), (uint8_t)(id & 2), rnd());
			fl = (uint32_t)(d->len - d->ufl);
			nplan[id] = plan(d, 8 * (fl / 8 / 16 + 1 + rndn(30)), plans[id]);
			if (nplan[id] > 20 || nplan[id] < 2)
				nplan[id] = plan(d, ((fl / 2) + 7) & ~7u, plans[id]);
			shuffle(plans[id], nplan[id]);
			next[id] = 0;
			ident[id] += 4;
		}
		fl = (uint32_t)(d->len - d->ufl);
		if (rndn(12)) {
			a = plans[id][next[id]++];
		} else { /* a stray slice */
			a.o = rndn(3) ? 8 * rndn((fl + 7) / 8) : 0;
			a.n = 8 * (1 + rndn(40));
			a.m = a.o + a.n < fl;
			if (!a.m)
				a.n = fl - a.o;
			if (!a.o && !a.m)
				continue; /* atomic: not this test */
		}
		v = feed_piece(d, &a, ident[id] + id, now);
		if (v == FP_REASM_COMPLETE) {
			complete++;
			if (!is_dg(d))
				wrong++;
			next[id] = nplan[id];
		} else if (v != FP_REASM_HELD) {
			next[id] = nplan[id]; /* discarded: move on */
		}
		if (!sane(r))
			wrong++;
		now += rndn(20) + (rndn(500) ? 0 : 4000); /* now and then a pause */
		if (now >= fp_reasm_next_deadline(r))
			fp_reasm_expire(r, now, on_expired, NULL);
	}
	EXPECT(!wrong, "slices: %u wrong", wrong);
	EXPECT(complete > 5000, "slices completed %u", complete);
	EXPECT(r->ctr.drops[FP_REASM_DROP_OVERLAP] && r->ctr.drops[FP_REASM_DROP_DUPLICATE] &&
	       r->ctr.evictions_source && r->ctr.timeouts, "paths exercised");
	printf("fuzz: 200000 slices (%u complete, all exact; %llu overlaps, %llu duplicates, "
	       "%llu evictions, %llu timeouts)\n",
	       complete, (unsigned long long)r->ctr.drops[FP_REASM_DROP_OVERLAP],
	       (unsigned long long)r->ctr.drops[FP_REASM_DROP_DUPLICATE],
	       (unsigned long long)(r->ctr.evictions + r->ctr.evictions_source),
	       (unsigned long long)r->ctr.timeouts);
}

/* ---- fp_frag_split ------------------------------------------------------ */

/* Caller buffers for fp_frag_split. */
static uint8_t frags[200][9100];
static size_t frag_len[200];
static unsigned frag_fail_at = ~0u;

/* fp_frag_buf_fn into frags[]. */
static uint8_t *
get_buf(void *ctx, size_t len, unsigned index)
{
	(void)ctx;
	if (index >= 200 || len > sizeof(frags[0]) || index == frag_fail_at)
		return NULL;
	frag_len[index] = len;
	return frags[index];
}

/* Split d at mtu, check every fragment, reassemble them shuffled; 1 if all
 * is well. */
static int
round_trip(const struct dg *d, unsigned mtu, uint32_t ident)
{
	int n = fp_frag_split(d->b, d->len, (uint16_t)mtu, ident, get_buf, NULL);
	unsigned k, order[200];
	uint32_t next = 0;

	if (n < 2)
		return 0;
	for (k = 0; k < (unsigned)n; k++) {
		const uint8_t *f = frags[k], *fh = f + d->ufl;
		uint32_t fo = rd16(fh + 2);
		size_t dl = frag_len[k] - d->ufl - 8;

		if (frag_len[k] > mtu || rd16(f + 4) + 40 != frag_len[k])
			return 0;
		if (f[d->uf_nh] != 44 || fh[0] != d->b[d->uf_nh] || fh[1] != 0)
			return 0;
		if (memcmp(f, d->b, 4) || memcmp(f + 6, d->b + 6, d->uf_nh - 6) ||
		    memcmp(f + d->uf_nh + 1, d->b + d->uf_nh + 1, d->ufl - d->uf_nh - 1))
			return 0; /* Unfragmentable Part copied (but for the fixed fields) */
		if ((fo & 0xfff8) != next || (fo & 6) || (fo & 1) != (k + 1 < (unsigned)n))
			return 0;
		if (rd16(fh + 4) != ident >> 16 || rd16(fh + 6) != (ident & 0xffff))
			return 0;
		if ((k + 1 < (unsigned)n && dl % 8) || memcmp(fh + 8, d->b + d->ufl + next, dl))
			return 0;
		next += (uint32_t)dl;
		order[k] = k;
	}
	if (next != d->len - d->ufl)
		return 0;
	for (k = (unsigned)n; k > 1; k--) {
		unsigned j = rndn(k), t = order[k - 1];

		order[k - 1] = order[j], order[j] = t;
	}
	for (k = 0; k < (unsigned)n; k++) {
		feed(frags[order[k]], frag_len[order[k]], 0);
		if ((k + 1 < (unsigned)n) != (res.verdict == FP_REASM_HELD))
			return 0;
	}
	return is_dg(d);
}

/* Fragmentation round trips and its refusals. */
static void
test_split(void)
{
	static const unsigned mtus[] = { 1280, 1500, 1281, 1283, 1337, 1499, 9000, 576, 200, 97 };
	static const size_t sizes[] = { 1500, 1501, 2999, 4000, 8999, 20000, 65535 - 8 - 56 };
	static const int exts[] = { 0, EXT_HBH, EXT_RT | EXT_DST2, EXT_HBH | EXT_DST1 | EXT_RT | EXT_DST2 };
	unsigned mi, si, ei, trips = 0, bad = 0;
	uint8_t big[1300];
	struct fp_reasm_cfg c = { .max_frags = 200 };
	int n;

	mk(&c); /* small MTUs make more than the default 64 fragments */
	for (mi = 0; mi < sizeof(mtus) / sizeof(mtus[0]); mi++)
		for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
			for (ei = 0; ei < 4; ei++) {
				build(&D1, exts[ei], sizes[si], 3, mi * 100 + si * 10 + ei);
				if (D1.len <= mtus[mi] || mtus[mi] < D1.ufl + 8 + 16 ||
				    (D1.len - D1.ufl) / ((mtus[mi] - D1.ufl - 8) & ~7u) >= 190)
					continue; /* no room, or too many fragments for frags[] */
				trips++;
				if (!round_trip(&D1, mtus[mi], 0x80000000u + trips)) {
					bad++;
					printf("round trip failed: mtu %u size %zu exts %d\n", mtus[mi],
					       sizes[si], exts[ei]);
				}
			}
	EXPECT(!bad && trips > 200, "%u of %u round trips failed", bad, trips);

	build(&D1, 0, 1000, 1, 70);
	EXPECT(fp_frag_split(D1.b, D1.len, 1280, 1, get_buf, NULL) == 0, "fits: nothing to do");
	EXPECT(fp_frag_split(D1.b, D1.len, (uint16_t)D1.len, 1, get_buf, NULL) == 0, "exactly fits");
	n = fp_frag_split(D1.b, D1.len, (uint16_t)(D1.len - 1), 1, get_buf, NULL);
	EXPECT(n == 2 && frag_len[0] <= D1.len - 1 && frag_len[1] <= D1.len - 1, "one byte over: 2");
	EXPECT(fp_frag_split(D1.b, D1.len, 40 + 8 + 7, 1, get_buf, NULL) == -EMSGSIZE,
	       "no room for 8 bytes of data");
	EXPECT(fp_frag_split(D1.b, D1.len, 40 + 8 + 16, 1, get_buf, NULL) > 0,
	       "room for 16: fine (%d)", fp_frag_split(D1.b, D1.len, 40 + 8 + 16, 1, get_buf, NULL));
	frag_fail_at = 1;
	EXPECT(fp_frag_split(D1.b, D1.len, 600, 1, get_buf, NULL) == -ENOBUFS, "no buffer");
	frag_fail_at = ~0u;
	EXPECT(fp_frag_split(D1.b, 39, 600, 1, get_buf, NULL) == -EINVAL, "too short");
	EXPECT(fp_frag_split(D1.b, D1.len - 1, 600, 1, get_buf, NULL) == -EINVAL, "truncated");
	n = fp_frag_split(D1.b, D1.len, 600, 1, get_buf, NULL);
	EXPECT(n == 2 && fp_frag_split(frags[0], frag_len[0], 100, 1, get_buf, NULL) == -EINVAL,
	       "already fragmented");
	/* RFC 7112: a header chain too long for the first fragment. */
	build(&D2, EXT_HBH, 3000, 1, 71);
	memcpy(big, D2.b, 48);
	big[40] = 60;
	memset(big + 48, 0, 1024 + 8);
	big[48] = 17;
	big[49] = 127; /* 1024-byte Destination Options, fragmentable */
	big[50] = 1;
	big[51] = 254;
	wr16(big + 4, 8 + 1024 + 8);
	EXPECT(fp_frag_split(big, 48 + 1024 + 8, 576, 1, get_buf, NULL) == -EMSGSIZE,
	       "chain does not fit the first fragment");
	EXPECT(fp_frag_split(big, 48 + 1024 + 8, 1280, 1, get_buf, NULL) == 0, "fits whole");
	big[49] = 200; /* runs past the packet */
	EXPECT(fp_frag_split(big, 48 + 1024 + 8, 576, 1, get_buf, NULL) == -EINVAL,
	       "malformed chain");
	printf("split: %u round trips over %zu MTUs, refusals\n", trips, sizeof(mtus) / sizeof(mtus[0]));
}

/* Every group in turn; the closing line and exit status from check.h. */
int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_orders();
	test_overlaps();
	test_timeout();
	test_atomic();
	test_lengths();
	test_sizes();
	test_limits();
	test_ecn();
	test_fuzz_bytes();
	test_fuzz_slices();
	test_split();
	free(mem);
	free(last_copy);
	return checks_done();
}

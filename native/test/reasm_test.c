/*
 * reasm_test.c — unit tests of IPv6 reassembly and fragmentation
 * (native/control/reasm.c), which has no DPDK or Node dependency. Built and
 * run by test/unit/reasm.test.ts. Datagrams are IPv6/UDP with optional
 * extension headers, fragmented by this file's own mkfrag (independent of
 * fp_frag_split) or by fp_frag_split for the round trips. Time is driven
 * by hand; randomness is a fixed-seed xorshift. Every packet handed to
 * fp_reasm_input is first copied into a buffer of exactly its length, so a
 * read past the end shows under -fsanitize=address.
 *
 * The sizes, limits and ECN tests are reasm_test_limits.c; the fuzz and
 * fp_frag_split tests reasm_test_fuzz.c (shared helpers: reasm_test.h).
 */
#define FP_TEST_MULTI_FILE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../control/reasm.h"

#include "check.h"
#include "reasm_test.h"

int checks, failures; /* check.h: one count for the three files */


/* ---- helpers ---------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

/* xorshift64*: the tests' only randomness, fixed seed. */
uint32_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 2685821657736338717ull) >> 32);
}

/* Uniform in [0, n). */
uint32_t
rndn(uint32_t n)
{
	return n ? rnd() % n : 0;
}

/* Big-endian 16-bit read. */
uint32_t
rd16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

/* Big-endian 16-bit write. */
void
wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Big-endian 32-bit write. */
void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}


/* Build an IPv6/UDP datagram from source 2001:db8::<src> with exts and
 * payload bytes of a pattern drawn from seed. */
void
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
size_t
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


/* Cut the fragmentable part of d into pieces of size bytes (a multiple
 * of 8); returns how many. */
unsigned
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
void
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

struct fp_reasm R;
uint8_t *mem;
struct fp_reasm_result res;
uint8_t *last_copy;
uint8_t fbuf[MAXPKT];

/* Fresh state with cfg (NULL: defaults). */
struct fp_reasm *
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
enum fp_reasm_verdict
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
enum fp_reasm_verdict
feed_piece(const struct dg *d, const struct piece *pc, uint32_t ident, uint64_t now)
{
	size_t n = mkfrag(fbuf, d, pc->o, pc->n, pc->m, ident);

	return feed(fbuf, n, now);
}

/* The result is d, reassembled. */
int
is_dg(const struct dg *d)
{
	return res.verdict == FP_REASM_COMPLETE && res.len == d->len &&
	       !memcmp(res.pkt, d->b, d->len);
}

/* Budget and table are within their limits and consistent. */
int
sane(const struct fp_reasm *r)
{
	return fp_reasm_queues(r) <= r->cfg.max_queues &&
	       fp_reasm_bytes(r) <= r->cfg.mem_bytes &&
	       r->nfree <= r->nchunks;
}

/* Time Exceeded reports from fp_reasm_expire. */
unsigned expired_calls;
uint8_t expired_quote[FP_REASM_QUOTE_MAX];
size_t expired_len;

/* fp_reasm_expired_fn that records the quote. */
void
on_expired(void *ctx, const uint8_t *quote, size_t len)
{
	(void)ctx;
	expired_calls++;
	if (len > FP_REASM_QUOTE_MAX)
		len = 0, expired_calls += 1000; /* shows as a wrong count */
	memcpy(expired_quote, quote, len);
	expired_len = len;
}

struct dg D1, D2, D3, D4;
struct piece P[9000];

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
	test_zones();
	test_fuzz_bytes();
	test_fuzz_slices();
	test_split();
	free(mem);
	free(last_copy);
	return checks_done();
}

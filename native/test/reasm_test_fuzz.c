/*
 * reasm_test_fuzz.c — fuzzing fp_reasm_input with shaped random bytes and
 * interleaved slices, and fp_frag_split round trips. Part of reasm_test.
 */
#define FP_TEST_MULTI_FILE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "reasm_test.h"

/* ---- fuzz --------------------------------------------------------------- */

/* Random bytes shaped like IPv6 with extension and Fragment headers: no
 * crash, no read past the buffer (ASan), limits and results consistent. */
void
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
void
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
void
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

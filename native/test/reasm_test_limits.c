/*
 * reasm_test_limits.c — reassembly sizes (65535, max_payload, RFC 7112),
 * bounds and eviction, and ECN (RFC 3168). Part of reasm_test.
 */
#define FP_TEST_MULTI_FILE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "reasm_test.h"

/* ---- sizes: 65535, max_payload, RFC 7112 -------------------------------- */

/* Parameter Problem over 65535; 65535 itself accepted; the configured
 * maximum; first fragments without the header chain. */
void
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
void
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
void
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

/* ---- zones: the interface joins the key for link-local addresses -------- */

/* Two links may reuse the same link-local addresses and Identification:
 * such fragments from different interfaces are two datagrams; a global
 * datagram's fragments meet whatever interface they came in on. */
void
test_zones(void)
{
	struct fp_reasm *r = mk(NULL);
	static uint8_t a[256], b[256];
	size_t na, nb;

	build(&D1, 0, 64, 1, 21);
	D1.b[8] = 0xfe, D1.b[9] = 0x80, D1.b[10] = 0, D1.b[11] = 0; /* fe80::1 */
	na = mkfrag(a, &D1, 0, 32, 1, 7);
	nb = mkfrag(b, &D1, 32, D1.len - D1.ufl - 32, 0, 7);
	fp_reasm_input_if(r, a, na, 0, 0, &res);
	EXPECT(res.verdict == FP_REASM_HELD, "link-local, interface 0: held");
	fp_reasm_input_if(r, b, nb, 1, 0, &res);
	EXPECT(res.verdict == FP_REASM_HELD && r->nused == 2,
	       "the same key from interface 1 is another datagram (%u queues)", r->nused);
	fp_reasm_input_if(r, b, nb, 0, 0, &res);
	EXPECT(res.verdict == FP_REASM_COMPLETE && is_dg(&D1),
	       "its own rest completes it on interface 0");
	fp_reasm_flush(r);

	build(&D2, 0, 64, 2, 22); /* 2001:db8::2 -> 2001:db8:1::1 */
	na = mkfrag(a, &D2, 0, 32, 1, 8);
	nb = mkfrag(b, &D2, 32, D2.len - D2.ufl - 32, 0, 8);
	fp_reasm_input_if(r, a, na, 0, 0, &res);
	fp_reasm_input_if(r, b, nb, 1, 0, &res);
	EXPECT(res.verdict == FP_REASM_COMPLETE && is_dg(&D2),
	       "global addresses: fragments over two interfaces meet");
	fp_reasm_flush(r);
	printf("zones: link-local keyed by interface, global not\n");
}

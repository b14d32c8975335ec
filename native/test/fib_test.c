/*
 * fib_test.c — the FIB layer (core/fib.c) against DPDK's rte_fib6, with EAL
 * (--no-huge) and a reader thread doing lookups the way a worker does.
 *
 * 1. rte_fib6 alone: add/delete one /48 until it refuses, and show which
 *    defect it is (the reservation count that deletes never lower).
 * 2. fp_fib: 1,000,000 add/delete cycles of one /48, and of rotating distinct
 *    prefixes of every length /16../128, while a reader looks up addresses
 *    under routes that exist throughout: every lookup answers right, the
 *    groups in use return to their baseline, the configured number of routes
 *    can then be added, and ENOSPC names the limit when it is real.
 * 3. Route state (routes follow link state): withdrawn routes stay in the
 *    list and leave both copies, come back on restore, are left out of
 *    rebuilds, are deleted from the list only, and can be added as down;
 *    withdraw/restore churn under the reader (which sees the covering route
 *    or the toggled one, never nothing; a tenth of the cycles, four changes
 *    each) gives every reservation back.
 *
 * 4. Next-hop groups (ECMP): a group route added, switched to a new group
 *    and deleted, over and over, under a reader that resolves every group
 *    it is answered with as a worker does (every bucket): it sees the
 *    covering route or a whole group of valid members, never a freed one
 *    (freed groups are poisoned) or a half-filled one; every group is
 *    given back (a tenth of the cycles, three changes each).
 *
 * Usage: fib_test [cycles]   (default 1000000; the rebuild-only run does a fifth)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_fib6.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_version.h>

#include "../core/fib.h"
#include "check.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
rand64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
addr(uint8_t out[16], uint16_t a, uint16_t b, uint16_t c)
{
	memset(out, 0, 16);
	out[0] = a >> 8, out[1] = a & 0xff;
	out[2] = b >> 8, out[3] = b & 0xff;
	out[4] = c >> 8, out[5] = c & 0xff;
}

static struct fp_route
route(const uint8_t prefix[16], uint8_t plen, uint32_t nh)
{
	struct fp_route r;

	memset(&r, 0, sizeof(r));
	memcpy(r.prefix, prefix, 16);
	r.plen = plen;
	r.nexthop = nh;
	return r;
}

/* ---- 1. rte_fib6 alone ------------------------------------------------- */

static void
test_bare_rte_fib6(void)
{
	struct rte_fib6_conf conf;
	struct rte_fib6 *f;
	uint8_t p[16];
	int i, rc = 0;

	memset(&conf, 0, sizeof(conf));
	conf.type = RTE_FIB6_TRIE;
	conf.max_routes = 1024;
	conf.trie.nh_sz = RTE_FIB6_TRIE_4B;
	conf.trie.num_tbl8 = 16384;
	f = rte_fib6_create("bare", SOCKET_ID_ANY, &conf);
	EXPECT(f != NULL, "rte_fib6_create: %s", rte_strerror(rte_errno));
	if (f == NULL)
		return;
	addr(p, 0x2001, 0x0db8, 0x0100);
	for (i = 0; i < 20000; i++) {
		rc = rte_fib6_add(f, p, 48, 7);
		if (rc < 0)
			break;
		rte_fib6_delete(f, p, 48);
	}
	if (rc == -ENOSPC) {
		/* 16384 groups / 3 per /48 (bits 24..48) = 5461 cycles. */
		printf("rte_fib6 (%s): ENOSPC on add %d of one /48 with an empty "
		       "table: the tbl8 reservation count rises 3 per add and is "
		       "never lowered by a delete\n", rte_version(), i + 1);
		EXPECT(i == 16384 / 3, "defect at cycle %d, expected %d", i + 1, 16384 / 3 + 1);
	} else {
		printf("rte_fib6 (%s): 20000 cycles without ENOSPC: the "
		       "reservation defect is fixed in this DPDK\n", rte_version());
	}
	rte_fib6_free(f);
}

/* ---- a reader that looks up like a worker ------------------------------ */

#define PINNED 4 /* routes that exist throughout the churn */

struct reader {
	struct fp_fib *fib;
	struct rte_rcu_qsbr *qsbr;
	uint8_t dst[PINNED][16];
	uint64_t want[PINNED];
	/* An address under a route being withdrawn and restored: it must
	 * resolve to that route or to the one covering it, never to nothing. */
	uint8_t toggle_dst[16];
	uint64_t toggle_want[2]; /* [0] covering route, [1] the toggled one */
	volatile int stop;
	uint64_t lookups, wrong;
	uint64_t toggle_seen[2];
};

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;
	uint8_t dst[PINNED + 1][16];
	uint64_t nh[PINNED + 1];
	int i;

	memcpy(dst, rd->dst, sizeof(rd->dst));
	memcpy(dst[PINNED], rd->toggle_dst, 16);
	rte_rcu_qsbr_thread_register(rd->qsbr, 0);
	rte_rcu_qsbr_thread_online(rd->qsbr, 0);
	while (!rd->stop) {
		struct rte_fib6 *f = fp_fib_active(rd->fib);

		rte_fib6_lookup_bulk(f, dst, nh, PINNED + 1);
		for (i = 0; i < PINNED; i++)
			if (nh[i] != rd->want[i])
				rd->wrong++;
		if (nh[PINNED] == rd->toggle_want[0])
			rd->toggle_seen[0]++;
		else if (nh[PINNED] == rd->toggle_want[1])
			rd->toggle_seen[1]++;
		else
			rd->wrong++;
		rd->lookups += PINNED + 1;
		rte_rcu_qsbr_quiescent(rd->qsbr, 0);
	}
	rte_rcu_qsbr_thread_offline(rd->qsbr, 0);
	rte_rcu_qsbr_thread_unregister(rd->qsbr, 0);
	return NULL;
}

static struct rte_rcu_qsbr *
qsbr_new(void)
{
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct rte_rcu_qsbr *q = rte_zmalloc("qsbr", sz, 64);

	if (q != NULL)
		rte_rcu_qsbr_init(q, 1);
	return q;
}

/* Pinned routes: a /16, a /48 and /64 inside it, a /128 elsewhere. */
static void
add_pinned(struct fp_fib *fib, struct reader *rd)
{
	static const struct {
		uint16_t a, b, c;
		uint8_t plen;
		uint16_t dst_c;
	} pin[PINNED] = {
		{0x2a00, 0, 0, 16, 0x7777},	  /* 2a00::/16 */
		{0x2a00, 0x0001, 0x0002, 48, 2}, /* 2a00:1:2::/48 */
		{0x2a00, 0x0001, 0x0003, 64, 3}, /* 2a00:1:3::/64 */
		{0x2a01, 0x0004, 0x0005, 128, 5},
	};
	char msg[160];
	int i, rc;

	for (i = 0; i < PINNED; i++) {
		uint8_t p[16];
		struct fp_route r;

		addr(p, pin[i].a, pin[i].b, pin[i].c);
		r = route(p, pin[i].plen, FP_NH_CONNECTED | (uint32_t)(100 + i));
		rc = fp_fib_add(fib, &r, msg, sizeof(msg));
		EXPECT(rc == 0, "pinned add %d: %s", i, msg);
		addr(rd->dst[i], pin[i].a, pin[i].b, pin[i].dst_c);
		if (pin[i].plen == 128)
			memcpy(rd->dst[i], p, 16);
		else
			rd->dst[i][15] = 0x42;
		rd->want[i] = FP_NH_CONNECTED | (uint32_t)(100 + i);
	}
	/* Until a route is toggled under it, the /48 answers. */
	addr(rd->toggle_dst, 0x2a00, 0x0001, 0x0002);
	rd->toggle_dst[7] = 0x05; /* 2a00:1:2:5::42, in 2a00:1:2:5::/64 */
	rd->toggle_dst[15] = 0x42;
	rd->toggle_want[0] = rd->want[1];
	rd->toggle_want[1] = rd->want[1];
}

/* ---- 2. churn through fp_fib ------------------------------------------- */

static void
test_churn(long cycles, bool rebuild_only)
{
	struct fp_fib fib;
	struct fp_fib_stats st0, st;
	struct reader rd;
	pthread_t th;
	char msg[160];
	uint8_t p[16];
	long i, fails = 0;
	double t0, t;
	int rc;

	memset(&rd, 0, sizeof(rd));
	rd.qsbr = qsbr_new();
	rc = fp_fib_init(&fib, 4096, 16384, rd.qsbr, msg, sizeof(msg));
	EXPECT(rc == 0, "fp_fib_init: %s", msg);
	if (rc != 0)
		return;
	rd.fib = &fib;
	if (rebuild_only) {
		/* As on a DPDK whose private layout is not known here. */
		fib.rebuild_only = true;
		fib.exact[0] = fib.exact[1] = false;
	}
	printf("-- churn with %s\n", rebuild_only ? "rebuilds alone" : "exact reservation accounting");
	add_pinned(&fib, &rd);
	fp_fib_get_stats(&fib, &st0);
	EXPECT(st0.tbl8_in_use >= 0, "tbl8 groups in use unknown (%s)", rte_version());
	pthread_create(&th, NULL, reader_main, &rd);

	/* One /48, over and over. */
	addr(p, 0x2001, 0x0db8, 0x0100);
	t0 = secs();
	for (i = 0; i < cycles; i++) {
		struct fp_route r = route(p, 48, FP_NH_CONNECTED | 1);

		if (fp_fib_add(&fib, &r, msg, sizeof(msg)) != 0 ||
		    fp_fib_delete(&fib, p, 48, NULL) != 0) {
			if (fails++ == 0)
				printf("cycle %ld: %s\n", i, msg);
		}
	}
	t = secs() - t0;
	fp_fib_get_stats(&fib, &st);
	EXPECT(fails == 0, "%ld of %ld one-prefix cycles failed", fails, cycles);
	EXPECT(st.tbl8_in_use == st0.tbl8_in_use, "groups in use %" PRId64 " after churn, %" PRId64 " before",
	      st.tbl8_in_use, st0.tbl8_in_use);
	EXPECT(st.routes == PINNED, "%u routes after churn", st.routes);
	printf("one /48: %ld add+delete cycles in %.2f s (%.2f us/cycle), %" PRIu64
	       " copy rebuilds (last %.1f ms, longest %.1f ms), groups in use %" PRId64
	       " (baseline %" PRId64 "), reserved %" PRId64 "\n",
	       cycles, t, t * 1e6 / cycles, st.rebuilds, st.rebuild_last_ns / 1e6,
	       st.rebuild_max_ns / 1e6, st.tbl8_in_use, st0.tbl8_in_use, st.tbl8_reserved);

	/* Rotating distinct prefixes of every length /16../128. */
	fails = 0;
	t0 = secs();
	for (i = 0; i < cycles; i++) {
		uint8_t plen = (uint8_t)(16 + i % 113);
		uint64_t hi = rand64(), lo = rand64();
		struct fp_route r;
		int k;

		for (k = 0; k < 8; k++) {
			p[k] = (uint8_t)(hi >> (56 - 8 * k));
			p[8 + k] = (uint8_t)(lo >> (56 - 8 * k));
		}
		p[0] = 0x30; /* outside the pinned 2a00::/15, inside nothing */
		r = route(p, plen, FP_NH_GATEWAY | (uint32_t)(i & 0xffff));
		if (fp_fib_add(&fib, &r, msg, sizeof(msg)) != 0 ||
		    fp_fib_delete(&fib, p, plen, NULL) != 0) {
			if (fails++ == 0)
				printf("rotating cycle %ld (/%u): %s\n", i, plen, msg);
		}
	}
	t = secs() - t0;
	fp_fib_get_stats(&fib, &st);
	EXPECT(fails == 0, "%ld of %ld rotating cycles failed", fails, cycles);
	EXPECT(st.tbl8_in_use == st0.tbl8_in_use, "groups in use %" PRId64 " after rotating churn, %" PRId64 " before",
	      st.tbl8_in_use, st0.tbl8_in_use);
	printf("rotating /16../128: %ld cycles in %.2f s (%.2f us/cycle), %" PRIu64
	       " rebuilds in all (longest %.1f ms)\n",
	       cycles, t, t * 1e6 / cycles, st.rebuilds, st.rebuild_max_ns / 1e6);

	/* Withdraw and restore, as a link going down and up: a /64 under the
	 * pinned /48 (the reader sees one or the other, never nothing) and a
	 * /48 alone in its /24 (3 groups reserved and given back each time). */
	{
		uint8_t tp[16], d[16];
		struct fp_route rt, rdw;
		struct fp_fib_stats sb;
		long toggles = cycles / 10; /* 4 commits each */

		memcpy(tp, rd.toggle_dst, 16);
		fp_prefix_mask(tp, tp, 64);
		addr(d, 0x2001, 0x0db8, 0x0300);
		rt = route(tp, 64, FP_NH_GATEWAY | 7);
		rdw = route(d, 48, FP_NH_GATEWAY | 8);
		__atomic_store_n(&rd.toggle_want[1], (uint64_t)(FP_NH_GATEWAY | 7), __ATOMIC_RELEASE);
		EXPECT(fp_fib_add(&fib, &rt, msg, sizeof(msg)) == 0, "toggled /64: %s", msg);
		EXPECT(fp_fib_add(&fib, &rdw, msg, sizeof(msg)) == 0, "toggled /48: %s", msg);
		fp_fib_get_stats(&fib, &sb);
		fails = 0;
		t0 = secs();
		for (i = 0; i < toggles; i++) {
			if (fp_fib_set_state(&fib, tp, 64, FP_ROUTE_DOWN, msg, sizeof(msg)) != 1 ||
			    fp_fib_set_state(&fib, d, 48, FP_ROUTE_DOWN, msg, sizeof(msg)) != 1 ||
			    fp_fib_set_state(&fib, tp, 64, FP_ROUTE_UP, msg, sizeof(msg)) != 1 ||
			    fp_fib_set_state(&fib, d, 48, FP_ROUTE_UP, msg, sizeof(msg)) != 1) {
				if (fails++ == 0)
					printf("toggle cycle %ld: %s\n", i, msg);
			}
		}
		t = secs() - t0;
		fp_fib_get_stats(&fib, &st);
		EXPECT(fails == 0, "%ld of %ld withdraw/restore cycles failed", fails, toggles);
		EXPECT(st.routes == PINNED + 2 && st.routes_down == 0,
		       "%u routes, %u down after withdraw/restore churn", st.routes, st.routes_down);
		EXPECT(st.tbl8_in_use == sb.tbl8_in_use, "groups in use %" PRId64 " after withdraw/restore, %" PRId64 " before",
		       st.tbl8_in_use, sb.tbl8_in_use);
		if (!rebuild_only)
			EXPECT(st.tbl8_reserved == sb.tbl8_reserved && st.rebuilds == sb.rebuilds,
			       "exact accounting: reserved %" PRId64 " (before %" PRId64 "), %" PRIu64
			       " rebuilds during withdraw/restore",
			       st.tbl8_reserved, sb.tbl8_reserved, st.rebuilds - sb.rebuilds);
		EXPECT(rd.toggle_seen[0] > 0 && rd.toggle_seen[1] > 0,
		       "the reader saw the covering route %" PRIu64 " times and the toggled one %" PRIu64,
		       rd.toggle_seen[0], rd.toggle_seen[1]);
		printf("withdraw/restore: %ld cycles of a /64 under a /48 and a lone /48 in %.2f s "
		       "(%.2f us per withdrawal or restore), %" PRIu64 " rebuilds in all; reader saw "
		       "the cover %" PRIu64 " times, the toggled route %" PRIu64 "\n",
		       toggles, t, t * 1e6 / (toggles * 4.0), st.rebuilds, rd.toggle_seen[0],
		       rd.toggle_seen[1]);
		/* Back to the pinned routes alone for the fill below. */
		EXPECT(fp_fib_set_state(&fib, tp, 64, FP_ROUTE_DOWN, msg, sizeof(msg)) == 1 &&
		       fp_fib_delete(&fib, tp, 64, NULL) == 0 &&
		       fp_fib_delete(&fib, d, 48, NULL) == 0, "remove the toggled routes");
	}

	/* The configured number of routes still fits: distinct /48s, each
	 * reserving 3 groups (4096 x 3 < 16384). */
	fails = 0;
	for (i = 0; fib.nroutes < fib.max_routes; i++) {
		struct fp_route r;

		addr(p, 0x2001, 0x0db8, (uint16_t)(0x1000 + i));
		r = route(p, 48, FP_NH_CONNECTED | 2);
		if (fp_fib_add(&fib, &r, msg, sizeof(msg)) != 0) {
			fails++;
			printf("fill %ld: %s\n", i, msg);
			break;
		}
	}
	EXPECT(fails == 0 && fib.nroutes == 4096, "filled %u of 4096 routes", fib.nroutes);
	{
		struct fp_route r;

		addr(p, 0x2001, 0x0db9, 0);
		r = route(p, 48, FP_NH_CONNECTED | 2);
		rc = fp_fib_add(&fib, &r, msg, sizeof(msg));
		EXPECT(rc == -ENOSPC && strstr(msg, "routing.maxRoutes") != NULL,
		      "add beyond maxRoutes: %d %s", rc, msg);
	}
	rd.stop = 1;
	pthread_join(th, NULL);
	EXPECT(rd.wrong == 0, "%" PRIu64 " of %" PRIu64 " reader lookups answered wrong",
	      rd.wrong, rd.lookups);
	printf("reader: %" PRIu64 " lookups during the churn, %" PRIu64 " wrong\n",
	       rd.lookups, rd.wrong);
	fp_fib_free(&fib);
	rte_free(rd.qsbr);
}

/* ---- 3. real exhaustion, the index, lookups against a reference -------- */

static void
test_true_enospc(void)
{
	struct rte_rcu_qsbr *q = qsbr_new();
	struct fp_fib fib;
	char msg[160];
	uint8_t p[16];
	int i, rc, added = 0;

	rc = fp_fib_init(&fib, 1024, 256, q, msg, sizeof(msg));
	EXPECT(rc == 0, "init: %s", msg);
	/* /128s in distinct /24s: 13 groups each, 19 fit in 256. */
	for (i = 0; i < 40; i++) {
		struct fp_route r;

		addr(p, 0x2001, (uint16_t)(i << 8), 0);
		p[15] = 1;
		r = route(p, 128, FP_NH_LOCAL | 1);
		rc = fp_fib_add(&fib, &r, msg, sizeof(msg));
		if (rc != 0)
			break;
		added++;
	}
	EXPECT(added == 256 / 13, "%d /128s fit in 256 groups", added);
	EXPECT(rc == -ENOSPC && strstr(msg, "routing.tbl8Groups") != NULL,
	      "exhaustion: %d %s", rc, msg);
	/* Delete one, and churn on the freed room: it must go on working. */
	addr(p, 0x2001, 0, 0);
	p[15] = 1;
	EXPECT(fp_fib_delete(&fib, p, 128, NULL) == 0, "delete one");
	for (i = 0; i < 20000; i++) {
		struct fp_route r;

		addr(p, 0x2001, 0x7700, (uint16_t)i);
		p[15] = 1;
		r = route(p, 128, FP_NH_LOCAL | 1);
		rc = fp_fib_add(&fib, &r, msg, sizeof(msg));
		if (rc != 0)
			break;
		fp_fib_delete(&fib, p, 128, NULL);
	}
	EXPECT(i == 20000, "churn on a full table stopped at %d: %s", i, msg);
	fp_fib_free(&fib);
	rte_free(q);
}

/* Longest match over the list, as the data plane must answer. */
static uint32_t
ref_lookup(const struct fp_fib *fib, const uint8_t a[16])
{
	uint32_t i, best = FP_NH_NONE;
	int best_len = -1;

	for (i = 0; i < fib->nroutes; i++) {
		const struct fp_route *r = &fib->routes[i];
		uint8_t m[16];

		if (r->state == FP_ROUTE_DOWN)
			continue; /* withdrawn: in neither copy */
		fp_prefix_mask(m, a, r->plen);
		if (memcmp(m, r->prefix, 16) == 0 && (int)r->plen > best_len) {
			best_len = r->plen;
			best = r->nexthop;
		}
	}
	return best;
}

static void
test_index_and_lookups(void)
{
	struct rte_rcu_qsbr *q = qsbr_new();
	struct fp_fib fib;
	static uint8_t pfx[2000][16];
	static uint8_t plens[2000];
	char msg[160];
	int i, j, rc, wrong = 0, lost = 0;

	rc = fp_fib_init(&fib, 4096, 65536, q, msg, sizeof(msg));
	EXPECT(rc == 0, "init: %s", msg);
	/* Nested prefixes in a small space so that many cover each other. */
	for (i = 0; i < 2000; i++) {
		struct fp_route r;
		uint64_t x = rand64();

		addr(pfx[i], 0x2001, 0x0db8, (uint16_t)(x & 0x3f));
		pfx[i][6] = (uint8_t)(x >> 8);
		pfx[i][15] = (uint8_t)(x >> 16);
		plens[i] = (uint8_t)(32 + (x >> 24) % 97);
		fp_prefix_mask(pfx[i], pfx[i], plens[i]);
		r = route(pfx[i], plens[i], FP_NH_GATEWAY | (uint32_t)i);
		if (fp_fib_add(&fib, &r, msg, sizeof(msg)) != 0)
			plens[i] = 0xff; /* a duplicate prefix: not in the table */
	}
	/* Delete two thirds in a scattered order, checking the index as we go. */
	for (i = 0; i < 2000; i += 1) {
		if (plens[i] == 0xff || i % 3 == 0)
			continue;
		if (fp_fib_delete(&fib, pfx[i], plens[i], NULL) != 0)
			lost++;
		plens[i] = 0xfe;
		if (i % 97 == 0)
			for (j = 0; j < 2000; j++)
				if (plens[j] <= 128 &&
				    fp_fib_find(&fib, pfx[j], plens[j]) == NULL)
					lost++;
	}
	EXPECT(lost == 0, "%d routes lost from the index", lost);
	for (i = 0; i < 20000; i++) {
		uint8_t a[16];
		uint64_t nh;
		uint64_t x = rand64(), y = rand64();
		int k;

		addr(a, 0x2001, 0x0db8, (uint16_t)(x & 0x3f));
		for (k = 6; k < 16; k++)
			a[k] = (uint8_t)(y >> (8 * (k - 6)));
		if (i & 1) /* half of them inside a route */
			memcpy(a, pfx[(x >> 8) % 2000], 8);
		rte_fib6_lookup_bulk(fp_fib_active(&fib), &a, &nh, 1);
		if (nh != ref_lookup(&fib, a))
			wrong++;
	}
	EXPECT(wrong == 0, "%d of 20000 lookups differ from the reference", wrong);
	fp_fib_free(&fib);
	rte_free(q);
}

/* ---- 4. route state: withdraw, restore, down routes ------------------- */

/* The next hop both copies give for a; ~0 if they disagree. */
static uint64_t
lookup_both(struct fp_fib *fib, const uint8_t a[16])
{
	uint8_t d[1][16];
	uint64_t nh0 = 0, nh1 = 0;

	memcpy(d[0], a, 16);
	rte_fib6_lookup_bulk(fib->copy[0], d, &nh0, 1);
	rte_fib6_lookup_bulk(fib->copy[1], d, &nh1, 1);
	return nh0 == nh1 ? nh0 : ~0ull;
}

static void
test_route_state(void)
{
	struct rte_rcu_qsbr *q = qsbr_new();
	struct fp_fib fib;
	struct fp_fib_stats st0, st;
	struct fp_route r, old;
	uint8_t cover[16], mid[16], deep[16], lone[16], extra[16], in_mid[16], in_deep[16],
		in_lone[16], in_extra[16];
	char msg[160];
	int rc;

	printf("-- route state (withdraw/restore)\n");
	rc = fp_fib_init(&fib, 1024, 16384, q, msg, sizeof(msg));
	EXPECT(rc == 0, "init: %s", msg);
	if (rc != 0)
		return;
	addr(cover, 0x2a00, 0, 0);             /* 2a00::/16 */
	addr(mid, 0x2a00, 0x0001, 0x0002);     /* 2a00:1:2::/48 */
	addr(deep, 0x2a00, 0x0001, 0x0002);    /* 2a00:1:2:3::/64 */
	deep[7] = 3;
	addr(lone, 0x2001, 0x0db8, 0x0300);    /* 2001:db8:300::/48, alone in its /24 */
	addr(extra, 0x2a00, 0x0001, 0x0002);   /* 2a00:1:2:4::/64 */
	extra[7] = 4;
	memcpy(in_mid, mid, 16), in_mid[7] = 9, in_mid[15] = 1;
	memcpy(in_deep, deep, 16), in_deep[15] = 1;
	memcpy(in_lone, lone, 16), in_lone[15] = 1;
	memcpy(in_extra, extra, 16), in_extra[15] = 1;
	r = route(cover, 16, FP_NH_GATEWAY | 1);
	EXPECT(fp_fib_add(&fib, &r, msg, sizeof(msg)) == 0, "add cover: %s", msg);
	r = route(mid, 48, FP_NH_GATEWAY | 2);
	EXPECT(fp_fib_add(&fib, &r, msg, sizeof(msg)) == 0, "add /48: %s", msg);
	r = route(deep, 64, FP_NH_GATEWAY | 3);
	EXPECT(fp_fib_add(&fib, &r, msg, sizeof(msg)) == 0, "add /64: %s", msg);
	fp_fib_get_stats(&fib, &st0);

	/* Withdraw the /48: the cover answers under it, the /64 still for itself. */
	rc = fp_fib_set_state(&fib, mid, 48, FP_ROUTE_DOWN, msg, sizeof(msg));
	EXPECT(rc == 1, "withdraw /48: %d %s", rc, msg);
	EXPECT(fp_fib_find(&fib, mid, 48) != NULL &&
	       fp_fib_find(&fib, mid, 48)->state == FP_ROUTE_DOWN, "the /48 is listed as down");
	EXPECT(fib.nroutes == 3, "%u routes listed", fib.nroutes);
	EXPECT(lookup_both(&fib, in_mid) == (FP_NH_GATEWAY | 1), "under the withdrawn /48: %#" PRIx64,
	       lookup_both(&fib, in_mid));
	EXPECT(lookup_both(&fib, in_deep) == (FP_NH_GATEWAY | 3), "the /64 under it: %#" PRIx64,
	       lookup_both(&fib, in_deep));
	{
		uint32_t pos = (uint32_t)(fp_fib_find(&fib, mid, 48) - fib.routes);
		EXPECT(fib.reserved[pos][0] == 0 && fib.reserved[pos][1] == 0,
		       "a down route's reservation record is %u/%u", fib.reserved[pos][0],
		       fib.reserved[pos][1]);
	}
	rc = fp_fib_set_state(&fib, mid, 48, FP_ROUTE_DOWN, msg, sizeof(msg));
	EXPECT(rc == 0, "withdrawing a down route again: %d", rc);
	fp_fib_get_stats(&fib, &st);
	EXPECT(st.routes == 3 && st.routes_down == 1, "stats: %u routes, %u down", st.routes,
	       st.routes_down);
	/* Restore. */
	rc = fp_fib_set_state(&fib, mid, 48, FP_ROUTE_UP, msg, sizeof(msg));
	EXPECT(rc == 1, "restore /48: %d %s", rc, msg);
	EXPECT(lookup_both(&fib, in_mid) == (FP_NH_GATEWAY | 2), "restored /48: %#" PRIx64,
	       lookup_both(&fib, in_mid));
	EXPECT(lookup_both(&fib, in_deep) == (FP_NH_GATEWAY | 3), "the /64 after restore");
	fp_fib_get_stats(&fib, &st);
	EXPECT(st.tbl8_in_use == st0.tbl8_in_use && st.routes_down == 0,
	       "after restore: groups in use %" PRId64 " (before %" PRId64 "), %u down",
	       st.tbl8_in_use, st0.tbl8_in_use, st.routes_down);
	EXPECT(fp_fib_set_state(&fib, mid, 48, FP_ROUTE_UP, msg, sizeof(msg)) == 0,
	       "restoring an up route again");
	EXPECT(fp_fib_set_state(&fib, extra, 64, FP_ROUTE_UP, msg, sizeof(msg)) == -ENOENT,
	       "state of an absent route");

	/* The lone /48: its 3 groups and its reservation go and come back.
	 * (Nested prefixes, as the /48 and /64 above, are accounted as a
	 * delete and re-add would be: rte_fib6 reserves nothing for a prefix
	 * added into a /24 that holds another, so the count may end lower
	 * than before; the groups in use are exact either way.) */
	{
		struct fp_fib_stats a, b;

		fp_fib_get_stats(&fib, &st0);
		r = route(lone, 48, FP_NH_CONNECTED | 4);
		EXPECT(fp_fib_add(&fib, &r, msg, sizeof(msg)) == 0, "add lone /48: %s", msg);
		fp_fib_get_stats(&fib, &a);
		EXPECT(a.tbl8_in_use == st0.tbl8_in_use + 3 && a.tbl8_reserved == st0.tbl8_reserved + 3,
		       "lone /48 takes 3 groups: in use %" PRId64 " -> %" PRId64, st0.tbl8_in_use,
		       a.tbl8_in_use);
		EXPECT(fp_fib_set_state(&fib, lone, 48, FP_ROUTE_DOWN, msg, sizeof(msg)) == 1,
		       "withdraw lone /48");
		fp_fib_get_stats(&fib, &b);
		EXPECT(lookup_both(&fib, in_lone) == FP_NH_NONE, "nothing covers the withdrawn lone /48");
		EXPECT(b.tbl8_in_use == st0.tbl8_in_use && b.tbl8_reserved == st0.tbl8_reserved,
		       "withdrawn: groups in use %" PRId64 " (want %" PRId64 "), reserved %" PRId64
		       " (want %" PRId64 ")", b.tbl8_in_use, st0.tbl8_in_use, b.tbl8_reserved,
		       st0.tbl8_reserved);
		EXPECT(fp_fib_set_state(&fib, lone, 48, FP_ROUTE_UP, msg, sizeof(msg)) == 1,
		       "restore lone /48");
		fp_fib_get_stats(&fib, &b);
		EXPECT(b.tbl8_in_use == a.tbl8_in_use && b.tbl8_reserved == a.tbl8_reserved,
		       "restored: in use %" PRId64 "/%" PRId64 ", reserved %" PRId64 "/%" PRId64,
		       b.tbl8_in_use, a.tbl8_in_use, b.tbl8_reserved, a.tbl8_reserved);
		EXPECT(lookup_both(&fib, in_lone) == (FP_NH_CONNECTED | 4), "lone /48 restored");
	}

	/* Added as down (its interface is down): listed, not looked up. */
	fp_fib_get_stats(&fib, &st0);
	r = route(extra, 64, FP_NH_GATEWAY | 5);
	r.state = FP_ROUTE_DOWN;
	EXPECT(fp_fib_add(&fib, &r, msg, sizeof(msg)) == 0, "add as down: %s", msg);
	EXPECT(fp_fib_add(&fib, &r, msg, sizeof(msg)) == -EEXIST, "a down route's prefix is taken");
	fp_fib_get_stats(&fib, &st);
	EXPECT(st.routes == 5 && st.routes_down == 1 && st.tbl8_in_use == st0.tbl8_in_use &&
	       st.tbl8_reserved == st0.tbl8_reserved,
	       "added down: %u routes, %u down, in use %" PRId64 "/%" PRId64, st.routes,
	       st.routes_down, st.tbl8_in_use, st0.tbl8_in_use);
	EXPECT(lookup_both(&fib, in_extra) == (FP_NH_GATEWAY | 2), "the /48 answers for a down /64");
	EXPECT(fp_fib_set_state(&fib, extra, 64, FP_ROUTE_UP, msg, sizeof(msg)) == 1,
	       "restore a route added down");
	EXPECT(lookup_both(&fib, in_extra) == (FP_NH_GATEWAY | 5), "restored /64 answers");
	/* Deleted while down: from the list only. */
	EXPECT(fp_fib_set_state(&fib, extra, 64, FP_ROUTE_DOWN, msg, sizeof(msg)) == 1,
	       "withdraw it again");
	fp_fib_get_stats(&fib, &st0);
	memset(&old, 0, sizeof(old));
	EXPECT(fp_fib_delete(&fib, extra, 64, &old) == 0 && old.state == FP_ROUTE_DOWN,
	       "delete a down route");
	fp_fib_get_stats(&fib, &st);
	EXPECT(st.routes == 4 && st.routes_down == 0 && st.tbl8_in_use == st0.tbl8_in_use &&
	       st.tbl8_reserved == st0.tbl8_reserved,
	       "deleted down: %u routes, %u down", st.routes, st.routes_down);
	EXPECT(fp_fib_find(&fib, extra, 64) == NULL, "gone from the index");
	EXPECT(lookup_both(&fib, in_extra) == (FP_NH_GATEWAY | 2), "the /48 still answers");
	/* Deleting an up route while another is down moves the down one in the
	 * list (the dense list's swap): it stays down and keeps its record. */
	EXPECT(fp_fib_set_state(&fib, lone, 48, FP_ROUTE_DOWN, msg, sizeof(msg)) == 1, "withdraw lone");
	EXPECT(fp_fib_delete(&fib, cover, 16, NULL) == 0, "delete the cover");
	EXPECT(fp_fib_find(&fib, lone, 48) != NULL &&
	       fp_fib_find(&fib, lone, 48)->state == FP_ROUTE_DOWN, "lone /48 still down after the swap");
	EXPECT(lookup_both(&fib, in_lone) == FP_NH_NONE, "and still not looked up");
	EXPECT(fp_fib_set_state(&fib, lone, 48, FP_ROUTE_UP, msg, sizeof(msg)) == 1 &&
	       lookup_both(&fib, in_lone) == (FP_NH_CONNECTED | 4), "restored after the swap");
	fp_fib_free(&fib);
	rte_free(q);
}

/* Rebuilds while routes are down: a rebuilt copy holds the up routes only,
 * every down route's record is 0, and restores after it are exact. */
static void
test_rebuild_with_down_routes(bool rebuild_only)
{
	struct rte_rcu_qsbr *q = qsbr_new();
	struct fp_fib fib;
	static uint8_t pfx[1500][16];
	static uint8_t plens[1500];
	char msg[160];
	uint64_t rebuilds0;
	int i, rc, wrong = 0, down = 0, badrec = 0;

	printf("-- rebuilds with routes down (%s)\n", rebuild_only ? "rebuilds alone" : "exact accounting");
	rc = fp_fib_init(&fib, 2048, 65536, q, msg, sizeof(msg));
	EXPECT(rc == 0, "init: %s", msg);
	if (rc != 0)
		return;
	if (rebuild_only) {
		fib.rebuild_only = true;
		fib.exact[0] = fib.exact[1] = false;
	}
	for (i = 0; i < 1500; i++) {
		struct fp_route r;
		uint64_t x = rand64();

		addr(pfx[i], 0x2001, 0x0db8, (uint16_t)(x & 0x3f));
		pfx[i][6] = (uint8_t)(x >> 8);
		pfx[i][15] = (uint8_t)(x >> 16);
		plens[i] = (uint8_t)(32 + (x >> 24) % 97);
		fp_prefix_mask(pfx[i], pfx[i], plens[i]);
		r = route(pfx[i], plens[i], FP_NH_GATEWAY | (uint32_t)i);
		if (i % 7 == 0)
			r.state = FP_ROUTE_DOWN; /* added through a down interface */
		if (fp_fib_add(&fib, &r, msg, sizeof(msg)) != 0)
			plens[i] = 0xff;
	}
	/* Withdraw a third, as a link going down would. */
	for (i = 0; i < 1500; i++)
		if (plens[i] <= 128 && i % 3 == 1 &&
		    fp_fib_set_state(&fib, pfx[i], plens[i], FP_ROUTE_DOWN, msg, sizeof(msg)) < 0)
			wrong++;
	EXPECT(wrong == 0, "%d withdrawals failed", wrong);
	/* Force both copies to be rebuilt by the next change. */
	rebuilds0 = fib.rebuilds;
	fib.stale[0] = fib.stale[1] = true;
	{
		struct fp_route r;
		uint8_t p[16];

		addr(p, 0x3000, 0, 0);
		r = route(p, 48, FP_NH_CONNECTED | 9);
		EXPECT(fp_fib_add(&fib, &r, msg, sizeof(msg)) == 0, "add after marking stale: %s", msg);
	}
	EXPECT(fib.rebuilds == rebuilds0 + 2, "%" PRIu64 " rebuilds, expected 2",
	       fib.rebuilds - rebuilds0);
	for (i = 0; i < (int)fib.nroutes; i++) {
		if (fib.routes[i].state != FP_ROUTE_DOWN)
			continue;
		down++;
		if (fib.reserved[i][0] != 0 || fib.reserved[i][1] != 0)
			badrec++;
	}
	EXPECT(down > 300 && (uint32_t)down == fib.nroutes_down, "%d routes down (counted %u)", down,
	       fib.nroutes_down);
	EXPECT(badrec == 0, "%d down routes with a reservation record", badrec);
	/* Both copies against the reference, which leaves down routes out. */
	for (int pass = 0; pass < 3; pass++) {
		wrong = 0;
		for (i = 0; i < 20000; i++) {
			uint8_t a[16];
			uint64_t x = rand64(), y = rand64();
			int k;

			addr(a, 0x2001, 0x0db8, (uint16_t)(x & 0x3f));
			for (k = 6; k < 16; k++)
				a[k] = (uint8_t)(y >> (8 * (k - 6)));
			if (i & 1)
				memcpy(a, pfx[(x >> 8) % 1500], 8);
			if (lookup_both(&fib, a) != ref_lookup(&fib, a))
				wrong++;
		}
		EXPECT(wrong == 0, "pass %d: %d of 20000 lookups differ from the reference", pass, wrong);
		if (pass == 0) {
			/* Restore every down route. */
			int failed = 0;
			for (i = 0; i < 1500; i++)
				if (plens[i] <= 128 &&
				    fp_fib_set_state(&fib, pfx[i], plens[i], FP_ROUTE_UP, msg,
						     sizeof(msg)) < 0)
					failed++;
			EXPECT(failed == 0 && fib.nroutes_down == 0, "%d restores failed, %u down",
			       failed, fib.nroutes_down);
		} else if (pass == 1) {
			/* Withdraw some, delete some up and some down. */
			for (i = 0; i < 1500; i++) {
				if (plens[i] > 128)
					continue;
				if (i % 5 == 0)
					fp_fib_set_state(&fib, pfx[i], plens[i], FP_ROUTE_DOWN, msg,
							 sizeof(msg));
				if (i % 4 == 0) {
					EXPECT(fp_fib_delete(&fib, pfx[i], plens[i], NULL) == 0,
					       "delete %d", i);
					plens[i] = 0xfe;
				}
			}
			fib.stale[fib.active_idx ^ 1] = true; /* one more rebuild */
			{
				uint8_t p[16];
				addr(p, 0x3000, 0, 0);
				EXPECT(fp_fib_delete(&fib, p, 48, NULL) == 0, "delete after stale");
			}
		}
	}
	fp_fib_free(&fib);
	rte_free(q);
}

/* ---- 4. next-hop groups ---------------------------------------------- */

#define GRP_POISON 0xdeadbeefu

struct grp_reader {
	struct fp_fib *fib;
	struct rte_rcu_qsbr *qsbr;
	uint8_t dst[16];
	uint64_t covering;
	volatile int stop;
	uint64_t lookups, wrong, seen_group, seen_cover;
};

static bool
grp_member_ok(uint32_t nh)
{
	return nh >= (FP_NH_CONNECTED | 200u) && nh <= (FP_NH_CONNECTED | 203u);
}

static void *
grp_reader_main(void *arg)
{
	struct grp_reader *rd = arg;
	uint8_t dst[1][16];
	uint64_t nh;
	unsigned b;

	memcpy(dst[0], rd->dst, 16);
	rte_rcu_qsbr_thread_register(rd->qsbr, 0);
	rte_rcu_qsbr_thread_online(rd->qsbr, 0);
	while (!rd->stop) {
		rte_fib6_lookup_bulk(fp_fib_active(rd->fib), dst, &nh, 1);
		if (nh == rd->covering) {
			rd->seen_cover++;
		} else if (((uint32_t)nh & FP_NH_TYPE_MASK) == FP_NH_GROUP) {
			const struct fp_nhgroup *g =
				&rd->fib->nhg[(uint32_t)nh & FP_NH_INDEX_MASK];

			rd->seen_group++;
			for (b = 0; b < FP_NHG_BUCKETS; b++)
				if (!grp_member_ok(__atomic_load_n(&g->bucket[b], __ATOMIC_RELAXED)))
					rd->wrong++;
		} else {
			rd->wrong++;
		}
		rd->lookups++;
		rte_rcu_qsbr_quiescent(rd->qsbr, 0);
	}
	rte_rcu_qsbr_thread_offline(rd->qsbr, 0);
	rte_rcu_qsbr_thread_unregister(rd->qsbr, 0);
	return NULL;
}

/* A group of members 200+first.. with weights 1..n, filled, or -1. */
static int
grp_new(struct fp_fib *fib, unsigned first, unsigned n)
{
	int g = fp_nhg_alloc(fib);
	unsigned i;

	if (g < 0)
		return g;
	for (i = 0; i < n; i++) {
		struct fp_nhg_member *m = &fib->nhg[g].members[i];

		m->port_idx = (uint16_t)(200 + (first + i) % 4);
		m->weight = (uint8_t)(1 + i);
		m->state = FP_ROUTE_UP;
		m->nexthop = FP_NH_CONNECTED | m->port_idx;
	}
	fib->nhg[g].nmembers = (uint8_t)n;
	fp_nhg_fill(&fib->nhg[g]);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return g;
}

/* Free a group the FIB no longer uses, and poison it for the reader. */
static void
grp_free(struct fp_fib *fib, int g)
{
	unsigned b;

	for (b = 0; b < FP_NHG_BUCKETS; b++)
		__atomic_store_n(&fib->nhg[g].bucket[b], GRP_POISON, __ATOMIC_RELAXED);
	fp_nhg_free(fib, (uint32_t)g);
}

static void
test_groups(long cycles)
{
	struct fp_fib fib;
	struct grp_reader rd;
	struct fp_route r, old;
	pthread_t th;
	char msg[160];
	uint8_t cover[16], p[16];
	long i, fails = 0;
	double t0, t;
	unsigned b, counts[4] = {0, 0, 0, 0};
	int rc, g, g2;

	printf("-- next-hop groups\n");
	memset(&rd, 0, sizeof(rd));
	rd.qsbr = qsbr_new();
	rc = fp_fib_init(&fib, 4096, 16384, rd.qsbr, msg, sizeof(msg));
	EXPECT(rc == 0, "fp_fib_init: %s", msg);
	if (rc != 0)
		return;
	rd.fib = &fib;
	/* The fill: weights 1, 2, 3 over 64 buckets → 11, 21, 32. */
	g = grp_new(&fib, 0, 3);
	CHECK(g >= 0);
	for (b = 0; b < FP_NHG_BUCKETS; b++)
		counts[fib.nhg[g].bucket[b] - (FP_NH_CONNECTED | 200u)]++;
	EXPECT(counts[0] == 11 && counts[1] == 21 && counts[2] == 32,
	       "weights 1:2:3 filled %u:%u:%u", counts[0], counts[1], counts[2]);
	fib.nhg[g].members[1].state = FP_ROUTE_DOWN;
	EXPECT(fp_nhg_fill(&fib.nhg[g]) == 2, "two members up");
	for (b = 0; b < FP_NHG_BUCKETS; b++)
		EXPECT(fib.nhg[g].bucket[b] != (FP_NH_CONNECTED | 201u), "a down member in bucket %u", b);
	fp_nhg_free(&fib, (uint32_t)g);
	EXPECT(fib.nhg_used == 0, "%u groups in use", fib.nhg_used);

	/* A /48 covering the group route's /64. */
	addr(cover, 0x2a00, 0x0001, 0x0002);
	r = route(cover, 48, FP_NH_CONNECTED | 101u);
	rc = fp_fib_add(&fib, &r, msg, sizeof(msg));
	EXPECT(rc == 0, "covering add: %s", msg);
	rd.covering = FP_NH_CONNECTED | 101u;
	memcpy(rd.dst, cover, 16);
	rd.dst[7] = 0x05;
	rd.dst[15] = 0x42;
	memcpy(p, cover, 16);
	p[7] = 0x05; /* 2a00:1:2:5::/64 */
	pthread_create(&th, NULL, grp_reader_main, &rd);
	t0 = secs();
	for (i = 0; i < cycles; i++) {
		g = grp_new(&fib, (unsigned)i, 2 + (unsigned)(i % 3));
		if (g < 0) {
			fails++;
			continue;
		}
		r = route(p, 64, FP_NH_GROUP | (uint32_t)g);
		r.nh_count = fib.nhg[g].nmembers;
		if (fp_fib_add(&fib, &r, msg, sizeof(msg)) < 0) {
			fails++;
			grp_free(&fib, g);
			continue;
		}
		/* Members change: a new group, the route switched, the old freed. */
		g2 = grp_new(&fib, (unsigned)i + 1, 2);
		if (g2 >= 0 && fp_fib_set_nexthop(&fib, p, 64, FP_NH_GROUP | (uint32_t)g2, msg,
						  sizeof(msg)) == 0) {
			grp_free(&fib, g);
			g = g2;
		} else {
			fails++;
			if (g2 >= 0)
				grp_free(&fib, g2);
		}
		if (fp_fib_delete(&fib, p, 64, &old) < 0) {
			fails++;
			continue;
		}
		EXPECT(old.nexthop == (FP_NH_GROUP | (uint32_t)g), "the list kept the switched group");
		grp_free(&fib, g);
	}
	t = secs() - t0;
	rd.stop = 1;
	pthread_join(th, NULL);
	EXPECT(fails == 0, "%ld of %ld group cycles failed", fails, cycles);
	EXPECT(rd.wrong == 0, "reader: %" PRIu64 " wrong answers in %" PRIu64 " lookups",
	       rd.wrong, rd.lookups);
	EXPECT(fib.nhg_used == 0, "%u groups still in use", fib.nhg_used);
	EXPECT(fib.nroutes == 1, "%u routes left", fib.nroutes);
	printf("groups: %ld cycles (add, switch, delete) in %.2f s, reader %" PRIu64
	       " lookups: %" PRIu64 " through a group, %" PRIu64 " the covering route\n",
	       cycles, t, rd.lookups, rd.seen_group, rd.seen_cover);
	fp_fib_free(&fib);
	rte_free(rd.qsbr);
}

int
main(int argc, char **argv)
{
	char prefix[64];
	char *eal_argv[] = {"fib_test", "--no-huge", "-m", "1024", "--no-pci",
			    "--no-shconf", prefix, "--log-level=error", NULL};
	long cycles = argc > 1 ? atol(argv[1]) : 1000000;

	snprintf(prefix, sizeof(prefix), "--file-prefix=fp-fibtest-%d", (int)getpid());
	if (rte_eal_init(8, eal_argv) < 0) {
		printf("FAIL: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	/* EAL pinned this thread to the main lcore's CPU, and the reader would
	 * inherit that: give both every CPU, or each grace period waits for a
	 * time slice. */
	{
		cpu_set_t all;
		long c, ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		CPU_ZERO(&all);
		for (c = 0; c < ncpu && c < CPU_SETSIZE; c++)
			CPU_SET(c, &all);
		pthread_setaffinity_np(pthread_self(), sizeof(all), &all);
	}
	test_bare_rte_fib6();
	test_true_enospc();
	test_index_and_lookups();
	test_route_state();
	test_rebuild_with_down_routes(false);
	test_rebuild_with_down_routes(true);
	test_churn(cycles, false);
	/* The fallback pays a rebuild per few thousand cycles: a fifth as many
	 * still makes hundreds of them. */
	test_churn(cycles / 5, true);
	test_groups(cycles / 10);
	{
		/* EAL leaves its runtime folder behind (DPDK-NOTES): remove it. */
		char dir[PATH_MAX], cmd[PATH_MAX + 16];

		snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
		rte_eal_cleanup();
		if (strstr(dir, "/fp-fibtest-") != NULL && strchr(dir, '\'') == NULL) {
			snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
			if (system(cmd) != 0)
				printf("note: could not remove %s\n", dir);
		}
	}
	return checks_done();
}

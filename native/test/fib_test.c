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
 * Parts 3 and 4 are fib_test_state.c and fib_test_groups.c (fib_test.h).
 *
 * Usage: fib_test [cycles]   (default 1000000; the rebuild-only run does a fifth)
 */
#define _GNU_SOURCE
#define FP_TEST_MULTI_FILE
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
#include "../core/trie6.h"
#include "check.h"
#include "eal_test.h"
#include "fib_test.h"

int checks, failures; /* check.h: one count for the three files */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

uint64_t
rand64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

double
secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
addr(uint8_t out[16], uint16_t a, uint16_t b, uint16_t c)
{
	memset(out, 0, 16);
	out[0] = a >> 8, out[1] = a & 0xff;
	out[2] = b >> 8, out[3] = b & 0xff;
	out[4] = c >> 8, out[5] = c & 0xff;
}

struct fp_route
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
	uint32_t nh[PINNED + 1];
	int i;

	memcpy(dst, rd->dst, sizeof(rd->dst));
	memcpy(dst[PINNED], rd->toggle_dst, 16);
	rte_rcu_qsbr_thread_register(rd->qsbr, 0);
	rte_rcu_qsbr_thread_online(rd->qsbr, 0);
	while (!rd->stop) {
		fp_trie6_lookup_bulk(fp_fib_active(rd->fib), (const uint8_t (*)[16])dst, nh,
				     PINNED + 1);
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

struct rte_rcu_qsbr *
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
test_churn(long cycles)
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
	printf("-- churn\n");
	add_pinned(&fib, &rd);
	fp_fib_get_stats(&fib, &st0);
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
	EXPECT(st.tbl8_in_use == st0.tbl8_in_use, "groups in use %" PRIu32 " after churn, %" PRIu32 " before",
	      st.tbl8_in_use, st0.tbl8_in_use);
	EXPECT(st.routes == PINNED, "%u routes after churn", st.routes);
	printf("one /48: %ld add+delete cycles in %.2f s (%.2f us/cycle), %" PRIu64
	       " copy rebuilds (last %.1f ms, longest %.1f ms), groups in use %" PRIu32
	       " (baseline %" PRIu32 ")\n",
	       cycles, t, t * 1e6 / cycles, st.rebuilds, st.rebuild_last_ns / 1e6,
	       st.rebuild_max_ns / 1e6, st.tbl8_in_use, st0.tbl8_in_use);

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
	EXPECT(st.tbl8_in_use == st0.tbl8_in_use, "groups in use %" PRIu32 " after rotating churn, %" PRIu32 " before",
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
		EXPECT(st.tbl8_in_use == sb.tbl8_in_use, "groups in use %" PRIu32 " after withdraw/restore, %" PRIu32 " before",
		       st.tbl8_in_use, sb.tbl8_in_use);
		EXPECT(st.rebuilds == sb.rebuilds, "%" PRIu64 " rebuilds during withdraw/restore",
		       st.rebuilds - sb.rebuilds);
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
uint32_t
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
		uint32_t nh;
		uint64_t x = rand64(), y = rand64();
		int k;

		addr(a, 0x2001, 0x0db8, (uint16_t)(x & 0x3f));
		for (k = 6; k < 16; k++)
			a[k] = (uint8_t)(y >> (8 * (k - 6)));
		if (i & 1) /* half of them inside a route */
			memcpy(a, pfx[(x >> 8) % 2000], 8);
		nh = fp_trie6_lookup(fp_fib_active(&fib), a);
		if (nh != ref_lookup(&fib, a))
			wrong++;
	}
	EXPECT(wrong == 0, "%d of 20000 lookups differ from the reference", wrong);
	fp_fib_free(&fib);
	rte_free(q);
}

int
main(int argc, char **argv)
{
	long cycles = argc > 1 ? atol(argv[1]) : 1000000;

	if (fp_test_eal_start("fibtest", "1024") < 0)
		return 1;
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
	test_rebuild_with_down_routes();
	test_churn(cycles);
	test_groups(cycles / 10);
	fp_test_eal_stop("fibtest");
	return checks_done();
}

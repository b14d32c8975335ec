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
 *
 * Usage: fib_test [cycles]   (default 1000000; the rebuild-only run does a fifth)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <inttypes.h>
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
	volatile int stop;
	uint64_t lookups, wrong;
};

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;
	uint8_t dst[PINNED][16];
	uint64_t nh[PINNED];
	int i;

	memcpy(dst, rd->dst, sizeof(dst));
	rte_rcu_qsbr_thread_register(rd->qsbr, 0);
	rte_rcu_qsbr_thread_online(rd->qsbr, 0);
	while (!rd->stop) {
		struct rte_fib6 *f = fp_fib_active(rd->fib);

		rte_fib6_lookup_bulk(f, dst, nh, PINNED);
		for (i = 0; i < PINNED; i++)
			if (nh[i] != rd->want[i])
				rd->wrong++;
		rd->lookups += PINNED;
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
	test_churn(cycles, false);
	/* The fallback pays a rebuild per few thousand cycles: a fifth as many
	 * still makes hundreds of them. */
	test_churn(cycles / 5, true);
	rte_eal_cleanup();
	return checks_done();
}

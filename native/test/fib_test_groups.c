/*
 * fib_test_groups.c — next-hop groups (ECMP) under a reader that resolves every group it meets.
 * Part of fib_test (see fib_test.c); built with it.
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
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_version.h>

#include "../core/fib.h"
#include "../core/trie6.h"
#include "check.h"
#include "fib_test.h"

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
	uint8_t dst[16];
	uint32_t nh;
	unsigned b;

	memcpy(dst, rd->dst, 16);
	rte_rcu_qsbr_thread_register(rd->qsbr, 0);
	rte_rcu_qsbr_thread_online(rd->qsbr, 0);
	while (!rd->stop) {
		nh = fp_trie6_lookup(fp_fib_active(rd->fib), dst);
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

void
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

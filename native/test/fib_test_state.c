/*
 * fib_test_state.c — route state: withdrawn routes stay in the list and leave both FIB copies, come back on restore, are left out of rebuilds.
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

/* ---- 4. route state: withdraw, restore, down routes ------------------- */

/* The next hop both copies give for a; ~0 if they disagree. */
static uint64_t
lookup_both(struct fp_fib *fib, const uint8_t a[16])
{
	uint32_t nh0 = fp_trie6_lookup(fib->copy[0], a);
	uint32_t nh1 = fp_trie6_lookup(fib->copy[1], a);

	return nh0 == nh1 ? nh0 : ~0ull;
}

void
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
	       "after restore: groups in use %" PRIu32 " (before %" PRIu32 "), %u down",
	       st.tbl8_in_use, st0.tbl8_in_use, st.routes_down);
	EXPECT(fp_fib_set_state(&fib, mid, 48, FP_ROUTE_UP, msg, sizeof(msg)) == 0,
	       "restoring an up route again");
	EXPECT(fp_fib_set_state(&fib, extra, 64, FP_ROUTE_UP, msg, sizeof(msg)) == -ENOENT,
	       "state of an absent route");

	/* The lone /48: its 3 groups and its reservation go and come back.
 */
	{
		struct fp_fib_stats a, b;

		fp_fib_get_stats(&fib, &st0);
		r = route(lone, 48, FP_NH_CONNECTED | 4);
		EXPECT(fp_fib_add(&fib, &r, msg, sizeof(msg)) == 0, "add lone /48: %s", msg);
		fp_fib_get_stats(&fib, &a);
		EXPECT(a.tbl8_in_use == st0.tbl8_in_use + 3,
		       "lone /48 takes 3 groups: in use %" PRIu32 " -> %" PRIu32, st0.tbl8_in_use,
		       a.tbl8_in_use);
		EXPECT(fp_fib_set_state(&fib, lone, 48, FP_ROUTE_DOWN, msg, sizeof(msg)) == 1,
		       "withdraw lone /48");
		fp_fib_get_stats(&fib, &b);
		EXPECT(lookup_both(&fib, in_lone) == FP_NH_NONE, "nothing covers the withdrawn lone /48");
		EXPECT(b.tbl8_in_use == st0.tbl8_in_use,
		       "withdrawn: groups in use %" PRIu32 " (want %" PRIu32 ")", b.tbl8_in_use,
		       st0.tbl8_in_use);
		EXPECT(fp_fib_set_state(&fib, lone, 48, FP_ROUTE_UP, msg, sizeof(msg)) == 1,
		       "restore lone /48");
		fp_fib_get_stats(&fib, &b);
		EXPECT(b.tbl8_in_use == a.tbl8_in_use, "restored: in use %" PRIu32 "/%" PRIu32,
		       b.tbl8_in_use, a.tbl8_in_use);
		EXPECT(lookup_both(&fib, in_lone) == (FP_NH_CONNECTED | 4), "lone /48 restored");
	}

	/* Added as down (its interface is down): listed, not looked up. */
	fp_fib_get_stats(&fib, &st0);
	r = route(extra, 64, FP_NH_GATEWAY | 5);
	r.state = FP_ROUTE_DOWN;
	EXPECT(fp_fib_add(&fib, &r, msg, sizeof(msg)) == 0, "add as down: %s", msg);
	EXPECT(fp_fib_add(&fib, &r, msg, sizeof(msg)) == -EEXIST, "a down route's prefix is taken");
	fp_fib_get_stats(&fib, &st);
	EXPECT(st.routes == 5 && st.routes_down == 1 && st.tbl8_in_use == st0.tbl8_in_use,
	       "added down: %u routes, %u down, in use %" PRIu32 "/%" PRIu32, st.routes,
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
	EXPECT(st.routes == 4 && st.routes_down == 0 && st.tbl8_in_use == st0.tbl8_in_use,
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
void
test_rebuild_with_down_routes(void)
{
	struct rte_rcu_qsbr *q = qsbr_new();
	struct fp_fib fib;
	static uint8_t pfx[1500][16];
	static uint8_t plens[1500];
	char msg[160];
	uint64_t rebuilds0;
	int i, rc, wrong = 0, down = 0;

	printf("-- rebuilds with routes down\n");
	rc = fp_fib_init(&fib, 2048, 65536, q, msg, sizeof(msg));
	EXPECT(rc == 0, "init: %s", msg);
	if (rc != 0)
		return;
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
	for (i = 0; i < (int)fib.nroutes; i++)
		if (fib.routes[i].state == FP_ROUTE_DOWN)
			down++;
	EXPECT(down > 300 && (uint32_t)down == fib.nroutes_down, "%d routes down (counted %u)", down,
	       fib.nroutes_down);
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

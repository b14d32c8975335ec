/*
 * flowcache_test.c — unit tests of the flow-cache logic (core/flowcache.c),
 * which has no DPDK dependency. Built and run by test/unit/flowcache.test.ts.
 * Prints one line per check; exits non-zero on the first failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/flowcache.h"

static uint64_t ctr[8];
#define NADJ 16
#include "check.h"

enum { INSERT, REAP, EXPIRE, INVALIDATE, F_USES, F_FWD, F_DROP, INUSE };

static struct fp_flowcache *
make(uint32_t maxflows, uint32_t hashsize)
{
	struct fp_flowcache_counters c = {
		&ctr[INSERT], &ctr[REAP], &ctr[EXPIRE], &ctr[INVALIDATE],
		&ctr[F_USES], &ctr[F_FWD], &ctr[F_DROP], &ctr[INUSE],
	};
	/* Entries are cache-line aligned: give the cache 64-byte aligned memory,
	 * as rte_zmalloc does in the router. */
	size_t size = (fp_flowcache_memsize(maxflows, hashsize, NADJ) + 63) & ~(size_t)63;
	void *mem = aligned_alloc(64, size);
	memset(mem, 0xa5, size); /* init must not rely on zeroed memory */
	memset(ctr, 0, sizeof(ctr));
	return fp_flowcache_init(mem, maxflows, hashsize, NADJ, &c);
}

/* Times are TSC cycles; the cache keeps them in ticks of 2^20. */
#define T(n) ((uint64_t)(n) << FP_FLOW_TICK_SHIFT)

static struct fp_flow_key
key(uint32_t n)
{
	struct fp_flow_key k;
	memset(&k, 0, sizeof(k));
	k.src[0] = 0x20;
	k.src[15] = (uint8_t)n;
	k.src[14] = (uint8_t)(n >> 8);
	k.dst[0] = 0x20;
	k.dst[15] = 2;
	k.label_port = n & 0xfffff; /* flow label n, in-port 0 */
	return k;
}

static struct fp_flow_action act = { .dst_mac = { 2, 0, 0, 0, 0, 0xbb }, .out_port = 1, .out_mtu = 1500, .neigh = 3 };

static void
test_geometry(void)
{
	CHECK(make(16, 3) == NULL);   /* not a power of two */
	CHECK(make(16, 0) == NULL);
	CHECK(make(16, 16) != NULL);
	{
		struct fp_flowcache_counters c = {
			&ctr[INSERT], &ctr[REAP], &ctr[EXPIRE], &ctr[INVALIDATE],
			&ctr[F_USES], &ctr[F_FWD], &ctr[F_DROP], &ctr[INUSE],
		};
		static uint8_t mem[4096] __attribute__((aligned(64)));
		/* The neighbour index shares a word with uses: 20 bits. */
		CHECK(fp_flowcache_init(mem, 1, 1, FP_FLOW_MAX_NEIGH + 1, &c) == NULL);
	}
	/* One line per flow, heads as wide as the index: 1M flows with 2^20
	 * buckets (20-bit heads, 2.5 MiB) within 64 MiB (issue 12). */
	CHECK(sizeof(struct fp_flow_entry) == 64);
	CHECK(fp_flowcache_head_bits(1) == 1);
	CHECK(fp_flowcache_head_bits(16384) == 15);
	CHECK(fp_flowcache_head_bits(16383) == 14);
	CHECK(fp_flowcache_head_bits(1000000) == 20);
	CHECK(fp_flowcache_head_bits(FP_FLOWCACHE_MAX_FLOWS) == 23);
	CHECK(fp_flowcache_memsize(1000000, 1u << 20, 16384) < 64u << 20);
	printf("ok geometry: hashsize must be a power of two; an entry is one line; heads packed\n");
}

static void
test_insert_lookup(void)
{
	struct fp_flowcache *fc = make(8, 4);
	struct fp_flow_key k = key(1), other = key(2);
	struct fp_flow_entry *e;

	e = fp_flowcache_insert(fc, &k, fp_flowcache_hash(&k), &act, 7, T(100));
	CHECK(e != NULL && e->generation == 7 && fp_flow_uses(e) == 0);
	CHECK(fp_flow_neigh(e) == 3);
	CHECK(fp_flowcache_adj(fc, e)->out_port == 1 &&
	      fp_flowcache_adj(fc, e)->dst_mac[5] == 0xbb);
	/* A neighbour index beyond the adjacency array is not cached. */
	{
		struct fp_flow_action a = act;
		struct fp_flow_key k9 = key(9);
		a.neigh = NADJ;
		CHECK(fp_flowcache_insert(fc, &k9, fp_flowcache_hash(&k9), &a, 7, 0) == NULL);
	}
	CHECK(fp_flowcache_lookup(fc, &k, fp_flowcache_hash(&k)) == e);
	CHECK(fp_flowcache_lookup(fc, &other, fp_flowcache_hash(&other)) == NULL);
	/* The flow label is part of the key (ip6flow compares ip6_flow). */
	other = k;
	other.label_port ^= 1;
	CHECK(fp_flowcache_lookup(fc, &other, fp_flowcache_hash(&other)) == NULL);
	/* So is the ingress port. */
	other = k;
	other.label_port |= 3u << 20;
	CHECK(fp_flowcache_lookup(fc, &other, fp_flowcache_hash(&other)) == NULL);
	CHECK(fc->inuse == 1 && ctr[INUSE] == 1 && ctr[INSERT] == 1);
	printf("ok insert/lookup: key is (src, dst, flow label, in-port)\n");
}

static void
test_refresh_folds(void)
{
	struct fp_flowcache *fc = make(8, 4);
	struct fp_flow_key k = key(1);
	struct fp_flow_entry *e;

	e = fp_flowcache_insert(fc, &k, fp_flowcache_hash(&k), &act, 1, 0);
	for (int i = 0; i < 10; i++)
		fp_flow_hit(e, 0);
	e->dropped = 1;
	e = fp_flowcache_insert(fc, &k, fp_flowcache_hash(&k), &act, 2, T(5));
	CHECK(fc->inuse == 1);
	CHECK(fp_flow_uses(e) == 0 && e->dropped == 0 && e->generation == 2);
	CHECK(fp_flow_neigh(e) == 3);
	CHECK(ctr[F_USES] == 10 && ctr[F_FWD] == 9 && ctr[F_DROP] == 1);
	printf("ok refresh: re-creating a flow folds and resets its counters\n");
}

static void
test_reap(void)
{
	struct fp_flowcache *fc = make(4, 2);
	struct fp_flow_key k;
	struct fp_flow_entry *e;
	uint32_t i;

	for (i = 1; i <= 4; i++) {
		k = key(i);
		fp_flowcache_insert(fc, &k, fp_flowcache_hash(&k), &act, 1, T(i));
	}
	CHECK(fc->inuse == 4 && ctr[REAP] == 0);
	/* Flows 1, 3 and 4 are hit later; flow 2 is the least recently used. */
	for (i = 1; i <= 4; i++) {
		k = key(i);
		if (i != 2)
			fp_flow_hit(fp_flowcache_lookup(fc, &k, fp_flowcache_hash(&k)), 10);
	}
	k = key(5);
	fp_flowcache_insert(fc, &k, fp_flowcache_hash(&k), &act, 1, T(11));
	CHECK(fc->inuse == 4 && ctr[REAP] == 1 && ctr[F_USES] == 0);
	k = key(2);
	CHECK(fp_flowcache_lookup(fc, &k, fp_flowcache_hash(&k)) == NULL);
	for (i = 1; i <= 5; i++) {
		k = key(i);
		CHECK((fp_flowcache_lookup(fc, &k, fp_flowcache_hash(&k)) != NULL) == (i != 2));
	}
	/* An entry of an older generation goes before any live one. */
	k = key(4);
	e = fp_flowcache_lookup(fc, &k, fp_flowcache_hash(&k));
	e->generation = 0;
	k = key(6);
	fp_flowcache_insert(fc, &k, fp_flowcache_hash(&k), &act, 1, T(12));
	k = key(4);
	CHECK(fp_flowcache_lookup(fc, &k, fp_flowcache_hash(&k)) == NULL);
	CHECK(ctr[REAP] == 2 && ctr[F_USES] == 1);
	printf("ok reap: a full table reaps a stale entry, else the least recently used\n");
}

static void
test_disabled(void)
{
	struct fp_flowcache *fc = make(0, 1);
	struct fp_flow_key k = key(1);

	CHECK(fc != NULL);
	CHECK(fp_flowcache_insert(fc, &k, fp_flowcache_hash(&k), &act, 1, 0) == NULL);
	CHECK(fp_flowcache_lookup(fc, &k, fp_flowcache_hash(&k)) == NULL);
	CHECK(fp_flowcache_expire(fc, 100, 1, 1, 10, NULL, 0) == 0);
	printf("ok maxflows 0 disables the cache\n");
}

static void
test_expire(void)
{
	struct fp_flowcache *fc = make(16, 8);
	struct fp_flow_key k;
	struct fp_flow_entry *e;
	uint32_t i;

	for (i = 1; i <= 3; i++) {
		k = key(i);
		e = fp_flowcache_insert(fc, &k, fp_flowcache_hash(&k), &act, 1, 0);
		fp_flow_hit(e, 0);
	}
	/* t=1000: flow 2 is hit; the others were last hit at 0. */
	k = key(2);
	e = fp_flowcache_lookup(fc, &k, fp_flowcache_hash(&k));
	fp_flow_hit(e, 1000);
	/* Idle longer than 500 at t=1001: flows 1 and 3 go. A bounded visit
	 * (4 slots per call) still finds the three live entries. */
	CHECK(fp_flowcache_expire(fc, T(1001), T(500), 1, 4, NULL, 0) == 2);
	CHECK(fc->inuse == 1 && ctr[EXPIRE] == 2 && ctr[F_USES] == 2);
	CHECK(fp_flowcache_lookup(fc, &k, fp_flowcache_hash(&k)) == e);
	/* Not idle long enough yet: stays. */
	CHECK(fp_flowcache_expire(fc, T(1400), T(500), 1, 16, NULL, 0) == 0);
	CHECK(fp_flowcache_expire(fc, T(1501), T(500), 1, 16, NULL, 0) == 1);
	CHECK(ctr[F_FWD] == 4 && ctr[F_DROP] == 0);
	printf("ok idle expiry removes idle entries and folds their counters\n");
}

/* Counts near their width are folded into the lcore totals and restart; an
 * age beyond 2^31 ticks is held there rather than wrapping. */
static void
test_refresh_wide(void)
{
	struct fp_flowcache *fc = make(16, 8);
	struct fp_flow_key k = key(1);
	struct fp_flow_entry *e;

	e = fp_flowcache_insert(fc, &k, fp_flowcache_hash(&k), &act, 1, 0);
	e->uses_neigh += FP_FLOW_USES_REFRESH + 5;
	e->dropped = 5;
	fp_flow_hit(e, 10);
	CHECK(fp_flowcache_expire(fc, T(10), T(1000), 1, 16, NULL, 0) == 0);
	CHECK(fp_flow_uses(e) == 0 && e->dropped == 0 && fp_flow_neigh(e) == 3);
	CHECK(ctr[F_USES] == FP_FLOW_USES_REFRESH + 6 && ctr[F_DROP] == 5);
	CHECK(e->created == 10);
	/* Hit every 2^30 ticks for 2^32 + 2^30 ticks: the age saturates. */
	for (uint64_t t = 1u << 30; t <= (UINT64_C(1) << 32) + (1u << 30); t += 1u << 30) {
		fp_flow_hit(e, (uint32_t)t);
		CHECK(fp_flowcache_expire(fc, T(t), T(UINT32_MAX), 1, 16, NULL, 0) == 0);
	}
	{
		struct fp_flow_info info;
		CHECK(fp_flowcache_snapshot(fc, &info, 1, T((UINT64_C(1) << 32) + (1u << 30))) == 1);
		CHECK(info.age_cycles == T(UINT64_C(1) << 31) && info.idle_cycles == 0);
	}
	printf("ok wide counts are folded and restart; ages saturate at 2^31 ticks\n");
}

/* A flow used since the scan's last visit marks its next hop's neighbour
 * (the hint NUD needs); an idle one does not. */
static void
test_touched(void)
{
	struct fp_flowcache *fc = make(16, 8);
	struct fp_flow_action a = act;
	struct fp_flow_key k;
	struct fp_flow_entry *e;
	uint8_t touched[8] = { 0 };

	a.neigh = 5;
	k = key(1);
	e = fp_flowcache_insert(fc, &k, fp_flowcache_hash(&k), &a, 1, 0);
	/* Two whole passes 100 ticks apart: "since the last visit" is 100. */
	CHECK(fp_flowcache_expire(fc, T(1000), T(5000), 1, 16, touched, 4) == 0);
	CHECK(fp_flowcache_expire(fc, T(1100), T(5000), 1, 16, touched, 4) == 0);
	memset(touched, 0, sizeof(touched));
	CHECK(fp_flowcache_expire(fc, T(1200), T(5000), 1, 16, touched, 8) == 0);
	CHECK(touched[5] == 0); /* not hit since t=0 */
	fp_flow_hit(e, 1250);
	CHECK(fp_flowcache_expire(fc, T(1300), T(5000), 1, 16, touched, 8) == 0);
	CHECK(touched[5] == 1 && touched[4] == 0);
	a.neigh = 9; /* beyond the touched array: ignored */
	k = key(2);
	e = fp_flowcache_insert(fc, &k, fp_flowcache_hash(&k), &a, 1, T(1300));
	fp_flow_hit(e, 1350);
	CHECK(fp_flowcache_expire(fc, T(1400), T(5000), 1, 16, touched, 8) == 0);
	printf("ok a used flow marks its neighbour for reachability detection\n");
}

static void
test_generation(void)
{
	struct fp_flowcache *fc = make(16, 8);
	struct fp_flow_key k = key(1);

	fp_flowcache_insert(fc, &k, fp_flowcache_hash(&k), &act, 1, 0);
	CHECK(fp_flowcache_expire(fc, T(1), T(1000), 2, 16, NULL, 0) == 1);
	CHECK(ctr[INVALIDATE] == 1 && fc->inuse == 0);
	printf("ok entries of an old generation are invalidated by the scan\n");
}

static void
test_flush_and_snapshot(void)
{
	struct fp_flowcache *fc = make(64, 16);
	static struct fp_flow_info out[64];
	struct fp_flow_key k;
	struct fp_flow_entry *e;
	uint32_t i;

	for (i = 1; i <= 40; i++) {
		k = key(i);
		e = fp_flowcache_insert(fc, &k, fp_flowcache_hash(&k), &act, 1, T(i));
		fp_flow_hit(e, i + 1);
		e->dropped = i > 20;
	}
	CHECK(fp_flowcache_snapshot(fc, out, 64, T(100) + 7) == 40);
	for (i = 0; i < 40; i++) {
		uint32_t n = out[i].key.src[15]; /* key(n) */
		CHECK(out[i].age_cycles == T(100 - n) + 7 && out[i].idle_cycles == T(99 - n) + 7);
		CHECK(out[i].uses == 1 && out[i].dropped == (n > 20));
		CHECK(out[i].out_port == 1 && out[i].dst_mac[5] == 0xbb && out[i].neigh == 3);
	}
	CHECK(fp_flowcache_snapshot(fc, out, 10, T(100)) == 10);
	fp_flowcache_flush(fc);
	CHECK(fc->inuse == 0 && ctr[INVALIDATE] == 40);
	CHECK(ctr[F_USES] == 40 && ctr[F_DROP] == 20 && ctr[F_FWD] == 20);
	CHECK(fp_flowcache_snapshot(fc, out, 64, T(100)) == 0);
	/* Reusable after a flush: the free list is intact. */
	for (i = 1; i <= 64; i++) {
		k = key(i + 100);
		CHECK(fp_flowcache_insert(fc, &k, fp_flowcache_hash(&k), &act, 1, i) != NULL);
	}
	CHECK(fc->inuse == 64 && ctr[REAP] == 0);
	printf("ok flush empties the table; snapshot describes every live flow\n");
}

static void
test_chains(void)
{
	/* Many flows in few buckets: lookups still find every one; removing
	 * from the middle of a chain keeps the rest reachable. */
	struct fp_flowcache *fc = make(1000, 2);
	struct fp_flow_key k;
	uint32_t i;

	for (i = 0; i < 1000; i++) {
		k = key(i);
		fp_flowcache_insert(fc, &k, fp_flowcache_hash(&k), &act, 1, i);
	}
	for (i = 0; i < 1000; i += 3) {
		k = key(i);
		fp_flowcache_remove(fc, fp_flowcache_lookup(fc, &k, fp_flowcache_hash(&k)));
	}
	for (i = 0; i < 1000; i++) {
		k = key(i);
		struct fp_flow_entry *e = fp_flowcache_lookup(fc, &k, fp_flowcache_hash(&k));
		CHECK((i % 3 == 0) == (e == NULL));
	}
	printf("ok chained buckets survive removals from the middle\n");
}

/* Tiny xorshift, fixed seed: the same churn every run. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* Random inserts, removals, expiry and lookups against a reference set, in
 * a table with few buckets (long chains): every live flow
 * is found, every removed one is not, the snapshot lists exactly the live
 * flows, and inuse agrees. */
#define MODEL_KEYS 600
static void
test_random_model(void)
{
	struct fp_flowcache *fc = make(256, 16);
	static struct fp_flow_info out[256];
	uint8_t live[MODEL_KEYS] = { 0 };
	uint32_t step, i, nlive = 0;

	for (step = 0; step < 200000; step++) {
		uint32_t r = rnd(100), id = rnd(MODEL_KEYS);
		struct fp_flow_key k = key(id);
		uint32_t h = fp_flowcache_hash(&k);
		struct fp_flow_entry *e = fp_flowcache_lookup(fc, &k, h);

		EXPECT((e != NULL) == (live[id] != 0), "step %u key %u: found %d, live %d",
		       step, id, e != NULL, live[id]);
		if (failures)
			break;
		if (r < 60) {
			uint64_t reaped = ctr[REAP];

			e = fp_flowcache_insert(fc, &k, h, &act, 1, T(step));
			fp_flow_hit(e, step);
			if (!live[id])
				nlive++;
			live[id] = 1;
			if (ctr[REAP] != reaped) {
				/* One flow was reaped: find which by lookup. */
				uint32_t before = nlive;

				CHECK(ctr[REAP] == reaped + 1);
				for (i = 0, nlive = 0; i < MODEL_KEYS; i++) {
					struct fp_flow_key ki = key(i);
					live[i] = fp_flowcache_lookup(fc, &ki,
						fp_flowcache_hash(&ki)) != NULL && live[i];
					nlive += live[i];
				}
				CHECK(nlive == before - 1 && live[id]);
			}
		} else if (r < 95 && e != NULL) {
			fp_flowcache_remove(fc, e);
			live[id] = 0;
			nlive--;
		} else if (r >= 95) {
			/* A scan that invalidates nothing and expires nothing
			 * (generation 1, huge idle) must change nothing. */
			CHECK(fp_flowcache_expire(fc, T(step), UINT64_MAX, 1, 32, NULL, 0) == 0);
		}
		if (step % 1000 == 0) {
			CHECK(fc->inuse == nlive && nlive <= 256);
			CHECK(fp_flowcache_snapshot(fc, out, 256, T(step)) == nlive);
		}
	}
	CHECK(failures == 0);
	for (i = 0; i < MODEL_KEYS; i++) {
		struct fp_flow_key k = key(i);
		CHECK((fp_flowcache_lookup(fc, &k, fp_flowcache_hash(&k)) != NULL) == live[i]);
	}
	printf("ok 200000 random steps agree with a reference set\n");
}

/* Drive a cache with a stream of flows, admission deciding which misses
 * get an entry; returns the hit ratio over the last `judge` lookups. */
static uint32_t admit_tick;
static double
admit_run(struct fp_flowcache *fc, struct fp_flow_admit *a, uint64_t *hits,
	  uint64_t *misses, uint32_t flows, int cyclic, uint32_t lookups,
	  uint32_t judge, uint32_t *max_shift)
{
	uint64_t h0 = 0, m0 = 0;
	uint32_t i;

	for (i = 0; i < lookups; i++) {
		uint32_t id = cyclic ? i % flows : rnd(flows);
		struct fp_flow_key k = key(id);
		uint32_t h = fp_flowcache_hash(&k);
		/* As the worker does: a flow outside the share is not looked up. */
		struct fp_flow_entry *e = fp_flow_admitted(a, h) ? fp_flowcache_lookup(fc, &k, h) : NULL;

		if (i == lookups - judge) {
			h0 = *hits;
			m0 = *misses;
		}
		if (e != NULL) {
			(*hits)++;
			fp_flow_hit(e, admit_tick);
		} else {
			(*misses)++;
			if (fp_flow_admitted(a, h))
				fp_flow_hit(fp_flowcache_insert(fc, &k, h, &act, 1,
								T(admit_tick)), admit_tick);
		}
		if (i % 64 == 63) {
			admit_tick++; /* time passes: 64 packets a tick */
			fp_flowcache_admit_update(fc, *hits, *misses);
			if (a->shift > *max_shift)
				*max_shift = a->shift;
		}
	}
	return (double)(*hits - h0) / (double)(*hits - h0 + *misses - m0);
}

/* Admission under a flood: 6 times more flows cycling than the table holds
 * hit nothing when all are admitted; the share settles where it fits and
 * its flows are hit; back to fewer flows than the table, every flow is
 * admitted again; a table a little too small for random traffic (where
 * every flow admitted is still the better deal) never narrows. */
static void
test_admission(void)
{
	struct fp_flowcache *fc = make(256, 512);
	struct fp_flow_admit *a = &fc->admit;
	uint64_t hits = 0, misses = 0;
	uint32_t max_shift = 0;
	double ratio;

	CHECK(a->shift == 0 && fp_flow_admitted(a, UINT32_MAX));
	ratio = admit_run(fc, a, &hits, &misses, 300, 0, 400000, 100000, &max_shift);
	CHECK(max_shift == 0 && ratio > 0.7);

	fp_flowcache_flush(fc);
	ratio = admit_run(fc, a, &hits, &misses, 1536, 1, 2000000, 400000, &max_shift);
	EXPECT(a->shift == 3 || a->shift == 2, "flood: shift %u", a->shift);
	EXPECT(ratio > 0.09, "flood: hit ratio %.3f with admission (0 without)", ratio);
	CHECK(max_shift <= 4);

	/* Fewer flows than the table holds, still full of the flood's: the
	 * share widens step by step (at most 3 x 256 quiet windows)... */
	ratio = admit_run(fc, a, &hits, &misses, 128, 1, 4000000, 100000, &max_shift);
	EXPECT(a->shift == 0 && ratio > 0.99, "after the flood: shift %u, hit ratio %.3f",
	       a->shift, ratio);
	/* ...and at once where the table has room. */
	fp_flowcache_flush(fc);
	a->shift = 4;
	ratio = admit_run(fc, a, &hits, &misses, 128, 1, 2 * FP_FLOW_ADMIT_WINDOW, 1000, &max_shift);
	EXPECT(a->shift == 0, "room: shift %u", a->shift);
	/* Turned off (floodAdmission false): the flood thrashes, every flow
	 * admitted, as in ip6_flow.c. */
	a->enabled = false;
	max_shift = 0;
	ratio = admit_run(fc, a, &hits, &misses, 1536, 1, 400000, 100000, &max_shift);
	EXPECT(max_shift == 0 && ratio < 0.05, "off: shift %u, hit ratio %.3f", max_shift, ratio);
	printf("ok admission: a flood's share settles and is hit; it widens again after\n");
}

int
main(void)
{
	test_geometry();
	test_insert_lookup();
	test_refresh_folds();
	test_reap();
	test_disabled();
	test_expire();
	test_refresh_wide();
	test_touched();
	test_generation();
	test_flush_and_snapshot();
	test_chains();
	test_random_model();
	test_admission();
	return checks_done();
}

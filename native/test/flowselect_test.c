/*
 * flowselect_test.c — flowCache.mode auto's measurement and choice
 * (core/flowselect.c), against a simulated worker whose cost per packet
 * depends on the lookup in force.
 */
#include "../core/flowselect.h"
#include "check.h"

#define HZ UINT64_C(2000000000)
#define TICK (HZ / 10000) /* the worker calls every 100 us */

/* A worker: cycles per packet with each lookup; `load` is the share of its
 * cycles that have packets to process (1: saturated). */
struct sim {
	struct fp_flow_select s;
	double cost[2];
	double load;
	uint64_t now, busy, pkts;
	double frac;
	uint64_t ticks_direct; /* ticks spent with the FIB alone */
	uint32_t inuse;
};

static void
sim_init(struct sim *w, bool enabled, double cache, double direct, double load)
{
	fp_flow_select_init(&w->s, enabled, HZ);
	w->cost[FP_LOOKUP_CACHE] = cache;
	w->cost[FP_LOOKUP_DIRECT] = direct;
	w->load = load;
	w->now = HZ; /* any start */
	w->busy = w->pkts = 0;
	w->frac = 0;
	w->ticks_direct = 0;
	w->inuse = 10000;
}

/* Run for `seconds`, calling update every tick as fp_lcore_main does. */
static void
sim_run(struct sim *w, double seconds)
{
	uint64_t n = (uint64_t)(seconds * 10000), i;

	for (i = 0; i < n; i++) {
		enum fp_lookup l = fp_flow_select_update(&w->s, w->now, w->busy,
							 w->pkts, w->inuse);
		double busy = (double)TICK * w->load;
		double p = busy / w->cost[l] + w->frac;

		w->pkts += (uint64_t)p;
		w->frac = p - (double)(uint64_t)p;
		w->busy += (uint64_t)busy;
		w->now += TICK;
		w->ticks_direct += l == FP_LOOKUP_DIRECT;
	}
}

int
main(void)
{
	struct sim w;

	/* mode cache: nothing is measured, the cache always. */
	sim_init(&w, false, 200, 100, 1.0);
	sim_run(&w, 5);
	CHECK(w.ticks_direct == 0);
	CHECK(w.s.probes == 0 && w.s.switches == 0 && w.s.steady == FP_LOOKUP_CACHE);

	/* The cache cheaper: never switches; each lost probe doubles the wait
	 * (probes at about 1, 3, 7, 15, 31, 47 s); the FIB is in force only
	 * for the probes (a warm-up and a window: ~10 ms each at 10 Mpps). */
	sim_init(&w, true, 150, 200, 1.0);
	sim_run(&w, 10.5);
	EXPECT(w.s.probes == 3, "probes %llu", (unsigned long long)w.s.probes);
	CHECK(w.s.switches == 0 && w.s.steady == FP_LOOKUP_CACHE);
	CHECK(w.s.current == FP_LOOKUP_CACHE || w.s.phase != FP_SELECT_STEADY);
	EXPECT(w.ticks_direct * 100 < 10 * 10000 * 3, "direct %llu ticks of 105000",
	       (unsigned long long)w.ticks_direct);
	EXPECT(w.s.cpp_x16[FP_LOOKUP_CACHE] / 16 >= 149 && w.s.cpp_x16[FP_LOOKUP_CACHE] / 16 <= 151,
	       "cache cpp %llu", (unsigned long long)(w.s.cpp_x16[0] / 16));
	EXPECT(w.s.cpp_x16[FP_LOOKUP_DIRECT] / 16 >= 199 && w.s.cpp_x16[FP_LOOKUP_DIRECT] / 16 <= 201,
	       "direct cpp %llu", (unsigned long long)(w.s.cpp_x16[1] / 16));
	sim_run(&w, 50);
	EXPECT(w.s.probes == 6 && w.s.backoff == FP_SELECT_INTERVAL_MAX_SHIFT, "probes %llu backoff %u",
	       (unsigned long long)w.s.probes, w.s.backoff);
	CHECK(w.s.switches == 0);

	/* The FIB cheaper: it takes over at the second probe that says so,
	 * and stays: the cache's probes lose from then on. */
	sim_init(&w, true, 200, 150, 1.0);
	sim_run(&w, 1.5);
	CHECK(w.s.probes == 1 && w.s.steady == FP_LOOKUP_CACHE && w.s.wins == 1);
	sim_run(&w, 1.0);
	CHECK(w.s.probes == 2 && w.s.steady == FP_LOOKUP_DIRECT && w.s.switches == 1);
	sim_run(&w, 5);
	CHECK(w.s.steady == FP_LOOKUP_DIRECT && w.s.switches == 1);
	EXPECT(w.s.probes == 4, "probes %llu", (unsigned long long)w.s.probes); /* 3 s, 5 s */

	/* ... until the cache becomes cheaper (the table grew past the CPU's
	 * caches): back at the next probe (9 s) and the one after, at once. */
	w.cost[FP_LOOKUP_DIRECT] = 300;
	sim_run(&w, 3.0);
	CHECK(w.s.steady == FP_LOOKUP_CACHE && w.s.switches == 2);

	/* Within the margin (3 % cheaper): no switch. */
	sim_init(&w, true, 200, 194, 1.0);
	sim_run(&w, 10);
	CHECK(w.s.switches == 0 && w.s.probes == 3);

	/* One win, then a loss (a noisy window): the wins must be in a row. */
	sim_init(&w, true, 200, 150, 1.0);
	sim_run(&w, 1.5);
	CHECK(w.s.wins == 1);
	w.cost[FP_LOOKUP_DIRECT] = 250;
	sim_run(&w, 1.0);
	CHECK(w.s.wins == 0 && w.s.switches == 0);
	w.cost[FP_LOOKUP_DIRECT] = 150;
	sim_run(&w, 2.0); /* the loss doubled the wait: next probe at 4 s */
	CHECK(w.s.wins == 1 && w.s.switches == 0);
	sim_run(&w, 1.0);
	CHECK(w.s.switches == 1);

	/* Light traffic: 65536 packets do not arrive within 50 ms (1.3 Mpps):
	 * every probe is abandoned, nothing switches. 10 % load at 150
	 * cycles/packet on 2 GHz is 1.3 Mpps; 5 % is under. */
	sim_init(&w, true, 300, 150, 0.05);
	sim_run(&w, 10);
	CHECK(w.s.probes == 0 && w.s.switches == 0);
	EXPECT(w.s.abandoned >= 9, "abandoned %llu", (unsigned long long)w.s.abandoned);
	CHECK(w.ticks_direct == 0);

	/* On the FIB alone, the load falls below what a window needs: back to
	 * the cache (which counts per flow) at the first abandoned probe. */
	sim_init(&w, true, 200, 150, 1.0);
	sim_run(&w, 2.5);
	CHECK(w.s.steady == FP_LOOKUP_DIRECT && w.s.switches == 1);
	w.load = 0.05;
	sim_run(&w, 1.2);
	CHECK(w.s.steady == FP_LOOKUP_CACHE && w.s.current == FP_LOOKUP_CACHE);
	CHECK(w.s.switches == 2 && w.s.abandoned >= 1);
	/* ... and load returning finds the FIB cheaper again. */
	w.load = 1.0;
	sim_run(&w, 2.2);
	CHECK(w.s.steady == FP_LOOKUP_DIRECT && w.s.switches == 3);

	/* Restarted (the worker's cache was turned off): the cache, the first
	 * probe an interval later, the counts kept. */
	fp_flow_select_restart(&w.s);
	CHECK(w.s.steady == FP_LOOKUP_CACHE && w.s.current == FP_LOOKUP_CACHE);
	CHECK(w.s.switches == 4); /* it was on the FIB alone */
	sim_run(&w, 0.9);
	CHECK(w.s.current == FP_LOOKUP_CACHE && w.s.phase == FP_SELECT_STEADY);

	/* Turned on and off at run time (flowCache.configure({ mode })): on
	 * starts the schedule; off while on the FIB alone puts the cache back
	 * at once and counts the switch; on again, the counts kept. */
	sim_init(&w, false, 200, 150, 1.0);
	sim_run(&w, 3);
	CHECK(w.s.probes == 0 && w.ticks_direct == 0);
	fp_flow_select_enable(&w.s, true);
	sim_run(&w, 2.5);
	CHECK(w.s.steady == FP_LOOKUP_DIRECT && w.s.switches == 1);
	fp_flow_select_enable(&w.s, false);
	CHECK(!w.s.enabled && w.s.steady == FP_LOOKUP_CACHE && w.s.current == FP_LOOKUP_CACHE);
	CHECK(w.s.switches == 2);
	w.ticks_direct = 0;
	sim_run(&w, 3);
	CHECK(w.ticks_direct == 0 && w.s.probes == 2);
	fp_flow_select_enable(&w.s, true);
	fp_flow_select_enable(&w.s, true); /* the same mode again: nothing */
	sim_run(&w, 2.5);
	CHECK(w.s.steady == FP_LOOKUP_DIRECT && w.s.switches == 3 && w.s.probes == 4);

	/* A cache of a million flows warms for two million packets before its
	 * window (200 ms at 10 Mpps), within the warm-up's allowance. */
	sim_init(&w, true, 200, 100, 1.0);
	w.inuse = 1000000;
	sim_run(&w, 2.5); /* switched to the FIB alone at the second probe */
	CHECK(w.s.steady == FP_LOOKUP_DIRECT);
	w.cost[FP_LOOKUP_CACHE] = 50;
	sim_run(&w, 1.6);
	CHECK(w.s.warm_pkts == 2000000);
	CHECK(w.s.abandoned == 0 && w.s.wins == 1);
	sim_run(&w, 1.6);
	CHECK(w.s.steady == FP_LOOKUP_CACHE && w.s.switches == 2);

	return checks_done();
}

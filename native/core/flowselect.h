/*
 * core/flowselect.h — choosing, per worker and by measurement, between the
 * flow cache and the FIB alone (flowCache.mode "auto").
 *
 * Why: a hit costs a read of the flow's entry, a line per flow that is in L1
 * for a few flows, in L2 for thousands and in DRAM for a million; a FIB
 * lookup costs the trie's lines for the destination, which stay in cache for
 * a small table and miss for a full one. Which is cheaper depends on the
 * table and the traffic, not on a constant (ESwitch's lesson: tailor the
 * lookup to the table). So the worker measures: every probe interval it
 * takes its cost per packet (busy cycles / packets received, the whole loop:
 * PMD, lookup, rewrite) in the lookup in force, then switches to the other
 * for a warm-up and a window of the same size, and compares. The other
 * lookup must win by FP_SELECT_MARGIN_PCT twice in a row before it takes
 * over, so that one noisy window does not flip it. Each probe the other
 * lookup loses doubles the wait before the next (up to 16 s): a probe of a
 * large cache warms it for twice its entries in the losing lookup (0.4 s at
 * a million flows and 5 Mpps), which every second would cost a quarter of
 * the time; a win or a switch brings the wait back to 1 s.
 *
 * What each lookup keeps: while the FIB alone is in force the cache is left
 * as it is, neither hit nor filled nor aged (entries keep their counts and
 * their generation check), so a probe of the cache finds the flows it had,
 * and flowCache.list() shows what the cache last counted. Packets forwarded
 * meanwhile are counted per lcore (flow_direct), not per flow.
 *
 * Light traffic never probes: a window must fill with FP_SELECT_WINDOW_PKTS
 * packets within FP_SELECT_PHASE_MAX_US, or the probe is abandoned (at
 * under ~1.3 Mpps per worker the loop's cost is the polling, and both
 * lookups are cheap next to it); a worker on the FIB alone then goes back
 * to the cache, the lookup that counts per flow.
 *
 * No DPDK dependency: unit-tested on its own (native/test/flowselect_test.c).
 */
#ifndef FP_FLOWSELECT_H
#define FP_FLOWSELECT_H

#include <stdbool.h>
#include <stdint.h>

enum fp_lookup {
	FP_LOOKUP_CACHE = 0,
	FP_LOOKUP_DIRECT = 1, /* the FIB alone */
};

/* Tunables (documented in docs/configuration.md, flowCache.mode). */
#define FP_SELECT_INTERVAL_US 1000000 /* from the end of one probe to the next, */
#define FP_SELECT_INTERVAL_MAX_SHIFT 4 /* doubled after each probe the other
					 lookup loses, up to 16 s */
#define FP_SELECT_WINDOW_PKTS 65536   /* packets per measured window */
#define FP_SELECT_WARM_PKTS 8192      /* least warm-up before the probe's window */
#define FP_SELECT_PHASE_MAX_US 50000  /* a phase that takes longer is abandoned */
#define FP_SELECT_MARGIN_PCT 5        /* the other lookup must be this much cheaper */
#define FP_SELECT_WINS_NEEDED 2       /* ... in this many probes in a row */

enum fp_select_phase {
	FP_SELECT_STEADY = 0, /* the lookup in force, until the next probe */
	FP_SELECT_BASE,       /* measuring the lookup in force */
	FP_SELECT_WARM,       /* the other lookup, warming its lines */
	FP_SELECT_PROBE,      /* measuring the other lookup */
};

struct fp_flow_select {
	bool enabled;           /* flowCache.mode auto */
	uint8_t steady;         /* enum fp_lookup in force between probes */
	uint8_t current;        /* enum fp_lookup the worker uses now */
	uint8_t phase;          /* enum fp_select_phase */
	uint32_t wins;          /* probes in a row the other lookup won */
	uint64_t interval;      /* FP_SELECT_INTERVAL_US in TSC cycles */
	uint32_t backoff;       /* the next probe waits interval << backoff */
	uint64_t phase_max;     /* FP_SELECT_PHASE_MAX_US in TSC cycles */
	uint64_t phase_start;   /* TSC at the phase's start */
	uint64_t busy0, pkts0;  /* the owner's counts at the phase's start */
	uint64_t warm_pkts;     /* the current warm-up's length */
	uint64_t base_cpp_x16;  /* cycles per packet × 16 of the base window */
	/* Results, for the owner's counters. */
	uint64_t cpp_x16[2];    /* last measured, by enum fp_lookup (0: never) */
	uint64_t probes;        /* probes completed */
	uint64_t switches;      /* times the lookup in force changed */
	uint64_t abandoned;     /* probes given up: traffic too light */
};

/* Whether the vectors go to the FIB alone now. */
static inline bool
fp_flow_select_direct(const struct fp_flow_select *s)
{
	return s->current == FP_LOOKUP_DIRECT;
}

/* Whether the cache is the lookup in force and in use: only then is it aged
 * and judged. Not while the FIB alone is in force, nor during a probe of
 * the cache from there, whose hits are what re-stamp the entries the
 * FIB-alone time left idle (aging them first would count live flows'
 * misses against the cache). */
static inline bool
fp_flow_select_cache_steady(const struct fp_flow_select *s)
{
	return s->current == FP_LOOKUP_CACHE && s->steady == FP_LOOKUP_CACHE;
}

/* Start with the cache in force; the first probe comes an interval after
 * the first update. tsc_hz converts the tunables. */
void fp_flow_select_init(struct fp_flow_select *s, bool enabled, uint64_t tsc_hz);

/* Back to the cache with the schedule restarted (the counts kept): for a
 * worker whose cache was turned off, so that a later one starts afresh. */
void fp_flow_select_restart(struct fp_flow_select *s);

/* Turn the measurement on or off (flowCache.mode changed at run time). Off
 * puts the cache back in force at once; either way the schedule restarts. */
void fp_flow_select_enable(struct fp_flow_select *s, bool enabled);

/* Advance at TSC `now` with the owner's cumulative busy cycles and received
 * packets and the cache's entries in use (a probe of the cache warms for
 * twice that many packets: every cached flow seen about once). Returns the
 * lookup to use until the next call. Cheap: called every 100 us. */
enum fp_lookup fp_flow_select_update(struct fp_flow_select *s, uint64_t now,
				     uint64_t busy_cycles, uint64_t rx_packets,
				     uint32_t cache_inuse);

#endif

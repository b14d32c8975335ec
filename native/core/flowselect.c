/*
 * core/flowselect.c — flowCache.mode "auto": cache or FIB alone, measured
 * (see flowselect.h for why and how).
 */
#include "flowselect.h"

#include <string.h>

void
fp_flow_select_init(struct fp_flow_select *s, bool enabled, uint64_t tsc_hz)
{
	memset(s, 0, sizeof(*s));
	s->enabled = enabled;
	s->steady = FP_LOOKUP_CACHE;
	s->current = FP_LOOKUP_CACHE;
	s->phase = FP_SELECT_STEADY;
	s->interval = tsc_hz / 1000000 * FP_SELECT_INTERVAL_US;
	s->phase_max = tsc_hz / 1000000 * FP_SELECT_PHASE_MAX_US;
	s->phase_start = UINT64_MAX; /* not started: the first update starts it */
}

void
fp_flow_select_restart(struct fp_flow_select *s)
{
	if (s->steady != FP_LOOKUP_CACHE)
		s->switches++;
	s->steady = FP_LOOKUP_CACHE;
	s->current = FP_LOOKUP_CACHE;
	s->phase = FP_SELECT_STEADY;
	s->wins = 0;
	s->backoff = 0;
	s->phase_start = UINT64_MAX;
}

void
fp_flow_select_enable(struct fp_flow_select *s, bool enabled)
{
	if (s->enabled == enabled)
		return;
	s->enabled = enabled;
	fp_flow_select_restart(s);
}

static void
select_begin(struct fp_flow_select *s, enum fp_select_phase phase, uint64_t now,
	     uint64_t busy_cycles, uint64_t rx_packets)
{
	s->phase = (uint8_t)phase;
	s->phase_start = now;
	s->busy0 = busy_cycles;
	s->pkts0 = rx_packets;
}

/* Back to the lookup in force until the next interval. */
static void
select_settle(struct fp_flow_select *s, uint64_t now, uint64_t busy_cycles,
	      uint64_t rx_packets)
{
	s->current = s->steady;
	select_begin(s, FP_SELECT_STEADY, now, busy_cycles, rx_packets);
}

/* A probe that could not fill its window in time: the traffic is too light
 * for the loop's cost to say anything about the lookup, and too light for
 * the lookup to matter. The cache is the lookup that counts per flow, so a
 * worker on the FIB alone goes back to it until load returns and a
 * measurement says otherwise. */
static void
select_abandon(struct fp_flow_select *s, uint64_t now, uint64_t busy_cycles,
	       uint64_t rx_packets)
{
	s->abandoned++;
	s->wins = 0;
	if (s->steady != FP_LOOKUP_CACHE) {
		s->steady = FP_LOOKUP_CACHE;
		s->switches++;
		s->backoff = 0;
	}
	select_settle(s, now, busy_cycles, rx_packets);
}

enum fp_lookup
fp_flow_select_update(struct fp_flow_select *s, uint64_t now, uint64_t busy_cycles,
		      uint64_t rx_packets, uint32_t cache_inuse)
{
	uint64_t pkts, busy, elapsed;
	enum fp_lookup other;

	if (!s->enabled)
		return FP_LOOKUP_CACHE;
	if (s->phase_start == UINT64_MAX) {
		select_begin(s, FP_SELECT_STEADY, now, busy_cycles, rx_packets);
		return (enum fp_lookup)s->current;
	}
	pkts = rx_packets - s->pkts0;
	busy = busy_cycles - s->busy0;
	elapsed = now - s->phase_start;
	other = s->steady == FP_LOOKUP_CACHE ? FP_LOOKUP_DIRECT : FP_LOOKUP_CACHE;

	switch ((enum fp_select_phase)s->phase) {
	case FP_SELECT_STEADY:
		if (elapsed >= s->interval << s->backoff)
			select_begin(s, FP_SELECT_BASE, now, busy_cycles, rx_packets);
		break;
	case FP_SELECT_BASE:
		if (pkts >= FP_SELECT_WINDOW_PKTS) {
			s->base_cpp_x16 = busy * 16 / pkts;
			s->cpp_x16[s->steady] = s->base_cpp_x16;
			/* The cache's lines went cold while the FIB was in
			 * force: see each cached flow about twice first. */
			s->warm_pkts = FP_SELECT_WARM_PKTS;
			if (other == FP_LOOKUP_CACHE &&
			    (uint64_t)cache_inuse * 2 > s->warm_pkts)
				s->warm_pkts = (uint64_t)cache_inuse * 2;
			s->current = (uint8_t)other;
			select_begin(s, FP_SELECT_WARM, now, busy_cycles, rx_packets);
		} else if (elapsed > s->phase_max) {
			select_abandon(s, now, busy_cycles, rx_packets);
		}
		break;
	case FP_SELECT_WARM:
		/* The warm-up may be longer than a window (a cache of many
		 * flows): it gets the time of as many windows at the rate a
		 * window needs. */
		if (pkts >= s->warm_pkts)
			select_begin(s, FP_SELECT_PROBE, now, busy_cycles, rx_packets);
		else if (elapsed > s->phase_max *
				   (1 + s->warm_pkts / FP_SELECT_WINDOW_PKTS))
			select_abandon(s, now, busy_cycles, rx_packets);
		break;
	case FP_SELECT_PROBE:
		if (pkts >= FP_SELECT_WINDOW_PKTS) {
			uint64_t cpp = busy * 16 / pkts;

			s->cpp_x16[other] = cpp;
			s->probes++;
			if (cpp * 100 < s->base_cpp_x16 * (100 - FP_SELECT_MARGIN_PCT)) {
				s->wins++;
				s->backoff = 0;
			} else {
				s->wins = 0;
				if (s->backoff < FP_SELECT_INTERVAL_MAX_SHIFT)
					s->backoff++;
			}
			if (s->wins >= FP_SELECT_WINS_NEEDED) {
				s->steady = (uint8_t)other;
				s->switches++;
				s->wins = 0;
			}
			select_settle(s, now, busy_cycles, rx_packets);
		} else if (elapsed > s->phase_max) {
			select_abandon(s, now, busy_cycles, rx_packets);
		}
		break;
	}
	return (enum fp_lookup)s->current;
}

/*
 * core/tokens.h — a token bucket (rate per second, burst), in TSC time.
 * DPDK-free; the owner is one thread. Used to rate-limit ICMPv6 errors
 * (RFC 4443 2.4 f) per worker lcore.
 */
#ifndef FP_TOKENS_H
#define FP_TOKENS_H

#include <stdbool.h>
#include <stdint.h>

struct fp_tokens {
	uint64_t milli; /* tokens x 1000 */
	uint64_t last;  /* TSC of the last refill; 0: never (starts full) */
};

/* Take one token at TSC `now`; false when the bucket is empty. rate 0
 * never gives a token. */
static inline bool
fp_tokens_take(struct fp_tokens *b, uint64_t now, uint64_t hz, uint32_t rate,
	       uint32_t burst)
{
	uint64_t cap = (uint64_t)burst * 1000;

	if (b->last == 0) {
		b->milli = cap;
	} else if (now > b->last) {
		uint64_t elapsed = now - b->last;
		/* Beyond 10 s the bucket is full anyway; the cap keeps the
		 * product below 2^64 (10 s x 10 GHz x 10^6/s). */
		if (elapsed > hz * 10)
			elapsed = hz * 10;
		b->milli += elapsed * rate / (hz / 1000 ? hz / 1000 : 1);
		if (b->milli > cap)
			b->milli = cap;
	}
	b->last = now;
	if (b->milli < 1000)
		return false;
	b->milli -= 1000;
	return true;
}

#endif

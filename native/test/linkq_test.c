/* Unit tests for the if.c link-state queue (core/linkq.h) and the token
 * bucket (core/tokens.h): DPDK-free headers. */
#include <stdio.h>
#include <stdlib.h>

#include "../core/linkq.h"
#include "../core/tokens.h"

#include "check.h"

/* Pop everything into out[]; returns how many. */
static unsigned
drain(uint32_t *q, uint8_t *out)
{
	unsigned n = 0;
	while (fp_linkq_pop(q, &out[n]))
		n++;
	return n;
}

static void
test_order_and_coalescing(void)
{
	uint32_t q = FP_LINKQ_EMPTY;
	uint8_t out[32];

	CHECK(!fp_linkq_pop(&q, &out[0]));
	CHECK(fp_linkq_push(&q, FP_LINK_DOWN) == 1);
	CHECK(fp_linkq_push(&q, FP_LINK_DOWN) == 0); /* duplicate of the last */
	CHECK(fp_linkq_push(&q, FP_LINK_UP) == 1);
	CHECK(fp_linkq_push(&q, FP_LINK_DOWN) == 1);
	CHECK(drain(&q, out) == 3);
	CHECK(out[0] == FP_LINK_DOWN && out[1] == FP_LINK_UP && out[2] == FP_LINK_DOWN);
	CHECK(q == FP_LINKQ_EMPTY);
	/* After a pop, a state equal to the one popped is queued again: only
	 * the queue's last entry coalesces (the consumer drops no-ops). */
	CHECK(fp_linkq_push(&q, FP_LINK_DOWN) == 1);
	printf("ok link states queue in order, consecutive duplicates coalesce\n");
}

static void
test_overflow_keeps_down(void)
{
	uint32_t q = FP_LINKQ_EMPTY;
	uint8_t out[32];
	unsigned i, n;

	/* DOWN, UP, DOWN, UP ... 20 alternating states into 16 slots. */
	for (i = 0; i < 16; i++)
		CHECK(fp_linkq_push(&q, i % 2 ? FP_LINK_UP : FP_LINK_DOWN) == 1);
	CHECK(fp_linkq_push(&q, FP_LINK_DOWN) == -1); /* overflow */
	n = drain(&q, out);
	CHECK(n == 16);
	/* The DOWN that was pushed off took the head: the consumer still
	 * sees a DOWN first, and the newest state last. */
	CHECK(out[0] == FP_LINK_DOWN);
	CHECK(out[15] == FP_LINK_DOWN);
	/* Overflow pushing off an UP just loses it. */
	q = FP_LINKQ_EMPTY;
	CHECK(fp_linkq_push(&q, FP_LINK_UP) == 1);
	for (i = 1; i < 16; i++)
		fp_linkq_push(&q, i % 2 ? FP_LINK_DOWN : FP_LINK_UP);
	CHECK(fp_linkq_push(&q, FP_LINK_UP) == -1);
	n = drain(&q, out);
	CHECK(n == 16 && out[0] == FP_LINK_DOWN && out[15] == FP_LINK_UP);
	printf("ok on overflow a DOWN is never lost\n");
}

static void
test_tokens(void)
{
	struct fp_tokens b = { 0, 0 };
	const uint64_t hz = 1000000000ull; /* 1 GHz */
	unsigned i, ok = 0;

	for (i = 0; i < 20; i++) /* burst 5 at t = 1 s */
		ok += fp_tokens_take(&b, hz, hz, 10, 5);
	CHECK(ok == 5);
	/* 0.5 s later at 10/s: 5 more. */
	for (i = 0, ok = 0; i < 20; i++)
		ok += fp_tokens_take(&b, hz + hz / 2, hz, 10, 5);
	CHECK(ok == 5);
	/* An hour later: full again, never more than the burst. */
	for (i = 0, ok = 0; i < 20; i++)
		ok += fp_tokens_take(&b, hz * 3600, hz, 10, 5);
	CHECK(ok == 5);
	/* Rate 0: nothing after the first burst. */
	b.last = 0;
	for (i = 0, ok = 0; i < 20; i++)
		ok += fp_tokens_take(&b, hz * (i + 1), hz, 0, 1);
	CHECK(ok == 1);
	printf("ok token bucket: burst, refill by elapsed time, cap\n");
}

int
main(void)
{
	test_order_and_coalescing();
	test_overflow_keeps_down();
	test_tokens();
	return checks_done();
}

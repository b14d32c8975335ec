/*
 * core/linkq.h — the link-state change queue of NetBSD's if.c
 * (if_link_state_change / if_link_state_change_si), DPDK-free.
 *
 * Each interface has a densely packed queue of pending link states, 2 bits
 * each (UNKNOWN 0, DOWN 1, UP 2; 3 = unset), 16 in a uint32_t. Pushing:
 *  - a state equal to the last queued one is dropped (consecutive
 *    duplicates coalesce);
 *  - on overflow the oldest state is pushed off, but a DOWN is never lost:
 *    if the state pushed off was DOWN, the new head becomes DOWN instead
 *    (so a consumer always sees the link go down before it comes back).
 * The consumer pops one state at a time and applies it only when it differs
 * from the current state (if_link_state_change0).
 */
#ifndef FP_LINKQ_H
#define FP_LINKQ_H

#include <stdbool.h>
#include <stdint.h>

enum fp_link_state {
	FP_LINK_UNKNOWN = 0,
	FP_LINK_DOWN = 1,
	FP_LINK_UP = 2,
};

#define FP_LINKQ_UNSET 3u
#define FP_LINKQ_BITS 2u
#define FP_LINKQ_MAX 16u /* states in a uint32_t */
#define FP_LINKQ_EMPTY UINT32_MAX

static inline uint8_t
fp_linkq_item(uint32_t q, unsigned i)
{
	return (uint8_t)((q >> (i * FP_LINKQ_BITS)) & FP_LINKQ_UNSET);
}

static inline void
fp_linkq_store(uint32_t *q, unsigned i, uint8_t v)
{
	*q &= ~(FP_LINKQ_UNSET << (i * FP_LINKQ_BITS));
	*q |= (uint32_t)v << (i * FP_LINKQ_BITS);
}

/* Queue a state. Returns 1 when queued, 0 when coalesced with the last
 * one, -1 when queued but an older state was lost to overflow. */
static inline int
fp_linkq_push(uint32_t *q, uint8_t state)
{
	unsigned idx;
	uint8_t lost;

	for (idx = 0; idx < FP_LINKQ_MAX; idx++)
		if (fp_linkq_item(*q, idx) == FP_LINKQ_UNSET)
			break;
	if (idx != 0 && fp_linkq_item(*q, idx - 1) == state)
		return 0;
	if (idx < FP_LINKQ_MAX) {
		fp_linkq_store(q, idx, state);
		return 1;
	}
	/* Full: push the oldest off; a DOWN pushed off takes the new head's
	 * place (UNKNOWN needs no protection: nothing goes back to it). */
	lost = fp_linkq_item(*q, 0);
	*q >>= FP_LINKQ_BITS;
	*q |= (uint32_t)state << ((FP_LINKQ_MAX - 1) * FP_LINKQ_BITS);
	if (lost == FP_LINK_DOWN)
		fp_linkq_store(q, 0, FP_LINK_DOWN);
	return -1;
}

/* Take the oldest queued state; false when the queue is empty. */
static inline bool
fp_linkq_pop(uint32_t *q, uint8_t *state)
{
	uint8_t v = fp_linkq_item(*q, 0);

	if (v == FP_LINKQ_UNSET)
		return false;
	*state = v;
	*q >>= FP_LINKQ_BITS;
	*q |= FP_LINKQ_UNSET << ((FP_LINKQ_MAX - 1) * FP_LINKQ_BITS);
	return true;
}

#endif

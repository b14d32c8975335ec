/*
 * fib_test.h — what the parts of the FIB test share (fib_test.c: EAL, the
 * defect, churn, exhaustion, lookups; fib_test_state.c: route state;
 * fib_test_groups.c: next-hop groups). Helpers are defined in fib_test.c.
 */
#ifndef FP_FIB_TEST_H
#define FP_FIB_TEST_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/fib.h"

struct rte_rcu_qsbr;

uint64_t rand64(void);
double secs(void);
void addr(uint8_t out[16], uint16_t a, uint16_t b, uint16_t c);
struct fp_route route(const uint8_t prefix[16], uint8_t plen, uint32_t nh);
struct rte_rcu_qsbr *qsbr_new(void);
/* Longest match over the list, as the data plane must answer. */
uint32_t ref_lookup(const struct fp_fib *fib, const uint8_t a[16]);

void test_route_state(void);
void test_rebuild_with_down_routes(void);
void test_groups(long cycles);

#endif

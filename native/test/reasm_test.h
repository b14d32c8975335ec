/*
 * reasm_test.h — what the parts of the reassembly test share (reasm_test.c
 * defines all of it; reasm_test_limits.c and reasm_test_fuzz.c use it).
 */
#ifndef FP_REASM_TEST_H
#define FP_REASM_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "../control/reasm.h"

#define EXT_HBH 1  /* Hop-by-Hop, 8 bytes (unfragmentable) */
#define EXT_DST1 2 /* Destination Options before Routing, 16 bytes */
#define EXT_RT 4   /* Routing, 24 bytes (unfragmentable) */
#define EXT_DST2 8 /* Destination Options after Routing, 8 bytes (fragmentable) */
#define MAXPKT (40 + 65535 + 64)

/* A datagram: its bytes, where its Unfragmentable Part ends and which byte
 * is the Next Header the Fragment header will be inserted after. */
struct dg {
	uint8_t b[MAXPKT];
	size_t len, ufl, uf_nh;
};

/* A fragment to send: offset, length, M. */
struct piece {
	uint32_t o, n;
	int m;
};

extern struct fp_reasm R;
extern uint8_t *mem;
extern struct fp_reasm_result res;
extern uint8_t *last_copy;
extern uint8_t fbuf[MAXPKT];
extern unsigned expired_calls;
extern uint8_t expired_quote[FP_REASM_QUOTE_MAX];
extern size_t expired_len;
extern struct dg D1, D2, D3, D4;
extern struct piece P[9000];

uint32_t rnd(void);
uint32_t rndn(uint32_t n);
uint32_t rd16(const uint8_t *p);
void wr16(uint8_t *p, uint32_t v);
void wr32(uint8_t *p, uint32_t v);
void build(struct dg *d, int exts, size_t payload, uint8_t src, uint32_t seed);
size_t mkfrag(uint8_t *f, const struct dg *d, uint32_t o, uint32_t n, int m, uint32_t ident);
unsigned plan(const struct dg *d, uint32_t size, struct piece *pc);
void shuffle(struct piece *pc, unsigned n);
struct fp_reasm * mk(const struct fp_reasm_cfg *cfg);
enum fp_reasm_verdict feed(const uint8_t *pkt, size_t len, uint64_t now);
enum fp_reasm_verdict feed_piece(const struct dg *d, const struct piece *pc, uint32_t ident, uint64_t now);
int is_dg(const struct dg *d);
int sane(const struct fp_reasm *r);
void on_expired(void *ctx, const uint8_t *quote, size_t len);

void test_sizes(void);
void test_limits(void);
void test_ecn(void);
void test_fuzz_bytes(void);
void test_fuzz_slices(void);
void test_split(void);
void test_zones(void);

#endif

/*
 * flowlabel_test.c — unit tests of the flow-label manager
 * (native/control/flowlabel.c), which has no DPDK or Node dependency.
 * Built and run by test/unit/flowlabel.test.ts. Time is driven by hand
 * (now_ms arguments); randomness is the seeded PRNG or a scripted function.
 * Prints one line per group; exits non-zero on the first failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../control/flowlabel.h"

#include "check.h"

/* Owners: A and A2 share a uid, A and AU2 share a pid, B is another user,
 * ROOT is privileged. */
static const struct fp_flowlabel_owner A = { 100, 1000 };
static const struct fp_flowlabel_owner A2 = { 101, 1000 };
static const struct fp_flowlabel_owner AU2 = { 100, 2000 };
static const struct fp_flowlabel_owner B = { 200, 2000 };
static const struct fp_flowlabel_owner ROOT = { 1, 0 };

/* Counting allocator: every test ends with nothing outstanding; fail_at
 * makes the n-th next allocation fail. */
static long live_allocs;
static int fail_at;

static void *
count_alloc(size_t size)
{
	void *p;

	if (fail_at > 0 && --fail_at == 0)
		return NULL;
	p = malloc(size);
	if (p)
		live_allocs++;
	return p;
}

static void
count_release(void *p)
{
	if (p)
		live_allocs--;
	free(p);
}

/* Scripted random: returns script[] in turn, then 1, 2, 3... */
static uint32_t script[8];
static unsigned script_len, script_pos, script_tail;

static uint32_t
scripted_random(void *ctx)
{
	(void)ctx;
	if (script_pos < script_len)
		return script[script_pos++];
	return ++script_tail;
}

static void
set_script(const uint32_t *v, unsigned n)
{
	memcpy(script, v, n * sizeof(*v));
	script_len = n;
	script_pos = 0;
	script_tail = 0;
}

/* A manager with the given state-ranges / consistency settings and the
 * counting allocator. */
static void
mgr_make(struct fp_flowlabel_mgr *m, bool state_ranges, bool consistency,
	 bool scripted)
{
	struct fp_flowlabel_config cfg;

	fp_flowlabel_config_default(&cfg);
	cfg.state_ranges = state_ranges;
	cfg.consistency = consistency;
	cfg.alloc = count_alloc;
	cfg.release = count_release;
	if (scripted)
		cfg.random = scripted_random;
	fp_flowlabel_init(m, &cfg);
}

/* Free a manager and check nothing leaked. */
static void
mgr_done(struct fp_flowlabel_mgr *m)
{
	CHECK(fp_flowlabel_free(m) == 0);
	CHECK(live_allocs == 0);
}

/* A request for 2001:db8::1. */
static struct fp_flowlabel_req
req(uint32_t label, uint8_t share, uint16_t flags, uint32_t linger_s,
    uint32_t expires_s)
{
	struct fp_flowlabel_req r;

	memset(&r, 0, sizeof(r));
	r.dst[0] = 0x20;
	r.dst[1] = 0x01;
	r.dst[2] = 0x0d;
	r.dst[3] = 0xb8;
	r.dst[15] = 1;
	r.label = label;
	r.share = share;
	r.flags = flags;
	r.linger_s = linger_s;
	r.expires_s = expires_s;
	return r;
}

/* Shorthand: get with a fresh request. */
static int
get(struct fp_flowlabel_mgr *m, struct fp_flowlabel_sock *sk,
    const struct fp_flowlabel_owner *o, uint32_t label, uint8_t share,
    uint16_t flags, uint64_t now)
{
	struct fp_flowlabel_req r = req(label, share, flags, 6, 6);

	return fp_flowlabel_get(m, sk, o, &r, now);
}

/* The listing row of a label, or NULL. */
static const struct fp_flowlabel_info *
row_of(const struct fp_flowlabel_mgr *m, uint32_t label, uint64_t now)
{
	static struct fp_flowlabel_info rows[64];
	size_t n = fp_flowlabel_list(m, rows, 64, now), i;

	for (i = 0; i < n && i < 64; i++)
		if (rows[i].label == label)
			return &rows[i];
	return NULL;
}

#define C FP_FLOWLABEL_F_CREATE
#define X FP_FLOWLABEL_F_EXCL

static void
test_create_get_put(void)
{
	struct fp_flowlabel_mgr m;
	struct fp_flowlabel_sock s1, s2;

	mgr_make(&m, true, true, false);
	fp_flowlabel_sock_init(&s1, false);
	fp_flowlabel_sock_init(&s2, false);
	CHECK(get(&m, &s1, &A, 0x12345, FP_FLOWLABEL_SHARE_ANY, C, 0) == 0x12345);
	CHECK(fp_flowlabel_count(&m) == 1);
	CHECK(fp_flowlabel_sock_count(&s1) == 1);
	/* Joining without create: the label is in use. */
	CHECK(get(&m, &s2, &B, 0x12345, FP_FLOWLABEL_SHARE_ANY, 0, 10) == 0x12345);
	CHECK(row_of(&m, 0x12345, 10)->users == 2);
	CHECK(fp_flowlabel_count(&m) == 1);
	/* The same socket may take a second lease of the same label. */
	CHECK(get(&m, &s1, &A, 0x12345, FP_FLOWLABEL_SHARE_ANY, C, 20) == 0x12345);
	CHECK(fp_flowlabel_sock_count(&s1) == 2);
	CHECK(row_of(&m, 0x12345, 20)->users == 3);
	CHECK(fp_flowlabel_put(&m, &s1, 0x12345, 0, 30) == 0);
	CHECK(fp_flowlabel_sock_count(&s1) == 1);
	CHECK(fp_flowlabel_put(&m, &s1, 0x12345, 0, 30) == 0);
	CHECK(fp_flowlabel_put(&m, &s1, 0x12345, 0, 30) == -ESRCH);
	CHECK(fp_flowlabel_put(&m, &s1, 0x54321, 0, 30) == -ESRCH);
	CHECK(row_of(&m, 0x12345, 30)->users == 1);
	CHECK(fp_flowlabel_gc_deadline(&m) == 0); /* still in use */
	CHECK(fp_flowlabel_put(&m, &s2, 0x12345, 0, 40) == 0);
	/* Released, lingering: still listed, no users, gc armed. */
	CHECK(fp_flowlabel_count(&m) == 1);
	CHECK(row_of(&m, 0x12345, 40)->users == 0);
	CHECK(fp_flowlabel_gc_deadline(&m) == 40 + 6000);
	/* Label 0 with create picks one, stateful range by default. */
	{
		int l = get(&m, &s1, &A, 0, FP_FLOWLABEL_SHARE_EXCL, C, 50);
		CHECK(l > 0 && l < 0x80000);
		CHECK(row_of(&m, (uint32_t)l, 50)->share == FP_FLOWLABEL_SHARE_EXCL);
	}
	fp_flowlabel_sock_close(&m, &s1, 60);
	fp_flowlabel_sock_close(&m, &s2, 60);
	mgr_done(&m);
	printf("ok create / join / put\n");
}

/* Expected outcome of owner o joining a label created by A with share. */
static void
join_case(uint8_t share, const struct fp_flowlabel_owner *o, uint8_t ask,
	  int expect)
{
	struct fp_flowlabel_mgr m;
	struct fp_flowlabel_sock s1, s2;
	int r;

	mgr_make(&m, true, true, false);
	fp_flowlabel_sock_init(&s1, false);
	fp_flowlabel_sock_init(&s2, false);
	CHECK(get(&m, &s1, &A, 0x777, share, C, 0) == 0x777);
	/* Both paths: plain join (fl_lookup) and join with create (recheck). */
	r = get(&m, &s2, o, 0x777, ask, 0, 1);
	CHECK(r == expect);
	r = get(&m, &s2, o, 0x777, ask, C, 2);
	CHECK(r == expect);
	CHECK(fp_flowlabel_sock_count(&s2) == (expect > 0 ? 2u : 0u));
	CHECK(row_of(&m, 0x777, 2)->users == (expect > 0 ? 3u : 1u));
	fp_flowlabel_sock_close(&m, &s1, 3);
	fp_flowlabel_sock_close(&m, &s2, 3);
	mgr_done(&m);
}

static void
test_share_modes(void)
{
	const int ok = 0x777;
	uint8_t S;

	/* EXCL: nobody joins, not the creator, not root. */
	S = FP_FLOWLABEL_SHARE_EXCL;
	join_case(S, &A, S, -EPERM);
	join_case(S, &A2, S, -EPERM);
	join_case(S, &B, S, -EPERM);
	join_case(S, &ROOT, S, -EPERM);
	/* PROCESS: same pid only (uid not looked at); root is not special. */
	S = FP_FLOWLABEL_SHARE_PROCESS;
	join_case(S, &A, S, ok);
	join_case(S, &AU2, S, ok);
	join_case(S, &A2, S, -EPERM);
	join_case(S, &B, S, -EPERM);
	join_case(S, &ROOT, S, -EPERM);
	/* USER: same uid only (pid not looked at). */
	S = FP_FLOWLABEL_SHARE_USER;
	join_case(S, &A, S, ok);
	join_case(S, &A2, S, ok);
	join_case(S, &AU2, S, -EPERM);
	join_case(S, &B, S, -EPERM);
	join_case(S, &ROOT, S, -EPERM);
	/* ANY: everyone asking for ANY. */
	S = FP_FLOWLABEL_SHARE_ANY;
	join_case(S, &A, S, ok);
	join_case(S, &A2, S, ok);
	join_case(S, &B, S, ok);
	join_case(S, &ROOT, S, ok);
	/* The requested share must equal the label's. */
	join_case(FP_FLOWLABEL_SHARE_ANY, &A, FP_FLOWLABEL_SHARE_USER, -EPERM);
	join_case(FP_FLOWLABEL_SHARE_USER, &A, FP_FLOWLABEL_SHARE_PROCESS, -EPERM);
	join_case(FP_FLOWLABEL_SHARE_PROCESS, &A, FP_FLOWLABEL_SHARE_ANY, -EPERM);
	/* NONE and unknown shares are not valid for get. */
	join_case(FP_FLOWLABEL_SHARE_ANY, &A, FP_FLOWLABEL_SHARE_NONE, -EINVAL);
	join_case(FP_FLOWLABEL_SHARE_ANY, &A, 7, -EINVAL);
	printf("ok share modes: excl / process / user / any, two owners\n");
}

static void
test_errors(void)
{
	struct fp_flowlabel_mgr m;
	struct fp_flowlabel_sock s1, s2;
	struct fp_flowlabel_req r;

	mgr_make(&m, true, true, false);
	fp_flowlabel_sock_init(&s1, false);
	fp_flowlabel_sock_init(&s2, false);
	/* ENOENT: no such label and no create. */
	CHECK(get(&m, &s1, &A, 0x5555, FP_FLOWLABEL_SHARE_ANY, 0, 0) == -ENOENT);
	CHECK(get(&m, &s1, &A, 0, FP_FLOWLABEL_SHARE_ANY, 0, 0) == -ENOENT);
	CHECK(fp_flowlabel_count(&m) == 0);
	/* EINVAL: label beyond 20 bits, bad destination, bad arguments. */
	CHECK(get(&m, &s1, &A, 0x100000, FP_FLOWLABEL_SHARE_ANY, C, 0) == -EINVAL);
	CHECK(get(&m, &s1, &A, 0xffffffff, FP_FLOWLABEL_SHARE_ANY, C, 0) == -EINVAL);
	r = req(0x10, FP_FLOWLABEL_SHARE_ANY, C, 6, 6);
	memset(r.dst, 0, 16);
	CHECK(fp_flowlabel_get(&m, &s1, &A, &r, 0) == -EINVAL);
	r.dst[10] = r.dst[11] = 0xff;
	r.dst[12] = 192;
	r.dst[15] = 1;
	CHECK(fp_flowlabel_get(&m, &s1, &A, &r, 0) == -EINVAL);
	r.dst[10] = 0; /* ::c000:1, v4-compatible, is allowed */
	r.dst[11] = 0;
	CHECK(fp_flowlabel_get(&m, &s1, &A, &r, 0) == 0x10);
	CHECK(fp_flowlabel_get(&m, &s1, &A, NULL, 0) == -EINVAL);
	CHECK(fp_flowlabel_get(&m, &s1, NULL, &r, 0) == -EINVAL);
	/* ERANGE: stateless range requested while state ranges are on. */
	CHECK(get(&m, &s1, &A, 0x80000, FP_FLOWLABEL_SHARE_ANY, C, 0) == -ERANGE);
	CHECK(get(&m, &s1, &A, 0xfffff, FP_FLOWLABEL_SHARE_ANY, C, 0) == -ERANGE);
	CHECK(get(&m, &s1, &A, 0x7ffff, FP_FLOWLABEL_SHARE_ANY, C, 0) == 0x7ffff);
	/* EEXIST: exclusive create of an existing label, from another socket
	 * or from the holder; EXCL is tested before the share. */
	CHECK(get(&m, &s1, &A, 0x20, FP_FLOWLABEL_SHARE_EXCL, C, 0) == 0x20);
	CHECK(get(&m, &s2, &B, 0x20, FP_FLOWLABEL_SHARE_EXCL, C | X, 0) == -EEXIST);
	CHECK(get(&m, &s1, &A, 0x20, FP_FLOWLABEL_SHARE_EXCL, C | X, 0) == -EEXIST);
	CHECK(get(&m, &s2, &B, 0x10, FP_FLOWLABEL_SHARE_ANY, C | X, 0) == -EEXIST);
	CHECK(get(&m, &s2, &B, 0x10, FP_FLOWLABEL_SHARE_ANY, X, 0) == -EEXIST);
	CHECK(row_of(&m, 0x20, 0)->users == 1);
	CHECK(row_of(&m, 0x10, 0)->users == 1);
	/* EPERM: too long a linger or lifetime for an unprivileged owner. */
	r = req(0x30, FP_FLOWLABEL_SHARE_ANY, C, 151, 6);
	CHECK(fp_flowlabel_get(&m, &s1, &A, &r, 0) == -EPERM);
	r = req(0x30, FP_FLOWLABEL_SHARE_ANY, C, 6, 151);
	CHECK(fp_flowlabel_get(&m, &s1, &A, &r, 0) == -EPERM);
	r = req(0x30, FP_FLOWLABEL_SHARE_ANY, C, 150, 150);
	CHECK(fp_flowlabel_get(&m, &s1, &A, &r, 0) == 0x30);
	r = req(0x31, FP_FLOWLABEL_SHARE_ANY, C, 1000, 3600);
	CHECK(fp_flowlabel_get(&m, &s1, &ROOT, &r, 0) == 0x31);
	CHECK(row_of(&m, 0x31, 0)->linger_s == 1000);
	CHECK(row_of(&m, 0x31, 0)->expires_in_s == 3600);
	CHECK(fp_flowlabel_count(&m) == 5);
	fp_flowlabel_sock_close(&m, &s1, 1);
	fp_flowlabel_sock_close(&m, &s2, 1);
	mgr_done(&m);
	printf("ok errors: ENOENT EINVAL ERANGE EEXIST EPERM\n");
}

static void
test_linger(void)
{
	struct fp_flowlabel_mgr m;
	struct fp_flowlabel_sock sa, sb;
	struct fp_flowlabel_req r;

	mgr_make(&m, true, true, false);
	fp_flowlabel_sock_init(&sa, false);
	fp_flowlabel_sock_init(&sb, false);
	r = req(0x400, FP_FLOWLABEL_SHARE_USER, C, 10, 0);
	CHECK(fp_flowlabel_get(&m, &sa, &A, &r, 0) == 0x400);
	/* expires below linger is raised to linger, minimum 6 s. */
	CHECK(row_of(&m, 0x400, 0)->linger_s == 10);
	CHECK(row_of(&m, 0x400, 0)->expires_in_s == 10);
	CHECK(fp_flowlabel_put(&m, &sa, 0x400, 0, 1000) == 0);
	CHECK(fp_flowlabel_gc_deadline(&m) == 11000);
	/* Lingering: not found without create, refused to another user. */
	CHECK(get(&m, &sb, &B, 0x400, FP_FLOWLABEL_SHARE_USER, 0, 1500) == -ENOENT);
	CHECK(get(&m, &sb, &B, 0x400, FP_FLOWLABEL_SHARE_USER, C, 2000) == -EPERM);
	CHECK(get(&m, &sb, &B, 0x400, FP_FLOWLABEL_SHARE_ANY, C, 2000) == -EPERM);
	CHECK(fp_flowlabel_sock_count(&sb) == 0);
	CHECK(row_of(&m, 0x400, 2000)->users == 0);
	/* The refused revival was a use: the linger restarted at 2 s. */
	CHECK(row_of(&m, 0x400, 2000)->expires_in_s == 10);
	CHECK(fp_flowlabel_gc(&m, 11500) == 12000);
	CHECK(fp_flowlabel_count(&m) == 1);
	CHECK(get(&m, &sb, &B, 0x400, FP_FLOWLABEL_SHARE_USER, C, 11900) == -EPERM);
	CHECK(fp_flowlabel_gc(&m, 12000) == 21900);
	CHECK(fp_flowlabel_gc(&m, 21899) == 21900);
	CHECK(fp_flowlabel_gc(&m, 21900) == 0);
	CHECK(fp_flowlabel_count(&m) == 0);
	CHECK(fp_flowlabel_gc_deadline(&m) == 0);
	/* Gone: now B may have it. */
	CHECK(get(&m, &sb, &B, 0x400, FP_FLOWLABEL_SHARE_USER, C, 22000) == 0x400);
	CHECK(row_of(&m, 0x400, 22000)->owner_uid == 2000);
	fp_flowlabel_sock_close(&m, &sb, 23000);

	/* The owner (same uid) revives a lingering label with create. */
	CHECK(get(&m, &sb, &B, 0x400, FP_FLOWLABEL_SHARE_USER, 0, 24000) == -ENOENT);
	CHECK(get(&m, &sb, &B, 0x400, FP_FLOWLABEL_SHARE_USER, C, 24000) == 0x400);
	CHECK(row_of(&m, 0x400, 24000)->users == 1);
	CHECK(fp_flowlabel_count(&m) == 1);
	/* ...but not with exclusive create: EEXIST. */
	fp_flowlabel_sock_close(&m, &sb, 25000);
	CHECK(get(&m, &sb, &B, 0x400, FP_FLOWLABEL_SHARE_USER, C | X, 25000) == -EEXIST);
	/* An EXCL label lingering is refused even to its creator. */
	CHECK(get(&m, &sa, &A, 0x401, FP_FLOWLABEL_SHARE_EXCL, C, 26000) == 0x401);
	fp_flowlabel_sock_close(&m, &sa, 26000);
	CHECK(get(&m, &sa, &A, 0x401, FP_FLOWLABEL_SHARE_EXCL, C, 27000) == -EPERM);
	/* gc arms for the earliest lingering label. */
	CHECK(fp_flowlabel_gc(&m, 28000) == 31000);
	CHECK(fp_flowlabel_gc(&m, 31000) == 33000);
	CHECK(fp_flowlabel_gc(&m, 33000) == 0);
	CHECK(fp_flowlabel_count(&m) == 0);
	mgr_done(&m);
	printf("ok linger after release, refusal, gc\n");
}

static void
test_expiry(void)
{
	struct fp_flowlabel_mgr m;
	struct fp_flowlabel_sock s;
	struct fp_flowlabel_req r;

	mgr_make(&m, true, true, false);
	fp_flowlabel_sock_init(&s, false);
	r = req(0x500, FP_FLOWLABEL_SHARE_ANY, C, 6, 100);
	CHECK(fp_flowlabel_get(&m, &s, &A, &r, 0) == 0x500);
	CHECK(fp_flowlabel_put(&m, &s, 0x500, 0, 1000) == 0);
	/* Lifetime (100 s) outlasts the linger (1 + 6 s). */
	CHECK(fp_flowlabel_gc_deadline(&m) == 100000);
	CHECK(fp_flowlabel_gc(&m, 50000) == 100000);
	CHECK(fp_flowlabel_count(&m) == 1);
	CHECK(row_of(&m, 0x500, 50000)->expires_in_s == 50);
	CHECK(fp_flowlabel_gc(&m, 100000) == 0);
	CHECK(fp_flowlabel_count(&m) == 0);
	/* A held label does not expire: gc keeps it and polls every 150 s. */
	r = req(0x501, FP_FLOWLABEL_SHARE_ANY, C, 6, 6);
	CHECK(fp_flowlabel_get(&m, &s, &A, &r, 200000) == 0x501);
	CHECK(fp_flowlabel_gc(&m, 300000) == 300000 + 150000);
	CHECK(fp_flowlabel_count(&m) == 1);
	CHECK(row_of(&m, 0x501, 300000)->expires_in_s == -94);
	/* Once released past its lifetime it still lingers 6 s. */
	CHECK(fp_flowlabel_put(&m, &s, 0x501, 0, 310000) == 0);
	/* The release re-arms gc earlier than the armed 450 s. */
	CHECK(fp_flowlabel_gc_deadline(&m) == 316000);
	CHECK(fp_flowlabel_gc(&m, 310000) == 316000);
	CHECK(fp_flowlabel_gc(&m, 316000) == 0);
	CHECK(fp_flowlabel_count(&m) == 0);
	/* Empty table: gc not armed. */
	CHECK(fp_flowlabel_gc(&m, 400000) == 0);
	mgr_done(&m);
	printf("ok expiry\n");
}

static void
test_limits_per_sock(void)
{
	struct fp_flowlabel_mgr m;
	struct fp_flowlabel_sock s, other, rs;
	uint32_t i;

	mgr_make(&m, true, true, false);
	fp_flowlabel_sock_init(&s, false);
	fp_flowlabel_sock_init(&other, false);
	fp_flowlabel_sock_init(&rs, false);
	CHECK(get(&m, &other, &B, 0x7000, FP_FLOWLABEL_SHARE_ANY, C, 0) == 0x7000);
	for (i = 1; i <= 31; i++)
		if (get(&m, &s, &A, i, FP_FLOWLABEL_SHARE_ANY, C, 0) != (int)i)
			break;
	CHECK(i == 32);
	/* Table of 32: the check starts; the socket holds 31, one more fits. */
	CHECK(get(&m, &s, &A, 32, FP_FLOWLABEL_SHARE_ANY, C, 0) == 32);
	CHECK(fp_flowlabel_sock_count(&s) == 32);
	CHECK(get(&m, &s, &A, 33, FP_FLOWLABEL_SHARE_ANY, C, 0) == -ENOBUFS);
	CHECK(get(&m, &s, &A, 0, FP_FLOWLABEL_SHARE_ANY, C, 0) == -ENOBUFS);
	/* Joining an existing label is not limited. */
	CHECK(get(&m, &s, &A, 0x7000, FP_FLOWLABEL_SHARE_ANY, 0, 0) == 0x7000);
	CHECK(fp_flowlabel_sock_count(&s) == 33);
	/* Another socket of the same owner still may. */
	CHECK(get(&m, &other, &A, 33, FP_FLOWLABEL_SHARE_ANY, C, 0) == 33);
	/* A privileged socket is not held to 32. */
	for (i = 0; i < 40; i++)
		if (get(&m, &rs, &ROOT, 0x100 + i, FP_FLOWLABEL_SHARE_ANY, C, 0) !=
		    (int)(0x100 + i))
			break;
	CHECK(i == 40);
	CHECK(fp_flowlabel_sock_count(&rs) == 40);
	/* Freeing a lease makes room again. */
	CHECK(fp_flowlabel_put(&m, &s, 1, 0, 0) == 0);
	CHECK(fp_flowlabel_put(&m, &s, 0x7000, 0, 0) == 0);
	CHECK(get(&m, &s, &A, 34, FP_FLOWLABEL_SHARE_ANY, C, 0) == 34);
	fp_flowlabel_sock_close(&m, &s, 0);
	fp_flowlabel_sock_close(&m, &other, 0);
	fp_flowlabel_sock_close(&m, &rs, 0);
	mgr_done(&m);
	printf("ok per-socket limit (ENOBUFS)\n");
}

/* Privileged creates of labels *next, *next + 1, ... until the table holds
 * size labels. */
static void
fill(struct fp_flowlabel_mgr *m, struct fp_flowlabel_sock *sk, uint32_t *next,
     uint32_t size)
{
	bool ok = true;

	while (ok && fp_flowlabel_count(m) < size) {
		ok = get(m, sk, &ROOT, *next, FP_FLOWLABEL_SHARE_ANY, C, 0) ==
		     (int)*next;
		(*next)++;
	}
	CHECK(ok);
}

static void
test_limits_global(void)
{
	struct fp_flowlabel_mgr m;
	struct fp_flowlabel_sock filler, u1, u2, u3, u4;
	uint32_t next = 1;

	mgr_make(&m, true, true, false);
	fp_flowlabel_sock_init(&filler, false);
	fp_flowlabel_sock_init(&u1, false);
	fp_flowlabel_sock_init(&u2, false);
	fp_flowlabel_sock_init(&u3, false);
	fp_flowlabel_sock_init(&u4, false);
	fill(&m, &filler, &next, 2047);
	/* room 2049: anyone. */
	CHECK(get(&m, &u1, &A, next, FP_FLOWLABEL_SHARE_ANY, C, 0) == (int)next);
	next++;
	/* room 2048: a socket holding labels still may (not < half). */
	CHECK(get(&m, &u1, &A, next, FP_FLOWLABEL_SHARE_ANY, C, 0) == (int)next);
	next++;
	/* room 2047: below half; a socket with labels may not, a new one may. */
	CHECK(get(&m, &u1, &A, next, FP_FLOWLABEL_SHARE_ANY, C, 0) == -ENOBUFS);
	CHECK(get(&m, &u2, &A, next, FP_FLOWLABEL_SHARE_ANY, C, 0) == (int)next);
	next++;
	CHECK(get(&m, &u1, &ROOT, next, FP_FLOWLABEL_SHARE_ANY, C, 0) == (int)next);
	next++;
	fill(&m, &filler, &next, 3072);
	/* room 1024: a new socket may; room 1023 (below a quarter): none. */
	CHECK(get(&m, &u3, &B, next, FP_FLOWLABEL_SHARE_ANY, C, 0) == (int)next);
	next++;
	CHECK(get(&m, &u4, &B, next, FP_FLOWLABEL_SHARE_ANY, C, 0) == -ENOBUFS);
	CHECK(get(&m, &u4, &B, 0, FP_FLOWLABEL_SHARE_ANY, C, 0) == -ENOBUFS);
	fill(&m, &filler, &next, FP_FLOWLABEL_MAX_SIZE);
	/* Full: not even root. */
	CHECK(get(&m, &filler, &ROOT, next, FP_FLOWLABEL_SHARE_ANY, C, 0) == -ENOBUFS);
	CHECK(get(&m, &u4, &ROOT, 0, FP_FLOWLABEL_SHARE_ANY, C, 0) == -ENOBUFS);
	CHECK(fp_flowlabel_count(&m) == FP_FLOWLABEL_MAX_SIZE);
	/* Joining still works when full. */
	CHECK(get(&m, &u4, &B, 1, FP_FLOWLABEL_SHARE_ANY, 0, 0) == 1);
	fp_flowlabel_sock_close(&m, &filler, 0);
	fp_flowlabel_sock_close(&m, &u1, 0);
	fp_flowlabel_sock_close(&m, &u2, 0);
	fp_flowlabel_sock_close(&m, &u3, 0);
	fp_flowlabel_sock_close(&m, &u4, 0);
	CHECK(fp_flowlabel_gc(&m, 6000) == 0);
	CHECK(fp_flowlabel_count(&m) == 0);
	mgr_done(&m);
	printf("ok global limits (half, quarter, full)\n");
}

static void
test_renew(void)
{
	struct fp_flowlabel_mgr m;
	struct fp_flowlabel_sock s, rs;
	struct fp_flowlabel_req r;
	const struct fp_flowlabel_info *row;

	mgr_make(&m, true, true, false);
	fp_flowlabel_sock_init(&s, false);
	fp_flowlabel_sock_init(&rs, false);
	r = req(0x600, FP_FLOWLABEL_SHARE_ANY, C, 0, 0);
	CHECK(fp_flowlabel_get(&m, &s, &A, &r, 0) == 0x600);
	/* 0 s is raised to the 6 s minimum. */
	row = row_of(&m, 0x600, 0);
	CHECK(row->linger_s == 6 && row->expires_in_s == 6);
	CHECK(fp_flowlabel_renew(&m, &s, &A, 0x600, FP_FLOWLABEL_SHARE_ANY, 100, 120,
				 1000) == 0);
	row = row_of(&m, 0x600, 1000);
	CHECK(row->linger_s == 100 && row->expires_in_s == 120);
	/* Never shortened: linger stays, expiry only moves later. */
	CHECK(fp_flowlabel_renew(&m, &s, &A, 0x600, FP_FLOWLABEL_SHARE_ANY, 10, 10,
				 2000) == 0);
	row = row_of(&m, 0x600, 2000);
	CHECK(row->linger_s == 100 && row->expires_in_s == 119);
	CHECK(fp_flowlabel_renew(&m, &s, &A, 0x600, FP_FLOWLABEL_SHARE_ANY, 10, 10,
				 30000) == 0);
	CHECK(row_of(&m, 0x600, 30000)->expires_in_s == 100); /* raised to linger */
	/* Unprivileged: above 150 s is EPERM, nothing changes. */
	CHECK(fp_flowlabel_renew(&m, &s, &A, 0x600, FP_FLOWLABEL_SHARE_ANY, 151, 10,
				 30000) == -EPERM);
	CHECK(fp_flowlabel_renew(&m, &s, &A, 0x600, FP_FLOWLABEL_SHARE_ANY, 10, 151,
				 30000) == -EPERM);
	CHECK(fp_flowlabel_renew(&m, &s, &A, 0x600, FP_FLOWLABEL_SHARE_ANY, 150, 150,
				 30000) == 0);
	row = row_of(&m, 0x600, 30000);
	CHECK(row->linger_s == 150 && row->expires_in_s == 150);
	/* Privileged: may go beyond. */
	CHECK(fp_flowlabel_renew(&m, &s, &ROOT, 0x600, FP_FLOWLABEL_SHARE_ANY, 1000,
				 86400, 30000) == 0);
	row = row_of(&m, 0x600, 30000);
	CHECK(row->linger_s == 1000 && row->expires_in_s == 86400);
	/* Not held: ESRCH, except root asking with share NONE for a label in
	 * use. */
	CHECK(fp_flowlabel_renew(&m, &rs, &A, 0x600, FP_FLOWLABEL_SHARE_NONE, 10, 10,
				 30000) == -ESRCH);
	CHECK(fp_flowlabel_renew(&m, &rs, &ROOT, 0x600, FP_FLOWLABEL_SHARE_ANY, 10, 10,
				 30000) == -ESRCH);
	CHECK(fp_flowlabel_renew(&m, &rs, &ROOT, 0x600, FP_FLOWLABEL_SHARE_NONE, 2000,
				 10, 30000) == 0);
	CHECK(row_of(&m, 0x600, 30000)->linger_s == 2000);
	CHECK(row_of(&m, 0x600, 30000)->users == 1);
	CHECK(fp_flowlabel_gc_deadline(&m) == 0);
	CHECK(fp_flowlabel_renew(&m, &rs, &ROOT, 0x601, FP_FLOWLABEL_SHARE_NONE, 10, 10,
				 30000) == -ESRCH);
	/* A lingering label cannot be renewed by anyone. */
	CHECK(fp_flowlabel_put(&m, &s, 0x600, 0, 40000) == 0);
	CHECK(fp_flowlabel_renew(&m, &s, &A, 0x600, FP_FLOWLABEL_SHARE_NONE, 10, 10,
				 40000) == -ESRCH);
	CHECK(fp_flowlabel_renew(&m, &rs, &ROOT, 0x600, FP_FLOWLABEL_SHARE_NONE, 10, 10,
				 40000) == -ESRCH);
	/* Lifetime (86400 s from 30 s) outlasts the linger (2000 s from 40 s). */
	CHECK(fp_flowlabel_gc_deadline(&m) == 30000 + 86400000);
	/* Join merges: the longer linger and the later expiry win. */
	r = req(0x602, FP_FLOWLABEL_SHARE_ANY, C, 6, 6);
	CHECK(fp_flowlabel_get(&m, &s, &A, &r, 50000) == 0x602);
	r = req(0x602, FP_FLOWLABEL_SHARE_ANY, 0, 60, 90);
	CHECK(fp_flowlabel_get(&m, &rs, &B, &r, 51000) == 0x602);
	row = row_of(&m, 0x602, 51000);
	CHECK(row->linger_s == 60 && row->expires_in_s == 90);
	fp_flowlabel_sock_close(&m, &s, 60000);
	fp_flowlabel_sock_close(&m, &rs, 60000);
	mgr_done(&m);
	printf("ok renew: minimum, maximum, privileged, never shorter\n");
}

static void
test_state_ranges(void)
{
	struct fp_flowlabel_mgr m, m2;
	struct fp_flowlabel_sock s, s2;
	int i, l, l2, high = 0;

	/* On, scripted draws: 0 and pure-stateless draws are skipped, the
	 * stateless bit is cleared, taken labels are skipped. */
	mgr_make(&m, true, true, true);
	fp_flowlabel_sock_init(&s, false);
	set_script((const uint32_t[]){ 0, 0x80000, 0xabcde }, 3);
	CHECK(get(&m, &s, &ROOT, 0, FP_FLOWLABEL_SHARE_ANY, C, 0) == 0x2bcde);
	set_script((const uint32_t[]){ 0xabcde, 0x2bcde, 0xfff00042 }, 3);
	CHECK(get(&m, &s, &ROOT, 0, FP_FLOWLABEL_SHARE_ANY, C, 0) == 0x42);
	CHECK(script_pos == 3);
	/* A lingering label is taken too. */
	CHECK(fp_flowlabel_put(&m, &s, 0x42, 0, 0) == 0);
	set_script((const uint32_t[]){ 0x42 }, 1);
	CHECK(get(&m, &s, &ROOT, 0, FP_FLOWLABEL_SHARE_ANY, C, 0) == 1);
	fp_flowlabel_sock_close(&m, &s, 0);
	mgr_done(&m);

	/* Off: stateless labels may be requested and drawn. */
	mgr_make(&m, false, true, true);
	fp_flowlabel_sock_init(&s, false);
	CHECK(get(&m, &s, &A, 0x80000, FP_FLOWLABEL_SHARE_ANY, C, 0) == 0x80000);
	CHECK(get(&m, &s, &A, 0xfffff, FP_FLOWLABEL_SHARE_ANY, C, 0) == 0xfffff);
	CHECK(get(&m, &s, &A, 0x100000, FP_FLOWLABEL_SHARE_ANY, C, 0) == -EINVAL);
	set_script((const uint32_t[]){ 0xfff9abcd }, 1);
	CHECK(get(&m, &s, &A, 0, FP_FLOWLABEL_SHARE_ANY, C, 0) == 0x9abcd);
	fp_flowlabel_sock_close(&m, &s, 0);
	mgr_done(&m);

	/* Built-in PRNG: same seed, same labels; on keeps them < 0x80000. */
	mgr_make(&m, true, true, false);
	mgr_make(&m2, true, true, false);
	fp_flowlabel_sock_init(&s, false);
	fp_flowlabel_sock_init(&s2, false);
	for (i = 0; i < 200; i++) {
		l = get(&m, &s, &ROOT, 0, FP_FLOWLABEL_SHARE_ANY, C, 0);
		l2 = get(&m2, &s2, &ROOT, 0, FP_FLOWLABEL_SHARE_ANY, C, 0);
		if (l <= 0 || l >= 0x80000 || l != l2)
			break;
	}
	CHECK(i == 200);
	CHECK(fp_flowlabel_count(&m) == 200); /* all distinct */
	fp_flowlabel_sock_close(&m, &s, 0);
	fp_flowlabel_sock_close(&m2, &s2, 0);
	CHECK(fp_flowlabel_free(&m2) == 0);
	mgr_done(&m);
	/* Off: the stateless half is drawn too. */
	mgr_make(&m, false, true, false);
	fp_flowlabel_sock_init(&s, false);
	for (i = 0; i < 200; i++) {
		l = get(&m, &s, &ROOT, 0, FP_FLOWLABEL_SHARE_ANY, C, 0);
		if (l <= 0 || l > 0xfffff)
			break;
		high += l >= 0x80000;
	}
	CHECK(i == 200);
	CHECK(high > 50 && high < 150);
	fp_flowlabel_sock_close(&m, &s, 0);
	mgr_done(&m);
	/* Defaults are Linux's. */
	{
		struct fp_flowlabel_config cfg;

		fp_flowlabel_config_default(&cfg);
		CHECK(cfg.state_ranges && cfg.consistency);
		fp_flowlabel_init(&m, NULL);
		CHECK(m.cfg.state_ranges && m.cfg.alloc && m.cfg.release);
		CHECK(fp_flowlabel_free(&m) == 0);
	}
	printf("ok state ranges on / off, deterministic draws\n");
}

static void
test_listing(void)
{
	struct fp_flowlabel_mgr m;
	struct fp_flowlabel_sock s1, s2, s3;
	struct fp_flowlabel_info rows[8];
	const struct fp_flowlabel_info *row;
	struct fp_flowlabel_req r;

	mgr_make(&m, true, true, false);
	fp_flowlabel_sock_init(&s1, false);
	fp_flowlabel_sock_init(&s2, false);
	fp_flowlabel_sock_init(&s3, false);
	r = req(0x101, FP_FLOWLABEL_SHARE_PROCESS, C, 20, 30);
	r.dst[15] = 0x55;
	CHECK(fp_flowlabel_get(&m, &s1, &A, &r, 1000) == 0x101);
	CHECK(get(&m, &s2, &A2, 0x202, FP_FLOWLABEL_SHARE_USER, C, 1000) == 0x202);
	CHECK(get(&m, &s3, &B, 0x303, FP_FLOWLABEL_SHARE_ANY, C, 1000) == 0x303);
	CHECK(get(&m, &s2, &B, 0x303, FP_FLOWLABEL_SHARE_ANY, 0, 1000) == 0x303);
	CHECK(get(&m, &s3, &B, 0x404, FP_FLOWLABEL_SHARE_EXCL, C, 1000) == 0x404);
	CHECK(fp_flowlabel_list(&m, rows, 8, 2000) == 4);
	/* Hash order: buckets 0x01, 0x02, 0x03, 0x04. */
	CHECK(rows[0].label == 0x101 && rows[1].label == 0x202);
	CHECK(rows[2].label == 0x303 && rows[3].label == 0x404);
	row = &rows[0];
	CHECK(row->share == FP_FLOWLABEL_SHARE_PROCESS);
	CHECK(row->owner_pid == 100 && row->owner_uid == 0);
	CHECK(row->users == 1 && row->linger_s == 20 && row->expires_in_s == 29);
	CHECK(row->dst[0] == 0x20 && row->dst[3] == 0xb8 && row->dst[15] == 0x55);
	row = &rows[1];
	CHECK(row->share == FP_FLOWLABEL_SHARE_USER);
	CHECK(row->owner_pid == 0 && row->owner_uid == 1000);
	row = &rows[2];
	CHECK(row->share == FP_FLOWLABEL_SHARE_ANY && row->users == 2);
	CHECK(row->owner_pid == 0 && row->owner_uid == 0);
	CHECK(rows[3].share == FP_FLOWLABEL_SHARE_EXCL && rows[3].owner_pid == 0);
	/* A short array gets what fits; the total still comes back. */
	memset(rows, 0xee, sizeof(rows));
	CHECK(fp_flowlabel_list(&m, rows, 2, 2000) == 4);
	CHECK(rows[1].label == 0x202 && rows[2].label == 0xeeeeeeee);
	CHECK(fp_flowlabel_list(&m, NULL, 0, 2000) == 4);
	CHECK(fp_flowlabel_sock_count(&s1) == 1);
	CHECK(fp_flowlabel_sock_count(&s2) == 2);
	CHECK(fp_flowlabel_sock_count(&s3) == 2);
	fp_flowlabel_sock_close(&m, &s1, 3000);
	fp_flowlabel_sock_close(&m, &s2, 3000);
	fp_flowlabel_sock_close(&m, &s3, 3000);
	mgr_done(&m);
	printf("ok listing rows and counts\n");
}

static void
test_close(void)
{
	struct fp_flowlabel_mgr m;
	struct fp_flowlabel_sock s1, s2;

	mgr_make(&m, true, true, false);
	fp_flowlabel_sock_init(&s1, false);
	fp_flowlabel_sock_init(&s2, false);
	CHECK(get(&m, &s1, &A, 0x11, FP_FLOWLABEL_SHARE_ANY, C, 0) == 0x11);
	CHECK(get(&m, &s1, &A, 0x12, FP_FLOWLABEL_SHARE_USER, C, 0) == 0x12);
	CHECK(get(&m, &s1, &A, 0x13, FP_FLOWLABEL_SHARE_EXCL, C, 0) == 0x13);
	CHECK(get(&m, &s2, &B, 0x11, FP_FLOWLABEL_SHARE_ANY, 0, 0) == 0x11);
	fp_flowlabel_sock_close(&m, &s1, 5000);
	CHECK(fp_flowlabel_sock_count(&s1) == 0 && s1.leases == NULL);
	CHECK(fp_flowlabel_count(&m) == 3);
	CHECK(row_of(&m, 0x11, 5000)->users == 1);
	CHECK(row_of(&m, 0x12, 5000)->users == 0);
	CHECK(row_of(&m, 0x13, 5000)->users == 0);
	CHECK(fp_flowlabel_gc_deadline(&m) == 11000);
	CHECK(fp_flowlabel_gc(&m, 11000) == 11000 + 150000);
	CHECK(fp_flowlabel_count(&m) == 1);
	/* Closing twice is harmless. */
	fp_flowlabel_sock_close(&m, &s1, 12000);
	fp_flowlabel_sock_close(&m, &s2, 12000);
	CHECK(fp_flowlabel_gc(&m, 18000) == 0);
	CHECK(fp_flowlabel_count(&m) == 0);
	/* free() reports labels still held by an open socket. */
	CHECK(get(&m, &s2, &B, 0x14, FP_FLOWLABEL_SHARE_ANY, C, 20000) == 0x14);
	CHECK(fp_flowlabel_free(&m) == 1);
	m.cfg.release(s2.leases); /* the socket's lease, left behind */
	CHECK(live_allocs == 0);
	printf("ok socket close releases everything\n");
}

static void
test_send(void)
{
	struct fp_flowlabel_mgr m;
	struct fp_flowlabel_sock s1, s2;
	struct fp_flowlabel_req out;

	mgr_make(&m, true, true, false);
	fp_flowlabel_sock_init(&s1, false);
	fp_flowlabel_sock_init(&s2, false);
	CHECK(get(&m, &s1, &A, 0x8888, FP_FLOWLABEL_SHARE_ANY, C, 0) == 0x8888);
	CHECK(fp_flowlabel_send_check(&m, &s1, 0, 0) == 0);
	CHECK(fp_flowlabel_send_check(&m, &s2, 0, 0) == 0);
	CHECK(fp_flowlabel_send_check(&m, &s1, 0x8888, 0) == 0);
	/* Traffic-class bits above the label are ignored. */
	CHECK(fp_flowlabel_send_check(&m, &s1, 0x0ab08888, 0) == 0);
	CHECK(fp_flowlabel_send_check(&m, &s1, 0x0ab00000, 0) == 0);
	/* In the table but not held by this socket: EINVAL. */
	CHECK(fp_flowlabel_send_check(&m, &s2, 0x8888, 0) == -EINVAL);
	CHECK(fp_flowlabel_send_check(&m, &s1, 0x9999, 0) == -EINVAL);
	/* Connect sets the sending label; getsockopt reports its lease. */
	CHECK(fp_flowlabel_sock_set_label(&m, &s2, 0x8888, 0) == -EINVAL);
	CHECK(s2.flow_label == 0);
	CHECK(fp_flowlabel_opt_get(&m, &s1, 0, &out, 0) == -ENOENT);
	CHECK(fp_flowlabel_sock_set_label(&m, &s1, 0x8888, 0) == 0);
	CHECK(s1.flow_label == 0x8888);
	CHECK(fp_flowlabel_opt_get(&m, &s1, 0, &out, 2000) == 0);
	CHECK(out.label == 0x8888 && out.share == FP_FLOWLABEL_SHARE_ANY);
	CHECK(out.linger_s == 6 && out.expires_s == 4 && out.dst[15] == 1);
	CHECK(fp_flowlabel_opt_get(&m, &s1, 0, &out, 9000) == 0 && out.expires_s == 0);
	/* Put of the sending label clears it; sending with it fails. */
	CHECK(fp_flowlabel_put(&m, &s1, 0x8888, 0, 3000) == 0);
	CHECK(s1.flow_label == 0);
	CHECK(fp_flowlabel_send_check(&m, &s1, 0x8888, 3000) == -EINVAL);
	CHECK(fp_flowlabel_opt_get(&m, &s1, 0, &out, 3000) == -ENOENT);
	/* F_REMOTE: the label last received. */
	s2.rcv_flowinfo = 0x0a0abcde;
	CHECK(fp_flowlabel_opt_get(&m, &s2, FP_FLOWLABEL_F_REMOTE, &out, 0) == 0);
	CHECK(out.label == 0xabcde);
	fp_flowlabel_sock_close(&m, &s1, 4000);
	fp_flowlabel_sock_close(&m, &s2, 4000);
	mgr_done(&m);
	printf("ok send check, connect, getsockopt\n");
}

static void
test_reflect(void)
{
	struct fp_flowlabel_mgr m;
	struct fp_flowlabel_sock udp, tcp;
	struct fp_flowlabel_req r = req(0, 0, FP_FLOWLABEL_F_REFLECT, 0, 0), out;

	/* Consistency on (the default): refused. */
	mgr_make(&m, true, true, false);
	fp_flowlabel_sock_init(&tcp, true);
	CHECK(fp_flowlabel_get(&m, &tcp, &A, &r, 0) == -EPERM);
	CHECK(!tcp.reflect);
	mgr_done(&m);

	mgr_make(&m, true, false, false);
	fp_flowlabel_sock_init(&udp, false);
	fp_flowlabel_sock_init(&tcp, true);
	CHECK(fp_flowlabel_get(&m, &udp, &A, &r, 0) == -ENOPROTOOPT);
	CHECK(fp_flowlabel_put(&m, &udp, 0, FP_FLOWLABEL_F_REFLECT, 0) == -ENOPROTOOPT);
	CHECK(fp_flowlabel_put(&m, &tcp, 0, FP_FLOWLABEL_F_REFLECT, 0) == -ESRCH);
	CHECK(fp_flowlabel_get(&m, &tcp, &A, &r, 0) == 0);
	CHECK(tcp.reflect && fp_flowlabel_count(&m) == 0);
	/* While reflecting, getsockopt gives the echoed label. */
	tcp.flow_label = 0x4321;
	CHECK(fp_flowlabel_opt_get(&m, &tcp, 0, &out, 0) == 0 && out.label == 0x4321);
	CHECK(fp_flowlabel_put(&m, &tcp, 0, FP_FLOWLABEL_F_REFLECT, 0) == 0);
	CHECK(!tcp.reflect && tcp.flow_label == 0);
	CHECK(fp_flowlabel_put(&m, &tcp, 0, FP_FLOWLABEL_F_REFLECT, 0) == -ESRCH);
	mgr_done(&m);
	printf("ok reflect flag\n");
}

static void
test_nomem(void)
{
	struct fp_flowlabel_mgr m;
	struct fp_flowlabel_sock s1, s2;

	mgr_make(&m, true, true, false);
	fp_flowlabel_sock_init(&s1, false);
	fp_flowlabel_sock_init(&s2, false);
	fail_at = 1; /* the label */
	CHECK(get(&m, &s1, &A, 0x10, FP_FLOWLABEL_SHARE_ANY, C, 0) == -ENOMEM);
	fail_at = 2; /* the socket's lease */
	CHECK(get(&m, &s1, &A, 0x10, FP_FLOWLABEL_SHARE_ANY, C, 0) == -ENOMEM);
	CHECK(fp_flowlabel_count(&m) == 0 && live_allocs == 0);
	fail_at = 0;
	CHECK(get(&m, &s1, &A, 0x10, FP_FLOWLABEL_SHARE_ANY, C, 0) == 0x10);
	fail_at = 2; /* a join without a lease entry */
	CHECK(get(&m, &s2, &B, 0x10, FP_FLOWLABEL_SHARE_ANY, 0, 0) == -ENOMEM);
	CHECK(row_of(&m, 0x10, 0)->users == 1);
	CHECK(fp_flowlabel_sock_count(&s2) == 0);
	fail_at = 0;
	fp_flowlabel_sock_close(&m, &s1, 0);
	mgr_done(&m);
	printf("ok ENOMEM leaves nothing behind\n");
}

int
main(void)
{
	test_create_get_put();
	test_share_modes();
	test_errors();
	test_linger();
	test_expiry();
	test_limits_per_sock();
	test_limits_global();
	test_renew();
	test_state_ranges();
	test_listing();
	test_close();
	test_send();
	test_reflect();
	test_nomem();
	return checks_done();
}

/*
 * trie6_test.c — core/trie6.c against a reference longest-prefix match (a
 * linear scan of the route set), with EAL (--no-huge) for its tables.
 *
 * Random adds, next-hop rewrites and deletes of nested prefixes (lengths
 * 0..128, first bytes drawn from small pools so that prefixes cover each
 * other, next hops from a small range so that neighbouring entries are
 * often alike and groups fold); after each round, lookups of addresses
 * inside the routes and around them must give the reference's next hop and
 * prefix length, and the groups in use must equal those of a trie built
 * fresh from the same routes in another order (groups depend on the routes
 * alone: nothing leaks with churn). Then: a refused add (-ENOSPC) writes
 * nothing, and deleting everything leaves no group in use.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "../core/trie6.h"
#include "check.h"
#include "eal_test.h"

#define MAX_ROUTES 1500

struct ref_route {
	uint8_t p[16];
	uint8_t plen;
	uint32_t nh;
};

static struct ref_route routes[MAX_ROUTES];
static unsigned nroutes;
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void
mask(uint8_t *p, uint8_t plen)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		int bits = (int)plen - (int)i * 8;
		p[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
}

static bool
covers(const uint8_t *p, uint8_t plen, const uint8_t *a)
{
	uint8_t m[16];

	memcpy(m, a, 16);
	mask(m, plen);
	return memcmp(m, p, 16) == 0;
}

/* An address from small pools per byte, so that prefixes nest. */
static void
random_addr(uint8_t a[16])
{
	static const uint8_t b0[] = { 0x20, 0x20, 0x20, 0x26, 0xfc };
	unsigned i;

	a[0] = b0[rnd() % 5];
	a[1] = (uint8_t)(rnd() % 3);
	a[2] = (uint8_t)(rnd() % 4 * 0x40);
	for (i = 3; i < 16; i++)
		a[i] = (uint8_t)(rnd() % 4 == 0 ? rnd() : rnd() % 3);
}

static uint8_t
random_plen(void)
{
	/* Short prefixes rarely: each writes up to 2^24 first-level entries. */
	static const uint8_t shortl[] = { 0, 8, 16, 20 };
	static const uint8_t lens[] = { 23, 24, 25, 29, 32, 36, 40, 44, 47, 48, 48, 48,
					52, 56, 60, 64, 64, 72, 96, 120, 127, 128 };
	return rnd() % 40 == 0 ? shortl[rnd() % 4] : lens[rnd() % sizeof(lens)];
}

static int
ref_find(const uint8_t *p, uint8_t plen)
{
	unsigned i;

	for (i = 0; i < nroutes; i++)
		if (routes[i].plen == plen && memcmp(routes[i].p, p, 16) == 0)
			return (int)i;
	return -1;
}

/* Longest route covering a, with plen below `below` (129: any). */
static int
ref_lookup(const uint8_t *a, unsigned below)
{
	int best = -1;
	unsigned i;

	for (i = 0; i < nroutes; i++)
		if (routes[i].plen < below && covers(routes[i].p, routes[i].plen, a) &&
		    (best < 0 || routes[i].plen > routes[best].plen))
			best = (int)i;
	return best;
}

/* The bulk lookup (level by level over a vector) against single lookups. */
static unsigned
check_bulk(const struct fp_trie6 *t, uint8_t (*batch)[16], unsigned n)
{
	uint32_t nh[32];
	unsigned bad = 0, i;

	fp_trie6_lookup_bulk(t, (const uint8_t (*)[16])batch, nh, n);
	for (i = 0; i < n; i++)
		if (nh[i] != fp_trie6_lookup(t, batch[i]) && bad++ < 5)
			printf("  bulk lookup mismatch at %u: %u, single %u\n", i, nh[i],
			       fp_trie6_lookup(t, batch[i]));
	return bad;
}

static unsigned
check_lookups(const struct fp_trie6 *t, unsigned n)
{
	uint8_t batch[32][16];
	unsigned bad = 0, k, nbatch = 0;

	for (k = 0; k < n; k++) {
		uint8_t a[16], len, i;
		uint32_t nh, nh2;
		int r;

		random_addr(a);
		if (nroutes > 0 && k % 2 == 0) {
			/* Inside a route: its bits, then random host bits. */
			const struct ref_route *rt = &routes[rnd() % nroutes];
			for (i = 0; i < 16; i++) {
				int bits = (int)rt->plen - i * 8;
				uint8_t m = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
				a[i] = (uint8_t)((rt->p[i] & m) | (a[i] & ~m));
			}
		}
		r = ref_lookup(a, 129);
		nh = fp_trie6_lookup(t, a);
		nh2 = fp_trie6_lookup_len(t, a, &len);
		if (nh != (r < 0 ? 0u : routes[r].nh) || nh2 != nh ||
		    (r >= 0 && len != routes[r].plen)) {
			if (bad++ < 5)
				printf("  lookup mismatch: trie nh %u len %u, reference nh %u len %d\n",
				       nh, len, r < 0 ? 0u : routes[r].nh, r < 0 ? -1 : routes[r].plen);
		}
		memcpy(batch[nbatch++], a, 16);
		if (nbatch == 32 || k + 1 == n) {
			/* Vectors of every size, as the workers' are. */
			bad += check_bulk(t, batch, nbatch > 7 ? nbatch - (k / 32) % 7 : nbatch);
			nbatch = 0;
		}
	}
	return bad;
}

/* Groups a fresh trie needs for the same routes, added in reverse order. */
static uint32_t
fresh_groups(uint32_t ngroups)
{
	struct fp_trie6 *f = fp_trie6_create(ngroups, -1);
	uint32_t g;
	int i;

	CHECK(f != NULL);
	for (i = (int)nroutes - 1; i >= 0; i--)
		CHECK(fp_trie6_add(f, routes[i].p, routes[i].plen, routes[i].nh) == 0);
	g = fp_trie6_groups_in_use(f);
	fp_trie6_free(f);
	return g;
}

static void
test_random(void)
{
	const uint32_t ngroups = 60000;
	struct fp_trie6 *t = fp_trie6_create(ngroups, -1);
	unsigned round, op, adds = 0, dels = 0, rewrites = 0;

	CHECK(t != NULL);
	EXPECT(fp_trie6_groups_in_use(t) == 0, "a new trie uses groups");
	EXPECT(check_lookups(t, 200) == 0, "an empty trie answers");
	for (round = 0; round < 40; round++) {
		/* Grow for the first half, shrink in the second. */
		unsigned add_share = round < 20 ? 75 : 30;

		for (op = 0; op < 150; op++) {
			if (nroutes > 0 && rnd() % 100 >= add_share) {
				unsigned v = rnd() % nroutes;
				int c = ref_lookup(routes[v].p, routes[v].plen);
				int rc = fp_trie6_delete(t, routes[v].p, routes[v].plen,
							 c < 0 ? 0 : routes[c].nh,
							 c < 0 ? 0 : routes[c].plen);
				EXPECT(rc == 0, "delete /%u: %d", routes[v].plen, rc);
				routes[v] = routes[--nroutes];
				dels++;
			} else if (nroutes < MAX_ROUTES) {
				struct ref_route r;
				int have;

				random_addr(r.p);
				r.plen = random_plen();
				mask(r.p, r.plen);
				r.nh = 1 + rnd() % 6;
				EXPECT(fp_trie6_add(t, r.p, r.plen, r.nh) == 0, "add /%u", r.plen);
				have = ref_find(r.p, r.plen);
				if (have >= 0) {
					routes[have].nh = r.nh; /* a rewrite of its next hop */
					rewrites++;
				} else {
					routes[nroutes++] = r;
					adds++;
				}
			}
		}
		EXPECT(check_lookups(t, 600) == 0, "round %u: lookups differ from the reference", round);
		if (round % 8 == 7) {
			uint32_t g = fresh_groups(ngroups);
			EXPECT(fp_trie6_groups_in_use(t) == g,
			       "round %u: %u groups in use after churn, %u for the same routes built fresh",
			       round, fp_trie6_groups_in_use(t), g);
		}
	}
	printf("-- random: %u adds, %u rewrites, %u deletes, %u routes left, %u groups in use\n",
	       adds, rewrites, dels, nroutes, fp_trie6_groups_in_use(t));
	/* Delete the rest, longest first (each one's cover is still there). */
	while (nroutes > 0) {
		unsigned v = 0, i;
		int c;

		for (i = 1; i < nroutes; i++)
			if (routes[i].plen > routes[v].plen)
				v = i;
		c = ref_lookup(routes[v].p, routes[v].plen);
		EXPECT(fp_trie6_delete(t, routes[v].p, routes[v].plen, c < 0 ? 0 : routes[c].nh,
				       c < 0 ? 0 : routes[c].plen) == 0, "final delete");
		routes[v] = routes[--nroutes];
	}
	EXPECT(fp_trie6_groups_in_use(t) == 0, "%u groups in use with no route",
	       fp_trie6_groups_in_use(t));
	EXPECT(check_lookups(t, 500) == 0, "an emptied trie answers");
	fp_trie6_free(t);
}

static void
test_exhaustion(void)
{
	struct fp_trie6 *t = fp_trie6_create(3, -1);
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01 };
	uint8_t b[16] = { 0x20, 0x01, 0x0d, 0xb9, 0x00, 0x01 };
	uint8_t c[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02 };
	uint8_t len;

	CHECK(t != NULL);
	EXPECT(fp_trie6_add(t, a, 48, 7) == 0, "a lone /48 takes 3 groups");
	EXPECT(fp_trie6_groups_in_use(t) == 3, "a lone /48 uses %u groups", fp_trie6_groups_in_use(t));
	EXPECT(fp_trie6_add(t, b, 48, 8) == -ENOSPC, "a second /48 elsewhere fits in no group");
	EXPECT(fp_trie6_lookup(t, b) == 0 && fp_trie6_lookup(t, a) == 7 &&
	       fp_trie6_groups_in_use(t) == 3, "a refused add wrote something");
	EXPECT(fp_trie6_add(t, c, 40, 9) == 0, "a /40 on the /48's path needs no group");
	EXPECT(fp_trie6_lookup_len(t, c, &len) == 9 && len == 40, "the /40 answers");
	EXPECT(fp_trie6_add(t, a, 48, 10) == 0 && fp_trie6_lookup(t, a) == 10,
	       "a rewrite of a next hop needs no group");
	EXPECT(fp_trie6_delete(t, a, 48, 9, 40) == 0 && fp_trie6_lookup(t, a) == 9,
	       "the /48 deleted, its addresses go to the /40");
	EXPECT(fp_trie6_groups_in_use(t) == 2, "a /40 alone uses %u groups, want 2",
	       fp_trie6_groups_in_use(t));
	EXPECT(fp_trie6_add(t, a, 24, 11) == 0 && fp_trie6_lookup(t, b) == 11 &&
	       fp_trie6_lookup(t, c) == 9, "a /24 under the /40");
	EXPECT(fp_trie6_delete(t, c, 40, 11, 24) == 0 && fp_trie6_groups_in_use(t) == 0 &&
	       fp_trie6_lookup(t, c) == 11, "the /40 deleted: its groups fold into the /24");
	EXPECT(fp_trie6_add(t, a, 0, 12) == 0 && fp_trie6_lookup(t, (uint8_t[16]){ 0xfe }) == 12,
	       "a default route");
	EXPECT(fp_trie6_delete(t, a, 24, 12, 0) == 0 && fp_trie6_lookup(t, b) == 12,
	       "the /24 deleted: the default answers");
	fp_trie6_free(t);

	/* 256 sibling /32s with one next hop: the group under their /24 is
	 * uniform but must stay (it holds /32s), so that one can be deleted. */
	t = fp_trie6_create(3, -1);
	CHECK(t != NULL);
	for (unsigned i = 0; i < 256; i++) {
		a[3] = (uint8_t)i;
		CHECK(fp_trie6_add(t, a, 32, 5) == 0);
	}
	EXPECT(fp_trie6_groups_in_use(t) == 1, "256 sibling /32s use %u groups, want 1",
	       fp_trie6_groups_in_use(t));
	a[3] = 7;
	EXPECT(fp_trie6_delete(t, a, 32, 0, 0) == 0 && fp_trie6_lookup(t, a) == 0, "one /32 deleted");
	a[3] = 8;
	EXPECT(fp_trie6_lookup_len(t, a, &len) == 5 && len == 32, "its sibling stays");
	EXPECT(fp_trie6_add(t, a, 129, 1) == -EINVAL && fp_trie6_add(t, a, 64, 0) == -EINVAL &&
	       fp_trie6_add(t, a, 64, FP_TRIE6_EXT) == -EINVAL, "bad arguments");
	fp_trie6_free(t);
}

int
main(void)
{
	if (fp_test_eal_start("trietest", "512") < 0)
		return 1;
	test_exhaustion();
	test_random();
	fp_test_eal_stop("trietest");
	return checks_done();
}

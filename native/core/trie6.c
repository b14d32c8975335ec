/*
 * core/trie6.c — the IPv6 DIR-24-8 trie; see core/trie6.h for the rules.
 *
 * The one invariant that keeps groups exact: a group exists only where it
 * is needed, i.e. its 256 entries differ, or they are alike but were
 * written by a prefix longer than the group's parent entry covers (a /32
 * under a /24 entry). Every change re-checks the groups it touched (the
 * path, bottom up, and each group a range walked into) and folds those that
 * are no longer needed back into their parent entry. So a prefix longer than
 * an entry's span always has its own path of groups, and a delete finds it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "trie6.h"

/* Levels below tbl24: bytes 3..15 of the address. */
#define TRIE6_MAX_LEVELS 13

/* What a change writes: an add overwrites entries a prefix no longer than
 * it wrote; a delete gives the entries it wrote to the cover. */
struct trie6_change {
	bool del;
	uint8_t plen;
	uint32_t nh;
	uint32_t cover_nh;
	uint8_t cover_len;
};

uint64_t
fp_trie6_table_bytes(uint32_t ngroups)
{
	return (uint64_t)FP_TRIE6_TBL24 * 4 + (uint64_t)ngroups * 256 * 4;
}

uint64_t
fp_trie6_control_bytes(uint32_t ngroups)
{
	return (uint64_t)FP_TRIE6_TBL24 + (uint64_t)ngroups * (256 + 4);
}

struct fp_trie6 *
fp_trie6_create(uint32_t ngroups, int socket_id)
{
	struct fp_trie6 *t;
	uint32_t i;

	if (ngroups > FP_TRIE6_MAX_GROUPS)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->ngroups = ngroups;
	t->tbl24 = rte_zmalloc_socket("fp_trie6_tbl24", (size_t)FP_TRIE6_TBL24 * 4,
				      64, socket_id);
	t->tbl8 = rte_malloc_socket("fp_trie6_tbl8", (size_t)(ngroups ? ngroups : 1) * 1024,
				    64, socket_id);
	t->len24 = calloc(FP_TRIE6_TBL24, 1);
	t->len8 = malloc((size_t)(ngroups ? ngroups : 1) * 256);
	t->free_groups = malloc((size_t)(ngroups ? ngroups : 1) * sizeof(uint32_t));
	if (t->tbl24 == NULL || t->tbl8 == NULL || t->len24 == NULL ||
	    t->len8 == NULL || t->free_groups == NULL) {
		fp_trie6_free(t);
		return NULL;
	}
	/* Popped from the top: group 0 first. A group's entries are written
	 * whole when it is taken, so free groups need no clearing. */
	for (i = 0; i < ngroups; i++)
		t->free_groups[i] = ngroups - 1 - i;
	t->nfree = ngroups;
	return t;
}

void
fp_trie6_free(struct fp_trie6 *t)
{
	if (t == NULL)
		return;
	rte_free(t->tbl24);
	rte_free(t->tbl8);
	free(t->len24);
	free(t->len8);
	free(t->free_groups);
	free(t);
}

/* Take a free group and fill it with the entry it replaces. */
static uint32_t
group_take(struct fp_trie6 *t, uint32_t e, uint8_t len)
{
	uint32_t g = t->free_groups[--t->nfree];
	uint32_t *ent = &t->tbl8[(size_t)g << 8];
	unsigned j;

	for (j = 0; j < 256; j++)
		ent[j] = e;
	memset(&t->len8[(size_t)g << 8], len, 256);
	return g;
}

/* Fold the group under *ent back into it when the group is not needed: all
 * entries alike, none a group, written by a prefix no longer than `span`
 * (the prefix length *ent stands for). */
static void
group_fold(struct fp_trie6 *t, uint32_t *ent, uint8_t *len, unsigned span)
{
	uint32_t g, e0, *ent8;
	uint8_t l0, *len8;

	if (!(*ent & FP_TRIE6_EXT))
		return;
	g = *ent & ~FP_TRIE6_EXT;
	ent8 = &t->tbl8[(size_t)g << 8];
	len8 = &t->len8[(size_t)g << 8];
	e0 = ent8[0];
	l0 = len8[0];
	/* Alike when each entry equals the next (memcmp is vectorised). */
	if ((e0 & FP_TRIE6_EXT) || l0 > span || memcmp(len8, len8 + 1, 255) != 0 ||
	    memcmp(ent8, ent8 + 1, 255 * sizeof(*ent8)) != 0)
		return;
	*ent = e0;
	*len = l0;
	t->free_groups[t->nfree++] = g;
}

/* Apply a change to one entry wholly inside the changed prefix; `span` is
 * the prefix length the entry stands for. */
static void
apply_entry(struct fp_trie6 *t, uint32_t *ent, uint8_t *len,
	    const struct trie6_change *c, unsigned span)
{
	if (*ent & FP_TRIE6_EXT) {
		size_t base = (size_t)(*ent & ~FP_TRIE6_EXT) << 8;
		unsigned j;

		for (j = 0; j < 256; j++)
			apply_entry(t, &t->tbl8[base + j], &t->len8[base + j], c, span + 8);
		group_fold(t, ent, len, span);
		return;
	}
	if (!c->del) {
		if (*len <= c->plen) {
			*ent = c->nh;
			*len = c->plen;
		}
	} else if (*len == c->plen) {
		*ent = c->cover_nh;
		*len = c->cover_len;
	}
}

static void
mask_prefix(uint8_t out[16], const uint8_t in[16], uint8_t plen)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		int bits = (int)plen - (int)i * 8;
		out[i] = in[i] & (bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits)));
	}
}

static int
trie6_change(struct fp_trie6 *t, const uint8_t prefix[16], const struct trie6_change *c)
{
	uint32_t *pe[TRIE6_MAX_LEVELS];
	uint8_t *pl[TRIE6_MAX_LEVELS], p[16];
	uint32_t idx, start, count, i;
	unsigned levels, l;
	int k;

	mask_prefix(p, prefix, c->plen);
	idx = fp_trie6_tbl24_index(p);
	if (c->plen <= 24) {
		count = 1u << (24 - c->plen);
		for (i = 0; i < count; i++)
			apply_entry(t, &t->tbl24[idx + i], &t->len24[idx + i], c, 24);
		return 0;
	}
	levels = (c->plen - 24 + 7u) / 8u;
	pe[0] = &t->tbl24[idx];
	pl[0] = &t->len24[idx];
	if (!c->del) {
		/* Count the groups the path lacks before writing anything. */
		uint32_t e = *pe[0], need = 0;

		for (l = 0; l < levels; l++) {
			if (!(e & FP_TRIE6_EXT)) {
				need = levels - l;
				break;
			}
			if (l + 1 < levels)
				e = t->tbl8[(size_t)(e & ~FP_TRIE6_EXT) << 8 | p[3 + l]];
		}
		if (need > t->nfree)
			return -ENOSPC;
	}
	for (l = 0; l < levels; l++) {
		size_t base;

		if (!(*pe[l] & FP_TRIE6_EXT)) {
			if (c->del)
				return -ENOENT; /* not in the trie (see the invariant) */
			*pe[l] = FP_TRIE6_EXT | group_take(t, *pe[l], *pl[l]);
		}
		base = (size_t)(*pe[l] & ~FP_TRIE6_EXT) << 8;
		if (l + 1 < levels) {
			pe[l + 1] = &t->tbl8[base + p[3 + l]];
			pl[l + 1] = &t->len8[base + p[3 + l]];
			continue;
		}
		start = p[3 + l];
		count = 1u << (8 - (c->plen - 24 - 8 * l));
		for (i = 0; i < count; i++)
			apply_entry(t, &t->tbl8[base + start + i], &t->len8[base + start + i],
				    c, 32 + 8 * l);
	}
	/* After an add the path's groups hold the new prefix (longer than
	 * any of them spans): none can fold. */
	if (c->del)
		for (k = (int)levels - 1; k >= 0; k--)
			group_fold(t, pe[k], pl[k], 24 + 8 * (unsigned)k);
	return 0;
}

int
fp_trie6_add(struct fp_trie6 *t, const uint8_t prefix[16], uint8_t plen,
	     uint32_t nh)
{
	struct trie6_change c = { .del = false, .plen = plen, .nh = nh };

	if (plen > 128 || nh == 0 || (nh & FP_TRIE6_EXT))
		return -EINVAL;
	return trie6_change(t, prefix, &c);
}

int
fp_trie6_delete(struct fp_trie6 *t, const uint8_t prefix[16], uint8_t plen,
		uint32_t cover_nh, uint8_t cover_len)
{
	struct trie6_change c = { .del = true, .plen = plen, .cover_nh = cover_nh,
				  .cover_len = cover_len };

	if (plen > 128 || (cover_nh & FP_TRIE6_EXT) || (cover_nh != 0 && cover_len >= plen))
		return -EINVAL;
	if (cover_nh == 0)
		c.cover_len = 0;
	return trie6_change(t, prefix, &c);
}

uint32_t
fp_trie6_lookup_len(const struct fp_trie6 *t, const uint8_t addr[16], uint8_t *plen)
{
	size_t k = fp_trie6_tbl24_index(addr);
	uint32_t e = t->tbl24[k];
	uint8_t len = t->len24[k];
	unsigned i = 3;

	while (e & FP_TRIE6_EXT) {
		k = (size_t)(e & ~FP_TRIE6_EXT) << 8 | addr[i++];
		e = t->tbl8[k];
		len = t->len8[k];
	}
	*plen = len;
	return e;
}

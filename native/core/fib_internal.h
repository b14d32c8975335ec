/*
 * core/fib_internal.h — what core/fib.c shares with core/fib_batch.c (the
 * batch changes): the index, the per-copy primitives and the rebuild. Not
 * for other files: everything here assumes fp_router.ctl_lock is held and
 * the copy named is inactive unless said.
 */
#ifndef FP_FIB_INTERNAL_H
#define FP_FIB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fib.h"

/* The index key: a masked prefix and its length, zero-padded. */
struct fib_key {
	uint8_t prefix[16];
	uint8_t plen;
	uint8_t pad[3];
};

/* One change, as applied to a copy or replayed into a rebuilt one. */
struct fib_change {
	bool add; /* of an existing prefix: its next hop rewritten */
	const struct fp_route *route; /* masked */
	const struct fp_route *cover; /* a delete's (fib_cover), NULL: none */
};

void fib_key_make(struct fib_key *k, const uint8_t prefix[16], uint8_t plen);
/* The index: a new key (counted per prefix length, for the cover search),
 * an existing key moved to another position, a key removed. */
int fib_index_add(struct fp_fib *fib, const uint8_t prefix[16], uint8_t plen,
		  uint32_t pos);
void fib_index_move(struct fp_fib *fib, const struct fp_route *r, uint32_t pos);
void fib_index_del(struct fp_fib *fib, const uint8_t prefix[16], uint8_t plen);
/* The longest up route of the list that covers r (other than r), or NULL:
 * where a delete of r sends r's addresses. When several routes leave a
 * copy, the longest go first, so that each one's cover is still in it. */
const struct fp_route *fib_cover(const struct fp_fib *fib, const struct fp_route *r);
/* Add a route to / delete it from one copy (with its cover). */
int fib_copy_add(struct fp_fib *fib, int slot, const struct fp_route *r);
int fib_copy_delete(struct fp_fib *fib, int slot, const struct fp_route *r,
		    const struct fp_route *cover);
/* Recreate copy[slot] from the list's up routes, leaving out `skip` and the
 * positions whose skip_pos byte is set (either may be NULL). */
int fib_copy_rebuild(struct fp_fib *fib, int slot, const struct fp_route *skip);
int fib_copy_rebuild_mask(struct fp_fib *fib, int slot, const struct fp_route *skip,
			  const uint8_t *skip_pos);
/* Make copy[next] the active one and wait until no worker can be reading
 * the other (one QSBR grace period). */
void fib_publish(struct fp_fib *fib, int next);
/* Say why the FIB refused an add. */
void fib_add_error(const struct fp_fib *fib, int rc, char *errmsg, size_t errlen);

#endif

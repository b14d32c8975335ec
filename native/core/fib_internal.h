/*
 * core/fib_internal.h — what core/fib.c shares with core/fib_batch.c (the
 * batch changes): the index key, the per-copy primitives that keep the
 * tbl8 reservation exact, and the rebuild. Not for other files: everything
 * here assumes fp_router.ctl_lock is held and the copy named is inactive
 * unless said.
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
	bool add;
	bool replace; /* with add: the route exists; only its next hop changes */
	const struct fp_route *route; /* masked */
};

void fib_key_make(struct fib_key *k, const uint8_t prefix[16], uint8_t plen);
/* Add to / delete from one copy, keeping what the add reserved (core/fib.h,
 * "the reservation defect"). */
int fib_copy_add(struct fp_fib *fib, int slot, const struct fp_route *r,
		 uint8_t *reserved);
int fib_copy_delete(struct fp_fib *fib, int slot, const struct fp_route *r,
		    uint8_t reserved);
/* Recreate copy[slot] from the list's up routes, leaving out `skip` and the
 * positions whose skip_pos byte is set (either may be NULL). */
int fib_copy_rebuild(struct fp_fib *fib, int slot, const struct fp_route *skip);
int fib_copy_rebuild_mask(struct fp_fib *fib, int slot, const struct fp_route *skip,
			  const uint8_t *skip_pos);
/* Whether a failed change may have left part of itself in the copy. */
bool fib_copy_maybe_torn(const struct fp_fib *fib, int slot);
/* Make copy[next] the active one and wait until no worker can be reading
 * the other (one QSBR grace period). */
void fib_publish(struct fp_fib *fib, int next);
/* Say why the FIB refused an add. */
void fib_add_error(const struct fp_fib *fib, int rc, char *errmsg, size_t errlen);

#endif

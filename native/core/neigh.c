/*
 * core/neigh.c — neighbour table; see core/neigh.h. Writers hold ctl_lock.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "neigh.h"

int
fp_neigh_init(struct fp_neigh_table *t, uint32_t max, struct rte_rcu_qsbr *qsbr,
	      char *errmsg, size_t errlen)
{
	static unsigned instance;
	struct rte_hash_parameters hp;
	char name[64];

	memset(t, 0, sizeof(*t));
	t->entries = rte_zmalloc("fp_neigh", sizeof(*t->entries) * max, 64);
	if (t->entries == NULL) {
		snprintf(errmsg, errlen, "no memory for %u neighbours", max);
		return -ENOMEM;
	}
	snprintf(name, sizeof(name), "fp_neigh_%u", ++instance);
	memset(&hp, 0, sizeof(hp));
	hp.name = name;
	hp.entries = max < 8 ? 8 : max;
	hp.key_len = sizeof(struct fp_neigh_key);
	hp.hash_func = rte_jhash;
	hp.socket_id = SOCKET_ID_ANY;
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			RTE_HASH_EXTRA_FLAGS_NO_FREE_ON_DEL;
	t->index = rte_hash_create(&hp);
	if (t->index == NULL) {
		snprintf(errmsg, errlen, "rte_hash_create(neighbours): %s",
			 rte_strerror(rte_errno));
		rte_free(t->entries);
		t->entries = NULL;
		return -ENOMEM;
	}
	t->max = max;
	t->qsbr = qsbr;
	return 0;
}

void
fp_neigh_free(struct fp_neigh_table *t)
{
	rte_hash_free(t->index);
	rte_free(t->entries);
	memset(t, 0, sizeof(*t));
}

static void
neigh_key(struct fp_neigh_key *k, const uint8_t addr[16], uint16_t port_idx)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, addr, 16);
	k->port_idx = port_idx;
}

int
fp_neigh_lookup(const struct fp_neigh_table *t, const uint8_t addr[16],
		uint16_t port_idx)
{
	struct fp_neigh_key k;
	void *data;

	neigh_key(&k, addr, port_idx);
	if (rte_hash_lookup_data(t->index, &k, &data) < 0)
		return -1;
	return (int)(uintptr_t)data;
}

/* Write an entry's MAC and state under its sequence lock. */
static void
neigh_write(struct fp_neigh *n, const uint8_t mac[6], uint8_t state)
{
	__atomic_add_fetch(&n->seq, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (mac != NULL)
		memcpy(n->mac, mac, 6);
	else
		memset(n->mac, 0, 6);
	n->state = state;
	n->updated_tsc = rte_rdtsc();
	__atomic_add_fetch(&n->seq, 1, __ATOMIC_RELEASE);
}

int
fp_neigh_get(struct fp_neigh_table *t, const uint8_t addr[16],
	     uint16_t port_idx, bool create)
{
	struct fp_neigh_key k;
	uint32_t i;
	int rc;

	rc = fp_neigh_lookup(t, addr, port_idx);
	if (rc >= 0 || !create)
		return rc >= 0 ? rc : -ENOENT;
	for (i = 0; i < t->max; i++)
		if (!t->entries[i].in_use)
			break;
	if (i == t->max)
		return -ENOSPC;
	struct fp_neigh *n = &t->entries[i];
	neigh_write(n, NULL, FP_NEIGH_NONE);
	memcpy(n->addr, addr, 16);
	n->port_idx = port_idx;
	n->route_refs = 0;
	n->probes = 0;
	n->nud_deadline = 0;
	n->last_used = rte_rdtsc();
	n->in_use = true;
	neigh_key(&k, addr, port_idx);
	rc = rte_hash_add_key_data(t->index, &k, (void *)(uintptr_t)i);
	if (rc < 0) {
		n->in_use = false;
		return rc == -ENOSPC ? -ENOSPC : rc;
	}
	t->count++;
	return (int)i;
}

int
fp_neigh_set(struct fp_neigh_table *t, const uint8_t addr[16],
	     uint16_t port_idx, const uint8_t mac[6], uint8_t state)
{
	int idx = fp_neigh_get(t, addr, port_idx, true);

	if (idx < 0)
		return idx;
	neigh_write(&t->entries[idx], mac, state);
	return idx;
}

void
fp_neigh_set_state(struct fp_neigh_table *t, uint32_t idx, uint8_t state)
{
	struct fp_neigh *n = &t->entries[idx];
	uint8_t mac[6];

	memcpy(mac, n->mac, 6);
	neigh_write(n, mac, state);
}

/* Remove an entry from the index and free it after a grace period. */
static void
neigh_release(struct fp_neigh_table *t, uint32_t idx)
{
	struct fp_neigh *n = &t->entries[idx];
	struct fp_neigh_key k;
	int32_t pos;

	neigh_key(&k, n->addr, n->port_idx);
	pos = rte_hash_del_key(t->index, &k);
	rte_rcu_qsbr_synchronize(t->qsbr, RTE_QSBR_THRID_INVALID);
	if (pos >= 0)
		rte_hash_free_key_with_position(t->index, pos);
	neigh_write(n, NULL, FP_NEIGH_NONE);
	n->in_use = false;
	t->count--;
}

int
fp_neigh_delete(struct fp_neigh_table *t, const uint8_t addr[16],
		uint16_t port_idx)
{
	int idx = fp_neigh_lookup(t, addr, port_idx);
	struct fp_neigh *n;

	if (idx < 0)
		return -ENOENT;
	n = &t->entries[idx];
	if (n->state == FP_NEIGH_NONE)
		return -ENOENT; /* a route's placeholder, nothing to delete */
	if (n->route_refs > 0)
		neigh_write(n, NULL, FP_NEIGH_NONE);
	else
		neigh_release(t, (uint32_t)idx);
	return 0;
}

void
fp_neigh_unref(struct fp_neigh_table *t, uint32_t idx)
{
	struct fp_neigh *n = &t->entries[idx];

	if (n->route_refs > 0)
		n->route_refs--;
	if (n->route_refs == 0 && n->state == FP_NEIGH_NONE && n->in_use)
		neigh_release(t, idx);
}

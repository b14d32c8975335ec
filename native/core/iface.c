/*
 * core/iface.c — interfaces after NetBSD if.c: admin state, cloned VLAN and
 * loopback interfaces, promiscuous/allmulti references, MTU. Under ctl_lock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <rte_ethdev.h>

#include "proto.h"
#include "internal.h"
#include "router.h"

int
fp_port_set_up(uint16_t port_idx, bool up, struct fp_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running || port_idx >= fp_router.nports ||
	    !fp_router.ports[port_idx].in_use)
		rc = fp_err_set(err, ENOENT, "no such interface");
	else if (fp_router.ports[port_idx].up != up) {
		/* Routes follow (core/routes.c). Going down, its routes leave
		 * first, while it still sends, and their generation bump is
		 * seen by every worker (a grace period: no vector still holds
		 * the old generation) before it stops: flows move to the
		 * remaining routes without a window of port_down drops.
		 * Coming up, it is up before its routes return. */
		if (!up && fp_routes_follow_links_locked(port_idx) > 0)
			rte_rcu_qsbr_synchronize(fp_router.qsbr, RTE_QSBR_THRID_INVALID);
		fp_router.ports[port_idx].up = up;
		if (up)
			fp_router.ports[port_idx].up_count++;
		fp_generation_bump();
		if (up)
			fp_routes_follow_links_locked(-1);
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

/* ---- cloned interfaces ------------------------------------------------------ */

static int port_flag_ref(struct fp_port *port, uint32_t *count, bool on, bool allmulti,
			 struct fp_err *err);

/* Interface idx if it exists (in use, router running); else NULL, with
 * ENOENT in err and *rc. Caller holds ctl_lock. */
static struct fp_port *
iface_locked(uint16_t idx, struct fp_err *err, int *rc)
{
	if (!fp_router.running || idx >= fp_router.nports || !fp_router.ports[idx].in_use) {
		*rc = fp_err_set(err, ENOENT, "no such interface");
		return NULL;
	}
	return &fp_router.ports[idx];
}

static int
iface_by_name_locked(const char *name)
{
	uint32_t i;

	for (i = 0; i < fp_router.nports; i++)
		if (fp_router.ports[i].in_use && strcmp(fp_router.ports[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Remove every route through interface idx (static, connected, local) and
 * every neighbour on it. Caller holds ctl_lock. */
static void
iface_forget_locked(uint16_t idx)
{
	struct fp_route old;
	uint32_t i;

	for (i = fp_router.fib.nroutes; i-- > 0;) {
		struct fp_route r = fp_router.fib.routes[i];
		if (!fp_route_uses_port(&r, idx))
			continue;
		if (fp_fib_delete(&fp_router.fib, r.prefix, r.plen, &old) == 0) {
			fp_router.ctl_ctr[FP_CCTR_route_changes]++;
			if (old.state == FP_ROUTE_UP)
				fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
			fp_route_release_locked(&old);
		}
	}
	for (i = 0; i < fp_router.neigh.max; i++) {
		const struct fp_neigh *n = &fp_router.neigh.entries[i];
		if (n->in_use && n->port_idx == idx && n->state != FP_NEIGH_NONE)
			fp_neigh_delete(&fp_router.neigh, n->addr, n->port_idx);
	}
}

/*
 * A destroyed clone's slot for a new interface, or UINT32_MAX. Safe to take:
 * its destroy waited a grace period (no lcore is inside a vector that saw
 * it), removed its routes and neighbours, told the protocols (sockets bound
 * to it stop, its DAD, RA and MLD state go) and bumped the generation (flow
 * entries naming it are stale). What is left of it is its counters: each
 * worker's per-interface counters, which no lcore writes for a slot not in
 * use, start again from zero for the new interface.
 */
static uint32_t
iface_reusable_slot_locked(void)
{
	uint32_t i, w;

	for (i = fp_router.nphys; i < fp_router.nports; i++) {
		if (fp_router.ports[i].in_use || fp_router.ports[i].kind == FP_IF_PORT)
			continue;
		for (w = 0; w < fp_router.nworkers; w++)
			memset(fp_router.lcores[w]->port_ctr[i], 0,
			       sizeof(fp_router.lcores[w]->port_ctr[i]));
		/* Again now: the control thread may have touched the slot's
		 * protocol state once more after the destroy's reset. */
		fp_proto_iface_removed((uint16_t)i);
		return i;
	}
	return UINT32_MAX;
}

int
fp_iface_clone(uint8_t kind, const char *name, uint16_t parent, uint16_t vlan_id,
	       const struct fp_addr *addrs, uint32_t naddrs, struct fp_err *err)
{
	struct fp_port *port, *par = NULL;
	uint32_t idx, a;
	int rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	/* Also between start and launch: clones from the config exist before
	 * the first packet. */
	if (!fp_router.running) {
		rc = fp_err_set(err, EINVAL, "no router is running");
		goto out;
	}
	if (iface_by_name_locked(name) >= 0) {
		rc = fp_err_set(err, EEXIST, "an interface named '%s' exists", name);
		goto out;
	}
	if (kind == FP_IF_VLAN) {
		if (parent >= fp_router.nphys || !fp_router.ports[parent].in_use) {
			rc = fp_err_set(err, EINVAL, "parent: a VLAN's parent must be a port");
			goto out;
		}
		if (vlan_id == 0 || vlan_id >= FP_VLAN_IDS - 1) {
			rc = fp_err_set(err, EINVAL, "vlan: %u is not a VLAN id (1..4094)", vlan_id);
			goto out;
		}
		if (fp_router.vlan_map[parent][vlan_id] != 0) {
			rc = fp_err_set(err, EEXIST, "vlan: %s already has VLAN %u (%s)",
					fp_router.ports[parent].name, vlan_id,
					fp_router.ports[fp_router.vlan_map[parent][vlan_id] - 1].name);
			goto out;
		}
		par = &fp_router.ports[parent];
	} else if (kind != FP_IF_LOOP) {
		rc = fp_err_set(err, EINVAL, "no such cloner");
		goto out;
	}
	if (naddrs > FP_MAX_ADDRS) {
		rc = fp_err_set(err, EINVAL, "addresses: at most %u", FP_MAX_ADDRS);
		goto out;
	}
	for (a = 0; a < naddrs; a++) {
		if (fp_addr_is_local_usable(addrs[a].addr) ||
		    fp_fib_find(&fp_router.fib, addrs[a].addr, 128) != NULL) {
			rc = fp_err_set(err, EEXIST, "addresses[%u]: already assigned or routed as a /128", a);
			goto out;
		}
	}
	idx = fp_router.nports;
	if (idx >= FP_MAX_IFACES) {
		/* Every slot has been used once: take a destroyed clone's. Fresh
		 * slots go first so that an index names one interface for as
		 * long as possible (events and listings in flight say indexes). */
		idx = iface_reusable_slot_locked();
		if (idx == UINT32_MAX) {
			rc = fp_err_set(err, ENOSPC, "no interface slot left (%u in use)",
					FP_MAX_IFACES);
			goto out;
		}
	}
	port = &fp_router.ports[idx];
	memset(port, 0, sizeof(*port));
	snprintf(port->name, sizeof(port->name), "%s", name);
	port->kind = kind;
	port->ifindex = (uint16_t)(idx + 1);
	port->ctl_txq = -1;
	port->link_queue = FP_LINKQ_EMPTY;
	if (par != NULL) {
		port->parent = parent;
		port->vlan_id = vlan_id;
		port->port_id = par->port_id;
		port->mac = par->mac;
		port->mac64 = par->mac64;
		port->mtu = par->mtu;
		port->dad_transmits = par->dad_transmits;
		port->mld_version = par->mld_version;
		port->link_state = par->link_state;
		snprintf(port->device, sizeof(port->device), "%s.%u", par->name, vlan_id);
	} else {
		port->port_id = UINT16_MAX;
		port->mtu = UINT16_MAX; /* nothing leaves a loopback */
		port->link_state = FP_LINK_UP;
		snprintf(port->device, sizeof(port->device), "loopback");
	}
	port->naddrs = naddrs;
	memcpy(port->addrs, addrs, sizeof(*addrs) * naddrs);
	if (kind == FP_IF_VLAN)
		fp_port_add_link_local(port);
	/* VLANs are Ethernet links: DAD (control/dad.c). A loopback has no one
	 * to collide with. */
	for (a = 0; a < port->naddrs; a++)
		port->addr_state[a] = kind == FP_IF_VLAN && port->dad_transmits > 0
					      ? FP_ADDR_TENTATIVE : FP_ADDR_PREFERRED;
	port->up = true;
	port->in_use = true;
	/* Visible to lcores and the control thread only now. */
	if (idx >= fp_router.nports)
		__atomic_store_n(&fp_router.nports, idx + 1, __ATOMIC_RELEASE);
	rc = fp_port_address_routes((uint16_t)idx, err);
	if (rc < 0) {
		iface_forget_locked((uint16_t)idx);
		port->in_use = false;
		port->up = false;
		goto bump;
	}
	if (par != NULL)
		__atomic_store_n(&fp_router.vlan_map[parent][vlan_id], (uint8_t)(idx + 1),
				 __ATOMIC_RELEASE);
	/* Its groups (all-nodes, all-routers, solicited-node...): at launch
	 * for the config's clones, now for later ones. */
	if (fp_router.launched)
		fp_proto_iface_added((uint16_t)idx);
	rc = (int)idx;
bump:
	fp_generation_bump();
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_iface_destroy(uint16_t idx, struct fp_err *err)
{
	struct fp_port *port;
	uint32_t i;
	int rc = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	port = iface_locked(idx, err, &rc);
	if (port == NULL)
		goto out;
	if (port->kind == FP_IF_PORT) {
		rc = fp_err_set(err, EOPNOTSUPP, "'%s' is a port, not a cloned interface",
				port->name);
		goto out;
	}
	for (i = 0; i < fp_router.nports; i++)
		if (fp_router.ports[i].in_use && fp_router.ports[i].kind == FP_IF_VLAN &&
		    fp_router.ports[i].parent == idx && i != idx) {
			rc = fp_err_set(err, EBUSY, "'%s' is the parent of '%s'", port->name,
					fp_router.ports[i].name);
			goto out;
		}
	/* References a VLAN holds on its parent's flags go with it. */
	if (port->kind == FP_IF_VLAN) {
		struct fp_port *par = &fp_router.ports[port->parent];
		for (; port->pcount > 0; port->pcount--)
			port_flag_ref(par, &par->pcount, false, false, NULL);
		for (; port->amcount > 0; port->amcount--)
			port_flag_ref(par, &par->amcount, false, true, NULL);
	}
	/* Stop receiving first, then stop sending, then forget. */
	if (port->kind == FP_IF_VLAN)
		__atomic_store_n(&fp_router.vlan_map[port->parent][port->vlan_id], 0,
				 __ATOMIC_RELEASE);
	port->up = false;
	iface_forget_locked(idx);
	port->in_use = false;
	port->naddrs = 0;
	fp_proto_iface_removed(idx);
	fp_generation_bump();
	/* No lcore is still inside a vector that saw the interface. */
	rte_rcu_qsbr_synchronize(fp_router.qsbr, RTE_QSBR_THRID_INVALID);
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

/* One reference more or less on a flag of a port (the device programmed on
 * the first and the last). Caller holds ctl_lock. */
static int
port_flag_ref(struct fp_port *port, uint32_t *count, bool on, bool allmulti,
	      struct fp_err *err)
{
	int rc = 0;

	if (on) {
		if ((*count)++ != 0)
			return 0;
	} else {
		if (*count == 0)
			return fp_err_set(err, EINVAL, "%s: no %s reference to release",
					  port->name, allmulti ? "all-multicast" : "promiscuous");
		if (--(*count) > 0)
			return 0;
	}
	if (port->kind == FP_IF_PORT) {
		if (allmulti)
			rc = on ? rte_eth_allmulticast_enable(port->port_id)
				: rte_eth_allmulticast_disable(port->port_id);
		else
			rc = on ? rte_eth_promiscuous_enable(port->port_id)
				: rte_eth_promiscuous_disable(port->port_id);
	}
	/* -ENOTSUP: pcap, null... see every frame anyway. */
	if (rc != 0 && rc != -ENOTSUP) {
		*count = on ? *count - 1 : *count + 1; /* as ifpromisc: restore */
		return fp_err_set(err, EIO, "%s: the device refused: %s", port->name,
				  rte_strerror(-rc));
	}
	if (!allmulti)
		port->promiscuous = *count > 0;
	return 0;
}

static int
iface_flag(uint16_t idx, bool on, bool allmulti, struct fp_err *err)
{
	struct fp_port *port;
	int rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	port = iface_locked(idx, err, &rc);
	if (port == NULL)
		goto out;
	rc = port_flag_ref(port, allmulti ? &port->amcount : &port->pcount, on, allmulti, err);
	if (rc == 0 && port->kind == FP_IF_VLAN) {
		/* NetBSD's vlan: the parent does the filtering. */
		struct fp_port *par = &fp_router.ports[port->parent];
		rc = port_flag_ref(par, allmulti ? &par->amcount : &par->pcount, on, allmulti, err);
		if (rc != 0) /* undo ours */
			port_flag_ref(port, allmulti ? &port->amcount : &port->pcount, !on, allmulti, NULL);
	}
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_iface_set_allmulti_locked(uint16_t idx, bool on)
{
	struct fp_port *port = &fp_router.ports[idx];

	return port_flag_ref(port, &port->amcount, on, true, NULL);
}

int
fp_iface_set_promisc(uint16_t idx, bool on, struct fp_err *err)
{
	return iface_flag(idx, on, false, err);
}

int
fp_iface_set_allmulti(uint16_t idx, bool on, struct fp_err *err)
{
	return iface_flag(idx, on, true, err);
}

int
fp_iface_set_mtu(uint16_t idx, uint16_t mtu, struct fp_err *err)
{
	struct fp_port *port;
	struct rte_eth_dev_info info;
	uint32_t i;
	int rc = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	port = iface_locked(idx, err, &rc);
	if (port == NULL)
		goto out;
	if (mtu < 1280) {
		rc = fp_err_set(err, EINVAL, "mtu: %u is below IPv6's minimum 1280", mtu);
		goto out;
	}
	if (port->kind == FP_IF_VLAN && mtu > fp_router.ports[port->parent].mtu) {
		rc = fp_err_set(err, EINVAL, "mtu: %u is above the parent's %u", mtu,
				fp_router.ports[port->parent].mtu);
		goto out;
	}
	if (port->kind == FP_IF_PORT) {
		if (rte_eth_dev_info_get(port->port_id, &info) == 0 &&
		    (mtu < info.min_mtu || mtu > info.max_mtu)) {
			rc = fp_err_set(err, EINVAL, "mtu: %u is outside the device's limits %u..%u",
					mtu, info.min_mtu, info.max_mtu);
			goto out;
		}
		rc = rte_eth_dev_set_mtu(port->port_id, mtu);
		if (rc != 0 && rc != -ENOTSUP) {
			rc = fp_err_set(err, EINVAL, "mtu: the device refused %u: %s", mtu,
					rte_strerror(-rc));
			goto out;
		}
		rc = 0;
		/* A VLAN never exceeds its parent. */
		for (i = 0; i < fp_router.nports; i++)
			if (fp_router.ports[i].in_use && fp_router.ports[i].kind == FP_IF_VLAN &&
			    fp_router.ports[i].parent == idx && fp_router.ports[i].mtu > mtu)
				fp_router.ports[i].mtu = mtu;
	}
	port->mtu = mtu;
	fp_generation_bump();
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

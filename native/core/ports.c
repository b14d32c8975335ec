/*
 * core/ports.c — ports: device setup and start, addresses and their routes,
 * source address selection. Under ctl_lock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <rte_ethdev.h>

#include "proto.h"
#include "internal.h"
#include "router.h"

int
fp_port_addr_index(uint16_t p, const uint8_t addr[16])
{
	uint32_t a;

	if (p >= fp_router.nports || !fp_router.ports[p].in_use)
		return -1;
	for (a = 0; a < fp_router.ports[p].naddrs; a++)
		if (memcmp(fp_router.ports[p].addrs[a].addr, addr, 16) == 0)
			return (int)a;
	return -1;
}

bool
fp_port_addr_usable(uint16_t p, const uint8_t addr[16])
{
	int a = fp_port_addr_index(p, addr);

	return a >= 0 && fp_router.ports[p].addr_state[a] == FP_ADDR_PREFERRED;
}

bool
fp_addr_is_local_usable(const uint8_t addr[16])
{
	uint16_t p;

	for (p = 0; p < fp_router.nports; p++)
		if (fp_port_addr_usable(p, addr))
			return true;
	return false;
}

const uint8_t *
fp_port_source(uint16_t p, const uint8_t dst[16])
{
	const struct fp_port *port;
	const uint8_t *any = NULL;
	bool want_ll = dst != NULL && dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80;
	uint32_t a;

	if (p >= fp_router.nports)
		return NULL;
	port = &fp_router.ports[p];
	for (a = 0; a < port->naddrs; a++) {
		const uint8_t *x = port->addrs[a].addr;
		bool ll = x[0] == 0xfe && (x[1] & 0xc0) == 0x80;
		if (port->addr_state[a] != FP_ADDR_PREFERRED)
			continue;
		if (ll == want_ll)
			return x;
		if (any == NULL)
			any = x;
	}
	return any;
}

void
fp_port_addr_route(uint16_t p, uint32_t a, bool present)
{
	struct fp_route r, old;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (fp_router.running && p < fp_router.nports && a < fp_router.ports[p].naddrs) {
		const uint8_t *addr = fp_router.ports[p].addrs[a].addr;
		struct fp_route *cur = fp_fib_find(&fp_router.fib, addr, 128);
		if (present && cur == NULL) {
			memset(&r, 0, sizeof(r));
			memcpy(r.prefix, addr, 16);
			r.plen = 128;
			r.kind = FP_ROUTE_LOCAL;
			r.port_idx = p;
			r.nexthop = FP_NH_LOCAL | p;
			char msg[160];

			if (fp_fib_add(&fp_router.fib, &r, msg, sizeof(msg)) == 0) {
				fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
				fp_generation_bump();
			}
		} else if (!present && cur != NULL && cur->kind == FP_ROUTE_LOCAL) {
			if (fp_fib_delete(&fp_router.fib, addr, 128, &old) == 0) {
				fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
				fp_generation_bump();
			}
		}
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
}

int
fp_port_index(const char *name)
{
	uint32_t i;

	for (i = 0; i < fp_router.nports; i++)
		if (strcmp(fp_router.ports[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The ethdev name of a device string: a vdev's name is before the comma. */
static void
device_name(const char *device, char *out, size_t len)
{
	size_t n = strcspn(device, ",");
	if (n >= len)
		n = len - 1;
	memcpy(out, device, n);
	out[n] = '\0';
}

/* Give a port its link-local address fe80::<EUI-64 of its MAC>/64 (RFC 4291
 * 2.5.1, RFC 4862 5.3) unless the config gave one. Appended after the
 * configured addresses, so those stay the first (the source of the router's
 * own solicitations and errors). */
void
fp_port_add_link_local(struct fp_port *port)
{
	struct fp_addr *ll;
	uint32_t a;

	for (a = 0; a < port->naddrs; a++)
		if (port->addrs[a].addr[0] == 0xfe && (port->addrs[a].addr[1] & 0xc0) == 0x80)
			return;
	if (port->naddrs == FP_MAX_ADDRS)
		return;
	ll = &port->addrs[port->naddrs++];
	memset(ll, 0, sizeof(*ll));
	ll->addr[0] = 0xfe;
	ll->addr[1] = 0x80;
	ll->addr[8] = port->mac.addr_bytes[0] ^ 0x02; /* universal/local bit */
	ll->addr[9] = port->mac.addr_bytes[1];
	ll->addr[10] = port->mac.addr_bytes[2];
	ll->addr[11] = 0xff;
	ll->addr[12] = 0xfe;
	ll->addr[13] = port->mac.addr_bytes[3];
	ll->addr[14] = port->mac.addr_bytes[4];
	ll->addr[15] = port->mac.addr_bytes[5];
	ll->plen = 64;
}

/* Attach (vdev hot-plug) and configure one port; does not start it. */
int
fp_port_setup(uint16_t idx, const struct fp_port_config *pc, struct fp_err *err)
{
	struct fp_port *port = &fp_router.ports[idx];
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint8_t rss_key[64];
	struct rte_eth_txconf txconf;
	uint16_t port_id, nb_rxq, nb_txq, q, rxd, txd;
	unsigned w;
	int rc;

	memset(port, 0, sizeof(*port));
	port->in_use = true;
	snprintf(port->name, sizeof(port->name), "%s", pc->name);
	snprintf(port->device, sizeof(port->device), "%s", pc->device);
	device_name(pc->device, port->devname, sizeof(port->devname));
	port->is_vdev = pc->is_vdev;
	port->ifindex = (uint16_t)(idx + 1);
	port->ctl_txq = -1;

	if (pc->is_vdev) {
		rc = rte_dev_probe(pc->device);
		if (rc < 0)
			return fp_err_set(err, ENODEV,
					  "ports[%u] '%s': cannot attach device '%s': %s",
					  idx, pc->name, pc->device, rte_strerror(-rc));
	}
	if (rte_eth_dev_get_port_by_name(port->devname, &port_id) != 0)
		return fp_err_set(err, ENODEV,
				  "ports[%u] '%s': no DPDK port named '%s' (device not "
				  "probed: check the PCI allow-list and driver binding)",
				  idx, pc->name, port->devname);
	port->port_id = port_id;
	port->kind = FP_IF_PORT;
	port->parent = idx;
	port->vlan_id = 0;
	fp_router.port_idx_by_id[port_id] = idx;

	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0)
		return fp_err_set(err, EIO, "ports[%u] '%s': rte_eth_dev_info_get: %s",
				  idx, pc->name, rte_strerror(-rc));
	nb_rxq = (uint16_t)fp_router.nworkers;
	if (info.max_rx_queues < nb_rxq)
		return fp_err_set(err, ENOTSUP,
				  "ports[%u] '%s': %u workers need %u rx queues, device "
				  "'%s' has %u",
				  idx, pc->name, fp_router.nworkers, nb_rxq,
				  port->devname, info.max_rx_queues);
	if (info.max_tx_queues < fp_router.nworkers)
		return fp_err_set(err, ENOTSUP,
				  "ports[%u] '%s': %u workers need %u tx queues, device "
				  "'%s' has %u",
				  idx, pc->name, fp_router.nworkers, fp_router.nworkers,
				  port->devname, info.max_tx_queues);
	/* One tx queue per worker, plus one for the control thread if offered. */
	nb_txq = info.max_tx_queues > fp_router.nworkers
			 ? (uint16_t)(fp_router.nworkers + 1)
			 : (uint16_t)fp_router.nworkers;

	memset(&conf, 0, sizeof(conf));
	if (nb_rxq > 1 && info.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_NONFRAG_IPV6_TCP |
			 RTE_ETH_RSS_NONFRAG_IPV6_UDP) &
			info.flow_type_rss_offloads;
		/* A symmetric Toeplitz key (0x6d5a repeated: Woo and Park,
		 * "Scalable TCP Session Monitoring with Symmetric RSS"): a
		 * connection's two directions hash alike, and with the same
		 * key and default RETA on every port they land on the same
		 * queue number, i.e. the same worker — SIFTR's per-worker
		 * table sees both directions of a connection. */
		if (info.hash_key_size >= 40 && info.hash_key_size <= sizeof(rss_key)) {
			for (unsigned k = 0; k < sizeof(rss_key); k += 2) {
				rss_key[k] = 0x6d;
				rss_key[k + 1] = 0x5a;
			}
			conf.rx_adv_conf.rss_conf.rss_key = rss_key;
			conf.rx_adv_conf.rss_conf.rss_key_len = info.hash_key_size;
		}
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	/* VLAN sub-interfaces: tags inserted by the PMD where it offers it,
	 * in software otherwise (datapath/lcore.c). Tags are never stripped on rx:
	 * the lcore demultiplexes on the tag in the frame. */
	port->hw_vlan_insert = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_VLAN_INSERT) != 0;
	if (port->hw_vlan_insert)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_VLAN_INSERT;
	fp_proto_port_configure(idx, &info, &conf);
	rc = rte_eth_dev_configure(port_id, nb_rxq, nb_txq, &conf);
	if (rc != 0)
		return fp_err_set(err, EIO,
				  "ports[%u] '%s': rte_eth_dev_configure(%u rxq, %u txq): %s",
				  idx, pc->name, nb_rxq, nb_txq, rte_strerror(-rc));

	port->mtu = pc->mtu;
	rc = rte_eth_dev_set_mtu(port_id, pc->mtu);
	if (rc == -EINVAL)
		return fp_err_set(err, EINVAL,
				  "ports[%u].mtu: %u is outside device '%s' limits %u..%u",
				  idx, pc->mtu, port->devname, info.min_mtu, info.max_mtu);
	/* -ENOTSUP (pcap, null...): the MTU is enforced in software only. */

	rxd = pc->rx_desc;
	txd = pc->tx_desc;
	rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rxd, &txd);
	for (w = 0; w < fp_router.nworkers; w++) {
		q = (uint16_t)w;
		rc = rte_eth_rx_queue_setup(port_id, q, rxd,
					    (unsigned)rte_eth_dev_socket_id(port_id),
					    NULL, fp_router.pool);
		if (rc != 0)
			return fp_err_set(err, EIO,
					  "ports[%u] '%s': rx queue %u setup: %s", idx,
					  pc->name, q, rte_strerror(-rc));
	}
	txconf = info.default_txconf;
	txconf.offloads = conf.txmode.offloads;
	for (q = 0; q < nb_txq; q++) {
		rc = rte_eth_tx_queue_setup(port_id, q, txd,
					    (unsigned)rte_eth_dev_socket_id(port_id),
					    &txconf);
		if (rc != 0)
			return fp_err_set(err, EIO,
					  "ports[%u] '%s': tx queue %u setup: %s", idx,
					  pc->name, q, rte_strerror(-rc));
	}
	port->nb_rxq = nb_rxq;
	port->nb_txq = nb_txq;
	port->ctl_txq = nb_txq > fp_router.nworkers ? (int)fp_router.nworkers : -1;

	rte_eth_macaddr_get(port_id, &port->mac);
	if (pc->set_mac) {
		struct rte_ether_addr mac;
		memcpy(mac.addr_bytes, pc->mac, 6);
		rc = rte_eth_dev_default_mac_addr_set(port_id, &mac);
		/* PMDs without a MAC filter (pcap, null) cannot set one; with the
		 * port promiscuous the router applies the MAC itself (rx filter
		 * and tx source), which is all such a device could do anyway. */
		if (rc == -ENOTSUP && !pc->promiscuous)
			return fp_err_set(err, ENOTSUP,
					  "ports[%u].mac: device '%s' cannot set its MAC; "
					  "set promiscuous: true to apply it in software",
					  idx, port->devname);
		if (rc != 0 && rc != -ENOTSUP)
			return fp_err_set(err, EINVAL,
					  "ports[%u].mac: device '%s' refused the MAC: %s",
					  idx, port->devname, rte_strerror(-rc));
		port->mac = mac;
	}
	port->mac64 = 0;
	memcpy(&port->mac64, port->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	port->promiscuous = pc->promiscuous;
	port->router_adverts = pc->router_adverts;
	port->ra_max_interval_s = pc->ra_max_interval_s ? pc->ra_max_interval_s : 600;
	port->ra_min_interval_s = pc->ra_min_interval_s ? pc->ra_min_interval_s : 200;
	port->ra_router_lifetime_s = pc->ra_router_lifetime_s;
	port->dad_transmits = pc->dad_transmits;
	port->mld_version = pc->mld_version == 1 ? 1 : 2;
	port->naddrs = pc->naddrs;
	memcpy(port->addrs, pc->addrs, sizeof(pc->addrs));
	fp_port_add_link_local(port);
	/* Every address starts tentative; the control thread runs duplicate
	 * address detection once the port is up (control/dad.c). */
	for (q = 0; q < port->naddrs; q++)
		port->addr_state[q] = pc->dad_transmits > 0 ? FP_ADDR_TENTATIVE
							    : FP_ADDR_PREFERRED;
	return 0;
}

/* Start a configured port and apply promiscuous mode. */
int
fp_port_start(uint16_t idx, struct fp_err *err)
{
	struct fp_port *port = &fp_router.ports[idx];
	int rc = rte_eth_dev_start(port->port_id);

	if (rc != 0)
		return fp_err_set(err, EIO, "ports[%u] '%s': rte_eth_dev_start: %s",
				  idx, port->name, rte_strerror(-rc));
	/* Not every PMD supports promiscuous mode; af_packet/pcap/null see
	 * all frames anyway, so -ENOTSUP is not an error. */
	if (port->promiscuous)
		rte_eth_promiscuous_enable(port->port_id);
	else
		rte_eth_promiscuous_disable(port->port_id);
	/* The config's promiscuous: true is one reference (ifpromisc). */
	port->pcount = port->promiscuous ? 1 : 0;
	port->up = true;
	return 0;
}

/* Stop a port; vdevs are detached so the next start can attach them anew. */
void
fp_port_release(uint16_t idx)
{
	struct fp_port *port = &fp_router.ports[idx];
	uint16_t pid;

	port->up = false;
	if (rte_eth_dev_get_port_by_name(port->devname, &pid) != 0)
		return;
	rte_eth_dev_stop(pid);
	if (port->is_vdev) {
		rte_eth_dev_close(pid);
		rte_eal_hotplug_remove("vdev", port->devname);
	}
}

/* Routes for an interface's addresses: connected prefix and local /128. */
int
fp_port_address_routes(uint16_t idx, struct fp_err *err)
{
	struct fp_port *port = &fp_router.ports[idx];
	struct fp_route r;
	char msg[160];
	uint32_t a;
	int rc;

	for (a = 0; a < port->naddrs; a++) {
		memset(&r, 0, sizeof(r));
		memcpy(r.prefix, port->addrs[a].addr, 16);
		r.plen = 128;
		r.kind = FP_ROUTE_LOCAL;
		r.port_idx = idx;
		r.nexthop = FP_NH_LOCAL | idx;
		rc = fp_fib_add(&fp_router.fib, &r, msg, sizeof(msg));
		if (rc < 0 && rc != -EEXIST)
			return fp_err_set(err, -rc, "ports[%u].addresses[%u]: cannot add "
					  "local route: %s", idx, a, msg);
		/* Link-local prefixes are per link: no connected route (the
		 * router never forwards link-local), only the local /128. */
		if (port->addrs[a].plen == 128 ||
		    (port->addrs[a].addr[0] == 0xfe && (port->addrs[a].addr[1] & 0xc0) == 0x80))
			continue;
		r.plen = port->addrs[a].plen;
		r.kind = FP_ROUTE_CONNECTED;
		r.nexthop = FP_NH_CONNECTED | idx;
		/* On a down interface: in the list only (core/routes.c). */
		r.state = fp_iface_routable(idx) ? FP_ROUTE_UP : FP_ROUTE_DOWN;
		rc = fp_fib_add(&fp_router.fib, &r, msg, sizeof(msg));
		if (rc == -EEXIST)
			return fp_err_set(err, EEXIST,
					  "ports[%u].addresses[%u]: the prefix /%u is "
					  "already connected on another interface",
					  idx, a, port->addrs[a].plen);
		if (rc < 0)
			return fp_err_set(err, -rc, "ports[%u].addresses[%u]: cannot add "
					  "connected route: %s", idx, a, msg);
	}
	return 0;
}

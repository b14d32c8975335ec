/*
 * core/router.c — EAL hosting, router start/stop, ports, control operations
 * and the stats snapshot. Control operations hold fp_router.ctl_lock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "event.h"
#include "../control/mld.h"
#include "../control/nd.h"
#include "router.h"

struct fp_router fp_router = { .ctl_lock = PTHREAD_MUTEX_INITIALIZER };

#define FP_PUNT_RING_SIZE 1024
#define FP_CMD_RING_SIZE 64
#define FP_CMD_TIMEOUT_US 2000000

int
fp_err_set(struct fp_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -code;
}

/* ---- EAL ---------------------------------------------------------------- */

/*
 * Keep the process's own threads (Node's main thread, V8's platform threads,
 * libuv's pool once it starts) off the CPUs worker lcores busy-poll: every
 * thread still allowed the original CPU set is moved to that set minus the
 * workers' CPUs. Worker and EAL control threads already have narrower
 * masks and are left alone. With no CPU to spare, nothing changes.
 */
static void
keep_node_off_workers(const cpu_set_t *original)
{
	cpu_set_t spare = *original, mask;
	unsigned lcore;
	DIR *dir;
	struct dirent *de;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		rte_cpuset_t cs = rte_lcore_cpuset(lcore);
		for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
			if (CPU_ISSET(cpu, &cs))
				CPU_CLR(cpu, &spare);
	}
	if (CPU_COUNT(&spare) == 0 || CPU_EQUAL(&spare, original))
		return;
	dir = opendir("/proc/self/task");
	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		pid_t tid = (pid_t)atoi(de->d_name);
		if (tid <= 0 || sched_getaffinity(tid, sizeof(mask), &mask) != 0)
			continue;
		if (CPU_EQUAL(&mask, original))
			sched_setaffinity(tid, sizeof(spare), &spare);
	}
	closedir(dir);
}

int
fp_eal_init(int argc, char **argv, struct fp_err *err)
{
	static bool attempted;
	sigset_t all, saved;
	cpu_set_t affinity;
	char **copy;
	int rc, i, saved_errno;

	if (fp_router.eal_ready)
		return 0;
	if (attempted)
		return fp_err_set(err, EALREADY,
				  "EAL initialisation already failed in this process; "
				  "DPDK cannot retry it: restart the process");
	attempted = true;

	copy = calloc((size_t)argc + 1, sizeof(char *));
	if (copy == NULL)
		return fp_err_set(err, ENOMEM, "no memory for EAL arguments");
	for (i = 0; i < argc; i++)
		copy[i] = strdup(argv[i]);

	/* EAL's own threads must never take the process's signals (Node's
	 * SIGINT handling), and EAL must not leave the Node thread pinned to
	 * the main lcore's CPU: save both, restore both; then keep Node's
	 * threads off the workers' CPUs. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	sched_getaffinity(0, sizeof(affinity), &affinity);
	rc = rte_eal_init(argc, copy);
	saved_errno = rte_errno;
	sched_setaffinity(0, sizeof(affinity), &affinity);
	if (rc >= 0)
		keep_node_off_workers(&affinity);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	/* copy[] is kept: EAL may hold pointers into it. */
	if (rc >= 0)
		/* process.exit() skips Node's environment cleanup hooks; exit()
		 * still runs this, so workers stop and the runtime dir goes. */
		atexit(fp_eal_cleanup);
	if (rc < 0)
		return fp_err_set(err, saved_errno ? saved_errno : EINVAL,
				  "rte_eal_init failed: %s (arguments were checked; "
				  "see DPDK's log above)",
				  rte_strerror(saved_errno));
	fp_router.eal_ready = true;
	return 0;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
fp_eal_cleanup(void)
{
	char dir[PATH_MAX];

	if (!fp_router.eal_ready)
		return;
	if (fp_router.running)
		fp_router_stop(NULL);
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	fp_router.eal_ready = false;
	/* EAL leaves an empty runtime directory behind; remove it. */
	if (dir[0] != '\0')
		nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- ports -------------------------------------------------------------- */

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
static void
add_link_local(struct fp_port *port)
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
static int
port_setup(uint16_t idx, const struct fp_port_config *pc, struct fp_err *err)
{
	struct fp_port *port = &fp_router.ports[idx];
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
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
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	/* VLAN sub-interfaces: tags inserted by the PMD where it offers it,
	 * in software otherwise (datapath/lcore.c). Tags are never stripped on rx:
	 * the lcore demultiplexes on the tag in the frame. */
	port->hw_vlan_insert = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_VLAN_INSERT) != 0;
	if (port->hw_vlan_insert)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_VLAN_INSERT;
	fp_link_configure(idx, &info, &conf);
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
	add_link_local(port);
	/* Every address starts tentative; the control thread runs duplicate
	 * address detection once the port is up (control/dad.c). */
	for (q = 0; q < port->naddrs; q++)
		port->addr_state[q] = pc->dad_transmits > 0 ? FP_ADDR_TENTATIVE
							    : FP_ADDR_PREFERRED;
	return 0;
}

/* Start a configured port and apply promiscuous mode. */
static int
port_start(uint16_t idx, struct fp_err *err)
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
static void
port_release(uint16_t idx)
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

/* ---- workers ------------------------------------------------------------ */

static int
lcore_create(unsigned w, unsigned lcore_id, uint32_t maxflows,
	     uint32_t hashsize, struct fp_err *err)
{
	static unsigned instance;
	int socket = (int)rte_lcore_to_socket_id(lcore_id);
	struct fp_lcore *lc;
	char name[RTE_RING_NAMESIZE];
	struct fp_flowcache_counters fcc;
	uint32_t p;

	lc = rte_zmalloc_socket("fp_lcore", sizeof(*lc), RTE_CACHE_LINE_SIZE, socket);
	if (lc == NULL)
		return fp_err_set(err, ENOMEM, "no memory for worker %u", w);
	fp_router.lcores[w] = lc;
	lc->lcore_id = lcore_id;
	lc->worker = w;
	instance++;
	snprintf(name, sizeof(name), "fp_cmd_%u_%u", instance, w);
	lc->cmd_ring = rte_ring_create(name, FP_CMD_RING_SIZE, socket, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "fp_punt_%u_%u", instance, w);
	lc->punt_ring = rte_ring_create(name, FP_PUNT_RING_SIZE, socket,
					RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "fp_ctltx_%u_%u", instance, w);
	lc->ctl_tx_ring = rte_ring_create(name, FP_PUNT_RING_SIZE, socket,
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (lc->cmd_ring == NULL || lc->punt_ring == NULL || lc->ctl_tx_ring == NULL)
		return fp_err_set(err, ENOMEM, "cannot create rings for worker %u: %s",
				  w, rte_strerror(rte_errno));
	lc->tsc_hz = rte_get_tsc_hz();
	lc->neigh_used_n = fp_router.neigh.max;
	lc->neigh_used = rte_zmalloc_socket("fp_neigh_used", lc->neigh_used_n,
					    RTE_CACHE_LINE_SIZE, socket);
	if (lc->neigh_used == NULL)
		return fp_err_set(err, ENOMEM, "no memory for worker %u", w);

	fcc.insert = &lc->ctr[FP_CTR_flow_insert];
	fcc.reap = &lc->ctr[FP_CTR_flow_reap];
	fcc.expire = &lc->ctr[FP_CTR_flow_expire];
	fcc.invalidate = &lc->ctr[FP_CTR_flow_invalidate];
	fcc.folded_uses = &lc->ctr[FP_CTR_flow_folded_uses];
	fcc.folded_forwarded = &lc->ctr[FP_CTR_flow_folded_forwarded];
	fcc.folded_dropped = &lc->ctr[FP_CTR_flow_folded_dropped];
	fcc.inuse = &lc->ctr[FP_CTR_flow_inuse];
	lc->flowcache_mem = rte_zmalloc_socket("fp_flowcache",
					       fp_flowcache_memsize(maxflows, hashsize),
					       RTE_CACHE_LINE_SIZE, socket);
	if (lc->flowcache_mem == NULL)
		return fp_err_set(err, ENOMEM,
				  "flowCache: no memory for %u flows x %u buckets", maxflows,
				  hashsize);
	lc->flowcache = fp_flowcache_init(lc->flowcache_mem, maxflows, hashsize, &fcc);
	if (lc->flowcache == NULL)
		return fp_err_set(err, EINVAL,
				  "flowCache.hashsize: %u is not a power of two in 1..%u",
				  hashsize, FP_FLOWCACHE_MAX_HASHSIZE);
	lc->idle_cycles = rte_get_tsc_hz() / 1000 * fp_router.flow_idle_ms;

	/* Queue w of every port is this worker's. */
	for (p = 0; p < fp_router.nphys; p++) {
		lc->rxq[lc->nrxq].port_idx = (uint16_t)p;
		lc->rxq[lc->nrxq].port_id = fp_router.ports[p].port_id;
		lc->rxq[lc->nrxq].queue = (uint16_t)w;
		lc->nrxq++;
	}
	/* Every interface this worker sends on uses its queue w: a VLAN
	 * sends on its parent's. */
	for (p = 0; p < FP_MAX_IFACES; p++)
		lc->txq[p] = (uint16_t)w;
	return 0;
}

static void
lcore_destroy(unsigned w)
{
	struct fp_lcore *lc = fp_router.lcores[w];
	struct rte_mbuf *m;

	if (lc == NULL)
		return;
	if (lc->punt_ring != NULL)
		while (rte_ring_dequeue(lc->punt_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
	if (lc->ctl_tx_ring != NULL)
		while (rte_ring_dequeue(lc->ctl_tx_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
	rte_ring_free(lc->punt_ring);
	rte_ring_free(lc->ctl_tx_ring);
	rte_ring_free(lc->cmd_ring);
	rte_free(lc->flowcache_mem);
	rte_free(lc->neigh_used);
	rte_free(lc);
	fp_router.lcores[w] = NULL;
}

/* ---- start / stop ------------------------------------------------------- */

/* Stop the control thread. Called with ctl_lock held: the lock is released
 * around the join, because the control thread itself takes ctl_lock (it
 * learns neighbours) and would otherwise never finish. Workers must be
 * stopped already; the tables stay until router_teardown(). */
static void
ctl_stop_locked(void)
{
	pthread_mutex_unlock(&fp_router.ctl_lock);
	fp_ctl_stop();
	pthread_mutex_lock(&fp_router.ctl_lock);
	fp_link_stop();
}

/* Free everything start created; safe on a half-started router. The
 * control thread must not be running (ctl_stop_locked()). */
static void
router_teardown(void)
{
	uint32_t i;

	for (i = 0; i < fp_router.nphys; i++)
		port_release((uint16_t)i);
	for (i = 0; i < FP_MAX_WORKERS; i++)
		lcore_destroy(i);
	memset(&fp_router.ports[0], 0, sizeof(fp_router.ports));
	memset(fp_router.vlan_map, 0, sizeof(fp_router.vlan_map));
	fp_router.nphys = 0;
	if (fp_router.fib.copy[0] != NULL)
		fp_fib_free(&fp_router.fib);
	if (fp_router.neigh.entries != NULL)
		fp_neigh_free(&fp_router.neigh);
	rte_free(fp_router.qsbr);
	fp_router.qsbr = NULL;
	fp_router.nports = 0;
	fp_router.nworkers = 0;
	fp_router.running = false;
	fp_router.launched = false;
}

/* Routes for an interface's addresses: connected prefix and local /128. */
static int
add_address_routes(uint16_t idx, struct fp_err *err)
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

int
fp_router_start(const struct fp_router_config *cfg, struct fp_err *err)
{
	char msg[FP_ERRMSG_MAX];
	size_t qsz;
	uint32_t i;
	int rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.eal_ready) {
		rc = fp_err_set(err, EINVAL, "EAL is not initialised");
		goto out;
	}
	if (fp_router.running) {
		rc = fp_err_set(err, EBUSY, "a router is already running in this process");
		goto out;
	}
	if (cfg->nworkers == 0 || cfg->nworkers > FP_MAX_WORKERS ||
	    cfg->nports == 0 || cfg->nports > FP_MAX_PORTS) {
		rc = fp_err_set(err, EINVAL, "need 1..%d workers and 1..%d ports",
				FP_MAX_WORKERS, FP_MAX_PORTS);
		goto out;
	}
	for (i = 0; i < cfg->nworkers; i++) {
		unsigned l = cfg->worker_lcores[i];
		if (!rte_lcore_is_enabled(l) || l == rte_get_main_lcore() ||
		    rte_eal_get_lcore_state(l) != WAIT) {
			rc = fp_err_set(err, EINVAL,
					"eal.workers: lcore %u is not an idle worker lcore "
					"of this EAL (EAL was initialised with other lcores?)",
					l);
			goto out;
		}
	}

	memset(fp_router.ports, 0, sizeof(fp_router.ports));
	memset(fp_router.ctl_ctr, 0, sizeof(fp_router.ctl_ctr));
	fp_router.nworkers = cfg->nworkers;
	fp_router.flow_maxflows = cfg->flow_maxflows;
	fp_router.flow_hashsize = cfg->flow_hashsize;
	fp_router.flow_idle_ms = cfg->flow_idle_ms;
	fp_router.nd_base_reachable_ms = cfg->nd_base_reachable_ms;
	fp_router.icmp_error_rate = cfg->icmp_error_rate;
	fp_router.icmp_error_burst = cfg->icmp_error_burst;
	fp_router.stop_workers = 0;

	if (fp_router.pool == NULL) {
		fp_router.pool = rte_pktmbuf_pool_create("fp_mbuf", cfg->mbufs,
							 cfg->mbuf_cache, 0,
							 RTE_MBUF_DEFAULT_BUF_SIZE,
							 (int)rte_socket_id());
		if (fp_router.pool == NULL) {
			rc = fp_err_set(err, ENOMEM,
					"mempool.mbufs: cannot create a pool of %u mbufs: %s "
					"(raise eal.memoryMb)",
					cfg->mbufs, rte_strerror(rte_errno));
			goto out;
		}
	}

	if (fp_event_init() < 0) {
		rc = fp_err_set(err, ENOMEM, "cannot create the event queue: %s",
				rte_strerror(rte_errno));
		goto fail;
	}
	qsz = rte_rcu_qsbr_get_memsize(cfg->nworkers);
	fp_router.qsbr = rte_zmalloc("fp_qsbr", qsz, RTE_CACHE_LINE_SIZE);
	if (fp_router.qsbr == NULL ||
	    rte_rcu_qsbr_init(fp_router.qsbr, cfg->nworkers) != 0) {
		rc = fp_err_set(err, ENOMEM, "cannot create the QSBR variable");
		goto fail;
	}
	if (fp_fib_init(&fp_router.fib, cfg->max_routes, cfg->tbl8_groups, fp_router.qsbr, msg,
			sizeof(msg)) < 0) {
		rc = fp_err_set(err, ENOMEM, "%s", msg);
		goto fail;
	}
	if (fp_neigh_init(&fp_router.neigh, cfg->max_neighbours, fp_router.qsbr,
			  msg, sizeof(msg)) < 0) {
		rc = fp_err_set(err, ENOMEM, "%s", msg);
		goto fail;
	}

	for (i = 0; i < cfg->nports; i++) {
		fp_router.nports = i + 1;
		fp_router.nphys = i + 1;
		rc = port_setup((uint16_t)i, &cfg->ports[i], err);
		if (rc < 0)
			goto fail;
	}
	for (i = 0; i < cfg->nports; i++) {
		rc = add_address_routes((uint16_t)i, err);
		if (rc < 0)
			goto fail;
	}
	for (i = 0; i < cfg->nworkers; i++) {
		rc = lcore_create(i, cfg->worker_lcores[i], cfg->flow_maxflows,
				  cfg->flow_hashsize, err);
		if (rc < 0)
			goto fail;
	}
	fp_router.running = true;
	rc = 0;
	goto out;
fail:
	router_teardown();
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_router_launch(struct fp_err *err)
{
	uint32_t i;
	int rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running || fp_router.launched) {
		rc = fp_err_set(err, EINVAL, fp_router.launched ? "already launched"
								 : "no router is configured");
		goto out;
	}
	for (i = 0; i < fp_router.nports; i++) {
		if (i >= fp_router.nphys)
			break;
		rc = port_start((uint16_t)i, err);
		if (rc < 0)
			goto fail;
	}
	rc = fp_link_start(err);
	if (rc < 0)
		goto fail;
	rc = fp_ctl_start(err);
	if (rc < 0) {
		fp_link_stop();
		goto fail;
	}
	for (i = 0; i < fp_router.nworkers; i++) {
		rc = rte_eal_remote_launch(fp_lcore_main, fp_router.lcores[i],
					   fp_router.lcores[i]->lcore_id);
		if (rc != 0) {
			unsigned j;
			__atomic_store_n(&fp_router.stop_workers, 1, __ATOMIC_RELAXED);
			for (j = 0; j < i; j++)
				rte_eal_wait_lcore(fp_router.lcores[j]->lcore_id);
			rc = fp_err_set(err, EBUSY, "cannot launch worker on lcore %u",
					fp_router.lcores[i]->lcore_id);
			ctl_stop_locked();
			router_teardown();
			goto out;
		}
	}
	fp_router.launched = true;
	rc = 0;
	goto out;
fail:
	router_teardown();
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_router_stop(struct fp_err *err)
{
	uint32_t i;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running) {
		pthread_mutex_unlock(&fp_router.ctl_lock);
		return fp_err_set(err, EINVAL, "no router is running");
	}
	if (fp_router.launched) {
		__atomic_store_n(&fp_router.stop_workers, 1, __ATOMIC_RELAXED);
		for (i = 0; i < fp_router.nworkers; i++)
			rte_eal_wait_lcore(fp_router.lcores[i]->lcore_id);
		/* From here worker commands are refused, also while the lock
		 * is released to join the control thread. */
		fp_router.launched = false;
		ctl_stop_locked();
	}
	router_teardown();
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return 0;
}

/* ---- worker commands ---------------------------------------------------- */

/* Callers hold ctl_lock. cmds[] has one command per worker. */
static int
cmd_all_locked(struct fp_cmd *cmds, struct fp_err *err)
{
	uint64_t deadline;
	uint32_t w;

	for (w = 0; w < fp_router.nworkers; w++) {
		cmds[w].done = 0;
		if (rte_ring_mp_enqueue(fp_router.lcores[w]->cmd_ring, &cmds[w]) != 0)
			return fp_err_set(err, EBUSY, "worker %u command ring is full", w);
	}
	deadline = rte_get_timer_cycles() +
		   rte_get_timer_hz() / 1000000 * FP_CMD_TIMEOUT_US;
	for (w = 0; w < fp_router.nworkers; w++) {
		while (!__atomic_load_n(&cmds[w].done, __ATOMIC_ACQUIRE)) {
			if (rte_get_timer_cycles() > deadline)
				/* The command stays queued; never free it. */
				return fp_err_set(err, EBUSY,
						  "worker %u did not answer within %u ms",
						  w, FP_CMD_TIMEOUT_US / 1000);
			usleep(20);
		}
	}
	return 0;
}

int
fp_router_cmd_all(struct fp_cmd *cmds, struct fp_err *err)
{
	int rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	rc = fp_router.launched ? cmd_all_locked(cmds, err)
				: fp_err_set(err, EINVAL, "no router is running");
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_flowcache_configure(uint32_t maxflows, uint32_t hashsize, struct fp_err *err)
{
	struct fp_cmd cmds[FP_MAX_WORKERS];
	uint32_t w;
	int rc = 0;

	if (hashsize == 0 || (hashsize & (hashsize - 1)) != 0 ||
	    hashsize > FP_FLOWCACHE_MAX_HASHSIZE)
		return fp_err_set(err, EINVAL,
				  "hashsize: expected a power of two 1..%u, got %u",
				  FP_FLOWCACHE_MAX_HASHSIZE, hashsize);
	if (maxflows > FP_FLOWCACHE_MAX_FLOWS)
		return fp_err_set(err, EINVAL, "maxflows: expected 0..%u, got %u",
				  FP_FLOWCACHE_MAX_FLOWS, maxflows);
	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.launched) {
		rc = fp_err_set(err, EINVAL, "no router is running");
		goto out;
	}
	memset(cmds, 0, sizeof(cmds));
	/* Build every new cache first, so a failure changes nothing. */
	for (w = 0; w < fp_router.nworkers; w++) {
		struct fp_lcore *lc = fp_router.lcores[w];
		int socket = (int)rte_lcore_to_socket_id(lc->lcore_id);
		cmds[w].type = FP_CMD_FLOW_REPLACE;
		cmds[w].new_mem = rte_zmalloc_socket("fp_flowcache",
						     fp_flowcache_memsize(maxflows, hashsize),
						     RTE_CACHE_LINE_SIZE, socket);
		if (cmds[w].new_mem == NULL) {
			rc = fp_err_set(err, ENOMEM,
					"no memory for %u flows x %u buckets per worker",
					maxflows, hashsize);
			break;
		}
		cmds[w].new_fc = fp_flowcache_init(cmds[w].new_mem, maxflows, hashsize,
						   &lc->flowcache->ctr);
	}
	if (rc < 0) {
		for (w = 0; w < fp_router.nworkers; w++)
			rte_free(cmds[w].new_mem);
		goto out;
	}
	rc = cmd_all_locked(cmds, err);
	if (rc == 0) {
		for (w = 0; w < fp_router.nworkers; w++)
			rte_free(cmds[w].old_mem);
		fp_router.flow_maxflows = maxflows;
		fp_router.flow_hashsize = hashsize;
	}
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_flowcache_flush_all(struct fp_err *err)
{
	struct fp_cmd cmds[FP_MAX_WORKERS];
	uint32_t w;

	memset(cmds, 0, sizeof(cmds));
	for (w = 0; w < FP_MAX_WORKERS; w++)
		cmds[w].type = FP_CMD_FLOW_FLUSH;
	return fp_router_cmd_all(cmds, err);
}

int
fp_flowcache_collect(struct fp_flow_entry **out, uint32_t **workers,
		     uint32_t *count, struct fp_err *err)
{
	struct fp_cmd cmds[FP_MAX_WORKERS];
	struct fp_flow_entry *all;
	uint32_t *who;
	uint32_t w, per, total = 0, i;
	int rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.launched) {
		rc = fp_err_set(err, EINVAL, "no router is running");
		goto out;
	}
	per = fp_router.flow_maxflows;
	/* Entries are cache-line aligned types: aligned memory, or the
	 * compiler's aligned vector moves fault. */
	all = aligned_alloc(64, sizeof(*all) * (size_t)(per ? per : 1) * fp_router.nworkers);
	who = malloc(sizeof(*who) * (size_t)(per ? per : 1) * fp_router.nworkers);
	if (all == NULL || who == NULL) {
		free(all);
		free(who);
		rc = fp_err_set(err, ENOMEM, "no memory for the flow list");
		goto out;
	}
	memset(cmds, 0, sizeof(cmds));
	for (w = 0; w < fp_router.nworkers; w++) {
		cmds[w].type = FP_CMD_FLOW_SNAPSHOT;
		cmds[w].buf = all + (size_t)w * per;
		cmds[w].max = per;
	}
	rc = cmd_all_locked(cmds, err);
	if (rc < 0) {
		/* A worker may still write into the buffers: leak, don't free. */
		goto out;
	}
	for (w = 0; w < fp_router.nworkers; w++)
		for (i = 0; i < cmds[w].count; i++) {
			all[total] = all[(size_t)w * per + i];
			who[total++] = w;
		}
	*out = all;
	*workers = who;
	*count = total;
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

/* ---- routes and neighbours --------------------------------------------- */

int
fp_route_add(const uint8_t prefix[16], uint8_t plen, const uint8_t *via,
	     uint16_t port_idx, struct fp_err *err)
{
	struct fp_route r;
	char msg[160];
	int rc, nidx = -1;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running) {
		rc = fp_err_set(err, EINVAL, "no router is running");
		goto out;
	}
	if (port_idx >= fp_router.nports || plen > 128) {
		rc = fp_err_set(err, EINVAL, "bad interface index or prefix length");
		goto out;
	}
	memset(&r, 0, sizeof(r));
	memcpy(r.prefix, prefix, 16);
	r.plen = plen;
	r.kind = FP_ROUTE_STATIC;
	r.port_idx = port_idx;
	if (fp_fib_find(&fp_router.fib, prefix, plen) != NULL) {
		rc = fp_err_set(err, EEXIST, "a route for this prefix exists");
		goto out;
	}
	if (via != NULL) {
		nidx = fp_neigh_get(&fp_router.neigh, via, port_idx, true);
		if (nidx < 0) {
			rc = fp_err_set(err, ENOSPC, "neighbour table full");
			goto out;
		}
		r.has_via = true;
		memcpy(r.via, via, 16);
		r.nexthop = FP_NH_GATEWAY | (uint32_t)nidx;
		fp_router.neigh.entries[nidx].route_refs++;
	} else {
		r.nexthop = FP_NH_CONNECTED | port_idx;
	}
	rc = fp_fib_add(&fp_router.fib, &r, msg, sizeof(msg));
	if (rc < 0) {
		if (nidx >= 0)
			fp_neigh_unref(&fp_router.neigh, (uint32_t)nidx);
		rc = fp_err_set(err, -rc, "cannot add route: %s", msg);
		goto out;
	}
	fp_router.ctl_ctr[FP_CCTR_route_changes]++;
	fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
	fp_generation_bump();
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_route_delete(const uint8_t prefix[16], uint8_t plen, struct fp_err *err)
{
	struct fp_route *r, old;
	int rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running) {
		rc = fp_err_set(err, EINVAL, "no router is running");
		goto out;
	}
	r = fp_fib_find(&fp_router.fib, prefix, plen);
	if (r == NULL) {
		rc = fp_err_set(err, ENOENT, "no route for this prefix");
		goto out;
	}
	if (r->kind != FP_ROUTE_STATIC) {
		rc = fp_err_set(err, EPERM,
				"the route comes from an interface address; remove "
				"the address instead");
		goto out;
	}
	rc = fp_fib_delete(&fp_router.fib, prefix, plen, &old);
	if (rc < 0) {
		rc = fp_err_set(err, -rc, "cannot delete route: %s", strerror(-rc));
		goto out;
	}
	fp_generation_bump();
	if (old.has_via)
		fp_neigh_unref(&fp_router.neigh, old.nexthop & FP_NH_INDEX_MASK);
	fp_router.ctl_ctr[FP_CCTR_route_changes]++;
	fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

uint32_t
fp_route_list(struct fp_route *out, uint32_t max)
{
	uint32_t n = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (fp_router.running) {
		n = fp_router.fib.nroutes < max ? fp_router.fib.nroutes : max;
		memcpy(out, fp_router.fib.routes, sizeof(*out) * n);
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return n;
}

int
fp_neighbour_add(const uint8_t addr[16], uint16_t port_idx, const uint8_t mac[6],
		 struct fp_err *err)
{
	int rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running)
		rc = fp_err_set(err, EINVAL, "no router is running");
	else if (port_idx >= fp_router.nports)
		rc = fp_err_set(err, EINVAL, "bad interface index %u", port_idx);
	else {
		rc = fp_neigh_set(&fp_router.neigh, addr, port_idx, mac,
				  FP_NEIGH_PERMANENT);
		if (rc < 0)
			rc = fp_err_set(err, -rc, "cannot add neighbour: %s",
					rc == -ENOSPC ? "neighbour table full"
						      : strerror(-rc));
		else {
			rc = 0;
			fp_router.ctl_ctr[FP_CCTR_neighbour_changes]++;
			fp_generation_bump();
		}
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_neighbour_delete(const uint8_t addr[16], uint16_t port_idx, struct fp_err *err)
{
	int rc;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running)
		rc = fp_err_set(err, EINVAL, "no router is running");
	else {
		rc = fp_neigh_delete(&fp_router.neigh, addr, port_idx);
		if (rc < 0)
			rc = fp_err_set(err, ENOENT, "no such neighbour");
		else {
			fp_router.ctl_ctr[FP_CCTR_neighbour_changes]++;
			fp_generation_bump();
		}
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

/* A learned entry has just been written in state `state`: start its NUD
 * clock. Callers hold ctl_lock. */
static void
nud_begin(uint32_t idx, uint8_t state)
{
	struct fp_neigh *n = &fp_router.neigh.entries[idx];

	n->probes = 0;
	if (state == FP_NEIGH_REACHABLE)
		n->nud_deadline = rte_rdtsc() + fp_nd_reachable_tsc();
}

/* The table is full: ask the NUD tick to collect unused stale entries. */
static void
neigh_full(void)
{
	fp_router.ctl_ctr[FP_CCTR_nd_table_full]++;
	fp_nd_gc_request();
}

int
fp_neighbour_learn(const uint8_t addr[16], uint16_t port_idx, const uint8_t mac[6],
		   uint8_t state)
{
	int idx, rc = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running || port_idx >= fp_router.nports)
		goto out;
	idx = fp_neigh_lookup(&fp_router.neigh, addr, port_idx);
	if (idx >= 0) {
		const struct fp_neigh *n = &fp_router.neigh.entries[idx];
		bool same_mac = memcmp(n->mac, mac, 6) == 0;
		/* Static entries stay; a solicitation with the address we
		 * have changes nothing (RFC 4861 7.2.3). */
		if (n->state == FP_NEIGH_PERMANENT ||
		    (n->state != FP_NEIGH_NONE && same_mac &&
		     (state == FP_NEIGH_STALE || n->state == state)))
			goto out;
	}
	rc = fp_neigh_set(&fp_router.neigh, addr, port_idx, mac, state);
	if (rc >= 0) {
		nud_begin((uint32_t)rc, state);
		rc = 1;
		fp_router.ctl_ctr[FP_CCTR_neighbour_changes]++;
		fp_generation_bump();
	} else if (rc == -ENOSPC) {
		neigh_full();
	}
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_neighbour_advert(const uint8_t addr[16], uint16_t port_idx, const uint8_t *tlla,
		    bool solicited, bool override, bool resolving)
{
	struct fp_neigh *n;
	uint8_t state;
	int idx, rc = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running || port_idx >= fp_router.nports)
		goto out;
	idx = fp_neigh_lookup(&fp_router.neigh, addr, port_idx);
	n = idx >= 0 ? &fp_router.neigh.entries[idx] : NULL;
	if (n == NULL || n->state == FP_NEIGH_NONE) {
		/* INCOMPLETE (or a route's placeholder): needs the address;
		 * with no entry and nothing asked, the NA is ignored (7.2.5). */
		if (tlla == NULL || (n == NULL && !resolving))
			goto out;
		rc = fp_neigh_set(&fp_router.neigh, addr, port_idx, tlla,
				  solicited ? FP_NEIGH_REACHABLE : FP_NEIGH_STALE);
		if (rc < 0) {
			if (rc == -ENOSPC)
				neigh_full();
			goto out;
		}
		nud_begin((uint32_t)rc, solicited ? FP_NEIGH_REACHABLE : FP_NEIGH_STALE);
		rc = 1;
		goto changed;
	}
	if (n->state == FP_NEIGH_PERMANENT)
		goto out;
	if (!override && tlla != NULL && memcmp(tlla, n->mac, 6) != 0) {
		/* Another address without Override: do not take it; a
		 * REACHABLE entry becomes STALE, to be probed when used. */
		if (n->state == FP_NEIGH_REACHABLE) {
			fp_neigh_set_state(&fp_router.neigh, (uint32_t)idx, FP_NEIGH_STALE);
		}
		goto out;
	}
	if (tlla != NULL && memcmp(tlla, n->mac, 6) != 0) {
		/* Override with a new address: take it. */
		state = solicited ? FP_NEIGH_REACHABLE : FP_NEIGH_STALE;
		fp_neigh_set(&fp_router.neigh, addr, port_idx, tlla, state);
		nud_begin((uint32_t)idx, state);
		rc = 1;
		goto changed;
	}
	if (solicited) {
		/* Confirmation (e.g. of a DELAY or PROBE entry). */
		if (n->state != FP_NEIGH_REACHABLE)
			fp_neigh_set_state(&fp_router.neigh, (uint32_t)idx, FP_NEIGH_REACHABLE);
		nud_begin((uint32_t)idx, FP_NEIGH_REACHABLE);
		fp_router.ctl_ctr[FP_CCTR_nd_nud_confirmed]++;
	}
	goto out;
changed:
	fp_router.ctl_ctr[FP_CCTR_neighbour_changes]++;
	fp_generation_bump();
out:
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return rc;
}

int
fp_neighbour_flush(uint16_t port_idx, bool all_ports)
{
	uint32_t i;
	int removed = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	for (i = 0; fp_router.running && i < fp_router.neigh.max; i++) {
		const struct fp_neigh *n = &fp_router.neigh.entries[i];
		if (!n->in_use || n->state == FP_NEIGH_PERMANENT || n->state == FP_NEIGH_NONE ||
		    (!all_ports && n->port_idx != port_idx))
			continue;
		if (fp_neigh_delete(&fp_router.neigh, n->addr, n->port_idx) == 0)
			removed++;
	}
	if (removed > 0) {
		fp_router.ctl_ctr[FP_CCTR_neighbour_changes] += (uint64_t)removed;
		fp_generation_bump();
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return removed;
}

uint32_t
fp_neighbour_list(struct fp_neigh_info *out, uint32_t max)
{
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();
	uint32_t i, n = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	for (i = 0; fp_router.running && i < fp_router.neigh.max && n < max; i++) {
		const struct fp_neigh *e = &fp_router.neigh.entries[i];
		if (!e->in_use)
			continue;
		memcpy(out[n].addr, e->addr, 16);
		memcpy(out[n].mac, e->mac, 6);
		out[n].state = e->state;
		out[n].port_idx = e->port_idx;
		out[n].route_refs = e->route_refs;
		out[n].age_ms = (now - e->updated_tsc) * 1000 / hz;
		n++;
	}
	if (fp_router.running && n < max)
		n += fp_nd_pending_list(out + n, max - n);
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return n;
}

int
fp_port_set_up(uint16_t port_idx, bool up, struct fp_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&fp_router.ctl_lock);
	if (!fp_router.running || port_idx >= fp_router.nports ||
	    !fp_router.ports[port_idx].in_use)
		rc = fp_err_set(err, ENOENT, "no such interface");
	else if (fp_router.ports[port_idx].up != up) {
		fp_router.ports[port_idx].up = up;
		fp_generation_bump();
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
		if (r.port_idx != idx)
			continue;
		if (fp_fib_delete(&fp_router.fib, r.prefix, r.plen, &old) == 0) {
			fp_router.ctl_ctr[FP_CCTR_route_changes]++;
			fp_router.ctl_ctr[FP_CCTR_fib_swaps]++;
			if (old.has_via)
				fp_neigh_unref(&fp_router.neigh, old.nexthop & FP_NH_INDEX_MASK);
		}
	}
	for (i = 0; i < fp_router.neigh.max; i++) {
		const struct fp_neigh *n = &fp_router.neigh.entries[i];
		if (n->in_use && n->port_idx == idx && n->state != FP_NEIGH_NONE)
			fp_neigh_delete(&fp_router.neigh, n->addr, n->port_idx);
	}
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
	if (fp_router.nports >= FP_MAX_IFACES) {
		rc = fp_err_set(err, ENOSPC, "no interface slot left (%u, indices are not "
				"reused while the router runs)", FP_MAX_IFACES);
		goto out;
	}
	idx = fp_router.nports;
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
		add_link_local(port);
	/* VLANs are Ethernet links: DAD (control/dad.c). A loopback has no one
	 * to collide with. */
	for (a = 0; a < port->naddrs; a++)
		port->addr_state[a] = kind == FP_IF_VLAN && port->dad_transmits > 0
					      ? FP_ADDR_TENTATIVE : FP_ADDR_PREFERRED;
	port->up = true;
	port->in_use = true;
	/* Visible to lcores and the control thread only now. */
	__atomic_store_n(&fp_router.nports, idx + 1, __ATOMIC_RELEASE);
	rc = add_address_routes((uint16_t)idx, err);
	if (rc < 0) {
		iface_forget_locked((uint16_t)idx);
		port->in_use = false;
		port->up = false;
		/* The slot stays taken: indices are never reused. */
		goto bump;
	}
	if (par != NULL)
		__atomic_store_n(&fp_router.vlan_map[parent][vlan_id], (uint8_t)(idx + 1),
				 __ATOMIC_RELEASE);
	/* Its groups (all-nodes, all-routers, solicited-node...): at launch
	 * for the config's clones, now for later ones. */
	if (fp_router.launched)
		fp_mld_iface((uint16_t)idx);
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

/* ---- stats ------------------------------------------------------------- */

/*
 * Snapshot layout (uint64 words):
 *   [0] tsc_hz  [1] tsc now  [2] generation  [3] nworkers  [4] nports
 *   [5 .. 5+CTL)                       control-thread counters
 *   FIB (FP_FIB_WORDS): routes, max routes, tbl8 groups, in use, reserved
 *               (both ~0 when unknown), bytes per copy, rebuilds,
 *               last and longest rebuild in ns
 *   per worker: lcore_id, lcore counters, drop reasons, nports x port counters
 *   per port:   ethdev ipackets, opackets, ibytes, obytes, imissed,
 *               ierrors, oerrors, rx_nombuf
 */
#define FP_STATS_HDR 5
#define FP_ETHDEV_WORDS 8
#define FP_FIB_WORDS 9

size_t
fp_stats_size(void)
{
	size_t per = 1 + FP_LCORE_CTR_MAX + FP_DROP_MAX +
		     (size_t)fp_router.nports * FP_PORT_CTR_MAX;
	return FP_STATS_HDR + FP_CTL_CTR_MAX + FP_FIB_WORDS + fp_router.nworkers * per +
	       (size_t)fp_router.nports * FP_ETHDEV_WORDS;
}

size_t
fp_stats_snapshot(uint64_t *out, size_t max)
{
	struct fp_fib_stats fs;
	size_t n = 0, need;
	uint32_t w, p;

	pthread_mutex_lock(&fp_router.ctl_lock);
	need = fp_stats_size();
	if (!fp_router.running || max < need) {
		pthread_mutex_unlock(&fp_router.ctl_lock);
		return 0;
	}
	out[n++] = rte_get_tsc_hz();
	out[n++] = rte_rdtsc();
	out[n++] = fp_generation_load();
	out[n++] = fp_router.nworkers;
	out[n++] = fp_router.nports;
	fp_router.ctl_ctr[FP_CCTR_events_dropped] = fp_event_dropped();
	memcpy(out + n, fp_router.ctl_ctr, sizeof(fp_router.ctl_ctr));
	n += FP_CTL_CTR_MAX;
	fp_fib_get_stats(&fp_router.fib, &fs);
	out[n++] = fs.routes;
	out[n++] = fs.max_routes;
	out[n++] = fs.tbl8_groups;
	out[n++] = (uint64_t)fs.tbl8_in_use;
	out[n++] = (uint64_t)fs.tbl8_reserved;
	out[n++] = fs.bytes_per_copy;
	out[n++] = fs.rebuilds;
	out[n++] = fs.rebuild_last_ns;
	out[n++] = fs.rebuild_max_ns;
	for (w = 0; w < fp_router.nworkers; w++) {
		const struct fp_lcore *lc = fp_router.lcores[w];
		out[n++] = lc->lcore_id;
		memcpy(out + n, lc->ctr, sizeof(lc->ctr));
		n += FP_LCORE_CTR_MAX;
		memcpy(out + n, lc->drop, sizeof(lc->drop));
		n += FP_DROP_MAX;
		for (p = 0; p < fp_router.nports; p++) {
			memcpy(out + n, lc->port_ctr[p], sizeof(lc->port_ctr[p]));
			n += FP_PORT_CTR_MAX;
		}
	}
	for (p = 0; p < fp_router.nports; p++) {
		struct rte_eth_stats st;
		memset(&st, 0, sizeof(st));
		/* Device counters exist for ports; clones have their own only. */
		if (fp_router.ports[p].kind == FP_IF_PORT)
			rte_eth_stats_get(fp_router.ports[p].port_id, &st);
		out[n++] = st.ipackets;
		out[n++] = st.opackets;
		out[n++] = st.ibytes;
		out[n++] = st.obytes;
		out[n++] = st.imissed;
		out[n++] = st.ierrors;
		out[n++] = st.oerrors;
		out[n++] = st.rx_nombuf;
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return n;
}

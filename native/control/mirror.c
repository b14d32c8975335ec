/*
 * control/mirror.c — a Linux TAP interface per mirrored fastpath interface
 * (docs/linux-integration.md): the kernel sees the port's MAC, MTU, link
 * state, addresses and the packets for the router no fastpath protocol
 * takes; what the kernel sends on the TAP leaves through the port.
 *
 * A plain tun/tap file descriptor per mirror, read and written by the
 * control thread only (never a worker: they make no system calls). Frames
 * from the kernel go out through a worker's control tx ring (fp_ctl_send).
 * Ownership: see linux.h. The mirror table is built by fp_linux_enable on
 * the JS thread and published with `enabled`; the control thread then owns
 * it until the router stops (this module stops after the control thread).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "../core/ip6.h"
#include "../core/proto.h"
#include "../core/router.h"
#include "ctl.h"
#include "linux.h"
#include "mld.h"

#define MIRROR_SYNC_MS 1000 /* link, MTU, addresses, groups: checked this often */
#define MIRROR_READ_BUDGET 64 /* frames read from one TAP per turn */
#define MIRROR_FRAME_MAX 16384

/* in6_ifreq of linux/ipv6.h (which clashes with netinet/in.h). */
struct mirror_in6_ifreq {
	uint8_t addr[16];
	uint32_t prefixlen;
	int ifindex;
};

struct mirror {
	uint16_t port_idx;
	int fd;
	unsigned ifindex;
	char name[FP_LINUX_IFNAMSIZ];
	/* What the kernel was last told. */
	int carrier;   /* -1: not yet */
	uint16_t mtu;
	uint32_t naddrs;
	struct fp_addr addrs[FP_MAX_ADDRS];
	/* Groups joined on the port for the kernel's listeners. */
	uint32_t ngroups;
	uint8_t groups[FP_MAX_MCAST][16];
	uint64_t to_kernel, from_kernel;
	bool gone; /* its interface was destroyed (any thread); closed by the control thread */
};

static struct mirror mirrors[FP_MAX_IFACES];
static uint32_t nmirrors;
static int mirror_of_port[FP_MAX_IFACES]; /* index + 1, 0: none */
static bool enabled;                      /* published with release */
static bool importing;
static uint64_t next_sync_tsc;
static uint8_t frame[MIRROR_FRAME_MAX];

/* Write a value to /proc/sys/net/ipv6/conf/<name>/<key>. */
static int
mirror_sysctl(const char *name, const char *key, const char *value)
{
	char path[128];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", name, key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int
mirror_ifreq(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (s < 0)
		return -errno;
	if (ioctl(s, req, ifr) < 0)
		rc = -errno;
	close(s);
	return rc;
}

static int
mirror_addr(unsigned ifindex, const struct fp_addr *a, bool add)
{
	struct mirror_in6_ifreq r;
	int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (s < 0)
		return -errno;
	memset(&r, 0, sizeof(r));
	memcpy(r.addr, a->addr, 16);
	r.prefixlen = a->plen;
	r.ifindex = (int)ifindex;
	if (ioctl(s, add ? SIOCSIFADDR : SIOCDIFADDR, &r) < 0 && errno != EEXIST)
		rc = -errno;
	close(s);
	return rc;
}

static void
mirror_close(struct mirror *mi)
{
	if (mi->fd >= 0)
		close(mi->fd); /* a non-persistent TAP goes with its last fd */
	mi->fd = -1;
}

/* Create the TAP for spec: the port's MAC, its MTU, up, no address of its
 * own making, no DAD (fastpath did it), no RA/RS. */
static int
mirror_create(struct mirror *mi, const struct fp_linux_mirror_spec *spec, struct fp_err *err)
{
	const struct fp_port *port = &fp_router.ports[spec->port_idx];
	struct ifreq ifr;
	int rc;

	memset(mi, 0, sizeof(*mi));
	mi->fd = -1;
	mi->carrier = -1;
	mi->port_idx = spec->port_idx;
	snprintf(mi->name, sizeof(mi->name), "%s", spec->name);
	mi->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (mi->fd < 0)
		return fp_err_set(err, errno, "mirror %s: cannot open /dev/net/tun: %s",
				  mi->name, strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", mi->name);
	if (ioctl(mi->fd, TUNSETIFF, &ifr) < 0) {
		rc = errno;
		mirror_close(mi);
		return fp_err_set(err, rc, "mirror %s: cannot create the TAP: %s", mi->name,
				  strerror(rc));
	}
	mi->ifindex = if_nametoindex(mi->name);
	/* Before the interface is up: no link-local of the kernel's making
	 * (the port's is copied), no DAD, no autoconfiguration. */
	mirror_sysctl(mi->name, "addr_gen_mode", "1");
	mirror_sysctl(mi->name, "accept_dad", "0");
	mirror_sysctl(mi->name, "accept_ra", "0");
	mirror_sysctl(mi->name, "router_solicitations", "0");
	mirror_sysctl(mi->name, "keep_addr_on_down", "1");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", mi->name);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, port->mac.addr_bytes, 6);
	rc = mirror_ifreq(SIOCSIFHWADDR, &ifr);
	if (rc == 0) {
		ifr.ifr_mtu = port->mtu;
		rc = mirror_ifreq(SIOCSIFMTU, &ifr);
		mi->mtu = port->mtu;
	}
	if (rc == 0)
		rc = mirror_ifreq(SIOCGIFFLAGS, &ifr);
	if (rc == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = mirror_ifreq(SIOCSIFFLAGS, &ifr);
	}
	if (rc < 0) {
		mirror_close(mi);
		return fp_err_set(err, -rc, "mirror %s: cannot set its MAC, MTU or flags: %s",
				  mi->name, strerror(-rc));
	}
	return 0;
}

/* Carrier, MTU and addresses of the port, told to the kernel when they
 * changed. */
static void
mirror_sync_port(struct mirror *mi)
{
	struct fp_port *port = malloc(sizeof(*port));
	int carrier;
	uint32_t i, j;

	if (port == NULL)
		return;
	/* A snapshot: the JS thread changes addresses and MTU under ctl_lock. */
	pthread_mutex_lock(&fp_router.ctl_lock);
	memcpy(port, &fp_router.ports[mi->port_idx], sizeof(*port));
	pthread_mutex_unlock(&fp_router.ctl_lock);
	carrier = port->up && port->link_state != FP_LINK_DOWN;

	if (carrier != mi->carrier) {
#ifdef TUNSETCARRIER
		int on = carrier;
		ioctl(mi->fd, TUNSETCARRIER, &on);
#endif
		mi->carrier = carrier;
	}
	if (port->mtu != mi->mtu) {
		struct ifreq ifr;

		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", mi->name);
		ifr.ifr_mtu = port->mtu;
		if (mirror_ifreq(SIOCSIFMTU, &ifr) == 0)
			mi->mtu = port->mtu;
	}
	/* Addresses gone from the port, then new ones. */
	for (i = 0; i < mi->naddrs;) {
		bool kept = false;

		for (j = 0; j < port->naddrs && !kept; j++)
			kept = memcmp(port->addrs[j].addr, mi->addrs[i].addr, 16) == 0 &&
			       port->addrs[j].plen == mi->addrs[i].plen;
		if (kept) {
			i++;
			continue;
		}
		mirror_addr(mi->ifindex, &mi->addrs[i], false);
		mi->addrs[i] = mi->addrs[--mi->naddrs];
	}
	for (j = 0; j < port->naddrs && j < FP_MAX_ADDRS; j++) {
		bool known = false;

		for (i = 0; i < mi->naddrs && !known; i++)
			known = memcmp(port->addrs[j].addr, mi->addrs[i].addr, 16) == 0 &&
				port->addrs[j].plen == mi->addrs[i].plen;
		if (!known && mi->naddrs < FP_MAX_ADDRS &&
		    mirror_addr(mi->ifindex, &port->addrs[j], true) == 0)
			mi->addrs[mi->naddrs++] = port->addrs[j];
	}
	free(port);
}

/* Groups fastpath has anyway (all-nodes) and those of interface scope. */
static bool
group_needs_join(const uint8_t g[16])
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };

	return (g[1] & 0x0f) > 1 && memcmp(g, all_nodes, 16) != 0;
}

/* The kernel's multicast memberships on each mirror (/proc/net/igmp6):
 * join what it joined on the port, leave what it left, so that workers
 * punt ff02::5 and the like and fastpath's MLD reports them. */
static void
mirror_sync_groups(void)
{
	uint8_t want[FP_MAX_IFACES][FP_MAX_MCAST][16];
	uint32_t nwant[FP_MAX_IFACES] = { 0 };
	char line[256], ifname[IFNAMSIZ + 1], hex[33];
	unsigned idx, users, flags, timer;
	FILE *f = fopen("/proc/net/igmp6", "re");
	uint32_t m, i, j;

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		int port;
		uint8_t g[16];

		if (sscanf(line, "%u %16s %32s %u %x %u", &idx, ifname, hex, &users, &flags,
			   &timer) != 6 || strlen(hex) != 32)
			continue;
		port = fp_mirror_port_of(idx);
		if (port < 0)
			continue;
		for (i = 0; i < 16; i++) {
			unsigned b;

			sscanf(hex + 2 * i, "%2x", &b);
			g[i] = (uint8_t)b;
		}
		m = (uint32_t)mirror_of_port[port] - 1;
		if (group_needs_join(g) && nwant[m] < FP_MAX_MCAST)
			memcpy(want[m][nwant[m]++], g, 16);
	}
	fclose(f);
	for (m = 0; m < nmirrors; m++) {
		struct mirror *mi = &mirrors[m];
		struct fp_err err;

		if (mi->fd < 0)
			continue;
		for (i = 0; i < mi->ngroups;) {
			bool kept = false;

			for (j = 0; j < nwant[m] && !kept; j++)
				kept = memcmp(want[m][j], mi->groups[i], 16) == 0;
			if (kept) {
				i++;
				continue;
			}
			fp_mld_leave(mi->port_idx, mi->groups[i], &err);
			memcpy(mi->groups[i], mi->groups[--mi->ngroups], 16);
		}
		for (j = 0; j < nwant[m]; j++) {
			bool known = false;

			for (i = 0; i < mi->ngroups && !known; i++)
				known = memcmp(want[m][j], mi->groups[i], 16) == 0;
			if (known || mi->ngroups >= FP_MAX_MCAST ||
			    fp_mld_join(mi->port_idx, want[m][j], &err) < 0)
				continue;
			memcpy(mi->groups[mi->ngroups++], want[m][j], 16);
			fp_router.ctl_ctr[FP_CCTR_mirror_groups_joined]++;
		}
	}
}

/* The kernel's MLD messages: fastpath's listener speaks for the link. */
static bool
frame_is_mld(const uint8_t *f, uint32_t len)
{
	const uint8_t *ip6 = f + FP_ETHER_HDR_LEN;
	uint32_t off = FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN;
	uint8_t nxt = ip6[FP_IP6_OFF_NXT], type;

	if (nxt == FP_IPPROTO_HOPOPTS) {
		if (off + 8 > len)
			return false;
		nxt = f[off];
		off += 8u * (f[off + 1] + 1u);
	}
	if (nxt != FP_IPPROTO_ICMPV6 || off + 1 > len)
		return false;
	type = f[off];
	return type == 130 || type == 131 || type == 132 || type == 143;
}

/* Frames the kernel sent on mirror mi: out through its port. */
static void
mirror_read(struct mirror *mi)
{
	const struct fp_port *port = &fp_router.ports[mi->port_idx];
	struct fp_lcore *lc = fp_router.lcores[0];
	int k;

	for (k = 0; k < MIRROR_READ_BUDGET; k++) {
		ssize_t n = read(mi->fd, frame, sizeof(frame));
		struct rte_mbuf *m;

		if (n < 0)
			return; /* EAGAIN: nothing more */
		if ((size_t)n < FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN ||
		    frame[12] != 0x86 || frame[13] != 0xdd ||
		    (size_t)n > FP_ETHER_HDR_LEN + (size_t)port->mtu ||
		    frame_is_mld(frame, (uint32_t)n) || lc == NULL) {
			fp_router.ctl_ctr[FP_CCTR_mirror_from_kernel_dropped]++;
			continue;
		}
		m = rte_pktmbuf_alloc(fp_router.pool);
		if (m == NULL || rte_pktmbuf_append(m, (uint16_t)n) == NULL) {
			rte_pktmbuf_free(m);
			fp_router.ctl_ctr[FP_CCTR_mirror_from_kernel_dropped]++;
			continue;
		}
		memcpy(rte_pktmbuf_mtod(m, void *), frame, (size_t)n);
		mi->from_kernel++;
		fp_router.ctl_ctr[FP_CCTR_mirror_from_kernel]++;
		fp_ctl_send(lc, m, mi->port_idx);
	}
}

static struct mirror *
mirror_for(uint16_t port_idx)
{
	struct mirror *mi;

	if (!__atomic_load_n(&enabled, __ATOMIC_ACQUIRE) || port_idx >= FP_MAX_IFACES ||
	    mirror_of_port[port_idx] == 0)
		return NULL;
	mi = &mirrors[mirror_of_port[port_idx] - 1];
	return mi->fd >= 0 && !__atomic_load_n(&mi->gone, __ATOMIC_ACQUIRE) ? mi : NULL;
}

static bool
mirror_write(struct mirror *mi, const struct rte_mbuf *m)
{
	const void *p;

	if (m->pkt_len > sizeof(frame))
		return false;
	p = rte_pktmbuf_read(m, 0, m->pkt_len, frame);
	if (p == NULL || write(mi->fd, p, m->pkt_len) < 0) {
		fp_router.ctl_ctr[FP_CCTR_mirror_write_failed]++;
		return false;
	}
	mi->to_kernel++;
	return true;
}

bool
fp_mirror_input(struct rte_mbuf *m)
{
	struct mirror *mi = mirror_for(m->port);

	if (mi == NULL)
		return false;
	if (mirror_write(mi, m))
		fp_router.ctl_ctr[FP_CCTR_mirror_to_kernel]++;
	rte_pktmbuf_free(m);
	return true;
}

bool
fp_mirror_copy(const struct rte_mbuf *m)
{
	struct mirror *mi = mirror_for(m->port);

	if (mi == NULL || !mirror_write(mi, m))
		return false;
	fp_router.ctl_ctr[FP_CCTR_mirror_na_copies]++;
	return true;
}

int
fp_mirror_port_of(unsigned kernel_ifindex)
{
	uint32_t m;

	for (m = 0; m < nmirrors; m++)
		if (mirrors[m].ifindex == kernel_ifindex && mirrors[m].fd >= 0)
			return mirrors[m].port_idx;
	return -1;
}

int
fp_linux_enable(const struct fp_linux_config *cfg, struct fp_err *err)
{
	uint32_t i;
	int rc = 0;

	if (__atomic_load_n(&enabled, __ATOMIC_ACQUIRE))
		return fp_err_set(err, EBUSY, "linux: mirrors and route import are already on");
	if (!fp_router.running || fp_router.nworkers == 0)
		return fp_err_set(err, EINVAL, "no router is running");
	if (cfg->nmirrors > FP_MAX_IFACES)
		return fp_err_set(err, EINVAL, "linux: %u mirrors (at most %u)", cfg->nmirrors,
				  FP_MAX_IFACES);
	memset(mirror_of_port, 0, sizeof(mirror_of_port));
	nmirrors = 0;
	for (i = 0; i < cfg->nmirrors; i++) {
		const struct fp_linux_mirror_spec *s = &cfg->mirrors[i];

		if (s->port_idx >= fp_router.nports || !fp_router.ports[s->port_idx].in_use ||
		    fp_router.ports[s->port_idx].kind == FP_IF_LOOP || mirror_of_port[s->port_idx]) {
			rc = fp_err_set(err, EINVAL, "linux: mirrors[%u]: no such interface, a "
					"loopback or mirrored twice", i);
			goto fail;
		}
		rc = mirror_create(&mirrors[nmirrors], s, err);
		if (rc < 0)
			goto fail;
		nmirrors++;
		mirror_of_port[s->port_idx] = (int)nmirrors;
	}
	for (i = 0; i < nmirrors; i++)
		mirror_sync_port(&mirrors[i]);
	if (cfg->import_routes) {
		rc = fp_rtimport_open(cfg->import_table, cfg->import_protos, err);
		if (rc < 0)
			goto fail;
		importing = true;
	}
	next_sync_tsc = 0;
	__atomic_store_n(&enabled, true, __ATOMIC_RELEASE);
	return 0;
fail:
	for (i = 0; i < nmirrors; i++)
		mirror_close(&mirrors[i]);
	nmirrors = 0;
	memset(mirror_of_port, 0, sizeof(mirror_of_port));
	return rc;
}

uint32_t
fp_linux_mirrors(struct fp_linux_mirror_info *out, uint32_t max)
{
	uint32_t m, n = 0;

	if (!__atomic_load_n(&enabled, __ATOMIC_ACQUIRE))
		return 0;
	for (m = 0; m < nmirrors && n < max; m++, n++) {
		out[n].port_idx = mirrors[m].port_idx;
		memcpy(out[n].name, mirrors[m].name, sizeof(out[n].name));
		out[n].ifindex = mirrors[m].ifindex;
		out[n].to_kernel = mirrors[m].to_kernel;
		out[n].from_kernel = mirrors[m].from_kernel;
	}
	return n;
}

void
fp_linux_get_status(struct fp_linux_status *st)
{
	memset(st, 0, sizeof(*st));
	st->enabled = __atomic_load_n(&enabled, __ATOMIC_ACQUIRE);
	st->importing = st->enabled && importing;
	if (st->importing)
		fp_rtimport_status(st);
}

/* Control thread, each turn: what the TAPs and the netlink socket hold
 * (one poll() for all of them), then the once-a-second sync. */
static void
linux_timers(void)
{
	struct pollfd fds[FP_MAX_IFACES + 2];
	uint32_t m, n = 0;
	uint64_t now;

	if (!__atomic_load_n(&enabled, __ATOMIC_ACQUIRE))
		return;
	for (m = 0; m < nmirrors; m++) {
		/* An interface destroyed: its mirror goes (the kernel removes
		 * the TAP with its last descriptor); poll() skips fd -1. */
		if (__atomic_load_n(&mirrors[m].gone, __ATOMIC_ACQUIRE) && mirrors[m].fd >= 0) {
			mirror_close(&mirrors[m]);
			mirror_of_port[mirrors[m].port_idx] = 0;
		}
		fds[n].fd = mirrors[m].fd;
		fds[n++].events = POLLIN;
	}
	if (importing) {
		fds[n].fd = fp_rtimport_fd();
		fds[n++].events = POLLIN;
		fds[n].fd = fp_rtimport_dump_fd();
		fds[n++].events = POLLIN;
	}
	if (poll(fds, n, 0) > 0) {
		for (m = 0; m < nmirrors; m++)
			if (fds[m].revents & POLLIN)
				mirror_read(&mirrors[m]);
		if (importing && ((fds[nmirrors].revents | fds[nmirrors + 1].revents) & (POLLIN | POLLERR)))
			fp_rtimport_read();
	}
	if (importing)
		fp_rtimport_tick();
	now = rte_get_tsc_cycles();
	if (now < next_sync_tsc)
		return;
	next_sync_tsc = now + rte_get_tsc_hz() / 1000 * MIRROR_SYNC_MS;
	for (m = 0; m < nmirrors; m++)
		if (mirrors[m].fd >= 0)
			mirror_sync_port(&mirrors[m]);
	mirror_sync_groups();
	if (importing)
		fp_rtimport_timers();
}

/* After the control thread has stopped: close the TAPs
 * (the kernel removes them and their routes) and the netlink socket. */
static void
linux_stop(void)
{
	uint32_t m;

	if (!__atomic_load_n(&enabled, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&enabled, false, __ATOMIC_RELEASE);
	/* The groups went with control/mld.c's reset (the control thread's stop). */
	for (m = 0; m < nmirrors; m++)
		mirror_close(&mirrors[m]);
	nmirrors = 0;
	memset(mirror_of_port, 0, sizeof(mirror_of_port));
	if (importing)
		fp_rtimport_close();
	importing = false;
}

/* ctl_lock held, any thread: only marks it (the control thread owns the fd). */
static void
linux_iface_removed(uint16_t idx)
{
	uint32_t m;

	if (!__atomic_load_n(&enabled, __ATOMIC_ACQUIRE))
		return;
	for (m = 0; m < nmirrors; m++)
		if (mirrors[m].port_idx == idx)
			__atomic_store_n(&mirrors[m].gone, true, __ATOMIC_RELEASE);
}

static struct fp_proto linux_proto = {
	.name = "linux",
	.order = FP_PROTO_ORDER_LINUX,
	.stop = linux_stop,
	.timers = linux_timers,
	.iface_removed = linux_iface_removed,
	.route_shadowed = fp_rtimport_shadowed,
};
FP_PROTO_REGISTER(linux_proto)

/*
 * control/link.c — real link state per port, through the if.c link-state queue.
 *
 * Where a port's link state comes from (fp_link_source):
 *  - LSC: the PMD raises link-status-change interrupts (RTE_ETH_DEV_INTR_LSC
 *    in its dev_flags, e.g. ixgbe, i40e, ice, mlx5, virtio): the callback on
 *    EAL's interrupt thread reads the link and queues it.
 *  - NETLINK: af_packet. The PMD reports "up" once started whatever the
 *    kernel interface does, so the router listens to the kernel instead
 *    (RTM_NEWLINK on NETLINK_ROUTE, RTMGRP_LINK): the carrier of the
 *    interface named by iface= (IFF_UP and IFF_LOWER_UP). Event-driven,
 *    every change the kernel reports; if the socket overflows (ENOBUFS) the
 *    state is read again (SIOCGIFFLAGS) and counted (link_resyncs).
 *  - POLL: everything else (pcap, null, ring, tap...):
 *    rte_eth_link_get_nowait() every 100 ms from the control thread.
 *
 * Producers push into the port's queue (core/linkq.h, if.c's semantics)
 * under link_lock; the control thread pops and applies one state at a time
 * (if_link_state_change0) — for kernel messages right after each one, since
 * it reads them itself, so only LSC interrupts can outrun it: a state equal to the current one is a no-op;
 * UNKNOWN → UP restarts duplicate address detection; a change withdraws
 * or restores the routes through the port and its VLANs (core/routes.c,
 * under ctl_lock), bumps the generation (flows through the port are
 * rebuilt on the remaining routes) and is posted as an event for JS, after
 * the routes have followed.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "../core/event.h"
#include "../core/linkq.h"
#include "nd.h"
#include "../core/proto.h"
#include "../core/router.h"
#include "ctl.h"

#define LINK_POLL_MS 100
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* <linux/if.h>: driver signals L1 up (carrier) */
#endif

static pthread_mutex_t link_lock = PTHREAD_MUTEX_INITIALIZER;
static int nl_fd = -1;
static uint64_t next_poll;

/* The kernel interface an af_packet port's devargs name (iface=...). */
static bool
afpacket_iface(const char *device, char *out, size_t len)
{
	const char *p = strstr(device, "iface=");
	size_t n;

	if (strncmp(device, "net_af_packet", 13) != 0 || p == NULL)
		return false;
	p += 6;
	n = strcspn(p, ",");
	if (n == 0 || n >= len)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static void
link_push(uint16_t p, uint8_t state)
{
	struct fp_port *port = &fp_router.ports[p];
	int rc;

	pthread_mutex_lock(&link_lock);
	rc = fp_linkq_push(&port->link_queue, state);
	pthread_mutex_unlock(&link_lock);
	if (rc < 0)
		__atomic_add_fetch(&fp_router.ctl_ctr[FP_CCTR_link_queue_overflows], 1,
				   __ATOMIC_RELAXED);
}

static uint8_t
ethdev_link(uint16_t port_id)
{
	struct rte_eth_link link;

	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(port_id, &link) != 0)
		return FP_LINK_UNKNOWN;
	return link.link_status == RTE_ETH_LINK_UP ? FP_LINK_UP : FP_LINK_DOWN;
}

/* Carrier of a kernel interface (af_packet's). */
static uint8_t
kernel_link(const char *ifname)
{
	struct ifreq ifr;
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint8_t state = FP_LINK_UNKNOWN;

	if (fd < 0)
		return state;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
		state = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING)
				? FP_LINK_UP
				: FP_LINK_DOWN;
	close(fd);
	return state;
}

static int
lsc_callback(uint16_t port_id, enum rte_eth_event_type type, void *arg, void *ret)
{
	uint16_t p = fp_router.port_idx_by_id[port_id];

	(void)type;
	(void)arg;
	(void)ret;
	if (p < fp_router.nphys && fp_router.ports[p].port_id == port_id)
		link_push(p, ethdev_link(port_id));
	return 0;
}

int
fp_link_configure(uint16_t p, const struct rte_eth_dev_info *info,
		  struct rte_eth_conf *conf)
{
	struct fp_port *port = &fp_router.ports[p];

	port->link_state = FP_LINK_UNKNOWN;
	port->link_queue = FP_LINKQ_EMPTY;
	port->kernel_ifindex = 0;
	if (afpacket_iface(port->device, port->kernel_ifname, sizeof(port->kernel_ifname))) {
		port->link_source = FP_LINK_SOURCE_NETLINK;
		port->kernel_ifindex = if_nametoindex(port->kernel_ifname);
	} else if (*info->dev_flags & RTE_ETH_DEV_INTR_LSC) {
		port->link_source = FP_LINK_SOURCE_LSC;
		conf->intr_conf.lsc = 1;
	} else {
		port->link_source = FP_LINK_SOURCE_POLL;
	}
	return 0;
}

static int
netlink_open(void)
{
	struct sockaddr_nl sa;
	int fd, size = 1 << 20;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_LINK;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* The state a port has right now, from its source. */
static uint8_t
current_link(uint16_t p)
{
	const struct fp_port *port = &fp_router.ports[p];

	if (port->link_source == FP_LINK_SOURCE_NETLINK)
		return kernel_link(port->kernel_ifname);
	return ethdev_link(port->port_id);
}

static void
post_link_event(uint16_t p, uint8_t state, uint8_t prev)
{
	fp_event_notify(FP_EVENT_LINK, p, state, prev, NULL, 0);
}

int
fp_link_start(struct fp_err *err)
{
	uint16_t p;
	bool need_nl = false;

	for (p = 0; p < fp_router.nphys; p++) {
		struct fp_port *port = &fp_router.ports[p];
		uint8_t state;

		if (port->link_source == FP_LINK_SOURCE_NETLINK)
			need_nl = true;
		if (port->link_source == FP_LINK_SOURCE_LSC)
			rte_eth_dev_callback_register(port->port_id, RTE_ETH_EVENT_INTR_LSC,
						      lsc_callback, NULL);
		/* The first state is known before anything else runs (DAD
		 * starts on it); it is an event like the others. */
		state = current_link(p);
		port->link_state = state;
	}
	/* VLANs cloned before launch (from the config) take their parent's. */
	for (p = fp_router.nphys; p < fp_router.nports; p++) {
		struct fp_port *v = &fp_router.ports[p];
		if (!v->in_use || v->kind != FP_IF_VLAN)
			continue;
		v->link_state = fp_router.ports[v->parent].link_state;
	}
	/* Routes through a link that starts down leave the FIB before the
	 * first packet (the caller holds ctl_lock). */
	fp_routes_follow_links_locked(-1);
	for (p = 0; p < fp_router.nports; p++) {
		const struct fp_port *port = &fp_router.ports[p];
		if (p >= fp_router.nphys && (!port->in_use || port->kind != FP_IF_VLAN))
			continue;
		if (port->link_state != FP_LINK_UNKNOWN)
			post_link_event(p, port->link_state, FP_LINK_UNKNOWN);
	}
	if (need_nl && nl_fd < 0) {
		nl_fd = netlink_open();
		if (nl_fd < 0) {
			int e = -nl_fd;
			nl_fd = -1;
			return fp_err_set(err, e, "cannot listen for kernel link changes "
					  "(netlink): %s", strerror(e));
		}
	}
	next_poll = 0;
	return 0;
}

void
fp_link_stop(void)
{
	uint16_t p;

	for (p = 0; p < fp_router.nphys; p++)
		if (fp_router.ports[p].link_source == FP_LINK_SOURCE_LSC)
			rte_eth_dev_callback_unregister(fp_router.ports[p].port_id,
							RTE_ETH_EVENT_INTR_LSC,
							lsc_callback, NULL);
	if (nl_fd >= 0) {
		close(nl_fd);
		nl_fd = -1;
	}
}

/* if_link_state_change0: apply one queued state. */
static void
link_apply(uint16_t p, uint8_t state)
{
	struct fp_port *port = &fp_router.ports[p];
	uint8_t prev = port->link_state, vprev[FP_MAX_IFACES];
	bool vchanged[FP_MAX_IFACES] = { false };
	uint32_t i;

	if (state == prev)
		return;
	/* UNKNOWN → UP: addresses may have missed a duplicate; DAD again. */
	if (state == FP_LINK_UP && prev == FP_LINK_UNKNOWN)
		fp_dad_restart(p);
	port->link_state = state;
	fp_router.ctl_ctr[state == FP_LINK_UP ? FP_CCTR_link_went_up : FP_CCTR_link_went_down]++;
	/* A VLAN's link is its parent's. */
	for (i = fp_router.nphys; i < fp_router.nports; i++) {
		struct fp_port *v = &fp_router.ports[i];
		if (!v->in_use || v->kind != FP_IF_VLAN || v->parent != p || v->link_state == state)
			continue;
		if (state == FP_LINK_UP && v->link_state == FP_LINK_UNKNOWN)
			fp_dad_restart((uint16_t)i);
		vprev[i] = v->link_state;
		vchanged[i] = true;
		v->link_state = state;
	}
	/* Routes through them leave or return (core, under ctl_lock), so
	 * that JS hears of the change with the routes already following. */
	fp_routes_follow_links();
	post_link_event(p, state, prev);
	for (i = fp_router.nphys; i < fp_router.nports; i++)
		if (vchanged[i])
			post_link_event((uint16_t)i, state, vprev[i]);
	fp_generation_bump();
}

/* if_link_state_change_si: pop and apply every queued state of port p. */
static void
link_drain(uint16_t p)
{
	uint8_t state;

	for (;;) {
		bool got;

		pthread_mutex_lock(&link_lock);
		got = fp_linkq_pop(&fp_router.ports[p].link_queue, &state);
		pthread_mutex_unlock(&link_lock);
		if (!got)
			return;
		link_apply(p, state);
	}
}

/* Read every pending kernel message; queue the carrier of our interfaces. */
static void
netlink_read(void)
{
	char buf[16384] __attribute__((aligned(4)));
	uint16_t p;

	for (;;) {
		ssize_t n = recv(nl_fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *h;

		if (n < 0) {
			if (errno == ENOBUFS) {
				/* Messages were lost: read the truth again. */
				fp_router.ctl_ctr[FP_CCTR_link_resyncs]++;
				for (p = 0; p < fp_router.nphys; p++)
					if (fp_router.ports[p].link_source == FP_LINK_SOURCE_NETLINK)
						link_push(p, kernel_link(fp_router.ports[p].kernel_ifname));
				continue;
			}
			return; /* EAGAIN: nothing more */
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (uint32_t)n); h = NLMSG_NEXT(h, n)) {
			const struct ifinfomsg *ifi;

			if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
				continue;
			ifi = NLMSG_DATA(h);
			for (p = 0; p < fp_router.nphys; p++) {
				const struct fp_port *port = &fp_router.ports[p];
				if (port->link_source != FP_LINK_SOURCE_NETLINK ||
				    (int)port->kernel_ifindex != ifi->ifi_index)
					continue;
				link_push(p, h->nlmsg_type == RTM_NEWLINK &&
						     (ifi->ifi_flags & IFF_UP) &&
						     (ifi->ifi_flags & IFF_LOWER_UP)
						 ? FP_LINK_UP
						 : FP_LINK_DOWN);
				/* This thread is also the consumer: applying each
				 * message at once means a burst of kernel messages
				 * cannot overflow the queue. */
				link_drain(p);
			}
		}
	}
}

void
fp_link_timers(void)
{
	uint64_t now = rte_rdtsc();
	uint16_t p;

	if (nl_fd >= 0)
		netlink_read();
	if (now >= next_poll) {
		next_poll = now + fp_ms_to_tsc(LINK_POLL_MS);
		for (p = 0; p < fp_router.nphys; p++)
			if (fp_router.ports[p].link_source == FP_LINK_SOURCE_POLL)
				link_push(p, ethdev_link(fp_router.ports[p].port_id));
	}
	for (p = 0; p < fp_router.nphys; p++)
		link_drain(p);
}

/* Core's hook for port configuration: link.c has no use for the result. */
static void
link_port_configure(uint16_t p, const struct rte_eth_dev_info *info,
		    struct rte_eth_conf *conf)
{
	fp_link_configure(p, info, conf);
}

static struct fp_proto link_proto = {
	.name = "link",
	.order = FP_PROTO_ORDER_LINK,
	.port_configure = link_port_configure,
	.start = fp_link_start,
	.stop_locked = fp_link_stop,
	.timers = fp_link_timers,
};
FP_PROTO_REGISTER(link_proto)

/*
 * control/mld.c — the MLD listener (see control/mld.h), after NetBSD's mld6.c.
 *
 * MLDv2 (RFC 3810, default): joining sends a state-change report
 * (CHANGE_TO_EXCLUDE_MODE, no sources) to ff02::16 at once and again
 * [Robustness Variable - 1] times at random within the Unsolicited Report
 * Interval (1 s); leaving sends CHANGE_TO_INCLUDE_MODE (no sources) the same
 * way. A general query is answered after a random delay within its Maximum
 * Response Delay by one current-state report (MODE_IS_EXCLUDE) of every
 * group; a group(-and-source) query by a report of that group.
 *
 * MLDv1 (RFC 2710, per interface `mld.version: 1`, or while an MLDv1
 * querier was heard within the Older Version Querier Present Timeout,
 * 260 s): the three listener states of mld6.c. Joining: report to the group
 * at once, state DELAYING with a timer within the Unsolicited Report
 * Interval (10 s) for the second one, "I reported last" set. A query
 * (general, or for the group) starts the timer, or shortens it, to a random
 * value within its Maximum Response Delay (0: report now). Another
 * listener's report for the group stops our timer and clears the flag
 * (state IDLE). Leaving sends Done to ff02::2 only if we reported last.
 *
 * Never reported: ff02::1 and groups of scope below link-local. Every
 * message we send has hop limit 1, a link-local source (none preferred yet:
 * the report waits) and the Router Alert hop-by-hop option. Received
 * messages must come from a link-local source with hop limit 1 and a valid
 * checksum and length; other ones are counted and dropped.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "../core/event.h"
#include "icmp6.h"
#include "../core/ip6.h"
#include "mld.h"
#include "../core/proto.h"
#include "../core/router.h"
#include "ctl.h"

#define MLD_LISTENER_QUERY 130
#define MLD_LISTENER_REPORT 131
#define MLD_LISTENER_DONE 132
#define MLDV2_LISTENER_REPORT 143
#define MLDV2_MODE_IS_INCLUDE 1
#define MLDV2_MODE_IS_EXCLUDE 2
#define MLDV2_CHANGE_TO_INCLUDE 3
#define MLDV2_CHANGE_TO_EXCLUDE 4
#define MLD_ROBUSTNESS 2
#define MLD_V1_UNSOLICITED_MS 10000
#define MLD_V2_UNSOLICITED_MS 1000
#define MLD_OLDER_QUERIER_MS 260000 /* 2 x 125 s + 10 s */
#define MLD_RETRY_MS 100            /* no link-local source yet: try again */
#define MLD_MAX_QUERY_SOURCES 8     /* sources of a group-and-source query kept */

struct mld_group {
	bool used;
	bool automatic;
	uint8_t addr[16];
	uint32_t refs;
	uint8_t state;         /* enum fp_mld_state */
	bool reported_last;
	uint64_t timer;        /* TSC of the next report; 0: none */
	uint8_t v2_left;       /* state-change retransmissions left */
	uint8_t v2_record;     /* the pending state-change record type */
	/* v2 answer to a group(-and-source) query, on its own timer (RFC
	 * 3810 6.2: independent of state-change retransmissions) */
	uint64_t q_timer;      /* TSC; 0: no answer pending */
	uint8_t nsrc;          /* the query's sources (IS_IN), 0: IS_EX({}) */
	uint8_t srcs[MLD_MAX_QUERY_SOURCES][16];
	bool leaving;          /* refs reached 0: reported, then freed */
};

struct mld_iface {
	struct mld_group groups[FP_MLD_MAX_GROUPS];
	uint64_t v1_querier_until; /* TSC; MLDv1 compatibility until then */
	uint64_t general_at;       /* TSC of a pending general-query answer */
};

static struct mld_iface mld[FP_MAX_IFACES];
/* Held by whoever changes a group list: JS (join/leave) or the control
 * thread (timers, queries). Never by lcores. */
static pthread_mutex_t mld_lock = PTHREAD_MUTEX_INITIALIZER;

static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
static const uint8_t all_routers[16] = { 0xff, 0x02, [15] = 2 };
static const uint8_t all_mldv2_routers[16] = { 0xff, 0x02, [15] = 0x16 };

/* A random time in [0, max_ms], in TSC cycles. */
static uint64_t
rand_ms_tsc(uint64_t max_ms)
{
	return fp_ms_to_tsc(max_ms == 0 ? 0 : rte_rand() % (max_ms + 1));
}

static bool
mld_iface_ok(uint16_t p)
{
	return p < fp_router.nports && fp_router.ports[p].in_use &&
	       fp_router.ports[p].kind != FP_IF_LOOP;
}

uint8_t
fp_mld_version(uint16_t p)
{
	if (p >= FP_MAX_IFACES)
		return 2;
	if (fp_router.ports[p].mld_version == 1 || rte_rdtsc() < mld[p].v1_querier_until)
		return 1;
	return 2;
}

/* ff02::1 and scopes below link-local are never reported (mld6.c). */
static bool
reportable(const uint8_t g[16])
{
	return memcmp(g, all_nodes, 16) != 0 && (g[1] & 0x0f) >= 2;
}

static struct mld_group *
group_find(uint16_t p, const uint8_t g[16])
{
	unsigned i;

	for (i = 0; i < FP_MLD_MAX_GROUPS; i++)
		if (mld[p].groups[i].used && memcmp(mld[p].groups[i].addr, g, 16) == 0)
			return &mld[p].groups[i];
	return NULL;
}

/* Publish the joined set to the lcores (fp_port.mcast, sequence lock) and
 * the port's multicast filter. Caller holds mld_lock. */
static void
publish(uint16_t p)
{
	struct fp_port *port = &fp_router.ports[p];
	struct rte_ether_addr macs[FP_MLD_MAX_GROUPS * FP_MAX_IFACES];
	uint32_t n = 0, i, q, nmac = 0;

	__atomic_add_fetch(&port->mcast_seq, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (i = 0; i < FP_MLD_MAX_GROUPS; i++)
		if (mld[p].groups[i].used && !mld[p].groups[i].leaving)
			memcpy(port->mcast[n++], mld[p].groups[i].addr, 16);
	port->nmcast = (uint8_t)n;
	__atomic_add_fetch(&port->mcast_seq, 1, __ATOMIC_RELEASE);

	/* The device filter: the groups of the port and of its VLANs. */
	q = port->kind == FP_IF_VLAN ? port->parent : p;
	if (fp_router.ports[q].kind != FP_IF_PORT)
		return;
	for (i = 0; i < fp_router.nports; i++) {
		const struct fp_port *x = &fp_router.ports[i];
		uint32_t k;
		if (!x->in_use || (i != q && !(x->kind == FP_IF_VLAN && x->parent == q)))
			continue;
		for (k = 0; k < x->nmcast; k++) {
			macs[nmac].addr_bytes[0] = 0x33;
			macs[nmac].addr_bytes[1] = 0x33;
			memcpy(&macs[nmac].addr_bytes[2], x->mcast[k] + 12, 4);
			nmac++;
		}
	}
	/* Without a filter (fp_mld_start found none) the port holds an
	 * all-multicast reference instead. */
	if (fp_router.ports[q].mc_filter)
		rte_eth_dev_set_mc_addr_list(fp_router.ports[q].port_id, macs, nmac);
}

static void
post_mld_event(uint16_t p, const uint8_t g[16], uint8_t what)
{
	fp_event_notify(FP_EVENT_MLD, p, what, 0, g, 128);
}

/* ---- sending ---------------------------------------------------------- */

/* The port's preferred link-local address, or NULL. */
static const uint8_t *
link_local(uint16_t p)
{
	static const uint8_t ll[16] = { 0xfe, 0x80 };
	const uint8_t *src = fp_port_source(p, ll); /* prefers link-local */

	return src != NULL && fp_ip6_is_linklocal(src) ? src : NULL;
}

/* An MLD message of len bytes (*msg) to dst out of p: Ethernet, IPv6
 * (hop limit 1, link-local source), hop-by-hop header with Router Alert
 * (value 0: MLD). NULL without a link-local source or mbufs. */
static struct rte_mbuf *
mld_alloc(uint16_t p, const uint8_t dst[16], uint16_t len, uint8_t **msg)
{
	const struct fp_port *port = &fp_router.ports[p];
	const uint8_t *src = link_local(p);
	struct rte_mbuf *m;
	uint8_t *f, *ip6, *hbh;

	if (src == NULL)
		return NULL;
	m = rte_pktmbuf_alloc(fp_router.pool);
	if (m == NULL)
		return NULL;
	f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN + 8 + len));
	if (f == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(f, 0, FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN + 8 + len);
	f[0] = 0x33;
	f[1] = 0x33;
	memcpy(f + 2, dst + 12, 4);
	memcpy(f + 6, port->mac.addr_bytes, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	ip6 = f + FP_ETHER_HDR_LEN;
	ip6[0] = 0x60;
	ip6[4] = (uint8_t)((8 + len) >> 8);
	ip6[5] = (uint8_t)(8 + len);
	ip6[6] = 0; /* hop-by-hop */
	ip6[7] = 1; /* hop limit */
	memcpy(ip6 + 8, src, 16);
	memcpy(ip6 + 24, dst, 16);
	hbh = ip6 + FP_IP6_HDR_LEN;
	hbh[0] = FP_IPPROTO_ICMPV6;
	hbh[1] = 0;    /* 8 bytes */
	hbh[2] = 5;    /* Router Alert */
	hbh[3] = 2;
	hbh[4] = 0;    /* MLD */
	hbh[5] = 0;
	hbh[6] = 1;    /* PadN, 0 bytes */
	hbh[7] = 0;
	*msg = hbh + 8;
	m->port = p;
	return m;
}

/* The ICMPv6 checksum of an MLD message of len bytes behind a hop-by-hop
 * header: the pseudo-header's length is the message's and its next header
 * ICMPv6, not the IPv6 header's, so both are set for the computation.
 * Returns the complemented sum: the field's value, or 0 when verifying a
 * right message. */
static uint16_t
mld_cksum(struct rte_ipv6_hdr *ip6, const uint8_t *msg, uint16_t len)
{
	rte_be16_t plen = ip6->payload_len;
	uint8_t proto = ip6->proto;
	uint16_t ck;

	ip6->payload_len = rte_cpu_to_be_16(len);
	ip6->proto = FP_IPPROTO_ICMPV6;
	ck = rte_ipv6_udptcp_cksum(ip6, msg);
	ip6->payload_len = plen;
	ip6->proto = proto;
	return ck;
}

static void
mld_checksum(struct rte_mbuf *m, uint16_t len)
{
	struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, FP_ETHER_HDR_LEN);
	uint8_t *msg = (uint8_t *)(ip6 + 1) + 8;
	uint16_t ck;

	msg[2] = msg[3] = 0;
	ck = mld_cksum(ip6, msg, len);
	memcpy(msg + 2, &ck, 2);
}

static bool
mld_send(uint16_t p, struct rte_mbuf *m, uint16_t len, enum fp_ctl_counter ctr)
{
	mld_checksum(m, len);
	fp_router.ctl_ctr[ctr]++;
	fp_ctl_send(fp_router.lcores[0], m, p);
	return true;
}

/* MLDv1 report (to the group) or done (to ff02::2). */
static bool
send_v1(uint16_t p, const uint8_t g[16], uint8_t type)
{
	uint8_t *msg;
	struct rte_mbuf *m = mld_alloc(p, type == MLD_LISTENER_DONE ? all_routers : g, 24, &msg);

	if (m == NULL)
		return false;
	msg[0] = type;
	memcpy(msg + 8, g, 16);
	return mld_send(p, m, 24, type == MLD_LISTENER_DONE ? FP_CCTR_mld_done_out
							  : FP_CCTR_mld_v1_report_out);
}

/* An MLDv2 report for one group with sources: MODE_IS_INCLUDE of the
 * sources a group-and-source query asked about (RFC 3810 6.3: in EXCLUDE
 * mode with no excluded sources, IS_IN(Q - X) = IS_IN(Q)). */
static bool
send_v2_sources(uint16_t p, const uint8_t g[16], const uint8_t (*srcs)[16], uint8_t nsrc)
{
	uint16_t len = (uint16_t)(8 + 20 + 16 * nsrc);
	uint8_t *msg, *rec;
	struct rte_mbuf *m = mld_alloc(p, all_mldv2_routers, len, &msg);

	if (m == NULL)
		return false;
	msg[0] = MLDV2_LISTENER_REPORT;
	msg[7] = 1;
	rec = msg + 8;
	rec[0] = MLDV2_MODE_IS_INCLUDE;
	rec[3] = nsrc;
	memcpy(rec + 4, g, 16);
	memcpy(rec + 20, srcs, 16 * (size_t)nsrc);
	return mld_send(p, m, len, FP_CCTR_mld_v2_report_out);
}

/* MLDv2 report to ff02::16 with one record per group given (all reportable
 * joined groups when g is NULL), of record type `rtype`, no sources. */
static bool
send_v2(uint16_t p, const uint8_t *g, uint8_t rtype)
{
	uint16_t n = 0, len, i;
	uint8_t *msg, *rec;
	struct rte_mbuf *m;

	if (g != NULL)
		n = 1;
	else
		for (i = 0; i < FP_MLD_MAX_GROUPS; i++)
			n += mld[p].groups[i].used && !mld[p].groups[i].leaving &&
			     reportable(mld[p].groups[i].addr);
	if (n == 0)
		return true;
	len = (uint16_t)(8 + 20 * n);
	m = mld_alloc(p, all_mldv2_routers, len, &msg);
	if (m == NULL)
		return false;
	msg[0] = MLDV2_LISTENER_REPORT;
	msg[6] = (uint8_t)(n >> 8);
	msg[7] = (uint8_t)n;
	rec = msg + 8;
	for (i = 0; i < FP_MLD_MAX_GROUPS && (g != NULL ? rec == msg + 8 : true); i++) {
		const uint8_t *a = g;
		if (g == NULL) {
			if (!mld[p].groups[i].used || mld[p].groups[i].leaving ||
			    !reportable(mld[p].groups[i].addr))
				continue;
			a = mld[p].groups[i].addr;
		}
		rec[0] = rtype; /* aux data length 0, no sources */
		memcpy(rec + 4, a, 16);
		rec += 20;
		if (g != NULL)
			break;
	}
	return mld_send(p, m, len, FP_CCTR_mld_v2_report_out);
}

/* ---- membership -------------------------------------------------------- */

/* Start reporting a new membership (or a leave). Caller holds mld_lock. */
static void
announce(uint16_t p, struct mld_group *grp, bool join)
{
	uint64_t now = rte_rdtsc();

	if (!reportable(grp->addr)) {
		grp->state = FP_MLD_IDLE;
		grp->timer = 0;
		return;
	}
	if (fp_mld_version(p) == 2) {
		grp->v2_record = join ? MLDV2_CHANGE_TO_EXCLUDE : MLDV2_CHANGE_TO_INCLUDE;
		grp->v2_left = MLD_ROBUSTNESS; /* this one and one retransmission */
		grp->timer = now; /* at the next tick */
		return;
	}
	if (join) {
		grp->state = FP_MLD_DELAYING;
		grp->reported_last = send_v1(p, grp->addr, MLD_LISTENER_REPORT);
		grp->timer = now + rand_ms_tsc(MLD_V1_UNSOLICITED_MS);
	} else {
		if (grp->reported_last)
			send_v1(p, grp->addr, MLD_LISTENER_DONE);
		grp->timer = 0;
	}
}

/* Join under mld_lock. */
static int
join_locked(uint16_t p, const uint8_t g[16], bool automatic, struct fp_err *err)
{
	struct mld_group *grp = group_find(p, g);
	unsigned i;

	if (grp != NULL && !grp->leaving) {
		grp->refs++;
		grp->automatic |= automatic;
		return 0;
	}
	if (grp == NULL) {
		for (i = 0; i < FP_MLD_MAX_GROUPS && mld[p].groups[i].used; i++)
			;
		if (i == FP_MLD_MAX_GROUPS)
			return fp_err_set(err, ENOSPC, "at most %u groups per interface",
					  FP_MLD_MAX_GROUPS);
		grp = &mld[p].groups[i];
	}
	memset(grp, 0, sizeof(*grp));
	grp->used = true;
	grp->automatic = automatic;
	memcpy(grp->addr, g, 16);
	grp->refs = 1;
	grp->state = FP_MLD_IDLE;
	publish(p);
	announce(p, grp, true);
	fp_router.ctl_ctr[FP_CCTR_mld_joins]++;
	post_mld_event(p, g, FP_MLD_EVENT_JOIN);
	return 0;
}

static int
leave_locked(uint16_t p, const uint8_t g[16], struct fp_err *err)
{
	struct mld_group *grp = group_find(p, g);

	if (grp == NULL || grp->leaving)
		return fp_err_set(err, ENOENT, "not a member of that group");
	if (--grp->refs > 0)
		return 0;
	grp->leaving = true;
	publish(p);
	announce(p, grp, false);
	fp_router.ctl_ctr[FP_CCTR_mld_leaves]++;
	post_mld_event(p, g, FP_MLD_EVENT_LEAVE);
	if (grp->v2_left == 0 || fp_mld_version(p) == 1)
		grp->used = false; /* nothing more to say */
	return 0;
}

int
fp_mld_join(uint16_t p, const uint8_t group[16], struct fp_err *err)
{
	int rc;

	if (!mld_iface_ok(p))
		return fp_err_set(err, ENOENT, "no such interface (or a loopback)");
	if (!fp_ip6_is_multicast(group))
		return fp_err_set(err, EINVAL, "not a multicast address");
	pthread_mutex_lock(&mld_lock);
	rc = join_locked(p, group, false, err);
	pthread_mutex_unlock(&mld_lock);
	return rc;
}

int
fp_mld_leave(uint16_t p, const uint8_t group[16], struct fp_err *err)
{
	int rc;

	if (!mld_iface_ok(p))
		return fp_err_set(err, ENOENT, "no such interface (or a loopback)");
	pthread_mutex_lock(&mld_lock);
	{
		struct mld_group *grp = group_find(p, group);
		if (grp != NULL && grp->automatic && grp->refs == 1) {
			pthread_mutex_unlock(&mld_lock);
			return fp_err_set(err, EPERM, "the router itself needs that group");
		}
	}
	rc = leave_locked(p, group, err);
	pthread_mutex_unlock(&mld_lock);
	return rc;
}

uint32_t
fp_mld_groups(uint16_t p, struct fp_mld_group_info *out, uint32_t max)
{
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();
	uint32_t i, n = 0;

	if (p >= FP_MAX_IFACES)
		return 0;
	pthread_mutex_lock(&mld_lock);
	for (i = 0; i < FP_MLD_MAX_GROUPS && n < max; i++) {
		const struct mld_group *g = &mld[p].groups[i];
		if (!g->used || g->leaving)
			continue;
		memcpy(out[n].addr, g->addr, 16);
		out[n].state = g->state;
		out[n].reported_last = g->reported_last;
		out[n].automatic = g->automatic;
		out[n].refs = g->refs;
		/* A report due within the millisecond, or overdue (sent at the
		 * control loop's next tick), still reads as pending: 0 means
		 * none, which callers wait for before counting reports. */
		out[n].timer_ms = g->timer == 0 ? 0
			: g->timer > now && (g->timer - now) * 1000 / hz > 0
				? (uint32_t)((g->timer - now) * 1000 / hz)
				: 1;
		n++;
	}
	pthread_mutex_unlock(&mld_lock);
	return n;
}

void
fp_mld_address(uint16_t p, const uint8_t addr[16], bool added)
{
	uint8_t g[16];

	if (!mld_iface_ok(p))
		return;
	fp_ip6_solicited_node(g, addr);
	pthread_mutex_lock(&mld_lock);
	if (added)
		join_locked(p, g, true, NULL);
	else
		leave_locked(p, g, NULL);
	pthread_mutex_unlock(&mld_lock);
}

void
fp_mld_iface(uint16_t p)
{
	uint32_t a;

	if (!mld_iface_ok(p))
		return;
	pthread_mutex_lock(&mld_lock);
	join_locked(p, all_nodes, true, NULL);
	join_locked(p, all_routers, true, NULL);
	if (fp_router.ports[p].mld_version != 1)
		join_locked(p, all_mldv2_routers, true, NULL);
	pthread_mutex_unlock(&mld_lock);
	for (a = 0; a < fp_router.ports[p].naddrs; a++)
		fp_mld_address(p, fp_router.ports[p].addrs[a].addr, true);
}

void
fp_mld_start(void)
{
	uint16_t p;

	for (p = 0; p < fp_router.nports; p++) {
		struct fp_port *port = &fp_router.ports[p];

		if (!mld_iface_ok(p))
			continue;
		/* The device's multicast filter, or all-multicast where the PMD
		 * has none (one reference, counted with the flags). */
		if (port->kind == FP_IF_PORT) {
			port->mc_filter = rte_eth_dev_set_mc_addr_list(port->port_id, NULL, 0) == 0;
			if (!port->mc_filter)
				fp_iface_set_allmulti_locked(p, true);
		}
		fp_mld_iface(p);
	}
}

void
fp_mld_reset(void)
{
	pthread_mutex_lock(&mld_lock);
	memset(mld, 0, sizeof(mld));
	pthread_mutex_unlock(&mld_lock);
}

/* ---- timers ------------------------------------------------------------ */

/* The first interface from p on that MLD can send on now (its own state is
 * set up, and it is up), or nports. */
static uint16_t
mld_next_live(uint16_t p)
{
	while (p < fp_router.nports && !(mld_iface_ok(p) && fp_router.ports[p].up))
		p++;
	return p;
}

/* Run fn(p, now) for every interface MLD can send on now, under mld_lock:
 * the timers' tick and the farewell. */
static void
mld_each_live(void (*fn)(uint16_t p, uint64_t now))
{
	uint64_t now = rte_rdtsc();
	uint16_t p;

	if (fp_router.nworkers == 0)
		return;
	pthread_mutex_lock(&mld_lock);
	for (p = mld_next_live(0); p < fp_router.nports; p = mld_next_live(p + 1))
		fn(p, now);
	pthread_mutex_unlock(&mld_lock);
}

/* One interface's timers: answers to queries, state-change retransmissions,
 * v1 delayed reports. */
static void
mld_timers_iface(uint16_t p, uint64_t now)
{
	struct mld_iface *mi = &mld[p];
	unsigned i;

	if (mi->general_at != 0 && now >= mi->general_at) {
		/* Answer to a general query (v2): every group at once. */
		if (send_v2(p, NULL, MLDV2_MODE_IS_EXCLUDE))
			mi->general_at = 0;
		else
			mi->general_at = now + fp_ms_to_tsc(MLD_RETRY_MS);
	}
	for (i = 0; i < FP_MLD_MAX_GROUPS; i++) {
		struct mld_group *g = &mi->groups[i];

		if (g->used && g->q_timer != 0 && now >= g->q_timer) {
			bool sent = g->nsrc > 0
					    ? send_v2_sources(p, g->addr,
							      (const uint8_t (*)[16])g->srcs, g->nsrc)
					    : send_v2(p, g->addr, MLDV2_MODE_IS_EXCLUDE);
			g->q_timer = sent ? 0 : now + fp_ms_to_tsc(MLD_RETRY_MS);
			if (sent)
				post_mld_event(p, g->addr, FP_MLD_EVENT_REPORT);
		}
		if (!g->used || g->timer == 0 || now < g->timer)
			continue;
		if (g->v2_left > 0) {
			if (!send_v2(p, g->addr, g->v2_record)) {
				g->timer = now + fp_ms_to_tsc(MLD_RETRY_MS);
				continue;
			}
			g->v2_left--;
			g->timer = g->v2_left > 0 ? now + rand_ms_tsc(MLD_V2_UNSOLICITED_MS) : 0;
			post_mld_event(p, g->addr, FP_MLD_EVENT_REPORT);
			if (g->v2_left == 0 && g->leaving)
				g->used = false;
			continue;
		}
		if (g->leaving) {
			g->used = false;
			continue;
		}
		/* v1 DELAYING: the timer ran out, report. */
		if (send_v1(p, g->addr, MLD_LISTENER_REPORT)) {
			g->reported_last = true;
			g->state = FP_MLD_IDLE;
			g->timer = 0;
			post_mld_event(p, g->addr, FP_MLD_EVENT_REPORT);
		} else {
			g->timer = now + fp_ms_to_tsc(MLD_RETRY_MS);
		}
	}
}

void
fp_mld_timers(void)
{
	mld_each_live(mld_timers_iface);
}

/* ---- input ------------------------------------------------------------- */

/* A query: schedule reports. Caller holds mld_lock. */
static void
query_in(uint16_t p, const uint8_t *msg, uint16_t len)
{
	const uint8_t *g = msg + 8;
	uint64_t now = rte_rdtsc();
	uint32_t mrd = (uint32_t)(msg[4] << 8 | msg[5]); /* ms (v1), code (v2) */
	bool general = fp_ip6_is_unspecified(g);
	unsigned i;

	if (len == 24) {
		/* An MLDv1 querier: v1 mode for the Older Version Querier
		 * Present Timeout (RFC 3810 8.2.1). */
		fp_router.ctl_ctr[FP_CCTR_mld_v1_query_in]++;
		mld[p].v1_querier_until = now + fp_ms_to_tsc(MLD_OLDER_QUERIER_MS);
		/* Older version mode: pending v2 retransmissions and answers
		 * are cancelled (RFC 3810 8.2.1); leaves in progress end. */
		mld[p].general_at = 0;
		for (i = 0; i < FP_MLD_MAX_GROUPS; i++) {
			struct mld_group *grp = &mld[p].groups[i];
			grp->v2_left = 0;
			grp->q_timer = 0;
			if (grp->used && grp->leaving)
				grp->used = false;
		}
	} else {
		fp_router.ctl_ctr[FP_CCTR_mld_v2_query_in]++;
		if (mrd >= 0x8000) /* exponential form (RFC 3810 5.1.3) */
			mrd = ((mrd & 0x0fff) | 0x1000) << (((mrd >> 12) & 0x7) + 3);
	}
	post_mld_event(p, g, FP_MLD_EVENT_QUERY); /* :: for a general query */
	if (fp_mld_version(p) == 2) {
		if (general) {
			uint64_t at = now + rand_ms_tsc(mrd);
			if (mld[p].general_at == 0 || at < mld[p].general_at)
				mld[p].general_at = at;
			return;
		}
		{
			struct mld_group *grp = group_find(p, g);
			uint16_t nq = len >= 28 ? (uint16_t)(msg[26] << 8 | msg[27]) : 0;

			if (grp != NULL && !grp->leaving && reportable(g)) {
				/* Group query: IS_EX({}); group-and-source query:
				 * IS_IN(the sources asked about). A pending answer
				 * is replaced by the newer query's. */
				grp->nsrc = 0;
				while (nq > 0 && grp->nsrc < MLD_MAX_QUERY_SOURCES &&
				       28u + 16u * (grp->nsrc + 1u) <= len) {
					memcpy(grp->srcs[grp->nsrc], msg + 28 + 16 * grp->nsrc, 16);
					grp->nsrc++;
					nq--;
				}
				{
					uint64_t at = now + rand_ms_tsc(mrd);
					if (grp->q_timer == 0 || at < grp->q_timer)
						grp->q_timer = at;
				}
			}
		}
		return;
	}
	/* v1 (mld6.c's mld_input for a query) */
	for (i = 0; i < FP_MLD_MAX_GROUPS; i++) {
		struct mld_group *grp = &mld[p].groups[i];
		uint64_t at;

		if (!grp->used || grp->leaving || !reportable(grp->addr))
			continue;
		if (!general && memcmp(grp->addr, g, 16) != 0)
			continue;
		if (mrd == 0) {
			grp->timer = now; /* report at the next tick */
			grp->state = FP_MLD_DELAYING;
			continue;
		}
		at = now + rand_ms_tsc(mrd);
		if (grp->state != FP_MLD_DELAYING || grp->timer == 0 || at < grp->timer) {
			grp->timer = at;
			grp->state = FP_MLD_DELAYING;
		}
	}
}

bool
fp_mld_input(struct rte_mbuf *m)
{
	uint16_t p = m->port;
	uint8_t *ip6, *msg, nh;
	uint16_t plen, off, len;

	if (m->data_len < FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN + 8 || p >= fp_router.nports)
		return false;
	ip6 = rte_pktmbuf_mtod_offset(m, uint8_t *, FP_ETHER_HDR_LEN);
	nh = ip6[FP_IP6_OFF_NXT];
	plen = (uint16_t)(ip6[4] << 8 | ip6[5]);
	off = FP_IP6_HDR_LEN;
	/* MLD comes behind a hop-by-hop header (Router Alert). */
	if (nh != 0)
		return false;
	nh = ip6[off];
	off = (uint16_t)(off + 8 * (ip6[off + 1] + 1));
	if (nh != FP_IPPROTO_ICMPV6 || off + 4 > FP_IP6_HDR_LEN + plen ||
	    (uint32_t)FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN + plen > m->data_len)
		return false;
	msg = ip6 + off;
	if (msg[0] != MLD_LISTENER_QUERY && msg[0] != MLD_LISTENER_REPORT &&
	    msg[0] != MLD_LISTENER_DONE && msg[0] != MLDV2_LISTENER_REPORT)
		return false;
	len = (uint16_t)(FP_IP6_HDR_LEN + plen - off);
	fp_router.ctl_ctr[FP_CCTR_mld_in]++;
	/* RFC 2710 / 3810: link-local source, hop limit 1, whole, checksum. */
	if (!fp_ip6_is_linklocal(ip6 + FP_IP6_OFF_SRC)) {
		fp_router.ctl_ctr[FP_CCTR_mld_bad_source]++;
		goto drop;
	}
	if (ip6[FP_IP6_OFF_HLIM] != 1) {
		fp_router.ctl_ctr[FP_CCTR_mld_bad_hop_limit]++;
		goto drop;
	}
	if (len < 24 || (msg[0] == MLD_LISTENER_QUERY && len != 24 && len < 28)) {
		fp_router.ctl_ctr[FP_CCTR_mld_truncated]++;
		goto drop;
	}
	{
		/* Summed with its own checksum field, a right message's sum is
		 * 0xffff: its complement, what mld_cksum returns, is 0. */
		if (mld_cksum((struct rte_ipv6_hdr *)ip6, msg, len) != 0) {
			fp_router.ctl_ctr[FP_CCTR_mld_bad_checksum]++;
			goto drop;
		}
	}
	pthread_mutex_lock(&mld_lock);
	switch (msg[0]) {
	case MLD_LISTENER_QUERY:
		query_in(p, msg, len);
		break;
	case MLD_LISTENER_REPORT: {
		/* Another listener reported: ours is not needed (v1). */
		struct mld_group *grp = group_find(p, msg + 8);
		fp_router.ctl_ctr[FP_CCTR_mld_v1_report_in]++;
		if (grp != NULL && grp->state == FP_MLD_DELAYING && grp->v2_left == 0) {
			grp->timer = 0;
			grp->state = FP_MLD_IDLE;
			grp->reported_last = false;
		}
		break;
	}
	default: /* Done, v2 reports: for queriers, not listeners */
		fp_router.ctl_ctr[FP_CCTR_mld_other_in]++;
		break;
	}
	pthread_mutex_unlock(&mld_lock);
	rte_pktmbuf_free(m);
	return true;
drop:
	rte_pktmbuf_free(m);
	return true;
}

/* MLD messages come behind a hop-by-hop header (Router Alert). */
static bool
mld_punt(struct fp_lcore *lc, struct rte_mbuf *m)
{
	(void)lc;
	return fp_mld_input(m);
}

static const struct fp_punt_handler mld_punt_handlers[] = {
	{ FP_PUNT_HBH | FP_IPPROTO_ICMPV6, FP_PUNT_ANY_TYPE, mld_punt },
	{ 0, 0, NULL },
};

/* A destroyed interface's groups are forgotten without reports (the link
 * is gone); its index may come back for another interface. */
static void
mld_iface_removed(uint16_t p)
{
	pthread_mutex_lock(&mld_lock);
	memset(&mld[p], 0, sizeof(mld[p]));
	pthread_mutex_unlock(&mld_lock);
}

/* The router is stopping (fp_proto_farewell): leave every group it reports
 * on every interface that is up, as mld6.c's mld_stop_listening does for
 * one group, so that snooping switches and queriers stop sending it the
 * groups now rather than after the Multicast Address Listener Interval
 * (260 s by default). MLDv2: one report of CHANGE_TO_INCLUDE_MODE records
 * with no sources for all of them; MLDv1: Done for each group we reported
 * last. Once, without the retransmissions a leave has while running. */
static void
mld_farewell_iface(uint16_t p, uint64_t now)
{
	unsigned i;

	(void)now;
	if (fp_mld_version(p) == 2) {
		send_v2(p, NULL, MLDV2_CHANGE_TO_INCLUDE);
		return;
	}
	for (i = 0; i < FP_MLD_MAX_GROUPS; i++) {
		const struct mld_group *g = &mld[p].groups[i];

		if (g->used && !g->leaving && g->reported_last && reportable(g->addr))
			send_v1(p, g->addr, MLD_LISTENER_DONE);
	}
}

static void
mld_farewell(void)
{
	mld_each_live(mld_farewell_iface);
}

static struct fp_proto mld_proto = {
	.name = "mld",
	.iface_removed = mld_iface_removed,
	.punt = mld_punt_handlers,
	.order = FP_PROTO_ORDER_MLD,
	.iface_added = fp_mld_iface,
	.timers = fp_mld_timers,
	.farewell = mld_farewell,
};
FP_PROTO_REGISTER(mld_proto)

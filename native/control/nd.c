/*
 * control/nd.c — answer Neighbor Solicitations (RFC 4861 7.1.1, 7.2.3, 7.2.4),
 * on the control thread.
 */
#include <pthread.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_random.h>
#include <rte_ring.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "../core/event.h"
#include "icmp6.h"
#include "../core/ip6.h"
#include "nd.h"
#include "../core/proto.h"
#include "../core/router.h"
#include "ctl.h"

#define ND_NEIGHBOR_SOLICIT 135
#define ND_NEIGHBOR_ADVERT 136
#define ND_HOP_LIMIT 255
#define ND_OPT_SOURCE_LINKADDR 1
#define ND_OPT_TARGET_LINKADDR 2
#define ND_NA_FLAG_ROUTER 0x80
#define ND_NA_FLAG_SOLICITED 0x40
#define ND_NA_FLAG_OVERRIDE 0x20
#define ND_NS_LEN 24 /* type, code, checksum, reserved, target */
#define ND_NA_LEN 32 /* the same plus one target link-layer option */

/* What every ND message must be (RFC 4861 6.1.1, 6.1.2, 7.1.1, 7.1.2): a
 * result of nd_message(). */
enum nd_check { ND_NOT_THIS, ND_INVALID, ND_VALID };

/*
 * Find the ND message of `type` in a punted packet and apply the checks all
 * ND messages share: hop limit 255, code 0, at least `fixed` bytes,
 * checksum, option lengths non-zero and inside the message. On ND_VALID,
 * *ip6_out and *icmp_out point into m, and *lla (when not NULL) is the
 * value of the first link-layer option of type `lla_type`, or NULL.
 * ND_INVALID is counted (nd_invalid).
 */
static enum nd_check
nd_message(struct rte_mbuf *m, uint8_t type, uint16_t fixed, uint8_t lla_type,
	   struct rte_ipv6_hdr **ip6_out, uint8_t **icmp_out, const uint8_t **lla)
{
	struct rte_ipv6_hdr *ip6;
	uint8_t *icmp;
	uint16_t len, off = fixed;

	if (m->data_len < FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN + 4 || m->port >= fp_router.nports)
		return ND_NOT_THIS;
	ip6 = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, FP_ETHER_HDR_LEN);
	icmp = (uint8_t *)(ip6 + 1);
	if (ip6->proto != FP_IPPROTO_ICMPV6 || icmp[0] != type)
		return ND_NOT_THIS;
	len = rte_be_to_cpu_16(ip6->payload_len);
	if (lla != NULL)
		*lla = NULL;
	if ((uint32_t)len + FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN > m->data_len ||
	    ip6->hop_limits != ND_HOP_LIMIT || icmp[1] != 0 || len < fixed ||
	    rte_ipv6_udptcp_cksum_verify(ip6, icmp) != 0)
		goto invalid;
	while (off + 2 <= len) {
		uint16_t olen = (uint16_t)(icmp[off + 1] * 8);
		if (olen == 0 || off + olen > len)
			goto invalid; /* zero-length or overrunning option */
		if (lla != NULL && *lla == NULL && icmp[off] == lla_type && olen >= 8)
			*lla = icmp + off + 2;
		off = (uint16_t)(off + olen);
	}
	*ip6_out = ip6;
	*icmp_out = icmp;
	return ND_VALID;
invalid:
	fp_router.ctl_ctr[FP_CCTR_nd_invalid]++;
	return ND_INVALID;
}

/* The value of the first option of `type` in a message nd_message() found
 * valid (options from `fixed` on), or NULL. */
static const uint8_t *
nd_option(const struct rte_ipv6_hdr *ip6, const uint8_t *icmp, uint16_t fixed,
	  uint8_t type, uint16_t min_len)
{
	uint16_t len = rte_be_to_cpu_16(ip6->payload_len), off = fixed;

	while (off + 2 <= len) {
		uint16_t olen = (uint16_t)(icmp[off + 1] * 8);
		if (icmp[off] == type && olen >= min_len)
			return icmp + off + 2;
		off = (uint16_t)(off + olen);
	}
	return NULL;
}


bool
fp_nd_solicitation(struct rte_mbuf *m)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv6_hdr *ip6;
	uint8_t *icmp, target[16], dst_mac[6];
	const uint8_t *slla;
	uint16_t in_idx = m->port;
	bool dad;

	if (nd_message(m, ND_NEIGHBOR_SOLICIT, ND_NS_LEN, ND_OPT_SOURCE_LINKADDR,
		       &ip6, &icmp, &slla) != ND_VALID)
		return false;
	dad = fp_ip6_is_unspecified(ip6->src_addr);
	/* The target is unicast; DAD probes (from ::) go to a solicited-node
	 * group, without a source link-layer option. */
	if (fp_ip6_is_multicast(icmp + 8) ||
	    (dad && (!fp_ip6_is_router_group(ip6->dst_addr) || slla != NULL))) {
		fp_router.ctl_ctr[FP_CCTR_nd_invalid]++;
		return false;
	}
	fp_router.ctl_ctr[FP_CCTR_nd_ns_in]++;
	memcpy(target, icmp + 8, 16);
	/* A tentative or duplicated address of ours is never answered for; a
	 * probe for a tentative one means a duplicate (control/dad.c). */
	if (fp_dad_solicitation(in_idx, target, dad,
				dad ? nd_option(ip6, icmp, ND_NS_LEN, FP_ND_OPT_NONCE, 8) : NULL))
		return false;
	if (!fp_port_addr_usable(in_idx, target))
		return false; /* not ours: nothing to say (we do not proxy) */

	if (!dad && slla != NULL && fp_neighbour_learn(ip6->src_addr, in_idx, slla, FP_NEIGH_STALE) > 0)
		fp_router.ctl_ctr[FP_CCTR_nd_learned]++;

	/* The advertisement: from the target, to the solicitor (or, answering
	 * DAD, to all nodes), Router and Override set, Solicited unless DAD. */
	if (dad) {
		memcpy(ip6->dst_addr, all_nodes, 16);
		memcpy(dst_mac, (const uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 1 }, 6);
	} else {
		memcpy(ip6->dst_addr, ip6->src_addr, 16);
		memcpy(dst_mac, slla != NULL ? slla : eth->src_addr.addr_bytes, 6);
	}
	memcpy(ip6->src_addr, target, 16);
	ip6->hop_limits = ND_HOP_LIMIT;
	ip6->payload_len = rte_cpu_to_be_16(ND_NA_LEN);
	if (rte_pktmbuf_tailroom(m) + m->data_len < FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN + ND_NA_LEN)
		return false;
	m->data_len = m->pkt_len = FP_ETHER_HDR_LEN + FP_IP6_HDR_LEN + ND_NA_LEN;
	memset(icmp, 0, ND_NA_LEN);
	icmp[0] = ND_NEIGHBOR_ADVERT;
	icmp[4] = ND_NA_FLAG_ROUTER | ND_NA_FLAG_OVERRIDE | (dad ? 0 : ND_NA_FLAG_SOLICITED);
	memcpy(icmp + 8, target, 16);
	icmp[24] = ND_OPT_TARGET_LINKADDR;
	icmp[25] = 1; /* 8 bytes */
	memcpy(icmp + 26, fp_router.ports[in_idx].mac.addr_bytes, 6);
	{
		uint16_t ck = rte_ipv6_udptcp_cksum(ip6, icmp);
		memcpy(icmp + 2, &ck, 2);
	}
	memcpy(eth->dst_addr.addr_bytes, dst_mac, 6);
	rte_ether_addr_copy(&fp_router.ports[in_idx].mac, &eth->src_addr);
	fp_router.ctl_ctr[FP_CCTR_nd_na_out]++;
	return true;
}

/* ---- resolving next hops ------------------------------------------------- */

#define ND_RETRANS_MS 1000     /* RetransTimer */
#define ND_MAX_MULTICAST_SOLICIT 3

/* A next hop being resolved (the INCOMPLETE state), owned by the control
 * thread. Bounded: a scan of random destinations cannot grow it. */
struct nd_pending {
	bool used;
	uint64_t since; /* TSC of the first solicitation */
	uint8_t addr[16];
	uint16_t port_idx;
	uint8_t probes;
	uint8_t nheld;
	uint64_t next_probe; /* TSC */
	struct fp_lcore *lc; /* whose control tx ring sends for it */
	struct rte_mbuf *held[FP_ND_HOLD];
	bool held_local[FP_ND_HOLD]; /* originated by the router */
};

static struct nd_pending nd_pending[FP_ND_MAX_INCOMPLETE];
/* The control thread owns nd_pending; it takes this lock to change an
 * entry's used/addr/port so that fp_nd_pending_list() (control API callers)
 * reads whole entries. */
static pthread_mutex_t nd_pending_lock = PTHREAD_MUTEX_INITIALIZER;

static void
pending_set_used(struct nd_pending *p, bool used)
{
	pthread_mutex_lock(&nd_pending_lock);
	p->used = used;
	pthread_mutex_unlock(&nd_pending_lock);
}

uint32_t
fp_nd_pending_list(struct fp_neigh_info *out, uint32_t max)
{
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();
	uint32_t i, n = 0;

	pthread_mutex_lock(&nd_pending_lock);
	for (i = 0; i < FP_ND_MAX_INCOMPLETE && n < max; i++) {
		const struct nd_pending *p = &nd_pending[i];
		if (!p->used)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(out[n].addr, p->addr, 16);
		out[n].state = FP_NEIGH_INCOMPLETE;
		out[n].port_idx = p->port_idx;
		out[n].age_ms = (now - p->since) * 1000 / hz;
		n++;
	}
	pthread_mutex_unlock(&nd_pending_lock);
	return n;
}

static struct nd_pending *
pending_find(const uint8_t addr[16], uint16_t port_idx)
{
	unsigned i;

	for (i = 0; i < FP_ND_MAX_INCOMPLETE; i++)
		if (nd_pending[i].used && nd_pending[i].port_idx == port_idx &&
		    memcmp(nd_pending[i].addr, addr, 16) == 0)
			return &nd_pending[i];
	return NULL;
}

bool
fp_nd_send_ns(struct fp_lcore *lc, uint16_t p, const uint8_t src[16],
	      const uint8_t target[16], const uint8_t *unicast_mac, uint8_t opt_type,
	      const uint8_t opt_value[6])
{
	uint8_t group[16], *icmp;
	struct rte_mbuf *m;

	fp_ip6_solicited_node(group, target);
	m = fp_icmp6_alloc(p, src, unicast_mac != NULL ? target : group, unicast_mac,
			   ND_HOP_LIMIT, 32, &icmp);
	if (m == NULL)
		return false;
	icmp[0] = ND_NEIGHBOR_SOLICIT;
	memcpy(icmp + 8, target, 16);
	icmp[24] = opt_type;
	icmp[25] = 1; /* 8 bytes */
	memcpy(icmp + 26, opt_value, 6);
	fp_icmp6_checksum(m);
	fp_ctl_send(lc, m, p);
	return true;
}

/* Send a Neighbor Solicitation for target out of port p: multicast to its
 * solicited-node group (resolution), or, with a MAC, unicast to the
 * target (NUD probe, 7.3.3); from a preferred address, with our MAC. */
static void
send_solicitation(struct fp_lcore *lc, const uint8_t target[16], uint16_t p,
		  const uint8_t *unicast_mac)
{
	const uint8_t *src = fp_port_source(p, target);

	if (src == NULL)
		return; /* no preferred address to solicit from (yet) */
	if (fp_nd_send_ns(lc, p, src, target, unicast_mac, ND_OPT_SOURCE_LINKADDR,
			  fp_router.ports[p].mac.addr_bytes))
		fp_router.ctl_ctr[unicast_mac != NULL ? FP_CCTR_nd_nud_probes : FP_CCTR_nd_ns_out]++;
}

/* Drop a held packet, counted. */
static void
held_drop(struct rte_mbuf *m)
{
	fp_router.ctl_ctr[FP_CCTR_nd_held_dropped]++;
	rte_pktmbuf_free(m);
}

/* Send a held packet now that its next hop has a MAC: the rewrite the fast
 * path would have done (a forwarded packet also loses one hop; one the
 * router originated, `local`, does not). */
static void
held_send(struct fp_lcore *lc, struct rte_mbuf *m, uint16_t out_idx, const uint8_t mac[6],
	  bool local)
{
	uint8_t *eth = rte_pktmbuf_mtod(m, uint8_t *);

	if (m->pkt_len - FP_ETHER_HDR_LEN > fp_router.ports[out_idx].mtu) {
		held_drop(m);
		return;
	}
	if (!local)
		eth[FP_ETHER_HDR_LEN + FP_IP6_OFF_HLIM]--;
	memcpy(eth, mac, 6);
	memcpy(eth + 6, fp_router.ports[out_idx].mac.addr_bytes, 6);
	fp_router.ctl_ctr[FP_CCTR_nd_held_sent]++;
	fp_ctl_send(lc, m, out_idx);
}

void
fp_nd_resolve(struct fp_lcore *lc, struct rte_mbuf *m, bool local)
{
	uint32_t nh = m->hash.usr;
	uint8_t target[16], mac[6];
	uint16_t port_idx;
	struct nd_pending *p;
	bool usable = false;
	unsigned i;
	int idx;

	/* The table is read under ctl_lock: this thread is no QSBR reader. */
	pthread_mutex_lock(&fp_router.ctl_lock);
	if ((nh & FP_NH_TYPE_MASK) == FP_NH_GATEWAY) {
		const struct fp_neigh *n = &fp_router.neigh.entries[nh & FP_NH_INDEX_MASK];
		memcpy(target, n->addr, 16);
		port_idx = n->port_idx;
	} else {
		memcpy(target, rte_pktmbuf_mtod_offset(m, uint8_t *, FP_ETHER_HDR_LEN + FP_IP6_OFF_DST), 16);
		port_idx = (uint16_t)(nh & FP_NH_INDEX_MASK);
	}
	idx = fp_neigh_lookup(&fp_router.neigh, target, port_idx);
	if (idx >= 0)
		usable = fp_neigh_usable(fp_neigh_read(&fp_router.neigh.entries[idx], mac));
	pthread_mutex_unlock(&fp_router.ctl_lock);
	if (usable) {
		/* Resolved since the worker looked: send it on. */
		held_send(lc, m, port_idx, mac, local);
		return;
	}
	p = pending_find(target, port_idx);
	if (p == NULL) {
		for (i = 0; i < FP_ND_MAX_INCOMPLETE && nd_pending[i].used; i++)
			;
		if (i == FP_ND_MAX_INCOMPLETE) {
			fp_router.ctl_ctr[FP_CCTR_nd_incomplete_full]++;
			rte_pktmbuf_free(m);
			return;
		}
		p = &nd_pending[i];
		pthread_mutex_lock(&nd_pending_lock);
		memset(p, 0, sizeof(*p));
		p->used = true;
		memcpy(p->addr, target, 16);
		p->port_idx = port_idx;
		pthread_mutex_unlock(&nd_pending_lock);
		p->lc = lc;
		p->probes = 1;
		p->since = rte_rdtsc();
		p->next_probe = rte_rdtsc() + fp_ms_to_tsc(ND_RETRANS_MS);
		send_solicitation(lc, target, port_idx, NULL);
	}
	if (p->nheld == FP_ND_HOLD) {
		/* Full: the oldest held packet makes room (RFC 4861 7.2.2). */
		held_drop(p->held[0]);
		memmove(p->held, p->held + 1, sizeof(p->held[0]) * (FP_ND_HOLD - 1));
		memmove(p->held_local, p->held_local + 1, sizeof(p->held_local[0]) * (FP_ND_HOLD - 1));
		p->nheld--;
	}
	p->held_local[p->nheld] = local;
	p->held[p->nheld++] = m;
	fp_router.ctl_ctr[FP_CCTR_nd_held]++;
}

void
fp_nd_timers(void)
{
	uint64_t now = rte_rdtsc();
	unsigned i, h;

	for (i = 0; i < FP_ND_MAX_INCOMPLETE; i++) {
		struct nd_pending *p = &nd_pending[i];

		if (!p->used || now < p->next_probe)
			continue;
		if (p->probes < ND_MAX_MULTICAST_SOLICIT) {
			p->probes++;
			p->next_probe = now + fp_ms_to_tsc(ND_RETRANS_MS);
			send_solicitation(p->lc, p->addr, p->port_idx, NULL);
			continue;
		}
		/* No answer to 3 solicitations: what was held is dropped, each
		 * answered with Destination Unreachable, address unreachable. */
		for (h = 0; h < p->nheld; h++) {
			fp_router.ctl_ctr[FP_CCTR_nd_held_dropped]++;
			if (p->held_local[h]) /* ours: nobody to tell */
				rte_pktmbuf_free(p->held[h]);
			else
				fp_icmp6_error(p->lc, p->held[h], 1, 3, 0, false);
		}
		fp_router.ctl_ctr[FP_CCTR_nd_resolve_failed]++;
		pending_set_used(p, false);
	}
}

void
fp_nd_reset(void)
{
	unsigned i, h;

	for (i = 0; i < FP_ND_MAX_INCOMPLETE; i++) {
		for (h = 0; nd_pending[i].used && h < nd_pending[i].nheld; h++)
			rte_pktmbuf_free(nd_pending[i].held[h]);
		pending_set_used(&nd_pending[i], false);
	}
}

bool
fp_nd_advertisement(struct rte_mbuf *m)
{
	struct rte_ipv6_hdr *ip6;
	uint8_t *icmp;
	const uint8_t *tlla;
	uint16_t in_idx = m->port;
	struct nd_pending *p;
	unsigned h;

	if (nd_message(m, ND_NEIGHBOR_ADVERT, 24, ND_OPT_TARGET_LINKADDR, &ip6, &icmp,
		       &tlla) != ND_VALID)
		return false;
	/* 7.1.2: the target is unicast; a multicast NA is never solicited. */
	if (fp_ip6_is_multicast(icmp + 8) ||
	    (fp_ip6_is_multicast(ip6->dst_addr) && (icmp[4] & ND_NA_FLAG_SOLICITED))) {
		fp_router.ctl_ctr[FP_CCTR_nd_invalid]++;
		return false;
	}
	fp_router.ctl_ctr[FP_CCTR_nd_na_in]++;
	if (fp_dad_advertisement(in_idx, icmp + 8)) {
		rte_pktmbuf_free(m); /* about our own address: not a neighbour */
		return true;
	}
	p = pending_find(icmp + 8, in_idx);
	if (fp_neighbour_advert(icmp + 8, in_idx, tlla, (icmp[4] & ND_NA_FLAG_SOLICITED) != 0,
				(icmp[4] & ND_NA_FLAG_OVERRIDE) != 0, p != NULL) > 0)
		fp_router.ctl_ctr[FP_CCTR_nd_learned]++;
	if (p != NULL && tlla != NULL) {
		fp_router.ctl_ctr[FP_CCTR_nd_resolved]++;
		for (h = 0; h < p->nheld; h++)
			held_send(p->lc, p->held[h], in_idx, tlla, p->held_local[h]);
		pending_set_used(p, false);
	}
	rte_pktmbuf_free(m);
	return true;
}

/* ---- Router Advertisements (RFC 4861 6.2) -------------------------------- */

#define ND_ROUTER_SOLICIT 133
#define ND_ROUTER_ADVERT 134
#define ND_OPT_PREFIX_INFORMATION 3
#define ND_OPT_MTU 5
#define ND_MAX_INITIAL_ADV_MS 16000   /* MAX_INITIAL_RTR_ADVERT_INTERVAL */
#define ND_MAX_INITIAL_ADVERTS 3      /* MAX_INITIAL_RTR_ADVERTISEMENTS */
#define ND_MIN_DELAY_BETWEEN_RAS_MS 3000
#define ND_PREFIX_VALID 2592000       /* AdvValidLifetime, 30 days */
#define ND_PREFIX_PREFERRED 604800    /* AdvPreferredLifetime, 7 days */

static uint64_t ra_next[FP_MAX_IFACES];  /* TSC of the next unsolicited RA */
static uint64_t ra_last[FP_MAX_IFACES];  /* TSC of the last RA sent */
static uint8_t ra_initial[FP_MAX_IFACES]; /* initial RAs sent */

/* The port's link-local address (RAs must come from one), or NULL. */
static const uint8_t *
port_link_local(const struct fp_port *port)
{
	uint32_t a;

	for (a = 0; a < port->naddrs; a++)
		if (fp_ip6_is_linklocal(port->addrs[a].addr) &&
		    port->addr_state[a] == FP_ADDR_PREFERRED)
			return port->addrs[a].addr;
	return NULL;
}

/* Build and send an RA out of port p to all nodes (ff02::1); solicited ones
 * too, as most routers do (6.2.6 allows either). A final one (6.2.5) says
 * Router Lifetime 0: "not a default router any more"; its prefixes are as
 * always, so hosts keep their addresses (radvd's default, too). */
static void
send_advertisement(struct fp_lcore *lc, uint16_t p, bool final)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	const struct fp_port *port = &fp_router.ports[p];
	const uint8_t *src = port_link_local(port);
	struct rte_mbuf *m;
	uint8_t *icmp, *opt;
	uint16_t len = 16 + 8 + 8; /* header, SLLA, MTU */
	uint32_t a, v;

	if (src == NULL)
		return;
	for (a = 0; a < port->naddrs; a++)
		if (port->addrs[a].plen == 64 && !fp_ip6_is_linklocal(port->addrs[a].addr))
			len += 32;
	m = fp_icmp6_alloc(p, src, all_nodes, NULL, ND_HOP_LIMIT, len, &icmp);
	if (m == NULL)
		return;
	icmp[0] = ND_ROUTER_ADVERT;
	icmp[4] = 64; /* Cur Hop Limit */
	icmp[6] = final ? 0 : (uint8_t)(port->ra_router_lifetime_s >> 8);
	icmp[7] = final ? 0 : (uint8_t)(port->ra_router_lifetime_s & 0xff);
	/* Reachable Time and Retrans Timer: 0, unspecified by this router. */
	opt = icmp + 16;
	opt[0] = ND_OPT_SOURCE_LINKADDR;
	opt[1] = 1;
	memcpy(opt + 2, port->mac.addr_bytes, 6);
	opt += 8;
	opt[0] = ND_OPT_MTU;
	opt[1] = 1;
	v = rte_cpu_to_be_32(port->mtu);
	memcpy(opt + 4, &v, 4);
	opt += 8;
	for (a = 0; a < port->naddrs; a++) {
		if (port->addrs[a].plen != 64 || fp_ip6_is_linklocal(port->addrs[a].addr))
			continue;
		opt[0] = ND_OPT_PREFIX_INFORMATION;
		opt[1] = 4;
		opt[2] = 64;
		opt[3] = 0xc0; /* on-link, autonomous */
		v = rte_cpu_to_be_32(ND_PREFIX_VALID);
		memcpy(opt + 4, &v, 4);
		v = rte_cpu_to_be_32(ND_PREFIX_PREFERRED);
		memcpy(opt + 8, &v, 4);
		memcpy(opt + 16, port->addrs[a].addr, 8); /* the /64, host bits zero */
		opt += 32;
	}
	fp_icmp6_checksum(m);
	ra_last[p] = rte_rdtsc();
	fp_router.ctl_ctr[final ? FP_CCTR_nd_ra_final_out : FP_CCTR_nd_ra_out]++;
	fp_ctl_send(lc, m, p);
}

/* Next unsolicited RA: uniformly in [Min, Max], or at most 16 s for the
 * first three (6.2.4). */
static void
ra_schedule(uint16_t p, uint64_t now)
{
	uint64_t min = fp_router.ports[p].ra_min_interval_s * 1000ull;
	uint64_t max = fp_router.ports[p].ra_max_interval_s * 1000ull, ms;

	if (ra_initial[p] < ND_MAX_INITIAL_ADVERTS) {
		ra_initial[p]++;
		min = 1000;
		if (max > ND_MAX_INITIAL_ADV_MS)
			max = ND_MAX_INITIAL_ADV_MS;
	}
	ms = min + (uint64_t)rte_rand() % (max - min + 1);
	ra_next[p] = now + fp_ms_to_tsc(ms);
}

void
fp_nd_ra_timers(void)
{
	uint64_t now = rte_rdtsc();
	uint16_t p;

	if (fp_router.nworkers == 0)
		return;
	for (p = 0; p < fp_router.nports; p++) {
		if (!fp_router.ports[p].in_use || !fp_router.ports[p].router_adverts ||
		    !fp_router.ports[p].up)
			continue;
		if (ra_next[p] == 0) {
			/* First one soon after start. */
			ra_initial[p] = 0;
			ra_next[p] = now + fp_ms_to_tsc(100);
			continue;
		}
		if (now >= ra_next[p]) {
			send_advertisement(fp_router.lcores[0], p, false);
			ra_schedule(p, now);
		}
	}
}

bool
fp_nd_router_solicitation(struct fp_lcore *lc, struct rte_mbuf *m)
{
	struct rte_ipv6_hdr *ip6;
	uint8_t *icmp;
	uint16_t in_idx = m->port;
	uint64_t now;

	const uint8_t *slla;

	if (nd_message(m, ND_ROUTER_SOLICIT, 8, ND_OPT_SOURCE_LINKADDR, &ip6, &icmp,
		       &slla) != ND_VALID)
		return false;
	/* 6.1.1: from ::, no source link-layer option. */
	if (fp_ip6_is_unspecified(ip6->src_addr) && slla != NULL) {
		fp_router.ctl_ctr[FP_CCTR_nd_invalid]++;
		return false;
	}
	fp_router.ctl_ctr[FP_CCTR_nd_rs_in]++;
	/* 6.2.6: the solicitor's address is learned (STALE) like from an NS. */
	if (slla != NULL && fp_neighbour_learn(ip6->src_addr, in_idx, slla, FP_NEIGH_STALE) > 0)
		fp_router.ctl_ctr[FP_CCTR_nd_learned]++;
	rte_pktmbuf_free(m);
	if (!fp_router.ports[in_idx].router_adverts)
		return true;
	/* Answer to all nodes, at most every MIN_DELAY_BETWEEN_RAS (6.2.6). */
	now = rte_rdtsc();
	if (now - ra_last[in_idx] >= fp_ms_to_tsc(ND_MIN_DELAY_BETWEEN_RAS_MS))
		send_advertisement(lc, in_idx, false);
	return true;
}

/* The router is stopping (fp_proto_farewell): a final RA on every interface
 * that has advertised and can still send, one each as radvd does on exit;
 * 6.2.5 allows up to MAX_FINAL_RTR_ADVERTISEMENTS, but spacing them would
 * hold the stop for seconds. */
static void
nd_farewell(void)
{
	uint16_t p;

	if (fp_router.nworkers == 0)
		return;
	for (p = 0; p < fp_router.nports; p++)
		if (fp_router.ports[p].in_use && fp_router.ports[p].up &&
		    fp_router.ports[p].router_adverts && ra_last[p] != 0)
			send_advertisement(fp_router.lcores[0], p, true);
}

void
fp_nd_ra_reset(void)
{
	memset(ra_next, 0, sizeof(ra_next));
	memset(ra_last, 0, sizeof(ra_last));
	memset(ra_initial, 0, sizeof(ra_initial));
}

/* ---- Neighbor Unreachability Detection (RFC 4861 7.3) --------------------- */

#define ND_REACHABLE_RERANDOM_MS (2ull * 3600 * 1000) /* "every few hours" */
#define ND_DELAY_FIRST_PROBE_MS 5000 /* DELAY_FIRST_PROBE_TIME */
#define ND_MAX_UNICAST_SOLICIT 3
#define ND_NUD_TICK_MS 100
#define ND_NUD_VISIT 65536           /* entries visited per tick, at most */
#define ND_GC_STALE_MS 60000         /* unused STALE entries older: collectable */
#define ND_GC_FORCED_MS 1000         /* ... when the table was found full */

static uint64_t reachable_tsc;        /* ReachableTime, randomised */
static uint64_t reachable_rerandom_at;
static uint64_t nud_next_tick;
static uint32_t nud_cursor;
static bool gc_requested;

/* ReachableTime: BaseReachableTime (neighbourDiscovery.baseReachableTimeMs,
 * 30 s by default) x uniform [0.5, 1.5] (6.3.2), drawn again every two hours. */
static void
reachable_randomise(uint64_t now)
{
	uint64_t base = fp_router.nd_base_reachable_ms ? fp_router.nd_base_reachable_ms : 30000;
	uint64_t ms = base / 2 + rte_rand() % (base + 1);

	reachable_tsc = fp_ms_to_tsc(ms);
	reachable_rerandom_at = now + fp_ms_to_tsc(ND_REACHABLE_RERANDOM_MS);
}

uint64_t
fp_nd_reachable_tsc(void)
{
	if (reachable_tsc == 0)
		reachable_randomise(rte_rdtsc());
	return reachable_tsc;
}

uint32_t
fp_nd_reachable_ms(void)
{
	return (uint32_t)(fp_nd_reachable_tsc() * 1000 / rte_get_tsc_hz());
}

void
fp_nd_gc_request(void)
{
	gc_requested = true;
}

/* Did any worker send to neighbour i since the last look? Clears the hints. */
static bool
neigh_was_used(uint32_t i)
{
	bool used = false;
	uint32_t w;

	for (w = 0; w < fp_router.nworkers; w++) {
		uint8_t *u = &fp_router.lcores[w]->neigh_used[i];
		if (__atomic_load_n(u, __ATOMIC_RELAXED) != 0 &&
		    __atomic_exchange_n(u, 0, __ATOMIC_RELAXED) != 0)
			used = true;
	}
	return used;
}

/* PROBE ran out: the neighbour is gone. Remove what was learned (a gateway
 * route keeps its placeholder) and tell JS. Caller holds ctl_lock. */
static void
nud_failed(struct fp_neigh *n)
{
	uint8_t addr[16];
	uint16_t port_idx = n->port_idx;

	memcpy(addr, n->addr, 16); /* the entry goes now */
	fp_neigh_delete(&fp_router.neigh, n->addr, n->port_idx);
	fp_router.ctl_ctr[FP_CCTR_nd_nud_failed]++;
	fp_router.ctl_ctr[FP_CCTR_neighbour_changes]++;
	fp_generation_bump();
	fp_event_notify(FP_EVENT_NEIGHBOUR, port_idx, FP_NEIGH_NONE, FP_NEIGH_PROBE, addr, 128);
}

/* One entry's timers (the RFC's Appendix C, for learned entries). */
static void
nud_visit(uint32_t i, struct fp_neigh *n, uint64_t now)
{
	bool used = neigh_was_used(i);

	if (used)
		n->last_used = now;
	switch (n->state) {
	case FP_NEIGH_REACHABLE:
		if (now >= n->nud_deadline) {
			fp_neigh_set_state(&fp_router.neigh, i, FP_NEIGH_STALE);
			fp_router.ctl_ctr[FP_CCTR_nd_nud_stale]++;
		}
		break;
	case FP_NEIGH_STALE:
		/* Traffic to a stale entry: give upper layers DELAY_FIRST_PROBE
		 * to confirm, then probe. A router has no upper-layer hints, so
		 * only a solicited NA confirms. */
		if (used) {
			fp_neigh_set_state(&fp_router.neigh, i, FP_NEIGH_DELAY);
			n->nud_deadline = now + fp_ms_to_tsc(ND_DELAY_FIRST_PROBE_MS);
		}
		break;
	case FP_NEIGH_DELAY:
		if (now >= n->nud_deadline) {
			fp_neigh_set_state(&fp_router.neigh, i, FP_NEIGH_PROBE);
			n->probes = 1;
			n->nud_deadline = now + fp_ms_to_tsc(ND_RETRANS_MS);
			send_solicitation(fp_router.lcores[0], n->addr, n->port_idx, n->mac);
		}
		break;
	case FP_NEIGH_PROBE:
		if (now < n->nud_deadline)
			break;
		if (n->probes < ND_MAX_UNICAST_SOLICIT) {
			n->probes++;
			n->nud_deadline = now + fp_ms_to_tsc(ND_RETRANS_MS);
			send_solicitation(fp_router.lcores[0], n->addr, n->port_idx, n->mac);
		} else {
			nud_failed(n);
		}
		break;
	default:
		break;
	}
}

/* Garbage collection: STALE entries no route needs and no traffic used for
 * 60 s go when the table is half full; unused for 1 s when it is 7/8 full
 * or was found full (a scan of random sources must not lock real neighbours
 * out for long). At most an eighth of the table per tick. Caller holds
 * ctl_lock. */
static void
nud_gc(uint64_t now)
{
	struct fp_neigh_table *t = &fp_router.neigh;
	uint64_t idle;
	uint32_t i, evicted = 0, budget = t->max / 8 + 1;

	if (gc_requested || t->count >= t->max - t->max / 8)
		idle = fp_ms_to_tsc(ND_GC_FORCED_MS); /* (nearly) full */
	else if (t->count > t->max / 2)
		idle = fp_ms_to_tsc(ND_GC_STALE_MS);
	else
		return;
	for (i = 0; i < t->max && evicted < budget; i++) {
		struct fp_neigh *n = &t->entries[i];
		if (!n->in_use || n->state != FP_NEIGH_STALE || n->route_refs > 0 ||
		    now - n->last_used < idle)
			continue;
		if (fp_neigh_delete(t, n->addr, n->port_idx) == 0)
			evicted++;
	}
	if (evicted > 0) {
		gc_requested = false;
		fp_router.ctl_ctr[FP_CCTR_nd_gc_evicted] += evicted;
		fp_router.ctl_ctr[FP_CCTR_neighbour_changes] += evicted;
		fp_generation_bump();
	}
}

void
fp_nd_nud_timers(void)
{
	uint64_t now = rte_rdtsc();
	struct fp_neigh_table *t = &fp_router.neigh;
	uint32_t k, visit;

	if (now < nud_next_tick || fp_router.nworkers == 0)
		return;
	nud_next_tick = now + fp_ms_to_tsc(ND_NUD_TICK_MS);
	if (reachable_tsc == 0 || now >= reachable_rerandom_at)
		reachable_randomise(now);
	pthread_mutex_lock(&fp_router.ctl_lock);
	if (fp_router.running && t->max > 0) {
		visit = t->max < ND_NUD_VISIT ? t->max : ND_NUD_VISIT;
		for (k = 0; k < visit; k++) {
			uint32_t i = nud_cursor;
			struct fp_neigh *n = &t->entries[i];

			if (++nud_cursor >= t->max)
				nud_cursor = 0;
			if (n->in_use && n->state >= FP_NEIGH_REACHABLE &&
			    n->state != FP_NEIGH_PERMANENT)
				nud_visit(i, n, now);
		}
		nud_gc(now);
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
}

void
fp_nd_nud_reset(void)
{
	nud_next_tick = 0;
	nud_cursor = 0;
	gc_requested = false;
	reachable_tsc = 0;
}

/* Resolution and router solicitations, unreachability detection, router
 * advertisements: one tick, in that order. */
static void
nd_timers(void)
{
	fp_nd_timers();
	fp_nd_nud_timers();
	fp_nd_ra_timers();
}

static bool
nd_punt_na(struct fp_lcore *lc, struct rte_mbuf *m)
{
	(void)lc;
	return fp_nd_advertisement(m);
}

/* A Neighbor Solicitation turned into its Advertisement goes back out of
 * the port it came in on, through the punting worker. */
static bool
nd_punt_ns(struct fp_lcore *lc, struct rte_mbuf *m)
{
	if (!fp_nd_solicitation(m))
		return false;
	if (rte_ring_sp_enqueue(lc->ctl_tx_ring, m) != 0) {
		fp_router.ctl_ctr[FP_CCTR_ctl_tx_ring_full]++;
		rte_pktmbuf_free(m);
	}
	return true;
}

static const struct fp_punt_handler nd_punt_handlers[] = {
	{ FP_IPPROTO_ICMPV6, ND_NEIGHBOR_SOLICIT, nd_punt_ns },
	{ FP_IPPROTO_ICMPV6, ND_NEIGHBOR_ADVERT, nd_punt_na },
	{ FP_IPPROTO_ICMPV6, ND_ROUTER_SOLICIT, fp_nd_router_solicitation },
	{ 0, 0, NULL },
};

/* A destroyed interface's RA schedule is forgotten (its index may come
 * back for another interface, which starts with initial RAs). */
static void
nd_iface_removed(uint16_t p)
{
	ra_next[p] = 0;
	ra_last[p] = 0;
	ra_initial[p] = 0;
}

static struct fp_proto nd_proto = {
	.name = "nd",
	.iface_removed = nd_iface_removed,
	.punt = nd_punt_handlers,
	.order = FP_PROTO_ORDER_ND,
	.timers = nd_timers,
	.farewell = nd_farewell,
	.neigh_list = fp_nd_pending_list,
};
FP_PROTO_REGISTER(nd_proto)

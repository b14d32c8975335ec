/*
 * control/rtimport.c — routes of a Linux routing table imported into the
 * FIB over rtnetlink (docs/linux-integration.md): a dump of next-hop
 * objects and IPv6 routes at start, then RTM_NEWROUTE / RTM_DELROUTE and
 * RTM_NEWNEXTHOP / RTM_DELNEXTHOP as they come.
 *
 * Control thread only (driven by control/mirror.c's timers), except
 * fp_rtimport_open (JS thread, before the control thread sees the socket)
 * and fp_rtimport_shadowed (any thread under ctl_lock: it only queues).
 * The import's own record (`routes`, a hash of prefix → next hops) is what
 * the kernel holds; the FIB holds those that are installed. Routes fastpath
 * owns win: an import that meets one is kept aside (SHADOWED) and tried
 * again once a second.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>

#include <rte_cycles.h>

#include "../core/router.h"
#include "linux.h"

#define NL_BUF 65536
#define SEQ_NEXTHOPS 1
#define SEQ_ROUTES 2
#define MAX_NHOBJ_MEMBERS 32
#define SHADOW_QUEUE 256

/* R_PENDING: not yet in the FIB (waiting in a batch); R_FAILED: the FIB refused it
 * (retried every 10 s). */
enum import_state { R_FREE = 0, R_INSTALLED, R_SHADOWED, R_PENDING, R_FAILED, R_TOMB };

struct import_route {
	uint8_t prefix[16];
	uint8_t plen;
	uint8_t state; /* enum import_state */
	uint8_t proto;
	uint8_t n;     /* next hops */
	uint32_t nhid; /* the next-hop object it uses, 0: inline */
	uint32_t gen;  /* the dump that last saw it */
	struct fp_route_nh *nhs;
};

/* A next-hop object (RTA_NH_ID): a gateway on an interface, or a group. */
struct nh_object {
	uint32_t id;
	bool blackhole;
	bool has_gw;
	uint8_t gw[16];
	unsigned oif;
	uint8_t ngroup;
	uint32_t group[MAX_NHOBJ_MEMBERS];
	uint8_t weight[MAX_NHOBJ_MEMBERS];
};

static int nl_fd = -1;   /* notifications (multicast groups) */
static int dump_fd = -1; /* dump requests and their answers: never crowded out by a
			  * burst of notifications (a full socket loses a dump's answer) */
static uint32_t table;
static uint8_t protos[32];
static uint32_t nl_seq_base;
static int dumping;      /* SEQ_* of the dump in progress, 0: none */
static bool redump;      /* a dump is wanted once this one ends */
static bool dump_done;   /* the first full dump has been applied */
static uint32_t gen;

static struct import_route *routes; /* open addressing, linear probing */
static uint32_t route_slots, route_used, route_count;
static struct nh_object *nhobjs;
static uint32_t nnhobjs, nhobj_cap;

/* Routes of the dump in progress waiting for one FIB batch. */
static struct fp_route_spec *batch;
static uint8_t *batch_protos;
static uint32_t nbatch, batch_cap;

static pthread_mutex_t shadow_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fp_route_key shadow_queue[SHADOW_QUEUE];
static uint32_t nshadow_queue;
static bool shadow_overflow;

static uint8_t buf[NL_BUF] __attribute__((aligned(8)));
/* For fp_linux_status (JS thread): counted by the control thread each second. */
static uint32_t snap_imported, snap_shadowed;
static unsigned retry_failed; /* seconds until the refused routes are tried again */
static bool snap_dump_done;

static uint32_t
key_hash(const uint8_t prefix[16], uint8_t plen)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ prefix[i]) * 16777619u;
	return (h ^ plen) * 16777619u;
}

/* The slot of (prefix, plen), or where it would go; NULL if no table. */
static struct import_route *
route_slot(const uint8_t prefix[16], uint8_t plen, bool for_insert)
{
	struct import_route *tomb = NULL;
	uint32_t i;

	if (route_slots == 0)
		return NULL;
	for (i = key_hash(prefix, plen) & (route_slots - 1);; i = (i + 1) & (route_slots - 1)) {
		struct import_route *r = &routes[i];

		if (r->state == R_FREE)
			return for_insert && tomb != NULL ? tomb : (for_insert ? r : NULL);
		if (r->state == R_TOMB) {
			if (tomb == NULL)
				tomb = r;
			continue;
		}
		if (r->plen == plen && memcmp(r->prefix, prefix, 16) == 0)
			return r;
	}
}

static int
routes_grow(void)
{
	struct import_route *old = routes;
	uint32_t n = route_slots, i;

	route_slots = route_slots ? route_slots * 2 : 1024;
	routes = calloc(route_slots, sizeof(*routes));
	if (routes == NULL) {
		routes = old;
		route_slots = n;
		return -ENOMEM;
	}
	route_used = 0;
	for (i = 0; i < n; i++)
		if (old[i].state != R_FREE && old[i].state != R_TOMB) {
			*route_slot(old[i].prefix, old[i].plen, true) = old[i];
			route_used++;
		}
	free(old);
	return 0;
}

static struct nh_object *
nhobj_find(uint32_t id)
{
	for (uint32_t i = 0; i < nnhobjs; i++)
		if (nhobjs[i].id == id)
			return &nhobjs[i];
	return NULL;
}

/* Fill one fastpath next hop from a kernel gateway and interface; false
 * when the interface is not a mirror. */
static bool
nh_from_kernel(struct fp_route_nh *nh, const uint8_t *gw, unsigned oif, unsigned weight)
{
	int port = fp_mirror_port_of(oif);

	if (port < 0)
		return false;
	memset(nh, 0, sizeof(*nh));
	nh->port_idx = (uint16_t)port;
	nh->has_via = gw != NULL;
	if (gw != NULL)
		memcpy(nh->via, gw, 16);
	nh->weight = (uint8_t)(weight < 1 ? 1 : weight > FP_NHG_WEIGHT_MAX ? FP_NHG_WEIGHT_MAX : weight);
	return true;
}

/* The next hops of next-hop object id (a group: its members). */
static int
nh_resolve_object(uint32_t id, struct fp_route_nh *out, unsigned max)
{
	const struct nh_object *o = nhobj_find(id);
	unsigned n = 0;

	if (o == NULL || o->blackhole)
		return -1;
	if (o->ngroup == 0)
		return nh_from_kernel(&out[0], o->has_gw ? o->gw : NULL, o->oif, 1) ? 1 : -1;
	for (unsigned i = 0; i < o->ngroup; i++) {
		const struct nh_object *m = nhobj_find(o->group[i]);

		if (n >= max || m == NULL || m->ngroup != 0 || m->blackhole ||
		    !nh_from_kernel(&out[n], m->has_gw ? m->gw : NULL, m->oif, o->weight[i] + 1u))
			return -1;
		n++;
	}
	return (int)n;
}

static bool
nhs_equal(const struct import_route *r, const struct fp_route_nh *nhs, unsigned n)
{
	if (r->n != n || r->nhs == NULL)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (r->nhs[i].port_idx != nhs[i].port_idx || r->nhs[i].has_via != nhs[i].has_via ||
		    r->nhs[i].weight != nhs[i].weight || memcmp(r->nhs[i].via, nhs[i].via, 16) != 0)
			return false;
	return true;
}

/* Put r in the FIB (its state says how it went). */
static void
route_install(struct import_route *r)
{
	struct fp_err err;
	int rc;

	if (r->n == 1)
		rc = fp_route_add_kind(r->prefix, r->plen, r->nhs[0].has_via ? r->nhs[0].via : NULL,
				       r->nhs[0].port_idx, FP_ROUTE_KERNEL, r->proto, &err);
	else
		rc = fp_route_add_group_kind(r->prefix, r->plen, r->nhs, r->n, FP_ROUTE_KERNEL,
					     r->proto, &err);
	if (rc == 0) {
		r->state = R_INSTALLED;
		fp_router.ctl_ctr[FP_CCTR_rtimport_added]++;
	} else if (err.code == EEXIST) {
		if (r->state != R_SHADOWED)
			fp_router.ctl_ctr[FP_CCTR_rtimport_shadowed]++;
		r->state = R_SHADOWED;
	} else {
		if (r->state != R_FAILED)
			fp_router.ctl_ctr[FP_CCTR_rtimport_failed]++;
		r->state = R_FAILED;
	}
}

static void
route_uninstall(struct import_route *r)
{
	struct fp_err err;

	if (r->state == R_INSTALLED &&
	    fp_route_delete_kind(r->prefix, r->plen, FP_ROUTE_KERNEL, &err) == 0)
		fp_router.ctl_ctr[FP_CCTR_rtimport_deleted]++;
}

/* Double an array of `size`-byte items and its byte array alongside. */
static bool
grow_pair(void **items, size_t size, uint8_t **bytes, uint32_t *cap)
{
	uint32_t n = *cap ? *cap * 2 : 1024;
	void *p = realloc(*items, n * size);
	uint8_t *b;

	if (p == NULL)
		return false;
	*items = p;
	b = realloc(*bytes, n);
	if (b == NULL)
		return false;
	*bytes = b;
	*cap = n;
	return true;
}

/* Deletions of a burst, applied as one FIB batch before its additions. */
static uint8_t (*del_prefixes)[16];
static uint8_t *del_plens;
static uint32_t ndel, del_cap;

static bool
delete_push(const struct import_route *r)
{
	if (ndel == del_cap && !grow_pair((void **)&del_prefixes, sizeof(*del_prefixes), &del_plens,
					  &del_cap))
		return false;
	memcpy(del_prefixes[ndel], r->prefix, 16);
	del_plens[ndel++] = r->plen;
	return true;
}

static void
delete_flush(void)
{
	struct fp_err err;
	uint32_t bad, i;

	if (ndel == 0)
		return;
	if (fp_route_delete_many_kind((const uint8_t (*)[16])del_prefixes, del_plens, ndel,
				      FP_ROUTE_KERNEL, &bad, &err) == 0) {
		fp_router.ctl_ctr[FP_CCTR_rtimport_deleted] += ndel;
	} else { /* one gone or owned meanwhile: each on its own */
		for (i = 0; i < ndel; i++)
			if (fp_route_delete_kind(del_prefixes[i], del_plens[i], FP_ROUTE_KERNEL,
						 &err) == 0)
				fp_router.ctl_ctr[FP_CCTR_rtimport_deleted]++;
	}
	ndel = 0;
}

static void
route_forget(struct import_route *r)
{
	if (r->state != R_INSTALLED || !delete_push(r))
		route_uninstall(r);
	free(r->nhs);
	r->nhs = NULL;
	r->state = R_TOMB;
	route_count--;
}

/* Point installed route r at next hop nh in place; false if the FIB
 * refused (the caller then deletes and adds). */
static bool
route_replace(struct import_route *r, const struct fp_route_nh *nh, uint8_t proto)
{
	struct fp_route_spec spec;
	struct fp_err err;

	memset(&spec, 0, sizeof(spec));
	memcpy(spec.prefix, r->prefix, 16);
	spec.plen = r->plen;
	spec.has_via = nh->has_via;
	spec.port_idx = nh->port_idx;
	memcpy(spec.via, nh->via, 16);
	if (fp_route_replace_kind(&spec, FP_ROUTE_KERNEL, proto, &err) < 0)
		return false;
	r->nhs[0] = *nh;
	r->proto = proto;
	fp_router.ctl_ctr[FP_CCTR_rtimport_added]++;
	return true;
}

/* During a dump a new single next hop waits for the batch. */
static bool
batch_push(const struct import_route *r)
{
	if (nbatch == batch_cap &&
	    !grow_pair((void **)&batch, sizeof(*batch), &batch_protos, &batch_cap))
		return false;
	memset(&batch[nbatch], 0, sizeof(batch[nbatch]));
	memcpy(batch[nbatch].prefix, r->prefix, 16);
	batch[nbatch].plen = r->plen;
	batch[nbatch].has_via = r->nhs[0].has_via;
	batch[nbatch].port_idx = r->nhs[0].port_idx;
	memcpy(batch[nbatch].via, r->nhs[0].via, 16);
	batch_protos[nbatch++] = r->proto;
	return true;
}

/* One FIB batch for the dump's new routes; one by one if it is refused
 * (a prefix fastpath owns, say), so that each gets its own state. A route
 * the dump changed or deleted after it was queued is taken as it is now
 * (or not at all). */
static void
batch_flush(void)
{
	struct import_route *r;
	struct fp_err err;
	uint32_t bad, i, k = 0;

	delete_flush(); /* a prefix deleted then added again in one burst */
	for (i = 0; i < nbatch; i++) {
		r = route_slot(batch[i].prefix, batch[i].plen, false);
		if (r == NULL || r->state != R_PENDING || r->n != 1)
			continue;
		r->state = R_INSTALLED; /* taken once; fixed below if refused */
		batch[k] = batch[i];
		batch[k].has_via = r->nhs[0].has_via;
		batch[k].port_idx = r->nhs[0].port_idx;
		memcpy(batch[k].via, r->nhs[0].via, 16);
		batch_protos[k++] = r->proto;
	}
	nbatch = 0;
	if (k == 0)
		return;
	if (fp_route_add_many_kind(batch, k, FP_ROUTE_KERNEL, batch_protos, &bad, &err) == 0) {
		fp_router.ctl_ctr[FP_CCTR_rtimport_added] += k;
		return;
	}
	for (i = 0; i < k; i++) {
		r = route_slot(batch[i].prefix, batch[i].plen, false);
		r->state = R_PENDING; /* not yet in the FIB */
		route_install(r);
	}
}

/* A route the kernel has (new or changed): record it, then the FIB. */
static void
route_update(const uint8_t prefix[16], uint8_t plen, uint8_t proto, uint32_t nhid,
	     const struct fp_route_nh *nhs, int n)
{
	struct import_route *r = route_slot(prefix, plen, false);

	if (n <= 0) { /* not importable (now): forget what was imported */
		fp_router.ctl_ctr[FP_CCTR_rtimport_skipped]++;
		if (r != NULL)
			route_forget(r);
		return;
	}
	if (r != NULL) {
		r->gen = gen;
		if (r->proto == proto && nhs_equal(r, nhs, (unsigned)n) &&
		    r->state != R_FAILED)
			return; /* a dump seeing what it has */
		/* A new single next hop for an installed single-next-hop
		 * route: rewritten in place, no moment without a route. */
		if (r->state == R_INSTALLED && r->n == 1 && n == 1 && route_replace(r, &nhs[0], proto))
			return;
		/* Otherwise the old route out, the new one in. */
		route_uninstall(r);
	} else {
		if ((route_used + 1) * 2 > route_slots && routes_grow() < 0)
			return;
		r = route_slot(prefix, plen, true);
		if (r->state == R_FREE)
			route_used++;
		memset(r, 0, sizeof(*r));
		memcpy(r->prefix, prefix, 16);
		r->plen = plen;
		r->gen = gen;
		route_count++;
	}
	free(r->nhs);
	r->nhs = malloc((size_t)n * sizeof(*nhs));
	if (r->nhs == NULL) {
		r->state = R_TOMB;
		route_count--;
		return;
	}
	memcpy(r->nhs, nhs, (size_t)n * sizeof(*nhs));
	r->n = (uint8_t)n;
	r->proto = proto;
	r->nhid = nhid;
	r->state = R_PENDING; /* not yet in the FIB */
	if (n == 1 && batch_push(r)) { /* flushed at the end of the burst or dump */
		r->state = R_PENDING;
		return;
	}
	route_install(r);
}

/* RTM_NEWROUTE / RTM_DELROUTE. */
static void
route_msg(const struct nlmsghdr *h)
{
	const struct rtmsg *rtm = NLMSG_DATA(h);
	struct fp_route_nh nhs[FP_NHG_MEMBERS];
	const struct rtattr *a;
	uint8_t prefix[16] = { 0 };
	const uint8_t *gw = NULL;
	unsigned oif = 0;
	uint32_t tbl, nhid = 0;
	int len = (int)RTM_PAYLOAD(h), n = 0;
	bool multipath_bad = false;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)) || rtm->rtm_family != AF_INET6 ||
	    (rtm->rtm_flags & RTM_F_CLONED) || rtm->rtm_dst_len > 128)
		return;
	tbl = rtm->rtm_table;
	for (a = RTM_RTA(rtm); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case RTA_TABLE:
			tbl = *(const uint32_t *)RTA_DATA(a);
			break;
		case RTA_DST:
			if (RTA_PAYLOAD(a) == 16)
				memcpy(prefix, RTA_DATA(a), 16);
			break;
		case RTA_GATEWAY:
			if (RTA_PAYLOAD(a) == 16)
				gw = RTA_DATA(a);
			break;
		case RTA_OIF:
			oif = *(const uint32_t *)RTA_DATA(a);
			break;
		case RTA_NH_ID:
			nhid = *(const uint32_t *)RTA_DATA(a);
			break;
		case RTA_MULTIPATH: {
			const struct rtnexthop *nh = RTA_DATA(a);
			int left = (int)RTA_PAYLOAD(a);

			while (left >= (int)sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) &&
			       nh->rtnh_len <= left) {
				const struct rtattr *na = RTNH_DATA(nh);
				const uint8_t *ngw = NULL;
				int nlen = nh->rtnh_len - (int)sizeof(*nh);

				for (; RTA_OK(na, nlen); na = RTA_NEXT(na, nlen))
					if (na->rta_type == RTA_GATEWAY && RTA_PAYLOAD(na) == 16)
						ngw = RTA_DATA(na);
				if (n >= (int)FP_NHG_MEMBERS ||
				    !nh_from_kernel(&nhs[n], ngw, (unsigned)nh->rtnh_ifindex,
						    nh->rtnh_hops + 1u))
					multipath_bad = true;
				else
					n++;
				left -= RTNH_ALIGN(nh->rtnh_len);
				nh = RTNH_NEXT(nh);
			}
			break;
		}
		}
	}
	if (tbl != table || rtm->rtm_src_len != 0)
		return;
	if (h->nlmsg_type == RTM_DELROUTE) {
		struct import_route *r = route_slot(prefix, rtm->rtm_dst_len, false);

		if (r != NULL)
			route_forget(r);
		return;
	}
	if (rtm->rtm_type != RTN_UNICAST || !(protos[rtm->rtm_protocol / 8] & (1u << (rtm->rtm_protocol % 8))))
		return; /* not asked for: not counted */
	if (nhid != 0)
		n = nh_resolve_object(nhid, nhs, FP_NHG_MEMBERS);
	else if (n == 0 && !multipath_bad)
		n = nh_from_kernel(&nhs[0], gw, oif, 1) ? 1 : -1;
	if (multipath_bad)
		n = -1;
	if (n == 1 && nhs[0].weight != 1)
		nhs[0].weight = 1;
	route_update(prefix, rtm->rtm_dst_len, rtm->rtm_protocol, nhid, nhs, n);
}

/* RTM_NEWNEXTHOP / RTM_DELNEXTHOP: the object table. A change to an object
 * routes already use asks for a fresh dump (the kernel does not announce
 * the routes a next-hop change moves, nor those a deletion removes). */
static void
nexthop_msg(const struct nlmsghdr *h)
{
	const struct nhmsg *nhm = NLMSG_DATA(h);
	struct nh_object o, *old;
	const struct rtattr *a;
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*nhm)));

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*nhm)))
		return;
	memset(&o, 0, sizeof(o));
	for (a = (const struct rtattr *)((const uint8_t *)nhm + NLMSG_ALIGN(sizeof(*nhm)));
	     RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case NHA_ID:
			o.id = *(const uint32_t *)RTA_DATA(a);
			break;
		case NHA_BLACKHOLE:
			o.blackhole = true;
			break;
		case NHA_OIF:
			o.oif = *(const uint32_t *)RTA_DATA(a);
			break;
		case NHA_GATEWAY:
			if (RTA_PAYLOAD(a) == 16) {
				o.has_gw = true;
				memcpy(o.gw, RTA_DATA(a), 16);
			}
			break;
		case NHA_GROUP: {
			const struct nexthop_grp *g = RTA_DATA(a);
			unsigned k, cnt = RTA_PAYLOAD(a) / sizeof(*g);

			for (k = 0; k < cnt && k < MAX_NHOBJ_MEMBERS; k++) {
				o.group[k] = g[k].id;
				o.weight[k] = g[k].weight;
			}
			o.ngroup = (uint8_t)k;
			break;
		}
		}
	}
	if (o.id == 0)
		return;
	old = nhobj_find(o.id);
	if (h->nlmsg_type == RTM_DELNEXTHOP) {
		if (old != NULL)
			*old = nhobjs[--nnhobjs];
		redump = true;
		return;
	}
	if (old != NULL) {
		*old = o;
		redump = true;
		return;
	}
	if (nnhobjs == nhobj_cap) {
		uint32_t cap = nhobj_cap ? nhobj_cap * 2 : 64;
		struct nh_object *p = realloc(nhobjs, cap * sizeof(*p));

		if (p == NULL)
			return;
		nhobjs = p;
		nhobj_cap = cap;
	}
	nhobjs[nnhobjs++] = o;
}

static int
dump_request(int seq)
{
	struct {
		struct nlmsghdr h;
		union {
			struct rtmsg rt;
			struct nhmsg nh;
		};
	} req;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = nl_seq_base + (uint32_t)seq;
	if (seq == SEQ_NEXTHOPS) {
		req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct nhmsg));
		req.h.nlmsg_type = RTM_GETNEXTHOP;
		req.nh.nh_family = AF_UNSPEC;
	} else {
		req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
		req.h.nlmsg_type = RTM_GETROUTE;
		req.rt.rtm_family = AF_INET6;
	}
	if (send(dump_fd, &req, req.h.nlmsg_len, 0) < 0)
		return -errno;
	dumping = seq;
	return 0;
}

/* A full dump of the kernel's routes ended: routes it no longer has go. */
static void
dump_sweep(void)
{
	batch_flush();
	for (uint32_t i = 0; i < route_slots; i++)
		if (routes[i].state != R_FREE && routes[i].state != R_TOMB && routes[i].gen != gen)
			route_forget(&routes[i]);
	dump_done = true;
}

/* The end of a dump (NLMSG_DONE, or an error: an old kernel without
 * next-hop objects answers RTM_GETNEXTHOP with EINVAL/EOPNOTSUPP). */
static void
dump_end(uint32_t seq)
{
	if (dumping == 0 || seq != nl_seq_base + (uint32_t)dumping)
		return;
	if (dumping == SEQ_NEXTHOPS) {
		dump_request(SEQ_ROUTES);
		return;
	}
	dumping = 0;
	dump_sweep();
}

/* Start a full resync: objects, then routes (mark and sweep). */
static void
dump_start(void)
{
	gen++;
	redump = false;
	nnhobjs = 0;
	if (dump_request(SEQ_NEXTHOPS) < 0)
		redump = true; /* tried again at the next tick */
}

/* Everything socket fd holds (notifications or a dump's answer). */
static void
read_socket(int fd)
{
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		const struct nlmsghdr *h;
		int len;

		if (n < 0) {
			if (errno == ENOBUFS) {
				/* Notifications were lost: read the whole table
				 * again (on the other socket), once this is drained. */
				fp_router.ctl_ctr[FP_CCTR_rtimport_resyncs]++;
				redump = true;
				continue;
			}
			break;
		}
		len = (int)n;
		for (h = (const struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)len);
		     h = NLMSG_NEXT(h, len)) {
			switch (h->nlmsg_type) {
			case NLMSG_DONE:
			case NLMSG_ERROR:
				dump_end(h->nlmsg_seq);
				break;
			case RTM_NEWROUTE:
			case RTM_DELROUTE:
				route_msg(h);
				break;
			case RTM_NEWNEXTHOP:
			case RTM_DELNEXTHOP:
				nexthop_msg(h);
				break;
			}
		}
	}
}

/* A daemon installs routes one netlink request at a time, so a burst
 * arrives as a trickle of single messages: the changes wait until the
 * socket has been quiet for BURST_QUIET_US (or the oldest has waited
 * BURST_MAX_US), then go in as one batch, not one FIB change each. */
#define BURST_QUIET_US 1000
#define BURST_MAX_US 20000
static uint64_t burst_first_tsc, burst_last_tsc;

void
fp_rtimport_read(void)
{
	uint64_t now = rte_get_tsc_cycles();

	read_socket(dump_fd);
	read_socket(nl_fd);
	if (nbatch + ndel > 0) {
		if (burst_first_tsc == 0)
			burst_first_tsc = now;
		burst_last_tsc = now;
	}
	if (redump && dumping == 0)
		dump_start();
}

void
fp_rtimport_tick(void)
{
	uint64_t now, us = rte_get_tsc_hz() / 1000000;

	if (nbatch + ndel == 0 || dumping == SEQ_ROUTES) /* a dump's wait for its end */
		return;
	now = rte_get_tsc_cycles();
	if (now - burst_last_tsc < BURST_QUIET_US * us && now - burst_first_tsc < BURST_MAX_US * us)
		return;
	batch_flush();
	burst_first_tsc = 0;
}

int
fp_rtimport_fd(void)
{
	return nl_fd;
}

int
fp_rtimport_dump_fd(void)
{
	return dump_fd;
}

int
fp_rtimport_open(uint32_t tbl, const uint8_t want[32], struct fp_err *err)
{
	struct sockaddr_nl sa;
	int size = 8 << 20, grp = RTNLGRP_NEXTHOP;

	nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (nl_fd < 0)
		return fp_err_set(err, errno, "route import: netlink socket: %s", strerror(errno));
	if (setsockopt(nl_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(nl_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_IPV6_ROUTE;
	if (bind(nl_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(nl_fd);
		nl_fd = -1;
		return fp_err_set(err, e, "route import: netlink bind: %s", strerror(e));
	}
	/* Next-hop objects (Linux 5.3+); without them routes carry their own. */
	setsockopt(nl_fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp));
	dump_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (dump_fd < 0) {
		int e = errno;

		close(nl_fd);
		nl_fd = -1;
		return fp_err_set(err, e, "route import: netlink socket: %s", strerror(e));
	}
	table = tbl;
	memcpy(protos, want, sizeof(protos));
	nl_seq_base = (uint32_t)rte_rdtsc() & 0xffff0000u;
	dumping = 0;
	dump_done = false;
	gen = 0;
	dump_start();
	return 0;
}

void
fp_rtimport_shadowed(const uint8_t prefix[16], uint8_t plen)
{
	pthread_mutex_lock(&shadow_lock);
	if (nshadow_queue < SHADOW_QUEUE) {
		memcpy(shadow_queue[nshadow_queue].prefix, prefix, 16);
		shadow_queue[nshadow_queue++].plen = plen;
	} else {
		shadow_overflow = true;
	}
	pthread_mutex_unlock(&shadow_lock);
}

static void
rtimport_snapshot(void)
{
	uint32_t i, imported = 0, shadowed = 0;

	for (i = 0; i < route_slots; i++) {
		imported += routes[i].state == R_INSTALLED;
		shadowed += routes[i].state == R_SHADOWED;
	}
	__atomic_store_n(&snap_imported, imported, __ATOMIC_RELAXED);
	__atomic_store_n(&snap_shadowed, shadowed, __ATOMIC_RELAXED);
	__atomic_store_n(&snap_dump_done, dump_done, __ATOMIC_RELAXED);
}

void
fp_rtimport_timers(void)
{
	struct fp_route_key q[SHADOW_QUEUE];
	uint32_t n, i;
	bool overflow;

	pthread_mutex_lock(&shadow_lock);
	n = nshadow_queue;
	memcpy(q, shadow_queue, n * sizeof(q[0]));
	overflow = shadow_overflow;
	nshadow_queue = 0;
	shadow_overflow = false;
	pthread_mutex_unlock(&shadow_lock);
	/* Owned routes took these places. */
	for (i = 0; i < n; i++) {
		struct import_route *r = route_slot(q[i].prefix, q[i].plen, false);

		if (r != NULL && r->state == R_INSTALLED) {
			r->state = R_SHADOWED;
			fp_router.ctl_ctr[FP_CCTR_rtimport_shadowed]++;
		}
	}
	if (overflow) /* which ones is unknown: let a dump say */
		redump = true;
	/* Kept aside, or refused for room: try again (the owned route may be
	 * gone). A scan of the record; fine up to a few hundred thousand. */
	/* Refused for room: every 10 s (deletions may have made some). */
	retry_failed = (retry_failed + 1) % 10;
	for (i = 0; i < route_slots; i++)
		if (routes[i].state == R_SHADOWED ||
		    (routes[i].state == R_FAILED && retry_failed == 0))
			route_install(&routes[i]);
	if (redump && dumping == 0)
		dump_start();
	rtimport_snapshot();
}

void
fp_rtimport_status(struct fp_linux_status *st)
{
	st->dump_done = __atomic_load_n(&snap_dump_done, __ATOMIC_RELAXED);
	st->imported = __atomic_load_n(&snap_imported, __ATOMIC_RELAXED);
	st->shadowed = __atomic_load_n(&snap_shadowed, __ATOMIC_RELAXED);
}

void
fp_rtimport_close(void)
{
	uint32_t i;

	if (nl_fd >= 0)
		close(nl_fd);
	if (dump_fd >= 0)
		close(dump_fd);
	nl_fd = dump_fd = -1;
	free(del_prefixes);
	free(del_plens);
	del_prefixes = NULL;
	del_plens = NULL;
	ndel = del_cap = 0;
	/* The FIB went with the router; the record goes too. */
	for (i = 0; i < route_slots; i++)
		free(routes[i].nhs);
	free(routes);
	routes = NULL;
	route_slots = route_used = route_count = 0;
	free(nhobjs);
	nhobjs = NULL;
	nnhobjs = nhobj_cap = 0;
	free(batch);
	free(batch_protos);
	batch = NULL;
	batch_protos = NULL;
	nbatch = batch_cap = 0;
	dump_done = false;
	rtimport_snapshot();
}

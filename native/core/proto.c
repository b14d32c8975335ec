/*
 * core/proto.c — the list of registered control-plane protocols and the
 * walks core makes over it; see proto.h.
 */
#include <pthread.h>
#include <stddef.h>

#include "proto.h"
#include "router.h"

static struct fp_proto *protos; /* sorted by order; built before main() */

void
fp_proto_register(struct fp_proto *p)
{
	struct fp_proto **pp = &protos;

	while (*pp != NULL && (*pp)->order <= p->order)
		pp = &(*pp)->next;
	p->next = *pp;
	*pp = p;
}

void
fp_proto_port_configure(uint16_t port_idx, const struct rte_eth_dev_info *info,
			struct rte_eth_conf *conf)
{
	struct fp_proto *p;

	for (p = protos; p != NULL; p = p->next)
		if (p->port_configure != NULL)
			p->port_configure(port_idx, info, conf);
}

/* Stop, in reverse order, every protocol before `upto` (NULL: all). */
static void
proto_stop_before(struct fp_proto *upto)
{
	struct fp_proto *stack[16], *p;
	int n = 0;

	for (p = protos; p != upto && n < 16; p = p->next)
		stack[n++] = p;
	pthread_mutex_unlock(&fp_router.ctl_lock);
	for (int i = n - 1; i >= 0; i--)
		if (stack[i]->stop != NULL)
			stack[i]->stop();
	pthread_mutex_lock(&fp_router.ctl_lock);
	for (int i = n - 1; i >= 0; i--)
		if (stack[i]->stop_locked != NULL)
			stack[i]->stop_locked();
}

int
fp_proto_start(struct fp_err *err)
{
	struct fp_proto *p;
	int rc;

	for (p = protos; p != NULL; p = p->next) {
		if (p->start == NULL)
			continue;
		rc = p->start(err);
		if (rc < 0) {
			proto_stop_before(p);
			return rc;
		}
	}
	return 0;
}

void
fp_proto_stop(void)
{
	proto_stop_before(NULL);
}

void
fp_proto_iface_added(uint16_t idx)
{
	struct fp_proto *p;

	for (p = protos; p != NULL; p = p->next)
		if (p->iface_added != NULL)
			p->iface_added(idx);
}

void
fp_proto_iface_removed(uint16_t idx)
{
	struct fp_proto *p;

	for (p = protos; p != NULL; p = p->next)
		if (p->iface_removed != NULL)
			p->iface_removed(idx);
}

void
fp_proto_farewell(void)
{
	struct fp_proto *p;

	for (p = protos; p != NULL; p = p->next)
		if (p->farewell != NULL)
			p->farewell();
}

void
fp_proto_timers(void)
{
	struct fp_proto *p;

	for (p = protos; p != NULL; p = p->next)
		if (p->timers != NULL)
			p->timers();
}

bool
fp_proto_punt(struct fp_lcore *lc, struct rte_mbuf *m, uint16_t proto, uint16_t icmp_type)
{
	const struct fp_punt_handler *h;
	struct fp_proto *p;

	for (p = protos; p != NULL; p = p->next)
		for (h = p->punt; h != NULL && h->handle != NULL; h++)
			if (h->proto == proto &&
			    (h->icmp_type == FP_PUNT_ANY_TYPE || h->icmp_type == icmp_type))
				return h->handle(lc, m);
	return false;
}

uint32_t
fp_proto_neigh_list(struct fp_neigh_info *out, uint32_t max)
{
	struct fp_proto *p;
	uint32_t n = 0;

	for (p = protos; p != NULL && n < max; p = p->next)
		if (p->neigh_list != NULL)
			n += p->neigh_list(out + n, max - n);
	return n;
}

void
fp_proto_route_shadowed(const uint8_t prefix[16], uint8_t plen)
{
	struct fp_proto *p;

	for (p = protos; p != NULL; p = p->next)
		if (p->route_shadowed != NULL)
			p->route_shadowed(prefix, plen);
}

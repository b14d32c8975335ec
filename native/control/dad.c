/*
 * control/dad.c — Duplicate Address Detection (RFC 4862 5.4), on the control
 * thread.
 *
 * Every address of an interface starts tentative when the interface comes
 * up (at start, after an admin down/up, after its link was down, and when
 * the link goes from unknown to up, as if.c asks). After a random delay of
 * up to MAX_RTR_SOLICITATION_DELAY (1 s, 5.4.2) the router sends
 * DupAddrDetectTransmits Neighbor Solicitations from :: to the address's
 * solicited-node group, RetransTimer (1 s) apart; one RetransTimer after
 * the last, an address nobody objected to becomes preferred. A Neighbor
 * Advertisement for a tentative address, or another node's DAD probe for
 * it, makes it duplicated (5.4.3, 5.4.4): it loses its local route and is
 * never used as a source. Our own probes can come back to us (a hub, a
 * looping switch, af_packet peers): they carry a nonce (RFC 7527 / RFC 3971
 * option 14) and a probe with our nonce is not taken as a duplicate.
 *
 * A tentative address answers nothing but DAD: its Echo Requests and other
 * packets are dropped, solicitations for it from unicast sources are not
 * answered (5.4). Each state change is an event for JS (core/event.h).
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "../core/event.h"
#include "icmp6.h"
#include "../core/ip6.h"
#include "nd.h"
#include "../core/proto.h"
#include "../core/router.h"
#include "ctl.h"

#define DAD_RETRANS_MS 1000       /* RetransTimer */
#define DAD_MAX_DELAY_MS 1000     /* MAX_RTR_SOLICITATION_DELAY */

struct dad_state {
	bool started;   /* an event was sent for this address already */
	uint8_t sent;   /* probes sent in this round */
	uint64_t next;  /* TSC of the next probe or of the verdict */
	uint8_t nonce[6];
};

static struct dad_state dad[FP_MAX_IFACES][FP_MAX_ADDRS];
static bool dad_port_up[FP_MAX_IFACES]; /* admin state seen at the last tick */
/* The port's up_count at the last tick: a down→up between two ticks,
 * which dad_port_up cannot see, restarts DAD too. */
static uint32_t dad_up_count[FP_MAX_IFACES];

static void
set_state(uint16_t p, uint32_t a, uint8_t state)
{
	struct fp_port *port = &fp_router.ports[p];
	uint8_t prev = dad[p][a].started ? port->addr_state[a] : FP_ADDR_NONE;

	if (dad[p][a].started && prev == state)
		return;
	dad[p][a].started = true;
	port->addr_state[a] = state;
	if (state == FP_ADDR_DUPLICATED)
		fp_port_addr_route(p, a, false);
	else if (prev == FP_ADDR_DUPLICATED)
		fp_port_addr_route(p, a, true);
	fp_event_notify(FP_EVENT_ADDRESS, p, state, prev, port->addrs[a].addr,
			port->addrs[a].plen);
}

/* One probe: NS from ::, to the solicited-node group, target the address,
 * no source link-layer option (7.2.2 forbids it from ::), our nonce. */
static void
send_probe(uint16_t p, uint32_t a)
{
	static const uint8_t unspecified[16];

	if (fp_nd_send_ns(fp_router.lcores[0], p, unspecified, fp_router.ports[p].addrs[a].addr,
			  NULL, FP_ND_OPT_NONCE, dad[p][a].nonce))
		fp_router.ctl_ctr[FP_CCTR_dad_probes_out]++;
}

/* The interface came up: every address starts over (5.4: "whenever an
 * interface is initialized"). */
static void
port_begin(uint16_t p, uint64_t now)
{
	struct fp_port *port = &fp_router.ports[p];
	uint32_t a;

	for (a = 0; a < port->naddrs; a++) {
		struct dad_state *d = &dad[p][a];
		uint64_t r = rte_rand();

		if (port->dad_transmits == 0) {
			set_state(p, (uint16_t)a, FP_ADDR_PREFERRED);
			continue;
		}
		set_state(p, a, FP_ADDR_TENTATIVE);
		d->sent = 0;
		d->next = now + fp_ms_to_tsc(r % (DAD_MAX_DELAY_MS + 1));
		memcpy(d->nonce, &r, 6);
		d->nonce[0] ^= (uint8_t)(now >> 8); /* differs per round */
	}
}

void
fp_dad_timers(void)
{
	uint64_t now = rte_rdtsc();
	uint16_t p;
	uint32_t a;

	if (fp_router.nworkers == 0)
		return;
	for (p = 0; p < fp_router.nports; p++) {
		struct fp_port *port = &fp_router.ports[p];

		if (!port->in_use || port->kind == FP_IF_LOOP)
			continue; /* a loopback's addresses are preferred at once */
		if (port->up_count != dad_up_count[p]) {
			dad_up_count[p] = port->up_count;
			dad_port_up[p] = false;
		}
		/* Up: administratively, and the link not known to be down. */
		if (!port->up || port->link_state == FP_LINK_DOWN) {
			dad_port_up[p] = false; /* probes wait; up again restarts */
			continue;
		}
		if (!dad_port_up[p]) {
			dad_port_up[p] = true;
			port_begin(p, now);
		}
		for (a = 0; a < port->naddrs; a++) {
			struct dad_state *d = &dad[p][a];

			if (port->addr_state[a] != FP_ADDR_TENTATIVE || now < d->next)
				continue;
			if (d->sent < port->dad_transmits) {
				send_probe(p, a);
				d->sent++;
				d->next = now + fp_ms_to_tsc(DAD_RETRANS_MS);
				continue;
			}
			fp_router.ctl_ctr[FP_CCTR_dad_succeeded]++;
			set_state(p, a, FP_ADDR_PREFERRED);
		}
	}
}

bool
fp_dad_solicitation(uint16_t p, const uint8_t target[16], bool probe,
		    const uint8_t *nonce)
{
	int a = fp_port_addr_index(p, target);

	if (a < 0 || fp_router.ports[p].addr_state[a] == FP_ADDR_PREFERRED)
		return false;
	if (fp_router.ports[p].addr_state[a] == FP_ADDR_TENTATIVE && probe) {
		if (nonce != NULL && memcmp(nonce, dad[p][a].nonce, 6) == 0) {
			fp_router.ctl_ctr[FP_CCTR_dad_looped]++;
			return true; /* our own probe, come back */
		}
		/* Another node is about to use the same address (5.4.3). */
		fp_router.ctl_ctr[FP_CCTR_dad_duplicates]++;
		set_state(p, (uint32_t)a, FP_ADDR_DUPLICATED);
	}
	return true;
}

bool
fp_dad_advertisement(uint16_t p, const uint8_t target[16])
{
	int a = fp_port_addr_index(p, target);

	if (a < 0)
		return false;
	switch (fp_router.ports[p].addr_state[a]) {
	case FP_ADDR_TENTATIVE:
		/* Someone has it already (5.4.4). */
		fp_router.ctl_ctr[FP_CCTR_dad_duplicates]++;
		set_state(p, (uint32_t)a, FP_ADDR_DUPLICATED);
		break;
	case FP_ADDR_PREFERRED:
		/* Someone claims an address we hold: DAD missed it (a partitioned
		 * link?). RFC 4862 5.4.4 only asks to log it: counted. */
		fp_router.ctl_ctr[FP_CCTR_dad_conflicts]++;
		break;
	default:
		break;
	}
	return true;
}

void
fp_dad_restart(uint16_t p)
{
	if (p < FP_MAX_IFACES)
		dad_port_up[p] = false; /* the next tick begins again */
}

void
fp_dad_reset(void)
{
	memset(dad, 0, sizeof(dad));
	memset(dad_port_up, 0, sizeof(dad_port_up));
	memset(dad_up_count, 0, sizeof(dad_up_count));
}

/* A destroyed interface's probes are forgotten: its index may come back
 * for another interface (core/iface.c), which starts its own. */
static void
dad_iface_removed(uint16_t p)
{
	memset(dad[p], 0, sizeof(dad[p]));
	dad_port_up[p] = false;
	dad_up_count[p] = 0;
}

static struct fp_proto dad_proto = {
	.name = "dad",
	.order = FP_PROTO_ORDER_DAD,
	.timers = fp_dad_timers,
	.iface_removed = dad_iface_removed,
};
FP_PROTO_REGISTER(dad_proto)

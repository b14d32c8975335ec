/*
 * core/event.h — events from native threads to the control API (JS).
 *
 * One bounded multi-producer queue (an rte_ring of fixed-size elements):
 * posting never blocks and never allocates; an event that does not fit is
 * counted (events_dropped) and lost. After each post a notify hook (set by
 * the bindings: a ThreadSafeFunction call) says "there is something to
 * drain"; the consumer drains in order.
 *
 * Producers: the control thread (address states from duplicate address
 * detection, neighbour reachability) and control operations.
 */
#ifndef FP_EVENT_H
#define FP_EVENT_H

#include <stdint.h>

enum fp_event_type {
	FP_EVENT_ADDRESS = 1, /* an interface address changed state (DAD) */
	FP_EVENT_NEIGHBOUR,   /* a learned neighbour failed NUD and was removed */
	FP_EVENT_LINK,        /* a port's link state changed (enum fp_link_state) */
	FP_EVENT_MLD,         /* MLD: state = enum fp_mld_event, addr = group */
	FP_EVENT_SOCKET,      /* a UDP socket: readable or sends handed on (control/udp.h) */
};

enum fp_mld_event {
	FP_MLD_EVENT_JOIN = 1,
	FP_MLD_EVENT_LEAVE,
	FP_MLD_EVENT_REPORT, /* a report sent */
	FP_MLD_EVENT_QUERY,  /* a query heard (addr :: for a general one) */
};

struct fp_event {
	uint16_t type;
	uint16_t port_idx;
	uint8_t state;    /* enum fp_addr_state / fp_neigh_state / fp_link_state */
	uint8_t previous; /* the state before */
	uint8_t plen;     /* address prefix length, when an address */
	uint8_t pad;
	uint8_t addr[16];
	uint64_t at_ms; /* wall clock (CLOCK_REALTIME), milliseconds */
};

#define FP_EVENT_QUEUE 4096 /* events waiting for the consumer, at most */

/* Create the queue (once, after EAL init). 0 or -errno. */
int fp_event_init(void);
/* Queue an event (any thread); at_ms is filled in. Never blocks. */
void fp_event_post(struct fp_event *ev);
/* Build and post an event: type, interface, state and previous state, an
 * address (or NULL) with its prefix length. */
void fp_event_notify(uint16_t type, uint16_t port_idx, uint8_t state, uint8_t previous,
		     const uint8_t *addr, uint8_t plen);
/* Take up to max events, oldest first. */
unsigned fp_event_drain(struct fp_event *out, unsigned max);
/* Called after each post, from the posting thread; NULL to stop. */
void fp_event_set_notify(void (*fn)(void *arg), void *arg);
/* Events lost because the queue was full (also a control counter). */
uint64_t fp_event_dropped(void);
/* Events waiting in the ring, and its capacity (stats, leak checks). */
unsigned fp_event_ring_used(void);
unsigned fp_event_ring_size(void);

#endif

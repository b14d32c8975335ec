/*
 * core/event.c — the bounded native → JS event queue (see core/event.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "event.h"
#include "router.h"

static struct rte_ring *event_ring;
static uint64_t events_dropped;
/* The hook is read by producers and changed by the bindings; the lock keeps
 * a hook from being torn down while a producer is inside it. */
static pthread_mutex_t notify_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*notify_fn)(void *);
static void *notify_arg;

int
fp_event_init(void)
{
	if (event_ring != NULL)
		return 0;
	event_ring = rte_ring_create_elem("fp_events", sizeof(struct fp_event),
					  FP_EVENT_QUEUE, SOCKET_ID_ANY,
					  RING_F_SC_DEQ | RING_F_EXACT_SZ);
	return event_ring != NULL ? 0 : -rte_errno;
}

void
fp_event_post(struct fp_event *ev)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ev->at_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (event_ring == NULL ||
	    rte_ring_mp_enqueue_elem(event_ring, ev, sizeof(*ev)) != 0) {
		__atomic_add_fetch(&events_dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	pthread_mutex_lock(&notify_lock);
	if (notify_fn != NULL)
		notify_fn(notify_arg);
	pthread_mutex_unlock(&notify_lock);
}

void
fp_event_notify(uint16_t type, uint16_t port_idx, uint8_t state, uint8_t previous,
		const uint8_t *addr, uint8_t plen)
{
	struct fp_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.port_idx = port_idx;
	ev.state = state;
	ev.previous = previous;
	ev.plen = plen;
	if (addr != NULL)
		memcpy(ev.addr, addr, 16);
	fp_event_post(&ev);
}

unsigned
fp_event_drain(struct fp_event *out, unsigned max)
{
	if (event_ring == NULL)
		return 0;
	return rte_ring_sc_dequeue_burst_elem(event_ring, out, sizeof(*out), max,
					      NULL);
}

void
fp_event_set_notify(void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&notify_lock);
	notify_fn = fn;
	notify_arg = arg;
	pthread_mutex_unlock(&notify_lock);
}

unsigned
fp_event_ring_used(void)
{
	return event_ring != NULL ? rte_ring_count(event_ring) : 0;
}

unsigned
fp_event_ring_size(void)
{
	return event_ring != NULL ? rte_ring_get_capacity(event_ring) : 0;
}

uint64_t
fp_event_dropped(void)
{
	return __atomic_load_n(&events_dropped, __ATOMIC_RELAXED);
}

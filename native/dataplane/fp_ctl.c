/*
 * fp_ctl.c — the control thread: consumes the per-lcore punt rings.
 *
 * It is an EAL control thread (rte_ctrl_thread_create: runs on the CPUs no
 * worker uses). In this release nothing answers punted packets yet (ND and
 * ICMPv6 come with the control-plane work), so each is counted and freed;
 * the counters make that visible (punt_received, punt_dropped).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "fp_router.h"

#define FP_CTL_POLL_NS 200000 /* 0.2 ms between empty polls */

static void *
ctl_main(void *arg)
{
	struct rte_mbuf *pkts[FP_BURST];
	struct timespec ts = { 0, FP_CTL_POLL_NS };
	(void)arg;

	while (!__atomic_load_n(&fp_router.ctl_stop, __ATOMIC_RELAXED)) {
		unsigned total = 0, w, n, i;

		for (w = 0; w < fp_router.nworkers; w++) {
			n = rte_ring_sc_dequeue_burst(fp_router.lcores[w]->punt_ring,
						      (void **)pkts, FP_BURST, NULL);
			for (i = 0; i < n; i++)
				rte_pktmbuf_free(pkts[i]);
			fp_router.ctl_ctr[FP_CCTR_punt_received] += n;
			fp_router.ctl_ctr[FP_CCTR_punt_dropped] += n;
			total += n;
		}
		if (total == 0)
			nanosleep(&ts, NULL);
	}
	return NULL;
}

int
fp_ctl_start(struct fp_err *err)
{
	int rc;

	fp_router.ctl_stop = 0;
	rc = rte_ctrl_thread_create(&fp_router.ctl_thread, "fp-ctl", NULL,
				    ctl_main, NULL);
	if (rc != 0)
		return fp_err_set(err, rc > 0 ? rc : -rc,
				  "cannot create the control thread: %s",
				  strerror(rc > 0 ? rc : -rc));
	return 0;
}

void
fp_ctl_stop(void)
{
	__atomic_store_n(&fp_router.ctl_stop, 1, __ATOMIC_RELAXED);
	pthread_join(fp_router.ctl_thread, NULL);
}

/*
 * control/capture.h — packet capture on router ports (fastpath capture,
 * router.capture): copies of the frames a port receives and sends, with an
 * optional pcap-filter(7) expression, into a bounded ring that the control
 * side (JS) drains and writes as pcapng (lib/capture.ts).
 *
 * The packet path pays nothing while no capture runs: the copies are made
 * by ethdev rx/tx callbacks (rte_eth_add_rx_callback / _tx_callback) that
 * exist only between start and stop. Without them rte_eth_rx_burst and
 * rte_eth_tx_burst take the "no callback" branch they take today (Debian's
 * DPDK is built with RTE_ETHDEV_RXTX_CALLBACKS); datapath/lcore.c is not
 * touched.
 *
 * Threads and locks:
 *  - The callbacks run on the worker lcores, inside their bursts (every rx
 *    and tx burst of the router is a worker's, including the control
 *    thread's packets, which go out through the workers' ctl_tx rings).
 *    They never block: a copy that finds the pool or the ring full is
 *    dropped and counted in the worker's own counter slot.
 *  - start, read, stats and stop come from the JS thread and take
 *    fp_router.ctl_lock. stop removes the callbacks, then waits for every
 *    worker's quiescent state (fp_router.qsbr, reported once per loop by
 *    datapath/lcore.c) before freeing them: no worker is still inside one.
 *  - A router that stops with a capture running ends it (the capture's
 *    stop_locked hook, workers already stopped).
 * One capture at a time per router.
 */
#ifndef FP_CAPTURE_H
#define FP_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/router.h"

#define FP_CAPTURE_DIR_RX 1u
#define FP_CAPTURE_DIR_TX 2u
#define FP_CAPTURE_FILTER_MAX 1024
#define FP_CAPTURE_MIN_BUFFER 64
#define FP_CAPTURE_MAX_BUFFER (1u << 20)
#define FP_CAPTURE_DEFAULT_BUFFER 4096
#define FP_CAPTURE_MAX_SNAPLEN 262144 /* pcapng's usual maximum */

struct fp_capture_params {
	uint32_t niface;
	uint16_t iface[FP_MAX_PORTS]; /* interface indexes: ports only */
	uint8_t direction;            /* FP_CAPTURE_DIR_* bits */
	char filter[FP_CAPTURE_FILTER_MAX]; /* pcap-filter(7); "" = every frame */
	uint32_t snaplen;                   /* bytes kept per frame */
	uint32_t buffer;                    /* frames the ring holds */
};

/* Counters of a capture, summed over the workers. */
struct fp_capture_stats {
	uint64_t seen;     /* frames the callbacks looked at */
	uint64_t matched;  /* of which the filter accepted */
	uint64_t captured; /* of which a copy went into the ring */
	uint64_t dropped;  /* matched but lost: ring or pool full */
};

/* A record as fp_capture_read() writes it, followed by caplen bytes of the
 * frame and padding to a multiple of 4. */
struct fp_capture_record {
	uint64_t time_ns; /* CLOCK_REALTIME, from the TSC at the burst */
	uint32_t wire_len;
	uint32_t cap_len;
	uint16_t iface;
	uint8_t direction; /* FP_CAPTURE_DIR_RX or _TX */
	uint8_t pad[5];
};

/* Start a capture; returns its id (> 0) or -1 with err: EINVAL (bad
 * filter, named, with libpcap's message; bad size), ENOENT/EOPNOTSUPP (no
 * such interface, not a port), EBUSY (one runs), ENOMEM. Changes nothing
 * on failure. */
int64_t fp_capture_start(const struct fp_capture_params *p, struct fp_err *err);

/* Move frames of capture `id` into out (at most `max` bytes of records);
 * returns the bytes written, *npkts the records. Capture gone: -1 ENOENT. A
 * stopped capture stays readable until its ring is empty, then is freed
 * (fp_capture_read then answers ENOENT). */
int64_t fp_capture_read(uint64_t id, uint8_t *out, size_t max, uint32_t *npkts,
			struct fp_err *err);

/* Counters so far and whether the callbacks are still installed. */
int fp_capture_status(uint64_t id, struct fp_capture_stats *st, bool *running,
		      struct fp_err *err);

/* Remove the callbacks (no new copies); what is in the ring can still be
 * read. Idempotent for the current id. */
int fp_capture_stop(uint64_t id, struct fp_capture_stats *st, struct fp_err *err);

/* Free a capture's ring now, whatever it still holds (the reader gave up). */
void fp_capture_release(uint64_t id);

#endif

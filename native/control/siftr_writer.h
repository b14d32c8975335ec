/*
 * control/siftr_writer.h — SIFTR's lifecycle and its writer thread: the
 * seed's siftr_manage_ops (enable header, disable footer), the sysctl
 * handlers (logfile reopened while enabled, ppl and port_filter live) and
 * siftr_pkt_manager_thread (records formatted and written off the packet
 * path). Seed: shared/seeds/freebsd-siftr.c.txt.
 *
 * Threads: the API calls run on JS or libuv pool threads, serialised by
 * this module's own lock (taken before ctl_lock, never after it). Records
 * come from the workers' rings (datapath/siftr_tap.c); one writer thread,
 * started at enable and joined at disable, drains them, formats SIFTR 1.3
 * lines (control/siftr.c) and writes them through a buffered FILE. The
 * control thread's packet loop and JS never format or write a line.
 */
#ifndef FP_SIFTR_WRITER_H
#define FP_SIFTR_WRITER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "siftr.h"

struct fp_err;

#define FP_SIFTR_DEFAULT_CONNECTIONS 65536 /* per worker (the seed's
					    * SIFTR_EXPECTED_MAX_TCP_FLOWS) */
#define FP_SIFTR_MAX_RING (1u << 20)
#define FP_SIFTR_DEFAULT_RING 8192      /* records per worker ring */
#define FP_SIFTR_DEFAULT_FLOWS 1048576  /* flow_list capacity */
#define FP_SIFTR_MAX_FLOWS (1u << 24)
#define FP_SIFTR_SYSVER_MAX 64

struct fp_siftr_params {
	char logfile[PATH_MAX];
	char sysver[FP_SIFTR_SYSVER_MAX]; /* fastpath's version, for the header */
	uint32_t ppl;                     /* 0 and 1: every segment */
	uint16_t port_filter;             /* 0: every port */
	bool local_is_responder;
	bool pickup_midstream;
	uint32_t max_connections; /* per worker */
	uint32_t ring_size;       /* records per worker ring, power of two */
	uint32_t max_flows;       /* flow_list capacity */
	uint32_t idle_ms;         /* a connection expires when idle this long */
	uint32_t close_grace_ms;  /* ... or this long after FIN/FIN or RST */
};

/* What status() and disable() report. Counters are summed over workers:
 * the seed's siftr_stats plus fastpath's own. */
struct fp_siftr_status {
	bool enabled;
	struct fp_siftr_params params;
	uint64_t enable_time_us;  /* CLOCK_REALTIME */
	uint64_t disable_time_us; /* disable() only */
	struct fp_tcpstat_counters ctr;
	uint64_t logged;          /* lines written (records with FP_TCPSTAT_LOG) */
	uint64_t write_errors;    /* lines a failed write lost */
	uint64_t bytes;           /* bytes written, header and footer included */
	uint32_t connections;     /* connections tracked now */
	uint32_t flows;           /* flow_list entries */
	uint32_t flows_dropped;   /* flows the full flow_list could not keep */
	uint32_t files;           /* log files opened since enable */
};

/* Begin logging: open (create, append) the log, write the header, start the
 * writer, give every worker an empty table. EALREADY when enabled. */
int fp_siftr_enable(const struct fp_siftr_params *p, struct fp_err *err);

/* While enabled: a new logfile (NULL: keep; opened first, so a failure
 * changes nothing, then swapped in as the seed's logfile handler does, no
 * header in the new file), and the seed's live sysctls ppl / port_filter
 * (NULL: keep). */
int fp_siftr_configure(const char *logfile, const uint32_t *ppl,
		       const uint16_t *port_filter, struct fp_err *err);

/* End logging: workers detached, the rings drained, the footer written and
 * the log closed. The summary goes to *out; *flows (malloc'ed, caller
 * frees) gets the flow_list, *nflows its length. EINVAL when disabled. */
int fp_siftr_disable(struct fp_siftr_status *out, struct fp_siftr_flow **flows,
		     uint32_t *nflows, struct fp_err *err);

void fp_siftr_get_status(struct fp_siftr_status *out);

#endif

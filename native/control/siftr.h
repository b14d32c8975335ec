/*
 * siftr.h — SIFTR 1.3 log text for forwarded TCP: the enable header, one
 * line per struct fp_tcpstat_record, the disable footer with the counters
 * and the flow_list, in exactly the seed's formats (FreeBSD
 * sys/netinet/siftr.c, shared/seeds/freebsd-siftr.c.txt).
 *
 *  - Header (siftr_manage_ops, SIFTR_ENABLE):
 *    enable_time_secs=S\tenable_time_usecs=UUUUUU\tsiftrver=1.3.0\t
 *    sysname=fastpath\tsysver=V\tipmode=6\n — siftrver is the seed's
 *    MODVERSION_STR; sysname is fastpath instead of FreeBSD; sysver is the
 *    caller's version string where the seed writes __FreeBSD_version;
 *    ipmode is 6 (SIFTR_IPV6: addresses are IPv6).
 *  - Record (siftr_process_pkt), 27 comma-separated fields:
 *    direction, time (S.UUUUUU), laddr, lport, faddr, fport, snd_ssthresh,
 *    snd_cwnd, t_flags2, snd_wnd, rcv_wnd, snd_scale, rcv_scale,
 *    conn_state, max_seg_size, srtt, sack_enabled, flags, rto,
 *    snd_buf_hiwater, snd_buf_cc, rcv_buf_hiwater, rcv_buf_cc,
 *    sent_inflight_bytes, t_segqlen, flowid, flowtype.
 *    What fastpath writes in each (see tcpstat.h for how it is inferred):
 *      direction, laddr/lport, faddr/fport: local = connection initiator
 *        by default ('o' initiator -> responder, 'i' back);
 *      snd_ssthresh, snd_cwnd, rto, snd_buf_hiwater, snd_buf_cc,
 *        rcv_buf_hiwater, rcv_buf_cc, t_segqlen: 0 (hosts' internal state,
 *        not visible on the wire);
 *      t_flags2: TF2_ECN_PERMIT when the handshake negotiated ECN;
 *      snd_wnd / rcv_wnd: the remote's / local's last advertised window,
 *        scaled; snd_scale / rcv_scale: the remote's / local's shift once
 *        both offered scaling, else 0;
 *      conn_state: the local endpoint's state (FreeBSD t_state numbers);
 *      max_seg_size: the smaller MSS offer (1220 for a missing option);
 *      srtt: microseconds, as the seed's (t_srtt * tick) >> TCP_RTT_SHIFT:
 *        the sum of the two smoothed legs router<->endpoint, i.e. the
 *        end-to-end RTT seen by the endpoints;
 *      sack_enabled: both offered SACK-permitted;
 *      flags: t_flags bits TF_SENTSYN, TF_SENTFIN, TF_REQ_SCALE,
 *        TF_RCVD_SCALE, TF_REQ_TSTMP, TF_RCVD_TSTMP, TF_SACK_PERMIT;
 *      sent_inflight_bytes: local's highest sequence sent minus the
 *        highest cumulative ACK from the remote (snd_max - snd_una);
 *      flowid: hash of the 4-tuple, same both ways, never 0;
 *      flowtype: M_HASHTYPE_OPAQUE_HASH (191).
 *  - Footer (siftr_manage_ops, SIFTR_DISABLE): disable_time_secs,
 *    disable_time_usecs, num_inbound_tcp_pkts, num_outbound_tcp_pkts,
 *    total_tcp_pkts, num_{in,out}bound_skipped_pkts_malloc (table full or
 *    ring full), ..._tcpcb (segments after a RST), ..._inpcb (connections
 *    whose SYN was not seen), total_skipped_tcp_pkts, then
 *    flow_list=laddr;lport-faddr;fport, for every flow, each ending in ','
 *    as the seed prints them, and '\n'.
 *
 * Thread rules: runs on the SIFTR writer thread (the seed's
 * siftr_pkt_manager_thread, which formats lines outside the packet path and
 * may sleep); records reach it through a ring from the worker lcores. The
 * flow list (struct fp_siftr_flowlist) is that thread's alone, as the seed's
 * counter_hash is walked and freed only by siftr_manage_ops. No DPDK, no
 * Node; nothing here allocates or locks: buffers are the caller's.
 */
#ifndef FP_SIFTR_H
#define FP_SIFTR_H

#include <stddef.h>
#include <stdint.h>

#include "../datapath/tcpstat.h"

#define FP_SIFTR_VERSION "1.3.0" /* MODVERSION_STR */
#define FP_SIFTR_SYSNAME "fastpath"
#define FP_SIFTR_IPMODE 6
/* Longest record line: two full IPv6 texts and 21 10-digit fields fit. */
#define FP_SIFTR_LINE_MAX 400
/* IPv6 text, NUL included (INET6_ADDRSTRLEN). */
#define FP_SIFTR_ADDRSTRLEN 46

/* One flow of the footer's flow_list. */
struct fp_siftr_flow {
	uint8_t laddr[16];
	uint8_t faddr[16];
	uint16_t lport;
	uint16_t fport;
};

/* The footer's counters: the seed's siftr_stats summed over CPUs (here over
 * lcores, fp_siftr_footer_add). */
struct fp_siftr_footer {
	uint64_t disable_time_us;
	uint64_t n_in;
	uint64_t n_out;
	uint64_t nskip_in_malloc;
	uint64_t nskip_out_malloc;
	uint64_t nskip_in_tcpcb;
	uint64_t nskip_out_tcpcb;
	uint64_t nskip_in_inpcb;
	uint64_t nskip_out_inpcb;
};

/* The writer's set of flows seen since enable, for the footer: flows in
 * first-seen order plus an open-addressing index. */
struct fp_siftr_flowlist {
	struct fp_siftr_flow *flows; /* capacity slots, count used */
	uint32_t *index;             /* nslots entries: flow index + 1, 0 free */
	uint32_t capacity;
	uint32_t nslots;             /* power of two, >= 2 * capacity */
	uint32_t count;
	uint32_t dropped;            /* flows not kept: list full */
};

/* Write a as RFC 5952 text (lowercase, longest zero run as "::", IPv4-mapped
 * as ::ffff:a.b.c.d) into out (FP_SIFTR_ADDRSTRLEN bytes). Returns length. */
size_t fp_siftr_format_addr(const uint8_t a[16], char *out);

/* The enable line. Returns the length it needs (snprintf rules: buf holds
 * at most len - 1 of it, NUL-terminated), or -1 when sysver is NULL or
 * holds a tab, newline or comma. */
int fp_siftr_format_header(char *buf, size_t len, uint64_t enable_time_us,
			   const char *sysver);

/* One record line, '\n' included. Returns the length it needs (snprintf
 * rules); FP_SIFTR_LINE_MAX is always enough. */
int fp_siftr_format_record(const struct fp_tcpstat_record *rec, char *buf,
			   size_t len);

/* The disable line with its flow_list. Returns the length it needs
 * (snprintf rules), so a caller can size the buffer and call again. */
size_t fp_siftr_format_footer(char *buf, size_t len,
			      const struct fp_siftr_footer *f,
			      const struct fp_siftr_flow *flows, size_t nflows);

/* Add one lcore's counters into a footer. */
void fp_siftr_footer_add(struct fp_siftr_footer *f,
			 const struct fp_tcpstat_counters *c);

/* Bytes a flow list of capacity flows needs. */
size_t fp_siftr_flowlist_memsize(uint32_t capacity);

/* Lay out an empty flow list in memory of fp_siftr_flowlist_memsize()
 * bytes (8-byte aligned). Returns -1 when capacity is 0 or too large. */
int fp_siftr_flowlist_init(struct fp_siftr_flowlist *fl, void *mem,
			   uint32_t capacity);

/* Note the flow of a record (FP_TCPSTAT_NEW_FLOW). Returns 1 when added,
 * 0 when already listed, -1 when the list is full (counted in dropped). */
int fp_siftr_flowlist_add(struct fp_siftr_flowlist *fl,
			  const struct fp_tcpstat_record *rec);

/* Forget every flow (after the footer is written). */
void fp_siftr_flowlist_clear(struct fp_siftr_flowlist *fl);

#endif

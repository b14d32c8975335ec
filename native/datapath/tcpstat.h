/*
 * tcpstat.h — per-lcore TCP connection table for SIFTR on forwarded traffic:
 * what a router can infer about a TCP connection from the segments it
 * forwards in both directions, reduced to one fixed-size record per logged
 * segment (struct fp_tcpstat_record) for the SIFTR writer thread.
 *
 * Semantics follow FreeBSD's sys/netinet/siftr.c (seed:
 * shared/seeds/freebsd-siftr.c.txt); each rule names the seed function it
 * comes from:
 *
 *  - port_filter (sysctl net.inet.siftr.port_filter, siftr_chkpkt6): when
 *    nonzero, only segments whose source or destination port equals it are
 *    looked at; the others are not counted at all (not in n_in / n_out).
 *  - Counting (siftr_chkpkt6, struct siftr_stats): every segment that passes
 *    the port filter counts in n_in or n_out, including the ones skipped
 *    afterwards. Skip reasons keep the seed's names (see "Skip reasons").
 *  - ppl (sysctl net.inet.siftr.ppl, siftr_process_pkt): each connection has
 *    a `counter`; with ppl > 1 it becomes (counter + 1) % ppl on every
 *    tracked segment and a record is made only when it comes back to 0, i.e.
 *    the ppl-th, 2*ppl-th... segment of the connection. ppl <= 1 logs every
 *    segment.
 *  - One entry per connection (struct flow_hash_node, siftr_find_flow): the
 *    key is the 4-tuple normalised so that A->B and B->A meet in ONE entry;
 *    `flowid` is a hash of it, the same for both directions (the seed's
 *    siftr_get_flowid computes fib6_calc_packet_hash of the 4-tuple when the
 *    NIC gave none), and flowtype is M_HASHTYPE_OPAQUE_HASH as that gives.
 *
 * Direction (the seed logs from the host's side: 'o' leaves the host, 'i'
 * arrives): a router is no endpoint, so each connection gets a "local"
 * endpoint, by default the INITIATOR (the side that sent the SYN):
 * 'o' = segment travelling initiator -> responder, 'i' = responder ->
 * initiator; laddr/lport are the initiator's, faddr/fport the responder's,
 * and every tcpcb-like field is the initiator's as the router infers it
 * (snd_wnd = what the responder advertises, rcv_wnd = what the initiator
 * advertises, sent_inflight_bytes = initiator's bytes not yet acknowledged).
 * With config.local_is_responder the roles swap (useful for downloads, where
 * the responder sends the data). For a segment of no known connection the
 * sender is taken to be the initiator unless it carries SYN+ACK.
 *
 * What is inferred (per endpoint, from the segments it sends and receives):
 *  - from the handshake: MSS, window scale, SACK-permitted, timestamps,
 *    ECN setup (SYN with ECE+CWR answered by SYN/ACK with ECE only);
 *  - windows: the last advertised window, scaled by the sender's shift once
 *    both sides offered window scaling (never on SYN segments, RFC 7323);
 *  - bytes in flight: highest sequence sent (SYN and FIN count one) minus
 *    the highest cumulative ACK the other side sent;
 *  - retransmissions: a segment carrying data, SYN or FIN that starts below
 *    the highest sequence already sent by its sender;
 *  - RTT, per leg: a sample for the leg router -> X -> router is taken when
 *    X answers something the router forwarded to it: SYN -> SYN/ACK and
 *    SYN/ACK -> ACK (Karn: not after a retransmitted SYN), then TSval echoed
 *    as TSecr in an ACK that advances (when both sides use timestamps), else
 *    new data -> the ACK covering it (Karn: not after a retransmission).
 *    Each leg is smoothed as RFC 6298 does (srtt += (sample - srtt) / 8);
 *    the connection's srtt is the sum of both legs (end-to-end RTT);
 *  - state: each endpoint's TCP state (FreeBSD t_state numbers, tcp_fsm.h)
 *    as it will be once the segment has reached its destination: SYN_SENT,
 *    SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1/2, CLOSING, TIME_WAIT,
 *    CLOSE_WAIT, LAST_ACK, and CLOSED for both after a RST.
 * Not observable from the middle (written as 0 by the formatter): ssthresh,
 * cwnd, rto, socket buffer sizes and fill, t_segqlen.
 *
 * Skip reasons, mapped onto the seed's counters (struct siftr_stats):
 *  - nskip_*_malloc: no memory for the record's state — the table is full
 *    and holds no expired entry (seed: siftr_new_hash_node's malloc fails),
 *    or the caller's ring to the writer thread was full
 *    (fp_tcpstat_note_ring_full; seed: the pkt_node malloc fails).
 *  - nskip_*_inpcb: no connection state — a segment of a connection whose
 *    SYN the router did not see (seed: siftr_findinpcb finds no inpcb).
 *    config.pickup_midstream tracks such connections instead.
 *  - nskip_*_tcpcb: the connection is gone — a segment after a RST
 *    (seed: no tcpcb). Unlike the seed, handshake segments (state below
 *    ESTABLISHED) are logged, not skipped: the router has its own state.
 * Where fastpath differs from the seed: ppl is applied on the worker before
 * the record is queued (seed: on the writer thread), so a ring-full drop
 * loses a record that would have been logged; entries expire (the seed keeps
 * every flow until disable), so the writer keeps the flow_list itself from
 * records flagged FP_TCPSTAT_NEW_FLOW (see siftr.h).
 *
 * Thread rules: a table is owned by one worker lcore, which alone calls
 * these functions (the seed's siftr_chkpkt6 runs in the pfil hook, cannot
 * sleep and uses per-CPU DPCPU stats; here nothing is shared, so nothing is
 * locked). Nothing here allocates after fp_tcpstat_init (the caller gives
 * the memory, fp_tcpstat_memsize; the seed mallocs M_NOWAIT per packet and
 * per flow), makes a syscall or reads a clock: time is the caller's now_us
 * (microseconds, CLOCK_REALTIME-based, e.g. a TSC reading converted with an
 * offset taken at enable time; the seed calls microtime() per packet).
 * Other threads change the configuration or flush through the owner's
 * command ring. No DPDK, no Node: the logic is unit-tested on its own.
 */
#ifndef FP_TCPSTAT_H
#define FP_TCPSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FP_TCPSTAT_MAX_ENTRIES (1u << 22)
#define FP_TCPSTAT_NONE UINT32_MAX
/* Entries the insert path looks at, from the least recently used one, for
 * an expired entry to reuse when the table is full. */
#define FP_TCPSTAT_REUSE_PROBE 4
/* MSS assumed for a side whose SYN had no MSS option (FreeBSD
 * V_tcp_v6mssdflt). */
#define FP_TCPSTAT_DEFAULT_MSS6 1220
/* Largest window shift (TCP_MAX_WINSHIFT, RFC 7323). */
#define FP_TCP_MAX_WINSHIFT 14

/* TCP header flags (th_flags). */
#define FP_TH_FIN 0x01
#define FP_TH_SYN 0x02
#define FP_TH_RST 0x04
#define FP_TH_PUSH 0x08
#define FP_TH_ACK 0x10
#define FP_TH_URG 0x20
#define FP_TH_ECE 0x40
#define FP_TH_CWR 0x80

/* TCP option kinds and lengths (RFC 9293, 2018, 7323). */
#define FP_TCPOPT_EOL 0
#define FP_TCPOPT_NOP 1
#define FP_TCPOPT_MAXSEG 2
#define FP_TCPOPT_WINDOW 3
#define FP_TCPOPT_SACK_PERMITTED 4
#define FP_TCPOPT_SACK 5
#define FP_TCPOPT_TIMESTAMP 8
#define FP_TCPOLEN_MAXSEG 4
#define FP_TCPOLEN_WINDOW 3
#define FP_TCPOLEN_SACK_PERMITTED 2
#define FP_TCPOLEN_TIMESTAMP 10

/* What fp_tcp_options_parse found (struct fp_tcp_opts.present). */
#define FP_TCPO_MSS 0x01
#define FP_TCPO_WSCALE 0x02
#define FP_TCPO_SACKOK 0x04
#define FP_TCPO_TS 0x08
#define FP_TCPO_SACK 0x10 /* SACK blocks present */
#define FP_TCPO_BAD 0x80  /* malformed: truncated, bad length, overrun */

/* TCP states, numbered as FreeBSD's t_state (netinet/tcp_fsm.h). */
enum fp_tcp_state {
	FP_TCPS_CLOSED = 0,
	FP_TCPS_LISTEN = 1,
	FP_TCPS_SYN_SENT = 2,
	FP_TCPS_SYN_RECEIVED = 3,
	FP_TCPS_ESTABLISHED = 4,
	FP_TCPS_CLOSE_WAIT = 5,
	FP_TCPS_FIN_WAIT_1 = 6,
	FP_TCPS_CLOSING = 7,
	FP_TCPS_LAST_ACK = 8,
	FP_TCPS_FIN_WAIT_2 = 9,
	FP_TCPS_TIME_WAIT = 10,
};

/* tcpcb t_flags / t_flags2 bits the router can infer (netinet/tcp_var.h). */
#define FP_TF_SENTFIN 0x00000010u    /* local sent a FIN */
#define FP_TF_REQ_SCALE 0x00000020u  /* local offered window scaling */
#define FP_TF_RCVD_SCALE 0x00000040u /* remote offered window scaling */
#define FP_TF_REQ_TSTMP 0x00000080u  /* local offered timestamps */
#define FP_TF_RCVD_TSTMP 0x00000100u /* remote offered timestamps */
#define FP_TF_SACK_PERMIT 0x00000200u /* both offered SACK */
#define FP_TF_SENTSYN 0x08000000u    /* local sent a SYN */
/* TF_FASTRECOVERY ("in NewReno Fast Recovery"): fastpath sets it on the
 * line of a segment it saw retransmitted, either direction — the SIFTR 1.3
 * line has no retransmission field and this is its nearest meaning. */
#define FP_TF_FASTRECOVERY 0x00100000u
#define FP_TF2_ECN_PERMIT 0x00000020u /* ECN negotiated */
/* flowtype: M_HASHTYPE_OPAQUE_HASH (M_HASHTYPE_HASHPROP | 63), what the
 * seed's fib6_calc_packet_hash reports for a software 4-tuple hash. */
#define FP_TCPSTAT_FLOWTYPE 0xbfu

/* Options of one segment. */
struct fp_tcp_opts {
	uint8_t present; /* FP_TCPO_* */
	uint8_t wscale;  /* shift as sent (not clamped) */
	uint16_t mss;
	uint32_t tsval;
	uint32_t tsecr;
};

/* One forwarded TCP segment, already parsed. Ports, sequence numbers and the
 * window are in host byte order; addresses as on the wire. */
struct fp_tcp_segment {
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint16_t window; /* as on the wire, unscaled */
	uint8_t flags;   /* FP_TH_* */
	uint8_t pad;
	uint32_t payload_len;
	struct fp_tcp_opts opts;
};

/* Direction of a record, as the seed's pkt_node enum ('i', 'o'). */
enum fp_tcpstat_dir {
	FP_TCPSTAT_DIR_IN = 0,
	FP_TCPSTAT_DIR_OUT = 1,
};

/* What fp_tcpstat_update asks of the caller (struct fp_tcpstat_record.what). */
#define FP_TCPSTAT_LOG 0x01      /* write this record as a log line */
#define FP_TCPSTAT_NEW_FLOW 0x02 /* first segment of a connection: add it
				  * to the flow_list */

/*
 * One segment as the writer needs it: everything the SIFTR line carries
 * that the router can know, plain integers, fixed size (it travels through
 * a ring). Fields the router cannot observe are not here; the formatter
 * writes 0 for them.
 */
struct fp_tcpstat_record {
	uint64_t time_us;      /* the caller's now_us */
	uint8_t laddr[16];     /* local endpoint (initiator by default) */
	uint8_t faddr[16];     /* foreign endpoint */
	uint16_t lport;
	uint16_t fport;
	uint8_t direction;     /* enum fp_tcpstat_dir */
	uint8_t what;          /* FP_TCPSTAT_LOG | FP_TCPSTAT_NEW_FLOW */
	uint8_t snd_scale;     /* remote's shift, 0 unless both scale */
	uint8_t rcv_scale;     /* local's shift, 0 unless both scale */
	uint8_t conn_state;    /* local's enum fp_tcp_state */
	uint8_t sack_enabled;  /* both offered SACK-permitted */
	uint8_t seg_flags;     /* FP_TH_* of this segment */
	uint8_t seg_rexmit;    /* this segment starts below its sender's
				* highest sequence: a retransmission */
	uint32_t t_flags2;     /* FP_TF2_* */
	uint32_t snd_wnd;      /* remote's last advertised window, scaled */
	uint32_t rcv_wnd;      /* local's last advertised window, scaled */
	uint32_t max_seg_size; /* min of the MSS offers */
	uint32_t srtt;         /* us: sum of both legs' smoothed RTT */
	uint32_t flags;        /* FP_TF_* */
	uint32_t sent_inflight_bytes;
	uint32_t flowid;
	uint32_t flowtype;
	/* Beyond the SIFTR line: for stats and tests. */
	uint32_t rtt_local_us;  /* smoothed RTT router -> local -> router */
	uint32_t rtt_remote_us; /* smoothed RTT router -> remote -> router */
	uint32_t rexmit_local;  /* retransmitted segments sent by local */
	uint32_t rexmit_remote; /* ... by remote */
	uint32_t payload_len;
};

/* Counters of one table (the seed's struct siftr_stats, per lcore; the
 * caller sums them over lcores for the footer). */
struct fp_tcpstat_counters {
	uint64_t n_in;  /* segments towards local, after the port filter */
	uint64_t n_out; /* segments from local, after the port filter */
	uint64_t nskip_in_malloc, nskip_out_malloc; /* table or ring full */
	uint64_t nskip_in_inpcb, nskip_out_inpcb;   /* no connection (no SYN seen) */
	uint64_t nskip_in_tcpcb, nskip_out_tcpcb;   /* connection reset */
	/* Beyond the seed. */
	uint64_t table_full;  /* part of nskip_*_malloc */
	uint64_t ring_full;   /* part of nskip_*_malloc */
	uint64_t filtered;    /* not matching port_filter (not in n_in/out) */
	uint64_t bad_options; /* segments with malformed TCP options */
	uint64_t created;     /* connections entered */
	uint64_t reused;      /* expired entries reused by insert */
	uint64_t expired;     /* entries removed by fp_tcpstat_expire */
	uint64_t records;     /* records returned with FP_TCPSTAT_LOG */
	uint64_t rexmits;     /* retransmitted segments seen */
	uint64_t rtt_samples; /* RTT samples taken */
};

/* Settings; the seed's sysctls plus what a table needs. */
struct fp_tcpstat_config {
	uint32_t ppl;             /* net.inet.siftr.ppl; 0 and 1 log all */
	uint16_t port_filter;     /* net.inet.siftr.port_filter; 0 = all */
	bool local_is_responder;  /* "local" = responder instead of initiator */
	bool pickup_midstream;    /* track connections whose SYN was not seen */
	uint64_t idle_us;         /* entry expires after this long unused */
	uint64_t close_grace_us;  /* ... or this long after close / RST */
};

/* What the router knows about one endpoint of a connection. */
struct fp_tcpstat_endpoint {
	uint8_t addr[16];
	uint16_t port;
	uint8_t state;    /* enum fp_tcp_state */
	uint8_t synopts;  /* FP_TCPO_* it offered in its SYN */
	uint16_t mss;     /* MSS it offered, 0 = none */
	uint8_t wscale;   /* shift it offered, clamped to 14 */
	uint8_t pad;
	uint16_t flags;   /* EP_* (tcpstat.c) */
	uint16_t pad2;
	uint32_t isn;     /* sequence number of its SYN */
	uint32_t snd_max; /* highest sequence it sent, plus one */
	uint32_t ack_max; /* highest cumulative ACK it sent */
	uint32_t fin_seq; /* sequence number of its FIN */
	uint32_t wnd;     /* window it last advertised, scaled */
	uint32_t ts_val;  /* TSval being timed */
	uint32_t ts_last; /* newest TSval timed so far */
	uint32_t rtt_seq; /* end of the data segment being timed */
	uint32_t srtt_us; /* smoothed RTT of the leg router -> it -> router */
	uint32_t rexmits; /* retransmitted segments it sent */
	uint64_t syn_time; /* when its (first) SYN passed */
	uint64_t ts_start; /* when ts_val first passed */
	uint64_t seq_start; /* when the segment ending at rtt_seq passed */
};

/* One connection: both directions. */
struct fp_tcpstat_entry {
	struct fp_tcpstat_endpoint ep[2]; /* [0] initiator, [1] responder */
	uint64_t last_seen;   /* now_us of its last segment */
	uint64_t closed_at;   /* now_us when both sides closed, or RST */
	uint32_t hash;        /* of the normalised 4-tuple; flowid */
	uint32_t hash_next;   /* bucket chain, or free list */
	uint32_t lru_prev;    /* towards more recently used */
	uint32_t lru_next;    /* towards less recently used */
	uint32_t counter;     /* ppl counter (flow_hash_node.counter) */
	uint8_t in_use;
	uint8_t flags;        /* CONN_* (tcpstat.c) */
	uint16_t pad;
} __attribute__((aligned(64))); /* 256 bytes: exactly four cache lines */

/* A table: header, buckets, entries, in one block of caller memory. */
struct fp_tcpstat {
	struct fp_tcpstat_config cfg;
	struct fp_tcpstat_counters ctr;
	uint32_t capacity;
	uint32_t hashsize; /* power of two */
	uint32_t inuse;
	uint32_t free_head;
	uint32_t lru_head; /* most recently used */
	uint32_t lru_tail; /* least recently used */
	uint32_t scan_cursor;
	uint32_t pad;
	uint32_t *buckets;
	struct fp_tcpstat_entry *entries;
};

/* Parse TCP options from the bytes after the 20-byte fixed header (len =
 * data offset * 4 - 20). Never reads outside [opt, opt + len). Returns 0, or
 * -1 when malformed (FP_TCPO_BAD set; what came before the fault is kept). */
int fp_tcp_options_parse(const uint8_t *opt, size_t len,
			 struct fp_tcp_opts *out);

/* Fill seg's TCP fields (not the addresses) from a raw TCP header: th holds
 * avail readable bytes, tcp_len is the whole segment's length (header +
 * payload, from the IPv6 payload length). Returns -1 when the header does
 * not fit (short, bad data offset); malformed options only set FP_TCPO_BAD. */
int fp_tcp_header_parse(const uint8_t *th, size_t avail, uint32_t tcp_len,
			struct fp_tcp_segment *seg);

/* Bytes of memory a table of capacity entries needs; 0 when capacity is 0
 * or above FP_TCPSTAT_MAX_ENTRIES. */
size_t fp_tcpstat_memsize(uint32_t capacity);

/* Lay out a table in memory of fp_tcpstat_memsize(capacity) bytes, at least
 * 8-byte aligned (rte_zmalloc_socket on the lcore's socket in the router).
 * Returns NULL when capacity is 0 or above FP_TCPSTAT_MAX_ENTRIES. */
struct fp_tcpstat *fp_tcpstat_init(void *mem, uint32_t capacity,
				   const struct fp_tcpstat_config *cfg);

/* Change the settings (the seed's sysctls take effect on the next packet). */
void fp_tcpstat_set_config(struct fp_tcpstat *t,
			   const struct fp_tcpstat_config *cfg);

/* Account one forwarded segment; when it should reach the writer, fill rec
 * and return rec->what (FP_TCPSTAT_LOG and/or FP_TCPSTAT_NEW_FLOW), else
 * return 0 and leave rec alone. */
uint32_t fp_tcpstat_update(struct fp_tcpstat *t,
			   const struct fp_tcp_segment *seg, uint64_t now_us,
			   struct fp_tcpstat_record *rec);

/* The same with the segment's hash already computed (fp_tcpstat_hash), so a
 * caller can prefetch the bucket and the entry first (fp_tcpstat_bucket,
 * fp_tcpstat_first), as the worker does for a vector. */
uint32_t fp_tcpstat_hash(const struct fp_tcp_segment *seg);
uint32_t fp_tcpstat_update_hashed(struct fp_tcpstat *t,
				  const struct fp_tcp_segment *seg, uint32_t hash,
				  uint64_t now_us, struct fp_tcpstat_record *rec);

static inline const uint32_t *
fp_tcpstat_bucket(const struct fp_tcpstat *t, uint32_t hash)
{
	return &t->buckets[hash & (t->hashsize - 1)];
}

/* The first entry of hash's bucket chain (usually the one), or NULL. */
static inline const struct fp_tcpstat_entry *
fp_tcpstat_first(const struct fp_tcpstat *t, uint32_t hash)
{
	uint32_t i = *fp_tcpstat_bucket(t, hash);

	return i == FP_TCPSTAT_NONE ? NULL : &t->entries[i];
}

/* Count a record the caller could not queue to the writer (ring full), as
 * the seed counts a failed pkt_node malloc. */
void fp_tcpstat_note_ring_full(struct fp_tcpstat *t,
			       const struct fp_tcpstat_record *rec);

/* Remove entries closed for close_grace_us or unused for idle_us, visiting
 * at most max_visit slots from a rotating cursor. Returns how many. */
uint32_t fp_tcpstat_expire(struct fp_tcpstat *t, uint64_t now_us,
			   uint32_t max_visit);

/* Remove every entry and zero the counters (SIFTR enable, as the seed's
 * DPCPU_ZERO and counter_hash reset). */
void fp_tcpstat_flush(struct fp_tcpstat *t);

/* The entry of a connection, either direction, or NULL (for tests and
 * snapshots; the owner lcore only). */
struct fp_tcpstat_entry *fp_tcpstat_lookup(struct fp_tcpstat *t,
					   const uint8_t a[16], uint16_t aport,
					   const uint8_t b[16], uint16_t bport);

#endif

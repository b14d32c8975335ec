/*
 * reasm.h — IPv6 fragment reassembly for packets addressed to the router,
 * and fragmentation of the datagrams the router sends. Plain C11 on byte
 * buffers: no DPDK, no Node, no clock, no malloc.
 *
 * Caller: the control thread only (it copies fragments out of mbufs, calls
 * fp_reasm_input, builds the ICMPv6 errors asked for, and runs
 * fp_reasm_expire at fp_reasm_next_deadline). Worker lcores never touch it.
 * It takes no locks of its own: one struct fp_reasm belongs to one thread.
 *
 * Where each behaviour comes from:
 *  - RFC 8200 §4.5 (reassembly). A datagram is identified by (source,
 *    destination, Identification). The Unfragmentable Part (IPv6 header and
 *    the Hop-by-Hop, Destination Options and Routing headers before the
 *    Fragment header) of the reassembled packet is the offset-0 fragment's;
 *    the Next Header that named the Fragment header takes the value of the
 *    offset-0 fragment's Fragment header; its Payload Length is computed from
 *    that part and the end of the last fragment (M = 0). Offsets are in
 *    8-octet units. A fragment with M = 1 whose length is not a multiple of
 *    8 is discarded with ICMPv6 Parameter Problem code 0 pointing at the
 *    Payload Length field (4). A fragment that would make the reassembled
 *    Payload Length exceed 65535 is discarded with Parameter Problem code 0
 *    pointing at its Fragment Offset field. Reassembly is abandoned 60 s
 *    after the first-arriving fragment; a Time Exceeded code 1 quoting the
 *    offset-0 fragment is owed only if that fragment arrived. A first
 *    fragment that does not hold the whole header chain through the
 *    upper-layer header is discarded with Parameter Problem code 3, pointer
 *    0 (also RFC 7112 §5; see RFC 7112 below). Every node accepts
 *    reassembled packets of at least 1500 octets, so max_payload is never
 *    below 1460.
 *  - RFC 5722 (overlaps). A fragment that overlaps another of the same
 *    datagram discards the whole datagram silently, including the fragments
 *    not yet received: the queue becomes a tombstone that holds no bytes,
 *    only the key, until the datagram's 60 s deadline; fragments that match
 *    it are dropped (FP_REASM_DROP_DEAD) and it owes no Time Exceeded. An
 *    exact duplicate is an overlap too (RFC 8200 §4.5 allows dropping only
 *    the duplicate; fastpath takes RFC 5722's stricter reading and counts
 *    it under its own reason, FP_REASM_DROP_DUPLICATE).
 *  - RFC 6946 (atomic fragments). Offset 0 with M = 0 is processed at once:
 *    the Fragment header is removed and the packet returned, whatever
 *    queue holds the same key (it is never looked up nor changed).
 *  - RFC 7112 (header chain). fastpath is the destination here, so it does
 *    what RFC 7112 §5 says a host SHOULD: a first fragment (offset 0, M = 1)
 *    whose header chain runs past its end, or that lacks the first 20 bytes
 *    of TCP, 8 of UDP or 8 of ICMPv6 (Linux's ipv6frag_thdr_truncated), is
 *    discarded with Parameter Problem code 3, pointer 0. Atomic fragments
 *    are not checked (they are whole packets; the upper layer judges them).
 *  - RFC 3168 §5.3 (ECN and fragmentation, as Linux's ip_frag_ecn_table):
 *    a datagram whose fragments mix Not-ECT with ECT or CE is discarded;
 *    if any fragment carries CE, the reassembled packet does.
 *  - Bounds (fastpath's own rules): at most max_queues reassemblies
 *    (tombstones included), at most max_per_source from one source address,
 *    at most max_frags fragments in one datagram, and a budget of mem_bytes
 *    of fragment data, held in 256-byte chunks. A new datagram when the
 *    table is full evicts the oldest (tombstones first); one from a source
 *    at its limit evicts that source's oldest; a fragment that needs chunks
 *    when none are free evicts the oldest reassemblies holding data. Every
 *    eviction is counted; evicted queues owe no Time Exceeded (the rule is
 *    for the timeout only).
 *  - Fragmentation (fp_frag_split, RFC 8200 §4.5 "fragmentation process"):
 *    the Unfragmentable Part is the IPv6 header plus extension headers up to
 *    and including the last Routing header, else the Hop-by-Hop header,
 *    else none; it is copied into every fragment, the Fragment header
 *    follows it, each fragment but the last carries a multiple of 8 octets,
 *    and no fragment exceeds the MTU. The first fragment must hold the
 *    whole header chain (RFC 7112 §5), else -EMSGSIZE.
 *
 * The ICMPv6 errors asked for are requests: the caller applies RFC 4443
 * §2.4 (e) (none for a multicast destination, or an unspecified, multicast
 * or anycast source) and its rate limit (§2.4 (f)) as for every error.
 *
 * Time is the caller's monotonic now_ms. The key gains the arrival
 * interface when the source or destination is link-local (as Linux's
 * ip6frag key does for scoped addresses: two links may reuse the same
 * link-local addresses and Identification); fp_reasm_input_if takes it.
 * Jumbo Payload (Payload Length 0) is refused, as RFC 2675 forbids it with
 * a Fragment header.
 */
#ifndef FP_REASM_H
#define FP_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 8200 §4.5: 60 seconds from the first-arriving fragment. */
#define FP_REASM_TIMEOUT_MS 60000u
/* Largest Payload Length (16 bits); the default max_payload. */
#define FP_REASM_MAX_PAYLOAD 65535u
/* RFC 8200 §4.5: reassembled packets of 1500 octets (payload 1460) must be
 * accepted; max_payload is never set below this. */
#define FP_REASM_MIN_PAYLOAD 1460u
/* Longest Unfragmentable Part (IPv6 header and the extension headers before
 * the Fragment header) kept for a queued datagram; longer ones are dropped
 * (FP_REASM_DROP_UNFRAG_TOO_LONG). */
#define FP_REASM_MAX_UNFRAG 1024u
/* Bytes of an offending packet an ICMPv6 error can quote: 1280 - 40 - 8
 * (RFC 4443 §2.4 (c)). */
#define FP_REASM_QUOTE_MAX 1232u
/* Granularity of the byte budget. */
#define FP_REASM_CHUNK 256u

/* Defaults of struct fp_reasm_cfg (a field left 0 takes its default). */
#define FP_REASM_DEF_MAX_QUEUES 128u
#define FP_REASM_DEF_MAX_PER_SOURCE 16u
#define FP_REASM_DEF_MAX_FRAGS 64u
#define FP_REASM_DEF_MEM_BYTES (4u << 20) /* Linux's ip6frag_high_thresh */

/* ICMPv6 types and codes asked for (RFC 4443). */
#define FP_REASM_ICMP_TIME_EXCEEDED 3
#define FP_REASM_ICMP_TE_REASSEMBLY 1 /* fragment reassembly time exceeded */
#define FP_REASM_ICMP_PARAM_PROBLEM 4
#define FP_REASM_ICMP_PP_HEADER 0     /* erroneous header field */
#define FP_REASM_ICMP_PP_CHAIN 3      /* first fragment, incomplete chain */

/* Limits, fixed at init. */
struct fp_reasm_cfg {
	uint32_t max_queues;     /* concurrent reassemblies, tombstones too */
	uint32_t max_per_source; /* of those, from one source address */
	uint32_t max_frags;      /* fragments held for one datagram */
	uint32_t mem_bytes;      /* fragment data budget, in 256-byte chunks */
	uint32_t max_payload;    /* largest reassembled Payload Length */
	uint32_t timeout_ms;     /* FP_REASM_TIMEOUT_MS */
	uint32_t hash_seed;      /* key hash seed (choose at random) */
};

/* What fp_reasm_input decided. */
enum fp_reasm_verdict {
	FP_REASM_HELD = 0, /* queued, waiting for the rest */
	FP_REASM_COMPLETE, /* out->pkt holds the whole packet */
	FP_REASM_DROP,     /* discarded; out->reason says why */
	FP_REASM_ICMP,     /* discarded; send the ICMPv6 error in out */
};

/* Why a fragment (or its whole datagram) was discarded; counted. */
enum fp_reasm_drop {
	FP_REASM_DROP_NONE = 0,
	FP_REASM_DROP_TRUNCATED,      /* shorter than a header or Payload Length */
	FP_REASM_DROP_MALFORMED,      /* not version 6, Payload Length 0, HBH misplaced */
	FP_REASM_DROP_NOT_FRAGMENT,   /* no Fragment header before another header */
	FP_REASM_DROP_EMPTY,          /* non-atomic fragment with no data */
	FP_REASM_DROP_BAD_LENGTH,     /* M = 1, length not a multiple of 8 (ICMP) */
	FP_REASM_DROP_TOO_BIG,        /* reassembled Payload Length > 65535 (ICMP) */
	FP_REASM_DROP_CHAIN,          /* first fragment, incomplete chain (ICMP) */
	FP_REASM_DROP_UNFRAG_TOO_LONG,/* Unfragmentable Part > FP_REASM_MAX_UNFRAG */
	FP_REASM_DROP_OVER_LIMIT,     /* > max_payload (datagram discarded) */
	FP_REASM_DROP_OVERLAP,        /* RFC 5722 (datagram discarded) */
	FP_REASM_DROP_DUPLICATE,      /* exact duplicate = overlap (datagram discarded) */
	FP_REASM_DROP_INCONSISTENT,   /* two different ends, data past the end (datagram discarded) */
	FP_REASM_DROP_TOO_MANY_FRAGS, /* > max_frags (datagram discarded) */
	FP_REASM_DROP_DEAD,           /* belongs to a datagram already discarded */
	FP_REASM_DROP_NO_MEMORY,      /* budget short even after evicting (datagram discarded) */
	FP_REASM_DROP_ECN,            /* Not-ECT mixed with ECT/CE (datagram discarded) */
	FP_REASM_DROP_MAX
};

/* Counters; drops[] is indexed by enum fp_reasm_drop. */
struct fp_reasm_counters {
	uint64_t frags_in;       /* every fp_reasm_input call */
	uint64_t atomic;         /* atomic fragments passed through (RFC 6946) */
	uint64_t reassembled;    /* datagrams completed */
	uint64_t timeouts;       /* reassemblies abandoned at the deadline */
	uint64_t time_exceeded;  /* of those, Time Exceeded owed (offset 0 seen) */
	uint64_t evictions;      /* evicted: table full or byte budget */
	uint64_t evictions_source; /* evicted: per-source limit */
	uint64_t discarded;      /* whole datagrams discarded (tombstoned) */
	uint64_t icmp;           /* ICMPv6 errors asked for by fp_reasm_input */
	uint64_t drops[FP_REASM_DROP_MAX];
};

/* Answer of fp_reasm_input. */
struct fp_reasm_result {
	enum fp_reasm_verdict verdict;
	enum fp_reasm_drop reason; /* DROP and ICMP */
	bool atomic;               /* COMPLETE: was an atomic fragment */
	/* COMPLETE: the packet (IPv6 header first, Payload Length fixed, the
	 * Fragment header removed); in the state's buffer, valid until the next
	 * fp_reasm_input call. */
	const uint8_t *pkt;
	size_t len;
	/* ICMP: the error to send to the source of the packet quoted. */
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint32_t icmp_pointer;
	/* ICMP: the packet to quote, which is always the fragment just passed
	 * in (trimmed to its Payload Length); the caller truncates the quote. */
	const uint8_t *quote;
	size_t quote_len;
};

struct fp_reasm_q; /* one reassembly (defined in reasm.c) */

/* Reassembly state. The caller allocates it and the memory block sized by
 * fp_reasm_mem_size(); all sizes are fixed by fp_reasm_init. */
struct fp_reasm {
	struct fp_reasm_cfg cfg;   /* the limits in force (defaults filled) */
	struct fp_reasm_counters ctr;
	struct fp_reasm_q *q;      /* [max_queues] */
	uint32_t *pages;           /* [max_queues][npages]: chunk + 1, 0 none */
	uint32_t *ivs;             /* [max_queues][max_frags][2]: start, end */
	uint32_t *buckets;         /* [nbuckets]: slot + 1, 0 none */
	uint32_t *free_chunks;     /* stack of free chunk numbers */
	uint8_t *chunks;           /* [nchunks][FP_REASM_CHUNK] */
	uint8_t *out;              /* [40 + 65535]: the COMPLETE packet */
	uint32_t npages;           /* page-table entries per queue */
	uint32_t nbuckets;         /* power of two */
	uint32_t nchunks;
	uint32_t nfree;            /* free chunks */
	uint32_t nused;            /* queues in use (tombstones too) */
	uint64_t seq;              /* creation counter: the oldest is smallest */
	uint8_t quote[FP_REASM_QUOTE_MAX]; /* fp_reasm_expire's quotes */
};

/* Bytes of memory fp_reasm_init needs for cfg (NULL: the defaults). */
size_t fp_reasm_mem_size(const struct fp_reasm_cfg *cfg);

/* Set up empty state using mem (8-byte aligned, at least
 * fp_reasm_mem_size(cfg) bytes, owned by the caller until it stops using
 * r). cfg NULL or 0 fields: defaults; values are clamped to sane ranges
 * (r->cfg shows them). Returns 0 or -EINVAL. */
int fp_reasm_init(struct fp_reasm *r, const struct fp_reasm_cfg *cfg,
		  void *mem, size_t mem_len);

/* Take one IPv6 packet (from its IPv6 header; len may include link padding
 * past Payload Length) that carries a Fragment header, at now_ms. Call
 * fp_reasm_expire first when now_ms has reached fp_reasm_next_deadline. */
void fp_reasm_input(struct fp_reasm *r, const uint8_t *ip6_packet, size_t len,
		    uint64_t now_ms, struct fp_reasm_result *out);

/* The same for a packet that arrived on interface ifindex (any number but
 * FP_REASM_NO_IF): link-local datagrams of different interfaces are kept
 * apart. fp_reasm_input is this with FP_REASM_NO_IF. */
#define FP_REASM_NO_IF UINT32_MAX
void fp_reasm_input_if(struct fp_reasm *r, const uint8_t *ip6_packet, size_t len,
		       uint32_t ifindex, uint64_t now_ms,
		       struct fp_reasm_result *out);

/* Called by fp_reasm_expire for each reassembly owing a Time Exceeded
 * (type 3, code 1) to the quote's source: quote is the offset-0 fragment as
 * received, at most FP_REASM_QUOTE_MAX bytes, valid during the call. */
typedef void (*fp_reasm_expired_fn)(void *ctx, const uint8_t *quote,
				    size_t len);

/* Abandon every reassembly whose deadline is <= now_ms: report those owing
 * a Time Exceeded to fn (may be NULL), free the rest silently (tombstones
 * too). Returns how many owed a Time Exceeded. */
unsigned fp_reasm_expire(struct fp_reasm *r, uint64_t now_ms,
			 fp_reasm_expired_fn fn, void *ctx);

/* The earliest deadline held, or UINT64_MAX when nothing is held. */
uint64_t fp_reasm_next_deadline(const struct fp_reasm *r);

/* Forget everything, owing nothing (shutdown, address removed). */
void fp_reasm_flush(struct fp_reasm *r);

/* Reassemblies held now (tombstones included). */
uint32_t fp_reasm_queues(const struct fp_reasm *r);

/* Bytes of the budget in use now (whole chunks). */
size_t fp_reasm_bytes(const struct fp_reasm *r);

/* Counter name of a drop reason ("overlap", ...). */
const char *fp_reasm_drop_name(enum fp_reasm_drop reason);

/* Where fp_frag_split writes fragment number index (from 0), len bytes;
 * NULL stops the split. */
typedef uint8_t *(*fp_frag_buf_fn)(void *ctx, size_t len, unsigned index);

/* Split an IPv6 packet longer than mtu into fragments of at most mtu bytes
 * with Identification ident, each written where get_buf says, in offset
 * order. Returns the number of fragments; 0 when len <= mtu (send it as it
 * is: no atomic fragments, RFC 8021); -EINVAL for a malformed packet (or
 * one already fragmented); -EMSGSIZE when mtu leaves no room for 8 octets
 * of data after the Unfragmentable Part and Fragment header, or the first
 * fragment cannot hold the header chain (RFC 7112); -ENOBUFS when get_buf
 * returned NULL. */
int fp_frag_split(const uint8_t *ip6_packet, size_t len, uint16_t mtu,
		  uint32_t ident, fp_frag_buf_fn get_buf, void *ctx);

#endif

/*
 * flowlabel.h — IPv6 flow-label manager (RFC 6437 / RFC 3697 leases), the
 * control-side logic of IPV6_FLOWLABEL_MGR for the router's own sockets.
 *
 * Semantics follow Linux's net/ipv6/ip6_flowlabel.c (seed:
 * shared/seeds/linux-ip6_flowlabel.c.txt); each rule names the seed function
 * it comes from:
 *
 *  - A label is leased by get (ipv6_flowlabel_opt, IPV6_FL_A_GET): create a
 *    new one (F_CREATE; label 0 picks a free random one, fl_intern), or join
 *    an existing one the caller may share (the fl1 checks after "recheck:").
 *    Every lease is one entry on the socket's list (ipv6_fl_list, fl_link).
 *  - Share modes are compared exactly as the seed does: joining is refused
 *    with -EPERM if the label is EXCL, if the requested share differs from
 *    the label's, if PROCESS and the pid differs, if USER and the uid differs.
 *    ANY is joinable by anyone asking for ANY. NONE is not a valid share for
 *    get (fl_create's switch), only a renew selector (IPV6_FL_A_RENEW).
 *  - The destination must be a real address: :: and ::ffff:0:0/96 give
 *    -EINVAL (fl_create, ipv6_addr_type). It is recorded, never compared.
 *  - Linger and lifetime (expires) are seconds, checked by check_linger:
 *    below FP_FLOWLABEL_MIN_LINGER_S they are raised to it; above
 *    FP_FLOWLABEL_MAX_LINGER_S an unprivileged owner gets -EPERM (nothing is
 *    clamped down); a privileged owner may go beyond. fl6_renew only ever
 *    lengthens linger and pushes the expiry later.
 *  - A label whose last user let go lingers until
 *    max(lastuse + linger, expires) (fl_release, ip6_fl_gc). Meanwhile get
 *    without F_CREATE says -ENOENT (fl_lookup skips users == 0), and get with
 *    F_CREATE revives it for an owner the share rules admit, else -EPERM /
 *    -EEXIST (fl_intern returns the lingering entry and the caller rechecks).
 *    A refused revival counts as a use: it restarts the linger (fl_release
 *    sets lastuse), as in the seed.
 *  - Memory limits (mem_check), only when a new label is created: no check
 *    while fewer than FP_FLOWLABEL_MAX_PER_SOCK labels exist in the table;
 *    then an unprivileged socket is refused -ENOBUFS if it holds
 *    FP_FLOWLABEL_MAX_PER_SOCK leases, or holds any while less than half the
 *    table is free, or if less than a quarter is free; everybody is refused
 *    once the table holds FP_FLOWLABEL_MAX_SIZE labels.
 *  - Sending (udpv6_sendmsg / ip6_datagram_connect via fl6_sock_lookup):
 *    a nonzero label the socket does not hold gives -EINVAL.
 *  - Reflect (IPV6_FL_F_REFLECT) is a per-socket flag, TCP only
 *    (-ENOPROTOOPT), refused with -EPERM while flowlabel_consistency is on.
 *  - flowlabel_state_ranges: when on, get refuses a requested label with the
 *    stateless bit (>= 0x80000) with -ERANGE, as the seed does. Default: ON,
 *    as Linux's sysctl. When on, labels picked for label 0 are also kept
 *    below 0x80000 (a fastpath rule; the seed picks from all 20 bits).
 *
 * Where fastpath differs: one struct fp_flowlabel_mgr per router (Linux: per
 * netns) instead of globals; time is the caller's now_ms on every call, so
 * there is no clock and no timer: fp_flowlabel_gc() is the seed's ip6_fl_gc
 * and returns when it wants to run next (fp_flowlabel_gc_deadline() is the
 * seed's ip6_fl_gc_timer); privilege (capable(CAP_NET_ADMIN)) is uid 0 of the
 * owner passed in; per-label tx options (fl->opt, fl6_merge_options) are not
 * kept. When only labels in use remain, gc asks to run again in
 * FP_FLOWLABEL_MAX_LINGER_S seconds (the seed adds FL_MAX_LINGER jiffies, a
 * unit slip). The send check is always enforced, as in the seed; newer
 * kernels (fl_shared_exclusive, flowlabel_has_excl) enforce it only while an
 * EXCL/PROCESS/USER label exists. getsockopt reports a past expiry as 0 s
 * where the seed wraps it into a u16.
 *
 * Locking and ownership: the manager, every label in it and every
 * struct fp_flowlabel_sock list are written only by the router's control
 * side, serialised by the router's control lock. Worker lcores never call
 * these functions and never read these tables. Nothing here locks, sleeps,
 * reads a clock or touches DPDK or Node.
 */
#ifndef FP_FLOWLABEL_H
#define FP_FLOWLABEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FP_FLOWLABEL_MASK 0x000fffffu           /* IPV6_FLOWLABEL_MASK */
#define FP_FLOWLABEL_STATELESS_FLAG 0x00080000u /* IPV6_FLOWLABEL_STATELESS_FLAG */
#define FP_FLOWLABEL_MIN_LINGER_S 6             /* FL_MIN_LINGER */
#define FP_FLOWLABEL_MAX_LINGER_S 150           /* FL_MAX_LINGER */
#define FP_FLOWLABEL_MAX_PER_SOCK 32            /* FL_MAX_PER_SOCK */
#define FP_FLOWLABEL_MAX_SIZE 4096              /* FL_MAX_SIZE */
#define FP_FLOWLABEL_HASH_SIZE 256              /* FL_HASH_MASK + 1 */
/* Draws before a label-0 create gives up with -ENOBUFS (the seed never
 * gives up; this only guards against a broken caller random function). */
#define FP_FLOWLABEL_MAX_DRAWS 65536

/* Share modes (IPV6_FL_S_*). */
enum fp_flowlabel_share {
	FP_FLOWLABEL_SHARE_NONE = 0,
	FP_FLOWLABEL_SHARE_EXCL = 1,
	FP_FLOWLABEL_SHARE_PROCESS = 2,
	FP_FLOWLABEL_SHARE_USER = 3,
	FP_FLOWLABEL_SHARE_ANY = 255,
};

/* Request flags (IPV6_FL_F_*). */
#define FP_FLOWLABEL_F_CREATE 0x1
#define FP_FLOWLABEL_F_EXCL 0x2
#define FP_FLOWLABEL_F_REFLECT 0x4
#define FP_FLOWLABEL_F_REMOTE 0x8

/* Who asks: the process and user behind the request. uid 0 is privileged. */
struct fp_flowlabel_owner {
	uint32_t pid;
	uint32_t uid;
};

/* A lease request or answer (struct in6_flowlabel_req without the action:
 * each action is its own function). */
struct fp_flowlabel_req {
	uint8_t dst[16];    /* destination; :: or v4-mapped is -EINVAL */
	uint32_t label;     /* 0 with F_CREATE: pick one */
	uint8_t share;      /* enum fp_flowlabel_share */
	uint16_t flags;     /* FP_FLOWLABEL_F_* */
	uint32_t linger_s;  /* kept this long after the last user lets go */
	uint32_t expires_s; /* lifetime from now, at least linger */
};

/* Row of the label listing (/proc/net/ip6_flowlabel, ip6fl_seq_show). */
struct fp_flowlabel_info {
	uint32_t label;
	uint8_t share;
	uint32_t owner_pid;   /* set for PROCESS share, else 0 */
	uint32_t owner_uid;   /* set for USER share, else 0 */
	uint32_t users;       /* leases held on sockets; 0 while lingering */
	uint32_t linger_s;
	int64_t expires_in_s; /* may be negative while still held */
	uint8_t dst[16];
};

struct fp_flowlabel;         /* a label in the table (struct ip6_flowlabel) */
struct fp_flowlabel_sockent; /* one lease on a socket (ipv6_fl_socklist) */

/* Flow-label state of one socket, embedded by the caller in its socket
 * (ipv6_pinfo's ipv6_fl_list, flow_label, rcv_flowinfo, repflow). Written
 * only under the control lock, like the manager. */
struct fp_flowlabel_sock {
	struct fp_flowlabel_sockent *leases; /* newest first */
	uint32_t flow_label;   /* label the socket sends with (connect) */
	uint32_t rcv_flowinfo; /* last received flow info, for F_REMOTE */
	bool is_tcp;           /* reflect is for TCP only */
	bool reflect;          /* repflow: echo the peer's label */
};

/* Random 32 bits for label-0 creates. */
typedef uint32_t (*fp_flowlabel_random_fn)(void *ctx);

/* Manager settings; fp_flowlabel_config_default() gives Linux's defaults. */
struct fp_flowlabel_config {
	bool state_ranges; /* sysctl flowlabel_state_ranges; default on */
	bool consistency;  /* sysctl flowlabel_consistency; default on */
	uint64_t seed;     /* seed of the built-in PRNG (xorshift64*) */
	fp_flowlabel_random_fn random; /* overrides the PRNG when set */
	void *random_ctx;
	void *(*alloc)(size_t size); /* default malloc; tests inject failure */
	void (*release)(void *p);    /* default free */
};

/* One manager per router. Written only by the control side. */
struct fp_flowlabel_mgr {
	struct fp_flowlabel *hash[FP_FLOWLABEL_HASH_SIZE]; /* by label & 255 */
	uint32_t size;       /* labels in the table (fl_size) */
	uint64_t gc_next_ms; /* ip6_fl_gc_timer expiry; 0 = not armed */
	uint64_t prng;       /* xorshift64* state */
	struct fp_flowlabel_config cfg;
};

/* Fill a config with the defaults (state ranges on, consistency on). */
void fp_flowlabel_config_default(struct fp_flowlabel_config *cfg);

/* Set up an empty manager; cfg NULL means the defaults. */
void fp_flowlabel_init(struct fp_flowlabel_mgr *mgr,
		       const struct fp_flowlabel_config *cfg);

/* Free every label. Close every socket (fp_flowlabel_sock_close) first;
 * returns how many labels were still held by some socket (should be 0). */
uint32_t fp_flowlabel_free(struct fp_flowlabel_mgr *mgr);

/* Set up a socket's empty label state. */
void fp_flowlabel_sock_init(struct fp_flowlabel_sock *sk, bool is_tcp);

/* IPV6_FL_A_GET: lease (create or join) a label on a socket. Returns the
 * label (> 0), 0 for a reflect request, or -EINVAL, -ERANGE, -EPERM,
 * -EEXIST, -ENOENT, -ENOMEM, -ENOBUFS, -ENOPROTOOPT. */
int fp_flowlabel_get(struct fp_flowlabel_mgr *mgr, struct fp_flowlabel_sock *sk,
		     const struct fp_flowlabel_owner *owner,
		     const struct fp_flowlabel_req *req, uint64_t now_ms);

/* IPV6_FL_A_PUT: drop one lease of a label (or, with F_REFLECT, the
 * socket's reflect flag). 0, -ESRCH if not held, -ENOPROTOOPT. */
int fp_flowlabel_put(struct fp_flowlabel_mgr *mgr, struct fp_flowlabel_sock *sk,
		     uint32_t label, uint16_t flags, uint64_t now_ms);

/* IPV6_FL_A_RENEW: lengthen linger / lifetime of a label the socket holds,
 * or, for a privileged owner asking with share NONE, of any label in use.
 * 0, -EPERM (too long for an unprivileged owner), -ESRCH, -EINVAL. */
int fp_flowlabel_renew(struct fp_flowlabel_mgr *mgr,
		       struct fp_flowlabel_sock *sk,
		       const struct fp_flowlabel_owner *owner, uint32_t label,
		       uint8_t share, uint32_t linger_s, uint32_t expires_s,
		       uint64_t now_ms);

/* Socket close: drop every lease it holds (fl6_free_socklist). */
void fp_flowlabel_sock_close(struct fp_flowlabel_mgr *mgr,
			     struct fp_flowlabel_sock *sk, uint64_t now_ms);

/* May this socket send with this label? 0 for label 0 or a held label
 * (which counts as a use), -EINVAL otherwise (fl6_sock_lookup at send). */
int fp_flowlabel_send_check(struct fp_flowlabel_mgr *mgr,
			    struct fp_flowlabel_sock *sk, uint32_t label,
			    uint64_t now_ms);

/* Connect: check the label as send does, then make it the socket's
 * sending label. 0 or -EINVAL. */
int fp_flowlabel_sock_set_label(struct fp_flowlabel_mgr *mgr,
				struct fp_flowlabel_sock *sk, uint32_t label,
				uint64_t now_ms);

/* getsockopt(IPV6_FLOWLABEL_MGR) (ipv6_flowlabel_opt_get): with F_REMOTE
 * the peer's label, when reflecting the socket's label, else the lease of
 * the socket's sending label. 0 or -ENOENT. */
int fp_flowlabel_opt_get(const struct fp_flowlabel_mgr *mgr,
			 const struct fp_flowlabel_sock *sk, uint16_t flags,
			 struct fp_flowlabel_req *out, uint64_t now_ms);

/* ip6_fl_gc: free lingering labels whose time is up. Returns when gc
 * should run next (ms), 0 if no run is needed. */
uint64_t fp_flowlabel_gc(struct fp_flowlabel_mgr *mgr, uint64_t now_ms);

/* When gc wants to run (the seed's timer), 0 if not armed. */
uint64_t fp_flowlabel_gc_deadline(const struct fp_flowlabel_mgr *mgr);

/* Labels in the table, lingering ones included. */
uint32_t fp_flowlabel_count(const struct fp_flowlabel_mgr *mgr);

/* Leases a socket holds (what mem_check counts). */
uint32_t fp_flowlabel_sock_count(const struct fp_flowlabel_sock *sk);

/* List labels (hash order, as /proc/net/ip6_flowlabel): fills up to max
 * rows and returns how many labels there are. */
size_t fp_flowlabel_list(const struct fp_flowlabel_mgr *mgr,
			 struct fp_flowlabel_info *out, size_t max,
			 uint64_t now_ms);

#endif /* FP_FLOWLABEL_H */

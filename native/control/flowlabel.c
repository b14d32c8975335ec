/*
 * flowlabel.c — IPv6 flow-label manager; see flowlabel.h for the rules and
 * where each comes from in Linux's ip6_flowlabel.c.
 *
 * Caller: the router's control side only, serialised by the router's control
 * lock; never a worker lcore. No locks, no clock, no DPDK, no Node: time
 * comes in as now_ms, randomness from the manager's PRNG or the caller's
 * function, memory from cfg.alloc / cfg.release.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flowlabel.h"

/* A label in the table (struct ip6_flowlabel). users counts socket leases;
 * at 0 the label lingers until gc frees it. */
struct fp_flowlabel {
	struct fp_flowlabel *next; /* hash chain */
	uint32_t label;
	uint8_t share;
	struct fp_flowlabel_owner owner; /* pid for PROCESS, uid for USER */
	uint32_t users;
	uint64_t linger_ms;
	uint64_t lastuse_ms;
	uint64_t expires_ms;
	uint8_t dst[16];
};

/* One lease of a label by a socket (struct ipv6_fl_socklist). */
struct fp_flowlabel_sockent {
	struct fp_flowlabel_sockent *next;
	struct fp_flowlabel *fl;
};

/* Default allocator: malloc. */
static void *
default_alloc(size_t size)
{
	return malloc(size);
}

/* Default release: free. */
static void
default_release(void *p)
{
	free(p);
}

/* Privilege test, capable(CAP_NET_ADMIN) in the seed: uid 0. */
static bool
owner_privileged(const struct fp_flowlabel_owner *owner)
{
	return owner->uid == 0;
}

/* Hash bucket of a label (FL_HASH). */
static struct fp_flowlabel **
bucket(struct fp_flowlabel_mgr *mgr, uint32_t label)
{
	return &mgr->hash[label & (FP_FLOWLABEL_HASH_SIZE - 1)];
}

/* Find a label in the table, lingering or not (__fl_lookup). */
static struct fp_flowlabel *
table_find(struct fp_flowlabel_mgr *mgr, uint32_t label)
{
	struct fp_flowlabel *fl;

	for (fl = *bucket(mgr, label); fl; fl = fl->next)
		if (fl->label == label)
			return fl;
	return NULL;
}

/* Find a label in use and take a reference (fl_lookup: users 0 is not
 * found). */
static struct fp_flowlabel *
table_hold(struct fp_flowlabel_mgr *mgr, uint32_t label)
{
	struct fp_flowlabel *fl = table_find(mgr, label);

	if (!fl || fl->users == 0)
		return NULL;
	fl->users++;
	return fl;
}

/* Time a label with no users may be freed, folding lastuse + linger into
 * expires (shared by fl_release and ip6_fl_gc). */
static uint64_t
label_deadline(struct fp_flowlabel *fl)
{
	uint64_t ttd = fl->lastuse_ms + fl->linger_ms;

	if (ttd > fl->expires_ms)
		fl->expires_ms = ttd;
	return fl->expires_ms;
}

/* Drop one reference; the last one starts the linger and arms gc
 * (fl_release). */
static void
label_release(struct fp_flowlabel_mgr *mgr, struct fp_flowlabel *fl,
	      uint64_t now_ms)
{
	fl->lastuse_ms = now_ms;
	if (--fl->users == 0) {
		uint64_t ttd = label_deadline(fl);

		if (mgr->gc_next_ms == 0 || mgr->gc_next_ms > ttd)
			mgr->gc_next_ms = ttd;
	}
}

/* Seconds to ms, raised to the minimum; 0 when an unprivileged owner asks
 * for more than the maximum (check_linger). */
static uint64_t
check_linger(uint32_t ttl_s, bool privileged)
{
	if (ttl_s < FP_FLOWLABEL_MIN_LINGER_S)
		return (uint64_t)FP_FLOWLABEL_MIN_LINGER_S * 1000;
	if (ttl_s > FP_FLOWLABEL_MAX_LINGER_S && !privileged)
		return 0;
	return (uint64_t)ttl_s * 1000;
}

/* Lengthen linger and push expiry later, never shorten (fl6_renew). */
static int
label_renew(struct fp_flowlabel *fl, uint32_t linger_s, uint32_t expires_s,
	    bool privileged, uint64_t now_ms)
{
	uint64_t linger = check_linger(linger_s, privileged);
	uint64_t expires;

	if (!linger)
		return -EPERM;
	expires = check_linger(expires_s, privileged);
	if (!expires)
		return -EPERM;
	fl->lastuse_ms = now_ms;
	if (fl->linger_ms < linger)
		fl->linger_ms = linger;
	if (expires < fl->linger_ms)
		expires = fl->linger_ms;
	if (fl->expires_ms < fl->lastuse_ms + expires)
		fl->expires_ms = fl->lastuse_ms + expires;
	return 0;
}

/* Is this address usable as a label destination: not :: and not
 * ::ffff:a.b.c.d (fl_create's ipv6_addr_type test). */
static bool
dst_valid(const uint8_t dst[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t any[16];

	if (memcmp(dst, any, 16) == 0)
		return false;
	return memcmp(dst, mapped, 12) != 0;
}

/* Build an unlinked candidate label from a request (fl_create). */
static struct fp_flowlabel *
label_create(struct fp_flowlabel_mgr *mgr,
	     const struct fp_flowlabel_owner *owner,
	     const struct fp_flowlabel_req *req, uint64_t now_ms, int *err)
{
	struct fp_flowlabel *fl = mgr->cfg.alloc(sizeof(*fl));

	if (!fl) {
		*err = -ENOMEM;
		return NULL;
	}
	memset(fl, 0, sizeof(*fl));
	fl->expires_ms = now_ms;
	*err = label_renew(fl, req->linger_s, req->expires_s,
			   owner_privileged(owner), now_ms);
	if (*err)
		goto fail;
	*err = -EINVAL;
	if (!dst_valid(req->dst))
		goto fail;
	memcpy(fl->dst, req->dst, 16);
	fl->share = req->share;
	fl->users = 1;
	switch (fl->share) {
	case FP_FLOWLABEL_SHARE_EXCL:
	case FP_FLOWLABEL_SHARE_ANY:
		break;
	case FP_FLOWLABEL_SHARE_PROCESS:
		fl->owner.pid = owner->pid;
		break;
	case FP_FLOWLABEL_SHARE_USER:
		fl->owner.uid = owner->uid;
		break;
	default:
		goto fail;
	}
	*err = 0;
	return fl;
fail:
	mgr->cfg.release(fl);
	return NULL;
}

/* 32 random bits: the caller's function, else xorshift64*. */
static uint32_t
draw_random(struct fp_flowlabel_mgr *mgr)
{
	uint64_t x;

	if (mgr->cfg.random)
		return mgr->cfg.random(mgr->cfg.random_ctx);
	x = mgr->prng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	mgr->prng = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

/* Pick a free nonzero label, below the stateless bit when state ranges are
 * on (fl_intern's label 0 loop). 0 if the draws run out. */
static uint32_t
pick_label(struct fp_flowlabel_mgr *mgr)
{
	uint32_t i, label;

	for (i = 0; i < FP_FLOWLABEL_MAX_DRAWS; i++) {
		label = draw_random(mgr) & FP_FLOWLABEL_MASK;
		if (mgr->cfg.state_ranges)
			label &= ~FP_FLOWLABEL_STATELESS_FLAG;
		if (label && !table_find(mgr, label))
			return label;
	}
	return 0;
}

/* Put a candidate in the table, or, if its label is already there (maybe
 * lingering), take a reference on that one and return it (fl_intern). */
static struct fp_flowlabel *
label_intern(struct fp_flowlabel_mgr *mgr, struct fp_flowlabel *fl,
	     uint32_t label, uint64_t now_ms, int *err)
{
	struct fp_flowlabel *lfl, **head;

	*err = 0;
	if (label == 0) {
		label = pick_label(mgr);
		if (!label) {
			*err = -ENOBUFS;
			return NULL;
		}
	} else {
		lfl = table_find(mgr, label);
		if (lfl) {
			lfl->users++;
			return lfl;
		}
	}
	fl->label = label;
	fl->lastuse_ms = now_ms;
	head = bucket(mgr, label);
	fl->next = *head;
	*head = fl;
	mgr->size++;
	return NULL;
}

/* Room check before a new label enters the table (mem_check). */
static int
mem_check(const struct fp_flowlabel_mgr *mgr,
	  const struct fp_flowlabel_sock *sk,
	  const struct fp_flowlabel_owner *owner)
{
	int room = FP_FLOWLABEL_MAX_SIZE - (int)mgr->size;
	int count;

	if (room > FP_FLOWLABEL_MAX_SIZE - FP_FLOWLABEL_MAX_PER_SOCK)
		return 0;
	count = (int)fp_flowlabel_sock_count(sk);
	if (room <= 0 ||
	    ((count >= FP_FLOWLABEL_MAX_PER_SOCK ||
	      (count > 0 && room < FP_FLOWLABEL_MAX_SIZE / 2) ||
	      room < FP_FLOWLABEL_MAX_SIZE / 4) &&
	     !owner_privileged(owner)))
		return -ENOBUFS;
	return 0;
}

/* Add a lease to the socket's list (fl_link). */
static void
sock_link(struct fp_flowlabel_sock *sk, struct fp_flowlabel_sockent *sfl,
	  struct fp_flowlabel *fl)
{
	sfl->fl = fl;
	sfl->next = sk->leases;
	sk->leases = sfl;
}

/* The socket's first lease of a label, or NULL. */
static struct fp_flowlabel_sockent *
sock_find(const struct fp_flowlabel_sock *sk, uint32_t label)
{
	struct fp_flowlabel_sockent *sfl;

	for (sfl = sk->leases; sfl; sfl = sfl->next)
		if (sfl->fl->label == label)
			return sfl;
	return NULL;
}

/* May a candidate join an existing label: the share comparison after
 * "recheck:" in ipv6_flowlabel_opt. */
static bool
share_admits(const struct fp_flowlabel *fl1, const struct fp_flowlabel *fl)
{
	if (fl1->share == FP_FLOWLABEL_SHARE_EXCL || fl1->share != fl->share)
		return false;
	if (fl1->share == FP_FLOWLABEL_SHARE_PROCESS &&
	    fl1->owner.pid != fl->owner.pid)
		return false;
	if (fl1->share == FP_FLOWLABEL_SHARE_USER &&
	    fl1->owner.uid != fl->owner.uid)
		return false;
	return true;
}

/* Join an existing label fl1 (already referenced) with candidate fl's
 * terms; drops the reference on refusal. */
static int
label_join(struct fp_flowlabel_mgr *mgr, struct fp_flowlabel_sock *sk,
	   struct fp_flowlabel *fl1, const struct fp_flowlabel *fl,
	   struct fp_flowlabel_sockent *sfl1, uint16_t flags, uint64_t now_ms)
{
	int err = -EEXIST;

	if (flags & FP_FLOWLABEL_F_EXCL)
		goto release;
	err = -EPERM;
	if (!share_admits(fl1, fl))
		goto release;
	err = -ENOMEM;
	if (!sfl1)
		goto release;
	if (fl->linger_ms > fl1->linger_ms)
		fl1->linger_ms = fl->linger_ms;
	if (fl->expires_ms > fl1->expires_ms)
		fl1->expires_ms = fl->expires_ms;
	sock_link(sk, sfl1, fl1);
	return (int)fl1->label;
release:
	label_release(mgr, fl1, now_ms);
	return err;
}

/* Turn reflect on for a TCP socket (IPV6_FL_A_GET with F_REFLECT). */
static int
reflect_on(const struct fp_flowlabel_mgr *mgr, struct fp_flowlabel_sock *sk)
{
	if (mgr->cfg.consistency)
		return -EPERM;
	if (!sk->is_tcp)
		return -ENOPROTOOPT;
	sk->reflect = true;
	return 0;
}

/* Turn reflect off (IPV6_FL_A_PUT with F_REFLECT). */
static int
reflect_off(struct fp_flowlabel_sock *sk)
{
	if (!sk->is_tcp)
		return -ENOPROTOOPT;
	if (!sk->reflect)
		return -ESRCH;
	sk->flow_label = 0;
	sk->reflect = false;
	return 0;
}

/* Defaults: Linux's sysctl defaults, malloc/free, a fixed PRNG seed. */
void
fp_flowlabel_config_default(struct fp_flowlabel_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->state_ranges = true;
	cfg->consistency = true;
	cfg->seed = 0x9e3779b97f4a7c15ull;
	cfg->alloc = default_alloc;
	cfg->release = default_release;
}

/* Empty manager with the given (or default) settings. */
void
fp_flowlabel_init(struct fp_flowlabel_mgr *mgr,
		  const struct fp_flowlabel_config *cfg)
{
	memset(mgr, 0, sizeof(*mgr));
	if (cfg)
		mgr->cfg = *cfg;
	else
		fp_flowlabel_config_default(&mgr->cfg);
	if (!mgr->cfg.alloc)
		mgr->cfg.alloc = default_alloc;
	if (!mgr->cfg.release)
		mgr->cfg.release = default_release;
	mgr->prng = mgr->cfg.seed ? mgr->cfg.seed : 0x9e3779b97f4a7c15ull;
}

/* Free all labels (ip6_fl_purge, but unconditional: the router is going). */
uint32_t
fp_flowlabel_free(struct fp_flowlabel_mgr *mgr)
{
	uint32_t held = 0;
	size_t i;

	for (i = 0; i < FP_FLOWLABEL_HASH_SIZE; i++) {
		struct fp_flowlabel *fl = mgr->hash[i];

		while (fl) {
			struct fp_flowlabel *next = fl->next;

			if (fl->users)
				held++;
			mgr->cfg.release(fl);
			fl = next;
		}
		mgr->hash[i] = NULL;
	}
	mgr->size = 0;
	mgr->gc_next_ms = 0;
	return held;
}

/* Socket with no leases, not reflecting. */
void
fp_flowlabel_sock_init(struct fp_flowlabel_sock *sk, bool is_tcp)
{
	memset(sk, 0, sizeof(*sk));
	sk->is_tcp = is_tcp;
}

/* IPV6_FL_A_GET (ipv6_flowlabel_opt): create or join a label. */
int
fp_flowlabel_get(struct fp_flowlabel_mgr *mgr, struct fp_flowlabel_sock *sk,
		 const struct fp_flowlabel_owner *owner,
		 const struct fp_flowlabel_req *req, uint64_t now_ms)
{
	struct fp_flowlabel_sockent *sfl, *sfl1;
	struct fp_flowlabel *fl, *fl1 = NULL;
	int err;

	if (!mgr || !sk || !owner || !req)
		return -EINVAL;
	if (req->flags & FP_FLOWLABEL_F_REFLECT)
		return reflect_on(mgr, sk);
	if (req->label & ~FP_FLOWLABEL_MASK)
		return -EINVAL;
	if (mgr->cfg.state_ranges && (req->label & FP_FLOWLABEL_STATELESS_FLAG))
		return -ERANGE;

	fl = label_create(mgr, owner, req, now_ms, &err);
	if (!fl)
		return err;
	sfl1 = mgr->cfg.alloc(sizeof(*sfl1));

	if (req->label) {
		sfl = sock_find(sk, req->label);
		if (sfl) {
			err = -EEXIST;
			if (req->flags & FP_FLOWLABEL_F_EXCL)
				goto done;
			fl1 = sfl->fl;
			fl1->users++;
		} else {
			fl1 = table_hold(mgr, req->label);
		}
		if (fl1)
			goto recheck;
	}
	err = -ENOENT;
	if (!(req->flags & FP_FLOWLABEL_F_CREATE))
		goto done;
	err = -ENOMEM;
	if (!sfl1)
		goto done;
	err = mem_check(mgr, sk, owner);
	if (err)
		goto done;
	fl1 = label_intern(mgr, fl, req->label, now_ms, &err);
	if (err)
		goto done;
	if (fl1)
		goto recheck;
	sock_link(sk, sfl1, fl);
	return (int)fl->label;

recheck:
	err = label_join(mgr, sk, fl1, fl, sfl1, req->flags, now_ms);
	mgr->cfg.release(fl);
	if (err < 0 && sfl1)
		mgr->cfg.release(sfl1);
	return err;
done:
	mgr->cfg.release(fl);
	if (sfl1)
		mgr->cfg.release(sfl1);
	return err;
}

/* IPV6_FL_A_PUT: drop the socket's first lease of a label. */
int
fp_flowlabel_put(struct fp_flowlabel_mgr *mgr, struct fp_flowlabel_sock *sk,
		 uint32_t label, uint16_t flags, uint64_t now_ms)
{
	struct fp_flowlabel_sockent **sflp, *sfl;

	if (flags & FP_FLOWLABEL_F_REFLECT)
		return reflect_off(sk);
	for (sflp = &sk->leases; (sfl = *sflp) != NULL; sflp = &sfl->next) {
		if (sfl->fl->label != label)
			continue;
		if (label == (sk->flow_label & FP_FLOWLABEL_MASK))
			sk->flow_label &= ~FP_FLOWLABEL_MASK;
		*sflp = sfl->next;
		label_release(mgr, sfl->fl, now_ms);
		mgr->cfg.release(sfl);
		return 0;
	}
	return -ESRCH;
}

/* IPV6_FL_A_RENEW: renew a held label, or any label in use for a
 * privileged owner with share NONE. */
int
fp_flowlabel_renew(struct fp_flowlabel_mgr *mgr, struct fp_flowlabel_sock *sk,
		   const struct fp_flowlabel_owner *owner, uint32_t label,
		   uint8_t share, uint32_t linger_s, uint32_t expires_s,
		   uint64_t now_ms)
{
	struct fp_flowlabel_sockent *sfl;
	struct fp_flowlabel *fl;
	bool privileged;
	int err;

	if (!mgr || !sk || !owner)
		return -EINVAL;
	privileged = owner_privileged(owner);
	sfl = sock_find(sk, label);
	if (sfl)
		return label_renew(sfl->fl, linger_s, expires_s, privileged,
				   now_ms);
	if (share == FP_FLOWLABEL_SHARE_NONE && privileged) {
		fl = table_hold(mgr, label);
		if (fl) {
			err = label_renew(fl, linger_s, expires_s, privileged,
					  now_ms);
			label_release(mgr, fl, now_ms);
			return err;
		}
	}
	return -ESRCH;
}

/* Drop every lease of a closing socket (fl6_free_socklist). */
void
fp_flowlabel_sock_close(struct fp_flowlabel_mgr *mgr,
			struct fp_flowlabel_sock *sk, uint64_t now_ms)
{
	struct fp_flowlabel_sockent *sfl;

	while ((sfl = sk->leases) != NULL) {
		sk->leases = sfl->next;
		label_release(mgr, sfl->fl, now_ms);
		mgr->cfg.release(sfl);
	}
}

/* Send-time check (fl6_sock_lookup + fl6_sock_release in udpv6_sendmsg):
 * a held label is a use and refreshes lastuse. */
int
fp_flowlabel_send_check(struct fp_flowlabel_mgr *mgr,
			struct fp_flowlabel_sock *sk, uint32_t label,
			uint64_t now_ms)
{
	struct fp_flowlabel_sockent *sfl;

	(void)mgr;
	label &= FP_FLOWLABEL_MASK;
	if (label == 0)
		return 0;
	sfl = sock_find(sk, label);
	if (!sfl)
		return -EINVAL;
	sfl->fl->lastuse_ms = now_ms;
	return 0;
}

/* Connect with a label (ip6_datagram_connect): check, then remember it. */
int
fp_flowlabel_sock_set_label(struct fp_flowlabel_mgr *mgr,
			    struct fp_flowlabel_sock *sk, uint32_t label,
			    uint64_t now_ms)
{
	int err = fp_flowlabel_send_check(mgr, sk, label, now_ms);

	if (err)
		return err;
	sk->flow_label = label & FP_FLOWLABEL_MASK;
	return 0;
}

/* getsockopt(IPV6_FLOWLABEL_MGR) (ipv6_flowlabel_opt_get). */
int
fp_flowlabel_opt_get(const struct fp_flowlabel_mgr *mgr,
		     const struct fp_flowlabel_sock *sk, uint16_t flags,
		     struct fp_flowlabel_req *out, uint64_t now_ms)
{
	const struct fp_flowlabel_sockent *sfl;
	const struct fp_flowlabel *fl;
	int64_t left;

	(void)mgr;
	memset(out, 0, sizeof(*out));
	if (flags & FP_FLOWLABEL_F_REMOTE) {
		out->label = sk->rcv_flowinfo & FP_FLOWLABEL_MASK;
		return 0;
	}
	if (sk->reflect) {
		out->label = sk->flow_label;
		return 0;
	}
	sfl = sock_find(sk, sk->flow_label & FP_FLOWLABEL_MASK);
	if (!sfl)
		return -ENOENT;
	fl = sfl->fl;
	out->label = fl->label;
	memcpy(out->dst, fl->dst, 16);
	out->share = fl->share;
	left = ((int64_t)fl->expires_ms - (int64_t)now_ms) / 1000;
	out->expires_s = left > 0 ? (uint32_t)left : 0;
	out->linger_s = (uint32_t)(fl->linger_ms / 1000);
	return 0;
}

/* ip6_fl_gc: free labels past max(lastuse + linger, expires); rearm for the
 * earliest lingering one, or FL_MAX_LINGER from now if labels remain. */
uint64_t
fp_flowlabel_gc(struct fp_flowlabel_mgr *mgr, uint64_t now_ms)
{
	uint64_t sched = 0;
	size_t i;

	for (i = 0; i < FP_FLOWLABEL_HASH_SIZE; i++) {
		struct fp_flowlabel **flp = &mgr->hash[i], *fl;

		while ((fl = *flp) != NULL) {
			if (fl->users == 0) {
				uint64_t ttd = label_deadline(fl);

				if (now_ms >= ttd) {
					*flp = fl->next;
					mgr->cfg.release(fl);
					mgr->size--;
					continue;
				}
				if (!sched || ttd < sched)
					sched = ttd;
			}
			flp = &fl->next;
		}
	}
	if (!sched && mgr->size)
		sched = now_ms + (uint64_t)FP_FLOWLABEL_MAX_LINGER_S * 1000;
	mgr->gc_next_ms = sched;
	return sched;
}

/* The armed gc time (ip6_fl_gc_timer), 0 when not armed. */
uint64_t
fp_flowlabel_gc_deadline(const struct fp_flowlabel_mgr *mgr)
{
	return mgr->gc_next_ms;
}

/* Labels in the table (fl_size). */
uint32_t
fp_flowlabel_count(const struct fp_flowlabel_mgr *mgr)
{
	return mgr->size;
}

/* Leases on a socket, counted as mem_check counts them. */
uint32_t
fp_flowlabel_sock_count(const struct fp_flowlabel_sock *sk)
{
	const struct fp_flowlabel_sockent *sfl;
	uint32_t n = 0;

	for (sfl = sk->leases; sfl; sfl = sfl->next)
		n++;
	return n;
}

/* Listing rows in hash order (ip6fl_seq_show's columns). */
size_t
fp_flowlabel_list(const struct fp_flowlabel_mgr *mgr,
		  struct fp_flowlabel_info *out, size_t max, uint64_t now_ms)
{
	size_t n = 0, i;

	for (i = 0; i < FP_FLOWLABEL_HASH_SIZE; i++) {
		const struct fp_flowlabel *fl;

		for (fl = mgr->hash[i]; fl; fl = fl->next, n++) {
			struct fp_flowlabel_info *row;

			if (n >= max)
				continue;
			row = &out[n];
			memset(row, 0, sizeof(*row));
			row->label = fl->label;
			row->share = fl->share;
			row->owner_pid = fl->owner.pid;
			row->owner_uid = fl->owner.uid;
			row->users = fl->users;
			row->linger_s = (uint32_t)(fl->linger_ms / 1000);
			row->expires_in_s =
				((int64_t)fl->expires_ms - (int64_t)now_ms) / 1000;
			memcpy(row->dst, fl->dst, 16);
		}
	}
	return n;
}

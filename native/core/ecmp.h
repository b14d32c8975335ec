/*
 * core/ecmp.h — the ECMP hash (RFC 6438), shared by the workers
 * (datapath/lcore.c) and the control thread's own packets (control/ctl.c).
 * See docs/flowlabels.md, "ECMP".
 */
#ifndef FP_ECMP_H
#define FP_ECMP_H

#include <stdint.h>
#include <string.h>

#include <rte_hash_crc.h>

#include "fib.h"
#include "ip6.h"

/* A nonzero flow label hashes with (src, dst); label 0 hashes (src, dst,
 * next header) and the UDP/TCP ports when they directly follow the IPv6
 * header (`avail`: bytes of the packet from ip6 on). */
static inline uint32_t
fp_ecmp_hash(const uint8_t *ip6, uint32_t avail)
{
	uint32_t label = ((uint32_t)(ip6[1] & 0x0f) << 16) | ((uint32_t)ip6[2] << 8) | ip6[3];
	uint32_t h = rte_hash_crc(ip6 + 8, 32, 0x6438u);

	if (label != 0) {
		h = rte_hash_crc_4byte(label, h);
	} else {
		uint8_t nxt = ip6[FP_IP6_OFF_NXT];

		h = rte_hash_crc_4byte(nxt, h);
		if ((nxt == 6 || nxt == 17) && avail >= FP_IP6_HDR_LEN + 4) {
			uint32_t ports;

			memcpy(&ports, ip6 + FP_IP6_HDR_LEN, 4);
			h = rte_hash_crc_4byte(ports, h);
		}
	}
	/* Mix so that every bit of the CRC reaches the bucket index. */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* The member of group `nh` (FP_NH_GROUP | g) this packet takes. */
static inline uint32_t
fp_ecmp_pick(const struct fp_fib *fib, uint32_t nh, const uint8_t *ip6, uint32_t avail)
{
	return fib->nhg[nh & FP_NH_INDEX_MASK].bucket[fp_ecmp_hash(ip6, avail) %
						      FP_NHG_BUCKETS];
}

#endif

/* core/ip6.h — IPv6 header constants and address predicates for the fast path. */
#ifndef FP_IP6_H
#define FP_IP6_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define FP_ETHER_HDR_LEN 14
#define FP_IP6_HDR_LEN 40
#define FP_ETHERTYPE_IPV6 0x86dd
#define FP_IPPROTO_HOPOPTS 0
#define FP_IPPROTO_ICMPV6 58
#define FP_IPPROTO_TCP 6
#define FP_IPPROTO_ROUTING 43
#define FP_IPPROTO_FRAGMENT 44
#define FP_IPPROTO_DSTOPTS 60

/* Offsets into the IPv6 header. */
#define FP_IP6_OFF_PLEN 4
#define FP_IP6_OFF_NXT 6
#define FP_IP6_OFF_HLIM 7
#define FP_IP6_OFF_SRC 8
#define FP_IP6_OFF_DST 24

static inline bool
fp_ip6_is_multicast(const uint8_t *a)
{
	return a[0] == 0xff;
}

static inline bool
fp_ip6_is_linklocal(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* :: or ::1 */
static inline bool
fp_ip6_is_unspec_or_loopback(const uint8_t *a)
{
	uint64_t hi, lo;
	memcpy(&hi, a, 8);
	memcpy(&lo, a + 8, 8);
	return hi == 0 && (lo == 0 || lo == __builtin_bswap64(1));
}

static inline bool
fp_ip6_is_unspecified(const uint8_t *a)
{
	uint64_t hi, lo;
	memcpy(&hi, a, 8);
	memcpy(&lo, a + 8, 8);
	return (hi | lo) == 0;
}

/* The solicited-node group of addr: ff02::1:ffXX:XXXX (RFC 4291 2.7.1). */
static inline void
fp_ip6_solicited_node(uint8_t group[16], const uint8_t addr[16])
{
	static const uint8_t prefix[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };
	memcpy(group, prefix, 13);
	memcpy(group + 13, addr + 13, 3);
}

/* Multicast groups every router node listens to before MLD exists:
 * ff02::1, ff02::2 and solicited-node ff02::1:ffXX:XXXX. */
static inline bool
fp_ip6_is_router_group(const uint8_t *a)
{
	static const uint8_t ff02[12] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	if (memcmp(a, ff02, 11) != 0)
		return false;
	if (a[11] == 0 && a[12] == 0 && a[13] == 0 && a[14] == 0 &&
	    (a[15] == 1 || a[15] == 2))
		return true;
	return a[11] == 0x01 && a[12] == 0xff;
}

#endif

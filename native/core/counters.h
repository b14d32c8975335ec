/*
 * core/counters.h — every counter fastpath keeps, as X-macro lists.
 *
 * One list generates the C enum, the names exported to JS (stats()) and the
 * table in docs/architecture.md, so a new counter or drop reason is one line
 * here and can never be missed by stats. (The idiom is VPP's foreach_ip6_error.)
 *
 * Ownership: each lcore writes only its own counter arrays (plain stores,
 * 64-bit aligned, so a reader on another thread never sees a torn value);
 * readers copy them without locks.
 */
#ifndef FP_COUNTERS_H
#define FP_COUNTERS_H

/* Per-lcore event counters. X(name, description) */
#define FP_LCORE_COUNTERS(X)                                                    \
	X(rx_packets, "packets received on this lcore's rx queues")             \
	X(rx_bytes, "bytes received on this lcore's rx queues")                 \
	X(tx_packets, "packets accepted by tx queues")                          \
	X(tx_bytes, "bytes accepted by tx queues")                              \
	X(forwarded, "packets forwarded (flow cache or FIB)")                   \
	X(punted, "packets handed to the control thread")                       \
	X(dropped, "packets dropped, all reasons (sum of drop_*)")              \
	X(fib_lookups, "FIB lookups (flow cache misses and cache disabled)")    \
	X(flow_hit, "flow cache hits forwarded from the cache")                 \
	X(flow_miss, "flow cache misses (no entry, or stale generation)")       \
	X(flow_stale, "flow cache entries found with an old generation")        \
	X(flow_insert, "flow cache entries created")                            \
	X(flow_reap, "flow cache entries reaped because the table was full")    \
	X(flow_expire, "flow cache entries expired after the idle timeout")     \
	X(flow_invalidate, "flow cache entries removed by flush/resize/stale")  \
	X(flow_folded_uses, "uses of flow entries that died (ip6flow_addstats)") \
	X(flow_folded_forwarded, "forwarded packets of flow entries that died") \
	X(flow_folded_dropped, "dropped packets of flow entries that died")     \
	X(flow_inuse, "flow cache entries in use now (gauge)")                  \
	X(flow_unadmitted, "misses forwarded without an entry: outside the share a flood admits") \
	X(flow_admit_shift, "flow cache admission: 1 in 2^this of new flows get an entry, 0 all (gauge)") \
	X(flow_direct, "packets looked up in the FIB alone: flowCache.mode auto measured it cheaper than the cache") \
	X(flow_select_direct, "flowCache.mode auto: 1 while the FIB alone is in force, 0 the cache (gauge)") \
	X(flow_select_probes, "flowCache.mode auto: probes of the other lookup completed") \
	X(flow_select_switches, "flowCache.mode auto: changes of the lookup in force") \
	X(flow_select_abandoned, "flowCache.mode auto: probes given up, traffic too light to measure") \
	X(flow_select_cache_cycles, "flowCache.mode auto: cycles per packet of the loop with the cache, last measured (gauge)") \
	X(flow_select_direct_cycles, "flowCache.mode auto: cycles per packet of the loop with the FIB alone, last measured (gauge)") \
	X(cmd_handled, "control commands handled by this lcore")                \
	X(resolve_punted, "packets punted because their next hop is unresolved") \
	X(ctl_tx, "packets sent for the control thread (echo replies...)")     \
	X(ctl_tx_full, "control-thread packets the tx queue refused (freed)")  \
	X(icmp6_error_ratelimited, "ICMPv6 errors not asked for: this lcore's token bucket was empty") \
	X(loops, "poll loop iterations")                                        \
	X(busy_loops, "poll loop iterations that received packets")            \
	X(busy_cycles, "TSC cycles spent in iterations that received packets")

/* Drop reasons. Every dropped packet increments exactly one of these. */
#define FP_DROP_REASONS(X)                                                      \
	X(not_ip6, "ethertype is not IPv6 (counted as noproto on the port)")    \
	X(vlan_unknown, "802.1Q frame for a VLAN id with no sub-interface")   \
	X(l2_other_host, "unicast frame for another MAC (promiscuous port)")    \
	X(truncated, "frame shorter than Ethernet + IPv6 header")               \
	X(bad_version, "IP version field is not 6")                             \
	X(bad_length, "IPv6 payload length larger than the frame")              \
	X(src_invalid, "source is multicast, or unspecified while forwarding")  \
	X(dst_invalid, "destination is unspecified or loopback")                \
	X(scope, "link-local source or destination cannot be forwarded")        \
	X(mcast_unjoined, "multicast destination the router has not joined")    \
	X(hop_limit, "hop limit 0 or 1 on a packet to forward")                 \
	X(no_route, "no route to the destination")                              \
	X(mtu_exceeded, "packet larger than the egress MTU")                    \
	X(port_down, "egress interface is administratively down")              \
	X(link_down, "egress interface's link is down")                        \
	X(punt_ring_full, "punt ring to the control thread full")              \
	X(tx_full, "tx queue full (the PMD did not accept the packet)")

/* Per-lcore, per-port counters (if_data style, summed over lcores). */
#define FP_PORT_COUNTERS(X)                                                     \
	X(ipackets, "packets received")                                         \
	X(ibytes, "bytes received")                                             \
	X(opackets, "packets sent")                                             \
	X(obytes, "bytes sent")                                                 \
	X(oerrors, "packets the tx queue refused (dropped)")                    \
	X(idrops, "received packets dropped by the router (any reason)")        \
	X(noproto, "received packets of an unsupported protocol")

/* Control-thread counters. */
#define FP_CTL_COUNTERS(X)                                                      \
	X(punt_received, "packets taken from the punt rings")                   \
	X(punt_dropped, "punted packets dropped (no control-plane handler yet)") \
	X(ctl_loops, "control-thread loop iterations (each ends with what it took handled)") \
	X(icmp6_echo_requests, "ICMPv6 Echo Requests for our addresses")      \
	X(icmp6_echo_replies, "ICMPv6 Echo Replies sent")                     \
	X(icmp6_invalid, "ICMPv6 to us dropped: bad checksum, code or length") \
	X(icmp6_time_exceeded, "ICMPv6 Time Exceeded sent (hop limit ran out)") \
	X(icmp6_unreachable, "ICMPv6 Destination Unreachable sent (no route, address or port unreachable)") \
	X(icmp6_too_big, "ICMPv6 Packet Too Big sent (egress MTU)")             \
	X(icmp6_param_problem, "ICMPv6 Parameter Problem sent (unrecognized next header to us)") \
	X(icmp6_error_suppressed, "ICMPv6 errors the control thread did not send: the punting lcore's bucket was empty")       \
	X(icmp6_error_not_allowed, "ICMPv6 errors not sent: about an error, or to multicast/unspecified") \
	X(icmp6_error_no_source, "ICMPv6 errors not sent: the ingress interface had no usable address yet") \
	X(ctl_no_route, "packets the router originated with no route to their destination (dropped)") \
	X(ctl_too_big, "packets the router originated larger than the egress MTU that could not be fragmented (dropped)") \
	X(ctl_tx_ring_full, "replies dropped: a worker's control tx ring was full") \
	X(nd_ns_in, "valid Neighbor Solicitations received")                  \
	X(nd_na_out, "Neighbor Advertisements sent (answers for our addresses)") \
	X(nd_learned, "neighbours learned or updated from ND options (NS, NA, RS)")  \
	X(nd_invalid, "ND messages dropped: hop limit, checksum, code, options") \
	X(nd_na_in, "valid Neighbor Advertisements received")                  \
	X(nd_ns_out, "Neighbor Solicitations sent to resolve next hops")       \
	X(nd_resolved, "next hops resolved by an advertisement")               \
	X(nd_resolve_failed, "next hops that did not answer 3 solicitations")  \
	X(nd_held, "packets held while their next hop was resolved")           \
	X(nd_held_sent, "held packets sent once their next hop answered")      \
	X(nd_held_dropped, "held packets dropped (queue full, failure, MTU)")  \
	X(nd_incomplete_full, "packets dropped: too many unresolved next hops") \
	X(nd_rs_in, "valid Router Solicitations received")                     \
	X(nd_ra_out, "Router Advertisements sent (periodic and solicited)")    \
	X(nd_ra_final_out, "final Router Advertisements (Router Lifetime 0) sent as the router stopped") \
	X(nd_nud_stale, "NUD: REACHABLE entries that aged to STALE (ReachableTime)") \
	X(nd_nud_probes, "NUD: unicast probes sent to DELAY/PROBE neighbours")  \
	X(nd_nud_confirmed, "NUD: reachability confirmed by a solicited NA")     \
	X(nd_nud_failed, "NUD: neighbours removed after 3 unanswered probes")   \
	X(nd_table_full, "neighbours not learned: the table was full")         \
	X(nd_gc_evicted, "unused STALE entries collected to make room")         \
	X(mld_in, "MLD messages received (queries, reports, done)")            \
	X(mld_bad_source, "MLD dropped: source not link-local")                 \
	X(mld_bad_hop_limit, "MLD dropped: hop limit not 1")                   \
	X(mld_truncated, "MLD dropped: shorter than its type needs")           \
	X(mld_bad_checksum, "MLD dropped: bad ICMPv6 checksum")                \
	X(mld_v1_query_in, "MLDv1 queries heard (v1 compatibility starts)")    \
	X(mld_v2_query_in, "MLDv2 queries heard")                              \
	X(mld_v1_report_in, "MLDv1 reports of other listeners heard")          \
	X(mld_other_in, "MLD Done and v2 reports heard (for queriers)")        \
	X(mld_v1_report_out, "MLDv1 reports sent")                             \
	X(mld_v2_report_out, "MLDv2 reports sent")                             \
	X(mld_done_out, "MLDv1 Done messages sent")                            \
	X(mld_joins, "group memberships started")                              \
	X(mld_leaves, "group memberships ended")                               \
	X(dad_probes_out, "duplicate address detection probes sent (NS from ::)") \
	X(dad_succeeded, "addresses that passed duplicate address detection")  \
	X(dad_duplicates, "addresses found duplicated (NA, or another node's probe)") \
	X(dad_looped, "our own DAD probes received back (nonce matched)")     \
	X(dad_conflicts, "NAs from another node for one of our preferred addresses") \
	X(link_went_up, "link state changes to up applied (all ports)")        \
	X(link_went_down, "link state changes to down applied (all ports)")    \
	X(link_queue_overflows, "link states pushed off a full if.c queue (a DOWN never is)") \
	X(link_resyncs, "kernel link messages lost (netlink overflow): state read again") \
	X(events_dropped, "events for JS lost: the event queue was full")      \
	X(udp_sockets_opened, "UDP sockets opened on the router's addresses")   \
	X(udp_received, "UDP datagrams queued for a router socket")            \
	X(udp_bad, "UDP datagrams for a router socket with a bad length or checksum (dropped)") \
	X(udp_rx_queue_full, "UDP datagrams dropped: the socket's receive queue was full") \
	X(udp_sent, "UDP datagrams from router sockets handed to a worker")   \
	X(udp_tx_queue_full, "UDP sends refused: the send queue was full")     \
	X(frag_received, "fragments addressed to the router")                 \
	X(frag_reassembled, "datagrams reassembled from fragments")           \
	X(frag_dropped, "fragments dropped (overlap, limits, malformed, no buffer) or answered with an ICMPv6 error") \
	X(frag_timeouts, "reassemblies abandoned after 60 s")                 \
	X(frag_sent, "fragments the router sent (its own packets over the MTU)") \
	X(route_changes, "route adds and deletes applied")                      \
	X(routes_withdrawn, "routes taken out of the FIB: their interface went down (admin or link)") \
	X(routes_restored, "withdrawn routes put back in the FIB: their interface came up") \
	X(routes_restore_failed, "restores the FIB refused (tbl8 groups full): the route stays down, retried at the next link change or route delete") \
	X(routes_withdraw_failed, "withdrawals the FIB refused (no memory for a rebuild): the route stays in the FIB") \
	X(neighbour_changes, "neighbour adds, updates and deletes applied")     \
	X(fib_swaps, "FIB double-buffer swaps (one per route change, withdrawal or restore)") \
	X(mirror_to_kernel, "packets for the router no fastpath protocol took, written to the interface's Linux mirror (TAP)") \
	X(mirror_na_copies, "Neighbor Advertisements copied to a Linux mirror (the kernel learns its peers)") \
	X(mirror_write_failed, "packets the Linux mirror refused (TAP queue full or down; dropped)") \
	X(mirror_from_kernel, "frames the kernel sent on a mirror, queued out of its port") \
	X(mirror_from_kernel_dropped, "frames from a mirror dropped: not IPv6, over the MTU, the kernel's MLD (fastpath reports), no mbuf") \
	X(mirror_groups_joined, "multicast groups joined on a port because the kernel joined them on its mirror") \
	X(rtimport_added, "routes imported from the kernel's table (added or changed)") \
	X(rtimport_deleted, "imported routes removed (the kernel deleted them)") \
	X(rtimport_skipped, "kernel routes not imported: a next hop off the mirrors, an unsupported type or too many next hops") \
	X(rtimport_shadowed, "kernel routes kept aside: fastpath owns a route for the prefix") \
	X(rtimport_resyncs, "route dumps read again after the netlink socket overflowed") \
	X(rtimport_failed, "imported routes the FIB refused (no room)")

#define FP_X_ENUM(name, desc) FP_CTR_##name,
enum fp_lcore_counter { FP_LCORE_COUNTERS(FP_X_ENUM) FP_LCORE_CTR_MAX };
#undef FP_X_ENUM
#define FP_X_ENUM(name, desc) FP_DROP_##name,
enum fp_drop_reason { FP_DROP_REASONS(FP_X_ENUM) FP_DROP_MAX };
#undef FP_X_ENUM
#define FP_X_ENUM(name, desc) FP_PCTR_##name,
enum fp_port_counter { FP_PORT_COUNTERS(FP_X_ENUM) FP_PORT_CTR_MAX };
#undef FP_X_ENUM
#define FP_X_ENUM(name, desc) FP_CCTR_##name,
enum fp_ctl_counter { FP_CTL_COUNTERS(FP_X_ENUM) FP_CTL_CTR_MAX };
#undef FP_X_ENUM

/* Name tables (NULL-terminated), for the bindings and docs. */
extern const char *const fp_lcore_counter_names[];
extern const char *const fp_drop_reason_names[];
extern const char *const fp_port_counter_names[];
extern const char *const fp_ctl_counter_names[];
extern const char *const fp_lcore_counter_descs[];
extern const char *const fp_drop_reason_descs[];
extern const char *const fp_port_counter_descs[];
extern const char *const fp_ctl_counter_descs[];

#endif

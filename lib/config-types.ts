/**
 * The router's configuration, as loaded from YAML (dpdk-config/*.yaml) or
 * given as an object to Router.start(). Defaults are stated per field and
 * applied by normalizeConfig() in config.ts; the normalized form has every
 * field filled in.
 */
import type { LinuxConfig, NormalizedLinuxConfig } from './config/linux';
export type { LinuxConfig, NormalizedLinuxConfig } from './config/linux';

/** EAL (DPDK environment) settings. */
export interface EalConfig {
  /** Number of worker lcores that forward packets. Default 1. */
  workers?: number;
  /**
   * CPU ids the worker lcores are pinned to, one per worker. Default: the
   * highest-numbered CPUs the process may run on, one per worker.
   */
  workerCpus?: number[];
  /**
   * Let workers share CPUs (workerCpus may repeat, and workers may be as
   * many as the CPUs). Workers on one CPU busy-poll against each other: for
   * functional tests of multi-worker behaviour (RSS, per-worker queues and
   * flow caches) on small machines, never for throughput. Default false.
   */
  shareWorkerCpus?: boolean;
  /** Memory for DPDK in MiB (`-m`). Default 512 (the double-buffered FIB needs ~160 MiB). */
  memoryMb?: number;
  /**
   * 'auto' (default): hugepages when /proc/sys/vm/nr_hugepages has free pages
   * and hugetlbfs is mounted, `--no-huge` otherwise. true: require them.
   * false: always `--no-huge`.
   */
  hugepages?: 'auto' | boolean;
  /** `--file-prefix`. Default: `fastpath-<pid>`, unique per process. */
  filePrefix?: string;
  /** PCI addresses to allow (`-a`). Empty (default) adds `--no-pci`. */
  pciAllow?: string[];
  /** Extra EAL arguments, passed through verbatim after the derived ones. */
  extraArgs?: string[];
  /** Log level for EAL (`--log-level`). Default 'notice'. */
  logLevel?: 'emerg' | 'alert' | 'crit' | 'error' | 'warning' | 'notice' | 'info' | 'debug';
}

/** One router port: a DPDK ethdev, seen by users as an interface. */
export interface PortConfig {
  /** Interface name, unique: 'eth0', 'uplink'... ([A-Za-z][A-Za-z0-9_.-]{0,14}) */
  name: string;
  /**
   * The device: a PCI address ('0000:03:00.0') or a vdev string
   * ('net_af_packet0,iface=veth0', 'net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap',
   * 'net_null0', 'net_tap0,iface=fp0', 'net_memif0,role=server', 'net_ring0').
   */
  device: string;
  /** MAC address to set ('02:00:00:00:00:01'). Default: the device's own. */
  mac?: string;
  /** MTU (IPv6 minimum 1280 .. 9600). Default 1500. */
  mtu?: number;
  /** Promiscuous mode. Default true. */
  promiscuous?: boolean;
  /** IPv6 addresses with prefix length ('2001:db8:1::1/64'). Default []. */
  addresses?: string[];
  /** Rx descriptors per queue (power of two, 64..16384). Default 1024. */
  rxDescriptors?: number;
  /** Tx descriptors per queue (power of two, 64..16384). Default 1024. */
  txDescriptors?: number;
  /**
   * Send Router Advertisements on this link and answer Router Solicitations
   * (RFC 4861 6.2), so hosts autoconfigure: every /64 global address's prefix
   * with on-link and autonomous flags, the MTU, router lifetime 1800 s,
   * unsolicited every 200-600 s (the first three within 16 s). Default false.
   */
  routerAdvertisements?: boolean;
  /** MaxRtrAdvInterval, s (4..1800). Default 600. */
  raMaxIntervalS?: number;
  /** MinRtrAdvInterval, s (3..0.75 x raMaxIntervalS). Default raMaxIntervalS / 3. */
  raMinIntervalS?: number;
  /** AdvDefaultLifetime, s: 0 (not a default router) or raMaxIntervalS..9000. Default 3 x raMaxIntervalS. */
  raRouterLifetimeS?: number;
  /**
   * Duplicate Address Detection probes per address (RFC 4862
   * DupAddrDetectTransmits, like Linux's dad_transmits): each address is
   * tentative until this many Neighbor Solicitations, 1 s apart after a random
   * 0-1 s delay, went unanswered. 0 disables DAD (addresses are preferred at
   * once). 0..10, default 1.
   */
  dadTransmits?: number;
  /** MLD listener (RFC 3810 / 2710): `{ version: 2 }` (default) or `{ version: 1 }`. */
  mld?: { version?: 1 | 2 };
}

/** An interface created at start (interfaces.clone() does it at run time). */
export interface CloneConfig {
  /** 'vlan' (802.1Q sub-interface of a port) or 'loop' (loopback). */
  cloner: 'vlan' | 'loop';
  /** Default `<parent>.<vlan>` for a VLAN, `lo<N>` for a loopback. */
  name?: string;
  /** VLAN: the port it is on. */
  parent?: string;
  /** VLAN: 802.1Q id, 1..4094. */
  vlan?: number;
  /** Addresses with prefix length. Default []. */
  addresses?: string[];
}

/** A static route. */
export interface RouteConfig {
  /** Destination prefix ('2001:db8:2::/64', '::/0'). */
  prefix: string;
  /** Next-hop address (link-local or global). Omitted: the route is connected (on-link) on `dev`. */
  via?: string;
  /** Egress interface name (required unless `nexthops` is given). */
  dev?: string;
  /**
   * ECMP (docs/flowlabels.md): 2..16 next hops instead of `via`/`dev`;
   * flows spread over them by flow label (RFC 6438), in proportion to `weight` (1..16, default 1).
   */
  nexthops?: { via?: string; dev: string; weight?: number }[];
}

/** A static neighbour (IPv6 address → MAC on an interface). */
export interface NeighbourConfig {
  address: string;
  mac: string;
  dev: string;
}

/** Per-lcore flow cache (NetBSD ip6_flow.c semantics). */
export interface FlowCacheConfig {
  /** Maximum flows per lcore; 0 disables the cache. Default 16384. */
  maxflows?: number;
  /** Hash buckets per lcore, a power of two (1..1048576). Default 32768 (2 x maxflows: chains stay short, so one prefetch covers a lookup). */
  hashsize?: number;
  /** Idle time after which an entry expires, ms (100..3600000). Default 5000. */
  idleTimeoutMs?: number;
}

/** Neighbor Discovery (RFC 4861). */
export interface NeighbourDiscoveryConfig {
  /**
   * BaseReachableTime, ms (1000..3600000): a neighbour confirmed reachable
   * stays REACHABLE for a random 0.5-1.5 times this, then STALE. Default 30000.
   */
  baseReachableTimeMs?: number;
  /** Neighbour table entries, static and learned (16..1048576). Default 16384. */
  maxNeighbours?: number;
}

/** Flow labels on what the router originates (lib/sockets.ts, docs/flowlabels.md). */
export interface FlowLabelsConfig {
  /** Datagrams sent without a leased label get one from a hash of the flow (RFC 6437, Linux's auto_flowlabels). Default true. */
  autoLabels?: boolean;
  /** Linux's flowlabel_state_ranges: leased labels below 0x80000, automatic ones above. Default true. */
  stateRanges?: boolean;
}

/** SIFTR for forwarded TCP (lib/siftr.ts, docs/siftr.md); the seed's sysctls plus sizes. */
export interface SiftrConfig {
  /** Start logging when the router starts (net.inet.siftr.enabled). Default false. */
  enabled?: boolean;
  /** The log (net.inet.siftr.logfile): created if missing, appended to. Required when enabled. */
  logfile?: string;
  /** Log every ppl-th segment of each connection (net.inet.siftr.ppl). Default 1. */
  ppl?: number;
  /** Only segments with this source or destination port (net.inet.siftr.port_filter); 0 = all. Default 0. */
  portFilter?: number;
  /** net.inet.siftr.cwnd_filter: not observable on a router; only false is accepted. */
  cwndFilter?: boolean;
  /** Which endpoint is "local" in the log: the connection's initiator (default) or responder. */
  local?: 'initiator' | 'responder';
  /** Track connections whose SYN the router did not see. Default false (counted as nskip_*_inpcb). */
  pickupMidstream?: boolean;
  /** Connections tracked per worker (1..4194304, about 240 bytes each). Default 65536. */
  maxConnections?: number;
  /** Records queued per worker for the writer thread (power of two 64..1048576). Default 8192. */
  ringSize?: number;
  /** Flows remembered for the footer's flow_list (1..16777216). Default 65536. */
  maxFlows?: number;
  /** A connection is forgotten after this long without a segment. Default 300000. */
  idleTimeoutMs?: number;
  /** ... or this long after it closed (FIN both ways, or RST). Default 30000. */
  closeGraceMs?: number;
}

/** The routing table (FIB) size: fixed when the router starts. */
export interface RoutingConfig {
  /** Routes (static, connected and local together; 16..4194304). Default 16384. */
  maxRoutes?: number;
  /**
   * tbl8 groups per FIB copy (256..4194304; 1 KiB each, two copies): a prefix
   * longer than /24 needs up to one group per further 8 bits that no other
   * prefix shares. Default 16384.
   */
  tbl8Groups?: number;
}

/** ICMPv6 error rate limit (RFC 4443 2.4 f): a token bucket per worker lcore. */
export interface IcmpErrorsConfig {
  /** Tokens per second (0 sends no errors at all; 0..1000000). Default 100. */
  perSecond?: number;
  /** Bucket depth (1..1000000). Default 10. */
  burst?: number;
}

/** Packet buffer pool. */
export interface MempoolConfig {
  /** mbufs in the pool. Default 16383. */
  mbufs?: number;
  /** Per-lcore cache (0..512). Default 256. */
  cacheSize?: number;
}

/** The running router's control socket and metrics endpoint (docs/operations.md). */
export interface ControlConfig {
  /** The JSON-RPC unix socket; its directory is created. Default /run/fastpath/fastpath.sock. */
  socket?: string;
  /** Group owning the socket (mode 0660): a name or a gid. Default: the process's group. */
  socketGroup?: string | number;
  /** Serve Prometheus metrics on 'host:port' (GET /metrics). Default: off. */
  metrics?: string;
}

/** Normalized: still a ControlConfig (a normalized config is itself a valid config). */
export interface NormalizedControlConfig extends ControlConfig {
  socket: string;
}

/** A Linux host in a network namespace, used by the demo and tests. */
export interface TopologyHostConfig {
  /** Host name; the namespace is `<prefix><name>`. */
  name: string;
  /** The router port this host is wired to (a port name above). */
  port: string;
  /** The host's IPv6 address with prefix length. */
  address: string;
  /** The router's address on that link, used as the host's default gateway. */
  gateway: string;
}

export interface TopologyConfig {
  /** Namespace/veth name prefix; default 'fp'. */
  prefix?: string;
  hosts: TopologyHostConfig[];
}

export interface RouterConfig {
  eal?: EalConfig;
  ports: PortConfig[];
  routes?: RouteConfig[];
  neighbours?: NeighbourConfig[];
  /** VLAN and loopback interfaces, created before routes and neighbours (which may name them). */
  clones?: CloneConfig[];
  flowCache?: FlowCacheConfig;
  mempool?: MempoolConfig;
  neighbourDiscovery?: NeighbourDiscoveryConfig;
  icmpErrors?: IcmpErrorsConfig;
  routing?: RoutingConfig;
  flowLabels?: FlowLabelsConfig;
  siftr?: SiftrConfig;
  control?: ControlConfig;
  /** Linux mirror interfaces and route import (lib/config/linux.ts). */
  linux?: LinuxConfig;
  /** Only for the demo: namespace hosts to build before the router starts. */
  topology?: TopologyConfig;
}

/** The config with every default filled in. */
export interface NormalizedConfig {
  eal: Required<Omit<EalConfig, 'workerCpus'>> & { workerCpus: number[] };
  ports: Required<Omit<PortConfig, 'mac'>>[] & { mac?: string }[];
  routes: RouteConfig[];
  neighbours: NeighbourConfig[];
  clones: (Required<Pick<CloneConfig, 'cloner' | 'name' | 'addresses'>> & Pick<CloneConfig, 'parent' | 'vlan'>)[];
  flowCache: Required<FlowCacheConfig>;
  mempool: Required<MempoolConfig>;
  neighbourDiscovery: Required<NeighbourDiscoveryConfig>;
  icmpErrors: Required<IcmpErrorsConfig>;
  routing: Required<RoutingConfig>;
  flowLabels: Required<FlowLabelsConfig>;
  siftr: Required<Omit<SiftrConfig, 'cwndFilter'>>;
  control: NormalizedControlConfig;
  linux: NormalizedLinuxConfig;
  topology?: TopologyConfig;
}

/**
 * The router config schema: the one definition the config types
 * (config-types.ts), the first validation pass (normalizeConfig), the static
 * defaults and the published JSON Schema (`fastpath config schema`,
 * dpdk-config/fastpath.schema.json) all come from.
 *
 * What a schema cannot say — parsing addresses and devices, references
 * between sections, duplicates, the CPU set, bounds that depend on another
 * field — is checked after it, in lib/config/checks.ts. A default that
 * depends on another field or on the machine is filled there too and is
 * stated in the field's description.
 *
 * Adding a section: one `section({...}, 'an object')` below and one key in
 * RouterConfigSchema (see docs/configuration.md, "Adding a section").
 */
import { z } from 'zod';
import { DEVICE_WHAT } from './devices';
import { LinuxSchema } from './linux';
import { bool, int, list, oneOf, powerOfTwo, section, text } from './schema-kit';

/** DPDK's numeric log levels (RTE_LOG_EMERG = 1 .. RTE_LOG_DEBUG = 8), accepted by every release. */
export const LOG_LEVELS = { emerg: 1, alert: 2, crit: 3, error: 4, warning: 5, notice: 6, info: 7, debug: 8 } as const;

/** RTE_MAX_LCORE in Debian's DPDK 22.11 build: lcore 0 is Node's, the rest may be workers. */
export const MAX_LCORES = 128;
/** RTE_MAX_ETHPORTS in Debian's DPDK 22.11 build. */
export const MAX_PORTS = 32;
/** sun_path is 108 bytes with its terminating NUL: a longer path cannot be bound. */
export const MAX_SOCKET_PATH = 107;
export const DEFAULT_CONTROL_SOCKET = '/run/fastpath/fastpath.sock';

export const IFNAME = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;
const IFNAME_WHAT = 'an interface name matching [A-Za-z][A-Za-z0-9_.-]{0,14}';

// What each address-typed field is; checks.ts parses them with the same words.
export const WHAT = {
  unicast: 'a unicast IPv6 address (not multicast, :: or ::1)',
  interfaceAddress: 'a unicast IPv6 address with prefix length, like "2001:db8::1/64"',
  prefix: 'an IPv6 prefix "address/length" (length 0..128), like "2001:db8::/64"',
  mac: 'a unicast MAC address like "02:00:00:00:00:01" (group bit clear, not all zero)',
  device: DEVICE_WHAT,
  interface: 'the name of a port or clone',
  port: 'the name of a port',
  listen: "'host:port' (e.g. \"127.0.0.1:9469\" or \"[::1]:9469\")",
} as const;

const addresses = () =>
  list(text(WHAT.interfaceAddress), 'an array of "address/length" strings')
    .prefault([])
    .describe(
      'IPv6 addresses with prefix length (2001:db8:1::1/64); host bits may be set. Not multicast, :: or ::1. ' +
        'Each address may be assigned once in the whole router. Stored in canonical form (RFC 5952).',
    );

// ───────────────────────────── eal ─────────────────────────────

export const EalSchema = section(
  {
    workers: int(1, MAX_LCORES - 1)
      .optional()
      .describe(
        'Worker lcores that poll and forward; fewer than the CPUs this process may use: the Node main thread keeps at least one CPU ' +
          'of its own (on a 2-CPU machine workers: 1 works, workers: 2 is an error saying so). ' +
          'Default: 1, or workerCpus.length when only workerCpus is given.',
      ),
    workerCpus: list(int(0, Number.MAX_SAFE_INTEGER, 'a CPU id (an integer >= 0)'), 'an array of CPU ids')
      .optional()
      .describe(
        'CPU of each worker: worker lcore i+1 is pinned to workerCpus[i]. Exactly `workers` entries, distinct, each one a CPU ' +
          'this process may run on. Pick isolated CPUs on the NIC\'s NUMA node for bare metal. ' +
          'Default: the `workers` highest-numbered allowed CPUs, ascending.',
      ),
    shareWorkerCpus: bool()
      .default(false)
      .describe('Let workers share CPUs: workerCpus may repeat a CPU and workers may equal the CPU count (one CPU always stays the ' +
          "Node thread's). Workers on one CPU busy-poll against each other: for functional tests of multi-worker behaviour " +
          'on small machines, never for throughput.'),
    memoryMb: int(256, 1048576).default(512).describe('DPDK memory in MiB (-m). The FIB takes about 160 MiB (two copies of 64 MiB tbl24 + 16 MiB tbl8 each) and ' +
          'the mbuf pool about 40 MiB at the defaults. With hugepages, this much must be free in hugepages.'),
    hugepages: z
      .union([z.literal('auto', { error: () => '"auto", true or false' }), bool()], { error: () => '"auto", true or false' })
      .default('auto')
      .describe('auto: hugepages when a hugetlbfs is mounted and enough default-size pages are free for memoryMb, --no-huge otherwise. ' +
          'true: require them; fails with ENOMEM (saying how to reserve them) when missing. false: always --no-huge.'),
    filePrefix: text('a name of [A-Za-z0-9_.-] (1..64, not starting with "." or "-")', /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/)
      .optional()
      .describe('--file-prefix; unique per process by default so routers and tests never share runtime files. Default: fastpath-<pid>.'),
    pciAllow: list(text('a PCI address like "0000:03:00.0" (device arguments go on ports[].device)'), 'an array of PCI addresses')
      .prefault([])
      .describe('Extra PCI devices to allow (-a), as 0000:03:00.0 or 03:00.0 (normalized to the full lowercase form). No device ' +
          'arguments here: put them on ports[].device. PCI devices named by ports are allowed automatically. No PCI device ' +
          'at all gives --no-pci.'),
    extraArgs: list(text('a non-empty string'), 'an array of strings')
      .prefault([])
      .describe('Extra EAL arguments, appended verbatim after the derived ones (e.g. --single-file-segments, ' +
          '--log-level=pmd.net.af_packet:debug). Options fastpath derives itself are refused with the field to use instead: ' +
          '-l, -c, --lcores, --main-lcore, --master-lcore, -m, --socket-mem, --no-huge, --in-memory, --no-shconf, --file-prefix, --no-pci.'),
    logLevel: oneOf(Object.keys(LOG_LEVELS) as [keyof typeof LOG_LEVELS, ...(keyof typeof LOG_LEVELS)[]])
      .default('notice')
      .describe("EAL's global log level (--log-level)."),
  },
  'an object',
).describe('The DPDK environment (EAL).');

// ──────────────────────────── ports ────────────────────────────

export const PortSchema = section(
  {
    name: text(IFNAME_WHAT, IFNAME).describe('Interface name, unique. Routes, neighbours and topology hosts refer to it.'),
    device: text(WHAT.device).describe(
      'The DPDK device: a PCI address (0000:03:00.0 or 03:00.0, optionally ,key=value device arguments) or a vdev ' +
        '(net_af_packet0,iface=veth0, net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap, net_null0, net_tap0,iface=fp0, ' +
        'net_memif0,role=server, net_ring0). Two ports may not use the same device.',
    ),
    mac: text(WHAT.mac)
      .optional()
      .describe(
        'MAC address to set, aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff, any case (stored lowercase with colons). Must be unicast ' +
          "(group bit clear) and not all zero. Default: the device's own.",
      ),
    mtu: int(1280, 9600).default(1500).describe('MTU; 1280 is the IPv6 minimum.'),
    promiscuous: bool().default(true).describe('Promiscuous mode.'),
    addresses: addresses(),
    rxDescriptors: powerOfTwo(64, 16384).default(1024).describe('Rx descriptors per queue.'),
    txDescriptors: powerOfTwo(64, 16384).default(1024).describe('Tx descriptors per queue.'),
    routerAdvertisements: bool()
      .default(false)
      .describe('Send Router Advertisements on this link and answer Router Solicitations (RFC 4861 6.2) so hosts autoconfigure: from ' +
          "the link-local address, every /64 global address's prefix with on-link and autonomous flags (valid 30 days, " +
          'preferred 7 days), the MTU option, the router lifetime below, unsolicited every raMinIntervalS..raMaxIntervalS ' +
          '(random; the first three at most 16 s apart), solicited answers at most every 3 s.'),
    raMaxIntervalS: int(4, 1800).default(600).describe('MaxRtrAdvInterval, s.'),
    raMinIntervalS: int(3, 1350)
      .optional()
      .describe('MinRtrAdvInterval, s: at most 0.75 x raMaxIntervalS. Default: raMaxIntervalS / 3 (at least 3).'),
    raRouterLifetimeS: int(0, 9000)
      .optional()
      .describe('AdvDefaultLifetime, s: 0 (hosts must not use this router as a default router) or raMaxIntervalS..9000. ' +
          'Default: 3 x raMaxIntervalS (at most 9000).'),
    dadTransmits: int(0, 10)
      .default(1)
      .describe("Duplicate Address Detection probes per address (DupAddrDetectTransmits, like Linux's dad_transmits). Each address " +
          'is tentative (unused, answering nothing but DAD) until this many solicitations from ::, 1 s apart after a random ' +
          '0-1 s delay, went unanswered; then preferred, or duplicated if another node has it. 0: preferred at once.'),
    mld: section(
      { version: z.union([z.literal(1), z.literal(2)], { error: () => '1 or 2' }).default(2).describe('The MLD version: 2 or 1.') },
      'an object { version: 1 | 2 }',
    )
      .prefault({})
      .describe('MLD listener on this link: version 2 (RFC 3810) or 1 (RFC 2710); a v2 interface falls back to v1 while an MLDv1 querier is heard.'),
  },
  'a port object with name and device',
).describe('A router port: a DPDK ethdev, seen by users as an interface.');

export const CloneSchema = section(
  {
    cloner: oneOf(['vlan', 'loop'], "'vlan' or 'loop'").describe('vlan: an 802.1Q sub-interface of a port; loop: a loopback.'),
    name: text(IFNAME_WHAT, IFNAME)
      .optional()
      .describe('Unique among ports and clones. Default: <parent>.<vlan> for a VLAN, lo<N> for a loopback.'),
    parent: text(WHAT.port).optional().describe('The port the VLAN is on (a port, not a clone); required for a VLAN, not allowed for a loopback.'),
    vlan: int(1, 4094, 'an 802.1Q id 1..4094').optional().describe('The 802.1Q id, once per parent; required for a VLAN, not allowed for a loopback.'),
    addresses: addresses(),
  },
  'a clone object with cloner',
).describe('An interface created at start (interfaces.clone() does it at run time).');

// ──────────────────────── routes, neighbours ────────────────────────

const NextHopSchema = section(
  {
    via: text(WHAT.unicast).optional().describe('Next-hop address (link-local or global). Absent: on-link on dev.'),
    dev: text(WHAT.interface).describe('Egress interface.'),
    weight: int(1, 16).default(1).describe('Share of flows, relative to the other next hops.'),
  },
  'a next hop object with dev',
);

export const RouteSchema = section(
  {
    prefix: text(WHAT.prefix).describe(
      'Destination network, address/length (::/0 is the default route). Host bits must be zero (2001:db8::1/64 is refused, ' +
        'naming 2001:db8::/64). Each network may be routed once; prefixes are compared in normalized form.',
    ),
    via: text(WHAT.unicast).optional().describe('Next-hop address, link-local or global; not multicast, :: or ::1. Absent: the route is connected (on-link) on dev.'),
    dev: text(WHAT.interface).optional().describe('Egress interface: the name of a port or clone. Required unless nexthops is given.'),
    nexthops: list(NextHopSchema, 'an array of 2..16 { via?, dev, weight? }', 2, 16)
      .optional()
      .describe('ECMP: next hops instead of via/dev (which must then be absent); flows spread over them by flow label (RFC 6438), in proportion to weight.'),
  },
  'a route object with prefix and dev',
).describe('A static route.');

export const NeighbourSchema = section(
  {
    address: text(WHAT.unicast).describe('IPv6 address; not multicast, :: or ::1. Once per interface (the same link-local address may appear on two).'),
    mac: text(WHAT.mac).describe('Its MAC: unicast, not all zero.'),
    dev: text(WHAT.interface).describe('The interface it is reached on.'),
  },
  'a neighbour object with address, mac and dev',
).describe('A static neighbour (IPv6 address -> MAC on an interface).');

// ──────────────────────────── sizing ────────────────────────────

export const FlowCacheSchema = section(
  {
    maxflows: int(0, 1048576).default(16384).describe('Maximum flows per lcore; 0 disables the cache.'),
    hashsize: powerOfTwo(1, 1048576).default(32768).describe('Hash buckets per lcore. Keep it at least maxflows (2x is the default): the fast path prefetches the first entry of ' +
          'each bucket, and every further entry in a chain is a dependent cache miss.'),
    idleTimeoutMs: int(100, 3600000).default(5000).describe('Idle time after which an entry expires (between 1 and 1.25 times this after its last packet), ms.'),
    mode: oneOf(['cache', 'auto'], "'cache' or 'auto'")
      .default('cache')
      .describe("cache: every packet looks up the flow cache first (ip6_flow.c). auto: each worker measures its cycles per packet with the cache and with the FIB alone, " +
          'every 1-16 s under load (over ~1.3 Mpps per worker; below it, the cache), and uses the cheaper (flow_select_* counters); while the FIB alone is in force the cache is left as it was and packets are ' +
          'counted per lcore (flow_direct), not per flow. See docs/benchmarking.md for when each wins.'),
    floodAdmission: bool().default(true).describe('Under a flood of more flows than entries, give entries to a share of flows only (counted as flow_unadmitted) instead of letting every miss reap; false caches every forwarded flow as ip6_flow.c does, at any cost.'),
  },
  'an object',
).describe('Per-lcore flow cache (NetBSD ip6_flow.c semantics).');

export const MempoolSchema = section(
  {
    mbufs: int(255, 16777215).default(16383).describe('mbufs in the pool; 2^q - 1 is the most memory-efficient size. Size it for every Rx and Tx ring of every port and worker plus the caches and packets in flight.'),
    cacheSize: int(0, 512)
      .optional()
      .describe('Per-lcore cache, at most mbufs / 1.5 (DPDK refuses a pool whose cache flush threshold exceeds its size). Default: 256, or less for small pools.'),
  },
  'an object',
).describe('The packet buffer pool.');

export const NeighbourDiscoverySchema = section(
  {
    baseReachableTimeMs: int(1000, 3600000)
      .default(30000)
      .describe('BaseReachableTime (RFC 4861), ms: a neighbour confirmed reachable stays REACHABLE for a random 0.5-1.5 x this ' +
          '(drawn again every 2 hours), then STALE; traffic to a STALE neighbour starts unreachability detection ' +
          '(5 s DELAY, 3 unicast probes 1 s apart).'),
    maxNeighbours: int(16, 1048576).default(16384).describe('Neighbour table entries, static and learned. When full, nothing more is learned (nd_table_full) and unused STALE entries are collected.'),
  },
  'an object',
).describe('Neighbor Discovery (RFC 4861).');

export const IcmpErrorsSchema = section(
  {
    perSecond: int(0, 1000000).default(100).describe('Tokens per second (0 sends no errors at all).'),
    burst: int(1, 1000000).default(10).describe('Bucket depth.'),
  },
  'an object',
).describe('ICMPv6 error rate limit (RFC 4443 2.4 f): a token bucket per worker lcore.');

export const RoutingSchema = section(
  {
    maxRoutes: int(16, 4194304).default(16384).describe('Routes of every kind (static, connected, local /128s). Adding one more fails with ENOSPC naming this field.'),
    tbl8Groups: int(256, 4194304)
      .default(16384)
      .describe('tbl8 groups per FIB copy; 1 KiB each, two copies. A group holds the 256 next bytes under one prefix: a prefix longer ' +
          'than /24 needs one per 8 bits below /24 that no other prefix has opened (3 for a lone /48, 5 for a /64, 13 for a /128); ' +
          'prefixes under a shared parent share them. When they are all in use, adds fail with ENOSPC naming this field ' +
          '(stats().fib.tbl8InUse shows the count). Raise eal.memoryMb with it.'),
  },
  'an object',
).describe('The routing table (FIB) size: fixed when the router starts.');

export const FlowLabelsSchema = section(
  {
    autoLabels: bool().default(true).describe("Datagrams from router sockets sent without a leased label get one from a hash of the flow (RFC 6437, Linux's auto_flowlabels)."),
    stateRanges: bool().default(true).describe("Linux's flowlabel_state_ranges: leased labels are below 0x80000 (a request at or above it is ERANGE), automatic ones have 0x80000 set."),
  },
  'an object',
).describe('Flow labels on what the router originates.');

// ───────────────────────────── siftr ─────────────────────────────

/** The seed's SIFTR_EXPECTED_MAX_TCP_FLOWS: connections per worker. */
export const SIFTR_DEFAULT_CONNECTIONS = 65536;

const logfile = () =>
  z
    .string({ error: () => 'a file path' })
    .max(4095, { error: () => 'a file path' })
    .regex(/^[^\0]*$/, { error: () => 'a file path' })
    .describe('The log (net.inet.siftr.logfile): created (0644) if missing, appended to, never through a symlink. Required when enabled.');

/** SIFTR's options: the `siftr` section and router.siftr.enable() take the same ones. */
const siftrOptions = {
  ppl: int(1, 0xffffffff).default(1).describe('Log every ppl-th segment of each connection (net.inet.siftr.ppl).'),
  portFilter: int(0, 65535).default(0).describe('Only segments with this source or destination port (net.inet.siftr.port_filter); 0 = all.'),
  cwndFilter: bool().optional().describe('net.inet.siftr.cwnd_filter: a router cannot observe congestion windows; only false is accepted.'),
  local: oneOf(['initiator', 'responder'], "'initiator' or 'responder'")
    .default('initiator')
    .describe('Which endpoint is "local" in the log: the connection\'s initiator or responder.'),
  pickupMidstream: bool().default(false).describe('Track connections whose SYN the router did not see (else counted as nskip_*_inpcb).'),
  maxConnections: int(1, 4194304).default(SIFTR_DEFAULT_CONNECTIONS).describe('Connections per worker; 256 bytes each, allocated at enable, freed at disable.'),
  ringSize: powerOfTwo(64, 1048576).default(8192).describe('Records queued per worker for the writer thread; 112 bytes each.'),
  maxFlows: int(1, 16777216).default(65536).describe("Flows remembered for the footer's flow_list."),
  idleTimeoutMs: int(1000, 86400000).default(300000).describe('A connection is forgotten after this long without a segment, ms.'),
  closeGraceMs: int(0, 3600000).default(30000).describe('... or this long after it closed (FIN both ways, or RST), ms.'),
};

export const SiftrSchema = section(
  {
    enabled: bool().default(false).describe('Log from the first forwarded segment (net.inet.siftr.enabled; enabled before the workers start).'),
    logfile: logfile().optional(),
    ...siftrOptions,
  },
  'an object',
).describe('SIFTR for forwarded TCP connections (FreeBSD siftr.c): the seed\'s sysctls plus sizes.');

/** router.siftr.enable()'s options: the section without `enabled`, logfile required. */
export const SiftrOptionsSchema = section({ logfile: logfile(), ...siftrOptions }, 'an options object');

// ──────────────────────────── control ────────────────────────────

export const ControlSchema = section(
  {
    socket: z
      .string({ error: () => `an absolute path of at most ${MAX_SOCKET_PATH} bytes` })
      .max(MAX_SOCKET_PATH, { error: () => `an absolute path of at most ${MAX_SOCKET_PATH} bytes` })
      .regex(/^\/[^\0]*$/, { error: () => `an absolute path of at most ${MAX_SOCKET_PATH} bytes` })
      .default(DEFAULT_CONTROL_SOCKET)
      .describe('The JSON-RPC unix socket: an absolute path of at most 107 bytes; its directory is created.'),
    socketGroup: z
      .union(
        [
          z.string({ error: () => 'a group name or a numeric gid' }).regex(/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/, { error: () => 'a group name or a numeric gid' }),
          int(0, 0xffffffff, 'a group name or a numeric gid'),
        ],
        { error: () => 'a group name or a numeric gid' },
      )
      .optional()
      .describe("Group owning the socket (mode 0660): a name or a gid. Default: the process's group."),
    metrics: z
      .string({ error: () => WHAT.listen })
      .regex(/^(?:\[[0-9A-Fa-f:.]+\]|[^:[\]\s]+):\d{1,5}$/, { error: () => WHAT.listen })
      .optional()
      .describe("Serve Prometheus metrics (GET /metrics) on 'host:port' or '[v6]:port' (port 0: any free port). Default: off."),
  },
  'an object',
).describe("The running router's control socket and metrics endpoint.");

// ──────────────────────────── topology ────────────────────────────

const HOST_NAME_WHAT = 'a host name matching [A-Za-z][A-Za-z0-9_-]{0,63}, not ending in -<digits>';

export const TopologyHostSchema = section(
  {
    // Namespace '<prefix>-<host>[-<pid>]': a trailing '-<digits>' would read as the pid.
    name: text(HOST_NAME_WHAT, /^(?!.*-\d+$)[A-Za-z][A-Za-z0-9_-]{0,63}$/).describe('Host name, unique; the namespace is <prefix>-<name>.'),
    port: text(WHAT.port).describe('The router port this host is wired to (a port name); one host per port.'),
    address: text(WHAT.interfaceAddress).describe("The host's IPv6 address with prefix length."),
    gateway: text(WHAT.unicast).describe("The host's default gateway: a link-local address, or one of the port's addresses inside the host's prefix."),
  },
  'a host object with name, port, address and gateway',
).describe('A Linux host in a network namespace.');

export const TopologySchema = section(
  {
    // As lib/topology.ts builds names: veth '<prefix><pid>-<id>r' must fit 15 characters.
    prefix: text('a name prefix matching [A-Za-z][A-Za-z0-9_-]{0,11}', /^[A-Za-z][A-Za-z0-9_-]{0,11}$/)
      .default('fp')
      .describe("Prefix of namespace and veth names (veth names must fit Linux's 15 characters)."),
    hosts: list(TopologyHostSchema, 'an array of hosts').describe('The hosts, each wired to a port of its own by a veth pair.'),
  },
  'an object with hosts',
).describe('Only for the demo and tests: Linux hosts in network namespaces, built before the router starts.');

// ───────────────────────────── root ─────────────────────────────

/** The whole config. Key order is the order sections are checked in. */
export const RouterConfigSchema = section(
  {
    eal: EalSchema.prefault({}),
    ports: list(PortSchema, `an array of at most ${MAX_PORTS} ports`, undefined, MAX_PORTS).describe(`Router ports, at most ${MAX_PORTS}.`),
    clones: list(CloneSchema, 'an array of { cloner, ... }')
      .prefault([])
      .describe('VLAN and loopback interfaces, created before routes and neighbours (which may name them).'),
    routes: list(RouteSchema, 'an array of routes').prefault([]),
    neighbours: list(NeighbourSchema, 'an array of neighbours').prefault([]),
    flowCache: FlowCacheSchema.prefault({}),
    mempool: MempoolSchema.prefault({}),
    neighbourDiscovery: NeighbourDiscoverySchema.prefault({}),
    icmpErrors: IcmpErrorsSchema.prefault({}),
    routing: RoutingSchema.prefault({}),
    flowLabels: FlowLabelsSchema.prefault({}),
    siftr: SiftrSchema.prefault({}),
    control: ControlSchema.prefault({}),
    linux: LinuxSchema.prefault({}),
    topology: TopologySchema.optional(),
  },
  'a router config object',
).describe('A fastpath router configuration (docs/configuration.md).');

/** What the schema pass returns: static defaults filled, nothing cross-checked yet. */
export type ParsedConfig = z.output<typeof RouterConfigSchema>;

/** The JSON Schema (draft-07) of the config as written: what `fastpath config schema` prints. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(RouterConfigSchema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  return { ...schema, title: 'fastpath router config' };
}

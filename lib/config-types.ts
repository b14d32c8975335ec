/**
 * The router's configuration types, as loaded from YAML (dpdk-config/*.yaml)
 * or given as an object to Router.start(). They are inferred from the one
 * schema in lib/config/schema.ts, where each field's description, bounds and
 * default live (`fastpath config schema` prints it as JSON Schema; the field
 * reference is docs/configuration.md). The normalized form, which
 * normalizeConfig() in config.ts returns, has every default filled in.
 */
import type { z } from 'zod';
import type {
  CloneSchema,
  ControlSchema,
  EalSchema,
  FlowCacheSchema,
  FlowLabelsSchema,
  IcmpErrorsSchema,
  MempoolSchema,
  NeighbourDiscoverySchema,
  NeighbourSchema,
  PortSchema,
  RouterConfigSchema,
  RouteSchema,
  RoutingSchema,
  SiftrSchema,
  TopologyHostSchema,
  TopologySchema,
} from './config/schema';
import type { NormalizedLinuxConfig } from './config/linux';
export type { LinuxConfig, NormalizedLinuxConfig } from './config/linux';

/** EAL (DPDK environment) settings. */
export interface EalConfig extends z.input<typeof EalSchema> {}
/** One router port: a DPDK ethdev, seen by users as an interface. */
export interface PortConfig extends z.input<typeof PortSchema> {}
/** An interface created at start (interfaces.clone() does it at run time). */
export interface CloneConfig extends z.input<typeof CloneSchema> {}
/** A static route. */
export interface RouteConfig extends z.input<typeof RouteSchema> {}
/** A static neighbour (IPv6 address → MAC on an interface). */
export interface NeighbourConfig extends z.input<typeof NeighbourSchema> {}
/** Per-lcore flow cache (NetBSD ip6_flow.c semantics). */
export interface FlowCacheConfig extends z.input<typeof FlowCacheSchema> {}
/** Neighbor Discovery (RFC 4861). */
export interface NeighbourDiscoveryConfig extends z.input<typeof NeighbourDiscoverySchema> {}
/** Flow labels on what the router originates (lib/sockets.ts, docs/flowlabels.md). */
export interface FlowLabelsConfig extends z.input<typeof FlowLabelsSchema> {}
/** SIFTR for forwarded TCP (lib/siftr.ts, docs/siftr.md); the seed's sysctls plus sizes. */
export interface SiftrConfig extends z.input<typeof SiftrSchema> {}
/** The routing table (FIB) size: fixed when the router starts. */
export interface RoutingConfig extends z.input<typeof RoutingSchema> {}
/** ICMPv6 error rate limit (RFC 4443 2.4 f): a token bucket per worker lcore. */
export interface IcmpErrorsConfig extends z.input<typeof IcmpErrorsSchema> {}
/** Packet buffer pool. */
export interface MempoolConfig extends z.input<typeof MempoolSchema> {}
/** The running router's control socket and metrics endpoint (docs/operations.md). */
export interface ControlConfig extends z.input<typeof ControlSchema> {}
/** A Linux host in a network namespace, used by the demo and tests. */
export interface TopologyHostConfig extends z.input<typeof TopologyHostSchema> {}
export interface TopologyConfig extends z.input<typeof TopologySchema> {}
export interface RouterConfig extends z.input<typeof RouterConfigSchema> {}

/** Normalized: still a ControlConfig (a normalized config is itself a valid config). */
export interface NormalizedControlConfig extends ControlConfig {
  socket: string;
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

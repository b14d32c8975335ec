/**
 * Router: hosts the DPDK data plane in this process and exposes its control
 * API. One router runs per process at a time (EAL is a process singleton);
 * after stop() a new one may start, reusing EAL and lcores.
 */
import { EventEmitter } from 'events';

import {
  addressEqual,
  formatIPv6,

  isMulticast,
  isMulticastMac,
  isUnspecified,
  isZeroMac,
  parseIPv6,
  parseMac,
  parsePrefix,
  prefixNetwork,
  formatPrefix,
} from './addr';
import { classifyDevice, ealArgs, loadConfig, NormalizedRouterConfig, NormalizeOptions } from './config';
import { RouterConfig } from './config-types';
import { FastpathError } from './errors';
import { call, callAsync, CounterNames, native, NativeAddon, NativeStartConfig } from './native';
import { decodeStats, RouterStats } from './stats';
import { AddressState, decodeEvent, EventStream, RouterEvent } from './events';

export type InterfaceFlag = 'UP' | 'RUNNING' | 'PROMISC' | 'ALLMULTI' | 'MULTICAST' | 'LOOPBACK';
export type InterfaceKind = 'port' | 'vlan' | 'loop';

export interface InterfaceInfo {
  readonly name: string;
  /** 1-based, stable while the router runs; never reused (a destroyed clone's index stays unused). */
  readonly index: number;
  readonly kind: InterfaceKind;
  /** A VLAN's parent port. */
  readonly parent?: string;
  /** A VLAN's 802.1Q id. */
  readonly vlan?: number;
  readonly device: string;
  readonly driver: string;
  readonly mac: string;
  readonly mtu: number;
  readonly flags: readonly InterfaceFlag[];
  readonly linkState: 'up' | 'down' | 'unknown';
  /** Where linkState comes from: 'lsc' (the PMD's link-status interrupts), 'netlink' (af_packet: the kernel interface's carrier), 'poll' (the PMD's link status every 100 ms). */
  readonly linkSource: 'poll' | 'lsc' | 'netlink';
  /** 'address/length', configured ones first, then the EUI-64 link-local one. */
  readonly addresses: readonly string[];
  /** Duplicate address detection state of each address (keys as in `addresses`). */
  readonly addressStates: Readonly<Record<string, AddressState>>;
  readonly rxQueues: number;
  readonly txQueues: number;
  readonly counters: import('./stats').InterfaceCounters;
}

export interface RouteInfo {
  readonly prefix: string;
  readonly via?: string;
  readonly dev: string;
  /** static: added by the user; connected: an interface's prefix; local: an interface's own address. */
  readonly kind: 'static' | 'connected' | 'local';
}

export interface NeighbourInfo {
  readonly address: string;
  readonly mac: string | null;
  readonly dev: string;
  readonly state: string;
  /** Gateway routes that use this neighbour. */
  readonly routeRefs: number;
  readonly ageMs: number;
}

export interface FlowInfo {
  readonly worker: number;
  readonly src: string;
  readonly dst: string;
  readonly flowLabel: number;
  readonly inDev: string;
  readonly outDev: string;
  readonly nextHopMac: string;
  readonly generation: number;
  readonly uses: bigint;
  readonly forwarded: bigint;
  readonly dropped: bigint;
  readonly ageMs: number;
  readonly idleMs: number;
}

let activeRouter: Router | undefined;
let starting = false;
let eventsSubscribed = false;

/** Drain native events and hand them to the running router (JS thread). */
function dispatchNativeEvents(addon: NativeAddon): void {
  const events = addon.eventsDrain();
  const router = activeRouter;
  if (router !== undefined) for (const e of events) router.deliverEvent(e);
}

/** Interfaces: name → slot index, shared by the table views ('' marks a destroyed clone's slot). */
class PortMap {
  constructor(private readonly names: readonly string[]) {}
  index(dev: unknown, what: string): number {
    if (typeof dev !== 'string') throw new FastpathError('EINVAL', `${what}: expected an interface name, got ${JSON.stringify(dev)}`);
    const i = dev === '' ? -1 : this.names.indexOf(dev);
    if (i < 0) {
      throw new FastpathError('ENOENT', `${what}: no interface named ${JSON.stringify(dev)} (have ${this.names.filter((n) => n !== '').join(', ')})`);
    }
    return i;
  }
  name(index: number): string {
    return this.names[index] ?? `#${index}`;
  }
}

/** Parse an address argument, naming the argument in errors. */
function addressArg(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string') throw new FastpathError('EINVAL', `${what}: expected an IPv6 address string, got ${JSON.stringify(value)}`);
  try {
    return parseIPv6(value);
  } catch (e) {
    throw new FastpathError('EINVAL', `${what}: ${(e as Error).message}`);
  }
}

export class Routes {
  /** @internal */
  constructor(private readonly addon: NativeAddon, private readonly ports: PortMap) {}

  /** Add a static route: `add('2001:db8:2::/64', { via: 'fe80::2', dev: 'eth1' })`. Omit `via` for an on-link route. */
  add(prefix: string, options: { via?: string; dev: string }): void {
    if (typeof prefix !== 'string') throw new FastpathError('EINVAL', `routes.add: prefix: expected a string, got ${JSON.stringify(prefix)}`);
    let p;
    try {
      p = parsePrefix(prefix);
    } catch (e) {
      throw new FastpathError('EINVAL', `routes.add: ${(e as Error).message}`);
    }
    const net = prefixNetwork(p);
    if (!addressEqual(net.address, p.address)) {
      throw new FastpathError('EINVAL', `routes.add: prefix ${JSON.stringify(prefix)} has host bits set (did you mean ${formatPrefix(net)}?)`);
    }
    if (options === null || typeof options !== 'object') throw new FastpathError('EINVAL', 'routes.add: options: expected { via?, dev }');
    const port = this.ports.index(options.dev, 'routes.add: dev');
    let via: Uint8Array | null = null;
    if (options.via !== undefined) {
      via = addressArg(options.via, 'routes.add: via');
      if (isMulticast(via) || isUnspecified(via)) {
        throw new FastpathError('EINVAL', `routes.add: via ${JSON.stringify(options.via)} must be a unicast address`);
      }
    }
    call(`routes.add ${prefix}`, () => this.addon.routeAdd(p.address, p.length, via, port));
  }

  /** Delete a static route by its prefix. */
  delete(prefix: string): void {
    let p;
    try {
      p = parsePrefix(prefix);
    } catch (e) {
      throw new FastpathError('EINVAL', `routes.delete: ${(e as Error).message}`);
    }
    call(`routes.delete ${prefix}`, () => this.addon.routeDelete(p.address, p.length));
  }

  list(): RouteInfo[] {
    return call('routes.list', () => this.addon.routeList()).map((r) => ({
      prefix: formatPrefix({ address: r.prefix, length: r.length }),
      ...(r.via ? { via: formatIPv6(r.via) } : {}),
      dev: this.ports.name(r.portIndex),
      kind: r.kind,
    }));
  }
}

export class Neighbours {
  /** @internal */
  constructor(private readonly addon: NativeAddon, private readonly ports: PortMap) {}

  /** Add or replace a static (permanent) neighbour. */
  add(entry: { address: string; mac: string; dev: string }): void {
    if (entry === null || typeof entry !== 'object') throw new FastpathError('EINVAL', 'neighbours.add: expected { address, mac, dev }');
    const address = addressArg(entry.address, 'neighbours.add: address');
    if (isMulticast(address) || isUnspecified(address)) {
      throw new FastpathError('EINVAL', `neighbours.add: address ${JSON.stringify(entry.address)} must be unicast`);
    }
    let mac: Uint8Array;
    try {
      mac = parseMac(entry.mac);
    } catch (e) {
      throw new FastpathError('EINVAL', `neighbours.add: mac: ${(e as Error).message}`);
    }
    if (isMulticastMac(mac) || isZeroMac(mac)) {
      throw new FastpathError('EINVAL', `neighbours.add: mac ${JSON.stringify(entry.mac)} must be a unicast MAC`);
    }
    const port = this.ports.index(entry.dev, 'neighbours.add: dev');
    call(`neighbours.add ${entry.address}`, () => this.addon.neighbourAdd(address, port, mac));
  }

  /** Delete a neighbour's link-layer address. */
  delete(entry: { address: string; dev: string }): void {
    const address = addressArg(entry?.address, 'neighbours.delete: address');
    const port = this.ports.index(entry.dev, 'neighbours.delete: dev');
    call(`neighbours.delete ${entry.address}`, () => this.addon.neighbourDelete(address, port));
  }

  /** Remove every learned (non-static) entry, on one interface or all; returns how many. */
  flush(options: { dev?: string } = {}): number {
    const port = options.dev === undefined ? null : this.ports.index(options.dev, 'neighbours.flush: dev');
    return call('neighbours.flush', () => this.addon.neighbourFlush(port));
  }

  /** ReachableTime now: BaseReachableTime 30 s × a random 0.5-1.5, drawn again every 2 h (RFC 4861 6.3.2). */
  get reachableTimeMs(): number {
    return this.addon.ndReachableMs();
  }

  /**
   * Static, learned (REACHABLE, STALE, DELAY, PROBE) and being-resolved
   * (INCOMPLETE, mac null) entries. ageMs: since the last change, or for
   * INCOMPLETE since the first solicitation.
   */
  list(): NeighbourInfo[] {
    return call('neighbours.list', () => this.addon.neighbourList()).map((n) => ({
      address: formatIPv6(n.address),
      mac: n.mac,
      dev: this.ports.name(n.portIndex),
      state: n.state,
      routeRefs: n.routeRefs,
      ageMs: n.ageMs,
    }));
  }
}

export class FlowCache {
  /** @internal */
  constructor(private readonly addon: NativeAddon, private readonly ports: PortMap, private settings: { maxflows: number; hashsize: number }) {}

  /** Every worker's entries, with their per-flow counters (each worker copies its own table). */
  async list(): Promise<FlowInfo[]> {
    const flows = await callAsync('flowCache.list', () => this.addon.flowCacheList());
    return flows.map((f) => ({
      worker: f.worker,
      src: formatIPv6(f.src),
      dst: formatIPv6(f.dst),
      flowLabel: f.flowLabel,
      inDev: this.ports.name(f.inPortIndex),
      outDev: this.ports.name(f.outPortIndex),
      nextHopMac: f.nextHopMac,
      generation: f.generation,
      uses: f.uses,
      forwarded: f.forwarded,
      dropped: f.dropped,
      ageMs: f.ageMs,
      idleMs: f.idleMs,
    }));
  }

  /** Current per-worker geometry. */
  get config(): { maxflows: number; hashsize: number } {
    return { ...this.settings };
  }

  /**
   * Change maxflows (0 disables) and/or hashsize (a power of two) at run time.
   * Each worker swaps in a new empty table itself; old entries' counters are
   * folded into the totals first (ip6flow_invalidate_all).
   */
  async configure(options: { maxflows?: number; hashsize?: number }): Promise<void> {
    const maxflows = options.maxflows ?? this.settings.maxflows;
    const hashsize = options.hashsize ?? this.settings.hashsize;
    if (!Number.isInteger(maxflows) || maxflows < 0 || maxflows > 4194304) {
      throw new FastpathError('EINVAL', `flowCache.configure: maxflows: expected an integer 0..4194304, got ${JSON.stringify(options.maxflows)}`);
    }
    if (!Number.isInteger(hashsize) || hashsize < 1 || hashsize > 1048576 || (hashsize & (hashsize - 1)) !== 0) {
      throw new FastpathError('EINVAL', `flowCache.configure: hashsize: expected a power of two 1..1048576, got ${JSON.stringify(options.hashsize)}`);
    }
    await callAsync('flowCache.configure', () => this.addon.flowCacheConfigure(maxflows, hashsize));
    this.settings = { maxflows, hashsize };
  }

  /** Remove every entry on every worker. */
  async flush(): Promise<void> {
    await callAsync('flowCache.flush', () => this.addon.flowCacheFlush());
  }
}

/** The interface cloners, as NetBSD's if_clone_list: `lo` and `vlan` there, 'loop' and 'vlan' here. */
const CLONERS = ['loop', 'vlan'] as const;
const IFNAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;

export interface GroupInfo {
  readonly address: string;
  /** MLDv1 listener state (mld6.c): 'delaying' while a report is due. */
  readonly state: 'non-listener' | 'delaying' | 'idle';
  /** Until the next report, ms (0: none due). */
  readonly timerMs: number;
  /** MLDv1: this router sent the last report (it sends Done when leaving). */
  readonly reportedLast: boolean;
  readonly refs: number;
  /** Joined by the router itself (ff02::1, ff02::2, ff02::16, solicited-node groups). */
  readonly automatic: boolean;
}

export interface CloneOptions {
  /** Interface name; default `<parent>.<vlan>` for a VLAN, `lo<N>` (lowest free N from 1) for a loopback. */
  name?: string;
  /** VLAN: the port it is on. */
  parent?: string;
  /** VLAN: the 802.1Q id, 1..4094. */
  vlan?: number;
  /** Addresses with prefix length ('2001:db8:ff::1/128'). */
  addresses?: string[];
}

export class Interfaces {
  /** @internal */
  constructor(private readonly router: Router) {}

  list(): InterfaceInfo[] {
    return this.router.interfaceList();
  }

  get(name: string): InterfaceInfo {
    const i = this.list().find((x) => x.name === name);
    if (i === undefined) throw new FastpathError('ENOENT', `interfaces.get: no interface named ${JSON.stringify(name)}`);
    return i;
  }

  /** The kinds of interface clone() makes (if_clone_list). */
  cloners(): string[] {
    return [...CLONERS];
  }

  /**
   * Create an interface (if_clone_create): `clone('vlan', { parent: 'eth0', vlan: 100 })`,
   * `clone('loop', { addresses: ['2001:db8:ff::1/128'] })`. Errors, as if.c
   * gives them: EINVAL for an unknown cloner, a bad name, VLAN id (0, 4095,
   * above) or address; ENXIO for an unknown parent; EEXIST for a name in use,
   * a VLAN id the parent has already, or an address assigned elsewhere;
   * ENOSPC when no interface index is left. A failed clone leaves nothing.
   */
  clone(cloner: string, options: CloneOptions = {}): InterfaceInfo {
    const what = 'interfaces.clone';
    if (typeof cloner !== 'string' || !(CLONERS as readonly string[]).includes(cloner)) {
      throw new FastpathError('EINVAL', `${what}: unknown cloner ${JSON.stringify(cloner)} (have ${CLONERS.join(', ')})`);
    }
    if (options === null || typeof options !== 'object') throw new FastpathError('EINVAL', `${what}: options: expected an object`);
    const names = this.list().map((i) => i.name);
    let parentSlot = 0;
    let vlan = 0;
    let name = options.name;
    if (cloner === 'vlan') {
      if (typeof options.parent !== 'string') throw new FastpathError('EINVAL', `${what}: parent: expected a port name, got ${JSON.stringify(options.parent)}`);
      const parent = this.list().find((i) => i.name === options.parent);
      if (parent === undefined) throw new FastpathError('ENXIO', `${what}: parent: no interface named ${JSON.stringify(options.parent)}`);
      if (parent.kind !== 'port') throw new FastpathError('EINVAL', `${what}: parent: ${parent.name} is a ${parent.kind}; a VLAN's parent must be a port`);
      if (!Number.isInteger(options.vlan) || (options.vlan as number) < 1 || (options.vlan as number) > 4094) {
        throw new FastpathError('EINVAL', `${what}: vlan: expected an 802.1Q id 1..4094, got ${JSON.stringify(options.vlan)}`);
      }
      vlan = options.vlan as number;
      parentSlot = parent.index - 1;
      name ??= `${parent.name}.${vlan}`;
    } else {
      if (options.parent !== undefined || options.vlan !== undefined) {
        throw new FastpathError('EINVAL', `${what}: a loopback has no parent or vlan`);
      }
      if (name === undefined) {
        let n = 1;
        while (names.includes(`lo${n}`)) n++;
        name = `lo${n}`;
      }
    }
    if (typeof name !== 'string' || !IFNAME_RE.test(name)) {
      throw new FastpathError('EINVAL', `${what}: name: expected [A-Za-z][A-Za-z0-9_.-]{0,14}, got ${JSON.stringify(name)}`);
    }
    if (names.includes(name)) throw new FastpathError('EEXIST', `${what}: an interface named ${JSON.stringify(name)} exists`);
    const addresses = (options.addresses ?? []).map((a, i) => {
      try {
        if (typeof a !== 'string') throw new Error('expected "address/length"');
        const p = parsePrefix(a);
        if (isMulticast(p.address) || isUnspecified(p.address)) throw new Error('must be unicast');
        return p;
      } catch (e) {
        throw new FastpathError('EINVAL', `${what}: addresses[${i}]: ${JSON.stringify(a)}: ${(e as Error).message}`);
      }
    });
    const slot = call(`${what} ${name}`, () => this.router.addonForInterfaces().ifaceClone(cloner, name as string, parentSlot, vlan, addresses));
    this.router.slotNamed(slot, name);
    return this.get(name);
  }

  /**
   * Destroy a cloned interface (if_clone_destroy): its addresses, routes and
   * neighbours go; its name is free again; its index is not reused. ENXIO for
   * an unknown name, EOPNOTSUPP for a port, EBUSY while VLANs use it.
   */
  destroy(name: string): void {
    const what = 'interfaces.destroy';
    const iface = this.list().find((i) => i.name === name);
    if (iface === undefined) throw new FastpathError('ENXIO', `${what}: no interface named ${JSON.stringify(name)}`);
    if (iface.kind === 'port') throw new FastpathError('EOPNOTSUPP', `${what}: ${name} is a port, not a cloned interface`);
    const child = this.list().find((i) => i.parent === name);
    if (child !== undefined) throw new FastpathError('EBUSY', `${what}: ${name} is the parent of ${child.name}`);
    call(`${what} ${name}`, () => this.router.addonForInterfaces().ifaceDestroy(iface.index - 1));
    this.router.slotNamed(iface.index - 1, '');
  }

  /** Change the MTU: 1280.. the device's maximum for a port, at most the parent's for a VLAN (EINVAL outside). */
  setMtu(name: string, mtu: number): void {
    const iface = this.get(name);
    if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 65535) {
      throw new FastpathError('EINVAL', `interfaces.setMtu ${name}: mtu: expected an integer 1280..65535, got ${JSON.stringify(mtu)}`);
    }
    call(`interfaces.setMtu ${name}`, () => this.router.addonForInterfaces().ifaceSetMtu(iface.index - 1, mtu));
  }

  /**
   * Take (true) or release (false) a promiscuous-mode reference, as NetBSD's
   * ifpromisc: the first reference turns the device's promiscuous mode on,
   * the last release turns it off; releasing with none held is EINVAL. A
   * VLAN's references are held on its parent.
   */
  setPromiscuous(name: string, on: boolean): void {
    const iface = this.get(name);
    call(`interfaces.setPromiscuous ${name}`, () => this.router.addonForInterfaces().ifaceSetFlag(iface.index - 1, 'promisc', on === true));
  }

  /** All-multicast references, counted like setPromiscuous. */
  setAllMulticast(name: string, on: boolean): void {
    const iface = this.get(name);
    call(`interfaces.setAllMulticast ${name}`, () => this.router.addonForInterfaces().ifaceSetFlag(iface.index - 1, 'allmulti', on === true));
  }

  /**
   * Join a multicast group on an interface (reference counted, like the
   * seed's in6_multi): the first join reports it with MLD (v2: a state-change
   * report to ff02::16, repeated once; v1: a report to the group, again
   * within 10 s) and programs the port's multicast filter; packets to the
   * group are handed to the control plane from then on.
   */
  joinGroup(name: string, group: string): void {
    const iface = this.get(name);
    const g = addressArg(group, `interfaces.joinGroup ${name}: group`);
    if (!isMulticast(g)) throw new FastpathError('EINVAL', `interfaces.joinGroup ${name}: group ${JSON.stringify(group)} is not a multicast address`);
    call(`interfaces.joinGroup ${name} ${group}`, () => this.router.addonForInterfaces().mldJoinLeave(iface.index - 1, g, true));
  }

  /** Drop one reference; the last one leaves the group (v2: a state-change report; v1: Done to ff02::2 if we reported last). ENOENT if not joined; EPERM for the router's own groups. */
  leaveGroup(name: string, group: string): void {
    const iface = this.get(name);
    const g = addressArg(group, `interfaces.leaveGroup ${name}: group`);
    call(`interfaces.leaveGroup ${name} ${group}`, () => this.router.addonForInterfaces().mldJoinLeave(iface.index - 1, g, false));
  }

  /** The groups joined on an interface: address, MLDv1 listener state, timer, "reported last", references, automatic (the router's own). */
  groups(name: string): { version: number; groups: GroupInfo[] } {
    const iface = this.get(name);
    const r = call(`interfaces.groups ${name}`, () => this.router.addonForInterfaces().mldGroups(iface.index - 1));
    return {
      version: r.version,
      groups: r.groups.map((g) => ({
        address: formatIPv6(g.address),
        state: g.state as GroupInfo['state'],
        timerMs: g.timerMs,
        reportedLast: g.reportedLast,
        refs: g.refs,
        automatic: g.automatic,
      })),
    };
  }

  /** IFF_UP: the interface receives and sends again; its addresses run duplicate address detection again. */
  setUp(name: string): void {
    this.router.setInterfaceUp(name, true);
  }

  /** Clear IFF_UP: the interface neither receives nor sends; routes through it stop being used and their flows are invalidated. */
  setDown(name: string): void {
    this.router.setInterfaceUp(name, false);
  }
}

export interface StartOptions extends NormalizeOptions {
  /** Hugepage availability override (tests); default: detected. */
  hugepagesAvailable?: boolean;
}

/** Build the addon's start config from a normalized config. */
function nativeStartConfig(cfg: NormalizedRouterConfig): NativeStartConfig {
  const workers = cfg.eal.workers;
  return {
    workerLcores: Array.from({ length: workers }, (_, i) => i + 1),
    ports: cfg.ports.map((p) => {
      const dev = classifyDevice(p.device);
      let device = p.device;
      // af_packet opens one socket per queue pair in a PACKET_FANOUT group; a
      // pair nobody polls would swallow its share of the traffic, so exactly
      // one pair per worker (the control thread gets no tx queue of its own).
      if (dev.driver === 'net_af_packet') {
        if (/(^|,)qpairs=/.test(dev.args)) device = device.replace(/qpairs=\d+/, `qpairs=${workers}`);
        else device += `,qpairs=${workers}`;
      }
      if (dev.kind === 'pci') device = dev.name;
      return {
        name: p.name,
        device,
        isVdev: dev.kind === 'vdev',
        ...(p.mac !== undefined ? { mac: parseMac(p.mac) } : {}),
        mtu: p.mtu,
        promiscuous: p.promiscuous,
        rxDescriptors: p.rxDescriptors,
        txDescriptors: p.txDescriptors,
        routerAdvertisements: p.routerAdvertisements,
        raMaxIntervalS: p.raMaxIntervalS,
        raMinIntervalS: p.raMinIntervalS,
        raRouterLifetimeS: p.raRouterLifetimeS,
        dadTransmits: p.dadTransmits,
        mldVersion: p.mld.version ?? 2,
        addresses: p.addresses.map((a) => parsePrefix(a)),
      };
    }),
    flowCache: { ...cfg.flowCache },
    mempool: { ...cfg.mempool },
    maxRoutes: cfg.routing.maxRoutes,
    tbl8Groups: cfg.routing.tbl8Groups,
    maxNeighbours: cfg.neighbourDiscovery.maxNeighbours,
    baseReachableTimeMs: cfg.neighbourDiscovery.baseReachableTimeMs,
    icmpErrors: { ...cfg.icmpErrors },
  };
}

export class Router extends EventEmitter {
  readonly config: NormalizedRouterConfig;
  readonly interfaces: Interfaces;
  readonly routes: Routes;
  readonly neighbours: Neighbours;
  readonly flowCache: FlowCache;
  private readonly addon: NativeAddon;
  private readonly portNames: string[];
  private readonly counterNames: CounterNames;
  private statsBuf: BigUint64Array = new BigUint64Array(0);
  private stopped = false;
  private readonly streams = new Set<EventStream>();

  private constructor(addon: NativeAddon, config: NormalizedRouterConfig) {
    super();
    this.addon = addon;
    this.config = config;
    this.portNames = config.ports.map((p) => p.name);
    const ports = new PortMap(this.portNames);
    this.counterNames = addon.counterNames();
    this.interfaces = new Interfaces(this);
    this.routes = new Routes(addon, ports);
    this.neighbours = new Neighbours(addon, ports);
    this.flowCache = new FlowCache(addon, ports, { maxflows: config.flowCache.maxflows, hashsize: config.flowCache.hashsize });
  }

  /** The router running in this process, if any. */
  static get active(): Router | undefined {
    return activeRouter;
  }

  /**
   * Start a router from a config object or a YAML file path. Initialises EAL
   * on first use; rejects with EBUSY while another router runs here.
   * Configured routes and neighbours are installed before this resolves.
   */
  static async start(source: RouterConfig | string, options: StartOptions = {}): Promise<Router> {
    if (activeRouter !== undefined || starting) {
      throw new FastpathError('EBUSY', 'Router.start: a router is already running in this process; stop() it first');
    }
    starting = true;
    try {
      const cfg = loadConfig(source, options);
      const addon = native();
      if (!eventsSubscribed) {
        addon.eventsSubscribe(() => dispatchNativeEvents(addon));
        eventsSubscribed = true;
      }
      addon.eventsDrain(); // a previous router's leftovers
      if (!addon.ealReady()) {
        const args = ealArgs(cfg, options);
        call('EAL initialisation', () => addon.ealInit(args));
      }
      call('Router.start', () => addon.start(nativeStartConfig(cfg)));
      const router = new Router(addon, cfg);
      try {
        for (const c of cfg.clones) {
          router.interfaces.clone(c.cloner, {
            name: c.name,
            addresses: c.addresses,
            ...(c.cloner === 'vlan' ? { parent: c.parent, vlan: c.vlan } : {}),
          });
        }
        for (const n of cfg.neighbours) router.neighbours.add(n);
        for (const r of cfg.routes) router.routes.add(r.prefix, r.via !== undefined ? { via: r.via, dev: r.dev } : { dev: r.dev });
        call('Router.start', () => addon.launch());
      } catch (e) {
        // A failed launch has already torn down; stop() then has nothing to do.
        if (addon.running()) addon.stop();
        throw e;
      }
      activeRouter = router;
      // Events posted between launch and now (first DAD states) are waiting.
      setImmediate(() => dispatchNativeEvents(addon));
      return router;
    } finally {
      starting = false;
    }
  }

  /** Stop the workers, drain, stop and detach the ports. EAL stays up for a later start. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      call('Router.stop', () => this.addon.stop());
    } finally {
      // What the native threads said before they stopped still counts.
      if (activeRouter === this) dispatchNativeEvents(this.addon);
      if (activeRouter === this) activeRouter = undefined;
      for (const s of this.streams) s.end();
      this.streams.clear();
      this.emit('stop');
    }
  }

  /**
   * Every event from now on, in order, until the router stops or the loop
   * breaks: `for await (const ev of router.events()) …`. At most `maxQueue`
   * unread events are kept (the oldest go first, counted in the stream's
   * `lost`). The same events are emitted as `router.on(ev.type, …)`.
   */
  events(options: { maxQueue?: number } = {}): EventStream {
    const maxQueue = options.maxQueue ?? 4096;
    if (!Number.isInteger(maxQueue) || maxQueue < 1) {
      throw new FastpathError('EINVAL', `events: maxQueue: expected a positive integer, got ${JSON.stringify(options.maxQueue)}`);
    }
    const s = new EventStream(maxQueue, (x) => this.streams.delete(x));
    if (this.stopped) s.end();
    else this.streams.add(s);
    return s;
  }

  /** @internal from the native event queue */
  deliverEvent(e: import('./native').NativeEvent): void {
    const ev: RouterEvent | undefined = decodeEvent(e, (i) => this.portNames[i] ?? `#${i}`);
    if (ev === undefined) return;
    for (const s of this.streams) s.push(ev);
    this.emit(ev.type, ev);
  }

  /**
   * Resolve once no interface address is tentative any more (duplicate
   * address detection finished everywhere: about 1-2 s after start with the
   * default dadTransmits 1); reject with ETIMEDOUT after timeoutMs.
   */
  async addressesSettled(timeoutMs = 10000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.stopped) throw new FastpathError('EINVAL', 'addressesSettled: the router is stopped');
      const pending = this.addon.ports().flatMap((p) =>
        p.addresses.filter((a) => a.state === 'tentative' || a.state === 'none').map((a) => `${p.name} ${formatPrefix(a)}`),
      );
      if (pending.length === 0) return;
      if (Date.now() >= deadline) {
        throw new FastpathError('ETIMEDOUT', `addressesSettled: still tentative after ${timeoutMs} ms: ${pending.join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  get running(): boolean {
    return !this.stopped;
  }

  /** Every counter, from one native snapshot. Cheap enough to poll at 10 Hz. */
  stats(): RouterStats {
    if (this.stopped) throw new FastpathError('EINVAL', 'stats: the router is stopped');
    const size = this.addon.statsSize();
    if (this.statsBuf.length < size) this.statsBuf = new BigUint64Array(size);
    const words = this.addon.statsSnapshot(this.statsBuf);
    if (words === 0) throw new FastpathError('EIO', 'stats: snapshot failed');
    return decodeStats(this.statsBuf, words, this.counterNames, this.portNames);
  }

  /** Names and descriptions of every counter (generated from native/core/counters.h). */
  counterDescriptions(): CounterNames {
    return this.counterNames;
  }

  /** @internal */
  addonForInterfaces(): NativeAddon {
    if (this.stopped) throw new FastpathError('EINVAL', 'interfaces: the router is stopped');
    return this.addon;
  }

  /** @internal a clone got slot `slot` (or, with '', a destroyed one freed its name) */
  slotNamed(slot: number, name: string): void {
    while (this.portNames.length <= slot) this.portNames.push('');
    this.portNames[slot] = name;
  }

  /** @internal */
  interfaceList(): InterfaceInfo[] {
    if (this.stopped) return [];
    const ports = this.addon.ports();
    const stats = this.stats();
    return ports.map((p) => {
      const flags: InterfaceFlag[] = [];
      if (p.up) flags.push('UP');
      if (p.up && p.linkState === 'up') flags.push('RUNNING');
      if (p.promiscuous) flags.push('PROMISC');
      if (p.allmulti) flags.push('ALLMULTI');
      flags.push(p.kind === 'loop' ? 'LOOPBACK' : 'MULTICAST');
      return {
        name: p.name,
        index: p.index,
        kind: p.kind,
        ...(p.parentIndex !== null ? { parent: this.portNames[p.parentIndex], vlan: p.vlanId } : {}),
        device: p.device,
        driver: p.driver,
        mac: p.mac,
        mtu: p.mtu,
        flags,
        linkState: p.linkState,
        linkSource: p.linkSource,
        addresses: p.addresses.map((a) => formatPrefix({ address: a.address, length: a.length })),
        addressStates: Object.fromEntries(
          p.addresses.map((a) => [formatPrefix({ address: a.address, length: a.length }), (a.state === 'none' ? 'tentative' : a.state) as AddressState]),
        ),
        rxQueues: p.rxQueues,
        txQueues: p.txQueues,
        counters: stats.ports[p.name],
      };
    });
  }

  /** Admin up/down of an interface (IFF_UP): a down interface neither receives nor sends. */
  setInterfaceUp(name: string, up: boolean): void {
    const i = this.portNames.indexOf(name);
    if (i < 0) throw new FastpathError('ENOENT', `setInterfaceUp: no interface named ${JSON.stringify(name)}`);
    call(`setInterfaceUp ${name}`, () => this.addon.portSetUp(i, up));
  }
}



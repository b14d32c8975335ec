/**
 * Router: hosts the DPDK data plane in this process and exposes its control
 * API. One router runs per process at a time (EAL is a process singleton);
 * after stop() a new one may start, reusing EAL and lcores.
 */
import { EventEmitter } from 'events';

import { formatPrefix, parseMac, parsePrefix } from './addr';
import { classifyDevice, ealArgs, loadConfig, NormalizedRouterConfig, NormalizeOptions } from './config';
import { RouterConfig } from './config-types';
import { describeValue, FastpathError } from './errors';
import { call, CounterNames, native, NativeAddon, NativeStartConfig } from './native';
import { decodeStats, RouterStats } from './stats';
import { AddressState, decodeEvent, EventStream, RouterEvent } from './events';
import { FlowLabels, Sockets } from './sockets';
import { Siftr } from './siftr';
import { Linux } from './linux';
import { Capture } from './capture';
import { FlowCache } from './flowcache';
import { InterfaceFlag, InterfaceInfo, Interfaces } from './interfaces';
import { Neighbours } from './neighbours';
import { booleanArg, optionsArg, PortMap } from './portmap';
import { recordDpdkOwner, removeStaleDpdkState } from './recovery';
import { Routes } from './routes';

// The table views live beside this file, one per table; exported here too, as before.
export { FlowCache, Interfaces, Neighbours, Routes };
export type { CloneOptions, GroupInfo, InterfaceFlag, InterfaceInfo, InterfaceKind } from './interfaces';
export type { RouteInfo } from './routes';
export type { NeighbourInfo } from './neighbours';
export type { FlowInfo } from './flowcache';

let activeRouter: Router | undefined;
let starting = false;
let eventsSubscribed = false;

/** Drain native events and hand them to the running router (JS thread). */
function dispatchNativeEvents(addon: NativeAddon): void {
  const events = addon.eventsDrain();
  const router = activeRouter;
  if (router !== undefined) for (const e of events) router.deliverEvent(e);
}

export interface StartOptions extends NormalizeOptions {
  /** Hugepage availability override (tests); default: detected. */
  hugepagesAvailable?: boolean;
  /** Where start says what stale state of a dead router it removed (lib/recovery.ts). Default: console.error. */
  log?: (line: string) => void;
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
  /** UDP sockets on the router's own addresses (lib/sockets.ts). */
  readonly sockets: Sockets;
  /** The flow-label manager's table. */
  readonly flowLabels: FlowLabels;
  /** SIFTR for forwarded TCP (lib/siftr.ts). */
  readonly siftr: Siftr;
  /** Linux mirror interfaces and route import (lib/linux.ts). */
  readonly linux: Linux;
  /** Packet capture on ports, to pcapng (lib/capture.ts). */
  readonly capture: Capture;
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
    this.flowCache = new FlowCache(addon, ports, { maxflows: config.flowCache.maxflows, hashsize: config.flowCache.hashsize, mode: config.flowCache.mode }, () => this.stats().flowCache.inuse);
    this.sockets = new Sockets(addon, ports);
    this.flowLabels = new FlowLabels(addon);
    this.siftr = new Siftr(addon);
    this.linux = new Linux(addon, ports);
    this.capture = new Capture(() => this.addonForInterfaces(), () => this.interfaceList());
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
        addon.eventsSubscribe(() => {
          // Never throw back into the native wake-up (a C++ exception there
          // ends the process): a listener's error surfaces as any other.
          try {
            dispatchNativeEvents(addon);
          } catch (e) {
            process.nextTick(() => {
              throw e;
            });
          }
        });
        eventsSubscribed = true;
      }
      addon.eventsDrain(); // a previous router's leftovers
      if (!addon.ealReady()) {
        const args = ealArgs(cfg, options);
        // A router of this prefix family killed earlier left its runtime
        // directory and hugepage files: remove them before EAL looks there.
        removeStaleDpdkState(cfg.eal.filePrefix, options.log ?? ((line) => console.error(line)));
        call('EAL initialisation', () => addon.ealInit(args));
        recordDpdkOwner(cfg.eal.filePrefix);
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
        for (const r of cfg.routes) {
          if (r.nexthops !== undefined) router.routes.add(r.prefix, { nexthops: r.nexthops });
          else router.routes.add(r.prefix, r.via !== undefined ? { via: r.via, dev: r.dev as string } : { dev: r.dev as string });
        }
        call('Router.start', () => addon.udpConfigure({ ...cfg.flowLabels }));
        // Before launch: SIFTR then sees the first forwarded segment.
        if (cfg.siftr.enabled) {
          const { enabled: _on, ...siftr } = cfg.siftr;
          await router.siftr.enable(siftr);
        }
        call('Router.start', () => addon.launch());
        // Once running: the mirrors copy the ports' state, the import
        // needs the FIB (its routes stop with the router).
        router.linux.enable(cfg.linux);
      } catch (e) {
        // SIFTR enabled before a failed launch: its footer, then the stop.
        if (router.siftr.status().enabled) await router.siftr.disable().catch(() => undefined);
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
      this.capture.routerStopping();
      call('Router.stop', () => this.addon.stop());
    } finally {
      // What the native threads said before they stopped still counts.
      if (activeRouter === this) dispatchNativeEvents(this.addon);
      if (activeRouter === this) activeRouter = undefined;
      this.sockets.stopAll();
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
    const given = optionsArg(options, 'events').maxQueue;
    const maxQueue = given ?? 4096;
    if (!Number.isInteger(maxQueue) || maxQueue < 1) {
      throw new FastpathError('EINVAL', `events: maxQueue: expected a positive integer, got ${describeValue(given)}`);
    }
    const s = new EventStream(maxQueue, (x) => this.streams.delete(x));
    if (this.stopped) s.end();
    else this.streams.add(s);
    return s;
  }

  /** @internal from the native event queue */
  deliverEvent(e: import('./native').NativeEvent): void {
    if (e.type === 'socket') {
      this.sockets.deliver(e);
      return;
    }
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
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) {
      throw new FastpathError('EINVAL', `addressesSettled: timeoutMs: expected a number of milliseconds >= 0, got ${describeValue(timeoutMs)}`);
    }
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
    booleanArg(up, `setInterfaceUp ${describeValue(name)}: up`);
    const i = typeof name === 'string' && name !== '' ? this.portNames.indexOf(name) : -1;
    if (i < 0) throw new FastpathError('ENOENT', `setInterfaceUp: no interface named ${describeValue(name)}`);
    call(`setInterfaceUp ${name}`, () => this.addon.portSetUp(i, up));
  }
}



/**
 * Loads the native addon and turns its errors into FastpathError. The addon
 * throws plain Errors carrying an errno-style `code`; nothing else here.
 */
import * as fs from 'fs';
import * as path from 'path';

import { FastpathError, FastpathErrorCode } from './errors';

export interface NativeAddress {
  address: Uint8Array;
  length: number;
  /** Ports only: DAD state. */
  state?: 'none' | 'tentative' | 'preferred' | 'duplicated';
}

/** An event drained from the native queue (native/core/event.h). */
export interface NativeEvent {
  type: 'address' | 'neighbour' | 'link' | 'mld' | 'socket' | 'none';
  portIndex: number;
  /** enum fp_addr_state / fp_neigh_state */
  state: number;
  previous: number;
  address: Uint8Array;
  length: number;
  /** Wall clock, ms since the epoch. */
  at: number;
}

export interface NativePortConfig {
  name: string;
  device: string;
  isVdev: boolean;
  mac?: Uint8Array;
  mtu: number;
  promiscuous: boolean;
  rxDescriptors: number;
  txDescriptors: number;
  routerAdvertisements: boolean;
  raMaxIntervalS: number;
  raMinIntervalS: number;
  raRouterLifetimeS: number;
  dadTransmits: number;
  mldVersion: number;
  addresses: NativeAddress[];
}

export interface NativeStartConfig {
  workerLcores: number[];
  ports: NativePortConfig[];
  flowCache: { maxflows: number; hashsize: number; idleTimeoutMs: number; floodAdmission: boolean; mode: 'cache' | 'auto' };
  mempool: { mbufs: number; cacheSize: number };
  maxRoutes: number;
  tbl8Groups: number;
  maxNeighbours: number;
  baseReachableTimeMs: number;
  icmpErrors: { perSecond: number; burst: number };
}

export interface NativePort {
  name: string;
  /** 1-based interface index (slot + 1). */
  index: number;
  slot: number;
  kind: 'port' | 'vlan' | 'loop';
  parentIndex: number | null;
  vlanId: number;
  allmulti: boolean;
  promiscRefs: number;
  allmultiRefs: number;
  portId: number;
  device: string;
  driver: string;
  mac: string;
  mtu: number;
  up: boolean;
  promiscuous: boolean;
  rxQueues: number;
  txQueues: number;
  controlTxQueue: number;
  linkState: 'unknown' | 'down' | 'up';
  /** Where the link state comes from: LSC interrupts, the kernel (af_packet), or polling. */
  linkSource: 'poll' | 'lsc' | 'netlink';
  linkSpeedMbps: number;
  addresses: NativeAddress[];
}

export interface NativeRoute {
  prefix: Uint8Array;
  length: number;
  kind: 'static' | 'connected' | 'local' | 'kernel';
  /** kind 'kernel': the kernel route's rtm_protocol. */
  protocol?: number;
  portIndex: number;
  via: Uint8Array | null;
  state: 'up' | 'down';
  /** ECMP routes: every next hop of the group. */
  nexthops?: { via: Uint8Array | null; portIndex: number; weight: number; state: 'up' | 'down' }[];
}

export interface NativeNeighbour {
  address: Uint8Array;
  mac: string | null;
  state: string;
  portIndex: number;
  routeRefs: number;
  ageMs: number;
}

export interface NativeFlow {
  worker: number;
  src: Uint8Array;
  dst: Uint8Array;
  flowLabel: number;
  inPortIndex: number;
  outPortIndex: number;
  nextHopMac: string;
  generation: number;
  uses: bigint;
  forwarded: bigint;
  dropped: bigint;
  ageMs: number;
  idleMs: number;
}

export interface CounterNames {
  lcore: string[];
  drop: string[];
  port: string[];
  control: string[];
  lcoreDescriptions: string[];
  dropDescriptions: string[];
  portDescriptions: string[];
  controlDescriptions: string[];
}

export interface NativeAddon {
  ealInit(args: string[]): void;
  ealReady(): boolean;
  /** Configure ports and tables; nothing forwards until launch(). */
  start(cfg: NativeStartConfig): void;
  launch(): void;
  stop(): void;
  running(): boolean;
  ports(): NativePort[];
  portSetUp(index: number, up: boolean): void;
  /** A clone in a new slot; returns the slot. */
  ifaceClone(kind: string, name: string, parentSlot: number, vlan: number, addresses: NativeAddress[]): number;
  ifaceDestroy(slot: number): void;
  mldJoinLeave(slot: number, group: Uint8Array, join: boolean): void;
  mldGroups(slot: number): {
    version: number;
    groups: { address: Uint8Array; state: string; reportedLast: boolean; automatic: boolean; refs: number; timerMs: number }[];
  };
  ifaceSetMtu(slot: number, mtu: number): void;
  ifaceSetFlag(slot: number, flag: 'promisc' | 'allmulti', on: boolean): void;
  routeAdd(prefix: Uint8Array, length: number, via: Uint8Array | null, portIndex: number): void;
  routeDelete(prefix: Uint8Array, length: number): void;
  /** Packed struct fp_route_spec records (36 bytes each); rejects with `index`. */
  routeAddMany(specs: Uint8Array): Promise<void>;
  routeDeleteMany(prefixes: Uint8Array, lengths: Uint8Array): Promise<void>;
  routeReplace(prefix: Uint8Array, length: number, via: Uint8Array | null, portIndex: number): void;
  routeAddGroup(prefix: Uint8Array, length: number, nexthops: { via: Uint8Array | null; port: number; weight: number }[]): void;
  routeList(): NativeRoute[];
  /** Routes in the list, up and down (core/routes_query.c). */
  routeCount(): number;
  /** Up to max routes in key order after the key (cursor, cursorLength), inside (prefix, prefixLength); null: none. */
  routePage(
    cursor: Uint8Array | null,
    cursorLength: number,
    prefix: Uint8Array | null,
    prefixLength: number,
    max: number,
  ): { routes: NativeRoute[]; more: boolean };
  /** The longest match in the active FIB copy (up routes only). */
  routeLookup(address: Uint8Array): NativeRoute | undefined;
  neighbourAdd(address: Uint8Array, portIndex: number, mac: Uint8Array): void;
  neighbourDelete(address: Uint8Array, portIndex: number): void;
  neighbourList(): NativeNeighbour[];
  neighbourFlush(portIndex: number | null): number;
  /** The current randomised ReachableTime. */
  ndReachableMs(): number;
  counterNames(): CounterNames;
  statsSize(): number;
  statsSnapshot(into: BigUint64Array): number;
  flowCacheList(): Promise<NativeFlow[]>;
  flowCacheConfigure(maxflows: number, hashsize: number): Promise<void>;
  flowCacheFlush(): Promise<void>;
  flowCacheSetMode(mode: 'cache' | 'auto'): Promise<void>;
  /** Bytes one worker's flow cache takes at this geometry (core/flowcache.c fp_flowcache_memsize). */
  flowCacheMemsize(maxflows: number, hashsize: number, neighbours: number): number;
  /** Call `wake` (on the JS thread) whenever native events are waiting. Once per process. */
  eventsSubscribe(wake: () => void): void;
  eventsDrain(): NativeEvent[];
  eventsRef(keepAlive: boolean): void;
  socketOpen(o: {
    address: Uint8Array;
    port: number;
    iface: number;
    pid: number;
    uid: number;
    reflect: boolean;
    rxQueue: number;
  }): { slot: number; gen: number; port: number };
  socketClose(slot: number): void;
  socketSend(slot: number, address: Uint8Array, port: number, data: Uint8Array, flowLabel: number): number;
  socketRecv(slot: number, max: number): NativeDatagram[];
  flowLabelGet(
    slot: number,
    req: { destination: Uint8Array; label: number; share: number; flags: number; linger: number; expires: number },
  ): number;
  flowLabelPut(slot: number, label: number): void;
  flowLabelRenew(slot: number, label: number, share: number, linger: number, expires: number): void;
  flowLabelList(): NativeFlowLabel[];
  udpConfigure(c: { autoLabels: boolean; stateRanges: boolean }): void;
  siftrEnable(o: NativeSiftrParams): Promise<void>;
  siftrConfigure(o: { logfile?: string; ppl?: number; portFilter?: number }): Promise<void>;
  siftrDisable(): Promise<NativeSiftrStatus & { flows: { laddr: string; lport: number; faddr: string; fport: number }[] }>;
  siftrStatus(): NativeSiftrStatus;
  linuxEnable(o: { mirrors: { portIndex: number; name: string }[]; importRoutes: boolean; importTable: number; importProtocols: number[] }): void;
  linuxStatus(): {
    enabled: boolean;
    importing: boolean;
    imported: number;
    shadowed: number;
    dumpDone: boolean;
    mirrors: { portIndex: number; name: string; ifindex: number; toKernel: bigint; fromKernel: bigint }[];
  };
  /** control/capture.h: returns the capture's id. direction: 1 rx, 2 tx, 3 both. */
  captureStart(o: { interfaces: number[]; direction: number; filter: string | null; snaplen: number; buffer: number }): number;
  /** Records (struct fp_capture_record + frame, 4-byte aligned) of up to maxBytes; ENOENT once released. */
  captureRead(id: number, maxBytes: number): { data: Buffer; packets: number };
  captureStats(id: number): NativeCaptureStats;
  captureStop(id: number): NativeCaptureStats;
  captureRelease(id: number): void;
}

/** control/capture.h's struct fp_capture_stats, and whether the callbacks are installed. */
export interface NativeCaptureStats {
  seen: number;
  matched: number;
  captured: number;
  dropped: number;
  running: boolean;
}

/** control/siftr_writer.h's struct fp_siftr_params. */
export interface NativeSiftrParams {
  logfile: string;
  sysver: string;
  ppl: number;
  portFilter: number;
  localIsResponder: boolean;
  pickupMidstream: boolean;
  maxConnections: number;
  ringSize: number;
  maxFlows: number;
  idleMs: number;
  closeGraceMs: number;
}

/** control/siftr_writer.h's struct fp_siftr_status (only `enabled` while off). */
export interface NativeSiftrStatus {
  enabled: boolean;
  logfile?: string;
  ppl?: number;
  portFilter?: number;
  enableTimeUs?: number;
  disableTimeUs?: number;
  inbound?: number;
  outbound?: number;
  skipped?: { inMalloc: number; outMalloc: number; inTcpcb: number; outTcpcb: number; inInpcb: number; outInpcb: number };
  tableFull?: number;
  ringFull?: number;
  filtered?: number;
  badOptions?: number;
  connectionsCreated?: number;
  connectionsReused?: number;
  connectionsExpired?: number;
  records?: number;
  retransmissions?: number;
  rttSamples?: number;
  logged?: number;
  writeErrors?: number;
  bytes?: number;
  connections?: number;
  flowCount?: number;
  flowsDropped?: number;
  files?: number;
}

export interface NativeDatagram {
  data: Buffer;
  address: Uint8Array;
  port: number;
  flowLabel: number;
  iface: number;
  hopLimit: number;
}

export interface NativeFlowLabel {
  label: number;
  share: number;
  ownerPid: number;
  ownerUid: number;
  users: number;
  lingerS: number;
  expiresInS: number;
  destination: Uint8Array;
}

let addon: NativeAddon | undefined;

/** The package root: the first directory above this file with a package.json (lib/ under ts-node, dist/lib/ when compiled). */
export function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** fastpath's version, from its package.json (SIFTR's header carries it). */
export function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? '0';
}

/** The addon, loaded once (build/Release from node-gyp or cmake-js). */
export function native(): NativeAddon {
  if (addon === undefined) {
    const root = packageRoot();
    const candidates = [
      path.join(root, 'build', 'Release', 'fastpath.node'),
      path.join(root, 'build', 'Debug', 'fastpath.node'),
    ];
    let lastError: unknown;
    for (const file of candidates) {
      try {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        addon = require(file) as NativeAddon;
        break;
      } catch (e) {
        lastError = e;
      }
    }
    if (addon === undefined) {
      throw new FastpathError(
        'ENOENT',
        `the native addon is not built (looked in ${candidates.join(', ')}): run npm install ` +
          `(${(lastError as Error)?.message ?? 'unknown error'})`,
      );
    }
  }
  return addon;
}

const CODES: readonly FastpathErrorCode[] = [
  'EINVAL', 'EEXIST', 'ENOENT', 'EPERM', 'ENOSPC', 'EBUSY', 'ENODEV', 'ENOTSUP', 'EIO', 'ENOMEM', 'ENXIO', 'EOPNOTSUPP',
  'EADDRINUSE', 'EADDRNOTAVAIL', 'EBADF', 'EMSGSIZE', 'ENOBUFS', 'EMFILE', 'ERANGE', 'ENOPROTOOPT',
  'EACCES', 'EISDIR', 'ELOOP', 'ENOTDIR', 'EROFS',
];

/** Convert an addon error into a FastpathError, prefixing what was asked. */
export function nativeError(e: unknown, context: string): FastpathError {
  if (e instanceof FastpathError) return e;
  const err = e as { code?: string; message?: string };
  const code = CODES.includes(err.code as FastpathErrorCode) ? (err.code as FastpathErrorCode) : 'EIO';
  return new FastpathError(code, `${context}: ${err.message ?? String(e)}`);
}

/** Run an addon call, converting its error. */
export function call<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw nativeError(e, context);
  }
}

/** Await an addon promise, converting its error. */
export async function callAsync<T>(context: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw nativeError(e, context);
  }
}

/**
 * Decodes the native stats snapshot (one copy of every counter, taken in one
 * addon call; layout in native/core/router.c) into named bigints.
 */
import { CounterNames } from './native';

/** if_data-style interface counters. */
export interface InterfaceCounters {
  /** Packets the router received on the interface. */
  ipackets: bigint;
  /** Packets sent (accepted by the tx queue). */
  opackets: bigint;
  ibytes: bigint;
  obytes: bigint;
  /** Receive errors reported by the device. */
  ierrors: bigint;
  /** Packets the tx queue refused plus device transmit errors. */
  oerrors: bigint;
  /** Packets lost before the router saw them (rx ring full, no mbufs). */
  iqdrops: bigint;
  /** Received packets the router dropped (any drop reason). */
  drops: bigint;
  /** Received packets of an unsupported protocol (not IPv6). */
  noproto: bigint;
}

export interface LcoreStats {
  /** 0-based worker index (= its rx queue on each port). */
  worker: number;
  /** EAL lcore id. */
  lcore: number;
  counters: Readonly<Record<string, bigint>>;
  drops: Readonly<Record<string, bigint>>;
}

export interface FlowCacheStats {
  hits: bigint;
  misses: bigint;
  stale: bigint;
  inserts: bigint;
  reaps: bigint;
  expiries: bigint;
  invalidations: bigint;
  inuse: bigint;
  /** Misses forwarded without an entry: under a flow flood only a share of flows is admitted (docs/architecture.md). */
  unadmitted: bigint;
  /** The narrowest admission over the workers: 1 in 2^this of new flows gets an entry (0: every flow). */
  admitShift: number;
  /** Packets looked up in the FIB alone because flowCache.mode auto measured it cheaper (not counted per flow). */
  direct: bigint;
  /** Workers on which flowCache.mode auto has the FIB alone in force now (0 with mode cache). */
  directWorkers: number;
}

/** The FIB (routing table) and what it costs; see docs/architecture.md (FIB). */
export interface FibStats {
  /** Routes in the list, up and down. */
  routes: number;
  /** Of which withdrawn from the FIB because their interface is down (docs/interfaces.md, "Routes and link state"). */
  routesDown: number;
  maxRoutes: number;
  /** tbl8 groups per FIB copy (routing.tbl8Groups). */
  tbl8Groups: number;
  /** Groups holding prefixes in the active copy (exact: a group is given back as soon as it is not needed). */
  tbl8InUse: number;
  /** Memory of one FIB copy (there are two): the workers' tables plus the prefix lengths kept beside them. */
  bytesPerCopy: number;
  /** Copies recreated from the route list (only after a copy refused a change the other took: not expected). */
  rebuilds: bigint;
  rebuildLastNs: bigint;
  rebuildMaxNs: bigint;
}

/**
 * What the router holds that a leak would grow (issue: reliability): after
 * traffic stops and the router idles, every figure returns to its idle
 * baseline. Gauges, read at the snapshot.
 */
export interface ResourceStats {
  /** The main packet-buffer pool (mempool.mbufs): buffers, and buffers not free (in rx/tx rings, queues, caches). */
  mbufs: { size: number; inUse: number };
  /** fastpath's other buffer pools (the 64 KiB one for fragments). */
  bigMbufs: { size: number; inUse: number };
  /** Events waiting for JS, and the ring's capacity. */
  eventRing: { used: number; size: number };
  /** Per worker: packets waiting in its punt ring (to the control thread), its control-tx ring, and SIFTR records for the writer. */
  workers: readonly { punt: number; ctlTx: number; siftr: number }[];
  /** This process's resident set (process.memoryUsage().rss at the snapshot). */
  rssBytes: number;
}

export interface RouterStats {
  /** TSC at the snapshot and its frequency. */
  tsc: bigint;
  tscHz: bigint;
  /** Route/neighbour/interface generation. */
  generation: number;
  /** Every lcore counter summed over workers, plus `drop_<reason>` sums. */
  totals: Readonly<Record<string, bigint>>;
  /** Drop reasons summed over workers. */
  drops: Readonly<Record<string, bigint>>;
  lcores: readonly LcoreStats[];
  ports: Readonly<Record<string, InterfaceCounters>>;
  control: Readonly<Record<string, bigint>>;
  flowCache: FlowCacheStats;
  fib: FibStats;
  resources: ResourceStats;
}


const ETHDEV_WORDS = 8;

/** Decode a snapshot of `words` words for interface slots named in order ('' for a destroyed clone's slot, left out). */
export function decodeStats(
  buf: BigUint64Array,
  words: number,
  names: CounterNames,
  portNames: readonly string[],
): RouterStats {
  let i = 0;
  const next = (): bigint => {
    if (i >= words) throw new RangeError('stats snapshot shorter than its layout');
    return buf[i++];
  };
  const record = (keys: readonly string[]): Record<string, bigint> => {
    const r: Record<string, bigint> = {};
    for (const k of keys) r[k] = next();
    return r;
  };
  const tscHz = next();
  const tsc = next();
  const generation = Number(next());
  const nworkers = Number(next());
  const nports = Number(next());
  const control = record(names.control);
  const fib: FibStats = {
    routes: Number(next()),
    routesDown: Number(next()),
    maxRoutes: Number(next()),
    tbl8Groups: Number(next()),
    tbl8InUse: Number(next()),
    bytesPerCopy: Number(next()),
    rebuilds: next(),
    rebuildLastNs: next(),
    rebuildMaxNs: next(),
  };

  const num = (): number => Number(next());
  const resources: ResourceStats = {
    mbufs: { size: num(), inUse: num() },
    bigMbufs: { size: num(), inUse: num() },
    eventRing: { used: num(), size: num() },
    workers: Array.from({ length: nworkers }, () => ({ punt: num(), ctlTx: num(), siftr: num() })),
    rssBytes: process.memoryUsage.rss(),
  };

  const totals: Record<string, bigint> = {};
  const drops: Record<string, bigint> = {};
  for (const k of names.lcore) totals[k] = 0n;
  for (const k of names.drop) drops[k] = 0n;
  const portSums = Array.from({ length: nports }, () => {
    const r: Record<string, bigint> = {};
    for (const k of names.port) r[k] = 0n;
    return r;
  });
  const lcores: LcoreStats[] = [];
  for (let w = 0; w < nworkers; w++) {
    const lcore = Number(next());
    const counters = record(names.lcore);
    const d = record(names.drop);
    for (const k of names.lcore) totals[k] += counters[k];
    for (const k of names.drop) drops[k] += d[k];
    for (let p = 0; p < nports; p++) {
      const pc = record(names.port);
      for (const k of names.port) portSums[p][k] += pc[k];
    }
    lcores.push({ worker: w, lcore, counters, drops: d });
  }
  const ports: Record<string, InterfaceCounters> = {};
  for (let p = 0; p < nports; p++) {
    const [ipackets, opackets, ibytes, obytes, imissed, ierrors, oerrors, rxNombuf] =
      Array.from({ length: ETHDEV_WORDS }, next);
    void ipackets; void opackets; void ibytes; void obytes;
    const s = portSums[p];
    if (portNames[p] === '') continue; // a destroyed clone
    ports[portNames[p] ?? `port${p}`] = {
      ipackets: s.ipackets,
      opackets: s.opackets,
      ibytes: s.ibytes,
      obytes: s.obytes,
      ierrors,
      oerrors: s.oerrors + oerrors,
      iqdrops: imissed + rxNombuf,
      drops: s.idrops,
      noproto: s.noproto,
    };
  }
  const allTotals: Record<string, bigint> = { ...totals };
  for (const k of names.drop) allTotals[`drop_${k}`] = drops[k];
  return {
    tsc,
    tscHz,
    generation,
    totals: allTotals,
    drops,
    lcores,
    ports,
    control,
    flowCache: {
      hits: totals.flow_hit,
      misses: totals.flow_miss,
      stale: totals.flow_stale,
      inserts: totals.flow_insert,
      reaps: totals.flow_reap,
      expiries: totals.flow_expire,
      invalidations: totals.flow_invalidate,
      inuse: totals.flow_inuse,
      unadmitted: totals.flow_unadmitted,
      admitShift: Math.max(0, ...lcores.map((l) => Number(l.counters.flow_admit_shift ?? 0n))),
      direct: totals.flow_direct,
      directWorkers: lcores.filter((l) => (l.counters.flow_select_direct ?? 0n) !== 0n).length,
    },
    fib,
    resources,
  };
}



/**
 * One fastpath benchmark case, in a process of its own (EAL initialises once
 * per process). Started by bench/run.ts:
 *
 *   node dist/bench/fastpath-case.js --pcap FILE --flows N --maxflows M [--hashsize 32768] [--poll-hz 0] \
 *     --seconds S [--warmup W] [--hugepages on|off] [--memory-mb 512] \
 *     [--fwd-cpu 1] [--prefix NAME] [--start-timeout 30] [--ecmp] [--ecmp-one-port] [--idle-port] [--mirrors] [--siftr-ppl N] \
 *     [--routes-file FILE [--load-under-traffic K]]
 *
 * (commander: `--help` lists the options; a bad one exits 2 naming it.)
 * Starts the router with one worker lcore on --fwd-cpu: eth0 = net_pcap
 * replaying FILE forever, eth1 = net_null sink, a route for l3fwd's prefix
 * out of eth1; waits until eth1 transmits, warms up, reads stats() twice
 * --seconds apart, stops, and prints one JSON line (the last line of its
 * output) with mpps and cycles/packet (TSC Hz / packets per second: one
 * busy-polling core spends every TSC cycle on forwarding).
 *
 * --load-under-traffic K: the router starts with the file's first K routes
 * (those the traffic uses); the measurement is the time the rest of the
 * table takes to load (addMany) and unload (deleteMany) under the traffic,
 * and every drop in that window is reported (none is expected: each packet's
 * route is there before, during and after).
 */
import { Option } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { Router } from '../lib/index';
import type { RouterConfig, RouterStats } from '../lib/index';
import { DST_ROUTE, RX_MAC } from './pcapgen';
import { benchCommand, benchMbufs, flowCacheBytes, numberArg } from './common';

/** The case's command line (run.ts's runFastpath writes it): commander, exit code 2 on a bad one. */
function parseCase(argv: string[]): CaseOptions {
  const seconds = numberArg(0, { fraction: true });
  return benchCommand('fastpath-case', 'node dist/bench/fastpath-case.js', 'one fastpath benchmark case (started by bench/run.ts)')
    .requiredOption('--pcap <file>', 'the traffic, replayed forever into eth0', (f) => path.resolve(f))
    .option('--flows <n>', 'flows in the pcap (sizes the mbuf pool)', numberArg(0), 0)
    .requiredOption('--maxflows <n>', 'flow cache entries (0: off)', numberArg(0))
    .option('--hashsize <n>', 'flow cache buckets', numberArg(1), 32768)
    .addOption(new Option('--lookup <mode>', 'flowCache.mode').choices(['cache', 'auto']).default('cache'))
    .option('--poll-hz <hz>', 'stats() polls a second during the measurement (0: none)', numberArg(0, { fraction: true }), 0)
    .option('--seconds <s>', 'measurement', seconds, 3)
    .option('--warmup <s>', 'warm-up before measuring', seconds, 1)
    .addOption(new Option('--hugepages <mode>', 'EAL memory').choices(['on', 'off']).default('off'))
    .option('--memory-mb <mb>', 'EAL -m', numberArg(64), 512)
    .option('--fwd-cpu <cpu>', 'CPU of the worker lcore', numberArg(0), 1)
    .option('--prefix <name>', 'EAL file prefix', `fp-bench-${process.pid}`)
    .option('--start-timeout <s>', 'how long eth1 may take to transmit', seconds, 30)
    .option('--ecmp', 'the route through two next hops on eth1 and eth2')
    .option('--idle-port', "--ecmp's control: a third port, polled but idle, and one next hop")
    .option('--ecmp-one-port', 'two next hops both on eth1')
    .option('--mirrors', 'Linux mirrors of both ports and route import on')
    .option('--siftr-ppl <n>', 'SIFTR on, every n-th segment logged (0: off)', numberArg(0), 0)
    .option('--routes-file <file>', 'a full table, one prefix per line, via eth1', '')
    .option('--load-under-traffic <k>', 'start with the first k routes, measure the rest loading and unloading', numberArg(0), 0)
    .parse(argv, { from: 'user' })
    .opts<CaseOptions>();
}

interface CaseOptions {
  pcap: string;
  flows: number;
  maxflows: number;
  hashsize: number;
  lookup: 'cache' | 'auto';
  pollHz: number;
  seconds: number;
  warmup: number;
  hugepages: 'on' | 'off';
  memoryMb: number;
  fwdCpu: number;
  prefix: string;
  startTimeout: number;
  ecmp?: boolean;
  idlePort?: boolean;
  ecmpOnePort?: boolean;
  mirrors?: boolean;
  siftrPpl: number;
  routesFile: string;
  loadUnderTraffic: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function txPackets(s: RouterStats): bigint {
  const p = s.ports?.eth1;
  const q = s.ports?.eth2; // the second next hop of --ecmp
  if (p && typeof p.opackets === 'bigint') return p.opackets + (q && typeof q.opackets === 'bigint' ? q.opackets : 0n);
  return s.totals.tx_packets;
}

function diffCounters(a: Readonly<Record<string, bigint>>, b: Readonly<Record<string, bigint>>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const k of Object.keys(b)) d[k] = Number(b[k] - (a[k] ?? 0n));
  return d;
}

async function main(): Promise<void> {
  const o = parseCase(process.argv.slice(2));
  const { pcap, flows, maxflows, hashsize, lookup, pollHz, seconds, warmup, memoryMb, fwdCpu, prefix, startTimeout, siftrPpl, routesFile } = o;
  const hugepages = o.hugepages === 'on';
  const mbufs = benchMbufs(flows);
  // --ecmp: the route through two next hops (eth1 and eth2, both net_null), flows spread by their labels;
  // --idle-port, its control: the same third port, polled but idle, and one next hop;
  // --ecmp-one-port: ECMP's own cost without a second tx port, two next hops (two MACs) both on eth1.
  const ecmp = o.ecmp ?? false;
  const idlePort = o.idlePort ?? false;
  const ecmpOnePort = o.ecmpOnePort ?? false;
  // Linux mirrors of both ports and route import on (TAPs named fpb<pid>-eth0/1).
  const mirrors = o.mirrors ?? false;
  // --routes-file, a full table (bench/run.ts --routes): one prefix per line, all via eth1's next hop.
  const tableRoutes = routesFile ? fs.readFileSync(routesFile, 'utf8').split('\n').filter(Boolean) : [];
  const tableSize = 1 << Math.ceil(Math.log2(tableRoutes.length + 1024));
  const loadK = o.loadUnderTraffic;
  const asRoute = (prefix: string): { prefix: string; via: string; dev: string } => ({ prefix, via: 'fe80::2', dev: 'eth1' });

  const config: RouterConfig = {
    eal: { workers: 1, workerCpus: [fwdCpu], memoryMb, hugepages, filePrefix: prefix },
    ports: [
      { name: 'eth0', device: `net_pcap0,rx_pcap=${pcap},infinite_rx=1`, mac: RX_MAC, addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
      { name: 'eth1', device: 'net_null0,no-rx=1', mac: '02:00:00:00:00:02', addresses: ['2001:db8:ff::1/64'], dadTransmits: 0 },
      ...(ecmp || idlePort ? [{ name: 'eth2', device: 'net_null1,no-rx=1', mac: '02:00:00:00:00:03', addresses: ['2001:db8:fe::1/64'], dadTransmits: 0 }] : []),
    ],
    routes: ecmp
      ? [{ prefix: DST_ROUTE, nexthops: [{ via: 'fe80::2', dev: 'eth1' }, { via: 'fe80::3', dev: 'eth2' }] }]
      : ecmpOnePort
        ? [{ prefix: DST_ROUTE, nexthops: [{ via: 'fe80::2', dev: 'eth1' }, { via: 'fe80::4', dev: 'eth1' }] }]
        : [{ prefix: DST_ROUTE, via: 'fe80::2', dev: 'eth1' }],
    neighbours: [
      { address: 'fe80::2', mac: '02:00:00:00:00:99', dev: 'eth1' },
      ...(ecmp ? [{ address: 'fe80::3', mac: '02:00:00:00:00:98', dev: 'eth2' }] : []),
      ...(ecmpOnePort ? [{ address: 'fe80::4', mac: '02:00:00:00:00:97', dev: 'eth1' }] : []),
    ],
    flowCache: { maxflows, hashsize, mode: lookup },
    mempool: { mbufs },
    ...(tableRoutes.length > 0 ? { routing: { maxRoutes: tableSize, tbl8Groups: tableSize } } : {}),
    ...(mirrors ? { linux: { mirrors: true, importRoutes: true, mirrorPrefix: `fpb${process.pid % 100000}-` } } : {}),
    // SIFTR on every forwarded TCP segment (every ppl-th logged) to /dev/null: the worker's cost (tap, table, ring) without the disk's.
    ...(siftrPpl > 0 ? { siftr: { enabled: true, logfile: '/dev/null', ppl: siftrPpl, pickupMidstream: true } } : {}),
  };
  const router = await Router.start(config);
  let loadSeconds: number | undefined;
  let unloadSeconds: number | undefined;
  const since = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e9;
  if (tableRoutes.length > 0) {
    const t0 = process.hrtime.bigint();
    await router.routes.addMany((loadK > 0 ? tableRoutes.slice(0, loadK) : tableRoutes).map(asRoute));
    if (loadK === 0) loadSeconds = since(t0);
  }
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (!stopped) {
      stopped = true;
      await router.stop();
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void stop().finally(() => process.exit(130));
    });
  }
  try {
    const deadline = Date.now() + startTimeout * 1000;
    while (txPackets(router.stats()) === 0n) {
      if (Date.now() > deadline) {
        const s = router.stats();
        throw new Error(
          `eth1 transmitted nothing within ${startTimeout} s; totals: ${JSON.stringify(diffCounters({}, s.totals))}`,
        );
      }
      await sleep(50);
    }
    await sleep(warmup * 1000);
    const t0a = process.hrtime.bigint();
    const s0 = router.stats();
    const t0b = process.hrtime.bigint();
    // Optionally poll stats() during the measurement, as a dashboard would.
    let polls = 0;
    const poller = pollHz > 0 ? setInterval(() => {
      router.stats();
      polls++;
    }, 1000 / pollHz) : undefined;
    if (loadK > 0) {
      const rest = tableRoutes.slice(loadK);
      const t = process.hrtime.bigint();
      await router.routes.addMany(rest.map(asRoute));
      loadSeconds = since(t);
      const u = process.hrtime.bigint();
      await router.routes.deleteMany(rest);
      unloadSeconds = since(u);
    } else {
      await sleep(seconds * 1000);
    }
    if (poller) clearInterval(poller);
    const t1a = process.hrtime.bigint();
    const s1 = router.stats();
    const t1b = process.hrtime.bigint();
    const tscHz = Number(s1.tscHz);
    // the interval by the snapshots' own TSC stamps; by the wall clock if absent
    const tscInterval = typeof s0.tsc === 'bigint' && s1.tsc > s0.tsc ? Number(s1.tsc - s0.tsc) / tscHz : undefined;
    const wallInterval = Number(t1a + t1b - t0a - t0b) / 2 / 1e9;
    const interval = tscInterval ?? wallInterval;
    const packets = Number(txPackets(s1) - txPackets(s0));
    const rxPackets = Number((s1.ports?.eth0?.ipackets ?? 0n) - (s0.ports?.eth0?.ipackets ?? 0n));
    const pps = packets / interval;
    const totals = diffCounters(s0.totals, s1.totals);
    const hits = totals.flow_hit ?? 0;
    const misses = totals.flow_miss ?? 0;
    const st = siftrPpl > 0 ? router.siftr.status() : undefined;
    const siftr = st && { ppl: siftrPpl, segments: st.inbound + st.outbound, logged: st.logged, ringFull: st.ringFull, tableFull: st.tableFull, connections: st.connections };
    await stop();
    console.log(
      JSON.stringify({
        fastpathCase: true,
        flows,
        maxflows,
        hashsize,
        pollHz,
        polls,
        mpps: pps / 1e6,
        cyclesPerPacket: tscHz / pps,
        tscHz,
        packets,
        rxPackets,
        interval,
        wallInterval,
        flowHitRatio: hits + misses > 0 ? hits / (hits + misses) : null,
        ...(lookup === 'auto'
          ? {
              flowSelect: {
                directShare: packets > 0 ? (totals.flow_direct ?? 0) / Math.max(1, rxPackets) : 0,
                direct: Number(s1.totals.flow_select_direct ?? 0n) !== 0,
                switches: Number(s1.totals.flow_select_switches ?? 0n),
                probes: Number(s1.totals.flow_select_probes ?? 0n),
                cacheCycles: Number(s1.totals.flow_select_cache_cycles ?? 0n),
                directCycles: Number(s1.totals.flow_select_direct_cycles ?? 0n),
              },
            }
          : {}),
        flowCacheBytesPerLcore: flowCacheBytes(maxflows, hashsize),
        ...(siftr ? { siftr } : {}),
        ...(loadSeconds !== undefined ? { routes: tableRoutes.length, loadSeconds } : {}),
        ...(unloadSeconds !== undefined ? { loadedUnderTraffic: tableRoutes.length - loadK, unloadSeconds, droppedInWindow: totals.dropped ?? 0 } : {}),
        totals,
      }),
    );
  } finally {
    await stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    const err = e as Error & { code?: string };
    console.log(JSON.stringify({ fastpathCase: true, error: `${err.code ? err.code + ': ' : ''}${err.message ?? String(e)}` }));
    process.exit(1);
  },
);

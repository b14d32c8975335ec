/**
 * `npm run soak -- --minutes N` (or --seconds N; default 60 s, at least 10;
 * `--help`): the router between two namespace hosts (the demo topology)
 * under everything at once, checked as it goes and at the end (issue:
 * reliability).
 *
 * While iperf3 runs TCP and UDP from h1 to h2 through the router:
 *   - static routes added and deleted one by one, 1,000 changes a second each way;
 *   - the neighbour table flushed on eth1 every 2 s;
 *   - h2's veth taken down for 0.5 s every 15 s (inside its namespace);
 *   - a VLAN clone of eth1 created and destroyed every 3 s (past 28 of
 *     them, destroyed clones' interface indexes are reused);
 *   - the flow cache resized every 5 s;
 *   - a multicast group joined and left on eth0 every 0.5 s;
 *   - stats() polled at 10 Hz, every event consumed.
 * Checks: every API call answers within 1 s; nothing throws but what is
 * expected; iperf3's TCP run finishes; at the end, after the router idles,
 * buffers and rings are back at their baseline; no memory leak from the
 * end of the warm-up (a fifth of the run) to the end: RSS grows by less
 * than 10 MiB, or, where it grows more, neither the native part (RSS less
 * V8's reserved heap) nor V8's heap in use after a full GC grows by
 * 10 MiB (V8 keeps heap it has freed: a 12-minute run's RSS grew 31 MiB,
 * all of it heapTotal, with heapUsed flat); rx = forwarded + punted + dropped.
 */
import { Option } from 'commander';
import * as path from 'path';
import * as v8 from 'v8';
import * as vm from 'vm';

import { Demo, startDemo } from '../lib/cli/demo';
import { packageRoot } from '../lib/native';
import type { RouterStats } from '../lib/stats';
import { benchCommand, numberArg } from './common';

export interface SoakOptions {
  seconds: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  seconds: number;
  apiCalls: number;
  slowestCallMs: number;
  slowestCall: string;
  routeChanges: number;
  flushes: number;
  flaps: number;
  clones: number;
  resizes: number;
  groupChanges: number;
  statsPolls: number;
  events: number;
  eventsLost: number;
  tcp: { exitCode: number; bytes: number; retransmits: number };
  udp: { exitCode: number; lostPercent: number };
  mbufs: { size: number; baseline: number; end: number };
  rssMiB: { start: number; afterWarmup: number; end: number };
  /** Every 10 s: RSS and V8's share of it (heap used, heap reserved, external incl. ArrayBuffers), MiB; a leak grows without bound, warm-up levels off. */
  memoryTrace: { s: number; rss: number; heapUsed: number; heapTotal: number; external: number }[];
  /** The leak check's two readings, MiB, each after a full GC: at the end of the warm-up and at the end. */
  memory: { afterWarmup?: MemoryPoint; end?: MemoryPoint };
  forwarded: bigint;
  failures: string[];
}

/** One reading for the leak check, MiB: native = RSS less V8's reserved heap (heapTotal). */
export interface MemoryPoint {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  native: number;
}

/** A full GC, then the reading: heapUsed without the garbage of the moment. */
function memoryPoint(): MemoryPoint {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
  const m = process.memoryUsage();
  const mib = (x: number): number => Math.round((x / (1024 * 1024)) * 10) / 10;
  return { rss: mib(m.rss), heapTotal: mib(m.heapTotal), heapUsed: mib(m.heapUsed), native: mib(m.rss - m.heapTotal) };
}

/** dpdk-config/default.yaml of this package (bench/ under ts-node, dist/bench/ when compiled). */
const demoConfig = (): string => path.join(packageRoot(), 'dpdk-config', 'default.yaml');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const log = opts.log ?? ((): void => undefined);
  const failures: string[] = [];
  const demo: Demo = await startDemo(demoConfig(), {
    unique: true,
    override: (cfg) => ({
      ...cfg,
      eal: { ...cfg.eal, hugepages: false, memoryMb: 512, filePrefix: `fp-soak-${process.pid}`, logLevel: 'error' },
    }),
  });
  const router = demo.router;
  const h1 = demo.host('h1');
  const h2 = demo.host('h2');
  const report: SoakReport = {
    seconds: opts.seconds,
    apiCalls: 0,
    slowestCallMs: 0,
    slowestCall: '',
    routeChanges: 0,
    flushes: 0,
    flaps: 0,
    clones: 0,
    resizes: 0,
    groupChanges: 0,
    statsPolls: 0,
    events: 0,
    eventsLost: 0,
    tcp: { exitCode: -1, bytes: 0, retransmits: 0 },
    udp: { exitCode: -1, lostPercent: 100 },
    mbufs: { size: 0, baseline: 0, end: 0 },
    rssMiB: { start: 0, afterWarmup: 0, end: 0 },
    memoryTrace: [],
    memory: {},
    forwarded: 0n,
    failures,
  };

  /** Time an API call; over 1 s is a failure (a deadlock would show here). */
  const timed = async <T>(what: string, fn: () => T | Promise<T>): Promise<T | undefined> => {
    const t0 = performance.now();
    try {
      return await fn();
    } catch (e) {
      failures.push(`${what}: ${(e as Error).message}`);
      return undefined;
    } finally {
      const ms = performance.now() - t0;
      report.apiCalls++;
      if (ms > report.slowestCallMs) {
        report.slowestCallMs = ms;
        report.slowestCall = what;
      }
      if (ms > 1000) failures.push(`${what} took ${ms.toFixed(0)} ms`);
    }
  };

  try {
    await router.addressesSettled();
    await sleep(1000);
    const base = router.stats().resources;
    report.mbufs.size = base.mbufs.size;
    report.mbufs.baseline = base.mbufs.inUse;
    report.rssMiB.start = base.rssBytes / MiB;

    const events = router.events({ maxQueue: 100000 });
    const consume = (async (): Promise<void> => {
      for await (const _ev of events) report.events++;
    })();

    const tcpServer = h2.spawn(['iperf3', '-s', '-1', '-B', h2.address, '-p', '5201']);
    const udpServer = h2.spawn(['iperf3', '-s', '-1', '-B', h2.address, '-p', '5202']);
    await sleep(500);
    const tcp = h1.exec(['iperf3', '-6', '-c', h2.address, '-p', '5201', '-t', String(opts.seconds), '-J'], { timeoutMs: (opts.seconds + 60) * 1000 });
    const udp = h1.exec(['iperf3', '-6', '-u', '-b', '20M', '-c', h2.address, '-p', '5202', '-t', String(opts.seconds), '-J'], { timeoutMs: (opts.seconds + 60) * 1000 });

    const deadline = Date.now() + opts.seconds * 1000;
    const startedAt = Date.now();
    const warmupAt = startedAt + (opts.seconds * 1000) / 5;
    const running = (): boolean => Date.now() < deadline;
    const every = async (ms: number, fn: (i: number) => Promise<void>): Promise<void> => {
      for (let i = 0; running(); i++) {
        const t = Date.now();
        await fn(i);
        await sleep(Math.max(0, ms - (Date.now() - t)));
      }
    };

    const loops = [
      // 1,000 adds and 1,000 deletes a second: 10 of each every 10 ms.
      every(10, async (i) => {
        for (let k = 0; k < 10; k++) {
          const n = (i * 10 + k) % 4096;
          const prefix = `2001:db8:${(0x100 + (n >> 8)).toString(16)}:${(n & 0xff).toString(16)}00::/56`;
          await timed('routes.add', () => router.routes.add(prefix, { via: h2.address, dev: 'eth1' }));
          await timed('routes.delete', () => router.routes.delete(prefix));
          report.routeChanges += 2;
        }
      }),
      every(2000, async () => {
        await timed('neighbours.flush', () => router.neighbours.flush({ dev: 'eth1' }));
        report.flushes++;
      }),
      every(15000, async (i) => {
        if (i === 0) return; // not in the first interval: let TCP ramp up
        await h2.exec(['ip', 'link', 'set', 'eth0', 'down']);
        await sleep(500);
        await h2.exec(['ip', 'link', 'set', 'eth0', 'up']);
        // Linux drops a device's routes when it goes down (its address
        // stays: keep_addr_on_down): the host's default route back, as an
        // administrator's network config would.
        await h2.exec(['ip', '-6', 'route', 'replace', 'default', 'via', h2.gateway, 'dev', 'eth0']);
        report.flaps++;
      }),
      every(3000, async (i) => {
        const name = `vs${i}`;
        await timed('interfaces.clone', () => router.interfaces.clone('vlan', { parent: 'eth1', vlan: 100 + (i % 3000), name }));
        await sleep(1000);
        await timed('interfaces.destroy', () => router.interfaces.destroy(name));
        report.clones++;
      }),
      every(5000, async (i) => {
        await timed('flowCache.configure', () => router.flowCache.configure({ maxflows: i % 2 ? 16384 : 4096 }));
        report.resizes++;
      }),
      every(500, async (i) => {
        const group = `ff05::1:${(i % 16).toString(16)}`;
        await timed('interfaces.joinGroup', () => router.interfaces.joinGroup('eth0', group));
        await sleep(200);
        await timed('interfaces.leaveGroup', () => router.interfaces.leaveGroup('eth0', group));
        report.groupChanges += 2;
      }),
      every(100, async () => {
        const s = await timed('stats', () => router.stats());
        report.statsPolls++;
        if (s !== undefined && report.rssMiB.afterWarmup === 0 && Date.now() >= warmupAt) {
          report.rssMiB.afterWarmup = s.resources.rssBytes / MiB;
          report.memory.afterWarmup = memoryPoint();
        }
        if (report.statsPolls % 100 === 1) {
          const m = process.memoryUsage();
          const mib = (x: number): number => Math.round((x / MiB) * 10) / 10;
          report.memoryTrace.push({ s: Math.round((Date.now() - startedAt) / 1000), rss: mib(m.rss), heapUsed: mib(m.heapUsed), heapTotal: mib(m.heapTotal), external: mib(m.external) });
        }
      }),
    ];
    await Promise.all(loops);
    log(`soak: load phase over (${report.apiCalls} API calls, slowest ${report.slowestCall} ${report.slowestCallMs.toFixed(1)} ms)`);

    const [tcpRes, udpRes] = await Promise.all([tcp, udp]);
    tcpServer.kill();
    udpServer.kill();
    report.tcp.exitCode = tcpRes.code ?? -1;
    report.udp.exitCode = udpRes.code ?? -1;
    try {
      const j = JSON.parse(tcpRes.stdout) as { end: { sum_received: { bytes: number }; sum_sent: { retransmits?: number } } };
      report.tcp.bytes = j.end.sum_received.bytes;
      report.tcp.retransmits = j.end.sum_sent.retransmits ?? 0;
    } catch {
      failures.push(`iperf3 TCP: no JSON result (exit ${tcpRes.code}, signal ${tcpRes.signal}): ${(tcpRes.stderr + tcpRes.stdout).slice(0, 300)}`);
    }
    try {
      const j = JSON.parse(udpRes.stdout) as { end: { sum: { lost_percent: number } } };
      report.udp.lostPercent = j.end.sum.lost_percent;
    } catch {
      failures.push(`iperf3 UDP: no JSON result (exit ${udpRes.code}, signal ${udpRes.signal}): ${(udpRes.stderr + udpRes.stdout).slice(0, 300)}`);
    }

    // Idle: everything back to its baseline (the control thread may still
    // hold packets for a neighbour being resolved: give it a few seconds).
    let end: RouterStats | undefined;
    for (let i = 0; i < 50; i++) {
      await sleep(100);
      end = router.stats();
      if (end.resources.mbufs.inUse <= report.mbufs.baseline && end.resources.workers.every((w) => w.punt === 0 && w.ctlTx === 0)) break;
    }
    const s = end ?? router.stats();
    report.mbufs.end = s.resources.mbufs.inUse;
    report.rssMiB.end = s.resources.rssBytes / MiB;
    report.memory.end = memoryPoint();
    const leak = memoryLeak(report);
    if (leak) failures.push(leak);
    report.forwarded = s.totals.forwarded;
    const t = s.totals;
    if (t.rx_packets !== t.forwarded + t.punted + t.dropped) failures.push(`counters: rx ${t.rx_packets} != forwarded ${t.forwarded} + punted ${t.punted} + dropped ${t.dropped}`);
    report.eventsLost = events.lost;
    events.return?.();
    await Promise.race([consume, sleep(1000)]);
  } finally {
    await demo.close();
  }
  return report;
}

/**
 * The leak check: RSS growth under 10 MiB after the warm-up; more is a leak
 * only where the native part or V8's heap in use (after a GC) grew by 10
 * MiB. Returns what failed, or undefined.
 */
export function memoryLeak(r: Pick<SoakReport, 'rssMiB' | 'memory'>): string | undefined {
  const a = r.memory.afterWarmup;
  const b = r.memory.end;
  if (!a || !b) return 'memory: no reading after the warm-up (the run was too short)';
  const rss = r.rssMiB.end - r.rssMiB.afterWarmup;
  const native = b.native - a.native;
  const heapUsed = b.heapUsed - a.heapUsed;
  if (rss < 10 || (native < 10 && heapUsed < 10)) return undefined;
  return `memory: RSS +${rss.toFixed(1)} MiB after the warm-up, native (RSS - V8 heapTotal) +${native.toFixed(1)}, V8 heap in use after a GC +${heapUsed.toFixed(1)}`;
}

async function main(): Promise<void> {
  const program = benchCommand('soak', 'npm run soak --', 'the router between two namespace hosts under everything at once (bench/soak.ts)')
    .addOption(new Option('--minutes <n>', 'how long').argParser(numberArg(0, { fraction: true })).conflicts('seconds'))
    .addOption(new Option('--seconds <n>', 'how long, at least 10').argParser(numberArg(10, { fraction: true })).default(60))
    .parse(process.argv.slice(2), { from: 'user' });
  const cli = program.opts<{ minutes?: number; seconds: number }>();
  const seconds = cli.minutes !== undefined ? cli.minutes * 60 : cli.seconds;
  if (seconds < 10) program.error(`error: --minutes ${cli.minutes}: at least 10 seconds`);
  const r = await runSoak({ seconds, log: (l) => console.log(l) });
  console.log(JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
  process.exit(r.failures.length === 0 ? 0 : 1);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

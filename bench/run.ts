/**
 * `npm run bench`: fastpath against DPDK's l3fwd and testpmd io forwarding on
 * one forwarding core, on virtual devices (no NIC needed):
 *
 *   net_pcap0,rx_pcap=<pcap>,infinite_rx=1  -->  app  -->  net_null0,no-rx=1
 *
 * Cases: fastpath with its flow cache on and off, l3fwd (LPM, FIB and EM), testpmd io;
 * each with 1 flow and with 10000 flows of 66-byte IPv6/UDP frames.
 * Interleaved rounds (per flow count: fastpath on, fastpath off, l3fwd,
 * testpmd), medians over rounds. Rates are packets out of the null port per
 * second; cycles/packet = TSC Hz / packets per second (one busy-polling
 * core). The last line is
 *
 *   ratio fastpath/l3fwd = R (fastpath A Mpps, l3fwd B Mpps [mode], testpmd-io C Mpps)
 *
 * where B is the best of l3fwd's three IPv6 modes in the run (lpm, fib, em),
 * after a line comparing each app's cycles/packet above testpmd io's (its own
 * work, the PMDs' share taken out)
 *
 * for the 10000-flow case (fastpath with its flow cache on, its default).
 *
 * Options (or environment variables; parsed by commander, `--help` lists them;
 * a bad value exits 2 with a message naming the option):
 *   --rounds N        FP_BENCH_ROUNDS   rounds, whole, >= 1 (default 3)
 *   --seconds S       FP_BENCH_SECONDS  measurement per run, >= 0.2 (default 3)
 *   --warmup S        FP_BENCH_WARMUP   warm-up per run before measuring, >= 0 (default 1)
 *   --quick                             1 round, 1 s measurement, 0.5 s warm-up (over the
 *                                       environment; --rounds/--seconds/--warmup given too win)
 *   --flows 1,10000                     flow counts (above 12000 fastpath only: l3fwd's and testpmd's
 *                                       pools cannot hold the pcap; cache-on cases raise maxflows to
 *                                       hold every flow, and EAL memory to one mbuf per frame)
 *   --only fastpath,l3fwd,testpmd       a subset (no final ratio line without all three)
 *   --hugepages auto|on|off             EAL memory for every app (default auto:
 *                                       hugepages when enough are reserved and mounted)
 *   --memory-mb 512                     EAL -m (>= 64)
 *   --fwd-cpu 1 --main-cpu 0            CPUs of the forwarding and the main lcore (must differ)
 *   --maxflows 16384 --hashsize 32768   fastpath's flow cache when on (the config defaults)
 *   --bucket-ratio 2                    above --maxflows flows, buckets per entry (rounded up to a power
 *                                       of two, at most 2^20)
 *   --routes N                          a synthetic full table of N routes (bench/fulltable.ts: today's
 *                                       length mix) in every app, each flow to a different prefix of
 *                                       it (l3fwd: --rule_ipv6 with its LPM sized to fit); default 0:
 *                                       l3fwd's one /64; -m raised to 2048 when N > 0
 *                                       (above --maxflows flows also "fastpath-flood-N": the cache as
 *                                       given, fewer entries than flows: admission under a flood)
 *   --cases REGEX                       only the cases whose id matches (e.g. 'ecmp|cache-|idleport|mirrors')
 *   --siftr                             add SIFTR cases on TCP traffic (fastpath only): SIFTR off,
 *                                       on with ppl 1, on with ppl 100 (log to /dev/null)
 *   --out FILE                          results JSON (default bench/out/results.json)
 *   --start-timeout S                   how long an app may take to start (default 60)
 */
import { execFileSync } from 'child_process';
import { InvalidArgumentError, Option } from 'commander';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  benchCommand,
  benchMbufs,
  checkFastpath,
  flowCacheBytes,
  fmtRate,
  hugepagesAvailable,
  hugepagesOption,
  HugepagesMode,
  installCleanup,
  killChildrenSync,
  listArg,
  MBUF_BYTES,
  median,
  MemoryMode,
  namesArg,
  numberArg,
  OUT_DIR,
  outOption,
  registerPrefix,
  removeRuntimeDir,
  spawnLogged,
  stopChild,
  tail,
} from './common';
import { AppResult, buildL3fwd, L3fwdBuild, L3fwdLookup, runL3fwd, runTestpmd, testpmdPath, withDeathSig } from './dpdk-apps';
import { addressInside, fib6Tbl8Reservation, rng, syntheticTable } from './fulltable';
import { emRulesV6, FRAME_LEN, TCP_FRAME_LEN, writePcap } from './pcapgen';

const ENGINES = ['fastpath', 'l3fwd', 'testpmd'] as const;
type Engine = (typeof ENGINES)[number];

interface CaseDef {
  id: string;
  label: string;
  engine: Engine;
  flows: number;
  /** fastpath only: flow cache size, 0 = off */
  maxflows?: number;
  /** fastpath only: poll router.stats() at this rate during the measurement */
  pollHz?: number;
  /** fastpath only: the route through two next hops (ECMP by flow label) */
  ecmp?: boolean;
  /** fastpath only: two next hops on the same port (ECMP's own cost, no second tx port) */
  ecmpOnePort?: boolean;
  /** fastpath only: a third port, polled but idle (the ECMP case's control) */
  idlePort?: boolean;
  /** fastpath only: Linux mirrors of both ports and route import on (config linux) */
  mirrors?: boolean;
  /** fastpath only: flowCache.mode auto (warm-up lengthened past its first two probes) */
  auto?: boolean;
  /** fastpath only: keep --maxflows/--hashsize as given though the flows outnumber them */
  flood?: boolean;
  /** l3fwd only: its lookup mode (default lpm) */
  l3fwdLookup?: L3fwdLookup;
  /** TCP frames instead of UDP (the SIFTR cases) */
  tcp?: boolean;
  /** fastpath only: SIFTR enabled with this ppl (0: off) */
  siftrPpl?: number;
  /** fastpath only (--routes): start with the traffic's routes, measure while the rest of the table loads and unloads */
  loadUnderTraffic?: boolean;
}

interface RunRecord {
  round: number;
  caseId: string;
  mpps: number;
  cyclesPerPacket?: number;
  tscHz?: number;
  packets: number;
  interval: number;
  detail: Record<string, unknown>;
}

/** What commander hands back: Options before --quick, the checks across options and --routes' memory. */
interface CommandLine extends Omit<Options, 'engines' | 'siftr'> {
  only: Engine[];
  quick?: boolean;
  siftr?: boolean;
}

interface Options {
  rounds: number;
  seconds: number;
  warmup: number;
  flows: number[];
  engines: Engine[];
  hugepages: HugepagesMode;
  memoryMb: number;
  fwdCpu: number;
  mainCpu: number;
  out: string;
  startTimeout: number;
  maxflows: number;
  hashsize: number;
  bucketRatio: number;
  siftr: boolean;
  cases?: RegExp;
  routes: number;
}

function parseOptions(argv: string[]): Options {
  const program = benchCommand('bench', 'npm run bench --', 'fastpath against l3fwd and testpmd io forwarding on one core, on virtual devices (bench/run.ts)')
    .addOption(new Option('--rounds <n>', 'interleaved rounds; figures are medians over them').env('FP_BENCH_ROUNDS').argParser(numberArg(1)).default(3))
    .addOption(new Option('--seconds <s>', 'measurement per run').env('FP_BENCH_SECONDS').argParser(numberArg(0.2, { fraction: true })).default(3))
    .addOption(new Option('--warmup <s>', 'warm-up per run before measuring').env('FP_BENCH_WARMUP').argParser(numberArg(0, { fraction: true })).default(1))
    .option('--quick', '1 round, 1 s measurement, 0.5 s warm-up (over the environment; --rounds, --seconds, --warmup given too still win)')
    .addOption(
      new Option('--flows <list>', `flow counts (above ${POOL_FLOWS} fastpath only)`).argParser(listArg(numberArg(1))).default([1, 10000], '1,10000'),
    )
    .addOption(new Option('--only <engines>', 'a subset (no final ratio line without all three)').argParser(namesArg(ENGINES)).default([...ENGINES], ENGINES.join(',')))
    .addOption(hugepagesOption('EAL memory for every app'))
    .addOption(new Option('--memory-mb <mb>', 'EAL -m (raised to 2048 with --routes)').argParser(numberArg(64)).default(512))
    .addOption(new Option('--fwd-cpu <cpu>', 'CPU of the forwarding lcore').argParser(numberArg(0)).default(1))
    .addOption(new Option('--main-cpu <cpu>', 'CPU of the main lcore (not --fwd-cpu)').argParser(numberArg(0)).default(0))
    .addOption(new Option('--maxflows <n>', "fastpath's flow cache entries when on").argParser(numberArg(1)).default(16384))
    .addOption(new Option('--hashsize <n>', "fastpath's flow cache buckets when on").argParser(numberArg(1)).default(32768))
    .addOption(new Option('--bucket-ratio <r>', 'buckets per entry when the flows raise maxflows (rounded up to a power of two, at most 2^20)').argParser(numberArg(0.01, { fraction: true })).default(2))
    .addOption(new Option('--routes <n>', 'a synthetic full table of n routes in every app, each flow to a prefix of it').argParser(numberArg(0)).default(0))
    .addOption(new Option('--cases <regex>', "only the cases whose id matches (e.g. 'ecmp|cache-|idleport|mirrors')").argParser(regexArg))
    .option('--siftr', 'add SIFTR cases on TCP traffic (fastpath only): off, ppl 1, ppl 100')
    .addOption(outOption('results.json'))
    .addOption(new Option('--start-timeout <s>', 'how long an app may take to start').argParser(numberArg(1, { fraction: true })).default(60))
    .parse(argv, { from: 'user' });
  const cli = program.opts<CommandLine>();
  if (cli.quick) {
    // --quick over the environment, not over the same figure given on the command line.
    const quick = { rounds: 1, seconds: 1, warmup: 0.5 } as const;
    for (const key of ['rounds', 'seconds', 'warmup'] as const) if (program.getOptionValueSource(key) !== 'cli') cli[key] = quick[key];
  }
  if (cli.fwdCpu === cli.mainCpu) program.error(`error: --fwd-cpu and --main-cpu must differ (both ${cli.fwdCpu})`);
  return {
    rounds: cli.rounds,
    seconds: cli.seconds,
    warmup: cli.warmup,
    flows: cli.flows,
    engines: cli.only,
    hugepages: cli.hugepages,
    // Two FIB copies of a full table in fastpath, l3fwd's LPM of the same.
    memoryMb: cli.routes > 0 ? Math.max(cli.memoryMb, 2048) : cli.memoryMb,
    fwdCpu: cli.fwdCpu,
    mainCpu: cli.mainCpu,
    out: cli.out,
    startTimeout: cli.startTimeout,
    maxflows: cli.maxflows,
    hashsize: cli.hashsize,
    bucketRatio: cli.bucketRatio,
    siftr: cli.siftr ?? false,
    cases: cli.cases,
    routes: cli.routes,
  };
}

/** --cases: a regular expression, or the reason it is not one. */
function regexArg(value: string): RegExp {
  try {
    return new RegExp(value);
  } catch (e) {
    throw new InvalidArgumentError(`${(e as Error).message}.`);
  }
}

/**
 * l3fwd's and testpmd's mbuf pools (16704 and 16384) hold every frame of the
 * pcap (net_pcap's infinite_rx keeps them all in mbufs): above this many
 * flows (one frame each) only fastpath, whose pool the case sizes, can run.
 */
const POOL_FLOWS = 12000;

/** The flow cache of a cache-on case: the configured size, raised to hold every flow of the run. */
function cacheGeometry(o: Options, flows: number): { maxflows: number; hashsize: number } {
  const maxflows = Math.max(o.maxflows, flows);
  const buckets = 2 ** Math.ceil(Math.log2(o.bucketRatio * maxflows));
  return { maxflows, hashsize: Math.min(1 << 20, Math.max(o.hashsize, buckets)) };
}

/**
 * EAL memory for a run of this many flows: the pool (one mbuf per frame;
 * counted twice: without hugepages EAL could not place a 2.4 GiB pool in
 * 1.3 times its size), the flow cache, and the usual room for the rest.
 */
function memoryForFlows(o: Options, flows: number): number {
  if (benchMbufs(flows) === benchMbufs(1)) return o.memoryMb;
  const g = cacheGeometry(o, flows);
  return Math.max(o.memoryMb, Math.ceil((2 * benchMbufs(flows) * MBUF_BYTES + flowCacheBytes(g.maxflows, g.hashsize)) / 2 ** 20) + o.memoryMb);
}

/** What flowCache.mode auto chose in a run, for its line. */
function autoNote(sel: unknown): string {
  if (typeof sel !== 'object' || sel === null) return '';
  const f = sel as { direct: boolean; switches: number; directShare: number; cacheCycles: number; directCycles: number };
  return `  [auto: ${f.direct ? 'FIB alone' : 'cache'}, ${(f.directShare * 100).toFixed(0)}% direct, ${f.switches} switch${f.switches === 1 ? '' : 'es'}; loop cycles/pkt cache ${f.cacheCycles} / FIB ${f.directCycles}]`;
}

/** flowCache.mode auto probes once a second and switches on the second probe
 * in a row that favours the other lookup (native/core/flowselect.h): the
 * "auto" cases warm up this much longer, so that they are measured settled. */
const AUTO_SETTLE_S = 2.5;

function cases(o: Options): CaseDef[] {
  const out: CaseDef[] = [];
  for (const flows of o.flows) {
    if (o.engines.includes('fastpath')) {
      out.push({ id: `fastpath-cache-${flows}`, label: 'fastpath, flow cache on', engine: 'fastpath', flows, maxflows: o.maxflows });
      out.push({ id: `fastpath-nocache-${flows}`, label: 'fastpath, flow cache off', engine: 'fastpath', flows, maxflows: 0 });
      // flowCache.mode auto: the worker measures cache and FIB alone and keeps the cheaper.
      out.push({ id: `fastpath-auto-${flows}`, label: 'fastpath, flow cache auto', engine: 'fastpath', flows, maxflows: o.maxflows, auto: true });
      // A flow flood: more flows cycling than the table holds (the cache as configured, not raised).
      if (flows > o.maxflows) {
        out.push({ id: `fastpath-flood-${flows}`, label: `fastpath, cache on, ${o.maxflows} entries`, engine: 'fastpath', flows, maxflows: o.maxflows, flood: true });
      }
      // The cost of watching: stats() polled at 10 Hz from the Node thread.
      out.push({ id: `fastpath-poll10-${flows}`, label: 'fastpath, cache on, stats() at 10 Hz', engine: 'fastpath', flows, maxflows: o.maxflows, pollHz: 10 });
      // ECMP by flow label: the same flows over a route with two next hops.
      out.push({ id: `fastpath-ecmp-${flows}`, label: 'fastpath, cache on, ECMP 2 next hops', engine: 'fastpath', flows, maxflows: o.maxflows, ecmp: true });
      // ECMP's mechanism alone: two next hops that share eth1 (no second tx port).
      out.push({ id: `fastpath-ecmp1port-${flows}`, label: 'fastpath, cache on, ECMP 2 next hops on 1 port', engine: 'fastpath', flows, maxflows: o.maxflows, ecmpOnePort: true });
      // Its control: one next hop, with the same idle third port polled.
      out.push({ id: `fastpath-idleport-${flows}`, label: 'fastpath, cache on, 1 next hop, 3 ports', engine: 'fastpath', flows, maxflows: o.maxflows, idlePort: true });
      // Linux mirrors and route import on: transit forwarding should not notice (docs/linux-integration.md).
      out.push({ id: `fastpath-mirrors-${flows}`, label: 'fastpath, cache on, Linux mirrors and route import on', engine: 'fastpath', flows, maxflows: o.maxflows, mirrors: true });
      if (o.siftr) {
        // SIFTR's cost: the same TCP traffic with SIFTR off, on (ppl 1), on (ppl 100).
        out.push({ id: `fastpath-tcp-${flows}`, label: 'fastpath, TCP, SIFTR off', engine: 'fastpath', flows, maxflows: o.maxflows, tcp: true });
        out.push({ id: `fastpath-tcp-siftr1-${flows}`, label: 'fastpath, TCP, SIFTR ppl 1', engine: 'fastpath', flows, maxflows: o.maxflows, tcp: true, siftrPpl: 1 });
        out.push({ id: `fastpath-tcp-siftr100-${flows}`, label: 'fastpath, TCP, SIFTR ppl 100', engine: 'fastpath', flows, maxflows: o.maxflows, tcp: true, siftrPpl: 100 });
      }
      // The table arriving while traffic runs: loss and rate while it loads and unloads.
      if (o.routes > 0) {
        out.push({ id: `fastpath-load-${flows}`, label: 'fastpath, cache on, table loads/unloads', engine: 'fastpath', flows, maxflows: o.maxflows, loadUnderTraffic: true });
      }
    }
    if (o.engines.includes('l3fwd') && flows <= POOL_FLOWS) {
      // The three IPv6 modes: LPM (rte_lpm6_lookup per packet), FIB (rte_fib6_lookup_bulk per
      // burst) and EM (rte_hash of the 5-tuple, one rule per flow of the pcap); the ratio uses the best.
      out.push({ id: `l3fwd-${flows}`, label: 'l3fwd (LPM)', engine: 'l3fwd', flows });
      out.push({ id: `l3fwdfib-${flows}`, label: 'l3fwd (FIB)', engine: 'l3fwd', flows, l3fwdLookup: 'fib' });
      out.push({ id: `l3fwdem-${flows}`, label: 'l3fwd (EM)', engine: 'l3fwd', flows, l3fwdLookup: 'em' });
    }
    if (o.engines.includes('testpmd') && flows <= POOL_FLOWS) out.push({ id: `testpmd-${flows}`, label: 'testpmd io', engine: 'testpmd', flows });
  }
  return o.cases ? out.filter((c) => o.cases!.test(c.id)) : out;
}

/** The --routes table's files, written by writeRoutes. */
let routesFiles: { routes: number; list: string; v4: string; v6: string; tbl8Groups: number } | undefined;

function pcapPath(flows: number, tcp = false): string {
  const kind = tcp ? `tcp-${TCP_FRAME_LEN}B` : `udp-${FRAME_LEN}B`;
  const table = routesFiles ? `-r${routesFiles.routes}` : '';
  return path.join(OUT_DIR, `ipv6-${kind}-${flows}flow${flows === 1 ? '' : 's'}${table}.pcap`);
}

/** The --routes table: a prefix list for fastpath, rule files for l3fwd; each flow's destination inside one prefix. */
function writeRoutes(routes: number, flows: number): string[] {
  const table = syntheticTable(routes, 1);
  const list = path.join(OUT_DIR, `routes-${routes}.txt`);
  const v6 = path.join(OUT_DIR, `l3fwd-routes-${routes}.v6`);
  const v4 = path.join(OUT_DIR, 'l3fwd-routes.v4');
  fs.writeFileSync(list, table.map((p) => p.prefix).join('\n') + '\n');
  // l3fwd: every route to port 1 (the null port), as fastpath's to eth1
  fs.writeFileSync(v6, table.map((p) => `R${p.prefix} 1`).join('\n') + '\n');
  fs.writeFileSync(v4, 'R198.18.0.0/15 0\n');
  // rte_fib6 reserves groups per prefix rather than per group used: with 250,000 groups it refused
  // the 242,225th route. rte_lpm6 needs fewer; more do no harm.
  routesFiles = { routes, list, v4, v6, tbl8Groups: fib6Tbl8Reservation(table) };
  // Flow i to a random address inside prefix i (the table is in random order).
  const next = rng(7);
  return Array.from({ length: Math.min(flows, routes) }, (_, i) => addressInside(table[i], next));
}

/** l3fwd EM's rule files for a pcap (its flows' 5-tuples; IPv4: one rule, as EM reads both files). */
function emRulesPaths(flows: number): { v4: string; v6: string } {
  const table = routesFiles ? `-r${routesFiles.routes}` : '';
  return { v4: path.join(OUT_DIR, 'l3fwd-em.v4'), v6: path.join(OUT_DIR, `l3fwd-em-${flows}flows${table}.v6`) };
}

function writeEmRules(flows: number, dsts?: readonly string[]): void {
  const p = emRulesPaths(flows);
  fs.writeFileSync(p.v4, 'R198.18.0.1 198.18.0.2 9 10000 0x11 1\n');
  fs.writeFileSync(p.v6, emRulesV6(flows, dsts));
}

const FASTPATH_CASE_JS = path.join(__dirname, 'fastpath-case.js');
/** The JSON line bench/fastpath-case.ts prints. */
interface FastpathCaseResult {
  mpps: number;
  cyclesPerPacket: number;
  tscHz: number;
  packets: number;
  interval: number;
  [key: string]: unknown;
}

async function runFastpath(c: CaseDef, o: Options, mem: MemoryMode, prefix: string, logName: string): Promise<FastpathCaseResult> {
  const [cmd, args] = withDeathSig(process.execPath, [
    FASTPATH_CASE_JS,
    '--pcap', pcapPath(c.flows, c.tcp),
    '--flows', String(c.flows),
    '--maxflows', String(c.maxflows === 0 ? 0 : c.flood ? o.maxflows : cacheGeometry(o, c.flows).maxflows),
    '--hashsize', String(c.flood ? o.hashsize : cacheGeometry(o, c.flows).hashsize),
    '--poll-hz', String(c.pollHz ?? 0),
    '--seconds', String(o.seconds),
    // Many flows: each must pass through the slow path once before the cache
    // holds it (1M flows at ~2 Mpps: two passes in 2 s on a 2.3 GHz Xeon).
    '--warmup', String(o.warmup + (c.flows > POOL_FLOWS ? (2 * c.flows) / 1e6 : 0) + (c.auto ? AUTO_SETTLE_S : 0)),
    ...(c.auto ? ['--lookup', 'auto'] : []),
    '--hugepages', mem.hugepages ? 'on' : 'off',
    '--memory-mb', String(Math.max(mem.memoryMb, memoryForFlows(o, c.flows))),
    '--fwd-cpu', String(o.fwdCpu),
    '--prefix', prefix,
    '--start-timeout', String(o.startTimeout),
    ...(c.ecmp ? ['--ecmp'] : []),
    ...(c.idlePort ? ['--idle-port'] : []),
    ...(c.mirrors ? ['--mirrors'] : []),
    ...(c.ecmpOnePort ? ['--ecmp-one-port'] : []),
    ...(c.siftrPpl ? ['--siftr-ppl', String(c.siftrPpl)] : []),
    ...(routesFiles ? ['--routes-file', routesFiles.list] : []),
    // The traffic's prefixes are the table's first min(flows, routes) (writeRoutes).
    ...(c.loadUnderTraffic && routesFiles ? ['--load-under-traffic', String(Math.min(c.flows, routesFiles.routes))] : []),
  ]);
  registerPrefix(prefix);
  const child = spawnLogged(cmd, args, logName + '.log');
  const limit = (o.startTimeout + o.warmup + (2 * c.flows) / 1e6 + o.seconds + 60) * 1000;
  const timedOut = await Promise.race([child.exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), limit).unref())]);
  if (timedOut) await stopChild(child, 5000);
  const { code, signal } = await child.exited;
  removeRuntimeDir(prefix);
  const line = child
    .output()
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{') && l.includes('"fastpathCase"'));
  let r: Record<string, unknown> | undefined;
  try {
    r = line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
  } catch {
    r = undefined;
  }
  if (!r || r.error || code !== 0 || timedOut) {
    const why = timedOut ? `timed out after ${limit / 1000} s` : r?.error ? String(r.error) : `exit code ${code}, signal ${signal}`;
    throw new Error(`fastpath: ${why}\n  log: ${child.logFile}\n${tail(child.output(), 15)}`);
  }
  return r as FastpathCaseResult;
}

function cpuModel(): string {
  try {
    const m = /model name\s*:\s*(.+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    return m ? m[1].trim() : os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

async function main(): Promise<void> {
  installCleanup();
  const o = parseOptions(process.argv.slice(2));
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const log = (s: string): void => console.log(s);
  const ncpu = os.cpus().length;
  if (o.fwdCpu >= ncpu || o.mainCpu >= ncpu) {
    throw new Error(`this machine has ${ncpu} CPUs: --fwd-cpu ${o.fwdCpu} / --main-cpu ${o.mainCpu} do not exist`);
  }

  // memory mode, the same for all apps
  // the largest run's memory (many flows: a pool of one mbuf per frame) decides
  const needMb = Math.max(...o.flows.map((f) => memoryForFlows(o, f)));
  const huge = o.hugepages === 'on' || (o.hugepages === 'auto' && hugepagesAvailable(needMb));
  if (o.hugepages === 'on' && !hugepagesAvailable(needMb)) {
    throw new Error(`--hugepages on: fewer than ${needMb + 64} MiB of free hugepages, or hugetlbfs not mounted`);
  }
  const mem: MemoryMode = { hugepages: huge, memoryMb: o.memoryMb };

  // traffic
  const dsts = o.routes > 0 ? writeRoutes(o.routes, Math.max(...o.flows)) : undefined;
  for (const f of o.flows) writePcap(pcapPath(f), { flows: f, dsts });
  if (o.engines.includes('l3fwd')) for (const f of o.flows) if (f <= POOL_FLOWS) writeEmRules(f, dsts);
  if (o.siftr) for (const f of o.flows) writePcap(pcapPath(f, true), { flows: f, proto: 'tcp', dsts });

  // what we compare with: fail early, with the reason, never fake a figure
  let l3fwd: L3fwdBuild | undefined;
  if (o.engines.includes('l3fwd')) l3fwd = await buildL3fwd(log);
  if (o.engines.includes('testpmd') && !testpmdPath()) {
    throw new Error("dpdk-testpmd not found: it is in Debian's dpdk-dev package (apt-get install dpdk-dev)");
  }
  if (o.engines.includes('fastpath')) {
    const why = checkFastpath([FASTPATH_CASE_JS]);
    if (why) throw new Error(why);
  }

  const defs = cases(o);
  const started = new Date();
  log(
    `fastpath bench: ${defs.length} cases x ${o.rounds} round(s), ${o.warmup} s warm-up + ${o.seconds} s measured per run; ` +
      `forwarding lcore on CPU ${o.fwdCpu}, main on CPU ${o.mainCpu}; ${mem.hugepages ? 'hugepages' : '--no-huge'} -m ${mem.memoryMb}`,
  );
  log(
    `traffic: ${FRAME_LEN}-byte Ethernet/IPv6/UDP frames without FCS (${FRAME_LEN + 4} with it; IPv6/UDP cannot be a 64-byte frame: ` +
      `its headers alone are 62 of the 60 before the FCS), max(10000, flows) frames per pcap, one flow after another`,
  );
  log(`         net_pcap (infinite_rx) -> app -> net_null; rate = null port Tx packets / s`);
  if (!mem.hugepages) {
    log(
      `note: no hugepages in use (${o.hugepages === 'off' ? '--hugepages off' : 'none reserved'}): 4 KiB pages make every app slower and noisier; ` +
        `to use them: echo 512 > /proc/sys/vm/nr_hugepages; mount -t hugetlbfs nodev /dev/hugepages`,
    );
  }
  if (l3fwd) {
    const pcMarch = l3fwd.cflags.split(/\s+/).filter((f) => f.startsWith('-march')).join(' ');
    log(
      `l3fwd: ${path.relative(process.cwd(), l3fwd.binary)}${l3fwd.rebuilt ? ' (built now)' : ' (cached)'}: -O3, libdpdk.pc cflags${pcMarch ? ` (${pcMarch})` : ''}, ` +
        `then -march=${l3fwd.march} (FASTPATH_MARCH, as fastpath's addon)`,
    );
  }

  const records: RunRecord[] = [];
  const loadBefore = os.loadavg();
  for (let round = 1; round <= o.rounds; round++) {
    for (const c of defs) {
      const prefix = `fpb-${process.pid}-r${round}-${c.id}`;
      const logName = `r${round}-${c.id}`;
      let rec: RunRecord | undefined;
      for (let attempt = 1; !rec; attempt++) {
        try {
          if (c.engine === 'fastpath') {
            const r = await runFastpath(c, o, mem, prefix + (attempt > 1 ? `-a${attempt}` : ''), logName);
            rec = { round, caseId: c.id, mpps: r.mpps, cyclesPerPacket: r.cyclesPerPacket, tscHz: r.tscHz, packets: r.packets, interval: r.interval, detail: r };
          } else {
            const ao = {
              pcap: pcapPath(c.flows, c.tcp),
              memory: mem,
              fwdCpu: o.fwdCpu,
              mainCpu: o.mainCpu,
              warmupS: o.warmup,
              seconds: o.seconds,
              startTimeoutS: o.startTimeout,
              prefix: prefix + (attempt > 1 ? `-a${attempt}` : ''),
              logName,
              ...(c.l3fwdLookup === 'em'
                ? { rules: emRulesPaths(c.flows) }
                : routesFiles
                  ? {
                      rules: {
                        v4: routesFiles.v4,
                        v6: routesFiles.v6,
                        lpmSize: { maxRules: routesFiles.routes + 16, tbl8Groups: Math.max(1 << 16, routesFiles.routes, routesFiles.tbl8Groups) },
                      },
                    }
                  : {}),
            };
            const r: AppResult = c.engine === 'l3fwd' ? await runL3fwd(l3fwd!.binary, ao, c.l3fwdLookup) : await runTestpmd(ao);
            if (r.wrongPort > 0) {
              throw new Error(`${c.engine} sent ${r.wrongPort} packets back out of the pcap port: the traffic does not match its routes`);
            }
            rec = {
              round,
              caseId: c.id,
              mpps: r.mpps,
              tscHz: r.tscHz,
              cyclesPerPacket: r.tscHz ? r.tscHz / (r.mpps * 1e6) : undefined,
              packets: r.packets,
              interval: r.interval,
              detail: { ...r },
            };
          }
          if (!(rec.mpps > 0)) throw new Error(`${c.id}: measured ${rec.mpps} Mpps`);
        } catch (e) {
          rec = undefined;
          if (attempt >= 2) throw e;
          console.error(`bench: ${c.id} round ${round} failed, retrying once: ${(e as Error).message.split('\n')[0]}`);
        }
      }
      records.push(rec);
      log(
        `  round ${round}/${o.rounds}  ${c.label.padEnd(25)} ${String(c.flows).padStart(5)} flow${c.flows === 1 ? ' ' : 's'}  ${fmtRate(rec.mpps).padStart(6)} Mpps` +
          (rec.cyclesPerPacket ? `  ${rec.cyclesPerPacket.toFixed(0).padStart(5)} cycles/pkt` : '') +
          autoNote(rec.detail.flowSelect),
      );
    }
  }
  const loadAfter = os.loadavg();

  // TSC Hz for cycles/packet: each run's own (EAL's estimate); the median as a fallback
  const tscKnown = records.map((r) => r.tscHz).filter((x): x is number => !!x);
  const tscHz = tscKnown.length ? median(tscKnown) : undefined;

  interface Summary {
    id: string;
    label: string;
    engine: Engine;
    flows: number;
    maxflows?: number;
    mpps: number;
    min: number;
    max: number;
    runs: number[];
    cyclesPerPacket?: number;
    vsL3fwd?: number;
    vsTestpmd?: number;
    /** cycles/packet above testpmd io's at the same flow count: the app's own work, roughly (the PMDs' share is not quite constant). */
    cyclesOverIo?: number;
    flowHitRatio?: number;
  }
  const summaries: Summary[] = defs.map((c) => {
    const rs = records.filter((r) => r.caseId === c.id);
    const runs = rs.map((r) => r.mpps);
    const m = median(runs);
    const hz = median(rs.map((r) => r.tscHz).filter((x): x is number => !!x)) || tscHz;
    const hits = rs.map((r) => r.detail.flowHitRatio).filter((x): x is number => typeof x === 'number');
    return {
      id: c.id,
      label: c.label,
      engine: c.engine,
      flows: c.flows,
      maxflows: c.maxflows,
      mpps: m,
      min: Math.min(...runs),
      max: Math.max(...runs),
      runs,
      cyclesPerPacket: hz ? hz / (m * 1e6) : undefined,
      flowHitRatio: hits.length ? median(hits) : undefined,
    };
  });
  /** The faster l3fwd mode at a flow count: the one every case is compared with. */
  const bestL3fwd = (flows: number): (typeof summaries)[number] | undefined =>
    summaries.filter((x) => x.engine === 'l3fwd' && x.flows === flows).sort((a, b) => b.mpps - a.mpps)[0];
  for (const s of summaries) {
    const l3 = bestL3fwd(s.flows);
    const tp = summaries.find((x) => x.engine === 'testpmd' && x.flows === s.flows);
    if (l3) s.vsL3fwd = s.mpps / l3.mpps;
    if (tp) s.vsTestpmd = s.mpps / tp.mpps;
    if (tp?.cyclesPerPacket && s.cyclesPerPacket && s.engine !== 'testpmd') s.cyclesOverIo = s.cyclesPerPacket - tp.cyclesPerPacket;
  }

  // table
  log('');
  log(`Results: median of ${o.rounds} interleaved round(s), ${o.seconds} s each; cycles/packet = TSC Hz / packets per second on one busy-polling core` + (tscHz ? ` (TSC ${(tscHz / 1e9).toFixed(3)} GHz)` : ''));
  const head = ['case', 'flows', 'Mpps', 'min-max', 'cycles/pkt', 'above io', '/l3fwd', '/testpmd-io', 'flow hits'];
  const rows = summaries.map((s) => [
    s.label,
    String(s.flows),
    fmtRate(s.mpps),
    `${fmtRate(s.min)}-${fmtRate(s.max)}`,
    s.cyclesPerPacket ? s.cyclesPerPacket.toFixed(0) : '-',
    s.cyclesOverIo !== undefined ? s.cyclesOverIo.toFixed(0) : '-',
    s.vsL3fwd !== undefined ? s.vsL3fwd.toFixed(2) : '-',
    s.vsTestpmd !== undefined ? s.vsTestpmd.toFixed(2) : '-',
    s.flowHitRatio !== undefined ? `${(s.flowHitRatio * 100).toFixed(1)}%` : '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmtRow = (r: string[]): string => r.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  log(fmtRow(head));
  for (const r of rows) log(fmtRow(r));
  // The flow cache's size where it was raised for the flow count (memory per lcore, from the addon's fp_flowcache_memsize).
  for (const s of summaries.filter((x) => x.id === `fastpath-cache-${x.flows}` && x.flows > o.maxflows)) {
    const g = cacheGeometry(o, s.flows);
    const mib = flowCacheBytes(g.maxflows, g.hashsize) / 2 ** 20;
    log(`flow cache at ${s.flows} flows: maxflows ${g.maxflows}, hashsize ${g.hashsize}: ${mib.toFixed(1)} MiB per lcore, hit rate ${s.flowHitRatio !== undefined ? (s.flowHitRatio * 100).toFixed(1) + '%' : '-'}`);
  }
  for (const r of records.filter((x) => typeof x.detail.unloadSeconds === 'number')) {
    const d = r.detail as { loadedUnderTraffic: number; loadSeconds: number; unloadSeconds: number; droppedInWindow: number };
    log(
      `table under traffic, round ${r.round}, ${r.caseId}: ${d.loadedUnderTraffic} routes loaded in ${d.loadSeconds.toFixed(2)} s, ` +
        `unloaded in ${d.unloadSeconds.toFixed(2)} s, ${r.packets} packets forwarded meanwhile, ${d.droppedInWindow} dropped`,
    );
  }

  let dpdkVersion: string | undefined = l3fwd?.dpdkVersion;
  if (!dpdkVersion) {
    try {
      dpdkVersion = execFileSync('pkg-config', ['--modversion', 'libdpdk'], { encoding: 'utf8' }).trim();
    } catch {
      /* unknown */
    }
  }
  const results = {
    date: started.toISOString(),
    machine: { host: os.hostname(), cpu: cpuModel(), cpus: os.cpus().length, kernel: os.release(), loadavgBefore: loadBefore, loadavgAfter: loadAfter },
    dpdkVersion,
    node: process.version,
    options: { ...o, memory: mem },
    frameBytes: FRAME_LEN,
    tscHz,
    summaries,
    runs: records,
  };
  fs.writeFileSync(o.out, JSON.stringify(results, null, 2) + '\n');
  log(`\nwrote ${path.relative(process.cwd(), o.out) || o.out}`);

  // the last line: 10k-flow IPv6 case
  const bigFlows = o.flows.includes(10000) ? 10000 : Math.max(...o.flows);
  const fp = summaries.find((s) => s.id === `fastpath-cache-${bigFlows}`);
  const l3 = bestL3fwd(bigFlows);
  const tp = summaries.find((s) => s.id === `testpmd-${bigFlows}`);
  if (fp && l3 && tp) {
    const mode = l3.id.startsWith('l3fwdfib') ? 'fib' : l3.id.startsWith('l3fwdem') ? 'em' : 'lpm';
    // The PMDs' cost is the same code in every app: what each adds above testpmd io is its own work,
    // the comparison that does not depend on how slow the rig's virtual devices are.
    if (fp.cyclesOverIo !== undefined && l3.cyclesOverIo !== undefined && fp.cyclesOverIo > 0) {
      log(
        `cycles/packet above testpmd io at ${bigFlows} flows: fastpath ${fp.cyclesOverIo.toFixed(0)}, l3fwd ${l3.cyclesOverIo.toFixed(0)} [${mode}] ` +
          `(l3fwd/fastpath ${(l3.cyclesOverIo / fp.cyclesOverIo).toFixed(2)})`,
      );
    }
    log(`ratio fastpath/l3fwd = ${(fp.mpps / l3.mpps).toFixed(2)} (fastpath ${fmtRate(fp.mpps)} Mpps, l3fwd ${fmtRate(l3.mpps)} Mpps [${mode}], testpmd-io ${fmtRate(tp.mpps)} Mpps)`);
  } else {
    const ran = ENGINES.filter((e) => summaries.some((x) => x.engine === e && x.flows === bigFlows));
    log(`(no ratio line: needs fastpath's cache-on case, l3fwd and testpmd with ${bigFlows} flows; ran ${ran.join(', ') || 'none'})`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    killChildrenSync();
    console.error(`bench: FAILED: ${(e as Error).message ?? String(e)}`);
    process.exit(1);
  },
);

/**
 * `npm run bench:pktgen`: Pktgen-DPDK sends IPv6/UDP into a forwarder and
 * counts what comes back, the forwarder being fastpath (`fastpath start` with
 * dpdk-config/baremetal.yaml, devices changed) or DPDK's l3fwd in its place.
 * Two processes, wired by virtual devices:
 *
 *   pktgen port 0 ──► forwarder p0 ─(route 2001:200:0:1::/64)─► p1 ──► pktgen port 1
 *
 *   vhost      (default) pktgen net_virtio_user<N> ── unix socket ── net_vhost<N> forwarder
 *   af_packet  two veth pairs in a network namespace of the bench's own
 *              (pg0─fp0, fp1─pg1, IPv6 off), both processes run inside it
 *              (bench/pktgen-wire.ts)
 *
 * Pktgen runs dpdk-config/pktgen/ipv6-flows.lua, the bare-metal script: 1
 * flow is its single mode (Pktgen builds the frame), N flows its pcap mode
 * replaying bench/pcapgen's N-flow file; FP_QUIT=1 makes it quit after its
 * summary. The rate is what Pktgen's port 1 received per second, its port
 * counters read through DPDK telemetry (runPktgen says why not the script's
 * own figures, which are kept as a cross-check).
 *
 * Pktgen-DPDK is not installed by npm install: build it with
 * bench/pktgen/build.sh <source dir> (docs/benchmarking.md). Without it this
 * bench says how and exits 1.
 *
 * Options (or environment variables; parsed by commander, `--help` lists them;
 * numbers are whole; a bad value exits 2 with a message naming the option):
 *   --flows 1,10000                    flow counts
 *   --seconds S       FP_SECONDS       Pktgen's sending time per run, >= 2 (default 10)
 *   --warmup S        FP_WARMUP        seconds left out of the mean, < --seconds (default 3)
 *   --rate PCT        FP_RATE          Pktgen's rate, percent of link speed, 1..100 (default 100)
 *   --rounds N                         rounds, medians over them (default 1)
 *   --transport vhost|af_packet[,..]   device pair(s) (default vhost)
 *   --only fastpath,l3fwd              forwarders (default both)
 *   --fwd-cpu 1                        the forwarder's lcore
 *   --pktgen-cpus 0,0                  Pktgen's main and worker lcore CPUs
 *   --hugepages auto|on|off            the forwarder's EAL memory (Pktgen: always --no-huge)
 *   --memory-mb 512                    the forwarder's -m (>= 64)
 *   --pktgen-memory-mb 3072            Pktgen's -m, >= 256 (its pools need ~2.5 GiB for two ports)
 *   --pktgen-dir DIR  PKTGEN_DIR       Pktgen's built source tree (default: bench/out/pktgen-source)
 *   --out FILE                         results JSON (default bench/out/pktgen-results.json)
 */
import { InvalidArgumentError, Option } from 'commander';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  benchCommand,
  checkFastpath,
  fmtRate,
  hugepagesAvailable,
  hugepagesOption,
  HugepagesMode,
  installCleanup,
  listArg,
  LOG_DIR,
  killChildrenSync,
  median,
  MemoryMode,
  namesArg,
  numberArg,
  OUT_DIR,
  outOption,
  registerPrefix,
  removeRuntimeDir,
  ROOT,
  runCommand,
  sleep,
  spawnLogged,
  Spawned,
  stopChild,
  tail,
  telemetryRate,
} from './common';
import { buildL3fwd, l3fwdArgs, withDeathSig } from './dpdk-apps';
import { writePcap } from './pcapgen';
import { parsePktgenOutput, PktgenSummary } from './pktgen-output';
import { pktgenRouterConfig } from './pktgen-router-config';
import { openWire, removeLeftovers, RUN_PREFIX, Transport, TRANSPORTS, Wire } from './pktgen-wire';

type Forwarder = 'fastpath' | 'l3fwd';
const FORWARDERS: readonly Forwarder[] = ['fastpath', 'l3fwd'];

const LUA_SCRIPT = path.join(ROOT, 'dpdk-config', 'pktgen', 'ipv6-flows.lua');
const BAREMETAL_YAML = path.join(ROOT, 'dpdk-config', 'baremetal.yaml');
const CLI_JS = path.join(__dirname, '..', 'lib', 'cli', 'cli.js');
const PKTGEN_SOURCE_FILE = path.join(OUT_DIR, 'pktgen-source');

/** What commander hands back, before the checks across options. */
interface CommandLine extends Omit<Options, 'transports' | 'forwarders' | 'startTimeout'> {
  transport: Transport[];
  only: Forwarder[];
}

interface Options {
  flows: number[];
  seconds: number;
  warmup: number;
  rate: number;
  rounds: number;
  transports: Transport[];
  forwarders: Forwarder[];
  fwdCpu: number;
  pktgenCpus: [number, number];
  hugepages: HugepagesMode;
  memoryMb: number;
  pktgenMemoryMb: number;
  pktgenDir?: string;
  out: string;
  startTimeout: number;
}

function parseOptions(argv: string[]): Options {
  const program = benchCommand('bench:pktgen', 'npm run bench:pktgen --', 'Pktgen-DPDK through fastpath or l3fwd, over vhost or af_packet device pairs (bench/pktgen.ts)')
    .addOption(new Option('--flows <list>', 'flow counts').argParser(listArg(numberArg(1))).default([1, 10000], '1,10000'))
    .addOption(new Option('--seconds <s>', "Pktgen's sending time per run").env('FP_SECONDS').argParser(numberArg(2)).default(10))
    .addOption(new Option('--warmup <s>', 'seconds left out of the mean (less than --seconds)').env('FP_WARMUP').argParser(numberArg(0)).default(3))
    .addOption(new Option('--rate <pct>', "Pktgen's rate, percent of link speed").env('FP_RATE').argParser(numberArg(1, { max: 100 })).default(100))
    .addOption(new Option('--rounds <n>', 'rounds, medians over them').argParser(numberArg(1)).default(1))
    .addOption(new Option('--transport <list>', 'device pair(s)').argParser(namesArg(TRANSPORTS)).default(['vhost'], 'vhost'))
    .addOption(new Option('--only <forwarders>', 'forwarders').argParser(namesArg(FORWARDERS)).default([...FORWARDERS], FORWARDERS.join(',')))
    .addOption(new Option('--fwd-cpu <cpu>', "the forwarder's lcore").argParser(numberArg(0)).default(1))
    .addOption(new Option('--pktgen-cpus <main,worker>', "Pktgen's main and worker lcore CPUs").argParser(cpuPairArg).default([0, 0], '0,0'))
    .addOption(hugepagesOption("the forwarder's EAL memory (Pktgen: always --no-huge)"))
    .addOption(new Option('--memory-mb <mb>', "the forwarder's -m").argParser(numberArg(64)).default(512))
    .addOption(new Option('--pktgen-memory-mb <mb>', "Pktgen's -m (its pools need ~2.5 GiB for two ports)").argParser(numberArg(256)).default(3072))
    .addOption(new Option('--pktgen-dir <dir>', "Pktgen's built source tree (default: the one bench/out/pktgen-source names)").env('PKTGEN_DIR'))
    .addOption(outOption('pktgen-results.json'))
    .parse(argv, { from: 'user' });
  const cli = program.opts<CommandLine>();
  if (cli.warmup >= cli.seconds) program.error(`error: --warmup (${cli.warmup}) must be shorter than --seconds (${cli.seconds})`);
  return {
    flows: cli.flows,
    seconds: cli.seconds,
    warmup: cli.warmup,
    rate: cli.rate,
    rounds: cli.rounds,
    transports: cli.transport,
    forwarders: cli.only,
    fwdCpu: cli.fwdCpu,
    pktgenCpus: cli.pktgenCpus,
    hugepages: cli.hugepages,
    memoryMb: cli.memoryMb,
    pktgenMemoryMb: cli.pktgenMemoryMb,
    // PKTGEN_DIR= (empty) is unset, as it was
    pktgenDir: cli.pktgenDir || undefined,
    out: cli.out,
    startTimeout: 60,
  };
}

/** --pktgen-cpus: exactly two CPUs, MAIN,WORKER. */
function cpuPairArg(value: string): [number, number] {
  const cpus = listArg(numberArg(0))(value);
  if (cpus.length !== 2) throw new InvalidArgumentError('Expected two CPUs, MAIN,WORKER.');
  return [cpus[0], cpus[1]];
}

// ---------------------------------------------------------------------------
// Pktgen

interface PktgenInstall {
  dir: string;
  binary: string;
}

/** Pktgen's source tree (Pktgen.lua lives there) and binary, or why not. */
function findPktgen(dirOption: string | undefined): PktgenInstall | string {
  let dir = dirOption;
  if (!dir && fs.existsSync(PKTGEN_SOURCE_FILE)) dir = fs.readFileSync(PKTGEN_SOURCE_FILE, 'utf8').trim();
  if (!dir) return 'no Pktgen-DPDK build found (neither --pktgen-dir, PKTGEN_DIR nor bench/out/pktgen-source)';
  const binary = path.join(dir, 'build', 'app', 'pktgen');
  if (!fs.existsSync(path.join(dir, 'Pktgen.lua'))) return `${dir} is not a Pktgen-DPDK source tree (no Pktgen.lua)`;
  try {
    fs.accessSync(binary, fs.constants.X_OK);
  } catch {
    return `${binary} not found: Pktgen in ${dir} is not built`;
  }
  return { dir, binary };
}

const HOW_TO_BUILD = `To build Pktgen-DPDK 23.03.0 (with Lua) against the system's DPDK:
  apt-get install meson ninja-build libnuma-dev liblua5.3-dev
  git clone --depth 1 -b pktgen-23.03.0 https://github.com/pktgen/Pktgen-DPDK /path/to/pktgen-src
  bench/pktgen/build.sh /path/to/pktgen-src
then run npm run bench:pktgen again (or pass --pktgen-dir / PKTGEN_DIR). See docs/benchmarking.md.`;

/** The run's config files and control sockets: removed at exit, whatever the path out. */
const runFiles = new Set<string>();
process.on('exit', () => {
  for (const f of runFiles) fs.rmSync(f, { force: true });
});

// ---------------------------------------------------------------------------
// forwarders

interface Running {
  app: Spawned;
  prefix: string;
  /** fastpath's control socket (its counters after the run) and config file, removed when it stops. */
  controlSocket?: string;
  configFile?: string;
}

/** Waits until `ready()` or the app exits or the time is up. */
async function waitReady(app: Spawned, what: string, ready: () => boolean, timeoutS: number): Promise<void> {
  const until = Date.now() + timeoutS * 1000;
  let exited = false;
  void app.exited.then(() => {
    exited = true;
  });
  while (!ready()) {
    if (exited) throw new Error(`${what} exited before it was ready; log: ${app.logFile}\n${tail(app.output(), 15)}`);
    if (Date.now() > until) throw new Error(`${what} not ready within ${timeoutS} s; log: ${app.logFile}\n${tail(app.output(), 15)}`);
    await sleep(100);
  }
}

/** baremetal.yaml made into this run's config file (bench/out/<prefix>.yaml, removed with the run; its command line is in the log). */
function fastpathConfig(w: Wire, o: Options, mem: MemoryMode, prefix: string, controlSocket: string): string {
  const cfg = pktgenRouterConfig(parseYaml(fs.readFileSync(BAREMETAL_YAML, 'utf8')), {
    devices: w.forwarderDevices,
    workerCpu: o.fwdCpu,
    hugepages: mem.hugepages,
    memoryMb: mem.memoryMb,
    filePrefix: prefix,
    controlSocket,
  });
  const file = path.join(OUT_DIR, `${prefix}.yaml`);
  fs.writeFileSync(file, `# made by bench/pktgen.ts from dpdk-config/baremetal.yaml\n${stringifyYaml(cfg)}`);
  return file;
}

async function startForwarder(f: Forwarder, w: Wire, o: Options, mem: MemoryMode, l3fwd: string | undefined, tag: string): Promise<Running> {
  const prefix = `${RUN_PREFIX}${process.pid}-${tag}-${f}`;
  registerPrefix(prefix);
  let running: Running;
  let ready: () => boolean;
  if (f === 'fastpath') {
    const controlSocket = path.join(OUT_DIR, `${prefix}.sock`);
    const yaml = fastpathConfig(w, o, mem, prefix, controlSocket);
    const [c, a] = withDeathSig(...w.wrap(process.execPath, [CLI_JS, 'start', '-c', yaml, '--quiet']));
    const app = spawnLogged(c, a, `pktgen-${tag}-fastpath.log`);
    running = { app, prefix, controlSocket, configFile: yaml };
    runFiles.add(yaml).add(controlSocket);
    // `fastpath start` names its control socket once the router runs
    ready = () => app.output().includes(`control socket ${controlSocket}`);
  } else {
    const args = l3fwdArgs({ fwdCpu: o.fwdCpu, memory: mem, prefix, vdevs: w.forwarderDevices.map((d) => `--vdev=${d}`), lookup: 'lpm', promiscuous: true });
    const [c, a] = withDeathSig(...w.wrap(l3fwd!, args));
    const app = spawnLogged(c, a, `pktgen-${tag}-l3fwd.log`);
    running = { app, prefix };
    // af_packet: its main loop. vhost: it waits for the links (up only once
    // Pktgen connects), so its sockets listening is the signal.
    ready = () => app.output().includes('entering main loop') || (w.readyFiles.length > 0 && w.readyFiles.every((p) => fs.existsSync(p)));
  }
  try {
    await waitReady(running.app, f, () => ready() && w.readyFiles.every((p) => fs.existsSync(p)), o.startTimeout);
  } catch (e) {
    await stopForwarder(running);
    throw e;
  }
  return running;
}

async function stopForwarder(r: Running): Promise<void> {
  await stopChild(r.app, 5000);
  removeRuntimeDir(r.prefix);
  for (const f of [r.controlSocket, r.configFile]) {
    if (f === undefined) continue;
    fs.rmSync(f, { force: true });
    runFiles.delete(f);
  }
}

/** fastpath's port counters, read with `fastpath stats --json` (the cross-check the README describes). */
async function fastpathCounters(r: Running, tag: string): Promise<Record<string, unknown> | undefined> {
  if (!r.controlSocket) return undefined;
  const out = await runCommand(process.execPath, [CLI_JS, 'stats', '--json', '--socket', r.controlSocket], `pktgen-${tag}-stats.log`);
  const s = JSON.parse(out) as { ports?: Record<string, Record<string, string>>; drops?: Record<string, string> };
  const pick = (p: Record<string, string> | undefined, keys: string[]): Record<string, number> =>
    Object.fromEntries(keys.filter((k) => p?.[k] !== undefined).map((k) => [k, Number(p![k])]));
  return {
    p0: pick(s.ports?.p0, ['ipackets', 'imissed', 'ierrors', 'rx_nombuf']),
    p1: pick(s.ports?.p1, ['opackets', 'oerrors']),
    drops: Object.fromEntries(Object.entries(s.drops ?? {}).filter(([, v]) => v !== '0').map(([k, v]) => [k, Number(v)])),
  };
}

// ---------------------------------------------------------------------------
// one run

interface RunRecord {
  round: number;
  transport: Transport;
  forwarder: Forwarder;
  flows: number;
  /** Received on Pktgen's port 1 (forwarded) and sent by its port 0, per second of the telemetry window. */
  rxMpps: number;
  txMpps: number;
  /** The script's own mean forwarded rate (Pktgen's timer; a cross-check). */
  scriptRxMpps?: number;
  pktgen: PktgenRun;
  router?: Record<string, unknown>;
}

function pcapFor(flows: number): string {
  return path.join(OUT_DIR, `pktgen-ipv6-udp-${flows}flows.pcap`);
}

interface PktgenRun {
  /** Pktgen's port counters over the measurement window, read through DPDK telemetry. */
  window: { seconds: number; sent: number; forwarded: number; rxMissed: number };
  /** What the Lua script printed; missing only when Pktgen had to be stopped before its summary. */
  summary?: PktgenSummary;
  /** How Pktgen ended: FP_QUIT's pktgen.quit(), or stopped (after its summary, or at the time limit). */
  quit: 'by itself' | 'signalled after its summary' | 'timed out';
  /** Wall-clock seconds of the script's sending loop (its header to its summary) and of the whole Pktgen run. */
  scriptSeconds?: number;
  wallSeconds: number;
}

/**
 * One Pktgen run with the Lua script. The rate is measured from outside:
 * Pktgen's port counters read twice through DPDK telemetry (as the pcap bench
 * reads its apps), `warmup` s after port 0 starts sending and `seconds -
 * warmup - 1` s apart, so inside the script's sending loop. Pktgen's own
 * per-second rates come from a 1 s timer thread whose period stretches on a
 * busy CPU (and the script's delay(1000) with it), so they are kept as a
 * cross-check only.
 */
async function runPktgen(pg: PktgenInstall, w: Wire, o: Options, flows: number, tag: string): Promise<PktgenRun> {
  const prefix = `${RUN_PREFIX}${process.pid}-${tag}-pktgen`;
  registerPrefix(prefix);
  const [mainCpu, workerCpu] = o.pktgenCpus;
  const args = [
    `--lcores=0@${mainCpu},1@${workerCpu}`,
    '--no-pci',
    // its pools (10 KiB mbufs) need more than the hugepages a small box has
    '--no-huge',
    '-m',
    String(o.pktgenMemoryMb),
    `--file-prefix=${prefix}`,
    ...w.pktgenDevices.map((d) => `--vdev=${d}`),
    '--',
    '-P',
    '-m',
    '1.[0-1]',
    ...(flows > 1 ? ['-s', `0:${pcapFor(flows)}`] : []),
    '-f',
    LUA_SCRIPT,
  ];
  const env = {
    ...process.env,
    FP_MODE: flows > 1 ? 'pcap' : 'single',
    FP_SECONDS: String(o.seconds),
    FP_WARMUP: String(o.warmup),
    FP_RATE: String(o.rate),
    FP_QUIT: '1',
    // no screen pages: the stats thread would write them to the same stdout
    // as the script's lines (one stdio lock, held by a thread at nice 19)
    FP_SCREEN: 'off',
  };
  const [c, a] = withDeathSig(...w.wrap(pg.binary, args));
  const started = Date.now();
  // Pktgen.lua (required by the script) is found in Pktgen's source folder
  const app = spawnLogged(c, a, `pktgen-${tag}-pktgen.log`, { cwd: pg.dir, env });
  const exited = app.exited.then(() => true);
  const windowS = Math.max(1, o.seconds - o.warmup - 1);
  const sample = telemetryRate(prefix, w.pktgenPorts[0], o.warmup, windowS, o.startTimeout, `pktgen-${tag}-telemetry.log`, app).then(
    (r) => ({ r }),
    (e: Error) => ({ e }),
  );
  // the script's seconds stretch when its CPU is busy: a generous limit
  const limitMs = (o.startTimeout + 6 * o.seconds + 30) * 1000;
  let calmed = false;
  let headerAt: number | undefined;
  let summaryAt: number | undefined;
  let quit: PktgenRun['quit'] = 'by itself';
  for (;;) {
    if (await Promise.race([exited, sleep(100).then(() => false)])) break;
    if (!calmed && app.child.pid !== undefined) calmed = calmTimerThread(app.child.pid);
    if (headerAt === undefined && app.output().includes('fastpath ipv6-flows:')) headerAt = Date.now();
    if (summaryAt === undefined && /mean over \d+s:/.test(app.output())) summaryAt = Date.now();
    // The summary is out but Pktgen has not quit (seen under heavy load: its
    // exit waits on the worker lcore and the peer): the figures are in.
    const stuck = summaryAt !== undefined && Date.now() - summaryAt > QUIT_GRACE_MS;
    if (stuck || Date.now() - started > limitMs) {
      logThreadStates(app, tag);
      quit = stuck ? 'signalled after its summary' : 'timed out';
      await stopChild(app, 3000);
      break;
    }
  }
  const { code, signal } = await app.exited;
  removeRuntimeDir(prefix);
  const fail = (why: string): never => {
    throw new Error(`pktgen: ${why}; log: ${app.logFile}\n${tail(app.output(), 15)}`);
  };
  const t = await sample;
  if ('e' in t) return fail(t.e.message);
  if (quit === 'by itself' && code !== 0) fail(`exit code ${code}, signal ${signal}`);
  let summary: PktgenSummary | undefined;
  try {
    summary = parsePktgenOutput(app.output());
  } catch (e) {
    if (quit !== 'timed out') fail((e as Error).message);
  }
  const tx = t.r.delta[w.pktgenPorts[0]];
  const rx = t.r.delta[w.pktgenPorts[1]];
  if (!tx || !rx) fail(`telemetry has no ports ${w.pktgenPorts.join(', ')}`);
  return {
    window: { seconds: t.r.interval, sent: tx.opackets, forwarded: rx.ipackets, rxMissed: rx.imissed },
    summary,
    quit,
    scriptSeconds: headerAt !== undefined && summaryAt !== undefined ? (summaryAt - headerAt) / 1000 : undefined,
    wallSeconds: (Date.now() - started) / 1000,
  };
}

/** How long Pktgen may take to quit after its summary before it is stopped. */
const QUIT_GRACE_MS = 15000;

/**
 * Pktgen 23.03's stats/display timer is a pthread that busy-polls the TSC
 * (app/pktgen.c, _timer_thread) on the main lcore's CPU: at nice 19 it still
 * runs when due but no longer takes half of the CPU from a worker lcore that
 * shares it. It is the thread named like the process besides the main one.
 * Returns whether it was found.
 */
function calmTimerThread(pid: number): boolean {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  for (const tid of tids) {
    if (Number(tid) === pid) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() !== 'pktgen') continue;
      os.setPriority(Number(tid), 19);
      return true;
    } catch {
      /* gone, or not ours */
    }
  }
  return false;
}

/** Appends each thread's name, state and kernel wait channel to the log (why a Pktgen did not quit). */
function logThreadStates(app: Spawned, tag: string): void {
  const pid = app.child.pid;
  if (pid === undefined) return;
  const lines: string[] = [];
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const read = (f: string): string => {
        try {
          return fs.readFileSync(`/proc/${pid}/task/${tid}/${f}`, 'utf8').trim();
        } catch {
          return '?';
        }
      };
      const stat = read('stat');
      lines.push(`  ${tid} ${read('comm')} state ${stat.split(') ')[1]?.split(' ')[0] ?? '?'} wchan ${read('wchan')}`);
    }
  } catch {
    /* exited meanwhile */
  }
  fs.appendFileSync(path.join(LOG_DIR, `pktgen-${tag}-threads.log`), `threads of pktgen ${pid}, not quit:\n${lines.join('\n')}\n`);
}

async function runCase(pg: PktgenInstall, t: Transport, f: Forwarder, flows: number, round: number, o: Options, mem: MemoryMode, l3fwd?: string): Promise<RunRecord> {
  const tag = `r${round}-${t}-${flows}`;
  const w = openWire(t);
  try {
    const fwd = await startForwarder(f, w, o, mem, l3fwd, tag);
    try {
      const p = await runPktgen(pg, w, o, flows, `${tag}-${f}`);
      const router = f === 'fastpath' ? await fastpathCounters(fwd, `${tag}-${f}`) : undefined;
      return {
        round,
        transport: t,
        forwarder: f,
        flows,
        rxMpps: p.window.forwarded / p.window.seconds / 1e6,
        txMpps: p.window.sent / p.window.seconds / 1e6,
        scriptRxMpps: p.summary ? p.summary.meanRxPps / 1e6 : undefined,
        pktgen: p,
        router,
      };
    } finally {
      await stopForwarder(fwd);
    }
  } finally {
    w.close();
  }
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  installCleanup();
  const o = parseOptions(process.argv.slice(2));
  const log = (s: string): void => console.log(s);
  const pg = findPktgen(o.pktgenDir);
  if (typeof pg === 'string') {
    console.error(`bench:pktgen: ${pg}.\n${HOW_TO_BUILD}`);
    process.exit(1);
  }
  const ncpu = os.cpus().length;
  for (const c of [o.fwdCpu, ...o.pktgenCpus]) if (c >= ncpu) throw new Error(`this machine has ${ncpu} CPUs: CPU ${c} does not exist`);
  fs.mkdirSync(OUT_DIR, { recursive: true });
  removeLeftovers();

  const huge = o.hugepages === 'on' || (o.hugepages === 'auto' && hugepagesAvailable(o.memoryMb));
  if (o.hugepages === 'on' && !huge) throw new Error(`--hugepages on: fewer than ${o.memoryMb + 64} MiB of free hugepages, or hugetlbfs not mounted`);
  const mem: MemoryMode = { hugepages: huge, memoryMb: o.memoryMb };

  let l3fwd: string | undefined;
  if (o.forwarders.includes('l3fwd')) l3fwd = (await buildL3fwd(log)).binary;
  if (o.forwarders.includes('fastpath')) {
    const why = checkFastpath([CLI_JS]);
    if (why) throw new Error(why);
  }
  for (const f of o.flows) if (f > 1) writePcap(pcapFor(f), { flows: f });

  log(
    `fastpath bench:pktgen: Pktgen ${pg.binary} (lcores main CPU ${o.pktgenCpus[0]}, worker CPU ${o.pktgenCpus[1]}, --no-huge -m ${o.pktgenMemoryMb}); ` +
      `forwarder lcore on CPU ${o.fwdCpu}, ${mem.hugepages ? 'hugepages' : '--no-huge'} -m ${mem.memoryMb}`,
  );
  log(`  ${o.seconds} s per run at ${o.rate}% rate, mean after ${o.warmup} s; ${o.rounds} round(s); transports ${o.transports.join(', ')}; ${ncpu} CPUs, load ${os.loadavg()[0].toFixed(1)}`);
  const records: RunRecord[] = [];
  const started = new Date();
  for (let round = 1; round <= o.rounds; round++) {
    for (const t of o.transports) {
      for (const flows of o.flows) {
        for (const f of o.forwarders) {
          const r = await runCase(pg, t, f, flows, round, o, mem, l3fwd);
          records.push(r);
          const rp0 = (r.router?.p0 as Record<string, number> | undefined)?.ipackets;
          log(
            `  round ${round}  ${t.padEnd(9)} ${f.padEnd(8)} ${String(flows).padStart(5)} flow${flows === 1 ? ' ' : 's'}  ` +
              `forwarded ${fmtRate(r.rxMpps).padStart(6)} Mpps  sent ${fmtRate(r.txMpps).padStart(6)} Mpps` +
              `  (script's own: ${r.scriptRxMpps !== undefined ? fmtRate(r.scriptRxMpps) : '-'} Mpps over ${r.pktgen.scriptSeconds?.toFixed(0) ?? '?'} s` +
              (r.pktgen.summary ? `; whole run sent ${r.pktgen.summary.sent}, forwarded ${r.pktgen.summary.forwarded}` : '') +
              (rp0 !== undefined ? `; fastpath p0 rx ${rp0}, p1 tx ${(r.router?.p1 as Record<string, number>).opackets}` : '') +
              ')' +
              (r.pktgen.quit !== 'by itself' ? `  [pktgen ${r.pktgen.quit}]` : ''),
          );
        }
      }
    }
  }

  log('');
  log(`Results: Mpps received by Pktgen (port 1), median of ${o.rounds} round(s)`);
  const summaries: Array<{ transport: Transport; flows: number; fastpath?: number; l3fwd?: number; ratio?: number }> = [];
  for (const t of o.transports) {
    for (const flows of o.flows) {
      const m = (f: Forwarder): number | undefined => {
        const xs = records.filter((r) => r.transport === t && r.flows === flows && r.forwarder === f).map((r) => r.rxMpps);
        return xs.length ? median(xs) : undefined;
      };
      const fp = m('fastpath');
      const l3 = m('l3fwd');
      const s = { transport: t, flows, fastpath: fp, l3fwd: l3, ratio: fp !== undefined && l3 ? fp / l3 : undefined };
      summaries.push(s);
      log(
        `  ${t.padEnd(9)} ${String(flows).padStart(5)} flows  fastpath ${fp !== undefined ? fmtRate(fp) : '-'} Mpps  l3fwd ${l3 !== undefined ? fmtRate(l3) : '-'} Mpps` +
          (s.ratio !== undefined ? `  ratio ${s.ratio.toFixed(2)}` : ''),
      );
    }
  }
  fs.writeFileSync(
    o.out,
    JSON.stringify({ date: started.toISOString(), machine: { cpu: os.cpus()[0]?.model, cpus: ncpu, kernel: os.release(), loadavg: os.loadavg() }, pktgen: pg, options: { ...o, memory: mem }, summaries, runs: records }, null, 2) + '\n',
  );
  log(`\nwrote ${path.relative(process.cwd(), o.out) || o.out}`);
  const last = summaries.filter((s) => s.ratio !== undefined).pop();
  if (last) {
    log(`pktgen ratio fastpath/l3fwd = ${last.ratio!.toFixed(2)} (fastpath ${fmtRate(last.fastpath!)} Mpps, l3fwd ${fmtRate(last.l3fwd!)} Mpps; ${last.flows} flows, ${last.transport})`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    killChildrenSync();
    console.error(`bench:pktgen: FAILED: ${(e as Error).message ?? String(e)}`);
    process.exit(1);
  },
);

/**
 * Shared pieces of the benchmark: paths, command lines (commander), child-process
 * bookkeeping (every child is killed on exit or failure), EAL arguments,
 * reading rates from DPDK telemetry, medians.
 */
import { ChildProcess, execFileSync, spawn, SpawnOptions } from 'child_process';
import { Command, InvalidArgumentError, Option } from 'commander';
import * as fs from 'fs';
import * as path from 'path';

import { native } from '../lib/native';

/** The repository root: the nearest parent directory whose package.json is fastpath's. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if (JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'fastpath') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find fastpath's package.json above ${__dirname}`);
    dir = up;
  }
}

export const ROOT = repoRoot();
/** Everything the benchmark writes (gitignored). */
export const OUT_DIR = path.join(ROOT, 'bench', 'out');
export const LOG_DIR = path.join(OUT_DIR, 'logs');
export const DPDK_RUN_DIR = '/var/run/dpdk';
/** The system python (Debian's), not a pyenv one first on PATH. */
export const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A figure with 1-2 decimals: 2 below 10, 1 from 10 up. */
export function fmtRate(x: number): string {
  return x.toFixed(x < 10 ? 2 : 1);
}

// ---------------------------------------------------------------------------
// command lines

/**
 * A bench's command line: commander with --help, errors prefixed with the
 * bench's `tag` and naming the option, exit code 2 for a usage error (1 is
 * the bench's own failure). `invocation` is how the usage line reads.
 */
export function benchCommand(tag: string, invocation: string, description: string): Command {
  return new Command(invocation)
    .description(description)
    .configureOutput({ outputError: (message, write) => write(`${tag}: ${message}`) })
    .showHelpAfterError('(--help lists the options)')
    .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2));
}

/**
 * An option value's parser: a number of at least `min` (at most `max`
 * where given), whole unless `fraction`. Empty strings are refused (Number('') is 0).
 */
export function numberArg(min: number, limits: { max?: number; fraction?: boolean } = {}): (value: string) => number {
  const kind = limits.fraction ? 'a number' : 'a whole number';
  const range = limits.max === undefined ? `>= ${min}` : `from ${min} to ${limits.max}`;
  return (value) => {
    const n = Number(value);
    const ok = value.trim() !== '' && (limits.fraction ? Number.isFinite(n) : Number.isInteger(n)) && n >= min && !(n > (limits.max ?? Infinity));
    if (!ok) throw new InvalidArgumentError(`Expected ${kind} ${range}.`);
    return n;
  };
}

/** A comma-separated list's parser, each item by `item`; an empty list is refused. */
export function listArg<T>(item: (value: string) => T): (value: string) => T[] {
  return (value) => {
    const items = value.split(',').filter((s) => s !== '');
    if (items.length === 0) throw new InvalidArgumentError('Expected a comma-separated list.');
    return items.map((s) => {
      try {
        return item(s);
      } catch (e) {
        const why = (e as Error).message;
        throw new InvalidArgumentError(`${JSON.stringify(s)}: ${why.charAt(0).toLowerCase()}${why.slice(1)}`);
      }
    });
  };
}

/** A comma-separated list of names from `allowed`. */
export function namesArg<T extends string>(allowed: readonly T[]): (value: string) => T[] {
  return listArg((s) => {
    if (!allowed.includes(s as T)) throw new InvalidArgumentError(`Allowed are ${allowed.join(', ')}.`);
    return s as T;
  });
}

export type HugepagesMode = 'auto' | 'on' | 'off';

/** --hugepages auto|on|off (default auto): auto uses hugepages when enough are reserved and mounted. */
export function hugepagesOption(whose: string): Option {
  return new Option('--hugepages <mode>', `${whose}: auto = hugepages when enough are free and hugetlbfs is mounted`)
    .choices(['auto', 'on', 'off'] satisfies HugepagesMode[])
    .default('auto');
}

/** --out FILE, resolved against the working directory; by default bench/out/<file>. */
export function outOption(file: string): Option {
  return new Option('--out <file>', 'results JSON').argParser((f) => path.resolve(f)).default(path.join(OUT_DIR, file), `bench/out/${file}`);
}

// ---------------------------------------------------------------------------
// children

const children = new Set<ChildProcess>();
let cleanupInstalled = false;

function killAllChildren(signal: NodeJS.Signals): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
      try {
        // each child leads its own process group (detached), so this also
        // reaches whatever it started (a shell's children, python)
        process.kill(-c.pid, signal);
      } catch {
        try {
          c.kill(signal);
        } catch {
          /* gone */
        }
      }
    }
  }
}

/** Kills every child still running, SIGTERM then SIGKILL. Safe to call twice. */
export function killChildrenSync(): void {
  killAllChildren('SIGTERM');
  const until = Date.now() + 1500;
  while (Date.now() < until && [...children].some((c) => c.exitCode === null && c.signalCode === null)) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
  killAllChildren('SIGKILL');
}

/** EAL file prefixes of runs in flight: their runtime dirs are removed at exit. */
const livePrefixes = new Set<string>();
export function registerPrefix(prefix: string): void {
  livePrefixes.add(prefix);
}

export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', () => {
    killAllChildren('SIGKILL');
    for (const p of livePrefixes) removeRuntimeDir(p);
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      console.error(`\nbench: ${sig}, stopping children`);
      killChildrenSync();
      process.exit(130);
    });
  }
}

export interface Spawned {
  child: ChildProcess;
  /** Resolves when the child has exited (never rejects). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it printed so far (stdout and stderr, interleaved). */
  output(): string;
  logFile: string;
}

/**
 * Spawns a child in its own process group, output to a log file and kept in
 * memory. It is registered for cleanup until it exits.
 */
export function spawnLogged(cmd: string, args: string[], logName: string, opts: SpawnOptions = {}): Spawned {
  installCleanup();
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, logName);
  const log = fs.createWriteStream(logFile);
  log.write(`$ ${[cmd, ...args].map(shq).join(' ')}\n`);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
  children.add(child);
  let out = '';
  const onData = (d: Buffer): void => {
    const s = d.toString();
    if (out.length < 4 * 1024 * 1024) out += s;
    log.write(s);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (e) => {
      onData(Buffer.from(`\nspawn error: ${e.message}\n`));
    });
    child.on('close', (code, signal) => {
      children.delete(child);
      log.end(`\n[exit code=${code} signal=${signal}]\n`);
      resolve({ code, signal });
    });
  });
  return { child, exited, output: () => out, logFile };
}

/** Stops a child: SIGINT (DPDK apps exit cleanly on it), then SIGTERM, then SIGKILL. */
export async function stopChild(s: Spawned, graceMs = 5000): Promise<void> {
  const alive = (): boolean => s.child.exitCode === null && s.child.signalCode === null;
  const send = (sig: NodeJS.Signals): void => {
    if (!alive() || s.child.pid === undefined) return;
    try {
      process.kill(-s.child.pid, sig);
    } catch {
      /* gone */
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
    send(sig);
    const done = await Promise.race([s.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (done) return;
  }
  await s.exited;
}

export function shq(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Runs a command to completion; rejects with its output on failure. */
export async function runCommand(cmd: string, args: string[], logName: string, opts: SpawnOptions = {}): Promise<string> {
  const s = spawnLogged(cmd, args, logName, opts);
  const { code, signal } = await s.exited;
  if (code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (code ${code}, signal ${signal}); log: ${s.logFile}\n${tail(s.output(), 30)}`);
  }
  return s.output();
}

/** fastpath's library as the benches load it (built by tsc next to dist/bench). */
export const FASTPATH_LIB_JS = path.join(__dirname, '..', 'lib', 'index.js');

/**
 * Why fastpath cannot be benchmarked (not built, or Router.start missing),
 * or undefined when it can: checked in a child, so the addon stays out of
 * this process. `files`: other built files the bench needs.
 */
export function checkFastpath(files: string[] = []): string | undefined {
  if (!fs.existsSync(FASTPATH_LIB_JS)) return `${FASTPATH_LIB_JS} not found (build fastpath: npm run build)`;
  for (const f of files) if (!fs.existsSync(f)) return `${f} not found (build fastpath: npm run build)`;
  try {
    execFileSync(
      process.execPath,
      ['-e', `const m=require(${JSON.stringify(FASTPATH_LIB_JS)}); if(!m.Router||typeof m.Router.start!=='function'){console.error('no Router.start export');process.exit(3)}`],
      { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000 },
    );
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    return `cannot load fastpath (${FASTPATH_LIB_JS}): ${tail(err.stderr?.toString() || err.message, 8)}`;
  }
  return undefined;
}

export function tail(s: string, lines: number): string {
  return s.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Removes the (normally empty) EAL runtime directory a run leaves behind. */
export function removeRuntimeDir(prefix: string): void {
  livePrefixes.delete(prefix);
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) return;
  fs.rmSync(path.join(DPDK_RUN_DIR, prefix), { recursive: true, force: true });
}

// ---------------------------------------------------------------------------
// EAL

export interface MemoryMode {
  hugepages: boolean;
  memoryMb: number;
}

/** Whether enough free hugepages are reserved and hugetlbfs is mounted. */
export function hugepagesAvailable(memoryMb: number): boolean {
  try {
    const mi = fs.readFileSync('/proc/meminfo', 'utf8');
    const free = Number(/HugePages_Free:\s+(\d+)/.exec(mi)?.[1] ?? 0);
    const sizeKb = Number(/Hugepagesize:\s+(\d+) kB/.exec(mi)?.[1] ?? 0);
    const mounted = fs.readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[2] === 'hugetlbfs');
    // room for the app's -m plus a little slack
    return mounted && free * sizeKb >= (memoryMb + 64) * 1024;
  } catch {
    return false;
  }
}

/** EAL memory arguments, the same for every app in a run. */
export function ealMemoryArgs(mode: MemoryMode): string[] {
  return mode.hugepages ? ['--in-memory', '-m', String(mode.memoryMb)] : ['--no-huge', '-m', String(mode.memoryMb)];
}

/** Parses "TSC frequency is ~2600000 KHz" from an EAL debug log. */
export function parseTscHz(log: string): number | undefined {
  const m = /TSC frequency is ~(\d+) KHz/.exec(log);
  return m ? Number(m[1]) * 1000 : undefined;
}

// ---------------------------------------------------------------------------
// telemetry

/**
 * Python client for the DPDK telemetry v2 socket (AF_UNIX SOCK_SEQPACKET,
 * which Node cannot open). It waits for the socket, finds the port by its
 * device name, waits until that port transmits, sleeps the warm-up, then
 * reads /ethdev/stats twice `seconds` apart and prints one JSON line.
 */
const TELEMETRY_PY = String.raw`
import json, socket, sys, time
sock_path, port_name, warmup, seconds, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
def out(d):
    print(json.dumps(d)); sys.stdout.flush(); sys.exit(0)
deadline = time.monotonic() + timeout
s = None
while s is None:
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(sock_path)
    except OSError as e:
        s = None
        if time.monotonic() > deadline:
            out({"error": "telemetry socket %s: %s" % (sock_path, e)})
        time.sleep(0.05)
hello = json.loads(s.recv(65536).decode())
def q(cmd):
    s.send(cmd.encode())
    return json.loads(s.recv(1 << 20).decode())
ports = q("/ethdev/list")["/ethdev/list"]
names = {}
for p in ports:
    info = q("/ethdev/info,%d" % p)["/ethdev/info"]
    names[info["name"]] = p
if port_name not in names:
    out({"error": "no port %s among %s" % (port_name, sorted(names))})
tx = names[port_name]
def stats():
    t = time.monotonic()
    r = {n: q("/ethdev/stats,%d" % p)["/ethdev/stats"] for n, p in names.items()}
    return (t + time.monotonic()) / 2, r
while stats()[1][port_name]["opackets"] == 0:
    if time.monotonic() > deadline:
        out({"error": "port %s transmitted nothing within %.0f s" % (port_name, timeout)})
    time.sleep(0.05)
time.sleep(warmup)
t0, a = stats()
time.sleep(seconds)
t1, b = stats()
delta = {n: {k: b[n][k] - a[n][k] for k in ("ipackets", "opackets", "imissed", "ierrors", "oerrors", "rx_nombuf")} for n in names}
out({"version": hello.get("version"), "pid": hello.get("pid"), "port": tx, "interval": t1 - t0, "delta": delta})
`;

export interface PortDelta {
  ipackets: number;
  opackets: number;
  imissed: number;
  ierrors: number;
  oerrors: number;
  rx_nombuf: number;
}

export interface TelemetrySample {
  version: string;
  pid: number;
  port: number;
  interval: number;
  delta: Record<string, PortDelta>;
}

/**
 * Measures the transmit rate of `portName` in the DPDK app with EAL file
 * prefix `prefix`. Rejects with the reason when the app never comes up,
 * never transmits, or the socket is missing.
 */
export async function telemetryRate(
  prefix: string,
  portName: string,
  warmupS: number,
  seconds: number,
  timeoutS: number,
  logName: string,
  app?: Spawned,
): Promise<TelemetrySample> {
  const sock = path.join(DPDK_RUN_DIR, prefix, 'dpdk_telemetry.v2');
  const py = spawnLogged(
    PYTHON,
    ['-c', TELEMETRY_PY, sock, portName, String(warmupS), String(seconds), String(timeoutS)],
    logName,
  );
  // if the app dies first, stop waiting for it
  const appDied = app
    ? app.exited.then(async (e) => {
        await sleep(200);
        return e;
      })
    : new Promise<never>(() => undefined);
  const res = await Promise.race([py.exited.then(() => 'py' as const), appDied.then(() => 'app' as const)]);
  if (res === 'app' && py.child.exitCode === null) {
    await stopChild(py, 1000);
    throw new Error(`the app exited before it could be measured; log: ${app?.logFile}\n${tail(app?.output() ?? '', 20)}`);
  }
  const line = py
    .output()
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) throw new Error(`telemetry client printed no result; log: ${py.logFile}\n${tail(py.output(), 20)}`);
  const r = JSON.parse(line) as TelemetrySample & { error?: string };
  if (r.error) throw new Error(`telemetry: ${r.error}`);
  return r;
}

/**
 * mbufs for a fastpath case of this many flows (one frame each): the pcap
 * PMD's infinite_rx holds every frame of the file in an mbuf of the pool;
 * beyond the default pool's 16383, the pool is sized to the file (2^q - 1
 * for the mempool) with 16k to spare for the rings.
 */
export function benchMbufs(flows: number): number {
  return Math.max(16383, 2 ** Math.ceil(Math.log2(flows + 16384)) - 1);
}

/** Bytes of one mbuf in the pool: 128 header + 2176 data room + the mempool's 64-byte object header. */
export const MBUF_BYTES = 2368;

/**
 * The flow cache's memory per lcore, as the addon lays it out
 * (core/flowcache.c fp_flowcache_memsize: packed bucket heads, the adjacency
 * array of one slot per neighbour, maxNeighbours defaulting to 16384, and
 * one 64-byte line per entry). 0 when the cache is off.
 */
export function flowCacheBytes(maxflows: number, hashsize: number, neighbours = 16384): number {
  return maxflows === 0 ? 0 : native().flowCacheMemsize(maxflows, hashsize, neighbours);
}

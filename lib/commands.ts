/**
 * Running the system tools fastpath's topologies and tests need (iproute2,
 * procps, ethtool, tcpdump...): finding them, naming the Debian package of a
 * missing one, and running them with errors turned into FastpathError.
 */
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import * as path from 'node:path';
import { FastpathError } from './errors';
// ---------------------------------------------------------------------------
// Prerequisites

/** Tool → the Debian package that provides it. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  ip: 'iproute2',
  bridge: 'iproute2',
  sysctl: 'procps',
  ethtool: 'ethtool',
  ping: 'iputils-ping',
  tracepath: 'iputils-tracepath',
  tcpdump: 'tcpdump',
  tshark: 'tshark',
  iperf3: 'iperf3',
  nft: 'nftables',
  promtool: 'prometheus',
  ss: 'iproute2',
  nc: 'netcat-openbsd',
  python3: 'python3',
  scapy: 'python3-scapy',
  taskset: 'util-linux',
  bird: 'bird2',
  birdc: 'bird2',
  vtysh: 'frr',
  'dpdk-testpmd': 'dpdk-dev',
  'dpdk-devbind.py': 'dpdk',
  'dpdk-telemetry.py': 'dpdk-dev',
  'pkg-config': 'pkg-config',
  cmake: 'cmake',
  make: 'make',
  'g++': 'g++',
};

/** Directories searched besides $PATH (non-root shells often lack sbin). */
const EXTRA_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

const whichCache = new Map<string, string | null>();

/** Full path of an executable, searching $PATH then the sbin directories; null if absent. */
export function which(tool: string): string | null {
  if (tool.includes('/')) return isExecutable(tool) ? tool : null;
  const cached = whichCache.get(tool);
  if (cached !== undefined) return cached;
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_BIN_DIRS];
  let found: string | null = null;
  for (const dir of dirs) {
    const candidate = path.join(dir, tool);
    if (isExecutable(candidate)) {
      found = candidate;
      break;
    }
  }
  if (found !== null) whichCache.set(tool, found);
  return found;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The system Python with scapy importable. Debian's python3-scapy is only
 * importable from /usr/bin/python3 (a pyenv python3 may come first on PATH).
 */
export const SYSTEM_PYTHON = '/usr/bin/python3';

function hasScapy(): boolean {
  try {
    execFileSync(SYSTEM_PYTHON, ['-c', 'import scapy.all'], { stdio: 'ignore', timeout: 30000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Throws FastpathError('ENOENT', 'missing prerequisite: <tool> (apt-get install <pkg>)')
 * for the first tool that is not installed. Tool names are executables
 * ('ip', 'tcpdump', ...) or 'scapy' (importable from /usr/bin/python3).
 * Integration tests call this so that a missing prerequisite fails, never skips.
 */
export function requireTools(names: string[]): void {
  for (const name of names) {
    const present = name === 'scapy' ? hasScapy() : which(name) !== null;
    if (!present) {
      const pkg = TOOL_PACKAGES[name] ?? name;
      throw new FastpathError('ENOENT', `missing prerequisite: ${name} (apt-get install ${pkg})`);
    }
  }
}

/** Throws FastpathError('EPERM') unless the process runs as root. */
export function requireRoot(what = 'network namespaces'): void {
  if (typeof process.geteuid === 'function' && process.geteuid() !== 0) {
    throw new FastpathError('EPERM', `${what} need root (run as root or with sudo)`);
  }
}

// ---------------------------------------------------------------------------
// Running commands

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit status; null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ExecOptions {
  /** Kill the command (SIGKILL) after this many ms. Default 30000; 0: never. */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string | Buffer;
  /** Throw FastpathError('EIO') on a non-zero exit. Default false. */
  check?: boolean;
  env?: NodeJS.ProcessEnv;
}

export function resolveTool(tool: string): string {
  const full = which(tool);
  if (full === null) {
    const pkg = TOOL_PACKAGES[tool] ?? tool;
    throw new FastpathError('ENOENT', `missing prerequisite: ${tool} (apt-get install ${pkg})`);
  }
  return full;
}

/** Runs a command to completion; never rejects for a non-zero exit unless opts.check. */
export function execCommand(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  if (argv.length === 0) return Promise.reject(new FastpathError('EINVAL', 'empty command'));
  let file: string;
  try {
    file = resolveTool(argv[0]);
  } catch (err) {
    return Promise.reject(err);
  }
  const timeout = opts.timeoutMs ?? 30000;
  return new Promise<ExecResult>((resolve, reject) => {
    const child = spawn(file, argv.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => errOut.push(b));
    child.stdin!.on('error', () => undefined); // EPIPE when the command ignores stdin
    let timer: NodeJS.Timeout | undefined;
    if (timeout > 0) timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(new FastpathError('EIO', `${argv.join(' ')}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const result: ExecResult = {
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(errOut).toString(),
        code,
        signal,
      };
      if (opts.check && code !== 0) {
        reject(commandError(argv, result));
      } else {
        resolve(result);
      }
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

function commandError(argv: string[], r: ExecResult): FastpathError {
  const detail = (r.stderr || r.stdout).trim() || (r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`);
  const msg = `${argv.join(' ')}: ${detail}`;
  if (/Operation not permitted|Permission denied/i.test(detail)) return new FastpathError('EPERM', msg);
  if (/File exists/i.test(detail)) return new FastpathError('EEXIST', msg);
  if (/Cannot find device|does not exist|No such (file|device|process)/i.test(detail)) {
    return new FastpathError('ENOENT', msg);
  }
  return new FastpathError('EIO', msg);
}

/** Runs a command; throws FastpathError on failure, returns stdout. */
export async function run(argv: string[], opts: ExecOptions = {}): Promise<string> {
  const r = await execCommand(argv, { ...opts, check: true });
  return r.stdout;
}

/** Runs a command and ignores "not there" failures (for cleanup). */
export async function runIgnoringMissing(argv: string[]): Promise<void> {
  const r = await execCommand(argv);
  if (r.code === 0) return;
  const err = commandError(argv, r);
  if (err.code !== 'ENOENT') throw err;
}

/**
 * Linux hosts in network namespaces, wired to router ports by veth pairs.
 *
 * Used by the demo (`npx fastpath demo`), the integration tests, and anyone
 * who wants a router to forward between real Linux IPv6 stacks on one box:
 *
 *   host namespace <prefix>-<name>[-<pid>]        root namespace
 *   ┌──────────────────────────────┐
 *   │ eth0  2001:db8:1::2/64       │<── veth ──> <routerSideIfname>  ← DPDK
 *   │ default via <gateway>        │             (no IPv6, promisc,     af_packet
 *   └──────────────────────────────┘              up)                   port
 *
 * The router side stays in the root namespace with IPv6 disabled so only the
 * router (through `net_af_packet<N>,iface=<routerSideIfname>`) speaks there.
 * The host side has DAD and RA off (addresses usable at once, no surprises)
 * and TX checksum offload off, so UDP/TCP it sends carries full checksums
 * (an af_packet port forwards the frame as-is; a partial checksum would make
 * the far host drop it).
 *
 * Everything here shells out to iproute2 (`ip`), procps (`sysctl`) and
 * `ethtool`, and needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN).
 */
import { ChildProcess, SpawnOptions, execFileSync, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { isIPv6 } from 'node:net';
import * as path from 'node:path';
import type { TopologyConfig, TopologyHostConfig } from './config-types';
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

function resolveTool(tool: string): string {
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
async function run(argv: string[], opts: ExecOptions = {}): Promise<string> {
  const r = await execCommand(argv, { ...opts, check: true });
  return r.stdout;
}

/** Runs a command and ignores "not there" failures (for cleanup). */
async function runIgnoringMissing(argv: string[]): Promise<void> {
  const r = await execCommand(argv);
  if (r.code === 0) return;
  const err = commandError(argv, r);
  if (err.code !== 'ENOENT') throw err;
}

// ---------------------------------------------------------------------------
// Names

/** Interface names are at most 15 bytes (IFNAMSIZ - 1). */
export const IFNAMSIZ_MAX = 15;
/** As config.ts accepts them; a trailing `-<digits>` is reserved for the pid (unique mode). */
const HOST_NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const PREFIX_RE = /^[A-Za-z][A-Za-z0-9_-]{0,11}$/;
const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** Counter for router-side veth names, process-wide so topologies in one process never collide. */
let nextLinkId = 0;

function checkPrefix(prefix: string): void {
  if (!PREFIX_RE.test(prefix)) {
    throw new FastpathError('EINVAL', `topology prefix '${prefix}' must match ${PREFIX_RE}`, 'topology.prefix');
  }
}

function namespaceName(prefix: string, host: string, pid: number | undefined): string {
  return pid === undefined ? `${prefix}-${host}` : `${prefix}-${host}-${pid}`;
}

function routerSideName(prefix: string, id: number, pid: number | undefined): string {
  const name = pid === undefined ? `${prefix}${id}r` : `${prefix}${pid}-${id}r`;
  if (name.length > IFNAMSIZ_MAX) {
    throw new FastpathError(
      'EINVAL',
      `veth name '${name}' is longer than ${IFNAMSIZ_MAX} characters; use a shorter topology prefix`,
      'topology.prefix',
    );
  }
  return name;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Parses our namespace names: `<prefix>-<host>` or `<prefix>-<host>-<pid>`
 * (host names never end in `-<digits>`, so a trailing one is the pid).
 */
function parseNamespace(prefix: string, ns: string): { pid?: number } | null {
  const m = new RegExp(`^${escapeRe(prefix)}-[A-Za-z][A-Za-z0-9_-]*?(?:-(\\d+))?$`).exec(ns);
  if (!m) return null;
  return m[1] === undefined ? {} : { pid: Number(m[1]) };
}

/** Parses our router-side veth names: `<prefix><id>r` or `<prefix><pid>-<id>r`. */
function parseLink(prefix: string, ifname: string): { pid?: number } | null {
  const m = new RegExp(`^${escapeRe(prefix)}(?:(\\d+)-)?\\d+r$`).exec(ifname);
  if (!m) return null;
  return m[1] === undefined ? {} : { pid: Number(m[1]) };
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------
// Hosts and topologies

/** A host entry; `mac` optionally fixes the host's eth0 MAC address. */
export interface TopologyHostOptions extends TopologyHostConfig {
  mac?: string;
}

export interface TopologyOptions extends TopologyConfig {
  hosts: TopologyHostOptions[];
  /**
   * Append `-<pid>` to namespace names and put the pid in veth names, so
   * processes running in parallel (mocha --parallel) never collide. Default false.
   */
  unique?: boolean;
  /**
   * Router port name → the MAC the router uses on that port. For each host
   * wired to such a port: the router-side veth gets that MAC (the af_packet
   * PMD reports the interface's MAC) and the host gets a permanent neighbour
   * entry gateway → MAC, so it needs no neighbour discovery for the gateway.
   */
  routerMacs?: Record<string, string>;
  /** Install process exit/signal hooks that delete the namespaces (installCleanupOnExit). Default true. */
  cleanupOnExit?: boolean;
}

export interface HostSpawnOptions {
  stdio?: SpawnOptions['stdio'];
  env?: NodeJS.ProcessEnv;
}

/** One Linux host in its own network namespace. */
export class TopologyHost {
  /** The host's interface name inside its namespace. */
  static readonly IFNAME = 'eth0';

  readonly name: string;
  /** The router port (PortConfig.name) the host is wired to. */
  readonly port: string;
  /** Network namespace name. */
  readonly ns: string;
  /** The router-side veth in the root namespace (for `net_af_packet<N>,iface=<it>`). */
  readonly routerSideIfname: string;
  /** The host's address with prefix length, as configured ('2001:db8:1::2/64'). */
  readonly addressCidr: string;
  /** The host's address without prefix length. */
  readonly address: string;
  readonly prefixLength: number;
  /** The host's default gateway (the router's address on this link). */
  readonly gateway: string;
  /** Position in the topology's host list. */
  readonly index: number;

  /** @internal */
  readonly children = new Set<ChildProcess>();

  /** @internal */
  constructor(init: {
    name: string;
    port: string;
    ns: string;
    routerSideIfname: string;
    address: string;
    gateway: string;
    index: number;
  }) {
    this.name = init.name;
    this.port = init.port;
    this.ns = init.ns;
    this.routerSideIfname = init.routerSideIfname;
    this.addressCidr = init.address;
    const [addr, len] = init.address.split('/');
    this.address = addr;
    this.prefixLength = Number(len);
    this.gateway = init.gateway;
    this.index = init.index;
  }

  /** The af_packet vdev string for the router port on this host's link. */
  afPacketDevice(n: number = this.index): string {
    return `net_af_packet${n},iface=${this.routerSideIfname}`;
  }

  /** Runs a command inside the namespace to completion: {stdout, stderr, code, signal}. */
  exec(cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return execCommand(['ip', 'netns', 'exec', this.ns, ...cmd], opts);
  }

  /**
   * Starts a long-running command inside the namespace (tcpdump, iperf3 -s...).
   * The child is killed by Topology.destroy() if still running.
   */
  spawn(cmd: string[], opts: HostSpawnOptions = {}): ChildProcess {
    if (cmd.length === 0) throw new FastpathError('EINVAL', 'empty command');
    const child = spawn(resolveTool('ip'), ['netns', 'exec', this.ns, ...cmd], {
      stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    child.on('error', () => this.children.delete(child));
    return child;
  }

  /** `ip -6 neigh replace <address> lladdr <mac> dev eth0 nud permanent` in the namespace. */
  async addStaticNeighbour(address: string, mac: string): Promise<void> {
    if (!isIPv6(address)) throw new FastpathError('EINVAL', `not an IPv6 address: '${address}'`);
    if (!MAC_RE.test(mac)) throw new FastpathError('EINVAL', `not a MAC address: '${mac}'`);
    await run(['ip', '-n', this.ns, '-6', 'neigh', 'replace', address, 'lladdr', mac,
      'dev', TopologyHost.IFNAME, 'nud', 'permanent']);
  }

  /** The MAC address of the host's eth0. */
  async mac(): Promise<string> {
    const out = await run(['ip', '-n', this.ns, '-j', 'link', 'show', 'dev', TopologyHost.IFNAME]);
    const links = JSON.parse(out) as { address?: string }[];
    const mac = links[0]?.address;
    if (!mac) throw new FastpathError('EIO', `no MAC address on ${this.ns}/${TopologyHost.IFNAME}`);
    return mac;
  }

  /** The MAC address of the router-side veth (root namespace), or null once it is gone/moved. */
  async routerSideMac(): Promise<string | null> {
    const r = await execCommand(['ip', '-j', 'link', 'show', 'dev', this.routerSideIfname]);
    if (r.code !== 0) return null;
    return (JSON.parse(r.stdout) as { address?: string }[])[0]?.address ?? null;
  }

  /** The host's link-local address on eth0 (e.g. for a router route `via`). */
  async linkLocal(): Promise<string> {
    const out = await run(['ip', '-n', this.ns, '-j', '-6', 'addr', 'show', 'dev', TopologyHost.IFNAME, 'scope', 'link']);
    const info = JSON.parse(out) as { addr_info?: { local?: string }[] }[];
    // iproute2's JSON also has lifetime-only entries without `local`.
    const ll = info[0]?.addr_info?.find((a) => a.local !== undefined)?.local;
    if (!ll) throw new FastpathError('EIO', `no link-local address on ${this.ns}/${TopologyHost.IFNAME}`);
    return ll;
  }

  /** Kills this host's spawned children and any other process left in its namespace. */
  async killProcesses(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const child of this.children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      waits.push(new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 1000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      }));
      child.kill('SIGTERM');
    }
    await Promise.all(waits);
    this.children.clear();
    await killNamespacePids(this.ns);
  }
}

async function killNamespacePids(ns: string): Promise<void> {
  const r = await execCommand(['ip', 'netns', 'pids', ns]);
  if (r.code !== 0) return;
  for (const p of r.stdout.split(/\s+/).filter(Boolean).map(Number)) {
    if (p === process.pid) continue;
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** Hosts in network namespaces wired to router ports. */
export class Topology {
  readonly prefix: string;
  readonly unique: boolean;
  readonly hosts: TopologyHost[];
  private destroyed = false;

  private constructor(prefix: string, unique: boolean, hosts: TopologyHost[]) {
    this.prefix = prefix;
    this.unique = unique;
    this.hosts = hosts;
  }

  /**
   * Builds every host. On failure whatever was built is removed and the error
   * (a FastpathError) is rethrown. Validation errors carry `path`.
   */
  static async create(cfg: TopologyOptions): Promise<Topology> {
    const prefix = cfg.prefix ?? 'fp';
    checkPrefix(prefix);
    if (!Array.isArray(cfg.hosts) || cfg.hosts.length === 0) {
      throw new FastpathError('EINVAL', 'topology needs at least one host', 'topology.hosts');
    }
    const pid = cfg.unique ? process.pid : undefined;
    validateHosts(cfg);
    requireTools(['ip', 'sysctl', 'ethtool']);

    const hosts = cfg.hosts.map((h, i) => new TopologyHost({
      name: h.name,
      port: h.port,
      ns: namespaceName(prefix, h.name, pid),
      routerSideIfname: routerSideName(prefix, nextLinkId++, pid),
      address: h.address,
      gateway: h.gateway,
      index: i,
    }));
    const topo = new Topology(prefix, cfg.unique ?? false, hosts);

    // Leftovers of crashed runs: dead pids' unique names; in non-unique mode
    // the very names we are about to use.
    try {
      await cleanupStale(prefix, { onlyDeadPids: true });
      if (!cfg.unique) {
        for (const h of hosts) await removeHostNetwork(h.ns, h.routerSideIfname);
      }
    } catch {
      /* best effort; creation will report a real conflict */
    }

    if (cfg.cleanupOnExit ?? true) installCleanupOnExit(topo);
    try {
      // Namespaces one at a time: the first `ip netns add` on a machine sets
      // up the /var/run/netns mount, and concurrent first calls can stack it.
      for (const h of hosts) await run(['ip', 'netns', 'add', h.ns]);
      await Promise.all(hosts.map((h, i) => buildHost(h, cfg.hosts[i], cfg.routerMacs?.[h.port])));
    } catch (err) {
      await topo.destroy().catch(() => undefined);
      throw err;
    }
    return topo;
  }

  /** The host wired to a router port. */
  hostForPort(port: string): TopologyHost | undefined {
    return this.hosts.find((h) => h.port === port);
  }

  host(name: string): TopologyHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new FastpathError('ENOENT', `no topology host named '${name}'`);
    return h;
  }

  /** Kills processes in the namespaces, deletes the veths and namespaces. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    uninstallCleanupOnExit(this);
    const errors: unknown[] = [];
    await Promise.all(this.hosts.map(async (h) => {
      try {
        await h.killProcesses();
        await removeHostNetwork(h.ns, h.routerSideIfname);
      } catch (err) {
        errors.push(err);
      }
    }));
    if (errors.length > 0) throw errors[0];
  }

  /** Synchronous destroy for process exit paths. Never throws. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    uninstallCleanupOnExit(this);
    const ip = which('ip');
    if (ip === null) return;
    for (const h of this.hosts) {
      for (const child of h.children) {
        try {
          child.kill('SIGKILL');
        } catch {
          /* ignore */
        }
      }
      h.children.clear();
      try {
        const out = execFileSync(ip, ['netns', 'pids', h.ns], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
        for (const p of out.split(/\s+/).filter(Boolean).map(Number)) {
          if (p !== process.pid) {
            try {
              process.kill(p, 'SIGKILL');
            } catch {
              /* ignore */
            }
          }
        }
      } catch {
        /* namespace gone */
      }
      for (const args of [['link', 'del', h.routerSideIfname], ['netns', 'del', h.ns]]) {
        try {
          execFileSync(ip, args, { stdio: 'ignore' });
        } catch {
          /* already gone */
        }
      }
    }
  }
}

function validateHosts(cfg: TopologyOptions): void {
  const names = new Set<string>();
  const ports = new Set<string>();
  cfg.hosts.forEach((h, i) => {
    const at = `topology.hosts[${i}]`;
    if (typeof h.name !== 'string' || !HOST_NAME_RE.test(h.name)) {
      throw new FastpathError('EINVAL', `host name '${h.name}' must match ${HOST_NAME_RE}`, `${at}.name`);
    }
    if (/-\d+$/.test(h.name)) {
      throw new FastpathError('EINVAL', `host name '${h.name}' must not end in -<digits> (reserved for the pid)`, `${at}.name`);
    }
    if (names.has(h.name)) throw new FastpathError('EINVAL', `duplicate host name '${h.name}'`, `${at}.name`);
    names.add(h.name);
    if (typeof h.port !== 'string' || h.port.length === 0) {
      throw new FastpathError('EINVAL', 'host needs the router port it is wired to', `${at}.port`);
    }
    if (ports.has(h.port)) {
      throw new FastpathError('EINVAL', `port '${h.port}' already has a host (one host per port)`, `${at}.port`);
    }
    ports.add(h.port);
    const m = /^([^/]+)\/(\d{1,3})$/.exec(String(h.address));
    if (!m || !isIPv6(m[1]) || Number(m[2]) > 128) {
      throw new FastpathError('EINVAL', `host address '${h.address}' must be IPv6 with prefix length`, `${at}.address`);
    }
    if (typeof h.gateway !== 'string' || !isIPv6(h.gateway)) {
      throw new FastpathError('EINVAL', `gateway '${h.gateway}' must be an IPv6 address`, `${at}.gateway`);
    }
    if (h.mac !== undefined && !MAC_RE.test(h.mac)) {
      throw new FastpathError('EINVAL', `mac '${h.mac}' is not a MAC address`, `${at}.mac`);
    }
    const rmac = cfg.routerMacs?.[h.port];
    if (rmac !== undefined && !MAC_RE.test(rmac)) {
      throw new FastpathError('EINVAL', `router MAC '${rmac}' for port '${h.port}' is not a MAC address`, `routerMacs.${h.port}`);
    }
  });
}

async function buildHost(h: TopologyHost, cfg: TopologyHostOptions, routerMac: string | undefined): Promise<void> {
  const ns = h.ns;
  const r = h.routerSideIfname;
  const inNs = (cmd: string[]) => run(['ip', 'netns', 'exec', ns, ...cmd]);

  // The namespace exists (Topology.create made it). The host side of the
  // veth is created directly inside it, named eth0.
  await run(['ip', 'link', 'add', r, 'type', 'veth', 'peer', 'name', TopologyHost.IFNAME, 'netns', ns]);

  // Router side: silence the root namespace's IPv6 stack on this link before
  // it comes up (no link-local, NS/NA, MLD, RS), then promisc + up.
  await run(['sysctl', '-q', '-w', `net.ipv6.conf.${r}.disable_ipv6=1`]);
  if (routerMac !== undefined) await run(['ip', 'link', 'set', 'dev', r, 'address', routerMac]);
  await run(['ip', 'link', 'set', 'dev', r, 'promisc', 'on']);
  await run(['ip', 'link', 'set', 'dev', r, 'up']);

  // Host side.
  await inNs(['sysctl', '-q', '-w',
    'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0',
    `net.ipv6.conf.${TopologyHost.IFNAME}.accept_dad=0`,
    'net.ipv6.conf.all.accept_ra=0', 'net.ipv6.conf.default.accept_ra=0',
    `net.ipv6.conf.${TopologyHost.IFNAME}.accept_ra=0`,
    // A host whose link flaps keeps its static address (as servers do);
    // Linux's default drops every IPv6 address on down.
    'net.ipv6.conf.all.keep_addr_on_down=1', `net.ipv6.conf.${TopologyHost.IFNAME}.keep_addr_on_down=1`]);
  if (cfg.mac !== undefined) await run(['ip', '-n', ns, 'link', 'set', 'dev', TopologyHost.IFNAME, 'address', cfg.mac]);
  await inNs(['ethtool', '-K', TopologyHost.IFNAME, 'tx', 'off']);
  await run(['ip', '-n', ns, 'link', 'set', 'dev', 'lo', 'up']);
  await run(['ip', '-n', ns, '-6', 'addr', 'add', h.addressCidr, 'dev', TopologyHost.IFNAME, 'nodad']);
  await run(['ip', '-n', ns, 'link', 'set', 'dev', TopologyHost.IFNAME, 'up']);
  // After the address, so the gateway is on-link in the host's prefix.
  await run(['ip', '-n', ns, '-6', 'route', 'add', 'default', 'via', h.gateway, 'dev', TopologyHost.IFNAME]);
  if (routerMac !== undefined) await h.addStaticNeighbour(h.gateway, routerMac);
}

/** Deletes a root-side veth (which takes its peer along) and a namespace; missing ones are fine. */
async function removeHostNetwork(ns: string, routerSideIfname: string): Promise<void> {
  await runIgnoringMissing(['ip', 'link', 'del', 'dev', routerSideIfname]);
  await killNamespacePids(ns);
  await runIgnoringMissing(['ip', 'netns', 'del', ns]);
}

// ---------------------------------------------------------------------------
// Stale leftovers

export interface CleanupStaleOptions {
  /**
   * Only remove names that carry a pid (unique mode) whose process is gone;
   * leave pid-less names alone. Default false: pid-less names are removed too.
   */
  onlyDeadPids?: boolean;
}

export interface CleanupStaleResult {
  namespaces: string[];
  links: string[];
}

/**
 * Deletes namespaces and router-side veths named with `prefix` that earlier
 * (crashed) runs left: those whose pid is no longer alive, and, unless
 * `onlyDeadPids`, those without a pid (non-unique mode; do not call it while
 * another non-unique topology with this prefix is in use). Never touches
 * this process's own names. Returns what it removed.
 */
export async function cleanupStale(prefix = 'fp', opts: CleanupStaleOptions = {}): Promise<CleanupStaleResult> {
  checkPrefix(prefix);
  const stale = (p: { pid?: number } | null): boolean => {
    if (p === null) return false;
    if (p.pid === undefined) return !opts.onlyDeadPids && !ownsPidlessNames();
    return !pidAlive(p.pid);
  };
  const removed: CleanupStaleResult = { namespaces: [], links: [] };

  const links = await listLinks();
  for (const ifname of links) {
    if (stale(parseLink(prefix, ifname))) {
      await runIgnoringMissing(['ip', 'link', 'del', 'dev', ifname]);
      removed.links.push(ifname);
    }
  }
  for (const ns of await listNamespaces()) {
    if (stale(parseNamespace(prefix, ns))) {
      await killNamespacePids(ns);
      await runIgnoringMissing(['ip', 'netns', 'del', ns]);
      removed.namespaces.push(ns);
    }
  }
  return removed;
}

/** True when a live topology in this process uses pid-less names (then they are not stale). */
function ownsPidlessNames(): boolean {
  for (const t of liveTopologies) if (!t.unique) return true;
  return false;
}

/** Names of all network namespaces (`ip netns list`). */
export async function listNamespaces(): Promise<string[]> {
  const out = await run(['ip', '-j', 'netns', 'list']);
  if (out.trim() === '') return [];
  return (JSON.parse(out) as { name: string }[]).map((n) => n.name);
}

/** Names of all links in the root namespace. */
export async function listLinks(): Promise<string[]> {
  const out = await run(['ip', '-j', 'link', 'show']);
  if (out.trim() === '') return [];
  return (JSON.parse(out) as { ifname: string }[]).map((l) => l.ifname);
}

// ---------------------------------------------------------------------------
// Cleanup at process exit

const liveTopologies = new Set<Topology>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let hooksInstalled = false;

function onExit(): void {
  for (const t of [...liveTopologies]) t.destroySync();
}

function onSignal(signal: NodeJS.Signals): void {
  // If someone else also handles this signal (e.g. the router stopping its
  // lcores first), leave the exit to them: the 'exit' hook cleans up then.
  if (process.listenerCount(signal) > 1) return;
  onExit();
  removeHooks();
  process.kill(process.pid, signal); // default action: die by the signal
}

function removeHooks(): void {
  if (!hooksInstalled) return;
  process.removeListener('exit', onExit);
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  hooksInstalled = false;
}

/**
 * Registers process 'exit', SIGINT, SIGTERM and SIGHUP hooks that delete the
 * topology's namespaces and veths synchronously (execFileSync), so Ctrl-C,
 * process.exit() and uncaught exceptions leave nothing behind. A signal
 * handled by nobody else is re-raised after cleanup, so the process still
 * dies by it. Topology.create() calls this unless `cleanupOnExit: false`;
 * destroy() unregisters. Returns a function that unregisters.
 */
export function installCleanupOnExit(topology: Topology): () => void {
  liveTopologies.add(topology);
  if (!hooksInstalled) {
    process.on('exit', onExit);
    for (const s of SIGNALS) process.on(s, onSignal);
    hooksInstalled = true;
  }
  return () => uninstallCleanupOnExit(topology);
}

function uninstallCleanupOnExit(topology: Topology): void {
  liveTopologies.delete(topology);
  if (liveTopologies.size === 0) removeHooks();
}

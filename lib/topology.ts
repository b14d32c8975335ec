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
import { isIPv6 } from 'node:net';
import { execCommand, ExecOptions, ExecResult, requireTools, resolveTool, run, runIgnoringMissing, which } from './commands';
import type { TopologyConfig, TopologyHostConfig } from './config-types';
import { FastpathError } from './errors';
import { ownerTag, parseOwnerTag, processAlive, ProcessIdentity } from './recovery';

// Prerequisites and running commands live in commands.ts; exported here too, as before.
export { execCommand, requireRoot, requireTools, SYSTEM_PYTHON, TOOL_PACKAGES, which } from './commands';
export type { ExecOptions, ExecResult } from './commands';

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
  /** Where create says what leftovers of dead processes it removed. Default: console.error. */
  log?: (line: string) => void;
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

    // Leftovers of crashed runs (their owner is gone), then the very names
    // we are about to use: refused while another live process owns them.
    const log = cfg.log ?? ((line: string) => console.error(line));
    try {
      await cleanupStale(prefix, { onlyDeadPids: true, log });
    } catch {
      /* best effort; creation will report a real conflict */
    }
    if (!cfg.unique) await claimHostNames(hosts, log);

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
  // The owner record (lib/recovery.ts): a later start tells a crashed run's leftovers from a live one's.
  await run(['ip', 'link', 'set', 'dev', r, 'promisc', 'on', 'alias', ownerTag()]);
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
  await run(['ip', '-n', ns, 'link', 'set', 'dev', TopologyHost.IFNAME, 'up', 'alias', ownerTag()]);
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
   * Only remove names whose owner is known to be gone (a pid in the name, or
   * the owner record in the veth's alias); leave names without either alone.
   * Default false: those are removed too.
   */
  onlyDeadPids?: boolean;
  /** Called with one line per removed namespace or veth. */
  log?: (line: string) => void;
}

export interface CleanupStaleResult {
  namespaces: string[];
  links: string[];
}

/**
 * Deletes namespaces and router-side veths named with `prefix` that earlier
 * (crashed) runs left: those whose owner (the process recorded in the veth
 * alias, or the pid in the name) is no longer alive, and, unless
 * `onlyDeadPids`, those with no owner at all (do not call it then while an
 * older fastpath's demo with this prefix is in use). Never touches a live
 * process's names. Returns what it removed.
 */
export async function cleanupStale(prefix = 'fp', opts: CleanupStaleOptions = {}): Promise<CleanupStaleResult> {
  checkPrefix(prefix);
  const stale = (p: { pid?: number } | null, recorded: ProcessIdentity | null): ProcessIdentity | 'unowned' | null => {
    if (p === null) return null;
    const owner = recorded ?? (p.pid !== undefined ? { pid: p.pid } : null);
    if (owner !== null) return processAlive(owner) ? null : owner;
    return !opts.onlyDeadPids && !ownsPidlessNames() ? 'unowned' : null;
  };
  const say = (what: string, name: string, owner: ProcessIdentity | 'unowned'): void =>
    opts.log?.(`fastpath: removed stale ${what} ${name} (${owner === 'unowned' ? 'no recorded owner' : `left by process ${owner.pid}, which is gone`})`);
  const removed: CleanupStaleResult = { namespaces: [], links: [] };

  // Owners first: a namespace's record is on its end of the veth, gone with the veth.
  const links = await listLinkOwners();
  const namespaces: { ns: string; owner: ProcessIdentity | 'unowned' | null }[] = [];
  for (const ns of await listNamespaces()) {
    const parsed = parseNamespace(prefix, ns);
    if (parsed !== null) namespaces.push({ ns, owner: stale(parsed, await namespaceOwner(ns)) });
  }
  for (const link of links) {
    const owner = stale(parseLink(prefix, link.ifname), link.owner);
    if (owner !== null) {
      await runIgnoringMissing(['ip', 'link', 'del', 'dev', link.ifname]);
      removed.links.push(link.ifname);
      say('veth', link.ifname, owner);
    }
  }
  for (const { ns, owner } of namespaces) {
    if (owner !== null) {
      await killNamespacePids(ns);
      await runIgnoringMissing(['ip', 'netns', 'del', ns]);
      removed.namespaces.push(ns);
      say('network namespace', ns, owner);
    }
  }
  return removed;
}

/**
 * A non-unique topology's names (the demo's fp-h1, fp0r...): EBUSY while a
 * live process (another demo) owns them; otherwise whatever is left under
 * them (an older fastpath's, without an owner record) is removed.
 */
async function claimHostNames(hosts: TopologyHost[], log: (line: string) => void): Promise<void> {
  const links = new Map((await listLinkOwners()).map((l) => [l.ifname, l.owner]));
  const namespaces = new Set(await listNamespaces());
  const present = hosts.filter((h) => links.has(h.routerSideIfname) || namespaces.has(h.ns));
  for (const h of present) {
    const owner = links.get(h.routerSideIfname) ?? (namespaces.has(h.ns) ? await namespaceOwner(h.ns) : null);
    if (owner !== null && owner.pid !== process.pid && processAlive(owner)) {
      throw new FastpathError('EBUSY', `topology: ${h.ns} and ${h.routerSideIfname} belong to running process ${owner.pid} (another demo?); stop it or use another topology prefix`);
    }
  }
  for (const h of present) {
    await removeHostNetwork(h.ns, h.routerSideIfname);
    log(`fastpath: removed leftover network namespace ${h.ns} and veth ${h.routerSideIfname} (no live owner)`);
  }
}

/** The owner recorded in the alias of a namespace's eth0 (buildHost), or null. */
async function namespaceOwner(ns: string): Promise<ProcessIdentity | null> {
  const r = await execCommand(['ip', '-n', ns, '-j', 'link', 'show', 'dev', TopologyHost.IFNAME]);
  if (r.code !== 0 || r.stdout.trim() === '') return null;
  return parseOwnerTag((JSON.parse(r.stdout) as { ifalias?: string }[])[0]?.ifalias);
}

/** Every root-namespace link with the owner recorded in its alias (or null). */
async function listLinkOwners(): Promise<{ ifname: string; owner: ProcessIdentity | null }[]> {
  const out = await run(['ip', '-j', 'link', 'show']);
  if (out.trim() === '') return [];
  return (JSON.parse(out) as { ifname: string; ifalias?: string }[]).map((l) => ({ ifname: l.ifname, owner: parseOwnerTag(l.ifalias) }));
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

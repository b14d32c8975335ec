/**
 * The checks a schema cannot express, run on what the schema pass
 * (lib/config/schema.ts) returns: parsing addresses, prefixes, MACs and
 * devices into canonical form; references between sections (a route's dev,
 * a clone's parent, a host's port); duplicates; the CPU set; bounds that
 * depend on another field; and the defaults that depend on another field or
 * on the machine. Every error has the shape fields.ts defines.
 */
import { addressEqual, formatPrefix, isLinkLocal, parseIPv6, parsePrefix, prefixContains, prefixNetwork, type Prefix } from '../addr';
import type { NormalizedConfig, NormalizedControlConfig, RouteConfig, NeighbourConfig, SiftrConfig, TopologyHostConfig } from '../config-types';
import { FastpathError } from '../errors';
import { formatCpuList } from './cpus';
import { DeviceInfo, normalizeDevice, normalizePci } from './devices';
import { checkLinux } from './linux';
import { fail, field, interfaceAddress, item, networkPrefix, unicastAddress, unicastMac } from './fields';
import { MAX_SOCKET_PATH, WHAT, type ParsedConfig } from './schema';
import { valueAt } from './schema-kit';

/** A port with every default filled in; `mac` stays absent when the device's own is kept. */
export type NormalizedPort = NormalizedConfig['ports'][number];
type NormalizedClone = NormalizedConfig['clones'][number];

/** The topology with its prefix filled in. */
export interface NormalizedTopology {
  prefix: string;
  hosts: TopologyHostConfig[];
}

/** What normalizeConfig returns: NormalizedConfig with a plain port array and the topology prefix filled in. */
export interface NormalizedRouterConfig extends NormalizedConfig {
  ports: NormalizedPort[];
  topology?: NormalizedTopology;
}

/** enable()'s options with every default filled in. */
export type SiftrOptions = Required<Omit<SiftrConfig, 'enabled' | 'cwndFilter'>>;

/** Everything after the schema pass, in the order the sections were checked before there was a schema. */
export function checkConfig(cfg: ParsedConfig, allowed: readonly number[], input: unknown): NormalizedRouterConfig {
  const eal = checkEal(cfg.eal, allowed);
  const ports = checkPorts(cfg.ports);
  const clones = checkClones(cfg.clones, ports);
  const devs = [...ports.map((p) => p.name), ...clones.map((c) => c.name)];
  const config: NormalizedRouterConfig = {
    eal,
    ports,
    clones,
    routes: checkRoutes(cfg.routes, devs, input),
    neighbours: checkNeighbours(cfg.neighbours, devs),
    flowCache: cfg.flowCache,
    mempool: checkMempool(cfg.mempool),
    neighbourDiscovery: cfg.neighbourDiscovery,
    icmpErrors: cfg.icmpErrors,
    routing: cfg.routing,
    flowLabels: cfg.flowLabels,
    siftr: checkSiftr(cfg.siftr, 'siftr', cfg.siftr.enabled),
    control: checkControl(cfg.control),
    linux: checkLinux(cfg.linux, devs),
  };
  if (cfg.topology !== undefined) config.topology = checkTopology(cfg.topology, ports);
  return config;
}

// ───────────────────────────── eal ─────────────────────────────

/** EAL options fastpath derives itself; passing them again in extraArgs makes EAL fail. */
const DERIVED_EAL_OPTIONS: Record<string, string> = {
  '-l': 'eal.workers / eal.workerCpus',
  '-c': 'eal.workers / eal.workerCpus',
  '--lcores': 'eal.workers / eal.workerCpus',
  '--main-lcore': 'eal.workers / eal.workerCpus',
  '--master-lcore': 'eal.workers / eal.workerCpus',
  '-m': 'eal.memoryMb',
  '--socket-mem': 'eal.memoryMb',
  '--no-huge': 'eal.hugepages',
  '--in-memory': 'eal.hugepages',
  '--no-shconf': 'eal.hugepages',
  '--file-prefix': 'eal.filePrefix',
  '--no-pci': 'eal.pciAllow',
};

/** What eal.workers may be on this CPU set: the Node main thread keeps one CPU for itself. */
function workerLimit(allowed: readonly number[]): string {
  const list = formatCpuList(allowed);
  if (allowed.length < 2) {
    return (
      'a worker count that leaves a CPU for the Node main thread, ' +
      `but this process may use only CPU ${list} (give it at least 2 CPUs)`
    );
  }
  const n = allowed.length;
  return `an integer 1..${n - 1} (this process may use ${n} CPUs, ${list}, and the Node main thread keeps one)`;
}

/** eal.workers and eal.workerCpus against the allowed CPU set. */
function checkWorkers(eal: ParsedConfig['eal'], allowed: readonly number[]): { workers: number; workerCpus: number[] } {
  const share = eal.shareWorkerCpus;
  const given = eal.workerCpus;
  // Without `workers`, an explicit workerCpus list says how many there are.
  const workers = eal.workers ?? (given?.length || 1);
  if (allowed.length < 2 || (!share && workers >= allowed.length)) fail('eal.workers', workerLimit(allowed), workers);
  if (given === undefined) {
    // Shared: every worker on the highest CPU; the rest stay Node's.
    const cpus = share ? Array.from({ length: workers }, () => allowed[allowed.length - 1]) : allowed.slice(allowed.length - workers);
    return { workers, workerCpus: cpus };
  }
  if (given.length !== workers) fail('eal.workerCpus', `an array of ${workers} CPU id(s), one per worker`, given);
  given.forEach((cpu, i) => {
    if (!allowed.includes(cpu)) fail(item('eal.workerCpus', i), `a CPU id this process may run on (${formatCpuList(allowed)})`, cpu);
    const first = given.indexOf(cpu);
    if (first !== i && !share) {
      fail(item('eal.workerCpus', i), `a CPU not already used by eal.workerCpus[${first}] (or eal.shareWorkerCpus: true)`, cpu);
    }
  });
  if (allowed.every((cpu) => given.includes(cpu))) fail('eal.workerCpus', 'CPUs that leave at least one CPU for the Node main thread', given);
  return { workers, workerCpus: given };
}

/** eal.pciAllow: PCI addresses, normalised, no duplicates. */
function checkPciAllow(list: readonly string[]): string[] {
  const result: string[] = [];
  list.forEach((value, i) => {
    const path = item('eal.pciAllow', i);
    const pci = normalizePci(value);
    if (pci === null) fail(path, 'a PCI address like "0000:03:00.0" (device arguments go on ports[].device)', value);
    const earlier = result.indexOf(pci);
    if (earlier >= 0) fail(path, `a PCI address not already listed (eal.pciAllow[${earlier}])`, value);
    result.push(pci);
  });
  return result;
}

/** eal.extraArgs: none may repeat an option fastpath derives. */
function checkExtraArgs(list: readonly string[]): string[] {
  list.forEach((arg, i) => {
    const option = arg.startsWith('--') ? arg.split('=')[0] : arg.slice(0, 2);
    const instead = Object.hasOwn(DERIVED_EAL_OPTIONS, option) ? DERIVED_EAL_OPTIONS[option] : undefined;
    if (instead !== undefined) fail(item('eal.extraArgs', i), `an EAL argument fastpath does not derive itself (set ${instead} instead)`, arg);
  });
  return [...list];
}

function checkEal(eal: ParsedConfig['eal'], allowed: readonly number[]): NormalizedConfig['eal'] {
  const { workers, workerCpus } = checkWorkers(eal, allowed);
  return {
    ...eal,
    workers,
    workerCpus,
    filePrefix: eal.filePrefix ?? `fastpath-${process.pid}`,
    pciAllow: checkPciAllow(eal.pciAllow),
    extraArgs: checkExtraArgs(eal.extraArgs),
  };
}

// ──────────────────────────── interfaces ────────────────────────────

type ParsedPort = ParsedConfig['ports'][number];

/** A port as checked, with what the checks across ports need. */
interface CheckedPort {
  port: NormalizedPort;
  info: DeviceInfo;
  prefixes: Prefix[];
}

function checkPort(p: ParsedPort, path: string): CheckedPort {
  const { device, info } = normalizeDevice(p.device, field(path, 'device'));
  const prefixes = p.addresses.map((a, i) => interfaceAddress(a, item(field(path, 'addresses'), i)));
  const port: NormalizedPort = { ...p, device, addresses: prefixes.map(formatPrefix), ...raTimers(p, path) };
  if (p.mac !== undefined) port.mac = unicastMac(p.mac, field(path, 'mac'));
  return { port, info, prefixes };
}

/** Router Advertisement intervals and lifetime with RFC 4861 6.2.1's bounds. */
function raTimers(p: ParsedPort, path: string): { raMinIntervalS: number; raRouterLifetimeS: number } {
  const max = p.raMaxIntervalS;
  const minLimit = Math.floor(0.75 * max);
  const min = p.raMinIntervalS ?? Math.max(3, Math.floor(max / 3));
  if (min > minLimit) fail(field(path, 'raMinIntervalS'), `an integer 3..${minLimit}`, min);
  const lifetime = p.raRouterLifetimeS ?? Math.min(9000, 3 * max);
  if (lifetime !== 0 && lifetime < max) fail(field(path, 'raRouterLifetimeS'), `0 or ${max}..9000 (at least raMaxIntervalS)`, lifetime);
  return { raMinIntervalS: min, raRouterLifetimeS: lifetime };
}

/** All ports, then the checks across them: unique names, devices and addresses. */
function checkPorts(list: readonly ParsedPort[]): NormalizedPort[] {
  const seen = list.map((p, i) => checkPort(p, item('ports', i)));
  seen.forEach(({ port, info, prefixes }, i) => {
    const path = item('ports', i);
    const sameName = seen.findIndex((s) => s.port.name === port.name);
    if (sameName !== i) fail(field(path, 'name'), `a name not used by ports[${sameName}]`, port.name);
    const sameDevice = seen.findIndex((s) => s.info.name === info.name);
    if (sameDevice !== i) fail(field(path, 'device'), `a device not used by ports[${sameDevice}] (${info.name})`, list[i].device);
    prefixes.forEach((p, j) => checkAddressUnique(seen, i, j, p, list[i].addresses[j]));
  });
  return seen.map((s) => s.port);
}

/** An interface address may be assigned once in the whole router. */
function checkAddressUnique(seen: CheckedPort[], portIndex: number, addrIndex: number, p: Prefix, written: string): void {
  for (let i = 0; i <= portIndex; i++) {
    const limit = i === portIndex ? addrIndex : seen[i].prefixes.length;
    for (let j = 0; j < limit; j++) {
      if (addressEqual(seen[i].prefixes[j].address, p.address)) {
        const path = item(field(item('ports', portIndex), 'addresses'), addrIndex);
        fail(path, `an address not already assigned by ports[${i}].addresses[${j}]`, written);
      }
    }
  }
}

/** 'the name of a port (eth0, eth1)': what an interface reference may be. */
export function portNames(names: readonly string[]): string {
  return `the name of a port (${names.join(', ') || 'none configured'})`;
}

/** A reference to a configured interface (port or clone). */
function interfaceRef(value: string | undefined, path: string, names: readonly string[]): string {
  if (value === undefined || !names.includes(value)) fail(path, portNames(names), value);
  return value;
}

/** clones[]: parent port, VLAN id, a name no other interface has, addresses assigned nowhere else. */
function checkClones(list: ParsedConfig['clones'], ports: readonly NormalizedPort[]): NormalizedClone[] {
  const names = ports.map((p) => p.name);
  const used = ports.flatMap((p) => p.addresses.map((a) => parsePrefix(a).address));
  const vlans: string[] = [];
  return list.map((c, i) => {
    const path = item('clones', i);
    const clone: NormalizedClone = { cloner: c.cloner, name: '', addresses: [] };
    if (c.cloner === 'vlan') {
      const parent = interfaceRef(c.parent, field(path, 'parent'), ports.map((p) => p.name));
      if (c.vlan === undefined) fail(field(path, 'vlan'), 'an 802.1Q id 1..4094', c.vlan);
      const key = `${parent}.${c.vlan}`;
      if (vlans.includes(key)) fail(field(path, 'vlan'), `a VLAN id not already on ${parent}`, c.vlan);
      vlans.push(key);
      Object.assign(clone, { parent, vlan: c.vlan, name: key });
    } else {
      if (c.parent !== undefined) fail(field(path, 'parent'), 'nothing (a loopback has no parent)', c.parent);
      if (c.vlan !== undefined) fail(field(path, 'vlan'), 'nothing (a loopback has no VLAN)', c.vlan);
      let n = 1;
      while (names.includes(`lo${n}`)) n++;
      clone.name = `lo${n}`;
    }
    if (c.name !== undefined) clone.name = c.name;
    if (names.includes(clone.name)) fail(field(path, 'name'), 'a name no other interface has', clone.name);
    names.push(clone.name);
    const addrPath = field(path, 'addresses');
    clone.addresses = c.addresses.map((a, j) => {
      const p = interfaceAddress(a, item(addrPath, j));
      if (used.some((u) => addressEqual(u, p.address))) fail(item(addrPath, j), 'an address not assigned elsewhere', a);
      used.push(p.address);
      return formatPrefix(p);
    });
    return clone;
  });
}

// ──────────────────────── routes, neighbours ────────────────────────

/** `input` is the config as written: an error quotes next hops without the weights the schema filled in. */
function checkRoutes(list: ParsedConfig['routes'], devs: readonly string[], input: unknown): RouteConfig[] {
  const networks: string[] = [];
  return list.map((r, i) => {
    const path = item('routes', i);
    const prefix = formatPrefix(networkPrefix(r.prefix, field(path, 'prefix')));
    const earlier = networks.indexOf(prefix);
    if (earlier >= 0) fail(field(path, 'prefix'), `a prefix not already routed by routes[${earlier}]`, r.prefix);
    networks.push(prefix);
    if (r.nexthops !== undefined) {
      if (r.via !== undefined || r.dev !== undefined) fail(field(path, 'nexthops'), 'either nexthops or via/dev, not both', valueAt(input, ['routes', i, 'nexthops']));
      const nexthops = r.nexthops.map((h, j) => {
        const hp = item(field(path, 'nexthops'), j);
        const nh: { via?: string; dev: string; weight?: number } = { dev: interfaceRef(h.dev, field(hp, 'dev'), devs) };
        if (h.via !== undefined) nh.via = unicastAddress(h.via, field(hp, 'via'));
        nh.weight = h.weight;
        return nh;
      });
      return { prefix, nexthops };
    }
    const route: RouteConfig = { prefix, dev: interfaceRef(r.dev, field(path, 'dev'), devs) };
    if (r.via !== undefined) route.via = unicastAddress(r.via, field(path, 'via'));
    return route;
  });
}

function checkNeighbours(list: ParsedConfig['neighbours'], devs: readonly string[]): NeighbourConfig[] {
  const result: NeighbourConfig[] = [];
  list.forEach((n, i) => {
    const path = item('neighbours', i);
    const address = unicastAddress(n.address, field(path, 'address'));
    const mac = unicastMac(n.mac, field(path, 'mac'));
    const dev = interfaceRef(n.dev, field(path, 'dev'), devs);
    const earlier = result.findIndex((x) => x.address === address && x.dev === dev);
    if (earlier >= 0) fail(field(path, 'address'), `an address not already given on ${dev} by neighbours[${earlier}]`, n.address);
    result.push({ address, mac, dev });
  });
  return result;
}

// ──────────────────────── mempool, siftr, control ────────────────────────

function checkMempool(m: ParsedConfig['mempool']): NormalizedConfig['mempool'] {
  // rte_mempool_create refuses a cache whose flush threshold (1.5 x size) exceeds the pool.
  const maxCache = Math.min(512, Math.floor(m.mbufs / 1.5));
  const cacheSize = m.cacheSize ?? Math.min(256, maxCache);
  if (cacheSize > maxCache) fail('mempool.cacheSize', `an integer 0..${maxCache} (DPDK needs 1.5 x cacheSize <= mbufs)`, cacheSize);
  return { mbufs: m.mbufs, cacheSize };
}

/** SIFTR's options after the schema: the logfile when required, cwndFilter refused; `enabled` kept when given. */
export function checkSiftr<T extends Omit<SiftrConfig, 'logfile'> & { logfile?: string }>(
  s: T,
  path: string,
  logfileRequired: boolean,
): Omit<T, 'cwndFilter'> & { logfile: string } {
  if (logfileRequired && !s.logfile) fail(field(path, 'logfile'), 'a file path', s.logfile);
  // A router does not see the hosts' congestion windows: the seed's
  // cwnd_filter ("log only when cwnd changed") has nothing to compare.
  if (s.cwndFilter === true) {
    throw new FastpathError(
      'ENOTSUP',
      `${field(path, 'cwndFilter')}: a router cannot observe the hosts' congestion window, so it cannot filter on its changes (only false is accepted)`,
      field(path, 'cwndFilter'),
    );
  }
  const { cwndFilter: _cwnd, ...rest } = s;
  return { ...rest, logfile: s.logfile ?? '' };
}

/** 'host:port' or '[v6]:port' (port 0: any free port, which tests use). */
export function parseListenAddress(value: unknown, path: string): { host: string; port: number } {
  const m = typeof value === 'string' ? /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value) : null;
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) fail(path, WHAT.listen, value);
  return { host: m[1] ?? m[2], port };
}

export function checkControl(c: ParsedConfig['control']): NormalizedControlConfig {
  if (Buffer.byteLength(c.socket) > MAX_SOCKET_PATH) fail('control.socket', `an absolute path of at most ${MAX_SOCKET_PATH} bytes`, c.socket);
  if (c.metrics !== undefined) parseListenAddress(c.metrics, 'control.metrics');
  return { ...c };
}

// ──────────────────────────── topology ────────────────────────────

/** A global gateway must be the router's address on that port and inside the host's prefix. */
function checkGateway(gw: Uint8Array, host: Prefix, port: NormalizedPort, path: string, value: unknown): void {
  if (isLinkLocal(gw)) return;
  if (addressEqual(gw, host.address)) fail(path, "an address other than the host's own", value);
  if (!prefixContains(host, gw)) fail(path, `an address inside the host's prefix ${formatPrefix(prefixNetwork(host))} (or a link-local one)`, value);
  const portAddresses = port.addresses.map((a) => parsePrefix(a).address);
  if (!portAddresses.some((a) => addressEqual(a, gw))) {
    const own = port.addresses.join(', ') || 'none';
    fail(path, `one of port ${port.name}'s addresses (${own}) or a link-local address`, value);
  }
}

/** Each host on a port of its own, its gateway reachable on-link, names unique. */
function checkTopology(t: NonNullable<ParsedConfig['topology']>, ports: readonly NormalizedPort[]): NormalizedTopology {
  const hosts: TopologyHostConfig[] = [];
  t.hosts.forEach((h, i) => {
    const path = item('topology.hosts', i);
    const port = ports.find((p) => p.name === h.port);
    if (port === undefined) fail(field(path, 'port'), portNames(ports.map((p) => p.name)), h.port);
    const address = interfaceAddress(h.address, field(path, 'address'));
    const gateway = unicastAddress(h.gateway, field(path, 'gateway'));
    checkGateway(parseIPv6(gateway), address, port, field(path, 'gateway'), h.gateway);
    const sameName = hosts.findIndex((x) => x.name === h.name);
    if (sameName >= 0) fail(field(path, 'name'), `a name not used by topology.hosts[${sameName}]`, h.name);
    // One veth per port: a second host on a port would need a bridge the topology does not build.
    const samePort = hosts.findIndex((x) => x.port === port.name);
    if (samePort >= 0) fail(field(path, 'port'), `a port with no host yet (topology.hosts[${samePort}] uses it)`, h.port);
    hosts.push({ name: h.name, port: port.name, address: formatPrefix(address), gateway });
  });
  return { prefix: t.prefix, hosts };
}

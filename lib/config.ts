/**
 * Router configuration: validation with defaults (normalizeConfig), the YAML
 * loader (loadConfig) and the EAL argv derived from a config (ealArgs).
 *
 * Every validation error is FastpathError('EINVAL') whose `path` is the field
 * ('ports[1].mtu') and whose message reads `<path>: expected <what>, got <value>`.
 * EAL can be initialised once per process and a failed init cannot be retried,
 * so everything EAL would reject is caught here first.
 */

import * as fs from 'fs';
import * as os from 'os';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import {
  addressEqual,
  formatIPv6,
  formatMac,
  formatPrefix,
  isCanonicalPrefix,
  isLinkLocal,
  isLoopback,
  isMulticast,
  isMulticastMac,
  isUnspecified,
  isZeroMac,
  parseIPv6,
  parseMac,
  parsePrefix,
  prefixContains,
  prefixNetwork,
  type Prefix,
} from './addr';
import type {
  FlowCacheConfig,
  IcmpErrorsConfig,
  MempoolConfig,
  NeighbourDiscoveryConfig,
  NeighbourConfig,
  NormalizedConfig,
  PortConfig,
  RouteConfig,
  RouterConfig,
  RoutingConfig,
  TopologyHostConfig,
} from './config-types';
import { FastpathError } from './errors';

// ───────────────────────────── types ─────────────────────────────

/** A port with every default filled in; `mac` stays absent when the device's own is kept. */
export type NormalizedPort = Required<Omit<PortConfig, 'mac'>> & { mac?: string };

/** The topology with its prefix filled in. */
export interface NormalizedTopology {
  prefix: string;
  hosts: TopologyHostConfig[];
}

/**
 * What normalizeConfig returns: config-types' NormalizedConfig with a plain
 * port array type (the base type's `A[] & B[]` is awkward to build and map)
 * and the topology prefix filled in. Assignable to NormalizedConfig.
 */
export interface NormalizedRouterConfig extends NormalizedConfig {
  ports: NormalizedPort[];
  topology?: NormalizedTopology;
}

/** Where the allowed CPU set comes from; tests inject a fake one. */
export interface CpuOptions {
  /** CPU ids this process may run on. Default: allowedCpus(). */
  allowedCpus?: readonly number[];
}

export type NormalizeOptions = CpuOptions;

export interface EalArgsOptions extends CpuOptions {
  /** Whether enough free, mounted hugepages exist. Default: detectHugepages(). */
  hugepagesAvailable?: boolean;
}

/** What detectHugepages() found (default page size only). */
export interface HugepageInfo {
  /** Free pages of the default size (HugePages_Free). */
  free: number;
  /** Whether a hugetlbfs is mounted. */
  mounted: boolean;
  /** The default hugepage size in KiB (Hugepagesize). */
  pageSizeKb: number;
}

/** A port's device, split into what EAL and rte_dev_probe need. */
export interface DeviceInfo {
  kind: 'pci' | 'vdev';
  /** vdev: the PMD ('net_af_packet'). Absent for PCI (the kernel binding decides). */
  driver?: string;
  /** The ethdev name: vdev name ('net_af_packet0') or full PCI address ('0000:03:00.0'). */
  name: string;
  /** Device arguments after the first comma ('iface=veth0'), '' when none. */
  args: string;
}

// ──────────────────────────── constants ───────────────────────────

export const KNOWN_VDEV_DRIVERS = [
  'net_af_packet',
  'net_pcap',
  'net_null',
  'net_tap',
  'net_memif',
  'net_ring',
  'net_af_xdp',
  'net_vhost',
  'net_virtio_user',
] as const;

/** DPDK's numeric log levels (RTE_LOG_EMERG = 1 .. RTE_LOG_DEBUG = 8), accepted by every release. */
const LOG_LEVELS = {
  emerg: 1,
  alert: 2,
  crit: 3,
  error: 4,
  warning: 5,
  notice: 6,
  info: 7,
  debug: 8,
} as const;
type LogLevel = keyof typeof LOG_LEVELS;

/** RTE_MAX_ETHPORTS and RTE_MAX_LCORE in Debian's DPDK 22.11 build. */
const MAX_PORTS = 32;
const MAX_LCORES = 128;

const IFNAME = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;
/** As lib/topology.ts builds names: veth '<prefix><pid>-<id>r' must fit 15 characters. */
const TOPOLOGY_PREFIX = /^[A-Za-z][A-Za-z0-9_-]{0,11}$/;
/** Namespace '<prefix>-<host>[-<pid>]': a trailing '-<digits>' would read as the pid. */
const HOST_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const FILE_PREFIX = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const PCI_FULL = /^([0-9A-Fa-f]{4,8}):([0-9A-Fa-f]{2}):([0-1][0-9A-Fa-f])\.([0-7])$/;
const PCI_SHORT = /^([0-9A-Fa-f]{2}):([0-1][0-9A-Fa-f])\.([0-7])$/;
const VDEV_NAME = /^[a-z][A-Za-z0-9_]*$/;

const ROOT_FIELDS = ['eal', 'ports', 'routes', 'neighbours', 'clones', 'flowCache', 'mempool', 'neighbourDiscovery', 'icmpErrors', 'routing', 'topology'] as const;
const EAL_FIELDS = [
  'workers',
  'workerCpus',
  'shareWorkerCpus',
  'memoryMb',
  'hugepages',
  'filePrefix',
  'pciAllow',
  'extraArgs',
  'logLevel',
] as const;
const PORT_FIELDS = [
  'name',
  'device',
  'mac',
  'mtu',
  'promiscuous',
  'addresses',
  'rxDescriptors',
  'txDescriptors',
  'routerAdvertisements',
  'raMaxIntervalS',
  'raMinIntervalS',
  'raRouterLifetimeS',
  'dadTransmits',
  'mld',
] as const;
const ROUTE_FIELDS = ['prefix', 'via', 'dev'] as const;
const CLONE_FIELDS = ['cloner', 'name', 'parent', 'vlan', 'addresses'] as const;
const NEIGHBOUR_FIELDS = ['address', 'mac', 'dev'] as const;
const FLOWCACHE_FIELDS = ['maxflows', 'hashsize', 'idleTimeoutMs'] as const;
const MEMPOOL_FIELDS = ['mbufs', 'cacheSize'] as const;
const ND_FIELDS = ['baseReachableTimeMs', 'maxNeighbours'] as const;
const ICMP_ERROR_FIELDS = ['perSecond', 'burst'] as const;
const ROUTING_FIELDS = ['maxRoutes', 'tbl8Groups'] as const;
const TOPOLOGY_FIELDS = ['prefix', 'hosts'] as const;
const HOST_FIELDS = ['name', 'port', 'address', 'gateway'] as const;

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

// ───────────────────────── error helpers ──────────────────────────

type Obj = Record<string, unknown>;

/** JSON of a bad value for messages; long values are cut. */
function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Throw the one validation error shape: `<path>: expected <what>, got <value>`. */
function fail(path: string, what: string, value: unknown): never {
  throw new FastpathError('EINVAL', `${path || 'config'}: expected ${what}, got ${describe(value)}`, path);
}

function field(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function item(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** A plain object whose keys are all in `fields`; an unknown key is reported by its own path. */
function expectObject(value: unknown, path: string, what: string, fields: readonly string[]): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, what, value);
  for (const key of Object.keys(value)) {
    if (!fields.includes(key)) {
      const keyPath = field(path, key);
      throw new FastpathError('EINVAL', `${keyPath}: unknown field (known: ${fields.join(', ')})`, keyPath);
    }
  }
  return value as Obj;
}

/** An array (or the default when absent). */
function optArray(obj: Obj, key: string, path: string, what: string): unknown[] {
  const value = obj[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(field(path, key), what, value);
  return value;
}

function requireArray(obj: Obj, key: string, path: string, what: string): unknown[] {
  if (obj[key] === undefined) fail(field(path, key), what, undefined);
  return optArray(obj, key, path, what);
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** An integer in min..max, or `def` when absent. */
function optInt(obj: Obj, key: string, path: string, min: number, max: number, def: number): number {
  const value = obj[key];
  if (value === undefined) return def;
  if (!isInteger(value) || value < min || value > max) {
    fail(field(path, key), `an integer ${min}..${max}`, value);
  }
  return value;
}

/** A power of two in min..max, or `def` when absent. */
function optPowerOfTwo(obj: Obj, key: string, path: string, min: number, max: number, def: number): number {
  const value = obj[key];
  if (value === undefined) return def;
  if (!isInteger(value) || value < min || value > max || !isPowerOfTwo(value)) {
    fail(field(path, key), `a power of two ${min}..${max}`, value);
  }
  return value;
}

function optBool(obj: Obj, key: string, path: string, def: boolean): boolean {
  const value = obj[key];
  if (value === undefined) return def;
  if (typeof value !== 'boolean') fail(field(path, key), 'true or false', value);
  return value;
}

/** A string matching `pattern` (required). */
function requireMatch(obj: Obj, key: string, path: string, pattern: RegExp, what: string): string {
  const value = obj[key];
  if (typeof value !== 'string' || !pattern.test(value)) fail(field(path, key), what, value);
  return value;
}

function requireString(value: unknown, path: string, what: string): string {
  if (typeof value !== 'string' || value === '') fail(path, what, value);
  return value;
}

// ─────────────────────── address-typed fields ──────────────────────

/** A unicast IPv6 address (not multicast, ::, ::1), as canonical text. */
function unicastAddress(value: unknown, path: string): string {
  const what = 'a unicast IPv6 address (not multicast, :: or ::1)';
  const bytes = tryParse(() => parseIPv6(requireString(value, path, what)), path, what, value);
  if (isMulticast(bytes) || isUnspecified(bytes) || isLoopback(bytes)) fail(path, what, value);
  return formatIPv6(bytes);
}

/** A unicast address with prefix length ('2001:db8::1/64'); host bits allowed. */
function interfaceAddress(value: unknown, path: string): Prefix {
  const what = 'a unicast IPv6 address with prefix length, like "2001:db8::1/64"';
  const p = tryParse(() => parsePrefix(requireString(value, path, what)), path, what, value);
  if (isMulticast(p.address) || isUnspecified(p.address) || isLoopback(p.address)) fail(path, what, value);
  return p;
}

/** A network prefix with host bits zero ('2001:db8::/64', '::/0'). */
function networkPrefix(value: unknown, path: string): Prefix {
  const what = 'an IPv6 prefix "address/length" (length 0..128), like "2001:db8::/64"';
  const p = tryParse(() => parsePrefix(requireString(value, path, what)), path, what, value);
  if (!isCanonicalPrefix(p)) {
    fail(path, `a prefix with host bits zero (${formatPrefix(prefixNetwork(p))})`, value);
  }
  return p;
}

/** A unicast, non-zero MAC, as lowercase colon text. */
function unicastMac(value: unknown, path: string): string {
  const what = 'a unicast MAC address like "02:00:00:00:00:01" (group bit clear, not all zero)';
  const bytes = tryParse(() => parseMac(requireString(value, path, what)), path, what, value);
  if (isMulticastMac(bytes) || isZeroMac(bytes)) fail(path, what, value);
  return formatMac(bytes);
}

/** Run a parser from addr.ts, turning its error into this file's path-named one. */
function tryParse<T>(parse: () => T, path: string, what: string, value: unknown): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof FastpathError && err.path === undefined) fail(path, what, value);
    throw err;
  }
}

// ───────────────────────────── devices ────────────────────────────

/** Normalise a PCI address to DPDK's ethdev name form 'dddd:bb:dd.f', or null if it is not one. */
function normalizePci(text: string): string | null {
  const full = PCI_FULL.exec(text);
  if (full) return `${full[1].padStart(4, '0')}:${full[2]}:${full[3]}.${full[4]}`.toLowerCase();
  const short = PCI_SHORT.exec(text);
  if (short) return `0000:${short[1]}:${short[2]}.${short[3]}`.toLowerCase();
  return null;
}

/** The known vdev driver a name starts with (DPDK's vdev bus matches by prefix), longest first. */
function vdevDriver(name: string): string | undefined {
  return [...KNOWN_VDEV_DRIVERS].sort((a, b) => b.length - a.length).find((d) => name.startsWith(d));
}

/**
 * Split a port device string: a PCI address ('0000:03:00.0' or '03:00.0',
 * optionally ',devargs') or a vdev ('net_af_packet0,iface=veth0'). Throws
 * EINVAL for anything else, listing the known vdev drivers.
 */
export function classifyDevice(device: string): DeviceInfo {
  if (typeof device !== 'string' || device === '') {
    throw new FastpathError('EINVAL', `invalid device ${describe(device)}: expected a PCI address or vdev string`);
  }
  const comma = device.indexOf(',');
  const head = comma < 0 ? device : device.slice(0, comma);
  const args = comma < 0 ? '' : device.slice(comma + 1);
  if (comma >= 0 && args.split(',').some((kv) => kv === '' || /\s/.test(kv))) {
    throw new FastpathError('EINVAL', `invalid device ${describe(device)}: empty or blank argument`);
  }
  const pci = normalizePci(head);
  if (pci !== null) return { kind: 'pci', name: pci, args };
  const driver = VDEV_NAME.test(head) ? vdevDriver(head) : undefined;
  if (driver === undefined) {
    throw new FastpathError(
      'EINVAL',
      `invalid device ${describe(device)}: expected a PCI address (0000:03:00.0) or a vdev named after ` +
        `one of ${KNOWN_VDEV_DRIVERS.join(', ')} (e.g. net_af_packet0,iface=veth0)`,
    );
  }
  return { kind: 'vdev', driver, name: head, args };
}

/** The port device as stored: PCI addresses in full lowercase form, vdev strings verbatim. */
function normalizeDevice(value: unknown, path: string): { device: string; info: DeviceInfo } {
  const what = `a PCI address or a vdev string (drivers: ${KNOWN_VDEV_DRIVERS.join(', ')})`;
  const info = tryParse(() => classifyDevice(requireString(value, path, what)), path, what, value);
  const device = info.kind === 'pci' ? [info.name, info.args].filter((s) => s !== '').join(',') : (value as string);
  return { device, info };
}

// ───────────────────────────── CPU set ────────────────────────────

/** Parse a Linux CPU list ('0-3,8,10-11') into sorted distinct ids. */
export function parseCpuList(text: string): number[] {
  const cpus = new Set<number>();
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new FastpathError('EINVAL', `invalid CPU list ${describe(text)}`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    for (let cpu = first; cpu <= last; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** Format CPU ids as a compact list ('0-3,8'), the form EAL's --lcores sets take. */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(',');
}

let processCpus: number[] | undefined;

/**
 * CPUs this process may run on: Cpus_allowed_list of /proc/self/status
 * (honours taskset and cgroups cpusets), else 0..os.cpus().length-1.
 * Read once, at the first call: after EAL starts, fastpath moves Node's own
 * threads off the workers' CPUs, and later configs must still see the
 * process's whole set.
 */
export function allowedCpus(): number[] {
  if (processCpus === undefined) processCpus = readAllowedCpus();
  return [...processCpus];
}

function readAllowedCpus(): number[] {
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const m = /^Cpus_allowed_list:\s*(.+)$/m.exec(status);
    if (m) return parseCpuList(m[1]);
  } catch {
    // Not Linux or no procfs: fall through to the CPU count.
  }
  return Array.from({ length: Math.max(1, os.cpus().length) }, (_, i) => i);
}

// ──────────────────────────── sections ────────────────────────────

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
function normalizeWorkers(o: Obj, allowed: readonly number[]): { workers: number; workerCpus: number[]; shareWorkerCpus: boolean } {
  const share = o.shareWorkerCpus ?? false;
  if (typeof share !== 'boolean') fail('eal.shareWorkerCpus', 'true or false', share);
  const given = o.workerCpus === undefined ? undefined : optArray(o, 'workerCpus', 'eal', 'an array of CPU ids');
  // Without `workers`, an explicit workerCpus list says how many there are.
  const workers = optInt(o, 'workers', 'eal', 1, MAX_LCORES - 1, given?.length || 1);
  if (allowed.length < 2 || (!share && workers >= allowed.length)) fail('eal.workers', workerLimit(allowed), o.workers ?? workers);
  if (given === undefined) {
    // Shared: every worker on the highest CPU; the rest stay Node's.
    const cpus = share ? Array.from({ length: workers }, () => allowed[allowed.length - 1]) : allowed.slice(allowed.length - workers);
    return { workers, workerCpus: cpus, shareWorkerCpus: share };
  }
  if (given.length !== workers) {
    fail('eal.workerCpus', `an array of ${workers} CPU id(s), one per worker`, given);
  }
  given.forEach((cpu, i) => {
    if (!isInteger(cpu) || !allowed.includes(cpu)) {
      fail(item('eal.workerCpus', i), `a CPU id this process may run on (${formatCpuList(allowed)})`, cpu);
    }
    const first = given.indexOf(cpu);
    if (first !== i && !share) {
      fail(item('eal.workerCpus', i), `a CPU not already used by eal.workerCpus[${first}] (or eal.shareWorkerCpus: true)`, cpu);
    }
  });
  if (allowed.every((cpu) => given.includes(cpu))) {
    fail('eal.workerCpus', 'CPUs that leave at least one CPU for the Node main thread', given);
  }
  return { workers, workerCpus: given as number[], shareWorkerCpus: share };
}

/** eal.pciAllow: bare PCI addresses, normalised, no duplicates. */
function normalizePciAllow(o: Obj): string[] {
  const list = optArray(o, 'pciAllow', 'eal', 'an array of PCI addresses');
  const result: string[] = [];
  list.forEach((value, i) => {
    const path = item('eal.pciAllow', i);
    const pci = typeof value === 'string' ? normalizePci(value) : null;
    if (pci === null) fail(path, 'a PCI address like "0000:03:00.0" (device arguments go on ports[].device)', value);
    const earlier = result.indexOf(pci);
    if (earlier >= 0) fail(path, `a PCI address not already listed (eal.pciAllow[${earlier}])`, value);
    result.push(pci);
  });
  return result;
}

/** eal.extraArgs: non-empty strings that do not repeat an option fastpath derives. */
function normalizeExtraArgs(o: Obj): string[] {
  const list = optArray(o, 'extraArgs', 'eal', 'an array of strings');
  return list.map((value, i) => {
    const path = item('eal.extraArgs', i);
    const arg = requireString(value, path, 'a non-empty string');
    const option = arg.startsWith('--') ? arg.split('=')[0] : arg.slice(0, 2);
    const instead = DERIVED_EAL_OPTIONS[option];
    if (instead !== undefined) {
      fail(path, `an EAL argument fastpath does not derive itself (set ${instead} instead)`, arg);
    }
    return arg;
  });
}

function normalizeEal(value: unknown, allowed: readonly number[]): NormalizedConfig['eal'] {
  const o = expectObject(value === undefined ? {} : value, 'eal', 'an object', EAL_FIELDS);
  const { workers, workerCpus, shareWorkerCpus } = normalizeWorkers(o, allowed);
  const hugepages = o.hugepages ?? 'auto';
  if (hugepages !== 'auto' && typeof hugepages !== 'boolean') fail('eal.hugepages', '"auto", true or false', hugepages);
  const prefixWhat = 'a name of [A-Za-z0-9_.-] (1..64, not starting with "." or "-")';
  const filePrefix =
    o.filePrefix === undefined
      ? `fastpath-${process.pid}`
      : requireMatch(o, 'filePrefix', 'eal', FILE_PREFIX, prefixWhat);
  const logLevel = o.logLevel ?? 'notice';
  if (typeof logLevel !== 'string' || !Object.hasOwn(LOG_LEVELS, logLevel)) {
    fail('eal.logLevel', `one of ${Object.keys(LOG_LEVELS).join(', ')}`, logLevel);
  }
  return {
    workers,
    workerCpus,
    shareWorkerCpus,
    memoryMb: optInt(o, 'memoryMb', 'eal', 256, 1048576, 512),
    hugepages,
    filePrefix,
    pciAllow: normalizePciAllow(o),
    extraArgs: normalizeExtraArgs(o),
    logLevel: logLevel as LogLevel,
  };
}

/** A port as validated, with what the checks across ports need. */
interface CheckedPort {
  port: NormalizedPort;
  info: DeviceInfo;
  prefixes: Prefix[];
  /** The addresses as written, for error messages. */
  written: unknown[];
}

/** One port with defaults; returns the device info for the cross-checks. */
function normalizePort(value: unknown, path: string): CheckedPort {
  const o = expectObject(value, path, 'a port object with name and device', PORT_FIELDS);
  const name = requireMatch(o, 'name', path, IFNAME, 'an interface name matching [A-Za-z][A-Za-z0-9_.-]{0,14}');
  const { device, info } = normalizeDevice(o.device, field(path, 'device'));
  const addressPath = field(path, 'addresses');
  const list = optArray(o, 'addresses', path, 'an array of "address/length" strings');
  const prefixes = list.map((a, i) => interfaceAddress(a, item(addressPath, i)));
  const port: NormalizedPort = {
    name,
    device,
    mtu: optInt(o, 'mtu', path, 1280, 9600, 1500),
    promiscuous: optBool(o, 'promiscuous', path, true),
    addresses: prefixes.map(formatPrefix),
    rxDescriptors: optPowerOfTwo(o, 'rxDescriptors', path, 64, 16384, 1024),
    txDescriptors: optPowerOfTwo(o, 'txDescriptors', path, 64, 16384, 1024),
    routerAdvertisements: optBool(o, 'routerAdvertisements', path, false),
    ...raTimers(o, path),
    dadTransmits: optInt(o, 'dadTransmits', path, 0, 10, 1),
    mld: mldConfig(o.mld, field(path, 'mld')),
  };
  if (o.mac !== undefined) port.mac = unicastMac(o.mac, field(path, 'mac'));
  return { port, info, prefixes, written: list };
}

/** ports[].mld: { version: 1 | 2 }, default 2. */
function mldConfig(value: unknown, path: string): { version: 1 | 2 } {
  const o = expectObject(value === undefined ? {} : value, path, 'an object { version: 1 | 2 }', ['version'] as const);
  if (o.version !== undefined && o.version !== 1 && o.version !== 2) fail(field(path, 'version'), '1 or 2', o.version);
  return { version: (o.version as 1 | 2 | undefined) ?? 2 };
}

/** Router Advertisement intervals and lifetime with RFC 4861 6.2.1's bounds. */
function raTimers(o: Obj, path: string): { raMaxIntervalS: number; raMinIntervalS: number; raRouterLifetimeS: number } {
  const max = optInt(o, 'raMaxIntervalS', path, 4, 1800, 600);
  const min = optInt(o, 'raMinIntervalS', path, 3, Math.floor(0.75 * max), Math.max(3, Math.floor(max / 3)));
  const lifetime = optInt(o, 'raRouterLifetimeS', path, 0, 9000, Math.min(9000, 3 * max));
  if (lifetime !== 0 && lifetime < max) {
    fail(field(path, 'raRouterLifetimeS'), `0 or ${max}..9000 (at least raMaxIntervalS)`, lifetime);
  }
  return { raMaxIntervalS: max, raMinIntervalS: min, raRouterLifetimeS: lifetime };
}

/** All ports, then the checks across them: unique names, devices and addresses. */
function normalizePorts(root: Obj): NormalizedPort[] {
  const list = requireArray(root, 'ports', '', 'an array of ports');
  if (list.length > MAX_PORTS) fail('ports', `at most ${MAX_PORTS} ports`, `${list.length} ports`);
  const seen = list.map((p, i) => normalizePort(p, item('ports', i)));
  seen.forEach(({ port, info, prefixes }, i) => {
    const path = item('ports', i);
    const sameName = seen.findIndex((s) => s.port.name === port.name);
    if (sameName !== i) fail(field(path, 'name'), `a name not used by ports[${sameName}]`, port.name);
    const sameDevice = seen.findIndex((s) => s.info.name === info.name);
    if (sameDevice !== i) {
      fail(field(path, 'device'), `a device not used by ports[${sameDevice}] (${info.name})`, port.device);
    }
    prefixes.forEach((p, j) => checkAddressUnique(seen, i, j, p));
  });
  return seen.map((s) => s.port);
}

/** An interface address may be assigned once in the whole router. */
function checkAddressUnique(seen: CheckedPort[], portIndex: number, addrIndex: number, p: Prefix): void {
  for (let i = 0; i <= portIndex; i++) {
    const limit = i === portIndex ? addrIndex : seen[i].prefixes.length;
    for (let j = 0; j < limit; j++) {
      if (addressEqual(seen[i].prefixes[j].address, p.address)) {
        const path = item(field(item('ports', portIndex), 'addresses'), addrIndex);
        const written = seen[portIndex].written[addrIndex];
        fail(path, `an address not already assigned by ports[${i}].addresses[${j}]`, written);
      }
    }
  }
}

/** A `dev` field: the name of a configured interface (port or clone). */
function portName(obj: Obj, path: string, names: readonly string[]): string {
  const value = obj.dev;
  if (typeof value !== 'string' || !names.includes(value)) {
    fail(field(path, 'dev'), portNames(names), value);
  }
  return value;
}

/** 'the name of a port (eth0, eth1)': what an interface reference may be. */
function portNames(names: readonly string[]): string {
  return `the name of a port (${names.join(', ') || 'none configured'})`;
}

type NormalizedClone = NormalizedConfig['clones'][number];

/** clones[]: cloner, parent port, VLAN id, a name no other interface has, addresses assigned nowhere else. */
function normalizeClones(root: Obj, ports: readonly NormalizedPort[]): NormalizedClone[] {
  const list = optArray(root, 'clones', '', 'an array of { cloner, ... }');
  const names = ports.map((p) => p.name);
  const used = ports.flatMap((p) => p.addresses.map((a) => parsePrefix(a).address));
  const vlans: string[] = [];
  return list.map((value, i) => {
    const path = item('clones', i);
    const o = expectObject(value, path, 'a clone object with cloner', CLONE_FIELDS);
    if (o.cloner !== 'vlan' && o.cloner !== 'loop') fail(field(path, 'cloner'), "'vlan' or 'loop'", o.cloner);
    const clone: NormalizedClone = { cloner: o.cloner, name: '', addresses: [] };
    if (o.cloner === 'vlan') {
      if (typeof o.parent !== 'string' || !ports.some((p) => p.name === o.parent)) {
        fail(field(path, 'parent'), portNames(ports.map((p) => p.name)), o.parent);
      }
      const vlan = o.vlan;
      if (typeof vlan !== 'number' || !Number.isInteger(vlan) || vlan < 1 || vlan > 4094) {
        fail(field(path, 'vlan'), 'an 802.1Q id 1..4094', vlan);
      }
      const key = `${o.parent}.${vlan}`;
      if (vlans.includes(key)) fail(field(path, 'vlan'), `a VLAN id not already on ${o.parent}`, vlan);
      vlans.push(key);
      clone.parent = o.parent;
      clone.vlan = vlan;
      clone.name = key;
    } else {
      if (o.parent !== undefined) fail(field(path, 'parent'), 'nothing (a loopback has no parent)', o.parent);
      if (o.vlan !== undefined) fail(field(path, 'vlan'), 'nothing (a loopback has no VLAN)', o.vlan);
      let n = 1;
      while (names.includes(`lo${n}`)) n++;
      clone.name = `lo${n}`;
    }
    if (o.name !== undefined) clone.name = requireMatch(o, 'name', path, IFNAME, 'an interface name matching [A-Za-z][A-Za-z0-9_.-]{0,14}');
    if (names.includes(clone.name)) fail(field(path, 'name'), 'a name no other interface has', clone.name);
    names.push(clone.name);
    const addrPath = field(path, 'addresses');
    clone.addresses = optArray(o, 'addresses', path, 'an array of "address/length" strings').map((a, j) => {
      const p = interfaceAddress(a, item(addrPath, j));
      if (used.some((u) => addressEqual(u, p.address))) fail(item(addrPath, j), 'an address not assigned elsewhere', a);
      used.push(p.address);
      return formatPrefix(p);
    });
    return clone;
  });
}

function normalizeRoutes(root: Obj, ports: readonly string[]): RouteConfig[] {
  const list = optArray(root, 'routes', '', 'an array of routes');
  const networks: string[] = [];
  return list.map((value, i) => {
    const path = item('routes', i);
    const o = expectObject(value, path, 'a route object with prefix and dev', ROUTE_FIELDS);
    const prefix = formatPrefix(networkPrefix(o.prefix, field(path, 'prefix')));
    const earlier = networks.indexOf(prefix);
    if (earlier >= 0) fail(field(path, 'prefix'), `a prefix not already routed by routes[${earlier}]`, o.prefix);
    networks.push(prefix);
    const route: RouteConfig = { prefix, dev: portName(o, path, ports) };
    if (o.via !== undefined) route.via = unicastAddress(o.via, field(path, 'via'));
    return route;
  });
}

function normalizeNeighbours(root: Obj, ports: readonly string[]): NeighbourConfig[] {
  const list = optArray(root, 'neighbours', '', 'an array of neighbours');
  const result: NeighbourConfig[] = [];
  list.forEach((value, i) => {
    const path = item('neighbours', i);
    const o = expectObject(value, path, 'a neighbour object with address, mac and dev', NEIGHBOUR_FIELDS);
    const address = unicastAddress(o.address, field(path, 'address'));
    const mac = unicastMac(o.mac, field(path, 'mac'));
    const dev = portName(o, path, ports);
    const earlier = result.findIndex((n) => n.address === address && n.dev === dev);
    if (earlier >= 0) {
      fail(field(path, 'address'), `an address not already given on ${dev} by neighbours[${earlier}]`, o.address);
    }
    result.push({ address, mac, dev });
  });
  return result;
}

function normalizeFlowCache(value: unknown): Required<FlowCacheConfig> {
  const o = expectObject(value === undefined ? {} : value, 'flowCache', 'an object', FLOWCACHE_FIELDS);
  return {
    maxflows: optInt(o, 'maxflows', 'flowCache', 0, 1048576, 16384),
    hashsize: optPowerOfTwo(o, 'hashsize', 'flowCache', 1, 1048576, 32768),
    idleTimeoutMs: optInt(o, 'idleTimeoutMs', 'flowCache', 100, 3600000, 5000),
  };
}

function normalizeNeighbourDiscovery(value: unknown): Required<NeighbourDiscoveryConfig> {
  const o = expectObject(value === undefined ? {} : value, 'neighbourDiscovery', 'an object', ND_FIELDS);
  return {
    baseReachableTimeMs: optInt(o, 'baseReachableTimeMs', 'neighbourDiscovery', 1000, 3600000, 30000),
    maxNeighbours: optInt(o, 'maxNeighbours', 'neighbourDiscovery', 16, 1048576, 16384),
  };
}

function normalizeRouting(value: unknown): Required<RoutingConfig> {
  const o = expectObject(value === undefined ? {} : value, 'routing', 'an object', ROUTING_FIELDS);
  return {
    maxRoutes: optInt(o, 'maxRoutes', 'routing', 16, 4194304, 16384),
    tbl8Groups: optInt(o, 'tbl8Groups', 'routing', 256, 4194304, 16384),
  };
}

function normalizeIcmpErrors(value: unknown): Required<IcmpErrorsConfig> {
  const o = expectObject(value === undefined ? {} : value, 'icmpErrors', 'an object', ICMP_ERROR_FIELDS);
  return {
    perSecond: optInt(o, 'perSecond', 'icmpErrors', 0, 1000000, 100),
    burst: optInt(o, 'burst', 'icmpErrors', 1, 1000000, 10),
  };
}

function normalizeMempool(value: unknown): Required<MempoolConfig> {
  const o = expectObject(value === undefined ? {} : value, 'mempool', 'an object', MEMPOOL_FIELDS);
  const mbufs = optInt(o, 'mbufs', 'mempool', 255, 16777215, 16383);
  // rte_mempool_create refuses a cache whose flush threshold (1.5 x size) exceeds the pool.
  const maxCache = Math.min(512, Math.floor(mbufs / 1.5));
  const cacheSize = optInt(o, 'cacheSize', 'mempool', 0, 512, Math.min(256, maxCache));
  if (cacheSize > maxCache) {
    fail('mempool.cacheSize', `an integer 0..${maxCache} (DPDK needs 1.5 x cacheSize <= mbufs)`, cacheSize);
  }
  return { mbufs, cacheSize };
}

/** One namespace host: its port must exist and its gateway must be reachable on-link. */
function normalizeHost(value: unknown, path: string, ports: readonly NormalizedPort[]): TopologyHostConfig {
  const o = expectObject(value, path, 'a host object with name, port, address and gateway', HOST_FIELDS);
  const nameWhat = 'a host name matching [A-Za-z][A-Za-z0-9_-]{0,63}, not ending in -<digits>';
  const name = requireMatch(o, 'name', path, HOST_NAME, nameWhat);
  if (/-\d+$/.test(name)) fail(field(path, 'name'), nameWhat, name);
  const port = ports.find((p) => p.name === o.port);
  if (port === undefined) fail(field(path, 'port'), portNames(ports.map((p) => p.name)), o.port);
  const address = interfaceAddress(o.address, field(path, 'address'));
  const gateway = unicastAddress(o.gateway, field(path, 'gateway'));
  checkGateway(parseIPv6(gateway), address, port, field(path, 'gateway'), o.gateway);
  return { name, port: port.name, address: formatPrefix(address), gateway };
}

/** A global gateway must be the router's address on that port and inside the host's prefix. */
function checkGateway(gw: Uint8Array, host: Prefix, port: NormalizedPort, path: string, value: unknown): void {
  if (isLinkLocal(gw)) return;
  if (addressEqual(gw, host.address)) fail(path, "an address other than the host's own", value);
  if (!prefixContains(host, gw)) {
    fail(path, `an address inside the host's prefix ${formatPrefix(prefixNetwork(host))} (or a link-local one)`, value);
  }
  const portAddresses = port.addresses.map((a) => parsePrefix(a).address);
  if (!portAddresses.some((a) => addressEqual(a, gw))) {
    const own = port.addresses.join(', ') || 'none';
    fail(path, `one of port ${port.name}'s addresses (${own}) or a link-local address`, value);
  }
}

function normalizeTopology(value: unknown, ports: readonly NormalizedPort[]): NormalizedTopology {
  const o = expectObject(value, 'topology', 'an object with hosts', TOPOLOGY_FIELDS);
  const prefix =
    o.prefix === undefined
      ? 'fp'
      : requireMatch(o, 'prefix', 'topology', TOPOLOGY_PREFIX, 'a name prefix matching [A-Za-z][A-Za-z0-9_-]{0,11}');
  const list = requireArray(o, 'hosts', 'topology', 'an array of hosts');
  const hosts: TopologyHostConfig[] = [];
  list.forEach((h, i) => {
    const path = item('topology.hosts', i);
    const host = normalizeHost(h, path, ports);
    const sameName = hosts.findIndex((x) => x.name === host.name);
    if (sameName >= 0) fail(field(path, 'name'), `a name not used by topology.hosts[${sameName}]`, host.name);
    // One veth per port: a second host on a port would need a bridge the topology does not build.
    const samePort = hosts.findIndex((x) => x.port === host.port);
    if (samePort >= 0) fail(field(path, 'port'), `a port with no host yet (topology.hosts[${samePort}] uses it)`, host.port);
    hosts.push(host);
  });
  return { prefix, hosts };
}

// ─────────────────────────── entry points ─────────────────────────

/**
 * Validate a router config (from YAML or an object) and fill in every
 * default. Throws FastpathError('EINVAL') naming the first bad field.
 */
export function normalizeConfig(input: unknown, opts: NormalizeOptions = {}): NormalizedRouterConfig {
  const root = expectObject(input, '', 'a router config object', ROOT_FIELDS);
  const allowed = [...(opts.allowedCpus ?? allowedCpus())].sort((a, b) => a - b);
  const eal = normalizeEal(root.eal, allowed);
  const ports = normalizePorts(root);
  const clones = normalizeClones(root, ports);
  const devs = [...ports.map((p) => p.name), ...clones.map((c) => c.name)];
  const config: NormalizedRouterConfig = {
    eal,
    ports,
    clones,
    routes: normalizeRoutes(root, devs),
    neighbours: normalizeNeighbours(root, devs),
    flowCache: normalizeFlowCache(root.flowCache),
    mempool: normalizeMempool(root.mempool),
    neighbourDiscovery: normalizeNeighbourDiscovery(root.neighbourDiscovery),
    icmpErrors: normalizeIcmpErrors(root.icmpErrors),
    routing: normalizeRouting(root.routing),
  };
  if (root.topology !== undefined) config.topology = normalizeTopology(root.topology, ports);
  return config;
}

/** Split 'ports[1].addresses[0]' into YAML path segments. */
function pathSegments(path: string): (string | number)[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]));
}

/** 'file:line:col' of the deepest YAML node on `path`, for error messages. */
function yamlLocation(file: string, doc: Document, lines: LineCounter, path: string): string {
  const segments = pathSegments(path);
  for (let n = segments.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(segments.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = lines.linePos(node.range[0]);
      return `${file}:${pos.line}:${pos.col}`;
    }
  }
  return file;
}

/** Read and parse a YAML file; I/O and syntax errors name the file. */
function readYaml(file: string): { doc: Document; lines: LineCounter } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new FastpathError('ENOENT', `${file}: config file not found`);
    throw new FastpathError('EINVAL', `${file}: cannot read config file (${e.message})`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const at = e.linePos ? `${file}:${e.linePos[0].line}:${e.linePos[0].col}` : file;
    // The message repeats the position and a source excerpt; keep only the reason.
    const reason = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new FastpathError('EINVAL', `${at}: invalid YAML: ${reason}`);
  }
  return { doc, lines };
}

/**
 * Load a config: a string is the path of a YAML file, an object is a config
 * as-is. Validation errors keep their code and path and gain 'file:line:col'.
 */
export function loadConfig(source: string | RouterConfig, opts: NormalizeOptions = {}): NormalizedRouterConfig {
  if (typeof source !== 'string') return normalizeConfig(source, opts);
  const { doc, lines } = readYaml(source);
  try {
    return normalizeConfig(doc.toJS(), opts);
  } catch (err) {
    if (!(err instanceof FastpathError)) throw err;
    const at = yamlLocation(source, doc, lines, err.path ?? '');
    throw new FastpathError(err.code, `${at}: ${err.message}`, err.path);
  }
}

// ────────────────────────── EAL arguments ─────────────────────────

/** Parse /proc/meminfo and /proc/mounts text: free default-size hugepages and a hugetlbfs mount. */
export function hugepagesFromProc(meminfo: string, mounts: string): HugepageInfo {
  const free = /^HugePages_Free:\s*(\d+)/m.exec(meminfo);
  const size = /^Hugepagesize:\s*(\d+)\s*kB/m.exec(meminfo);
  const mounted = mounts.split('\n').some((line) => line.split(/\s+/)[2] === 'hugetlbfs');
  return { free: free ? Number(free[1]) : 0, mounted, pageSizeKb: size ? Number(size[1]) : 0 };
}

/** What this machine offers in hugepages now (none when procfs is unreadable). */
export function detectHugepages(): HugepageInfo {
  try {
    return hugepagesFromProc(fs.readFileSync('/proc/meminfo', 'utf8'), fs.readFileSync('/proc/mounts', 'utf8'));
  } catch {
    return { free: 0, mounted: false, pageSizeKb: 0 };
  }
}

/** Whether `info` can hold `memoryMb` of DPDK memory. */
function hugepagesSuffice(info: HugepageInfo, memoryMb: number): boolean {
  return info.mounted && info.free * info.pageSizeKb >= memoryMb * 1024;
}

/** The ENOMEM for eal.hugepages: true without pages, with the commands that reserve them. */
function hugepagesMissing(memoryMb: number, info: HugepageInfo | undefined): FastpathError {
  const mount = info?.mounted ? 'mounted' : 'not mounted';
  const found = info ? ` (found ${info.free} free ${info.pageSizeKb} kB pages, hugetlbfs ${mount})` : '';
  // 256 pages of 2 MiB cover the default 512 MiB; more for bigger memoryMb.
  const pages = Math.max(256, Math.ceil((memoryMb * 1024) / (info?.pageSizeKb || 2048)));
  return new FastpathError(
    'ENOMEM',
    `eal.hugepages is true but ${memoryMb} MiB of hugepages are not available${found}; reserve them as root: ` +
      `echo ${pages} > /proc/sys/vm/nr_hugepages; mount -t hugetlbfs nodev /dev/hugepages ` +
      '(or set eal.hugepages to "auto" or false)',
    'eal.hugepages',
  );
}

/**
 * Whether EAL will run on hugepages for this config: false → never; 'auto'
 * → when enough are free and mounted; true → required, ENOMEM if missing.
 */
export function usesHugepages(cfg: NormalizedConfig, opts: EalArgsOptions = {}): boolean {
  const mode = cfg.eal.hugepages;
  if (mode === false) return false;
  let info: HugepageInfo | undefined;
  let available = opts.hugepagesAvailable;
  if (available === undefined) {
    info = detectHugepages();
    available = hugepagesSuffice(info, cfg.eal.memoryMb);
  }
  if (mode === true && !available) throw hugepagesMissing(cfg.eal.memoryMb, info);
  return available;
}

/** --lcores: lcore 0 (the Node thread) floats over the CPUs workers leave free; worker i+1 pinned to workerCpus[i]. */
function lcoreArgs(workerCpus: readonly number[], allowed: readonly number[]): string[] {
  const free = allowed.filter((cpu) => !workerCpus.includes(cpu));
  const mainCpus = free.length > 0 ? free : allowed;
  const workers = workerCpus.map((cpu, i) => `${i + 1}@${cpu}`);
  return [`--lcores=${[`0@(${formatCpuList(mainCpus)})`, ...workers].join(',')}`, '--main-lcore=0'];
}

/** Memory mode: --in-memory on hugepages, else --no-huge (22.11 rejects the two together). */
function memoryArgs(eal: NormalizedConfig['eal'], huge: boolean): string[] {
  const mb = String(eal.memoryMb);
  const prefix = `--file-prefix=${eal.filePrefix}`;
  return huge ? ['--in-memory', prefix, '-m', mb] : ['--no-huge', '-m', mb, '--no-shconf', prefix];
}

/** -a for each allowed PCI device (ports' own with their devargs), or --no-pci when none. */
function pciArgs(cfg: NormalizedConfig): string[] {
  const fromPorts = cfg.ports.map((p) => classifyDevice(p.device)).filter((d) => d.kind === 'pci');
  const allow = fromPorts.map((d) => (d.args ? `${d.name},${d.args}` : d.name));
  for (const pci of cfg.eal.pciAllow) if (!fromPorts.some((d) => d.name === pci)) allow.push(pci);
  return allow.length === 0 ? ['--no-pci'] : allow.flatMap((a) => ['-a', a]);
}

/**
 * The EAL argv for a normalized config (argv[0] = 'fastpath'). vdevs are not
 * on it: the native side hot-plugs them with rte_dev_probe. Throws ENOMEM when
 * eal.hugepages is true and none are available.
 */
export function ealArgs(cfg: NormalizedConfig, opts: EalArgsOptions = {}): string[] {
  const allowed = [...(opts.allowedCpus ?? allowedCpus())].sort((a, b) => a - b);
  return [
    'fastpath',
    ...lcoreArgs(cfg.eal.workerCpus, allowed),
    ...memoryArgs(cfg.eal, usesHugepages(cfg, opts)),
    ...pciArgs(cfg),
    `--log-level=${LOG_LEVELS[cfg.eal.logLevel]}`,
    ...cfg.eal.extraArgs,
  ];
}

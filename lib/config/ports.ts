/** The interface sections: ports[] (devices, addresses, MTU, RA, MLD) and clones[] (VLANs, loopbacks), and `dev` references to them. */
import { addressEqual, formatPrefix, parsePrefix, type Prefix } from '../addr';
import type { NormalizedConfig, PortConfig } from '../config-types';
import { DeviceInfo, normalizeDevice } from './devices';
import {
  expectObject,
  fail,
  field,
  interfaceAddress,
  item,
  Obj,
  optArray,
  optBool,
  optInt,
  optPowerOfTwo,
  requireArray,
  requireMatch,
  unicastMac,
} from './fields';

/** A port with every default filled in; `mac` stays absent when the device's own is kept. */
export type NormalizedPort = Required<Omit<PortConfig, 'mac'>> & { mac?: string };

/** RTE_MAX_ETHPORTS in Debian's DPDK 22.11 build. */
const MAX_PORTS = 32;

const IFNAME = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;

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
const CLONE_FIELDS = ['cloner', 'name', 'parent', 'vlan', 'addresses'] as const;

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
export function normalizePorts(root: Obj): NormalizedPort[] {
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
export function portName(obj: Obj, path: string, names: readonly string[]): string {
  const value = obj.dev;
  if (typeof value !== 'string' || !names.includes(value)) {
    fail(field(path, 'dev'), portNames(names), value);
  }
  return value;
}

/** 'the name of a port (eth0, eth1)': what an interface reference may be. */
export function portNames(names: readonly string[]): string {
  return `the name of a port (${names.join(', ') || 'none configured'})`;
}

type NormalizedClone = NormalizedConfig['clones'][number];

/** clones[]: cloner, parent port, VLAN id, a name no other interface has, addresses assigned nowhere else. */
export function normalizeClones(root: Obj, ports: readonly NormalizedPort[]): NormalizedClone[] {
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

/** The topology section: namespace hosts wired to router ports (the demo and the integration tests). */
import { addressEqual, formatPrefix, isLinkLocal, parseIPv6, parsePrefix, prefixContains, prefixNetwork, type Prefix } from '../addr';
import type { TopologyHostConfig } from '../config-types';
import { expectObject, fail, field, interfaceAddress, item, requireArray, requireMatch, unicastAddress } from './fields';
import { NormalizedPort, portNames } from './ports';

/** The topology with its prefix filled in. */
export interface NormalizedTopology {
  prefix: string;
  hosts: TopologyHostConfig[];
}

/** As lib/topology.ts builds names: veth '<prefix><pid>-<id>r' must fit 15 characters. */
const TOPOLOGY_PREFIX = /^[A-Za-z][A-Za-z0-9_-]{0,11}$/;
/** Namespace '<prefix>-<host>[-<pid>]': a trailing '-<digits>' would read as the pid. */
const HOST_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

const TOPOLOGY_FIELDS = ['prefix', 'hosts'] as const;
const HOST_FIELDS = ['name', 'port', 'address', 'gateway'] as const;

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

export function normalizeTopology(value: unknown, ports: readonly NormalizedPort[]): NormalizedTopology {
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

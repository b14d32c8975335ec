/** The static table entries: routes[] and neighbours[], each on a configured interface. */
import { formatPrefix } from '../addr';
import type { NeighbourConfig, RouteConfig } from '../config-types';
import { expectObject, fail, field, item, Obj, optArray, optInt, networkPrefix, unicastAddress, unicastMac } from './fields';
import { portName } from './ports';

const ROUTE_FIELDS = ['prefix', 'via', 'dev', 'nexthops'] as const;
const NEXTHOP_FIELDS = ['via', 'dev', 'weight'] as const;
const NEIGHBOUR_FIELDS = ['address', 'mac', 'dev'] as const;

export function normalizeRoutes(root: Obj, ports: readonly string[]): RouteConfig[] {
  const list = optArray(root, 'routes', '', 'an array of routes');
  const networks: string[] = [];
  return list.map((value, i) => {
    const path = item('routes', i);
    const o = expectObject(value, path, 'a route object with prefix and dev', ROUTE_FIELDS);
    const prefix = formatPrefix(networkPrefix(o.prefix, field(path, 'prefix')));
    const earlier = networks.indexOf(prefix);
    if (earlier >= 0) fail(field(path, 'prefix'), `a prefix not already routed by routes[${earlier}]`, o.prefix);
    networks.push(prefix);
    if (o.nexthops !== undefined) {
      if (o.via !== undefined || o.dev !== undefined) fail(field(path, 'nexthops'), 'either nexthops or via/dev, not both', o.nexthops);
      const hops = optArray(o, 'nexthops', path, 'an array of 2..16 { via?, dev, weight? }');
      if (hops.length < 2 || hops.length > 16) fail(field(path, 'nexthops'), 'an array of 2..16 { via?, dev, weight? }', o.nexthops);
      const nexthops = hops.map((h, j) => {
        const hp = item(field(path, 'nexthops'), j);
        const ho = expectObject(h, hp, 'a next hop object with dev', NEXTHOP_FIELDS);
        const nh: { via?: string; dev: string; weight?: number } = { dev: portName(ho, hp, ports) };
        if (ho.via !== undefined) nh.via = unicastAddress(ho.via, field(hp, 'via'));
        nh.weight = optInt(ho, 'weight', hp, 1, 16, 1);
        return nh;
      });
      return { prefix, nexthops };
    }
    const route: RouteConfig = { prefix, dev: portName(o, path, ports) };
    if (o.via !== undefined) route.via = unicastAddress(o.via, field(path, 'via'));
    return route;
  });
}

export function normalizeNeighbours(root: Obj, ports: readonly string[]): NeighbourConfig[] {
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

/** The route table view (router.routes): static routes in, the whole table out. */
import * as os from 'os';

import { addressEqual, formatIPv6, formatPrefix, isMulticast, isUnspecified, parseNetworkPrefixInto, parsePrefix, prefixNetwork } from './addr';
import { FastpathError } from './errors';
import { call, NativeAddon, nativeError } from './native';
import { addressArg, PortMap } from './portmap';

export interface RouteInfo {
  readonly prefix: string;
  readonly via?: string;
  readonly dev: string;
  /** static: added by the user; connected: an interface's prefix; local: an interface's own address. */
  readonly kind: 'static' | 'connected' | 'local';
  /**
   * up: in the FIB. down: withdrawn while `dev` is down (admin or link);
   * it stays listed and returns when `dev` comes up. Local routes are always up.
   */
  readonly state: 'up' | 'down';
  /**
   * ECMP routes only: every next hop, each with its weight and its own
   * state (down while its dev is down; the route is down when all are).
   * `via`/`dev` above then name the first next hop.
   */
  readonly nexthops?: readonly RouteNextHopInfo[];
}

export interface RouteNextHopInfo {
  readonly via?: string;
  readonly dev: string;
  readonly weight: number;
  readonly state: 'up' | 'down';
}

/** One next hop of an ECMP route (see `Routes.add`). */
export interface RouteNextHop {
  via?: string;
  dev: string;
  /** 1..16, default 1: the share of flows relative to the other next hops. */
  weight?: number;
}

/** Next hops per ECMP route, and the largest weight. */
export const MAX_NEXTHOPS = 16;
export const MAX_NEXTHOP_WEIGHT = 16;

/** Bytes of one packed route (native/core/router.h, struct fp_route_spec). */
const SPEC_BYTES = 36;
const LITTLE_ENDIAN = os.endianness() === 'LE';

/** A network prefix (no host bits), parsed, or EINVAL naming `at`. */
function networkPrefix(prefix: unknown, at: string): { address: Uint8Array; length: number } {
  if (typeof prefix !== 'string') throw new FastpathError('EINVAL', `${at}: prefix: expected a string, got ${JSON.stringify(prefix)}`);
  let p;
  try {
    p = parsePrefix(prefix);
  } catch (e) {
    throw new FastpathError('EINVAL', `${at}: ${(e as Error).message}`);
  }
  const net = prefixNetwork(p);
  if (!addressEqual(net.address, p.address)) {
    throw new FastpathError('EINVAL', `${at}: prefix ${JSON.stringify(prefix)} has host bits set (did you mean ${formatPrefix(net)}?)`);
  }
  return p;
}

/** A gateway address (unicast), or null when absent; EINVAL naming `at`. */
function gatewayArg(text: string | undefined, at: string): Uint8Array | null {
  if (text === undefined) return null;
  const via = addressArg(text, at);
  if (isMulticast(via) || isUnspecified(via)) throw new FastpathError('EINVAL', `${at} ${JSON.stringify(text)} must be a unicast address`);
  return via;
}

/** networkPrefix written into out[off..off+16), returning the length: the fast parser, the full one for its error. */
function networkPrefixInto(prefix: unknown, out: Uint8Array, off: number, at: string): number {
  if (typeof prefix === 'string') {
    const length = parseNetworkPrefixInto(prefix, out, off);
    if (length >= 0) return length;
  }
  const p = networkPrefix(prefix, at);
  out.set(p.address, off);
  return p.length;
}

/** Await a batch call; a refusal names the entry by its index (err.index from the addon). */
async function batchCall(context: string, what: string, keys: readonly string[], fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    const index = (e as { index?: number }).index;
    const err = nativeError(e, index !== undefined && index < keys.length ? `${context}: ${what}[${index}] ${keys[index]}` : context);
    if (index !== undefined) (err as FastpathError & { index?: number }).index = index;
    throw err;
  }
}

export class Routes {
  /** @internal */
  constructor(private readonly addon: NativeAddon, private readonly ports: PortMap) {}

  /**
   * Add a static route: `add('2001:db8:2::/64', { via: 'fe80::2', dev: 'eth1' })`. Omit `via` for an on-link route.
   * ECMP: `add(prefix, { nexthops: [{ via, dev, weight? }, …] })` with 2..16 next hops; flows spread over them
   * by flow label (RFC 6438), see docs/flowlabels.md.
   */
  add(prefix: string, options: { via?: string; dev: string } | { nexthops: RouteNextHop[] }): void {
    const p = networkPrefix(prefix, 'routes.add');
    if (options === null || typeof options !== 'object') throw new FastpathError('EINVAL', 'routes.add: options: expected { via?, dev } or { nexthops }');
    if ('nexthops' in options) {
      const o = options as Record<string, unknown>;
      if (o.via !== undefined || o.dev !== undefined) {
        throw new FastpathError('EINVAL', 'routes.add: nexthops: give either nexthops or via/dev, not both');
      }
      this.addGroup(prefix, p, options.nexthops);
      return;
    }
    const port = this.ports.index(options.dev, 'routes.add: dev');
    const via = gatewayArg(options.via, 'routes.add: via');
    call(`routes.add ${prefix}`, () => this.addon.routeAdd(p.address, p.length, via, port));
  }

  private addGroup(prefix: string, p: { address: Uint8Array; length: number }, nexthops: unknown): void {
    if (!Array.isArray(nexthops)) throw new FastpathError('EINVAL', 'routes.add: nexthops: expected an array of { via?, dev, weight? }');
    if (nexthops.length < 2 || nexthops.length > MAX_NEXTHOPS) {
      throw new FastpathError('EINVAL', `routes.add: nexthops: ${nexthops.length} next hops (2..${MAX_NEXTHOPS}; one next hop is { via?, dev })`);
    }
    const seen = new Map<string, number>();
    const args = nexthops.map((nh: unknown, i) => {
      const at = `routes.add: nexthops[${i}]`;
      if (nh === null || typeof nh !== 'object') throw new FastpathError('EINVAL', `${at}: expected { via?, dev, weight? }`);
      const o = nh as RouteNextHop;
      for (const k of Object.keys(o)) {
        if (k !== 'via' && k !== 'dev' && k !== 'weight') throw new FastpathError('EINVAL', `${at}.${k}: unknown field`);
      }
      const port = this.ports.index(o.dev, `${at}.dev`);
      const via = gatewayArg(o.via, `${at}.via`);
      const weight = o.weight === undefined ? 1 : o.weight;
      if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > MAX_NEXTHOP_WEIGHT) {
        throw new FastpathError('EINVAL', `${at}.weight: expected an integer 1..${MAX_NEXTHOP_WEIGHT}, got ${JSON.stringify(o.weight)}`);
      }
      const key = `${port}/${via ? formatIPv6(via) : ''}`;
      const dup = seen.get(key);
      if (dup !== undefined) throw new FastpathError('EINVAL', `${at}: the same next hop as nexthops[${dup}]`);
      seen.set(key, i);
      return { via, port, weight };
    });
    call(`routes.add ${prefix}`, () => this.addon.routeAddGroup(p.address, p.length, args));
  }

  /** Delete a static route by its prefix. */
  delete(prefix: string): void {
    let p;
    try {
      p = parsePrefix(prefix);
    } catch (e) {
      throw new FastpathError('EINVAL', `routes.delete: ${(e as Error).message}`);
    }
    call(`routes.delete ${prefix}`, () => this.addon.routeDelete(p.address, p.length));
  }

  /**
   * Add many static routes as one change (a full table, a routing protocol's
   * update): validated first, then applied to the FIB's inactive copy,
   * published with one grace-period wait, and applied to the other copy.
   * All or nothing: on any error nothing of the batch is in the table; the
   * error names the index of the refused entry (`routes[i]`), also as
   * `err.index`. ECMP routes (`nexthops`) go through `add`.
   */
  async addMany(routes: readonly { prefix: string; via?: string; dev: string }[]): Promise<void> {
    if (!Array.isArray(routes)) throw new FastpathError('EINVAL', 'routes.addMany: expected an array of { prefix, via?, dev }');
    const packed = new Uint8Array(routes.length * SPEC_BYTES);
    const view = new DataView(packed.buffer);
    // A table names few devices and next hops: each is checked once.
    const devs = new Map<string, number>();
    const vias = new Map<string, Uint8Array>();
    routes.forEach((r, i) => {
      const at = `routes.addMany: routes[${i}]`;
      if (r === null || typeof r !== 'object') throw new FastpathError('EINVAL', `${at}: expected { prefix, via?, dev }`);
      if ('nexthops' in r) throw new FastpathError('EINVAL', `${at}: ECMP routes (nexthops) are added one by one with routes.add`);
      const off = i * SPEC_BYTES;
      packed[off + 16] = networkPrefixInto(r.prefix, packed, off, at);
      let port = devs.get(r.dev);
      if (port === undefined) {
        port = this.ports.index(r.dev, `${at}.dev`);
        devs.set(r.dev, port);
      }
      view.setUint16(off + 18, port, LITTLE_ENDIAN);
      if (r.via !== undefined) {
        let via = vias.get(r.via);
        if (via === undefined) {
          via = gatewayArg(r.via, `${at}.via`) as Uint8Array;
          vias.set(r.via, via);
        }
        packed[off + 17] = 1;
        packed.set(via, off + 20);
      }
    });
    await batchCall('routes.addMany', 'routes', routes.map((r) => r.prefix), () => this.addon.routeAddMany(packed));
  }

  /** Delete many static routes as one change; all or nothing, as addMany. */
  async deleteMany(prefixes: readonly string[]): Promise<void> {
    if (!Array.isArray(prefixes)) throw new FastpathError('EINVAL', 'routes.deleteMany: expected an array of prefixes');
    const bytes = new Uint8Array(prefixes.length * 16);
    const lengths = new Uint8Array(prefixes.length);
    prefixes.forEach((prefix, i) => {
      lengths[i] = networkPrefixInto(prefix, bytes, i * 16, `routes.deleteMany: prefixes[${i}]`);
    });
    await batchCall('routes.deleteMany', 'prefixes', prefixes, () => this.addon.routeDeleteMany(bytes, lengths));
  }

  /**
   * Point an existing static route at another next hop: one FIB change (no
   * moment without the route) when it is up and `dev` can carry traffic.
   * ENOENT when there is no such route, EPERM for a connected or local one.
   */
  replace(prefix: string, options: { via?: string; dev: string }): void {
    const p = networkPrefix(prefix, 'routes.replace: prefix');
    if (options === null || typeof options !== 'object' || 'nexthops' in options) {
      throw new FastpathError('EINVAL', 'routes.replace: options: expected { via?, dev } (an ECMP route is replaced with delete and add)');
    }
    const port = this.ports.index(options.dev, 'routes.replace: dev');
    const via = gatewayArg(options.via, 'routes.replace: via');
    call(`routes.replace ${prefix}`, () => this.addon.routeReplace(p.address, p.length, via, port));
  }

  list(): RouteInfo[] {
    return call('routes.list', () => this.addon.routeList()).map((r) => ({
      prefix: formatPrefix({ address: r.prefix, length: r.length }),
      ...(r.via ? { via: formatIPv6(r.via) } : {}),
      dev: this.ports.name(r.portIndex),
      kind: r.kind,
      state: r.state,
      ...(r.nexthops
        ? {
            nexthops: r.nexthops.map((h) => ({
              ...(h.via ? { via: formatIPv6(h.via) } : {}),
              dev: this.ports.name(h.portIndex),
              weight: h.weight,
              state: h.state,
            })),
          }
        : {}),
    }));
  }
}

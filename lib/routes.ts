/** The route table view (router.routes): static routes in, the whole table out. */
import { addressEqual, formatIPv6, formatPrefix, isMulticast, isUnspecified, parsePrefix, prefixNetwork } from './addr';
import { FastpathError } from './errors';
import { call, NativeAddon } from './native';
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

export class Routes {
  /** @internal */
  constructor(private readonly addon: NativeAddon, private readonly ports: PortMap) {}

  /**
   * Add a static route: `add('2001:db8:2::/64', { via: 'fe80::2', dev: 'eth1' })`. Omit `via` for an on-link route.
   * ECMP: `add(prefix, { nexthops: [{ via, dev, weight? }, …] })` with 2..16 next hops; flows spread over them
   * by flow label (RFC 6438), see docs/flowlabels.md.
   */
  add(prefix: string, options: { via?: string; dev: string } | { nexthops: RouteNextHop[] }): void {
    if (typeof prefix !== 'string') throw new FastpathError('EINVAL', `routes.add: prefix: expected a string, got ${JSON.stringify(prefix)}`);
    let p;
    try {
      p = parsePrefix(prefix);
    } catch (e) {
      throw new FastpathError('EINVAL', `routes.add: ${(e as Error).message}`);
    }
    const net = prefixNetwork(p);
    if (!addressEqual(net.address, p.address)) {
      throw new FastpathError('EINVAL', `routes.add: prefix ${JSON.stringify(prefix)} has host bits set (did you mean ${formatPrefix(net)}?)`);
    }
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
    let via: Uint8Array | null = null;
    if (options.via !== undefined) {
      via = addressArg(options.via, 'routes.add: via');
      if (isMulticast(via) || isUnspecified(via)) {
        throw new FastpathError('EINVAL', `routes.add: via ${JSON.stringify(options.via)} must be a unicast address`);
      }
    }
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
      let via: Uint8Array | null = null;
      if (o.via !== undefined) {
        via = addressArg(o.via, `${at}.via`);
        if (isMulticast(via) || isUnspecified(via)) {
          throw new FastpathError('EINVAL', `${at}.via ${JSON.stringify(o.via)} must be a unicast address`);
        }
      }
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

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
}

export class Routes {
  /** @internal */
  constructor(private readonly addon: NativeAddon, private readonly ports: PortMap) {}

  /** Add a static route: `add('2001:db8:2::/64', { via: 'fe80::2', dev: 'eth1' })`. Omit `via` for an on-link route. */
  add(prefix: string, options: { via?: string; dev: string }): void {
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
    if (options === null || typeof options !== 'object') throw new FastpathError('EINVAL', 'routes.add: options: expected { via?, dev }');
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
    }));
  }
}

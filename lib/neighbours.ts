/** The neighbour table view (router.neighbours): static entries, flush, the ND cache. */
import { formatIPv6, isMulticast, isMulticastMac, isUnspecified, isZeroMac, parseMac } from './addr';
import { describeValue, FastpathError } from './errors';
import { call, NativeAddon } from './native';
import { addressArg, optionsArg, PortMap } from './portmap';

export interface NeighbourInfo {
  readonly address: string;
  readonly mac: string | null;
  readonly dev: string;
  readonly state: string;
  /** Gateway routes that use this neighbour. */
  readonly routeRefs: number;
  readonly ageMs: number;
}

export class Neighbours {
  /** @internal */
  constructor(private readonly addon: NativeAddon, private readonly ports: PortMap) {}

  /** Add or replace a static (permanent) neighbour. */
  add(entry: { address: string; mac: string; dev: string }): void {
    if (entry === null || typeof entry !== 'object') throw new FastpathError('EINVAL', `neighbours.add: expected { address, mac, dev }, got ${describeValue(entry)}`);
    const address = addressArg(entry.address, 'neighbours.add: address');
    if (isMulticast(address) || isUnspecified(address)) {
      throw new FastpathError('EINVAL', `neighbours.add: address ${describeValue(entry.address)} must be unicast`);
    }
    let mac: Uint8Array;
    try {
      mac = parseMac(entry.mac);
    } catch (e) {
      throw new FastpathError('EINVAL', `neighbours.add: mac: ${(e as Error).message}`);
    }
    if (isMulticastMac(mac) || isZeroMac(mac)) {
      throw new FastpathError('EINVAL', `neighbours.add: mac ${describeValue(entry.mac)} must be a unicast MAC`);
    }
    const port = this.ports.index(entry.dev, 'neighbours.add: dev');
    call(`neighbours.add ${entry.address}`, () => this.addon.neighbourAdd(address, port, mac));
  }

  /** Delete a neighbour's link-layer address. */
  delete(entry: { address: string; dev: string }): void {
    if (entry === null || typeof entry !== 'object') throw new FastpathError('EINVAL', `neighbours.delete: expected { address, dev }, got ${describeValue(entry)}`);
    const address = addressArg(entry.address, 'neighbours.delete: address');
    const port = this.ports.index(entry.dev, 'neighbours.delete: dev');
    call(`neighbours.delete ${entry.address}`, () => this.addon.neighbourDelete(address, port));
  }

  /** Remove every learned (non-static) entry, on one interface or all; returns how many. */
  flush(options: { dev?: string } = {}): number {
    options = optionsArg(options, 'neighbours.flush');
    const port = options.dev === undefined ? null : this.ports.index(options.dev, 'neighbours.flush: dev');
    return call('neighbours.flush', () => this.addon.neighbourFlush(port));
  }

  /** ReachableTime now: BaseReachableTime 30 s × a random 0.5-1.5, drawn again every 2 h (RFC 4861 6.3.2). */
  get reachableTimeMs(): number {
    return this.addon.ndReachableMs();
  }

  /**
   * Static, learned (REACHABLE, STALE, DELAY, PROBE) and being-resolved
   * (INCOMPLETE, mac null) entries. ageMs: since the last change, or for
   * INCOMPLETE since the first solicitation.
   */
  list(): NeighbourInfo[] {
    return call('neighbours.list', () => this.addon.neighbourList()).map((n) => ({
      address: formatIPv6(n.address),
      mac: n.mac,
      dev: this.ports.name(n.portIndex),
      state: n.state,
      routeRefs: n.routeRefs,
      ageMs: n.ageMs,
    }));
  }

  /** How many entries list() returns (counted from one list() snapshot: the table is bounded by its configured size). */
  count(): number {
    return call('neighbours.count', () => this.addon.neighbourList()).length;
  }

  /**
   * list()'s entries one at a time. The neighbour table is bounded by its
   * configured size and small beside a routing table, so this walks one
   * list() snapshot instead of paging natively as routes.iterate() does.
   */
  async *iterate(): AsyncIterableIterator<NeighbourInfo> {
    yield* this.list();
  }
}

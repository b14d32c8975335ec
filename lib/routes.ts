/** The route table view (router.routes): static routes in, the whole table out. */
import * as os from 'os';

import { addressEqual, formatIPv6, formatPrefix, isMulticast, isUnspecified, parseNetworkPrefixInto, parsePrefix, Prefix, prefixNetwork } from './addr';
import { describeValue, FastpathError } from './errors';
import { call, NativeAddon, NativeRoute, nativeError } from './native';
import { addressArg, PortMap } from './portmap';
import { routeProtocolName } from './config/linux';

export interface RouteInfo {
  readonly prefix: string;
  readonly via?: string;
  readonly dev: string;
  /**
   * static: added by the user; connected: an interface's prefix; local: an
   * interface's own address; kernel: imported from a Linux routing table
   * (config `linux.importRoutes`, docs/linux-integration.md).
   */
  readonly kind: 'static' | 'connected' | 'local' | 'kernel';
  /** kind 'kernel': the protocol that installed it in the kernel ('bgp', 'ospf', 'static', 'boot', or its number). */
  readonly protocol?: string;
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

/** Options of `Routes.list` that ask for one page in key order (prefix bytes, then length). */
export interface RouteListOptions {
  /** Only routes inside this prefix: the same or a longer length, equal on its bits. */
  prefix?: string;
  /** At most this many routes (an integer >= 1); default: all that follow. */
  limit?: number;
  /** Start after this page's end: a previous page's `nextCursor`. */
  cursor?: string;
}

/** One page of `Routes.list(options)`. */
export interface RoutePage {
  routes: RouteInfo[];
  /** Present when more routes follow: pass it as `cursor` for the next page. */
  nextCursor?: string;
}

export interface RouteIterateOptions {
  prefix?: string;
  /** Routes fetched per native call (an integer >= 1), default 4096. */
  pageSize?: number;
}

const DEFAULT_PAGE_SIZE = 4096;
/** The native page size is a uint32; "all that follow" asks for the most it takes. */
const MAX_NATIVE_PAGE = 0xffffffff;

/** Next hops per ECMP route, and the largest weight. */
export const MAX_NEXTHOPS = 16;
export const MAX_NEXTHOP_WEIGHT = 16;

/** Bytes of one packed route (native/core/router.h, struct fp_route_spec). */
const SPEC_BYTES = 36;
const LITTLE_ENDIAN = os.endianness() === 'LE';

/** A gateway address (unicast), or null when absent; EINVAL naming `at`. */
function gatewayArg(text: string | undefined, at: string): Uint8Array | null {
  if (text === undefined) return null;
  const via = addressArg(text, at);
  if (isMulticast(via) || isUnspecified(via)) throw new FastpathError('EINVAL', `${at} ${describeValue(text)} must be a unicast address`);
  return via;
}

/** A network prefix written into out[off..off+16), returning its length: the fast parser, the full one (networkArg) for its error. */
function networkPrefixInto(prefix: unknown, out: Uint8Array, off: number, at: string): number {
  if (typeof prefix === 'string') {
    const length = parseNetworkPrefixInto(prefix, out, off);
    if (length >= 0) return length;
  }
  const p = networkArg(prefix, at);
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
    const p = networkArg(prefix, 'routes.add: prefix');
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
        throw new FastpathError('EINVAL', `${at}.weight: expected an integer 1..${MAX_NEXTHOP_WEIGHT}, got ${describeValue(o.weight)}`);
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
    const p = networkArg(prefix, 'routes.replace: prefix');
    if (options === null || typeof options !== 'object' || 'nexthops' in options) {
      throw new FastpathError('EINVAL', 'routes.replace: options: expected { via?, dev } (an ECMP route is replaced with delete and add)');
    }
    const port = this.ports.index(options.dev, 'routes.replace: dev');
    const via = gatewayArg(options.via, 'routes.replace: via');
    call(`routes.replace ${prefix}`, () => this.addon.routeReplace(p.address, p.length, via, port));
  }

  /**
   * Every route, as one array in the table's own order (no argument); or, with
   * options, one page in key order: see "Listing and lookup" in docs/api.md.
   */
  list(): RouteInfo[];
  list(options: RouteListOptions): RoutePage;
  list(options?: RouteListOptions): RouteInfo[] | RoutePage;
  list(options?: RouteListOptions): RouteInfo[] | RoutePage {
    if (options !== undefined) return this.page(options);
    return call('routes.list', () => this.addon.routeList()).map((r) => this.info(r));
  }

  /** How many routes the table holds, of every kind, up and down; O(1). */
  count(): number {
    return call('routes.count', () => this.addon.routeCount());
  }

  /**
   * Every route (inside `prefix` when given) in key order, fetched `pageSize`
   * (default 4096) at a time, so that no array of the whole table is built;
   * between pages the event loop runs. Pages resume after a key, as
   * list()'s cursors do. Bad options throw here, not at the first next().
   */
  iterate(options: RouteIterateOptions = {}): AsyncIterableIterator<RouteInfo> {
    const what = 'routes.iterate';
    optionFields(options, ['prefix', 'pageSize'], what);
    const within = options.prefix === undefined ? null : networkArg(options.prefix, `${what}: prefix`);
    const pageSize = options.pageSize === undefined ? DEFAULT_PAGE_SIZE : countArg(options.pageSize, `${what}: pageSize`);
    return this.pages(within, pageSize, what);
  }

  /**
   * The route forwarding would choose for `address`: the longest match among
   * the routes that are up (a down route is in no FIB copy, so its covering
   * route answers, as it would for a packet), or undefined for no route.
   */
  lookup(address: string): RouteInfo | undefined {
    const a = addressArg(address, 'routes.lookup: address');
    const r = call(`routes.lookup ${address}`, () => this.addon.routeLookup(a));
    return r === undefined ? undefined : this.info(r);
  }

  private page(options: RouteListOptions): RoutePage {
    const what = 'routes.list';
    optionFields(options, ['prefix', 'limit', 'cursor'], what);
    const within = options.prefix === undefined ? null : networkArg(options.prefix, `${what}: prefix`);
    const limit = options.limit === undefined ? Infinity : countArg(options.limit, `${what}: limit`);
    const after = options.cursor === undefined ? null : decodeCursor(options.cursor, `${what}: cursor`);
    const { routes, more } = this.nativePage(after, within, limit, what);
    const page: RoutePage = { routes: routes.map((r) => this.info(r)) };
    if (more) page.nextCursor = encodeCursor(routes[routes.length - 1]);
    return page;
  }

  private async *pages(within: Prefix | null, pageSize: number, what: string): AsyncIterableIterator<RouteInfo> {
    let after: Prefix | null = null;
    for (;;) {
      const { routes, more } = this.nativePage(after, within, pageSize, what);
      for (const r of routes) yield this.info(r);
      if (!more) return;
      const last = routes[routes.length - 1];
      after = { address: last.prefix, length: last.length };
      // A consumer awaiting only this iterator runs on microtasks: without a
      // macrotask turn here it would hold timers and I/O for the whole table.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private nativePage(after: Prefix | null, within: Prefix | null, max: number, what: string): { routes: NativeRoute[]; more: boolean } {
    return call(what, () =>
      this.addon.routePage(after?.address ?? null, after?.length ?? 0, within?.address ?? null, within?.length ?? 0, Math.min(max, MAX_NATIVE_PAGE)),
    );
  }

  /** A native route as every listing shows it. */
  private info(r: NativeRoute): RouteInfo {
    return {
      prefix: formatPrefix({ address: r.prefix, length: r.length }),
      ...(r.via ? { via: formatIPv6(r.via) } : {}),
      dev: this.ports.name(r.portIndex),
      kind: r.kind,
      ...(r.protocol !== undefined ? { protocol: routeProtocolName(r.protocol) } : {}),
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
    };
  }
}

/** Refuse an options value that is not an object, or has a field not in `known`. */
function optionFields(options: unknown, known: readonly string[], what: string): void {
  if (options === null || typeof options !== 'object') {
    throw new FastpathError('EINVAL', `${what}: options: expected { ${known.join(', ')} } (each optional), got ${describeValue(options)}`);
  }
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) throw new FastpathError('EINVAL', `${what}: options.${k}: unknown field (have ${known.join(', ')})`);
  }
}

/** A prefix argument with no host bits set. */
function networkArg(value: unknown, what: string): Prefix {
  if (typeof value !== 'string') throw new FastpathError('EINVAL', `${what}: expected a prefix string, got ${describeValue(value)}`);
  let p: Prefix;
  try {
    p = parsePrefix(value);
  } catch (e) {
    throw new FastpathError('EINVAL', `${what}: ${(e as Error).message}`);
  }
  const net = prefixNetwork(p);
  if (!addressEqual(net.address, p.address)) {
    throw new FastpathError('EINVAL', `${what}: ${describeValue(value)} has host bits set (did you mean ${formatPrefix(net)}?)`);
  }
  return net;
}

/** A count argument: an integer >= 1. */
function countArg(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new FastpathError('EINVAL', `${what}: expected an integer >= 1, got ${describeValue(value)}`);
  }
  return value;
}

/*
 * A cursor is the key of the last route of a page (16 prefix bytes and the
 * length, base64url): the next page starts after that key, wherever the
 * table has moved since. Opaque to callers so that its form may change.
 */
const CURSOR_TEXT = /^[A-Za-z0-9_-]{23}$/;

function encodeCursor(r: NativeRoute): string {
  const b = Buffer.alloc(17);
  b.set(r.prefix, 0);
  b[16] = r.length;
  return b.toString('base64url');
}

function decodeCursor(value: unknown, what: string): Prefix {
  const bad = (): never => {
    throw new FastpathError('EINVAL', `${what}: expected a nextCursor returned by routes.list, got ${describeValue(value)}`);
  };
  if (typeof value !== 'string' || !CURSOR_TEXT.test(value)) return bad();
  const b = Buffer.from(value, 'base64url');
  if (b.length !== 17 || b[16] > 128 || b.toString('base64url') !== value) return bad();
  const p = { address: new Uint8Array(b.subarray(0, 16)), length: b[16] };
  if (!addressEqual(prefixNetwork(p).address, p.address)) return bad();
  return p;
}

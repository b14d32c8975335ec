// Listings that scale (issue 16): routes.count/list pages/iterate/lookup over
// a 20,000-route table on a router with two net_null ports, checked against
// plain TS over the full list(); neighbours and flow cache count/iterate.
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { FastpathError, Router } from '../../lib';
import { formatIPv6, formatPrefix, parsePrefix, prefixNetwork } from '../../lib/addr';
import { ip6Frame, writePcap } from '../../lib/pcap';
import type { RouteInfo, RoutePage } from '../../lib/routes';
import { prefixMatcher } from '../helpers/lpm';
import { rng } from '../helpers/rng';
import { scratchDir, TEST_EAL, waitFor } from '../helpers/router-env';

const VIA = { via: 'fe80::2', dev: 'eth1' };
const ROUTES = 20000;

function randomBytes(next: () => number): Uint8Array {
  const b = new Uint8Array(16);
  for (let k = 0; k < 16; k += 4) new DataView(b.buffer).setUint32(k, next());
  return b;
}

/** Overwrite b's first keep.length bits with keep's: b becomes an address inside keep. */
function keepPrefix(b: Uint8Array, keep: { address: Uint8Array; length: number }): Uint8Array {
  const mask = prefixNetwork({ address: new Uint8Array(16).fill(0xff), length: keep.length }).address;
  for (let i = 0; i < 16; i++) b[i] = (keep.address[i] & mask[i]) | (b[i] & ~mask[i]);
  return b;
}

const LENGTHS = [16, 20, 24, 28, 29, 32, 32, 36, 40, 44, 48, 48, 48, 48, 48, 56, 60, 64, 64, 112];

/**
 * n distinct prefixes under 3000::/8 of mixed lengths, half of them nested
 * inside an earlier one (so that "longest" matters). The bits below /24 come
 * from a small alphabet to keep the tbl8 groups they take within the pool.
 */
function table(n: number, seed: number): string[] {
  const next = rng(seed);
  const seen = new Set<string>();
  const out: { address: Uint8Array; length: number }[] = [];
  while (out.length < n) {
    const length = LENGTHS[next() % LENGTHS.length];
    const parent = out.length > 0 && next() % 2 === 0 ? out[next() % out.length] : undefined;
    const b = randomBytes(next);
    b[0] = 0x30;
    b[2] &= 0x0f;
    for (let i = 3; i < 16; i++) b[i] &= 0x81;
    if (parent && parent.length < length) keepPrefix(b, parent);
    const p = prefixNetwork({ address: b, length });
    const key = formatPrefix(p);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out.map(formatPrefix);
}

/** Key order of the listing: prefix bytes, then length. */
function keyCompare(a: string, b: string): number {
  const pa = parsePrefix(a);
  const pb = parsePrefix(b);
  for (let i = 0; i < 16; i++) if (pa.address[i] !== pb.address[i]) return pa.address[i] - pb.address[i];
  return pa.length - pb.length;
}

function inside(prefix: string, within: string): boolean {
  const p = parsePrefix(prefix);
  const w = parsePrefix(within);
  return p.length >= w.length && formatIPv6(prefixNetwork({ address: p.address, length: w.length }).address) === formatIPv6(w.address);
}

const prefixes = (routes: readonly RouteInfo[]): string[] => routes.map((r) => r.prefix);

/** Every page of list({ prefix, limit }), checking each page's size and cursor. */
function pageAll(router: Router, limit: number, prefix?: string): string[] {
  const all: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page: RoutePage = router.routes.list({ limit, ...(prefix ? { prefix } : {}), ...(cursor ? { cursor } : {}) });
    expect(page.routes.length).to.be.at.most(limit);
    all.push(...prefixes(page.routes));
    if (page.nextCursor === undefined) return all;
    expect(page.routes).to.have.length(limit);
    cursor = page.nextCursor;
  }
}

/** A random address: inside a random route (random host bits) three times in four, else anywhere in 3000::/12. */
function randomAddress(next: () => number, routes: readonly RouteInfo[]): string {
  if (next() % 4 === 0) {
    const b = randomBytes(next);
    b[0] = 0x30;
    b[1] &= 0x0f;
    return formatIPv6(b);
  }
  return formatIPv6(keepPrefix(randomBytes(next), parsePrefix(routes[next() % routes.length].prefix)));
}

function expectEinval(fn: () => unknown, ...parts: string[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected EINVAL naming ${parts.join(', ')}`).to.be.instanceOf(FastpathError);
  expect((err as FastpathError).code).to.equal('EINVAL');
  for (const p of parts) expect((err as FastpathError).message).to.contain(p);
}

describe('route listing and lookup at scale (net_null vdevs)', function () {
  this.timeout(600000);
  let router: Router;
  let base: number;

  before(async () => {
    router = await Router.start({
      eal: TEST_EAL,
      ports: [
        { name: 'eth0', device: 'net_null0', addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
        { name: 'eth1', device: 'net_null1', addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
      ],
      neighbours: [{ address: 'fe80::2', mac: '02:00:00:00:00:bb', dev: 'eth1' }],
      routing: { maxRoutes: 32768, tbl8Groups: 65536 },
    });
    base = router.routes.count();
    // Mostly via the neighbour; every 97th on-link on eth0 (to go down with
    // it below), every 1009th ECMP (next hops travel through pages too).
    table(ROUTES, 16).forEach((p, i) => {
      if (i % 1009 === 0) router.routes.add(p, { nexthops: [VIA, { dev: 'eth0', weight: 2 }] });
      else if (i % 97 === 0) router.routes.add(p, { dev: 'eth0' });
      else router.routes.add(p, VIA);
    });
  });

  after(async () => {
    if (router) await router.stop();
  });

  it('count() is every route of every kind, as list() and stats() say', () => {
    expect(base).to.be.greaterThan(0);
    expect(router.routes.count()).to.equal(base + ROUTES);
    expect(router.routes.count()).to.equal(router.routes.list().length);
    expect(router.routes.count()).to.equal(router.stats().fib.routes);
  });

  it('pages of list({ limit }) concatenate to the whole table in key order', () => {
    const full = prefixes(router.routes.list()).sort(keyCompare);
    expect(new Set(full).size).to.equal(full.length);
    for (const limit of [1, 997, 4096, full.length, full.length + 1]) {
      if (limit === 1) {
        // 20k pages of one: just the first few, and the cursor's hand-off.
        const a = router.routes.list({ limit: 1 });
        const b = router.routes.list({ limit: 1, cursor: a.nextCursor });
        expect([...prefixes(a.routes), ...prefixes(b.routes)]).to.deep.equal(full.slice(0, 2));
        continue;
      }
      expect(pageAll(router, limit), `limit ${limit}`).to.deep.equal(full);
    }
    const whole = router.routes.list({});
    expect(prefixes(whole.routes)).to.deep.equal(full);
    expect(whole).to.not.have.property('nextCursor');
    // The same shape as list(): each page's entries are list()'s entries.
    const byPrefix = new Map(router.routes.list().map((r) => [r.prefix, r]));
    for (const r of router.routes.list({ limit: 3000 }).routes) expect(r).to.deep.equal(byPrefix.get(r.prefix));
    const ecmp = whole.routes.filter((r) => r.nexthops);
    expect(ecmp.length).to.be.greaterThan(10);
    expect(ecmp[0].nexthops).to.have.length(2);
  });

  it('list({ prefix }) holds exactly the routes inside the prefix, paged or not', () => {
    const full = prefixes(router.routes.list()).sort(keyCompare);
    const nested = full.filter((p) => parsePrefix(p).length === 32).slice(0, 3);
    for (const within of ['::/0', '3000::/8', '3000::/16', '3000::/20', '2001:db8:1::/64', '4000::/8', '2001:db8:1::1/128', ...nested]) {
      const expected = full.filter((p) => inside(p, within));
      const page = router.routes.list({ prefix: within });
      expect(prefixes(page.routes), within).to.deep.equal(expected);
      expect(page.nextCursor).to.equal(undefined);
      expect(pageAll(router, 50, within), `${within} in pages of 50`).to.deep.equal(expected);
    }
    expect(router.routes.list({ prefix: '3000::/8' }).routes).to.have.length(ROUTES);
  });

  it('iterate() yields every route once, page by page', async () => {
    const full = prefixes(router.routes.list()).sort(keyCompare);
    const t0 = process.hrtime.bigint();
    const seen: string[] = [];
    for await (const r of router.routes.iterate()) seen.push(r.prefix);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(`      iterate(): ${seen.length} routes in ${ms.toFixed(1)} ms at pageSize 4096`);
    expect(seen).to.deep.equal(full);
    const some: string[] = [];
    for await (const r of router.routes.iterate({ prefix: '3000::/20', pageSize: 100 })) some.push(r.prefix);
    expect(some).to.deep.equal(full.filter((p) => inside(p, '3000::/20')));
  });

  it('a cursor is a key: changes between pages neither repeat nor skip the routes that stay', () => {
    const before = prefixes(router.routes.list()).sort(keyCompare);
    const first = router.routes.list({ limit: 5000 });
    const seen = prefixes(first.routes);
    const last = seen[seen.length - 1];
    // Deleted behind the cursor and ahead of it; added behind it and ahead.
    const goneBehind = seen[100];
    const goneAhead = before[before.indexOf(last) + 10];
    const newBehind = '3000::1/128';
    const newAhead = '30ff:ffff::/32';
    expect(keyCompare(newBehind, last)).to.be.lessThan(0);
    expect(keyCompare(newAhead, last)).to.be.greaterThan(0);
    router.routes.delete(goneBehind);
    router.routes.delete(goneAhead);
    router.routes.add(newBehind, VIA);
    router.routes.add(newAhead, VIA);
    try {
      let cursor = first.nextCursor;
      while (cursor !== undefined) {
        const page: RoutePage = router.routes.list({ limit: 5000, cursor });
        seen.push(...prefixes(page.routes));
        cursor = page.nextCursor;
      }
      expect(new Set(seen).size, 'no route twice').to.equal(seen.length);
      const stayed = before.filter((p) => p !== goneBehind && p !== goneAhead);
      const seenSet = new Set(seen);
      expect(stayed.filter((p) => !seenSet.has(p)), 'none skipped').to.deep.equal([]);
      expect(seen).to.include(newAhead);
      expect(seen).to.not.include(newBehind);
      expect(seen).to.not.include(goneAhead);
    } finally {
      router.routes.delete(newBehind);
      router.routes.delete(newAhead);
      router.routes.add(goneBehind, VIA);
      router.routes.add(goneAhead, VIA);
    }
  });

  it('lookup() is the longest match among up routes, as a reference LPM in TS says', () => {
    const check = (n: number, seed: number): number => {
      const routes = router.routes.list();
      const reference = prefixMatcher(routes.filter((r) => r.state === 'up'));
      const next = rng(seed);
      const addresses = Array.from({ length: n }, () => randomAddress(next, routes));
      addresses.push('2001:db8:1::77', '2001:db8:2::1');
      const t0 = process.hrtime.bigint();
      const got = addresses.map((a) => router.routes.lookup(a));
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      addresses.forEach((a, i) => expect(got[i], a).to.deep.equal(reference(a)));
      return addresses.length / s;
    };
    const rate = check(2000, 7);
    console.log(`      lookup(): ${Math.round(rate)} lookups/s`);
    expect(router.routes.lookup('4000::1')).to.equal(undefined);
    expect(router.routes.lookup('::')).to.equal(undefined);
    expect(router.routes.lookup('2001:db8:1::1')).to.include({ prefix: '2001:db8:1::1/128', kind: 'local' });

    // eth0 down: its on-link routes (and connected prefix) are listed as
    // down and never chosen; their covering up routes answer instead.
    router.interfaces.setDown('eth0');
    try {
      const down = router.routes.list().filter((r) => r.state === 'down');
      expect(down.length).to.be.greaterThan(ROUTES / 97 - 1);
      for (const r of down) expect(router.routes.lookup(parsePrefixAddress(r.prefix))?.state).to.not.equal('down');
      check(500, 8);
    } finally {
      router.interfaces.setUp('eth0');
    }
    expect(router.routes.list().filter((r) => r.state === 'down')).to.deep.equal([]);
  });

  it('neighbours count() and iterate() agree with list()', async () => {
    const list = router.neighbours.list();
    expect(router.neighbours.count()).to.equal(list.length).and.to.be.greaterThan(0);
    const seen = [];
    for await (const n of router.neighbours.iterate()) seen.push(n.address);
    expect(seen).to.deep.equal(list.map((n) => n.address));
  });

  it('bad arguments throw EINVAL naming the argument and value, and change nothing', () => {
    const count = router.routes.count();
    const generation = router.stats().generation;
    const bad = router.routes.list as (o: unknown) => unknown;
    const list = (o: unknown): unknown => bad.call(router.routes, o);
    expectEinval(() => list({ limit: 0 }), 'routes.list: limit', '0');
    expectEinval(() => list({ limit: 2.5 }), 'limit', '2.5');
    expectEinval(() => list({ limit: '10' }), 'limit', '"10"');
    expectEinval(() => list({ prefix: 'nope' }), 'routes.list: prefix', 'nope');
    expectEinval(() => list({ prefix: '3000::1/16' }), 'prefix', 'host bits', '3000::/16');
    expectEinval(() => list({ prefix: 3000 }), 'prefix', '3000');
    expectEinval(() => list({ cursor: 'abc' }), 'routes.list: cursor', '"abc"');
    const over = Buffer.alloc(17);
    over[16] = 129;
    expectEinval(() => list({ cursor: over.toString('base64url') }), 'cursor', over.toString('base64url'));
    expectEinval(() => list({ limit: 5, pagesize: 3 }), 'options.pagesize', 'unknown field');
    expectEinval(() => list(null), 'routes.list: options', 'null');
    const iterate = router.routes.iterate as (o: unknown) => unknown;
    expectEinval(() => iterate.call(router.routes, { pageSize: 0 }), 'routes.iterate: pageSize', '0');
    expectEinval(() => iterate.call(router.routes, { prefix: '3000::/200' }), 'routes.iterate: prefix', '3000::/200');
    const lookup = router.routes.lookup as (a: unknown) => unknown;
    expectEinval(() => lookup.call(router.routes, 'nope'), 'routes.lookup: address', 'nope');
    expectEinval(() => lookup.call(router.routes, '3000::/16'), 'routes.lookup: address', '3000::/16');
    expectEinval(() => lookup.call(router.routes, 42), 'routes.lookup: address', '42');
    expect(router.routes.count()).to.equal(count);
    expect(router.stats().generation).to.equal(generation);
  });
});

describe('flow cache count and iterate (net_pcap vdev)', function () {
  this.timeout(120000);
  let dir: string;
  beforeEach(() => (dir = scratchDir('route-query')));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('count() is the workers\' entries in use; iterate() yields list()\'s entries', async () => {
    const inFile = path.join(dir, 'in.pcap');
    const R0 = '02:00:00:00:00:01';
    writePcap(
      inFile,
      [1, 2, 3].map((label) =>
        ip6Frame({ dstMac: R0, srcMac: '02:00:00:00:00:aa', src: '2001:db8:1::2', dst: '2001:db8:99::1', flowLabel: label, payload: Buffer.alloc(18) }),
      ),
    );
    const router = await Router.start({
      eal: TEST_EAL,
      ports: [
        { name: 'eth0', device: `net_pcap0,rx_pcap=${inFile},infinite_rx=1`, mac: R0, addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
        { name: 'eth1', device: 'net_null1,no-rx=1', addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
      ],
      routes: [{ prefix: '2001:db8:99::/48', ...VIA }],
      neighbours: [{ address: 'fe80::2', mac: '02:00:00:00:00:bb', dev: 'eth1' }],
      flowCache: { maxflows: 1024, hashsize: 256 },
    });
    try {
      expect(await waitFor(() => router.flowCache.count() === 3)).to.equal(true);
      const list = await router.flowCache.list();
      expect(list).to.have.length(3);
      const seen = [];
      for await (const f of router.flowCache.iterate()) seen.push(f.flowLabel);
      expect(seen.sort()).to.deep.equal([1, 2, 3]);
      expect(router.flowCache.count()).to.equal(Number(router.stats().flowCache.inuse));
    } finally {
      await router.stop();
    }
  });
});

/** The network address of a prefix, as an address string. */
function parsePrefixAddress(prefix: string): string {
  return formatIPv6(parsePrefix(prefix).address);
}

// A full Internet-sized table: 250,000 synthetic prefixes with today's
// length mix (bench/fulltable.ts) loaded with routes.addMany,
// checked with count() and 10,000 lookups against a reference longest-prefix
// match, half deleted with deleteMany and checked again; batch errors that
// change nothing; and traffic to 1,000 stable prefixes forwarded without a
// single loss while the rest of the table loads and unloads under it.
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { FastpathError, Router, RouterConfig } from '../../lib';
import { formatIPv6 } from '../../lib/addr';
import { ip6Frame, writePcap } from '../../lib/pcap';
import { addressInside as inside, syntheticTable, TablePrefix } from '../../bench/fulltable';
import { prefixMatcher } from './lpm';
import { rng } from './rng';
import { scratchDir, sleep, TEST_EAL, waitFor } from './router-env';

const TABLE = 250000;
const VIA = 'fe80::2';
// A full table needs more than the tests' usual 512 MiB: 256 MiB of tbl8
// groups and 64 MiB of tbl24 per FIB copy, two copies.
const BIG: Pick<RouterConfig, 'routing'> & { memoryMb: number } = {
  routing: { maxRoutes: 262144, tbl8Groups: 262144 },
  memoryMb: 2048,
};

function ports(eth0: string): RouterConfig['ports'] {
  return [
    { name: 'eth0', device: eth0, mac: '02:00:00:00:00:01', addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
    { name: 'eth1', device: 'net_null1,no-rx=1', mac: '02:00:00:00:00:02', addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
  ];
}

/** 2000::/3: anywhere in global unicast. */
const ANYWHERE: TablePrefix = { prefix: '2000::/3', bytes: Uint8Array.from([0x20, ...new Array<number>(15).fill(0)]), length: 3 };

const asRoute = (p: TablePrefix): { prefix: string; via: string; dev: string } => ({ prefix: p.prefix, via: VIA, dev: 'eth1' });

describe('full table: 250,000 routes by addMany (net_null vdevs)', function () {
  this.timeout(300000);
  const table = syntheticTable(TABLE, 11);
  let router: Router;

  before(async () => {
    router = await Router.start({
      eal: { ...TEST_EAL, memoryMb: BIG.memoryMb },
      ports: ports('net_null0'),
      neighbours: [{ address: VIA, mac: '02:00:00:00:00:99', dev: 'eth1' }],
      routing: BIG.routing,
    });
  });
  after(async () => {
    if (router) await router.stop();
  });

  /** 10,000 addresses (three in four inside a table prefix) looked up against the reference. */
  function checkLookups(seed: number): void {
    const upRoutes = router.routes.list().filter((r) => r.state === 'up');
    const reference = prefixMatcher(upRoutes);
    const next = rng(seed);
    let mismatches = 0;
    const examples: string[] = [];
    for (let i = 0; i < 10000; i++) {
      const address = next() % 4 === 3 ? inside(ANYWHERE, next) : inside(table[next() % table.length], next);
      const got = router.routes.lookup(address)?.prefix;
      const want = reference(address)?.prefix;
      if (got !== want) {
        mismatches++;
        if (examples.length < 3) examples.push(`${address}: got ${got}, reference ${want}`);
      }
    }
    expect(mismatches, examples.join('; ')).to.equal(0);
  }

  it('loads in one batch; count() and 10,000 lookups match a reference longest-prefix match', async () => {
    const before = router.routes.count();
    const t0 = process.hrtime.bigint();
    await router.routes.addMany(table.map(asRoute));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    expect(router.routes.count()).to.equal(before + TABLE);
    const fib = router.stats().fib;
    expect(fib.routes).to.equal(before + TABLE);
    expect(fib.rebuilds, 'no rebuild on a clean load').to.equal(0n);
    checkLookups(1);
    console.log(`      (addMany ${TABLE} routes: ${seconds.toFixed(2)} s, ${Math.round(TABLE / seconds)} routes/s; tbl8 groups in use ${fib.tbl8InUse})`);
  });

  it('a refused batch changes nothing and names its entry', async () => {
    const count = router.routes.count();
    const generation = router.stats().generation;
    const fresh = syntheticTable(10, 999).filter((p) => !table.some((t) => t.prefix === p.prefix)).map(asRoute);
    // [attempt, code, index of the refused entry (undefined: refused in TS, by its message), message]
    const attempts: [() => Promise<void>, string, number | undefined, RegExp][] = [
      [() => router.routes.addMany([...fresh, asRoute(table[5])]), 'EEXIST', fresh.length, /routes\[\d+\]/],
      [() => router.routes.addMany([fresh[0], fresh[1], fresh[0]]), 'EEXIST', 2, /routes\[2\]/],
      [() => router.routes.addMany([fresh[0], { prefix: '2001:db8::1/32', dev: 'eth1' }]), 'EINVAL', undefined, /routes\[1\].*host bits/],
      [() => router.routes.addMany([fresh[0], { prefix: '2001:db9::/32', dev: 'eth9' }]), 'ENOENT', undefined, /routes\[1\]\.dev/],
      [() => router.routes.deleteMany([table[0].prefix, fresh[0].prefix]), 'ENOENT', 1, /prefixes\[1\]/],
      [() => router.routes.deleteMany([table[0].prefix, table[0].prefix]), 'EINVAL', 1, /twice/],
      [() => router.routes.deleteMany([table[0].prefix, '2001:db8:1::/64']), 'EPERM', 1, /interface address/],
    ];
    for (const [attempt, code, index, message] of attempts) {
      const e = await attempt().then(
        () => expect.fail(`should have been refused (${code})`),
        (err: FastpathError & { index?: number }) => err,
      );
      expect(e).to.be.instanceOf(FastpathError);
      expect(e.code, e.message).to.equal(code);
      expect(e.message).to.match(message);
      if (index !== undefined) expect(e.index, e.message).to.equal(index);
      expect(router.routes.count()).to.equal(count);
    }
    // Over routing.maxRoutes: the whole batch refused, the field named.
    const room = BIG.routing!.maxRoutes! - count;
    const tooMany = syntheticTable(room + 1, 4242).filter((p) => router.routes.lookup(formatIPv6(p.bytes))?.prefix !== p.prefix).slice(0, room + 1);
    if (tooMany.length === room + 1) {
      const e = await router.routes.addMany(tooMany.map(asRoute)).then(
        () => expect.fail('over maxRoutes'),
        (err: FastpathError) => err,
      );
      expect(e.code).to.equal('ENOSPC');
      expect(e.message).to.match(/routing\.maxRoutes/);
      expect(router.routes.count()).to.equal(count);
    }
    expect(router.stats().generation).to.equal(generation);
  });

  it('replace points a route at another next hop in one change', async () => {
    const p = table[17];
    router.routes.replace(p.prefix, { dev: 'eth0' });
    expect(router.routes.lookup(inside(p, rng(5)))).to.deep.include({ prefix: p.prefix, dev: 'eth0', state: 'up' });
    router.routes.replace(p.prefix, { via: VIA, dev: 'eth1' });
    expect(router.routes.lookup(inside(p, rng(6)))).to.deep.include({ prefix: p.prefix, via: VIA, dev: 'eth1' });
    expect(() => router.routes.replace('2001:db8:1::/64', { dev: 'eth1' })).to.throw(FastpathError).with.property('code', 'EPERM');
    expect(() => router.routes.replace('3fff:1::/32', { dev: 'eth1' })).to.throw(FastpathError).with.property('code', 'ENOENT');
  });

  it('deleteMany of half the table; count() and lookups still match', async () => {
    const before = router.routes.count();
    const half = table.filter((_, i) => i % 2 === 0).map((p) => p.prefix);
    await router.routes.deleteMany(half);
    expect(router.routes.count()).to.equal(before - half.length);
    checkLookups(2);
    await router.routes.deleteMany(table.filter((_, i) => i % 2 === 1).map((p) => p.prefix));
    expect(router.routes.count()).to.equal(before - TABLE);
  });
});

describe('full table: traffic to 1,000 prefixes while 249,000 more load and unload (net_pcap)', function () {
  this.timeout(300000);
  let dir: string;
  before(() => (dir = scratchDir('full-table')));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loses no packet whose route was there before and after', async () => {
    const table = syntheticTable(TABLE, 12);
    const stable = table.slice(0, 1000);
    const rest = table.slice(1000);
    const r = rng(3);
    const frames = stable.map((p) =>
      ip6Frame({ dstMac: '02:00:00:00:00:01', srcMac: '02:00:00:00:00:aa', src: '2001:db8:1::2', dst: inside(p, r), flowLabel: 0, payload: Buffer.alloc(18) }),
    );
    const inFile = path.join(dir, 'in.pcap');
    writePcap(inFile, frames);
    const router = await Router.start({
      eal: { ...TEST_EAL, memoryMb: BIG.memoryMb },
      ports: ports(`net_pcap0,rx_pcap=${inFile},infinite_rx=1`),
      neighbours: [{ address: VIA, mac: '02:00:00:00:00:99', dev: 'eth1' }],
      routes: stable.map(asRoute),
      routing: BIG.routing,
      flowCache: { maxflows: 4096, hashsize: 4096 },
    });
    try {
      expect(await waitFor(() => router.stats().totals.forwarded > 100000n, 20000), 'traffic flows').to.equal(true);
      const s0 = router.stats();
      await router.routes.addMany(rest.map(asRoute));
      await sleep(200);
      await router.routes.deleteMany(rest.map((p) => p.prefix));
      await sleep(200);
      const s1 = router.stats();
      const rx = s1.totals.rx_packets - s0.totals.rx_packets;
      const forwarded = s1.totals.forwarded - s0.totals.forwarded;
      const dropped = s1.totals.dropped - s0.totals.dropped;
      const noRoute = s1.drops.no_route - s0.drops.no_route;
      expect(rx > 1000000n, `packets during the load: ${rx}`).to.equal(true);
      expect(noRoute, 'no_route drops').to.equal(0n);
      const reasons = Object.entries(s1.drops).filter(([k, v]) => v !== s0.drops[k as keyof typeof s0.drops]).map(([k, v]) => `${k} ${v - s0.drops[k as keyof typeof s0.drops]}`);
      expect(dropped, `drops of any kind: ${reasons.join(', ')}`).to.equal(0n);
      // Every packet received in the window was forwarded (to within the
      // few in flight at each snapshot: the window's edges).
      expect(Number(rx - forwarded)).to.be.within(-64, 64);
    } finally {
      await router.stop();
    }
  });
});

// Route churn against a running router (issue: the FIB stopped taking routes
// after 5,444 changes). The C test (test/unit/fib.test.ts) covers the layer
// alone with a concurrent reader; these go through the API and, in the last
// one, under forwarding traffic from a pcap vdev.
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { FastpathError, Router } from '../../lib';
import { formatPrefix, prefixNetwork } from '../../lib/addr';
import type { RoutingConfig } from '../../lib/config-types';
import { ip6Frame, writePcap } from '../../lib/pcap';
import { rng } from '../helpers/rng';
import { scratchDir, sleep, TEST_EAL, waitFor } from '../helpers/router-env';

const R0 = '02:00:00:00:00:01';
const H1 = '02:00:00:00:00:aa';
const H2 = '02:00:00:00:00:bb';
const VIA = { via: 'fe80::2', dev: 'eth1' };

/** Rotating distinct prefixes of every length /16../128 under 3000::/4. */
function rotatingPrefix(next: () => number, i: number): string {
  const b = new Uint8Array(16);
  for (let k = 0; k < 16; k += 4) new DataView(b.buffer).setUint32(k, next());
  b[0] = 0x30 | (b[0] & 0x0f);
  return formatPrefix(prefixNetwork({ address: b, length: 16 + (i % 113) }));
}

/** Two net_null ports (as the reproduction) and one neighbour behind eth1. */
function nullRouter(routing: RoutingConfig): Promise<Router> {
  return Router.start({
    eal: TEST_EAL,
    ports: [
      { name: 'eth0', device: 'net_null0', addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
      { name: 'eth1', device: 'net_null1', addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
    ],
    neighbours: [{ address: 'fe80::2', mac: H2, dev: 'eth1' }],
    routing,
  });
}

describe('route churn (net_null and net_pcap vdevs)', function () {
  this.timeout(600000);

  it('1,000,000 add/delete cycles of one /48 and of rotating /16../128 prefixes, then the configured size still fits', async () => {
    const router = await nullRouter({ maxRoutes: 4096, tbl8Groups: 16384 });
    try {
      const base = router.stats().fib;
      const cycles = 1_000_000;
      for (let i = 0; i < cycles; i++) {
        router.routes.add('2001:db8:100::/48', VIA);
        router.routes.delete('2001:db8:100::/48');
      }
      let fib = router.stats().fib;
      expect(fib.routes).to.equal(base.routes);
      expect(fib.tbl8InUse).to.equal(base.tbl8InUse);

      const next = rng(17);
      for (let i = 0; i < cycles; i++) {
        const p = rotatingPrefix(next, i);
        router.routes.add(p, VIA);
        router.routes.delete(p);
      }
      fib = router.stats().fib;
      expect(fib.routes).to.equal(base.routes);
      expect(fib.tbl8InUse, 'tbl8 groups in use back at the baseline').to.equal(base.tbl8InUse);
      expect(router.stats().control.route_changes).to.equal(BigInt(4 * cycles));

      // Now the whole configured size: distinct /48s (3 groups each).
      const room = fib.maxRoutes - fib.routes;
      for (let i = 0; i < room; i++) router.routes.add(`2001:db8:${(0x1000 + i).toString(16)}::/48`, VIA);
      expect(router.routes.list()).to.have.length(fib.maxRoutes);
      let err: unknown;
      try {
        router.routes.add('2001:db9::/48', VIA);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(FastpathError);
      expect((err as FastpathError).code).to.equal('ENOSPC');
      expect((err as FastpathError).message).to.contain('routing.maxRoutes');
    } finally {
      await router.stop();
    }
  });

  it('a full tbl8 pool says so and names routing.tbl8Groups; churn on the room left goes on', async () => {
    const router = await nullRouter({ maxRoutes: 1024, tbl8Groups: 256 });
    try {
      // /128s in distinct /24s reserve 13 groups each.
      let added = 0;
      let err: unknown;
      for (let i = 0; i < 64; i++) {
        try {
          router.routes.add(`2001:${(i << 8).toString(16)}::1/128`, VIA);
          added++;
        } catch (e) {
          err = e;
          break;
        }
      }
      expect(added).to.be.greaterThan(0);
      expect(err).to.be.instanceOf(FastpathError);
      expect((err as FastpathError).code).to.equal('ENOSPC');
      expect((err as FastpathError).message).to.contain('routing.tbl8Groups');
      const fib = router.stats().fib;
      expect(fib.tbl8InUse).to.be.at.most(fib.tbl8Groups);
      router.routes.delete('2001::1/128');
      for (let i = 0; i < 20000; i++) {
        router.routes.add('2001:7700::1/128', VIA);
        router.routes.delete('2001:7700::1/128');
      }
      expect(router.stats().fib.tbl8InUse, 'the deleted /128 gave back its 13 groups').to.equal(fib.tbl8InUse - 13);
    } finally {
      await router.stop();
    }
  });

  describe('under forwarding traffic', () => {
    let dir: string;
    beforeEach(() => (dir = scratchDir('churn')));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('100,000 churn cycles lose no packet to a route that exists before and after', async () => {
      // Traffic to three destinations whose routes stay (a /48 and a /64 via
      // the neighbour, and the connected /64), replayed forever; the churn
      // adds and deletes prefixes around them, including more specific ones
      // inside the traffic's /48 with the same next hop.
      const inFile = path.join(dir, 'in.pcap');
      const dsts = ['2001:db8:99::42', '2001:db8:98:1::7', '2001:db8:2::2'];
      writePcap(
        inFile,
        dsts.map((dst, i) =>
          ip6Frame({ dstMac: R0, srcMac: H1, src: '2001:db8:1::2', dst, flowLabel: i + 1, payload: Buffer.alloc(18, i) }),
        ),
      );
      const router = await Router.start({
        eal: TEST_EAL,
        ports: [
          { name: 'eth0', device: `net_pcap0,rx_pcap=${inFile},infinite_rx=1`, mac: R0, addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
          { name: 'eth1', device: 'net_null1,no-rx=1', addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
        ],
        routes: [
          { prefix: '2001:db8:99::/48', ...VIA },
          { prefix: '2001:db8:98:1::/64', ...VIA },
        ],
        neighbours: [
          { address: 'fe80::2', mac: H2, dev: 'eth1' },
          { address: '2001:db8:2::2', mac: H2, dev: 'eth1' },
        ],
        flowCache: { maxflows: 1024, hashsize: 256 },
      });
      try {
        expect(await waitFor(() => router.stats().totals.forwarded > 10000n)).to.equal(true);
        const before = router.stats();
        const next = rng(5);
        const t0 = process.hrtime.bigint();
        const churn = ['2001:db8:99::/56', '2001:db8:99:0:1::/80', '2001:db8:98::/48', '2001:db8::/32'];
        for (let i = 0; i < 100_000; i++) {
          const p = i % 5 === 4 ? rotatingPrefix(next, i) : churn[i % 5];
          router.routes.add(p, VIA);
          router.routes.delete(p);
        }
        const us = Number(process.hrtime.bigint() - t0) / 1e3 / 100_000;
        await sleep(20);
        const after = router.stats();
        console.log(`      churn under traffic: ${us.toFixed(1)} us per add+delete cycle, ${after.totals.forwarded - before.totals.forwarded} packets forwarded meanwhile`);
        const t = after.totals;
        const forwarded = t.forwarded - before.totals.forwarded;
        expect(forwarded > 100000n, `forwarded ${forwarded} during the churn`).to.equal(true);
        expect(after.drops.no_route, 'packets dropped for want of a route').to.equal(0n);
        expect(t.dropped, `drops: ${JSON.stringify(after.drops, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`).to.equal(0n);
        // The snapshot is taken while packets flow: the worker may hold at
        // most one received vector (32 per rx queue) not yet counted out.
        const inFlight = t.rx_packets - (t.forwarded + t.dropped + t.punted);
        expect(inFlight >= 0n && inFlight <= 32n, `rx - (forwarded + dropped + punted) = ${inFlight}`).to.equal(true);
        expect(after.fib.rebuilds).to.equal(0n);
      } finally {
        await router.stop();
      }
    });
  });
});

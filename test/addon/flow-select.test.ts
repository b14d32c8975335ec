// flowCache.mode auto (native/core/flowselect.h) through a real PMD: the
// worker measures its cycles per packet with the cache and with the FIB
// alone and keeps the cheaper. The rig makes one of them clearly cheaper so
// that the choice is known: 2048 flows replayed forever (net_pcap
// infinite_rx) through a 64-entry cache with flood admission off, so that
// every packet misses, reaps and inserts — the cache costs more than the
// FIB's lookup of one /64 on any CPU. With mode cache (the default) nothing
// is measured and every packet still goes through the cache.
import { expect } from 'chai';
import * as fs from 'fs';

import { FastpathError, Router } from '../../lib';
import { formatStats } from '../../lib/cli/statsview';
import { startFloodRouter, writeFloodPcap } from '../helpers/flow-flood';
import { scratchDir, sleep, waitFor } from '../helpers/router-env';

const ENTRIES = 64;

describe('flowCache.mode auto: cache or FIB alone by measurement (net_pcap infinite_rx, 2048 flows, 64 entries)', function () {
  this.timeout(60_000);
  let dir: string;
  let pcap: string;

  before(() => {
    dir = scratchDir('flowselect');
    pcap = writeFloodPcap(dir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function start(mode: 'cache' | 'auto'): Promise<Router> {
    return startFloodRouter(pcap, `select-${mode}`, { maxflows: ENTRIES, hashsize: 128, floodAdmission: false, mode });
  }

  /** Mode cache, once the flood thrashes the table; stopped after fn. */
  async function withThrashingCache(fn: (router: Router) => Promise<void>): Promise<void> {
    const router = await start('cache');
    try {
      expect(await waitFor(() => router.stats().flowCache.reaps > 10_000n, 10_000), 'reaps').to.equal(true);
      await fn(router);
    } finally {
      await router.stop();
    }
  }

  it('auto: measures both, takes the FIB alone when the cache thrashes, and counts every packet', async () => {
    const router = await start('auto');
    try {
      const switched = await waitFor(() => router.stats().flowCache.directWorkers === 1, 15_000);
      const s0 = router.stats();
      const t = s0.totals;
      expect(switched, `direct workers ${s0.flowCache.directWorkers}, probes ${t.flow_select_probes}, abandoned ${t.flow_select_abandoned}, ` +
        `cache ${t.flow_select_cache_cycles} / FIB ${t.flow_select_direct_cycles} cycles/pkt`).to.equal(true);
      expect(Number(t.flow_select_switches)).to.be.at.least(1);
      expect(Number(t.flow_select_probes)).to.be.at.least(2);
      expect(t.flow_select_direct).to.equal(1n);
      // What it measured says why: the thrashing cache costs more per packet.
      expect(Number(t.flow_select_cache_cycles)).to.be.greaterThan(Number(t.flow_select_direct_cycles));
      expect(Number(t.flow_select_direct_cycles)).to.be.greaterThan(0);

      await sleep(500);
      const s1 = router.stats();
      const d = (f: (s: typeof s0) => bigint): number => Number(f(s1) - f(s0));
      const rx = d((s) => s.totals.rx_packets);
      expect(rx, 'received').to.be.greaterThan(0);
      // Between probes every packet takes the FIB alone; a probe of the
      // cache (a warm-up and a window, a few ms a second) the rest.
      expect(d((s) => s.flowCache.direct)).to.be.greaterThan(rx * 0.8);
      // (Counters are read while the worker runs: a vector may be counted
      // as received and not yet looked up, one burst at each end.)
      const burst2 = 2 * 32;
      expect(d((s) => s.flowCache.direct) + d((s) => s.flowCache.hits) + d((s) => s.flowCache.misses)).to.be.closeTo(rx, burst2);
      expect(d((s) => s.totals.fib_lookups)).to.be.closeTo(d((s) => s.flowCache.direct) + d((s) => s.flowCache.misses), burst2);
      expect(s1.totals.dropped).to.equal(0n);
      expect(formatStats(s1)).to.match(/direct \d+ \(FIB alone on 1 of 1 workers\)/);
      // The cache is left as it was: never more than its entries.
      expect((await router.flowCache.list()).length).to.be.at.most(ENTRIES);
    } finally {
      await router.stop();
    }
  });

  it('changes mode on a running router (flowCache.configure), the table kept; a bad mode changes nothing', async () => {
    await withThrashingCache(async (router) => {
      const before = router.stats().flowCache;
      expect(before.inuse).to.equal(BigInt(ENTRIES)); // full: the flood thrashes it
      await router.flowCache.configure({ mode: 'auto' });
      expect(router.flowCache.config).to.deep.equal({ maxflows: ENTRIES, hashsize: 128, mode: 'auto' });
      // Not a resize: a replaced table would have invalidated its 64 entries.
      expect(Number(router.stats().flowCache.invalidations - before.invalidations)).to.be.lessThan(ENTRIES);
      expect(await waitFor(() => router.stats().flowCache.directWorkers === 1, 15_000), 'auto took the FIB alone').to.equal(true);

      await router.flowCache.configure({ mode: 'cache' });
      // The worker answered the command: the cache is back in force already.
      const a = router.stats();
      expect(a.flowCache.directWorkers).to.equal(0);
      await sleep(300);
      const b = router.stats();
      expect(Number(b.flowCache.direct - a.flowCache.direct)).to.be.at.most(64); // a vector in flight at the read
      expect(b.flowCache.hits + b.flowCache.misses > a.flowCache.hits + a.flowCache.misses).to.equal(true);

      for (const bad of ['fast', 1, null] as unknown[]) {
        let err: unknown;
        try {
          await router.flowCache.configure({ mode: bad as 'auto' });
        } catch (e) {
          err = e;
        }
        expect(err).to.be.instanceOf(FastpathError);
        expect((err as FastpathError).code).to.equal('EINVAL');
        expect((err as Error).message).to.match(/mode: expected 'cache' or 'auto'/);
      }
      expect(router.flowCache.config.mode).to.equal('cache');
    });
  });

  it('cache (the default): nothing is measured, every packet looks up the cache', async () => {
    await withThrashingCache(async (router) => {
      await sleep(1_500); // past the first probe auto would take
      const s = router.stats();
      expect(s.flowCache.direct).to.equal(0n);
      expect(s.flowCache.directWorkers).to.equal(0);
      expect(s.totals.flow_select_probes).to.equal(0n);
      expect(s.totals.flow_select_abandoned).to.equal(0n);
      expect(s.totals.flow_select_cache_cycles).to.equal(0n);
      expect(formatStats(s)).not.to.contain('direct');
    });
  });
});

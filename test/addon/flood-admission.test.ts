// Admission under a flow flood (core/flowcache.h, struct fp_flow_admit),
// through a real PMD: 2048 flows replayed forever (net_pcap infinite_rx)
// through a 64-entry flow cache. With floodAdmission (the default) the worker
// narrows the share of flows that get entries, so some are hit and the rest
// go the slow path without an insert; with it off, every miss reaps, as in
// NetBSD's ip6_flow.c.
import { expect } from 'chai';
import * as fs from 'fs';

import { Router } from '../../lib';
import { formatStats } from '../../lib/cli/statsview';
import { startFloodRouter, writeFloodPcap } from '../helpers/flow-flood';
import { scratchDir, sleep, waitFor } from '../helpers/router-env';

const ENTRIES = 64;

describe('flow cache admission under a flood (net_pcap infinite_rx, 2048 flows, 64 entries)', function () {
  this.timeout(60_000);
  let dir: string;
  let pcap: string;

  before(() => {
    dir = scratchDir('flood');
    pcap = writeFloodPcap(dir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function start(floodAdmission: boolean): Promise<Router> {
    return startFloodRouter(pcap, `flood-${floodAdmission}`, { maxflows: ENTRIES, hashsize: 128, floodAdmission });
  }

  it('narrows the share: flows outside it are forwarded without an entry, those inside are hit', async () => {
    const router = await start(true);
    try {
      const narrowed = await waitFor(() => router.stats().flowCache.admitShift >= 3, 10_000);
      expect(narrowed, `admitShift ${router.stats().flowCache.admitShift}`).to.equal(true);
      const a = router.stats();
      await sleep(500);
      const b = router.stats();
      const d = (f: (s: typeof a) => bigint): number => Number(f(b) - f(a));
      const lookups = d((s) => s.flowCache.hits) + d((s) => s.flowCache.misses);
      expect(d((s) => s.flowCache.hits), 'hits while narrowed').to.be.greaterThan(0);
      // Most misses are outside the share: forwarded by the slow path, no entry made.
      expect(d((s) => s.flowCache.unadmitted)).to.be.greaterThan(lookups / 2);
      // ...and the table no longer churns: far fewer reaps than lookups.
      expect(d((s) => s.flowCache.reaps) * 16).to.be.lessThan(lookups);
      expect(d((s) => s.totals.forwarded)).to.be.greaterThan(0);
      expect(b.totals.dropped).to.equal(0n);
      const flows = await router.flowCache.list();
      expect(flows.length).to.be.at.most(ENTRIES);
      // The CLI's counter table says so (a quiet table does not: see the next test).
      expect(formatStats(b)).to.match(/unadmitted \d+ \(admitting 1 in (8|16|32|64|128|256) new flows\)/);
    } finally {
      await router.stop();
    }
  });

  it('floodAdmission: false admits every flow, and the table thrashes as ip6_flow.c does', async () => {
    const router = await start(false);
    try {
      const busy = await waitFor(() => router.stats().flowCache.reaps > 10_000n, 10_000);
      expect(busy, 'reaps').to.equal(true);
      await sleep(300);
      const s = router.stats();
      expect(s.flowCache.admitShift).to.equal(0);
      expect(s.flowCache.unadmitted).to.equal(0n);
      expect(s.totals.dropped).to.equal(0n);
      expect(formatStats(s)).not.to.contain('unadmitted');
    } finally {
      await router.stop();
    }
  });
});

// Admission under a flow flood (core/flowcache.h, struct fp_flow_admit),
// through a real PMD: 2048 flows replayed forever (net_pcap infinite_rx)
// through a 64-entry flow cache. With floodAdmission (the default) the worker
// narrows the share of flows that get entries, so some are hit and the rest
// go the slow path without an insert; with it off, every miss reaps, as in
// NetBSD's ip6_flow.c.
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { Router } from '../../lib';
import { formatStats } from '../../lib/cli/statsview';
import { ip6Frame, writePcap } from '../../lib/pcap';
import { scratchDir, sleep, TEST_EAL, waitFor } from '../helpers/router-env';

const FLOWS = 2048;
const ENTRIES = 64;

describe('flow cache admission under a flood (net_pcap infinite_rx, 2048 flows, 64 entries)', function () {
  this.timeout(60_000);
  let dir: string;
  let pcap: string;

  before(() => {
    dir = scratchDir('flood');
    pcap = path.join(dir, 'flows.pcap');
    const frames = Array.from({ length: FLOWS }, (_, i) =>
      ip6Frame({ dstMac: '02:00:00:00:00:01', srcMac: '02:00:00:00:00:aa', src: `2001:db8:1::${(i + 16).toString(16)}`, dst: '2001:db8:3::1', payload: new Uint8Array(18) }),
    );
    writePcap(pcap, frames);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function start(floodAdmission: boolean): Promise<Router> {
    return Router.start({
      eal: { ...TEST_EAL, filePrefix: `${TEST_EAL.filePrefix}-flood-${floodAdmission}` },
      ports: [
        { name: 'eth0', device: `net_pcap0,rx_pcap=${pcap},infinite_rx=1`, mac: '02:00:00:00:00:01', addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
        { name: 'eth1', device: 'net_null0,no-rx=1', mac: '02:00:00:00:00:02', addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
      ],
      routes: [{ prefix: '2001:db8:3::/64', via: 'fe80::2', dev: 'eth1' }],
      neighbours: [{ address: 'fe80::2', mac: '02:00:00:00:00:bb', dev: 'eth1' }],
      flowCache: { maxflows: ENTRIES, hashsize: 128, floodAdmission },
    });
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

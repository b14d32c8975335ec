// 100,000 frames of malformed input (test/helpers/corpus.ts, fixed seed):
// truncated at every offset, wrong versions and lengths, extension headers
// in odd orders, fragments, jumbo options, ND and MLD messages RFC 4861 and
// 2710/3810 say to discard, bad addresses and hop limits, VLAN garbage,
// random bytes — with good frames interleaved. The router must not crash,
// account for every frame (rx = forwarded + punted + dropped, each drop
// with a reason), forward every good frame, keep its tables within their
// bounds and let no discarded ND message change its neighbour table.
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { Router } from '../../lib';
import { readPcap, writePcap } from '../../lib/pcap';
import { buildCorpus, R0 } from '../helpers/corpus';
import { scratchDir, sleep, TEST_EAL, waitFor } from '../helpers/router-env';

const GOOD_PAYLOAD = Buffer.alloc(18, 0x47);

describe('malformed traffic: a 100,000-frame corpus through pcap vdevs', function () {
  this.timeout(300000);
  const dir = scratchDir('malformed');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('survives it, accounts for every frame, forwards every good one, and changes no state a discarded message must not', async () => {
    const corpus = buildCorpus(20261202, 100000);
    const inFile = path.join(dir, 'in.pcap');
    const out1 = path.join(dir, 'out1.pcap');
    writePcap(inFile, corpus.frames);
    writePcap(path.join(dir, 'empty.pcap'), []);
    const router = await Router.start({
      eal: TEST_EAL,
      ports: [
        { name: 'eth0', device: `net_pcap0,rx_pcap=${inFile},tx_pcap=${path.join(dir, 'out0.pcap')}`, mac: R0, addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
        { name: 'eth1', device: `net_pcap1,rx_pcap=${path.join(dir, 'empty.pcap')},tx_pcap=${out1}`, mac: '02:00:00:00:00:02', addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
      ],
      routes: [{ prefix: '2001:db8:3::/64', via: 'fe80::2', dev: 'eth1' }],
      neighbours: [{ address: 'fe80::2', mac: '02:00:00:00:00:99', dev: 'eth1' }],
    });
    let stats;
    try {
      expect(await waitFor(() => router.stats().ports.eth0.ipackets === BigInt(corpus.frames.length), 120000), 'every frame received').to.equal(true);
      await sleep(500);
      stats = router.stats();
      const t = stats.totals;
      const kinds = JSON.stringify(corpus.kinds);
      expect(t.rx_packets, kinds).to.equal(BigInt(corpus.frames.length));
      expect(t.rx_packets, 'rx = forwarded + punted + dropped').to.equal(t.forwarded + t.punted + t.dropped);
      const reasons = Object.values(stats.drops).reduce((a, b) => a + b, 0n);
      expect(reasons, 'every drop has a reason').to.equal(t.dropped);
      // The control thread took every punted frame (and the dropped ones it
      // quotes in ICMPv6 errors, which travel the same ring) and the rings are empty.
      expect(stats.control.punt_received >= t.punted).to.equal(true);
      expect(stats.control.punt_received <= t.punted + t.dropped).to.equal(true);
      // Tables within bounds; no discarded ND message changed the neighbour table.
      const neighbours = router.neighbours.list();
      expect(neighbours.length).to.be.at.most(16384);
      expect(neighbours.filter((n) => n.mac === 'ee:ee:ee:ee:ee:ee'), 'a link-layer address from a discarded ND message').to.deep.equal([]);
      expect(neighbours.find((n) => n.address === 'fe80::2')).to.deep.include({ mac: '02:00:00:00:00:99' });
      expect(router.routes.count()).to.equal(7); // 2 connected, 4 local (2 global, 2 link-local), 1 static
      expect(stats.resources.workers.every((w) => w.punt === 0)).to.equal(true);
      expect(stats.resources.mbufs.inUse).to.be.below(stats.resources.mbufs.size / 4);
    } finally {
      await router.stop();
    }
    // Every good frame left by eth1, with its payload intact.
    const goodOut = readPcap(out1).filter((f) => f.length === 14 + 40 + 8 + 18 && f.subarray(62).equals(GOOD_PAYLOAD) && f[20] === 17);
    expect(goodOut.length, `good frames forwarded (of ${corpus.good})`).to.equal(corpus.good);
    expect(goodOut.every((f) => f.subarray(6, 12).equals(Buffer.from('020000000002', 'hex')) && f[21] === 63)).to.equal(true);
  });
});

// Leak accounting: stats().resources shows the packet buffers in use, the
// rings' occupancy and the process's RSS; after a mix of traffic (forwarded,
// punted and answered, errors, fragments left incomplete) and a moment of
// idle, every pool and ring is back at the idle baseline of a router that
// saw nothing.
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { Router, RouterStats } from '../../lib';
import { ip6Frame, writePcap } from '../../lib/pcap';
import { icmp6 } from '../helpers/frames';
import { scratchDir, sleep, TEST_EAL, waitFor } from '../helpers/router-env';

const R0 = '02:00:00:00:00:01';
const H1 = '02:00:00:00:00:aa';

function mix(): Buffer[] {
  const out: Buffer[] = [];
  const udp = (dst: string, port = 9, len = 18): Buffer =>
    ip6Frame({ dstMac: R0, srcMac: H1, src: '2001:db8:1::2', dst, dstPort: port, payload: Buffer.alloc(len) });
  for (let i = 0; i < 500; i++) out.push(udp(`2001:db8:3::${(i % 200) + 1}`)); // forwarded
  for (let i = 0; i < 100; i++) out.push(udp('2001:db8:99::1')); // no route: ICMPv6 error
  for (let i = 0; i < 100; i++) {
    // Echo Requests to the router: answered
    const body = Buffer.alloc(16);
    body[0] = 128;
    body.writeUInt16BE(i, 6);
    out.push(icmp6({ srcMac: H1, dstMac: R0, src: '2001:db8:1::2', dst: '2001:db8:1::1', body }));
  }
  for (let i = 0; i < 50; i++) out.push(udp('2001:db8:1::1', 7777)); // to the router, no socket: port unreachable
  for (let i = 0; i < 50; i++) {
    // First fragments of datagrams that never complete: held by reassembly, then expired
    const frag = Buffer.alloc(8 + 64);
    frag[0] = 17; // next header UDP
    frag.writeUInt16BE(1, 2); // offset 0, M = 1
    frag.writeUInt32BE(0x1000 + i, 4);
    out.push(ip6Frame({ dstMac: R0, srcMac: H1, src: '2001:db8:1::2', dst: '2001:db8:1::1', nextHeader: 44, payload: frag }));
  }
  return out;
}

async function idleResources(dir: string, frames: Buffer[]): Promise<RouterStats['resources']> {
  const inFile = path.join(dir, `in-${frames.length}.pcap`);
  writePcap(inFile, frames);
  const router = await Router.start({
    eal: TEST_EAL,
    ports: [
      { name: 'eth0', device: `net_pcap0,rx_pcap=${inFile},tx_pcap=${path.join(dir, 'out0.pcap')}`, mac: R0, addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
      { name: 'eth1', device: 'net_null1,no-rx=1', mac: '02:00:00:00:00:02', addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
    ],
    routes: [{ prefix: '2001:db8:3::/64', via: 'fe80::2', dev: 'eth1' }],
    neighbours: [
      { address: 'fe80::2', mac: '02:00:00:00:00:99', dev: 'eth1' },
      { address: '2001:db8:1::2', mac: H1, dev: 'eth0' },
    ],
  });
  try {
    expect(await waitFor(() => router.stats().ports.eth0.ipackets === BigInt(frames.length)), 'every frame received').to.equal(true);
    await sleep(300); // the control thread answers, the rings drain
    const s = router.stats();
    const t = s.totals;
    expect(t.rx_packets).to.equal(t.forwarded + t.dropped + t.punted);
    return s.resources;
  } finally {
    await router.stop();
  }
}

describe('resources: buffers and rings return to the idle baseline (net_pcap)', function () {
  this.timeout(60000);
  const dir = scratchDir('resources');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('after forwarding, punting, errors and held fragments, nothing stays in use', async () => {
    const baseline = await idleResources(dir, []);
    const after = await idleResources(dir, mix());
    expect(baseline.mbufs.size).to.be.greaterThan(0);
    expect(after.mbufs.inUse, `in use: idle ${baseline.mbufs.inUse}, after traffic ${after.mbufs.inUse}`).to.equal(baseline.mbufs.inUse);
    expect(after.bigMbufs.inUse).to.equal(baseline.bigMbufs.inUse);
    expect(after.workers).to.deep.equal(baseline.workers);
    expect(after.workers.every((w) => w.punt === 0 && w.ctlTx === 0 && w.siftr === 0)).to.equal(true);
    expect(after.eventRing.size).to.be.greaterThan(0);
    expect(after.rssBytes).to.be.greaterThan(0);
  });
});

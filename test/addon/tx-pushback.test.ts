// Tx push-back: a PMD that refuses packets. eth1 transmits through net_pcap's
// tx_iface onto a veth whose kernel MTU (200) is below the datagrams routed
// to it, so pcap_sendpacket fails (EMSGSIZE), the PMD stops taking the burst
// and returns how many it took: the worker must free the rest and count each
// one as drop_tx_full and in eth1's oerrors, with the accounting identity
// rx = forwarded + punted + dropped exact. Small datagrams routed to eth2 (a
// pcap file) are forwarded meanwhile.
import { execFileSync } from 'child_process';
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { Router } from '../../lib';
import { ip6Frame, readPcap, writePcap } from '../../lib/pcap';
import { scratchDir, TEST_EAL, waitFor } from '../helpers/router-env';

const R0 = '02:00:00:00:00:01';
const R1 = '02:00:00:00:00:02';
const R2 = '02:00:00:00:00:03';
const H0 = '02:00:00:00:00:aa';
const H1 = '02:00:00:00:00:bb'; // next hop behind eth1 (the veth)
const H2 = '02:00:00:00:00:cc'; // next hop behind eth2
const VETH_MTU = 200; // frames of more than 214 bytes cannot be sent on it
const BIG = 40; // datagrams to eth1, 1062-byte frames: each refused
const SMALL = 24; // datagrams to eth2, 80-byte frames

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

describe('tx push-back: a PMD that refuses packets (net_pcap tx_iface, veth MTU)', function () {
  this.timeout(60000);
  const veth = `fptx${process.pid % 1000000}`;
  let dir: string;
  beforeEach(() => {
    dir = scratchDir('txpush');
    // No IPv6 on the pair: the kernel's own packets stay off the test's counts.
    ip('link', 'add', `${veth}a`, 'type', 'veth', 'peer', 'name', `${veth}b`);
    for (const end of ['a', 'b']) {
      fs.writeFileSync(`/proc/sys/net/ipv6/conf/${veth}${end}/disable_ipv6`, '1');
      ip('link', 'set', `${veth}${end}`, 'up');
    }
    ip('link', 'set', `${veth}a`, 'mtu', String(VETH_MTU));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    ip('link', 'del', `${veth}a`);
  });

  it('every refused packet is freed and counted as tx_full and oerrors; rx = forwarded + punted + dropped exactly', async () => {
    const frames: Buffer[] = [];
    // Interleaved, so refusals and sends alternate within the worker's bursts.
    for (let i = 0; i < BIG + SMALL; i++) {
      const big = i % 8 < 5;
      frames.push(
        ip6Frame({
          dstMac: R0,
          srcMac: H0,
          src: '2001:db8:1::aa',
          dst: big ? '2001:db8:2::bb' : '2001:db8:3::cc',
          srcPort: 40000 + i,
          dstPort: 9,
          payload: Buffer.alloc(big ? 1000 : 18, i),
        }),
      );
    }
    expect(frames.filter((f) => f.length > VETH_MTU + 14).length).to.equal(BIG);
    const empty = path.join(dir, 'empty.pcap');
    const out2 = path.join(dir, 'out2.pcap');
    writePcap(path.join(dir, 'in0.pcap'), frames);
    writePcap(empty, []);
    const router = await Router.start({
      eal: TEST_EAL,
      ports: [
        { name: 'eth0', device: `net_pcap0,rx_pcap=${path.join(dir, 'in0.pcap')},tx_pcap=${path.join(dir, 'out0.pcap')}`, mac: R0, addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
        { name: 'eth1', device: `net_pcap1,rx_pcap=${empty},tx_iface=${veth}a`, mac: R1, addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
        { name: 'eth2', device: `net_pcap2,rx_pcap=${empty},tx_pcap=${out2}`, mac: R2, addresses: ['2001:db8:3::1/64'], dadTransmits: 0 },
      ],
      neighbours: [
        { address: '2001:db8:2::bb', mac: H1, dev: 'eth1' },
        { address: '2001:db8:3::cc', mac: H2, dev: 'eth2' },
      ],
    });
    let s;
    try {
      // Every frame's fate counted, and the forwarded ones in eth2's file.
      const settled = await waitFor(() => {
        const t = router.stats().totals;
        return t.rx_packets === BigInt(BIG + SMALL) && t.forwarded + t.punted + t.dropped === t.rx_packets && readPcap(out2).filter((f) => f[20] === 17).length >= SMALL;
      }, 10000);
      s = router.stats();
      expect(settled, `every frame accounted for: ${JSON.stringify(s.totals, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`).to.equal(true);
    } finally {
      await router.stop();
    }
    const t = s.totals;
    expect(t.rx_packets).to.equal(BigInt(BIG + SMALL));
    expect(t.rx_packets, 'rx = forwarded + punted + dropped').to.equal(t.forwarded + t.punted + t.dropped);
    expect(t.forwarded, 'the small datagrams, through eth2').to.equal(BigInt(SMALL));
    expect(t.punted).to.equal(0n);
    expect(s.drops.tx_full, 'each big datagram refused by eth1').to.equal(BigInt(BIG));
    expect(t.dropped, 'no other drop').to.equal(BigInt(BIG));
    expect(s.ports.eth1.oerrors).to.equal(BigInt(BIG));
    expect(s.ports.eth2.oerrors).to.equal(0n);
    const out = readPcap(out2).filter((f) => f[20] === 17);
    expect(out.length).to.equal(SMALL);
    expect(out.every((f) => f.subarray(0, 6).equals(Buffer.from(H2.replace(/:/g, ''), 'hex')))).to.equal(true);
  });
});

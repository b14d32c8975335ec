// ECMP by flow label (RFC 6438; docs/flowlabels.md, "ECMP"), packet level:
// a /64 through two next hops, one on eth1 and one on eth2 (static
// neighbours). Labelled flows spread over both and each keeps one path;
// unlabelled ones spread by their ports; weights 3:1 give about 3:1; a
// next hop through a down interface leaves the group and comes back on up;
// bad input is refused and changes nothing.
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { FastpathError, Router } from '../../lib';
import { parseIPv6 } from '../../lib/addr';
import { ip6Frame, readPcap, writePcap } from '../../lib/pcap';
import { withoutMld } from '../helpers/frames';
import { scratchDir, sleep, TEST_EAL, waitFor } from '../helpers/router-env';

const R0 = '02:00:00:00:00:01';
const R1 = '02:00:00:00:00:02';
const R2 = '02:00:00:00:00:03';
const H1 = '02:00:00:00:00:aa'; // on eth0's link: the sender
const H2 = '02:00:00:00:00:bb'; // next hop on eth1
const H3 = '02:00:00:00:00:cc'; // next hop on eth2
const PREFIX = '2001:db8:3::/64';
const WEIGHTED = '2001:db8:7::/64';

const NEIGHBOURS = [
  { address: 'fe80::2', mac: H2, dev: 'eth1' },
  { address: 'fe80::3', mac: H3, dev: 'eth2' },
  { address: '2001:db8:1::2', mac: H1, dev: 'eth0' },
];

const labelOf = (f: Buffer): number => f.readUInt32BE(14) & 0xfffff;
const dstOf = (f: Buffer): string => f.subarray(14 + 24, 14 + 40).toString('hex');
const srcPortOf = (f: Buffer): number => f.readUInt16BE(54);
const dstHex = (a: string): string => Buffer.from(parseIPv6(a)).toString('hex');

describe('ECMP by flow label (net_pcap)', function () {
  this.timeout(120000);
  let dir: string;
  beforeEach(() => (dir = scratchDir('ecmp')));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('spreads labelled flows over both next hops, keeps each on one path, spreads label 0 by ports, and weighs 3:1', async () => {
    const frames: Buffer[] = [];
    const frame = (dst: string, flowLabel: number, srcPort: number): Buffer =>
      ip6Frame({ dstMac: R0, srcMac: H1, src: '2001:db8:1::2', dst, flowLabel, srcPort, payload: Buffer.alloc(18, 1) });
    // 64 flows with 64 labels, 4 packets each, interleaved.
    for (let k = 0; k < 4; k++) for (let i = 0; i < 64; i++) frames.push(frame('2001:db8:3::1', 0x100 + i * 0x3a7, 5000));
    // 1000 packets of one label (and a changing source port: the label alone decides).
    for (let k = 0; k < 1000; k++) frames.push(frame('2001:db8:3::2', 0xabcde, 1000 + k));
    // Label 0: 64 flows told apart by their source port only, 2 packets each.
    for (let k = 0; k < 2; k++) for (let i = 0; i < 64; i++) frames.push(frame('2001:db8:3::3', 0, 2000 + i));
    // Weights 3:1: 1024 labels, one packet each.
    for (let i = 0; i < 1024; i++) frames.push(frame('2001:db8:7::1', i + 1, 5000));

    const inFile = path.join(dir, 'in.pcap');
    const empty = path.join(dir, 'empty.pcap');
    const out = [0, 1, 2].map((i) => path.join(dir, `out${i}.pcap`));
    writePcap(inFile, frames);
    writePcap(empty, []);
    const router = await Router.start({
      eal: TEST_EAL,
      ports: [
        { name: 'eth0', device: `net_pcap0,rx_pcap=${inFile},tx_pcap=${out[0]}`, mac: R0, addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
        { name: 'eth1', device: `net_pcap1,rx_pcap=${empty},tx_pcap=${out[1]}`, mac: R1, addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
        { name: 'eth2', device: `net_pcap2,rx_pcap=${empty},tx_pcap=${out[2]}`, mac: R2, addresses: ['2001:db8:4::1/64'], dadTransmits: 0 },
      ],
      routes: [
        { prefix: PREFIX, nexthops: [{ via: 'fe80::2', dev: 'eth1' }, { via: 'fe80::3', dev: 'eth2' }] },
        { prefix: WEIGHTED, nexthops: [{ via: 'fe80::2', dev: 'eth1', weight: 3 }, { via: 'fe80::3', dev: 'eth2', weight: 1 }] },
      ],
      neighbours: NEIGHBOURS,
      flowCache: { maxflows: 4096, hashsize: 1024 },
    });
    let flows;
    try {
      expect(await waitFor(() => router.stats().ports.eth0.ipackets === BigInt(frames.length)), 'router received every frame').to.equal(true);
      await sleep(100);
      const s = router.stats();
      expect(s.totals.forwarded).to.equal(BigInt(frames.length));
      expect(router.routes.list().find((r) => r.prefix === PREFIX)).to.deep.include({
        state: 'up',
        nexthops: [
          { via: 'fe80::2', dev: 'eth1', weight: 1, state: 'up' },
          { via: 'fe80::3', dev: 'eth2', weight: 1, state: 'up' },
        ],
      });
      flows = await router.flowCache.list();
    } finally {
      await router.stop();
    }
    const o1 = withoutMld(readPcap(out[1]));
    const o2 = withoutMld(readPcap(out[2]));
    expect(o1.length + o2.length).to.equal(frames.length);
    for (const f of o1) expect(f.subarray(0, 6).toString('hex')).to.equal(H2.replace(/:/g, ''));
    for (const f of o2) expect(f.subarray(0, 6).toString('hex')).to.equal(H3.replace(/:/g, ''));

    /** key → the set of paths its packets took, and the count per path. */
    const paths = (pick: (f: Buffer) => string | null): Map<string, { eth1: number; eth2: number }> => {
      const m = new Map<string, { eth1: number; eth2: number }>();
      for (const [dev, list] of [['eth1', o1], ['eth2', o2]] as const) {
        for (const f of list) {
          const k = pick(f);
          if (k === null) continue;
          const e = m.get(k) ?? { eth1: 0, eth2: 0 };
          e[dev]++;
          m.set(k, e);
        }
      }
      return m;
    };
    // 1. 64 labels: each on one path, each path at least 16.
    const byLabel = paths((f) => (dstOf(f) === dstHex('2001:db8:3::1') ? String(labelOf(f)) : null));
    expect(byLabel.size).to.equal(64);
    let n1 = 0;
    for (const [label, e] of byLabel) {
      expect(e.eth1 === 0 || e.eth2 === 0, `label ${label} took both paths: ${JSON.stringify(e)}`).to.equal(true);
      expect(e.eth1 + e.eth2).to.equal(4);
      if (e.eth1 > 0) n1++;
    }
    expect(n1 >= 16 && 64 - n1 >= 16, `labels: ${n1} on eth1, ${64 - n1} on eth2`).to.equal(true);
    // 2. 1000 packets of one label: one path, whatever the ports.
    const one = paths((f) => (dstOf(f) === dstHex('2001:db8:3::2') ? 'x' : null)).get('x');
    expect(one !== undefined && (one.eth1 === 1000 || one.eth2 === 1000), JSON.stringify(one)).to.equal(true);
    // 3. Label 0: spread by ports, each port on one path.
    const byPort = paths((f) => (dstOf(f) === dstHex('2001:db8:3::3') ? String(srcPortOf(f)) : null));
    expect(byPort.size).to.equal(64);
    let p1 = 0;
    for (const [port, e] of byPort) {
      expect(e.eth1 === 0 || e.eth2 === 0, `port ${port} took both paths`).to.equal(true);
      if (e.eth1 > 0) p1++;
    }
    expect(p1 >= 16 && 64 - p1 >= 16, `ports: ${p1} on eth1, ${64 - p1} on eth2`).to.equal(true);
    // 4. Weights 3:1 over 1024 labels.
    const w = paths((f) => (dstOf(f) === dstHex('2001:db8:7::1') ? 'w' : null)).get('w')!;
    expect(w.eth1 + w.eth2).to.equal(1024);
    const share = w.eth1 / 1024;
    expect(share > 0.68 && share < 0.82, `weighted: ${w.eth1} on eth1, ${w.eth2} on eth2`).to.equal(true);
    // The flow cache remembered each labelled flow's choice (label 0 is not cached: its key has no ports).
    const cached = flows.filter((f) => f.dst === '2001:db8:3::1');
    expect(cached.length).to.equal(64);
    for (const f of cached) {
      const e = byLabel.get(String(f.flowLabel))!;
      expect(f.outDev).to.equal(e.eth1 > 0 ? 'eth1' : 'eth2');
    }
    expect(flows.filter((f) => f.dst === '2001:db8:3::3')).to.have.length(0);
  });

  it('a next hop through a down interface leaves the group, the route is withdrawn with none left, and both come back on up; bad input changes nothing', async () => {
    const frames: Buffer[] = [];
    for (let i = 0; i < 64; i++) {
      frames.push(ip6Frame({ dstMac: R0, srcMac: H1, src: '2001:db8:1::2', dst: '2001:db8:3::1', flowLabel: 0x1000 + i * 0x111, payload: Buffer.alloc(18, i) }));
    }
    const inFile = path.join(dir, 'in.pcap');
    writePcap(inFile, frames);
    const router = await Router.start({
      eal: TEST_EAL,
      ports: [
        { name: 'eth0', device: `net_pcap0,rx_pcap=${inFile},infinite_rx=1,tx_pcap=/dev/null`, mac: R0, addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
        { name: 'eth1', device: 'net_null1,no-rx=1', mac: R1, addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
        { name: 'eth2', device: 'net_null2,no-rx=1', mac: R2, addresses: ['2001:db8:4::1/64'], dadTransmits: 0 },
      ],
      neighbours: NEIGHBOURS,
      flowCache: { maxflows: 1024, hashsize: 256 },
    });
    try {
      router.routes.add(PREFIX, { nexthops: [{ via: 'fe80::2', dev: 'eth1' }, { via: 'fe80::3', dev: 'eth2' }] });
      const route = () => router.routes.list().find((r) => r.prefix === PREFIX)!;
      const window = async (ms = 200): Promise<{ eth1: bigint; eth2: bigint; noRoute: bigint }> => {
        await sleep(30);
        const a = router.stats();
        await sleep(ms);
        const b = router.stats();
        return {
          eth1: b.ports.eth1.opackets - a.ports.eth1.opackets,
          eth2: b.ports.eth2.opackets - a.ports.eth2.opackets,
          noRoute: b.drops.no_route - a.drops.no_route,
        };
      };
      expect(await waitFor(() => router.stats().totals.forwarded > 10000n), 'forwarding').to.equal(true);
      let w = await window();
      expect(w.eth1 > 500n && w.eth2 > 500n, `eth1 ${w.eth1}, eth2 ${w.eth2}`).to.equal(true);

      // eth1 down: its next hop leaves the group; everything goes to eth2.
      router.setInterfaceUp('eth1', false);
      expect(route()).to.deep.include({
        state: 'up',
        nexthops: [
          { via: 'fe80::2', dev: 'eth1', weight: 1, state: 'down' },
          { via: 'fe80::3', dev: 'eth2', weight: 1, state: 'up' },
        ],
      });
      w = await window();
      expect(w.eth1).to.equal(0n);
      expect(w.eth2 > 1000n, `eth2 ${w.eth2}`).to.equal(true);
      expect(router.stats().drops.port_down, 'no flow kept sending to the down port').to.equal(0n);

      // eth2 down too: no next hop left, the route is withdrawn.
      router.setInterfaceUp('eth2', false);
      expect(route().state).to.equal('down');
      expect(route().nexthops!.map((h) => h.state)).to.deep.equal(['down', 'down']);
      w = await window();
      expect(w.noRoute > 500n, `no_route ${w.noRoute}`).to.equal(true);
      expect(w.eth1 + w.eth2).to.equal(0n);

      // Both up: the group is whole again and traffic spreads over both.
      router.setInterfaceUp('eth2', true);
      router.setInterfaceUp('eth1', true);
      expect(route().state).to.equal('up');
      expect(route().nexthops!.map((h) => h.state)).to.deep.equal(['up', 'up']);
      w = await window();
      expect(w.eth1 > 500n && w.eth2 > 500n, `eth1 ${w.eth1}, eth2 ${w.eth2}`).to.equal(true);
      expect(w.noRoute).to.equal(0n);

      // Bad input: a typed error naming the field, and nothing changed.
      const before = JSON.stringify(router.routes.list());
      const bad: [unknown, RegExp][] = [
        [{ nexthops: [{ via: 'fe80::2', dev: 'eth1' }] }, /routes\.add: nexthops: 1 next hops/],
        [{ nexthops: [] }, /routes\.add: nexthops: 0 next hops/],
        [{ nexthops: 'eth1' }, /routes\.add: nexthops: expected an array/],
        [{ dev: 'eth1', nexthops: [{ dev: 'eth1' }, { dev: 'eth2' }] }, /routes\.add: nexthops: give either nexthops or via\/dev/],
        [{ nexthops: [{ via: 'fe80::2', dev: 'eth1' }, { via: 'fe80::3', dev: 'eth9' }] }, /routes\.add: nexthops\[1\]\.dev/],
        [{ nexthops: [{ via: 'fe80::2', dev: 'eth1' }, { via: 'ff02::1', dev: 'eth2' }] }, /routes\.add: nexthops\[1\]\.via/],
        [{ nexthops: [{ via: 'fe80::2', dev: 'eth1' }, { via: 'nope', dev: 'eth2' }] }, /routes\.add: nexthops\[1\]\.via/],
        [{ nexthops: [{ via: 'fe80::2', dev: 'eth1', weight: 0 }, { dev: 'eth2' }] }, /routes\.add: nexthops\[0\]\.weight/],
        [{ nexthops: [{ via: 'fe80::2', dev: 'eth1' }, { dev: 'eth2', weight: 17 }] }, /routes\.add: nexthops\[1\]\.weight/],
        [{ nexthops: [{ via: 'fe80::2', dev: 'eth1' }, { dev: 'eth2', weight: 1.5 }] }, /routes\.add: nexthops\[1\]\.weight/],
        [{ nexthops: [{ via: 'fe80::2', dev: 'eth1' }, { via: 'fe80::2', dev: 'eth1' }] }, /routes\.add: nexthops\[1\]: the same next hop as nexthops\[0\]/],
        [{ nexthops: [{ via: 'fe80::2', dev: 'eth1' }, { dev: 'eth2', mtu: 3 }] }, /routes\.add: nexthops\[1\]\.mtu: unknown field/],
        [{ nexthops: new Array(17).fill(0).map((_, i) => ({ via: `fe80::${i + 10}`, dev: 'eth1' })) }, /routes\.add: nexthops: 17 next hops/],
      ];
      for (const [opts, msg] of bad) {
        let err: unknown;
        try {
          router.routes.add('2001:db8:9::/64', opts as never);
        } catch (e) {
          err = e;
        }
        expect(err, JSON.stringify(opts)).to.be.instanceOf(FastpathError);
        expect((err as FastpathError).code).to.be.oneOf(['EINVAL', 'ENOENT']);
        expect((err as FastpathError).message).to.match(msg);
      }
      expect(() => router.routes.add(PREFIX, { nexthops: [{ dev: 'eth1' }, { dev: 'eth2' }] })).to.throw(FastpathError, /exists/);
      expect(JSON.stringify(router.routes.list())).to.equal(before);

      // Groups are given back: more add/delete cycles than there are groups.
      const stats0 = router.stats();
      for (let i = 0; i < 4200; i++) {
        router.routes.add('2001:db8:9::/64', { nexthops: [{ via: 'fe80::2', dev: 'eth1', weight: 1 + (i % 16) }, { dev: 'eth2' }] });
        router.routes.delete('2001:db8:9::/64');
      }
      expect(JSON.stringify(router.routes.list())).to.equal(before);
      // The group route itself deletes like any other.
      router.routes.delete(PREFIX);
      expect(router.routes.list().find((r) => r.prefix === PREFIX)).to.equal(undefined);
      expect(router.stats().control.route_changes - stats0.control.route_changes).to.equal(8401n);
    } finally {
      await router.stop();
    }
  });
});

// Interfaces as in NetBSD if.c, packet level (net_pcap): VLAN sub-interfaces
// (802.1Q demultiplexed on rx, tagged on tx), loopback clones, the clone /
// destroy / MTU / promiscuous API and its errors (each leaving the table as
// it was).
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { FastpathError, Router, RouterConfig, RouterStats } from '../../lib';
import { parseIPv6 } from '../../lib/addr';
import { ip6Frame, readPcap, writePcap } from '../../lib/pcap';
import { icmp6, icmp6ChecksumValid, isMld, isMldFarewell, withoutMld } from '../helpers/frames';
import { scratchDir, sleep, TEST_EAL, waitFor } from '../helpers/router-env';

const R0 = '02:00:00:00:00:01';
const R1 = '02:00:00:00:00:02';
const H1 = '02:00:00:00:00:aa'; // on VLAN 100 and untagged on eth0's link
const H2 = '02:00:00:00:00:bb';

/** An 802.1Q tag (TPID 0x8100, priority 0) inserted after the MACs. */
function tagged(frame: Buffer, vid: number): Buffer {
  const tag = Buffer.from([0x81, 0x00, (vid >> 8) & 0x0f, vid & 0xff]);
  return Buffer.concat([frame.subarray(0, 12), tag, frame.subarray(12)]);
}

/** The VLAN id of a tagged frame, or null. */
function vlanOf(frame: Buffer): number | null {
  return frame.readUInt16BE(12) === 0x8100 ? frame.readUInt16BE(14) & 0xfff : null;
}

/** Without its tag, if any. */
function untag(frame: Buffer): Buffer {
  return vlanOf(frame) === null ? frame : Buffer.concat([frame.subarray(0, 12), frame.subarray(16)]);
}

const echo = (src: string, dst: string, srcMac = H1, dstMac = R0): Buffer =>
  icmp6({ srcMac, dstMac, src, dst, body: Buffer.from([128, 0, 0, 0, 0, 7, 0, 1, 1, 2, 3, 4]), hopLimit: 64 });

interface Run {
  out0: Buffer[];
  out1: Buffer[];
  stats: RouterStats;
}

async function run(dir: string, in0: Buffer[], in1: Buffer[], during?: (r: Router) => Promise<void>): Promise<Run> {
  const f = (n: string): string => path.join(dir, n);
  writePcap(f('in0.pcap'), in0);
  writePcap(f('in1.pcap'), in1);
  const cfg: RouterConfig = {
    eal: TEST_EAL,
    ports: [
      { name: 'eth0', device: `net_pcap0,rx_pcap=${f('in0.pcap')},tx_pcap=${f('out0.pcap')}`, mac: R0, addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
      { name: 'eth1', device: `net_pcap1,rx_pcap=${f('in1.pcap')},tx_pcap=${f('out1.pcap')}`, mac: R1, addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
    ],
    clones: [
      { cloner: 'vlan', parent: 'eth0', vlan: 100, addresses: ['2001:db8:100::1/64'] },
      { cloner: 'loop', addresses: ['2001:db8:ff::1/128'] },
    ],
    neighbours: [
      { address: '2001:db8:100::2', mac: H1, dev: 'eth0.100' },
      { address: '2001:db8:1::2', mac: H1, dev: 'eth0' },
      { address: '2001:db8:2::2', mac: H2, dev: 'eth1' },
    ],
  };
  const router = await Router.start(cfg);
  try {
    const total = BigInt(in0.length + in1.length);
    expect(await waitFor(() => router.stats().totals.rx_packets === total), 'every frame received').to.equal(true);
    await sleep(50);
    if (during) await during(router);
    const stats = router.stats();
    return { out0: [], out1: [], stats };
  } finally {
    await router.stop();
  }
}

describe('interfaces: VLAN and loopback clones (net_pcap)', function () {
  this.timeout(30000);
  let dir: string;
  beforeEach(() => (dir = scratchDir('if')));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('demultiplexes 802.1Q frames to the sub-interface, answers and forwards tagged, keeps untagged traffic on the parent', async () => {
    const udp = (src: string, dst: string, srcMac: string, dstMac: string): Buffer =>
      ip6Frame({ srcMac, dstMac, src, dst, payload: Buffer.from('vlan payload'), hopLimit: 64 });
    const in0 = [
      tagged(echo('2001:db8:100::2', '2001:db8:100::1'), 100), // to eth0.100's address
      tagged(udp('2001:db8:100::2', '2001:db8:2::2', H1, R0), 100), // routed to eth1
      echo('2001:db8:1::2', '2001:db8:1::1'), // untagged, to eth0
      tagged(echo('2001:db8:100::2', '2001:db8:100::1'), 200), // no VLAN 200
      echo('2001:db8:1::2', '2001:db8:ff::1'), // to the loopback's address
    ];
    const in1 = [udp('2001:db8:2::2', '2001:db8:100::2', H2, R1)]; // to the VLAN's host
    const r = await run(dir, in0, in1, async (router) => {
      const v = router.interfaces.get('eth0.100');
      expect(v).to.deep.include({ kind: 'vlan', parent: 'eth0', vlan: 100, mac: R0, mtu: 1500 });
      expect(v.addresses).to.include('2001:db8:100::1/64');
      expect(v.flags).to.include.members(['UP', 'RUNNING', 'MULTICAST']);
      const lo = router.interfaces.get('lo1');
      expect(lo.kind).to.equal('loop');
      expect(lo.flags).to.include('LOOPBACK');
      expect(router.routes.list().map((x) => `${x.kind} ${x.prefix} ${x.dev}`)).to.include.members([
        'connected 2001:db8:100::/64 eth0.100',
        'local 2001:db8:100::1/128 eth0.100',
        'local 2001:db8:ff::1/128 lo1',
      ]);
    });
    r.out0 = withoutMld(readPcap(path.join(dir, 'out0.pcap')));
    r.out1 = withoutMld(readPcap(path.join(dir, 'out1.pcap')));

    const replies = r.out0.filter((f) => untag(f)[54] === 129);
    expect(replies.map(vlanOf).sort()).to.deep.equal([100, null, null].sort()); // VLAN reply tagged; eth0 and lo1 replies not
    for (const f of replies) expect(icmp6ChecksumValid(untag(f))).to.equal(true);
    const vlanReply = untag(replies.find((f) => vlanOf(f) === 100)!);
    expect(vlanReply.subarray(14 + 8, 14 + 24).equals(Buffer.from(parseIPv6('2001:db8:100::1')))).to.equal(true);
    expect(vlanReply.subarray(0, 6).toString('hex')).to.equal(H1.replace(/:/g, ''));
    const loReply = replies.map(untag).find((f) => f.subarray(14 + 8, 14 + 24).equals(Buffer.from(parseIPv6('2001:db8:ff::1'))));
    expect(loReply, 'the loopback address answers').to.not.equal(undefined);

    // Routed off the VLAN: untagged on eth1; routed onto it: tagged 100.
    expect(r.out1.filter((f) => f.readUInt16BE(12) === 0x86dd && f[14 + 6] === 17)).to.have.length(1);
    const toVlan = r.out0.filter((f) => vlanOf(f) === 100 && untag(f)[14 + 6] === 17);
    expect(toVlan).to.have.length(1);
    expect(untag(toVlan[0])[14 + 7]).to.equal(63);
    expect(untag(toVlan[0]).subarray(0, 6).toString('hex')).to.equal(H1.replace(/:/g, ''));

    expect(r.stats.drops.vlan_unknown).to.equal(1n);
    expect(r.stats.ports['eth0.100'].ipackets).to.equal(2n);
    // The echo reply and the forwarded datagram, and its MLD reports.
    const mld100 = readPcap(path.join(dir, 'out0.pcap')).filter((f) => vlanOf(f) === 100 && isMld(f) && !isMldFarewell(f)).length;
    expect(r.stats.ports['eth0.100'].opackets).to.equal(2n + BigInt(mld100));
    const t = r.stats.totals;
    expect(t.rx_packets).to.equal(t.forwarded + t.dropped + t.punted);
  });

  it('a router in service clones and destroys more interfaces than it has slots: a destroyed clone\'s index is reused, with nothing of the old one left', async () => {
    await run(dir, [], [], async (router) => {
      const first = router.interfaces.clone('vlan', { parent: 'eth1', vlan: 200, addresses: ['2001:db8:200::1/64'] });
      router.interfaces.joinGroup(first.name, 'ff05::1:77');
      const sock = await router.sockets.udp({ address: '2001:db8:200::1', port: 4000, interface: first.name });
      router.interfaces.destroy(first.name);
      // The socket bound to the destroyed VLAN sends nothing more (its index may name another interface).
      await Promise.resolve().then(() => sock.send(Buffer.from('x'), { address: '2001:db8:200::2', port: 9 })).then(
        () => expect.fail('send on a destroyed interface'),
        (e: FastpathError) => expect(e.code).to.equal('ENXIO'),
      );
      sock.close();
      const indexes = new Set<number>();
      for (let i = 0; i < 60; i++) {
        const v = router.interfaces.clone('vlan', { parent: 'eth1', vlan: 300 + i, addresses: [`2001:db8:${(0x300 + i).toString(16)}::1/64`] });
        indexes.add(v.index);
        // Its own MLD reports and DAD probes only: a reused slot's counters
        // start again (carried over, they would add up over the reuses).
        expect(v.counters.ipackets, `clone ${i}`).to.equal(0n);
        expect(v.counters.opackets <= 8n, `clone ${i} sent ${v.counters.opackets}`).to.equal(true);
        const groups = router.interfaces.groups(v.name).groups;
        expect(groups.some((g) => g.address === 'ff05::1:77'), `clone ${i} inherits no group`).to.equal(false);
        router.interfaces.destroy(v.name);
      }
      expect(indexes.size, 'slots were reused').to.be.lessThan(60);
      expect(router.interfaces.list().map((x) => x.name).sort()).to.deep.equal(['eth0', 'eth0.100', 'eth1', 'lo1']);
    });
  });

  it('clone / destroy / setMtu / setPromiscuous / setAllMulticast: every error has its code and leaves the table unchanged; references are counted', async () => {
    await run(dir, [], [], async (router) => {
      const snapshot = (): string => JSON.stringify(router.interfaces.list().map(({ counters, ...rest }) => (void counters, rest)));
      const routes = (): string => JSON.stringify(router.routes.list());
      const before = snapshot();
      const beforeRoutes = routes();
      const expectCode = (fn: () => unknown, code: string, re: RegExp): void => {
        let err: unknown;
        try {
          fn();
        } catch (e) {
          err = e;
        }
        expect(err, `expected ${code}`).to.be.instanceOf(FastpathError);
        expect((err as FastpathError).code, (err as Error).message).to.equal(code);
        expect((err as Error).message).to.match(re);
        expect(snapshot()).to.equal(before);
        expect(routes()).to.equal(beforeRoutes);
      };
      expect(router.interfaces.cloners()).to.deep.equal(['loop', 'vlan']);
      expectCode(() => router.interfaces.clone('bridge', {}), 'EINVAL', /unknown cloner "bridge"/);
      expectCode(() => router.interfaces.clone('vlan', { parent: 'eth9', vlan: 5 }), 'ENXIO', /eth9/);
      expectCode(() => router.interfaces.clone('vlan', { parent: 'lo1', vlan: 5 }), 'EINVAL', /must be a port/);
      for (const vlan of [0, 4095, 5000, 1.5]) {
        expectCode(() => router.interfaces.clone('vlan', { parent: 'eth0', vlan }), 'EINVAL', /1\.\.4094/);
      }
      expectCode(() => router.interfaces.clone('vlan', { parent: 'eth0', vlan: 7, name: 'eth1' }), 'EEXIST', /eth1/);
      expectCode(() => router.interfaces.clone('vlan', { parent: 'eth0', vlan: 100, name: 'v100' }), 'EEXIST', /VLAN 100/);
      expectCode(() => router.interfaces.clone('loop', { name: 'lo 2' }), 'EINVAL', /name/);
      expectCode(() => router.interfaces.clone('loop', { addresses: ['2001:db8:1::1/128'] }), 'EEXIST', /addresses\[0\]/);
      expectCode(() => router.interfaces.clone('loop', { addresses: ['ff02::1/128'] }), 'EINVAL', /addresses\[0\]/);
      expectCode(() => router.interfaces.destroy('eth0'), 'EOPNOTSUPP', /port/);
      expectCode(() => router.interfaces.destroy('nope'), 'ENXIO', /nope/);
      expectCode(() => router.interfaces.setMtu('eth0', 1000), 'EINVAL', /1280/);
      expectCode(() => router.interfaces.setMtu('eth0.100', 9000), 'EINVAL', /parent/);
      expectCode(() => router.interfaces.setAllMulticast('eth0.100', false), 'EINVAL', /no all-multicast reference/);
      expectCode(() => router.interfaces.setPromiscuous('eth0', 'yes' as never), 'EINVAL', /on: expected true or false, got "yes"/);
      expectCode(() => router.interfaces.setAllMulticast('eth0', 1 as never), 'EINVAL', /on: expected true or false, got 1/);
      expectCode(() => router.interfaces.setPromiscuous('eth9', true), 'ENOENT', /eth9/);

      // Clone, use, destroy: the name is free again, the index is not reused.
      const v7 = router.interfaces.clone('vlan', { parent: 'eth0', vlan: 7, addresses: ['2001:db8:7::1/64'] });
      expect(v7).to.deep.include({ name: 'eth0.7', kind: 'vlan', parent: 'eth0', vlan: 7 });
      expect(router.routes.list().some((x) => x.dev === 'eth0.7')).to.equal(true);
      router.routes.add('2001:db8:77::/64', { via: '2001:db8:7::9', dev: 'eth0.7' });
      router.neighbours.add({ address: '2001:db8:7::9', mac: H1, dev: 'eth0.7' });
      router.interfaces.destroy('eth0.7');
      expect(router.interfaces.list().map((i) => i.name)).to.not.include('eth0.7');
      expect(router.routes.list().some((x) => x.dev === 'eth0.7')).to.equal(false);
      expect(router.neighbours.list().some((n) => n.dev === 'eth0.7')).to.equal(false);
      const again = router.interfaces.clone('vlan', { parent: 'eth0', vlan: 7 });
      expect(again.index).to.be.greaterThan(v7.index);
      router.interfaces.destroy('eth0.7');
      expect(snapshot()).to.equal(before);

      // MTU within limits; a VLAN follows its parent down.
      router.interfaces.setMtu('eth0.100', 1400);
      expect(router.interfaces.get('eth0.100').mtu).to.equal(1400);
      router.interfaces.setMtu('eth0', 1300);
      expect(router.interfaces.get('eth0.100').mtu).to.equal(1300);

      // Reference-counted flags: the VLAN's references are held on its parent.
      router.interfaces.setAllMulticast('eth0.100', true);
      router.interfaces.setAllMulticast('eth0', true);
      expect(router.interfaces.get('eth0').flags).to.include('ALLMULTI');
      router.interfaces.setAllMulticast('eth0', false);
      expect(router.interfaces.get('eth0').flags, 'one reference left (the VLAN)').to.include('ALLMULTI');
      router.interfaces.setAllMulticast('eth0.100', false);
      // MLD's own reference stays: pcap has no multicast filter.
      expect(router.interfaces.get('eth0').flags).to.include('ALLMULTI');
      router.interfaces.setAllMulticast('eth0', false); // (releasing MLD's: the test owns the router)
      expect(router.interfaces.get('eth0').flags).to.not.include('ALLMULTI');
      expect(router.interfaces.get('eth0').flags).to.include('PROMISC'); // the config's reference

      // Promiscuous references, counted the same way: the config's and one more.
      const promisc = (): boolean => router.interfaces.get('eth1').flags.includes('PROMISC');
      expect(promisc(), 'the config\'s reference').to.equal(true);
      router.interfaces.setPromiscuous('eth1', true);
      router.interfaces.setPromiscuous('eth1', false);
      expect(promisc(), 'one reference left (the config\'s)').to.equal(true);
      router.interfaces.setPromiscuous('eth1', false);
      expect(promisc(), 'the last reference released').to.equal(false);
      expect(() => router.interfaces.setPromiscuous('eth1', false)).to.throw(FastpathError, /eth1: no promiscuous reference to release/);
      expect(promisc()).to.equal(false);
      router.interfaces.setPromiscuous('eth1', true);
      expect(promisc(), 'the first reference turns it on').to.equal(true);
      // A VLAN's reference is held on its parent.
      router.interfaces.setPromiscuous('eth0.100', true);
      router.interfaces.setPromiscuous('eth0', false); // the config's
      expect(router.interfaces.get('eth0').flags, 'the VLAN\'s reference keeps the parent promiscuous').to.include('PROMISC');
      router.interfaces.setPromiscuous('eth0.100', false);
      expect(router.interfaces.get('eth0').flags).to.not.include('PROMISC');
    });
  });
});

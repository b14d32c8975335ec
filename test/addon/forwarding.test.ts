// Packet-level forwarding tests: frames go in through a net_pcap rx_pcap file
// and come out in tx_pcap files; bytes and counters are asserted exactly.
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { FastpathError, Router, RouterConfig, RouterStats } from '../../lib';
import { parseIPv6, parseMac } from '../../lib/addr';
import { ip6Frame, readPcap, writePcap } from '../../lib/pcap';
import { icmp6ChecksumValid, isMld, isMldFarewell, na, ns as ndNs, setIcmp6Checksum, withoutMld } from '../helpers/frames';
import { routerQuiescent, scratchDir, sleep, TEST_EAL, waitFor } from '../helpers/router-env';

const R0 = '02:00:00:00:00:01'; // router eth0
const R1 = '02:00:00:00:00:02'; // router eth1
const H1 = '02:00:00:00:00:aa'; // host on eth0's link
const H2 = '02:00:00:00:00:bb'; // host on eth1's link

interface RunResult {
  stats: RouterStats;
  out0: Buffer[];
  out1: Buffer[];
  /** The router's MLD reports on each port (left out of out0 / out1): frames and bytes. */
  mld: { eth0: { n: bigint; bytes: bigint }; eth1: { n: bigint; bytes: bigint } };
  flows: Awaited<ReturnType<Router['flowCache']['list']>>;
}

/** Run frames through a fresh router (h1 link on eth0, h2 on eth1). */
async function run(
  dir: string,
  frames: Buffer[],
  opts: {
    maxflows?: number;
    eth1Mtu?: number;
    during?: (r: Router) => Promise<void>;
    /** Wait for the start-up MLD reports (sent at random within 1 s) before the snapshot, so that the MLD frames in the output are those it counts. */
    mldDone?: boolean;
    extra?: Pick<RouterConfig, 'neighbourDiscovery' | 'icmpErrors'>;
  } = {},
): Promise<RunResult> {
  const inFile = path.join(dir, 'in.pcap');
  const empty = path.join(dir, 'empty.pcap');
  const out0 = path.join(dir, 'out0.pcap');
  const out1 = path.join(dir, 'out1.pcap');
  writePcap(inFile, frames);
  writePcap(empty, []);
  const router = await Router.start({
    eal: TEST_EAL,
    ports: [
      { name: 'eth0', device: `net_pcap0,rx_pcap=${inFile},tx_pcap=${out0}`, mac: R0, addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
      { name: 'eth1', device: `net_pcap1,rx_pcap=${empty},tx_pcap=${out1}`, mac: R1, addresses: ['2001:db8:2::1/64'], mtu: opts.eth1Mtu ?? 1500, dadTransmits: 0 },
    ],
    routes: [{ prefix: '2001:db8:3::/64', via: 'fe80::2', dev: 'eth1' }],
    neighbours: [
      { address: '2001:db8:2::2', mac: H2, dev: 'eth1' },
      { address: 'fe80::2', mac: H2, dev: 'eth1' },
      { address: '2001:db8:1::2', mac: H1, dev: 'eth0' },
    ],
    flowCache: { maxflows: opts.maxflows ?? 1024, hashsize: 256 },
    ...opts.extra,
  });
  try {
    const done = await waitFor(() => router.stats().ports.eth0.ipackets === BigInt(frames.length));
    expect(done, 'router received every frame').to.equal(true);
    if (opts.mldDone) {
      const reportsDone = (): boolean => ['eth0', 'eth1'].every((n) => router.interfaces.groups(n).groups.every((g) => g.timerMs === 0));
      expect(await waitFor(reportsDone, 5000), 'no MLD report pending').to.equal(true);
    }
    expect(await routerQuiescent(router), 'every frame dealt with, every answer sent').to.equal(true);
    if (opts.during) await opts.during(router);
    const stats = router.stats();
    const flows = await router.flowCache.list();
    return { stats, flows, out0: [], out1: [], mld: { eth0: { n: 0n, bytes: 0n }, eth1: { n: 0n, bytes: 0n } } };
  } finally {
    await router.stop();
  }
}

async function runAndRead(dir: string, frames: Buffer[], opts: Parameters<typeof run>[2] = {}): Promise<RunResult> {
  const r = await run(dir, frames, opts);
  // The router's own MLD reports (its groups) are tested on their own.
  const raw0 = readPcap(path.join(dir, 'out0.pcap'));
  const raw1 = readPcap(path.join(dir, 'out1.pcap'));
  r.out0 = withoutMld(raw0);
  r.out1 = withoutMld(raw1);
  const mldOf = (raw: Buffer[]): { n: bigint; bytes: bigint } => {
    // Those sent before the snapshot: not the farewell report at stop.
    const m = raw.filter((f) => isMld(f) && !isMldFarewell(f));
    return { n: BigInt(m.length), bytes: BigInt(m.reduce((a, f) => a + f.length, 0)) };
  };
  r.mld = { eth0: mldOf(raw0), eth1: mldOf(raw1) };
  return r;
}

/** Every received packet is forwarded, punted or dropped, exactly once. */
function expectAccounted(s: RouterStats): void {
  const t = s.totals;
  expect(t.rx_packets).to.equal(t.forwarded + t.dropped + t.punted);
  const dropSum = Object.values(s.drops).reduce((a, b) => a + b, 0n);
  expect(dropSum).to.equal(t.dropped);
}

/** An NS from h1 (see frames.ns). */
const ns = (src: string, dst: string, dstMac: string, target: string, hopLimit = 255): Buffer =>
  ndNs(H1, src, dst, dstMac, target, { hopLimit });

const udp = (over: Partial<Parameters<typeof ip6Frame>[0]> = {}): Buffer =>
  ip6Frame({ dstMac: R0, srcMac: H1, src: '2001:db8:1::2', dst: '2001:db8:2::2', payload: Buffer.from('fastpath payload'), ...over });

describe('forwarding (net_pcap vdevs)', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => (dir = scratchDir('fwd')));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('decrements the hop limit, rewrites both MACs and keeps the payload', async () => {
    const frame = udp({ hopLimit: 64, flowLabel: 0x12345 });
    const r = await runAndRead(dir, [frame], { mldDone: true });
    expect(r.out1).to.have.length(1);
    const out = r.out1[0];
    expect(out.subarray(0, 6).toString('hex')).to.equal(H2.replace(/:/g, ''));
    expect(out.subarray(6, 12).toString('hex')).to.equal(R1.replace(/:/g, ''));
    expect(out.readUInt16BE(12)).to.equal(0x86dd);
    expect(out[14 + 7]).to.equal(63);
    // Everything else from the IPv6 header on is unchanged.
    const expected = Buffer.from(frame);
    expected[14 + 7] = 63;
    expect(out.subarray(14).equals(expected.subarray(14))).to.equal(true);
    expect(r.stats.totals.forwarded).to.equal(1n);
    expect(r.stats.ports.eth1.opackets).to.equal(1n + r.mld.eth1.n);
    expect(r.stats.ports.eth1.obytes).to.equal(BigInt(frame.length) + r.mld.eth1.bytes);
    expectAccounted(r.stats);
  });

  it('routes via a gateway neighbour', async () => {
    const r = await runAndRead(dir, [udp({ dst: '2001:db8:3::9' })]);
    expect(r.out1).to.have.length(1);
    expect(r.out1[0].subarray(0, 6).toString('hex')).to.equal(H2.replace(/:/g, ''));
  });

  it('counts malformed input by reason and forwards none of it', async () => {
    const good = udp();
    const truncated = good.subarray(0, 14 + 20);
    const badVersion = Buffer.from(good);
    badVersion[14] = 0x40;
    const tooLong = Buffer.from(good);
    tooLong.writeUInt16BE(1000, 14 + 4); // payload length beyond the frame
    const arp = Buffer.from(good);
    arp.writeUInt16BE(0x0806, 12);
    const otherHost = udp({ dstMac: '02:00:00:00:00:77' });
    const frames = [
      truncated, badVersion, tooLong, udp({ hopLimit: 1 }), udp({ hopLimit: 0 }), arp, otherHost,
      udp({ dst: '2001:db8:99::1' }), // no route
      udp({ dst: '2001:db8:2::55' }), // connected, no neighbour: held, solicited
      udp({ src: 'ff02::1' }), // multicast source
      udp({ dst: 'ff05::1:3' }), // multicast not joined
      udp({ src: 'fe80::1' }), // link-local source off-link
      good,
    ];
    const r = await runAndRead(dir, frames);
    const d = r.stats.drops;
    expect(d.truncated).to.equal(1n);
    expect(d.bad_version).to.equal(1n);
    expect(d.bad_length).to.equal(1n);
    expect(d.hop_limit).to.equal(2n);
    expect(d.not_ip6).to.equal(1n);
    expect(d.l2_other_host).to.equal(1n);
    expect(d.no_route).to.equal(1n);
    expect(r.stats.totals.resolve_punted).to.equal(1n);
    expect(r.stats.control.nd_held).to.equal(1n);
    expect(d.src_invalid).to.equal(1n);
    expect(d.mcast_unjoined).to.equal(1n);
    expect(d.scope).to.equal(1n);
    expect(r.stats.ports.eth0.noproto).to.equal(1n);
    expect(r.stats.ports.eth0.drops).to.equal(11n);
    // The good one, and a Neighbor Solicitation for the unresolved next hop.
    expect(r.out1).to.have.length(2);
    const ns = r.out1.find((f) => f[54] === 135);
    expect(ns, 'an NS on eth1').to.not.equal(undefined);
    expect(ns!.subarray(0, 6).toString('hex')).to.equal('3333ff000055');
    expect(ns!.subarray(54 + 8, 54 + 24).equals(Buffer.from(parseIPv6('2001:db8:2::55')))).to.equal(true);
    expect(icmp6ChecksumValid(ns!)).to.equal(true);
    expectAccounted(r.stats);
  });

  it('punts packets for the router itself and its groups; answers what no local protocol takes', async () => {
    const frames = [
      udp({ dst: '2001:db8:1::1' }), // our address
      udp({ dst: '2001:db8:2::1' }), // our address on the other port
      udp({ dst: 'ff02::1', dstMac: '33:33:00:00:00:01' }),
      udp({ dst: 'ff02::1:ff00:1', dstMac: '33:33:ff:00:00:01' }), // solicited-node
      udp({ dst: '2001:db8:1::1', hopLimit: 1 }), // for us: hop limit 1 is fine
    ];
    frames.push(udp({ dst: '2001:db8:1::1', nextHeader: 253, payload: Buffer.from('experimental') }));
    const r = await runAndRead(dir, frames);
    expect(r.stats.totals.punted).to.equal(6n);
    // No UDP service here: the three unicast datagrams get port unreachable
    // (traceroute's "reached"); the multicast ones get nothing; an
    // unrecognized next header gets Parameter Problem pointing at it.
    const errors = r.out0.map((f) => [f[54], f[55], f.readUInt32BE(58)]);
    expect(errors.filter(([t, c]) => t === 1 && c === 4)).to.have.length(3);
    expect(errors.filter(([t, c]) => t === 4 && c === 1)).to.deep.equal([[4, 1, 6]]);
    expect(r.out1).to.have.length(0);
    for (const f of r.out0) expect(icmp6ChecksumValid(f)).to.equal(true);
    expect(r.stats.control.icmp6_param_problem).to.equal(1n);
    expectAccounted(r.stats);
  });

  it('answers an ICMPv6 Echo Request to its own address with a valid Echo Reply', async () => {
    const data = Buffer.from('0001000700112233', 'hex'); // identifier 1, sequence 7, data
    const body = Buffer.concat([Buffer.from([128, 0, 0, 0]), data]);
    const request = ip6Frame({ dstMac: R0, srcMac: H1, src: '2001:db8:1::2', dst: '2001:db8:2::1', nextHeader: 58, payload: body, hopLimit: 3 });
    setIcmp6Checksum(request);
    const badSum = Buffer.from(request);
    badSum[14 + 40 + 2] ^= 0xff;
    const r = await runAndRead(dir, [request, badSum], { mldDone: true });
    expect(r.out0).to.have.length(1);
    const reply = r.out0[0];
    expect(reply.subarray(0, 6).toString('hex')).to.equal(H1.replace(/:/g, ''));
    expect(reply.subarray(6, 12).toString('hex')).to.equal(R0.replace(/:/g, ''));
    expect(reply.subarray(14 + 8, 14 + 24).equals(request.subarray(14 + 24, 14 + 40))).to.equal(true); // src = the address asked
    expect(reply.subarray(14 + 24, 14 + 40).equals(request.subarray(14 + 8, 14 + 24))).to.equal(true);
    expect(reply[14 + 40]).to.equal(129);
    expect(reply.subarray(14 + 44).equals(data)).to.equal(true);
    expect(icmp6ChecksumValid(reply)).to.equal(true);
    expect(r.stats.control.icmp6_echo_replies).to.equal(1n);
    expect(r.stats.control.icmp6_invalid).to.equal(1n);
    expect(r.stats.totals.ctl_tx).to.equal(1n + r.mld.eth0.n + r.mld.eth1.n);
    expect(r.stats.ports.eth0.opackets).to.equal(1n + r.mld.eth0.n);
    expectAccounted(r.stats);
  });

  it('routes what it originates: a reply follows the route back, and waits for an unresolved neighbour', async () => {
    const echo = (src: string): Buffer => {
      const f = ip6Frame({ dstMac: R0, srcMac: H1, src, dst: '2001:db8:1::1', nextHeader: 58, payload: Buffer.from([128, 0, 0, 0, 0, 1, 0, 1]) });
      setIcmp6Checksum(f);
      return f;
    };
    // From 2001:db8:3::9, whose route is via fe80::2 on eth1, though it came in on eth0 (asymmetric path);
    // from 2001:db8:1::77, on eth0's prefix but with no neighbour entry yet.
    const r = await runAndRead(dir, [echo('2001:db8:3::9'), echo('2001:db8:1::77')]);
    const replies1 = r.out1.filter((f) => f[54] === 129);
    expect(replies1).to.have.length(1);
    expect(replies1[0].subarray(0, 6).toString('hex')).to.equal(H2.replace(/:/g, '')); // the gateway's MAC
    expect(replies1[0].subarray(6, 12).toString('hex')).to.equal(R1.replace(/:/g, ''));
    expect(replies1[0][14 + 7]).to.equal(64); // originated: no hop spent
    expect(r.out0.filter((f) => f[54] === 129)).to.have.length(0);
    // The other reply is held while ::77 is solicited on eth0.
    const solicit = r.out0.filter((f) => f[54] === 135);
    expect(solicit.length).to.be.at.least(1);
    expect(solicit[0].subarray(54 + 8, 54 + 24).equals(Buffer.from(parseIPv6('2001:db8:1::77')))).to.equal(true);
    expect(r.stats.control.nd_held).to.equal(1n);
    expect(r.stats.control.icmp6_echo_replies).to.equal(2n);
  });

  it('answers Neighbor Solicitations for its addresses and learns the solicitor', async () => {
    const frames = [
      ns('2001:db8:1::5', 'ff02::1:ff00:1', '33:33:ff:00:00:01', '2001:db8:1::1'), // resolve us
      ns('::', 'ff02::1:ff00:1', '33:33:ff:00:00:01', '2001:db8:1::1'), // DAD probe for our address
      ns('2001:db8:1::5', '2001:db8:1::1', R0, '2001:db8:1::1', 64), // hop limit not 255: invalid
      ns('2001:db8:1::5', 'ff02::1:ff00:9', '33:33:ff:00:00:09', '2001:db8:1::9'), // not our address
    ];
    const r = await runAndRead(dir, frames, {
      during: async (router) => {
        const learned = router.neighbours.list().find((n) => n.address === '2001:db8:1::5');
        expect(learned, JSON.stringify(router.neighbours.list())).to.deep.include({ dev: 'eth0', mac: H1, state: 'stale' });
      },
    });
    expect(r.out0).to.have.length(2);
    const [na, dadNa] = r.out0;
    for (const f of [na, dadNa]) {
      expect(f[14 + 7]).to.equal(255); // hop limit
      expect(f[54]).to.equal(136); // Neighbor Advertisement
      expect(f.subarray(14 + 8, 14 + 24).equals(Buffer.from(parseIPv6('2001:db8:1::1')))).to.equal(true); // from the target
      expect(f.subarray(54 + 8, 54 + 24).equals(Buffer.from(parseIPv6('2001:db8:1::1')))).to.equal(true); // target
      expect([...f.subarray(54 + 24, 54 + 32)]).to.deep.equal([2, 1, ...parseMac(R0)]); // target link-layer option
      expect(icmp6ChecksumValid(f)).to.equal(true);
    }
    expect(na[54 + 4]).to.equal(0x80 | 0x40 | 0x20); // Router, Solicited, Override
    expect(na.subarray(0, 6).toString('hex')).to.equal(H1.replace(/:/g, ''));
    expect(na.subarray(14 + 24, 14 + 40).equals(Buffer.from(parseIPv6('2001:db8:1::5')))).to.equal(true);
    expect(dadNa[54 + 4]).to.equal(0x80 | 0x20); // not solicited: the prober has no address yet
    expect(dadNa.subarray(14 + 24, 14 + 40).equals(Buffer.from(parseIPv6('ff02::1')))).to.equal(true);
    expect(dadNa.subarray(0, 6).toString('hex')).to.equal('333300000001');
    expect(r.stats.control.nd_na_out).to.equal(2n);
    expect(r.stats.control.nd_invalid).to.equal(1n);
    expect(r.stats.control.nd_learned).to.equal(1n);
    expectAccounted(r.stats);
  });

  it('answers an exhausted hop limit with ICMPv6 Time Exceeded, never about an error', async () => {
    const expired = udp({ hopLimit: 1, payload: Buffer.alloc(1400, 7) });
    const errorBody = Buffer.concat([Buffer.from([1, 4, 0, 0, 0, 0, 0, 0]), Buffer.alloc(40)]); // a destination unreachable
    const expiredError = ip6Frame({ dstMac: R0, srcMac: H1, src: '2001:db8:1::2', dst: '2001:db8:2::2', nextHeader: 58, payload: errorBody, hopLimit: 1 });
    setIcmp6Checksum(expiredError);
    const r = await runAndRead(dir, [expired, expiredError]);
    expect(r.out0).to.have.length(1);
    const te = r.out0[0];
    expect(te.subarray(0, 6).toString('hex')).to.equal(H1.replace(/:/g, ''));
    expect(te.subarray(14 + 8, 14 + 24).equals(Buffer.from(parseIPv6('2001:db8:1::1')))).to.equal(true); // ingress address
    expect(te.subarray(14 + 24, 14 + 40).equals(Buffer.from(parseIPv6('2001:db8:1::2')))).to.equal(true);
    expect([te[54], te[55]]).to.deep.equal([3, 0]);
    // The quote: the offending packet from its IPv6 header, cut so the error fits in 1280 bytes.
    expect(te.length - 14).to.equal(1280);
    expect(te.subarray(54 + 8).equals(expired.subarray(14, 14 + 1280 - 48))).to.equal(true);
    expect(icmp6ChecksumValid(te)).to.equal(true);
    expect(r.stats.drops.hop_limit).to.equal(2n);
    expect(r.stats.control.icmp6_time_exceeded).to.equal(1n);
    expect(r.stats.control.icmp6_error_not_allowed).to.equal(1n);
    expectAccounted(r.stats);
  });

  it('answers no route with Destination Unreachable and an oversize packet with Packet Too Big', async () => {
    const noRoute = udp({ dst: '2001:db8:99::1' });
    const big = udp({ payload: Buffer.alloc(1300, 1) }); // 1348 bytes of IPv6 > eth1's 1280
    const r = await runAndRead(dir, [noRoute, big, big], { eth1Mtu: 1280 });
    expect(r.out1).to.have.length(0);
    const du = r.out0.find((f) => f[54] === 1);
    const ptb = r.out0.filter((f) => f[54] === 2);
    expect(du, 'destination unreachable').to.not.equal(undefined);
    expect(du![55]).to.equal(0); // no route to destination
    expect(du!.subarray(54 + 8, 54 + 8 + 40).equals(noRoute.subarray(14, 54))).to.equal(true);
    // Each oversize packet gets its own Packet Too Big carrying the egress MTU.
    expect(ptb).to.have.length(2);
    expect(ptb[0].readUInt32BE(54 + 4)).to.equal(1280);
    for (const f of [du!, ...ptb]) expect(icmp6ChecksumValid(f)).to.equal(true);
    expect(r.stats.drops.no_route).to.equal(1n);
    expect(r.stats.drops.mtu_exceeded).to.equal(2n);
    expect(r.stats.control.icmp6_unreachable).to.equal(1n);
    expect(r.stats.control.icmp6_too_big).to.equal(2n);
    expectAccounted(r.stats);
  });

  it('an NS flood for random targets grows no table and forwarding continues; flush removes learned entries', async () => {
    const hex = (n: number): string => (n & 0xffff).toString(16);
    const frames: Buffer[] = [];
    for (let i = 0; i < 5; i++) frames.push(ns(`2001:db8:1::${hex(0x100 + i)}`, 'ff02::1:ff00:1', '33:33:ff:00:00:01', '2001:db8:1::1'));
    for (let i = 0; i < 2000; i++) {
      const target = `2001:db8:1::${hex(0x1000 + i)}:${hex(i * 7919)}`;
      frames.push(ns(`2001:db8:1::${hex(0x5000 + i)}`, 'ff02::1:ff00:1', '33:33:ff:00:00:01', target));
    }
    for (let i = 0; i < 10; i++) frames.push(udp({ srcPort: 2000 + i }));
    const r = await runAndRead(dir, frames, {
      during: async (router) => {
        const learned = router.neighbours.list().filter((n) => n.state !== 'permanent');
        expect(learned.map((n) => n.address).sort()).to.deep.equal(['100', '101', '102', '103', '104'].map((x) => `2001:db8:1::${x}`));
        expect(router.neighbours.flush({ dev: 'eth0' })).to.equal(5);
        expect(router.neighbours.list().every((n) => n.state === 'permanent')).to.equal(true);
        expect(() => router.neighbours.flush({ dev: 'eth9' })).to.throw(FastpathError, /eth9/);
      },
    });
    expect(r.out1).to.have.length(10);
    // At line rate the bounded punt ring overflows: what did not fit is
    // counted (punt_ring_full), never waited for; the rest was examined.
    expect(r.stats.totals.punted + r.stats.drops.punt_ring_full).to.equal(2005n);
    expect(r.stats.control.nd_ns_in).to.equal(r.stats.totals.punted);
    expect(r.stats.control.nd_na_out).to.equal(5n);
    expectAccounted(r.stats);
  });

  it('takes a neighbour advertisement as RFC 4861 7.2.5 says (Override, Solicited, unknown targets)', async () => {
    const OTHER = '02:00:00:00:00:cc';
    const frames = [
      ns('2001:db8:1::5', 'ff02::1:ff00:1', '33:33:ff:00:00:01', '2001:db8:1::1'), // learned: STALE, H1
      na(OTHER, '2001:db8:1::5', '2001:db8:1::1', R0, '2001:db8:1::5', 0x40), // another MAC, no Override: ignored
      na(OTHER, '2001:db8:1::7', 'ff02::1', '33:33:00:00:00:01', '2001:db8:1::7', 0x20), // nobody asked: ignored
    ];
    await run(dir, frames, {
      during: async (router) => {
        const e = router.neighbours.list().find((n) => n.address === '2001:db8:1::5');
        expect(e).to.deep.include({ mac: H1, state: 'stale' });
        expect(router.neighbours.list().find((n) => n.address === '2001:db8:1::7')).to.equal(undefined);
      },
    });
    const frames2 = [
      ns('2001:db8:1::5', 'ff02::1:ff00:1', '33:33:ff:00:00:01', '2001:db8:1::1'),
      na(OTHER, '2001:db8:1::5', '2001:db8:1::1', R0, '2001:db8:1::5', 0x40 | 0x20), // Override + Solicited: taken, REACHABLE
    ];
    const r = await run(dir, frames2, {
      during: async (router) => {
        const e = router.neighbours.list().find((n) => n.address === '2001:db8:1::5');
        expect(e).to.deep.include({ mac: OTHER, state: 'reachable' });
      },
    });
    expect(r.stats.control.nd_na_in).to.equal(1n);
  });

  it('a flood of solicitations from random sources fills the table to its bound, then unused entries are collected', async () => {
    const hex = (n: number): string => (n & 0xffff).toString(16);
    const frames: Buffer[] = [];
    for (let i = 0; i < 300; i++) frames.push(ns(`2001:db8:1::${hex(0x1000 + i)}`, 'ff02::1:ff00:1', '33:33:ff:00:00:01', '2001:db8:1::1'));
    for (let i = 0; i < 5; i++) frames.push(udp({ srcPort: 3000 + i }));
    const r = await runAndRead(dir, frames, {
      extra: { neighbourDiscovery: { maxNeighbours: 64 } },
      during: async (router) => {
        const c = router.stats().control;
        expect(c.nd_table_full > 0n, 'learning stopped at the bound').to.equal(true);
        expect(router.neighbours.list().filter((n) => n.state !== 'incomplete').length).to.be.at.most(64);
        // Unused STALE entries go after 1 s once the table was found full.
        expect(await waitFor(() => router.stats().control.nd_gc_evicted > 0n, 4000)).to.equal(true);
        const left = router.neighbours.list();
        expect(left.filter((n) => n.state === 'permanent')).to.have.length(3); // static ones stay
        expect(left.length).to.be.lessThan(64);
      },
    });
    expect(r.out1).to.have.length(5); // forwarding went on
    expectAccounted(r.stats);
  });

  it('limits ICMPv6 errors with a token bucket per lcore, counting what it did not send', async () => {
    const frames: Buffer[] = [];
    for (let i = 0; i < 40; i++) frames.push(udp({ hopLimit: 1, srcPort: 4000 + i }));
    const r = await runAndRead(dir, frames, { extra: { icmpErrors: { perSecond: 1, burst: 5 } } });
    const sent = r.out0.filter((f) => f[54] === 3).length; // Time Exceeded
    expect(sent).to.be.within(5, 6); // the burst, maybe one refill
    expect(r.stats.drops.hop_limit).to.equal(40n);
    expect(r.stats.totals.icmp6_error_ratelimited).to.equal(BigInt(40 - sent));
    expect(r.stats.control.icmp6_time_exceeded).to.equal(BigInt(sent));
    expectAccounted(r.stats);
  });

  it('caches UDP flows per (src, dst, flow label) and never ICMPv6', async () => {
    const frames: Buffer[] = [];
    for (let i = 0; i < 4; i++) frames.push(udp({ flowLabel: 1 }));
    for (let i = 0; i < 3; i++) frames.push(udp({ flowLabel: 2 }));
    frames.push(udp({ nextHeader: 58, payload: Buffer.from([128, 0, 0, 0, 0, 1, 0, 1]) }));
    const r = await runAndRead(dir, frames);
    expect(r.out1).to.have.length(8);
    const labels = r.flows.map((f) => f.flowLabel).sort();
    expect(labels).to.deep.equal([1, 2]);
    for (const f of r.flows) {
      expect(f.src).to.equal('2001:db8:1::2');
      expect(f.dst).to.equal('2001:db8:2::2');
      expect(f.inDev).to.equal('eth0');
      expect(f.outDev).to.equal('eth1');
      expect(f.nextHopMac).to.equal(H2);
    }
    // Uses are the packets of each flow: live entry + what refreshes folded.
    const fc = r.stats.flowCache;
    const live = r.flows.reduce((a, f) => a + f.uses, 0n);
    expect(live + r.stats.totals.flow_folded_uses).to.equal(7n);
    expect(fc.hits + fc.misses).to.equal(8n);
    expect(fc.inuse).to.equal(2n);
  });

  it('forwards with the cache disabled (maxflows 0) and keeps no entries', async () => {
    const r = await runAndRead(dir, [udp(), udp(), udp()], { maxflows: 0 });
    expect(r.out1).to.have.length(3);
    expect(r.flows).to.have.length(0);
    expect(r.stats.flowCache.hits).to.equal(0n);
    expect(r.stats.totals.fib_lookups).to.equal(3n);
  });

  it('applies flowCache.configure at run time through each worker', async () => {
    await run(dir, [udp({ flowLabel: 1 }), udp({ flowLabel: 2 })], {
      during: async (router) => {
        expect(await router.flowCache.list()).to.have.length(2);
        await router.flowCache.configure({ maxflows: 8, hashsize: 4 });
        expect(router.flowCache.config).to.deep.equal({ maxflows: 8, hashsize: 4, mode: 'cache' });
        expect(await router.flowCache.list()).to.have.length(0);
        const s = router.stats();
        expect(s.totals.flow_invalidate).to.equal(2n);
        expect(s.totals.cmd_handled >= 3n).to.equal(true);
        for (const bad of [{ hashsize: 3 }, { maxflows: -1 }, { hashsize: 0 }]) {
          let err: unknown;
          try {
            await router.flowCache.configure(bad);
          } catch (e) {
            err = e;
          }
          expect(err).to.be.instanceOf(FastpathError);
          expect((err as FastpathError).code).to.equal('EINVAL');
        }
        expect(router.flowCache.config).to.deep.equal({ maxflows: 8, hashsize: 4, mode: 'cache' });
      },
    });
  });

  it('rejects bad route and neighbour input with a typed error and changes nothing', async () => {
    await run(dir, [udp()], {
      during: async (router) => {
        const before = JSON.stringify(router.routes.list());
        const cases: Array<[() => void, string, RegExp]> = [
          [() => router.routes.add('2001:db8:2::/64', { dev: 'eth1' }), 'EEXIST', /2001:db8:2::\/64/],
          [() => router.routes.add('2001:db8:9::1/64', { dev: 'eth1' }), 'EINVAL', /host bits/],
          [() => router.routes.add('nonsense', { dev: 'eth1' }), 'EINVAL', /nonsense/],
          [() => router.routes.add('2001:db8:9::/64', { dev: 'eth9' }), 'ENOENT', /eth9/],
          [() => router.routes.add('2001:db8:9::/64', { via: 'ff02::1', dev: 'eth1' }), 'EINVAL', /ff02::1/],
          [() => router.routes.delete('2001:db8:77::/64'), 'ENOENT', /2001:db8:77::\/64/],
          [() => router.routes.delete('2001:db8:1::/64'), 'EPERM', /address/],
          [() => router.neighbours.add({ address: '2001:db8:2::9', mac: 'zz', dev: 'eth1' }), 'EINVAL', /zz/],
          [() => router.neighbours.add({ address: '2001:db8:2::9', mac: '01:00:5e:00:00:01', dev: 'eth1' }), 'EINVAL', /unicast/],
          [() => router.neighbours.delete({ address: '2001:db8:2::99', dev: 'eth1' }), 'ENOENT', /2001:db8:2::99/],
        ];
        for (const [fn, code, msg] of cases) {
          expect(fn).to.throw(FastpathError, msg).with.property('code', code);
        }
        expect(JSON.stringify(router.routes.list())).to.equal(before);
      },
    });
  });

  it('refuses a second router in the process (EBUSY) and starts again after stop', async () => {
    await run(dir, [udp()], {
      during: async () => {
        let err: unknown;
        try {
          await Router.start({ eal: TEST_EAL, ports: [{ name: 'x0', device: 'net_null9' }] });
        } catch (e) {
          err = e;
        }
        expect(err).to.be.instanceOf(FastpathError);
        expect((err as FastpathError).code).to.equal('EBUSY');
      },
    });
    // run() stopped it; another run in the same process works (EAL stays up).
    const r = await runAndRead(dir, [udp()]);
    expect(r.out1).to.have.length(1);
  });
});

describe('Router.start failures', function () {
  this.timeout(60000);

  it('rejects a bad config with EINVAL naming the field, before touching DPDK', async () => {
    let err: unknown;
    try {
      await Router.start({ eal: TEST_EAL, ports: [{ name: 'eth0', device: 'net_null0', mtu: 70000 }] });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(FastpathError);
    expect((err as FastpathError).code).to.equal('EINVAL');
    expect((err as FastpathError).path).to.equal('ports[0].mtu');
    expect((err as FastpathError).message).to.match(/70000/);
  });

  it('a device that does not probe fails with ENODEV and leaves nothing behind', async () => {
    let err: unknown;
    try {
      await Router.start({
        eal: TEST_EAL,
        ports: [
          { name: 'eth0', device: 'net_null0' },
          { name: 'eth1', device: 'net_pcap1,rx_pcap=/nonexistent/in.pcap,tx_pcap=/nonexistent/out.pcap' },
        ],
      });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(FastpathError);
    expect((err as FastpathError).code).to.equal('ENODEV');
    expect((err as FastpathError).message).to.match(/eth1/);
    expect(Router.active).to.equal(undefined);
    // net_null0 was attached by the failed start and must have been detached.
    const r = await Router.start({ eal: TEST_EAL, ports: [{ name: 'eth0', device: 'net_null0' }] });
    expect(r.interfaces.list().map((i) => i.name)).to.deep.equal(['eth0']);
    await r.stop();
  });
});

describe('stop() while the control thread learns neighbours', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => (dir = scratchDir('stop')));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('returns (the control thread takes the table lock, stop must not hold it while joining)', async () => {
    // Solicitations whose source link-layer address alternates: every one
    // changes the learned entry, so the control thread takes the lock non-stop.
    const frames = [0, 1].map((k) => {
      const f = ns('2001:db8:1::5', 'ff02::1:ff00:1', '33:33:ff:00:00:01', '2001:db8:1::1');
      f[54 + 26 + 5] = 0xa0 + k; // last byte of the source link-layer option
      setIcmp6Checksum(f);
      return f;
    });
    const inFile = path.join(dir, 'ns.pcap');
    writePcap(inFile, frames);
    for (let round = 0; round < 20; round++) {
      const router = await Router.start({
        eal: TEST_EAL,
        ports: [{ name: 'eth0', device: `net_pcap0,rx_pcap=${inFile},tx_pcap=/dev/null,infinite_rx=1`, mac: R0, addresses: ['2001:db8:1::1/64'], dadTransmits: 0 }],
      });
      expect(await waitFor(() => router.stats().control.nd_learned > 100n), 'learning').to.equal(true);
      const stopped = await Promise.race([router.stop().then(() => true), sleep(10000).then(() => false)]);
      expect(stopped, 'stop() returned').to.equal(true);
    }
  });
});

describe('route changes under traffic (net_pcap infinite_rx → net_null)', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => (dir = scratchDir('churn')));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('adds and deletes routes while the worker forwards at full rate', async () => {
    const frames: Buffer[] = [];
    for (let i = 0; i < 64; i++) frames.push(udp({ dst: `2001:db8:3::${(i + 1).toString(16)}`, srcPort: 1000 + i }));
    const inFile = path.join(dir, 'loop.pcap');
    writePcap(inFile, frames);
    const router = await Router.start({
      eal: TEST_EAL,
      ports: [
        { name: 'eth0', device: `net_pcap0,rx_pcap=${inFile},infinite_rx=1`, mac: R0, addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
        { name: 'eth1', device: 'net_null0,no-rx=1', mac: R1, addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
      ],
      neighbours: [{ address: 'fe80::2', mac: H2, dev: 'eth1' }],
    });
    try {
      let changes = 0;
      const end = Date.now() + 2000;
      while (Date.now() < end) {
        router.routes.add('2001:db8:3::/64', { via: 'fe80::2', dev: 'eth1' });
        // Unrelated routes churn the trie too (tbl8 groups freed and reused).
        for (let i = 0; i < 16; i++) router.routes.add(`2001:db8:${(0x100 + i).toString(16)}::/48`, { via: 'fe80::2', dev: 'eth1' });
        await sleep(5);
        for (let i = 0; i < 16; i++) router.routes.delete(`2001:db8:${(0x100 + i).toString(16)}::/48`);
        router.routes.delete('2001:db8:3::/64');
        await sleep(5);
        changes += 34;
      }
      const s = router.stats();
      // Traffic flowed while routes existed, and was dropped as no_route while they did not.
      expect(s.totals.forwarded > 0n).to.equal(true);
      expect(s.drops.no_route > 0n).to.equal(true);
      expect(s.control.route_changes).to.equal(BigInt(changes));
      // Entries went stale under the churn (by the hit path or the background
      // scan: this cannot tell which). That a cached flow follows a change on
      // its very next packet is test/integration/flowcache-follow.test.ts.
      expect(s.totals.flow_stale > 0n || s.totals.flow_invalidate > 0n).to.equal(true);
      expect(router.routes.list().filter((r) => r.kind === 'static')).to.have.length(0);
      // Still forwarding after the churn.
      router.routes.add('2001:db8:3::/64', { via: 'fe80::2', dev: 'eth1' });
      const f0 = router.stats().totals.forwarded;
      await sleep(200);
      expect(router.stats().totals.forwarded > f0).to.equal(true);
    } finally {
      await router.stop();
    }
  });
});

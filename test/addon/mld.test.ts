// MLD input validation at packet level (net_pcap): crafted bad messages are
// discarded and counted and change nothing; a valid MLDv1 query switches
// the interface to MLDv1 compatibility (RFC 3810 8.2.1).
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { Router } from '../../lib';
import { parseIPv6, parseMac } from '../../lib/addr';
import { readPcap, writePcap } from '../../lib/pcap';
import { isMld } from '../helpers/frames';
import { scratchDir, sleep, TEST_EAL, waitFor } from '../helpers/router-env';

const R0 = '02:00:00:00:00:01';
const Q = '02:00:00:00:00:99'; // a querier

/** An MLD message behind a hop-by-hop header with Router Alert; checksum right unless told. */
function mldFrame(o: { src: string; dst: string; hlim?: number; body: Buffer; badChecksum?: boolean; truncateTo?: number }): Buffer {
  const eth = Buffer.alloc(14);
  const dst = Buffer.from(parseIPv6(o.dst));
  Buffer.from([0x33, 0x33, ...dst.subarray(12)]).copy(eth, 0);
  Buffer.from(parseMac(Q)).copy(eth, 6);
  eth.writeUInt16BE(0x86dd, 12);
  const hbh = Buffer.from([58, 0, 5, 2, 0, 0, 1, 0]);
  const body = Buffer.from(o.body);
  const ip = Buffer.alloc(40);
  ip.writeUInt32BE(0x60000000, 0);
  ip.writeUInt16BE(8 + body.length, 4);
  ip[6] = 0;
  ip[7] = o.hlim ?? 1;
  Buffer.from(parseIPv6(o.src)).copy(ip, 8);
  dst.copy(ip, 24);
  // ICMPv6 checksum: pseudo-header with the message's own length.
  const pseudo = Buffer.concat([ip.subarray(8, 40), Buffer.from([0, 0, body.length >> 8, body.length & 0xff, 0, 0, 0, 58]), body]);
  let sum = 0;
  for (let i = 0; i < pseudo.length; i += 2) sum += (pseudo[i] << 8) | (pseudo[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  body.writeUInt16BE(~sum & 0xffff ^ (o.badChecksum ? 0x5a5a : 0), 2);
  const frame = Buffer.concat([eth, ip, hbh, body]);
  return o.truncateTo !== undefined ? frame.subarray(0, o.truncateTo) : frame;
}

/** An MLDv1 query (24 bytes) for group (:: = general), max response delay in ms. */
const v1Query = (group: string, mrd = 1000): Buffer => {
  const b = Buffer.alloc(24);
  b[0] = 130;
  b.writeUInt16BE(mrd, 4);
  Buffer.from(parseIPv6(group)).copy(b, 8);
  return b;
};

/** An MLDv2 query (28 bytes + sources) for group with the given sources, max response code 0. */
const v2Query = (group: string, sources: string[]): Buffer => {
  const b = Buffer.alloc(28 + 16 * sources.length);
  b[0] = 130;
  Buffer.from(parseIPv6(group)).copy(b, 8);
  b[25] = 125; // QQIC
  b.writeUInt16BE(sources.length, 26);
  sources.forEach((src, i) => Buffer.from(parseIPv6(src)).copy(b, 28 + 16 * i));
  return b;
};

/** The MLDv2 report records of a frame: [type, group, sources]. */
function v2Records(frame: Buffer): { type: number; group: string; sources: string[] }[] {
  const msg = 14 + 40 + 8;
  const out: { type: number; group: string; sources: string[] }[] = [];
  let off = msg + 8;
  for (let r = 0; r < frame.readUInt16BE(msg + 6); r++) {
    const nsrc = frame.readUInt16BE(off + 2);
    const hex = (o: number): string => frame.subarray(o, o + 16).toString('hex');
    out.push({ type: frame[off], group: hex(off + 4), sources: Array.from({ length: nsrc }, (_, i) => hex(off + 20 + 16 * i)) });
    off += 20 + 16 * nsrc + 4 * frame[off + 1];
  }
  return out;
}

describe('MLD input (net_pcap)', function () {
  this.timeout(30000);
  let dir: string;
  beforeEach(() => (dir = scratchDir('mld')));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function run(frames: Buffer[], check: (r: Router) => Promise<void>): Promise<Buffer[]> {
    const inFile = path.join(dir, 'in.pcap');
    const outFile = path.join(dir, 'out.pcap');
    writePcap(inFile, frames);
    const router = await Router.start({
      eal: TEST_EAL,
      ports: [{ name: 'eth0', device: `net_pcap0,rx_pcap=${inFile},tx_pcap=${outFile}`, mac: R0, addresses: ['2001:db8:1::1/64'], dadTransmits: 0 }],
    });
    try {
      expect(await waitFor(() => router.stats().totals.rx_packets === BigInt(frames.length))).to.equal(true);
      await sleep(100);
      await check(router);
    } finally {
      await router.stop();
    }
    return readPcap(outFile);
  }

  it('discards and counts MLD with a global source, hop limit 2, truncated or with a bad checksum; nothing changes', async () => {
    const q = v1Query('::');
    const frames = [
      mldFrame({ src: '2001:db8:1::9', dst: 'ff02::1', body: q }),
      mldFrame({ src: 'fe80::9', dst: 'ff02::1', hlim: 2, body: q }),
      mldFrame({ src: 'fe80::9', dst: 'ff02::1', body: q.subarray(0, 20) }),
      mldFrame({ src: 'fe80::9', dst: 'ff02::1', body: q, badChecksum: true }),
    ];
    await run(frames, async (router) => {
      const c = router.stats().control;
      expect(c.mld_in).to.equal(4n);
      expect(c.mld_bad_source).to.equal(1n);
      expect(c.mld_bad_hop_limit).to.equal(1n);
      expect(c.mld_truncated).to.equal(1n);
      expect(c.mld_bad_checksum).to.equal(1n);
      expect(c.mld_v1_query_in + c.mld_v2_query_in).to.equal(0n);
      expect(router.interfaces.groups('eth0').version, 'no v1 querier taken from a bad query').to.equal(2);
    });
  });

  it('a valid MLDv1 query puts the interface in v1 mode; groups answer with v1 reports; the automatic groups are listed', async () => {
    const out = await run([mldFrame({ src: 'fe80::9', dst: 'ff02::1', body: v1Query('::', 0) })], async (router) => {
      const c = router.stats().control;
      expect(c.mld_v1_query_in).to.equal(1n);
      const g = router.interfaces.groups('eth0');
      expect(g.version).to.equal(1);
      const addrs = g.groups.map((x) => x.address);
      expect(addrs).to.include.members(['ff02::1', 'ff02::2', 'ff02::16', 'ff02::1:ff00:1']);
      for (const x of g.groups) expect(x.automatic).to.equal(true);
      expect(() => router.interfaces.leaveGroup('eth0', 'ff02::2')).to.throw(/needs that group/);
      expect(() => router.interfaces.leaveGroup('eth0', 'ff05::9')).to.throw(/not a member/);
      expect(() => router.interfaces.joinGroup('eth0', '2001:db8::1')).to.throw(/not a multicast/);
      expect(await waitFor(() => router.stats().control.mld_v1_report_out > 0n, 2000), 'v1 reports after the query').to.equal(true);
    });
    const reports = out.filter(isMld).map((f) => f[14 + 40 + 8]);
    expect(reports).to.include(131);
  });

  it('answers an MLDv2 group-and-source query with IS_IN of the sources asked about (RFC 3810 6.3)', async () => {
    const group = 'ff02::1:ff00:1'; // our solicited-node group
    const hex = (a: string): string => Buffer.from(parseIPv6(a)).toString('hex');
    const answersIn = (frames: Buffer[]): { type: number; group: string; sources: string[] }[] =>
      frames.filter(isMld).flatMap(v2Records).filter((r) => r.group === hex(group) && r.type === 1);
    const out = await run([mldFrame({ src: 'fe80::9', dst: group, body: v2Query(group, ['fe80::77', 'fe80::78']) })], async (router) => {
      expect(router.stats().control.mld_v2_query_in).to.equal(1n);
      // The answer itself (the pcap PMD flushes every burst), not a report
      // count that the start-up reports already satisfy.
      expect(await waitFor(() => answersIn(readPcap(path.join(dir, 'out.pcap'))).length > 0, 5000), 'the answer was sent').to.equal(true);
    });
    const answers = answersIn(out);
    expect(answers).to.have.length(1);
    expect(answers[0].sources).to.deep.equal([hex('fe80::77'), hex('fe80::78')]);
  });
});

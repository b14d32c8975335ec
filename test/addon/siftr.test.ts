// SIFTR on forwarded TCP, packet level: TCP segments go in through a net_pcap
// rx_pcap file and are forwarded to eth1; the log the writer thread wrote is
// read back with parseSiftrLog and checked against what was sent, exactly.
// The two-way inference (RTT, in-flight, windows) is proven against Linux
// hosts in test/integration/siftr.test.ts.
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { FastpathError, Router, RouterConfig } from '../../lib';
import { ip6Frame, writePcap } from '../../lib/pcap';
import { parseSiftrLog } from '../../lib/siftr-log';
import { scratchDir, sleep, TEST_EAL, waitFor } from '../helpers/router-env';

const R0 = '02:00:00:00:00:01';
const R1 = '02:00:00:00:00:02';
const H1 = '02:00:00:00:00:aa';
const H2 = '02:00:00:00:00:bb';
const CLIENT = '2001:db8:1::2';
const SERVER = '2001:db8:3::5';
const FLOW = { localAddress: CLIENT, localPort: 40000, foreignAddress: SERVER, foreignPort: 5201 };

const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;
const TF_FASTRECOVERY = 0x00100000;

/** A TCP segment from h1 (eth0's link) to a host behind eth1's next hop. */
function segment(o: { sport: number; dport: number; seq: number; ack?: number; flags: number; dst?: string; options?: number[]; payload?: number }): Buffer {
  const opts = Buffer.from(o.options ?? []);
  const hl = 20 + opts.length;
  const th = Buffer.alloc(hl + (o.payload ?? 0));
  th.writeUInt16BE(o.sport, 0);
  th.writeUInt16BE(o.dport, 2);
  th.writeUInt32BE(o.seq >>> 0, 4);
  th.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  th[12] = (hl / 4) << 4;
  th[13] = o.flags;
  th.writeUInt16BE(65535, 14);
  opts.copy(th, 20);
  return ip6Frame({ srcMac: H1, dstMac: R0, src: CLIENT, dst: o.dst ?? SERVER, nextHeader: 6, payload: th });
}

/** MSS 1440, SACK-permitted, window scale 7, NOP-padded to 12 bytes. */
const SYN_OPTIONS = [2, 4, 0x05, 0xa0, 4, 2, 3, 3, 7, 1, 1, 1];

/** A connection's SYN, `n` data segments of 100 bytes, and one of them again. */
function connection(sport: number, n: number): Buffer[] {
  const out = [segment({ sport, dport: 5201, seq: 1000, flags: SYN, options: SYN_OPTIONS })];
  for (let i = 0; i < n; i++) out.push(segment({ sport, dport: 5201, seq: 1001 + 100 * i, ack: 1, flags: ACK | PSH, payload: 100 }));
  out.push(segment({ sport, dport: 5201, seq: 1001, ack: 1, flags: ACK | PSH, payload: 100 })); // retransmission
  return out;
}

/** A segment of a connection whose SYN the router never saw (port 22). */
const midstream = (): Buffer => segment({ sport: 50000, dport: 22, seq: 77, ack: 1, flags: ACK, dst: '2001:db8:3::6', payload: 10 });

async function withRouter(dir: string, frames: Buffer[], siftr: RouterConfig['siftr'], body: (r: Router) => Promise<void>): Promise<void> {
  const inFile = path.join(dir, 'in.pcap');
  const empty = path.join(dir, 'empty.pcap');
  writePcap(inFile, frames);
  writePcap(empty, []);
  const router = await Router.start({
    eal: TEST_EAL,
    ports: [
      { name: 'eth0', device: `net_pcap0,rx_pcap=${inFile},tx_pcap=${path.join(dir, 'out0.pcap')}`, mac: R0, addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
      { name: 'eth1', device: `net_pcap1,rx_pcap=${empty},tx_pcap=${path.join(dir, 'out1.pcap')}`, mac: R1, addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
    ],
    routes: [{ prefix: '2001:db8:3::/64', via: 'fe80::2', dev: 'eth1' }],
    neighbours: [
      { address: 'fe80::2', mac: H2, dev: 'eth1' },
      { address: CLIENT, mac: H1, dev: 'eth0' },
    ],
    siftr,
  });
  try {
    expect(await waitFor(() => router.stats().ports.eth0.ipackets === BigInt(frames.length)), 'every frame received').to.equal(true);
    await sleep(50);
    await body(router);
  } finally {
    await router.stop();
  }
}

describe('SIFTR on forwarded TCP (pcap vdevs)', function () {
  this.timeout(60000);
  const dir = scratchDir('siftr');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('logs every forwarded segment with the seed header, record fields and footer, from the first packet', async () => {
    const log = path.join(dir, 'a.log');
    const frames = [...connection(40000, 10), midstream()];
    await withRouter(dir, frames, { enabled: true, logfile: log }, async (router) => {
      expect(router.stats().totals.forwarded).to.equal(BigInt(frames.length));
      const s = await router.siftr.disable();
      expect(s).to.include({ enabled: false, inbound: 0, outbound: 13, total: 13, totalSkipped: 1, logged: 12, ringFull: 0, writeErrors: 0, retransmissions: 1 });
      expect(s.skipped).to.deep.equal({ inMalloc: 0, outMalloc: 0, inTcpcb: 0, outTcpcb: 0, inInpcb: 0, outInpcb: 1 });
      expect(s.flows).to.deep.equal([FLOW]);
      expect(router.siftr.status().enabled).to.equal(false);
    });
    const parsed = parseSiftrLog(fs.readFileSync(log, 'utf8'));
    expect(parsed.header).to.include({ siftrver: '1.3.0', sysname: 'fastpath', ipmode: 6 });
    expect(parsed.records).to.have.length(12);
    for (const r of parsed.records) {
      expect(r).to.include({ direction: 'o', localAddress: CLIENT, localPort: 40000, foreignAddress: SERVER, foreignPort: 5201, sndCwnd: 0, sndSsthresh: 0 });
      expect(r.timeSecs).to.be.at.least(parsed.header.enableTimeSecs);
    }
    // The SYN's options: the client's MSS offer (the other side has not
    // answered yet), scaling not agreed (one side only), state SYN_SENT.
    expect(parsed.records[0]).to.include({ connState: 2, maxSegSize: 1440, sndScale: 0, rcvScale: 0 });
    // In flight: highest sequence sent minus the ISN (no ACK came back).
    expect(parsed.records[10].sentInflightBytes).to.equal(1 + 10 * 100);
    // The repeated segment is marked as a retransmission, the others not.
    expect(parsed.records.map((r) => (r.flags & TF_FASTRECOVERY) !== 0)).to.deep.equal([...Array(11).fill(false), true]);
    expect(parsed.footer).to.include({ numOutboundTcpPkts: 13n, numInboundTcpPkts: 0n, totalTcpPkts: 13n, numOutboundSkippedPktsInpcb: 1n, totalSkippedTcpPkts: 1n });
    expect(parsed.footer?.flowList).to.deep.equal([FLOW]);
  });

  it('ppl logs every Nth segment of a connection; portFilter keeps only segments with that port', async () => {
    const a = path.join(dir, 'ppl.log');
    const frames = [...connection(40001, 10), midstream()];
    await withRouter(dir, frames, { enabled: true, logfile: a, ppl: 3 }, async (router) => {
      const s = await router.siftr.disable();
      expect(s).to.include({ outbound: 13, logged: 4 }); // segments 3, 6, 9, 12 of 12
    });
    expect(parseSiftrLog(fs.readFileSync(a, 'utf8')).records).to.have.length(4);

    const b = path.join(dir, 'port.log');
    await withRouter(dir, frames, { enabled: true, logfile: b, portFilter: 22, pickupMidstream: true }, async (router) => {
      const s = await router.siftr.disable();
      // Only the port-22 segment counts (the seed leaves the others out of the totals).
      expect(s).to.include({ outbound: 1, filtered: 12, logged: 1 });
    });
    const recs = parseSiftrLog(fs.readFileSync(b, 'utf8')).records;
    expect(recs.map((r) => r.foreignPort)).to.deep.equal([22]);
  });

  it('a full ring skips records and counts them (nskip_out_malloc); forwarding goes on', async () => {
    const log = path.join(dir, 'ring.log');
    const frames = connection(40002, 6000);
    await withRouter(dir, frames, { enabled: true, logfile: log, ringSize: 64 }, async (router) => {
      expect(router.stats().totals.forwarded).to.equal(BigInt(frames.length));
      const s = await router.siftr.disable();
      expect(s.outbound).to.equal(frames.length);
      expect(s.ringFull, 'the burst overran a 64-record ring').to.be.greaterThan(0);
      expect(s.skipped.outMalloc).to.equal(s.ringFull);
      expect(s.logged + s.ringFull).to.equal(frames.length);
    });
    const parsed = parseSiftrLog(fs.readFileSync(log, 'utf8'));
    expect(BigInt(parsed.records.length) + (parsed.footer?.numOutboundSkippedPktsMalloc ?? -1n)).to.equal(BigInt(frames.length));
  });

  it('enable/configure/disable on a running router: lifecycle, errors that change nothing', async () => {
    const first = path.join(dir, 'l1.log');
    const second = path.join(dir, 'l2.log');
    await withRouter(dir, [midstream()], undefined, async (router) => {
      expect(router.siftr.status()).to.include({ enabled: false });
      await router.siftr.disable().then(
        () => expect.fail('disable while off'),
        (e: FastpathError) => expect(e.code).to.equal('EINVAL'),
      );
      for (const [bad, code] of [
        [{ logfile: '' }, 'EINVAL'],
        [{ logfile: first, ppl: 0 }, 'EINVAL'],
        [{ logfile: first, portFilter: 70000 }, 'EINVAL'],
        [{ logfile: first, ringSize: 100 }, 'EINVAL'],
        [{ logfile: first, cwndFilter: true }, 'ENOTSUP'],
        [{ logfile: first, local: 'both' }, 'EINVAL'],
        [{ logfile: first, bogus: 1 }, 'EINVAL'],
        [{ logfile: path.join(dir, 'no-such-dir', 'x.log') }, 'ENOENT'],
      ] as const) {
        await router.siftr.enable(bad as never).then(
          () => expect.fail(`enable(${JSON.stringify(bad)}) should fail`),
          (e: FastpathError) => {
            expect(e, JSON.stringify(bad)).to.be.instanceOf(FastpathError);
            expect(e.code, JSON.stringify(bad)).to.equal(code);
          },
        );
        expect(router.siftr.status().enabled).to.equal(false);
      }
      const st = await router.siftr.enable({ logfile: first, ppl: 2 });
      expect(st).to.include({ enabled: true, logfile: first, ppl: 2, portFilter: 0, files: 1 });
      await router.siftr.enable({ logfile: first }).then(
        () => expect.fail('second enable'),
        (e: FastpathError) => expect(e.code).to.equal('EBUSY'),
      );
      await router.siftr.configure({ logfile: path.join(dir, 'no-such-dir', 'y.log') }).then(
        () => expect.fail('bad logfile'),
        (e: FastpathError) => expect(e.code).to.equal('ENOENT'),
      );
      expect(router.siftr.status()).to.include({ logfile: first, files: 1 });
      const c = await router.siftr.configure({ logfile: second, ppl: 1, portFilter: 5201 });
      expect(c).to.include({ logfile: second, ppl: 1, portFilter: 5201, files: 2 });
      const s = await router.siftr.disable();
      expect(s).to.include({ logfile: second, logged: 0 });
    });
    // The header went to the first file, the footer to the second (the
    // seed's logfile handler: a new file gets no header).
    const one = parseSiftrLog(fs.readFileSync(first, 'utf8'));
    expect(one.header.sysname).to.equal('fastpath');
    expect(one.footer).to.equal(null);
    const two = fs.readFileSync(second, 'utf8');
    expect(two.startsWith('disable_time_secs=')).to.equal(true);
  });

  it('a router stopped with SIFTR on writes the footer', async () => {
    const log = path.join(dir, 'stop.log');
    await withRouter(dir, connection(40003, 3), { enabled: true, logfile: log }, async () => undefined);
    const parsed = parseSiftrLog(fs.readFileSync(log, 'utf8'));
    expect(parsed.records).to.have.length(5);
    expect(parsed.footer).to.include({ numOutboundTcpPkts: 5n });
  });
});

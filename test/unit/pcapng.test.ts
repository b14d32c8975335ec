/**
 * lib/pcapng.ts: the blocks as the pcapng spec lays them out (the
 * integration test reads whole captures back with tshark).
 */
import { expect } from 'chai';

import { pcapngHeader, pcapngPacket } from '../../lib/pcapng';

interface Block {
  type: number;
  body: Buffer;
}

/** Split a pcapng image into blocks, checking each block's two lengths. */
function blocks(b: Buffer): Block[] {
  const out: Block[] = [];
  for (let off = 0; off < b.length; ) {
    const type = b.readUInt32LE(off);
    const len = b.readUInt32LE(off + 4);
    expect(len % 4, 'block length is a multiple of 4').to.equal(0);
    expect(b.readUInt32LE(off + len - 4), 'trailing length').to.equal(len);
    out.push({ type, body: b.subarray(off + 8, off + len - 4) });
    off += len;
  }
  return out;
}

/** Options (code → value) from `from` to the end of a block body. */
function options(body: Buffer, from: number): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  for (let off = from; off < body.length; ) {
    const code = body.readUInt16LE(off);
    const len = body.readUInt16LE(off + 2);
    if (code === 0) break;
    m.set(code, body.subarray(off + 4, off + 4 + len));
    off += 4 + ((len + 3) & ~3);
  }
  return m;
}

describe('unit: pcapng blocks', () => {
  it('a section header and one interface block per interface, named, nanosecond resolution, with the filter', () => {
    const [shb, idb0, idb1, ...rest] = blocks(pcapngHeader([{ name: 'eth0', filter: 'icmp6', snaplen: 262144 }, { name: 'eth1', snaplen: 128 }], 'fastpath test'));
    expect(rest).to.have.length(0);
    expect(shb.type).to.equal(0x0a0d0d0a);
    expect(shb.body.readUInt32LE(0)).to.equal(0x1a2b3c4d);
    expect([shb.body.readUInt16LE(4), shb.body.readUInt16LE(6)]).to.deep.equal([1, 0]);
    expect(shb.body.readBigInt64LE(8)).to.equal(-1n);
    expect(options(shb.body, 16).get(4)?.toString()).to.equal('fastpath test');

    expect(idb0.type).to.equal(1);
    expect(idb0.body.readUInt16LE(0)).to.equal(1); // LINKTYPE_ETHERNET
    expect(idb0.body.readUInt32LE(4)).to.equal(262144);
    const o0 = options(idb0.body, 8);
    expect(o0.get(2)?.toString()).to.equal('eth0');
    expect([...(o0.get(9) ?? [])]).to.deep.equal([9]);
    expect(o0.get(11)?.toString('latin1')).to.equal('\0icmp6');
    const o1 = options(idb1.body, 8);
    expect(o1.get(2)?.toString()).to.equal('eth1');
    expect(o1.has(11), 'no filter, no if_filter').to.equal(false);
  });

  it('an enhanced packet block: interface, 64-bit nanosecond time, lengths, padded data, direction flags', () => {
    const data = Buffer.from([1, 2, 3, 4, 5, 6, 7]);
    const ts = 1767225600123456789n;
    const [epb] = blocks(pcapngPacket({ interfaceId: 1, timestamp: ts, length: 1500, direction: 'tx', data }));
    expect(epb.type).to.equal(6);
    expect(epb.body.readUInt32LE(0)).to.equal(1);
    expect((BigInt(epb.body.readUInt32LE(4)) << 32n) | BigInt(epb.body.readUInt32LE(8))).to.equal(ts);
    expect(epb.body.readUInt32LE(12)).to.equal(7);
    expect(epb.body.readUInt32LE(16)).to.equal(1500);
    expect([...epb.body.subarray(20, 28)]).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 0]);
    expect(options(epb.body, 28).get(2)?.readUInt32LE(0)).to.equal(2); // outbound
    const [rx] = blocks(pcapngPacket({ interfaceId: 0, timestamp: 0n, length: 7, direction: 'rx', data }));
    expect(options(rx.body, 28).get(2)?.readUInt32LE(0)).to.equal(1); // inbound
  });
});

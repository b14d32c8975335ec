// ICMPv6 / Neighbor Discovery frames for packet-level tests (Ethernet +
// IPv6 + ICMPv6 at offset 54), and their checksum.
import { parseIPv6, parseMac } from '../../lib/addr';
import { ip6Frame } from '../../lib/pcap';

/** One's-complement sum of an IPv6 pseudo-header and ICMPv6 message (frame offsets). */
export function icmp6Sum(frame: Buffer): number {
  const plen = frame.readUInt16BE(14 + 4);
  const parts = [frame.subarray(14 + 8, 14 + 40), Buffer.from([0, 0, plen >> 8, plen & 0xff, 0, 0, 0, 58]), frame.subarray(54, 54 + plen)];
  let sum = 0;
  for (const b of parts) for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export function setIcmp6Checksum(frame: Buffer): void {
  frame.writeUInt16BE(0, 54 + 2);
  frame.writeUInt16BE(~icmp6Sum(frame) & 0xffff, 54 + 2);
}

export const icmp6ChecksumValid = (frame: Buffer): boolean => icmp6Sum(frame) === 0xffff;

/** An ICMPv6 message in a frame, checksum filled in. */
export function icmp6(o: { srcMac: string; dstMac: string; src: string; dst: string; body: Buffer; hopLimit?: number }): Buffer {
  const f = ip6Frame({ dstMac: o.dstMac, srcMac: o.srcMac, src: o.src, dst: o.dst, nextHeader: 58, payload: o.body, hopLimit: o.hopLimit ?? 255 });
  setIcmp6Checksum(f);
  return f;
}

/** An NS for `target` from `src` (MAC srcMac), with a source link-layer option unless from ::, and a nonce option if given. */
export function ns(srcMac: string, src: string, dst: string, dstMac: string, target: string, opts: { hopLimit?: number; nonce?: Buffer } = {}): Buffer {
  const opt = src === '::' ? Buffer.alloc(0) : Buffer.from([1, 1, ...parseMac(srcMac)]);
  const nonce = opts.nonce ? Buffer.concat([Buffer.from([14, 1]), opts.nonce]) : Buffer.alloc(0);
  const head = Buffer.alloc(24);
  head[0] = 135;
  Buffer.from(parseIPv6(target)).copy(head, 8);
  return icmp6({ srcMac, dstMac, src, dst, body: Buffer.concat([head, opt, nonce]), hopLimit: opts.hopLimit });
}

/** An NA for `target` with a target link-layer option (flags: 0x80 router, 0x40 solicited, 0x20 override). */
export function na(srcMac: string, src: string, dst: string, dstMac: string, target: string, flags: number): Buffer {
  const body = Buffer.alloc(32);
  body[0] = 136;
  body[4] = flags;
  Buffer.from(parseIPv6(target)).copy(body, 8);
  body[24] = 2;
  body[25] = 1;
  Buffer.from(parseMac(srcMac)).copy(body, 26);
  return icmp6({ srcMac, dstMac, src, dst, body });
}

/** Is this frame an MLD message (IPv6, hop-by-hop header, then ICMPv6 130-132 or 143)? */
export function isMld(frame: Buffer): boolean {
  let off = 12;
  if (frame.readUInt16BE(off) === 0x8100) off += 4;
  if (frame.readUInt16BE(off) !== 0x86dd || frame[off + 2 + 6] !== 0) return false;
  const hbh = off + 2 + 40;
  const icmp = hbh + 8 * (frame[hbh + 1] + 1);
  return frame[hbh] === 58 && [130, 131, 132, 143].includes(frame[icmp]);
}

/**
 * The MLDv2 report a router sends as it stops (control/mld.c's farewell: every
 * group left at once, CHANGE_TO_INCLUDE_MODE records with no sources). It
 * comes after a test's last stats() snapshot, so it is not in those counters.
 */
export function isMldFarewell(frame: Buffer): boolean {
  if (!isMld(frame)) return false;
  let off = 12;
  if (frame.readUInt16BE(off) === 0x8100) off += 4;
  const hbh = off + 2 + 40;
  const icmp = hbh + 8 * (frame[hbh + 1] + 1);
  if (frame[icmp] !== 143) return false;
  const n = frame.readUInt16BE(icmp + 6);
  let rec = icmp + 8;
  for (let i = 0; i < n; i++) {
    if (frame[rec] !== 3 || frame.readUInt16BE(rec + 2) !== 0) return false;
    rec += 20 + 4 * frame[rec + 1];
  }
  return n > 0;
}

/** The frames a test is about: the router's MLD reports (tested on their own) left out. */
export const withoutMld = (frames: Buffer[]): Buffer[] => frames.filter((f) => !isMld(f));

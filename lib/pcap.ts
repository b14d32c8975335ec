/**
 * Classic pcap files (little-endian, microsecond, LINKTYPE_ETHERNET) and an
 * Ethernet/IPv6/UDP frame builder: inputs for the net_pcap vdev in tests and
 * benchmarks, and a reader for what the router wrote with tx_pcap.
 */
import * as fs from 'fs';

import { parseIPv6, parseMac } from './addr';

const PCAP_MAGIC = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;

/** Encode frames as a pcap file image (timestamps: frame i at i µs). */
export function encodePcap(frames: readonly Uint8Array[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(PCAP_MAGIC, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  const parts: Buffer[] = [header];
  frames.forEach((f, i) => {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(i / 1000000), 0);
    rec.writeUInt32LE(i % 1000000, 4);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    parts.push(rec, Buffer.from(f));
  });
  return Buffer.concat(parts);
}

/** Write frames to a pcap file. */
export function writePcap(file: string, frames: readonly Uint8Array[]): void {
  fs.writeFileSync(file, encodePcap(frames));
}

/** Read every frame of a pcap file (either byte order, usec or nsec). */
export function readPcap(file: string): Buffer[] {
  const buf = fs.readFileSync(file);
  if (buf.length < 24) return [];
  const magicLE = buf.readUInt32LE(0);
  const le = magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d;
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const frames: Buffer[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const caplen = u32(off + 8);
    off += 16;
    if (off + caplen > buf.length) break;
    frames.push(buf.subarray(off, off + caplen));
    off += caplen;
  }
  return frames;
}

export interface Ip6FrameOptions {
  dstMac: string;
  srcMac: string;
  src: string;
  dst: string;
  hopLimit?: number;
  flowLabel?: number;
  trafficClass?: number;
  /** Next header; default 17 (UDP) with a UDP header and a valid checksum. */
  nextHeader?: number;
  srcPort?: number;
  dstPort?: number;
  payload?: Uint8Array;
}

/** One's-complement sum over bytes, for the UDP/ICMPv6 checksum. */
function csumAdd(sum: number, b: Uint8Array): number {
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (b.length & 1) sum += b[b.length - 1] << 8;
  return sum;
}

function csumFold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Build an Ethernet + IPv6 (+ UDP) frame. */
export function ip6Frame(o: Ip6FrameOptions): Buffer {
  const nh = o.nextHeader ?? 17;
  const payload = Buffer.from(o.payload ?? new Uint8Array(0));
  let l4 = payload;
  const src = parseIPv6(o.src);
  const dst = parseIPv6(o.dst);
  if (nh === 17) {
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(o.srcPort ?? 1024, 0);
    udp.writeUInt16BE(o.dstPort ?? 9, 2);
    udp.writeUInt16BE(8 + payload.length, 4);
    l4 = Buffer.concat([udp, payload]);
    const pseudo = Buffer.alloc(40);
    Buffer.from(src).copy(pseudo, 0);
    Buffer.from(dst).copy(pseudo, 16);
    pseudo.writeUInt32BE(l4.length, 32);
    pseudo[39] = 17;
    let c = csumFold(csumAdd(csumAdd(0, pseudo), l4));
    if (c === 0) c = 0xffff;
    l4.writeUInt16BE(c, 6);
  }
  const eth = Buffer.alloc(14);
  Buffer.from(parseMac(o.dstMac)).copy(eth, 0);
  Buffer.from(parseMac(o.srcMac)).copy(eth, 6);
  eth.writeUInt16BE(0x86dd, 12);
  const ip = Buffer.alloc(40);
  const tc = o.trafficClass ?? 0;
  const fl = o.flowLabel ?? 0;
  ip.writeUInt32BE(((6 << 28) | (tc << 20) | (fl & 0xfffff)) >>> 0, 0);
  ip.writeUInt16BE(l4.length, 4);
  ip[6] = nh;
  ip[7] = o.hopLimit ?? 64;
  Buffer.from(src).copy(ip, 8);
  Buffer.from(dst).copy(ip, 24);
  return Buffer.concat([eth, ip, l4]);
}

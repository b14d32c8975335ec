/**
 * Benchmark traffic: a classic pcap (little-endian, microsecond timestamps,
 * linktype 1 = Ethernet) of Ethernet + IPv6 + UDP frames.
 *
 * Every frame is 66 bytes (as captured, without the FCS; 70 on the wire
 * with it): 14 Ethernet + 40 IPv6 + 8 UDP + 4 bytes of payload. IPv6/UDP has
 * no "64-byte" case: a 64-byte minimum frame holds 60 bytes before its FCS,
 * and these headers alone are 62.
 *
 * Addresses are chosen so that both DPDK's l3fwd (22.11, LPM mode, its
 * built-in IPv6 table: 2001:200:0:1::/64 -> port 1) and fastpath (the bench
 * routes that same prefix to the null port) send every packet out of the
 * null port:
 *   src  2001:db8:1::<host>        (eth0's connected /64)
 *   dst  2001:200:0:1:<iid>        (l3fwd route #1, port 1)
 * One flow is one (src, dst, flow label). N flows are N distinct
 * (src, dst, flow label) triples: the destination interface id differs for
 * every flow (so l3fwd does a real LPM lookup on a different address per
 * packet), the source host cycles over 250 hosts, the flow label is unique.
 *
 * The file always holds `packets` frames (default 10000) whatever the flow
 * count, frame i belonging to flow i mod flows, so the 1-flow and the
 * 10k-flow runs replay the same amount of packet memory and differ only in
 * how many flows it holds.
 *
 * Usage: node dist/bench/pcapgen.js --flows 10000 [--packets 10000] --out FILE
 */
import * as fs from 'fs';

export const FRAME_LEN = 66;
export const SRC_PREFIX = '2001:db8:1::'; // /64, fastpath eth0's subnet
export const DST_PREFIX = '2001:200:0:1::'; // /64, l3fwd's IPv6 route to port 1
export const DST_ROUTE = '2001:200:0:1::/64';
export const RX_MAC = '02:00:00:00:00:01'; // fastpath eth0 (set by the bench config)
export const SRC_MAC = '02:00:00:00:00:aa';
export const UDP_SRC_PORT = 10000;
export const UDP_DST_PORT = 9; // discard
export const HOP_LIMIT = 64;

export interface PcapOptions {
  flows: number;
  packets?: number;
  dstMac?: string;
  srcMac?: string;
}

export function parseMac(s: string): Buffer {
  const parts = s.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new Error(`bad MAC address ${s}`);
  }
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

/** Parses an IPv6 address (with '::' compression, no embedded IPv4). */
export function parseIPv6(s: string): Buffer {
  const halves = s.split('::');
  if (halves.length > 2) throw new Error(`bad IPv6 address ${s}`);
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) throw new Error(`bad IPv6 address ${s}`);
  const groups = [...head, ...new Array<string>(fill).fill('0'), ...tail];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new Error(`bad IPv6 address ${s}`);
    b.writeUInt16BE(parseInt(g, 16), i * 2);
  });
  return b;
}

export function formatIPv6(b: Buffer): string {
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i).toString(16));
  return g.join(':');
}

/** Internet checksum (RFC 1071) over a list of buffers, folded, not inverted. */
function sum16(bufs: Buffer[]): number {
  let sum = 0;
  for (const buf of bufs) {
    for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
    if (buf.length % 2) sum += buf[buf.length - 1] << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export interface Flow {
  src: Buffer;
  dst: Buffer;
  flowLabel: number;
}

/** The flow for index i (0-based). */
export function flowAt(i: number): Flow {
  const src = parseIPv6(SRC_PREFIX);
  // hosts 2001:db8:1::2 .. 2001:db8:1::fb (::1 is the router)
  src.writeUInt16BE(2 + (i % 250), 14);
  const dst = parseIPv6(DST_PREFIX);
  // interface id: spread the flow index over all four groups, never ::0
  const n = i + 1;
  dst.writeUInt16BE(0x1000 | (n & 0xfff), 8);
  dst.writeUInt16BE((n * 0x9e37) & 0xffff, 10);
  dst.writeUInt16BE((n >>> 12) & 0xffff, 12);
  dst.writeUInt16BE(n & 0xffff, 14);
  return { src, dst, flowLabel: (i + 1) & 0xfffff };
}

/** One 66-byte Ethernet/IPv6/UDP frame with a valid UDP checksum. */
export function buildFrame(flow: Flow, dstMac: Buffer, srcMac: Buffer): Buffer {
  const f = Buffer.alloc(FRAME_LEN);
  dstMac.copy(f, 0);
  srcMac.copy(f, 6);
  f.writeUInt16BE(0x86dd, 12);
  const ip = 14;
  const udpLen = FRAME_LEN - ip - 40; // 12: 8 header + 4 payload
  f.writeUInt32BE(((6 << 28) | flow.flowLabel) >>> 0, ip); // version 6, TC 0, label
  f.writeUInt16BE(udpLen, ip + 4); // payload length
  f[ip + 6] = 17; // next header: UDP
  f[ip + 7] = HOP_LIMIT;
  flow.src.copy(f, ip + 8);
  flow.dst.copy(f, ip + 24);
  const udp = ip + 40;
  f.writeUInt16BE(UDP_SRC_PORT, udp);
  f.writeUInt16BE(UDP_DST_PORT, udp + 2);
  f.writeUInt16BE(udpLen, udp + 4);
  f.write('FPBN', udp + 8, 'latin1'); // payload
  // checksum over the pseudo-header (src, dst, length, next header) + UDP
  const pseudo = Buffer.alloc(40);
  flow.src.copy(pseudo, 0);
  flow.dst.copy(pseudo, 16);
  pseudo.writeUInt32BE(udpLen, 32);
  pseudo[39] = 17;
  let ck = 0xffff - sum16([pseudo, f.subarray(udp, udp + udpLen)]);
  if (ck === 0) ck = 0xffff; // UDP over IPv6: a zero checksum is not allowed
  f.writeUInt16BE(ck, udp + 6);
  return f;
}

/** The whole pcap file as one buffer. */
export function buildPcap(opts: PcapOptions): Buffer {
  const flows = opts.flows;
  const packets = opts.packets ?? Math.max(10000, flows);
  if (!Number.isInteger(flows) || flows < 1 || flows > 0xfffff) throw new Error(`bad flow count ${flows}`);
  if (!Number.isInteger(packets) || packets < flows) throw new Error(`packets (${packets}) must be >= flows (${flows})`);
  const dstMac = parseMac(opts.dstMac ?? RX_MAC);
  const srcMac = parseMac(opts.srcMac ?? SRC_MAC);
  const frames: Buffer[] = [];
  for (let i = 0; i < flows; i++) frames.push(buildFrame(flowAt(i), dstMac, srcMac));
  const rec = 16 + FRAME_LEN;
  const out = Buffer.alloc(24 + packets * rec);
  out.writeUInt32LE(0xa1b2c3d4, 0); // magic, microsecond timestamps
  out.writeUInt16LE(2, 4); // version 2.4
  out.writeUInt16LE(4, 6);
  out.writeInt32LE(0, 8); // thiszone
  out.writeUInt32LE(0, 12); // sigfigs
  out.writeUInt32LE(65535, 16); // snaplen
  out.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  for (let p = 0; p < packets; p++) {
    const o = 24 + p * rec;
    out.writeUInt32LE(1700000000 + Math.floor(p / 1000000), o);
    out.writeUInt32LE(p % 1000000, o + 4);
    out.writeUInt32LE(FRAME_LEN, o + 8);
    out.writeUInt32LE(FRAME_LEN, o + 12);
    frames[p % flows].copy(out, o + 16);
  }
  return out;
}

/** Writes the pcap unless an identical file is already there. Returns the path. */
export function writePcap(path: string, opts: PcapOptions): string {
  const data = buildPcap(opts);
  try {
    if (fs.readFileSync(path).equals(data)) return path;
  } catch {
    /* not there yet */
  }
  fs.writeFileSync(path + '.tmp', data);
  fs.renameSync(path + '.tmp', path);
  return path;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const get = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const out = get('--out');
  const flows = Number(get('--flows') ?? '1');
  const packets = get('--packets') !== undefined ? Number(get('--packets')) : undefined;
  if (!out) {
    console.error('usage: pcapgen --flows N [--packets P] [--dst-mac MAC] --out FILE');
    process.exit(2);
  }
  writePcap(out, { flows, packets, dstMac: get('--dst-mac') });
  console.log(`${out}: ${packets ?? Math.max(10000, flows)} frames of ${FRAME_LEN} bytes, ${flows} flow(s), dst ${DST_ROUTE}`);
}

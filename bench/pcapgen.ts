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

import { formatIPv6, parseIPv6 } from '../lib/addr';
import { encodePcap, ip6Frame } from '../lib/pcap';

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
  /** Destinations per flow (flow i goes to dsts[i % length]) instead of l3fwd's /64: the --routes cases. */
  dsts?: readonly string[];
  /** 'tcp': each frame an ACK segment of its flow's connection (20-byte TCP header, same 4-byte payload): the SIFTR cases. Default 'udp'. */
  proto?: 'udp' | 'tcp';
  /** Frames in the file (default max(10000, flows)); frame i is flow i mod flows. */
  packets?: number;
  dstMac?: string;
  srcMac?: string;
}

export interface Flow {
  src: string;
  dst: string;
  flowLabel: number;
}

/** The flow for index i (0-based). */
export function flowAt(i: number): Flow {
  const src = Buffer.from(parseIPv6(SRC_PREFIX));
  // hosts 2001:db8:1::2 .. 2001:db8:1::fb (::1 is the router)
  src.writeUInt16BE(2 + (i % 250), 14);
  const dst = Buffer.from(parseIPv6(DST_PREFIX));
  // interface id: spread the flow index over all four groups, never ::0
  const n = i + 1;
  dst.writeUInt16BE(0x1000 | (n & 0xfff), 8);
  dst.writeUInt16BE((n * 0x9e37) & 0xffff, 10);
  dst.writeUInt16BE((n >>> 12) & 0xffff, 12);
  dst.writeUInt16BE(n & 0xffff, 14);
  return { src: formatIPv6(src), dst: formatIPv6(dst), flowLabel: (i + 1) & 0xfffff };
}

/** Flow i of a pcap: flowAt(i), or with the --routes cases' destination dsts[i % length]. */
export function flowWithin(i: number, dsts?: readonly string[]): Flow {
  return dsts ? { ...flowAt(i), dst: dsts[i % dsts.length] } : flowAt(i);
}

/**
 * l3fwd's exact-match (EM) rules for the UDP flows of a pcap: one per
 * distinct 5-tuple (EM keys on addresses, ports and protocol, not the flow
 * label), every one to port 1 (the null port). l3fwd's em_route_parse.c
 * reads `R<dst> <src> <dst port> <src port> <proto> <port>`.
 */
export function emRulesV6(flows: number, dsts?: readonly string[]): string {
  const rules = new Set<string>();
  for (let i = 0; i < flows; i++) {
    const f = flowWithin(i, dsts);
    rules.add(`R${f.dst} ${f.src} ${UDP_DST_PORT} ${UDP_SRC_PORT} 0x11 1`);
  }
  return [...rules].join('\n') + '\n';
}

/** One 66-byte Ethernet/IPv6/UDP frame with a valid UDP checksum. */
export function buildFrame(flow: Flow, dstMac: string, srcMac: string): Buffer {
  return ip6Frame({
    dstMac,
    srcMac,
    src: flow.src,
    dst: flow.dst,
    flowLabel: flow.flowLabel,
    hopLimit: HOP_LIMIT,
    srcPort: UDP_SRC_PORT,
    dstPort: UDP_DST_PORT,
    payload: Buffer.from('FPBN', 'latin1'),
  });
}

/** TCP frames: 78 bytes (14 + 40 + 20 + 4). */
export const TCP_FRAME_LEN = 78;

/** One Ethernet/IPv6/TCP frame: an ACK carrying 4 bytes at sequence `seq` of the flow's connection (port 10000 -> 5201). */
export function buildTcpFrame(flow: Flow, dstMac: string, srcMac: string, seq: number): Buffer {
  const th = Buffer.alloc(24);
  th.writeUInt16BE(UDP_SRC_PORT, 0);
  th.writeUInt16BE(5201, 2);
  th.writeUInt32BE(seq >>> 0, 4);
  th.writeUInt32BE(1, 8);
  th[12] = 5 << 4;
  th[13] = 0x18; // ACK | PSH
  th.writeUInt16BE(65535, 14);
  th.write('FPBN', 20, 'latin1');
  return ip6Frame({ dstMac, srcMac, src: flow.src, dst: flow.dst, flowLabel: flow.flowLabel, hopLimit: HOP_LIMIT, nextHeader: 6, payload: th });
}

/** The whole pcap file as one buffer. */
export function buildPcap(opts: PcapOptions): Buffer {
  const flows = opts.flows;
  const packets = opts.packets ?? Math.max(10000, flows);
  if (!Number.isInteger(flows) || flows < 1 || flows > 0xfffff) throw new Error(`bad flow count ${flows}`);
  if (!Number.isInteger(packets) || packets < flows) throw new Error(`packets (${packets}) must be >= flows (${flows})`);
  const dstMac = opts.dstMac ?? RX_MAC;
  const srcMac = opts.srcMac ?? SRC_MAC;
  const flowOf = (i: number): Flow => flowWithin(i, opts.dsts);
  if (opts.proto === 'tcp') {
    // Frame p is segment p / flows of flow p % flows: sequence numbers advance per connection.
    return encodePcap(Array.from({ length: packets }, (_, p) => buildTcpFrame(flowOf(p % flows), dstMac, srcMac, 1000 + 4 * Math.floor(p / flows))));
  }
  const frames: Buffer[] = [];
  for (let i = 0; i < flows; i++) frames.push(buildFrame(flowOf(i), dstMac, srcMac));
  return encodePcap(Array.from({ length: packets }, (_, p) => frames[p % flows]));
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

/**
 * pcapng (draft-ietf-opsawg-pcapng) blocks for captures: a Section Header
 * Block, one Interface Description Block per captured interface (its
 * fastpath name, nanosecond timestamps, the filter) and an Enhanced Packet
 * Block per frame (with its direction in epb_flags). Little-endian, as
 * written on this host; readers (tshark, Wireshark, tcpdump) accept either.
 *
 * Written here rather than with DPDK's rte_pcapng: 22.11's names each
 * interface by its DPDK device (net_af_packet0), not by the router's
 * interface name, and writes to a file descriptor from C, where the router
 * writes to a socket client or a Node stream.
 */

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const LINKTYPE_ETHERNET = 1;

const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const SHB_HARDWARE = 2;
const SHB_OS = 3;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_FILTER = 11;
const EPB_FLAGS = 2;
/** epb_flags bits 0-1: 01 inbound, 10 outbound. */
const EPB_INBOUND = 1;
const EPB_OUTBOUND = 2;

export interface PcapngInterface {
  name: string;
  description?: string;
  /** The pcap-filter expression the frames passed. */
  filter?: string;
  snaplen: number;
}

export interface PcapngPacket {
  /** Index of the interface in the header's list. */
  interfaceId: number;
  /** Nanoseconds since the epoch. */
  timestamp: bigint;
  /** Length on the wire (data may be shorter: the snap length). */
  length: number;
  direction?: 'rx' | 'tx';
  data: Uint8Array;
}

const pad4 = (n: number): number => (n + 3) & ~3;

/** One option: code, length, value padded to 4 bytes. */
function option(code: number, value: Buffer): Buffer {
  const b = Buffer.alloc(4 + pad4(value.length));
  b.writeUInt16LE(code, 0);
  b.writeUInt16LE(value.length, 2);
  value.copy(b, 4);
  return b;
}

function stringOption(code: number, s: string): Buffer {
  return option(code, Buffer.from(s, 'utf8'));
}

/** A block: type, total length, body (already padded), options and their end, total length again. */
function block(type: number, body: Buffer, options: Buffer[]): Buffer {
  const opts = options.length > 0 ? Buffer.concat([...options, option(OPT_ENDOFOPT, Buffer.alloc(0))]) : Buffer.alloc(0);
  const total = 12 + body.length + opts.length;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(total, 4);
  body.copy(b, 8);
  opts.copy(b, 8 + body.length);
  b.writeUInt32LE(total, total - 4);
  return b;
}

/** The Section Header Block and one Interface Description Block per interface. */
export function pcapngHeader(interfaces: readonly PcapngInterface[], application: string, comment?: string): Buffer {
  const shbBody = Buffer.alloc(16);
  shbBody.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  shbBody.writeUInt16LE(1, 4); // major
  shbBody.writeUInt16LE(0, 6); // minor
  shbBody.writeBigInt64LE(-1n, 8); // section length: not given
  const shbOptions = [stringOption(SHB_HARDWARE, process.arch), stringOption(SHB_OS, `${process.platform}`), stringOption(SHB_USERAPPL, application)];
  if (comment !== undefined) shbOptions.unshift(stringOption(OPT_COMMENT, comment));
  const blocks = [block(SHB, shbBody, shbOptions)];
  for (const i of interfaces) {
    const body = Buffer.alloc(8);
    body.writeUInt16LE(LINKTYPE_ETHERNET, 0);
    body.writeUInt32LE(i.snaplen, 4);
    const opts = [stringOption(IF_NAME, i.name)];
    if (i.description !== undefined) opts.push(stringOption(IF_DESCRIPTION, i.description));
    opts.push(option(IF_TSRESOL, Buffer.from([9]))); // 10^-9 s
    // if_filter: a first byte of 0 says "libpcap filter string".
    if (i.filter !== undefined && i.filter !== '') opts.push(option(IF_FILTER, Buffer.concat([Buffer.from([0]), Buffer.from(i.filter, 'utf8')])));
    blocks.push(block(IDB, body, opts));
  }
  return Buffer.concat(blocks);
}

/** One Enhanced Packet Block. */
export function pcapngPacket(p: PcapngPacket): Buffer {
  const body = Buffer.alloc(20 + pad4(p.data.length));
  body.writeUInt32LE(p.interfaceId, 0);
  body.writeUInt32LE(Number(p.timestamp >> 32n), 4);
  body.writeUInt32LE(Number(p.timestamp & 0xffffffffn), 8);
  body.writeUInt32LE(p.data.length, 12);
  body.writeUInt32LE(p.length, 16);
  Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength).copy(body, 20);
  const opts = [];
  if (p.direction !== undefined) {
    const flags = Buffer.alloc(4);
    flags.writeUInt32LE(p.direction === 'rx' ? EPB_INBOUND : EPB_OUTBOUND, 0);
    opts.push(option(EPB_FLAGS, flags));
  }
  return block(EPB, body, opts);
}

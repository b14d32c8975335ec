// A corpus of malformed (and some good) frames for the reliability tests,
// generated from a fixed seed: every frame is one of the kinds RFC 8200,
// 4861, 2710/3810 and 802.1Q say a node must survive and, for most, silently
// discard. Frames are addressed to a router with MAC R0 on link
// 2001:db8:1::/64 (its address ::1), forwarding 2001:db8:3::/64 through eth1.
import { parseIPv6, parseMac } from '../../lib/addr';
import { ip6Frame } from '../../lib/pcap';
import { rng } from './rng';

export const R0 = '02:00:00:00:00:01';
export const H1 = '02:00:00:00:00:aa';
export const ROUTER = '2001:db8:1::1';
export const HOST = '2001:db8:1::2';
/** Destinations of the good frames (forwarded to eth1). */
export const GOOD_PREFIX = '2001:db8:3::';

export interface Corpus {
  frames: Buffer[];
  /** How many frames are good (UDP to GOOD_PREFIX, valid): each must leave by eth1. */
  good: number;
  /** Frames per kind, for the failure message. */
  kinds: Record<string, number>;
}

const ICMP = 58;
const HOPOPTS = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const DSTOPTS = 60;
const NONE = 59;

/** One's-complement ICMPv6 checksum over the pseudo-header and the message, in place. */
function icmpChecksum(frame: Buffer, icmpOff: number): void {
  const len = frame.length - icmpOff;
  frame.writeUInt16BE(0, icmpOff + 2);
  let sum = 0;
  const add = (b: Buffer): void => {
    for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
    if (b.length & 1) sum += b[b.length - 1] << 8;
  };
  add(frame.subarray(22, 54)); // src + dst
  const ph = Buffer.alloc(8);
  ph.writeUInt32BE(len, 0);
  ph[7] = ICMP;
  add(ph);
  add(frame.subarray(icmpOff));
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  frame.writeUInt16BE(~sum & 0xffff, icmpOff + 2);
}

function icmp6(dst: string, body: Buffer, opts: { src?: string; hopLimit?: number; dstMac?: string } = {}): Buffer {
  const f = ip6Frame({ dstMac: opts.dstMac ?? R0, srcMac: H1, src: opts.src ?? HOST, dst, nextHeader: ICMP, payload: body, hopLimit: opts.hopLimit ?? 255 });
  icmpChecksum(f, 54);
  return f;
}

/** An extension header of type-length-value form (HBH, DstOpts, Routing): next, length in 8-octet units - 1, body. */
function ext(next: number, units: number, fill: (b: Buffer) => void = () => undefined): Buffer {
  const b = Buffer.alloc((units + 1) * 8);
  b[0] = next;
  b[1] = units;
  if (units === 0) {
    b[2] = 1; // PadN over the rest
    b[3] = 4;
  }
  fill(b);
  return b;
}

export function buildCorpus(seed: number, target = 100000): Corpus {
  const next = rng(seed);
  const r = (n: number): number => next() % n;
  const frames: Buffer[] = [];
  const kinds: Record<string, number> = {};
  let good = 0;
  const push = (kind: string, f: Buffer): void => {
    frames.push(f);
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  };
  const goodFrame = (): Buffer =>
    ip6Frame({ dstMac: R0, srcMac: H1, src: HOST, dst: `${GOOD_PREFIX}${(r(4000) + 1).toString(16)}`, dstPort: 9, payload: Buffer.alloc(18, 0x47) });
  const pushGood = (): void => {
    push('good', goodFrame());
    good++;
  };

  const echo = icmp6(ROUTER, Buffer.from([128, 0, 0, 0, 0, 1, 0, 1, ...new Array(16).fill(0x41)]));
  const ns = icmp6(ROUTER, Buffer.concat([Buffer.from([135, 0, 0, 0, 0, 0, 0, 0]), Buffer.from(parseIPv6(ROUTER)), Buffer.from([1, 1, ...parseMac(H1)])]));
  const mldReport = icmp6('ff02::16', Buffer.concat([Buffer.from([143, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0]), Buffer.from(parseIPv6('ff05::1:3'))]), { src: 'fe80::aa', hopLimit: 1, dstMac: '33:33:00:00:00:16' });
  // The templates' UDP frame: like a good one but for its payload (0x55),
  // so that a mutated copy that is still valid is not counted as good.
  const udp = ip6Frame({ dstMac: R0, srcMac: H1, src: HOST, dst: `${GOOD_PREFIX}1`, dstPort: 9, payload: Buffer.alloc(18, 0x55) });
  const templates = [echo, ns, mldReport, udp];

  // 1. Truncated at every offset of each template (frames shorter than the Ethernet header included).
  for (const t of templates) for (let len = 0; len < t.length; len++) push('truncated', Buffer.from(t.subarray(0, len)));

  while (frames.length < target) {
    if (r(10) === 0) {
      pushGood();
      continue;
    }
    const kind = r(16);
    const base = Buffer.from(templates[r(templates.length)]);
    switch (kind) {
      case 0: {
        // Wrong IP version
        base[14] = (base[14] & 0x0f) | ([0, 4, 5, 7, 15][r(5)] << 4);
        push('version', base);
        break;
      }
      case 1: {
        // Payload length larger or smaller than the frame
        const plen = base.readUInt16BE(18);
        base.writeUInt16BE(r(2) ? plen + 1 + r(3000) : Math.max(0, plen - 1 - r(plen + 1)), 18);
        push('length', base);
        break;
      }
      case 2: {
        // Extension headers in odd orders and lengths before a UDP or ICMPv6 payload
        const chain = [HOPOPTS, DSTOPTS, ROUTING, FRAGMENT, DSTOPTS, HOPOPTS].sort(() => r(3) - 1).slice(0, 1 + r(5));
        const parts: Buffer[] = [];
        for (let i = 0; i < chain.length; i++) {
          const nh = i + 1 < chain.length ? chain[i + 1] : r(2) ? 17 : NONE;
          if (chain[i] === FRAGMENT) {
            const fh = Buffer.alloc(8);
            fh[0] = nh;
            fh.writeUInt16BE((r(8192) << 3) | r(2), 2);
            fh.writeUInt32BE(next(), 4);
            parts.push(fh);
          } else {
            parts.push(ext(nh, r(4), (b) => {
              if (chain[i] === ROUTING) {
                b[2] = r(5); // routing type 0..4
                b[3] = r(3); // segments left
              } else if (r(3) === 0) {
                b[2] = r(256); // an unknown option type (high bits say what to do)
                b[3] = r(16); // possibly overrunning
              }
            }));
          }
        }
        const payload = Buffer.concat([...parts, Buffer.alloc(8 + r(40))]);
        const f = ip6Frame({ dstMac: R0, srcMac: H1, src: HOST, dst: r(2) ? ROUTER : `${GOOD_PREFIX}${r(100) + 1}`, nextHeader: chain[0], payload });
        push('extensions', f);
        break;
      }
      case 3: {
        // Fragments to the router: tiny, overlapping, offsets near 65535, atomic
        const fh = Buffer.alloc(8 + 8 * (1 + r(4)));
        fh[0] = [17, ICMP, NONE][r(3)];
        const offset = [0, 1, 2, 8191, 8190, r(8192)][r(6)];
        fh.writeUInt16BE((offset << 3) | r(2), 2);
        fh.writeUInt32BE(r(64), 4); // few ids: overlaps and mixes
        push('fragment', ip6Frame({ dstMac: R0, srcMac: H1, src: HOST, dst: ROUTER, nextHeader: FRAGMENT, payload: fh }));
        break;
      }
      case 4: {
        // Jumbo Payload option with Payload Length 0 (RFC 2675), to forward and to the router
        const hbh = ext(17, 0, (b) => {
          b[2] = 0xc2;
          b[3] = 4;
          b.writeUInt32BE(70000 + r(1000), 4);
        });
        const f = ip6Frame({ dstMac: R0, srcMac: H1, src: HOST, dst: r(2) ? ROUTER : `${GOOD_PREFIX}1`, nextHeader: HOPOPTS, payload: Buffer.concat([hbh, Buffer.alloc(16)]) });
        f.writeUInt16BE(0, 18);
        push('jumbo', f);
        break;
      }
      case 5: {
        // ND (NS/NA/RS/RA/Redirect) with zero-length or overrunning options, bad codes, hop limits other than 255
        // Each one breaks at least one of RFC 4861's validity checks (so none
        // may change the neighbour table): code not 0, hop limit not 255, or
        // an option of length 0 / overrunning the message. Options carry
        // link-layer address ee:ee:ee:ee:ee:ee, which must appear nowhere.
        const type = [133, 134, 135, 136, 137][r(5)];
        const head = Buffer.alloc(type === 137 ? 40 : type === 134 ? 16 : type === 133 ? 8 : 24);
        head[0] = type;
        const flaw = r(3);
        head[1] = flaw === 0 ? 1 + r(255) : 0;
        if (type === 135 || type === 136) Buffer.from(parseIPv6(r(2) ? ROUTER : HOST)).copy(head, 8);
        const optLen = flaw === 2 ? [0, 3, 9][r(3)] : 1;
        const opt = Buffer.from([1 + r(2), optLen, ...new Array(6).fill(0xee)]);
        const hop = flaw === 1 ? [254, 1, 0, 64][r(4)] : 255;
        push('nd', icmp6(r(3) ? ROUTER : 'ff02::1', Buffer.concat([head, opt]), { hopLimit: hop, dstMac: r(3) ? R0 : '33:33:00:00:00:01', src: r(4) === 0 ? '::' : HOST }));
        break;
      }
      case 6: {
        // MLD with bad lengths, codes, hop limits, sources
        const type = [130, 131, 132, 143][r(4)];
        const body = Buffer.alloc([4, 8, 20, 24, 28][r(5)] + r(40));
        body[0] = type;
        body[1] = r(4) === 0 ? r(256) : 0;
        if (type === 143 && body.length >= 8) body.writeUInt16BE(r(300), 6); // records that may overrun
        push('mld', icmp6(r(2) ? 'ff02::16' : 'ff02::1', body, { hopLimit: [1, 1, 255, 2][r(4)], src: r(3) ? 'fe80::aa' : r(2) ? '::' : HOST, dstMac: r(2) ? '33:33:00:00:00:16' : '33:33:00:00:00:01' }));
        break;
      }
      case 7: {
        // Hop limits 0 and 1 on traffic to forward; 255 to the router
        const f = Buffer.from(udp);
        f[21] = [0, 1, 255][r(3)];
        push('hoplimit', f);
        break;
      }
      case 8: {
        // Multicast, unspecified and loopback sources; unspecified, loopback and unjoined multicast destinations
        const src = ['ff02::1', '::', '::1', 'ff05::2'][r(4)];
        const dst = ['::', '::1', 'ff05::1234', `${GOOD_PREFIX}7`, ROUTER][r(5)];
        push('addresses', ip6Frame({ dstMac: R0, srcMac: H1, src, dst, dstPort: 9, payload: Buffer.alloc(8) }));
        break;
      }
      case 9: {
        // 802.1Q and QinQ garbage: unknown VLANs, truncated tags, stacked tags
        const tag = Buffer.alloc(4 * (1 + r(2)));
        for (let i = 0; i < tag.length; i += 4) {
          tag.writeUInt16BE(i + 4 < tag.length ? 0x8100 : r(2) ? 0x86dd : r(65536), i + 2);
          tag.writeUInt16BE(r(65536), i);
        }
        const tpid = [0x8100, 0x88a8, 0x9100][r(3)];
        const f = Buffer.concat([base.subarray(0, 12), Buffer.from([tpid >> 8, tpid & 0xff]), tag.subarray(0, tag.length - 2), base.subarray(12)]);
        push('vlan', r(5) === 0 ? f.subarray(0, 14 + r(8)) : f);
        break;
      }
      case 10: {
        // Other ethertypes and broadcast/other-host destination MACs
        const f = Buffer.from(base);
        if (r(2)) f.writeUInt16BE([0x0800, 0x0806, 0x88cc, r(65536)][r(4)], 12);
        else Buffer.from(r(2) ? 'ffffffffffff' : '02000000bbbb', 'hex').copy(f, 0);
        push('l2', f);
        break;
      }
      case 11: {
        // ICMPv6 to the router with a bad checksum, unknown types, echo with odd lengths
        const f = Buffer.from(echo.subarray(0, 54 + 4 + r(40)));
        f.writeUInt16BE(f.length - 54, 18);
        f[54] = [128, 1, 2, 3, 4, 200, 255][r(7)];
        if (r(2)) icmpChecksum(f, 54);
        push('icmp', f);
        break;
      }
      case 12: {
        // Routing headers with segments left to the router (type 0 is deprecated: RFC 5095)
        const rh = ext(17, 2 * (1 + r(2)), (b) => {
          b[2] = r(2) ? 0 : r(6);
          b[3] = 1 + r(3);
        });
        push('routing', ip6Frame({ dstMac: R0, srcMac: H1, src: HOST, dst: ROUTER, nextHeader: ROUTING, payload: Buffer.concat([rh, Buffer.alloc(8)]) }));
        break;
      }
      default: {
        // Random bytes after a valid Ethernet header (half with the IPv6 ethertype), random lengths
        const f = Buffer.alloc(14 + r(1500));
        for (let i = 14; i < f.length; i++) f[i] = r(256);
        Buffer.from(parseMac(R0)).copy(f, 0);
        Buffer.from(parseMac(H1)).copy(f, 6);
        f.writeUInt16BE(r(2) ? 0x86dd : r(65536), 12);
        if (f.length > 14 && r(2)) f[14] = 0x60 | (f[14] & 0x0f);
        push('random', f);
      }
    }
  }
  return { frames, good, kinds };
}

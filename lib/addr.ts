/**
 * IPv6 address, prefix and MAC address helpers: text <-> bytes, and the
 * address classes the config and control plane need. Pure functions, no
 * dependencies beyond FastpathError.
 *
 * Text forms: parseIPv6 accepts every RFC 4291 section 2.2 form ('::',
 * leading zeros, an embedded IPv4 tail); formatIPv6 writes the RFC 5952
 * canonical form. Zone ids ('fe80::1%eth0') are not addresses and are refused.
 */

import { describeValue, FastpathError } from './errors';

/** An IPv6 prefix: 16 address bytes (host bits may be set) and a length 0..128. */
export interface Prefix {
  address: Uint8Array;
  length: number;
}

const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const PREFIX_LENGTH = /^(0|[1-9][0-9]{0,2})$/;
const MAC_COLON = /^([0-9A-Fa-f]{2})(:[0-9A-Fa-f]{2}){5}$/;
const MAC_DASH = /^([0-9A-Fa-f]{2})(-[0-9A-Fa-f]{2}){5}$/;

/** Throw the EINVAL every parser here uses, naming the input. */
function invalid(kind: string, input: unknown, reason: string): never {
  throw new FastpathError('EINVAL', `invalid ${kind} ${describeValue(input)}: ${reason}`);
}

/** What is being parsed, so that an error names the whole input (a prefix, not just its address). */
interface Input {
  kind: string;
  text: string;
}

/** Parse a dotted-quad IPv4 tail into 4 bytes, or say why it is not one. */
function parseIPv4Tail(s: string, input: Input): number[] {
  const parts = s.split('.');
  if (parts.length !== 4) invalid(input.kind, input.text, `embedded IPv4 part "${s}" needs 4 octets`);
  return parts.map((p) => {
    // Leading zeros are refused, as inet_pton does: "010" could mean octal.
    if (!DECIMAL_OCTET.test(p) || Number(p) > 255) {
      invalid(input.kind, input.text, `embedded IPv4 octet "${p}" is not 0..255`);
    }
    return Number(p);
  });
}

/**
 * Turn one side of '::' into 16-bit groups. `ipv4Allowed`: this side ends the
 * address, so its last piece may be a dotted quad (worth two groups).
 */
function parseGroups(side: string, ipv4Allowed: boolean, input: Input): number[] {
  if (side === '') return [];
  const pieces = side.split(':');
  const groups: number[] = [];
  pieces.forEach((piece, i) => {
    if (ipv4Allowed && i === pieces.length - 1 && piece.includes('.')) {
      const [a, b, c, d] = parseIPv4Tail(piece, input);
      groups.push((a << 8) | b, (c << 8) | d);
    } else if (HEX_GROUP.test(piece)) {
      groups.push(parseInt(piece, 16));
    } else {
      invalid(input.kind, input.text, piece === '' ? 'empty group' : `group "${piece}" is not 1-4 hex digits`);
    }
  });
  return groups;
}

/** Parse IPv6 text (RFC 4291 2.2) into 16 bytes. Throws EINVAL naming the input. */
export function parseIPv6(s: string): Uint8Array {
  if (typeof s !== 'string') invalid('IPv6 address', s, 'not a string');
  return parseAddress(s, { kind: 'IPv6 address', text: s });
}

/** parseIPv6's work; errors name `input` (the address, or the prefix it came from). */
function parseAddress(s: string, input: Input): Uint8Array {
  if (s.includes('%')) invalid(input.kind, input.text, 'zone ids are not supported');
  const sides = s.split('::');
  if (sides.length > 2) invalid(input.kind, input.text, '"::" may appear only once');
  const compressed = sides.length === 2;
  const head = parseGroups(sides[0], !compressed, input);
  const tail = compressed ? parseGroups(sides[1], true, input) : [];
  const explicit = head.length + tail.length;
  if (!compressed && explicit !== 8) invalid(input.kind, input.text, `has ${explicit} groups, needs 8`);
  // '::' stands for at least one zero group, so at most 7 may be written.
  if (compressed && explicit > 7) invalid(input.kind, input.text, '"::" must stand for at least one group');
  const groups = [...head, ...new Array<number>(8 - explicit).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

/** Check that `b` holds an IPv6 address before formatting or classifying it. */
function assertAddress(b: Uint8Array): void {
  if (!(b instanceof Uint8Array) || b.length !== 16) {
    throw new FastpathError('EINVAL', `expected 16 address bytes, got ${describeBytes(b)}`);
  }
}

/** Short description of a non-address value for error messages. */
function describeBytes(b: unknown): string {
  return b instanceof Uint8Array ? `${b.length} bytes` : typeof b;
}

/** The longest run of >= 2 zero groups, first one on ties (RFC 5952 4.2.2/4.2.3). */
function longestZeroRun(groups: number[]): { start: number; length: number } {
  let best = { start: -1, length: 0 };
  let start = -1;
  for (let i = 0; i <= groups.length; i++) {
    if (i < groups.length && groups[i] === 0) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start > best.length) best = { start, length: i - start };
      start = -1;
    }
  }
  return best.length >= 2 ? best : { start: -1, length: 0 };
}

/** True for ::ffff:0:0/96, which RFC 5952 section 5 writes with a dotted quad. */
function isIPv4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** Format 16 bytes as RFC 5952 canonical text (lowercase, longest zero run as '::'). */
export function formatIPv6(b: Uint8Array): string {
  assertAddress(b);
  if (isIPv4Mapped(b)) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1]);
  const run = longestZeroRun(groups);
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (run.start < 0) return hex(groups);
  return `${hex(groups.slice(0, run.start))}::${hex(groups.slice(run.start + run.length))}`;
}

/** Parse 'address/length' (length 0..128). Host bits may be set (interface addresses). */
export function parsePrefix(s: string): Prefix {
  if (typeof s !== 'string') invalid('IPv6 prefix', s, 'not a string');
  const slash = s.indexOf('/');
  if (slash < 0) invalid('IPv6 prefix', s, 'missing "/length"');
  const lengthText = s.slice(slash + 1);
  if (!PREFIX_LENGTH.test(lengthText) || Number(lengthText) > 128) {
    invalid('IPv6 prefix', s, `length "${lengthText}" is not 0..128`);
  }
  return { address: parseAddress(s.slice(0, slash), { kind: 'IPv6 prefix', text: s }), length: Number(lengthText) };
}

/**
 * parsePrefix's fast path for bulk input (a routing table): writes the
 * address into out[off..off+16) and returns the length, or -1 for anything
 * it does not take (IPv4 tails, bad syntax, host bits set...), in which case
 * the caller asks parsePrefix for the error. One pass over the characters,
 * no allocation.
 */
export function parseNetworkPrefixInto(s: string, out: Uint8Array, off: number): number {
  const slash = s.indexOf('/');
  if (slash <= 0 || slash === s.length - 1 || s.length - slash > 4) return -1;
  let length = 0;
  for (let i = slash + 1; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9 || (length === 0 && i > slash + 1)) return -1; // digits, no leading zero
    length = length * 10 + c;
  }
  if (length > 128) return -1;
  const gap = s.indexOf('::');
  let head: number;
  let tail: number;
  if (gap < 0 || gap > slash) {
    head = fastGroups(s, 0, slash, 0);
    if (head !== 8) return -1;
    tail = 0;
  } else {
    if (s.indexOf('::', gap + 1) >= 0 && s.indexOf('::', gap + 1) < slash) return -1;
    head = fastGroups(s, 0, gap, 0);
    if (head < 0) return -1;
    tail = fastGroups(s, gap + 2, slash, head);
    if (tail < 0 || head + tail > 7) return -1;
  }
  const zeros = 8 - head - tail;
  for (let g = 0; g < 8; g++) {
    const v = g < head ? FAST_GROUPS[g] : g < head + zeros ? 0 : FAST_GROUPS[g - zeros];
    out[off + 2 * g] = v >> 8;
    out[off + 2 * g + 1] = v & 0xff;
  }
  // A network prefix: no host bits.
  for (let bit = length; bit < 128; bit++) if (out[off + (bit >> 3)] & (0x80 >> (bit & 7))) return -1;
  return length;
}

/** Hex groups separated by single ':' in s[from, to) into FAST_GROUPS[at..]; how many, or -1. */
function fastGroups(s: string, from: number, to: number, at: number): number {
  if (from === to) return 0;
  let n = 0;
  let value = 0;
  let digits = 0;
  for (let i = from; i <= to; i++) {
    const c = i === to ? 58 : s.charCodeAt(i);
    if (c === 58) {
      if (digits === 0 || at + n === 8) return -1;
      FAST_GROUPS[at + n++] = value;
      value = 0;
      digits = 0;
      continue;
    }
    let h: number;
    if (c >= 48 && c <= 57) h = c - 48;
    else if (c >= 97 && c <= 102) h = c - 87;
    else if (c >= 65 && c <= 70) h = c - 55;
    else return -1;
    if (++digits > 4) return -1;
    value = (value << 4) | h;
  }
  return n;
}
const FAST_GROUPS = new Array<number>(8).fill(0);

/** The prefix with its host bits zeroed: the network a route or address covers. */
export function prefixNetwork(p: Prefix): Prefix {
  assertAddress(p.address);
  const address = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bitsInByte = Math.min(8, Math.max(0, p.length - 8 * i));
    const mask = (0xff00 >> bitsInByte) & 0xff;
    address[i] = p.address[i] & mask;
  }
  return { address, length: p.length };
}

/** True when no host bits are set, i.e. the prefix is already its own network. */
export function isCanonicalPrefix(p: Prefix): boolean {
  return addressEqual(prefixNetwork(p).address, p.address);
}

/** Format a prefix as canonical text: 'address/length'. */
export function formatPrefix(p: Prefix): string {
  return `${formatIPv6(p.address)}/${p.length}`;
}

/** True when `a` lies inside prefix `p`. */
export function prefixContains(p: Prefix, a: Uint8Array): boolean {
  return addressEqual(prefixNetwork(p).address, prefixNetwork({ address: a, length: p.length }).address);
}

/** Byte-wise equality of two addresses. */
export function addressEqual(a: Uint8Array, b: Uint8Array): boolean {
  assertAddress(a);
  assertAddress(b);
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** fe80::/10. */
export function isLinkLocal(b: Uint8Array): boolean {
  assertAddress(b);
  return b[0] === 0xfe && (b[1] & 0xc0) === 0x80;
}

/** ff00::/8. */
export function isMulticast(b: Uint8Array): boolean {
  assertAddress(b);
  return b[0] === 0xff;
}

/** '::'. */
export function isUnspecified(b: Uint8Array): boolean {
  assertAddress(b);
  return b.every((x) => x === 0);
}

/** '::1'. */
export function isLoopback(b: Uint8Array): boolean {
  assertAddress(b);
  return b.subarray(0, 15).every((x) => x === 0) && b[15] === 1;
}

/** Parse 'aa:bb:cc:dd:ee:ff' or 'aa-bb-cc-dd-ee-ff' (any case) into 6 bytes. */
export function parseMac(s: string): Uint8Array {
  if (typeof s !== 'string') invalid('MAC address', s, 'not a string');
  if (!MAC_COLON.test(s) && !MAC_DASH.test(s)) {
    invalid('MAC address', s, 'expected six 2-digit hex bytes separated by ":" or "-"');
  }
  return Uint8Array.from(s.split(/[:-]/), (x) => parseInt(x, 16));
}

/** Format 6 bytes as lowercase 'aa:bb:cc:dd:ee:ff'. */
export function formatMac(b: Uint8Array): string {
  if (!(b instanceof Uint8Array) || b.length !== 6) {
    throw new FastpathError('EINVAL', `expected 6 MAC bytes, got ${describeBytes(b)}`);
  }
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Group (multicast or broadcast) MAC: the I/G bit of the first byte is set. */
export function isMulticastMac(b: Uint8Array): boolean {
  return (b[0] & 1) === 1;
}

/** 00:00:00:00:00:00, never a valid station address. */
export function isZeroMac(b: Uint8Array): boolean {
  return b.every((x) => x === 0);
}

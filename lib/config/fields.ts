/**
 * The one config error shape (`<path>: expected <what>, got <value>`), used
 * by the schema pass (schema-kit.ts) and the checks after it (checks.ts),
 * and the address-typed field parsers (unicast address, interface address,
 * prefix, MAC).
 */
import {
  formatIPv6,
  formatMac,
  formatPrefix,
  isCanonicalPrefix,
  isLoopback,
  isMulticast,
  isMulticastMac,
  isUnspecified,
  isZeroMac,
  parseIPv6,
  parseMac,
  parsePrefix,
  prefixNetwork,
  type Prefix,
} from '../addr';
import { FastpathError } from '../errors';

// ───────────────────────── error helpers ──────────────────────────

/** JSON of a bad value for messages; long values are cut. Never throws, whatever the value. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  let text: string;
  try {
    // A bigint inside an object prints as 5n instead of making JSON.stringify throw.
    text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? plainString(value);
  } catch {
    // Cycles, throwing getters or toJSON.
    text = plainString(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** String(value), or its [object Tag] where String() throws (null-prototype objects, or arrays holding them). */
function plainString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Throw the one validation error shape: `<path>: expected <what>, got <value>`. */
export function fail(path: string, what: string, value: unknown): never {
  throw new FastpathError('EINVAL', `${path || 'config'}: expected ${what}, got ${describe(value)}`, path);
}

export function field(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

export function item(path: string, i: number): string {
  return `${path}[${i}]`;
}

export function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

export function requireString(value: unknown, path: string, what: string): string {
  if (typeof value !== 'string' || value === '') fail(path, what, value);
  return value;
}

// ─────────────────────── address-typed fields ──────────────────────

/** A unicast IPv6 address (not multicast, ::, ::1), as canonical text. */
export function unicastAddress(value: unknown, path: string): string {
  const what = 'a unicast IPv6 address (not multicast, :: or ::1)';
  const bytes = tryParse(() => parseIPv6(requireString(value, path, what)), path, what, value);
  if (isMulticast(bytes) || isUnspecified(bytes) || isLoopback(bytes)) fail(path, what, value);
  return formatIPv6(bytes);
}

/** A unicast address with prefix length ('2001:db8::1/64'); host bits allowed. */
export function interfaceAddress(value: unknown, path: string): Prefix {
  const what = 'a unicast IPv6 address with prefix length, like "2001:db8::1/64"';
  const p = tryParse(() => parsePrefix(requireString(value, path, what)), path, what, value);
  if (isMulticast(p.address) || isUnspecified(p.address) || isLoopback(p.address)) fail(path, what, value);
  return p;
}

/** A network prefix with host bits zero ('2001:db8::/64', '::/0'). */
export function networkPrefix(value: unknown, path: string): Prefix {
  const what = 'an IPv6 prefix "address/length" (length 0..128), like "2001:db8::/64"';
  const p = tryParse(() => parsePrefix(requireString(value, path, what)), path, what, value);
  if (!isCanonicalPrefix(p)) {
    fail(path, `a prefix with host bits zero (${formatPrefix(prefixNetwork(p))})`, value);
  }
  return p;
}

/** A unicast, non-zero MAC, as lowercase colon text. */
export function unicastMac(value: unknown, path: string): string {
  const what = 'a unicast MAC address like "02:00:00:00:00:01" (group bit clear, not all zero)';
  const bytes = tryParse(() => parseMac(requireString(value, path, what)), path, what, value);
  if (isMulticastMac(bytes) || isZeroMac(bytes)) fail(path, what, value);
  return formatMac(bytes);
}

/** Run a parser from addr.ts, turning its error into this file's path-named one. */
export function tryParse<T>(parse: () => T, path: string, what: string, value: unknown): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof FastpathError && err.path === undefined) fail(path, what, value);
    throw err;
  }
}

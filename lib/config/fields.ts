/**
 * The validation helpers every config section uses: the one error shape
 * (`<path>: expected <what>, got <value>`), typed field readers, and the
 * address-typed fields (unicast address, interface address, prefix, MAC).
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

export type Obj = Record<string, unknown>;

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

/** A plain object whose keys are all in `fields`; an unknown key is reported by its own path. */
export function expectObject(value: unknown, path: string, what: string, fields: readonly string[]): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, what, value);
  for (const key of Object.keys(value)) {
    if (!fields.includes(key)) {
      const keyPath = field(path, key);
      throw new FastpathError('EINVAL', `${keyPath}: unknown field (known: ${fields.join(', ')})`, keyPath);
    }
  }
  return value as Obj;
}

/** An array (or the default when absent). */
export function optArray(obj: Obj, key: string, path: string, what: string): unknown[] {
  const value = obj[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(field(path, key), what, value);
  return value;
}

export function requireArray(obj: Obj, key: string, path: string, what: string): unknown[] {
  if (obj[key] === undefined) fail(field(path, key), what, undefined);
  return optArray(obj, key, path, what);
}

export function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** An integer in min..max, or `def` when absent. */
export function optInt(obj: Obj, key: string, path: string, min: number, max: number, def: number): number {
  const value = obj[key];
  if (value === undefined) return def;
  if (!isInteger(value) || value < min || value > max) {
    fail(field(path, key), `an integer ${min}..${max}`, value);
  }
  return value;
}

/** A power of two in min..max, or `def` when absent. */
export function optPowerOfTwo(obj: Obj, key: string, path: string, min: number, max: number, def: number): number {
  const value = obj[key];
  if (value === undefined) return def;
  if (!isInteger(value) || value < min || value > max || !isPowerOfTwo(value)) {
    fail(field(path, key), `a power of two ${min}..${max}`, value);
  }
  return value;
}

export function optBool(obj: Obj, key: string, path: string, def: boolean): boolean {
  const value = obj[key];
  if (value === undefined) return def;
  if (typeof value !== 'boolean') fail(field(path, key), 'true or false', value);
  return value;
}

/** A string matching `pattern` (required). */
export function requireMatch(obj: Obj, key: string, path: string, pattern: RegExp, what: string): string {
  const value = obj[key];
  if (typeof value !== 'string' || !pattern.test(value)) fail(field(path, key), what, value);
  return value;
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

// A synthetic Internet IPv6 routing table for the bench (--routes) and the
// scale tests:
// prefix lengths in the proportions of today's default-free zone (about
// 230,000 prefixes: half /48s, then /32, /44, /40, /36, /29, ...) and
// addresses structured as the registries allocate them (a /32 or /29 per
// organisation inside the RIRs' /12s, more specifics inside an
// organisation's allocation, a few organisations announcing many), so that
// prefixes share trie nodes as real ones do. Deterministic for a seed.
import { formatIPv6 } from '../lib/addr';

/** [prefix length, share of the table]. */
export const LENGTH_MIX: readonly [number, number][] = [
  [48, 0.48], [32, 0.14], [44, 0.08], [40, 0.07], [36, 0.04], [29, 0.03], [46, 0.02],
  [47, 0.015], [42, 0.015], [45, 0.01], [33, 0.01], [34, 0.01], [35, 0.01], [38, 0.01],
  [39, 0.01], [28, 0.01], [30, 0.005], [31, 0.005], [41, 0.005], [43, 0.005], [56, 0.008],
  [64, 0.008], [24, 0.002], [26, 0.002],
];

/** The RIRs' IPv6 blocks (/12): APNIC, ARIN, LACNIC, RIPE NCC, AFRINIC; and 2001::/16 (shared). */
const RIR_BLOCKS = [0x2400, 0x2600, 0x2800, 0x2a00, 0x2c00, 0x2001];

/** A seeded xorshift32 (uint32 values), so that tables and traffic reproduce. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

/** An address inside prefix p, its host bits drawn from next(). */
export function addressInside(p: TablePrefix, next: () => number): string {
  const a = Uint8Array.from(p.bytes);
  for (let bit = p.length; bit < 128; bit++) if (next() & 1) a[bit >> 3] |= 0x80 >> (bit & 7);
  return formatIPv6(a);
}

export interface TablePrefix {
  prefix: string;
  /** The network address as 16 bytes. */
  bytes: Uint8Array;
  length: number;
}

/** Set the bits of `value` (count bits, most significant first, count <= 48) at bit offset `at` of a. */
function putBits(a: Uint8Array, at: number, count: number, value: number): void {
  for (let i = 0; i < count; i++) {
    const bit = Math.floor(value / 2 ** (count - 1 - i)) % 2;
    const pos = at + i;
    if (bit) a[pos >> 3] |= 0x80 >> (pos & 7);
  }
}

/** `count` distinct prefixes, deterministic for `seed`. */
export function syntheticTable(count: number, seed = 1): TablePrefix[] {
  const next = rng(seed);
  const r = (): number => next() / 0x100000000;
  // Organisations: an allocation (/32, or /29 for one in ten) in an RIR block;
  // registries allocate from the start of a block, so allocations cluster.
  const orgs: { base: Uint8Array; len: number; weight: number }[] = [];
  const norgs = Math.max(16, Math.floor(count / 4));
  for (let i = 0; i < norgs; i++) {
    const base = new Uint8Array(16);
    const block = RIR_BLOCKS[Math.floor(r() * RIR_BLOCKS.length)];
    base[0] = block >> 8;
    base[1] = block & 0xff;
    const len = r() < 0.1 ? 29 : 32;
    // 20 bits below a /12 (16 for 2001::/16), dense at the block's start.
    const span = block === 0x2001 ? 16 : 20;
    const idx = Math.floor(Math.pow(r(), 3) * (1 << span));
    putBits(base, block === 0x2001 ? 16 : 12, span, idx);
    if (len === 29) base[3] &= 0xf8;
    orgs.push({ base, len, weight: Math.pow(r(), 4) });
  }
  // Heavy announcers first: more specifics pick organisations by weight.
  const cumulative: number[] = [];
  let total = 0;
  for (const o of orgs) cumulative.push((total += 0.05 + o.weight));
  const pickOrg = (): (typeof orgs)[number] => {
    const x = r() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return orgs[lo];
  };
  const lengthCumulative: number[] = [];
  let lsum = 0;
  for (const [, share] of LENGTH_MIX) lengthCumulative.push((lsum += share));
  const pickLength = (): number => {
    const x = r() * lsum;
    const i = lengthCumulative.findIndex((c) => c >= x);
    return LENGTH_MIX[i < 0 ? LENGTH_MIX.length - 1 : i][0];
  };

  const seen = new Set<string>();
  const out: TablePrefix[] = [];
  let guard = 0;
  while (out.length < count && guard++ < count * 20) {
    const len = pickLength();
    const org = pickOrg();
    const a = new Uint8Array(16);
    a.set(org.base.subarray(0, 8));
    if (len > org.len) {
      // A more specific inside the allocation, numbered as ISPs number
      // customers: mostly from the low end of their space.
      const span = len - org.len;
      putBits(a, org.len, span, Math.floor(Math.pow(r(), 3) * 2 ** span));
    }
    // Mask to the length (an allocation shorter than /32 drops low bits).
    for (let bit = len; bit < 128; bit++) a[bit >> 3] &= ~(0x80 >> (bit & 7));
    const key = `${formatIPv6(a)}/${len}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ prefix: key, bytes: a, length: len });
  }
  if (out.length < count) throw new Error(`syntheticTable: only ${out.length} distinct prefixes for ${count}`);
  return out;
}

/** tbl8 groups a DIR-24-8 trie (core/trie6.c) needs for the table (each 8-bit level below /24 that some prefix extends past, per distinct parent). */
export function tbl8GroupsNeeded(table: readonly TablePrefix[]): number {
  const parents = new Set<string>();
  for (const p of table) {
    for (let level = 24; level < p.length; level += 8) {
      const bytes = level / 8;
      parents.add(`${level}:${Buffer.from(p.bytes.subarray(0, bytes)).toString('hex')}`);
    }
  }
  return parents.size;
}

/**
 * tbl8 groups DPDK 22.11's rte_fib6 trie reserves for the table: it counts, per added prefix longer
 * than /24, the groups the prefix could need below its covering route ((len-1)/8 - 2 with none),
 * whether or not they are shared, and refuses an add once the reservations pass num_tbl8. An upper
 * bound (covering routes ignored); what l3fwd's FIB mode must be given to load the table at all.
 */
export function fib6Tbl8Reservation(table: readonly TablePrefix[]): number {
  let groups = 0;
  for (const p of table) if (p.length > 24) groups += ((p.length - 1) >> 3) - 2;
  return groups;
}

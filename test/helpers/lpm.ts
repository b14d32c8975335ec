// A reference longest-prefix match for checking routes.lookup() (and the
// data plane) against: plain TS over a route listing, no tries, so that it
// shares nothing with the trie it checks (native/core/trie6.c).
import { parseIPv6, parsePrefix, prefixNetwork } from '../../lib/addr';

/** The prefix's network bytes as hex (bytes wholly or partly inside the length), for map keys. */
function networkKey(address: Uint8Array, length: number): string {
  const net = prefixNetwork({ address, length }).address;
  return Buffer.from(net.subarray(0, Math.ceil(length / 8))).toString('hex');
}

/**
 * Build a matcher over `routes` (each with a 'addr/len' prefix): it returns
 * the route with the longest prefix covering an address, or undefined. Pass
 * only the routes forwarding would use (list() filtered to state 'up').
 * Build once and call many times: each call tries the routes' lengths from
 * the longest, one map lookup per length.
 */
export function prefixMatcher<R extends { prefix: string }>(routes: readonly R[]): (address: string) => R | undefined {
  const byLength = new Map<number, Map<string, R>>();
  for (const r of routes) {
    const p = parsePrefix(r.prefix);
    let m = byLength.get(p.length);
    if (!m) byLength.set(p.length, (m = new Map()));
    m.set(networkKey(p.address, p.length), r);
  }
  const lengths = [...byLength.keys()].sort((a, b) => b - a);
  return (address) => {
    const a = parseIPv6(address);
    for (const len of lengths) {
      const r = byLength.get(len)!.get(networkKey(a, len));
      if (r) return r;
    }
    return undefined;
  };
}

/** The route of `routes` with the longest prefix covering `address`, or undefined (one-off; see prefixMatcher). */
export function longestMatch<R extends { prefix: string }>(routes: readonly R[], address: string): R | undefined {
  return prefixMatcher(routes)(address);
}

// fastpath's IPv6 trie (native/core/trie6.c) against a reference longest
// match: random adds, next-hop rewrites and deletes of nested prefixes,
// lookups checked after every round (next hop and prefix length), groups in
// use equal to a fresh build of the same routes (nothing leaks with churn),
// a refused add writes nothing, sibling prefixes keep their groups, and
// an emptied trie holds no group (see native/test/trie6_test.c).
import { describeCTest } from '../helpers/ctest';

describeCTest('IPv6 trie (C test against a reference LPM)', 'trie6_test', ['core/trie6.c'], {
  dpdk: true,
  march: true,
  timeoutMs: 120000,
});

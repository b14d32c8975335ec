// The FIB layer (native/core/fib.c over fastpath's trie, native/core/trie6.c),
// with a reader thread looking up as a worker does, EAL with --no-huge:
// first the 22.11 reservation defect on bare rte_fib6 (why fastpath stopped
// using it), then 1,000,000 churn cycles of one /48 and of rotating
// /16../128 prefixes through fp_fib, groups in use back at their baseline;
// then route state (routes follow link state): withdrawn routes leave both
// copies and stay listed, come back on restore, are left out of rebuilds,
// can be added and deleted while down, and withdraw/restore churn under the
// reader never answers "no route" for a covered address; then next-hop
// groups (ECMP): group routes added, switched to a new group and deleted
// under a reader that resolves every group it is answered with, never
// seeing a freed or half-filled one (see native/test/fib_test.c).
import { describeCTest } from '../helpers/ctest';

describeCTest(
  'FIB under route churn (C test: two trie copies under a reader)',
  'fib_test',
  ['test/fib_test_state.c', 'test/fib_test_groups.c', 'core/fib.c', 'core/trie6.c'],
  { dpdk: true, march: true, args: ['1000000'], timeoutMs: 600000 },
  (out) => process.stdout.write(out.replace(/^/gm, '      ')),
);

// IPv6 fragment reassembly and fragmentation (native/control/reasm.c has no
// DPDK or Node dependency).
import { describeCTest } from '../helpers/ctest';

describeCTest('IPv6 reassembly (C unit tests)', 'reasm_test', ['test/reasm_test_limits.c', 'test/reasm_test_fuzz.c', 'control/reasm.c']);

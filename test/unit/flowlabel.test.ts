// Flow-label manager logic (native/control/flowlabel.c has no DPDK or Node
// dependency).
import { describeCTest } from '../helpers/ctest';

describeCTest('flow-label manager (C unit tests)', 'flowlabel_test', ['control/flowlabel.c']);

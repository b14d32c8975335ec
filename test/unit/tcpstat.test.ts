// SIFTR connection inference (native/datapath/tcpstat.c) and log text
// (native/control/siftr.c) have no DPDK dependency.
import { describeCTest } from '../helpers/ctest';

describeCTest('SIFTR tcpstat and log text (C unit tests)', 'tcpstat_test', ['datapath/tcpstat.c', 'control/siftr.c']);

// Flow-cache logic (native/core/flowcache.c has no DPDK dependency),
// and the if.c link-state queue and token bucket (DPDK-free headers).
import { describeCTest } from '../helpers/ctest';

describeCTest('flow cache (C unit tests)', 'flowcache_test', ['core/flowcache.c'], { march: true });
describeCTest('link-state queue and token bucket (C unit tests)', 'linkq_test', []);
describeCTest('flowCache.mode auto: cache or FIB alone by measurement (C unit tests)', 'flowselect_test', ['core/flowselect.c']);

// Started as its own process by test/addon/lifecycle.test.ts: start a router,
// stop it, start another (EAL reused), stop it, and then simply return —
// the process must exit on its own.
import { Router } from '../../lib';

const prefix = process.argv[2];

(async () => {
  for (let i = 0; i < 2; i++) {
    const r = await Router.start({
      eal: { workers: 1, memoryMb: 512, hugepages: false, filePrefix: prefix, logLevel: 'error' },
      ports: [{ name: 'eth0', device: 'net_null0' }],
    });
    await new Promise((res) => setTimeout(res, 100));
    await r.stop();
  }
  console.log('stopped');
})();

// Started as its own process by test/addon/lifecycle.test.ts. argv: <prefix> [mode]
//   (no mode)   start a router, stop it, start another (EAL reused), stop
//               it, and then simply return — the process must exit on its own.
//   exit        start a router and call process.exit(3) while it runs.
//   throw       start a router and throw (an uncaught exception) while it runs.
import { Router } from '../../lib';

const [prefix, mode] = process.argv.slice(2);
const config = {
  eal: { workers: 1, memoryMb: 512, hugepages: false as const, filePrefix: prefix, logLevel: 'error' as const },
  ports: [{ name: 'eth0', device: 'net_null0' }],
};

(async () => {
  if (mode === 'exit' || mode === 'throw') {
    await Router.start(config);
    console.log('running');
    if (mode === 'exit') process.exit(3);
    setImmediate(() => {
      throw new Error('uncaught, with a router running');
    });
    return;
  }
  for (let i = 0; i < 2; i++) {
    const r = await Router.start(config);
    await new Promise((res) => setTimeout(res, 100));
    await r.stop();
  }
  console.log('stopped');
})();

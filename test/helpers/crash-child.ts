// Started as its own process by test/integration/recovery.test.ts: the demo
// (dpdk-config/default.yaml with topology prefix 'fpcr', default file prefix
// fastpath-<pid>) as `npm start` runs it.
//   crash: forward pings h1 → h2 without end, say "forwarding" once the
//          router has forwarded some; the test then kills it with SIGKILL.
//   again: start (removing what a killed run left, each removal on a
//          "recovery:" line), ping h1 → h2, report, stop cleanly.
import * as path from 'path';

import { startDemo } from '../../lib/cli/demo';

const mode = process.argv[2];
const print = (o: object): void => console.log(JSON.stringify(o));

(async () => {
  const demo = await startDemo(path.resolve(__dirname, '..', '..', 'dpdk-config', 'default.yaml'), {
    override: (cfg) => ({
      ...cfg,
      eal: { ...cfg.eal, hugepages: false, logLevel: 'error' },
      topology: { ...cfg.topology!, prefix: 'fpcr' },
    }),
    log: (line) => console.log(`recovery: ${line}`),
  });
  const forwarded = (): bigint => demo.router.stats().totals.forwarded;
  const h1 = demo.host('h1');
  const h2 = demo.host('h2');
  print({
    started: true,
    filePrefix: demo.config.eal.filePrefix,
    namespaces: demo.topology.hosts.map((h) => h.ns),
    links: demo.topology.hosts.map((h) => h.routerSideIfname),
  });
  if (mode === 'crash') {
    h1.spawn(['ping', '-6', '-q', '-i', '0.01', h2.address], { stdio: 'ignore' });
    while (forwarded() < 50n) await new Promise((r) => setTimeout(r, 20));
    print({ forwarding: forwarded().toString() });
    setInterval(() => undefined, 1000);
    return;
  }
  const before = forwarded();
  const ping = await h1.exec(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', h2.address]);
  print({ pingCode: ping.code, forwarded: (forwarded() - before).toString() });
  await demo.close();
})().catch((e) => {
  console.error(e);
  process.exit(2);
});

// Run in its own process (EAL initialises once per process, and the test
// process's EAL has one worker): the demo topology with two workers sharing
// a CPU, several UDP flows h1 → h2, then print what the router saw as JSON.
import * as path from 'path';

import { startDemo } from '../../lib/cli/demo';

const CONFIG = path.resolve(__dirname, '..', '..', 'dpdk-config', 'default.yaml');
const FLOWS = 16;
const PER_FLOW = 20;

async function main(): Promise<void> {
  const demo = await startDemo(CONFIG, {
    unique: true,
    override: (cfg) => ({
      ...cfg,
      eal: { ...cfg.eal, workers: 2, workerCpus: [1, 1], shareWorkerCpus: true, logLevel: 'error', filePrefix: `fastpath-mw-${process.pid}` },
    }),
  });
  try {
    const h1 = demo.host('h1');
    const h2 = demo.host('h2');
    const receiver = h2.exec([process.execPath, '-e',
      `const s=require('dgram').createSocket('udp6');let n=0;s.on('message',()=>n++);s.bind(9999,()=>setTimeout(()=>{console.log(n);s.close();},4000));`]);
    await new Promise((r) => setTimeout(r, 300));
    // FLOWS sockets (ports and flow labels differ), PER_FLOW datagrams each.
    const sender = await h1.exec([process.execPath, '-e',
      `const d=require('dgram');let open=${FLOWS};for(let f=0;f<${FLOWS};f++){const s=d.createSocket('udp6');let n=0;` +
      `const send=()=>{if(n++>=${PER_FLOW}){s.close();return;}s.send(Buffer.from('mw'),9999,'${h2.address}',()=>setTimeout(send,5));};send();}`]);
    const received = Number((await receiver).stdout.trim());
    const stats = demo.router.stats();
    const flows = await demo.router.flowCache.list();
    await demo.router.flowCache.configure({ maxflows: 1024, hashsize: 2048 });
    const after = demo.router.stats();
    const ports = demo.router.interfaces.list().map((i) => ({ name: i.name, rxQueues: i.rxQueues, txQueues: i.txQueues }));
    console.log(JSON.stringify({
      senderCode: sender.code,
      sent: FLOWS * PER_FLOW,
      received,
      ports,
      workers: stats.lcores.map((l) => ({ lcore: l.lcore, rx: String(l.counters.rx_packets), forwarded: String(l.counters.forwarded) })),
      flowWorkers: flows.filter((f) => f.src === h1.address && f.dst === h2.address).map((f) => f.worker),
      cmdHandled: after.lcores.map((l) => String(l.counters.cmd_handled)),
      accounted: stats.totals.rx_packets === stats.totals.forwarded + stats.totals.dropped + stats.totals.punted,
    }));
  } finally {
    await demo.close();
  }
}

main().catch((e) => {
  console.log(JSON.stringify({ error: String((e as Error).stack ?? e) }));
  process.exitCode = 1;
});

/**
 * Router socket throughput (router.sockets.udp): how many datagrams per
 * second one 'message' handler receives and one send loop hands on.
 *
 *   receive: 64-byte datagrams for [2001:db8:1::1]:9000 replayed forever
 *            into eth0 (net_pcap infinite_rx): worker → punt ring → control
 *            thread → the socket's ring → JS. The punt ring sheds what the
 *            control thread cannot take (counted).
 *   send:    one loop of `await s.send()` (and one that keeps 256 in
 *            flight) from [2001:db8:2::1]:9001 to a static neighbour behind
 *            eth1 (net_null).
 *
 * One worker; run as root: node dist/bench/sockets.js [--seconds 3]
 * (npm run bench:sockets -- …; --seconds >= 1)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { Router } from '../lib';
import { ip6Frame, writePcap } from '../lib/pcap';
import { benchCommand, numberArg } from './common';

const R0 = '02:00:00:00:00:01';
const H1 = '02:00:00:00:00:aa';

async function main(): Promise<void> {
  const { seconds } = benchCommand('bench:sockets', 'npm run bench:sockets --', 'UDP datagrams a second through router.sockets.udp, received and sent (bench/sockets.ts)')
    .option('--seconds <s>', 'measurement of each part', numberArg(1, { fraction: true }), 3)
    .parse(process.argv.slice(2), { from: 'user' })
    .opts<{ seconds: number }>();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fp-bench-sock-'));
  const pcap = path.join(dir, 'udp.pcap');
  writePcap(
    pcap,
    Array.from({ length: 64 }, (_, n) =>
      ip6Frame({ dstMac: R0, srcMac: H1, src: `2001:db8:1::${(0x100 + n).toString(16)}`, dst: '2001:db8:1::1', srcPort: 5000 + n, dstPort: 9000, payload: Buffer.alloc(64, n) }),
    ),
  );
  const router = await Router.start({
    eal: { workers: 1, memoryMb: 512, hugepages: false, filePrefix: `fp-bench-sock-${process.pid}`, logLevel: 'error' },
    ports: [
      { name: 'eth0', device: `net_pcap0,rx_pcap=${pcap},infinite_rx=1`, mac: R0, addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
      { name: 'eth1', device: 'net_null1,no-rx=1', addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
    ],
    neighbours: [{ address: '2001:db8:2::2', mac: '02:00:00:00:00:bb', dev: 'eth1' }],
  });
  try {
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    console.log(`router sockets, one worker, ${seconds} s each; ${cpu}`);

    const rx = await router.sockets.udp({ address: '2001:db8:1::1', port: 9000, receiveQueue: 4096 });
    let received = 0;
    rx.on('message', () => received++);
    await new Promise((r) => setTimeout(r, 500)); // warm-up
    const c0 = router.stats().control;
    received = 0;
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    const c1 = router.stats().control;
    rx.close();
    console.log(
      `  receive: ${(received / dt / 1e3).toFixed(1)} k datagrams/s to one 'message' handler` +
        ` (socket queue full: ${c1.udp_rx_queue_full - c0.udp_rx_queue_full}, punt ring shed: ${c1.punt_dropped - c0.punt_dropped})`,
    );

    const tx = await router.sockets.udp({ address: '2001:db8:2::1', port: 9001 });
    const payload = Buffer.alloc(64, 1);
    for (const inFlight of [1, 256]) {
      let sent = 0;
      const end = Date.now() + seconds * 1000;
      const s0 = router.stats().control.udp_sent;
      const t1 = process.hrtime.bigint();
      const pending: Promise<void>[] = [];
      while (Date.now() < end) {
        pending.push(tx.send(payload, { address: '2001:db8:2::2', port: 9002 }));
        sent++;
        if (pending.length >= inFlight) await Promise.all(pending.splice(0));
      }
      await Promise.all(pending);
      const dt2 = Number(process.hrtime.bigint() - t1) / 1e9;
      const handed = router.stats().control.udp_sent - s0;
      console.log(`  send, ${inFlight} in flight: ${(sent / dt2 / 1e3).toFixed(1)} k datagrams/s (${handed} handed to the worker)`);
    }
    tx.close();
  } finally {
    await router.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});

/**
 * Punt-path throughput: Neighbor Solicitations for the router's address
 * replayed forever into eth0 (net_pcap infinite_rx); the control thread
 * answers each with an Advertisement sent back through the worker. Prints
 * NS/s answered, how many the bounded punt ring shed, and the worker's
 * forwarding-side counters. One worker; run as root:
 *
 *   node dist/bench/punt.js [--seconds 3]   (npm run bench:punt -- …; --seconds >= 1)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { parseIPv6, parseMac } from '../lib/addr';
import { Router } from '../lib';
import { ip6Frame, writePcap } from '../lib/pcap';
import { benchCommand, numberArg } from './common';

const RX_MAC = '02:00:00:00:00:01';
const HOST_MAC = '02:00:00:00:00:aa';

/** One NS for 2001:db8:1::1 from 2001:db8:1::<n>, with a source link-layer option. */
function solicitation(n: number): Buffer {
  const body = Buffer.alloc(32);
  body[0] = 135;
  Buffer.from(parseIPv6('2001:db8:1::1')).copy(body, 8);
  body[24] = 1;
  body[25] = 1;
  Buffer.from(parseMac(HOST_MAC)).copy(body, 26);
  const f = ip6Frame({ dstMac: '33:33:ff:00:00:01', srcMac: HOST_MAC, src: `2001:db8:1::${(0x100 + n).toString(16)}`, dst: 'ff02::1:ff00:1', nextHeader: 58, payload: body, hopLimit: 255 });
  // ICMPv6 checksum over the pseudo-header and the message.
  const plen = f.readUInt16BE(18);
  const parts = [f.subarray(22, 54), Buffer.from([0, 0, plen >> 8, plen & 0xff, 0, 0, 0, 58]), f.subarray(54)];
  let sum = 0;
  for (const b of parts) for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  f.writeUInt16BE(~sum & 0xffff, 56);
  return f;
}

async function main(): Promise<void> {
  const { seconds } = benchCommand('bench:punt', 'npm run bench:punt --', 'Neighbor Solicitations answered per second through the punt path (bench/punt.ts)')
    .option('--seconds <s>', 'measurement', numberArg(1, { fraction: true }), 3)
    .parse(process.argv.slice(2), { from: 'user' })
    .opts<{ seconds: number }>();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fp-punt-'));
  const pcap = path.join(dir, 'ns.pcap');
  writePcap(pcap, Array.from({ length: 64 }, (_, n) => solicitation(n)));
  const router = await Router.start({
    eal: { workers: 1, filePrefix: `fp-bench-punt-${process.pid}`, logLevel: 'error' },
    ports: [{ name: 'eth0', device: `net_pcap0,rx_pcap=${pcap},tx_pcap=/dev/null,infinite_rx=1`, mac: RX_MAC, addresses: ['2001:db8:1::1/64'], dadTransmits: 0 }],
  });
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const a = router.stats();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const b = router.stats();
    const secs = Number(b.tsc - a.tsc) / Number(b.tscHz);
    const rate = (k: bigint): string => (Number(k) / secs / 1e3).toFixed(1);
    console.log(`received ${rate(b.totals.rx_packets - a.totals.rx_packets)} kpps; punted ${rate(b.totals.punted - a.totals.punted)} kpps; ` +
      `punt ring full ${rate(b.drops.punt_ring_full - a.drops.punt_ring_full)} kpps`);
    console.log(`NS answered (NA sent) ${rate(b.control.nd_na_out - a.control.nd_na_out)} k/s over ${secs.toFixed(2)} s`);
  } finally {
    await router.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});

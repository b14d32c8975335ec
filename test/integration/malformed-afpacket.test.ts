/**
 * The malformed-traffic corpus (test/helpers/corpus.ts), a smaller one,
 * sent by a Linux host in a namespace through a raw AF_PACKET socket onto
 * its veth, so it reaches the router as a NIC would hand it over (af_packet
 * PMD), not through a pcap file. The router keeps running, accounts for
 * every frame it received, forwards the good ones to h2 and answers a ping
 * afterwards. Needs root, python3 and namespaces.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { Demo, startDemo } from '../../lib/cli/demo';
import { writePcap } from '../../lib/pcap';
import { parseMac } from '../../lib/addr';
import { requireRoot, requireTools } from '../../lib/topology';
import { buildCorpus, R0 } from '../helpers/corpus';
import { scratchDir, sleep, TEST_EAL, waitFor } from '../helpers/router-env';

const CONFIG = path.resolve(__dirname, '..', '..', 'dpdk-config', 'default.yaml');

/** Send every frame of a pcap on an interface, rewriting the corpus' router MAC to the real one. */
const SENDER = `
import socket, struct, sys
path, ifname, old, new = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]), bytes.fromhex(sys.argv[4])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
data = open(path, 'rb').read()
off, sent, failed = 24, 0, 0
while off + 16 <= len(data):
    incl = struct.unpack_from('<I', data, off + 8)[0]
    frame = data[off + 16: off + 16 + incl]
    off += 16 + incl
    if frame[:6] == old:
        frame = new + frame[6:]
    if len(frame) < 14:
        failed += 1  # the kernel does not send frames shorter than a header
        continue
    try:
        s.send(frame)
        sent += 1
    except OSError:
        failed += 1
print(sent, failed)
`;

describe('integration: malformed traffic from a namespace host (af_packet)', function () {
  this.timeout(180000);
  let demo: Demo;
  const dir = scratchDir('malformed-af');

  before(async () => {
    requireRoot('integration tests');
    requireTools(['ip', 'python3', 'ping']);
    demo = await startDemo(CONFIG, { unique: true, override: (cfg) => ({ ...cfg, eal: { ...cfg.eal, ...TEST_EAL, workerCpus: cfg.eal.workerCpus } }) });
  });
  after(async () => {
    if (demo) await demo.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('survives 20,000 frames sent by h1, accounts for every one received, forwards the good ones, answers a ping after', async () => {
    const h1 = demo.host('h1');
    const h2 = demo.host('h2');
    demo.router.routes.add('2001:db8:3::/64', { via: h2.address, dev: 'eth1' });
    const corpus = buildCorpus(7, 20000);
    const pcap = path.join(dir, 'corpus.pcap');
    writePcap(pcap, corpus.frames);
    const script = path.join(dir, 'send.py');
    fs.writeFileSync(script, SENDER);
    const routerMac = Buffer.from(parseMac(demo.config.ports.find((p) => p.name === 'eth0')!.mac!)).toString('hex');
    const s0 = demo.router.stats();
    const r = await h1.exec(['python3', script, pcap, 'eth0', Buffer.from(parseMac(R0)).toString('hex'), routerMac], { timeoutMs: 120000 });
    expect(r.code, r.stderr).to.equal(0);
    const [sent] = r.stdout.trim().split(/\s+/).map(Number);
    expect(sent).to.be.greaterThan(19000);
    // Let the router take what the veth delivered.
    let s1 = demo.router.stats();
    await waitFor(() => {
      const s = demo.router.stats();
      const done = s.totals.rx_packets === s1.totals.rx_packets;
      s1 = s;
      return done;
    }, 10000, 300);
    await sleep(300);
    s1 = demo.router.stats();
    const d = (k: string): bigint => s1.totals[k] - s0.totals[k];
    expect(d('rx_packets') > 15000n, `received ${d('rx_packets')} of ${sent}`).to.equal(true);
    expect(d('rx_packets')).to.equal(d('forwarded') + d('punted') + d('dropped'));
    const reasons = Object.keys(s1.drops).reduce((a, k) => a + (s1.drops[k] - s0.drops[k]), 0n);
    expect(reasons).to.equal(d('dropped'));
    expect(s1.ports.eth1.opackets - s0.ports.eth1.opackets >= BigInt(corpus.good) * 9n / 10n, `forwarded to h2 (good frames ${corpus.good})`).to.equal(true);
    expect(demo.router.neighbours.list().filter((n) => n.mac === 'ee:ee:ee:ee:ee:ee')).to.deep.equal([]);
    const ping = await h1.exec(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', h2.address]);
    expect(ping.code, ping.stdout).to.equal(0);
  });
});

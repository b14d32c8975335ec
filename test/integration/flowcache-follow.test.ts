/**
 * The flow cache's promise (ip6_flow.c's rtcache_validate, here the
 * generation check): a cached flow follows a neighbour or route change on its
 * very next packet. A UDP flow (cached; ICMPv6 never is) from h1 to a
 * destination behind h2's link; h2's namespace reads every frame of the flow
 * that reaches its eth0 with a packet socket and reports its destination MAC,
 * so each datagram's next hop is seen on the wire. Each step sends one
 * datagram after the change and requires the new next hop's MAC on exactly
 * that datagram.
 */
import { expect } from 'chai';
import { ChildProcess } from 'child_process';
import * as path from 'path';

import { Demo, startDemo } from '../../lib/cli/demo';
import { requireRoot, requireTools, SYSTEM_PYTHON } from '../../lib/topology';
import { TEST_EAL, waitFor } from '../helpers/router-env';

const CONFIG = path.resolve(__dirname, '..', '..', 'dpdk-config', 'default.yaml');
const TARGET = '2001:db8:77::1';
const COVERING = '2001:db8:77::/64';
const SPECIFIC = `${TARGET}/128`;
const PORT = 5077;
/** A second next hop on h2's link: a static neighbour nobody answers for (its frames still reach h2's eth0). */
const OTHER_HOP = '2001:db8:2::3';
const OTHER_MAC = '02:00:00:00:0c:0c';
const CHANGED_MAC = '02:00:00:00:0b:0b';

/** In h2: every IPv6 UDP frame to PORT on eth0 (whatever its destination MAC), as "<dst mac> <payload>". */
const CAPTURE = `
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
s.bind(('eth0', 0))
print('ready', flush=True)
while True:
    f = s.recv(65535)
    if len(f) < 62 or f[20] != 17 or int.from_bytes(f[56:58], 'big') != ${PORT}:
        continue
    print(f[0:6].hex(':'), f[62:].decode(errors='replace'), flush=True)
`;

/** In h1: one UDP socket (one flow: same ports, same flow label); each stdin line sends "seq <line>". */
const SENDER =
  `const s=require('dgram').createSocket('udp6');` +
  `require('readline').createInterface({input:process.stdin}).on('line',(l)=>s.send(Buffer.from('seq '+l),${PORT},'${TARGET}'));`;

describe('integration: a cached UDP flow follows route and neighbour changes on its next datagram (destination MAC on the wire)', function () {
  this.timeout(120000);
  let demo: Demo;
  let capture: ChildProcess;
  let sender: ChildProcess;
  let h2Mac: string;
  const seen = new Map<number, string>(); // seq → destination MAC
  let seq = 0;

  before(async () => {
    requireRoot('integration tests');
    requireTools(['ip', 'sysctl', 'ethtool', 'python3']);
    demo = await startDemo(CONFIG, {
      unique: true,
      override: (cfg) => ({ ...cfg, eal: { ...cfg.eal, ...TEST_EAL, workerCpus: cfg.eal.workerCpus } }),
    });
    h2Mac = await demo.host('h2').mac();
    demo.router.neighbours.add({ address: OTHER_HOP, mac: OTHER_MAC, dev: 'eth1' });
    capture = demo.host('h2').spawn([SYSTEM_PYTHON, '-c', CAPTURE]);
    let ready = false;
    let buf = '';
    capture.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        if (l === 'ready') ready = true;
        const m = /^([0-9a-f:]{17}) seq (\d+)$/.exec(l);
        if (m) seen.set(Number(m[2]), m[1]);
      }
    });
    expect(await waitFor(() => ready, 10000), 'the capture in h2 started').to.equal(true);
    sender = demo.host('h1').spawn([process.execPath, '-e', SENDER], { stdio: ['pipe', 'ignore', 'pipe'] });
  });

  after(async () => {
    sender?.kill('SIGKILL');
    capture?.kill('SIGKILL');
    if (demo) await demo.close();
  });

  /** Send the next datagram; resolve with the destination MAC it reached h2's link with. */
  async function next(): Promise<string> {
    const n = ++seq;
    sender.stdin!.write(`${n}\n`);
    expect(await waitFor(() => seen.has(n), 5000), `datagram ${n} reached h2's link`).to.equal(true);
    return seen.get(n)!;
  }

  /** The flow's cache entry (one worker: one entry). */
  async function flow(): Promise<{ nextHopMac: string; uses: bigint } | undefined> {
    return (await demo.router.flowCache.list()).find((f) => f.dst === TARGET);
  }

  /** Forward two datagrams to `mac` and check that the flow is cached towards it: the change then meets a cached entry. */
  async function cachedTowards(mac: string): Promise<void> {
    expect(await next()).to.equal(mac);
    const hitsBefore = demo.router.stats().flowCache.hits;
    expect(await next()).to.equal(mac);
    expect(demo.router.stats().flowCache.hits - hitsBefore, 'the second datagram hit the cache').to.equal(1n);
    expect((await flow())?.nextHopMac).to.equal(mac);
  }

  beforeEach(async () => {
    demo.router.routes.add(COVERING, { via: demo.host('h2').address, dev: 'eth1' });
    await demo.router.flowCache.flush();
  });

  afterEach(() => {
    for (const p of [SPECIFIC, COVERING]) {
      try {
        demo.router.routes.delete(p);
      } catch {
        /* not there */
      }
    }
    demo.router.neighbours.add({ address: demo.host('h2').address, mac: h2Mac, dev: 'eth1' });
  });

  it('the next hop\'s MAC changes: the very next datagram goes to the new MAC', async () => {
    await cachedTowards(h2Mac);
    demo.router.neighbours.add({ address: demo.host('h2').address, mac: CHANGED_MAC, dev: 'eth1' });
    expect(await next()).to.equal(CHANGED_MAC);
    expect((await flow())?.nextHopMac, 'the entry was rebuilt').to.equal(CHANGED_MAC);
  });

  it('a more specific route to another next hop: the very next datagram takes it', async () => {
    await cachedTowards(h2Mac);
    demo.router.routes.add(SPECIFIC, { via: OTHER_HOP, dev: 'eth1' });
    expect(await next()).to.equal(OTHER_MAC);
  });

  it('the route is deleted: the very next datagram follows the covering route, and with that deleted too it is dropped as no_route', async () => {
    demo.router.routes.add(SPECIFIC, { via: OTHER_HOP, dev: 'eth1' });
    await cachedTowards(OTHER_MAC);
    demo.router.routes.delete(SPECIFIC);
    expect(await next()).to.equal(h2Mac);

    await cachedTowards(h2Mac);
    demo.router.routes.delete(COVERING);
    const before = demo.router.stats().drops.no_route;
    const n = ++seq;
    sender.stdin!.write(`${n}\n`);
    expect(await waitFor(() => demo.router.stats().drops.no_route > before, 5000), 'the datagram was dropped for want of a route').to.equal(true);
    expect(demo.router.stats().drops.no_route - before).to.equal(1n);
    // Counted as dropped by the worker: it cannot reach the wire any more.
    expect(seen.has(n), 'the dropped datagram was not forwarded').to.equal(false);
  });
});

// Duplicate Address Detection (RFC 4862 5.4), packet level: the probes the
// router sends (tx pcap), what makes an address duplicated (frames in the
// rx pcap, replayed while the addresses are tentative), the address events
// JS receives and the states interfaces.list() shows.
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { AddressEvent, Router, RouterEvent } from '../../lib';
import { parseIPv6 } from '../../lib/addr';
import { readPcap, writePcap } from '../../lib/pcap';
import { icmp6, icmp6ChecksumValid, na, ns } from '../helpers/frames';
import { scratchDir, sleep, TEST_EAL, waitFor } from '../helpers/router-env';

const R0 = '02:00:00:00:00:01';
const H1 = '02:00:00:00:00:aa';
const GLOBAL = '2001:db8:1::1';
const LINK_LOCAL = 'fe80::ff:fe00:1'; // EUI-64 of 02:00:00:00:00:01

interface DadRun {
  events: AddressEvent[];
  iterated: RouterEvent[];
  states: Record<string, string>;
  routes: string[];
  out: Buffer[];
  control: Record<string, bigint>;
}

/** Start a one-port router whose rx pcap holds `frames`, wait until DAD settled, stop. */
async function dadRun(dir: string, frames: Buffer[], dadTransmits?: number): Promise<DadRun> {
  const inFile = path.join(dir, 'in.pcap');
  const outFile = path.join(dir, 'out.pcap');
  writePcap(inFile, frames);
  const events: AddressEvent[] = [];
  const iterated: RouterEvent[] = [];
  const router = await Router.start({
    eal: TEST_EAL,
    ports: [
      {
        name: 'eth0',
        device: `net_pcap0,rx_pcap=${inFile},tx_pcap=${outFile}`,
        mac: R0,
        addresses: [`${GLOBAL}/64`],
        ...(dadTransmits !== undefined ? { dadTransmits } : {}),
      },
    ],
  });
  router.on('address', (ev: AddressEvent) => events.push(ev));
  const reader = (async () => {
    for await (const ev of router.events()) if (ev.type === 'address') iterated.push(ev);
  })();
  try {
    await router.addressesSettled(5000);
    await sleep(100); // the last event's wake-up
    const eth0 = router.interfaces.get('eth0');
    // pcap has no link interrupts: its state is polled, and it is up once started.
    expect(eth0.linkSource).to.equal('poll');
    expect(eth0.linkState).to.equal('up');
    return {
      events,
      iterated,
      states: { ...eth0.addressStates },
      routes: router.routes.list().map((r) => `${r.kind} ${r.prefix}`),
      out: [],
      control: router.stats().control,
    };
  } finally {
    await router.stop();
    await reader; // ends when the router stops
  }
}

describe('duplicate address detection (net_pcap)', function () {
  this.timeout(30000);
  let dir: string;
  beforeEach(() => (dir = scratchDir('dad')));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('probes each address once from :: with a nonce, then makes it preferred; events arrive in order', async () => {
    const started = Date.now();
    const r = await dadRun(dir, []);
    r.out = readPcap(path.join(dir, 'out.pcap'));
    const probes = r.out.filter((f) => f[54] === 135);
    expect(probes).to.have.length(2);
    const targets = probes.map((f) => Buffer.from(f.subarray(54 + 8, 54 + 24)));
    for (const [i, f] of probes.entries()) {
      const target = targets[i];
      expect(f[14 + 7]).to.equal(255); // hop limit
      expect(f.subarray(14 + 8, 14 + 24).equals(Buffer.alloc(16))).to.equal(true); // from ::
      // to the solicited-node group of the target, and its MAC
      const group = Buffer.from(parseIPv6('ff02::1:ff00:0'));
      target.copy(group, 13, 13, 16);
      expect(f.subarray(14 + 24, 14 + 40).equals(group)).to.equal(true);
      expect(f.subarray(0, 6).toString('hex')).to.equal(`3333ff${target.subarray(13).toString('hex')}`);
      expect(f.readUInt16BE(14 + 4)).to.equal(32); // NS + one 8-byte option
      expect(f[54 + 24]).to.equal(14); // nonce option, no source link-layer option
      expect(f[54 + 25]).to.equal(1);
      expect(icmp6ChecksumValid(f)).to.equal(true);
    }
    const want = [parseIPv6(GLOBAL), parseIPv6(LINK_LOCAL)].map((a) => Buffer.from(a).toString('hex')).sort();
    expect(targets.map((t) => t.toString('hex')).sort()).to.deep.equal(want);

    expect(r.states).to.deep.equal({ [`${GLOBAL}/64`]: 'preferred', [`${LINK_LOCAL}/64`]: 'preferred' });
    for (const a of [`${GLOBAL}/64`, `${LINK_LOCAL}/64`]) {
      const mine = r.events.filter((e) => e.address === a);
      expect(mine.map((e) => `${e.previous}>${e.state}`)).to.deep.equal(['none>tentative', 'tentative>preferred']);
      // RetransTimer (1 s) after the probe, which waited 0-1 s
      const took = mine[1].at.getTime() - mine[0].at.getTime();
      expect(took).to.be.within(950, 2500);
      expect(mine[0].at.getTime()).to.be.at.least(started - 1000);
      expect(mine[0].interface).to.equal('eth0');
    }
    // The async iterator saw the same events, in the same order.
    expect(r.iterated).to.deep.equal(r.events);
    expect(r.control.dad_probes_out).to.equal(2n);
    expect(r.control.dad_succeeded).to.equal(2n);
    expect(r.control.dad_duplicates).to.equal(0n);
  });

  it('an NA for a tentative address makes it duplicated: no local route; the others go on', async () => {
    const frames = [
      na(H1, '2001:db8:1::9', 'ff02::1', '33:33:00:00:00:01', GLOBAL, 0x20), // someone holds it
      // an Echo Request to it (while tentative: no answer either way; after DAD: the next test)
      icmp6({ srcMac: H1, dstMac: R0, src: '2001:db8:1::9', dst: GLOBAL, body: Buffer.from([128, 0, 0, 0, 0, 1, 0, 1]) }),
    ];
    const r = await dadRun(dir, frames);
    r.out = readPcap(path.join(dir, 'out.pcap'));
    expect(r.states).to.deep.equal({ [`${GLOBAL}/64`]: 'duplicated', [`${LINK_LOCAL}/64`]: 'preferred' });
    const g = r.events.filter((e) => e.address === `${GLOBAL}/64`).map((e) => `${e.previous}>${e.state}`);
    expect(g).to.deep.equal(['none>tentative', 'tentative>duplicated']);
    expect(r.routes).to.not.include(`local ${GLOBAL}/128`);
    expect(r.routes).to.include(`local ${LINK_LOCAL}/128`);
    expect(r.out.filter((f) => f[54] === 129)).to.have.length(0); // no Echo Reply (tentative, then duplicated)
    expect(r.out.filter((f) => f[54] === 135)).to.have.length(1); // only the link-local probe
    expect(r.control.dad_duplicates).to.equal(1n);
    expect(r.control.dad_succeeded).to.equal(1n);
  });

  it('a duplicated address answers nothing after DAD, while the preferred one beside it answers the same requests', async () => {
    // Replayed without end (infinite_rx), so the requests keep coming after
    // DAD has ended: an unanswered request then means duplicated, not just
    // tentative. Junk frames (dropped as not IPv6) space the requests out.
    const echo = (dst: string): Buffer =>
      icmp6({ srcMac: H1, dstMac: R0, src: 'fe80::9', dst, body: Buffer.from([128, 0, 0, 0, 0, 1, 0, 1]), hopLimit: 64 });
    const junk = Buffer.alloc(60);
    junk.writeUInt16BE(0x88b5, 12);
    const frames = [na(H1, 'fe80::9', 'ff02::1', '33:33:00:00:00:01', GLOBAL, 0x20), echo(GLOBAL), echo(LINK_LOCAL), ...Array.from({ length: 5000 }, () => junk)];
    const inFile = path.join(dir, 'in.pcap');
    const outFile = path.join(dir, 'out.pcap');
    writePcap(inFile, frames);
    const router = await Router.start({
      eal: TEST_EAL,
      ports: [{ name: 'eth0', device: `net_pcap0,rx_pcap=${inFile},tx_pcap=${outFile},infinite_rx=1`, mac: R0, addresses: [`${GLOBAL}/64`] }],
      // The asker is known: an answer would not wait for neighbour discovery.
      neighbours: [{ address: 'fe80::9', mac: H1, dev: 'eth0' }],
    });
    try {
      await router.addressesSettled(5000);
      expect(router.interfaces.get('eth0').addressStates).to.deep.equal({ [`${GLOBAL}/64`]: 'duplicated', [`${LINK_LOCAL}/64`]: 'preferred' });
      const repliesAtEnd = router.stats().control.icmp6_echo_replies;
      expect(await waitFor(() => router.stats().control.icmp6_echo_replies >= repliesAtEnd + 20n, 10000), 'requests answered after DAD ended').to.equal(true);
    } finally {
      await router.stop();
    }
    const replies = readPcap(outFile).filter((f) => f[54] === 129);
    const from = (f: Buffer): string => Buffer.from(f.subarray(22, 38)).toString('hex');
    expect(replies.length).to.be.at.least(20);
    expect(replies.filter((f) => from(f) === Buffer.from(parseIPv6(LINK_LOCAL)).toString('hex')).length, 'every reply is the preferred address\'s').to.equal(replies.length);
  });

  it("another node's probe for a tentative address makes it duplicated; answers nothing for it", async () => {
    const group = 'ff02::1:ff00:1';
    const frames = [
      ns(H1, '::', group, '33:33:ff:00:00:01', GLOBAL, { nonce: Buffer.from('abcdef') }),
      ns(H1, '2001:db8:1::9', group, '33:33:ff:00:00:01', GLOBAL), // a resolution: not answered either
    ];
    const r = await dadRun(dir, frames);
    r.out = readPcap(path.join(dir, 'out.pcap'));
    expect(r.states[`${GLOBAL}/64`]).to.equal('duplicated');
    expect(r.out.filter((f) => f[54] === 136)).to.have.length(0); // no NA from us
    expect(r.control.dad_duplicates).to.equal(1n);
  });

  it('admin down, then up: every address runs DAD again (tentative, probed, preferred), as the docs promise', async () => {
    const inFile = path.join(dir, 'in.pcap');
    writePcap(inFile, []);
    const router = await Router.start({
      eal: TEST_EAL,
      ports: [{ name: 'eth0', device: `net_pcap0,rx_pcap=${inFile},tx_pcap=/dev/null`, mac: R0, addresses: [`${GLOBAL}/64`] }],
    });
    const events: AddressEvent[] = [];
    router.on('address', (ev: AddressEvent) => events.push(ev));
    try {
      await router.addressesSettled(5000);
      const probes = router.stats().control.dad_probes_out;
      const seen = events.length;
      // Up again within microseconds, before the control thread's loop can
      // see the port down: DAD restarts all the same (the port's up_count).
      router.interfaces.setDown('eth0');
      router.interfaces.setUp('eth0');
      // The control thread restarts DAD when it handles the up.
      const tentative = (): boolean => Object.values(router.interfaces.get('eth0').addressStates).includes('tentative');
      expect(await waitFor(tentative, 2000, 1), 'tentative again').to.equal(true);
      await router.addressesSettled(5000);
      expect(router.interfaces.get('eth0').addressStates).to.deep.equal({ [`${GLOBAL}/64`]: 'preferred', [`${LINK_LOCAL}/64`]: 'preferred' });
      const c = router.stats().control;
      expect(c.dad_probes_out - probes, 'one probe per address again').to.equal(2n);
      expect(await waitFor(() => events.length >= seen + 4), 'events').to.equal(true);
      for (const a of [`${GLOBAL}/64`, `${LINK_LOCAL}/64`]) {
        const again = events.slice(seen).filter((e) => e.address === a).map((e) => e.state);
        expect(again, a).to.deep.equal(['tentative', 'preferred']);
      }
    } finally {
      await router.stop();
    }
  });

  it('dadTransmits 0: addresses are preferred at once and nothing is probed', async () => {
    const r = await dadRun(dir, [], 0);
    r.out = readPcap(path.join(dir, 'out.pcap'));
    expect(r.states).to.deep.equal({ [`${GLOBAL}/64`]: 'preferred', [`${LINK_LOCAL}/64`]: 'preferred' });
    expect(r.out.filter((f) => f[54] === 135)).to.have.length(0);
    expect(r.events.map((e) => `${e.previous}>${e.state}`)).to.deep.equal(['none>preferred', 'none>preferred']);
  });
});

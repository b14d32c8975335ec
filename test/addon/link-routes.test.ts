// Routes follow link state, packet level (docs/interfaces.md, "Routes and
// link state"): a prefix via eth1 and a default route via eth2, traffic to the
// prefix replayed forever from a pcap on eth0. eth1 administratively down →
// its routes leave the FIB and the default carries the traffic out of eth2;
// without the default the packets are dropped as no_route and answered with
// ICMPv6 Destination Unreachable (code 0) out of eth0; eth1 up → its routes
// return and the traffic with them. The carrier side (a veth's link in a
// namespace) is in test/integration/link-routes.test.ts.
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { Router, RouterStats } from '../../lib';
import { formatIPv6, parseIPv6 } from '../../lib/addr';
import { ip6Frame, readPcap, writePcap } from '../../lib/pcap';
import { icmp6ChecksumValid, withoutMld } from '../helpers/frames';
import { scratchDir, sleep, TEST_EAL, waitFor } from '../helpers/router-env';

const R0 = '02:00:00:00:00:01';
const R1 = '02:00:00:00:00:02';
const R2 = '02:00:00:00:00:03';
const H1 = '02:00:00:00:00:aa'; // on eth0's link: the sender
const H2 = '02:00:00:00:00:bb'; // next hop on eth1
const H3 = '02:00:00:00:00:cc'; // next hop on eth2
const PREFIX = '2001:db8:3::/64';

const macHex = (m: string): string => m.replace(/:/g, '');

describe('routes follow link state (net_pcap infinite_rx → net_null)', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => (dir = scratchDir('linkroutes')));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('admin down withdraws the routes through eth1 (the default carries the traffic; with none, Destination Unreachable); up restores them', async () => {
    const frames: Buffer[] = [];
    for (let i = 0; i < 16; i++) {
      frames.push(ip6Frame({ dstMac: R0, srcMac: H1, src: '2001:db8:1::2', dst: `2001:db8:3::${(i + 1).toString(16)}`, srcPort: 1000 + i, payload: Buffer.alloc(18, i) }));
    }
    const inFile = path.join(dir, 'in.pcap');
    const out0 = path.join(dir, 'out0.pcap');
    writePcap(inFile, frames);
    const router = await Router.start({
      eal: TEST_EAL,
      ports: [
        { name: 'eth0', device: `net_pcap0,rx_pcap=${inFile},infinite_rx=1,tx_pcap=${out0}`, mac: R0, addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
        { name: 'eth1', device: 'net_null1,no-rx=1', mac: R1, addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
        { name: 'eth2', device: 'net_null2,no-rx=1', mac: R2, addresses: ['2001:db8:4::1/64'], dadTransmits: 0 },
      ],
      routes: [
        { prefix: PREFIX, via: 'fe80::2', dev: 'eth1' },
        { prefix: '::/0', via: 'fe80::3', dev: 'eth2' },
      ],
      neighbours: [
        { address: 'fe80::2', mac: H2, dev: 'eth1' },
        { address: 'fe80::3', mac: H3, dev: 'eth2' },
        { address: '2001:db8:1::2', mac: H1, dev: 'eth0' },
      ],
      flowCache: { maxflows: 1024, hashsize: 256 },
    });
    let final: RouterStats;
    try {
      const state = (prefix: string): string | undefined => router.routes.list().find((r) => r.prefix === prefix)?.state;
      const states = (): Record<string, string> => Object.fromEntries(router.routes.list().map((r) => [`${r.kind} ${r.prefix}`, r.state]));
      /** What happened during `ms`, after a short settle. */
      const window = async (ms = 200): Promise<{ eth1: bigint; eth2: bigint; noRoute: bigint; forwarded: bigint }> => {
        await sleep(30);
        const a = router.stats();
        await sleep(ms);
        const b = router.stats();
        return {
          eth1: b.ports.eth1.opackets - a.ports.eth1.opackets,
          eth2: b.ports.eth2.opackets - a.ports.eth2.opackets,
          noRoute: b.drops.no_route - a.drops.no_route,
          forwarded: b.totals.forwarded - a.totals.forwarded,
        };
      };

      // 1. Everything up: the prefix leaves on eth1.
      expect(await waitFor(() => router.stats().totals.forwarded > 10000n), 'forwarding').to.equal(true);
      expect(Object.values(states()).every((s) => s === 'up'), JSON.stringify(states())).to.equal(true);
      let w = await window();
      expect(w.eth1 > 1000n, `eth1 sent ${w.eth1}`).to.equal(true);
      expect(w.eth2 < 20n, `eth2 sent ${w.eth2}`).to.equal(true);

      // 2. eth1 administratively down: its static and connected routes leave
      // the FIB at once (the local /128s stay); the default carries the prefix.
      router.setInterfaceUp('eth1', false);
      expect(states()).to.deep.include({
        [`static ${PREFIX}`]: 'down',
        'connected 2001:db8:2::/64': 'down',
        'local 2001:db8:2::1/128': 'up',
        'static ::/0': 'up',
        'connected 2001:db8:4::/64': 'up',
      });
      let s = router.stats();
      expect(s.fib.routesDown).to.equal(2);
      expect(s.fib.routes).to.equal(router.routes.list().length);
      expect(s.control.routes_withdrawn).to.equal(2n);
      w = await window();
      expect(w.eth2 > 1000n, `eth2 sent ${w.eth2}`).to.equal(true);
      expect(w.eth1).to.equal(0n);
      // Flows through eth1 were invalidated (older generation); the live ones go to H3.
      const gen = router.stats().generation;
      const flows = (await router.flowCache.list()).filter((f) => f.dst.startsWith('2001:db8:3::'));
      expect(flows.filter((f) => f.outDev === 'eth1' && f.generation === gen)).to.have.length(0);
      const live = flows.filter((f) => f.generation === gen);
      expect(live.length > 0, 'flows rebuilt on the default route').to.equal(true);
      for (const f of live) expect(f).to.deep.include({ outDev: 'eth2', nextHopMac: H3 });
      // The switch lost nothing: there was always a route, and no flow kept
      // sending to the port after it went down.
      s = router.stats();
      expect(s.drops.no_route, 'no_route while the default covered the prefix').to.equal(0n);
      expect(s.drops.port_down, 'port_down drops at the switch').to.equal(0n);

      // Routes added and deleted through the down interface: in the list only.
      router.routes.add('2001:db8:5::/64', { via: 'fe80::2', dev: 'eth1' });
      router.routes.add('2001:db8:6::/64', { via: 'fe80::2', dev: 'eth1' });
      expect(state('2001:db8:5::/64')).to.equal('down');
      router.routes.delete('2001:db8:5::/64');
      expect(state('2001:db8:5::/64')).to.equal(undefined);
      expect(router.stats().fib.routesDown).to.equal(3);

      // 3. Only the route via eth1 (down) is left for the prefix: no route.
      router.routes.delete('::/0');
      w = await window(300);
      expect(w.noRoute > 1000n, `no_route ${w.noRoute}`).to.equal(true);
      expect(w.eth1).to.equal(0n);
      expect(w.eth2 < 20n, `eth2 sent ${w.eth2}`).to.equal(true);
      expect(w.forwarded).to.equal(0n);
      s = router.stats();
      expect(s.control.icmp6_unreachable > 0n, 'Destination Unreachable sent').to.equal(true);
      // Rate-limited as every ICMPv6 error: far fewer than the drops.
      expect(s.totals.icmp6_error_ratelimited > 0n, 'errors over the rate were not asked for').to.equal(true);
      expect(s.control.icmp6_unreachable < s.drops.no_route / 100n).to.equal(true);
      expect(state(PREFIX)).to.equal('down');

      // 4. eth1 up: its routes return, and the traffic with them.
      router.setInterfaceUp('eth1', true);
      expect(Object.values(states()).every((x) => x === 'up'), JSON.stringify(states())).to.equal(true);
      expect(state('2001:db8:6::/64')).to.equal('up');
      s = router.stats();
      expect(s.fib.routesDown).to.equal(0);
      expect(s.control.routes_restored).to.equal(3n); // the prefix, the connected /64, 2001:db8:6::/64
      w = await window();
      expect(w.eth1 > 1000n, `eth1 sent ${w.eth1}`).to.equal(true);
      expect(w.noRoute).to.equal(0n);
      expect(w.eth2 < 20n, `eth2 sent ${w.eth2}`).to.equal(true);
      final = router.stats();
      expect(final.drops.port_down).to.equal(0n);
      expect(final.drops.link_down).to.equal(0n);
      expect(final.control.routes_restore_failed + final.control.routes_withdraw_failed).to.equal(0n);
    } finally {
      await router.stop();
    }

    // What left eth0: the Destination Unreachables (no route, code 0) for h1,
    // each quoting a packet to the prefix.
    const du = withoutMld(readPcap(out0)).filter((f) => f.readUInt16BE(12) === 0x86dd && f[14 + 6] === 58 && f[54] === 1);
    expect(du.length > 0, 'Destination Unreachable on eth0').to.equal(true);
    expect(BigInt(du.length)).to.equal(final.control.icmp6_unreachable);
    for (const f of du) {
      expect(f[55], 'code 0: no route to destination').to.equal(0);
      expect(icmp6ChecksumValid(f)).to.equal(true);
      expect(f.subarray(0, 6).toString('hex')).to.equal(macHex(H1));
      expect(f.subarray(6, 12).toString('hex')).to.equal(macHex(R0));
      expect(formatIPv6(f.subarray(14 + 8, 14 + 24))).to.equal('2001:db8:1::1');
      expect(formatIPv6(f.subarray(14 + 24, 14 + 40))).to.equal('2001:db8:1::2');
      const quoted = f.subarray(54 + 8);
      expect(Buffer.from(quoted.subarray(24, 32)).equals(Buffer.from(parseIPv6('2001:db8:3::').subarray(0, 8)))).to.equal(true);
    }
  });
});

/**
 * The router between real Linux hosts: the demo topology (dpdk-config/
 * default.yaml) with h1 and h2 in network namespaces, af_packet ports on the
 * router side of each veth. The peers are the kernel's IPv6 stack, ping,
 * tcpdump, iperf3 and UDP sockets. Needs root and the tools below; a missing
 * prerequisite fails the run (never skips).
 */
import { expect } from 'chai';
import * as path from 'path';

import { NormalizedPort, NormalizedRouterConfig } from '../../lib/config';
import { Demo, startDemo } from '../../lib/cli/demo';
import type { LinkEvent, NeighbourEvent } from '../../lib/events';
import * as fs from 'fs';
import { listLinks, listNamespaces, requireRoot, requireTools, TopologyHost } from '../../lib/topology';
import { outputMatches, sleep, TEST_EAL, waitFor } from '../helpers/router-env';

const CONFIG = path.resolve(__dirname, '..', '..', 'dpdk-config', 'default.yaml');

/** A UDP sender run inside a namespace with the same Node: one socket = one flow label. */
function udpSenderScript(dst: string, port: number, count: number): string {
  return `const s=require('dgram').createSocket('udp6');let n=0;` +
    `const send=()=>{if(n++>=${count}){s.close();return;}s.send(Buffer.from('fastpath '+n),${port},'${dst}',()=>setTimeout(send,5));};send();`;
}

function udpReceiverScript(port: number, ms: number): string {
  return `const s=require('dgram').createSocket('udp6');let n=0;s.on('message',()=>n++);` +
    `s.bind(${port},()=>setTimeout(()=>{console.log(n);s.close();},${ms}));`;
}

type PortEdit = (p: NormalizedPort) => NormalizedPort;

/** The demo for one describe block (ports changed by `edit`, other settings by `extra`), torn down after it. */
function demoFor(edit: PortEdit = (p) => p, extra: Partial<Omit<NormalizedRouterConfig, 'topology'>> = {}): () => Demo {
  let demo: Demo | undefined;
  before(async () => {
    requireRoot('integration tests');
    requireTools(['ip', 'sysctl', 'ethtool', 'ping']);
    demo = await startDemo(CONFIG, {
      unique: true,
      override: (cfg) => ({
        ...cfg,
        ...extra,
        eal: { ...cfg.eal, ...TEST_EAL, workerCpus: cfg.eal.workerCpus },
        ports: cfg.ports.map(edit),
      }),
    });
  });
  after(async () => {
    if (demo) await demo.close();
  });
  return () => {
    if (!demo) throw new Error('the demo did not start');
    return demo;
  };
}

describe('integration: router between namespace hosts (af_packet over veth)', function () {
  this.timeout(120000);
  let demo: Demo;

  before(async () => {
    requireRoot('integration tests');
    requireTools(['ip', 'sysctl', 'ethtool', 'ping', 'tracepath', 'tcpdump', 'iperf3']);
    demo = await startDemo(CONFIG, {
      unique: true,
      override: (cfg) => ({ ...cfg, eal: { ...cfg.eal, ...TEST_EAL, workerCpus: cfg.eal.workerCpus } }),
    });
  });

  after(async () => {
    if (demo) await demo.close();
  });

  it('ping -6 h1 → h2 crosses the router; h2 sees hop limit 63 (64 sent)', async () => {
    const h1 = demo.host('h1');
    const h2 = demo.host('h2');
    const dump = h2.spawn(['tcpdump', '-i', 'eth0', '-n', '-v', '-l', '-c', '1', 'icmp6 and ip6[40] == 128']);
    let captured = '';
    dump.stdout?.on('data', (d: Buffer) => (captured += d.toString()));
    dump.stderr?.on('data', (d: Buffer) => (captured += d.toString()));
    await waitFor(() => captured.includes('listening on'), 5000);
    const before = demo.router.stats();
    const ping = await h1.exec(['ping', '-6', '-c', '5', '-i', '0.2', '-t', '64', '-W', '2', h2.address]);
    expect(ping.code, ping.stdout + ping.stderr).to.equal(0);
    expect(ping.stdout).to.match(/5 packets transmitted, 5 received/);
    expect(await waitFor(() => /hlim 63/.test(captured), 5000), captured).to.equal(true);

    // Counters match what was sent: 5 requests h1→h2 and 5 replies h2→h1.
    const after = demo.router.stats();
    expect(after.totals.forwarded - before.totals.forwarded).to.equal(10n);
    expect(after.ports.eth1.opackets - before.ports.eth1.opackets).to.equal(5n);
    expect(after.ports.eth0.opackets - before.ports.eth0.opackets).to.equal(5n);
    // ICMPv6 never creates flow entries (ip6_flow.c).
    const flows = await demo.router.flowCache.list();
    expect(flows.filter((f) => f.dst === h2.address || f.src === h2.address)).to.have.length(0);
    // Everything received is accounted for.
    const t = after.totals;
    expect(t.rx_packets).to.equal(t.forwarded + t.dropped + t.punted);
  });

  it("ping -6 to the router's own addresses (both interfaces) is answered", async () => {
    const h1 = demo.host('h1');
    const before = demo.router.stats().control.icmp6_echo_replies;
    for (const addr of ['2001:db8:1::1', '2001:db8:2::1']) {
      const ping = await h1.exec(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', addr]);
      expect(ping.code, ping.stdout + ping.stderr).to.equal(0);
      expect(ping.stdout).to.match(/3 packets transmitted, 3 received/);
    }
    expect(demo.router.stats().control.icmp6_echo_replies - before).to.equal(6n);
  });

  it('each interface has an EUI-64 link-local address that answers on its link', async () => {
    const h1 = demo.host('h1');
    const eth0 = demo.router.interfaces.get('eth0');
    const ll = eth0.addresses.find((a) => a.startsWith('fe80:'));
    expect(ll, JSON.stringify(eth0.addresses)).to.not.equal(undefined);
    // EUI-64: the MAC with the universal/local bit flipped and ff:fe in the middle.
    const m = eth0.mac.split(':').map((x) => parseInt(x, 16));
    const iid = [m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]];
    const groups = [0, 2, 4, 6].map((i) => ((iid[i] << 8) | iid[i + 1]).toString(16));
    expect(ll).to.equal(`fe80::${groups.join(':')}/64`);
    const ping = await h1.exec(['ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', `${ll!.split('/')[0]}%eth0`]);
    expect(ping.code, ping.stdout + ping.stderr).to.equal(0);
  });

  it('Linux hosts resolve the router by Neighbor Discovery (no static entry on the hosts)', async () => {
    const h1 = demo.host('h1');
    const h2 = demo.host('h2');
    for (const h of [h1, h2]) await h.exec(['ip', '-6', 'neigh', 'del', h.gateway, 'dev', 'eth0'], { check: true });
    const before = demo.router.stats().control.nd_na_out;
    const ping = await h1.exec(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', h2.address]);
    expect(ping.code, ping.stdout + ping.stderr).to.equal(0);
    for (const h of [h1, h2]) {
      const neigh = (await h.exec(['ip', '-6', 'neigh', 'show', h.gateway, 'dev', 'eth0'])).stdout;
      const mac = demo.router.interfaces.get(h.port).mac;
      expect(neigh, `${h.name}: ${neigh}`).to.match(new RegExp(`lladdr ${mac} .*(REACHABLE|STALE|DELAY|PROBE)`));
    }
    expect(demo.router.stats().control.nd_na_out - before >= 2n).to.equal(true);
  });

  it('with no static neighbours anywhere, the router resolves the hosts by ND and forwards', async () => {
    const h1 = demo.host('h1');
    const h2 = demo.host('h2');
    for (const h of [h1, h2]) {
      demo.router.neighbours.delete({ address: h.address, dev: h.port });
      await h.exec(['ip', '-6', 'neigh', 'flush', 'dev', 'eth0'], { check: true });
    }
    const before = demo.router.stats().control;
    const ping = await h1.exec(['ping', '-6', '-c', '3', '-i', '0.3', '-W', '2', h2.address]);
    expect(ping.code, ping.stdout + ping.stderr).to.equal(0);
    expect(ping.stdout).to.match(/3 packets transmitted, 3 received/);
    const after = demo.router.stats().control;
    expect(after.nd_ns_out - before.nd_ns_out >= 1n).to.equal(true);
    expect(after.nd_resolved - before.nd_resolved >= 1n).to.equal(true);
    const table = demo.router.neighbours.list();
    for (const h of [h1, h2]) {
      const n = table.find((e) => e.address === h.address && e.dev === h.port);
      expect(n, JSON.stringify(table)).to.not.equal(undefined);
      expect(n!.mac).to.equal(await h.mac());
      // Learned from an NS (STALE) and then used: DELAY, later PROBE and REACHABLE (NUD).
      expect(['reachable', 'stale', 'delay', 'probe']).to.include(n!.state);
    }
  });

  it('tracepath -6 from h1 to h2 lists the router (ICMPv6 Time Exceeded)', async () => {
    const h1 = demo.host('h1');
    const h2 = demo.host('h2');
    const trace = await h1.exec(['tracepath', '-6', '-n', '-m', '4', h2.address], { timeoutMs: 30000 });
    expect(trace.stdout, trace.stdout + trace.stderr).to.match(/1:\s+2001:db8:1::1\s/);
    expect(trace.stdout).to.include(h2.address);
    expect(demo.router.stats().control.icmp6_time_exceeded > 0n).to.equal(true);
    // To the router's own (far-side) address: port unreachable says "reached".
    const toRouter = await h1.exec(['tracepath', '-6', '-n', '-m', '3', '2001:db8:2::1'], { timeoutMs: 30000 });
    expect(toRouter.stdout, toRouter.stdout + toRouter.stderr).to.match(/reached/);
  });

  it('UDP from h1 to h2 is forwarded and cached as one flow with its counters', async () => {
    const h1 = demo.host('h1');
    const h2 = demo.host('h2');
    const count = 40;
    // Earlier tests (tracepath's UDP probes) left flows h1 → h2 of their own.
    await demo.router.flowCache.flush();
    const receiver = h2.exec([process.execPath, '-e', udpReceiverScript(9999, 3000)]);
    await sleep(300);
    const sender = await h1.exec([process.execPath, '-e', udpSenderScript(h2.address, 9999, count)]);
    expect(sender.code, sender.stderr).to.equal(0);
    const received = await receiver;
    expect(Number(received.stdout.trim()), received.stderr).to.equal(count);

    const flows = await demo.router.flowCache.list();
    const flow = flows.find((f) => f.src === h1.address && f.dst === h2.address);
    expect(flow, JSON.stringify(flows, (_, v) => (typeof v === 'bigint' ? String(v) : v))).to.not.equal(undefined);
    expect(flow!.inDev).to.equal('eth0');
    expect(flow!.outDev).to.equal('eth1');
    expect(flow!.flowLabel).to.not.equal(0); // Linux sets a per-socket label
    // The first datagram built the entry through the FIB; the rest hit it.
    expect(flow!.uses).to.equal(BigInt(count));
    const s = demo.router.stats();
    expect(s.flowCache.hits >= BigInt(count - 1)).to.equal(true);
  });

  it('TCP (iperf3, 1 s) crosses the router with valid checksums', async () => {
    const h1 = demo.host('h1');
    const h2 = demo.host('h2');
    const server = h2.spawn(['iperf3', '-s', '-1', '--forceflush', '-B', h2.address]);
    await outputMatches(server, /Server listening/);
    const client = await h1.exec(['iperf3', '-6', '-c', h2.address, '-t', '1', '-J'], { timeoutMs: 20000 });
    server.kill();
    expect(client.code, client.stderr + client.stdout.slice(0, 500)).to.equal(0);
    const result = JSON.parse(client.stdout) as { end: { sum_received: { bytes: number } } };
    expect(result.end.sum_received.bytes).to.be.greaterThan(0);
    const flows = await demo.router.flowCache.list();
    expect(flows.some((f) => f.src === h1.address && f.dst === h2.address)).to.equal(true);
    expect(flows.some((f) => f.src === h2.address && f.dst === h1.address)).to.equal(true);
  });

  it('a route to a third prefix via h2 forwards, and deleting it drops with no_route', async () => {
    const h1 = demo.host('h1');
    const h2 = demo.host('h2');
    await h2.exec(['ip', '-6', 'addr', 'add', '2001:db8:7::1/128', 'dev', 'lo'], { check: true });
    demo.router.routes.add('2001:db8:7::/64', { via: h2.address, dev: 'eth1' });
    const ok = await h1.exec(['ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', '2001:db8:7::1']);
    expect(ok.code, ok.stdout).to.equal(0);
    demo.router.routes.delete('2001:db8:7::/64');
    const before = demo.router.stats().drops.no_route;
    const fail = await h1.exec(['ping', '-6', '-c', '2', '-i', '0.2', '-W', '1', '2001:db8:7::1']);
    expect(fail.code).to.not.equal(0);
    expect(demo.router.stats().drops.no_route - before).to.equal(2n);
  });

  it('setInterfaceUp(false) stops forwarding through the port (its connected route is withdrawn: no route); up restores it', async () => {
    const h1 = demo.host('h1');
    const h2 = demo.host('h2');
    demo.router.setInterfaceUp('eth1', false);
    expect(demo.router.routes.list().find((r) => r.prefix === '2001:db8:2::/64')?.state).to.equal('down');
    const before = demo.router.stats().drops.no_route;
    const down = await h1.exec(['ping', '-6', '-c', '2', '-i', '0.2', '-W', '1', h2.address]);
    expect(down.code).to.not.equal(0);
    expect(down.stdout, down.stdout).to.match(/From 2001:db8:1::1.*Destination unreachable: No route/);
    expect(demo.router.stats().drops.no_route - before).to.equal(2n);
    expect(demo.router.interfaces.get('eth1').flags).to.not.include('UP');
    demo.router.setInterfaceUp('eth1', true);
    const up = await h1.exec(['ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', h2.address]);
    expect(up.code, up.stdout).to.equal(0);
  });

  it('close() removes every namespace and veth it made', async () => {
    const names = demo.topology.hosts.map((h) => h.ns);
    const veths = demo.topology.hosts.map((h) => h.routerSideIfname);
    expect(await listLinks()).to.include.members(veths);
    await demo.close();
    const left = await listNamespaces();
    for (const n of names) expect(left).to.not.include(n);
    // The router-side ends (the host ends went with their namespaces).
    const links = await listLinks();
    for (const v of veths) expect(links).to.not.include(v);
  });
});

describe('integration: ICMPv6 errors seen by Linux hosts (egress MTU 1280 on eth1)', function () {
  this.timeout(120000);
  const current = demoFor((p) => (p.name === 'eth1' ? { ...p, mtu: 1280 } : p));
  let demo: Demo;
  beforeEach(() => (demo = current()));

  it('a 1400-byte ping gets Packet Too Big and Linux records the path MTU', async () => {
    const h1 = demo.host('h1');
    const h2 = demo.host('h2');
    await h1.exec(['ping', '-6', '-c', '2', '-i', '0.3', '-W', '1', '-s', '1352', '-M', 'do', h2.address]);
    const route = await h1.exec(['ip', '-6', 'route', 'get', h2.address]);
    expect(route.stdout, route.stdout).to.match(/mtu 1280/);
    expect(demo.router.stats().control.icmp6_too_big > 0n).to.equal(true);
    // Packets that fit still cross.
    const ok = await h1.exec(['ping', '-6', '-c', '1', '-W', '2', '-s', '1200', h2.address]);
    expect(ok.code, ok.stdout).to.equal(0);
  });

  it('a destination with no route yields Destination Unreachable at h1', async () => {
    const ping = await demo.host('h1').exec(['ping', '-6', '-c', '1', '-W', '2', '2001:db8:99::1']);
    expect(ping.code).to.not.equal(0);
    expect(ping.stdout).to.match(/From 2001:db8:1::1.*Destination unreachable: No route/);
  });

  it('a neighbour that never answers: INCOMPLETE while solicited, then held packets dropped, counted, and h1 gets Address unreachable', async () => {
    const before = demo.router.stats().control;
    const pinging = demo.host('h1').exec(['ping', '-6', '-c', '1', '-W', '6', '2001:db8:2::77'], { timeoutMs: 20000 });
    const incomplete = await waitFor(() =>
      demo.router.neighbours.list().some((n) => n.address === '2001:db8:2::77' && n.state === 'incomplete' && n.mac === null && n.dev === 'eth1'),
    2000);
    expect(incomplete, 'the next hop is listed as INCOMPLETE while it is solicited').to.equal(true);
    const ping = await pinging;
    expect(demo.router.neighbours.list().some((n) => n.address === '2001:db8:2::77')).to.equal(false);
    expect(ping.code).to.not.equal(0);
    expect(ping.stdout).to.match(/From 2001:db8:1::1.*Destination unreachable: Address unreachable/);
    const after = demo.router.stats().control;
    expect(after.nd_resolve_failed - before.nd_resolve_failed).to.equal(1n);
    expect(after.nd_held_dropped - before.nd_held_dropped >= 1n).to.equal(true);
    expect(after.nd_ns_out - before.nd_ns_out).to.equal(3n);
  });
});

describe('integration: Router Advertisements (eth0 advertises)', function () {
  this.timeout(120000);
  const current = demoFor((p) => (p.name === 'eth0' ? { ...p, routerAdvertisements: true, raMaxIntervalS: 300, raMinIntervalS: 100, raRouterLifetimeS: 900 } : p));
  let demo: Demo;
  beforeEach(() => (demo = current()));

  it('a host with accept_ra=2 autoconfigures an address in the prefix and a default route via the router', async () => {
    const h1 = demo.host('h1');
    for (const s of ['accept_ra=2', 'autoconf=1']) await h1.exec(['sysctl', '-q', '-w', `net.ipv6.conf.eth0.${s}`], { check: true });
    await h1.exec(['ip', '-6', 'route', 'del', 'default'], { check: true });
    // Link down/up: the kernel sends Router Solicitations; fastpath answers.
    await h1.exec(['ip', 'link', 'set', 'dev', 'eth0', 'down'], { check: true });
    await h1.exec(['ip', 'link', 'set', 'dev', 'eth0', 'up'], { check: true });
    const routerLl = demo.router.interfaces.get('eth0').addresses.find((a) => a.startsWith('fe80:'))!.split('/')[0];
    let addrs = '';
    let routes = '';
    for (let i = 0; i < 100; i++) {
      addrs = (await h1.exec(['ip', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'global', 'dynamic'])).stdout;
      routes = (await h1.exec(['ip', '-6', 'route', 'show', 'default'])).stdout;
      if (/inet6 2001:db8:1:0:/.test(addrs) && routes.includes(routerLl)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(addrs, addrs).to.match(/inet6 2001:db8:1:0:[0-9a-f:]+\/64 scope global dynamic/);
    expect(routes, routes).to.match(new RegExp(`default via ${routerLl} dev eth0 proto ra`));
    // The configured router lifetime (900 s) is what Linux counts down from.
    const left = Number(/expires (\d+)sec/.exec(routes)?.[1]);
    expect(left, routes).to.be.within(880, 900);
    const s = demo.router.stats().control;
    expect(s.nd_rs_in > 0n).to.equal(true);
    expect(s.nd_ra_out > 0n).to.equal(true);
    // The autoconfigured default route works: h1 reaches h2 through it.
    const ping = await h1.exec(['ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', demo.host('h2').address]);
    expect(ping.code, ping.stdout).to.equal(0);
  });

  // RFC 4861 6.2.5: a router that stops advertising says so (Router Lifetime
  // 0), or its hosts keep sending to it until the lifetime runs out (900 s
  // here, 30 min by default). Runs last in this block: it stops the router.
  it('stopping the router sends a final RA: the host drops its default route at once, keeps its address', async () => {
    requireTools(['tcpdump']);
    const h1 = demo.host('h1');
    const routerLl = demo.router.interfaces.get('eth0').addresses.find((a) => a.startsWith('fe80:'))!.split('/')[0];
    const hasDefault = async (): Promise<boolean> => (await h1.exec(['ip', '-6', 'route', 'show', 'default'])).stdout.includes(routerLl);
    expect(await hasDefault(), 'the default route learned from the RAs').to.equal(true);
    // Every RA from now on (an initial, periodic one may come first).
    const dump = h1.spawn(['tcpdump', '-n', '-l', '-v', '-i', 'eth0', 'icmp6 and ip6[40] == 134']);
    let captured = '';
    dump.stdout?.on('data', (d: Buffer) => (captured += d.toString()));
    dump.stderr?.on('data', (d: Buffer) => (captured += d.toString()));
    const exited = new Promise<void>((resolve) => dump.on('exit', () => resolve()));
    try {
      expect(await waitFor(() => captured.includes('listening on'), 5000), captured).to.equal(true);
      await demo.router.stop();
      let gone = false;
      for (let i = 0; i < 30 && !gone; i++) {
        gone = !(await hasDefault());
        if (!gone) await sleep(100);
      }
      expect(gone, (await h1.exec(['ip', '-6', 'route', 'show', 'default'])).stdout).to.equal(true);
      expect(await waitFor(() => /router lifetime 0s/.test(captured), 2000), captured).to.equal(true);
    } finally {
      dump.kill('SIGINT');
      await exited;
    }
    // Prefixes as always: the autoconfigured address stays.
    const addrs = (await h1.exec(['ip', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'global', 'dynamic'])).stdout;
    expect(addrs, addrs).to.match(/inet6 2001:db8:1:0:/);
  });
});

describe('integration: duplicate address detection against a Linux host (eth0 also claims h1\'s address)', function () {
  this.timeout(120000);
  // 2001:db8:1::2 is h1's; as a /128 it adds only a local route on eth0.
  const current = demoFor((p) => (p.name === 'eth0' ? { ...p, addresses: [...p.addresses, '2001:db8:1::2/128'] } : p));
  let demo: Demo;
  beforeEach(() => (demo = current()));

  it("h1's kernel defends its address: it is duplicated on the router, which forwards to h1 instead of taking it", async () => {
    const eth0 = demo.router.interfaces.get('eth0');
    expect(eth0.addressStates['2001:db8:1::2/128']).to.equal('duplicated');
    expect(eth0.addressStates['2001:db8:1::1/64']).to.equal('preferred');
    const c = demo.router.stats().control;
    expect(c.dad_duplicates).to.equal(1n);
    expect(demo.router.routes.list().map((r) => `${r.kind} ${r.prefix}`)).to.not.include('local 2001:db8:1::2/128');
    // h2 → 2001:db8:1::2 reaches h1 (its Echo Reply comes from h1, through the router).
    // Every request and reply crosses the router: forwarded by a worker, or,
    // when the next hop had to be resolved first, held and sent by the
    // control thread once it answered (nd_held_sent, not `forwarded`).
    const crossed = (): bigint => {
      const s = demo.router.stats();
      return s.totals.forwarded + s.control.nd_held_sent;
    };
    const before = crossed();
    const ping = await demo.host('h2').exec(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', '2001:db8:1::2']);
    expect(ping.stdout).to.match(/3 packets transmitted, 3 received/);
    expect(crossed() - before).to.equal(6n);
  });
});

describe('integration: Neighbor Unreachability Detection against Linux hosts (BaseReachableTime 2 s)', function () {
  this.timeout(120000);
  const current = demoFor((p) => p, { neighbourDiscovery: { baseReachableTimeMs: 2000, maxNeighbours: 16384 } });
  let demo: Demo;
  beforeEach(() => (demo = current()));

  /** The router's entry for a host (h2 on eth1), if any. */
  const entry = (address: string) => demo.router.neighbours.list().find((n) => n.address === address && n.dev === 'eth1');

  it('REACHABLE ages to STALE; traffic to it goes DELAY, then a unicast probe confirms it REACHABLE', async () => {
    const h1 = demo.host('h1');
    const h2 = demo.host('h2');
    expect(demo.router.neighbours.reachableTimeMs).to.be.within(1000, 3000);
    demo.router.neighbours.delete({ address: h2.address, dev: 'eth1' }); // learned from here on
    const first = await h1.exec(['ping', '-6', '-c', '1', '-W', '2', h2.address]);
    expect(first.code, first.stdout).to.equal(0);
    expect(entry(h2.address)?.state).to.equal('reachable');
    expect(await waitFor(() => entry(h2.address)?.state === 'stale', 4000), 'REACHABLE → STALE after ReachableTime').to.equal(true);
    const before = demo.router.stats().control;
    // Traffic through the stale entry; watch the states it takes.
    const seen: string[] = [];
    const pinging = h1.exec(['ping', '-6', '-c', '45', '-i', '0.2', '-W', '1', h2.address], { timeoutMs: 30000 });
    const watch = setInterval(() => {
      const s = entry(h2.address)?.state ?? 'gone';
      if (seen[seen.length - 1] !== s) seen.push(s);
    }, 20);
    const ping = await pinging;
    clearInterval(watch);
    expect(ping.stdout).to.match(/45 packets transmitted, 45 received/); // never interrupted
    const after = demo.router.stats().control;
    expect(seen.indexOf('delay'), seen.join(' ')).to.be.greaterThan(-1);
    expect(seen.slice(seen.indexOf('delay')), seen.join(' ')).to.include('reachable');
    expect(after.nd_nud_probes - before.nd_nud_probes >= 1n).to.equal(true);
    expect(after.nd_nud_confirmed - before.nd_nud_confirmed >= 1n).to.equal(true);
    expect(after.nd_nud_failed - before.nd_nud_failed).to.equal(0n);
    expect(entry(h2.address)?.mac).to.equal(await h2.mac());
  });

  it('a host that changes its MAC: the old entry fails its probes (event), the next packet resolves the new one', async () => {
    const h1 = demo.host('h1');
    const h2 = demo.host('h2');
    const failed: NeighbourEvent[] = [];
    demo.router.on('neighbour', (ev: NeighbourEvent) => failed.push(ev));
    demo.router.neighbours.delete({ address: h2.address, dev: 'eth1' });
    expect((await h1.exec(['ping', '-6', '-c', '1', '-W', '2', h2.address])).code).to.equal(0);
    const oldMac = entry(h2.address)?.mac;
    expect(oldMac).to.equal(await h2.mac());
    const newMac = '02:00:00:00:99:02';
    // Live (no down/up: Linux would flush h2's addresses), and the kernel
    // sends no unsolicited NA for it (ndisc_notify is 0 by default).
    await h2.exec(['ip', 'link', 'set', 'dev', 'eth0', 'address', newMac], { check: true });
    const before = demo.router.stats().control;
    // Keep sending: STALE (≤ 3 s) → DELAY (5 s) → PROBE (3 × 1 s) → removed → resolved again.
    const ping = await h1.exec(['ping', '-6', '-c', '75', '-i', '0.2', '-W', '1', h2.address], { timeoutMs: 40000 });
    const after = demo.router.stats().control;
    expect(after.nd_nud_failed - before.nd_nud_failed).to.equal(1n);
    expect(failed.map((e) => `${e.interface} ${e.address} ${e.previous}>${e.state}`)).to.deep.equal([`eth1 ${h2.address} probe>failed`]);
    expect(entry(h2.address)?.mac).to.equal(newMac);
    // The last pings crossed again.
    const received = Number(/(\d+) received/.exec(ping.stdout)?.[1] ?? 0);
    expect(received, ping.stdout).to.be.greaterThan(10);
  });
});

describe('integration: link state from the kernel (af_packet over veth), if.c link-state queue', function () {
  this.timeout(120000);
  const current = demoFor();
  let demo: Demo;
  beforeEach(() => (demo = current()));

  /** Bring h2's link back to what the demo built: up, default route via the router. */
  async function restoreH2(): Promise<void> {
    const h2 = demo.host('h2');
    await h2.exec(['ip', 'link', 'set', 'dev', 'eth0', 'up'], { check: true });
    await h2.exec(['ip', '-6', 'route', 'replace', 'default', 'via', h2.gateway, 'dev', 'eth0'], { check: true });
  }

  it('the host end of a veth goes down and up: JS gets down then up within 1 s; forwarding stops (its routes withdrawn) and resumes', async () => {
    const h1 = demo.host('h1');
    const h2 = demo.host('h2');
    const eth1 = demo.router.interfaces.get('eth1');
    expect(eth1.linkSource).to.equal('netlink');
    expect(eth1.linkState).to.equal('up');
    expect(eth1.flags).to.include('RUNNING');
    const events: LinkEvent[] = [];
    const onLink = (ev: LinkEvent): void => {
      if (ev.interface === 'eth1') events.push(ev);
    };
    demo.router.on('link', onLink);
    try {
      let t0 = Date.now();
      await h2.exec(['ip', 'link', 'set', 'dev', 'eth0', 'down'], { check: true });
      expect(await waitFor(() => events.length >= 1, 1000), 'down within 1 s').to.equal(true);
      expect(events[0].at.getTime() - t0).to.be.below(1000);
      expect(events.map((e) => `${e.previous}>${e.state}`)).to.deep.equal(['up>down']);
      expect(demo.router.interfaces.get('eth1').linkState).to.equal('down');
      expect(demo.router.interfaces.get('eth1').flags).to.not.include('RUNNING');
      // The link's connected route left the FIB with it: no route, and
      // nothing is sent toward the down link.
      expect(demo.router.routes.list().find((r) => r.prefix === '2001:db8:2::/64')?.state).to.equal('down');
      const before = demo.router.stats().drops;
      const down = await h1.exec(['ping', '-6', '-c', '2', '-i', '0.2', '-W', '1', h2.address]);
      expect(down.code).to.not.equal(0);
      expect(down.stdout, down.stdout).to.match(/Destination unreachable: No route/);
      const after = demo.router.stats().drops;
      expect(after.no_route - before.no_route, 'dropped for want of a route').to.equal(2n);
      expect(after.link_down - before.link_down, 'nothing toward the down link').to.equal(0n);

      t0 = Date.now();
      await restoreH2();
      expect(await waitFor(() => events.length >= 2, 1000), 'up within 1 s').to.equal(true);
      expect(events[1].at.getTime() - t0).to.be.below(1000);
      expect(events.map((e) => `${e.previous}>${e.state}`)).to.deep.equal(['up>down', 'down>up']);
      const up = await h1.exec(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', h2.address]);
      expect(up.code, up.stdout).to.equal(0);
    } finally {
      demo.router.off('link', onLink);
      await restoreH2();
    }
  });

  it('500 rapid flaps: events alternate in order, no down is lost against the kernel\'s own report, the last state is the real one', async () => {
    // The kernel's view of the same link, from another netlink listener.
    const monitor = await spawnMonitor(demo.host('h2').routerSideIfname);
    try {
      await flood(monitor);
    } finally {
      monitor.kill();
    }
  });

  async function flood(monitor: { kill(): void; output(): string }): Promise<void> {
    const h2 = demo.host('h2');
    const routerSide = h2.routerSideIfname;
    const seen: LinkEvent[] = [];
    const stream = demo.router.events();
    const reader = (async () => {
      for await (const ev of stream) if (ev.type === 'link' && ev.interface === 'eth1') seen.push(ev);
    })();
    const before = demo.router.stats().control;
    // 50 bursts of 10 flaps, each as fast as `ip -batch` goes. The kernel
    // coalesces flaps faster than its link watcher (how many it announces
    // depends on the machine's load), so each burst ends down and the next
    // starts once the kernel and JS both saw that down: at least 50 downs
    // are announced, whatever the load.
    const downsOf = (states: string[]): number => states.filter((s) => s === 'down').length;
    const flaps = (n: number): string => Array.from({ length: n }, () => 'link set dev eth0 down\nlink set dev eth0 up').join('\n');
    for (let burst = 0; burst < 50; burst++) {
      const cmds = `${burst === 0 ? '' : 'link set dev eth0 up\n'}${flaps(9)}\nlink set dev eth0 down\n`;
      const flap = await h2.exec(['sh', '-c', `printf '${cmds.replace(/\n/g, '\\n')}' | ip -batch -`], { timeoutMs: 60000 });
      expect(flap.code, flap.stderr).to.equal(0);
      const downSeen = await waitFor(() => {
        const k = carrierSequence(monitor.output(), routerSide);
        return k[k.length - 1] === 'down' && seen[seen.length - 1]?.state === 'down';
      }, 5000);
      expect(downSeen, `burst ${burst}: the kernel and JS saw its last down`).to.equal(true);
    }
    await h2.exec(['ip', 'link', 'set', 'dev', 'eth0', 'up'], { check: true });
    // Settled: the kernel's last word is up, and JS has seen as many downs as the kernel announced.
    const settled = await waitFor(() => {
      const k = carrierSequence(monitor.output(), routerSide);
      return k[k.length - 1] === 'up' && seen.length > 0 && seen[seen.length - 1].state === 'up' && downsOf(seen.map((e) => e.state)) === downsOf(k);
    }, 10000);
    await stream.return();
    await reader;
    const after = demo.router.stats().control;
    const kernelStates = carrierSequence(monitor.output(), routerSide);

    // In order and consistent: each event starts where the previous ended.
    for (let i = 1; i < seen.length; i++) expect(seen[i].previous, `event ${i}`).to.equal(seen[i - 1].state);
    expect(settled, 'JS caught up with the kernel').to.equal(true);
    // A flood, not one pair: every burst's last down at least.
    expect(downsOf(kernelStates), `kernel: ${kernelStates.join(' ')}`).to.be.at.least(50);
    expect(seen[0].previous).to.equal('up');
    // The final state is the real one.
    const carrier = fs.readFileSync(`/sys/class/net/${routerSide}/carrier`, 'utf8').trim();
    expect(carrier).to.equal('1');
    expect(seen[seen.length - 1].state).to.equal('up');
    expect(demo.router.interfaces.get('eth1').linkState).to.equal('up');
    // No down lost: every carrier loss the kernel announced reached JS (the
    // kernel itself coalesces flaps faster than its link watcher).
    const downs = seen.filter((e) => e.state === 'down').length;
    expect(after.link_resyncs - before.link_resyncs).to.equal(0n);
    expect(after.link_queue_overflows - before.link_queue_overflows).to.equal(0n);
    expect(downs, `kernel: ${kernelStates.join(' ')}`).to.equal(kernelStates.filter((s) => s === 'down').length);
    expect(downs).to.equal(seen.filter((e) => e.state === 'up').length);
    expect(stream.lost).to.equal(0);
    expect(after.events_dropped - before.events_dropped).to.equal(0n);
    console.log(`      500 flaps: ${seen.length} link events (${downs} down), kernel announced ${kernelStates.length} carrier changes`);
    await restoreH2();
  }
});

/**
 * `ip -o monitor link` in the root namespace, collecting its output; resolves
 * once it listens (it prints a change that moves no carrier). Its own lines
 * are left out of output().
 */
async function spawnMonitor(ifname: string): Promise<{ kill(): void; output(): string }> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { execFileSync, spawn } = require('child_process') as typeof import('child_process');
  const child = spawn('ip', ['-o', 'monitor', 'link', 'dev', ifname], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  // Setting the alias it has (the topology's owner record) announces the link unchanged.
  const alias = fs.readFileSync(`/sys/class/net/${ifname}/ifalias`, 'utf8').trim();
  const listening = await waitFor(() => {
    if (out !== '') return true;
    execFileSync('ip', ['link', 'set', 'dev', ifname, 'alias', alias]);
    return false;
  }, 5000, 100);
  if (!listening) {
    child.kill();
    throw new Error(`ip monitor on ${ifname} printed nothing`);
  }
  const skip = out.length;
  return { kill: () => child.kill(), output: () => out.slice(skip) };
}

/** The carrier states (up/down) in `ip -o monitor link` lines for ifname, consecutive duplicates merged. */
function carrierSequence(text: string, ifname: string): string[] {
  const states: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes(`${ifname}@`) && !line.includes(`${ifname}:`)) continue;
    const flags = /<([^>]*)>/.exec(line)?.[1].split(',') ?? [];
    const s = flags.includes('UP') && flags.includes('LOWER_UP') ? 'up' : 'down';
    if (states[states.length - 1] !== s) states.push(s);
  }
  return states;
}

/** tshark in a host: `capturing` resolves once it says it captures (not a guessed delay), `done` when it exits. */
function startTshark(host: TopologyHost, args: string[]): { capturing: Promise<void>; done: Promise<{ stdout: string; stderr: string }> } {
  const child = host.spawn(['tshark', ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ stdout: string; stderr: string }>((resolve) => child.on('exit', () => resolve({ stdout, stderr })));
  return { capturing: outputMatches(child, /Capturing on/), done };
}

describe('integration: VLAN sub-interface and loopback clone against Linux hosts', function () {
  this.timeout(120000);
  const VLAN_PEER = path.resolve(__dirname, '..', 'helpers', 'vlan-peer.py');
  const current = demoFor((p) => p, {
    clones: [
      { cloner: 'vlan', name: 'eth0.100', parent: 'eth0', vlan: 100, addresses: ['2001:db8:100::1/64'] },
      { cloner: 'loop', name: 'lo1', addresses: ['2001:db8:ff::1/128'] },
    ],
  });
  let demo: Demo;
  beforeEach(() => (demo = current()));
  before(() => requireTools(['tshark', 'scapy']));

  /** Does this kernel have 802.1Q (`ip link add ... type vlan`)? */
  async function kernelHasVlan(): Promise<boolean> {
    const h1 = demo.host('h1');
    const r = await h1.exec(['ip', 'link', 'add', 'link', 'eth0', 'name', 'vq', 'type', 'vlan', 'id', '3999']);
    if (r.code === 0) await h1.exec(['ip', 'link', 'del', 'vq']);
    return r.code === 0;
  }

  interface Reply { vlan: number | null; src: string; dst: string; hlim: number; seq: number }

  /** Three tagged Echo Requests from h1's raw socket; the tagged replies that came back. */
  async function taggedEcho(src: string, dst: string, vlan = 100): Promise<Reply[]> {
    const h1 = demo.host('h1');
    const r = await h1.exec(['/usr/bin/python3', VLAN_PEER, 'eth0', demo.router.interfaces.get('eth0').mac, await h1.mac(), src, dst, String(vlan)], { timeoutMs: 30000 });
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Reply[];
  }

  it('answers an Echo Request tagged 100 on eth0.100 with tag 100 (tshark), routes tagged traffic to h2 and back, untagged traffic stays on eth0', async () => {
    const h1 = demo.host('h1');
    const h2 = demo.host('h2');
    const vlanKernel = await kernelHasVlan();
    console.log(`      802.1Q peer: ${vlanKernel ? 'kernel VLAN interface (type vlan)' : 'raw packet socket (scapy): this kernel has no 802.1Q'}`);
    demo.router.neighbours.add({ address: '2001:db8:100::2', mac: await h1.mac(), dev: 'eth0.100' });
    const tshark = startTshark(h1, ['-i', 'eth0', '-a', 'duration:6', '-f', 'vlan 100', '-Y', 'icmpv6.type == 129',
      '-T', 'fields', '-e', 'vlan.id', '-e', 'ipv6.src', '-e', 'icmpv6.checksum.status']);
    await tshark.capturing;
    let replies: Reply[];
    if (vlanKernel) {
      await h1.exec(['ip', 'link', 'add', 'link', 'eth0', 'name', 'eth0.100', 'type', 'vlan', 'id', '100'], { check: true });
      await h1.exec(['ip', '-6', 'addr', 'add', '2001:db8:100::2/64', 'dev', 'eth0.100', 'nodad'], { check: true });
      await h1.exec(['ip', 'link', 'set', 'eth0.100', 'up'], { check: true });
      const ping = await h1.exec(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', '2001:db8:100::1']);
      expect(ping.stdout).to.match(/3 packets transmitted, 3 received/);
      replies = [];
    } else {
      replies = await taggedEcho('2001:db8:100::2', '2001:db8:100::1');
      expect(replies.map((r) => `${r.vlan} ${r.src} ${r.seq}`)).to.deep.equal([0, 1, 2].map((s) => `100 2001:db8:100::1 ${s}`));
    }
    const cap = await tshark.done;
    const lines = cap.stdout.trim().split('\n').filter((l) => l !== '');
    expect(lines.length, cap.stdout + cap.stderr).to.be.at.least(3);
    for (const l of lines) expect(l.split('\t')).to.deep.equal(['100', '2001:db8:100::1', '1']); // checksum status 1: good

    // Routed through the VLAN: to h2 untagged, h2's replies back tagged 100.
    const vlanIn = demo.router.stats().ports['eth0.100'].ipackets;
    if (!vlanKernel) {
      const routed = await taggedEcho('2001:db8:100::2', h2.address);
      expect(routed.map((r) => `${r.vlan} ${r.src} ${r.hlim}`)).to.deep.equal([0, 1, 2].map(() => `100 ${h2.address} 63`));
    } else {
      // h1 reaches h2 through its VLAN interface; the replies can only come back tagged 100 to it.
      await h1.exec(['ip', '-6', 'route', 'add', `${h2.address}/128`, 'via', '2001:db8:100::1', 'dev', 'eth0.100'], { check: true });
      const routed = await h1.exec(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', '-I', '2001:db8:100::2', h2.address]);
      await h1.exec(['ip', '-6', 'route', 'del', `${h2.address}/128`], { check: true });
      expect(routed.stdout).to.match(/3 packets transmitted, 3 received/);
      expect(routed.stdout.match(/(ttl|hlim)=63/g), 'hop limit 63: routed once').to.have.length(3);
    }
    const stats = demo.router.stats().ports['eth0.100'];
    expect(stats.ipackets - vlanIn >= 3n, 'the routed requests came in on eth0.100').to.equal(true);
    expect(stats.opackets >= 3n, 'the replies went out on eth0.100').to.equal(true);
    // Untagged traffic on the same link keeps working.
    const plain = await h1.exec(['ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', h2.address]);
    expect(plain.code, plain.stdout).to.equal(0);

    // Destroyed: tagged frames are dropped as an unknown VLAN, the name is free.
    const before = demo.router.stats().drops.vlan_unknown;
    demo.router.interfaces.destroy('eth0.100');
    if (!vlanKernel) {
      expect(await taggedEcho('2001:db8:100::2', '2001:db8:100::1')).to.deep.equal([]);
    } else {
      const ping = await h1.exec(['ping', '-6', '-c', '2', '-i', '0.2', '-W', '1', '2001:db8:100::1']);
      expect(ping.code).to.not.equal(0);
      await h1.exec(['ip', 'link', 'del', 'eth0.100']);
    }
    expect(demo.router.stats().drops.vlan_unknown - before >= 2n).to.equal(true);
    const again = demo.router.interfaces.clone('vlan', { parent: 'eth0', vlan: 100, addresses: ['2001:db8:100::1/64'] });
    expect(again.name).to.equal('eth0.100');
  });

  it("a loopback clone's /128 answers ping from h1 (routed through the router)", async () => {
    const ping = await demo.host('h1').exec(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', '2001:db8:ff::1']);
    expect(ping.stdout).to.match(/3 packets transmitted, 3 received/);
    expect(demo.router.interfaces.get('lo1').flags).to.include('LOOPBACK');
  });
});

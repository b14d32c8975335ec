/**
 * UDP sockets on the router's addresses and their flow labels, against a
 * Linux host in a namespace (the demo topology: h1 on eth0). The Linux side
 * leases labels with IPV6_FLOWLABEL_MGR and sends with IPV6_FLOWINFO_SEND
 * (a short Python program), and tcpdump on h1 shows the labels the router
 * sends. Needs root and the tools below; a missing prerequisite fails.
 */
import { expect } from 'chai';
import type { ChildProcess } from 'child_process';
import * as path from 'path';

import { FastpathError } from '../../lib';
import { Demo, startDemo } from '../../lib/cli/demo';
import { requireRoot, requireTools, SYSTEM_PYTHON } from '../../lib/topology';
import type { RemoteInfo, UdpSocket } from '../../lib/sockets';
import { sleep, TEST_EAL, waitFor } from '../helpers/router-env';

const CONFIG = path.resolve(__dirname, '..', '..', 'dpdk-config', 'default.yaml');
const ROUTER = '2001:db8:1::1';

/**
 * Python on h1: lease `label` (IPV6_FL_A_GET, create, share any) for the
 * router, then send `count` datagrams to [ROUTER]:port from sport with it.
 */
function leasedSender(label: number, port: number, sport: number, count: number): string {
  return `
import socket, struct, time
IPV6_FLOWLABEL_MGR, IPV6_FLOWINFO_SEND = 32, 33
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(('::', ${sport}))
req = socket.inet_pton(socket.AF_INET6, '${ROUTER}') + struct.pack('!I', ${label}) + struct.pack('=BBHHHI', 0, 255, 1, 0, 0, 0)
s.setsockopt(socket.IPPROTO_IPV6, IPV6_FLOWLABEL_MGR, req)
s.setsockopt(socket.IPPROTO_IPV6, IPV6_FLOWINFO_SEND, 1)
for i in range(${count}):
    s.sendto(b'hello %d' % i, ('${ROUTER}', ${port}, ${label}, 0))
    time.sleep(0.02)
print('sent')
`;
}

/** tcpdump on h1 for UDP from the router's port; resolves with its text after `ms`. */
function capture(demo: Demo, sport: number, count: number): { child: ChildProcess; text: () => string } {
  const child = demo.host('h1').spawn(['tcpdump', '-i', 'eth0', '-n', '-vv', '-l', '-c', String(count), `udp and src port ${sport}`]);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, text: () => out };
}

function labelsIn(tcpdump: string): number[] {
  return [...tcpdump.matchAll(/flowlabel 0x([0-9a-f]+)/g)].map((m) => parseInt(m[1], 16));
}

describe('integration: UDP sockets and flow labels against a Linux host', function () {
  this.timeout(120000);
  let demo: Demo;

  before(async () => {
    requireRoot('integration tests');
    requireTools(['ip', 'sysctl', 'ethtool', 'tcpdump']);
    demo = await startDemo(CONFIG, {
      unique: true,
      override: (cfg) => ({ ...cfg, eal: { ...cfg.eal, ...TEST_EAL, workerCpus: cfg.eal.workerCpus } }),
    });
    await demo.router.addressesSettled();
  });

  after(async () => {
    if (demo) await demo.close();
  });

  it('a Linux sender with a leased label reaches a router socket, and rinfo.flowLabel is that label', async () => {
    const s = await demo.router.sockets.udp({ address: ROUTER, port: 7000 });
    const got: { data: string; rinfo: RemoteInfo }[] = [];
    s.on('message', (data: Buffer, rinfo: RemoteInfo) => got.push({ data: data.toString(), rinfo }));
    try {
      const out = await demo.host('h1').exec([SYSTEM_PYTHON, '-c', leasedSender(0x1abcd, 7000, 7001, 5)], { timeoutMs: 20000 });
      expect(out.stdout, out.stderr).to.contain('sent');
      expect(await waitFor(() => got.length === 5, 3000)).to.equal(true);
      for (const g of got) {
        expect(g.rinfo).to.include({ address: '2001:db8:1::2', port: 7001, flowLabel: 0x1abcd, interface: 'eth0', hopLimit: 64 });
      }
      expect(got.map((g) => g.data)).to.deep.equal([0, 1, 2, 3, 4].map((i) => `hello ${i}`));
    } finally {
      s.close();
    }
  });

  it('a datagram sent with a leased label carries exactly that label on the wire (tcpdump on h1)', async () => {
    const s = await demo.router.sockets.udp({ address: ROUTER, port: 7100, owner: { pid: 100, uid: 1000 } });
    try {
      const label = s.getLabel({ label: 0, share: 'exclusive', flags: { create: true }, destination: '2001:db8:1::2', linger: 6 });
      expect(label).to.be.greaterThan(0).and.lessThan(0x80000); // state ranges: leased labels are stateful
      const cap = capture(demo, 7100, 3);
      await sleep(500); // tcpdump attaches
      for (let i = 0; i < 3; i++) await s.send(`labelled ${i}`, { address: '2001:db8:1::2', port: 7101, flowLabel: label });
      expect(await waitFor(() => labelsIn(cap.text()).length === 3, 5000), cap.text()).to.equal(true);
      expect(labelsIn(cap.text())).to.deep.equal([label, label, label]);
      cap.child.kill();
      expect(demo.router.flowLabels.list().find((r) => r.label === label)).to.include({ share: 'exclusive', users: 1 });
      // A label the socket does not hold: EINVAL, as udpv6_sendmsg.
      expect(() => s.send('x', { address: '2001:db8:1::2', port: 7101, flowLabel: label ^ 1 })).to.throw(FastpathError, /not leased/);
    } finally {
      s.close();
    }
  });

  it('without a leased label the router sends an automatic one (RFC 6437), stable per flow', async () => {
    const s = await demo.router.sockets.udp({ address: ROUTER, port: 7200 });
    try {
      const cap = capture(demo, 7200, 4);
      await sleep(500);
      for (let i = 0; i < 2; i++) await s.send('auto', { address: '2001:db8:1::2', port: 7201 });
      for (let i = 0; i < 2; i++) await s.send('auto', { address: '2001:db8:1::2', port: 7202 });
      expect(await waitFor(() => labelsIn(cap.text()).length === 4, 5000), cap.text()).to.equal(true);
      const [a, b, c, d] = labelsIn(cap.text());
      expect(a).to.equal(b);
      expect(c).to.equal(d);
      expect(a).to.not.equal(c);
      for (const l of [a, c]) expect(l & 0x80000, 'automatic labels are in the stateless range').to.equal(0x80000);
      cap.child.kill();
    } finally {
      s.close();
    }
  });

  it('ICMPv6 errors the router originates carry an automatic label too', async () => {
    const h1 = demo.host('h1');
    const dump = h1.spawn(['tcpdump', '-i', 'eth0', '-n', '-vv', '-l', '-c', '1', 'icmp6 and ip6[40] == 1']);
    let text = '';
    dump.stdout?.on('data', (d: Buffer) => (text += d.toString()));
    await sleep(500);
    // A datagram to a port no socket holds: port unreachable.
    await h1.exec([process.execPath, '-e', `const s=require('dgram').createSocket('udp6');s.send('x',7999,'${ROUTER}',()=>s.close());`]);
    expect(await waitFor(() => labelsIn(text).length === 1, 5000), text).to.equal(true);
    expect(labelsIn(text)[0] & 0x80000).to.equal(0x80000);
    dump.kill();
  });

  it('a reflect socket answers a Linux sender with the sender\'s label', async () => {
    const s = await demo.router.sockets.udp({ address: ROUTER, port: 7300, reflect: true });
    s.on('message', (_d: Buffer, r: RemoteInfo) => void s.send('pong', { address: r.address, port: r.port }));
    try {
      const cap = capture(demo, 7300, 2);
      await sleep(500);
      const out = await demo.host('h1').exec([SYSTEM_PYTHON, '-c', leasedSender(0x2468, 7300, 7301, 2)], { timeoutMs: 20000 });
      expect(out.stdout, out.stderr).to.contain('sent');
      expect(await waitFor(() => labelsIn(cap.text()).length === 2, 5000), cap.text()).to.equal(true);
      expect(labelsIn(cap.text())).to.deep.equal([0x2468, 0x2468]);
      cap.child.kill();
    } finally {
      s.close();
    }
  });

  it('fragments: ping -s 2000 to the router is answered; 3000-byte datagrams cross both ways (RFC 8200 4.5)', async () => {
    const h1 = demo.host('h1');
    const ping = await h1.exec(['ping', '-6', '-c', '2', '-i', '0.3', '-W', '2', '-s', '2000', ROUTER]);
    expect(ping.stdout, ping.stdout + ping.stderr).to.match(/2 received/);
    expect(ping.stdout).to.match(/2008 bytes from 2001:db8:1::1/);

    const s = await demo.router.sockets.udp({ address: ROUTER, port: 7500 });
    const got: Buffer[] = [];
    s.on('message', (d: Buffer) => got.push(d));
    try {
      // h1 → router: a 3000-byte datagram arrives in fragments.
      await h1.exec([process.execPath, '-e', `const s=require('dgram').createSocket('udp6');s.send(Buffer.alloc(3000,7),7500,'${ROUTER}',()=>s.close());`]);
      expect(await waitFor(() => got.length === 1, 3000)).to.equal(true);
      expect(got[0].length).to.equal(3000);
      expect(got[0].every((b) => b === 7)).to.equal(true);
      // router → h1: the router fragments its own datagram.
      const rx = h1.exec([process.execPath, '-e', `const s=require('dgram').createSocket('udp6');s.on('message',(m)=>{console.log(m.length, m.every((b)=>b===9));s.close();});s.bind(7501);setTimeout(()=>s.close(),4000);`]);
      await sleep(500);
      await s.send(Buffer.alloc(3000, 9), { address: '2001:db8:1::2', port: 7501 });
      expect((await rx).stdout.trim()).to.equal('3000 true');
      const c = demo.router.stats().control;
      expect(c.frag_reassembled >= 3n, 'ping requests and the datagram were reassembled').to.equal(true);
      expect(c.frag_sent >= 6n, 'replies and the datagram went out as fragments').to.equal(true);
    } finally {
      s.close();
    }
  });

  it('binding: EADDRINUSE for a taken port, EADDRNOTAVAIL for an address that is not the router\'s, EINVAL for bad input', async () => {
    const s = await demo.router.sockets.udp({ address: ROUTER, port: 7400 });
    try {
      const err = async (p: Promise<UdpSocket>): Promise<string> => {
        try {
          (await p).close();
          return 'none';
        } catch (e) {
          return (e as FastpathError).code;
        }
      };
      expect(await err(demo.router.sockets.udp({ address: ROUTER, port: 7400 }))).to.equal('EADDRINUSE');
      expect(await err(demo.router.sockets.udp({ address: '2001:db8:1::99', port: 7400 }))).to.equal('EADDRNOTAVAIL');
      expect(await err(demo.router.sockets.udp({ address: 'fe80::1', port: 7400 }))).to.equal('EINVAL');
      expect(await err(demo.router.sockets.udp({ address: ROUTER, port: 70000 }))).to.equal('EINVAL');
      const eph = await demo.router.sockets.udp({ address: ROUTER });
      expect(eph.port).to.be.within(49152, 65535);
      eph.close();
      expect(() => s.send(Buffer.alloc(65400), { address: '2001:db8:1::2', port: 9 })).to.throw(FastpathError, /at most/);
      expect(() => s.getLabel({ label: 0x100000, share: 'any', destination: '2001:db8:1::2' })).to.throw(FastpathError, /0xfffff/);
      expect(() => s.getLabel({ label: 1, share: 'everyone' as never, destination: '2001:db8:1::2' })).to.throw(FastpathError, /share/);
      // Nothing leased by these refusals; the exclusive label of the earlier
      // test lingers with no user (6 s) after its socket closed.
      for (const r of demo.router.flowLabels.list()) expect(r.users).to.equal(0);
    } finally {
      s.close();
    }
  });
});

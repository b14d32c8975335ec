/**
 * Linux mirrors and route import (docs/linux-integration.md) with the demo
 * of dpdk-config/routing.yaml: a TAP per port carrying its MAC, MTU and
 * addresses; TCP to the router's address answered by the host's own stack
 * through the mirror; a route added by hand in the kernel's main table
 * forwarded by fastpath at once, and gone when the kernel's is; a static
 * route of fastpath's own winning over the kernel's. Needs root, ip, nc,
 * ping; a missing prerequisite fails (never skips); namespaces, veths and
 * TAPs go with the demo even when a check fails.
 */
import { expect } from 'chai';
import * as path from 'path';

import { Demo, startDemo } from '../../lib/cli/demo';
import { mirrorsTable } from '../../lib/cli/tables';
import { METHODS } from '../../lib/control/methods';
import { toWire } from '../../lib/control/wire';
import { execCommand, requireRoot, requireTools } from '../../lib/topology';
import { TEST_EAL, waitFor } from '../helpers/router-env';

const CONFIG = path.resolve(__dirname, '..', '..', 'dpdk-config', 'routing.yaml');
// Unique per process: the TAPs live in the root namespace.
const PREFIX = `fm${process.pid % 100000}-`;
const TAP0 = `${PREFIX}eth0`;
const TAP1 = `${PREFIX}eth1`;

async function sh(argv: string[], timeoutMs = 15000): Promise<string> {
  const r = await execCommand(argv, { timeoutMs });
  return r.stdout + r.stderr;
}

describe('integration: Linux mirrors and route import', function () {
  this.timeout(120000);
  let demo: Demo;

  before(async () => {
    requireRoot('integration tests');
    requireTools(['ip', 'sysctl', 'ethtool', 'ping', 'nc']);
    demo = await startDemo(CONFIG, {
      unique: true,
      override: (cfg) => ({
        ...cfg,
        eal: { ...cfg.eal, ...TEST_EAL, workerCpus: cfg.eal.workerCpus },
        clones: [{ cloner: 'vlan', name: 'vlan10', parent: 'eth1', vlan: 10, addresses: ['2001:db8:10::1/64'] }],
        linux: { ...cfg.linux, mirrors: ['eth0', 'eth1', 'vlan10'], mirrorPrefix: PREFIX },
      }),
    });
    await demo.host('h2').exec(['ip', '-6', 'addr', 'add', '2001:db8:99::1/128', 'dev', 'lo'], { check: true });
    await demo.host('h2').exec(['ip', '-6', 'addr', 'add', '2001:db8:98::1/128', 'dev', 'lo'], { check: true });
  });

  after(async () => {
    await execCommand(['ip', '-6', 'route', 'del', '2001:db8:99::/64']).catch(() => undefined);
    for (const p of ['2001:db8:98::/64', '2001:db8:96::/64', '2001:db8:95::/64']) await execCommand(['ip', '-6', 'route', 'del', p]).catch(() => undefined);
    for (const id of ['4242', '4241', '4240']) await execCommand(['ip', 'nexthop', 'del', 'id', id]).catch(() => undefined);
    if (demo) await demo.close();
  });

  it('makes a TAP per port with its MAC, MTU, state and addresses', async () => {
    const st = demo.router.linux.status();
    expect(st.enabled).to.equal(true);
    expect(st.mirrors.map((m) => [m.dev, m.name])).to.deep.equal([['eth0', TAP0], ['eth1', TAP1], ['vlan10', `${PREFIX}vlan10`]]);
    const link = await sh(['ip', '-o', 'link', 'show', TAP1]);
    expect(link).to.contain('02:fa:57:00:00:02');
    expect(link).to.match(/mtu 1500/);
    expect(link).to.match(/[<,]UP[,>]/);
    expect(link).to.contain('LOWER_UP');
    // The control socket's linux.status and `fastpath show mirrors`.
    const shown = mirrorsTable(toWire(METHODS['linux.status'](demo.router, {})) as Record<string, unknown>);
    expect(shown).to.match(/^route import: \d+ imported, 0 kept aside/);
    expect(shown).to.match(new RegExp(`eth1 +${TAP1} +\\d+`));
    const addrs = await sh(['ip', '-6', '-o', 'addr', 'show', 'dev', TAP1]);
    expect(addrs).to.contain('2001:db8:2::1/64');
    const itf = demo.router.interfaces.list().find((i) => i.name === 'eth1')!;
    for (const a of itf.addresses) expect(addrs, `${a} on the mirror`).to.contain(a);
  });

  it('hands TCP to the router\'s address to the host\'s stack and sends its answers out of the port', async () => {
    const port = 20000 + (process.pid % 20000);
    const { spawn } = await import('child_process');
    const server = spawn('nc', ['-6', '-l', '-s', '2001:db8:1::1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let got = '';
    server.stdout.on('data', (d: Buffer) => (got += d.toString()));
    try {
      await new Promise((r) => setTimeout(r, 300));
      const c = await demo.host('h1').exec(['sh', '-c', `echo hello-through-the-mirror | nc -6 -w 3 -q 1 2001:db8:1::1 ${port}`], { timeoutMs: 15000 });
      expect(await waitFor(() => got.includes('hello-through-the-mirror'), 5000), `server got ${JSON.stringify(got)}; client ${c.stderr}`).to.equal(true);
      const m = demo.router.linux.status().mirrors.find((x) => x.dev === 'eth0')!;
      expect(m.toKernel > 0n && m.fromKernel > 0n, `toKernel ${m.toKernel}, fromKernel ${m.fromKernel}`).to.equal(true);
    } finally {
      server.kill();
    }
  });

  it('forwards a route added by hand in the kernel at once, and stops when it is deleted', async () => {
    await execCommand(['ip', '-6', 'route', 'add', '2001:db8:99::/64', 'via', '2001:db8:2::2', 'dev', TAP1], { check: true });
    const imported = () => demo.router.routes.list().find((r) => r.prefix === '2001:db8:99::/64');
    expect(await waitFor(() => imported() !== undefined, 5000), 'imported').to.equal(true);
    expect(imported()).to.include({ kind: 'kernel', protocol: 'boot', via: '2001:db8:2::2', dev: 'eth1', state: 'up' });
    const ping = await demo.host('h1').exec(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', '2001:db8:99::1'], { timeoutMs: 20000 });
    expect(ping.stdout, ping.stderr).to.match(/ 0% packet loss/);
    expect(() => demo.router.routes.delete('2001:db8:99::/64')).to.throw(/kernel/);
    // A new next hop (and protocol) in the kernel: the route is rewritten in place.
    const { rtimport_added: added, rtimport_deleted: deleted } = demo.router.stats().control;
    await execCommand(['ip', '-6', 'route', 'replace', '2001:db8:99::/64', 'via', demo.host('h1').address, 'dev', TAP0, 'proto', 'static'], { check: true });
    expect(await waitFor(() => imported()?.dev === 'eth0', 5000), `moved: ${JSON.stringify(imported())}`).to.equal(true);
    expect(imported()).to.include({ kind: 'kernel', protocol: 'static', via: demo.host('h1').address });
    expect(demo.router.stats().control.rtimport_added - added).to.equal(1n);
    expect(demo.router.stats().control.rtimport_deleted - deleted, 'not deleted and added').to.equal(0n);
    await execCommand(['ip', '-6', 'route', 'del', '2001:db8:99::/64'], { check: true });
    expect(await waitFor(() => imported() === undefined, 5000), 'withdrawn within 5 s').to.equal(true);
    const lost = await demo.host('h1').exec(['ping', '-6', '-c', '1', '-W', '2', '2001:db8:99::1'], { timeoutMs: 10000 });
    expect(lost.stdout + lost.stderr).to.match(/Unreachable|100% packet loss/);
  });

  it('lets fastpath\'s own route win and installs the kernel\'s when it goes', async () => {
    demo.router.routes.add('2001:db8:98::/64', { via: demo.host('h2').address, dev: 'eth1' });
    await execCommand(['ip', '-6', 'route', 'add', '2001:db8:98::/64', 'via', '2001:db8:2::2', 'dev', TAP1, 'proto', 'static'], { check: true });
    const route = () => demo.router.routes.list().find((r) => r.prefix === '2001:db8:98::/64');
    expect(await waitFor(() => demo.router.linux.status().shadowed === 1, 5000), 'kept aside').to.equal(true);
    expect(route()?.kind).to.equal('static');
    demo.router.routes.delete('2001:db8:98::/64');
    expect(await waitFor(() => route()?.kind === 'kernel', 5000), 'the kernel route takes its place').to.equal(true);
    expect(route()?.protocol).to.equal('static');
    // And an owned route added over an imported one replaces it.
    demo.router.routes.add('2001:db8:98::/64', { via: demo.host('h2').address, dev: 'eth1' });
    expect(route()?.kind).to.equal('static');
    demo.router.routes.delete('2001:db8:98::/64');
    expect(await waitFor(() => route()?.kind === 'kernel', 5000), 'back again').to.equal(true);
  });

  it('keeps ECMP: a multipath route and a next-hop object group become one route with every next hop', async () => {
    const h1 = demo.host('h1').address;
    const h2 = demo.host('h2').address;
    await execCommand(['ip', '-6', 'route', 'add', '2001:db8:96::/64', 'nexthop', 'via', h2, 'dev', TAP1, 'weight', '1', 'nexthop', 'via', h1, 'dev', TAP0, 'weight', '3'], { check: true });
    await execCommand(['ip', 'nexthop', 'add', 'id', '4240', 'via', h1, 'dev', TAP0], { check: true });
    await execCommand(['ip', 'nexthop', 'add', 'id', '4241', 'via', h2, 'dev', TAP1], { check: true });
    await execCommand(['ip', 'nexthop', 'add', 'id', '4242', 'group', '4240/4241'], { check: true });
    await execCommand(['ip', '-6', 'route', 'add', '2001:db8:95::/64', 'nhid', '4242', 'proto', 'zebra'], { check: true });
    const route = (p: string) => demo.router.routes.list().find((r) => r.prefix === p);
    expect(await waitFor(() => route('2001:db8:96::/64') !== undefined && route('2001:db8:95::/64') !== undefined, 5000), 'both imported').to.equal(true);
    const hops = (p: string) => route(p)!.nexthops!.map((n) => `${n.via}%${n.dev}*${n.weight}`).sort();
    expect(hops('2001:db8:96::/64')).to.deep.equal([`${h1}%eth0*3`, `${h2}%eth1*1`]);
    expect(hops('2001:db8:95::/64')).to.deep.equal([`${h1}%eth0*1`, `${h2}%eth1*1`]);
    expect(route('2001:db8:95::/64')!.protocol).to.equal('zebra');
    // A change to the object moves the route that uses it (a fresh dump).
    await execCommand(['ip', 'nexthop', 'replace', 'id', '4242', 'group', '4241'], { check: true });
    expect(await waitFor(() => route('2001:db8:95::/64')?.nexthops === undefined && route('2001:db8:95::/64')?.via === h2, 5000), `now ${JSON.stringify(route('2001:db8:95::/64'))}`).to.equal(true);
    // Deleting the object deletes its routes, silently in the kernel: fastpath follows.
    await execCommand(['ip', 'nexthop', 'del', 'id', '4242'], { check: true });
    expect(await waitFor(() => route('2001:db8:95::/64') === undefined, 5000), 'gone with its object').to.equal(true);
  });

  it('follows the port: admin down takes the mirror\'s carrier away, up gives it back', async () => {
    demo.router.interfaces.setDown('eth1');
    try {
      const down = async () => (await sh(['ip', '-o', 'link', 'show', TAP1])).includes('NO-CARRIER');
      let seen = false;
      for (let i = 0; i < 30 && !seen; i++) {
        seen = await down();
        if (!seen) await new Promise((r) => setTimeout(r, 100));
      }
      expect(seen, 'NO-CARRIER on the mirror').to.equal(true);
    } finally {
      demo.router.interfaces.setUp('eth1');
    }
    let up = false;
    for (let i = 0; i < 30 && !up; i++) {
      up = (await sh(['ip', '-o', 'link', 'show', TAP1])).includes('LOWER_UP');
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    expect(up, 'carrier back').to.equal(true);
  });

  it('mirrors a VLAN clone of the config, and removes the mirror with the clone', async () => {
    const tap = `${PREFIX}vlan10`;
    const link = await sh(['ip', '-o', 'link', 'show', tap]);
    expect(link).to.contain('02:fa:57:00:00:02'); // the parent's MAC
    expect(await sh(['ip', '-6', '-o', 'addr', 'show', 'dev', tap])).to.contain('2001:db8:10::1/64');
    demo.router.interfaces.destroy('vlan10');
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      gone = !(await sh(['ip', '-o', 'link', 'show'])).includes(tap);
      if (!gone) await new Promise((r) => setTimeout(r, 100));
    }
    expect(gone, `${tap} removed`).to.equal(true);
  });
});

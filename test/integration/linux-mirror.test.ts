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
      override: (cfg) => ({ ...cfg, eal: { ...cfg.eal, ...TEST_EAL, workerCpus: cfg.eal.workerCpus }, linux: { ...cfg.linux, mirrorPrefix: PREFIX } }),
    });
    await demo.host('h2').exec(['ip', '-6', 'addr', 'add', '2001:db8:99::1/128', 'dev', 'lo'], { check: true });
    await demo.host('h2').exec(['ip', '-6', 'addr', 'add', '2001:db8:98::1/128', 'dev', 'lo'], { check: true });
  });

  after(async () => {
    await execCommand(['ip', '-6', 'route', 'del', '2001:db8:99::/64']).catch(() => undefined);
    await execCommand(['ip', '-6', 'route', 'del', '2001:db8:98::/64']).catch(() => undefined);
    if (demo) await demo.close();
  });

  it('makes a TAP per port with its MAC, MTU, state and addresses', async () => {
    const st = demo.router.linux.status();
    expect(st.enabled).to.equal(true);
    expect(st.mirrors.map((m) => [m.dev, m.name])).to.deep.equal([['eth0', TAP0], ['eth1', TAP1]]);
    const link = await sh(['ip', '-o', 'link', 'show', TAP1]);
    expect(link).to.contain('02:fa:57:00:00:02');
    expect(link).to.match(/mtu 1500/);
    expect(link).to.match(/[<,]UP[,>]/);
    expect(link).to.contain('LOWER_UP');
    expect(await waitFor(() => true)).to.equal(true);
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
});

/**
 * lib/topology.ts against the real kernel: namespaces, veths, sysctls,
 * ping across a veth, full UDP checksums, cleanup (destroy, stale leftovers,
 * and process exit/signal hooks).
 *
 * Needs root and iproute2, procps, ethtool, iputils-ping, tcpdump,
 * netcat-openbsd. A missing prerequisite or non-root FAILS (never skips).
 * No router is involved: the router-side veth is moved into a scratch
 * namespace that plays the router's part with a kernel address.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import {
  Topology,
  cleanupStale,
  execCommand,
  listLinks,
  listNamespaces,
  requireRoot,
  requireTools,
} from '../../lib/topology';
import { FastpathError } from '../../lib/errors';

const PREFIX = 'fp';
const HOST_ADDR = '2001:db8:51::2';
const GW_ADDR = '2001:db8:51::1';
const ROUTER_MAC = '02:00:00:00:51:01';

async function ip(args: string[]): Promise<string> {
  const r = await execCommand(['ip', ...args], { check: true });
  return r.stdout;
}

/** A pid that belonged to a process that has exited (for fake stale leftovers). */
function deadPid(): number {
  const r = spawnSync('/bin/true');
  const pid = r.pid;
  if (!pid) throw new Error('could not obtain a pid');
  try {
    process.kill(pid, 0);
    throw new Error(`pid ${pid} unexpectedly alive`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  return pid;
}

describe('topology (integration, root)', function () {
  this.timeout(60000);

  before(function () {
    requireRoot('topology integration tests');
    requireTools(['ip', 'sysctl', 'ethtool', 'ping', 'tcpdump', 'nc']);
  });

  describe('validation and prerequisites', function () {
    it('requireTools names the missing tool and its package', function () {
      expect(() => requireTools(['ip', 'no-such-tool-fastpath'])).to.throw(FastpathError, /missing prerequisite: no-such-tool-fastpath/)
        .with.property('code', 'ENOENT');
      try {
        requireTools(['tracepath']);
      } catch (err) {
        expect((err as Error).message).to.contain('apt-get install iputils-tracepath');
      }
    });

    it('rejects bad host definitions with EINVAL and a path', async function () {
      const bad = [
        { name: 'h1', port: 'p0', address: '2001:db8::2', gateway: '2001:db8::1' }, // no prefix length
        { name: 'h-1', port: 'p0', address: '2001:db8::2/64', gateway: '2001:db8::1' },
        { name: 'h1', port: 'p0', address: '2001:db8::2/64', gateway: '10.0.0.1' },
      ];
      for (const h of bad) {
        try {
          await Topology.create({ prefix: PREFIX, unique: true, hosts: [h] });
          expect.fail(`accepted ${JSON.stringify(h)}`);
        } catch (err) {
          expect(err).to.be.instanceOf(FastpathError);
          expect((err as FastpathError).code).to.equal('EINVAL');
          expect((err as FastpathError).path).to.match(/^topology\.hosts\[0\]\./);
        }
      }
      try {
        await Topology.create({
          prefix: PREFIX,
          unique: true,
          hosts: [
            { name: 'a', port: 'p0', address: '2001:db8::2/64', gateway: '2001:db8::1' },
            { name: 'b', port: 'p0', address: '2001:db8::3/64', gateway: '2001:db8::1' },
          ],
        });
        expect.fail('accepted two hosts on one port');
      } catch (err) {
        expect((err as FastpathError).code).to.equal('EINVAL');
      }
      // Nothing was created by the failed attempts.
      const pidTag = `-${process.pid}`;
      expect((await listNamespaces()).filter((n) => n.endsWith(pidTag))).to.deep.equal([]);
    });
  });

  describe('one host wired to a scratch "router" namespace', function () {
    let topo: Topology | undefined;
    const scratch = `${PREFIX}-scratch-${process.pid}`;

    before(async function () {
      topo = await Topology.create({
        prefix: PREFIX,
        unique: true,
        routerMacs: { p0: ROUTER_MAC },
        hosts: [{ name: 'h1', port: 'p0', address: `${HOST_ADDR}/64`, gateway: GW_ADDR, mac: '02:00:00:00:51:02' }],
      });
    });

    after(async function () {
      if (topo) await topo.destroy();
      await execCommand(['ip', 'netns', 'del', scratch]);
    });

    it('names fit the kernel limits and carry the pid', function () {
      const h = topo!.hosts[0];
      expect(h.ns).to.equal(`${PREFIX}-h1-${process.pid}`);
      expect(h.routerSideIfname.length).to.be.at.most(15);
      expect(h.routerSideIfname).to.match(new RegExp(`^${PREFIX}${process.pid}-\\d+r$`));
      expect(h.afPacketDevice(3)).to.equal(`net_af_packet3,iface=${h.routerSideIfname}`);
      expect(topo!.hostForPort('p0')).to.equal(h);
    });

    it('configures the router side: no IPv6, promisc, up, router MAC', async function () {
      const h = topo!.hosts[0];
      const r = await execCommand(['sysctl', '-n', `net.ipv6.conf.${h.routerSideIfname}.disable_ipv6`], { check: true });
      expect(r.stdout.trim()).to.equal('1');
      const link = JSON.parse(await ip(['-j', '-d', 'link', 'show', 'dev', h.routerSideIfname]))[0];
      expect(link.flags).to.include('UP');
      expect(link.promiscuity).to.be.greaterThan(0);
      expect(link.address).to.equal(ROUTER_MAC);
      expect(await h.routerSideMac()).to.equal(ROUTER_MAC);
      const addrs = JSON.parse(await ip(['-j', '-6', 'addr', 'show', 'dev', h.routerSideIfname]));
      const v6 = (addrs[0]?.addr_info ?? []) as unknown[];
      expect(v6).to.deep.equal([]);
    });

    it('configures the host side: address, no DAD/RA, tx checksum off, default route, neighbour', async function () {
      const h = topo!.hosts[0];
      expect(await h.mac()).to.equal('02:00:00:00:51:02');
      const addr = JSON.parse(await ip(['-n', h.ns, '-j', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'global']));
      const info = (addr[0].addr_info as { local?: string; prefixlen: number; tentative?: boolean }[])
        .filter((a) => a.local !== undefined); // iproute2 -j also emits lifetime-only entries
      expect(info.map((a) => `${a.local}/${a.prefixlen}`)).to.deep.equal([`${HOST_ADDR}/64`]);
      expect(info[0].tentative).to.not.equal(true);
      for (const key of ['accept_dad', 'accept_ra']) {
        const r = await h.exec(['sysctl', '-n', `net.ipv6.conf.eth0.${key}`], { check: true });
        expect(r.stdout.trim(), key).to.equal('0');
      }
      const eth = await h.exec(['ethtool', '-k', 'eth0'], { check: true });
      expect(eth.stdout).to.match(/^tx-checksumming: off/m);
      const routes = await ip(['-n', h.ns, '-6', 'route', 'show', 'default']);
      expect(routes).to.contain(`default via ${GW_ADDR} dev eth0`);
      const neigh = await ip(['-n', h.ns, '-6', 'neigh', 'show', GW_ADDR, 'dev', 'eth0']);
      expect(neigh).to.contain(`lladdr ${ROUTER_MAC}`).and.to.contain('PERMANENT');
      expect(await h.linkLocal()).to.match(/^fe80:/);
      const lo = JSON.parse(await ip(['-n', h.ns, '-j', 'link', 'show', 'dev', 'lo']))[0];
      expect(lo.flags).to.include('UP');
    });

    it('pings across the veth and sends UDP with full checksums', async function () {
      const h = topo!.hosts[0];
      // Play the router: move the router side into a scratch namespace with the gateway address.
      await ip(['netns', 'add', scratch]);
      await ip(['link', 'set', 'dev', h.routerSideIfname, 'netns', scratch]);
      await execCommand(['ip', 'netns', 'exec', scratch, 'sysctl', '-q', '-w',
        `net.ipv6.conf.${h.routerSideIfname}.disable_ipv6=0`, `net.ipv6.conf.${h.routerSideIfname}.accept_dad=0`], { check: true });
      await ip(['-n', scratch, '-6', 'addr', 'add', `${GW_ADDR}/64`, 'dev', h.routerSideIfname, 'nodad']);
      await ip(['-n', scratch, 'link', 'set', 'dev', h.routerSideIfname, 'up']);
      await ip(['-n', scratch, 'link', 'set', 'dev', 'lo', 'up']);

      const fromHost = await h.exec(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', GW_ADDR]);
      expect(fromHost.code, fromHost.stdout + fromHost.stderr).to.equal(0);
      expect(fromHost.stdout).to.contain('3 received');
      const toHost = await execCommand(['ip', 'netns', 'exec', scratch, 'ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', HOST_ADDR]);
      expect(toHost.code, toHost.stdout + toHost.stderr).to.equal(0);

      // UDP from the host: tcpdump on the far end of the veth must see a
      // correct checksum (TX checksum offload off), not a partial one.
      const dump = spawn('ip', ['netns', 'exec', scratch, 'tcpdump', '-i', h.routerSideIfname, '-n', '-vv', '-l',
        '-c', '1', 'udp', 'port', '9999'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      dump.stdout.on('data', (b: Buffer) => { out += b.toString(); });
      const exited = new Promise<void>((resolve) => dump.on('exit', () => resolve()));
      try {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10000);
          dump.stderr.on('data', (b: Buffer) => {
            err += b.toString();
            if (err.includes('listening on')) {
              clearTimeout(t);
              resolve();
            }
          });
        });
        const send = await h.exec(['nc', '-6', '-u', '-w', '1', GW_ADDR, '9999'], { input: 'fastpath topology test\n' });
        expect(send.code, send.stderr).to.equal(0);
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      } finally {
        dump.kill('SIGKILL');
      }
      expect(out, `tcpdump: ${out}${err}`).to.contain('udp sum ok');
      expect(out).to.not.contain('bad udp cksum');
    });

    it('spawned processes are tracked and killed by destroy()', async function () {
      const h = topo!.hosts[0];
      const child = h.spawn(['sleep', '600']);
      await new Promise((r) => setTimeout(r, 200));
      expect(h.children.has(child)).to.equal(true);
      const pids = await ip(['netns', 'pids', h.ns]);
      expect(pids.trim().split(/\s+/)).to.include(String(child.pid));
      const gone = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      await topo!.destroy();
      await gone;
      await topo!.destroy(); // idempotent
      const ns = await listNamespaces();
      expect(ns).to.not.include(h.ns);
      await execCommand(['ip', 'netns', 'del', scratch], { check: true });
      // The veth pair dies with the namespaces; the kernel tears them down asynchronously.
      let links: string[] = [];
      for (let i = 0; i < 50; i++) {
        links = (await listLinks()).filter((l) => l.startsWith(`${PREFIX}${process.pid}-`));
        if (links.length === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(links).to.deep.equal([]);
      expect((await listNamespaces()).filter((n) => n.endsWith(`-${process.pid}`))).to.deep.equal([]);
      topo = undefined;
    });
  });

  describe('cleanup of leftovers', function () {
    it('destroy() removes a host whose router side is still in the root namespace', async function () {
      const topo = await Topology.create({
        prefix: PREFIX,
        unique: true,
        hosts: [
          { name: 'left-a', port: 'p0', address: '2001:db8:52::2/64', gateway: '2001:db8:52::1' },
          { name: 'b', port: 'p1', address: '2001:db8:53::2/64', gateway: '2001:db8:53::1' },
        ],
      });
      const names = topo.hosts.map((h) => h.ns);
      const links = topo.hosts.map((h) => h.routerSideIfname);
      expect(await listNamespaces()).to.include.members(names);
      expect(await listLinks()).to.include.members(links);
      await topo.destroy();
      const nsAfter = await listNamespaces();
      const linksAfter = await listLinks();
      for (const n of names) expect(nsAfter).to.not.include(n);
      for (const l of links) expect(linksAfter).to.not.include(l);
    });

    it('cleanupStale removes dead pids\' namespaces and veths, keeps live ones', async function () {
      const live = await Topology.create({
        prefix: PREFIX,
        unique: true,
        hosts: [{ name: 'live', port: 'p0', address: '2001:db8:54::2/64', gateway: '2001:db8:54::1' }],
      });
      const dead = deadPid();
      const ghostNs = `${PREFIX}-ghost-${dead}`;
      const ghostLink = `${PREFIX}${dead}-0r`;
      try {
        await ip(['netns', 'add', ghostNs]);
        await ip(['link', 'add', ghostLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ghostNs]);
        const removed = await cleanupStale(PREFIX, { onlyDeadPids: true });
        expect(removed.namespaces).to.include(ghostNs);
        expect(removed.links).to.include(ghostLink);
        expect(removed.namespaces).to.not.include(live.hosts[0].ns);
        expect(await listNamespaces()).to.not.include(ghostNs);
        expect(await listLinks()).to.not.include(ghostLink);
        expect(await listNamespaces()).to.include(live.hosts[0].ns);
        expect(await listLinks()).to.include(live.hosts[0].routerSideIfname);
      } finally {
        await execCommand(['ip', 'link', 'del', ghostLink]);
        await execCommand(['ip', 'netns', 'del', ghostNs]);
        await live.destroy();
      }
    });

    for (const how of ['SIGTERM', 'uncaught exception'] as const) {
      it(`exit hooks remove the namespaces when the process ends by ${how}`, async function () {
        const lib = path.resolve(__dirname, '../../lib/topology.ts');
        const script = `
          const { Topology } = require(${JSON.stringify(lib)});
          Topology.create({ prefix: 'fp', unique: true, hosts: [
            { name: 'x', port: 'p0', address: '2001:db8:55::2/64', gateway: '2001:db8:55::1' }] })
          .then((t) => {
            console.log(JSON.stringify({ ns: t.hosts[0].ns, link: t.hosts[0].routerSideIfname }));
            ${how === 'SIGTERM' ? 'setInterval(() => {}, 1000);' : 'setTimeout(() => { throw new Error("boom"); }, 200);'}
          }, (e) => { console.error(e); process.exit(3); });`;
        const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
          stdio: ['ignore', 'pipe', 'pipe'],
          cwd: path.resolve(__dirname, '../..'),
        });
        let out = '';
        let err = '';
        child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
        const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
          child.on('exit', (code, signal) => resolve({ code, signal })));
        const names = await new Promise<{ ns: string; link: string }>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`child did not report: ${err}`)), 30000);
          child.stdout.on('data', (b: Buffer) => {
            out += b.toString();
            const line = out.split('\n').find((l) => l.startsWith('{'));
            if (line) {
              clearTimeout(t);
              resolve(JSON.parse(line));
            }
          });
          child.on('exit', () => reject(new Error(`child exited early: ${err}`)));
        });
        expect(await listNamespaces()).to.include(names.ns);
        if (how === 'SIGTERM') child.kill('SIGTERM');
        const st = await exit;
        if (how === 'SIGTERM') expect(st.signal).to.equal('SIGTERM');
        else expect(st.code, err).to.not.equal(0);
        expect(await listNamespaces()).to.not.include(names.ns);
        expect(await listLinks()).to.not.include(names.link);
      });
    }
  });
});

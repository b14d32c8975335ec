// Crash recovery (issue 15): a router process killed with SIGKILL mid-traffic
// leaves its DPDK runtime directory and the demo's namespaces and veths (and,
// in DPDK's hugepage-file mode, hugepage files); the next start finds its
// own stale state by prefix and dead owner, removes it, says so, and
// forwards. State of live processes stays.
import { expect } from 'chai';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { allowedCpus, formatCpuList } from '../../lib/config';
import { FastpathError } from '../../lib/errors';
import { dpdkRuntimeBase, hugetlbfsMounts, ownerTag, parseOwnerTag, processStartTime } from '../../lib/recovery';
import { cleanupStale, execCommand, listLinks, listNamespaces, requireRoot, requireTools, Topology } from '../../lib/topology';

const ROOT = path.resolve(__dirname, '..', '..');
const CHILD = path.join(ROOT, 'test', 'helpers', 'crash-child.ts');

interface Child {
  proc: ChildProcess;
  lines: string[];
  /** Resolves with the first JSON line that has `key`. */
  line(key: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The fixture as its own process, with the whole CPU set (an earlier router may have moved this process off the workers' CPUs). */
function startChild(mode: 'crash' | 'again'): Child {
  const proc = spawn('taskset', ['-c', formatCpuList(allowedCpus()), process.execPath, '-r', 'ts-node/register/transpile-only', CHILD, mode], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  const onData = (d: Buffer): void => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const line = async (key: string, timeoutMs = 90000): Promise<Record<string, unknown>> => {
    const end = Date.now() + timeoutMs;
    let exited = false;
    void exit.then(() => (exited = true));
    for (;;) {
      for (const l of lines) {
        if (!l.startsWith('{')) continue;
        const o = JSON.parse(l) as Record<string, unknown>;
        if (key in o) return o;
      }
      if (exited || Date.now() > end) throw new Error(`child (${mode}) gave no "${key}" line:\n${lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { proc, lines, line, exit };
}

/** A process whose pid stays alive for the test: the owner of the "live" leftovers. */
function sleeper(): ChildProcess {
  return spawn('sleep', ['600'], { stdio: 'ignore' });
}

describe('crash recovery: a router killed with SIGKILL, then started again', function () {
  this.timeout(240000);
  const cleanups: (() => Promise<void> | void)[] = [];

  before(() => {
    requireRoot('crash recovery (network namespaces, af_packet)');
    requireTools(['ip', 'sysctl', 'ethtool', 'ping', 'taskset', 'mount']);
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c();
    // Whatever a failed run left of the fixture's topology.
    await cleanupStale('fpcr', { onlyDeadPids: false }).catch(() => undefined);
  });

  it('removes the killed router\'s runtime directory, hugepage files, namespaces and veths, says so, keeps a live process\'s, and forwards', async () => {
    // 1. A router forwarding pings, killed mid-traffic.
    const crashed = startChild('crash');
    cleanups.push(() => void crashed.proc.kill('SIGKILL'));
    const started = await crashed.line('started');
    await crashed.line('forwarding');
    crashed.proc.kill('SIGKILL');
    expect((await crashed.exit).signal).to.equal('SIGKILL');
    const deadPid = crashed.proc.pid!;
    // taskset execs node: the router's pid is the child's pid.
    const filePrefix = started.filePrefix as string;
    expect(filePrefix).to.equal(`fastpath-${deadPid}`);
    const runtimeDir = path.join(dpdkRuntimeBase(), filePrefix);
    const namespaces = started.namespaces as string[];
    const links = started.links as string[];

    // 2. What SIGKILL left: the runtime directory with its owner record, the
    // namespaces (with the ping still running in h1's), the veths.
    expect(fs.existsSync(runtimeDir), runtimeDir).to.equal(true);
    expect(parseOwnerTag(fs.readFileSync(path.join(runtimeDir, 'fastpath.owner'), 'utf8'))?.pid).to.equal(deadPid);
    expect(await listNamespaces()).to.include.members(namespaces);
    expect(await listLinks()).to.include.members(links);
    const pids = await execCommand(['ip', 'netns', 'pids', namespaces[0]]);
    expect(pids.stdout.trim(), 'the killed run\'s ping still runs in h1').to.not.equal('');

    // Hugepage files: fastpath's own modes leave none (--in-memory, --no-huge),
    // but DPDK's hugepage-file mode leaves <prefix>map_<n> in a hugetlbfs
    // mount. Plant them, one for the dead router and one for a live process,
    // in a hugetlbfs of the machine's (or one mounted for the test).
    let mount = hugetlbfsMounts()[0];
    if (mount === undefined) {
      mount = fs.mkdtempSync(path.join(os.tmpdir(), 'fp-hugetlbfs-'));
      await execCommand(['mount', '-t', 'hugetlbfs', 'nodev', mount], { check: true });
      const m = mount;
      cleanups.push(async () => {
        await execCommand(['umount', m]);
        fs.rmdirSync(m);
      });
    }
    const live = sleeper();
    cleanups.push(() => void live.kill('SIGKILL'));
    const livePrefix = `fastpath-${live.pid}`;
    const deadHuge = path.join(mount, `${filePrefix}map_0`);
    const liveHuge = path.join(mount, `${livePrefix}map_0`);
    const liveDir = path.join(dpdkRuntimeBase(), livePrefix);
    for (const f of [deadHuge, liveHuge]) fs.writeFileSync(f, '');
    fs.mkdirSync(liveDir, { recursive: true });
    cleanups.push(() => {
      for (const f of [deadHuge, liveHuge, liveDir]) fs.rmSync(f, { recursive: true, force: true });
    });

    // 3. Start again: every leftover of the dead router is removed, each on a log line.
    const again = startChild('again');
    cleanups.push(() => void again.proc.kill('SIGKILL'));
    const result = await again.line('pingCode');
    const done = await again.exit;
    const log = again.lines.filter((l) => l.startsWith('recovery: ')).join('\n');
    expect(done.code, again.lines.join('\n')).to.equal(0);
    expect(log).to.include(`removed stale DPDK runtime directory ${runtimeDir} (left by process ${deadPid}, which is gone)`);
    expect(log, log).to.include(`removed stale hugepage file ${deadHuge} (left by process ${deadPid}, which is gone)`);
    for (const ns of namespaces) expect(log).to.include(`removed stale network namespace ${ns} (left by process ${deadPid}`);
    for (const l of links) expect(log).to.include(`removed stale veth ${l} (left by process ${deadPid}`);
    expect(log, 'nothing of a live process is removed').to.not.include(livePrefix);

    // The new router forwarded: h1's pings reached h2 through it.
    expect(result.pingCode, again.lines.join('\n')).to.equal(0);
    expect(BigInt(result.forwarded as string) >= 6n, `forwarded ${String(result.forwarded)}`).to.equal(true);

    // 4. The dead router's state is gone; the live process's is still there;
    // the second run, stopped cleanly, left nothing.
    expect(fs.existsSync(runtimeDir)).to.equal(false);
    expect(fs.existsSync(deadHuge)).to.equal(false);
    expect(fs.existsSync(liveHuge)).to.equal(true);
    expect(fs.existsSync(liveDir)).to.equal(true);
    const secondDir = path.join(dpdkRuntimeBase(), `fastpath-${again.proc.pid}`);
    expect(fs.existsSync(secondDir), secondDir).to.equal(false);
    const nsAfter = await listNamespaces();
    const linksAfter = await listLinks();
    for (const ns of namespaces) expect(nsAfter).to.not.include(ns);
    for (const l of links) expect(linksAfter).to.not.include(l);
  });

  it('a demo\'s names owned by a live process are refused (EBUSY), not taken; once it is gone they are removed and reused', async () => {
    const owner = sleeper();
    cleanups.push(() => void owner.kill('SIGKILL'));
    await new Promise((r) => setTimeout(r, 100));
    // What a running demo of another process looks like: its namespace, eth0 carrying the owner record.
    const ns = 'fpcl-h1';
    const ip = (args: string[]): Promise<unknown> => execCommand(['ip', ...args], { check: true });
    await ip(['netns', 'add', ns]);
    cleanups.push(async () => void (await execCommand(['ip', 'netns', 'del', ns])));
    await ip(['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
    await ip(['-n', ns, 'link', 'set', 'dev', 'eth0', 'alias', ownerTag({ pid: owner.pid!, startTime: processStartTime(owner.pid!) })]);
    const cfg = { prefix: 'fpcl', hosts: [{ name: 'h1', port: 'p0', address: '2001:db8:56::2/64', gateway: '2001:db8:56::1' }] };
    const lines: string[] = [];
    const err = await Topology.create({ ...cfg, log: (l) => lines.push(l) }).then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(FastpathError);
    expect((err as FastpathError).code).to.equal('EBUSY');
    expect((err as FastpathError).message).to.include(`running process ${owner.pid}`);
    expect(lines).to.deep.equal([]);
    expect(await listNamespaces()).to.include(ns);

    owner.kill('SIGKILL');
    await new Promise((r) => owner.on('exit', r));
    const topo = await Topology.create({ ...cfg, log: (l) => lines.push(l) });
    try {
      expect(lines).to.deep.equal([`fastpath: removed stale network namespace ${ns} (left by process ${owner.pid}, which is gone)`]);
      expect(topo.hosts[0].ns).to.equal(ns);
    } finally {
      await topo.destroy();
    }
  });
});

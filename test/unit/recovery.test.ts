// lib/recovery.ts: who owns a DPDK leftover, and which leftovers a start removes.
import { expect } from 'chai';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import {
  findStaleDpdkState,
  hugetlbfsMounts,
  ownerTag,
  parseOwnerTag,
  prefixFamilyMember,
  processAlive,
  processStartTime,
  removeStaleDpdkState,
  selfIdentity,
} from '../../lib/recovery';

/** A pid no process has (a child that already exited). */
function deadPid(): number {
  const r = spawn('true');
  const pid = r.pid!;
  return pid;
}

describe('recovery: owners and stale DPDK state', () => {
  it('owner tags round-trip; other text is no tag', () => {
    const me = selfIdentity();
    expect(parseOwnerTag(ownerTag(me))).to.deep.equal(me);
    expect(parseOwnerTag('fastpath-owner pid=12 start=0')).to.deep.equal({ pid: 12 });
    for (const t of ['', 'fastpath-owner pid=x start=1', 'an alias', undefined, null]) expect(parseOwnerTag(t)).to.equal(null);
  });

  it('a process is alive only with the recorded start time (a reused pid is not the owner)', async () => {
    expect(processAlive(selfIdentity())).to.equal(true);
    const child = spawn('sleep', ['30']);
    try {
      await new Promise((r) => setTimeout(r, 100));
      const start = processStartTime(child.pid!)!;
      expect(processAlive({ pid: child.pid!, startTime: start })).to.equal(true);
      expect(processAlive({ pid: child.pid! })).to.equal(true);
      expect(processAlive({ pid: child.pid!, startTime: String(Number(start) + 1) })).to.equal(false);
    } finally {
      child.kill('SIGKILL');
    }
    const dead = deadPid();
    await new Promise((r) => setTimeout(r, 200));
    expect(processAlive({ pid: dead })).to.equal(false);
  });

  it('prefix families: our own prefix; <base>-<pid> names only when ours is <base>-<our pid>', () => {
    const ours = `fastpath-${process.pid}`;
    expect(prefixFamilyMember(ours, ours)).to.deep.equal({});
    expect(prefixFamilyMember(ours, 'fastpath-42')).to.deep.equal({ pid: 42 });
    expect(prefixFamilyMember(ours, 'fastpath-test-42')).to.equal(null);
    expect(prefixFamilyMember(ours, 'rte')).to.equal(null);
    expect(prefixFamilyMember('router-7', 'router-8')).to.equal(null);
    expect(prefixFamilyMember('router', 'router')).to.deep.equal({});
  });

  it('hugetlbfs mounts are read from /proc/mounts text, escapes decoded', () => {
    const text = 'proc /proc proc rw 0 0\nnodev /dev/hugepages hugetlbfs rw,pagesize=2M 0 0\nnodev /mnt/huge\\0401G hugetlbfs rw 0 0\n';
    expect(hugetlbfsMounts(text)).to.deep.equal(['/dev/hugepages', '/mnt/huge 1G']);
  });

  describe('findStaleDpdkState / removeStaleDpdkState', () => {
    let base: string;
    let mount: string;
    const ours = `fastpath-${process.pid}`;
    beforeEach(() => {
      base = fs.mkdtempSync(path.join(os.tmpdir(), 'fp-rt-'));
      mount = fs.mkdtempSync(path.join(os.tmpdir(), 'fp-huge-'));
    });
    afterEach(() => {
      fs.rmSync(base, { recursive: true, force: true });
      fs.rmSync(mount, { recursive: true, force: true });
    });
    const dir = (name: string, owner?: string): string => {
      const d = path.join(base, name);
      fs.mkdirSync(d);
      if (owner !== undefined) fs.writeFileSync(path.join(d, 'fastpath.owner'), owner);
      return d;
    };

    it('removes a dead owner\'s directory and hugepage files, keeps a live owner\'s and strangers\'', async () => {
      const dead = deadPid();
      await new Promise((r) => setTimeout(r, 200));
      const sleeper = spawn('sleep', ['30']);
      try {
        const deadByName = dir(`fastpath-${dead}`);
        const deadByRecord = dir('fastpath-1', `fastpath-owner pid=${dead} start=5\n`); // pid 1 lives; the record says who owned it
        const liveByName = dir(`fastpath-${sleeper.pid}`);
        const liveByRecord = dir(`fastpath-${dead + 1000000}`, ownerTag({ pid: sleeper.pid!, startTime: processStartTime(sleeper.pid!) }));
        const stranger = dir('rte');
        const otherFamily = dir(`fastpath-test-${dead}`);
        const deadHuge = path.join(mount, `fastpath-${dead}map_3`);
        const liveHuge = path.join(mount, `fastpath-${sleeper.pid}map_0`);
        const strangerHuge = path.join(mount, 'rtemap_0');
        for (const f of [deadHuge, liveHuge, strangerHuge]) fs.writeFileSync(f, '');

        const lines: string[] = [];
        const removed = removeStaleDpdkState(ours, (l) => lines.push(l), { runtimeBase: base, hugeMounts: [mount] });
        expect(removed.map((r) => r.path).sort()).to.deep.equal([deadByName, deadByRecord, deadHuge].sort());
        for (const p of [deadByName, deadByRecord, deadHuge]) expect(fs.existsSync(p), p).to.equal(false);
        for (const p of [liveByName, liveByRecord, stranger, otherFamily, liveHuge, strangerHuge]) expect(fs.existsSync(p), p).to.equal(true);
        expect(lines).to.have.length(3);
        expect(lines).to.include(`fastpath: removed stale DPDK runtime directory ${deadByName} (left by process ${dead}, which is gone)`);
        expect(lines).to.include(`fastpath: removed stale hugepage file ${deadHuge} (left by process ${dead}, which is gone)`);
      } finally {
        sleeper.kill('SIGKILL');
      }
    });

    it('an owner-less directory of our own prefix goes unless a live process has a file in it open', async () => {
      const fixed = 'router-a';
      const d = dir(fixed);
      fs.writeFileSync(path.join(d, 'config'), '');
      const holder = spawn('sleep', ['30'], { stdio: ['ignore', fs.openSync(path.join(d, 'config'), 'r'), 'ignore'] });
      try {
        await new Promise((r) => setTimeout(r, 100));
        expect(findStaleDpdkState(fixed, { runtimeBase: base, hugeMounts: [mount] })).to.deep.equal([]);
      } finally {
        holder.kill('SIGKILL');
        await new Promise((r) => holder.on('exit', r));
      }
      expect(findStaleDpdkState(fixed, { runtimeBase: base, hugeMounts: [mount] })).to.deep.equal([{ kind: 'dpdk-runtime-dir', path: d }]);
    });
  });
});

/**
 * Two worker lcores (sharing a CPU on small machines: eal.shareWorkerCpus)
 * between namespace hosts: each worker owns rx queue w of every port
 * (af_packet qpairs = workers, a PACKET_FANOUT group spreading flows), its
 * own tx queue and flow cache, and answers commands through its own ring.
 * Runs in a child process: EAL initialises once per process.
 */
import { expect } from 'chai';
import { execFile } from 'child_process';
import * as path from 'path';

import { allowedCpus, formatCpuList } from '../../lib/config';
import { requireRoot, requireTools } from '../../lib/topology';

describe('integration: two workers (RSS-style fanout, per-worker queues and caches)', function () {
  this.timeout(120000);

  it('spreads flows over both workers, forwards every datagram, and each worker runs commands', async () => {
    requireRoot('integration tests');
    requireTools(['ip', 'sysctl', 'ethtool', 'taskset']);
    const child = path.resolve(__dirname, '..', 'helpers', 'multiworker-child.ts');
    const out = await new Promise<string>((resolve, reject) => {
      // Once a router has run in this process, its threads (and so its
      // children) are confined to the non-worker CPUs; give the child the
      // process's original set back so it can place its own workers.
      execFile('taskset', ['-c', formatCpuList(allowedCpus()), process.execPath, '-r', 'ts-node/register', child],
        { cwd: path.resolve(__dirname, '..', '..'), timeout: 90000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout)));
    });
    const r = JSON.parse(out.trim().split('\n').pop() ?? '{}');
    expect(r.error, r.error).to.equal(undefined);
    expect(r.senderCode).to.equal(0);
    expect(r.received).to.equal(r.sent);
    for (const p of r.ports) {
      expect(p.rxQueues, p.name).to.equal(2);
      expect(p.txQueues, p.name).to.equal(2);
    }
    expect(r.workers).to.have.length(2);
    // The kernel's fanout hash spread 16 flows over both workers' queues.
    for (const w of r.workers) expect(Number(w.rx), JSON.stringify(r.workers)).to.be.greaterThan(0);
    expect(new Set(r.flowWorkers).size, JSON.stringify(r.flowWorkers)).to.equal(2);
    for (const c of r.cmdHandled) expect(Number(c)).to.be.greaterThan(0);
    expect(r.accounted).to.equal(true);
  });
});

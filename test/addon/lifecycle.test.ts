// A Node process that used routers exits by itself after stop(): no EAL
// thread keeps it alive, and EAL's runtime directory is removed at exit.
import { expect } from 'chai';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { allowedCpus, formatCpuList } from '../../lib/config';

describe('process lifecycle', function () {
  this.timeout(150000);

  it('exits by itself after stop(), leaving no /var/run/dpdk/<prefix>', async () => {
    const prefix = `fastpath-life-${process.pid}`;
    // A child that does not exit by itself is killed after 60 s (null).
    const { code, out } = await runChild(prefix, undefined, 60000);
    expect(code, `did not exit by itself: ${out}`).to.equal(0);
    expect(out).to.include('stopped');
    expect(fs.existsSync(`/var/run/dpdk/${prefix}`)).to.equal(false);
  });

  for (const mode of ['exit', 'throw'] as const) {
    it(`a process that ends with a router still running (${mode === 'exit' ? 'process.exit()' : 'an uncaught exception'}) stops it and leaves no /var/run/dpdk/<prefix>`, async () => {
      const prefix = `fastpath-life-${mode}-${process.pid}`;
      const { code, out } = await runChild(prefix, mode);
      expect(out).to.include('running');
      expect(code, out).to.equal(mode === 'exit' ? 3 : 1);
      if (mode === 'throw') expect(out).to.include('uncaught, with a router running');
      expect(fs.existsSync(`/var/run/dpdk/${prefix}`), 'runtime directory removed by the exit hook').to.equal(false);
    });
  }
});

/**
 * The lifecycle child (in `mode`, if any) with the whole CPU set back (this
 * process's threads may have been moved off the worker CPUs by an earlier
 * router): its exit code (null: killed after limitMs) and output.
 */
async function runChild(prefix: string, mode?: string, limitMs = 120000): Promise<{ code: number | null; out: string }> {
  const child = path.resolve(__dirname, '..', 'helpers', 'lifecycle-child.ts');
  const proc = spawn('taskset', ['-c', formatCpuList(allowedCpus()), process.execPath, '-r', 'ts-node/register/transpile-only', child, prefix, ...(mode ? [mode] : [])], {
    cwd: path.resolve(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      resolve(null);
    }, limitMs);
    proc.on('exit', (c) => {
      clearTimeout(t);
      resolve(c);
    });
  });
  return { code, out };
}

// The full-table tests (test/helpers/full-table.spec.ts) in a process of
// their own: EAL is a process singleton sized by the first router a process
// starts, and two FIB copies of a full table need 2 GiB where the other
// tests run with 512 MiB.
import { expect } from 'chai';
import { spawn } from 'child_process';
import * as path from 'path';

import { allowedCpus, formatCpuList } from '../../lib/config';

describe('full table: 250,000 routes (in a process of its own, EAL -m 2048)', function () {
  this.timeout(900000);

  it('passes test/helpers/full-table.spec.ts', async () => {
    const mocha = require.resolve('mocha/bin/mocha.js');
    const spec = path.join(__dirname, '..', 'helpers', 'full-table.spec.ts');
    // taskset: a process that started a router has its main thread pinned
    // to EAL's main lcore, and a child would inherit that one CPU.
    const child = spawn('taskset', ['-c', formatCpuList(allowedCpus()), process.execPath, mocha, '--no-config', '-r', 'ts-node/register', '--timeout', '600000', spec], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const show = (d: Buffer): void => {
      out += d.toString();
      process.stdout.write(d.toString().replace(/^(?=.)/gm, '    '));
    };
    child.stdout.on('data', show);
    child.stderr.on('data', show);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, out.slice(-4000)).to.equal(0);
  });
});

// Hostile API input (issue 15): generated calls with junk arguments against a
// running router, and calls racing stop(). The calls run in a child process
// (test/helpers/hostile-child.ts) so that a crash shows here as its signal.
import { expect } from 'chai';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { allowedCpus, formatCpuList } from '../../lib/config';
import { scratchDir } from '../helpers/router-env';

describe('hostile API input (fast-check, fixed seed)', function () {
  this.timeout(600000);

  it('every call with junk arguments succeeds or throws a FastpathError with a code, never hangs, and a refused one changes nothing; calls racing stop() settle the same way', async () => {
    const dir = scratchDir('hostile');
    const child = path.resolve(__dirname, '..', 'helpers', 'hostile-child.ts');
    const proc = spawn('taskset', ['-c', formatCpuList(allowedCpus()), process.execPath, '-r', 'ts-node/register/transpile-only', child, `fastpath-hostile-${process.pid}`, dir], {
      cwd: path.resolve(__dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      const t = setTimeout(() => proc.kill('SIGKILL'), 540000);
      proc.on('exit', (c, s) => {
        clearTimeout(t);
        resolve({ code: c, signal: s });
      });
    });
    fs.rmSync(dir, { recursive: true, force: true });
    const result = (key: string): Record<string, unknown> | undefined => {
      const line = out.split('\n').find((l) => l.startsWith(`{"${key}"`));
      return line === undefined ? undefined : (JSON.parse(line) as Record<string, Record<string, unknown>>)[key] as Record<string, unknown>;
    };
    expect(signal, `the process died by a signal:\n${out}`).to.equal(null);
    expect(code, out).to.equal(0);
    const seq = result('sequential')!;
    expect(seq.calls as number, 'a few thousand calls').to.be.at.least(2500);
    expect(seq.rejected as number, 'most junk is refused').to.be.at.least(1000);
    const racing = result('racing')!;
    expect(racing.rounds).to.equal(25);
    expect(result('afterwards'), 'a router starts and answers afterwards').to.equal(true);
  });
});

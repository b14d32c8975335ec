// Flow-cache logic (native/dataplane/fp_flowcache.c has no DPDK dependency):
// compile the C unit test with the same flags as the addon and run it.
import { expect } from 'chai';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

describe('flow cache (C unit tests)', function () {
  this.timeout(60000);
  const root = path.resolve(__dirname, '..', '..');
  const bin = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fp-fc-')), 'flowcache_test');

  after(() => fs.rmSync(path.dirname(bin), { recursive: true, force: true }));

  it('builds and passes every check', () => {
    execFileSync('gcc', [
      '-O2', '-Wall', '-Wextra', '-Werror', `-march=${process.env.FASTPATH_MARCH ?? 'native'}`,
      '-o', bin,
      path.join(root, 'native/test/flowcache_test.c'),
      path.join(root, 'native/dataplane/fp_flowcache.c'),
    ]);
    const out = execFileSync(bin, { encoding: 'utf8' });
    expect(out).to.match(/all \d+ checks passed/);
    expect(out).to.not.match(/FAIL/);
  });
});

describe('link-state queue and token bucket (C unit tests)', function () {
  this.timeout(60000);
  const root = path.resolve(__dirname, '..', '..');
  const bin = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fp-lq-')), 'linkq_test');

  after(() => fs.rmSync(path.dirname(bin), { recursive: true, force: true }));

  it('builds and passes every check', () => {
    execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', bin, path.join(root, 'native/test/linkq_test.c')]);
    const out = execFileSync(bin, { encoding: 'utf8' });
    expect(out).to.match(/all \d+ checks passed/);
    expect(out).to.not.match(/FAIL/);
  });
});

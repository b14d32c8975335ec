// The compiled CLI's own options (start, demo): commander refuses what it
// does not know, naming it, with exit status 2, and before anything starts
// (no router, no namespace: these run as any user).
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist/lib/cli/cli.js');

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
}

describe('fastpath start/demo options (compiled CLI)', () => {
  before(function () {
    this.timeout(120_000);
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json')], { encoding: 'utf8' });
    expect(tsc.status, tsc.stdout + tsc.stderr).to.equal(0);
  });

  it('an unknown option is refused, named, exit 2 (it used to be passed over)', () => {
    const r = cli('start', '-c', 'router.yaml', '--bogus');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain("unknown option '--bogus'");
  });

  it('--duration must be seconds > 0', () => {
    for (const v of ['0', '-1', 'soon']) {
      const r = cli('demo', '--duration', v);
      expect(r.status, v).to.equal(2);
      expect(r.stderr, v).to.contain('--duration').and.to.contain('expected seconds > 0');
    }
  });

  it('-c without a file is refused', () => {
    const r = cli('start', '-c');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain("'-c, --config <file>' argument missing");
  });

  it('start without -c says it is required (exit 1, nothing started)', () => {
    const r = cli('start', '--once');
    expect(r.status).to.equal(1);
    expect(r.stderr).to.contain('start: -c <config.yaml> is required');
  });

  it('--help lists the options, exit 0', () => {
    const r = cli('start', '--help');
    expect(r.status).to.equal(0);
    expect(r.stdout).to.match(/Usage: fastpath start/).and.to.contain('--duration <s>').and.to.contain('--quiet');
  });

  it('an unknown command prints the usage, exit 2', () => {
    const r = cli('nope');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain('usage: fastpath start');
  });
});

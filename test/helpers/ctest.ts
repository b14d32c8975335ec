// The C unit tests under native/test/: compiled with the addon's warnings as
// errors, run, and judged by their closing line (native/test/check.h).
import { expect } from 'chai';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');

export interface CTestOptions {
  /** Link DPDK (pkg-config libdpdk) and pthreads. */
  dpdk?: boolean;
  /** Build for this machine's CPU as the addon does (FASTPATH_MARCH). */
  march?: boolean;
  /** Arguments for the test program. */
  args?: string[];
  timeoutMs?: number;
}

/** Compile native/test/<name>.c with `sources` (paths under native/) into a scratch folder. */
export function buildCTest(name: string, sources: readonly string[], opts: CTestOptions = {}): { bin: string; dispose(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `fp-${name}-`));
  const bin = path.join(dir, name);
  const flags = ['-O2', '-Wall', '-Wextra', '-Werror', '-std=gnu11'];
  if (opts.march) flags.push(`-march=${process.env.FASTPATH_MARCH ?? 'native'}`);
  const libs = opts.dpdk
    ? [...execFileSync('pkg-config', ['--cflags', '--libs', 'libdpdk'], { encoding: 'utf8' }).trim().split(/\s+/), '-lpthread']
    : [];
  execFileSync('gcc', [
    ...flags,
    '-o', bin,
    path.join(ROOT, 'native/test', `${name}.c`),
    ...sources.map((s) => path.join(ROOT, 'native', s)),
    ...libs,
  ]);
  return { bin, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A mocha suite that builds one C test and expects every check to pass; returns its output to `onOutput`. */
export function describeCTest(title: string, name: string, sources: readonly string[], opts: CTestOptions = {}, onOutput?: (out: string) => void): void {
  describe(title, function () {
    this.timeout(opts.timeoutMs ?? 60000);
    let built: ReturnType<typeof buildCTest> | undefined;
    after(() => built?.dispose());

    it('builds and passes every check', () => {
      built = buildCTest(name, sources, opts);
      const out = execFileSync(built.bin, opts.args ?? [], { encoding: 'utf8' });
      onOutput?.(out);
      expect(out).to.not.match(/FAIL/);
      expect(out).to.match(/all \d+ checks passed/);
    });
  });
}

// Shared settings for tests that start routers: one EAL per mocha process
// (EAL initialises once), unique file prefix, no hugepages needed.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { EalConfig } from '../../lib/config-types';

export const TEST_EAL: EalConfig = {
  workers: 1,
  memoryMb: 512,
  hugepages: false,
  filePrefix: `fastpath-test-${process.pid}`,
  logLevel: 'error',
};

/** A scratch directory removed after the suite. */
export function scratchDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `fp-${tag}-`));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll until check() is true or the timeout passes; returns the last result. */
export async function waitFor(check: () => boolean, timeoutMs = 5000, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await sleep(stepMs);
  }
  return check();
}

/**
 * Resolve once a child's stdout or stderr matches `re` (a server saying it
 * listens, a capture saying it captures): readiness, not a guessed delay.
 * Rejects when the child exits first or after timeoutMs.
 */
export function outputMatches(child: import('child_process').ChildProcess, re: RegExp, timeoutMs = 10000): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no ${re} from the child within ${timeoutMs} ms: ${text}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      text += d.toString();
      if (re.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`the child exited before ${re}: ${text}`));
    });
  });
}

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

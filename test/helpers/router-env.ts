// Shared settings for tests that start routers: one EAL per mocha process
// (EAL initialises once), unique file prefix, no hugepages needed.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import type { Router } from '../../lib';
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
 * Wait until the router is done with what it has received (`timeoutMs` at
 * most; false if not): every received packet forwarded (its tx burst sent),
 * punted or dropped; every punted packet handled by the control thread; and
 * what the control thread sent in answer transmitted by a worker. Read its
 * pcap output after this (and stop()) rather than after a guessed sleep.
 */
export async function routerQuiescent(router: Router, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  const left = (): number => Math.max(0, end - Date.now());
  // The workers' share, and nothing waiting for the control thread.
  if (
    !(await waitFor(() => {
      const s = router.stats();
      const t = s.totals;
      return t.rx_packets === t.forwarded + t.punted + t.dropped && s.resources.workers.every((w) => w.punt === 0);
    }, left()))
  ) {
    return false;
  }
  // The control thread's loop ends after handling what it took: once it has
  // moved, its answers are queued for the workers.
  const loops = router.stats().control.ctl_loops;
  if (!(await waitFor(() => router.stats().control.ctl_loops > loops, left()))) return false;
  // A worker sends what it takes from its control-tx ring in the same loop.
  let workerLoops: bigint[] = [];
  if (
    !(await waitFor(() => {
      const s = router.stats();
      workerLoops = s.lcores.map((l) => l.counters.loops);
      return s.resources.workers.every((w) => w.ctlTx === 0);
    }, left()))
  ) {
    return false;
  }
  return waitFor(() => router.stats().lcores.every((l, i) => l.counters.loops > workerLoops[i]), left());
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

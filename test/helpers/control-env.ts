// The demo router serving its control socket in this process, and the CLI
// (dist/lib/cli/cli.js, built by `npx tsc -p tsconfig.json` as `npm test`
// does first) run as another process against it: what the control-socket
// tests (control, capture) share.
import { ChildProcess, execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { Demo, startDemo } from '../../lib/cli/demo';
import { ControlServices, serveControl } from '../../lib/control/daemon';
import type { ControlConfig } from '../../lib/config-types';
import { scratchDir, TEST_EAL } from './router-env';

export const ROOT = path.resolve(__dirname, '..', '..');
export const DEMO_CONFIG = path.join(ROOT, 'dpdk-config', 'default.yaml');
export const CLI = path.join(ROOT, 'dist', 'lib', 'cli', 'cli.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI against `socket` (async: this process keeps serving the socket meanwhile); the child is in `children` while it runs. */
export function runCli(socket: string, children: Set<ChildProcess>, args: string[], timeoutMs = 30000): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args, '--socket', socket], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      children.delete(child);
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
    children.add(child);
  });
}

/**
 * The demo (unique names, test EAL) serving a control socket in a new
 * scratch directory `dir`; `control` adds to the socket setting (metrics).
 * The caller closes services and demo and removes dir.
 */
export async function startControlDemo(
  tag: string,
  control: Omit<ControlConfig, 'socket'> = {},
): Promise<{ demo: Demo; services: ControlServices; dir: string; socket: string }> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -p tsconfig.json\` first`);
  const dir = scratchDir(tag);
  const socket = path.join(dir, 'fastpath.sock');
  let demo: Demo | undefined;
  try {
    demo = await startDemo(DEMO_CONFIG, {
      unique: true,
      override: (cfg) => ({ ...cfg, eal: { ...cfg.eal, ...TEST_EAL, workerCpus: cfg.eal.workerCpus }, control: { ...control, socket } }),
    });
    return { demo, services: await serveControl(demo.router, demo.config.control), dir, socket };
  } catch (e) {
    await demo?.close();
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Undo startControlDemo (whatever of it exists): CLI children killed, socket closed, demo stopped, dir removed. */
export async function stopControlDemo(s: { children: Set<ChildProcess>; services?: ControlServices; demo?: Demo; dir: string }): Promise<void> {
  for (const c of s.children) c.kill('SIGKILL');
  await s.services?.close();
  if (s.demo) await s.demo.close();
  if (s.dir) fs.rmSync(s.dir, { recursive: true, force: true });
}

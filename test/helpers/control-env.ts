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
function runCli(socket: string, children: Set<ChildProcess>, args: string[], timeoutMs = 30000): Promise<CliRun> {
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
async function startControlDemo(
  tag: string,
  control: Omit<ControlConfig, 'socket'>,
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

/**
 * What a control-socket test file holds between its before() and after():
 * the demo serving the socket, the socket and its scratch directory, and the
 * CLI processes still running (killed by stop()).
 */
export class ControlDemoFixture {
  /** CLI children running now; a test adds the ones it spawns itself. */
  readonly children = new Set<ChildProcess>();
  /** The control services; a test that closes them sets this to undefined. */
  services?: ControlServices;
  dir = '';
  socket = '';
  private started?: Demo;

  /** Start the demo and serve the socket (from before()); `control` adds to the socket setting (metrics). */
  async start(tag: string, control: Omit<ControlConfig, 'socket'> = {}): Promise<void> {
    const s = await startControlDemo(tag, control);
    this.started = s.demo;
    this.services = s.services;
    this.dir = s.dir;
    this.socket = s.socket;
  }

  /** The demo; throws when start() did not get that far. */
  get demo(): Demo {
    if (!this.started) throw new Error('the demo did not start');
    return this.started;
  }

  /** Run the CLI against the socket. */
  cli(args: string[], timeoutMs?: number): Promise<CliRun> {
    return runCli(this.socket, this.children, args, timeoutMs);
  }

  /** Undo start() (whatever of it happened): CLI children killed, socket closed, demo stopped, dir removed. */
  async stop(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
    await this.services?.close();
    if (this.started) await this.started.close();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

#!/usr/bin/env node
/**
 * fastpath command line:
 *   fastpath start -c router.yaml      run a router until Ctrl-C, counters on screen
 *   fastpath demo  [-c default.yaml]   the namespace demo (npm start)
 *   fastpath bench [args]              the forwarding benchmark (npm run bench)
 *   fastpath siftr summary|plot LOG    read a SIFTR log (fastpath siftr --help)
 *   fastpath config validate FILE...   check configs without starting anything
 *   fastpath config schema             the config's JSON Schema (for editors)
 * Options of start and demo (parsed by commander; fastpath start --help):
 * --once (print one counter table and exit), --duration <s>, --quiet (no
 * counter table: a service's log gets events only).
 * start and demo serve the control socket (config `control`); the commands
 * that talk to it (show, route, neighbour, interface, events, stats, capture) are in
 * ctl.ts (fastpath --help).
 */
import * as path from 'path';
import { spawnSync } from 'child_process';
import { Command, CommanderError, InvalidArgumentError } from 'commander';

import { startDemo } from './demo';
import { runConfigCommand } from './config-cmd';
import { loadConfig } from '../config';
import { applyReload } from '../reload';
import { runSiftrCommand } from './siftr';
import { FastpathError } from '../errors';
import { InterfaceInfo, Router } from '../router';
import type { AddressEvent, LinkEvent, MldEvent, NeighbourEvent } from '../events';
import { RouterStats } from '../stats';
import { formatStats } from './statsview';
import { CTL_COMMANDS, runCtlCommand } from './ctl';
import { ControlServices, serveControl } from '../control/daemon';
import { notifySystemd } from '../control/notify';

interface CliOptions {
  config?: string;
  once: boolean;
  quiet: boolean;
  durationS?: number;
}

function seconds(v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError('expected seconds > 0');
  return n;
}

/**
 * start's and demo's options (commander): an unknown option or a bad value
 * exits 2 with a message naming it, rather than being passed over.
 */
function parseRunOptions(command: 'start' | 'demo', argv: string[]): CliOptions {
  const program = new Command(`fastpath ${command}`)
    .description(command === 'start' ? 'run a router until Ctrl-C, counters on screen' : 'the namespace demo (npm start): two Linux hosts in namespaces and a router between them')
    .option('-c, --config <file>', command === 'start' ? 'the router config, YAML or JSON (required)' : 'the config (default: dpdk-config/default.yaml)')
    .option('--once', 'print one counter table and exit')
    .option('--quiet', "no counter table: a service's log gets events only")
    .option('--duration <s>', 'stop after this many seconds', seconds)
    .exitOverride()
    .parse(argv, { from: 'user' });
  const o = program.opts<{ config?: string; once?: boolean; quiet?: boolean; duration?: number }>();
  return { config: o.config, once: o.once ?? false, quiet: o.quiet ?? false, durationS: o.duration };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Show counters until Ctrl-C (or the duration); resolves when it should stop. */
async function watch(router: Router, opts: CliOptions): Promise<void> {
  let stop = false;
  const onSignal = (): void => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const end = opts.durationS !== undefined ? Date.now() + opts.durationS * 1000 : Infinity;
  const tty = process.stdout.isTTY && !opts.once;
  let prev: RouterStats | undefined;
  try {
    while (!stop && Date.now() < end) {
      const s = router.stats();
      const table = formatStats(s, prev);
      if (opts.quiet) {
        // nothing: the service's journal gets events, not a table a second
      } else if (tty) process.stdout.write(`\x1b[H\x1b[2J${table}\n\n(Ctrl-C to stop)\n`);
      else process.stdout.write(`${table}\n\n`);
      prev = s;
      if (opts.once) break;
      for (let i = 0; i < 10 && !stop; i++) await sleep(100);
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

async function demo(opts: CliOptions): Promise<void> {
  const config = opts.config ?? path.join(__dirname, '..', '..', '..', 'dpdk-config', 'default.yaml');
  console.log(`fastpath demo: building the topology and starting the router (${config})`);
  const d = await startDemo(config);
  // The demo serves its socket too (so `fastpath show routes` works beside
  // it), but a socket already in use is no reason to stop the demo.
  const services = await serveControl(d.router, d.config.control).catch((e: Error) => {
    console.error(`fastpath demo: no control socket: ${e.message}`);
    return undefined;
  });
  if (services) console.log(describeServices(services));
  try {
    const h1 = d.host('h1');
    const h2 = d.host('h2');
    const states = (i: InterfaceInfo): string =>
      i.addresses.map((a) => `${a} (${i.addressStates[a]})`).join(' ');
    console.log(`router up: ${d.router.interfaces.list().map((i) => `${i.name} ${i.mac} link ${i.linkState} ${states(i)}`).join(' | ')}`);
    logEvents(d.router);
    console.log(`ping -6 ${h2.address} from h1 (through the router):`);
    const ping = await h1.exec(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', h2.address]);
    process.stdout.write(ping.stdout);
    if (ping.code !== 0) throw new FastpathError('EIO', `ping h1 → h2 failed (exit ${ping.code}): ${ping.stderr.trim()}`);
    await watch(d.router, opts);
  } finally {
    await services?.close();
    await d.close();
    console.log('fastpath demo: router stopped, namespaces and veths removed');
  }
}

/** Print link, address, neighbour and MLD events as they come. */
function logEvents(router: Router): void {
  router.on('link', (e: LinkEvent) => console.log(`event: link ${e.interface} ${e.previous} -> ${e.state}`));
  router.on('address', (e: AddressEvent) => console.log(`event: address ${e.interface} ${e.address} ${e.previous} -> ${e.state}`));
  router.on('neighbour', (e: NeighbourEvent) => console.log(`event: neighbour ${e.interface} ${e.address} ${e.previous} -> ${e.state}`));
  router.on('mld', (e: MldEvent) => {
    if (e.action !== 'report') console.log(`event: mld ${e.interface} ${e.action} ${e.group}`);
  });
}

async function start(opts: CliOptions): Promise<void> {
  if (!opts.config) throw new FastpathError('EINVAL', 'start: -c <config.yaml> is required');
  const router = await Router.start(opts.config);
  let services: ControlServices | undefined;
  try {
    services = await serveControl(router, router.config.control);
    console.log(describeServices(services));
    // Live reconfiguration from the same file: SIGHUP or `fastpath config reload`.
    const configFile = opts.config;
    let running = router.config;
    const reload = async (): Promise<{ changes: string[] }> => {
      try {
        const r = await applyReload(router, running, loadConfig(configFile));
        running = r.config;
        return { changes: r.changes };
      } catch (e) {
        const applied = (e as { applied?: typeof running }).applied;
        if (applied !== undefined) running = applied;
        throw e;
      }
    };
    services.control.addMethod('config.reload', () => reload());
    process.on('SIGHUP', () => {
      reload().then(
        (r) => console.log(`fastpath: config reloaded from ${configFile}: ${r.changes.length === 0 ? 'no change' : r.changes.join('; ')}`),
        (e: Error) => console.error(`fastpath: ${e.message}`),
      );
    });
    logEvents(router);
    const ready = notifySystemd('READY=1');
    if (ready.attempted && !ready.ok) console.error(`fastpath: could not tell systemd we are ready: ${ready.detail}`);
    await watch(router, opts);
  } finally {
    // Socket file first: a client then gets "no router" rather than a dead one.
    await services?.close();
    await router.stop();
  }
}

function describeServices(s: ControlServices): string {
  const m = s.metrics?.address;
  return `control socket ${s.control.socketPath}${m ? `, metrics http://${m.host.includes(':') ? `[${m.host}]` : m.host}:${m.port}/metrics` : ''}`;
}

/** bench/run.ts with the arguments as given (it parses its own). */
function bench(args: string[]): void {
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'bench', 'run.js'), ...args], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'start':
      return start(parseRunOptions('start', rest));
    case 'demo':
      return demo(parseRunOptions('demo', rest));
    case 'bench':
      return bench(rest);
    case 'siftr':
      // Its own options: the raw arguments.
      process.exitCode = await runSiftrCommand(rest);
      return;
    case 'config':
      // `config reload` asks the running router (socket); `validate` needs none.
      process.exitCode = rest[0] === 'reload' ? await runCtlCommand(['reload', ...rest.slice(1)]) : runConfigCommand(rest);
      return;
    default:
      if ((CTL_COMMANDS as readonly string[]).includes(command)) {
        // Its own parser (commander): the raw arguments, command included.
        process.exitCode = await runCtlCommand([command, ...rest]);
        return;
      }
      console.error('usage: fastpath start -c <config.yaml> | demo [-c <config.yaml>] | bench [--quick] | siftr summary|plot LOG | config validate FILE... | config schema   (--once, --duration <s>, --quiet)\n       fastpath show|route|neighbour|interface|events|stats|capture …   (a running router: fastpath show --help)');
      process.exitCode = 2;
  }
}

main().catch((e: unknown) => {
  if (e instanceof CommanderError) {
    // commander has printed its message (or the help).
    process.exitCode = e.code === 'commander.helpDisplayed' ? 0 : 2;
    return;
  }
  const err = e as FastpathError;
  console.error(`fastpath: ${err.code ? `${err.code}: ` : ''}${err.message}`);
  process.exitCode = 1;
});

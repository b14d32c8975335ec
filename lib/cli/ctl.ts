/**
 * The control CLI: talks to a running router over its control socket
 * (lib/control/client.ts). Human tables by default; --json prints the API's
 * JSON (bigints as decimal strings), errors included:
 * `{ "error": { "code": "EEXIST", "message": … } }` with exit status 1.
 *
 *   fastpath show interfaces|routes|neighbours|flows|groups|stats|labels
 *   fastpath route add PREFIX [via ADDR] dev DEV | route del PREFIX
 *   fastpath neighbour add ADDR lladdr MAC dev DEV | del ADDR dev DEV | flush [dev DEV]
 *   fastpath interface up|down NAME | mtu NAME MTU
 *   fastpath events [--types link,address,neighbour,mld]
 *   fastpath stats [--watch] [--interval S]
 *   fastpath capture -i PORT [--direction rx|tx|both] [-c N] [-f EXPR] -w FILE|-   (lib/cli/capture.ts)
 */
import { Command, CommanderError } from 'commander';

import { ControlClient, ControlError, defaultSocketPath } from '../control/client';
import { addCaptureCommand } from './capture';
import { formatStats } from './statsview';
import { eventLine, flowsTable, groupsTable, interfacesTable, labelsTable, mirrorsTable, neighboursTable, routesTable, statsFromWire } from './tables';

/** The commands cli.ts hands to this file. */
export const CTL_COMMANDS = ['show', 'route', 'neighbour', 'interface', 'events', 'stats', 'capture'] as const;

interface GlobalOptions {
  json?: boolean;
  socket?: string;
}

type Row = Record<string, unknown>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `via ADDR dev DEV` style keyword arguments (ip(8)'s syntax) into an object; unknown words are EINVAL. */
export function keywordArgs(words: readonly string[], known: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < words.length; i += 2) {
    const key = words[i];
    const value = words[i + 1];
    if (!known.includes(key)) throw new ControlError('EINVAL', `${what}: unexpected ${JSON.stringify(key)} (expected ${known.join(' | ')} followed by a value)`);
    if (value === undefined) throw new ControlError('EINVAL', `${what}: ${key} needs a value`);
    out[key] = value;
  }
  return out;
}

class Output {
  constructor(readonly json: boolean) {}

  /** A result: as JSON, or via `human` (nothing printed when it returns ''). */
  result(value: unknown, human: (v: never) => string): void {
    if (this.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else {
      const text = human(value as never);
      if (text !== '') process.stdout.write(`${text}\n`);
    }
  }
}

async function withClient(opts: GlobalOptions, fn: (c: ControlClient, out: Output) => Promise<void>): Promise<void> {
  const client = await ControlClient.connect(opts.socket ?? defaultSocketPath());
  try {
    await fn(client, new Output(opts.json === true));
  } finally {
    client.close();
  }
}

/** Resolves on Ctrl-C / SIGTERM (follow modes end there with exit 0). */
function untilSignal(): { promise: Promise<void>; stopped: () => boolean } {
  let stopped = false;
  const promise = new Promise<void>((resolve) => {
    const stop = (): void => {
      stopped = true;
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return { promise, stopped: () => stopped };
}

async function showGroups(c: ControlClient): Promise<{ name: string; version: number; groups: Row[] }[]> {
  const ifaces = await c.call<Row[]>('interfaces.list');
  const out = [];
  for (const i of ifaces) {
    if (i.kind === 'loop') continue;
    const g = await c.call<{ version: number; groups: Row[] }>('interfaces.groups', { name: i.name as string });
    out.push({ name: i.name as string, ...g });
  }
  return out;
}

async function stats(c: ControlClient, out: Output, watch: boolean, intervalS: number): Promise<void> {
  const signal = watch ? untilSignal() : undefined;
  const tty = process.stdout.isTTY === true && watch && !out.json;
  let prev;
  for (;;) {
    const wire = await c.call('stats');
    if (out.json) process.stdout.write(`${JSON.stringify(wire)}\n`);
    else {
      const s = statsFromWire(wire);
      const text = formatStats(s, prev);
      process.stdout.write(tty ? `\x1b[H\x1b[2J${text}\n\n(Ctrl-C to stop)\n` : `${text}\n${watch ? '\n' : ''}`);
      prev = s;
    }
    if (!signal) return;
    await Promise.race([sleep(intervalS * 1000), signal.promise]);
    if (signal.stopped()) return;
  }
}

async function events(c: ControlClient, out: Output, types: string[] | undefined): Promise<void> {
  const signal = untilSignal();
  const closed = new Promise<void>((resolve) => c.onClose(resolve));
  c.onNotification((n) => {
    if (n.method !== 'event') return;
    process.stdout.write(out.json ? `${JSON.stringify(n.params)}\n` : `${eventLine(n.params as Row)}\n`);
  });
  const sub = await c.call<{ types: string[] }>('events.subscribe', types !== undefined ? { types } : {});
  // On stderr even with --json: a script (or a test) learns that the subscription is in place.
  process.stderr.write(`following ${sub.types.join(', ')} events (Ctrl-C to stop)\n`);
  await Promise.race([signal.promise, closed]);
  if (!signal.stopped()) throw new ControlError('EPIPE', `the router closed ${c.socketPath} (stopped?)`);
}

function buildProgram(json: boolean): Command {
  const program = new Command('fastpath')
    .description('talk to a running fastpath router over its control socket')
    .option('--json', 'machine-readable output (errors too)')
    .option('--socket <path>', `the control socket (default $FASTPATH_SOCKET or ${defaultSocketPath({})})`)
    .exitOverride();
  // Subcommands copy these settings when created: set them first. With
  // --json, commander's own messages (usage errors) become the JSON error.
  if (json) program.configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  else program.showHelpAfterError();
  const globals = (cmd: Command): GlobalOptions => cmd.optsWithGlobals<GlobalOptions>();

  const show = program.command('show').description('show a table of the running router');
  const showers: [string, string, (c: ControlClient) => Promise<unknown>, (v: never) => string][] = [
    ['interfaces', 'interfaces, link state and addresses', (c) => c.call('interfaces.list'), interfacesTable],
    ['routes', 'the routing table', (c) => c.call('routes.list'), routesTable],
    ['neighbours', 'the neighbour cache', (c) => c.call('neighbours.list'), neighboursTable],
    ['flows', 'the flow cache', (c) => c.call('flowCache.list'), flowsTable],
    ['groups', 'multicast groups per interface (MLD)', showGroups, groupsTable],
    ['labels', 'flow labels held by the router', (c) => c.call('flowLabels.list'), labelsTable],
    ['mirrors', 'Linux mirror interfaces and route import', (c) => c.call('linux.status'), mirrorsTable],
    ['stats', 'every counter (one snapshot)', (c) => c.call('stats'), (v) => formatStats(statsFromWire(v))],
  ];
  for (const [name, description, fetch, human] of showers) {
    show.command(name).description(description).action(async (_o, cmd: Command) =>
      withClient(globals(cmd), async (c, out) => out.result(await fetch(c), human)),
    );
  }

  const route = program.command('route').description('add or delete static routes');
  route
    .command('add <prefix> [args...]')
    .usage('PREFIX [via ADDR] dev DEV')
    .description('add a static route')
    .action(async (prefix: string, args: string[], _o, cmd: Command) => {
      const kw = keywordArgs(args, ['via', 'dev'], 'route add');
      if (kw.dev === undefined) throw new ControlError('EINVAL', 'route add: dev DEV is required');
      await withClient(globals(cmd), async (c, out) => out.result(await c.call('routes.add', { prefix, ...kw }), () => ''));
    });
  route
    .command('del <prefix>')
    .alias('delete')
    .description('delete a static route')
    .action(async (prefix: string, _o, cmd: Command) =>
      withClient(globals(cmd), async (c, out) => out.result(await c.call('routes.delete', { prefix }), () => '')),
    );

  const neigh = program.command('neighbour').alias('neighbor').description('static neighbours and the neighbour cache');
  neigh
    .command('add <address> [args...]')
    .usage('ADDR lladdr MAC dev DEV')
    .description('add or replace a static neighbour')
    .action(async (address: string, args: string[], _o, cmd: Command) => {
      const kw = keywordArgs(args, ['lladdr', 'mac', 'dev'], 'neighbour add');
      const mac = kw.lladdr ?? kw.mac;
      await withClient(globals(cmd), async (c, out) => out.result(await c.call('neighbours.add', { address, mac, dev: kw.dev }), () => ''));
    });
  neigh
    .command('del <address> [args...]')
    .alias('delete')
    .usage('ADDR dev DEV')
    .description("delete a neighbour's entry")
    .action(async (address: string, args: string[], _o, cmd: Command) => {
      const kw = keywordArgs(args, ['dev'], 'neighbour del');
      await withClient(globals(cmd), async (c, out) => out.result(await c.call('neighbours.delete', { address, dev: kw.dev }), () => ''));
    });
  neigh
    .command('flush [args...]')
    .usage('[dev DEV]')
    .description('remove learned entries (static ones stay)')
    .action(async (args: string[], _o, cmd: Command) => {
      const kw = keywordArgs(args, ['dev'], 'neighbour flush');
      await withClient(globals(cmd), async (c, out) =>
        out.result(await c.call('neighbours.flush', kw.dev !== undefined ? { dev: kw.dev } : {}), (r: { flushed: number }) => `${r.flushed} entries flushed`),
      );
    });

  const iface = program.command('interface').description('administer interfaces');
  for (const [name, method] of [['up', 'interfaces.setUp'], ['down', 'interfaces.setDown']] as const) {
    iface
      .command(`${name} <name>`)
      .description(`set an interface administratively ${name}`)
      .action(async (ifname: string, _o, cmd: Command) => withClient(globals(cmd), async (c, out) => out.result(await c.call(method, { name: ifname }), () => '')));
  }
  iface
    .command('mtu <name> <mtu>')
    .description("change an interface's MTU")
    .action(async (ifname: string, mtu: string, _o, cmd: Command) => {
      if (!/^\d+$/.test(mtu)) throw new ControlError('EINVAL', `interface mtu: expected an integer, got ${JSON.stringify(mtu)}`);
      await withClient(globals(cmd), async (c, out) => out.result(await c.call('interfaces.setMtu', { name: ifname, mtu: Number(mtu) }), () => ''));
    });

  iface
    .command('clone <cloner> [args...]')
    .usage('vlan parent PORT vlan ID [name NAME] [address ADDR/LEN]... | loop [name NAME] [address ADDR/LEN]...')
    .description('create a VLAN or loopback interface')
    .action(async (cloner: string, args: string[], _o, cmd: Command) => {
      // `address` may repeat; the other keywords once.
      const addresses: string[] = [];
      const rest: string[] = [];
      for (let i = 0; i < args.length; i += 2) {
        if (args[i] === 'address') {
          if (args[i + 1] === undefined) throw new ControlError('EINVAL', 'interface clone: address needs a value');
          addresses.push(args[i + 1]);
        } else rest.push(args[i], ...(args[i + 1] !== undefined ? [args[i + 1]] : []));
      }
      const kw = keywordArgs(rest, ['parent', 'vlan', 'name'], 'interface clone');
      if (kw.vlan !== undefined && !/^\d+$/.test(kw.vlan)) throw new ControlError('EINVAL', `interface clone: vlan: expected an integer, got ${JSON.stringify(kw.vlan)}`);
      const params = {
        cloner,
        ...(kw.name !== undefined ? { name: kw.name } : {}),
        ...(kw.parent !== undefined ? { parent: kw.parent } : {}),
        ...(kw.vlan !== undefined ? { vlan: Number(kw.vlan) } : {}),
        ...(addresses.length > 0 ? { addresses } : {}),
      };
      await withClient(globals(cmd), async (c, out) =>
        out.result(await c.call('interfaces.clone', params), (r: { name: string; index: number }) => `${r.name} (index ${r.index})`),
      );
    });
  iface
    .command('destroy <name>')
    .description('destroy a cloned interface (its addresses, routes and neighbours go)')
    .action(async (ifname: string, _o, cmd: Command) =>
      withClient(globals(cmd), async (c, out) => out.result(await c.call('interfaces.destroy', { name: ifname }), () => '')),
    );
  for (const [name, method, what] of [
    ['join', 'interfaces.join', 'join a multicast group (MLD reports it)'],
    ['leave', 'interfaces.leave', 'leave a multicast group joined with join'],
  ] as const) {
    iface
      .command(`${name} <name> <group>`)
      .description(what)
      .action(async (ifname: string, group: string, _o, cmd: Command) =>
        withClient(globals(cmd), async (c, out) => out.result(await c.call(method, { name: ifname, group }), () => '')),
      );
  }

  program
    .command('reload')
    .description('apply the edited config file to the running router (as SIGHUP): routes, neighbours, clones, flow cache, SIFTR; refuses what needs a restart')
    .action(async (_o, cmd: Command) =>
      withClient(globals(cmd), async (c, out) =>
        out.result(await c.call('config.reload', {}), (r: { changes: string[] }) => (r.changes.length === 0 ? 'no change' : r.changes.join('\n'))),
      ),
    );

  program
    .command('events')
    .description('follow link, address, neighbour and MLD events until Ctrl-C')
    .option('--types <list>', 'comma-separated: link,address,neighbour,mld')
    .action(async (o: { types?: string }, cmd: Command) =>
      withClient(globals(cmd), (c, out) => events(c, out, o.types?.split(',').filter((t) => t !== ''))),
    );

  program
    .command('stats')
    .description('the counter table (as the demo shows it); --watch refreshes it')
    .option('--watch', 'refresh every interval until Ctrl-C')
    .option('--interval <seconds>', 'refresh interval', '1')
    .action(async (o: { watch?: boolean; interval: string }, cmd: Command) => {
      const interval = Number(o.interval);
      if (!(interval > 0)) throw new ControlError('EINVAL', `stats: --interval: expected seconds > 0, got ${JSON.stringify(o.interval)}`);
      await withClient(globals(cmd), (c, out) => stats(c, out, o.watch === true, interval));
    });
  addCaptureCommand(program, globals);
  return program;
}

/** Run one control command (argv without node and script); resolves with the exit status. */
export async function runCtlCommand(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const program = buildProgram(json);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0; // --help, --version
      if (json) process.stdout.write(`${JSON.stringify({ error: { code: 'EINVAL', message: e.message.replace(/^error: /, '') } })}\n`);
      return 2;
    }
    const code = (e as { code?: unknown }).code;
    const error = { code: typeof code === 'string' ? code : 'EIO', message: (e as Error).message };
    if (json) process.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`);
    else process.stderr.write(`fastpath: ${error.code}: ${error.message}\n`);
    return 1;
  }
}

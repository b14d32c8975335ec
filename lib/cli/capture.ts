/**
 * `fastpath capture`: packet capture on a running router's ports, written
 * as pcapng to a file or to stdout (`-w -`, for `| tshark -r -`). Talks to
 * the router over its control socket (capture.start, then capture.read
 * until done; Ctrl-C sends capture.stop and drains what was captured).
 * Messages go to stderr, so stdout carries only pcapng with `-w -`.
 *
 *   fastpath capture -i eth0 [-i eth1] [--direction rx|tx|both] [-c N]
 *                    [-f 'pcap-filter expr' | expr...] [-s SNAPLEN] [--buffer N] -w FILE|-
 */
import * as fs from 'fs';
import { Command } from 'commander';

import { openCaptureFile } from '../capture';
import type { CaptureStats } from '../capture';
import { ControlClient, ControlError, defaultSocketPath } from '../control/client';
import type { CaptureReadResult } from '../control/capture';

interface CaptureCliOptions {
  interface?: string[];
  direction: string;
  count?: string;
  filter?: string;
  snaplen?: string;
  buffer?: string;
  write: string;
}

interface GlobalOptions {
  json?: boolean;
  socket?: string;
}

function positiveInt(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new ControlError('EINVAL', `capture: ${what}: expected a positive integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** Where the pcapng goes: a file (opened before anything starts) or stdout. */
class Sink {
  private readonly fd: number | undefined;
  private broken: Error | undefined;

  constructor(readonly target: string) {
    if (target === '-') {
      process.stdout.on('error', (e: Error) => (this.broken = e)); // the reader went away (EPIPE)
    } else {
      this.fd = openCaptureFile(target);
    }
  }

  get failed(): Error | undefined {
    return this.broken;
  }

  async write(b: Buffer): Promise<void> {
    if (b.length === 0) return;
    if (this.fd !== undefined) {
      fs.writeSync(this.fd, b);
      return;
    }
    if (this.broken) return;
    if (!process.stdout.write(b)) await new Promise<void>((r) => process.stdout.once('drain', () => r()));
  }

  close(removeFile: boolean): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    if (removeFile) fs.rmSync(this.target, { force: true });
  }
}

function summaryLine(s: CaptureStats): string {
  return `${s.delivered} packets captured (${s.seen} seen, ${s.matched} matched the filter), ${s.dropped} dropped (capture ring full)`;
}

async function capture(opts: CaptureCliOptions, expression: string[], g: GlobalOptions): Promise<void> {
  if (opts.filter !== undefined && expression.length > 0) {
    throw new ControlError('EINVAL', 'capture: give the filter either with -f or as trailing words, not both');
  }
  const filter = opts.filter ?? (expression.length > 0 ? expression.join(' ') : undefined);
  if (opts.interface === undefined) throw new ControlError('EINVAL', 'capture: -i INTERFACE is required');
  const params = {
    interfaces: opts.interface,
    direction: opts.direction,
    ...(filter !== undefined ? { filter } : {}),
    ...(opts.count !== undefined ? { count: positiveInt(opts.count, '-c') } : {}),
    ...(opts.snaplen !== undefined ? { snaplen: positiveInt(opts.snaplen, '-s') } : {}),
    ...(opts.buffer !== undefined ? { buffer: positiveInt(opts.buffer, '--buffer') } : {}),
  };
  const sink = new Sink(opts.write);
  let started = false;
  let client: ControlClient | undefined;
  try {
    client = await ControlClient.connect(g.socket ?? defaultSocketPath());
    const c = client;
    const start = await c.call<{ id: number; pcapng: string; interfaces: string[]; direction: string; filter: string }>('capture.start', params);
    started = true;
    await sink.write(Buffer.from(start.pcapng, 'base64'));
    // On stderr even with -w -: a script (or a test) learns that the capture runs.
    process.stderr.write(
      `capturing on ${start.interfaces.join(', ')} (${start.direction})${start.filter !== '' ? `, filter "${start.filter}"` : ''}${params.count !== undefined ? `, ${params.count} packets` : ''} (Ctrl-C to stop)\n`,
    );
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      c.call('capture.stop', { id: start.id }).catch(() => undefined);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    let stats: CaptureStats;
    try {
      for (;;) {
        const r = await c.call<CaptureReadResult>('capture.read', { id: start.id, waitMs: 500 });
        await sink.write(Buffer.from(r.pcapng, 'base64'));
        if (sink.failed !== undefined) stop();
        if (r.done) {
          stats = r.stats;
          break;
        }
      }
    } finally {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
    }
    if (g.json) {
      const line = `${JSON.stringify(stats)}\n`;
      if (sink.target === '-') process.stderr.write(line);
      else process.stdout.write(line);
    } else process.stderr.write(`${summaryLine(stats)}\n`);
  } finally {
    client?.close();
    sink.close(!started);
  }
}

/** Adds `capture` to the control CLI's program (lib/cli/ctl.ts). */
export function addCaptureCommand(program: Command, globals: (cmd: Command) => GlobalOptions): void {
  program
    .command('capture [expression...]')
    .description('capture packets on ports of the running router into a pcapng file (or stdout with -w -)')
    .option('-i, --interface <name>', 'a port to capture on (repeat for several)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--direction <dir>', 'rx, tx or both', 'both')
    .option('-c, --count <n>', 'stop after n packets')
    .option('-f, --filter <expr>', 'a pcap-filter(7) expression, as tcpdump takes (or give it as trailing words)')
    .option('-s, --snaplen <bytes>', 'bytes kept per packet (default 262144: whole frames)')
    .option('--buffer <packets>', 'packets the router buffers between reads (default 4096); more are dropped and counted')
    .requiredOption('-w, --write <file>', 'the pcapng file to write, or - for stdout')
    .action(async (expression: string[], o: CaptureCliOptions, cmd: Command) => capture(o, expression, globals(cmd)));
}

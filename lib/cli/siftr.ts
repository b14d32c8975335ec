/**
 * fastpath siftr: read a SIFTR log (docs/siftr-cli.md).
 *   fastpath siftr summary LOG [--json]
 *   fastpath siftr plot LOG --out FILE.svg [--max-points N] [--title TEXT]
 * Errors are FastpathErrors naming the file or option; cli.ts prints them.
 */
import * as fs from 'fs';

import { FastpathError } from '../errors';
import { parseSiftrLog, SiftrLog } from '../siftr-log';
import {
  renderSiftrSvg,
  SIFTR_PLOT_MAX_POINTS,
  SiftrConnectionSummary,
  siftrFlowKey,
  SiftrSummary,
  summarizeSiftrLog,
} from '../siftr-report';

export const SIFTR_HELP = `usage:
  fastpath siftr summary LOG [--json]
      Per connection: segments each way (out: local->foreign, in: back),
      retransmissions (fastpath logs mark them; "-" for other logs), min/median/max
      smoothed RTT in ms (records with srtt 0 have no sample yet and are not
      counted), duration, max in-flight bytes, MSS and window scales; then the
      log's header and footer counters. --json prints the same as JSON.
  fastpath siftr plot LOG --out FILE.svg [--max-points N] [--title TEXT]
      Writes an SVG chart of in-flight bytes, advertised windows (snd_wnd,
      rcv_wnd) and smoothed RTT against seconds since SIFTR was enabled, one
      colour per connection. Large logs are downsampled: at most N evenly
      spaced records per connection are drawn (default ${SIFTR_PLOT_MAX_POINTS}), so a
      short spike between them may not show; the summary sees every record.
`;

/** Options a subcommand accepts: name -> whether it takes a value. */
type OptionSpec = Readonly<Record<string, boolean>>;

interface ParsedArgs {
  positional: string[];
  options: Map<string, string | true>;
}

function usageError(message: string): FastpathError {
  return new FastpathError('EINVAL', `siftr: ${message} (fastpath siftr --help)`);
}

/** "--name value", "--name=value" and flags; anything else is a positional argument. */
function parseOptions(command: string, args: readonly string[], spec: OptionSpec): ParsedArgs {
  const parsed: ParsedArgs = { positional: [], options: new Map() };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) {
      parsed.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (!(name in spec)) throw usageError(`${command}: unknown option ${name}`);
    if (!spec[name]) {
      if (eq >= 0) throw usageError(`${command}: ${name} takes no value`);
      parsed.options.set(name, true);
    } else if (eq >= 0) {
      parsed.options.set(name, arg.slice(eq + 1));
    } else {
      if (i + 1 >= args.length) throw usageError(`${command}: ${name} needs a value`);
      parsed.options.set(name, args[++i]);
    }
  }
  return parsed;
}

/** The one LOG argument. */
function logArgument(command: string, parsed: ParsedArgs): string {
  if (parsed.positional.length === 0) throw usageError(`${command}: LOG is missing`);
  if (parsed.positional.length > 1) throw usageError(`${command}: one LOG expected, got ${parsed.positional.join(' ')}`);
  return parsed.positional[0];
}

/** Read and parse a log; errors name the file (and the line, from the parser). */
async function readLog(file: string): Promise<SiftrLog> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new FastpathError(err.code === 'ENOENT' ? 'ENOENT' : 'EIO', `siftr: cannot read log ${file}: ${err.message}`);
  }
  // The writer ends every line with '\n', so text after the last one is a
  // line still being written (the log is read while SIFTR runs): even
  // where it parses, its last field may be cut short. Leave it out, aloud.
  const end = text.lastIndexOf('\n') + 1;
  if (end < text.length && end > 0) {
    process.stderr.write(`fastpath: siftr: ${file}: leaving out an unfinished last line (no newline yet)\n`);
    text = text.slice(0, end);
  }
  try {
    return parseSiftrLog(text);
  } catch (e) {
    if (e instanceof FastpathError) throw new FastpathError(e.code, `siftr: ${file}: ${e.message}`);
    throw e;
  }
}

/** Milliseconds with microsecond precision, as srtt has. */
const ms = (v: number): string => v.toFixed(3);
/** Seconds with microsecond precision, as the log's times have. */
const secs = (v: number): string => v.toFixed(6);

function formatConnection(c: SiftrConnectionSummary): string {
  const rexmit = c.retransmissions === null ? '-' : `local ${c.retransmissions.local}, remote ${c.retransmissions.remote}`;
  const rtt = c.rtt === null ? '-' : `min ${ms(c.rtt.minMs)}, median ${ms(c.rtt.medianMs)}, max ${ms(c.rtt.maxMs)} (${c.rtt.samples} samples)`;
  return [
    c.key,
    `  segments         out ${c.segmentsOut}, in ${c.segmentsIn}`,
    `  retransmissions  ${rexmit}`,
    `  RTT ms           ${rtt}`,
    `  duration s       ${secs(c.durationSecs)} (from ${secs(c.firstSecs)} to ${secs(c.lastSecs)} after enable)`,
    `  max in-flight    ${c.maxInflightBytes} bytes`,
    `  MSS              ${c.mss}`,
    `  window scale     snd ${c.sndScale}, rcv ${c.rcvScale}`,
  ].join('\n');
}

/** The summary as text: header, footer, then one block per connection. */
export function formatSiftrSummary(s: SiftrSummary): string {
  const h = s.header;
  const lines = [
    `SIFTR ${h.siftrver} log from ${h.sysname} ${h.sysver}, ipmode ${h.ipmode}`,
    `enabled at ${h.enableTimeSecs}.${String(h.enableTimeUsecs).padStart(6, '0')}`,
  ];
  if (s.footer === null) {
    lines.push('no disable line: the log was still being written');
  } else {
    const f = s.footer;
    lines.push(
      `disabled ${secs(s.logDurationSecs ?? 0)} s later; footer: ${f.flows} flows`,
      `  tcp packets      in ${f.numInboundTcpPkts}, out ${f.numOutboundTcpPkts}, total ${f.totalTcpPkts}`,
      `  skipped malloc   in ${f.numInboundSkippedPktsMalloc}, out ${f.numOutboundSkippedPktsMalloc}`,
      `  skipped tcpcb    in ${f.numInboundSkippedPktsTcpcb}, out ${f.numOutboundSkippedPktsTcpcb}`,
      `  skipped inpcb    in ${f.numInboundSkippedPktsInpcb}, out ${f.numOutboundSkippedPktsInpcb}`,
      `  skipped total    ${f.totalSkippedTcpPkts}`,
    );
  }
  lines.push(`${s.records} records, ${s.connections.length} connections`);
  return [lines.join('\n'), ...s.connections.map(formatConnection)].join('\n\n') + '\n';
}

/** The summary as JSON; the footer's 64-bit counters become decimal strings, which JSON numbers cannot hold exactly. */
export function siftrSummaryJson(s: SiftrSummary): string {
  return `${JSON.stringify(s, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value), 2)}\n`;
}

async function summaryCommand(args: readonly string[]): Promise<number> {
  const parsed = parseOptions('summary', args, { '--json': false });
  const summary = summarizeSiftrLog(await readLog(logArgument('summary', parsed)));
  process.stdout.write(parsed.options.has('--json') ? siftrSummaryJson(summary) : formatSiftrSummary(summary));
  return 0;
}

/** --max-points: a whole number >= 2 (the first and last record of a connection). */
function parseMaxPoints(text: string | true | undefined): number {
  if (text === undefined) return SIFTR_PLOT_MAX_POINTS;
  const n = typeof text === 'string' && /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 2 && Number.isSafeInteger(n))) throw usageError(`plot: --max-points "${text}" is not a whole number >= 2`);
  return n;
}

async function plotCommand(args: readonly string[]): Promise<number> {
  const parsed = parseOptions('plot', args, { '--out': true, '--max-points': true, '--title': true });
  const file = logArgument('plot', parsed);
  const out = parsed.options.get('--out');
  if (typeof out !== 'string' || out === '') throw usageError('plot: --out FILE.svg is required');
  const maxPoints = parseMaxPoints(parsed.options.get('--max-points'));
  const title = parsed.options.get('--title');
  const log = await readLog(file);
  if (log.records.length === 0) throw new FastpathError('EINVAL', `siftr: ${file}: no records to plot`);
  const svg = await renderSiftrSvg(log, { maxPoints, ...(typeof title === 'string' ? { title } : {}) });
  try {
    await fs.promises.writeFile(out, svg);
  } catch (e) {
    throw new FastpathError('EIO', `siftr: cannot write ${out}: ${(e as Error).message}`);
  }
  const connections = new Set(log.records.map(siftrFlowKey)).size;
  process.stdout.write(`wrote ${out} (${connections} connections, ${svg.length} bytes)\n`);
  return 0;
}

/** Run `fastpath siftr ARGS`; resolves to the exit code, throws FastpathError on bad input. */
export async function runSiftrCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(SIFTR_HELP);
    return 0;
  }
  switch (sub) {
    case 'summary':
      return summaryCommand(rest);
    case 'plot':
      return plotCommand(rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(SIFTR_HELP);
      return 0;
    case undefined:
      throw usageError('expected summary or plot');
    default:
      throw usageError(`unknown subcommand "${sub}"`);
  }
}

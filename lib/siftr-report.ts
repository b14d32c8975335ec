/**
 * Reading SIFTR logs (lib/siftr-log.ts): per-connection totals, and a plot
 * of in-flight bytes, advertised windows and RTT over time as an SVG.
 *
 * The plot is a Vega-Lite spec (siftrPlotSpec, plain data, testable without
 * rendering) compiled by vega-lite and rendered headless by vega
 * (renderSiftrSvg): a maintained declarative plotting library whose SVG
 * renderer needs neither a browser nor the native canvas package. Both are
 * ESM-only since v6, so they are loaded with a real import() (importEsm).
 */

import type * as Vega from 'vega';
// vega-lite declares its types only under "exports", which the repo's
// moduleResolution "node" does not read; this path is type-only (erased).
import type * as VegaLite from 'vega-lite/build/index';

import { FastpathError } from './errors';
import type { SiftrFooter, SiftrHeader, SiftrLog, SiftrRecord } from './siftr-log';

/** A connection's key, as the footer's flow_list writes it: "laddr;lport-faddr;fport". */
export function siftrFlowKey(f: {
  readonly localAddress: string;
  readonly localPort: number;
  readonly foreignAddress: string;
  readonly foreignPort: number;
}): string {
  return `${f.localAddress};${f.localPort}-${f.foreignAddress};${f.foreignPort}`;
}

/** Retransmitted segments of one connection: by the local endpoint ('o') and by the foreign one ('i'). */
export interface SiftrRexmits {
  readonly local: number;
  readonly remote: number;
}

/**
 * t_flags bit TF_FASTRECOVERY: fastpath's writer sets it on the line of a
 * segment it saw retransmitted (docs/siftr.md, "Each field"); FreeBSD's
 * own logs use it for the sender's loss recovery, so only fastpath logs
 * (header sysname "fastpath") are read this way.
 */
export const SIFTR_TF_REXMIT = 0x00100000;

/** Counts to use instead of what the log says (a program that has better ones). */
export interface SiftrSummaryExtra {
  /** Keyed by siftrFlowKey. */
  readonly rexmits?: ReadonlyMap<string, SiftrRexmits>;
}

/** RTT statistics of one connection from its srtt samples (> 0), in milliseconds. */
export interface SiftrRttSummary {
  readonly minMs: number;
  readonly medianMs: number;
  readonly maxMs: number;
  readonly samples: number;
}

export interface SiftrConnectionSummary {
  /** siftrFlowKey of the connection. */
  readonly key: string;
  readonly localAddress: string;
  readonly localPort: number;
  readonly foreignAddress: string;
  readonly foreignPort: number;
  /** Records with direction 'o' (local -> foreign). */
  readonly segmentsOut: number;
  /** Records with direction 'i' (foreign -> local). */
  readonly segmentsIn: number;
  /** Retransmitted segments among the logged lines (fastpath logs: TF_FASTRECOVERY); null for other writers' logs. */
  readonly retransmissions: SiftrRexmits | null;
  /** null: no record had srtt > 0 yet. */
  readonly rtt: SiftrRttSummary | null;
  /** First and last record, seconds since the log's enable time. */
  readonly firstSecs: number;
  readonly lastSecs: number;
  readonly durationSecs: number;
  readonly maxInflightBytes: number;
  /** From the connection's last record: the handshake may not be complete in the first ones. */
  readonly mss: number;
  readonly sndScale: number;
  readonly rcvScale: number;
}

/** The footer without its flow_list, which the connections replace; flows: its length. */
export type SiftrFooterSummary = Omit<SiftrFooter, 'flowList'> & { readonly flows: number };

export interface SiftrSummary {
  readonly header: SiftrHeader;
  readonly footer: SiftrFooterSummary | null;
  readonly records: number;
  /** Enable to disable time; null while the log has no footer. */
  readonly logDurationSecs: number | null;
  /** Connections that have records, in first-seen order. */
  readonly connections: readonly SiftrConnectionSummary[];
}

/** Microseconds since the epoch: exact, as seconds * 1e6 stays below 2^53 until the year 2255. */
function micros(secs: number, usecs: number): number {
  return secs * 1_000_000 + usecs;
}

/** Seconds between two microsecond times. */
function secondsBetween(fromUs: number, toUs: number): number {
  return (toUs - fromUs) / 1_000_000;
}

/** The log's records grouped by connection, in first-seen order. */
function recordsByConnection(log: SiftrLog): Map<string, SiftrRecord[]> {
  const byKey = new Map<string, SiftrRecord[]>();
  for (const r of log.records) {
    const key = siftrFlowKey(r);
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [r]);
    else list.push(r);
  }
  return byKey;
}

/** Middle value of sorted numbers (mean of the two middle ones for an even count). */
function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function summarizeRtt(records: readonly SiftrRecord[]): SiftrRttSummary | null {
  // srtt 0: the connection has no RTT sample yet, not a 0 ms RTT.
  const ms = records.filter((r) => r.srtt > 0).map((r) => r.srtt / 1000).sort((a, b) => a - b);
  if (ms.length === 0) return null;
  return { minMs: ms[0], medianMs: median(ms), maxMs: ms[ms.length - 1], samples: ms.length };
}

function countRexmits(records: readonly SiftrRecord[]): SiftrRexmits {
  let local = 0;
  let remote = 0;
  for (const r of records) {
    if ((r.flags & SIFTR_TF_REXMIT) === 0) continue;
    if (r.direction === 'o') local++;
    else remote++;
  }
  return { local, remote };
}

function summarizeConnection(
  key: string,
  records: readonly SiftrRecord[],
  enableUs: number,
  extra: SiftrSummaryExtra,
  marksRexmits: boolean,
): SiftrConnectionSummary {
  const first = records[0];
  const last = records[records.length - 1];
  const firstUs = micros(first.timeSecs, first.timeUsecs);
  const lastUs = micros(last.timeSecs, last.timeUsecs);
  return {
    key,
    localAddress: first.localAddress,
    localPort: first.localPort,
    foreignAddress: first.foreignAddress,
    foreignPort: first.foreignPort,
    segmentsOut: records.filter((r) => r.direction === 'o').length,
    segmentsIn: records.filter((r) => r.direction === 'i').length,
    retransmissions: extra.rexmits?.get(key) ?? (marksRexmits ? countRexmits(records) : null),
    rtt: summarizeRtt(records),
    firstSecs: secondsBetween(enableUs, firstUs),
    lastSecs: secondsBetween(enableUs, lastUs),
    durationSecs: secondsBetween(firstUs, lastUs),
    // A loop, not Math.max(...): a long connection's records overflow the argument list.
    maxInflightBytes: records.reduce((max, r) => Math.max(max, r.sentInflightBytes), 0),
    mss: last.maxSegSize,
    sndScale: last.sndScale,
    rcvScale: last.rcvScale,
  };
}

/**
 * Per-connection totals of a parsed log, with its header and footer
 * counters. The SIFTR 1.3 line has no retransmission field and no sequence
 * numbers: in fastpath's logs the router marks each retransmitted segment's
 * line with TF_FASTRECOVERY, and those are counted; other logs give null
 * unless extra.rexmits supplies counts.
 */
export function summarizeSiftrLog(log: SiftrLog, extra: SiftrSummaryExtra = {}): SiftrSummary {
  const enableUs = micros(log.header.enableTimeSecs, log.header.enableTimeUsecs);
  const connections = [...recordsByConnection(log)].map(([key, records]) =>
    summarizeConnection(key, records, enableUs, extra, log.header.sysname === 'fastpath'),
  );
  let footer: SiftrFooterSummary | null = null;
  let logDurationSecs: number | null = null;
  if (log.footer !== null) {
    const { flowList, ...counters } = log.footer;
    footer = { ...counters, flows: flowList.length };
    logDurationSecs = secondsBetween(enableUs, micros(log.footer.disableTimeSecs, log.footer.disableTimeUsecs));
  }
  return { header: log.header, footer, records: log.records.length, logDurationSecs, connections };
}

/** Points per connection a plot keeps unless told otherwise. */
export const SIFTR_PLOT_MAX_POINTS = 2000;

/** Two points at least: the first and the last record of a connection. */
function checkMaxPoints(max: number): void {
  if (!Number.isInteger(max) || max < 2) throw new FastpathError('EINVAL', `max points ${max} is not an integer >= 2`);
}

/**
 * At most max items, evenly spaced by index, the first and the last always
 * kept. Short spikes between kept items do not show; the summary's maxima
 * are computed from every record.
 */
export function downsample<T>(items: readonly T[], max: number): T[] {
  checkMaxPoints(max);
  if (items.length <= max) return [...items];
  // n > max, so the step (n-1)/(max-1) exceeds 1 and the rounded indices are distinct.
  const step = (items.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => items[Math.round(i * step)]);
}

export interface SiftrPlotOptions {
  /** Points kept per connection (default SIFTR_PLOT_MAX_POINTS), integer >= 2. */
  readonly maxPoints?: number;
  /** Chart title (default none). */
  readonly title?: string;
}

/** One plotted sample: a record reduced to what the panels show. */
interface PlotRow {
  connection: string;
  /** Seconds since the log's enable time. */
  t: number;
  inflight: number;
  snd_wnd: number;
  rcv_wnd: number;
  /** srtt in ms; 0 while there is no sample (filtered out of the RTT panel). */
  srtt_ms: number;
}

const PANEL_WIDTH = 720;
const PANEL_HEIGHT = 180;

/**
 * The Vega-Lite spec of the plot: three panels stacked on one time axis
 * (in-flight bytes; snd_wnd and rcv_wnd, told apart by dash; smoothed
 * RTT), one colour per connection named by its flow key. Each panel draws
 * one line per connection (the window panel one per connection and window),
 * so a reader, or a test, can find each connection's marks.
 */
export function siftrPlotSpec(log: SiftrLog, options: SiftrPlotOptions = {}): VegaLite.TopLevelSpec {
  const maxPoints = options.maxPoints ?? SIFTR_PLOT_MAX_POINTS;
  checkMaxPoints(maxPoints);
  const enableUs = micros(log.header.enableTimeSecs, log.header.enableTimeUsecs);
  const byConnection = recordsByConnection(log);
  const rows: PlotRow[] = [];
  for (const [connection, records] of byConnection) {
    for (const r of downsample(records, maxPoints)) {
      rows.push({
        connection,
        t: secondsBetween(enableUs, micros(r.timeSecs, r.timeUsecs)),
        inflight: r.sentInflightBytes,
        snd_wnd: r.sndWnd,
        rcv_wnd: r.rcvWnd,
        srtt_ms: r.srtt / 1000,
      });
    }
  }
  const time = { field: 't', type: 'quantitative', title: 'seconds since SIFTR was enabled' } as const;
  const connection = {
    field: 'connection',
    type: 'nominal',
    title: 'connection (laddr;lport-faddr;fport)',
    // First-seen order, as the summary lists them, rather than alphabetical.
    sort: [...byConnection.keys()],
    // tableau20 pairs similar hues, so it only serves once tableau10's ten colours would repeat.
    scale: { scheme: byConnection.size <= 10 ? 'tableau10' : 'tableau20' },
    // Every connection gets an entry (vega drops those past 30 by default), and
    // keys are not truncated: a cut-off key names no connection. 0 = no limit.
    legend: { labelLimit: 0, titleLimit: 0, symbolLimit: 0 },
  } as const;
  // The values hold between segments: a step, not a slope, is what the log says.
  const line = { type: 'line', interpolate: 'step-after' } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(options.title !== undefined ? { title: options.title } : {}),
    data: { values: rows },
    resolve: { scale: { x: 'shared' } },
    vconcat: [
      {
        name: 'inflight',
        width: PANEL_WIDTH,
        height: PANEL_HEIGHT,
        mark: line,
        encoding: {
          x: time,
          y: { field: 'inflight', type: 'quantitative', title: 'in-flight bytes' },
          color: connection,
        },
      },
      {
        name: 'windows',
        width: PANEL_WIDTH,
        height: PANEL_HEIGHT,
        transform: [{ fold: ['snd_wnd', 'rcv_wnd'], as: ['window', 'bytes'] }],
        mark: line,
        encoding: {
          x: time,
          y: { field: 'bytes', type: 'quantitative', title: 'advertised window (bytes)' },
          color: connection,
          strokeDash: { field: 'window', type: 'nominal', title: 'window', sort: ['snd_wnd', 'rcv_wnd'] },
        },
      },
      {
        name: 'rtt',
        width: PANEL_WIDTH,
        height: PANEL_HEIGHT,
        transform: [{ filter: 'datum.srtt_ms > 0' }],
        mark: line,
        encoding: {
          x: time,
          y: { field: 'srtt_ms', type: 'quantitative', title: 'smoothed RTT (ms)' },
          color: connection,
        },
      },
    ],
  };
}

/**
 * import() kept as a real dynamic import: with "module": "commonjs" tsc
 * rewrites import() into require(), which cannot load ESM-only packages on
 * Node before 20.19. Specifiers resolve from this file, so from fastpath's
 * own node_modules.
 */
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

/** The log's plot (siftrPlotSpec) as SVG text, rendered headless. */
export async function renderSiftrSvg(log: SiftrLog, options: SiftrPlotOptions = {}): Promise<string> {
  const spec = siftrPlotSpec(log, options);
  const vega = (await importEsm('vega')) as typeof Vega;
  const vegaLite = (await importEsm('vega-lite')) as typeof VegaLite;
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

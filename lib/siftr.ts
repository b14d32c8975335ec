/**
 * router.siftr: SIFTR for the TCP connections the router forwards, after
 * FreeBSD's siftr.c (docs/siftr.md). enable() writes the log's header and
 * starts logging, disable() writes the footer and resolves with the same
 * summary, configure() changes the seed's live sysctls (logfile, ppl,
 * port_filter), status() reads the counters so far. The log is written by
 * a native writer thread, never by JS; parseSiftrLog (lib/siftr-log.ts)
 * reads it back.
 */
import * as path from 'path';

import { normalizeSiftrOptions, SiftrOptions } from './config/siftr';
import { describeValue, FastpathError } from './errors';
import { callAsync, NativeAddon, NativeSiftrStatus, packageVersion } from './native';
import type { SiftrFlow } from './siftr-log';

/** The seed's per-direction skip counters (struct siftr_stats). */
export interface SiftrSkips {
  /** No memory: the worker's connection table or its ring to the writer was full. */
  inMalloc: number;
  outMalloc: number;
  /** The connection was reset (segments after a RST). */
  inTcpcb: number;
  outTcpcb: number;
  /** No connection: the router did not see its SYN (and pickupMidstream is off). */
  inInpcb: number;
  outInpcb: number;
}

export interface SiftrStatus {
  enabled: boolean;
  logfile: string;
  ppl: number;
  portFilter: number;
  /** When logging began (ms since the epoch, from the header's enable_time). */
  enabledAt: Date;
  /** Segments towards / from the local endpoint (num_inbound/outbound_tcp_pkts). */
  inbound: number;
  outbound: number;
  skipped: SiftrSkips;
  /** Beyond the seed: parts of skipped.*Malloc, and what the tables saw. */
  tableFull: number;
  ringFull: number;
  /** Segments the port filter left out (not in inbound/outbound, as in the seed). */
  filtered: number;
  badOptions: number;
  connectionsCreated: number;
  connectionsExpired: number;
  /** Connections tracked now, over all workers. */
  connections: number;
  retransmissions: number;
  rttSamples: number;
  /** Lines written to the log files (records); with ppl 1: inbound + outbound - skipped. */
  logged: number;
  /** Lines lost to failed writes (disk full, say). */
  writeErrors: number;
  bytes: number;
  /** Log files opened since enable (configure({ logfile }) adds one). */
  files: number;
  /** Flows in the flow_list so far, and flows it had no room for. */
  flowCount: number;
  flowsDropped: number;
}


/** What disable() resolves with: the footer's content as an object. */
export interface SiftrSummary extends SiftrStatus {
  disabledAt: Date;
  /** num_inbound_tcp_pkts + num_outbound_tcp_pkts. */
  total: number;
  /** total_skipped_tcp_pkts. */
  totalSkipped: number;
  /** The footer's flow_list, in first-seen order. */
  flows: SiftrFlow[];
}

function decodeStatus(s: NativeSiftrStatus): SiftrStatus {
  const n = (v: number | undefined): number => v ?? 0;
  return {
    enabled: s.enabled,
    logfile: s.logfile ?? '',
    ppl: n(s.ppl),
    portFilter: n(s.portFilter),
    enabledAt: new Date(n(s.enableTimeUs) / 1000),
    inbound: n(s.inbound),
    outbound: n(s.outbound),
    skipped: s.skipped ?? { inMalloc: 0, outMalloc: 0, inTcpcb: 0, outTcpcb: 0, inInpcb: 0, outInpcb: 0 },
    tableFull: n(s.tableFull),
    ringFull: n(s.ringFull),
    filtered: n(s.filtered),
    badOptions: n(s.badOptions),
    connectionsCreated: n(s.connectionsCreated),
    connectionsExpired: n(s.connectionsExpired),
    connections: n(s.connections),
    retransmissions: n(s.retransmissions),
    rttSamples: n(s.rttSamples),
    logged: n(s.logged),
    writeErrors: n(s.writeErrors),
    bytes: n(s.bytes),
    files: n(s.files),
    flowCount: n(s.flowCount),
    flowsDropped: n(s.flowsDropped),
  };
}

export class Siftr {
  /** @internal */
  constructor(private readonly addon: NativeAddon) {}

  /**
   * Start logging (net.inet.siftr.enabled=1): opens `logfile` (created if
   * missing, appended to, never through a symlink), writes the enable line,
   * and from then on every forwarded TCP segment is accounted. EBUSY while
   * already enabled; the file's errno (EACCES, ENOENT, ...) when it cannot
   * be opened. Nothing changes on error.
   */
  async enable(options: Partial<SiftrOptions> & { logfile: string; cwndFilter?: boolean }): Promise<SiftrStatus> {
    const o = normalizeSiftrOptions(options);
    await callAsync('siftr.enable', () =>
      this.addon.siftrEnable({
        logfile: path.resolve(o.logfile),
        sysver: packageVersion(),
        ppl: o.ppl,
        portFilter: o.portFilter,
        localIsResponder: o.local === 'responder',
        pickupMidstream: o.pickupMidstream,
        maxConnections: o.maxConnections,
        ringSize: o.ringSize,
        maxFlows: o.maxFlows,
        idleMs: o.idleTimeoutMs,
        closeGraceMs: o.closeGraceMs,
      }),
    );
    return this.status();
  }

  /**
   * While enabled, change what the seed's sysctls change at run time: a new
   * `logfile` (opened first, so a failure keeps the old one; lines after the
   * switch go to the new file, which gets no header, as the seed's
   * logfile handler does), `ppl`, `portFilter`.
   */
  async configure(options: { logfile?: string; ppl?: number; portFilter?: number }): Promise<SiftrStatus> {
    if (typeof options !== 'object' || options === null) {
      throw new FastpathError('EINVAL', `siftr.configure: expected an options object, got ${describeValue(options)}`);
    }
    for (const k of Object.keys(options)) {
      if (!['logfile', 'ppl', 'portFilter'].includes(k)) {
        throw new FastpathError('EINVAL', `siftr.configure.${k}: unknown field (known: logfile, ppl, portFilter; the others need disable() and enable())`);
      }
    }
    const current = this.status();
    if (!current.enabled) throw new FastpathError('EINVAL', 'siftr.configure: SIFTR is not enabled');
    // The same checks as enable(), over the merged settings.
    const o = normalizeSiftrOptions({ logfile: current.logfile, ppl: current.ppl, portFilter: current.portFilter, ...options }, 'siftr.configure');
    await callAsync('siftr.configure', () =>
      this.addon.siftrConfigure({
        ...(options.logfile !== undefined ? { logfile: path.resolve(o.logfile) } : {}),
        ...(options.ppl !== undefined ? { ppl: o.ppl } : {}),
        ...(options.portFilter !== undefined ? { portFilter: o.portFilter } : {}),
      }),
    );
    return this.status();
  }

  /** Stop logging: the rings drained, the footer written, the log closed. EINVAL when not enabled. */
  async disable(): Promise<SiftrSummary> {
    const s = await callAsync('siftr.disable', () => this.addon.siftrDisable());
    const st = decodeStatus(s);
    const sk = st.skipped;
    return {
      ...st,
      enabled: false,
      disabledAt: new Date((s.disableTimeUs ?? 0) / 1000),
      total: st.inbound + st.outbound,
      totalSkipped: sk.inMalloc + sk.outMalloc + sk.inTcpcb + sk.outTcpcb + sk.inInpcb + sk.outInpcb,
      flows: s.flows.map((f) => ({ localAddress: f.laddr, localPort: f.lport, foreignAddress: f.faddr, foreignPort: f.fport })),
    };
  }

  /** The settings and counters so far; `{ enabled: false }` and zeros while off. */
  status(): SiftrStatus {
    return decodeStatus(this.addon.siftrStatus());
  }
}

/**
 * SIFTR 1.3 log files: parse the text the SIFTR writer produces
 * (native/control/siftr.c, after FreeBSD's sys/netinet/siftr.c) into typed
 * values, and write such values back as the same text.
 *
 * A log is one enable header line (tab-separated key=value), one
 * comma-separated line of 27 fields per logged TCP segment, and, once SIFTR
 * was disabled, one footer line with the counters and the flow_list. A log
 * of a run still going has no footer yet (footer: null). Every malformed
 * line throws a FastpathError EINVAL whose message starts with
 * "SIFTR log line N:". Addresses are kept as written (IPv6 text from
 * fastpath; FreeBSD's ipmode=4 logs have dotted quads) after checking them.
 *
 * The field meanings (what fastpath can infer as a router, what it writes
 * as 0) are in native/control/siftr.h.
 */

import { parseIPv6 } from './addr';
import { FastpathError } from './errors';

/** 'o': segment from the local endpoint (fastpath: the initiator), 'i': towards it. */
export type SiftrDirection = 'i' | 'o';

/** The enable line: when logging started and what wrote it. */
export interface SiftrHeader {
  readonly enableTimeSecs: number;
  readonly enableTimeUsecs: number;
  /** '1.3.0' */
  readonly siftrver: string;
  /** 'fastpath' (FreeBSD writes 'FreeBSD') */
  readonly sysname: string;
  /** fastpath's version (FreeBSD writes __FreeBSD_version) */
  readonly sysver: string;
  /** 6 for IPv6 addresses, 4 for IPv4 */
  readonly ipmode: number;
}

/** The tcpcb fields of a record line, in the seed's order after the ports. */
export const SIFTR_RECORD_FIELDS = [
  'sndSsthresh',
  'sndCwnd',
  'tFlags2',
  'sndWnd',
  'rcvWnd',
  'sndScale',
  'rcvScale',
  'connState',
  'maxSegSize',
  'srtt',
  'sackEnabled',
  'flags',
  'rto',
  'sndBufHiwater',
  'sndBufCc',
  'rcvBufHiwater',
  'rcvBufCc',
  'sentInflightBytes',
  'tSegqlen',
  'flowid',
  'flowtype',
] as const;

/** Name of one numeric tcpcb field of a record. */
export type SiftrRecordField = (typeof SIFTR_RECORD_FIELDS)[number];

/** One logged segment. srtt is in microseconds; the others as in FreeBSD's tcpcb. */
export type SiftrRecord = {
  readonly direction: SiftrDirection;
  readonly timeSecs: number;
  readonly timeUsecs: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly foreignAddress: string;
  readonly foreignPort: number;
} & { readonly [K in SiftrRecordField]: number };

/** One flow of the footer's flow_list. */
export interface SiftrFlow {
  readonly localAddress: string;
  readonly localPort: number;
  readonly foreignAddress: string;
  readonly foreignPort: number;
}

/** Footer counters: key in the log -> field name, in the seed's order. */
const FOOTER_COUNTERS = [
  ['num_inbound_tcp_pkts', 'numInboundTcpPkts'],
  ['num_outbound_tcp_pkts', 'numOutboundTcpPkts'],
  ['total_tcp_pkts', 'totalTcpPkts'],
  ['num_inbound_skipped_pkts_malloc', 'numInboundSkippedPktsMalloc'],
  ['num_outbound_skipped_pkts_malloc', 'numOutboundSkippedPktsMalloc'],
  ['num_inbound_skipped_pkts_tcpcb', 'numInboundSkippedPktsTcpcb'],
  ['num_outbound_skipped_pkts_tcpcb', 'numOutboundSkippedPktsTcpcb'],
  ['num_inbound_skipped_pkts_inpcb', 'numInboundSkippedPktsInpcb'],
  ['num_outbound_skipped_pkts_inpcb', 'numOutboundSkippedPktsInpcb'],
  ['total_skipped_tcp_pkts', 'totalSkippedTcpPkts'],
] as const;

/** Name of one footer counter. */
export type SiftrFooterCounter = (typeof FOOTER_COUNTERS)[number][1];

/**
 * The disable line. For fastpath: *Malloc = table full or ring to the writer
 * full, *Tcpcb = segments after a RST, *Inpcb = segments of connections whose
 * SYN was not seen.
 */
export type SiftrFooter = {
  readonly disableTimeSecs: number;
  readonly disableTimeUsecs: number;
  readonly flowList: readonly SiftrFlow[];
} & { readonly [K in SiftrFooterCounter]: bigint };

/** A whole log: header, records in file order, footer (null while running). */
export interface SiftrLog {
  readonly header: SiftrHeader;
  readonly records: readonly SiftrRecord[];
  readonly footer: SiftrFooter | null;
}

const U32_MAX = 0xffffffff;
const DIGITS = /^[0-9]+$/;
const USECS = /^[0-9]{6}$/;
const TIME = /^([0-9]+)\.([0-9]{6})$/;
const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$/;
const FLOW = /^([^;]+);([0-9]+)-([^;]+);([0-9]+)$/;
const HEADER_KEYS = ['enable_time_secs', 'enable_time_usecs', 'siftrver', 'sysname', 'sysver', 'ipmode'] as const;
const RECORD_FIELD_COUNT = 6 + SIFTR_RECORD_FIELDS.length;

/** Throw the EINVAL every error here uses, naming the line. */
function fail(line: number, reason: string): never {
  throw new FastpathError('EINVAL', `SIFTR log line ${line}: ${reason}`);
}

/** A decimal integer 0..max (a safe integer), or an error naming the field. */
function parseUint(text: string, max: number, what: string, line: number): number {
  if (!DIGITS.test(text)) fail(line, `${what} "${text}" is not a decimal number`);
  const n = Number(text);
  if (n > max) fail(line, `${what} ${text} is larger than ${max}`);
  return n;
}

/** A 64-bit decimal counter as a bigint. */
function parseU64(text: string, what: string, line: number): bigint {
  if (!DIGITS.test(text)) fail(line, `${what} "${text}" is not a decimal number`);
  const n = BigInt(text);
  if (n > 0xffffffffffffffffn) fail(line, `${what} ${text} does not fit 64 bits`);
  return n;
}

/** Seconds of a timestamp: a safe integer. */
function parseSecs(text: string, what: string, line: number): number {
  return parseUint(text, Number.MAX_SAFE_INTEGER, what, line);
}

/** Microseconds of a timestamp: exactly six digits, as %06ld writes them. */
function parseUsecs(text: string, what: string, line: number): number {
  if (!USECS.test(text)) fail(line, `${what} "${text}" is not six digits`);
  return Number(text);
}

/** Check an address as written (IPv6 text, or IPv4 dotted quad). */
function checkAddress(text: string, what: string, line: number): string {
  if (IPV4.test(text)) return text;
  try {
    parseIPv6(text);
  } catch {
    fail(line, `${what} "${text}" is not an IP address`);
  }
  return text;
}

/** Split 'key=value' tab-separated fields, checking the keys and their order. */
function keyValues(text: string, keys: readonly string[], line: number): string[] {
  const parts = text.split('\t');
  if (parts.length !== keys.length) fail(line, `expected ${keys.length} tab-separated fields, got ${parts.length}`);
  return parts.map((part, i) => {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (key !== keys[i]) fail(line, `field ${i + 1} is "${key}", expected "${keys[i]}"`);
    if (eq < 0) fail(line, `field "${key}" has no "="`);
    return part.slice(eq + 1);
  });
}

/** Parse the enable line. */
function parseHeader(text: string, line: number): SiftrHeader {
  const [secs, usecs, siftrver, sysname, sysver, ipmode] = keyValues(text, HEADER_KEYS, line);
  if (siftrver === '') fail(line, 'siftrver is empty');
  const mode = parseUint(ipmode, U32_MAX, 'ipmode', line);
  if (mode !== 4 && mode !== 6) fail(line, `ipmode ${mode} is neither 4 nor 6`);
  return {
    enableTimeSecs: parseSecs(secs, 'enable_time_secs', line),
    enableTimeUsecs: parseUsecs(usecs, 'enable_time_usecs', line),
    siftrver,
    sysname,
    sysver,
    ipmode: mode,
  };
}

/** Parse one record line (27 comma-separated fields). */
function parseRecord(text: string, line: number): SiftrRecord {
  const f = text.split(',');
  if (f.length !== RECORD_FIELD_COUNT) fail(line, `expected ${RECORD_FIELD_COUNT} comma-separated fields, got ${f.length}`);
  const direction = f[0];
  if (direction !== 'i' && direction !== 'o') fail(line, `direction "${direction}" is neither "i" nor "o"`);
  const time = TIME.exec(f[1]);
  if (time === null) fail(line, `time "${f[1]}" is not seconds.microseconds`);
  const counters = {} as Record<SiftrRecordField, number>;
  SIFTR_RECORD_FIELDS.forEach((name, i) => {
    counters[name] = parseUint(f[6 + i], U32_MAX, name, line);
  });
  return {
    direction,
    timeSecs: parseSecs(time[1], 'time', line),
    timeUsecs: Number(time[2]),
    localAddress: checkAddress(f[2], 'local address', line),
    localPort: parseUint(f[3], 0xffff, 'local port', line),
    foreignAddress: checkAddress(f[4], 'foreign address', line),
    foreignPort: parseUint(f[5], 0xffff, 'foreign port', line),
    ...counters,
  };
}

/** Parse the flow_list value: 'laddr;lport-faddr;fport,' per flow. */
function parseFlowList(text: string, line: number): SiftrFlow[] {
  if (text === '') return [];
  if (!text.endsWith(',')) fail(line, 'flow_list does not end with ","');
  return text
    .slice(0, -1)
    .split(',')
    .map((entry) => {
      const m = FLOW.exec(entry);
      if (m === null) fail(line, `flow_list entry "${entry}" is not "laddr;lport-faddr;fport"`);
      return {
        localAddress: checkAddress(m[1], 'flow_list local address', line),
        localPort: parseUint(m[2], 0xffff, 'flow_list local port', line),
        foreignAddress: checkAddress(m[3], 'flow_list foreign address', line),
        foreignPort: parseUint(m[4], 0xffff, 'flow_list foreign port', line),
      };
    });
}

/** Parse the disable line. */
function parseFooter(text: string, line: number): SiftrFooter {
  const keys = ['disable_time_secs', 'disable_time_usecs', ...FOOTER_COUNTERS.map(([key]) => key), 'flow_list'];
  const values = keyValues(text, keys, line);
  const counters = {} as Record<SiftrFooterCounter, bigint>;
  FOOTER_COUNTERS.forEach(([key, name], i) => {
    counters[name] = parseU64(values[2 + i], key, line);
  });
  return {
    disableTimeSecs: parseSecs(values[0], 'disable_time_secs', line),
    disableTimeUsecs: parseUsecs(values[1], 'disable_time_usecs', line),
    ...counters,
    flowList: parseFlowList(values[values.length - 1], line),
  };
}

/**
 * Parse a SIFTR log (one enable..disable session). Lines end in '\n' (a
 * '\r' before it is tolerated). Throws FastpathError EINVAL naming the line
 * for anything malformed or out of place.
 */
export function parseSiftrLog(text: string): SiftrLog {
  if (typeof text !== 'string') throw new FastpathError('EINVAL', 'SIFTR log: expected a string');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) fail(1, 'empty log: expected the enable line');
  let header: SiftrHeader | undefined;
  let footer: SiftrFooter | null = null;
  const records: SiftrRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (footer !== null) fail(n, 'text after the disable line');
    if (line.startsWith('enable_time_secs=')) {
      if (header !== undefined) fail(n, 'a second enable line: one log holds one session');
      header = parseHeader(line, n);
    } else if (header === undefined) {
      fail(n, 'expected the enable line ("enable_time_secs=...")');
    } else if (line.startsWith('disable_time_secs=')) {
      footer = parseFooter(line, n);
    } else if (line === '') {
      fail(n, 'empty line');
    } else {
      records.push(parseRecord(line, n));
    }
  }
  if (header === undefined) fail(1, 'expected the enable line ("enable_time_secs=...")');
  return { header, records, footer };
}

/** A timestamp as seconds.microseconds text. */
function formatTime(secs: number, usecs: number): string {
  return `${secs}.${String(usecs).padStart(6, '0')}`;
}

/** The enable line, '\n' included. */
export function formatSiftrHeader(h: SiftrHeader): string {
  return (
    `enable_time_secs=${h.enableTimeSecs}\tenable_time_usecs=${String(h.enableTimeUsecs).padStart(6, '0')}\t` +
    `siftrver=${h.siftrver}\tsysname=${h.sysname}\tsysver=${h.sysver}\tipmode=${h.ipmode}\n`
  );
}

/** One record line, '\n' included. */
export function formatSiftrRecord(r: SiftrRecord): string {
  const head = [r.direction, formatTime(r.timeSecs, r.timeUsecs), r.localAddress, r.localPort, r.foreignAddress, r.foreignPort];
  return `${[...head, ...SIFTR_RECORD_FIELDS.map((name) => r[name])].join(',')}\n`;
}

/** The disable line with its flow_list, '\n' included. */
export function formatSiftrFooter(f: SiftrFooter): string {
  const counters = FOOTER_COUNTERS.map(([key, name]) => `${key}=${f[name]}`);
  const flows = f.flowList.map((x) => `${x.localAddress};${x.localPort}-${x.foreignAddress};${x.foreignPort},`).join('');
  return [
    `disable_time_secs=${f.disableTimeSecs}`,
    `disable_time_usecs=${String(f.disableTimeUsecs).padStart(6, '0')}`,
    ...counters,
    `flow_list=${flows}\n`,
  ].join('\t');
}

/** A whole log as text: parseSiftrLog's inverse. */
export function formatSiftrLog(log: SiftrLog): string {
  return (
    formatSiftrHeader(log.header) +
    log.records.map(formatSiftrRecord).join('') +
    (log.footer === null ? '' : formatSiftrFooter(log.footer))
  );
}

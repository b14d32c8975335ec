/**
 * router.capture: packet capture on router ports (docs/api.md, "Capture";
 * docs/operations.md, "Packet capture"). The router owns its NICs, so
 * tcpdump on the host sees nothing; a capture copies what a port receives
 * and/or sends, optionally only frames matching a pcap-filter(7)
 * expression, into a bounded native ring (native/control/capture.c) that
 * this file drains:
 *
 *   const cap = router.capture.start({ interfaces: 'eth0', filter: 'icmp6', count: 5 });
 *   for await (const pkt of cap) console.log(pkt.interface, pkt.direction, pkt.length);
 *   console.log(cap.stats()); // { captured, dropped, … }
 *
 * or as pcapng: `await writePcapng(cap, 'x.pcapng')`. Copies are made only
 * while a capture runs (ethdev callbacks installed at start, removed at
 * stop); frames that find the ring full are dropped and counted
 * (`dropped`), never waited for. One capture at a time per router.
 */
import * as fs from 'fs';

import { FastpathError } from './errors';
import { call, NativeAddon, NativeCaptureStats, packageVersion } from './native';
import { pcapngHeader, pcapngPacket } from './pcapng';
import type { InterfaceInfo } from './interfaces';

export type CaptureDirection = 'rx' | 'tx' | 'both';

export interface CaptureOptions {
  /** Port name(s) to capture on (a VLAN's or loopback's frames: capture its parent port). */
  interfaces: string | readonly string[];
  /** Frames received, sent, or both. Default 'both'. */
  direction?: CaptureDirection;
  /** A pcap-filter(7) expression (tcpdump's syntax) on the Ethernet frame; default: every frame. */
  filter?: string;
  /** Stop after this many frames (delivered to the reader). Default: until stop(). */
  count?: number;
  /** Bytes kept per frame, 64..262144. Default 262144 (whole frames). */
  snaplen?: number;
  /** Frames the ring holds between reads, 64..1048576. Default 4096. */
  buffer?: number;
}

export interface CapturedPacket {
  readonly interface: string;
  readonly direction: 'rx' | 'tx';
  /** Nanoseconds since the epoch (the worker's TSC at its burst). */
  readonly timestamp: bigint;
  /** Length on the wire; data holds min(length, snaplen) bytes. */
  readonly length: number;
  readonly data: Buffer;
}

export interface CaptureStats {
  /** Frames the callbacks looked at (every frame of the captured directions). */
  seen: number;
  /** Of those, the frames the filter accepted. */
  matched: number;
  /** Of those, the frames copied into the ring. */
  captured: number;
  /** Matched frames lost because the ring (or its pool of copies) was full. */
  dropped: number;
  /** Frames handed to the reader so far. */
  delivered: number;
  /** Still copying (false once stopped, by stop(), count or the router stopping). */
  running: boolean;
}

const DIRECTIONS: Record<CaptureDirection, number> = { rx: 1, tx: 2, both: 3 };
const RECORD_HEADER = 24; // struct fp_capture_record
const POLL_MS = 10;
const READ_BYTES = 4 << 20;
const DEFAULT_SNAPLEN = 262144;
const DEFAULT_BUFFER = 4096;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function intOption(o: CaptureOptions, key: 'count' | 'snaplen' | 'buffer', min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new FastpathError('EINVAL', `capture: ${key}: expected an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** router.capture */
export class Capture {
  private session: CaptureSession | undefined;

  /** @internal */
  constructor(
    private readonly addon: () => NativeAddon,
    private readonly interfaces: () => InterfaceInfo[],
  ) {}

  /**
   * Start capturing. Throws FastpathError naming the input: ENOENT (no such
   * interface), EOPNOTSUPP (not a port), EINVAL (bad filter expression,
   * with libpcap's message; bad option), EBUSY (a capture is running).
   */
  start(options: CaptureOptions): CaptureSession {
    if (options === null || typeof options !== 'object') throw new FastpathError('EINVAL', 'capture: expected an options object');
    const names = typeof options.interfaces === 'string' ? [options.interfaces] : options.interfaces;
    if (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== 'string')) {
      throw new FastpathError('EINVAL', `capture: interfaces: expected an interface name or a list of them, got ${JSON.stringify(options.interfaces)}`);
    }
    const direction = options.direction ?? 'both';
    if (!(direction in DIRECTIONS)) throw new FastpathError('EINVAL', `capture: direction: expected rx, tx or both, got ${JSON.stringify(direction)}`);
    if (options.filter !== undefined && typeof options.filter !== 'string') {
      throw new FastpathError('EINVAL', `capture: filter: expected a pcap-filter expression string, got ${JSON.stringify(options.filter)}`);
    }
    const count = intOption(options, 'count', 1, Number.MAX_SAFE_INTEGER);
    const snaplen = intOption(options, 'snaplen', 64, 262144) ?? DEFAULT_SNAPLEN;
    const buffer = intOption(options, 'buffer', 64, 1 << 20) ?? DEFAULT_BUFFER;
    const known = this.interfaces();
    const ifaces = names.map((n) => {
      const i = known.find((x) => x.name === n);
      if (i === undefined) throw new FastpathError('ENOENT', `capture: no interface named ${JSON.stringify(n)} (have ${known.map((x) => x.name).join(', ')})`);
      if (i.kind !== 'port') {
        const hint = i.kind === 'vlan' ? `capture ${i.parent} with the filter "vlan ${i.vlan}"` : 'a loopback sends and receives no frames';
        throw new FastpathError('EOPNOTSUPP', `capture: ${n} is a ${i.kind} interface, not a port: ${hint}`);
      }
      return i;
    });
    if (new Set(names).size !== names.length) throw new FastpathError('EINVAL', `capture: interfaces: ${JSON.stringify(names)} names one twice`);
    if (this.session !== undefined && this.session.stats().running) {
      throw new FastpathError('EBUSY', `capture: a capture on ${this.session.interfaces.join(', ')} is running; stop it first`);
    }
    const filter = options.filter?.trim() ?? '';
    const addon = this.addon();
    const id = call(filter !== '' ? `capture: filter ${JSON.stringify(filter)}` : 'capture', () =>
      addon.captureStart({ interfaces: ifaces.map((i) => i.index - 1), direction: DIRECTIONS[direction], filter: filter === '' ? null : filter, snaplen, buffer }),
    );
    this.session = new CaptureSession(addon, id, ifaces, direction, filter, snaplen, count);
    return this.session;
  }

  /** The capture started last (running or not), if any. */
  get current(): CaptureSession | undefined {
    return this.session;
  }

  /** @internal the router stops: no more copies (the native side frees the ring with the router). */
  routerStopping(): void {
    this.session?.stop();
  }
}

export class CaptureSession implements AsyncIterable<CapturedPacket> {
  readonly interfaces: readonly string[];
  /** Interface index (slot) → name, for the records' iface field. */
  private readonly slots: Map<number, string>;
  private readonly descriptions: readonly string[];
  private delivered = 0;
  private last: NativeCaptureStats = { seen: 0, matched: 0, captured: 0, dropped: 0, running: true };
  private ended = false;
  private reading = false;

  /** @internal */
  constructor(
    private readonly addon: NativeAddon,
    readonly id: number,
    ifaces: readonly InterfaceInfo[],
    readonly direction: CaptureDirection,
    readonly filter: string,
    readonly snaplen: number,
    readonly count: number | undefined,
  ) {
    this.interfaces = ifaces.map((i) => i.name);
    this.descriptions = ifaces.map((i) => `fastpath port ${i.name}: ${i.driver} ${i.device}`);
    this.slots = new Map(ifaces.map((i) => [i.index - 1, i.name]));
  }

  /** True once stopped and every captured frame was read. */
  get done(): boolean {
    return this.ended;
  }

  /** Counters so far (final once stopped). */
  stats(): CaptureStats {
    if (!this.ended) {
      try {
        this.last = this.addon.captureStats(this.id);
      } catch {
        this.last = { ...this.last, running: false }; // the router stopped: what we had is final
      }
    }
    return { ...this.last, running: this.ended ? false : this.last.running, delivered: this.delivered };
  }

  /** Stop copying (idempotent). Frames already in the ring can still be read. */
  stop(): CaptureStats {
    if (!this.ended && this.last.running) {
      try {
        this.last = this.addon.captureStop(this.id);
      } catch {
        this.last = { ...this.last, running: false };
      }
    }
    return this.stats();
  }

  /** Stop and drop what was not read. */
  close(): CaptureStats {
    const s = this.stop();
    this.finish();
    return s;
  }

  /**
   * The frames waiting (up to count), or, if none, those that arrive within
   * waitMs (default: until some arrive or the capture ends). [] with
   * `done` true: the capture is over.
   */
  async read(options: { waitMs?: number } = {}): Promise<CapturedPacket[]> {
    if (this.reading) throw new FastpathError('EBUSY', 'capture: read: another read of this capture is waiting');
    this.reading = true;
    try {
      const deadline = options.waitMs === undefined ? Infinity : Date.now() + options.waitMs;
      for (;;) {
        if (this.ended) return [];
        const wasRunning = this.stats().running;
        const batch = this.readNow();
        if (batch.length > 0) return batch;
        if (!wasRunning) {
          // Stopped before this read began and nothing left: the end.
          this.finish();
          return [];
        }
        if (Date.now() >= deadline) return [];
        await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
      }
    } finally {
      this.reading = false;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<CapturedPacket> {
    try {
      for (;;) {
        const batch = await this.read();
        if (batch.length === 0 && this.ended) return;
        yield* batch;
      }
    } finally {
      this.close(); // a loop that breaks ends the capture
    }
  }

  /** pcapng's header for this capture: the section and one interface block per captured port. */
  pcapngHeader(): Buffer {
    const comment = `fastpath capture: ${this.interfaces.join(', ')} ${this.direction}${this.filter !== '' ? `, filter "${this.filter}"` : ''}`;
    return pcapngHeader(
      this.interfaces.map((name, n) => ({ name, description: this.descriptions[n], filter: this.filter, snaplen: this.snaplen })),
      `fastpath ${packageVersion()}`,
      comment,
    );
  }

  /** Enhanced packet blocks for frames of this capture. */
  pcapngPackets(packets: readonly CapturedPacket[]): Buffer {
    return Buffer.concat(
      packets.map((p) =>
        pcapngPacket({ interfaceId: this.interfaces.indexOf(p.interface), timestamp: p.timestamp, length: p.length, direction: p.direction, data: p.data }),
      ),
    );
  }

  /** What the ring holds now (without waiting), up to count. */
  private readNow(): CapturedPacket[] {
    let r: { data: Buffer; packets: number };
    try {
      r = this.addon.captureRead(this.id, READ_BYTES);
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') {
        // Released under us: the router stopped (its ring went with it).
        this.ended = true;
        this.last = { ...this.last, running: false };
        return [];
      }
      throw e;
    }
    const out: CapturedPacket[] = [];
    const d = r.data;
    for (let off = 0; off < d.length && !this.ended; ) {
      const timestamp = d.readBigUInt64LE(off);
      const length = d.readUInt32LE(off + 8);
      const capLen = d.readUInt32LE(off + 12);
      const slot = d.readUInt16LE(off + 16);
      const dir = d.readUInt8(off + 18);
      out.push({
        interface: this.slots.get(slot) ?? `#${slot}`,
        direction: dir === 1 ? 'rx' : 'tx',
        timestamp,
        length,
        data: d.subarray(off + RECORD_HEADER, off + RECORD_HEADER + capLen),
      });
      off += RECORD_HEADER + ((capLen + 3) & ~3);
      this.delivered++;
      if (this.count !== undefined && this.delivered >= this.count) this.close();
    }
    return out;
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.addon.captureRelease(this.id);
    } catch {
      // the router stopped: nothing left to release
    }
  }
}

/**
 * Write a capture as pcapng to a file (created or truncated; opened before
 * anything is read, so an unwritable path fails at once with the file's
 * errno code) or a stream, until it is done. Resolves with its stats.
 */
export async function writePcapng(session: CaptureSession, target: string | NodeJS.WritableStream): Promise<CaptureStats> {
  let fd: number | undefined;
  if (typeof target === 'string') fd = openCaptureFile(target);
  const write = async (b: Buffer): Promise<void> => {
    if (fd !== undefined) {
      fs.writeSync(fd, b);
      return;
    }
    const stream = target as NodeJS.WritableStream;
    if (!stream.write(b)) await new Promise<void>((r) => stream.once('drain', () => r()));
  };
  try {
    await write(session.pcapngHeader());
    for (;;) {
      const batch = await session.read();
      if (batch.length > 0) await write(session.pcapngPackets(batch));
      if (session.done) return session.stats();
    }
  } finally {
    session.close();
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Open (create or truncate) a capture file; FastpathError with the errno's code naming the file. */
export function openCaptureFile(file: string): number {
  try {
    return fs.openSync(file, 'w', 0o644);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const code = ['EACCES', 'EISDIR', 'ELOOP', 'ENOTDIR', 'EROFS', 'ENOENT', 'EPERM'].includes(err.code ?? '') ? err.code : 'EIO';
    throw new FastpathError(code as 'EIO', `capture: cannot write ${file}: ${err.message}`);
  }
}

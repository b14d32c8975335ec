/**
 * UDP sockets on the router's own addresses, with flow labels leased as
 * Linux's ip6_flowlabel.c leases them: `router.sockets.udp(…)` and
 * `router.flowLabels.list()`.
 *
 * Native side: control/udp.c (the socket table, the receive rings, the send
 * queue the control thread drains) and control/flowlabel.c (the manager).
 * Datagrams for a socket go worker → punt ring → control thread → the
 * socket's ring → here, without blocking the worker; a full ring drops and
 * counts (stats().control.udp_rx_queue_full).
 */
import { EventEmitter } from 'events';

import { formatIPv6, isLinkLocal, isUnspecified } from './addr';
import { describeValue, FastpathError } from './errors';
import { call, NativeAddon, NativeEvent } from './native';
import { addressArg, optionsArg, PortMap } from './portmap';

/** Share modes of a flow label (IPV6_FL_S_*). */
export type FlowLabelShare = 'exclusive' | 'process' | 'user' | 'any';
const SHARES: Readonly<Record<FlowLabelShare | 'none', number>> = { none: 0, exclusive: 1, process: 2, user: 3, any: 255 };
const SHARE_NAMES = new Map<number, FlowLabelShare | 'none'>(Object.entries(SHARES).map(([k, v]) => [v, k as FlowLabelShare]));

/** Who leases: a process and its user (uid 0 is privileged, as CAP_NET_ADMIN). */
export interface SocketOwner {
  pid: number;
  uid: number;
}

export interface UdpSocketOptions {
  /** One of the router's preferred addresses. */
  address: string;
  /** 0 (the default) picks a free port in 49152-65535. */
  port?: number;
  /** Needed for a link-local address; otherwise restricts the socket to one interface. */
  interface?: string;
  /** Default: this process, uid 0. */
  owner?: SocketOwner;
  /** Send replies with the flow label of the datagram they answer. */
  reflect?: boolean;
  /** Datagrams waiting to be read, at most (2..65536, default 256); more are dropped and counted. */
  receiveQueue?: number;
}

export interface SendOptions {
  address: string;
  port: number;
  /** A label this socket has leased (getLabel); 0 or absent: automatic (RFC 6437) or reflected. */
  flowLabel?: number;
}

export interface RemoteInfo {
  readonly address: string;
  readonly port: number;
  readonly flowLabel: number;
  readonly interface: string;
  readonly hopLimit: number;
}

export interface GetLabelOptions {
  /** 0 with `create` picks a free label. */
  label: number;
  share: FlowLabelShare;
  flags?: { create?: boolean; exclusive?: boolean; reflect?: boolean; remote?: boolean };
  /** Seconds the label stays reserved after its last user lets go (6..150 unless privileged). */
  linger?: number;
  /** Lifetime in seconds (6..150 unless privileged). */
  expires?: number;
  /** The destination the label is for (recorded, as Linux does). */
  destination: string;
}

/** A row of router.flowLabels.list(), like /proc/net/ip6_flowlabel. */
export interface FlowLabelInfo {
  readonly label: number;
  readonly share: FlowLabelShare | 'none';
  readonly owner: { pid?: number; uid?: number };
  readonly users: number;
  readonly lingerS: number;
  readonly expiresInS: number;
  readonly destination: string;
}

const MAX_LABEL = 0xfffff;

function labelArg(v: unknown, what: string, allowZero = true): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1) || v > MAX_LABEL) {
    throw new FastpathError('EINVAL', `${what}: expected an integer ${allowZero ? 0 : 1}..0xfffff, got ${describeValue(v)}`);
  }
  return v;
}

function portArg(v: unknown, what: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 65535) {
    throw new FastpathError('EINVAL', `${what}: expected an integer ${min}..65535, got ${describeValue(v)}`);
  }
  return v;
}

function secondsArg(v: unknown, what: string): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new FastpathError('EINVAL', `${what}: expected a whole number of seconds, got ${describeValue(v)}`);
  }
  return v;
}

function shareArg(v: unknown, what: string): number {
  if (typeof v !== 'string' || !Object.hasOwn(SHARES, v) || v === 'none') {
    throw new FastpathError('EINVAL', `${what}: expected one of exclusive, process, user, any, got ${describeValue(v)}`);
  }
  return SHARES[v as FlowLabelShare];
}

/** A UDP socket on one of the router's addresses. Emits 'message' (data, rinfo) and 'close'. */
export class UdpSocket extends EventEmitter {
  /** The bound address and port. */
  readonly address: string;
  readonly port: number;
  private closed = false;
  private drainScheduled = false;
  private readonly pending: { seq: number; resolve: () => void }[] = [];

  /** @internal */
  constructor(
    private readonly owner: Sockets,
    private readonly addon: NativeAddon,
    private readonly ports: PortMap,
    readonly slot: number,
    readonly gen: number,
    address: string,
    port: number,
  ) {
    super();
    this.address = address;
    this.port = port;
  }

  /** Send one datagram; resolves when it is handed to a worker's transmit path. */
  send(data: Uint8Array | string, to: SendOptions): Promise<void> {
    this.checkOpen('send');
    if (to === null || typeof to !== 'object') throw new FastpathError('EINVAL', 'send: expected { address, port, flowLabel? }');
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (!(bytes instanceof Uint8Array)) throw new FastpathError('EINVAL', 'send: data: expected a Buffer, Uint8Array or string');
    const dst = addressArg(to.address, 'send: address');
    const port = portArg(to.port, 'send: port', 1);
    const label = labelArg(to.flowLabel ?? 0, 'send: flowLabel');
    const seq = call(`send to [${to.address}]:${port}`, () => this.addon.socketSend(this.slot, dst, port, bytes, label));
    return new Promise((resolve) => this.pending.push({ seq, resolve }));
  }

  /** Lease a flow label for this socket (IPV6_FLOWLABEL_MGR, IPV6_FL_A_GET); returns it. */
  getLabel(o: GetLabelOptions): number {
    this.checkOpen('getLabel');
    if (o === null || typeof o !== 'object') throw new FastpathError('EINVAL', 'getLabel: expected { label, share, flags?, linger?, expires?, destination }');
    const f = o.flags ?? {};
    const flags = (f.create ? 1 : 0) | (f.exclusive ? 2 : 0) | (f.reflect ? 4 : 0) | (f.remote ? 8 : 0);
    const req = {
      destination: addressArg(o.destination, 'getLabel: destination'),
      label: labelArg(o.label, 'getLabel: label'),
      share: shareArg(o.share, 'getLabel: share'),
      flags,
      linger: secondsArg(o.linger, 'getLabel: linger'),
      expires: secondsArg(o.expires, 'getLabel: expires'),
    };
    return call(`getLabel 0x${req.label.toString(16)}`, () => this.addon.flowLabelGet(this.slot, req));
  }

  /** Give back one lease of a label (IPV6_FL_A_PUT); it lingers, then goes. */
  putLabel(label: number): void {
    this.checkOpen('putLabel');
    const l = labelArg(label, 'putLabel: label', false);
    call(`putLabel 0x${l.toString(16)}`, () => this.addon.flowLabelPut(this.slot, l));
  }

  /** Lengthen a held label's linger and lifetime (IPV6_FL_A_RENEW). */
  renewLabel(label: number, options: { linger?: number; expires?: number } = {}): void {
    this.checkOpen('renewLabel');
    const o = optionsArg(options, 'renewLabel');
    const l = labelArg(label, 'renewLabel: label', false);
    const linger = secondsArg(o.linger, 'renewLabel: linger');
    const expires = secondsArg(o.expires, 'renewLabel: expires');
    call(`renewLabel 0x${l.toString(16)}`, () => this.addon.flowLabelRenew(this.slot, l, 255, linger, expires));
  }

  /** Close: its leases are put back (they linger), queued datagrams are dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.forget(this);
    try {
      call('close', () => this.addon.socketClose(this.slot));
    } catch (e) {
      // The router stopped first: every socket is already closed natively.
      if (!(e instanceof FastpathError) || e.code !== 'EBADF') throw e;
    }
    for (const p of this.pending.splice(0)) p.resolve();
    this.emit('close');
  }

  /** @internal a FP_EVENT_SOCKET for this socket */
  onNative(state: number, seq: number): void {
    if (this.closed) return;
    if (state === 1 && !this.drainScheduled) this.drain();
    else if (state === 2) {
      let i = 0;
      while (i < this.pending.length && seqAtOrBefore(this.pending[i].seq, seq)) i++;
      for (const p of this.pending.splice(0, i)) p.resolve();
    }
  }

  /** @internal the router stopped */
  onStop(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.splice(0)) p.resolve();
    this.emit('close');
  }

  /**
   * Read what is queued, at most 1024 datagrams per turn of the event loop:
   * a socket flooded faster than JS reads must not starve timers and I/O.
   * The native side signals only when the queue goes from empty to not
   * empty, so a turn that stops short schedules the next itself.
   */
  private drain(): void {
    this.drainScheduled = false;
    for (let n = 0; n < 1024; ) {
      const batch = this.addon.socketRecv(this.slot, 256);
      for (const d of batch) {
        const rinfo: RemoteInfo = {
          address: formatIPv6(d.address),
          port: d.port,
          flowLabel: d.flowLabel,
          interface: this.ports.name(d.iface),
          hopLimit: d.hopLimit,
        };
        this.emit('message', d.data, rinfo);
      }
      if (batch.length < 256 || this.closed) return;
      n += batch.length;
    }
    this.drainScheduled = true;
    setImmediate(() => {
      if (!this.closed) this.drain();
    });
  }

  private checkOpen(what: string): void {
    if (this.closed) throw new FastpathError('EBADF', `${what}: the socket is closed`);
  }
}

/** Sequence numbers wrap at 2^32. */
function seqAtOrBefore(a: number, b: number): boolean {
  return ((b - a) >>> 0) < 0x80000000;
}

/** router.sockets */
export class Sockets {
  private readonly open = new Map<number, UdpSocket>();

  /** @internal */
  constructor(
    private readonly addon: NativeAddon,
    private readonly ports: PortMap,
  ) {}

  /** Open a UDP socket on one of the router's addresses. */
  async udp(o: UdpSocketOptions): Promise<UdpSocket> {
    if (o === null || typeof o !== 'object') throw new FastpathError('EINVAL', 'sockets.udp: expected { address, port?, interface?, owner?, reflect?, receiveQueue? }');
    const address = addressArg(o.address, 'sockets.udp: address');
    if (isUnspecified(address)) throw new FastpathError('EADDRNOTAVAIL', 'sockets.udp: address: a socket needs one of the router\'s addresses, not ::');
    const port = portArg(o.port ?? 0, 'sockets.udp: port', 0);
    let iface = -1;
    if (o.interface !== undefined) iface = this.ports.index(o.interface, 'sockets.udp: interface');
    else if (isLinkLocal(address)) throw new FastpathError('EINVAL', `sockets.udp: interface: a link-local address (${o.address}) needs its interface`);
    const owner = o.owner ?? { pid: process.pid, uid: 0 };
    for (const k of ['pid', 'uid'] as const) {
      const v = owner?.[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
        throw new FastpathError('EINVAL', `sockets.udp: owner.${k}: expected an integer 0..4294967295, got ${describeValue(v)}`);
      }
    }
    const rxQueue = o.receiveQueue ?? 256;
    if (!Number.isInteger(rxQueue) || rxQueue < 2 || rxQueue > 65536) {
      throw new FastpathError('EINVAL', `sockets.udp: receiveQueue: expected an integer 2..65536, got ${describeValue(o.receiveQueue)}`);
    }
    const r = call(`sockets.udp [${o.address}]:${port}`, () =>
      this.addon.socketOpen({ address, port, iface, pid: owner.pid, uid: owner.uid, reflect: o.reflect === true, rxQueue }),
    );
    const s = new UdpSocket(this, this.addon, this.ports, r.slot, r.gen, formatIPv6(address), r.port);
    // An open socket keeps the process alive, as a bound dgram socket does.
    if (this.open.size === 0) this.addon.eventsRef(true);
    this.open.set(r.slot, s);
    return s;
  }

  /** @internal */
  forget(s: UdpSocket): void {
    if (this.open.get(s.slot) === s) this.open.delete(s.slot);
    if (this.open.size === 0) this.addon.eventsRef(false);
  }

  /** @internal a FP_EVENT_SOCKET from the native queue */
  deliver(e: NativeEvent): void {
    const s = this.open.get(e.portIndex);
    const gen = e.address[4] | (e.address[5] << 8);
    if (s === undefined || s.gen !== gen) return;
    const seq = (e.address[0] | (e.address[1] << 8) | (e.address[2] << 16) | (e.address[3] << 24)) >>> 0;
    s.onNative(e.state, seq);
  }

  /** @internal the router stopped: every socket is closed. */
  stopAll(): void {
    for (const s of [...this.open.values()]) s.onStop();
    if (this.open.size > 0) this.addon.eventsRef(false);
    this.open.clear();
  }
}

/** router.flowLabels */
export class FlowLabels {
  /** @internal */
  constructor(private readonly addon: NativeAddon) {}

  /** Every label in the manager, lingering ones included (like /proc/net/ip6_flowlabel). */
  list(): FlowLabelInfo[] {
    return call('flowLabels.list', () => this.addon.flowLabelList()).map((r) => ({
      label: r.label,
      share: SHARE_NAMES.get(r.share) ?? 'none',
      owner: r.share === SHARES.process ? { pid: r.ownerPid } : r.share === SHARES.user ? { uid: r.ownerUid } : {},
      users: r.users,
      lingerS: r.lingerS,
      expiresInS: r.expiresInS,
      destination: formatIPv6(r.destination),
    }));
  }
}

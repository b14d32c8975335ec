/**
 * Router events: what native threads report (link state changes, address
 * states from duplicate address detection, neighbours that failed
 * reachability), delivered in
 * order to `router.on(type, …)` listeners and to `router.events()` async
 * iterators.
 *
 * Native side: one bounded queue (native/core/event.h) and one
 * ThreadSafeFunction wake-up; a post never blocks a native thread, and what
 * does not fit is counted (stats().control.events_dropped).
 */
import { formatIPv6, formatPrefix } from './addr';
import { NativeEvent } from './native';

export type AddressState = 'tentative' | 'preferred' | 'duplicated';

/** An interface address changed state (RFC 4862 duplicate address detection). */
export interface AddressEvent {
  readonly type: 'address';
  readonly interface: string;
  /** 'address/length' as in interfaces.list(). */
  readonly address: string;
  readonly state: AddressState;
  /** 'none' for an address's first state. */
  readonly previous: AddressState | 'none';
  readonly at: Date;
}

/** A learned neighbour did not answer unicast probes (NUD PROBE, 3 tries) and was removed. */
export interface NeighbourEvent {
  readonly type: 'neighbour';
  readonly interface: string;
  readonly address: string;
  readonly state: 'failed';
  readonly previous: string;
  readonly at: Date;
}

export type LinkState = 'unknown' | 'down' | 'up';

/**
 * A port's link state changed (carrier): every transition, once, in order,
 * after NetBSD if.c's link-state queue (consecutive duplicates coalesce; on
 * overflow a DOWN is never lost).
 */
export interface LinkEvent {
  readonly type: 'link';
  readonly interface: string;
  readonly state: LinkState;
  readonly previous: LinkState;
  readonly at: Date;
}

/** MLD: a group joined or left, a report sent, a query heard (group '::' for a general query). */
export interface MldEvent {
  readonly type: 'mld';
  readonly interface: string;
  readonly action: 'join' | 'leave' | 'report' | 'query';
  readonly group: string;
  readonly at: Date;
}

export type RouterEvent = AddressEvent | NeighbourEvent | LinkEvent | MldEvent;

const MLD_ACTIONS = [undefined, 'join', 'leave', 'report', 'query'] as const;

const LINK_STATES = ['unknown', 'down', 'up'] as const;

const ADDRESS_STATES = ['none', 'tentative', 'preferred', 'duplicated'] as const;
/** Indexed by enum fp_neigh_state (native/core/neigh.h). */
export const NEIGHBOUR_STATES = ['none', 'incomplete', 'reachable', 'stale', 'delay', 'probe', 'permanent'] as const;

/** Turn a native event into its typed form; undefined for unknown types. */
export function decodeEvent(e: NativeEvent, portName: (index: number) => string): RouterEvent | undefined {
  const at = new Date(e.at);
  if (e.type === 'address') {
    const state = ADDRESS_STATES[e.state];
    const previous = ADDRESS_STATES[e.previous];
    if (state === undefined || state === 'none' || previous === undefined) return undefined;
    return {
      type: 'address',
      interface: portName(e.portIndex),
      address: formatPrefix({ address: e.address, length: e.length }),
      state,
      previous,
      at,
    };
  }
  if (e.type === 'mld') {
    const action = MLD_ACTIONS[e.state];
    if (action === undefined) return undefined;
    return { type: 'mld', interface: portName(e.portIndex), action, group: formatIPv6(e.address), at };
  }
  if (e.type === 'link') {
    const state = LINK_STATES[e.state];
    const previous = LINK_STATES[e.previous];
    if (state === undefined || previous === undefined) return undefined;
    return { type: 'link', interface: portName(e.portIndex), state, previous, at };
  }
  if (e.type === 'neighbour') {
    return {
      type: 'neighbour',
      interface: portName(e.portIndex),
      address: formatIPv6(e.address),
      state: 'failed',
      previous: NEIGHBOUR_STATES[e.previous] ?? String(e.previous),
      at,
    };
  }
  return undefined;
}

/**
 * One `router.events()` consumer: a FIFO between the event dispatcher and an
 * async iterator. Bounded (`maxQueue`): a consumer that stops reading loses
 * the oldest events, counted in `lost`, instead of growing without limit.
 */
export class EventStream implements AsyncIterableIterator<RouterEvent> {
  lost = 0;
  private readonly queue: RouterEvent[] = [];
  private waiter: ((r: IteratorResult<RouterEvent>) => void) | undefined;
  private ended = false;

  constructor(private readonly maxQueue: number, private readonly onClose: (s: EventStream) => void) {}

  /** @internal the dispatcher's side */
  push(ev: RouterEvent): void {
    if (this.ended) return;
    if (this.waiter !== undefined) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: ev, done: false });
      return;
    }
    if (this.queue.length >= this.maxQueue) {
      this.queue.shift();
      this.lost++;
    }
    this.queue.push(ev);
  }

  /** @internal the router stopped: finish after what is queued. */
  end(): void {
    this.ended = true;
    if (this.waiter !== undefined) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<RouterEvent>> {
    const ev = this.queue.shift();
    if (ev !== undefined) return Promise.resolve({ value: ev, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  return(): Promise<IteratorResult<RouterEvent>> {
    this.queue.length = 0;
    this.end();
    this.onClose(this);
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<RouterEvent> {
    return this;
  }
}

/**
 * The interface table view (router.interfaces): list, clone/destroy (VLANs,
 * loopbacks), MTU, promiscuous and all-multicast references, multicast
 * groups (MLD), admin up/down.
 */
import { formatIPv6, isMulticast, isUnspecified, parsePrefix } from './addr';
import { describeValue, FastpathError } from './errors';
import type { AddressState } from './events';
import { call } from './native';
import { addressArg, booleanArg } from './portmap';
import type { Router } from './router';

export type InterfaceFlag = 'UP' | 'RUNNING' | 'PROMISC' | 'ALLMULTI' | 'MULTICAST' | 'LOOPBACK';
export type InterfaceKind = 'port' | 'vlan' | 'loop';

export interface InterfaceInfo {
  readonly name: string;
  /** 1-based, stable while the interface exists; a destroyed clone's index is reused only once every index has been used. */
  readonly index: number;
  readonly kind: InterfaceKind;
  /** A VLAN's parent port. */
  readonly parent?: string;
  /** A VLAN's 802.1Q id. */
  readonly vlan?: number;
  readonly device: string;
  readonly driver: string;
  readonly mac: string;
  readonly mtu: number;
  readonly flags: readonly InterfaceFlag[];
  readonly linkState: 'up' | 'down' | 'unknown';
  /** Where linkState comes from: 'lsc' (the PMD's link-status interrupts), 'netlink' (af_packet: the kernel interface's carrier), 'poll' (the PMD's link status every 100 ms). */
  readonly linkSource: 'poll' | 'lsc' | 'netlink';
  /** 'address/length', configured ones first, then the EUI-64 link-local one. */
  readonly addresses: readonly string[];
  /** Duplicate address detection state of each address (keys as in `addresses`). */
  readonly addressStates: Readonly<Record<string, AddressState>>;
  readonly rxQueues: number;
  readonly txQueues: number;
  readonly counters: import('./stats').InterfaceCounters;
}

/** The interface cloners, as NetBSD's if_clone_list: `lo` and `vlan` there, 'loop' and 'vlan' here. */
const CLONERS = ['loop', 'vlan'] as const;
const IFNAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;

export interface GroupInfo {
  readonly address: string;
  /** MLDv1 listener state (mld6.c): 'delaying' while a report is due. */
  readonly state: 'non-listener' | 'delaying' | 'idle';
  /** Until the next report, ms (0: none due). */
  readonly timerMs: number;
  /** MLDv1: this router sent the last report (it sends Done when leaving). */
  readonly reportedLast: boolean;
  readonly refs: number;
  /** Joined by the router itself (ff02::1, ff02::2, ff02::16, solicited-node groups). */
  readonly automatic: boolean;
}

export interface CloneOptions {
  /** Interface name; default `<parent>.<vlan>` for a VLAN, `lo<N>` (lowest free N from 1) for a loopback. */
  name?: string;
  /** VLAN: the port it is on. */
  parent?: string;
  /** VLAN: the 802.1Q id, 1..4094. */
  vlan?: number;
  /** Addresses with prefix length ('2001:db8:ff::1/128'). */
  addresses?: string[];
}

export class Interfaces {
  /** @internal */
  constructor(private readonly router: Router) {}

  list(): InterfaceInfo[] {
    return this.router.interfaceList();
  }

  get(name: string): InterfaceInfo {
    const i = this.list().find((x) => x.name === name);
    if (i === undefined) throw new FastpathError('ENOENT', `interfaces.get: no interface named ${describeValue(name)}`);
    return i;
  }

  /** The kinds of interface clone() makes (if_clone_list). */
  cloners(): string[] {
    return [...CLONERS];
  }

  /**
   * Create an interface (if_clone_create): `clone('vlan', { parent: 'eth0', vlan: 100 })`,
   * `clone('loop', { addresses: ['2001:db8:ff::1/128'] })`. Errors, as if.c
   * gives them: EINVAL for an unknown cloner, a bad name, VLAN id (0, 4095,
   * above) or address; ENXIO for an unknown parent; EEXIST for a name in use,
   * a VLAN id the parent has already, or an address assigned elsewhere;
   * ENOSPC when no interface index is left. A failed clone leaves nothing.
   */
  clone(cloner: string, options: CloneOptions = {}): InterfaceInfo {
    const what = 'interfaces.clone';
    if (typeof cloner !== 'string' || !(CLONERS as readonly string[]).includes(cloner)) {
      throw new FastpathError('EINVAL', `${what}: unknown cloner ${describeValue(cloner)} (have ${CLONERS.join(', ')})`);
    }
    if (options === null || typeof options !== 'object') throw new FastpathError('EINVAL', `${what}: options: expected an object`);
    const names = this.list().map((i) => i.name);
    let parentSlot = 0;
    let vlan = 0;
    let name = options.name;
    if (cloner === 'vlan') {
      if (typeof options.parent !== 'string') throw new FastpathError('EINVAL', `${what}: parent: expected a port name, got ${describeValue(options.parent)}`);
      const parent = this.list().find((i) => i.name === options.parent);
      if (parent === undefined) throw new FastpathError('ENXIO', `${what}: parent: no interface named ${describeValue(options.parent)}`);
      if (parent.kind !== 'port') throw new FastpathError('EINVAL', `${what}: parent: ${parent.name} is a ${parent.kind}; a VLAN's parent must be a port`);
      if (!Number.isInteger(options.vlan) || (options.vlan as number) < 1 || (options.vlan as number) > 4094) {
        throw new FastpathError('EINVAL', `${what}: vlan: expected an 802.1Q id 1..4094, got ${describeValue(options.vlan)}`);
      }
      vlan = options.vlan as number;
      parentSlot = parent.index - 1;
      name ??= `${parent.name}.${vlan}`;
    } else {
      if (options.parent !== undefined || options.vlan !== undefined) {
        throw new FastpathError('EINVAL', `${what}: a loopback has no parent or vlan`);
      }
      if (name === undefined) {
        let n = 1;
        while (names.includes(`lo${n}`)) n++;
        name = `lo${n}`;
      }
    }
    if (typeof name !== 'string' || !IFNAME_RE.test(name)) {
      throw new FastpathError('EINVAL', `${what}: name: expected [A-Za-z][A-Za-z0-9_.-]{0,14}, got ${describeValue(name)}`);
    }
    if (names.includes(name)) throw new FastpathError('EEXIST', `${what}: an interface named ${describeValue(name)} exists`);
    if (options.addresses !== undefined && !Array.isArray(options.addresses)) {
      throw new FastpathError('EINVAL', `${what}: addresses: expected an array of "address/length", got ${describeValue(options.addresses)}`);
    }
    const addresses = (options.addresses ?? []).map((a, i) => {
      try {
        if (typeof a !== 'string') throw new Error('expected "address/length"');
        const p = parsePrefix(a);
        if (isMulticast(p.address) || isUnspecified(p.address)) throw new Error('must be unicast');
        return p;
      } catch (e) {
        throw new FastpathError('EINVAL', `${what}: addresses[${i}]: ${describeValue(a)}: ${(e as Error).message}`);
      }
    });
    const slot = call(`${what} ${name}`, () => this.router.addonForInterfaces().ifaceClone(cloner, name as string, parentSlot, vlan, addresses));
    this.router.slotNamed(slot, name);
    return this.get(name);
  }

  /**
   * Destroy a cloned interface (if_clone_destroy): its addresses, routes and
   * neighbours go; sockets bound to it stop; its name is free again; its index
   * is reused only once every other has been used. ENXIO for
   * an unknown name, EOPNOTSUPP for a port, EBUSY while VLANs use it.
   */
  destroy(name: string): void {
    const what = 'interfaces.destroy';
    const iface = this.list().find((i) => i.name === name);
    if (iface === undefined) throw new FastpathError('ENXIO', `${what}: no interface named ${describeValue(name)}`);
    if (iface.kind === 'port') throw new FastpathError('EOPNOTSUPP', `${what}: ${name} is a port, not a cloned interface`);
    const child = this.list().find((i) => i.parent === name);
    if (child !== undefined) throw new FastpathError('EBUSY', `${what}: ${name} is the parent of ${child.name}`);
    call(`${what} ${name}`, () => this.router.addonForInterfaces().ifaceDestroy(iface.index - 1));
    this.router.slotNamed(iface.index - 1, '');
  }

  /** Change the MTU: 1280.. the device's maximum for a port, at most the parent's for a VLAN (EINVAL outside). */
  setMtu(name: string, mtu: number): void {
    const iface = this.get(name);
    if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 65535) {
      throw new FastpathError('EINVAL', `interfaces.setMtu ${name}: mtu: expected an integer 1280..65535, got ${describeValue(mtu)}`);
    }
    call(`interfaces.setMtu ${name}`, () => this.router.addonForInterfaces().ifaceSetMtu(iface.index - 1, mtu));
  }

  /**
   * Take (true) or release (false) a promiscuous-mode reference, as NetBSD's
   * ifpromisc: the first reference turns the device's promiscuous mode on,
   * the last release turns it off; releasing with none held is EINVAL. A
   * VLAN's references are held on its parent.
   */
  setPromiscuous(name: string, on: boolean): void {
    const iface = this.get(name);
    call(`interfaces.setPromiscuous ${name}`, () => this.router.addonForInterfaces().ifaceSetFlag(iface.index - 1, 'promisc', booleanArg(on, `interfaces.setPromiscuous ${name}: on`)));
  }

  /** All-multicast references, counted like setPromiscuous. */
  setAllMulticast(name: string, on: boolean): void {
    const iface = this.get(name);
    call(`interfaces.setAllMulticast ${name}`, () => this.router.addonForInterfaces().ifaceSetFlag(iface.index - 1, 'allmulti', booleanArg(on, `interfaces.setAllMulticast ${name}: on`)));
  }

  /**
   * Join a multicast group on an interface (reference counted, like the
   * seed's in6_multi): the first join reports it with MLD (v2: a state-change
   * report to ff02::16, repeated once; v1: a report to the group, again
   * within 10 s) and programs the port's multicast filter; packets to the
   * group are handed to the control plane from then on.
   */
  joinGroup(name: string, group: string): void {
    const iface = this.get(name);
    const g = addressArg(group, `interfaces.joinGroup ${name}: group`);
    if (!isMulticast(g)) throw new FastpathError('EINVAL', `interfaces.joinGroup ${name}: group ${describeValue(group)} is not a multicast address`);
    call(`interfaces.joinGroup ${name} ${group}`, () => this.router.addonForInterfaces().mldJoinLeave(iface.index - 1, g, true));
  }

  /** Drop one reference; the last one leaves the group (v2: a state-change report; v1: Done to ff02::2 if we reported last). ENOENT if not joined; EPERM for the router's own groups. */
  leaveGroup(name: string, group: string): void {
    const iface = this.get(name);
    const g = addressArg(group, `interfaces.leaveGroup ${name}: group`);
    call(`interfaces.leaveGroup ${name} ${group}`, () => this.router.addonForInterfaces().mldJoinLeave(iface.index - 1, g, false));
  }

  /** The groups joined on an interface: address, MLDv1 listener state, timer, "reported last", references, automatic (the router's own). */
  groups(name: string): { version: number; groups: GroupInfo[] } {
    const iface = this.get(name);
    const r = call(`interfaces.groups ${name}`, () => this.router.addonForInterfaces().mldGroups(iface.index - 1));
    return {
      version: r.version,
      groups: r.groups.map((g) => ({
        address: formatIPv6(g.address),
        state: g.state as GroupInfo['state'],
        timerMs: g.timerMs,
        reportedLast: g.reportedLast,
        refs: g.refs,
        automatic: g.automatic,
      })),
    };
  }

  /** IFF_UP: the interface receives and sends again; its addresses run duplicate address detection again. */
  setUp(name: string): void {
    this.router.setInterfaceUp(name, true);
  }

  /** Clear IFF_UP: the interface neither receives nor sends; routes through it stop being used and their flows are invalidated. */
  setDown(name: string): void {
    this.router.setInterfaceUp(name, false);
  }
}

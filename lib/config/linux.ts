/**
 * The `linux` section: Linux mirror interfaces (a TAP per fastpath
 * interface, so that FRR, BIRD, sshd … run unchanged on the router's host)
 * and the import of routes from a Linux routing table over rtnetlink.
 * Off by default. docs/linux-integration.md is the design, docs/routing.md
 * the how-to.
 */
import { expectObject, fail, field, item, optArray, optBool, optInt, isInteger } from './fields';

export interface LinuxConfig {
  /** Mirror every interface (true), none (false, the default) or those named. */
  mirrors?: boolean | string[];
  /** A mirror's name: this prefix and the interface's name (Linux allows 15 characters). Default 'fp-'. */
  mirrorPrefix?: string;
  /** Import routes from a Linux routing table. Default false. */
  importRoutes?: boolean;
  /** The table imported: 254 (main, the default) or any other 1..2^32-1 (not 255, local). */
  importTable?: number;
  /**
   * The protocols (rtm_protocol) whose routes are imported, by name ('bgp',
   * 'ospf', 'static', 'boot', 'zebra', 'bird' …) or number. Absent or empty: every
   * protocol but 'kernel' (the routes the kernel makes for the mirrors' own
   * addresses, which fastpath has already), 'redirect' and 'ra'.
   */
  importProtocols?: (string | number)[];
}

export interface NormalizedLinuxConfig {
  /** The interfaces mirrored (names, ports and clones). */
  mirrors: string[];
  mirrorPrefix: string;
  importRoutes: boolean;
  importTable: number;
  /** rtm_protocol numbers, ascending; [] for the default (all but kernel, redirect, ra: importProtocolSet). */
  importProtocols: number[];
}

/** iproute2's /etc/iproute2/rt_protos names. */
export const ROUTE_PROTOCOLS: Readonly<Record<string, number>> = {
  redirect: 1, kernel: 2, boot: 3, static: 4, gated: 8, ra: 9, mrt: 10, zebra: 11, bird: 12, dnrouted: 13, xorp: 14, ntk: 15,
  dhcp: 16, mrouted: 17, keepalived: 18, babel: 42, openr: 99, bgp: 186, isis: 187, ospf: 188, rip: 189, eigrp: 192,
};

/** The protocols imported: those listed, or by default all but kernel, redirect and ra. */
export function importProtocolSet(cfg: NormalizedLinuxConfig): number[] {
  if (cfg.importProtocols.length > 0) return cfg.importProtocols;
  const all: number[] = [];
  for (let n = 0; n < 256; n++) if (!DEFAULT_EXCLUDED.includes(n)) all.push(n);
  return all;
}

/** The name routes.list() shows for an rtm_protocol number. */
export function routeProtocolName(n: number): string {
  for (const [name, v] of Object.entries(ROUTE_PROTOCOLS)) if (v === n) return name;
  return String(n);
}

const FIELDS = ['mirrors', 'mirrorPrefix', 'importRoutes', 'importTable', 'importProtocols'] as const;
const DEFAULT_EXCLUDED = [ROUTE_PROTOCOLS.redirect, ROUTE_PROTOCOLS.kernel, ROUTE_PROTOCOLS.ra];
const IFNAMSIZ = 16;

/** The `linux` section; `interfaces` are the names of every port and clone. */
export function normalizeLinux(value: unknown, interfaces: readonly string[]): NormalizedLinuxConfig {
  const path = 'linux';
  const o = expectObject(value === undefined ? {} : value, path, 'an object', FIELDS);
  const prefix = o.mirrorPrefix ?? 'fp-';
  if (typeof prefix !== 'string' || prefix.length > 12 || !/^[A-Za-z0-9_.-]*$/.test(prefix)) {
    fail(field(path, 'mirrorPrefix'), 'a name prefix of at most 12 letters, digits, _ . -', prefix);
  }
  let mirrors: string[];
  if (o.mirrors === undefined || o.mirrors === false) mirrors = [];
  else if (o.mirrors === true) mirrors = [...interfaces];
  else {
    const list = optArray(o, 'mirrors', path, 'true, false or a list of interface names');
    mirrors = list.map((name, i) => {
      if (typeof name !== 'string' || !interfaces.includes(name)) fail(item(field(path, 'mirrors'), i), `an interface name (${interfaces.join(', ')})`, name);
      return name;
    });
    if (new Set(mirrors).size !== mirrors.length) fail(field(path, 'mirrors'), 'each interface once', o.mirrors);
  }
  for (const name of mirrors) {
    if ((prefix + name).length >= IFNAMSIZ) {
      fail(field(path, 'mirrorPrefix'), `a prefix that keeps mirror names under ${IFNAMSIZ} characters ('${prefix}${name}' is too long)`, prefix);
    }
  }
  const importRoutes = optBool(o, 'importRoutes', path, false);
  const importTable = optInt(o, 'importTable', path, 1, 0xffffffff, 254);
  if (importTable === 255) fail(field(path, 'importTable'), 'a routing table other than 255 (local)', importTable);
  let importProtocols: number[] = [];
  if (o.importProtocols !== undefined) {
    const list = optArray(o, 'importProtocols', path, 'a list of route protocol names or numbers');
    importProtocols = list.map((p, i) => {
      if (typeof p === 'string' && ROUTE_PROTOCOLS[p] !== undefined) return ROUTE_PROTOCOLS[p];
      if (isInteger(p) && p >= 0 && p <= 255) return p;
      return fail(item(field(path, 'importProtocols'), i), `a protocol name (${Object.keys(ROUTE_PROTOCOLS).join(', ')}) or a number 0..255`, p);
    });
    importProtocols = [...new Set(importProtocols)].sort((a, b) => a - b);
  }
  return { mirrors, mirrorPrefix: prefix, importRoutes, importTable, importProtocols };
}

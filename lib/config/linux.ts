/**
 * The `linux` section: Linux mirror interfaces (a TAP per fastpath
 * interface, so that FRR, BIRD, sshd … run unchanged on the router's host)
 * and the import of routes from a Linux routing table over rtnetlink.
 * Off by default. docs/linux-integration.md is the design, docs/routing.md
 * the how-to.
 */
import { z } from 'zod';
import { fail, field, item } from './fields';
import { bool, int, list, oneOf, section, text } from './schema-kit';

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

const DEFAULT_EXCLUDED = [ROUTE_PROTOCOLS.redirect, ROUTE_PROTOCOLS.kernel, ROUTE_PROTOCOLS.ra];
const IFNAMSIZ = 16;

const PROTOCOL_WHAT = `a protocol name (${Object.keys(ROUTE_PROTOCOLS).join(', ')}) or a number 0..255`;

/** The `linux` section's fields (in RouterConfigSchema as `linux: LinuxSchema.prefault({})`). */
export const LinuxSchema = section(
  {
    mirrors: z
      .union([bool(), list(text('an interface name'), 'true, false or a list of interface names')], {
        error: () => 'true, false or a list of interface names',
      })
      .default(false)
      .describe('Mirror every interface (true), none (false) or those named: a TAP per interface, so FRR, BIRD, sshd run unchanged.'),
    mirrorPrefix: z
      .string({ error: () => 'a name prefix of at most 12 letters, digits, _ . -' })
      .regex(/^[A-Za-z0-9_.-]{0,12}$/, { error: () => 'a name prefix of at most 12 letters, digits, _ . -' })
      .default('fp-')
      .describe("A mirror's name: this prefix and the interface's name (Linux allows 15 characters)."),
    importRoutes: bool().default(false).describe('Import routes from a Linux routing table over rtnetlink.'),
    importTable: int(1, 0xffffffff).default(254).describe('The table imported: 254 (main) or any other but 255 (local).'),
    importProtocols: list(z.union([oneOf(Object.keys(ROUTE_PROTOCOLS) as [string, ...string[]], PROTOCOL_WHAT), int(0, 255, PROTOCOL_WHAT)], { error: () => PROTOCOL_WHAT }), 'a list of route protocol names or numbers')
      .prefault([])
      .describe("The protocols (rtm_protocol) whose routes are imported, by name or number. Empty: every protocol but kernel, redirect and ra."),
  },
  'an object',
).describe('Linux mirror interfaces and route import (docs/linux-integration.md).');

export type LinuxConfig = z.input<typeof LinuxSchema>;

/** What the schema cannot say: mirrors name configured interfaces, once each, and fit IFNAMSIZ; table 255 is refused. */
export function checkLinux(l: z.output<typeof LinuxSchema>, interfaces: readonly string[]): NormalizedLinuxConfig {
  const path = 'linux';
  let mirrors: string[] = [];
  if (l.mirrors === true) mirrors = [...interfaces];
  else if (l.mirrors !== false) {
    mirrors = l.mirrors.map((name, i) => {
      if (!interfaces.includes(name)) fail(item(field(path, 'mirrors'), i), `an interface name (${interfaces.join(', ')})`, name);
      return name;
    });
    if (new Set(mirrors).size !== mirrors.length) fail(field(path, 'mirrors'), 'each interface once', l.mirrors);
  }
  for (const name of mirrors) {
    if ((l.mirrorPrefix + name).length >= IFNAMSIZ) {
      fail(field(path, 'mirrorPrefix'), `a prefix that keeps mirror names under ${IFNAMSIZ} characters ('${l.mirrorPrefix}${name}' is too long)`, l.mirrorPrefix);
    }
  }
  if (l.importTable === 255) fail(field(path, 'importTable'), 'a routing table other than 255 (local)', l.importTable);
  const numbers = l.importProtocols.map((p) => (typeof p === 'string' ? ROUTE_PROTOCOLS[p] : p));
  return { mirrors, mirrorPrefix: l.mirrorPrefix, importRoutes: l.importRoutes, importTable: l.importTable, importProtocols: [...new Set(numbers)].sort((a, b) => a - b) };
}

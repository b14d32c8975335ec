/**
 * The control socket's methods: the Router API by name, with named
 * parameters (a JSON object). Each method calls the same Router function an
 * in-process program would, so validation and FastpathError codes are the
 * API's own; results are what the API returns (bigints become decimal
 * strings on the wire, lib/control/wire.ts).
 */
import { execFileSync } from 'child_process';

import { FastpathError } from '../errors';
import { packageVersion } from '../native';
import type { Router } from '../router';

/** The protocol's version: bumped when a method changes incompatibly. */
export const CONTROL_API_VERSION = 1;

export type Params = Record<string, unknown>;
export type Method = (router: Router, params: Params) => unknown;

/** Params as an object ({} when absent); positional arrays are not part of this API. */
export function paramsObject(method: string, params: unknown): Params {
  if (params === undefined || params === null) return {};
  if (typeof params !== 'object' || Array.isArray(params)) {
    throw new FastpathError('EINVAL', `${method}: params: expected an object of named parameters, got ${JSON.stringify(params)}`);
  }
  return params as Params;
}

/** A required string parameter (the API checks what it means). */
function str(p: Params, key: string, method: string): string {
  const v = p[key];
  if (typeof v !== 'string') throw new FastpathError('EINVAL', `${method}: ${key}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

let dpdkVersion: string | undefined;

/**
 * The DPDK the addon was built against. The addon has no rte_version()
 * binding (no native change for this), so libdpdk's pkg-config version,
 * which node-gyp compiled and linked against, is the answer.
 */
export function buildDpdkVersion(): string {
  if (dpdkVersion === undefined) {
    try {
      dpdkVersion = execFileSync('pkg-config', ['--modversion', 'libdpdk'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || 'unknown';
    } catch {
      dpdkVersion = 'unknown';
    }
  }
  return dpdkVersion;
}

export function helloResult(): { api: number; version: string; dpdk: string } {
  return { api: CONTROL_API_VERSION, version: packageVersion(), dpdk: buildDpdkVersion() };
}

/** Every method but the connection's own (events.subscribe/unsubscribe, in server.ts). */
export const METHODS: Readonly<Record<string, Method>> = {
  hello: () => helloResult(),

  'interfaces.list': (r) => r.interfaces.list(),
  'interfaces.get': (r, p) => r.interfaces.get(str(p, 'name', 'interfaces.get')),
  'interfaces.cloners': (r) => r.interfaces.cloners(),
  'interfaces.setUp': (r, p) => r.interfaces.setUp(str(p, 'name', 'interfaces.setUp')),
  'interfaces.setDown': (r, p) => r.interfaces.setDown(str(p, 'name', 'interfaces.setDown')),
  'interfaces.setMtu': (r, p) => r.interfaces.setMtu(str(p, 'name', 'interfaces.setMtu'), p.mtu as number),
  'interfaces.setPromiscuous': (r, p) => r.interfaces.setPromiscuous(str(p, 'name', 'interfaces.setPromiscuous'), p.on as boolean),
  'interfaces.setAllMulticast': (r, p) => r.interfaces.setAllMulticast(str(p, 'name', 'interfaces.setAllMulticast'), p.on as boolean),
  'interfaces.clone': (r, p) => {
    const { cloner, ...options } = p;
    return r.interfaces.clone(cloner as string, options);
  },
  'interfaces.destroy': (r, p) => r.interfaces.destroy(str(p, 'name', 'interfaces.destroy')),
  'interfaces.join': (r, p) => r.interfaces.joinGroup(str(p, 'name', 'interfaces.join'), str(p, 'group', 'interfaces.join')),
  'interfaces.leave': (r, p) => r.interfaces.leaveGroup(str(p, 'name', 'interfaces.leave'), str(p, 'group', 'interfaces.leave')),
  'interfaces.groups': (r, p) => r.interfaces.groups(str(p, 'name', 'interfaces.groups')),

  // No params: the whole table; any of within/limit/cursor: one page (docs/api.md).
  'routes.list': (r, p) => (Object.keys(p).length === 0 ? r.routes.list() : r.routes.list(p)),
  'routes.add': (r, p) => {
    const { prefix, ...options } = p;
    r.routes.add(prefix as string, options as { via?: string; dev: string });
  },
  'routes.replace': (r, p) => {
    const { prefix, ...options } = p;
    r.routes.replace(prefix as string, options as { via?: string; dev: string });
  },
  'routes.delete': (r, p) => r.routes.delete(str(p, 'prefix', 'routes.delete')),
  'routes.addMany': (r, p) => r.routes.addMany(p.routes as { prefix: string; via?: string; dev: string }[]),
  'routes.deleteMany': (r, p) => r.routes.deleteMany(p.prefixes as string[]),
  'routes.count': (r) => r.routes.count(),
  'routes.lookup': (r, p) => r.routes.lookup(str(p, 'address', 'routes.lookup')) ?? null,

  'neighbours.list': (r) => r.neighbours.list(),
  'neighbours.count': (r) => r.neighbours.count(),
  'neighbours.add': (r, p) => r.neighbours.add(p as { address: string; mac: string; dev: string }),
  'neighbours.delete': (r, p) => r.neighbours.delete(p as { address: string; dev: string }),
  'neighbours.flush': (r, p) => ({ flushed: r.neighbours.flush(p as { dev?: string }) }),

  'flowCache.list': (r) => r.flowCache.list(),
  'flowCache.count': (r) => r.flowCache.count(),
  'flowCache.flush': (r) => r.flowCache.flush(),

  stats: (r) => r.stats(),
  'counters.describe': (r) => r.counterDescriptions(),
  'flowLabels.list': (r) => r.flowLabels.list(),
  'siftr.status': (r) => r.siftr.status(),
  'linux.status': (r) => r.linux.status(),
};

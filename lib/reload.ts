/**
 * Live reconfiguration (`fastpath config reload`, SIGHUP): the difference
 * between the running config and an edited one, applied to the running
 * router for what can change while it forwards — static routes, static
 * neighbours, cloned interfaces, the flow cache's size, SIFTR. What needs a
 * restart (EAL, ports, memory and table sizes, timers fixed at start) is
 * refused, each field named, and nothing is applied.
 *
 * planReload is pure (unit-tested); applyReload runs the plan step by step
 * and returns the config that is now in effect, so that a step refused
 * half-way (a route the FIB will not take, say) leaves an exact record of
 * what was applied for the next reload to diff against.
 */
import type { NormalizedRouterConfig } from './config';
import type { NeighbourConfig, RouteConfig } from './config-types';
import { FastpathError } from './errors';
import type { Router } from './router';

type Clone = NormalizedRouterConfig['clones'][number];

export interface ReloadPlan {
  /** Dotted paths whose change needs a restart; non-empty: refuse. */
  restart: string[];
  routesToDelete: RouteConfig[];
  neighboursToDelete: NeighbourConfig[];
  clonesToDestroy: Clone[];
  clonesToCreate: Clone[];
  neighboursToAdd: NeighbourConfig[];
  routesToAdd: RouteConfig[];
  flowCache?: { maxflows: number; hashsize: number };
  flowCacheMode?: 'cache' | 'auto';
  siftr?: 'enable' | 'disable' | 'configure' | 'restart';
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Sections fixed when the router starts (their fields, for the message). */
const RESTART_SECTIONS = ['eal', 'ports', 'mempool', 'neighbourDiscovery', 'icmpErrors', 'routing', 'flowLabels', 'control', 'linux'] as const;

/** The changed leaves of two values, as dotted paths (arrays by index). */
function changedPaths(a: unknown, b: unknown, at: string, out: string[]): void {
  if (same(a, b)) return;
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const k of keys) changedPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], Array.isArray(a) ? `${at}[${k}]` : `${at}.${k}`, out);
    return;
  }
  out.push(at);
}

export function planReload(running: NormalizedRouterConfig, next: NormalizedRouterConfig): ReloadPlan {
  const restart: string[] = [];
  for (const section of RESTART_SECTIONS) changedPaths(running[section], next[section], section, restart);
  if (running.flowCache.idleTimeoutMs !== next.flowCache.idleTimeoutMs) restart.push('flowCache.idleTimeoutMs');
  if (running.flowCache.floodAdmission !== next.flowCache.floodAdmission) restart.push('flowCache.floodAdmission');

  // Clones by name: a changed one is destroyed and made again, and then
  // the routes and neighbours on it go back in (its destroy removed them).
  const runningClones = new Map(running.clones.map((c) => [c.name, c]));
  const nextClones = new Map(next.clones.map((c) => [c.name, c]));
  const clonesToDestroy = running.clones.filter((c) => !same(nextClones.get(c.name), c));
  const clonesToCreate = next.clones.filter((c) => !same(runningClones.get(c.name), c));
  const remade = new Set(clonesToDestroy.map((c) => c.name));
  const onRemade = (devs: (string | undefined)[]): boolean => devs.some((d) => d !== undefined && remade.has(d));
  const routeDevs = (r: RouteConfig): (string | undefined)[] => (r.nexthops ? r.nexthops.map((h) => h.dev) : [r.dev]);

  const runningRoutes = new Map(running.routes.map((r) => [r.prefix, r]));
  const nextRoutes = new Map(next.routes.map((r) => [r.prefix, r]));
  // Deleted: only prefixes that go away (a changed route is replaced in
  // place by the add step); one on a clone being destroyed goes with it.
  const routesToDelete = running.routes.filter((r) => !nextRoutes.has(r.prefix) && !onRemade(routeDevs(r)));
  const routesToAdd = next.routes.filter((r) => !same(runningRoutes.get(r.prefix), r) || onRemade(routeDevs(r)));

  const nKey = (n: NeighbourConfig): string => `${n.address}%${n.dev}`;
  const runningNeigh = new Map(running.neighbours.map((n) => [nKey(n), n]));
  const nextNeigh = new Map(next.neighbours.map((n) => [nKey(n), n]));
  const neighboursToDelete = running.neighbours.filter((n) => !nextNeigh.has(nKey(n)) && !remade.has(n.dev));
  const neighboursToAdd = next.neighbours.filter((n) => !same(runningNeigh.get(nKey(n)), n) || remade.has(n.dev));

  const plan: ReloadPlan = { restart, routesToDelete, neighboursToDelete, clonesToDestroy, clonesToCreate, neighboursToAdd, routesToAdd };
  if (running.flowCache.maxflows !== next.flowCache.maxflows || running.flowCache.hashsize !== next.flowCache.hashsize) {
    plan.flowCache = { maxflows: next.flowCache.maxflows, hashsize: next.flowCache.hashsize };
  }
  if (running.flowCache.mode !== next.flowCache.mode) plan.flowCacheMode = next.flowCache.mode;
  const rs = running.siftr;
  const ns = next.siftr;
  if (!same(rs, ns)) {
    if (!rs.enabled && ns.enabled) plan.siftr = 'enable';
    else if (rs.enabled && !ns.enabled) plan.siftr = 'disable';
    else if (rs.enabled && ns.enabled) {
      const live = (s: typeof rs): unknown => ({ ...s, logfile: '', ppl: 0, portFilter: 0 });
      plan.siftr = same(live(rs), live(ns)) ? 'configure' : 'restart';
    }
  }
  return plan;
}

/** What a plan changes, one line per change (for logs and the CLI). */
export function describePlan(p: ReloadPlan): string[] {
  return [
    ...p.routesToDelete.map((r) => `route del ${r.prefix}`),
    ...p.neighboursToDelete.map((n) => `neighbour del ${n.address} dev ${n.dev}`),
    ...p.clonesToDestroy.map((c) => `interface destroy ${c.name}`),
    ...p.clonesToCreate.map((c) => `interface clone ${c.cloner} ${c.name}`),
    ...p.neighboursToAdd.map((n) => `neighbour add ${n.address} lladdr ${n.mac} dev ${n.dev}`),
    ...p.routesToAdd.map((r) => `route add ${r.prefix}`),
    ...(p.flowCache ? [`flowCache maxflows ${p.flowCache.maxflows} hashsize ${p.flowCache.hashsize}`] : []),
    ...(p.flowCacheMode ? [`flowCache mode ${p.flowCacheMode}`] : []),
    ...(p.siftr ? [`siftr ${p.siftr}`] : []),
  ];
}

/**
 * Apply next's difference from running. Refuses (EINVAL naming each field,
 * nothing applied) when a restart is needed. Otherwise applies step by step;
 * on a refused step throws an error naming it, with `.applied` the config
 * now in effect. Returns the config now in effect (next) and the changes made.
 */
export async function applyReload(
  router: Router,
  running: NormalizedRouterConfig,
  next: NormalizedRouterConfig,
): Promise<{ config: NormalizedRouterConfig; changes: string[] }> {
  const plan = planReload(running, next);
  if (plan.restart.length > 0) {
    throw new FastpathError('EINVAL', `config reload: these need a restart, nothing was changed: ${plan.restart.join(', ')}`, plan.restart[0]);
  }
  // The running config as it becomes, step by step.
  const now: NormalizedRouterConfig = JSON.parse(JSON.stringify(running)) as NormalizedRouterConfig;
  const changes: string[] = [];
  const step = async (what: string, fn: () => unknown, record: () => void): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      const err = e instanceof FastpathError ? e : new FastpathError('EIO', String(e));
      const wrapped = new FastpathError(err.code, `config reload: ${what}: ${err.message}`, err.path) as FastpathError & { applied?: NormalizedRouterConfig; changes?: string[] };
      wrapped.applied = now;
      wrapped.changes = changes;
      throw wrapped;
    }
    record();
    changes.push(what);
  };
  const without = <T>(list: T[], item: T): T[] => list.filter((x) => !same(x, item));

  for (const r of plan.routesToDelete) await step(`route del ${r.prefix}`, () => router.routes.delete(r.prefix), () => (now.routes = now.routes.filter((x) => x.prefix !== r.prefix)));
  for (const n of plan.neighboursToDelete) {
    await step(`neighbour del ${n.address} dev ${n.dev}`, () => router.neighbours.delete({ address: n.address, dev: n.dev }), () => (now.neighbours = without(now.neighbours, n)));
  }
  for (const c of plan.clonesToDestroy) {
    await step(`interface destroy ${c.name}`, () => router.interfaces.destroy(c.name), () => {
      now.clones = now.clones.filter((x) => x.name !== c.name);
      // Its routes and neighbours went with it.
      now.routes = now.routes.filter((r) => !(r.nexthops ? r.nexthops.map((h) => h.dev) : [r.dev]).includes(c.name));
      now.neighbours = now.neighbours.filter((n) => n.dev !== c.name);
    });
  }
  for (const c of plan.clonesToCreate) {
    await step(
      `interface clone ${c.cloner} ${c.name}`,
      () => router.interfaces.clone(c.cloner, { name: c.name, addresses: c.addresses, ...(c.cloner === 'vlan' ? { parent: c.parent, vlan: c.vlan } : {}) }),
      () => now.clones.push(c),
    );
  }
  for (const n of plan.neighboursToAdd) {
    await step(`neighbour add ${n.address} dev ${n.dev}`, () => router.neighbours.add(n), () => {
      now.neighbours = now.neighbours.filter((x) => !(x.address === n.address && x.dev === n.dev));
      now.neighbours.push(n);
    });
  }
  for (const r of plan.routesToAdd) {
    await step(
      `route add ${r.prefix}`,
      () => {
        // A route already there under another definition: replaced in place when it can be.
        const exists = now.routes.some((x) => x.prefix === r.prefix);
        if (exists && r.nexthops === undefined && !now.routes.find((x) => x.prefix === r.prefix)!.nexthops) {
          return router.routes.replace(r.prefix, { ...(r.via !== undefined ? { via: r.via } : {}), dev: r.dev as string });
        }
        if (exists) router.routes.delete(r.prefix);
        return r.nexthops !== undefined ? router.routes.add(r.prefix, { nexthops: r.nexthops }) : router.routes.add(r.prefix, { ...(r.via !== undefined ? { via: r.via } : {}), dev: r.dev as string });
      },
      () => {
        now.routes = now.routes.filter((x) => x.prefix !== r.prefix);
        now.routes.push(r);
      },
    );
  }
  if (plan.flowCache) {
    const fc = plan.flowCache;
    await step(`flowCache maxflows ${fc.maxflows} hashsize ${fc.hashsize}`, () => router.flowCache.configure(fc), () => (now.flowCache = { ...now.flowCache, ...fc }));
  }
  if (plan.flowCacheMode) {
    const mode = plan.flowCacheMode;
    await step(`flowCache mode ${mode}`, () => router.flowCache.configure({ mode }), () => (now.flowCache = { ...now.flowCache, mode }));
  }
  if (plan.siftr) {
    const { enabled: _e, ...options } = next.siftr;
    const kind = plan.siftr;
    await step(
      `siftr ${kind}`,
      async () => {
        if (kind === 'disable' || kind === 'restart') await router.siftr.disable();
        if (kind === 'enable' || kind === 'restart') await router.siftr.enable(options);
        if (kind === 'configure') await router.siftr.configure({ logfile: options.logfile, ppl: options.ppl, portFilter: options.portFilter });
      },
      () => (now.siftr = { ...next.siftr }),
    );
  }
  return { config: next, changes };
}

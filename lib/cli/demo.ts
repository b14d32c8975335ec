/**
 * The demo: namespace hosts wired by veth pairs to af_packet router ports,
 * static neighbours on both sides, a router started from the config. Used by
 * `npm start` (fastpath demo) and by the integration tests.
 */
import { classifyDevice, loadConfig, NormalizedRouterConfig } from '../config';
import { FastpathError } from '../errors';
import { Router, StartOptions } from '../router';
import { requireRoot, requireTools, Topology, TopologyHost } from '../topology';

export interface DemoOptions extends StartOptions {
  /** Unique namespace/veth names per process (tests). Default false. */
  unique?: boolean;
  /** Overrides merged into the loaded config (eal, flowCache...). */
  override?: (cfg: NormalizedRouterConfig) => NormalizedRouterConfig;
}

export interface Demo {
  router: Router;
  topology: Topology;
  config: NormalizedRouterConfig;
  host(name: string): TopologyHost;
  /** Stop the router and remove namespaces and veths (idempotent). */
  close(): Promise<void>;
}

/** Build the topology and start the router on it. Cleans up on failure. */
export async function startDemo(source: string, opts: DemoOptions = {}): Promise<Demo> {
  requireRoot('the demo (network namespaces and af_packet)');
  requireTools(['ip', 'sysctl', 'ethtool']);
  let cfg = loadConfig(source, opts);
  if (opts.override) cfg = opts.override(cfg);
  if (!cfg.topology) throw new FastpathError('EINVAL', `${source}: the demo needs a topology section`, 'topology');

  const routerMacs: Record<string, string> = {};
  for (const p of cfg.ports) if (p.mac !== undefined) routerMacs[p.name] = p.mac;
  const topology = await Topology.create({ ...cfg.topology, unique: opts.unique ?? false, routerMacs, ...(opts.log ? { log: opts.log } : {}) });
  let router: Router | undefined;
  try {
    // Point each af_packet port at the veth the topology actually made.
    const ports = cfg.ports.map((p, i) => {
      const host = topology.hostForPort(p.name);
      const dev = classifyDevice(p.device);
      if (host === undefined || dev.driver !== 'net_af_packet') return p;
      return { ...p, device: host.afPacketDevice(i) };
    });
    cfg = { ...cfg, ports };
    router = await Router.start(cfg, opts);
    // Duplicate address detection: the router answers on its addresses
    // once they are preferred (about 1-2 s).
    await router.addressesSettled();
    // And the first MLD reports of its groups are out (none pending).
    for (let i = 0; i < 60; i++) {
      const pending = router.interfaces.list().some((itf) => itf.kind !== 'loop' && router!.interfaces.groups(itf.name).groups.some((g) => g.timerMs > 0));
      if (!pending) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // Static neighbours: the router learns each host's MAC (ND arrives with
    // the control-plane work); hosts already know the router's (routerMacs).
    for (const host of topology.hosts) {
      router.neighbours.add({ address: host.address, mac: await host.mac(), dev: host.port });
    }
  } catch (e) {
    await router?.stop().catch(() => undefined);
    await topology.destroy().catch(() => undefined);
    throw e;
  }
  const started = router;
  let closed = false;
  return {
    router: started,
    topology,
    config: cfg,
    host: (name) => topology.host(name),
    async close() {
      if (closed) return;
      closed = true;
      try {
        await started.stop();
      } finally {
        await topology.destroy();
      }
    },
  };
}

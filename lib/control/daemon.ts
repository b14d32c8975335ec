/** What a running router serves besides forwarding: the control socket and, if configured, /metrics. */
import type { NormalizedControlConfig } from '../config-types';
import { parseListenAddress } from '../config';
import { packageVersion } from '../native';
import type { Router } from '../router';
import { buildDpdkVersion } from './methods';
import { MetricsServer, MetricsSnapshot } from './metrics';
import { ControlServer } from './server';

export interface ControlServices {
  control: ControlServer;
  metrics?: MetricsServer;
  close(): Promise<void>;
}

/** Read once per scrape: the counters from one stats() snapshot, the rest from the tables now. */
export function metricsSnapshot(router: Router, control?: ControlServer): MetricsSnapshot {
  return {
    stats: router.stats(),
    counterNames: router.counterDescriptions(),
    interfaces: router.interfaces.list(),
    neighbourStates: router.neighbours.list().map((n) => n.state),
    flowCacheMax: router.flowCache.config.maxflows,
    build: { version: packageVersion(), dpdk: buildDpdkVersion() },
    ...(control !== undefined ? { api: control.counters } : {}),
  };
}

/** Serve `router` as `control` says; closes what it opened if a later part fails. */
export async function serveControl(router: Router, control: NormalizedControlConfig): Promise<ControlServices> {
  const server = await ControlServer.listen(router, { socket: control.socket, ...(control.socketGroup !== undefined ? { socketGroup: control.socketGroup } : {}) });
  let metrics: MetricsServer | undefined;
  try {
    if (control.metrics !== undefined) {
      const { host, port } = parseListenAddress(control.metrics, 'control.metrics');
      metrics = await MetricsServer.listen(host, port, () => metricsSnapshot(router, server));
    }
  } catch (e) {
    await server.close();
    throw e;
  }
  return {
    control: server,
    ...(metrics !== undefined ? { metrics } : {}),
    async close() {
      await Promise.all([server.close(), metrics?.close()]);
    },
  };
}

/**
 * The router config bench:pktgen gives `fastpath start`: the bare-metal one
 * (dpdk-config/baremetal.yaml, parsed) with only what the machine decides
 * changed: the two ports' devices, one worker on one CPU, the EAL memory and
 * file prefix, and a control socket of the run's own. Routes, neighbours,
 * MACs, flow cache and mempool stay as on bare metal.
 */
export interface PktgenRouterOptions {
  /** Port p0's and p1's device strings (net_vhost…, net_af_packet…). */
  devices: readonly [string, string];
  workerCpu: number;
  hugepages: boolean;
  memoryMb: number;
  filePrefix: string;
  controlSocket: string;
}

type ConfigObject = Record<string, unknown> & { eal?: Record<string, unknown>; ports?: Record<string, unknown>[]; control?: Record<string, unknown> };

export function pktgenRouterConfig(baremetal: unknown, o: PktgenRouterOptions): ConfigObject {
  const cfg = structuredClone(baremetal) as ConfigObject;
  if (!Array.isArray(cfg.ports) || cfg.ports.length !== 2) {
    throw new Error(`the bare-metal config must have 2 ports (p0 towards Pktgen port 0, p1 towards port 1), found ${Array.isArray(cfg.ports) ? cfg.ports.length : 'none'}`);
  }
  cfg.eal = { ...cfg.eal, workers: 1, workerCpus: [o.workerCpu], hugepages: o.hugepages, memoryMb: o.memoryMb, filePrefix: o.filePrefix };
  cfg.ports = cfg.ports.map((p, i) => ({ ...p, device: o.devices[i] }));
  cfg.control = { ...cfg.control, socket: o.controlSocket };
  return cfg;
}

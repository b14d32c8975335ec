/**
 * Router configuration: validation with defaults (normalizeConfig), the YAML
 * loader (loadConfig) and the EAL argv derived from a config (ealArgs).
 *
 * Every validation error is FastpathError('EINVAL') whose `path` is the field
 * ('ports[1].mtu') and whose message reads `<path>: expected <what>, got <value>`.
 * EAL can be initialised once per process and a failed init cannot be retried,
 * so everything EAL would reject is caught here first.
 */

import type { NormalizedConfig, RouterConfig } from './config-types';
import { FastpathError } from './errors';
import { allowedCpus, CpuOptions } from './config/cpus';
import { normalizeEal } from './config/eal';
import { expectObject } from './config/fields';
import { normalizeClones, NormalizedPort, normalizePorts } from './config/ports';
import { normalizeNeighbours, normalizeRoutes } from './config/routes';
import { normalizeFlowCache, normalizeIcmpErrors, normalizeMempool, normalizeNeighbourDiscovery, normalizeFlowLabels, normalizeRouting } from './config/sizing';
import { normalizeSiftr } from './config/siftr';
import { normalizeControl } from './config/control';
import { normalizeLinux } from './config/linux';
import { NormalizedTopology, normalizeTopology } from './config/topology';
import { readYaml, yamlLocation } from './config/yaml';

// The sections and helpers live in lib/config/, one file per concern:
//   fields.ts    error shape, field readers, address-typed fields
//   devices.ts   PCI addresses and vdev strings (classifyDevice)
//   cpus.ts      CPU lists and the allowed CPU set
//   eal.ts       the eal section
//   ports.ts     ports[] and clones[]
//   routes.ts    routes[] and neighbours[]
//   sizing.ts    flowCache, neighbourDiscovery, routing, icmpErrors, mempool, flowLabels
//   siftr.ts     siftr (also router.siftr.enable()'s options)
//   control.ts   control (the control socket and the metrics endpoint)
//   linux.ts     linux (mirror interfaces, route import)
//   topology.ts  the topology section
//   yaml.ts      YAML files and error locations
//   eal-args.ts  the EAL argv (ealArgs) and hugepage detection
export type { NormalizedPort } from './config/ports';
export type { NormalizedTopology } from './config/topology';
export type { CpuOptions } from './config/cpus';
export { allowedCpus, formatCpuList, parseCpuList } from './config/cpus';
export { DEFAULT_CONTROL_SOCKET, parseListenAddress } from './config/control';
export type { DeviceInfo } from './config/devices';
export { classifyDevice, KNOWN_VDEV_DRIVERS } from './config/devices';
export type { EalArgsOptions, HugepageInfo } from './config/eal-args';
export { detectHugepages, ealArgs, hugepagesFromProc, usesHugepages } from './config/eal-args';

// ───────────────────────────── types ─────────────────────────────

/**
 * What normalizeConfig returns: config-types' NormalizedConfig with a plain
 * port array type (the base type's `A[] & B[]` is awkward to build and map)
 * and the topology prefix filled in. Assignable to NormalizedConfig.
 */
export interface NormalizedRouterConfig extends NormalizedConfig {
  ports: NormalizedPort[];
  topology?: NormalizedTopology;
}

export type NormalizeOptions = CpuOptions;

// ──────────────────────────── constants ───────────────────────────

const ROOT_FIELDS = ['eal', 'ports', 'routes', 'neighbours', 'clones', 'flowCache', 'mempool', 'neighbourDiscovery', 'icmpErrors', 'routing', 'flowLabels', 'siftr', 'control', 'linux', 'topology'] as const;

// ─────────────────────────── entry points ─────────────────────────

/**
 * Validate a router config (from YAML or an object) and fill in every
 * default. Throws FastpathError('EINVAL') naming the first bad field.
 */
export function normalizeConfig(input: unknown, opts: NormalizeOptions = {}): NormalizedRouterConfig {
  const root = expectObject(input, '', 'a router config object', ROOT_FIELDS);
  const allowed = [...(opts.allowedCpus ?? allowedCpus())].sort((a, b) => a - b);
  const eal = normalizeEal(root.eal, allowed);
  const ports = normalizePorts(root);
  const clones = normalizeClones(root, ports);
  const devs = [...ports.map((p) => p.name), ...clones.map((c) => c.name)];
  const config: NormalizedRouterConfig = {
    eal,
    ports,
    clones,
    routes: normalizeRoutes(root, devs),
    neighbours: normalizeNeighbours(root, devs),
    flowCache: normalizeFlowCache(root.flowCache),
    mempool: normalizeMempool(root.mempool),
    neighbourDiscovery: normalizeNeighbourDiscovery(root.neighbourDiscovery),
    icmpErrors: normalizeIcmpErrors(root.icmpErrors),
    routing: normalizeRouting(root.routing),
    flowLabels: normalizeFlowLabels(root.flowLabels),
    siftr: normalizeSiftr(root.siftr),
    control: normalizeControl(root.control),
    linux: normalizeLinux(root.linux, devs),
  };
  if (root.topology !== undefined) config.topology = normalizeTopology(root.topology, ports);
  return config;
}

/**
 * Load a config: a string is the path of a YAML file, an object is a config
 * as-is. Validation errors keep their code and path and gain 'file:line:col'.
 */
export function loadConfig(source: string | RouterConfig, opts: NormalizeOptions = {}): NormalizedRouterConfig {
  if (typeof source !== 'string') return normalizeConfig(source, opts);
  const { doc, lines } = readYaml(source);
  try {
    return normalizeConfig(doc.toJS(), opts);
  } catch (err) {
    if (!(err instanceof FastpathError)) throw err;
    const at = yamlLocation(source, doc, lines, err.path ?? '');
    throw new FastpathError(err.code, `${at}: ${err.message}`, err.path);
  }
}

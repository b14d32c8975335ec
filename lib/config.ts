/**
 * Router configuration: validation with defaults (normalizeConfig), the YAML
 * loader (loadConfig) and the EAL argv derived from a config (ealArgs).
 *
 * Every validation error is FastpathError('EINVAL') whose `path` is the field
 * ('ports[1].mtu') and whose message reads `<path>: expected <what>, got <value>`.
 * EAL can be initialised once per process and a failed init cannot be retried,
 * so everything EAL would reject is caught here first.
 */

import type { RouterConfig } from './config-types';
import { FastpathError } from './errors';
import { allowedCpus, CpuOptions, formatCpuList } from './config/cpus';
import { checkConfig, type NormalizedRouterConfig } from './config/checks';
import { RouterConfigSchema } from './config/schema';
import { parseWith } from './config/schema-kit';
import { readYaml, yamlLocation } from './config/yaml';

// The schema and its helpers live in lib/config/:
//   schema.ts      the one schema: every section's fields, bounds, static defaults, descriptions;
//                  the config types (config-types.ts) and the JSON Schema come from it
//   schema-kit.ts  its building blocks, and a schema failure as FastpathError
//   checks.ts      what a schema cannot express, run after it: addresses, devices,
//                  references between sections, duplicates, CPUs, dependent bounds and defaults
//   fields.ts      the error shape and the address-typed field parsers
//   devices.ts     PCI addresses and vdev strings (classifyDevice)
//   cpus.ts        CPU lists and the allowed CPU set
//   siftr.ts       router.siftr.enable()'s options (the section's fields)
//   control.ts     the control section alone
//   yaml.ts        YAML files and error locations
//   eal-args.ts    the EAL argv (ealArgs) and hugepage detection
export type { NormalizedPort, NormalizedRouterConfig, NormalizedTopology } from './config/checks';
export type { CpuOptions } from './config/cpus';
export { allowedCpus, formatCpuList, parseCpuList } from './config/cpus';
export { DEFAULT_CONTROL_SOCKET, parseListenAddress } from './config/control';
export type { DeviceInfo } from './config/devices';
export { classifyDevice, KNOWN_VDEV_DRIVERS } from './config/devices';
export type { EalArgsOptions, HugepageInfo } from './config/eal-args';
export { detectHugepages, ealArgs, hugepagesFromProc, usesHugepages } from './config/eal-args';
export { configJsonSchema } from './config/schema';

export type NormalizeOptions = CpuOptions;

// ─────────────────────────── entry points ─────────────────────────

/**
 * Validate a router config (from YAML or an object) and fill in every
 * default: the schema pass, then the checks it cannot express. Throws
 * FastpathError('EINVAL') naming the first bad field.
 */
export function normalizeConfig(input: unknown, opts: NormalizeOptions = {}): NormalizedRouterConfig {
  const allowed = [...(opts.allowedCpus ?? allowedCpus())].sort((a, b) => a - b);
  const parsed = parseWith(RouterConfigSchema, input, '', (keys) =>
    keys.length === 3 && keys[0] === 'eal' && keys[1] === 'workerCpus' ? `a CPU id this process may run on (${formatCpuList(allowed)})` : undefined,
  );
  return checkConfig(parsed, allowed, input);
}

/**
 * Load a config: a string is the path of a YAML file, an object is a config
 * as-is. Validation errors keep their code and path and gain 'file:line:col'.
 */
export function loadConfig(source: string | RouterConfig, opts: NormalizeOptions = {}): NormalizedRouterConfig {
  if (typeof source !== 'string') return normalizeConfig(source, opts);
  const { doc, lines, value } = readYaml(source);
  try {
    return normalizeConfig(value, opts);
  } catch (err) {
    if (!(err instanceof FastpathError)) throw err;
    const at = yamlLocation(source, doc, lines, err.path ?? '');
    throw new FastpathError(err.code, `${at}: ${err.message}`, err.path);
  }
}

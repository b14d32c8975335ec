/**
 * The `siftr` section and the options of router.siftr.enable(): one
 * normalizer for both, so the YAML and the API accept exactly the same
 * fields with the same limits (docs/siftr.md).
 */
import type { SiftrConfig } from '../config-types';
import { FastpathError } from '../errors';
import { expectObject, fail, field, optBool, optInt, optPowerOfTwo } from './fields';

/** The seed's SIFTR_EXPECTED_MAX_TCP_FLOWS: connections per worker. */
export const SIFTR_DEFAULT_CONNECTIONS = 65536;

const OPTION_FIELDS = [
  'logfile', 'ppl', 'portFilter', 'cwndFilter', 'local', 'pickupMidstream', 'maxConnections', 'ringSize', 'maxFlows',
  'idleTimeoutMs', 'closeGraceMs',
] as const;
const CONFIG_FIELDS = ['enabled', ...OPTION_FIELDS] as const;

/** enable()'s options with every default filled in. */
export type SiftrOptions = Required<Omit<SiftrConfig, 'enabled' | 'cwndFilter'>>;

function options(o: Record<string, unknown>, path: string, logfileRequired: boolean): SiftrOptions {
  const logfile = o.logfile;
  if ((logfile === undefined || logfile === '') && !logfileRequired) {
    // Disabled in the config: the rest is still checked, the path is not
    // needed ('' is what a normalized config carries then).
  } else if (typeof logfile !== 'string' || logfile === '' || logfile.length >= 4096 || logfile.includes('\0')) {
    fail(field(path, 'logfile'), 'a file path', logfile);
  }
  // A router does not see the hosts' congestion windows: the seed's
  // cwnd_filter ("log only when cwnd changed") has nothing to compare.
  if (o.cwndFilter !== undefined && o.cwndFilter !== false) {
    throw new FastpathError(
      'ENOTSUP',
      `${field(path, 'cwndFilter')}: a router cannot observe the hosts' congestion window, so it cannot filter on its changes (only false is accepted)`,
      field(path, 'cwndFilter'),
    );
  }
  const local = o.local ?? 'initiator';
  if (local !== 'initiator' && local !== 'responder') fail(field(path, 'local'), "'initiator' or 'responder'", local);
  return {
    logfile: (logfile as string | undefined) ?? '',
    ppl: optInt(o, 'ppl', path, 1, 0xffffffff, 1),
    portFilter: optInt(o, 'portFilter', path, 0, 65535, 0),
    local,
    pickupMidstream: optBool(o, 'pickupMidstream', path, false),
    maxConnections: optInt(o, 'maxConnections', path, 1, 4194304, SIFTR_DEFAULT_CONNECTIONS),
    ringSize: optPowerOfTwo(o, 'ringSize', path, 64, 1048576, 8192),
    maxFlows: optInt(o, 'maxFlows', path, 1, 16777216, 65536),
    idleTimeoutMs: optInt(o, 'idleTimeoutMs', path, 1000, 86400000, 300000),
    closeGraceMs: optInt(o, 'closeGraceMs', path, 0, 3600000, 30000),
  };
}

/** router.siftr.enable(options): `logfile` is required. */
export function normalizeSiftrOptions(value: unknown, path = 'siftr.enable'): SiftrOptions {
  return options(expectObject(value, path, 'an options object', OPTION_FIELDS), path, true);
}

/** The config's `siftr` section (off by default; `logfile` required when enabled). */
export function normalizeSiftr(value: unknown): Required<Pick<SiftrConfig, 'enabled'>> & SiftrOptions {
  const o = expectObject(value === undefined ? {} : value, 'siftr', 'an object', CONFIG_FIELDS);
  const enabled = optBool(o, 'enabled', 'siftr', false);
  return { enabled, ...options(o, 'siftr', enabled) };
}

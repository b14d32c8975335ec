/**
 * The `control` section: where the running router serves its control socket
 * (JSON-RPC, lib/control/server.ts) and, when asked, Prometheus metrics.
 * Its fields are ControlSchema's (schema.ts), its checks checkControl's.
 */
import type { NormalizedControlConfig } from '../config-types';
import { checkControl } from './checks';
import { ControlSchema } from './schema';
import { parseWith } from './schema-kit';

export { DEFAULT_CONTROL_SOCKET } from './schema';
export { parseListenAddress } from './checks';

/** The `control` section alone (absent: every default). */
export function normalizeControl(value: unknown): NormalizedControlConfig {
  return checkControl(parseWith(ControlSchema.prefault({}), value, 'control'));
}

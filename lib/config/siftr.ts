/**
 * The options of router.siftr.enable() and configure(): the config's `siftr`
 * section without `enabled` (SiftrOptionsSchema in schema.ts, the same
 * fields with the same limits), checked by checkSiftr like the section.
 */
import { checkSiftr, type SiftrOptions } from './checks';
import { SiftrOptionsSchema } from './schema';
import { parseWith } from './schema-kit';

export type { SiftrOptions } from './checks';

/** router.siftr.enable(options): `logfile` is required. */
export function normalizeSiftrOptions(value: unknown, path = 'siftr.enable'): SiftrOptions {
  return checkSiftr(parseWith(SiftrOptionsSchema, value, path), path, true);
}

/** The CPU set: Linux CPU lists, and the CPUs this process may run on. */
import * as fs from 'fs';
import * as os from 'os';
import { FastpathError } from '../errors';
import { describe } from './fields';

/** Where the allowed CPU set comes from; tests inject a fake one. */
export interface CpuOptions {
  /** CPU ids this process may run on. Default: allowedCpus(). */
  allowedCpus?: readonly number[];
}

// ───────────────────────────── CPU set ────────────────────────────

/** Parse a Linux CPU list ('0-3,8,10-11') into sorted distinct ids. */
export function parseCpuList(text: string): number[] {
  const cpus = new Set<number>();
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new FastpathError('EINVAL', `invalid CPU list ${describe(text)}`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    for (let cpu = first; cpu <= last; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** Format CPU ids as a compact list ('0-3,8'), the form EAL's --lcores sets take. */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(',');
}

let processCpus: number[] | undefined;

/**
 * CPUs this process may run on: Cpus_allowed_list of /proc/self/status
 * (honours taskset and cgroups cpusets), else 0..os.cpus().length-1.
 * Read once, at the first call: after EAL starts, fastpath moves Node's own
 * threads off the workers' CPUs, and later configs must still see the
 * process's whole set.
 */
export function allowedCpus(): number[] {
  if (processCpus === undefined) processCpus = readAllowedCpus();
  return [...processCpus];
}

function readAllowedCpus(): number[] {
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const m = /^Cpus_allowed_list:\s*(.+)$/m.exec(status);
    if (m) return parseCpuList(m[1]);
  } catch {
    // Not Linux or no procfs: fall through to the CPU count.
  }
  return Array.from({ length: Math.max(1, os.cpus().length) }, (_, i) => i);
}

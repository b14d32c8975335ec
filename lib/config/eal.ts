/** The eal section: workers and their CPUs, memory, hugepages, file prefix, PCI allow list, extra EAL arguments, log level. */
import type { NormalizedConfig } from '../config-types';
import { formatCpuList } from './cpus';
import { normalizePci } from './devices';
import { expectObject, fail, isInteger, item, Obj, optArray, optInt, requireMatch, requireString } from './fields';

/** DPDK's numeric log levels (RTE_LOG_EMERG = 1 .. RTE_LOG_DEBUG = 8), accepted by every release. */
export const LOG_LEVELS = {
  emerg: 1,
  alert: 2,
  crit: 3,
  error: 4,
  warning: 5,
  notice: 6,
  info: 7,
  debug: 8,
} as const;
type LogLevel = keyof typeof LOG_LEVELS;

/** RTE_MAX_LCORE in Debian's DPDK 22.11 build. */
const MAX_LCORES = 128;

const FILE_PREFIX = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const EAL_FIELDS = [
  'workers',
  'workerCpus',
  'shareWorkerCpus',
  'memoryMb',
  'hugepages',
  'filePrefix',
  'pciAllow',
  'extraArgs',
  'logLevel',
] as const;

/** EAL options fastpath derives itself; passing them again in extraArgs makes EAL fail. */
const DERIVED_EAL_OPTIONS: Record<string, string> = {
  '-l': 'eal.workers / eal.workerCpus',
  '-c': 'eal.workers / eal.workerCpus',
  '--lcores': 'eal.workers / eal.workerCpus',
  '--main-lcore': 'eal.workers / eal.workerCpus',
  '--master-lcore': 'eal.workers / eal.workerCpus',
  '-m': 'eal.memoryMb',
  '--socket-mem': 'eal.memoryMb',
  '--no-huge': 'eal.hugepages',
  '--in-memory': 'eal.hugepages',
  '--no-shconf': 'eal.hugepages',
  '--file-prefix': 'eal.filePrefix',
  '--no-pci': 'eal.pciAllow',
};

/** What eal.workers may be on this CPU set: the Node main thread keeps one CPU for itself. */
function workerLimit(allowed: readonly number[]): string {
  const list = formatCpuList(allowed);
  if (allowed.length < 2) {
    return (
      'a worker count that leaves a CPU for the Node main thread, ' +
      `but this process may use only CPU ${list} (give it at least 2 CPUs)`
    );
  }
  const n = allowed.length;
  return `an integer 1..${n - 1} (this process may use ${n} CPUs, ${list}, and the Node main thread keeps one)`;
}

/** eal.workers and eal.workerCpus against the allowed CPU set. */
function normalizeWorkers(o: Obj, allowed: readonly number[]): { workers: number; workerCpus: number[]; shareWorkerCpus: boolean } {
  const share = o.shareWorkerCpus ?? false;
  if (typeof share !== 'boolean') fail('eal.shareWorkerCpus', 'true or false', share);
  const given = o.workerCpus === undefined ? undefined : optArray(o, 'workerCpus', 'eal', 'an array of CPU ids');
  // Without `workers`, an explicit workerCpus list says how many there are.
  const workers = optInt(o, 'workers', 'eal', 1, MAX_LCORES - 1, given?.length || 1);
  if (allowed.length < 2 || (!share && workers >= allowed.length)) fail('eal.workers', workerLimit(allowed), o.workers ?? workers);
  if (given === undefined) {
    // Shared: every worker on the highest CPU; the rest stay Node's.
    const cpus = share ? Array.from({ length: workers }, () => allowed[allowed.length - 1]) : allowed.slice(allowed.length - workers);
    return { workers, workerCpus: cpus, shareWorkerCpus: share };
  }
  if (given.length !== workers) {
    fail('eal.workerCpus', `an array of ${workers} CPU id(s), one per worker`, given);
  }
  given.forEach((cpu, i) => {
    if (!isInteger(cpu) || !allowed.includes(cpu)) {
      fail(item('eal.workerCpus', i), `a CPU id this process may run on (${formatCpuList(allowed)})`, cpu);
    }
    const first = given.indexOf(cpu);
    if (first !== i && !share) {
      fail(item('eal.workerCpus', i), `a CPU not already used by eal.workerCpus[${first}] (or eal.shareWorkerCpus: true)`, cpu);
    }
  });
  if (allowed.every((cpu) => given.includes(cpu))) {
    fail('eal.workerCpus', 'CPUs that leave at least one CPU for the Node main thread', given);
  }
  return { workers, workerCpus: given as number[], shareWorkerCpus: share };
}

/** eal.pciAllow: bare PCI addresses, normalised, no duplicates. */
function normalizePciAllow(o: Obj): string[] {
  const list = optArray(o, 'pciAllow', 'eal', 'an array of PCI addresses');
  const result: string[] = [];
  list.forEach((value, i) => {
    const path = item('eal.pciAllow', i);
    const pci = typeof value === 'string' ? normalizePci(value) : null;
    if (pci === null) fail(path, 'a PCI address like "0000:03:00.0" (device arguments go on ports[].device)', value);
    const earlier = result.indexOf(pci);
    if (earlier >= 0) fail(path, `a PCI address not already listed (eal.pciAllow[${earlier}])`, value);
    result.push(pci);
  });
  return result;
}

/** eal.extraArgs: non-empty strings that do not repeat an option fastpath derives. */
function normalizeExtraArgs(o: Obj): string[] {
  const list = optArray(o, 'extraArgs', 'eal', 'an array of strings');
  return list.map((value, i) => {
    const path = item('eal.extraArgs', i);
    const arg = requireString(value, path, 'a non-empty string');
    const option = arg.startsWith('--') ? arg.split('=')[0] : arg.slice(0, 2);
    const instead = DERIVED_EAL_OPTIONS[option];
    if (instead !== undefined) {
      fail(path, `an EAL argument fastpath does not derive itself (set ${instead} instead)`, arg);
    }
    return arg;
  });
}

export function normalizeEal(value: unknown, allowed: readonly number[]): NormalizedConfig['eal'] {
  const o = expectObject(value === undefined ? {} : value, 'eal', 'an object', EAL_FIELDS);
  const { workers, workerCpus, shareWorkerCpus } = normalizeWorkers(o, allowed);
  const hugepages = o.hugepages ?? 'auto';
  if (hugepages !== 'auto' && typeof hugepages !== 'boolean') fail('eal.hugepages', '"auto", true or false', hugepages);
  const prefixWhat = 'a name of [A-Za-z0-9_.-] (1..64, not starting with "." or "-")';
  const filePrefix =
    o.filePrefix === undefined
      ? `fastpath-${process.pid}`
      : requireMatch(o, 'filePrefix', 'eal', FILE_PREFIX, prefixWhat);
  const logLevel = o.logLevel ?? 'notice';
  if (typeof logLevel !== 'string' || !Object.hasOwn(LOG_LEVELS, logLevel)) {
    fail('eal.logLevel', `one of ${Object.keys(LOG_LEVELS).join(', ')}`, logLevel);
  }
  return {
    workers,
    workerCpus,
    shareWorkerCpus,
    memoryMb: optInt(o, 'memoryMb', 'eal', 256, 1048576, 512),
    hugepages,
    filePrefix,
    pciAllow: normalizePciAllow(o),
    extraArgs: normalizeExtraArgs(o),
    logLevel: logLevel as LogLevel,
  };
}

/** The EAL argv derived from a normalized config (ealArgs), and hugepage detection. */
import * as fs from 'fs';
import type { NormalizedConfig } from '../config-types';
import { FastpathError } from '../errors';
import { allowedCpus, CpuOptions, formatCpuList } from './cpus';
import { classifyDevice } from './devices';
import { LOG_LEVELS } from './schema';

export interface EalArgsOptions extends CpuOptions {
  /** Whether enough free, mounted hugepages exist. Default: detectHugepages(). */
  hugepagesAvailable?: boolean;
}

/** What detectHugepages() found (default page size only). */
export interface HugepageInfo {
  /** Free pages of the default size (HugePages_Free). */
  free: number;
  /** Whether a hugetlbfs is mounted. */
  mounted: boolean;
  /** The default hugepage size in KiB (Hugepagesize). */
  pageSizeKb: number;
}

/** Parse /proc/meminfo and /proc/mounts text: free default-size hugepages and a hugetlbfs mount. */
export function hugepagesFromProc(meminfo: string, mounts: string): HugepageInfo {
  const free = /^HugePages_Free:\s*(\d+)/m.exec(meminfo);
  const size = /^Hugepagesize:\s*(\d+)\s*kB/m.exec(meminfo);
  const mounted = mounts.split('\n').some((line) => line.split(/\s+/)[2] === 'hugetlbfs');
  return { free: free ? Number(free[1]) : 0, mounted, pageSizeKb: size ? Number(size[1]) : 0 };
}

/** What this machine offers in hugepages now (none when procfs is unreadable). */
export function detectHugepages(): HugepageInfo {
  try {
    return hugepagesFromProc(fs.readFileSync('/proc/meminfo', 'utf8'), fs.readFileSync('/proc/mounts', 'utf8'));
  } catch {
    return { free: 0, mounted: false, pageSizeKb: 0 };
  }
}

/** Whether `info` can hold `memoryMb` of DPDK memory. */
function hugepagesSuffice(info: HugepageInfo, memoryMb: number): boolean {
  return info.mounted && info.free * info.pageSizeKb >= memoryMb * 1024;
}

/** The ENOMEM for eal.hugepages: true without pages, with the commands that reserve them. */
function hugepagesMissing(memoryMb: number, info: HugepageInfo | undefined): FastpathError {
  const mount = info?.mounted ? 'mounted' : 'not mounted';
  const found = info ? ` (found ${info.free} free ${info.pageSizeKb} kB pages, hugetlbfs ${mount})` : '';
  // 256 pages of 2 MiB cover the default 512 MiB; more for bigger memoryMb.
  const pages = Math.max(256, Math.ceil((memoryMb * 1024) / (info?.pageSizeKb || 2048)));
  return new FastpathError(
    'ENOMEM',
    `eal.hugepages is true but ${memoryMb} MiB of hugepages are not available${found}; reserve them as root: ` +
      `echo ${pages} > /proc/sys/vm/nr_hugepages; mount -t hugetlbfs nodev /dev/hugepages ` +
      '(or set eal.hugepages to "auto" or false)',
    'eal.hugepages',
  );
}

/**
 * Whether EAL will run on hugepages for this config: false → never; 'auto'
 * → when enough are free and mounted; true → required, ENOMEM if missing.
 */
export function usesHugepages(cfg: NormalizedConfig, opts: EalArgsOptions = {}): boolean {
  const mode = cfg.eal.hugepages;
  if (mode === false) return false;
  let info: HugepageInfo | undefined;
  let available = opts.hugepagesAvailable;
  if (available === undefined) {
    info = detectHugepages();
    available = hugepagesSuffice(info, cfg.eal.memoryMb);
  }
  if (mode === true && !available) throw hugepagesMissing(cfg.eal.memoryMb, info);
  return available;
}

/** --lcores: lcore 0 (the Node thread) floats over the CPUs workers leave free; worker i+1 pinned to workerCpus[i]. */
function lcoreArgs(workerCpus: readonly number[], allowed: readonly number[]): string[] {
  const free = allowed.filter((cpu) => !workerCpus.includes(cpu));
  const mainCpus = free.length > 0 ? free : allowed;
  const workers = workerCpus.map((cpu, i) => `${i + 1}@${cpu}`);
  return [`--lcores=${[`0@(${formatCpuList(mainCpus)})`, ...workers].join(',')}`, '--main-lcore=0'];
}

/** Memory mode: --in-memory on hugepages, else --no-huge (22.11 rejects the two together). */
function memoryArgs(eal: NormalizedConfig['eal'], huge: boolean): string[] {
  const mb = String(eal.memoryMb);
  const prefix = `--file-prefix=${eal.filePrefix}`;
  return huge ? ['--in-memory', prefix, '-m', mb] : ['--no-huge', '-m', mb, '--no-shconf', prefix];
}

/** -a for each allowed PCI device (ports' own with their devargs), or --no-pci when none. */
function pciArgs(cfg: NormalizedConfig): string[] {
  const fromPorts = cfg.ports.map((p) => classifyDevice(p.device)).filter((d) => d.kind === 'pci');
  const allow = fromPorts.map((d) => (d.args ? `${d.name},${d.args}` : d.name));
  for (const pci of cfg.eal.pciAllow) if (!fromPorts.some((d) => d.name === pci)) allow.push(pci);
  return allow.length === 0 ? ['--no-pci'] : allow.flatMap((a) => ['-a', a]);
}

/**
 * The EAL argv for a normalized config (argv[0] = 'fastpath'). vdevs are not
 * on it: the native side hot-plugs them with rte_dev_probe. Throws ENOMEM when
 * eal.hugepages is true and none are available.
 */
export function ealArgs(cfg: NormalizedConfig, opts: EalArgsOptions = {}): string[] {
  const allowed = [...(opts.allowedCpus ?? allowedCpus())].sort((a, b) => a - b);
  return [
    'fastpath',
    ...lcoreArgs(cfg.eal.workerCpus, allowed),
    ...memoryArgs(cfg.eal, usesHugepages(cfg, opts)),
    ...pciArgs(cfg),
    `--log-level=${LOG_LEVELS[cfg.eal.logLevel]}`,
    ...cfg.eal.extraArgs,
  ];
}

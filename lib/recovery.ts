/**
 * Crash recovery: what a router killed with SIGKILL leaves behind, found and
 * removed by the next start. A clean stop removes all of it; a SIGKILL runs no
 * cleanup, so a start looks for its own leftovers first.
 *
 * Ownership is decided by process identity, never by name alone: every piece
 * of state fastpath creates records its owner (pid and the process's start
 * time, so a reused pid is not mistaken for the owner) — the DPDK runtime
 * directory holds an `fastpath.owner` file, the demo's veths carry it as their
 * interface alias. A leftover is stale when its owner is gone. Names carry a
 * pid by convention (`fastpath-<pid>`) and stand in for a missing record.
 * Nothing a live process has open or mapped is ever removed.
 */
import * as fs from 'fs';
import * as path from 'path';

/** A process, as recorded in an owner record: pid and kernel start time (clock ticks since boot). */
export interface ProcessIdentity {
  pid: number;
  /** /proc/<pid>/stat field 22; undefined when only the pid is known (from a name). */
  startTime?: string;
}

/** One leftover found (and, by removeStaleDpdkState, removed). */
export interface StaleItem {
  kind: 'dpdk-runtime-dir' | 'hugepage-file';
  path: string;
  /** The dead owner, or undefined when no owner was recorded and nothing uses it. */
  owner?: ProcessIdentity;
}

const OWNER_FILE = 'fastpath.owner';
const OWNER_TAG_RE = /^fastpath-owner pid=(\d+) start=(\d+)$/;

/** The kernel's start time of `pid` (/proc/<pid>/stat field 22), or undefined when there is no such process. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) is in parentheses and may hold spaces; fields after it start at 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[22 - 3];
  } catch {
    return undefined;
  }
}

/** This process's identity. */
export function selfIdentity(): ProcessIdentity {
  return { pid: process.pid, startTime: processStartTime(process.pid) };
}

/** Whether the process `id` names still runs (same pid and, when recorded, same start time). */
export function processAlive(id: ProcessIdentity): boolean {
  if (id.pid === process.pid) return true;
  if (!Number.isSafeInteger(id.pid) || id.pid <= 0) return false;
  try {
    process.kill(id.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (id.startTime === undefined) return true;
  const now = processStartTime(id.pid);
  return now === undefined || now === id.startTime;
}

/** The owner record's text: `fastpath-owner pid=<pid> start=<ticks>` (also an interface alias). */
export function ownerTag(id: ProcessIdentity = selfIdentity()): string {
  return `fastpath-owner pid=${id.pid} start=${id.startTime ?? 0}`;
}

/** Parse ownerTag()'s text; null when it is not one. */
export function parseOwnerTag(text: string | undefined | null): ProcessIdentity | null {
  const m = OWNER_TAG_RE.exec((text ?? '').trim());
  if (!m) return null;
  return { pid: Number(m[1]), ...(m[2] !== '0' ? { startTime: m[2] } : {}) };
}

/** "process 123" for log lines. */
export function describeOwner(owner: ProcessIdentity | undefined): string {
  return owner === undefined ? 'no recorded owner, nothing uses it' : `left by process ${owner.pid}, which is gone`;
}

// ---------------------------------------------------------------------------
// DPDK runtime directories and hugepage files

/** Where EAL puts runtime directories (eal_create_runtime_dir): /var/run/dpdk as root, else $XDG_RUNTIME_DIR/dpdk or /tmp/dpdk. */
export function dpdkRuntimeBase(): string {
  if (process.getuid?.() === 0) return '/var/run/dpdk';
  return path.join(process.env.XDG_RUNTIME_DIR ?? '/tmp', 'dpdk');
}

/** Record this process as the owner of the EAL runtime directory of `filePrefix` (after EAL initialised). */
export function recordDpdkOwner(filePrefix: string): void {
  const dir = path.join(dpdkRuntimeBase(), filePrefix);
  try {
    fs.writeFileSync(path.join(dir, OWNER_FILE), `${ownerTag()}\n`, { mode: 0o600 });
  } catch {
    /* no runtime directory (an EAL that made none): nothing to record */
  }
}

/** The hugetlbfs mount points in /proc/mounts (octal escapes decoded). */
export function hugetlbfsMounts(mounts?: string): string[] {
  let text = mounts;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/mounts', 'utf8');
    } catch {
      return [];
    }
  }
  return text
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f[2] === 'hugetlbfs')
    .map((f) => f[1].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

/**
 * Whether `name` is a file prefix this start may clean, and the pid its name
 * carries: our own prefix, and — when ours is per-process (`<base>-<our pid>`,
 * as the default `fastpath-<pid>` is) — every `<base>-<pid>` of its family.
 */
export function prefixFamilyMember(ourPrefix: string, name: string): { pid?: number } | null {
  if (name === ourPrefix) return {};
  const ours = /^(.*)-(\d+)$/.exec(ourPrefix);
  if (!ours || Number(ours[2]) !== process.pid) return null;
  const m = /^(.*)-(\d+)$/.exec(name);
  if (!m || m[1] !== ours[1]) return null;
  return { pid: Number(m[2]) };
}

function readOwnerRecord(runtimeDir: string): ProcessIdentity | null {
  try {
    return parseOwnerTag(fs.readFileSync(path.join(runtimeDir, OWNER_FILE), 'utf8'));
  } catch {
    return null;
  }
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Every path under /proc/<pid>/fd and /proc/<pid>/maps of the running
 * processes (other than this one) that starts with one of `roots`: what a
 * live process holds open or mapped.
 */
export function pathsInUse(roots: readonly string[]): Set<string> {
  const used = new Set<string>();
  if (roots.length === 0) return used;
  const hit = (p: string): void => {
    const clean = p.replace(/ \(deleted\)$/, '');
    for (const r of roots) if (clean === r || clean.startsWith(`${r}/`)) used.add(r);
  };
  for (const entry of listDir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    for (const fd of listDir(`/proc/${entry}/fd`)) {
      try {
        hit(fs.readlinkSync(`/proc/${entry}/fd/${fd}`));
      } catch {
        /* closed meanwhile */
      }
    }
    try {
      for (const line of fs.readFileSync(`/proc/${entry}/maps`, 'utf8').split('\n')) {
        const at = line.indexOf('/');
        if (at >= 0) hit(line.slice(at));
      }
    } catch {
      /* gone meanwhile */
    }
  }
  return used;
}

/** Decide one candidate: its owner is dead → stale; no owner known → stale only when it is ours by name and unused. */
function judge(kind: StaleItem['kind'], p: string, owner: ProcessIdentity | null, exactName: boolean, inUse: () => Set<string>): StaleItem | null {
  if (owner !== null) return processAlive(owner) || inUse().has(p) ? null : { kind, path: p, owner };
  if (!exactName || inUse().has(p)) return null;
  return { kind, path: p };
}

/**
 * The DPDK leftovers of dead processes that a start with `filePrefix` owns:
 * runtime directories `<base>/<prefix>` and hugepage files
 * `<hugetlbfs>/<prefix>map_<n>` of its prefix family (prefixFamilyMember).
 */
export function findStaleDpdkState(filePrefix: string, opts: { runtimeBase?: string; hugeMounts?: string[] } = {}): StaleItem[] {
  const base = opts.runtimeBase ?? dpdkRuntimeBase();
  const mounts = opts.hugeMounts ?? hugetlbfsMounts();
  let used: Set<string> | undefined;
  const candidates: string[] = [];
  const inUse = (): Set<string> => (used ??= pathsInUse(candidates));
  const found: StaleItem[] = [];
  const ownerOf = new Map<string, ProcessIdentity | null>();
  const owner = (name: string, member: { pid?: number }): ProcessIdentity | null => {
    if (!ownerOf.has(name)) ownerOf.set(name, readOwnerRecord(path.join(base, name)) ?? (member.pid !== undefined ? { pid: member.pid } : null));
    return ownerOf.get(name) ?? null;
  };

  const pending: { kind: StaleItem['kind']; path: string; name: string; member: { pid?: number } }[] = [];
  for (const name of listDir(base)) {
    const member = prefixFamilyMember(filePrefix, name);
    if (member !== null) pending.push({ kind: 'dpdk-runtime-dir', path: path.join(base, name), name, member });
  }
  for (const mount of mounts) {
    for (const file of listDir(mount)) {
      const m = /^(.+)map_\d+(?:_\d+)?$/.exec(file);
      const member = m ? prefixFamilyMember(filePrefix, m[1]) : null;
      if (m && member !== null) pending.push({ kind: 'hugepage-file', path: path.join(mount, file), name: m[1], member });
    }
  }
  candidates.push(...pending.map((c) => c.path));
  for (const c of pending) {
    const item = judge(c.kind, c.path, owner(c.name, c.member), c.name === filePrefix, inUse);
    if (item !== null) found.push(item);
  }
  return found;
}

/** Remove what findStaleDpdkState finds, one log line each; returns what was removed. */
export function removeStaleDpdkState(filePrefix: string, log: (line: string) => void, opts: { runtimeBase?: string; hugeMounts?: string[] } = {}): StaleItem[] {
  const removed: StaleItem[] = [];
  for (const item of findStaleDpdkState(filePrefix, opts)) {
    try {
      fs.rmSync(item.path, { recursive: true, force: true });
    } catch (e) {
      log(`fastpath: could not remove stale ${describeKind(item.kind)} ${item.path}: ${(e as Error).message}`);
      continue;
    }
    removed.push(item);
    log(`fastpath: removed stale ${describeKind(item.kind)} ${item.path} (${describeOwner(item.owner)})`);
  }
  return removed;
}

function describeKind(kind: StaleItem['kind']): string {
  return kind === 'dpdk-runtime-dir' ? 'DPDK runtime directory' : 'hugepage file';
}

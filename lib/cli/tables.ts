/** Human output of the control CLI: aligned columns, and the wire's stats back into bigints. */
import type { RouterStats } from '../stats';

/** Left-aligned columns under a header, two spaces apart. */
export function table(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === undefined || c === null ? '-' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

/**
 * stats() as it crossed the socket: every bigint became a decimal string,
 * and stats has no other strings among its values (names are keys), so
 * each decimal string is a counter to turn back into a bigint.
 */
export function statsFromWire(value: unknown): RouterStats {
  const revive = (v: unknown): unknown => {
    if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
    if (Array.isArray(v)) return v.map(revive);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]));
    return v;
  };
  return revive(value) as RouterStats;
}

type Row = Record<string, unknown>;

export function interfacesTable(list: Row[]): string {
  return table(
    ['NAME', 'KIND', 'MTU', 'LINK', 'FLAGS', 'MAC', 'ADDRESSES'],
    list.map((i) => [i.name, i.vlan !== undefined ? `vlan ${i.vlan} on ${i.parent}` : i.kind, i.mtu, i.linkState, (i.flags as string[]).join(','), i.mac, (i.addresses as string[]).join(' ')]),
  );
}

export function routesTable(list: Row[]): string {
  return table(
    ['PREFIX', 'VIA', 'DEV', 'KIND', 'STATE'],
    list.map((r) => {
      const hops = r.nexthops as Row[] | undefined;
      const via = hops !== undefined ? hops.map((h) => `${h.via ?? '-'}%${h.dev}*${h.weight}`).join(' ') : r.via;
      return [r.prefix, via, hops !== undefined ? '(ecmp)' : r.dev, r.kind === 'kernel' ? `kernel/${r.protocol}` : r.kind, r.state];
    }),
  );
}

/** `show mirrors`: linux.status's mirrors and the import's state. */
export function mirrorsTable(st: Row): string {
  const mirrors = st.mirrors as Row[];
  const head = st.importing ? `route import: ${st.imported} imported, ${st.shadowed} kept aside${st.dumpDone ? '' : ' (first dump in progress)'}\n` : 'route import: off\n';
  return head + table(['DEV', 'MIRROR', 'IFINDEX', 'TO KERNEL', 'FROM KERNEL'], mirrors.map((m) => [m.dev, m.name, m.ifindex, m.toKernel, m.fromKernel]));
}

export function neighboursTable(list: Row[]): string {
  return table(['ADDRESS', 'MAC', 'DEV', 'STATE', 'ROUTES', 'AGE'], list.map((n) => [n.address, n.mac, n.dev, n.state, n.routeRefs, `${((n.ageMs as number) / 1000).toFixed(1)}s`]));
}

export function flowsTable(list: Row[]): string {
  return table(
    ['WORKER', 'SRC', 'DST', 'LABEL', 'IN', 'OUT', 'USES', 'FORWARDED', 'DROPPED', 'IDLE'],
    list.map((f) => [f.worker, f.src, f.dst, `0x${(f.flowLabel as number).toString(16)}`, f.inDev, f.outDev, f.uses, f.forwarded, f.dropped, `${f.idleMs}ms`]),
  );
}

export function labelsTable(list: Row[]): string {
  return table(
    ['LABEL', 'SHARE', 'USERS', 'DESTINATION', 'EXPIRES'],
    list.map((l) => [`0x${(l.label as number).toString(16)}`, l.share, l.users, l.destination, `${l.expiresInS}s`]),
  );
}

export function groupsTable(byInterface: { name: string; version: number; groups: Row[] }[]): string {
  const rows = byInterface.flatMap((i) => i.groups.map((g) => [i.name, `v${i.version}`, g.address, g.state, g.refs, g.automatic ? 'auto' : 'joined']));
  return table(['INTERFACE', 'MLD', 'GROUP', 'STATE', 'REFS', 'BY'], rows);
}

/** One event notification as a line (`fastpath events`). */
export function eventLine(e: Row): string {
  const lost = e.lost !== undefined ? ` (${e.lost} lost before)` : '';
  if (e.type === 'mld') return `${e.at} mld ${e.interface} ${e.action} ${e.group}${lost}`;
  const what = e.type === 'link' ? '' : ` ${e.address}`;
  return `${e.at} ${e.type} ${e.interface}${what} ${e.previous} -> ${e.state}${lost}`;
}

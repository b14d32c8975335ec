/** A counter table for terminals: rates between two snapshots, non-zero drops. */
import { RouterStats } from '../stats';

const pad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

function rate(now: bigint, before: bigint | undefined, seconds: number): string {
  if (before === undefined || seconds <= 0) return '-';
  const r = Number(now - before) / seconds;
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)}k` : r.toFixed(0);
}

/** Render the stats as a fixed-width table (one screen). */
export function formatStats(s: RouterStats, prev?: RouterStats): string {
  const secs = prev ? Number(s.tsc - prev.tsc) / Number(s.tscHz) : 0;
  const lines: string[] = [];
  lines.push(`${pad('interface', 10)} ${pad('ipackets', 12)} ${pad('rx/s', 9)} ${pad('opackets', 12)} ${pad('tx/s', 9)} ${pad('drops', 10)} ${pad('iqdrops', 9)} ${pad('oerrors', 9)}`);
  for (const [name, c] of Object.entries(s.ports)) {
    const p = prev?.ports[name];
    lines.push(
      `${pad(name, 10)} ${pad(String(c.ipackets), 12)} ${pad(rate(c.ipackets, p?.ipackets, secs), 9)} ` +
        `${pad(String(c.opackets), 12)} ${pad(rate(c.opackets, p?.opackets, secs), 9)} ${pad(String(c.drops), 10)} ` +
        `${pad(String(c.iqdrops), 9)} ${pad(String(c.oerrors), 9)}`,
    );
  }
  const t = s.totals;
  lines.push('');
  lines.push(`rx ${t.rx_packets}  forwarded ${t.forwarded} (${rate(t.forwarded, prev?.totals.forwarded, secs)}/s)  punted ${t.punted}  dropped ${t.dropped}`);
  const fc = s.flowCache;
  // Admission under a flow flood: shown once it has acted, so that a quiet table stays one line.
  const flood = fc.admitShift > 0 || fc.unadmitted > 0n ? `  unadmitted ${fc.unadmitted} (admitting 1 in ${2 ** fc.admitShift} new flows)` : '';
  // flowCache.mode auto: shown once it has sent packets past the cache.
  const direct = fc.direct > 0n || fc.directWorkers > 0 ? `  direct ${fc.direct} (FIB alone on ${fc.directWorkers} of ${s.lcores.length} workers)` : '';
  lines.push(`flow cache: in use ${fc.inuse}  hits ${fc.hits}  misses ${fc.misses}  inserts ${fc.inserts}  reaps ${fc.reaps}  expiries ${fc.expiries}  invalidations ${fc.invalidations}${flood}${direct}`);
  const drops = Object.entries(s.drops).filter(([, v]) => v > 0n);
  lines.push(`drops by reason: ${drops.length ? drops.map(([k, v]) => `${k}=${v}`).join('  ') : 'none'}`);
  lines.push(
    `control: punt received ${s.control.punt_received}, echo replies ${s.control.icmp6_echo_replies}, ` +
      `NA sent ${s.control.nd_na_out}, dropped ${s.control.punt_dropped}`,
  );
  for (const l of s.lcores) {
    const busy = l.counters.loops > 0n ? Number((l.counters.busy_loops * 1000n) / l.counters.loops) / 10 : 0;
    // Load now: busy cycles over the last interval's cycles (the loop share above is since start).
    const p = prev?.lcores[l.worker];
    const cycles = prev ? Number(s.tsc - prev.tsc) : 0;
    const load = p && cycles > 0 ? `  load ${((Number(l.counters.busy_cycles - p.counters.busy_cycles) / cycles) * 100).toFixed(1)}% (last ${secs.toFixed(1)} s)` : '';
    lines.push(`worker ${l.worker} (lcore ${l.lcore}): rx ${l.counters.rx_packets}  busy loops ${busy.toFixed(1)}% since start${load}`);
  }
  return lines.join('\n');
}

/**
 * Renders docs/counters.md from the counter lists compiled into the addon
 * (native/core/counters.h), so the docs table comes from the same
 * X-macro list as the C enum and the names in stats(). A test checks that
 * the committed file matches; `node dist/lib/counters-doc.js > docs/counters.md`
 * regenerates it.
 */
import { CounterNames, native } from './native';

function table(title: string, intro: string, names: string[], descs: string[], prefix = ''): string {
  const rows = names.map((n, i) => `| \`${prefix}${n}\` | ${descs[i]} |`);
  return [`## ${title}`, '', intro, '', '| counter | meaning |', '| --- | --- |', ...rows, ''].join('\n');
}

export function renderCounterDoc(c: CounterNames): string {
  return [
    '# Counters',
    '',
    '<!-- Generated from native/core/counters.h by lib/counters-doc.ts; do not edit. -->',
    '',
    'Every counter is a `bigint` in `router.stats()`, taken from one native snapshot.',
    'Accounting rule: `rx_packets = forwarded + punted + dropped`, and `dropped` is the sum of the `drop_*` reasons.',
    '',
    table('Per worker lcore', '`stats().lcores[i].counters` and summed in `stats().totals`.', c.lcore, c.lcoreDescriptions),
    table('Drop reasons', '`stats().drops` (summed over workers), `stats().lcores[i].drops`, and `stats().totals.drop_<reason>`.', c.drop, c.dropDescriptions, 'drop_'),
    table('Per interface (if_data)', 'Summed over workers into `stats().ports[name]` (with device counters for `ierrors`, `iqdrops` and part of `oerrors`).', c.port, c.portDescriptions),
    table('Control thread', '`stats().control`.', c.control, c.controlDescriptions),
  ].join('\n');
}

if (require.main === module) process.stdout.write(renderCounterDoc(native().counterNames()));

/**
 * How fast kernel routes reach the FIB (docs/routing.md): the routing.yaml
 * demo with mirrors and import on, N routes added to the kernel's main
 * table at once (`ip -6 -batch`, through the mirror of eth1), timed until
 * fastpath holds them all; then the same for their deletion. Needs root.
 *
 *   npm run bench:import -- [N=20000] [--no-import]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { startDemo } from '../lib/cli/demo';
import { execCommand } from '../lib/topology';
import { benchCommand, numberArg } from './common';

async function main(): Promise<void> {
  const program = benchCommand('bench:import', 'npm run bench:import --', "kernel routes into fastpath's FIB through route import (bench/import.ts)")
    .argument('[N]', 'routes to add, then delete', numberArg(1), 20000)
    // --no-import: the same with route import off (the kernel's own time with the router running).
    .option('--no-import', 'route import off: the kernel alone, with the router running')
    .parse(process.argv.slice(2), { from: 'user' });
  const n = program.processedArgs[0] as number;
  const importRoutes = program.opts<{ import: boolean }>().import;
  const prefix = `fi${process.pid % 100000}-`;
  const demo = await startDemo(path.resolve(__dirname, '..', '..', 'dpdk-config', 'routing.yaml'), {
    unique: true,
    override: (cfg) => ({ ...cfg, eal: { ...cfg.eal, hugepages: false, memoryMb: 512, filePrefix: `fp-bench-import-${process.pid}` }, routing: { ...cfg.routing, maxRoutes: 65536, tbl8Groups: 65536 }, linux: { ...cfg.linux, importRoutes, mirrorPrefix: prefix } }),
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fp-import-'));
  try {
    const lines = (verb: string) => Array.from({ length: n }, (_, i) => `route ${verb} 2001:db8:${(0x1000 + (i >> 16)).toString(16)}:${(i & 0xffff).toString(16)}::/64${verb === 'add' ? ` via 2001:db8:2::2 dev ${prefix}eth1` : ''}`).join('\n') + '\n';
    fs.writeFileSync(path.join(dir, 'add'), lines('add'));
    fs.writeFileSync(path.join(dir, 'del'), lines('del'));
    const base = demo.router.routes.count();
    for (const [verb, want] of [['add', base + n], ['del', base]] as const) {
      const t0 = process.hrtime.bigint();
      await execCommand(['ip', '-6', '-batch', path.join(dir, verb)], { check: true, timeoutMs: 120000 });
      const kernel = Number(process.hrtime.bigint() - t0) / 1e9;
      for (let k = 0; importRoutes && demo.router.routes.count() !== want; k++) {
        if (k % 400 === 0) console.log(`  ${verb}: fastpath has ${demo.router.routes.count() - base}, counters ${Object.entries(demo.router.stats().control).filter(([k]) => k.startsWith("rtimport")).map(([k, v]) => `${k}=${v}`).join(" ")}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      const total = Number(process.hrtime.bigint() - t0) / 1e9;
      console.log(`${verb} ${n} routes: kernel ${kernel.toFixed(2)} s, in fastpath's FIB after ${total.toFixed(2)} s (${Math.round(n / total)} routes/s)`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await demo.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

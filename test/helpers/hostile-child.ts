// Started as its own process by test/addon/hostile-api.test.ts, so that a
// crash (a signal) is seen by the test instead of ending the test run.
// argv: <file prefix> <scratch dir>. Prints JSON lines: {"sequential": …},
// {"racing": …}, and {"failure": …} when a property fails; exit 0 = pass.
//
//   sequential: a few thousand generated calls (fixed seed) against one
//     running router: every throw is a FastpathError with a code, no call
//     hangs (5 s), and a rejected call leaves the router's state as it was.
//   racing: rounds of generated calls started together with stop() among
//     them: every call settles (10 s), with success or a FastpathError; the
//     router is stopped afterwards, and the next round's router starts.
import * as fs from 'fs';
import * as path from 'path';

import fc from 'fast-check';

import { Router, RouterConfig } from '../../lib';
import { writePcap } from '../../lib/pcap';
import { badThrow, CallContext, callArb, describeCall, HostileCall, invoke } from './hostile-calls';

const [prefix, dir] = process.argv.slice(2);
const SEED = 0x15;

function config(): RouterConfig {
  const f = (n: string): string => path.join(dir, n);
  writePcap(f('empty.pcap'), []);
  return {
    eal: { workers: 1, memoryMb: 512, hugepages: false, filePrefix: prefix, logLevel: 'error' },
    ports: [
      { name: 'eth0', device: `net_pcap0,rx_pcap=${f('empty.pcap')},tx_pcap=${f('out0.pcap')}`, mac: '02:00:00:00:00:01', addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
      { name: 'eth1', device: `net_pcap1,rx_pcap=${f('empty.pcap')},tx_pcap=${f('out1.pcap')}`, mac: '02:00:00:00:00:02', addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
    ],
    clones: [
      { cloner: 'vlan', parent: 'eth0', vlan: 100, addresses: ['2001:db8:100::1/64'] },
      { cloner: 'loop', addresses: ['2001:db8:ff::1/128'] },
    ],
    neighbours: [{ address: '2001:db8:1::2', mac: '02:00:00:00:00:aa', dev: 'eth0' }],
    routes: [{ prefix: '2001:db8:9::/48', via: '2001:db8:1::2', dev: 'eth0' }],
  };
}

/** Everything a call may change, without what changes by itself (ages, timers, counters). */
function snapshot(r: Router): string {
  const interfaces = r.interfaces.list().map((i) => ({ ...i, counters: undefined }));
  return JSON.stringify({
    interfaces,
    groups: interfaces.map((i) => r.interfaces.groups(i.name).groups.map((g) => `${g.address} ${g.refs} ${g.automatic}`)),
    routes: r.routes.list(),
    neighbours: r.neighbours.list().map((n) => ({ ...n, ageMs: undefined })),
    flowCache: r.flowCache.config,
    siftr: (({ enabled, logfile, ppl, portFilter }) => ({ enabled, logfile, ppl, portFilter }))(r.siftr.status()),
    labels: r.flowLabels.list().map((l) => ({ ...l, lingerS: undefined, expiresInS: undefined })),
  });
}

/** Run a call; `hang` when it neither returns nor throws within `ms`. */
async function settle(ctx: CallContext, c: HostileCall, ms: number): Promise<{ ok: true } | { ok: false; error: unknown } | { hang: true }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<{ hang: true }>((resolve) => (timer = setTimeout(() => resolve({ hang: true }), ms)));
  const done = (async () => {
    try {
      await invoke(ctx, c);
      return { ok: true as const };
    } catch (error) {
      return { ok: false as const, error };
    }
  })();
  try {
    return await Promise.race([done, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Timeouts the API would honour (addressesSettled) are capped: the fuzz never waits on purpose. */
function capped(c: HostileCall): HostileCall {
  if (c.method !== 'router.addressesSettled' || typeof c.args[0] !== 'number' || !(c.args[0] > 2000)) return c;
  return { ...c, args: [2000, ...c.args.slice(1)] };
}

async function sequential(): Promise<void> {
  const router = await Router.start(config());
  const ctx = new CallContext(router);
  let calls = 0;
  let rejected = 0;
  const codes: Record<string, number> = {};
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(callArb(dir), { minLength: 30, maxLength: 70 }), async (sequence) => {
        for (const raw of sequence) {
          const c = capped(raw);
          const before = snapshot(router);
          const r = await settle(ctx, c, 5000);
          calls++;
          if ('hang' in r) throw new Error(`${describeCall(c)} did not settle within 5 s`);
          if (!r.ok) {
            rejected++;
            const bad = badThrow(r.error);
            if (bad !== null) throw new Error(`${describeCall(c)} ${bad}`);
            const code = (r.error as { code: string }).code;
            codes[code] = (codes[code] ?? 0) + 1;
            const after = snapshot(router);
            if (after !== before) throw new Error(`${describeCall(c)} was refused (${code}) but changed the router's state:\nbefore ${before}\nafter  ${after}`);
          }
          if (({} as Record<string, unknown>).polluted !== undefined || (Object.prototype as unknown as Record<string, unknown>).polluted !== undefined) {
            throw new Error(`${describeCall(c)} polluted Object.prototype`);
          }
          if (!router.running) throw new Error(`${describeCall(c)} stopped the router`);
        }
      }),
      { seed: SEED, numRuns: 60, endOnFailure: true },
    );
  } finally {
    for (const s of ctx.sockets) s.close();
    if (router.siftr.status().enabled) await router.siftr.disable().catch(() => undefined);
    await router.stop();
  }
  console.log(JSON.stringify({ sequential: { calls, rejected, codes } }));
}

async function racing(): Promise<void> {
  let calls = 0;
  let rounds = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(callArb(dir), { minLength: 10, maxLength: 40 }), fc.nat(), async (sequence, stopAt) => {
      const router = await Router.start(config());
      const ctx = new CallContext(router);
      rounds++;
      const at = stopAt % (sequence.length + 1);
      // Every call starts before any finishes; stop() is one of them.
      const pending = sequence.map(capped).map((c, i) => {
        const stop = i === at ? router.stop().then(() => 'stop', (e: unknown) => e) : undefined;
        return { c, stop, r: settle(ctx, c, 10000) };
      });
      const stopped = await router.stop().then(() => null, (e: unknown) => e);
      for (const p of pending) {
        calls++;
        const r = await p.r;
        if ('hang' in r) throw new Error(`${describeCall(p.c)} did not settle within 10 s while stop() ran`);
        if (!r.ok) {
          const bad = badThrow(r.error);
          if (bad !== null) throw new Error(`${describeCall(p.c)} racing stop(): ${bad}`);
        }
        if (p.stop !== undefined && (await p.stop) !== 'stop') throw new Error(`stop() failed: ${String(await p.stop)}`);
      }
      if (stopped !== null) throw new Error(`stop() failed: ${String(stopped)}`);
      if (router.running || Router.active !== undefined) throw new Error('the router still runs after stop()');
      for (const s of ctx.sockets) s.close();
    }),
    { seed: SEED, numRuns: 25, endOnFailure: true },
  );
  console.log(JSON.stringify({ racing: { rounds, calls } }));
}

(async () => {
  await sequential();
  await racing();
  // A router still starts and answers after all of it.
  const r = await Router.start(config());
  const ok = r.routes.lookup('2001:db8:9::1')?.prefix === '2001:db8:9::/48';
  await r.stop();
  console.log(JSON.stringify({ afterwards: ok }));
  fs.rmSync(path.join(dir, 'empty.pcap'), { force: true });
})().catch((e: unknown) => {
  // fast-check's error names the sequence (seed, counterexample); its cause says which call did what.
  const cause = (e as { cause?: unknown }).cause;
  const why = cause instanceof Error ? cause.message : '';
  console.log(JSON.stringify({ failure: `${why}\n${e instanceof Error ? e.message.slice(0, 4000) : String(e)}` }));
  process.exit(1);
});

/**
 * The 60-second soak (bench/soak.ts, `npm run soak -- --minutes N` for
 * longer): iperf3 TCP and UDP through the router while routes churn,
 * neighbours are flushed, a host's link flaps, VLAN clones come and go, the
 * flow cache is resized, groups are joined and left, stats are polled at
 * 10 Hz and every event is consumed. Needs root, iperf3 and namespaces.
 */
import { expect } from 'chai';

import { memoryLeak, runSoak } from '../../bench/soak';
import { requireRoot, requireTools } from '../../lib/topology';

describe('integration: soak, everything at once for 60 s', function () {
  this.timeout(240000);

  it('no failure, no call over 1 s, TCP finishes, buffers back to baseline, no memory growth after warm-up, counters consistent', async () => {
    requireRoot('the soak');
    requireTools(['ip', 'iperf3']);
    const r = await runSoak({ seconds: 60 });
    const summary = JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    console.log(`      (${r.apiCalls} API calls, slowest ${r.slowestCall} ${r.slowestCallMs.toFixed(0)} ms; ${r.routeChanges} route changes; ` +
      `TCP ${(r.tcp.bytes / 1e9).toFixed(2)} GB, UDP lost ${r.udp.lostPercent.toFixed(1)}%; RSS ${r.rssMiB.afterWarmup.toFixed(1)} -> ${r.rssMiB.end.toFixed(1)} MiB)`);
    expect(r.failures, summary).to.deep.equal([]);
    expect(r.slowestCallMs).to.be.below(1000);
    expect(r.tcp.exitCode, summary).to.equal(0);
    expect(r.tcp.bytes).to.be.greaterThan(0);
    expect(r.udp.exitCode, summary).to.equal(0);
    expect(r.mbufs.end, summary).to.be.at.most(r.mbufs.baseline);
    expect(r.rssMiB.afterWarmup).to.be.greaterThan(0);
    // RSS under 10 MiB of growth, or (V8 keeping freed heap) the native part
    // and the heap in use after a GC each under 10 MiB: bench/soak.ts memoryLeak.
    expect(r.memory.afterWarmup && r.memory.end, summary).to.not.equal(undefined);
    expect(memoryLeak(r), summary).to.equal(undefined);
    expect(r.routeChanges).to.be.greaterThan(10000);
    expect(r.flaps).to.be.at.least(3);
    expect(r.clones).to.be.at.least(10);
    expect(r.events).to.be.greaterThan(0);
    expect(r.eventsLost).to.equal(0);
  });
});

// The soak's leak check (bench/soak.ts memoryLeak): RSS growth alone is
// not a leak when it is V8 keeping heap it has freed.
import { expect } from 'chai';

import { memoryLeak } from '../../bench/soak';

const point = (rss: number, heapTotal: number, heapUsed: number) => ({ rss, heapTotal, heapUsed, native: rss - heapTotal });

describe('soak leak check', () => {
  it('passes RSS growth under 10 MiB', () => {
    expect(memoryLeak({ rssMiB: { start: 290, afterWarmup: 300, end: 309 }, memory: { afterWarmup: point(300, 16, 12), end: point(309, 16, 12) } })).to.equal(undefined);
  });
  it("passes RSS growth that is V8's reserved heap (native and heap in use flat)", () => {
    // The 12-minute run: RSS +31 MiB, heapTotal 16 -> 47.5, heapUsed 11-20.
    expect(memoryLeak({ rssMiB: { start: 160, afterWarmup: 168, end: 199 }, memory: { afterWarmup: point(168, 16, 12), end: point(199, 47.5, 14) } })).to.equal(undefined);
  });
  it('fails native growth, and heap-in-use growth, past 10 MiB', () => {
    expect(memoryLeak({ rssMiB: { start: 160, afterWarmup: 168, end: 190 }, memory: { afterWarmup: point(168, 16, 12), end: point(190, 20, 14) } })).to.match(/native \(RSS - V8 heapTotal\) \+18\.0/);
    expect(memoryLeak({ rssMiB: { start: 160, afterWarmup: 168, end: 190 }, memory: { afterWarmup: point(168, 16, 12), end: point(190, 36, 30) } })).to.match(/heap in use after a GC \+18\.0/);
  });
  it('fails a run with no reading after the warm-up', () => {
    expect(memoryLeak({ rssMiB: { start: 1, afterWarmup: 0, end: 1 }, memory: {} })).to.match(/no reading/);
  });
});

// The addon's own argument checks (native/addon/args.h: Obj, Arr, Str,
// U8Array), reached by calling the bindings directly with what lib/ would
// never pass: each is refused with EINVAL and a message naming the argument,
// before any native state is touched (no router is needed).
import { expect } from 'chai';

import { flowCacheBytes } from '../../bench/common';
import { native } from '../../lib/native';

/** FP_MAX_PORTS (native/core/router.h): a capture takes at most this many ports. */
const FP_MAX_PORTS = 16;

/** The code and message the call threw (it must throw). */
function refusal(fn: () => unknown): { code: unknown; message: string } {
  try {
    fn();
  } catch (e) {
    return { code: (e as { code?: unknown }).code, message: (e as Error).message };
  }
  throw new Error('the call was not refused');
}

describe('addon argument checks (no router)', () => {
  // Bindings called with junk: typed loosely on purpose.
  const addon = native() as unknown as Record<string, (...args: unknown[]) => unknown>;

  const cases: [string, () => unknown, string][] = [
    ['captureStart without options', () => addon.captureStart(null), 'captureStart: expected an options object'],
    ['captureStart: interfaces not an array', () => addon.captureStart({ interfaces: 'eth0' }), `captureStart: interfaces: expected an array of 1..${FP_MAX_PORTS} interface indexes`],
    ['captureStart: no interfaces', () => addon.captureStart({ interfaces: [] }), `captureStart: interfaces: expected 1..${FP_MAX_PORTS} interface indexes, got 0`],
    ['linuxEnable without options', () => addon.linuxEnable(1), 'linuxEnable: expected an options object'],
    ['linuxEnable: mirrors not an array', () => addon.linuxEnable({ mirrors: 'x' }), 'linuxEnable: mirrors: expected an array of at most 32 mirrors'],
    ['linuxEnable: 33 mirrors', () => addon.linuxEnable({ mirrors: new Array(33).fill({}) }), 'linuxEnable: mirrors: expected at most 32 mirrors, got 33'],
    ['linuxEnable: a mirror not an object', () => addon.linuxEnable({ mirrors: [{ portIndex: 0, name: 'fp0' }, 5] }), 'linuxEnable: mirrors[1]: expected an object'],
    ['linuxEnable: a mirror name too long', () => addon.linuxEnable({ mirrors: [{ portIndex: 0, name: 'a'.repeat(16) }] }), 'mirrors[].name: expected 1..15 characters'],
    ['linuxEnable: importProtocols not an array', () => addon.linuxEnable({ mirrors: [], importTable: 254, importProtocols: 3 }), 'linuxEnable: importProtocols: expected an array of protocol numbers'],
    ['socketOpen without options', () => addon.socketOpen(1), 'socket options: expected an object'],
    ['socketSend: data not bytes', () => addon.socketSend(0, new Uint8Array(16), 1, 'x', 0), 'data: expected a Uint8Array or Buffer'],
    ['flowLabelGet without a request', () => addon.flowLabelGet(0, 1), 'getLabel: expected an object'],
    ['udpConfigure without options', () => addon.udpConfigure(null), 'flowLabels: expected an object'],
    ['siftrEnable without options', () => addon.siftrEnable(1), 'siftrEnable: expected an options object'],
    ['siftrConfigure without options', () => addon.siftrConfigure(1), 'siftrConfigure: expected an options object'],
    ['flowCacheMemsize: hashsize above 2^20', () => addon.flowCacheMemsize(16384, 1 << 21, 16384), 'hashsize: expected an integer 1..1048576, got 2097152.000000'],
  ];
  for (const [what, call, message] of cases)
    it(`${what}: EINVAL, "${message}"`, () => {
      expect(refusal(call)).to.deep.equal({ code: 'EINVAL', message });
    });

  it('flowCacheMemsize: a million flows with 2^20 buckets fit 64 MiB per worker (issue 12), the bench reports the same', () => {
    const bytes = native().flowCacheMemsize(1000000, 1 << 20, 16384);
    expect(bytes).to.be.above(1000000 * 64).and.at.most(64 * 2 ** 20);
    expect(flowCacheBytes(1000000, 1 << 20)).to.equal(bytes);
    expect(flowCacheBytes(0, 1 << 20)).to.equal(0);
  });
});

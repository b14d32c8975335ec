// Events JS does not keep up with (docs/api.md, events): the native queue
// (FP_EVENT_QUEUE, 4096) keeps the oldest and counts what does not fit in
// stats().control.events_dropped; a router.events() stream that is not read
// keeps its newest maxQueue and counts the rest in `lost`.
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { Router, RouterEvent } from '../../lib';
import type { MldEvent } from '../../lib/events';
import { writePcap } from '../../lib/pcap';
import { scratchDir, TEST_EAL, waitFor } from '../helpers/router-env';

describe('events when JS does not keep up (net_pcap)', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => (dir = scratchDir('events')));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a full native queue drops and counts (events_dropped); an unread stream keeps its newest maxQueue and counts lost', async () => {
    const empty = path.join(dir, 'empty.pcap');
    writePcap(empty, []);
    const router = await Router.start({
      eal: TEST_EAL,
      ports: [{ name: 'eth0', device: `net_pcap0,rx_pcap=${empty},tx_pcap=/dev/null`, mac: '02:00:00:00:00:01', addresses: ['2001:db8:1::1/64'], dadTransmits: 0 }],
    });
    try {
      const mld: MldEvent[] = [];
      router.on('mld', (e: MldEvent) => mld.push(e));
      const ring = (): { used: number; size: number } => router.stats().resources.eventRing;
      expect(await waitFor(() => ring().used === 0), 'start-up events drained').to.equal(true);
      await new Promise((r) => setImmediate(r));
      const small = router.events({ maxQueue: 10 });
      const all = router.events({ maxQueue: 1000000 });
      const before = router.stats().control.events_dropped;
      const mldBefore = mld.length;

      // Joins and leaves post their events synchronously; JS drains them
      // only after this loop: the queue fills.
      const pairs = 2500;
      for (let i = 0; i < pairs; i++) {
        router.interfaces.joinGroup('eth0', 'ff05::1:3');
        router.interfaces.leaveGroup('eth0', 'ff05::1:3');
      }
      const full = router.stats();
      expect(full.resources.eventRing.used, 'the queue is full').to.equal(full.resources.eventRing.size);
      const dropped = full.control.events_dropped - before;
      expect(dropped >= BigInt(2 * pairs - full.resources.eventRing.size), `dropped ${dropped}`).to.equal(true);

      expect(await waitFor(() => ring().used === 0), 'drained').to.equal(true);
      await new Promise((r) => setImmediate(r));
      // Every event that fitted reached JS (the joins' reports, sent by the
      // control thread meanwhile, share the queue), the joins and leaves in
      // order from the first.
      const everything: RouterEvent[] = [];
      for (let r = await all.next(); !r.done; r = await Promise.race([all.next(), new Promise<IteratorResult<RouterEvent>>((res) => setImmediate(() => res({ value: undefined, done: true })))])) everything.push(r.value);
      expect(all.lost).to.equal(0);
      expect(everything.length).to.be.at.least(full.resources.eventRing.size);
      expect(BigInt(everything.length) + dropped >= BigInt(2 * pairs)).to.equal(true);
      const got = mld.slice(mldBefore).filter((e) => e.action === 'join' || e.action === 'leave');
      expect(got.length).to.be.lessThan(2 * pairs);
      got.forEach((e, i) => expect(e.action, `event ${i}`).to.equal(i % 2 === 0 ? 'join' : 'leave'));

      // The unread stream: its newest 10, and how many it let go.
      expect(small.lost).to.equal(everything.length - 10);
      const kept: RouterEvent[] = [];
      for (let i = 0; i < 10; i++) kept.push((await small.next()).value as RouterEvent);
      expect(kept).to.deep.equal(everything.slice(-10));
      await small.return();
      await all.return();
    } finally {
      await router.stop();
    }
  });
});

/** The control socket's pure pieces: wire encoding, line framing, the bounded per-client queue, config, CLI arguments, metrics text. */
import { expect } from 'chai';
import { EventEmitter } from 'events';

import { normalizeControl, parseListenAddress } from '../../lib/config/control';
import { FastpathError } from '../../lib/errors';
import { Outbox, OutboxSink } from '../../lib/control/outbox';
import { errorResponse } from '../../lib/control/server';
import { encodeLine, LineSplitter, toWire } from '../../lib/control/wire';
import { keywordArgs } from '../../lib/cli/ctl';
import { statsFromWire, table } from '../../lib/cli/tables';

/** A socket stand-in whose buffer takes `capacity` writes before asking the writer to wait. */
class FakeSink extends EventEmitter implements OutboxSink {
  written: string[] = [];
  destroyed = false;
  constructor(private capacity: number) {
    super();
  }
  write(data: string): boolean {
    this.written.push(data);
    return this.written.length < this.capacity;
  }
  destroy(): void {
    this.destroyed = true;
  }
  /** The peer read everything: room for `n` more. */
  drainFor(n: number): void {
    this.capacity = this.written.length + n;
    this.emit('drain');
  }
}

describe('control: wire encoding', () => {
  it('turns bigints into decimal strings, exactly, at any depth', () => {
    const big = 2n ** 64n - 1n;
    expect(toWire({ a: 1n, b: [big, { c: 0n }], d: 'x', e: 1.5, f: null })).to.deep.equal({ a: '1', b: ['18446744073709551615', { c: '0' }], d: 'x', e: 1.5, f: null });
  });

  it('writes dates as ISO strings and leaves undefined fields out', () => {
    expect(toWire({ at: new Date(0), gone: undefined })).to.deep.equal({ at: '1970-01-01T00:00:00.000Z' });
  });

  it('frames one message per line (JSON holds no raw newline)', () => {
    const line = encodeLine({ jsonrpc: '2.0', id: 1, result: { text: 'a\nb', n: 5n } });
    expect(line.endsWith('\n')).to.equal(true);
    expect(line.slice(0, -1)).to.not.include('\n');
    expect(JSON.parse(line)).to.deep.equal({ jsonrpc: '2.0', id: 1, result: { text: 'a\nb', n: '5' } });
  });

  it('splits a stream into lines across chunk boundaries and refuses an endless line', () => {
    const s = new LineSplitter(16);
    expect(s.push('{"a":')).to.deep.equal([]);
    expect(s.push('1}\n\n{"b":2}\n{"c"')).to.deep.equal(['{"a":1}', '{"b":2}']);
    expect(s.push(':3}\n')).to.deep.equal(['{"c":3}']);
    expect(() => s.push('x'.repeat(17))).to.throw(RangeError);
  });

  it("maps a FastpathError to the error object: message as is, code in data (EINVAL: invalid params)", () => {
    expect(errorResponse(7, new FastpathError('EEXIST', 'routes.add 2001:db8::/32: exists'))).to.deep.equal({
      jsonrpc: '2.0', id: 7, error: { code: -32000, message: 'routes.add 2001:db8::/32: exists', data: { code: 'EEXIST' } },
    });
    expect(errorResponse(1, new FastpathError('EINVAL', 'bad', 'x')).error.code).to.equal(-32602);
    expect(errorResponse(1, new Error('boom')).error).to.deep.equal({ code: -32603, message: 'boom', data: { code: 'EIO' } });
  });
});

describe('control: the per-client outbox', () => {
  const counters = () => ({ notificationsDropped: 0, closedOverflow: 0 });

  it('writes straight through while the socket accepts data', () => {
    const sink = new FakeSink(100);
    const o = new Outbox(sink, 2, counters());
    for (let i = 0; i < 10; i++) o.sendResponse(`r${i}\n`);
    expect(sink.written).to.have.length(10);
    expect(o.queued).to.equal(0);
  });

  it('queues up to the limit while blocked, then drops notifications and counts them; the next one says how many were lost', () => {
    const sink = new FakeSink(1);
    const c = counters();
    const o = new Outbox(sink, 3, c);
    const lostSeen: number[] = [];
    const note = (i: number) => (lost: number) => {
      lostSeen.push(lost);
      return `n${i}\n`;
    };
    for (let i = 0; i < 10; i++) o.sendNotification(note(i));
    // one written (the socket then asked to wait), three queued, six dropped
    expect(sink.written).to.deep.equal(['n0\n']);
    expect(o.queued).to.equal(3);
    expect(c.notificationsDropped).to.equal(6);
    sink.drainFor(100);
    expect(sink.written).to.deep.equal(['n0\n', 'n1\n', 'n2\n', 'n3\n']);
    o.sendNotification(note(10));
    expect(lostSeen[lostSeen.length - 1]).to.equal(6);
    expect(sink.destroyed).to.equal(false);
  });

  it('closes a client whose responses overflow the queue (it stopped reading its answers)', () => {
    const sink = new FakeSink(1);
    const c = counters();
    const o = new Outbox(sink, 2, c);
    expect(o.sendResponse('a\n')).to.equal(true);
    expect(o.sendResponse('b\n')).to.equal(true);
    expect(o.sendResponse('c\n')).to.equal(true);
    expect(o.sendResponse('d\n')).to.equal(false);
    expect(sink.destroyed).to.equal(true);
    expect(c.closedOverflow).to.equal(1);
    expect(o.sendNotification(() => 'x\n')).to.equal(false);
  });
});

describe('control: config section', () => {
  it('defaults the socket and leaves metrics off', () => {
    expect(normalizeControl(undefined)).to.deep.equal({ socket: '/run/fastpath/fastpath.sock' });
  });

  it('accepts a group name or gid and host:port metrics', () => {
    expect(normalizeControl({ socket: '/tmp/x.sock', socketGroup: 'fastpath', metrics: '127.0.0.1:9469' })).to.deep.equal({
      socket: '/tmp/x.sock', socketGroup: 'fastpath', metrics: '127.0.0.1:9469',
    });
    expect(normalizeControl({ socketGroup: 0 }).socketGroup).to.equal(0);
    expect(parseListenAddress('[::1]:0', 'p')).to.deep.equal({ host: '::1', port: 0 });
  });

  for (const [bad, at] of [
    [{ socket: 'relative.sock' }, 'control.socket'],
    [{ socket: `/${'x'.repeat(120)}` }, 'control.socket'],
    [{ metrics: '9469' }, 'control.metrics'],
    [{ metrics: '127.0.0.1:70000' }, 'control.metrics'],
    [{ socketGroup: 'no spaces' }, 'control.socketGroup'],
    [{ port: 1 }, 'control.port'],
  ] as const) {
    it(`refuses ${JSON.stringify(bad)} at ${at}`, () => {
      try {
        normalizeControl(bad);
        expect.fail('accepted');
      } catch (e) {
        expect((e as FastpathError).code).to.equal('EINVAL');
        expect((e as FastpathError).path).to.equal(at);
      }
    });
  }
});

describe('control: CLI pieces', () => {
  it("reads ip(8)-style keyword arguments and names what it does not know", () => {
    expect(keywordArgs(['via', '2001:db8::2', 'dev', 'eth1'], ['via', 'dev'], 'route add')).to.deep.equal({ via: '2001:db8::2', dev: 'eth1' });
    expect(() => keywordArgs(['gw', 'x'], ['via', 'dev'], 'route add')).to.throw(/unexpected "gw"/);
    expect(() => keywordArgs(['dev'], ['via', 'dev'], 'route add')).to.throw(/dev needs a value/);
  });

  it('turns the wire stats back into bigints', () => {
    const s = statsFromWire({ tsc: '123', ports: { eth0: { ipackets: '18446744073709551615' } }, lcores: [{ worker: 0 }] });
    expect(s.tsc).to.equal(123n);
    expect(s.ports.eth0.ipackets).to.equal(2n ** 64n - 1n);
    expect(s.lcores[0].worker).to.equal(0);
  });

  it('aligns table columns', () => {
    expect(table(['A', 'BB'], [['xyz', 1], [null, 'q']])).to.equal('A    BB\nxyz  1\n-    q');
  });
});

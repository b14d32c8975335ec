// describeValue: how every error message quotes an input; it never throws.
import { expect } from 'chai';

import { describeValue } from '../../lib/errors';

describe('describeValue', () => {
  it('quotes every kind of value as a reader would write it', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const cases: [unknown, string][] = [
      ['eth0', '"eth0"'],
      [NaN, 'NaN'],
      [-0, '-0'],
      [Infinity, 'Infinity'],
      [12n, '12n'],
      [undefined, 'undefined'],
      [null, 'null'],
      [true, 'true'],
      [Symbol('s'), 'Symbol(s)'],
      [() => 1, 'a function'],
      [{ via: 1n }, '{"via":"1n"}'],
      [cyclic, '{"a":1,"self":"[cycle]"}'],
      [Object.create(null), '{}'],
      [JSON.parse('{"__proto__":{"x":1}}'), '{"__proto__":{"x":1}}'],
    ];
    for (const [v, text] of cases) expect(describeValue(v)).to.equal(text);
  });

  it('cuts long strings and objects, saying how long they were', () => {
    expect(describeValue('x'.repeat(100000))).to.equal(`"${'x'.repeat(80)}"… (100000 characters)`);
    expect(describeValue({ a: 'y'.repeat(200) })).to.match(/… \(208 characters\)$/);
  });

  it('never throws, whatever toJSON, toString or a proxy do', () => {
    const hostile = {
      toJSON(): never {
        throw new Error('toJSON');
      },
    };
    const proxy = new Proxy({}, {
      get(): never {
        throw new Error('get');
      },
      ownKeys(): never {
        throw new Error('ownKeys');
      },
    });
    expect(describeValue(hostile)).to.equal('[object Object]');
    expect(describeValue(proxy)).to.be.a('string');
  });
});

import { expect } from 'chai';
import {
  addressEqual,
  formatIPv6,
  formatMac,
  formatPrefix,
  isCanonicalPrefix,
  isLinkLocal,
  isLoopback,
  isMulticast,
  isMulticastMac,
  isUnspecified,
  isZeroMac,
  parseIPv6,
  parseMac,
  parsePrefix,
  prefixContains,
  prefixNetwork,
} from '../../lib/addr';
import { FastpathError } from '../../lib/errors';

/** Hex string of bytes, for readable comparisons. */
function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** Run fn, expect FastpathError EINVAL whose message names `input`. */
function expectEinval(fn: () => unknown, input: string): FastpathError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(FastpathError);
    const e = err as FastpathError;
    expect(e.code).to.equal('EINVAL');
    expect(e.message).to.include(JSON.stringify(input));
    return e;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('addr: parseIPv6', () => {
  const valid: [string, string][] = [
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['1::', '00010000000000000000000000000000'],
    ['2001:db8::1', '20010db8000000000000000000000001'],
    ['2001:DB8:0:0:0:0:0:1', '20010db8000000000000000000000001'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '20010db8000000000000000000000001'],
    ['fe80::1:2', 'fe800000000000000000000000010002'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
    ['::2:3:4:5:6:7:8', '00000002000300040005000600070008'],
    ['1::8', '00010000000000000000000000000008'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['::192.0.2.1', '000000000000000000000000c0000201'],
    ['64:ff9b::10.0.0.1', '0064ff9b0000000000000000 0a000001'.replace(' ', '')],
    ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
    ['ff02::1:ff00:1', 'ff0200000000000000000001ff000001'],
  ];
  for (const [text, bytes] of valid) {
    it(`parses ${text}`, () => expect(hex(parseIPv6(text))).to.equal(bytes));
  }

  const invalid = [
    '',
    ':',
    ':::',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    '1:::2',
    ':1::2',
    '1::2:',
    '12345::',
    'g::1',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    'fe80::1%eth0',
    '::1.2.3',
    '::1.2.3.256',
    '::1.2.3.04',
    '1.2.3.4::',
    '::1.2.3.4:5',
    '1:2:3:4:5:6:7:1.2.3.4',
    ' ::1',
    '2001:db8::/64',
  ];
  for (const text of invalid) {
    it(`rejects ${JSON.stringify(text)} with EINVAL naming it`, () => expectEinval(() => parseIPv6(text), text));
  }

  it('rejects a non-string', () => {
    expect(() => parseIPv6(42 as unknown as string)).to.throw(FastpathError, /not a string/);
  });
});

describe('addr: formatIPv6 (RFC 5952)', () => {
  const cases: [string, string][] = [
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'], // longest run wins
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single 0 group is not compressed
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['fe80:0:0:0:0:0:0:abcd', 'fe80::abcd'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['::ffff:c000:0201', '::ffff:192.0.2.1'], // IPv4-mapped, section 5
    ['0:0:1::', '0:0:1::'],
  ];
  for (const [input, text] of cases) {
    it(`formats ${input} as ${text}`, () => expect(formatIPv6(parseIPv6(input))).to.equal(text));
  }

  it('round-trips its own output', () => {
    for (const [, text] of cases) expect(formatIPv6(parseIPv6(text))).to.equal(text);
  });

  it('rejects a buffer that is not 16 bytes', () => {
    expect(() => formatIPv6(new Uint8Array(4))).to.throw(FastpathError, /16 address bytes/);
  });
});

describe('addr: prefixes', () => {
  it('parses address and length, keeping host bits', () => {
    const p = parsePrefix('2001:db8::1/64');
    expect(formatIPv6(p.address)).to.equal('2001:db8::1');
    expect(p.length).to.equal(64);
  });

  it('accepts /0 and /128', () => {
    expect(parsePrefix('::/0').length).to.equal(0);
    expect(parsePrefix('::1/128').length).to.equal(128);
  });

  for (const bad of ['2001:db8::', '2001:db8::/129', '2001:db8::/-1', '2001:db8::/064', '2001:db8::/', '2001:db8::/6a', '2001:db8::/64/1', 'x/64']) {
    it(`rejects ${JSON.stringify(bad)}`, () => expectEinval(() => parsePrefix(bad), bad));
  }

  it('zeroes host bits with prefixNetwork', () => {
    const cases: [string, string][] = [
      ['2001:db8:1:2:3:4:5:6/64', '2001:db8:1:2::/64'],
      ['2001:db8:ffff::/33', '2001:db8:8000::/33'],
      ['ffff::/0', '::/0'],
      ['2001:db8::1/128', '2001:db8::1/128'],
      ['2001:db8:abcd::/37', '2001:db8:a800::/37'],
    ];
    for (const [input, network] of cases) expect(formatPrefix(prefixNetwork(parsePrefix(input)))).to.equal(network);
  });

  it('does not modify the input of prefixNetwork', () => {
    const p = parsePrefix('2001:db8::1/64');
    prefixNetwork(p);
    expect(formatIPv6(p.address)).to.equal('2001:db8::1');
  });

  it('tells canonical prefixes apart', () => {
    expect(isCanonicalPrefix(parsePrefix('2001:db8::/32'))).to.equal(true);
    expect(isCanonicalPrefix(parsePrefix('::/0'))).to.equal(true);
    expect(isCanonicalPrefix(parsePrefix('2001:db8::1/64'))).to.equal(false);
    expect(isCanonicalPrefix(parsePrefix('2001:db9::/31'))).to.equal(false);
  });

  it('checks containment', () => {
    const p = parsePrefix('2001:db8:1::/48');
    expect(prefixContains(p, parseIPv6('2001:db8:1:ffff::1'))).to.equal(true);
    expect(prefixContains(p, parseIPv6('2001:db8:2::1'))).to.equal(false);
    expect(prefixContains(parsePrefix('::/0'), parseIPv6('ff02::1'))).to.equal(true);
  });

  it('compares addresses', () => {
    expect(addressEqual(parseIPv6('2001:db8::1'), parseIPv6('2001:DB8:0::1'))).to.equal(true);
    expect(addressEqual(parseIPv6('2001:db8::1'), parseIPv6('2001:db8::2'))).to.equal(false);
  });
});

describe('addr: address classes', () => {
  it('link-local is fe80::/10', () => {
    expect(isLinkLocal(parseIPv6('fe80::1'))).to.equal(true);
    expect(isLinkLocal(parseIPv6('febf::1'))).to.equal(true);
    expect(isLinkLocal(parseIPv6('fec0::1'))).to.equal(false);
    expect(isLinkLocal(parseIPv6('2001:db8::1'))).to.equal(false);
  });

  it('multicast is ff00::/8', () => {
    expect(isMulticast(parseIPv6('ff02::1'))).to.equal(true);
    expect(isMulticast(parseIPv6('fe80::1'))).to.equal(false);
  });

  it('unspecified and loopback', () => {
    expect(isUnspecified(parseIPv6('::'))).to.equal(true);
    expect(isUnspecified(parseIPv6('::1'))).to.equal(false);
    expect(isLoopback(parseIPv6('::1'))).to.equal(true);
    expect(isLoopback(parseIPv6('::'))).to.equal(false);
    expect(isLoopback(parseIPv6('1::1'))).to.equal(false);
  });
});

describe('addr: MAC addresses', () => {
  it('parses colon and dash forms in any case', () => {
    expect(hex(parseMac('02:00:00:AB:cd:ef'))).to.equal('020000abcdef');
    expect(hex(parseMac('02-00-00-ab-CD-EF'))).to.equal('020000abcdef');
  });

  it('formats lowercase with colons', () => {
    expect(formatMac(parseMac('AA-BB-CC-DD-EE-0F'))).to.equal('aa:bb:cc:dd:ee:0f');
  });

  for (const bad of ['', '02:00:00:00:00', '02:00:00:00:00:00:00', '2:0:0:0:0:1', '02:00-00:00:00:01', '02:00:00:00:00:0g', '0200.0000.0001']) {
    it(`rejects ${JSON.stringify(bad)}`, () => expectEinval(() => parseMac(bad), bad));
  }

  it('classifies group and zero MACs', () => {
    expect(isMulticastMac(parseMac('33:33:00:00:00:01'))).to.equal(true);
    expect(isMulticastMac(parseMac('ff:ff:ff:ff:ff:ff'))).to.equal(true);
    expect(isMulticastMac(parseMac('02:00:00:00:00:01'))).to.equal(false);
    expect(isZeroMac(parseMac('00:00:00:00:00:00'))).to.equal(true);
    expect(isZeroMac(parseMac('00:00:00:00:00:01'))).to.equal(false);
  });

  it('formatMac rejects a buffer that is not 6 bytes', () => {
    expect(() => formatMac(new Uint8Array(5))).to.throw(FastpathError, /6 MAC bytes/);
  });
});

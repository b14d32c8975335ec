// Hostile config input, generated (fast-check): junk in every field the
// schema has — wrong types, NaN, ±Infinity, -0, negative and huge numbers,
// bigints, very long strings, unicode, __proto__ / constructor / prototype
// keys, null-prototype and boxed objects, sparse arrays — and junk for whole
// configs and YAML files. Each call either succeeds or throws a FastpathError
// with a code, a path and a message naming it; never a plain TypeError, never
// a polluted Object.prototype. And the published JSON Schema is never
// stricter than the validator: whatever normalizeConfig accepts, a draft-07
// validator accepts under dpdk-config/fastpath.schema.json.
//
// The seed is fixed so CI is repeatable; FASTPATH_FC_SEED=<n> tries another.
import { expect } from 'chai';
import fc from 'fast-check';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { configJsonSchema, loadConfig, normalizeConfig } from '../../lib/config';
import { normalizeControl } from '../../lib/config/control';
import { normalizeSiftrOptions } from '../../lib/config/siftr';
import { describeValue, FastpathError } from '../../lib/errors';
import { jsonSchemaVerdict } from '../helpers/config-json-schema';

const CPUS = { allowedCpus: [0, 1, 2, 3] };
const SEED = Number(process.env.FASTPATH_FC_SEED ?? 20261202);

/** A valid config with every section present, so a junk field meets every check after it. */
function validConfig(): Record<string, any> {
  return {
    eal: { workers: 1, workerCpus: [3], shareWorkerCpus: false, memoryMb: 512, hugepages: false, filePrefix: 'fp-hostile', pciAllow: ['0000:03:00.0'], extraArgs: ['--single-file-segments'], logLevel: 'notice' },
    ports: [
      { name: 'eth0', device: 'net_null0', mac: '02:00:00:00:00:01', mtu: 1500, promiscuous: true, addresses: ['2001:db8:1::1/64'], rxDescriptors: 1024, txDescriptors: 1024, routerAdvertisements: true, raMaxIntervalS: 600, raMinIntervalS: 200, raRouterLifetimeS: 1800, dadTransmits: 1, mld: { version: 2 } },
      { name: 'eth1', device: 'net_null1', addresses: ['2001:db8:2::1/64'] },
    ],
    clones: [{ cloner: 'vlan', name: 'eth0.7', parent: 'eth0', vlan: 7, addresses: ['2001:db8:7::1/64'] }],
    routes: [
      { prefix: '2001:db8:3::/64', via: 'fe80::2', dev: 'eth1' },
      { prefix: '2001:db8:4::/64', nexthops: [{ via: 'fe80::2', dev: 'eth1', weight: 2 }, { dev: 'eth0' }] },
    ],
    neighbours: [{ address: 'fe80::2', mac: '02:00:00:00:01:02', dev: 'eth1' }],
    flowCache: { maxflows: 1024, hashsize: 2048, idleTimeoutMs: 5000 },
    mempool: { mbufs: 8191, cacheSize: 256 },
    neighbourDiscovery: { baseReachableTimeMs: 30000, maxNeighbours: 1024 },
    icmpErrors: { perSecond: 100, burst: 10 },
    routing: { maxRoutes: 1024, tbl8Groups: 1024 },
    flowLabels: { autoLabels: true, stateRanges: true },
    siftr: { enabled: false, logfile: '/tmp/siftr.log', ppl: 1, portFilter: 0, cwndFilter: false, local: 'initiator', pickupMidstream: false, maxConnections: 1024, ringSize: 1024, maxFlows: 1024, idleTimeoutMs: 300000, closeGraceMs: 30000 },
    control: { socket: '/run/fastpath/test.sock', socketGroup: 0, metrics: '127.0.0.1:0' },
    topology: { prefix: 'fp', hosts: [{ name: 'h1', port: 'eth0', address: '2001:db8:1::2/64', gateway: 'fe80::1' }] },
  };
}

type Key = string | number;

/** Every path the published schema describes (an array's items as index 0), sections and leaves alike. */
function schemaPaths(node: any, at: Key[] = []): Key[][] {
  const paths: Key[][] = at.length > 0 ? [at] : [];
  if (node?.properties) for (const [k, v] of Object.entries(node.properties)) paths.push(...schemaPaths(v, [...at, k]));
  if (node?.items) paths.push(...schemaPaths(node.items, [...at, 0]));
  return paths;
}

/** Set the field at `keys`, making the objects and arrays on the way that the base config lacks. */
function setAt(obj: any, keys: readonly Key[], value: unknown): void {
  let o = obj;
  keys.slice(0, -1).forEach((k, i) => {
    o[k] ??= typeof keys[i + 1] === 'number' ? [] : {};
    o = o[k];
  });
  // defineProperty: a '__proto__' key becomes an own property, as JSON.parse and YAML make it.
  Object.defineProperty(o, keys[keys.length - 1], { value, enumerable: true, writable: true, configurable: true });
}

const hostileKey = fc.oneof(
  fc.string(),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'polluted', ''),
);

/** Values no field wants, and a few that some field does. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({
    key: hostileKey,
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withObjectString: true,
    withSparseArray: true,
    withTypedArray: true,
    withUnicodeString: true,
  }),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, -1, 0.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 64, Number.MAX_VALUE, Number.MIN_VALUE, -Number.MAX_VALUE),
  fc.double(),
  fc.integer(),
  fc.bigInt(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.integer({ min: 200, max: 100000 }).map((n) => 'x'.repeat(n)),
  fc.constantFrom('\0', '\u202e', '𝔢𝔱𝔥0', 'eth0\n', '2001:db8::1/64\0', '../../etc/passwd', 'net_null0,iface=\u00e9'),
  fc.constant(null),
  fc.constant(undefined),
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}}')),
  fc.constant({ constructor: { prototype: { polluted: true } } }),
);

const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();

/** Either a normalized config or a FastpathError that names where; nothing else, and no pollution. */
function expectFastpathOutcome(run: () => unknown): unknown {
  let result: unknown;
  try {
    result = run();
  } catch (e) {
    // The stack only when failing: with ts-node's source maps, reading it costs milliseconds.
    if (!(e instanceof FastpathError)) expect.fail(`not a FastpathError: ${(e as Error)?.stack ?? String(e)}`);
    const err = e as FastpathError;
    expect(err.code).to.be.a('string').and.match(/^E[A-Z]+$/);
    expect(err.message).to.be.a('string').and.not.equal('');
    if (err.path !== undefined) expect(err.message).to.include(`${err.path || 'config'}: `);
    result = err;
  }
  expect(({} as Record<string, unknown>).polluted, 'Object.prototype polluted').to.equal(undefined);
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).to.deep.equal(prototypeNames);
  return result;
}

describe('config: hostile input (property-based)', () => {
  const paths = schemaPaths(configJsonSchema());

  it('finds every field of the schema, nested ones included', () => {
    const names = paths.map((p) => p.join('.'));
    for (const f of ['eal.workerCpus.0', 'ports.0.mld.version', 'routes.0.nexthops.0.weight', 'siftr.cwndFilter', 'control.socketGroup', 'topology.hosts.0.gateway']) {
      expect(names).to.include(f);
    }
    expect(paths.length).to.be.greaterThan(80);
  });

  it('the valid base config is valid, and the JSON Schema agrees', () => {
    expect(() => normalizeConfig(validConfig(), CPUS)).to.not.throw();
    expect(jsonSchemaVerdict(validConfig())).to.equal(null);
  });

  it('junk in any one field: a FastpathError naming a field, or success that the JSON Schema agrees with', () => {
    fc.assert(
      fc.property(fc.constantFrom(...paths), junk, (keys, value) => {
        const cfg = validConfig();
        setAt(cfg, keys, value);
        const out = expectFastpathOutcome(() => normalizeConfig(cfg, CPUS));
        if (out instanceof FastpathError) {
          // A validation error names a field (the one changed, or one that refers to it).
          if (out.code === 'EINVAL') expect(out.path, out.message).to.be.a('string');
        } else {
          // Accepted: the published schema must accept it too (as JSON: no undefined-valued keys).
          expect(jsonSchemaVerdict(JSON.parse(JSON.stringify(cfg))), `${keys.join('.')} = ${describeValue(value)}`).to.equal(null);
        }
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it('junk in several fields at once, and unknown keys anywhere', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...paths), junk), { minLength: 2, maxLength: 6 }), (edits) => {
        const cfg = validConfig();
        for (const [keys, value] of edits) {
          try {
            setAt(cfg, keys, value);
          } catch {
            // An earlier edit replaced a parent with a non-object: this one has nowhere to go.
          }
        }
        const out = expectFastpathOutcome(() => normalizeConfig(cfg, CPUS));
        if (!(out instanceof FastpathError)) expect(jsonSchemaVerdict(JSON.parse(JSON.stringify(cfg)))).to.equal(null);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('a whole config of junk, and junk for the sections checked on their own (control, siftr.enable options)', () => {
    fc.assert(
      fc.property(fc.oneof(junk, fc.dictionary(hostileKey, junk)), (cfg) => {
        expectFastpathOutcome(() => normalizeConfig(cfg, CPUS));
        expectFastpathOutcome(() => normalizeControl(cfg));
        expectFastpathOutcome(() => normalizeSiftrOptions(cfg));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('__proto__ and constructor keys are unknown fields at their own path, polluting nothing', () => {
    for (const text of [
      '{"ports": [], "__proto__": {"polluted": true}}',
      '{"ports": [{"name": "eth0", "device": "net_null0", "__proto__": {"mtu": 1}}]}',
      '{"ports": [], "eal": {"constructor": {"prototype": {"polluted": true}}}}',
    ]) {
      const err = expectFastpathOutcome(() => normalizeConfig(JSON.parse(text), CPUS)) as FastpathError;
      expect(err).to.be.instanceOf(FastpathError);
      expect(err.message).to.match(/(__proto__|constructor): unknown field/);
    }
  });

  it('nesting 100,000 deep, a cycle, a huge array: refused at a path, no stack overflow', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100000; i++) deep = i % 2 ? [deep] : { a: deep };
    const cycle: Record<string, unknown> = { ports: [] };
    cycle.eal = cycle;
    for (const cfg of [{ ports: deep }, { ports: [], eal: deep }, { ports: [], routes: [deep] }, cycle, { ports: new Array(1e6).fill(0) }]) {
      expect(expectFastpathOutcome(() => normalizeConfig(cfg, CPUS))).to.be.instanceOf(FastpathError);
    }
  });

  describe('YAML files of junk', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fp-hostile-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('random text, and valid YAML with junk values: loadConfig returns or throws a FastpathError', () => {
      const file = path.join(dir, 'x.yaml');
      const yamlish = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.array(fc.constantFrom('ports:', '  - name: eth0', '    device: net_null0', '__proto__:', '  polluted: 1', 'eal: &a [*a]', '- *x', '!!js/function f', '{', '"', '\t', 'ports: !!binary AAAA', '? [a]', ': b', '---', 'x: 1e999', 'y: .nan', 'z: 0x10'), { maxLength: 12 }).map((l) => l.join('\n')),
      );
      fc.assert(
        fc.property(yamlish, (text) => {
          fs.writeFileSync(file, text);
          expectFastpathOutcome(() => loadConfig(file, CPUS));
        }),
        { seed: SEED, numRuns: 300 },
      );
    });

    it('an alias bomb is refused, not expanded', () => {
      const file = path.join(dir, 'bomb.yaml');
      const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
      for (let i = 1; i < 12; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
      lines.push('ports: []');
      fs.writeFileSync(file, lines.join('\n'));
      const err = expectFastpathOutcome(() => loadConfig(file, CPUS));
      expect(err).to.be.instanceOf(FastpathError);
    });
  });
});

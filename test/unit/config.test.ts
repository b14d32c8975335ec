import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  allowedCpus,
  classifyDevice,
  ealArgs,
  formatCpuList,
  hugepagesFromProc,
  KNOWN_VDEV_DRIVERS,
  loadConfig,
  normalizeConfig,
  parseCpuList,
  usesHugepages,
  type NormalizedRouterConfig,
  type NormalizeOptions,
} from '../../lib/config';
import type { NormalizedConfig, RouterConfig } from '../../lib/config-types';
import { FastpathError } from '../../lib/errors';

/** A fake machine: CPUs 0-3 allowed. */
const CPUS4 = { allowedCpus: [0, 1, 2, 3] };

/** A fresh, valid config touching every section. */
function sample(): any {
  return {
    eal: { workers: 1, filePrefix: 'fp-test' },
    ports: [
      { name: 'eth0', device: 'net_af_packet0,iface=veth0', addresses: ['2001:db8:1::1/64'] },
      { name: 'eth1', device: 'net_af_packet1,iface=veth1', addresses: ['2001:db8:2::1/64'], mac: '02:00:00:00:00:02' },
    ],
    routes: [{ prefix: '2001:db8:3::/64', via: 'fe80::2', dev: 'eth1' }],
    neighbours: [{ address: 'fe80::2', mac: '02:00:00:00:01:02', dev: 'eth1' }],
    flowCache: { maxflows: 1024 },
    mempool: { mbufs: 8191 },
    topology: {
      hosts: [
        { name: 'h1', port: 'eth0', address: '2001:db8:1::2/64', gateway: '2001:db8:1::1' },
        { name: 'h2', port: 'eth1', address: '2001:db8:2::2/64', gateway: 'fe80::1' },
      ],
    },
  };
}

/** Expect normalizeConfig to fail with EINVAL at `path`, the message naming path and value. */
function expectBad(input: unknown, errPath: string, value?: unknown, opts: NormalizeOptions = CPUS4): FastpathError {
  let error: unknown;
  try {
    normalizeConfig(input, opts);
  } catch (err) {
    error = err;
  }
  expect(error, `expected an error at ${errPath}`).to.be.instanceOf(FastpathError);
  const e = error as FastpathError;
  expect(e.code).to.equal('EINVAL');
  expect(e.path).to.equal(errPath);
  expect(e.message.startsWith(`${errPath || 'config'}: `), e.message).to.equal(true);
  if (value !== undefined) expect(e.message).to.include(`got ${JSON.stringify(value)}`);
  return e;
}

/** sample() with one change applied. */
function changed(edit: (c: any) => void): any {
  const c = sample();
  edit(c);
  return c;
}

describe('config: normalizeConfig defaults', () => {
  it('fills every default for a minimal config', () => {
    const cfg = normalizeConfig({ ports: [{ name: 'eth0', device: 'net_null0' }] }, CPUS4);
    expect(cfg).to.deep.equal({
      eal: {
        workers: 1,
        workerCpus: [3],
        shareWorkerCpus: false,
        memoryMb: 512,
        hugepages: 'auto',
        filePrefix: `fastpath-${process.pid}`,
        pciAllow: [],
        extraArgs: [],
        logLevel: 'notice',
      },
      ports: [
        {
          name: 'eth0',
          device: 'net_null0',
          mtu: 1500,
          promiscuous: true,
          addresses: [],
          rxDescriptors: 1024,
          txDescriptors: 1024,
          routerAdvertisements: false,
          raMaxIntervalS: 600,
          raMinIntervalS: 200,
          raRouterLifetimeS: 1800,
          dadTransmits: 1,
          mld: { version: 2 },
        },
      ],
      routes: [],
      neighbours: [],
      clones: [],
      flowCache: { maxflows: 16384, hashsize: 32768, idleTimeoutMs: 5000, floodAdmission: true, mode: 'cache' },
      mempool: { mbufs: 16383, cacheSize: 256 },
      neighbourDiscovery: { baseReachableTimeMs: 30000, maxNeighbours: 16384 },
      icmpErrors: { perSecond: 100, burst: 10 },
      routing: { maxRoutes: 16384, tbl8Groups: 16384 },
      flowLabels: { autoLabels: true, stateRanges: true },
      siftr: {
        enabled: false,
        logfile: '',
        ppl: 1,
        portFilter: 0,
        local: 'initiator',
        pickupMidstream: false,
        maxConnections: 65536,
        ringSize: 8192,
        maxFlows: 65536,
        idleTimeoutMs: 300000,
        closeGraceMs: 30000,
      },
      control: { socket: '/run/fastpath/fastpath.sock' },
      linux: { mirrors: [], mirrorPrefix: 'fp-', importRoutes: false, importTable: 254, importProtocols: [] },
    });
  });

  it('is assignable to config-types NormalizedConfig', () => {
    const cfg: NormalizedConfig = normalizeConfig(sample(), CPUS4);
    expect(cfg.ports).to.have.length(2);
  });

  it('keeps given values and fills the topology prefix', () => {
    const cfg = normalizeConfig(sample(), CPUS4);
    expect(cfg.eal.filePrefix).to.equal('fp-test');
    expect(cfg.ports[1].mac).to.equal('02:00:00:00:00:02');
    expect(cfg.ports[0]).to.not.have.property('mac');
    expect(cfg.flowCache).to.deep.equal({ maxflows: 1024, hashsize: 32768, idleTimeoutMs: 5000, floodAdmission: true, mode: 'cache' });
    expect(cfg.mempool).to.deep.equal({ mbufs: 8191, cacheSize: 256 });
    expect(cfg.topology?.prefix).to.equal('fp');
    expect(cfg.topology?.hosts).to.have.length(2);
  });

  it('writes addresses, prefixes, MACs and PCI addresses in canonical form', () => {
    const cfg = normalizeConfig(
      {
        ports: [
          { name: 'up', device: '03:00.0', mac: '02-AA-BB-CC-DD-EE', addresses: ['2001:DB8:0:0::0001/64'] },
          { name: 'down', device: '0000:0A:00.1,rx_vec_en=0' },
        ],
        routes: [
          { prefix: '2001:DB8:0:0::/32', dev: 'up' },
          { prefix: '::/0', via: 'FE80:0::1', dev: 'up' },
        ],
        neighbours: [{ address: 'FE80::1', mac: '02:00:00:00:00:AA', dev: 'up' }],
        eal: { pciAllow: ['0000:0B:00.0'] },
      },
      CPUS4,
    );
    expect(cfg.ports[0].device).to.equal('0000:03:00.0');
    expect(cfg.ports[0].mac).to.equal('02:aa:bb:cc:dd:ee');
    expect(cfg.ports[0].addresses).to.deep.equal(['2001:db8::1/64']);
    expect(cfg.ports[1].device).to.equal('0000:0a:00.1,rx_vec_en=0');
    expect(cfg.routes).to.deep.equal([
      { prefix: '2001:db8::/32', dev: 'up' },
      { prefix: '::/0', via: 'fe80::1', dev: 'up' },
    ]);
    expect(cfg.neighbours).to.deep.equal([{ address: 'fe80::1', mac: '02:00:00:00:00:aa', dev: 'up' }]);
    expect(cfg.eal.pciAllow).to.deep.equal(['0000:0b:00.0']);
  });

  it('takes ECMP routes (nexthops) with weights defaulting to 1', () => {
    const c = sample();
    c.routes = [{ prefix: '2001:db8:3::/64', nexthops: [{ via: 'fe80::2', dev: 'eth1' }, { dev: 'eth0', weight: 3 }] }];
    expect(normalizeConfig(c, CPUS4).routes).to.deep.equal([
      { prefix: '2001:db8:3::/64', nexthops: [{ via: 'fe80::2', dev: 'eth1', weight: 1 }, { dev: 'eth0', weight: 3 }] },
    ]);
  });

  it('accepts an empty port list', () => {
    expect(normalizeConfig({ ports: [] }, CPUS4).ports).to.deep.equal([]);
  });

  it('lowers cacheSize to what a small pool allows when it is not given', () => {
    expect(normalizeConfig({ ports: [], mempool: { mbufs: 300 } }, CPUS4).mempool).to.deep.equal({ mbufs: 300, cacheSize: 200 });
  });
});

describe('config: workers and CPUs', () => {
  it('pins one worker to the highest allowed CPU', () => {
    expect(normalizeConfig({ ports: [] }, { allowedCpus: [0, 1] }).eal.workerCpus).to.deep.equal([1]);
  });

  it('pins three workers to the three highest allowed CPUs', () => {
    const cfg = normalizeConfig({ ports: [], eal: { workers: 3 } }, { allowedCpus: [0, 1, 2, 3, 4, 5, 6, 7] });
    expect(cfg.eal.workerCpus).to.deep.equal([5, 6, 7]);
  });

  it('follows a sparse allowed set (taskset/cgroups)', () => {
    const cfg = normalizeConfig({ ports: [], eal: { workers: 2 } }, { allowedCpus: [6, 0, 4, 2] });
    expect(cfg.eal.workerCpus).to.deep.equal([4, 6]);
  });

  it('takes the worker count from workerCpus when workers is omitted', () => {
    const cfg = normalizeConfig({ ports: [], eal: { workerCpus: [1, 2] } }, CPUS4);
    expect(cfg.eal.workers).to.equal(2);
    expect(cfg.eal.workerCpus).to.deep.equal([1, 2]);
  });

  it('rejects as many workers as CPUs: the Node thread needs one', () => {
    const e = expectBad({ ports: [], eal: { workers: 2 } }, 'eal.workers', 2, { allowedCpus: [0, 1] });
    expect(e.message).to.include('1..1').and.include('Node main thread');
  });

  it('rejects any worker on a single-CPU process, saying why', () => {
    const e = expectBad({ ports: [] }, 'eal.workers', 1, { allowedCpus: [0] });
    expect(e.message).to.include('at least 2 CPUs');
  });

  it('rejects workerCpus of the wrong length', () => {
    expectBad({ ports: [], eal: { workers: 2, workerCpus: [1] } }, 'eal.workerCpus', [1]);
  });

  it('rejects a worker CPU outside the allowed set', () => {
    const e = expectBad({ ports: [], eal: { workers: 2, workerCpus: [1, 9] } }, 'eal.workerCpus[1]', 9);
    expect(e.message).to.include('0-3');
  });

  it('rejects a CPU used twice', () => {
    expectBad({ ports: [], eal: { workers: 2, workerCpus: [2, 2] } }, 'eal.workerCpus[1]', 2);
  });

  it('lets workers share CPUs only when asked (functional tests on small machines)', () => {
    const two = { allowedCpus: [0, 1] };
    expect(normalizeConfig({ ports: [], eal: { workers: 2, shareWorkerCpus: true } }, two).eal.workerCpus).to.deep.equal([1, 1]);
    expect(normalizeConfig({ ports: [], eal: { workerCpus: [1, 1], shareWorkerCpus: true } }, two).eal.workers).to.equal(2);
    // The Node main thread still keeps a CPU of its own.
    expectBad({ ports: [], eal: { workerCpus: [0, 1], shareWorkerCpus: true } }, 'eal.workerCpus', [0, 1], two);
    expectBad({ ports: [], eal: { workers: 2, shareWorkerCpus: 'yes' } }, 'eal.shareWorkerCpus', 'yes', two);
    expect(ealArgs(normalizeConfig({ ports: [], eal: { workers: 2, shareWorkerCpus: true, filePrefix: 'p' } }, two), { ...two, hugepagesAvailable: false })[1]).to.equal(
      '--lcores=0@(0),1@1,2@1',
    );
  });

  it('reads the real allowed set when none is injected', () => {
    // The set is read once, at the first call: once EAL has started in this
    // process (addon tests in the same mocha run), Node's threads are moved
    // off the workers' CPUs and /proc/self/status shows fewer. What it shows
    // now is always within the set read.
    const cpus = allowedCpus();
    const now = parseCpuList(
      /^Cpus_allowed_list:\s*(.+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? `0-${os.cpus().length - 1}`,
    );
    expect(cpus.length, 'CPUs read').to.be.at.least(1);
    expect(now.every((c) => cpus.includes(c)), `now ${formatCpuList(now)}, read ${formatCpuList(cpus)}`).to.equal(true);
    if (cpus.length >= 2) {
      expect(normalizeConfig({ ports: [] }).eal.workerCpus).to.deep.equal([cpus[cpus.length - 1]]);
      return;
    }
    // One CPU (e.g. under `taskset -c 0`): no worker fits beside the main
    // thread, and the refusal names the CPU it read.
    const e = expectBad({ ports: [] }, 'eal.workers', 1, {}); // {}: the real allowed set
    expect(e.message).to.include(`this process may use only CPU ${cpus[0]} `);
  });
});

describe('config: every bad field names its path and value', () => {
  const cases: [string, (c: any) => void, string, unknown][] = [
    ['config not an object', () => undefined, '', undefined],
    ['ports missing', (c) => delete c.ports, 'ports', undefined],
    ['ports not an array', (c) => (c.ports = { name: 'eth0' }), 'ports', { name: 'eth0' }],
    ['port not an object', (c) => (c.ports[0] = 'eth0'), 'ports[0]', 'eth0'],
    ['port name missing', (c) => delete c.ports[0].name, 'ports[0].name', undefined],
    ['port name too long', (c) => (c.ports[0].name = 'a234567890123456'), 'ports[0].name', 'a234567890123456'],
    ['port name bad char', (c) => (c.ports[0].name = 'eth 0'), 'ports[0].name', 'eth 0'],
    ['port device missing', (c) => delete c.ports[0].device, 'ports[0].device', undefined],
    ['port device unknown driver', (c) => (c.ports[0].device = 'net_bogus0'), 'ports[0].device', 'net_bogus0'],
    ['port device bad PCI', (c) => (c.ports[0].device = '0000:03:00.9'), 'ports[0].device', '0000:03:00.9'],
    ['port device empty arg', (c) => (c.ports[0].device = 'net_null0,,x=1'), 'ports[0].device', 'net_null0,,x=1'],
    ['port mac multicast', (c) => (c.ports[0].mac = '01:00:5e:00:00:01'), 'ports[0].mac', '01:00:5e:00:00:01'],
    ['port mac zero', (c) => (c.ports[0].mac = '00:00:00:00:00:00'), 'ports[0].mac', '00:00:00:00:00:00'],
    ['port mac syntax', (c) => (c.ports[0].mac = '02:00:00:00:00'), 'ports[0].mac', '02:00:00:00:00'],
    ['port mtu too big', (c) => (c.ports[0].mtu = 70000), 'ports[0].mtu', 70000],
    ['port mtu below IPv6 minimum', (c) => (c.ports[1].mtu = 1279), 'ports[1].mtu', 1279],
    ['port mtu not integer', (c) => (c.ports[0].mtu = 1500.5), 'ports[0].mtu', 1500.5],
    ['port mtu string', (c) => (c.ports[0].mtu = '1500'), 'ports[0].mtu', '1500'],
    ['port promiscuous', (c) => (c.ports[0].promiscuous = 'yes'), 'ports[0].promiscuous', 'yes'],
    ['port addresses not array', (c) => (c.ports[0].addresses = '2001:db8::1/64'), 'ports[0].addresses', '2001:db8::1/64'],
    ['port address no length', (c) => (c.ports[0].addresses = ['2001:db8::1']), 'ports[0].addresses[0]', '2001:db8::1'],
    ['port address bad', (c) => c.ports[1].addresses.push('2001:db8::g/64'), 'ports[1].addresses[1]', '2001:db8::g/64'],
    ['port address multicast', (c) => (c.ports[0].addresses = ['ff02::1/64']), 'ports[0].addresses[0]', 'ff02::1/64'],
    ['port address length', (c) => (c.ports[0].addresses = ['2001:db8::1/129']), 'ports[0].addresses[0]', '2001:db8::1/129'],
    ['rxDescriptors not power of two', (c) => (c.ports[0].rxDescriptors = 1000), 'ports[0].rxDescriptors', 1000],
    ['txDescriptors too small', (c) => (c.ports[0].txDescriptors = 32), 'ports[0].txDescriptors', 32],
    ['txDescriptors too big', (c) => (c.ports[0].txDescriptors = 32768), 'ports[0].txDescriptors', 32768],
    ['routes not array', (c) => (c.routes = null), 'routes', null],
    ['route prefix missing', (c) => delete c.routes[0].prefix, 'routes[0].prefix', undefined],
    ['route prefix syntax', (c) => (c.routes[0].prefix = '2001:db8::'), 'routes[0].prefix', '2001:db8::'],
    ['route prefix host bits', (c) => (c.routes[0].prefix = '2001:db8:3::1/64'), 'routes[0].prefix', '2001:db8:3::1/64'],
    ['route via multicast', (c) => (c.routes[0].via = 'ff02::2'), 'routes[0].via', 'ff02::2'],
    ['route via unspecified', (c) => (c.routes[0].via = '::'), 'routes[0].via', '::'],
    ['route via with length', (c) => (c.routes[0].via = 'fe80::1/64'), 'routes[0].via', 'fe80::1/64'],
    ['route dev unknown', (c) => (c.routes[0].dev = 'eth9'), 'routes[0].dev', 'eth9'],
    ['route dev missing', (c) => delete c.routes[0].dev, 'routes[0].dev', undefined],
    ['route nexthops one', (c) => (c.routes[0] = { prefix: '2001:db8:3::/64', nexthops: [{ dev: 'eth1' }] }), 'routes[0].nexthops', [{ dev: 'eth1' }]],
    ['route nexthops not array', (c) => (c.routes[0] = { prefix: '2001:db8:3::/64', nexthops: 'eth1' }), 'routes[0].nexthops', 'eth1'],
    ['route nexthops and dev', (c) => (c.routes[0] = { prefix: '2001:db8:3::/64', dev: 'eth1', nexthops: [{ dev: 'eth0' }, { dev: 'eth1' }] }), 'routes[0].nexthops', [{ dev: 'eth0' }, { dev: 'eth1' }]],
    ['route nexthop dev unknown', (c) => (c.routes[0] = { prefix: '2001:db8:3::/64', nexthops: [{ dev: 'eth0' }, { dev: 'eth9' }] }), 'routes[0].nexthops[1].dev', 'eth9'],
    ['route nexthop via multicast', (c) => (c.routes[0] = { prefix: '2001:db8:3::/64', nexthops: [{ dev: 'eth0' }, { via: 'ff02::1', dev: 'eth1' }] }), 'routes[0].nexthops[1].via', 'ff02::1'],
    ['route nexthop weight', (c) => (c.routes[0] = { prefix: '2001:db8:3::/64', nexthops: [{ dev: 'eth0', weight: 17 }, { dev: 'eth1' }] }), 'routes[0].nexthops[0].weight', 17],
    ['neighbour address multicast', (c) => (c.neighbours[0].address = 'ff02::1'), 'neighbours[0].address', 'ff02::1'],
    ['neighbour mac multicast', (c) => (c.neighbours[0].mac = '33:33:00:00:00:01'), 'neighbours[0].mac', '33:33:00:00:00:01'],
    ['neighbour mac missing', (c) => delete c.neighbours[0].mac, 'neighbours[0].mac', undefined],
    ['neighbour dev unknown', (c) => (c.neighbours[0].dev = 'eth2'), 'neighbours[0].dev', 'eth2'],
    ['eal not an object', (c) => (c.eal = []), 'eal', []],
    ['eal workers zero', (c) => (c.eal.workers = 0), 'eal.workers', 0],
    ['eal workers string', (c) => (c.eal.workers = '1'), 'eal.workers', '1'],
    ['eal workerCpus not array', (c) => (c.eal.workerCpus = 1), 'eal.workerCpus', 1],
    ['eal workerCpus item', (c) => (c.eal.workerCpus = ['1']), 'eal.workerCpus[0]', '1'],
    ['eal memoryMb', (c) => (c.eal.memoryMb = 32), 'eal.memoryMb', 32],
    ['eal hugepages', (c) => (c.eal.hugepages = 'yes'), 'eal.hugepages', 'yes'],
    ['eal filePrefix slash', (c) => (c.eal.filePrefix = '../x'), 'eal.filePrefix', '../x'],
    ['eal filePrefix empty', (c) => (c.eal.filePrefix = ''), 'eal.filePrefix', ''],
    ['eal pciAllow item', (c) => (c.eal.pciAllow = ['net_null0']), 'eal.pciAllow[0]', 'net_null0'],
    ['eal pciAllow duplicate', (c) => (c.eal.pciAllow = ['03:00.0', '0000:03:00.0']), 'eal.pciAllow[1]', '0000:03:00.0'],
    ['eal extraArgs not strings', (c) => (c.eal.extraArgs = [1]), 'eal.extraArgs[0]', 1],
    ['eal extraArgs derived --lcores', (c) => (c.eal.extraArgs = ['--lcores=0@0']), 'eal.extraArgs[0]', '--lcores=0@0'],
    ['eal extraArgs derived -m', (c) => (c.eal.extraArgs = ['--vdev=net_null9', '-m512']), 'eal.extraArgs[1]', '-m512'],
    ['eal extraArgs derived --no-huge', (c) => (c.eal.extraArgs = ['--no-huge']), 'eal.extraArgs[0]', '--no-huge'],
    ['eal logLevel', (c) => (c.eal.logLevel = 'verbose'), 'eal.logLevel', 'verbose'],
    ['eal logLevel prototype key', (c) => (c.eal.logLevel = 'toString'), 'eal.logLevel', 'toString'],
    ['flowCache maxflows', (c) => (c.flowCache.maxflows = -1), 'flowCache.maxflows', -1],
    ['flowCache hashsize', (c) => (c.flowCache.hashsize = 3000), 'flowCache.hashsize', 3000],
    ['flowCache idleTimeoutMs', (c) => (c.flowCache.idleTimeoutMs = 50), 'flowCache.idleTimeoutMs', 50],
    ['flowCache null', (c) => (c.flowCache = null), 'flowCache', null],
    ['mempool mbufs', (c) => (c.mempool.mbufs = 100), 'mempool.mbufs', 100],
    ['mempool cacheSize', (c) => (c.mempool.cacheSize = 513), 'mempool.cacheSize', 513],
    ['mempool cacheSize vs mbufs', (c) => (c.mempool = { mbufs: 300, cacheSize: 256 }), 'mempool.cacheSize', 256],
    ['topology hosts missing', (c) => delete c.topology.hosts, 'topology.hosts', undefined],
    ['topology prefix', (c) => (c.topology.prefix = '1fp'), 'topology.prefix', '1fp'],
    ['topology host name', (c) => (c.topology.hosts[0].name = 'h 1'), 'topology.hosts[0].name', 'h 1'],
    ['topology host name too long', (c) => (c.topology.hosts[0].name = 'h'.repeat(65)), 'topology.hosts[0].name', 'h'.repeat(65)],
    ['topology host name ends in -digits', (c) => (c.topology.hosts[0].name = 'h-1'), 'topology.hosts[0].name', 'h-1'],
    ['topology prefix too long', (c) => (c.topology.prefix = 'p'.repeat(13)), 'topology.prefix', 'p'.repeat(13)],
    ['topology two hosts on a port', (c) => (c.topology.hosts[1].port = 'eth0'), 'topology.hosts[1].port', 'eth0'],
    ['topology host port', (c) => (c.topology.hosts[1].port = 'eth7'), 'topology.hosts[1].port', 'eth7'],
    ['topology host address', (c) => (c.topology.hosts[0].address = '2001:db8:1::2'), 'topology.hosts[0].address', '2001:db8:1::2'],
    ['topology host gateway syntax', (c) => (c.topology.hosts[0].gateway = 'fe80::1::1'), 'topology.hosts[0].gateway', 'fe80::1::1'],
    ['topology gateway outside host prefix', (c) => (c.topology.hosts[0].gateway = '2001:db8:9::1'), 'topology.hosts[0].gateway', '2001:db8:9::1'],
    ['topology gateway not the port address', (c) => (c.topology.hosts[0].gateway = '2001:db8:1::9'), 'topology.hosts[0].gateway', '2001:db8:1::9'],
    ['topology gateway is the host', (c) => (c.topology.hosts[0].gateway = '2001:db8:1::2'), 'topology.hosts[0].gateway', '2001:db8:1::2'],
    ['dadTransmits above 10', (c) => (c.ports[0].dadTransmits = 11), 'ports[0].dadTransmits', 11],
    ['RA max interval below 4 s', (c) => (c.ports[0].raMaxIntervalS = 3), 'ports[0].raMaxIntervalS', 3],
    ['RA min interval above 0.75 x max', (c) => Object.assign(c.ports[0], { raMaxIntervalS: 100, raMinIntervalS: 80 }), 'ports[0].raMinIntervalS', 80],
    ['RA router lifetime below the max interval', (c) => Object.assign(c.ports[0], { raMaxIntervalS: 100, raRouterLifetimeS: 50 }), 'ports[0].raRouterLifetimeS', 50],
    ['base reachable time below 1 s', (c) => (c.neighbourDiscovery = { baseReachableTimeMs: 500 }), 'neighbourDiscovery.baseReachableTimeMs', 500],
    ['neighbour table below 16', (c) => (c.neighbourDiscovery = { maxNeighbours: 8 }), 'neighbourDiscovery.maxNeighbours', 8],
    ['ICMPv6 error burst 0', (c) => (c.icmpErrors = { burst: 0 }), 'icmpErrors.burst', 0],
    ['route table below 16', (c) => (c.routing = { maxRoutes: 8 }), 'routing.maxRoutes', 8],
    ['route table not an integer', (c) => (c.routing = { maxRoutes: 1000.5 }), 'routing.maxRoutes', 1000.5],
    ['tbl8 groups above 4194304', (c) => (c.routing = { tbl8Groups: 4194305 }), 'routing.tbl8Groups', 4194305],
    ['automatic labels not a boolean', (c) => (c.flowLabels = { autoLabels: 'yes' }), 'flowLabels.autoLabels', 'yes'],
  ];
  for (const [what, edit, errPath, value] of cases) {
    it(`${what} → ${errPath || 'config'}`, () => {
      const input = what === 'config not an object' ? ['ports'] : changed(edit);
      expectBad(input, errPath, what === 'config not an object' ? ['ports'] : value);
    });
  }

  it('says "expected" and quotes the value: ports[0].mtu', () => {
    const e = expectBad(changed((c) => (c.ports[0].mtu = 70000)), 'ports[0].mtu', 70000);
    expect(e.message).to.equal('ports[0].mtu: expected an integer 1280..9600, got 70000');
  });

  it('explains host bits in a route prefix', () => {
    const e = expectBad(changed((c) => (c.routes[0].prefix = '2001:db8:3::1/64')), 'routes[0].prefix');
    expect(e.message).to.include('2001:db8:3::/64');
  });

  it('lists the known vdev drivers', () => {
    const e = expectBad(changed((c) => (c.ports[0].device = 'eth_bogus0')), 'ports[0].device');
    for (const d of KNOWN_VDEV_DRIVERS) expect(e.message).to.include(d);
  });

  it('lists the ports a dev may name', () => {
    const e = expectBad(changed((c) => (c.routes[0].dev = 'eth9')), 'routes[0].dev');
    expect(e.message).to.include('eth0, eth1');
  });

  it('cuts long values in messages', () => {
    const e = expectBad(changed((c) => (c.ports[0].name = 'x'.repeat(500))), 'ports[0].name');
    expect(e.message.length).to.be.below(300);
  });
});

describe('config: unknown fields', () => {
  const cases: [(c: any) => void, string][] = [
    [(c) => (c.port = []), 'port'],
    [(c) => (c.eal.worker = 1), 'eal.worker'],
    [(c) => (c.ports[0].mtuu = 1500), 'ports[0].mtuu'],
    [(c) => (c.routes[0].gateway = 'fe80::1'), 'routes[0].gateway'],
    [(c) => (c.neighbours[0].lladdr = '02:00:00:00:00:01'), 'neighbours[0].lladdr'],
    [(c) => (c.flowCache.maxFlows = 1), 'flowCache.maxFlows'],
    [(c) => (c.mempool.size = 1), 'mempool.size'],
    [(c) => (c.neighbourDiscovery = { reachableTime: 1 }), 'neighbourDiscovery.reachableTime'],
    [(c) => (c.icmpErrors = { rate: 1 }), 'icmpErrors.rate'],
    [(c) => (c.routing = { maxroutes: 1 }), 'routing.maxroutes'],
    [(c) => (c.topology.bridge = true), 'topology.bridge'],
    [(c) => (c.topology.hosts[1].gw = 'fe80::1'), 'topology.hosts[1].gw'],
  ];
  for (const [edit, errPath] of cases) {
    it(`rejects ${errPath}`, () => {
      const e = expectBad(changed(edit), errPath);
      expect(e.message).to.match(new RegExp(`^${errPath.replace(/[[\].]/g, '\\$&')}: unknown field`));
    });
  }
});

describe('config: cross-field checks', () => {
  it('rejects duplicate port names', () => {
    const e = expectBad(changed((c) => (c.ports[1].name = 'eth0')), 'ports[1].name', 'eth0');
    expect(e.message).to.include('ports[0]');
  });

  it('rejects two ports on one device', () => {
    expectBad(changed((c) => (c.ports[1].device = 'net_af_packet0,iface=veth9')), 'ports[1].device', 'net_af_packet0,iface=veth9');
  });

  it('rejects two ports on one PCI device written differently', () => {
    const input = { ports: [{ name: 'a', device: '03:00.0' }, { name: 'b', device: '0000:03:00.0' }] };
    expectBad(input, 'ports[1].device', '0000:03:00.0');
  });

  it('rejects an address assigned twice', () => {
    const e = expectBad(changed((c) => (c.ports[1].addresses = ['2001:db8:1::1/48'])), 'ports[1].addresses[0]', '2001:db8:1::1/48');
    expect(e.message).to.include('ports[0].addresses[0]');
  });

  it('rejects an address assigned twice on one port', () => {
    expectBad(changed((c) => c.ports[0].addresses.push('2001:DB8:1::1/64')), 'ports[0].addresses[1]', '2001:DB8:1::1/64');
  });

  it('rejects duplicate route prefixes, comparing normalized networks', () => {
    const e = expectBad(
      changed((c) => c.routes.push({ prefix: '2001:DB8:3:0::/64', dev: 'eth0' })),
      'routes[1].prefix',
      '2001:DB8:3:0::/64',
    );
    expect(e.message).to.include('routes[0]');
  });

  it('accepts the same prefix length on different networks', () => {
    const cfg = normalizeConfig(changed((c) => c.routes.push({ prefix: '2001:db8:4::/64', dev: 'eth0' })), CPUS4);
    expect(cfg.routes).to.have.length(2);
  });

  it('rejects a neighbour given twice on one port, accepts it on another', () => {
    expectBad(changed((c) => c.neighbours.push({ address: 'FE80::2', mac: '02:00:00:00:00:09', dev: 'eth1' })), 'neighbours[1].address', 'FE80::2');
    const cfg = normalizeConfig(changed((c) => c.neighbours.push({ address: 'fe80::2', mac: '02:00:00:00:00:09', dev: 'eth0' })), CPUS4);
    expect(cfg.neighbours).to.have.length(2);
  });

  it('rejects duplicate topology host names', () => {
    expectBad(changed((c) => (c.topology.hosts[1].name = 'h1')), 'topology.hosts[1].name', 'h1');
  });

  it('rejects more than 32 ports', () => {
    const ports = Array.from({ length: 33 }, (_, i) => ({ name: `p${i}`, device: `net_null${i}` }));
    expectBad({ ports }, 'ports');
  });
});

describe('config: classifyDevice', () => {
  it('splits a vdev into driver, name and args', () => {
    expect(classifyDevice('net_af_packet0,iface=veth0,qpairs=1')).to.deep.equal({
      kind: 'vdev',
      driver: 'net_af_packet',
      name: 'net_af_packet0',
      args: 'iface=veth0,qpairs=1',
    });
    expect(classifyDevice('net_null12')).to.deep.equal({ kind: 'vdev', driver: 'net_null', name: 'net_null12', args: '' });
    expect(classifyDevice('net_tap_up,iface=fp0').driver).to.equal('net_tap');
    expect(classifyDevice('net_virtio_user0,path=/dev/vhost-net').driver).to.equal('net_virtio_user');
  });

  it('knows every listed driver', () => {
    for (const d of KNOWN_VDEV_DRIVERS) expect(classifyDevice(`${d}0`).driver).to.equal(d);
  });

  it('normalizes PCI addresses to the ethdev name', () => {
    expect(classifyDevice('0000:03:00.0')).to.deep.equal({ kind: 'pci', name: '0000:03:00.0', args: '' });
    expect(classifyDevice('3B:00.1')).to.deep.equal({ kind: 'pci', name: '0000:3b:00.1', args: '' });
    expect(classifyDevice('0000:af:1f.7,txq_inline=128').args).to.equal('txq_inline=128');
  });

  for (const bad of ['', 'eth0', 'net_bogus0', 'NET_NULL0', '0000:03:20.0', '03:00', 'net_null0,', 'net_null0,a b=1']) {
    it(`rejects ${JSON.stringify(bad)} with EINVAL`, () => {
      expect(() => classifyDevice(bad)).to.throw(FastpathError).with.property('code', 'EINVAL');
    });
  }
});

describe('config: CPU lists and hugepage detection', () => {
  it('parses and formats Linux CPU lists', () => {
    expect(parseCpuList('0-3,8,10-11\n')).to.deep.equal([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList('5')).to.deep.equal([5]);
    expect(formatCpuList([11, 0, 1, 2, 3, 8, 10])).to.equal('0-3,8,10-11');
    expect(formatCpuList([4])).to.equal('4');
    expect(() => parseCpuList('0-x')).to.throw(FastpathError);
  });

  it('reads free hugepages and a hugetlbfs mount from procfs text', () => {
    const meminfo = 'MemTotal: 1 kB\nHugePages_Total:     512\nHugePages_Free:      300\nHugepagesize:       2048 kB\n';
    const mounts = 'proc /proc proc rw 0 0\nhugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n';
    expect(hugepagesFromProc(meminfo, mounts)).to.deep.equal({ free: 300, mounted: true, pageSizeKb: 2048 });
    expect(hugepagesFromProc('HugePages_Free: 0\n', 'proc /proc proc rw 0 0\n')).to.deep.equal({
      free: 0,
      mounted: false,
      pageSizeKb: 0,
    });
  });
});

describe('config: ealArgs', () => {
  function cfgWith(eal: object, ports: object[] = [], cpus = CPUS4): NormalizedRouterConfig {
    return normalizeConfig({ eal: { filePrefix: 'fp1', ...eal }, ports }, cpus);
  }

  it('without hugepages: --no-huge -m --no-shconf, --no-pci, numeric log level', () => {
    expect(ealArgs(cfgWith({}), { ...CPUS4, hugepagesAvailable: false })).to.deep.equal([
      'fastpath',
      '--lcores=0@(0-2),1@3',
      '--main-lcore=0',
      '--no-huge',
      '-m',
      '512',
      '--no-shconf',
      '--file-prefix=fp1',
      '--no-pci',
      '--log-level=6',
    ]);
  });

  it('with hugepages: --in-memory and never --no-huge', () => {
    const args = ealArgs(cfgWith({ memoryMb: 512 }), { ...CPUS4, hugepagesAvailable: true });
    expect(args.slice(3, 7)).to.deep.equal(['--in-memory', '--file-prefix=fp1', '-m', '512']);
    expect(args).to.not.include('--no-huge');
    expect(args).to.not.include('--no-shconf');
  });

  it('hugepages: false wins over available pages', () => {
    expect(ealArgs(cfgWith({ hugepages: false }), { ...CPUS4, hugepagesAvailable: true })).to.include('--no-huge');
  });

  it('hugepages: true without pages is ENOMEM with the reservation recipe', () => {
    const cfg = cfgWith({ hugepages: true });
    expect(() => ealArgs(cfg, { ...CPUS4, hugepagesAvailable: false }))
      .to.throw(FastpathError, /echo 256 > \/proc\/sys\/vm\/nr_hugepages; mount -t hugetlbfs nodev \/dev\/hugepages/)
      .with.property('code', 'ENOMEM');
    expect(usesHugepages(cfg, { hugepagesAvailable: true })).to.equal(true);
  });

  it('maps 1 worker: lcore 0 floats over the CPUs the worker leaves free', () => {
    const args = ealArgs(cfgWith({ workers: 1 }), { ...CPUS4, hugepagesAvailable: false });
    expect(args).to.include('--lcores=0@(0-2),1@3');
    expect(args).to.include('--main-lcore=0');
  });

  it('maps 3 workers on 8 CPUs', () => {
    const cpus = { allowedCpus: [0, 1, 2, 3, 4, 5, 6, 7] };
    const args = ealArgs(cfgWith({ workers: 3 }, [], cpus), { ...cpus, hugepagesAvailable: false });
    expect(args[1]).to.equal('--lcores=0@(0-4),1@5,2@6,3@7');
  });

  it('maps 3 explicit worker CPUs on a sparse set', () => {
    const cpus = { allowedCpus: [0, 2, 4, 6, 8] };
    const args = ealArgs(cfgWith({ workerCpus: [8, 2, 4] }, [], cpus), { ...cpus, hugepagesAvailable: false });
    expect(args[1]).to.equal('--lcores=0@(0,6),1@8,2@2,3@4');
  });

  it('gives lcore 0 every allowed CPU when workers took them all', () => {
    const cfg = cfgWith({ workers: 1 }, [], { allowedCpus: [0, 1] });
    expect(ealArgs(cfg, { allowedCpus: [1], hugepagesAvailable: false })[1]).to.equal('--lcores=0@(1),1@1');
  });

  it('a 2-CPU machine runs one worker', () => {
    const cpus = { allowedCpus: [0, 1] };
    expect(ealArgs(cfgWith({}, [], cpus), { ...cpus, hugepagesAvailable: false })[1]).to.equal('--lcores=0@(0),1@1');
  });

  it('allows ports’ PCI devices (with devargs) and pciAllow, once each; no --vdev', () => {
    const cfg = cfgWith({ pciAllow: ['0000:05:00.0', '03:00.0'] }, [
      { name: 'a', device: '03:00.0,rx_vec_en=0' },
      { name: 'b', device: 'net_af_packet0,iface=veth0' },
      { name: 'c', device: '0000:04:00.1' },
    ]);
    const args = ealArgs(cfg, { ...CPUS4, hugepagesAvailable: false });
    expect(args.filter((a, i) => args[i - 1] === '-a')).to.deep.equal([
      '0000:03:00.0,rx_vec_en=0',
      '0000:04:00.1',
      '0000:05:00.0',
    ]);
    expect(args).to.not.include('--no-pci');
    expect(args.some((a) => a.startsWith('--vdev'))).to.equal(false);
  });

  it('maps every log level to its DPDK number', () => {
    const levels = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'];
    levels.forEach((level, i) => {
      expect(ealArgs(cfgWith({ logLevel: level }), { ...CPUS4, hugepagesAvailable: false })).to.include(`--log-level=${i + 1}`);
    });
  });

  it('puts extraArgs last, verbatim', () => {
    const args = ealArgs(cfgWith({ extraArgs: ['--log-level=pmd.net.af_packet:debug', '--single-file-segments'] }), {
      ...CPUS4,
      hugepagesAvailable: false,
    });
    expect(args.slice(-3)).to.deep.equal(['--log-level=6', '--log-level=pmd.net.af_packet:debug', '--single-file-segments']);
  });
});

describe('config: loadConfig', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fastpath-config-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function write(name: string, text: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  }

  const yamlText = [
    'eal:',
    '  workers: 1',
    '  hugepages: false',
    'ports:',
    '  - name: eth0',
    '    device: net_af_packet0,iface=veth0',
    '    mac: 02:00:00:00:00:01', // unquoted: a string in YAML 1.2
    '    addresses: [2001:db8:1::1/64]',
    '  - name: eth1',
    '    device: net_null0',
    'routes:',
    '  - { prefix: ::/0, via: fe80::1, dev: eth1 }',
    '',
  ].join('\n');

  it('loads and normalizes a YAML file', () => {
    const cfg = loadConfig(write('ok.yaml', yamlText), CPUS4);
    expect(cfg.ports.map((p) => p.name)).to.deep.equal(['eth0', 'eth1']);
    expect(cfg.ports[0].mac).to.equal('02:00:00:00:00:01');
    expect(cfg.ports[0].addresses).to.deep.equal(['2001:db8:1::1/64']);
    expect(cfg.routes).to.deep.equal([{ prefix: '::/0', via: 'fe80::1', dev: 'eth1' }]);
    expect(cfg.eal.hugepages).to.equal(false);
  });

  it('takes an object as-is', () => {
    const input: RouterConfig = { ports: [{ name: 'eth0', device: 'net_null0' }] };
    expect(loadConfig(input, CPUS4).ports[0].mtu).to.equal(1500);
  });

  it('a missing file is ENOENT naming the file', () => {
    const file = path.join(dir, 'nope.yaml');
    expect(() => loadConfig(file, CPUS4))
      .to.throw(FastpathError, file)
      .with.property('code', 'ENOENT');
  });

  it('a directory is EINVAL naming it', () => {
    expect(() => loadConfig(dir, CPUS4)).to.throw(FastpathError, dir).with.property('code', 'EINVAL');
  });

  it('a YAML syntax error is EINVAL naming file and line', () => {
    const file = write('bad.yaml', 'ports:\n  - name: eth0\n    device: [net_null0\n');
    expect(() => loadConfig(file, CPUS4)).to.throw(FastpathError, new RegExp(`^${file}:\\d+:\\d+: invalid YAML`));
  });

  it('duplicate YAML keys are rejected', () => {
    const file = write('dup.yaml', 'ports: []\nports: []\n');
    expect(() => loadConfig(file, CPUS4)).to.throw(FastpathError, /invalid YAML.*unique/);
  });

  it('an empty file is EINVAL', () => {
    const file = write('empty.yaml', '');
    expect(() => loadConfig(file, CPUS4)).to.throw(FastpathError, /expected a router config object, got null/);
  });

  it('a validation error keeps code and path and gains file:line:col', () => {
    const file = write('mtu.yaml', yamlText.replace('  - name: eth1\n', '  - name: eth1\n    mtu: 70000\n'));
    try {
      loadConfig(file, CPUS4);
      expect.fail('should throw');
    } catch (err) {
      const e = err as FastpathError;
      expect(e.code).to.equal('EINVAL');
      expect(e.path).to.equal('ports[1].mtu');
      expect(e.message).to.equal(`${file}:10:10: ports[1].mtu: expected an integer 1280..9600, got 70000`);
    }
  });

  it('accepts every shipped config in dpdk-config/', () => {
    const configDir = path.join(__dirname, '..', '..', 'dpdk-config');
    const files = fs.readdirSync(configDir).filter((f) => f.endsWith('.yaml'));
    const cpus = { allowedCpus: Array.from({ length: 16 }, (_, i) => i) };
    for (const f of files) {
      const cfg = loadConfig(path.join(configDir, f), cpus);
      expect(ealArgs(cfg, { ...cpus, hugepagesAvailable: true })[0]).to.equal('fastpath');
    }
  });

  it('derives the bare-metal EAL argv', () => {
    const cpus = { allowedCpus: [0, 1, 2, 3] };
    const cfg = loadConfig(path.join(__dirname, '..', '..', 'dpdk-config', 'baremetal.yaml'), cpus);
    const args = ealArgs(cfg, { ...cpus, hugepagesAvailable: true });
    expect(args.slice(1, 7)).to.deep.equal([
      '--lcores=0@(0-1),1@2,2@3',
      '--main-lcore=0',
      '--in-memory',
      `--file-prefix=fastpath-${process.pid}`,
      '-m',
      '1024',
    ]);
    expect(args.slice(7, 11)).to.deep.equal(['-a', '0000:03:00.0', '-a', '0000:03:00.1']);
  });

  it('points a missing field at its parent', () => {
    const file = write('nodev.yaml', 'ports:\n  - name: eth0\n');
    expect(() => loadConfig(file, CPUS4)).to.throw(FastpathError, new RegExp(`^${file}:2:5: ports\\[0\\]\\.device: expected`));
  });
});

describe('config: siftr section', () => {
  const base = { ports: [] };
  const siftrOf = (siftr: unknown): ReturnType<typeof normalizeConfig>['siftr'] => normalizeConfig({ ...base, siftr } as never, CPUS4).siftr;

  it('is off by default and needs a logfile only when enabled', () => {
    expect(siftrOf(undefined)).to.include({ enabled: false, ppl: 1, portFilter: 0, local: 'initiator' });
    expect(siftrOf({ ppl: 5 })).to.include({ enabled: false, ppl: 5 });
    expect(siftrOf({ enabled: true, logfile: '/tmp/x.log', local: 'responder' })).to.include({ enabled: true, logfile: '/tmp/x.log', local: 'responder' });
  });

  it('names the field it refuses', () => {
    for (const [siftr, code, field] of [
      [{ enabled: true }, 'EINVAL', 'siftr.logfile'],
      [{ ppl: 0 }, 'EINVAL', 'siftr.ppl'],
      [{ portFilter: 65536 }, 'EINVAL', 'siftr.portFilter'],
      [{ ringSize: 1000 }, 'EINVAL', 'siftr.ringSize'],
      [{ local: 'both' }, 'EINVAL', 'siftr.local'],
      [{ cwndFilter: true }, 'ENOTSUP', 'siftr.cwndFilter'],
      [{ bogus: 1 }, 'EINVAL', 'siftr.bogus'],
    ] as const) {
      expect(() => siftrOf(siftr), JSON.stringify(siftr)).to.throw(FastpathError).that.satisfies((e: FastpathError) => e.code === code && e.path === field);
    }
  });
});

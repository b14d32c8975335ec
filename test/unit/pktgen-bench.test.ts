// The pure parts of npm run bench:pktgen.
// parsePktgenOutput (bench/pktgen-output.ts): the script's figures come from
// what dpdk-config/pktgen/ipv6-flows.lua prints through Pktgen-DPDK 23.03,
// between the numbers of Pktgen's screen. The excerpt below is a real run's
// output (vhost, l3fwd, 10k flows), shortened, with the escape sequences
// Pktgen writes.
// pktgenRouterConfig (bench/pktgen-router-config.ts): baremetal.yaml with
// the run's devices is still a valid router config, and nothing else moved.
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';

import { parsePktgenOutput, stripAnsi } from '../../bench/pktgen-output';
import { pktgenRouterConfig } from '../../bench/pktgen-router-config';
import { normalizeConfig } from '../../lib/config';

const ESC = '\x1b';
const RUN = [
  `${ESC}[1;r${ESC}[100;1H`,
  `${ESC}[0;39;49mLua 5.3.6  Copyright (C) 1994-2020 Lua.org, PUC-Rio`,
  "Executing '/work/fastpath/dpdk-config/pktgen/ipv6-flows.lua'",
  'fastpath ipv6-flows: mode=pcap rate=100% for 6s, tx port 0 -> rx port 1',
  '              151/152',
  '               210848',
  '               211712',
  '  1s  tx       211712 pps   forwarded (rx on port 1)       210848 pps',
  '  2s  tx       147104 pps   forwarded (rx on port 1)       146304 pps',
  '                 1024',
  '  3s  tx       194848 pps   forwarded (rx on port 1)       193856 pps',
  '  4s  tx       326528 pps   forwarded (rx on port 1)       324416 pps',
  '  5s  tx       122048 pps   forwarded (rx on port 1)       121152 pps',
  // a screen refresh drawn over the start of the line
  `${ESC}[12;1H${ESC}[2K  6s  tx       280576 pps   forwarded (rx on port 1)       278784 pps\r`,
  'sent 1939072, forwarded 1928320, lost 10752 (0.554%)',
  'mean over 4s: tx 231000 pps, forwarded 229552 pps (0.23 Mpps)',
  '',
].join('\n');

describe('pktgen output (bench:pktgen)', () => {
  it('reads the mode, the seconds, the totals and the means', () => {
    const s = parsePktgenOutput(RUN);
    expect(s).to.deep.include({
      mode: 'pcap',
      ratePercent: 100,
      seconds: 6,
      sent: 1939072,
      forwarded: 1928320,
      lost: 10752,
      meanSeconds: 4,
      meanTxPps: 231000,
      meanRxPps: 229552,
    });
    expect(s.perSecond.map((p) => p.second)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(s.perSecond[5]).to.deep.equal({ second: 6, txPps: 280576, rxPps: 278784 });
  });

  it('removes escape sequences and carriage returns', () => {
    expect(stripAnsi(`${ESC}[0;39;49mab${ESC}[2Kc\rd${ESC}7`)).to.equal('abc\nd');
  });

  it('says what is missing when the script did not start', () => {
    const panic = 'PANIC in pktgen_main_rxtx_loop():\n*** Did not find any ports to use ***\n';
    expect(() => parsePktgenOutput(panic)).to.throw(/no "fastpath ipv6-flows:" line/);
  });

  it('says how far the script got when it stopped before its summary', () => {
    const cut = RUN.slice(0, RUN.indexOf('  4s'));
    expect(() => parsePktgenOutput(cut)).to.throw(/stopped after 3 s/);
  });

  it('refuses a run shorter than its warm-up (no mean)', () => {
    const short = RUN.replace(/mean over.*\n/, '');
    expect(() => parsePktgenOutput(short)).to.throw(/no "mean over" line/);
  });
});

describe('pktgen router config (bench:pktgen)', () => {
  const baremetal = parseYaml(fs.readFileSync(path.join(__dirname, '..', '..', 'dpdk-config', 'baremetal.yaml'), 'utf8')) as Record<string, unknown>;
  const options = {
    devices: ['net_vhost0,iface=/tmp/x/p0.sock,queues=1', 'net_vhost1,iface=/tmp/x/p1.sock,queues=1'] as const,
    workerCpu: 1,
    hugepages: false,
    memoryMb: 512,
    filePrefix: 'fpb-pg-1-test',
    controlSocket: '/tmp/x/fastpath.sock',
  };

  it('is baremetal.yaml with the devices, one worker, memory and socket changed, and valid', () => {
    const cfg = pktgenRouterConfig(baremetal, options);
    const n = normalizeConfig(cfg, { allowedCpus: [0, 1] });
    expect(n.ports.map((p) => p.device)).to.deep.equal([...options.devices]);
    expect(n.ports.map((p) => [p.name, p.mac])).to.deep.equal([
      ['p0', '02:00:00:00:00:01'],
      ['p1', '02:00:00:00:00:02'],
    ]);
    expect(n.eal).to.deep.include({ workers: 1, workerCpus: [1], hugepages: false, memoryMb: 512, filePrefix: 'fpb-pg-1-test' });
    expect(n.control.socket).to.equal('/tmp/x/fastpath.sock');
    expect(cfg.routes).to.deep.equal(baremetal.routes);
    expect(cfg.neighbours).to.deep.equal(baremetal.neighbours);
    expect(cfg.flowCache).to.deep.equal(baremetal.flowCache);
    // the parsed file itself is left as it was
    expect((baremetal.ports as { device: string }[])[0].device).to.equal('0000:03:00.0');
  });

  it('refuses a bare-metal config without exactly two ports', () => {
    expect(() => pktgenRouterConfig({ ...baremetal, ports: [] }, options)).to.throw(/must have 2 ports.*found 0/);
  });
});

// Reading SIFTR logs: summarizeSiftrLog's numbers on a hand-made log of two
// connections, the plot's SVG (one legend entry and one line per connection
// and panel), and `fastpath siftr summary|plot` run from the compiled CLI,
// bad input included.
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { formatSiftrSummary, siftrSummaryJson } from '../../lib/cli/siftr';
import { FastpathError } from '../../lib/errors';
import { formatSiftrLog, SIFTR_RECORD_FIELDS, SiftrLog, SiftrRecord } from '../../lib/siftr-log';
import { downsample, renderSiftrSvg, SIFTR_TF_REXMIT, siftrFlowKey, siftrPlotSpec, summarizeSiftrLog } from '../../lib/siftr-report';

const ROOT = path.resolve(__dirname, '..', '..');

const A = { localAddress: '2001:db8:1::10', localPort: 40000, foreignAddress: '2001:db8:2::20', foreignPort: 443 };
const B = { localAddress: '2001:db8:1::11', localPort: 40001, foreignAddress: '2001:db8:2::21', foreignPort: 80 };
const KEY_A = '2001:db8:1::10;40000-2001:db8:2::20;443';
const KEY_B = '2001:db8:1::11;40001-2001:db8:2::21;80';
const ENABLE_US = 1_700_000_000_500_000;

type Flow = typeof A;
interface Sample {
  afterUs: number;
  dir: 'i' | 'o';
  srtt: number;
  inflight: number;
  mss: number;
  scales?: [number, number];
  /** t_flags (fastpath marks a retransmitted segment's line with TF_FASTRECOVERY). */
  flags?: number;
}

/** A record `afterUs` after the enable time; the fields SIFTR leaves 0 for a router stay 0. */
function record(flow: Flow, s: Sample): SiftrRecord {
  const us = ENABLE_US + s.afterUs;
  const zero = Object.fromEntries(SIFTR_RECORD_FIELDS.map((name) => [name, 0])) as { [K in (typeof SIFTR_RECORD_FIELDS)[number]]: number };
  return {
    ...zero,
    ...flow,
    direction: s.dir,
    timeSecs: Math.floor(us / 1e6),
    timeUsecs: us % 1e6,
    srtt: s.srtt,
    sentInflightBytes: s.inflight,
    maxSegSize: s.mss,
    sndScale: s.scales?.[0] ?? 0,
    rcvScale: s.scales?.[1] ?? 0,
    sndWnd: 65535 + s.afterUs,
    rcvWnd: 32768 + s.afterUs,
    flags: s.flags ?? 0,
    flowid: 1,
    flowtype: 191,
  };
}

// A: handshake without RTT (srtt 0), then RTT 20, 22, 24, 30 ms; B: 5, 7, 6 ms. Interleaved in time.
const RECORDS: SiftrRecord[] = [
  record(A, { afterUs: 100, dir: 'o', srtt: 0, inflight: 0, mss: 1220 }),
  record(B, { afterUs: 5_000, dir: 'o', srtt: 0, inflight: 0, mss: 1220 }),
  record(A, { afterUs: 10_100, dir: 'i', srtt: 0, inflight: 0, mss: 1400, scales: [7, 9] }),
  record(B, { afterUs: 15_000, dir: 'i', srtt: 0, inflight: 0, mss: 1380 }),
  record(A, { afterUs: 20_100, dir: 'o', srtt: 20_000, inflight: 1400, mss: 1400, scales: [7, 9] }),
  record(B, { afterUs: 25_000, dir: 'o', srtt: 5_000, inflight: 1000, mss: 1380 }),
  record(A, { afterUs: 30_100, dir: 'o', srtt: 22_000, inflight: 2800, mss: 1400, scales: [7, 9], flags: SIFTR_TF_REXMIT | 0x200 }),
  record(B, { afterUs: 35_000, dir: 'i', srtt: 7_000, inflight: 0, mss: 1380 }),
  record(A, { afterUs: 40_100, dir: 'i', srtt: 24_000, inflight: 1400, mss: 1400, scales: [7, 9] }),
  record(B, { afterUs: 45_000, dir: 'i', srtt: 6_000, inflight: 500, mss: 1380, flags: SIFTR_TF_REXMIT }),
  record(A, { afterUs: 1_020_100, dir: 'o', srtt: 30_000, inflight: 4200, mss: 1400, scales: [7, 9] }),
];

const LOG: SiftrLog = {
  header: { enableTimeSecs: 1_700_000_000, enableTimeUsecs: 500_000, siftrver: '1.3.0', sysname: 'fastpath', sysver: '0.1.0', ipmode: 6 },
  records: RECORDS,
  footer: {
    disableTimeSecs: 1_700_000_002,
    disableTimeUsecs: 0,
    numInboundTcpPkts: 5n,
    numOutboundTcpPkts: 6n,
    totalTcpPkts: 11n,
    numInboundSkippedPktsMalloc: 0n,
    numOutboundSkippedPktsMalloc: 1n,
    numInboundSkippedPktsTcpcb: 2n,
    numOutboundSkippedPktsTcpcb: 3n,
    numInboundSkippedPktsInpcb: 4n,
    numOutboundSkippedPktsInpcb: 5n,
    // Past 2^53: JSON must carry it exactly (as a string).
    totalSkippedTcpPkts: 18446744073709551615n,
    flowList: [A, B],
  },
};

const EXPECTED_A = {
  key: KEY_A,
  ...A,
  segmentsOut: 4,
  segmentsIn: 2,
  retransmissions: { local: 1, remote: 0 },
  rtt: { minMs: 20, medianMs: 23, maxMs: 30, samples: 4 },
  firstSecs: 0.0001,
  lastSecs: 1.0201,
  durationSecs: 1.02,
  maxInflightBytes: 4200,
  mss: 1400,
  sndScale: 7,
  rcvScale: 9,
};
const EXPECTED_B = {
  key: KEY_B,
  ...B,
  segmentsOut: 2,
  segmentsIn: 3,
  retransmissions: { local: 0, remote: 1 },
  rtt: { minMs: 5, medianMs: 6, maxMs: 7, samples: 3 },
  firstSecs: 0.005,
  lastSecs: 0.045,
  durationSecs: 0.04,
  maxInflightBytes: 1000,
  mss: 1380,
  sndScale: 0,
  rcvScale: 0,
};

/** An SVG element: enough of XML for vega's output (no CDATA, comments or entities we look at). */
interface Node {
  name: string;
  attrs: Record<string, string>;
  children: Node[];
  text: string;
}

function parseSvg(svg: string): Node {
  const root: Node = { name: '#root', attrs: {}, children: [], text: '' };
  const stack = [root];
  const tags = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>|([^<]+)/g;
  for (let m = tags.exec(svg); m !== null; m = tags.exec(svg)) {
    const top = stack[stack.length - 1];
    if (m[5] !== undefined) {
      top.text += m[5];
    } else if (m[1] === '/') {
      expect(top.name, 'closing tag matches').to.equal(m[2]);
      stack.pop();
    } else {
      const attrs: Record<string, string> = {};
      for (const a of m[3].matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[a[1]] = a[2];
      const node: Node = { name: m[2], attrs, children: [], text: '' };
      top.children.push(node);
      if (m[4] !== '/') stack.push(node);
    }
  }
  expect(stack, 'every tag closed').to.have.length(1);
  expect(root.children, 'one root element').to.have.length(1);
  return root.children[0];
}

function descendants(n: Node): Node[] {
  return n.children.flatMap((c) => [c, ...descendants(c)]);
}

const hasClass = (n: Node, c: string): boolean => (n.attrs.class ?? '').split(' ').includes(c);

/** The line paths of one panel: each mark-line group of class `<panel>_marks` holds one series. */
function panelLines(svg: Node, panel: string): { label: string; points: number }[] {
  return descendants(svg)
    .filter((n) => n.name === 'g' && hasClass(n, 'mark-line') && hasClass(n, `${panel}_marks`))
    .map((g) => {
      const paths = g.children.filter((c) => c.name === 'path');
      expect(paths, `${panel}: one path per series`).to.have.length(1);
      // step-after draws two commands per point after the first: M, then L,L per further point.
      const commands = (paths[0].attrs.d.match(/[ML]/g) ?? []).length;
      return { label: paths[0].attrs['aria-label'], points: (commands + 1) / 2 };
    });
}

/** The labels of the legend whose aria-label starts with `title`. */
function legendLabels(svg: Node, title: string): string[] {
  const legend = descendants(svg).filter((n) => hasClass(n, 'role-legend') && (n.attrs['aria-label'] ?? '').includes(`titled '${title}`));
  expect(legend, `legend ${title}`).to.have.length(1);
  return descendants(legend[0])
    .filter((n) => hasClass(n, 'role-legend-label'))
    .flatMap((g) => g.children.map((t) => t.text));
}

describe('SIFTR log summary', () => {
  it('counts segments each way, RTT from srtt > 0, duration, in-flight, MSS and scales per connection', () => {
    const s = summarizeSiftrLog(LOG);
    expect(s.connections).to.deep.equal([EXPECTED_A, EXPECTED_B]);
    expect(s.records).to.equal(11);
    expect(s.logDurationSecs).to.equal(1.5);
    expect(s.header).to.deep.equal(LOG.header);
    const { flowList, ...counters } = LOG.footer!;
    expect(s.footer).to.deep.equal({ ...counters, flows: flowList.length });
  });

  it("counts retransmissions from fastpath's TF_FASTRECOVERY marks, not in other writers' logs; given counts win", () => {
    expect(siftrFlowKey(A)).to.equal(KEY_A);
    const marked = summarizeSiftrLog(LOG);
    expect(marked.connections.map((c) => c.retransmissions)).to.deep.equal([{ local: 1, remote: 0 }, { local: 0, remote: 1 }]);
    const freebsd = summarizeSiftrLog({ ...LOG, header: { ...LOG.header, sysname: 'FreeBSD' } });
    expect(freebsd.connections.map((c) => c.retransmissions)).to.deep.equal([null, null]);
    const s = summarizeSiftrLog(LOG, { rexmits: new Map([[KEY_A, { local: 3, remote: 1 }]]) });
    expect(s.connections[0].retransmissions).to.deep.equal({ local: 3, remote: 1 });
    expect(s.connections[1].retransmissions).to.deep.equal({ local: 0, remote: 1 });
  });

  it('has no footer, log duration or RTT where the log has none', () => {
    const noRtt = RECORDS.filter((r) => r.srtt === 0);
    const s = summarizeSiftrLog({ ...LOG, records: noRtt, footer: null });
    expect(s.footer).to.equal(null);
    expect(s.logDurationSecs).to.equal(null);
    expect(s.connections.map((c) => c.rtt)).to.deep.equal([null, null]);
  });

  it('summarizes a connection of 200000 records (more than a call takes arguments)', () => {
    // Two records repeated: cheap to build, and the summary does not care.
    const base = record(A, { afterUs: 0, dir: 'o', srtt: 1000, inflight: 10, mss: 1400 });
    const peak = record(A, { afterUs: 0, dir: 'i', srtt: 3000, inflight: 99_999, mss: 1400 });
    const many = Array.from({ length: 200_000 }, (_, i) => (i === 777 ? peak : base));
    const [c] = summarizeSiftrLog({ ...LOG, records: many }).connections;
    expect([c.segmentsOut, c.segmentsIn, c.maxInflightBytes, c.rtt]).to.deep.equal([
      199_999,
      1,
      99_999,
      { minMs: 1, medianMs: 1, maxMs: 3, samples: 200_000 },
    ]);
  });

  it('prints the same as text and as JSON (64-bit counters as strings)', () => {
    const s = summarizeSiftrLog(LOG);
    const text = formatSiftrSummary(s);
    expect(text).to.contain('SIFTR 1.3.0 log from fastpath 0.1.0, ipmode 6');
    expect(text).to.contain('skipped total    18446744073709551615');
    expect(text).to.contain(`${KEY_A}\n  segments         out 4, in 2\n  retransmissions  local 1, remote 0\n`);
    expect(formatSiftrSummary(summarizeSiftrLog({ ...LOG, header: { ...LOG.header, sysname: 'FreeBSD' } }))).to.contain('retransmissions  -\n');
    expect(text).to.contain('RTT ms           min 20.000, median 23.000, max 30.000 (4 samples)');
    const json = JSON.parse(siftrSummaryJson(s));
    expect(json.footer.totalSkippedTcpPkts).to.equal('18446744073709551615');
    expect(json.footer.totalTcpPkts).to.equal('11');
    expect(json.connections).to.deep.equal([EXPECTED_A, EXPECTED_B]);
  });
});

describe('SIFTR log plot', () => {
  it('downsamples evenly, keeping the first and the last item', () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    expect(downsample(items, 4)).to.deep.equal([0, 3, 6, 9]);
    expect(downsample(items, 10)).to.deep.equal(items);
    expect(downsample(items, 2)).to.deep.equal([0, 9]);
    expect(() => downsample(items, 1)).to.throw(FastpathError, /not an integer >= 2/);
  });

  it('keeps at most maxPoints records per connection, 2000 by default', () => {
    const many = Array.from({ length: 3000 }, (_, i) => record(i % 2 ? A : B, { afterUs: i, dir: 'o', srtt: 1000, inflight: i, mss: 1400 }));
    const rows = (spec: ReturnType<typeof siftrPlotSpec>): { connection: string }[] =>
      (spec.data as { values: { connection: string }[] }).values;
    const perConnection = (list: { connection: string }[], key: string): number => list.filter((r) => r.connection === key).length;
    const small = rows(siftrPlotSpec({ ...LOG, records: many }, { maxPoints: 100 }));
    expect([perConnection(small, KEY_A), perConnection(small, KEY_B)]).to.deep.equal([100, 100]);
    const all = rows(siftrPlotSpec({ ...LOG, records: [...many, ...many] }));
    expect([perConnection(all, KEY_A), perConnection(all, KEY_B)]).to.deep.equal([2000, 2000]);
  });

  it('draws one legend entry per connection and one line per connection in each panel', async () => {
    const text = await renderSiftrSvg(LOG, { title: 'two flows' });
    const svg = parseSvg(text);
    expect(svg.name).to.equal('svg');
    // Keys in full, first-seen order: a truncated key would name no connection.
    expect(legendLabels(svg, 'connection')).to.deep.equal([KEY_A, KEY_B]);
    expect(legendLabels(svg, 'window')).to.deep.equal(['snd_wnd', 'rcv_wnd']);

    const inflight = panelLines(svg, 'inflight');
    expect(inflight.map((l) => l.points)).to.deep.equal([6, 5]);
    expect(inflight[0].label).to.contain(KEY_A);
    expect(inflight[1].label).to.contain(KEY_B);

    const windows = panelLines(svg, 'windows');
    expect(windows).to.have.length(4);
    for (const key of [KEY_A, KEY_B]) {
      for (const w of ['snd_wnd', 'rcv_wnd']) {
        expect(windows.filter((l) => l.label.includes(key) && l.label.endsWith(`window: ${w}`)), `${key} ${w}`).to.have.length(1);
      }
    }

    // srtt 0 (no sample yet) is left out: 4 RTT points of A's 6 records, 3 of B's 5.
    const rtt = panelLines(svg, 'rtt');
    expect(rtt.map((l) => l.points)).to.deep.equal([4, 3]);
    expect(rtt[0].label).to.contain('smoothed RTT (ms): 20;').and.contain(KEY_A);
    expect(rtt[1].label).to.contain('smoothed RTT (ms): 5;').and.contain(KEY_B);

    expect(descendants(svg).some((n) => n.name === 'text' && n.text === 'two flows')).to.equal(true);
    expect(text.length).to.be.below(60_000);
  });

  it('lists every connection in the legend, past the default limit of 30 entries', async () => {
    const flows = Array.from({ length: 35 }, (_, i) => ({ ...A, localPort: 50000 + i }));
    const records = flows.map((f, i) => record(f, { afterUs: i, dir: 'o', srtt: 1000, inflight: i, mss: 1400 }));
    const svg = parseSvg(await renderSiftrSvg({ ...LOG, records }));
    expect(legendLabels(svg, 'connection')).to.deep.equal(flows.map(siftrFlowKey));
    expect(panelLines(svg, 'inflight')).to.have.length(35);
  });
});

describe('fastpath siftr (compiled CLI)', () => {
  let dir: string;
  let logFile: string;
  // Without require(esm) where Node has it (20.19+), so the vega import works on every Node 20.
  const nodeFlags = process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module') ? ['--no-experimental-require-module'] : [];

  const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, [...nodeFlags, path.join(ROOT, 'dist/lib/cli/cli.js'), 'siftr', ...args], { cwd: dir, encoding: 'utf8' });

  before(function () {
    this.timeout(120_000);
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json')], { encoding: 'utf8' });
    expect(tsc.status, tsc.stdout + tsc.stderr).to.equal(0);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fp-siftr-cli-'));
    logFile = path.join(dir, 'flows.log');
    fs.writeFileSync(logFile, formatSiftrLog(LOG));
    // The header line, then a line that is no record.
    fs.writeFileSync(path.join(dir, 'bad.log'), `${formatSiftrLog({ ...LOG, records: [], footer: null })}not a record\n`);
    fs.writeFileSync(path.join(dir, 'empty.log'), formatSiftrLog({ ...LOG, records: [] }));
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('summary --json prints the summary', () => {
    const r = cli('summary', logFile, '--json');
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal(JSON.parse(siftrSummaryJson(summarizeSiftrLog(LOG))));
  });

  it('summary prints text', () => {
    const r = cli('summary', logFile);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(formatSiftrSummary(summarizeSiftrLog(LOG)));
  });

  it('leaves out an unfinished last line, saying so', () => {
    const running = path.join(dir, 'running.log');
    // The footer cut mid-line; the record before it, cut the same way, would parse with a wrong flowtype.
    fs.writeFileSync(running, `${formatSiftrLog({ ...LOG, footer: null })}${formatSiftrLog(LOG).split('\n')[12].slice(0, 40)}`);
    const r = cli('summary', running, '--json');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.equal(`fastpath: siftr: ${running}: leaving out an unfinished last line (no newline yet)\n`);
    const json = JSON.parse(r.stdout);
    expect([json.records, json.footer]).to.deep.equal([11, null]);
  });

  it('plot --out writes the SVG, --max-points thins it', () => {
    const out = path.join(dir, 'flows.svg');
    const r = cli('plot', logFile, '--out', out, '--max-points', '2');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.contain(`wrote ${out} (2 connections`);
    const svg = parseSvg(fs.readFileSync(out, 'utf8'));
    expect(panelLines(svg, 'inflight').map((l) => l.points)).to.deep.equal([2, 2]);
  });

  it('--help names the downsampling', () => {
    const r = cli('plot', '--help');
    expect(r.status).to.equal(0);
    expect(r.stdout).to.match(/--max-points N/).and.match(/downsampled/);
  });

  const refusals: [string, string[], RegExp][] = [
    ['a missing log', ['summary', 'nope.log'], /ENOENT: siftr: cannot read log nope\.log/],
    ['a log that does not parse', ['summary', 'bad.log'], /EINVAL: siftr: bad\.log: SIFTR log line 2: /],
    ['no LOG', ['summary'], /LOG is missing/],
    ['two LOGs', ['summary', 'a', 'b'], /one LOG expected/],
    ['an unknown option', ['summary', 'flows.log', '--svg'], /unknown option --svg/],
    ['plot without --out', ['plot', 'flows.log'], /--out FILE\.svg is required/],
    ['a bad --max-points', ['plot', 'flows.log', '--out', 'x.svg', '--max-points', '1'], /--max-points "1" is not a whole number >= 2/],
    ['--max-points without a value', ['plot', 'flows.log', '--out', 'x.svg', '--max-points'], /--max-points needs a value/],
    ['an unknown subcommand', ['draw'], /unknown subcommand "draw"/],
    ['a log without records to plot', ['plot', 'empty.log', '--out', 'x.svg'], /empty\.log: no records to plot/],
  ];
  for (const [what, args, message] of refusals) {
    it(`refuses ${what}: exit 1, the reason on stderr`, () => {
      const r = cli(...args);
      expect(r.status).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.match(message);
      expect(fs.existsSync(path.join(dir, 'x.svg'))).to.equal(false);
    });
  }
});

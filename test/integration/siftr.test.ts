/**
 * SIFTR against real TCP: iperf3 between two namespace hosts through the
 * router (the demo topology, af_packet over veth). What the router infers
 * from the segments it forwards is compared with what the Linux endpoints
 * report about the same connection (`ss -tin`, /proc/net/snmp). Needs root,
 * iperf3, ss and nft (nftables); a missing prerequisite fails the run.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { Demo, startDemo } from '../../lib/cli/demo';
import { parseSiftrLog, SiftrLog, SiftrRecord } from '../../lib/siftr-log';
import type { TopologyHost } from '../../lib/topology';
import { requireRoot, requireTools } from '../../lib/topology';
import { outputMatches, scratchDir, sleep, TEST_EAL } from '../helpers/router-env';

const CONFIG = path.resolve(__dirname, '..', '..', 'dpdk-config', 'default.yaml');
const TF_FASTRECOVERY = 0x00100000;
const IPERF_PORT = 5201;

/** What `ss -tin` says about the connection from `host` to dst:port. */
interface SsInfo {
  wscale: [number, number]; // snd_wscale (the peer's shift), rcv_wscale (its own)
  rttMs: number;
  mss: number;
  advmss: number;
}

async function ssInfo(host: TopologyHost, filter: string[]): Promise<SsInfo[]> {
  const r = await host.exec(['ss', '-tin', ...filter]);
  const out: SsInfo[] = [];
  for (const line of r.stdout.split('\n')) {
    const ws = /wscale:(\d+),(\d+)/.exec(line);
    const rtt = /\brtt:([\d.]+)\//.exec(line);
    const mss = /\bmss:(\d+)/.exec(line);
    const adv = /\badvmss:(\d+)/.exec(line);
    if (ws && rtt && mss && adv) {
      out.push({ wscale: [Number(ws[1]), Number(ws[2])], rttMs: Number(rtt[1]), mss: Number(mss[1]), advmss: Number(adv[1]) });
    }
  }
  return out;
}

/** RetransSegs of the namespace's TCP (RFC 4022 tcpRetransSegs). */
async function retransSegs(host: TopologyHost): Promise<number> {
  const r = await host.exec(['cat', '/proc/net/snmp'], { check: true });
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('Tcp:'));
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  return Number(values[names.indexOf('RetransSegs')]);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
};

/** The records of the connection that carried most segments (iperf3's data connection). */
function dataConnection(log: SiftrLog): SiftrRecord[] {
  const by = new Map<string, SiftrRecord[]>();
  for (const r of log.records) {
    const k = `${r.localAddress};${r.localPort}-${r.foreignAddress};${r.foreignPort}`;
    if (!by.has(k)) by.set(k, []);
    by.get(k)!.push(r);
  }
  return [...by.values()].sort((a, b) => b.length - a.length)[0] ?? [];
}

/** iperf3 h1 → h2 for `seconds`, sampling `ss -tin` on both ends while it runs. */
/**
 * With a rate (iperf3 -b), the sender is paced: unpaced, it fills its own
 * queues, and the kernel's RTT then includes queueing before the segments
 * reach the router, which the router cannot see (on a loaded 2-CPU machine
 * the two differed 3.5x). The RTT comparison runs paced.
 */
async function transfer(demo: Demo, seconds: number, rate?: string): Promise<{ client: SsInfo[]; server: SsInfo[] }> {
  const h1 = demo.host('h1');
  const h2 = demo.host('h2');
  const server = h2.spawn(['iperf3', '-s', '-1', '--forceflush', '-B', h2.address, '-p', String(IPERF_PORT)]);
  try {
    await outputMatches(server, /Server listening/);
    const run = h1.exec(['iperf3', '-6', '-c', h2.address, '-p', String(IPERF_PORT), '-t', String(seconds), ...(rate ? ['-b', rate] : []), '-J'], { timeoutMs: 30000 + seconds * 1000 });
    const client: SsInfo[] = [];
    const srv: SsInfo[] = [];
    await sleep(700);
    for (let i = 0; i < seconds * 4; i++) {
      client.push(...(await ssInfo(h1, ['dst', `[${h2.address}]:${IPERF_PORT}`])));
      srv.push(...(await ssInfo(h2, ['src', `[${h2.address}]:${IPERF_PORT}`])));
      await sleep(150);
    }
    const res = await run;
    expect(res.code, res.stderr + res.stdout.slice(0, 400)).to.equal(0);
    return { client, server: srv };
  } finally {
    server.kill();
  }
}

describe('integration: SIFTR on TCP between namespace hosts (iperf3 through the router)', function () {
  this.timeout(180000);
  let demo: Demo;
  const dir = scratchDir('siftr-int');

  before(async () => {
    requireRoot('integration tests');
    requireTools(['ip', 'iperf3', 'ss', 'nft']);
    demo = await startDemo(CONFIG, {
      unique: true,
      override: (cfg) => ({ ...cfg, eal: { ...cfg.eal, ...TEST_EAL, workerCpus: cfg.eal.workerCpus } }),
    });
  });

  after(async () => {
    if (demo) await demo.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('logs both directions; MSS and window scales equal what the hosts negotiated; RTT within the range of the kernel samples; no retransmission the sender did not make', async () => {
    const log = path.join(dir, 'clean.log');
    const h1 = demo.host('h1');
    const h2 = demo.host('h2');
    const retransBefore = await retransSegs(h1);
    await demo.router.siftr.enable({ logfile: log });
    const ss = await transfer(demo, 2, '200M');
    const summary = await demo.router.siftr.disable();
    const retrans = (await retransSegs(h1)) - retransBefore;

    const parsed = parseSiftrLog(fs.readFileSync(log, 'utf8'));
    const conn = dataConnection(parsed);
    expect(conn.length, 'records of the data connection').to.be.greaterThan(100);
    expect(conn[0]).to.include({ localAddress: h1.address, foreignAddress: h2.address, foreignPort: IPERF_PORT });
    const out = conn.filter((r) => r.direction === 'o');
    const inb = conn.filter((r) => r.direction === 'i');
    expect(out.length, "h1's data segments ('o')").to.be.greaterThan(50);
    expect(inb.length, "h2's ACKs ('i')").to.be.greaterThan(10);
    expect(summary.logged).to.equal(parsed.records.length);
    expect(summary.logged).to.equal(summary.total - summary.totalSkipped - summary.writeErrors);

    // What the hosts negotiated, read on h1 (the initiator, "local").
    expect(ss.client.length, 'ss samples of the data connection on h1').to.be.greaterThan(0);
    const c = ss.client[ss.client.length - 1];
    const last = out[out.length - 1];
    expect([last.sndScale, last.rcvScale], `ss wscale ${c.wscale}`).to.deep.equal(c.wscale);
    // The router's MSS is the smaller of the two SYN offers. Linux keeps
    // advmss and mss net of the timestamp option once timestamps are agreed
    // (tcp_rcv_synsent_state_process: advmss -= TCPOLEN_TSTAMP_ALIGNED), so
    // compare with what the router saw agreed: TF_REQ_TSTMP | TF_RCVD_TSTMP.
    const ts = (last.flags & 0x180) === 0x180 ? 12 : 0;
    const offers = [c.advmss, ...ss.server.map((s) => s.advmss)].map((m) => m + ts);
    expect(last.maxSegSize, `ss: ${JSON.stringify(c)}`).to.equal(Math.min(...offers));
    expect(last.maxSegSize - ts).to.equal(c.mss);

    // The router's smoothed RTT against the kernel's own samples over the
    // same transfer: within their range, with a factor of 2 either side.
    // Not "within 2x of the kernel's median": the two see different paths
    // (the kernel's includes h1's own stack and queues), and on a loaded
    // 2-CPU machine their ratio ranged 0.09-3.3 over 12 runs while the
    // kernel's samples themselves spread as widely. What this still
    // catches: a unit error (us for ms), a clock error, or an RTT from the
    // wrong segments (orders of magnitude off).
    const rttRouterMs = median(conn.filter((r) => r.srtt > 0).map((r) => r.srtt / 1000));
    const kernelMs = ss.client.map((s) => s.rttMs);
    const [kMin, kMax] = [Math.min(...kernelMs), Math.max(...kernelMs)];
    expect(rttRouterMs, `router ${rttRouterMs} ms, kernel ${kMin}..${kMax} ms (median ${median(kernelMs)})`).to.be.within(kMin / 2, kMax * 2);

    const routerRexmits = out.filter((r) => (r.flags & TF_FASTRECOVERY) !== 0).length;
    // No retransmission the sender did not make: none when its kernel made
    // none. When it did (the router or the veths drop under load), the two
    // counts are of the same order but not equal: the kernel counts per
    // (GSO) skb sent again and tail-loss probes, the router per wire segment
    // starting below the highest sequence it saw.
    if (retrans === 0) expect(routerRexmits).to.equal(0);
    expect(routerRexmits, `router ${routerRexmits}, h1's kernel ${retrans}`).to.be.at.most(2 * retrans + 10);
  });

  it('shows retransmissions when 2% of the sender\'s TCP segments are dropped (nftables in h1)', async () => {
    const log = path.join(dir, 'lossy.log');
    const h1 = demo.host('h1');
    const nft = async (args: string[]): Promise<void> => {
      const r = await h1.exec(['nft', ...args]);
      expect(r.code, r.stderr).to.equal(0);
    };
    await nft(['add', 'table', 'inet', 'fpt']);
    try {
      await nft(['add', 'chain', 'inet', 'fpt', 'o', '{ type filter hook output priority 0; }']);
      await nft(['add', 'rule', 'inet', 'fpt', 'o', 'meta', 'l4proto', 'tcp', 'tcp', 'dport', String(IPERF_PORT), 'numgen', 'random', 'mod', '50', '==', '0', 'drop']);
      const retransBefore = await retransSegs(h1);
      await demo.router.siftr.enable({ logfile: log });
      await transfer(demo, 2);
      const summary = await demo.router.siftr.disable();
      const retrans = (await retransSegs(h1)) - retransBefore;
      const out = dataConnection(parseSiftrLog(fs.readFileSync(log, 'utf8'))).filter((r) => r.direction === 'o');
      const routerRexmits = out.filter((r) => (r.flags & TF_FASTRECOVERY) !== 0).length;
      expect(retrans, "h1's kernel retransmitted").to.be.greaterThan(0);
      expect(routerRexmits, `router ${routerRexmits}, kernel ${retrans}`).to.be.greaterThan(0);
      // Not a strict bound here: the kernel counts a retransmission per
      // (GSO) skb it sends again, the router per wire segment, and a window
      // probe below snd_max counts for the router too; of the same order.
      expect(routerRexmits).to.be.at.most(2 * retrans + 10);
      expect(summary.retransmissions).to.be.at.least(routerRexmits);
    } finally {
      await h1.exec(['nft', 'delete', 'table', 'inet', 'fpt']);
    }
  });

  it('two enable/disable cycles and a logfile change under traffic: lines in the files = logged; a ppl and port filter apply live', async () => {
    const h1 = demo.host('h1');
    const h2 = demo.host('h2');
    const [a, b, c] = ['cycle-a.log', 'cycle-b.log', 'cycle-c.log'].map((f) => path.join(dir, f));
    const server = h2.spawn(['iperf3', '-s', '-1', '--forceflush', '-B', h2.address, '-p', String(IPERF_PORT)]);
    try {
      await outputMatches(server, /Server listening/);
      const run = h1.exec(['iperf3', '-6', '-c', h2.address, '-p', String(IPERF_PORT), '-t', '4', '-b', '200M'], { timeoutMs: 40000 });
      await sleep(300);
      // Connections already running when logging starts: the router did not
      // see their SYN, so they are skipped (nskip_*_inpcb) unless picked up.
      await demo.router.siftr.enable({ logfile: a, pickupMidstream: true });
      await sleep(600);
      await demo.router.siftr.configure({ logfile: b });
      await sleep(600);
      const first = await demo.router.siftr.disable();
      await demo.router.siftr.enable({ logfile: c, pickupMidstream: true, ppl: 5, portFilter: IPERF_PORT });
      await sleep(800);
      const second = await demo.router.siftr.disable();
      const res = await run;
      expect(res.code, res.stderr).to.equal(0);

      const lines = (f: string): number => fs.readFileSync(f, 'utf8').split('\n').filter((l) => /^[io],/.test(l)).length;
      expect(first.files).to.equal(2);
      expect(first.logged, 'records under traffic').to.be.greaterThan(100);
      expect(lines(a) + lines(b)).to.equal(first.logged);
      expect(first.logged).to.equal(first.total - first.totalSkipped - first.writeErrors);
      expect(lines(c)).to.equal(second.logged);
      // ppl 5: about a fifth of the segments (per connection, rounded down).
      expect(second.logged).to.be.at.most(Math.ceil(second.total / 5) + 2);
      expect(second.logged).to.be.at.least(Math.floor((second.total - second.totalSkipped) / 5) - 2);
      expect(parseSiftrLog(fs.readFileSync(c, 'utf8')).records.every((r) => r.foreignPort === IPERF_PORT || r.localPort === IPERF_PORT)).to.equal(true);
    } finally {
      server.kill();
    }
  });
});

/**
 * The control socket and the CLI against the demo router: the router runs in
 * this process (startDemo, unique names) and serves a socket in a temp
 * directory; the CLI runs as a separate process (dist/lib/cli/cli.js, built
 * by `npx tsc -p tsconfig.json`, as `npm test` does first). Metrics on an
 * ephemeral port, checked by promtool. Needs root and the tools below; a
 * missing prerequisite fails the run (never skips).
 */
import { expect } from 'chai';
import { execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';

import { ControlClient } from '../../lib/control/client';
import { requireRoot, requireTools } from '../../lib/topology';
import { CLI, CliRun as Run, ControlDemoFixture } from '../helpers/control-env';
import { sleep, waitFor } from '../helpers/router-env';

const TARGET = '2001:db8:7::1';

/** GET a URL's body (Node's http: no curl needed). */
function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${res.statusCode}: ${body}`))));
    }).on('error', reject);
  });
}

/** A sample's value from Prometheus text: `name{labels} value`. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no ${series} in the metrics`);
  return Number(line.slice(series.length + 1));
}

describe('integration: control socket, CLI and metrics (demo router, CLI in another process)', function () {
  this.timeout(180000);
  const fx = new ControlDemoFixture();

  before(async () => {
    requireRoot('integration tests');
    requireTools(['ip', 'sysctl', 'ethtool', 'ping', 'promtool']);
    // Metrics on port 0: concurrent test runs never collide on a fixed port.
    await fx.start('ctl', { metrics: '127.0.0.1:0' });
  });

  after(() => fx.stop());

  it('serves the socket mode 0660 and answers hello with the API version', async () => {
    expect(fs.statSync(fx.socket).mode & 0o777).to.equal(0o660);
    const c = await ControlClient.connect(fx.socket);
    try {
      const hello = await c.call<{ api: number; version: string; dpdk: string }>('hello');
      expect(hello.api).to.equal(1);
      expect(hello.version).to.match(/^\d+\.\d+/);
      expect(hello.dpdk).to.be.a('string');
    } finally {
      c.close();
    }
  });

  it('`show interfaces --json` lists eth0 and eth1; the human table too', async () => {
    const r = await fx.cli(['show', 'interfaces', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const list = JSON.parse(r.stdout) as { name: string; counters: { ipackets: string } }[];
    expect(list.map((i) => i.name)).to.include.members(['eth0', 'eth1']);
    expect(list[0].counters.ipackets).to.match(/^\d+$/); // bigint as a decimal string
    const human = await fx.cli(['show', 'interfaces']);
    expect(human.code, human.stderr).to.equal(0);
    expect(human.stdout).to.match(/^NAME\s+KIND/);
    expect(human.stdout).to.include('eth1');
  });

  it('`route add … via h2 dev eth1` makes a ping to a third prefix work; a duplicate is EEXIST (exit 1); `route del` stops it', async () => {
    const h1 = fx.demo.host('h1');
    const h2 = fx.demo.host('h2');
    await h2.exec(['ip', '-6', 'addr', 'add', `${TARGET}/128`, 'dev', 'lo'], { check: true });
    try {
      const none = await h1.exec(['ping', '-6', '-c', '1', '-W', '1', TARGET]);
      expect(none.code, 'no route yet').to.not.equal(0);

      const add = await fx.cli(['route', 'add', '2001:db8:7::/64', 'via', h2.address, 'dev', 'eth1']);
      expect(add.code, add.stderr).to.equal(0);
      const ok = await h1.exec(['ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', TARGET]);
      expect(ok.code, ok.stdout + ok.stderr).to.equal(0);
      const routes = JSON.parse((await fx.cli(['show', 'routes', '--json'])).stdout) as { prefix: string; via?: string }[];
      expect(routes.find((x) => x.prefix === '2001:db8:7::/64')?.via).to.equal(h2.address);

      const dup = await fx.cli(['route', 'add', '2001:db8:7::/64', 'via', h2.address, 'dev', 'eth1', '--json']);
      expect(dup.code).to.equal(1);
      const err = JSON.parse(dup.stdout) as { error: { code: string; message: string } };
      expect(err.error.code).to.equal('EEXIST');
      expect(err.error.message).to.include('2001:db8:7::/64');
      const dupHuman = await fx.cli(['route', 'add', '2001:db8:7::/64', 'via', h2.address, 'dev', 'eth1']);
      expect(dupHuman.code).to.equal(1);
      expect(dupHuman.stderr).to.match(/^fastpath: EEXIST: /);

      const del = await fx.cli(['route', 'del', '2001:db8:7::/64']);
      expect(del.code, del.stderr).to.equal(0);
      const gone = await h1.exec(['ping', '-6', '-c', '2', '-i', '0.2', '-W', '1', TARGET]);
      expect(gone.code).to.not.equal(0);
    } finally {
      await h2.exec(['ip', '-6', 'addr', 'del', `${TARGET}/128`, 'dev', 'lo']);
      try {
        fx.demo.router.routes.delete('2001:db8:7::/64');
      } catch {
        // already deleted by the test
      }
    }
  });

  it('names the socket and how to start the router when none is there (exit 1, JSON error too)', async () => {
    const missing = path.join(fx.dir, 'none.sock');
    const r = await new Promise<Run>((resolve) =>
      execFile(process.execPath, [CLI, 'show', 'routes', '--json', '--socket', missing], { encoding: 'utf8' }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
      ),
    );
    expect(r.code).to.equal(1);
    const e = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    expect(e.error.code).to.equal('ENOENT');
    expect(e.error.message).to.include(missing);
    expect(e.error.message).to.include('fastpath start -c');
  });

  it('`events` sees the link go down when h2 downs its veth (and up again)', async () => {
    const h2 = fx.demo.host('h2');
    const child = spawn(process.execPath, [CLI, 'events', '--json', '--types', 'link', '--socket', fx.socket]);
    fx.children.add(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    try {
      expect(await waitFor(() => err.includes('following'), 10000), err).to.equal(true);
      await h2.exec(['ip', 'link', 'set', 'dev', 'eth0', 'down'], { check: true });
      const seen = (state: string): boolean =>
        out.split('\n').filter((l) => l !== '').some((l) => {
          const e = JSON.parse(l) as { type: string; interface: string; state: string };
          return e.type === 'link' && e.interface === 'eth1' && e.state === state;
        });
      expect(await waitFor(() => seen('down'), 5000), out).to.equal(true);
      await h2.exec(['ip', 'link', 'set', 'dev', 'eth0', 'up'], { check: true });
      expect(await waitFor(() => seen('up'), 5000), out).to.equal(true);
    } finally {
      child.kill('SIGINT');
      fx.children.delete(child);
      const h = fx.demo.host('h2');
      await h.exec(['ip', 'link', 'set', 'dev', 'eth0', 'up']);
      await h.exec(['ip', '-6', 'route', 'replace', 'default', 'via', h.gateway, 'dev', 'eth0']);
    }
    // h2's address is usable again (its DAD after link up) before the next test.
    const h1 = fx.demo.host('h1');
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) ok = (await h1.exec(['ping', '-6', '-c', '1', '-W', '1', h2.address])).code === 0;
    expect(ok, 'h1 → h2 again after the link came back').to.equal(true);
  });

  it('20 clients at once, one subscribed and never reading: the others are answered, forwarding is unaffected, the stuck one is cut off', async () => {
    const h1 = fx.demo.host('h1');
    const h2 = fx.demo.host('h2');
    // The stuck client: subscribes, then floods requests without ever reading.
    const stuck = net.connect(fx.socket);
    await new Promise<void>((resolve, reject) => stuck.once('connect', resolve).once('error', reject));
    stuck.pause();
    stuck.on('error', () => undefined);
    let stuckClosed = false;
    stuck.on('close', () => (stuckClosed = true));
    stuck.write(`${JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'events.subscribe' })}\n`);
    const flood = setInterval(() => {
      if (stuckClosed) return;
      let batch = '';
      for (let i = 0; i < 50; i++) batch += `${JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: 'stats' })}\n`;
      stuck.write(batch);
    }, 5);
    const clients = await Promise.all(Array.from({ length: 19 }, () => ControlClient.connect(fx.socket)));
    try {
      const ping = h1.exec(['ping', '-6', '-c', '20', '-i', '0.05', '-W', '2', h2.address]);
      let answered = 0;
      let worstMs = 0;
      for (let round = 0; round < 10; round++) {
        await Promise.all(
          clients.map(async (c, i) => {
            const t0 = Date.now();
            const r = await c.call<unknown[]>(i % 2 ? 'routes.list' : 'interfaces.list');
            worstMs = Math.max(worstMs, Date.now() - t0);
            expect(r).to.be.an('array');
            answered++;
          }),
        );
      }
      const result = await ping;
      expect(result.code, result.stdout).to.equal(0);
      expect(result.stdout).to.match(/20 packets transmitted, 20 received/);
      expect(answered).to.equal(190);
      expect(worstMs, 'slowest answer (ms) while one client is stuck').to.be.below(2000);
      expect(await waitFor(() => stuckClosed, 20000), 'the stuck client was disconnected').to.equal(true);
      expect(fx.services!.control.counters.closedOverflow).to.be.at.least(1);
      console.log(`      (190 answers, slowest ${worstMs} ms; stuck client cut off after its queue filled)`);
    } finally {
      clearInterval(flood);
      stuck.destroy();
      for (const c of clients) c.close();
    }
  });

  it('/metrics during a ping: eth0 rx packets increase; every drop reason listed; promtool check metrics passes', async () => {
    const h1 = fx.demo.host('h1');
    const h2 = fx.demo.host('h2');
    const addr = fx.services!.metrics!.address;
    const url = `http://127.0.0.1:${addr.port}/metrics`;
    const series = 'fastpath_interface_rx_packets_total{interface="eth0"}';
    const before = await httpGet(url);
    const ping = h1.exec(['ping', '-6', '-c', '10', '-i', '0.1', '-W', '2', h2.address]);
    await sleep(600);
    const during = await httpGet(url);
    expect((await ping).code).to.equal(0);
    const after = await httpGet(url);
    expect(sample(during, series)).to.be.above(sample(before, series));
    expect(sample(after, series) - sample(before, series)).to.be.at.least(10);
    for (const reason of Object.keys(fx.demo.router.stats().drops)) expect(after).to.include(`fastpath_drops_total{reason="${reason}"} `);
    expect(after).to.match(/^fastpath_build_info\{version="[^"]+",dpdk="[^"]+"\} 1$/m);
    expect(after).to.match(/^fastpath_interface_link_up\{interface="eth1"\} 1$/m);
    expect(after).to.match(/^fastpath_mbuf_pool_in_use\{pool="main"\} \d+$/m);
    expect(after).to.match(/^fastpath_neighbours\{state="permanent"\} 2$/m);
    expect(after).to.match(/^fastpath_api_connections_total \d+$/m);
    const check = await new Promise<Run>((resolve) => {
      const p = execFile('promtool', ['check', 'metrics'], { encoding: 'utf8' }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
      p.stdin?.end(after);
    });
    expect(check.code, check.stdout + check.stderr).to.equal(0);
  });

  it('`show stats` and `stats` print the counter table from the socket', async () => {
    for (const args of [['show', 'stats'], ['stats']]) {
      const r = await fx.cli(args);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/^\s+interface\s+ipackets/);
      expect(r.stdout).to.include('eth0');
    }
  });

  it('close() removes the socket file', async () => {
    await fx.services!.close();
    expect(fs.existsSync(fx.socket)).to.equal(false);
    fx.services = undefined;
  });
});

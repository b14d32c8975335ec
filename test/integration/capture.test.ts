/**
 * Packet capture on the demo router (lib/capture.ts, native/control/capture.c):
 * `fastpath capture` in another process over the control socket, during a
 * real ping between the namespace hosts; tshark reads what it wrote. Also
 * the TS API (router.capture) in this process, and the errors. Needs root,
 * ping and tshark; a missing prerequisite fails the run (never skips).
 */
import { expect } from 'chai';
import { execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { CapturedPacket } from '../../lib/capture';
import { FastpathError } from '../../lib/errors';
import { requireRoot, requireTools } from '../../lib/topology';
import { CLI, CliRun as Run, ControlDemoFixture } from '../helpers/control-env';
import { waitFor } from '../helpers/router-env';

/** ICMPv6 echo requests without extension headers. */
const ECHO_REQUESTS = 'icmp6 and ip6[40] == 128';

/** tshark's fields, one line per packet, tab-separated. */
function tsharkFields(file: string, fields: string[]): Promise<string[][]> {
  return new Promise((resolve, reject) =>
    execFile('tshark', ['-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? reject(new Error(`tshark -r ${file}: ${stderr || err.message}`)) : resolve(stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'))),
    ),
  );
}

describe('integration: packet capture (fastpath capture, router.capture)', function () {
  this.timeout(180000);
  const fx = new ControlDemoFixture();

  /** A ping h1 → h2 (through the router: echo requests in on eth0, out on eth1). */
  const ping = (count: number): Promise<{ code: number | null; stdout: string }> =>
    fx.demo.host('h1').exec(['ping', '-6', '-c', String(count), '-i', '0.2', '-W', '2', fx.demo.host('h2').address]);

  /**
   * Run `fastpath capture ARGS`; once it says it captures, run `during`;
   * then wait for it to end (or, with `interrupt`, send SIGINT first).
   */
  async function captureCli(args: string[], during: () => Promise<unknown>, opts: { interrupt?: boolean } = {}): Promise<Run> {
    const child = spawn(process.execPath, [CLI, 'capture', ...args, '--socket', fx.socket]);
    fx.children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const ready = await Promise.race([waitFor(() => stderr.includes('capturing on'), 15000), exited.then(() => false)]);
      if (!ready) return { code: await exited, stdout, stderr };
      await during();
      if (opts.interrupt) child.kill('SIGINT');
      const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 20000))]);
      return { code, stdout, stderr };
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      fx.children.delete(child);
    }
  }

  before(async () => {
    requireRoot('integration tests');
    requireTools(['ip', 'sysctl', 'ethtool', 'ping', 'tshark']);
    await fx.start('capture');
    expect((await ping(1)).code, 'h1 → h2 before any capture').to.equal(0);
  });

  after(() => fx.stop());

  it('`capture -i eth0 -c 5 -w x.pcapng` during a ping: tshark reads 5 ICMPv6 echo requests received on eth0', async () => {
    const file = path.join(fx.dir, 'x.pcapng');
    const h1 = fx.demo.host('h1').address;
    const r = await captureCli(['-i', 'eth0', '-c', '5', '-f', ECHO_REQUESTS, '-w', file], () => ping(8));
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/5 packets captured/);
    const rows = await tsharkFields(file, ['frame.interface_name', 'frame.packet_flags_direction', 'icmpv6.type', 'ipv6.src']);
    expect(rows).to.have.length(5);
    for (const [ifname, dir_, type, src] of rows) {
      expect(ifname).to.equal('eth0');
      expect(Number(dir_)).to.equal(1); // inbound
      expect(type).to.equal('128');
      expect(src).to.equal(h1);
    }
  });

  it('without a filter, both directions: echo requests in on eth0 and the replies out of it, each frame once', async () => {
    const file = path.join(fx.dir, 'both.pcapng');
    const r = await captureCli(['-i', 'eth0', '-w', file], () => ping(3), { interrupt: true });
    expect(r.code, r.stderr).to.equal(0);
    const rows = await tsharkFields(file, ['frame.interface_name', 'frame.packet_flags_direction', 'icmpv6.type', 'icmpv6.echo.sequence_number']);
    const requests = rows.filter((x) => x[2] === '128');
    const replies = rows.filter((x) => x[2] === '129');
    expect(requests.map((x) => x[3])).to.deep.equal(['1', '2', '3']);
    expect(replies.map((x) => x[3])).to.deep.equal(['1', '2', '3']);
    expect(requests.every((x) => x[0] === 'eth0' && Number(x[1]) === 1), JSON.stringify(rows)).to.equal(true);
    expect(replies.every((x) => x[0] === 'eth0' && Number(x[1]) === 2), JSON.stringify(rows)).to.equal(true);
  });

  it('a filter that matches nothing captures nothing (the frames were seen)', async () => {
    const file = path.join(fx.dir, 'none.pcapng');
    const r = await captureCli(['-i', 'eth0', '-i', 'eth1', '-f', 'udp port 9', '-w', file, '--json'], () => ping(3), { interrupt: true });
    expect(r.code, r.stderr).to.equal(0);
    const stats = JSON.parse(r.stdout) as { seen: number; matched: number; captured: number; dropped: number; delivered: number };
    expect(stats.seen).to.be.at.least(12); // 3 requests and 3 replies, each in and out
    expect(stats.matched).to.equal(0);
    expect(stats.delivered).to.equal(0);
    // A valid pcapng (tshark reads it) with no packets.
    expect(await tsharkFields(file, ['frame.number'])).to.have.length(0);
  });

  it('`-w -` piped into `tshark -r -` decodes the echo requests sent on eth1', async () => {
    // A shell pipeline, as an operator types it: tshark refuses a socket as
    // its stdin, which is what Node gives a child for a pipe.
    const quote = (a: string): string => `'${a.replace(/'/g, "'\\''")}'`;
    const cmd = [process.execPath, CLI, 'capture', '-i', 'eth1', '--direction', 'tx', '-c', '3', '-f', ECHO_REQUESTS, '-w', '-', '--socket', fx.socket].map(quote).join(' ');
    const child = spawn('bash', ['-o', 'pipefail', '-c', `${cmd} | tshark -r - -T fields -e frame.interface_name -e icmpv6.type -e frame.packet_flags_direction`]);
    fx.children.add(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      expect(await waitFor(() => err.includes('capturing on'), 15000), err).to.equal(true);
      await ping(6);
      expect(await exited, err).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      fx.children.delete(child);
    }
    const rows = out.trim().split('\n').map((l) => l.split('\t'));
    expect(rows, out).to.have.length(3);
    for (const [ifname, type, direction] of rows) expect([ifname, type, Number(direction)]).to.deep.equal(['eth1', '128', 2]);
  });

  it('bad input: a bad filter (EINVAL), an unknown interface (ENOENT), an unwritable file, each named; nothing left running', async () => {
    const bad = await fx.cli(['capture', '-i', 'eth0', '-f', 'ip6 and ((', '-w', path.join(fx.dir, 'bad.pcapng'), '--json']);
    expect(bad.code).to.equal(1);
    const e1 = JSON.parse(bad.stdout) as { error: { code: string; message: string } };
    expect(e1.error.code).to.equal('EINVAL');
    expect(e1.error.message).to.include('ip6 and ((');
    expect(fs.existsSync(path.join(fx.dir, 'bad.pcapng')), 'no file left behind').to.equal(false);

    const unknown = await fx.cli(['capture', '-i', 'eth9', '-w', path.join(fx.dir, 'u.pcapng')]);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.match(/^fastpath: ENOENT: .*"eth9"/);

    const unwritable = path.join(fx.dir, 'no', 'such', 'dir', 'x.pcapng');
    const nofile = await fx.cli(['capture', '-i', 'eth0', '-w', unwritable, '--json']);
    expect(nofile.code).to.equal(1);
    const e3 = JSON.parse(nofile.stdout) as { error: { code: string; message: string } };
    expect(e3.error.code).to.equal('ENOENT');
    expect(e3.error.message).to.include(unwritable);

    expect(fx.demo.router.capture.current?.stats().running ?? false).to.equal(false);
  });

  it('router.capture (TS API): packets with interface, direction, timestamps and frames; EBUSY while running; a VLAN is refused', async () => {
    const r = fx.demo.router;
    const before = BigInt(Date.now()) * 1000000n;
    const cap = r.capture.start({ interfaces: ['eth1'], direction: 'tx', filter: ECHO_REQUESTS, count: 2 });
    expect(() => r.capture.start({ interfaces: 'eth0' })).to.throw(FastpathError).with.property('code', 'EBUSY');
    const pinging = ping(4);
    const got: CapturedPacket[] = [];
    for await (const p of cap) got.push(p);
    await pinging;
    expect(got).to.have.length(2);
    for (const p of got) {
      expect(p.interface).to.equal('eth1');
      expect(p.direction).to.equal('tx');
      expect(p.timestamp > before).to.equal(true);
      expect(p.timestamp < BigInt(Date.now() + 1000) * 1000000n).to.equal(true);
      expect(p.data.readUInt16BE(12)).to.equal(0x86dd);
      expect(p.data[54]).to.equal(128);
      expect(p.length).to.equal(p.data.length);
    }
    const s = cap.stats();
    expect(s.running).to.equal(false);
    expect(s.delivered).to.equal(2);
    expect(s.dropped).to.equal(0);

    r.interfaces.clone('vlan', { parent: 'eth0', vlan: 100, name: 'capvlan' });
    try {
      expect(() => r.capture.start({ interfaces: 'capvlan' })).to.throw(FastpathError).with.property('code', 'EOPNOTSUPP');
    } finally {
      r.interfaces.destroy('capvlan');
    }
    expect((await ping(2)).code, 'forwarding after the captures').to.equal(0);
  });

  it('a full ring drops and counts: a capture nobody reads keeps `buffer` frames, the rest are counted as dropped', async () => {
    const r = fx.demo.router;
    const cap = r.capture.start({ interfaces: ['eth0', 'eth1'], buffer: 64 });
    try {
      // 100 echo requests and replies, each in and out: 400 frames, never read meanwhile.
      const flood = await fx.demo.host('h1').exec(['ping', '-6', '-c', '100', '-i', '0.002', '-W', '2', fx.demo.host('h2').address]);
      expect(flood.code, flood.stdout).to.equal(0);
      const s = cap.stop();
      expect(s.captured).to.equal(64);
      expect(s.dropped).to.be.at.least(400 - 64);
      expect(s.matched).to.equal(s.captured + s.dropped);
      let n = 0;
      for await (const _p of cap) n++;
      expect(n).to.equal(64);
      expect(cap.stats().delivered).to.equal(64);
    } finally {
      cap.close();
    }
  });

  it('a capture ends with the client connection that started it', async () => {
    const child = spawn(process.execPath, [CLI, 'capture', '-i', 'eth0', '-w', path.join(fx.dir, 'killed.pcapng'), '--socket', fx.socket]);
    fx.children.add(child);
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    try {
      expect(await waitFor(() => err.includes('capturing on'), 15000), err).to.equal(true);
      expect(fx.demo.router.capture.current?.stats().running).to.equal(true);
      child.kill('SIGKILL');
      expect(await waitFor(() => fx.demo.router.capture.current?.stats().running === false, 5000)).to.equal(true);
    } finally {
      fx.children.delete(child);
    }
    // The next capture can start.
    fx.demo.router.capture.start({ interfaces: 'eth0' }).close();
  });

  // Last: it stops the demo's router.
  it('stopping the router ends a running capture: the iterator ends, the stats are final', async () => {
    const r = fx.demo.router;
    const cap = r.capture.start({ interfaces: 'eth0', filter: ECHO_REQUESTS });
    await ping(2);
    const got: CapturedPacket[] = [];
    const reading = (async () => {
      for await (const p of cap) got.push(p);
    })();
    await waitFor(() => got.length === 2, 5000);
    await r.stop();
    await reading;
    expect(got).to.have.length(2);
    const s = cap.stats();
    expect(s.running).to.equal(false);
    expect(s.captured).to.equal(2);
  });
});

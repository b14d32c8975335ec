// Real routing daemons for the Linux-integration tests: FRR (Debian's frr)
// on the router's host, each instance in its own scratch directory (config,
// pid files, zserv and vty sockets: nothing of the host's /etc/frr is used),
// and BIRD 2 (Debian's bird2) inside a test host's namespace.
import * as fs from 'fs';
import * as path from 'path';

import { execCommand, TopologyHost } from '../../lib/topology';
import { scratchDir, sleep } from './router-env';

const FRR_LIB = '/usr/lib/frr';

/** FRR daemons (zebra plus those named) in the root namespace. */
export class Frr {
  readonly dir: string;
  private readonly daemons: string[] = [];

  private constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Start zebra and each daemon with its config text. zebra removes the
   * routes it installed when it is stopped (no -r), so nothing stays in the
   * kernel's table.
   */
  static async start(configs: Record<string, string>): Promise<Frr> {
    for (const d of ['zebra', ...Object.keys(configs)]) {
      if (!fs.existsSync(path.join(FRR_LIB, d))) throw new Error(`${FRR_LIB}/${d} is missing: install Debian's frr (scripts/ensure-system-deps.sh)`);
    }
    const frr = new Frr(scratchDir('frr'));
    fs.chmodSync(frr.dir, 0o755);
    try {
      for (const [d, text] of Object.entries({ zebra: 'hostname fastpath-test\n', ...configs })) {
        fs.writeFileSync(path.join(frr.dir, `${d}.conf`), text);
      }
      await execCommand(['chown', '-R', 'frr:frr', frr.dir], { check: true });
      for (const d of ['zebra', ...Object.keys(configs)]) {
        const args = ['-d', '-f', path.join(frr.dir, `${d}.conf`), '-i', path.join(frr.dir, `${d}.pid`), '-z', path.join(frr.dir, 'zserv.api'), '--vty_socket', frr.dir, '-P', '0'];
        if (d === 'zebra') args.push('-s', String(8 << 20));
        await execCommand([path.join(FRR_LIB, d), ...args], { check: true, timeoutMs: 20000 });
        frr.daemons.push(d);
        if (d === 'zebra') await sleep(300); // its zserv socket before the others connect
      }
    } catch (e) {
      await frr.stop();
      throw e;
    }
    return frr;
  }

  async vtysh(command: string): Promise<string> {
    const r = await execCommand(['vtysh', '--vty_socket', this.dir, '-c', command], { timeoutMs: 15000 });
    return r.stdout;
  }

  /** Stop the daemons (protocols first, zebra last: it withdraws its routes), then the directory. */
  async stop(): Promise<void> {
    for (const d of [...this.daemons].reverse()) {
      const pidFile = path.join(this.dir, `${d}.pid`);
      try {
        const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 50; i++) {
          try {
            process.kill(pid, 0);
          } catch {
            break;
          }
          await sleep(100);
        }
      } catch {
        /* not running */
      }
    }
    this.daemons.length = 0;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** BIRD 2 in a test host's namespace. */
export class Bird {
  private constructor(
    private readonly host: TopologyHost,
    readonly dir: string,
  ) {}

  static async start(host: TopologyHost, config: string): Promise<Bird> {
    const bird = new Bird(host, scratchDir('bird'));
    fs.writeFileSync(path.join(bird.dir, 'bird.conf'), config);
    const r = await host.exec(['bird', '-c', path.join(bird.dir, 'bird.conf'), '-s', bird.socket, '-P', path.join(bird.dir, 'bird.pid')], { timeoutMs: 15000 });
    if (r.code !== 0) {
      fs.rmSync(bird.dir, { recursive: true, force: true });
      throw new Error(`bird did not start: ${r.stdout}${r.stderr}`);
    }
    return bird;
  }

  get socket(): string {
    return path.join(this.dir, 'bird.ctl');
  }

  async birdc(command: string): Promise<string> {
    const r = await this.host.exec(['birdc', '-s', this.socket, ...command.split(' ')], { timeoutMs: 15000 });
    return r.stdout;
  }

  async stop(): Promise<void> {
    try {
      const pid = Number(fs.readFileSync(path.join(this.dir, 'bird.pid'), 'utf8').trim());
      process.kill(pid, 'SIGTERM');
      await sleep(200);
    } catch {
      /* not running */
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The virtual wire between Pktgen and the forwarder in bench:pktgen (two
 * processes, two ports each), and the clean-up of what a run leaves:
 *
 *   vhost      Pktgen net_virtio_user<N> ── unix socket ── net_vhost<N> forwarder
 *              (sockets in a folder of the run's own under the temp dir)
 *   af_packet  two veth pairs, pg0─fp0 and pg1─fp1, in a network namespace
 *              of the run's own with IPv6 off; both processes run inside it
 *
 * Whatever is open is removed at exit; what a run killed with SIGKILL left
 * (named after its pid) is removed by the next run's removeLeftovers().
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DPDK_RUN_DIR, OUT_DIR } from './common';

export type Transport = 'vhost' | 'af_packet';
export const TRANSPORTS: readonly Transport[] = ['vhost', 'af_packet'];

/** The generator ports' MACs: baremetal.yaml's static neighbours (port 0 on p0's link, port 1 on p1's). */
export const PKTGEN_MACS = ['02:00:00:00:01:02', '02:00:00:00:02:02'];

export interface Wire {
  transport: Transport;
  /** --vdev arguments: forwarder port 0 and 1, Pktgen port 0 and 1. */
  forwarderDevices: [string, string];
  pktgenDevices: [string, string];
  /** Pktgen's ethdev names for ports 0 and 1 (telemetry). */
  pktgenPorts: [string, string];
  /** Prefix for running a command on the wire (ip netns exec NS). */
  wrap: (cmd: string, args: string[]) => [string, string[]];
  /** Files that must exist before Pktgen starts (the vhost sockets the forwarder listens on). */
  readyFiles: string[];
  close: () => void;
}

/** Namespaces and folders of wires still up: removed at exit, whatever the path out. */
const openWires = new Set<Wire>();
process.on('exit', () => {
  for (const w of openWires) w.close();
});

const NETNS_PREFIX = 'fpb-pktgen-';
/** EAL file prefixes, config files and control sockets: fpb-pg-<pid>-<run>. */
export const RUN_PREFIX = 'fpb-pg-';

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * What a bench:pktgen killed with SIGKILL left (its children die with it,
 * by setpriv --pdeathsig): namespaces, vhost socket folders, config files
 * and EAL runtime folders named after its pid, when that pid is gone.
 */
export function removeLeftovers(): void {
  const dead = (name: string, prefix: string): boolean => {
    const m = new RegExp(`^${prefix}(\\d+)-`).exec(name);
    return m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]));
  };
  let namespaces: string[] = [];
  try {
    namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]);
  } catch {
    /* no iproute2 namespaces */
  }
  for (const n of namespaces.filter((x) => dead(x, NETNS_PREFIX))) {
    console.error(`bench:pktgen: removing namespace ${n}, left by a killed run`);
    try {
      ip(['netns', 'del', n]);
    } catch {
      /* already gone */
    }
  }
  const dirs: Array<[string, string]> = [
    [os.tmpdir(), NETNS_PREFIX],
    [OUT_DIR, RUN_PREFIX],
    [DPDK_RUN_DIR, RUN_PREFIX],
  ];
  for (const [dir, prefix] of dirs) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names.filter((x) => dead(x, prefix))) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
  }
}

let wireCount = 0;

export function openWire(transport: Transport): Wire {
  const id = ++wireCount;
  if (transport === 'vhost') {
    // unix socket paths are short (108 bytes): a folder under /tmp
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${NETNS_PREFIX}${process.pid}-`));
    const sock = [0, 1].map((i) => path.join(dir, `p${i}.sock`));
    const w: Wire = {
      transport,
      forwarderDevices: [`net_vhost0,iface=${sock[0]},queues=1`, `net_vhost1,iface=${sock[1]},queues=1`],
      pktgenDevices: [
        `net_virtio_user0,path=${sock[0]},queues=1,mac=${PKTGEN_MACS[0]}`,
        `net_virtio_user1,path=${sock[1]},queues=1,mac=${PKTGEN_MACS[1]}`,
      ],
      pktgenPorts: ['net_virtio_user0', 'net_virtio_user1'],
      wrap: (cmd, args) => [cmd, args],
      readyFiles: sock,
      close: () => {
        openWires.delete(w);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
    openWires.add(w);
    return w;
  }
  const ns = `${NETNS_PREFIX}${process.pid}-${id}`;
  const w: Wire = {
    transport,
    forwarderDevices: ['net_af_packet0,iface=fp0', 'net_af_packet1,iface=fp1'],
    pktgenDevices: ['net_af_packet0,iface=pg0', 'net_af_packet1,iface=pg1'],
    pktgenPorts: ['net_af_packet0', 'net_af_packet1'],
    wrap: (cmd, args) => ['ip', ['netns', 'exec', ns, cmd, ...args]],
    readyFiles: [],
    close: () => {
      openWires.delete(w);
      try {
        ip(['netns', 'del', ns]);
      } catch {
        /* not there */
      }
    },
  };
  openWires.add(w);
  try {
    ip(['netns', 'add', ns]);
    // IPv6 off before the veths exist: no link-local, DAD or MLD frames on the wire
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    ip(['-n', ns, 'link', 'add', 'pg0', 'address', PKTGEN_MACS[0], 'type', 'veth', 'peer', 'name', 'fp0']);
    ip(['-n', ns, 'link', 'add', 'pg1', 'address', PKTGEN_MACS[1], 'type', 'veth', 'peer', 'name', 'fp1']);
    for (const l of ['pg0', 'fp0', 'pg1', 'fp1']) ip(['-n', ns, 'link', 'set', l, 'up']);
  } catch (e) {
    w.close();
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`cannot build the af_packet wire (namespace ${ns}; needs root): ${err.stderr?.toString().trim() || err.message}`);
  }
  return w;
}


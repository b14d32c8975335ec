// The demo topology plus a third host, h3 on a third port (eth2,
// 2001:db8:4::/64), with `target` on h2's and h3's loopbacks so that either
// can take traffic for it: the setting of the link-state failover and ECMP
// tests with real Linux hosts.
import type { ChildProcess } from 'child_process';
import * as path from 'path';

import { Demo, startDemo } from '../../lib/cli/demo';
import type { TopologyHost } from '../../lib/topology';
import { TEST_EAL } from './router-env';

const CONFIG = path.resolve(__dirname, '..', '..', 'dpdk-config', 'default.yaml');

export async function startThreeHostDemo(target: string): Promise<Demo> {
  const demo = await startDemo(CONFIG, {
    unique: true,
    override: (cfg) => {
      const eth1 = cfg.ports.find((p) => p.name === 'eth1')!;
      return {
        ...cfg,
        eal: { ...cfg.eal, ...TEST_EAL, workerCpus: cfg.eal.workerCpus },
        ports: [...cfg.ports, { ...eth1, name: 'eth2', device: 'net_af_packet2,iface=fp2r', mac: '02:fa:57:00:00:03', addresses: ['2001:db8:4::1/64'] }],
        topology: {
          ...cfg.topology!,
          hosts: [...cfg.topology!.hosts, { name: 'h3', port: 'eth2', address: '2001:db8:4::2/64', gateway: '2001:db8:4::1' }],
        },
      };
    },
  });
  try {
    for (const h of ['h2', 'h3']) await demo.host(h).exec(['ip', '-6', 'addr', 'add', `${target}/128`, 'dev', 'lo'], { check: true });
  } catch (e) {
    await demo.close();
    throw e;
  }
  return demo;
}

/**
 * A UDP receiver in a host's namespace: for each datagram on `port`, the
 * time it arrived (ms, this machine's clock), its source port, and the
 * sender's sequence number when the payload is a decimal number (NaN else).
 */
export class HostReceiver {
  readonly times: number[] = [];
  readonly ports: number[] = [];
  readonly seqs: number[] = [];
  bound = false;
  private readonly child: ChildProcess;

  constructor(host: TopologyHost, port: number) {
    const script =
      `const s=require('dgram').createSocket('udp6');` +
      `s.on('message',(m,r)=>{const t=m.toString();console.log(Date.now()+' '+r.port+' '+(/^\\d{1,15}$/.test(t)?t:'-'))});` +
      `s.bind(${port},()=>console.log('bound'));`;
    this.child = host.spawn([process.execPath, '-e', script]);
    let buf = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        const m = /^(\d+) (\d+) (\d+|-)$/.exec(l);
        if (m) {
          this.times.push(Number(m[1]));
          this.ports.push(Number(m[2]));
          this.seqs.push(m[3] === '-' ? NaN : Number(m[3]));
        } else if (l === 'bound') this.bound = true;
      }
    });
  }

  /** How many arrived after t. */
  after(t: number): number {
    return this.times.filter((x) => x > t).length;
  }

  /** The first arrival after t, or undefined. */
  firstAfter(t: number): number | undefined {
    return this.times.find((x) => x > t);
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

/**
 * Routing protocols through Linux with real peers (issue 14's proof): FRR
 * (Debian's frr) runs on the router's host and speaks through the mirror of
 * eth1 to BIRD 2 (Debian's bird2) in h2's namespace.
 *  - BGP: BIRD announces 2001:db8:99::/64 (2001:db8:99::1 on h2's loopback);
 *    zebra installs it in the kernel (a next-hop object, a link-local
 *    gateway); fastpath imports it; h1 pings 2001:db8:99::1 through
 *    fastpath and h2 sees hop limit 63. BIRD withdraws it: fastpath drops
 *    the route within 5 s and h1 gets Destination Unreachable.
 *  - OSPFv3: FRR's ospf6d and BIRD reach Full over the mirror (ff02::5 both
 *    ways) and the prefix BIRD originates (2001:db8:97::/64, an external
 *    route; 2001:db8:97::1 on h2's loopback) is imported the same way.
 * Needs root and the daemons, installed by scripts/ensure-system-deps.sh; a
 * missing one fails, never skips. Everything started is stopped, even when
 * a check fails.
 */
import { expect } from 'chai';
import * as path from 'path';

import { Demo, startDemo } from '../../lib/cli/demo';
import { requireRoot, requireTools } from '../../lib/topology';
import { Bird, Frr } from '../helpers/routing-daemons';
import { sleep, TEST_EAL, waitFor } from '../helpers/router-env';

const CONFIG = path.resolve(__dirname, '..', '..', 'dpdk-config', 'routing.yaml');
const PREFIX = `fr${process.pid % 100000}-`;
const TAP1 = `${PREFIX}eth1`;

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(250);
  }
  return check();
}

/** BIRD's config: a static route `prefix` (protocol `name`) and `protocol`, which announces it. */
function birdConfig(name: string, prefix: string, protocol: string): string {
  return `router id 10.255.0.2;
protocol device {}
protocol static ${name} { ipv6; route ${prefix} unreachable; }
${protocol}
`;
}

/** FRR on the host and BIRD in h2 for one describe block: started before, stopped after. */
function daemons(frrConfigs: Record<string, string>, bird: string): { frr: Frr; bird: Bird } {
  const peers = {} as { frr: Frr; bird: Bird };
  before(async () => {
    peers.frr = await Frr.start(frrConfigs);
    peers.bird = await Bird.start(demoHost('h2'), bird);
  });
  after(async () => {
    await peers.bird?.stop();
    await peers.frr?.stop();
  });
  return peers;
}

let demo: Demo;
const demoHost = (name: string) => demo.host(name);

describe('integration: FRR and BIRD through the Linux mirrors', function () {
  this.timeout(240000);

  before(async () => {
    requireRoot('integration tests');
    requireTools(['ip', 'sysctl', 'ethtool', 'ping', 'tcpdump', 'bird', 'birdc', 'vtysh']);
    demo = await startDemo(CONFIG, {
      unique: true,
      override: (cfg) => ({ ...cfg, eal: { ...cfg.eal, ...TEST_EAL, workerCpus: cfg.eal.workerCpus }, linux: { ...cfg.linux, mirrorPrefix: PREFIX } }),
    });
    const h2 = demo.host('h2');
    await h2.exec(['ip', '-6', 'addr', 'add', '2001:db8:99::1/128', 'dev', 'lo'], { check: true });
    await h2.exec(['ip', '-6', 'addr', 'add', '2001:db8:97::1/128', 'dev', 'lo'], { check: true });
  });

  after(async () => {
    if (demo) await demo.close();
  });

  describe('BGP: BIRD in h2 to FRR bgpd on the host', () => {
    const peers = daemons(
      {
        bgpd: `router bgp 65001
 bgp router-id 10.255.0.1
 no bgp default ipv4-unicast
 no bgp ebgp-requires-policy
 neighbor 2001:db8:2::2 remote-as 65002
 neighbor 2001:db8:2::2 timers 1 3
 neighbor 2001:db8:2::2 timers connect 1
 address-family ipv6 unicast
  neighbor 2001:db8:2::2 activate
 exit-address-family
`,
      },
      birdConfig('announced', '2001:db8:99::/64', `protocol bgp fp {
  local 2001:db8:2::2 as 65002;
  neighbor 2001:db8:2::1 as 65001;
  hold time 3; connect retry time 1;
  ipv6 { import none; export where net = 2001:db8:99::/64; };
}`),
    );

    it('imports the route BGP learned, forwards to it (hop limit 63 at h2), drops it on withdrawal', async () => {
      const route = () => demo.router.routes.list().find((r) => r.prefix === '2001:db8:99::/64');
      const established = await until(async () => (await peers.bird.birdc('show protocols fp')).includes('Established'), 60000);
      expect(established, `BGP session: ${await peers.bird.birdc('show protocols all fp')}\n${await peers.frr.vtysh('show bgp summary')}`).to.equal(true);
      expect(await waitFor(() => route() !== undefined, 15000), `imported; kernel has: ${await peers.frr.vtysh('show ipv6 route')}`).to.equal(true);
      expect(route()).to.include({ kind: 'kernel', protocol: 'bgp', dev: 'eth1', state: 'up' });

      const h2 = demo.host('h2');
      const capture = h2.exec(['timeout', '10', 'tcpdump', '-n', '-v', '-c', '1', '-i', 'eth0', 'icmp6 and dst host 2001:db8:99::1'], { timeoutMs: 15000 });
      await sleep(1000);
      const ping = await demo.host('h1').exec(['ping', '-6', '-c', '3', '-i', '0.3', '-W', '2', '2001:db8:99::1'], { timeoutMs: 20000 });
      expect(ping.stdout, ping.stderr).to.match(/ 0% packet loss/);
      const seen = await capture;
      expect(seen.stdout + seen.stderr).to.match(/hlim 63/);

      // Withdraw: the session stays, the prefix goes.
      await peers.bird.birdc('disable announced');
      const t0 = Date.now();
      expect(await waitFor(() => route() === undefined, 5000), 'withdrawn within 5 s').to.equal(true);
      const took = Date.now() - t0;
      const lost = await demo.host('h1').exec(['ping', '-6', '-c', '1', '-W', '2', '2001:db8:99::1'], { timeoutMs: 10000 });
      expect(lost.stdout + lost.stderr, `route gone after ${took} ms`).to.match(/unreachable/i);
    });
  });

  describe('OSPFv3: BIRD in h2 and FRR ospf6d on the host', () => {
    const peers = daemons(
      {
        ospf6d: `interface ${TAP1}
 ipv6 ospf6 area 0.0.0.0
 ipv6 ospf6 hello-interval 1
 ipv6 ospf6 dead-interval 4
router ospf6
 ospf6 router-id 10.255.0.1
`,
      },
      birdConfig('ext', '2001:db8:97::/64', `protocol ospf v3 o6 {
  ipv6 { import none; export where net = 2001:db8:97::/64; };
  area 0 { interface "eth0" { type broadcast; hello 1; dead 4; }; };
}`),
    );

    it('reaches Full over the mirror and imports the OSPF route', async () => {
      const full = await until(async () => /Full/.test(await peers.frr.vtysh('show ipv6 ospf6 neighbor')), 60000);
      expect(full, `ospf6 neighbours: ${await peers.frr.vtysh('show ipv6 ospf6 neighbor')}\nBIRD: ${await peers.bird.birdc('show ospf neighbors')}`).to.equal(true);
      expect(await peers.bird.birdc('show ospf neighbors')).to.match(/Full/);
      const route = () => demo.router.routes.list().find((r) => r.prefix === '2001:db8:97::/64');
      expect(await waitFor(() => route() !== undefined, 20000), `imported; zebra: ${await peers.frr.vtysh('show ipv6 route')}`).to.equal(true);
      expect(route()).to.include({ kind: 'kernel', protocol: 'ospf', dev: 'eth1', state: 'up' });
      const ping = await demo.host('h1').exec(['ping', '-6', '-c', '2', '-i', '0.3', '-W', '2', '2001:db8:97::1'], { timeoutMs: 20000 });
      expect(/ 0% packet loss/.test(ping.stdout), `${ping.stdout}${ping.stderr}\nroute: ${JSON.stringify(route())}\nneighbours: ${JSON.stringify(demo.router.neighbours.list())}`).to.equal(true);
      expect(demo.router.interfaces.groups('eth1').groups.map((g) => g.address)).to.include('ff02::5');
    });
  });
});

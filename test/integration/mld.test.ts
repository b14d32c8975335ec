// MLD against a Linux bridge with multicast snooping and its own querier:
// the router's port and a host's port are on the bridge; the bridge's mdb
// must learn the router's groups from its reports, keep them while the
// router answers queries, and drop them after it leaves.
import { expect } from 'chai';

import { Router } from '../../lib';
import type { MldEvent } from '../../lib/events';
import { execCommand, requireRoot, requireTools } from '../../lib/topology';
import { TEST_EAL, waitFor } from '../helpers/router-env';

const pid = process.pid;
const BR = `fp-mldbr-${pid}`;
const HOST = `fp-mldh-${pid}`;
const ROUTER_IF = `fpm${pid}r`.slice(0, 15);
const GROUP = 'ff05::1:3';

async function sh(argv: string[], check = true): Promise<string> {
  const r = await execCommand(argv, { check, timeoutMs: 30000 });
  return r.stdout;
}

/** The bridge's multicast database, one line per entry. */
async function mdb(): Promise<string> {
  return sh(['bridge', '-n', BR, 'mdb', 'show']);
}

async function teardown(): Promise<void> {
  await execCommand(['ip', 'link', 'del', ROUTER_IF]);
  await execCommand(['ip', 'netns', 'del', HOST]);
  await execCommand(['ip', 'netns', 'del', BR]);
}

for (const version of [2, 1] as const) {
  describe(`integration: MLDv${version} listener against a snooping Linux bridge (querier on, mcast_mld_version ${version})`, function () {
    this.timeout(120000);
    let router: Router;
    const events: MldEvent[] = [];

    before(async () => {
      requireRoot('integration tests');
      requireTools(['ip', 'bridge', 'tshark']);
      await teardown();
      await sh(['ip', 'netns', 'add', BR]);
      await sh(['ip', 'netns', 'add', HOST]);
      // The bridge: snooping, its own querier, short timers so the test
      // sees queries, membership expiry and leaves within seconds.
      await sh(['ip', '-n', BR, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '1', 'mcast_querier', '1',
        'mcast_mld_version', String(version), 'mcast_query_interval', '300', 'mcast_query_response_interval', '100',
        'mcast_membership_interval', '700', 'mcast_last_member_interval', '50', 'mcast_last_member_count', '2',
        'mcast_startup_query_interval', '100']);
      await sh(['ip', 'link', 'add', ROUTER_IF, 'type', 'veth', 'peer', 'name', 'rp', 'netns', BR]);
      await sh(['ip', '-n', BR, 'link', 'add', 'hp', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', HOST]);
      for (const p of ['rp', 'hp']) await sh(['ip', '-n', BR, 'link', 'set', p, 'master', 'br0', 'up']);
      await sh(['ip', 'netns', 'exec', BR, 'sysctl', '-q', '-w', 'net.ipv6.conf.br0.accept_dad=0']);
      await sh(['ip', '-n', BR, 'link', 'set', 'br0', 'up']);
      await sh(['sysctl', '-q', '-w', `net.ipv6.conf.${ROUTER_IF}.disable_ipv6=1`]);
      await sh(['ip', 'link', 'set', ROUTER_IF, 'promisc', 'on', 'up']);
      await sh(['ip', 'netns', 'exec', HOST, 'sysctl', '-q', '-w', 'net.ipv6.conf.eth0.accept_dad=0']);
      await sh(['ip', '-n', HOST, 'addr', 'add', '2001:db8:1::2/64', 'dev', 'eth0', 'nodad']);
      await sh(['ip', '-n', HOST, 'link', 'set', 'eth0', 'up']);
      router = await Router.start({
        eal: TEST_EAL,
        ports: [{ name: 'eth0', device: `net_af_packet0,iface=${ROUTER_IF}`, mac: '02:00:00:00:10:01', addresses: ['2001:db8:1::1/64'], mld: { version } }],
        neighbours: [{ address: '2001:db8:1::2', mac: '02:00:00:00:10:02', dev: 'eth0' }],
      });
      router.on('mld', (ev: MldEvent) => events.push(ev));
      await router.addressesSettled();
    });

    after(async () => {
      await router?.stop();
      await teardown();
    });

    it('the bridge learns the router\'s solicited-node groups, then ff05::1:3 after joinGroup, on the router\'s port; reports are valid MLD (tshark)', async () => {
      // On the bridge's side of the veth: af_packet sends with qdisc bypass,
      // which packet taps on the router's side never see.
      const tshark = execCommand(['ip', 'netns', 'exec', BR, 'tshark', '-i', 'rp', '-a', 'duration:5', '-f', 'ip6 and ether src 02:00:00:00:10:01', '-Y', 'icmpv6.type == 143 || icmpv6.type == 131',
        '-T', 'fields', '-e', 'icmpv6.type', '-e', 'ipv6.hlim', '-e', 'ipv6.src', '-e', 'ipv6.opt.type', '-e', 'icmpv6.checksum.status',
        '-e', 'icmpv6.mldr.mar.multicast_address', '-e', 'icmpv6.mld.multicast_address'], { timeoutMs: 30000 });
      await new Promise((r) => setTimeout(r, 1500));
      router.interfaces.joinGroup('eth0', GROUP);
      expect(await waitFor(() => router.interfaces.groups('eth0').groups.some((g) => g.address === GROUP), 1000)).to.equal(true);
      let table = '';
      const learned = await (async () => {
        for (let i = 0; i < 80; i++) {
          table = await mdb();
          if (new RegExp(`port rp grp ${GROUP}\\b`).test(table) && /port rp grp ff02::1:ff00:1\b/.test(table)) return true;
          await new Promise((r) => setTimeout(r, 100));
        }
        return false;
      })();
      expect(learned, table).to.equal(true);
      const cap = await tshark;
      const lines = cap.stdout.trim().split('\n').filter((l) => l !== '');
      expect(lines.length, cap.stderr).to.be.greaterThan(0);
      for (const l of lines) {
        const [type, hlim, src, opt, ck] = l.split('\t');
        expect(type).to.equal(version === 2 ? '143' : '131');
        expect(hlim, l).to.equal('1');
        expect(src, l).to.match(/^fe80:/);
        expect(opt.split(',').map(Number), l).to.include(5); // Router Alert
        expect(ck, l).to.equal('1'); // good
      }
      expect(lines.some((l) => l.includes(GROUP)), lines.join('\n')).to.equal(true);
      expect(events.some((e) => e.action === 'join' && e.group === GROUP)).to.equal(true);
      expect(router.interfaces.groups('eth0').version).to.equal(version);
    });

    it('answers the bridge\'s queries: the entry outlives the membership interval (7 s)', async () => {
      await new Promise((r) => setTimeout(r, 9000));
      const table = await mdb();
      expect(table).to.match(new RegExp(`port rp grp ${GROUP}\\b`));
      const c = router.stats().control;
      expect((version === 2 ? c.mld_v2_query_in : c.mld_v1_query_in) > 0n, 'queries heard').to.equal(true);
      expect(events.some((e) => e.action === 'query')).to.equal(true);
    });

    it('traffic to the group reaches the router\'s punt path, and stops after leaveGroup; the bridge forgets the group', async () => {
      // UDP datagrams to the group from the host (hop limit 1, out of eth0),
      // then one to the router's own address: its port unreachable is the
      // barrier — the router has handled everything the host sent before it
      // (one link, one rx queue, one worker), with no guessed delay.
      const udp = 'import socket,time\n' +
        's=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)\n' +
        "s.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_MULTICAST_IF,socket.if_nametoindex('eth0'))\n" +
        `for i in range(5):\n s.sendto(b'fastpath mld',('${GROUP}',9999)); time.sleep(0.05)\n` +
        "s.sendto(b'barrier',('2001:db8:1::1',9999))\n";
      const unreachables = (): bigint => {
        const c = router.stats().control;
        return c.icmp6_unreachable + c.icmp6_error_suppressed;
      };
      const send = async (): Promise<void> => {
        const barrier = unreachables();
        await execCommand(['ip', 'netns', 'exec', HOST, '/usr/bin/python3', '-c', udp], { timeoutMs: 20000, check: true });
        expect(await waitFor(() => unreachables() > barrier, 5000), 'the barrier datagram was handled').to.equal(true);
      };
      // The host reaches the router's address without ND (the router's static entry for it uses another MAC).
      await sh(['ip', '-n', HOST, '-6', 'neigh', 'replace', '2001:db8:1::1', 'lladdr', '02:00:00:00:10:01', 'dev', 'eth0', 'nud', 'permanent']);
      const before = router.stats();
      await send();
      const mid = router.stats();
      // No UDP service listens there: counted and freed by the control thread.
      expect(mid.control.punt_dropped - before.control.punt_dropped >= 5n, 'all 5 delivered to the control plane').to.equal(true);
      router.interfaces.leaveGroup('eth0', GROUP);
      expect(router.interfaces.groups('eth0').groups.some((g) => g.address === GROUP)).to.equal(false);
      let gone = false;
      for (let i = 0; i < 60 && !gone; i++) {
        gone = !new RegExp(`port rp grp ${GROUP}\\b`).test(await mdb());
        if (!gone) await new Promise((r) => setTimeout(r, 100));
      }
      expect(gone, 'the bridge forgot the group within its last-listener time').to.equal(true);
      const beforeDrop = router.stats().drops.mcast_unjoined;
      const puntDroppedBefore = router.stats().control.punt_dropped;
      // The bridge stops forwarding the group to the router's port; if it
      // floods it anyway, the router drops it (mcast_unjoined), never punts.
      await send();
      const arrivedAndDropped = router.stats().drops.mcast_unjoined - beforeDrop;
      expect(router.stats().control.punt_dropped - puntDroppedBefore, `none punted (${arrivedAndDropped} arrived and dropped as not joined)`).to.equal(0n);
      expect(arrivedAndDropped <= 5n, `${arrivedAndDropped} dropped as not joined: at most the 5 sent`).to.equal(true);
      expect(events.some((e) => e.action === 'leave' && e.group === GROUP)).to.equal(true);
    });

    // Runs last: it stops the router. Without the leave the bridge would
    // keep the router's groups until its membership interval (7 s) after
    // the last report, at least 3 s from here (queries every 3 s).
    it(`stopping the router leaves its groups (${version === 2 ? 'a TO_IN report' : 'Done'}): the bridge forgets them within its last-listener time`, async () => {
      expect(await mdb(), 'the router\'s groups on its port').to.match(/port rp grp ff02::1:ff/);
      await router.stop();
      let left = '';
      let gone = false;
      for (let i = 0; i < 20 && !gone; i++) {
        left = await mdb();
        gone = !/port rp grp/.test(left);
        if (!gone) await new Promise((r) => setTimeout(r, 100));
      }
      expect(gone, `the bridge still has, 2 s after the stop:\n${left}`).to.equal(true);
    });
  });
}

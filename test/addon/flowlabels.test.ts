// The flow-label manager through router sockets (no traffic needed):
// contention between owners in every share mode with the outcomes of
// Linux's ip6_flowlabel.c, lingering, renew, limits, the listing, and bad
// input refused with nothing changed. The C unit test covers the manager's
// rules one by one (native/test/flowlabel_test.c); this proves the binding.
import { expect } from 'chai';

import { FastpathError, Router } from '../../lib';
import type { FlowLabelShare, UdpSocket } from '../../lib/sockets';
import { TEST_EAL } from '../helpers/router-env';

const ADDR = '2001:db8:1::1';
const DST = '2001:db8:1::2';

function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    expect(e).to.be.instanceOf(FastpathError);
    return (e as FastpathError).code;
  }
}

describe('flow labels: leases between owners (net_null vdevs)', function () {
  this.timeout(60000);
  let router: Router;
  let port = 8000;
  const open: UdpSocket[] = [];
  const sock = async (pid: number, uid: number): Promise<UdpSocket> => {
    const s = await router.sockets.udp({ address: ADDR, port: port++, owner: { pid, uid } });
    open.push(s);
    return s;
  };

  before(async () => {
    router = await Router.start({
      eal: TEST_EAL,
      ports: [{ name: 'eth0', device: 'net_null0,no-rx=1', addresses: [`${ADDR}/64`], dadTransmits: 0 }],
    });
  });
  after(async () => {
    for (const s of open) s.close();
    await router.stop();
  });

  const get = (s: UdpSocket, label: number, share: FlowLabelShare, create = false, exclusive = false): string =>
    code(() => s.getLabel({ label, share, flags: { create, exclusive }, destination: DST, linger: 6 }));

  it('exclusive: only the creating socket; a second exclusive create is EEXIST', async () => {
    const a = await sock(100, 1000);
    const b = await sock(100, 1000);
    expect(get(a, 0x101, 'exclusive', true)).to.equal('ok');
    expect(get(b, 0x101, 'exclusive')).to.equal('EPERM');
    expect(get(b, 0x101, 'exclusive', true, true)).to.equal('EEXIST');
    expect(router.flowLabels.list().find((r) => r.label === 0x101)).to.include({ share: 'exclusive', users: 1 });
  });

  it('process: the same pid may join, another pid may not', async () => {
    const a = await sock(200, 1000);
    const samePid = await sock(200, 2000);
    const otherPid = await sock(201, 1000);
    expect(get(a, 0x102, 'process', true)).to.equal('ok');
    expect(get(samePid, 0x102, 'process')).to.equal('ok');
    expect(get(otherPid, 0x102, 'process')).to.equal('EPERM');
    expect(router.flowLabels.list().find((r) => r.label === 0x102)).to.deep.include({ share: 'process', users: 2, owner: { pid: 200 } });
  });

  it('user: the same uid may join, another uid may not; a different share is EPERM', async () => {
    const a = await sock(300, 1000);
    const sameUid = await sock(301, 1000);
    const otherUid = await sock(302, 2000);
    expect(get(a, 0x103, 'user', true)).to.equal('ok');
    expect(get(sameUid, 0x103, 'user')).to.equal('ok');
    expect(get(otherUid, 0x103, 'user')).to.equal('EPERM');
    expect(get(sameUid, 0x103, 'any')).to.equal('EPERM');
  });

  it('any: everybody may join; without create an unknown label is ENOENT', async () => {
    const a = await sock(400, 1000);
    const b = await sock(401, 2000);
    expect(get(a, 0x104, 'any', true)).to.equal('ok');
    expect(get(b, 0x104, 'any')).to.equal('ok');
    expect(get(b, 0x105, 'any')).to.equal('ENOENT');
  });

  it('a released exclusive label lingers and is refused to another owner until the linger passes', async () => {
    const a = await sock(500, 1000);
    const other = await sock(501, 2000);
    expect(get(a, 0x106, 'exclusive', true)).to.equal('ok');
    a.putLabel(0x106);
    expect(router.flowLabels.list().find((r) => r.label === 0x106)).to.include({ users: 0, lingerS: 6 });
    expect(get(other, 0x106, 'exclusive', true)).to.equal('EPERM');
    // renew of a label not held: ENOENT; linger beyond 150 s unprivileged: EPERM.
    expect(code(() => other.renewLabel(0x106, { linger: 10 }))).to.equal('ENOENT');
    expect(get(other, 0x107, 'any', true)).to.equal('ok');
    expect(code(() => other.renewLabel(0x107, { linger: 600 }))).to.equal('EPERM');
    expect(code(() => other.renewLabel(0x107, { linger: 100 }))).to.equal('ok');
    expect(router.flowLabels.list().find((r) => r.label === 0x107)?.lingerS).to.equal(100);
  });

  it('after the linger passes, gc frees the label and another owner may create it', async function () {
    this.timeout(20000);
    const a = await sock(550, 1000);
    const other = await sock(551, 2000);
    expect(get(a, 0x108, 'exclusive', true)).to.equal('ok');
    a.putLabel(0x108);
    expect(get(other, 0x108, 'exclusive', true)).to.equal('EPERM');
    // Linger 6 s (the minimum), plus the refused create's use, plus gc's tick.
    await new Promise((r) => setTimeout(r, 7500));
    expect(get(other, 0x108, 'exclusive', true)).to.equal('ok');
    expect(router.flowLabels.list().find((r) => r.label === 0x108)).to.include({ users: 1 });
  });

  it('limits (mem_check): an unprivileged socket holding 32 leases gets ENOBUFS; a privileged one does not', async () => {
    const a = await sock(800, 1000);
    const root = await sock(801, 0);
    for (let i = 0; i < 32; i++) expect(get(a, 0x200 + i, 'any', true), `lease ${i}`).to.equal('ok');
    expect(get(a, 0x2ff, 'any', true)).to.equal('ENOBUFS');
    expect(get(root, 0x2ff, 'any', true)).to.equal('ok');
    const before = router.flowLabels.list().length;
    a.close();
    // Closing puts every lease back: they linger, unused.
    const rows = router.flowLabels.list().filter((r) => r.label >= 0x200 && r.label < 0x220);
    expect(rows).to.have.length(32);
    for (const r of rows) expect(r.users).to.equal(0);
    expect(router.flowLabels.list().length).to.equal(before);
  });

  it('state ranges: a requested label with the stateless bit is ERANGE; created labels are below 0x80000', async () => {
    const a = await sock(600, 1000);
    expect(get(a, 0x80001, 'any', true)).to.equal('ERANGE');
    for (let i = 0; i < 5; i++) {
      const l = a.getLabel({ label: 0, share: 'any', flags: { create: true }, destination: DST });
      expect(l).to.be.within(1, 0x7ffff);
    }
  });

  it('bad input: typed errors naming the argument, and nothing changes', async () => {
    const a = await sock(700, 1000);
    const before = router.flowLabels.list().length;
    expect(() => a.getLabel({ label: -1, share: 'any', destination: DST })).to.throw(FastpathError, /label/);
    expect(() => a.getLabel({ label: 1, share: 'none' as never, destination: DST })).to.throw(FastpathError, /share/);
    expect(() => a.getLabel({ label: 1, share: 'any', destination: 'nope' })).to.throw(FastpathError, /destination/);
    expect(() => a.getLabel({ label: 1, share: 'any', destination: DST, linger: 1.5 })).to.throw(FastpathError, /linger/);
    expect(code(() => a.getLabel({ label: 1, share: 'any', flags: { create: true }, destination: '::' }))).to.equal('EINVAL');
    expect(() => a.putLabel(0)).to.throw(FastpathError, /putLabel/);
    expect(router.flowLabels.list().length).to.equal(before);
    a.close();
    expect(() => a.putLabel(1)).to.throw(FastpathError, /closed/);
  });
});

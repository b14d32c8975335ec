// planReload: what a config edit changes on a running router, and what it
// refuses (fields fixed at start). Pure: no router.
import { expect } from 'chai';

import { normalizeConfig } from '../../lib/config';
import type { RouterConfig } from '../../lib/config-types';
import { describePlan, planReload } from '../../lib/reload';
import { reloadBase } from '../helpers/reload-fixture';

const CPUS = { allowedCpus: [0, 1, 2, 3] };
const base = reloadBase;
const norm = (c: RouterConfig): ReturnType<typeof normalizeConfig> => normalizeConfig(c, CPUS);

describe('config reload: planReload', () => {
  it('no change: nothing to do', () => {
    expect(describePlan(planReload(norm(base()), norm(base())))).to.deep.equal([]);
  });

  it('routes: added, deleted, and changed ones replaced (not deleted first)', () => {
    const next = base();
    next.routes = [
      { prefix: '2001:db8:3::/64', via: 'fe80::3', dev: 'eth1' }, // changed
      { prefix: '2001:db8:4::/64', via: '2001:db8:100::2', dev: 'eth0.100' },
      { prefix: '2001:db8:6::/64', dev: 'eth0' }, // new; 5 removed
    ];
    const p = planReload(norm(base()), norm(next));
    expect(p.restart).to.deep.equal([]);
    expect(p.routesToDelete.map((r) => r.prefix)).to.deep.equal(['2001:db8:5::/64']);
    expect(p.routesToAdd.map((r) => r.prefix)).to.deep.equal(['2001:db8:3::/64', '2001:db8:6::/64']);
  });

  it('a changed clone is destroyed and made again, and what was on it goes back', () => {
    const next = base();
    next.clones = [{ cloner: 'vlan', parent: 'eth0', vlan: 100, addresses: ['2001:db8:100::9/64'] }];
    const p = planReload(norm(base()), norm(next));
    expect(p.clonesToDestroy.map((c) => c.name)).to.deep.equal(['eth0.100']);
    expect(p.clonesToCreate.map((c) => c.name)).to.deep.equal(['eth0.100']);
    expect(p.routesToDelete).to.deep.equal([]); // went with the clone
    expect(p.routesToAdd.map((r) => r.prefix)).to.deep.equal(['2001:db8:4::/64']);
  });

  it('neighbours: a changed MAC is an add (which replaces), a removed one a delete', () => {
    const next = base();
    next.neighbours = [{ address: 'fe80::2', mac: '02:00:00:00:00:98', dev: 'eth1' }];
    let p = planReload(norm(base()), norm(next));
    expect(p.neighboursToDelete).to.deep.equal([]);
    expect(p.neighboursToAdd).to.have.length(1);
    next.neighbours = [];
    p = planReload(norm(base()), norm(next));
    expect(p.neighboursToDelete.map((n) => n.address)).to.deep.equal(['fe80::2']);
  });

  it('flow cache size and mode and SIFTR change live; the idle timeout, ports, EAL and table sizes need a restart, each named', () => {
    const next = base();
    next.flowCache = { maxflows: 4096, mode: 'auto' };
    next.siftr = { enabled: true, logfile: '/tmp/s.log' };
    let p = planReload(norm(base()), norm(next));
    expect(p.flowCache).to.deep.equal({ maxflows: 4096, hashsize: 32768 });
    expect(p.flowCacheMode).to.equal('auto');
    expect(p.siftr).to.equal('enable');
    expect(p.restart).to.deep.equal([]);
    const live = { ...next, siftr: { enabled: true, logfile: '/tmp/t.log', ppl: 3 } };
    expect(planReload(norm(next), norm(live)).siftr).to.equal('configure');
    const resized = { ...next, siftr: { enabled: true, logfile: '/tmp/s.log', maxConnections: 1024 } };
    expect(planReload(norm(next), norm(resized)).siftr).to.equal('restart');

    const fixed = base();
    fixed.eal = { workers: 2 };
    fixed.ports![1].mtu = 9000;
    fixed.routing = { maxRoutes: 65536 };
    fixed.flowCache = { idleTimeoutMs: 1000, floodAdmission: false };
    p = planReload(norm(base()), norm(fixed));
    expect(p.restart).to.include.members(['eal.workers', 'ports[1].mtu', 'routing.maxRoutes', 'flowCache.idleTimeoutMs', 'flowCache.floodAdmission']);
  });
});

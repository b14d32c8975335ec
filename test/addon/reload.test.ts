// Live reconfiguration on a running router (net_null vdevs): applyReload
// turns the running config into the edited one — routes added, replaced and
// removed, a clone remade with what was on it, a neighbour's MAC, the flow
// cache's size, SIFTR on — and refuses, changing nothing, an edit that
// needs a restart.
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';

import { FastpathError, Router, RouterConfig } from '../../lib';
import { normalizeConfig } from '../../lib/config';
import { applyReload } from '../../lib/reload';
import { reloadBase } from '../helpers/reload-fixture';
import { scratchDir, TEST_EAL } from '../helpers/router-env';

const config = (): RouterConfig => ({ ...reloadBase(), eal: TEST_EAL });

describe('config reload on a running router (net_null)', function () {
  this.timeout(60000);
  const dir = scratchDir('reload');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('applies routes, clones, neighbours, flow cache and SIFTR; refuses restart-only edits without changing anything', async () => {
    const router = await Router.start(config());
    try {
      const staticRoutes = (): string[] =>
        router.routes.list().filter((r) => r.kind === 'static').map((r) => `${r.prefix} ${r.via ?? '-'} ${r.dev}`).sort();
      const next = config();
      next.routes = [
        { prefix: '2001:db8:3::/64', via: 'fe80::3', dev: 'eth1' },
        { prefix: '2001:db8:4::/64', via: '2001:db8:100::2', dev: 'eth0.100' },
        { prefix: '2001:db8:6::/64', dev: 'eth0' },
      ];
      next.clones = [{ cloner: 'vlan', parent: 'eth0', vlan: 100, addresses: ['2001:db8:100::9/64'] }];
      next.neighbours = [{ address: 'fe80::2', mac: '02:00:00:00:00:98', dev: 'eth1' }];
      next.flowCache = { maxflows: 2048, hashsize: 4096, mode: 'auto' };
      const log = path.join(dir, 's.log');
      next.siftr = { enabled: true, logfile: log };
      const { config: now, changes } = await applyReload(router, router.config, normalizeConfig(next));
      expect(changes.length).to.be.greaterThan(0);
      expect(staticRoutes()).to.deep.equal(['2001:db8:3::/64 fe80::3 eth1', '2001:db8:4::/64 2001:db8:100::2 eth0.100', '2001:db8:6::/64 - eth0']);
      expect(router.interfaces.get('eth0.100').addresses).to.include('2001:db8:100::9/64');
      expect(router.neighbours.list().find((n) => n.address === 'fe80::2')).to.deep.include({ mac: '02:00:00:00:00:98' });
      expect(router.flowCache.config).to.deep.equal({ maxflows: 2048, hashsize: 4096, mode: 'auto' });
      expect(router.siftr.status().enabled).to.equal(true);
      expect(fs.readFileSync(log, 'utf8')).to.match(/^enable_time_secs=/);

      // The same again: nothing to do.
      expect((await applyReload(router, now, normalizeConfig(next))).changes).to.deep.equal([]);

      // Workers and an MTU need a restart: refused, each named, nothing applied.
      const fixed = { ...next, eal: { ...TEST_EAL, workers: 2, shareWorkerCpus: true }, routes: [] };
      fixed.ports = next.ports.map((p) => (p.name === 'eth1' ? { ...p, mtu: 9000 } : p));
      const before = staticRoutes();
      const e = await applyReload(router, now, normalizeConfig(fixed)).then(
        () => expect.fail('should need a restart'),
        (err: FastpathError) => err,
      );
      expect(e.code).to.equal('EINVAL');
      expect(e.message).to.match(/eal\.workers/).and.to.match(/ports\[1\]\.mtu/);
      expect(staticRoutes()).to.deep.equal(before);
    } finally {
      await router.stop();
    }
  });
});

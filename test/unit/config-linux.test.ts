// The `linux` config section (lib/config/linux.ts): defaults, mirrors by
// name, protocols by name or number, and the errors naming each bad field.
import { expect } from 'chai';

import { normalizeConfig } from '../../lib/config';
import { importProtocolSet, routeProtocolName } from '../../lib/config/linux';
import type { NormalizedLinuxConfig } from '../../lib/config/linux';
import { FastpathError } from '../../lib/errors';

const IFACES = ['eth0', 'eth1', 'vlan10'];

/** The linux section of a router config with these three interfaces. */
function normalizeLinux(value: unknown, ifaces: readonly string[]): NormalizedLinuxConfig {
  const ports = ifaces.map((name, i) => ({ name, device: `net_null${i}` }));
  return normalizeConfig({ ports, ...(value === undefined ? {} : { linux: value }) }, { allowedCpus: [0, 1, 2, 3] }).linux;
}

function bad(value: unknown, path: string): void {
  let err: unknown;
  try {
    normalizeLinux(value, IFACES);
  } catch (e) {
    err = e;
  }
  expect(err, `an error at ${path}`).to.be.instanceOf(FastpathError);
  expect((err as FastpathError).code).to.equal('EINVAL');
  expect((err as FastpathError).path).to.equal(path);
}

describe('config: linux section', () => {
  it('is off by default', () => {
    expect(normalizeLinux(undefined, IFACES)).to.deep.equal({ mirrors: [], mirrorPrefix: 'fp-', importRoutes: false, importTable: 254, importProtocols: [] });
  });

  it('mirrors every interface with true, or those named', () => {
    expect(normalizeLinux({ mirrors: true }, IFACES).mirrors).to.deep.equal(IFACES);
    expect(normalizeLinux({ mirrors: ['eth1'] }, IFACES).mirrors).to.deep.equal(['eth1']);
    expect(normalizeLinux({ mirrors: false }, IFACES).mirrors).to.deep.equal([]);
  });

  it('imports every protocol but kernel, redirect and ra by default, or those listed', () => {
    const all = importProtocolSet(normalizeLinux({ importRoutes: true }, IFACES));
    expect(all).to.have.length(253);
    expect(all).to.not.include.members([1, 2, 9]);
    expect(all).to.include.members([3, 4, 11, 12, 186, 188]);
    expect(normalizeLinux({ importProtocols: ['bgp', 'ospf', 4, 'bgp'] }, IFACES).importProtocols).to.deep.equal([4, 186, 188]);
    expect(normalizeLinux({ importProtocols: [] }, IFACES).importProtocols, 'empty: the default').to.deep.equal([]);
    expect(routeProtocolName(186)).to.equal('bgp');
    expect(routeProtocolName(200)).to.equal('200');
  });

  it('refuses what Linux or the import cannot take, naming the field', () => {
    bad({ mirrors: ['eth9'] }, 'linux.mirrors[0]');
    bad({ mirrors: ['eth0', 'eth0'] }, 'linux.mirrors');
    bad({ mirrors: 'yes' }, 'linux.mirrors');
    bad({ mirrors: true, mirrorPrefix: 'a-very-long-pre' }, 'linux.mirrorPrefix');
    bad({ mirrors: true, mirrorPrefix: 'abcdefghij-' }, 'linux.mirrorPrefix'); // 'abcdefghij-vlan10' is 17
    bad({ mirrorPrefix: 'fp/' }, 'linux.mirrorPrefix');
    bad({ importTable: 255 }, 'linux.importTable');
    bad({ importTable: 0 }, 'linux.importTable');
    bad({ importProtocols: ['nope'] }, 'linux.importProtocols[0]');
    bad({ importProtocols: [256] }, 'linux.importProtocols[0]');
    bad({ mirror: true }, 'linux.mirror');
  });

  it('is a section of the router config, checked against its interfaces', () => {
    const cfg = normalizeConfig({ ports: [{ name: 'eth0', device: 'net_null0' }], linux: { mirrors: true, importRoutes: true } }, { allowedCpus: [0, 1, 2, 3] });
    expect(cfg.linux.mirrors).to.deep.equal(['eth0']);
    expect(() => normalizeConfig({ ports: [{ name: 'eth0', device: 'net_null0' }], linux: { mirrors: ['eth1'] } }, { allowedCpus: [0, 1, 2, 3] })).to.throw(/linux\.mirrors\[0\]/);
  });
});

// The config both reload tests start from (test/unit/reload.test.ts plans
// against it, test/addon/reload.test.ts runs a router on it): two null
// ports, a VLAN, three static routes (one on the VLAN), a static neighbour.
import type { RouterConfig } from '../../lib/config-types';

export function reloadBase(): RouterConfig {
  return {
    ports: [
      { name: 'eth0', device: 'net_null0,no-rx=1', mac: '02:00:00:00:00:01', addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
      { name: 'eth1', device: 'net_null1,no-rx=1', mac: '02:00:00:00:00:02', addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
    ],
    clones: [{ cloner: 'vlan', parent: 'eth0', vlan: 100, addresses: ['2001:db8:100::1/64'] }],
    routes: [
      { prefix: '2001:db8:3::/64', via: 'fe80::2', dev: 'eth1' },
      { prefix: '2001:db8:4::/64', via: '2001:db8:100::2', dev: 'eth0.100' },
      { prefix: '2001:db8:5::/64', dev: 'eth1' },
    ],
    neighbours: [{ address: 'fe80::2', mac: '02:00:00:00:00:99', dev: 'eth1' }],
  };
}

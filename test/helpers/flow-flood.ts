// The flow-flood rig shared by the flood-admission and flowCache.mode tests:
// 2048 flows (one source each, one destination /64) replayed forever by
// net_pcap infinite_rx into eth0, routed out of eth1 (net_null) via a static
// neighbour, through a flow cache the test sizes.
import * as path from 'path';

import { Router } from '../../lib';
import type { FlowCacheConfig } from '../../lib/config-types';
import { ip6Frame, writePcap } from '../../lib/pcap';
import { TEST_EAL } from './router-env';

export const FLOOD_FLOWS = 2048;

/** Write the rig's pcap into dir; returns its path. */
export function writeFloodPcap(dir: string): string {
  const pcap = path.join(dir, 'flows.pcap');
  const frames = Array.from({ length: FLOOD_FLOWS }, (_, i) =>
    ip6Frame({ dstMac: '02:00:00:00:00:01', srcMac: '02:00:00:00:00:aa', src: `2001:db8:1::${(i + 16).toString(16)}`, dst: '2001:db8:3::1', payload: new Uint8Array(18) }),
  );
  writePcap(pcap, frames);
  return pcap;
}

/** A router forwarding the pcap's flows; `tag` keeps EAL file prefixes apart. */
export function startFloodRouter(pcap: string, tag: string, flowCache: FlowCacheConfig): Promise<Router> {
  return Router.start({
    eal: { ...TEST_EAL, filePrefix: `${TEST_EAL.filePrefix}-${tag}` },
    ports: [
      { name: 'eth0', device: `net_pcap0,rx_pcap=${pcap},infinite_rx=1`, mac: '02:00:00:00:00:01', addresses: ['2001:db8:1::1/64'], dadTransmits: 0 },
      { name: 'eth1', device: 'net_null0,no-rx=1', mac: '02:00:00:00:00:02', addresses: ['2001:db8:2::1/64'], dadTransmits: 0 },
    ],
    routes: [{ prefix: '2001:db8:3::/64', via: 'fe80::2', dev: 'eth1' }],
    neighbours: [{ address: 'fe80::2', mac: '02:00:00:00:00:bb', dev: 'eth1' }],
    flowCache,
  });
}

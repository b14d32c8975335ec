/** The sizing sections: flowCache, neighbourDiscovery, routing, icmpErrors and mempool (table sizes, timers, rate limits), and flowLabels. */
import type { FlowCacheConfig, FlowLabelsConfig, IcmpErrorsConfig, MempoolConfig, NeighbourDiscoveryConfig, RoutingConfig } from '../config-types';
import { expectObject, fail, optBool, optInt, optPowerOfTwo } from './fields';

const FLOWCACHE_FIELDS = ['maxflows', 'hashsize', 'idleTimeoutMs'] as const;
const MEMPOOL_FIELDS = ['mbufs', 'cacheSize'] as const;
const ND_FIELDS = ['baseReachableTimeMs', 'maxNeighbours'] as const;
const ICMP_ERROR_FIELDS = ['perSecond', 'burst'] as const;
const ROUTING_FIELDS = ['maxRoutes', 'tbl8Groups'] as const;
const FLOWLABEL_FIELDS = ['autoLabels', 'stateRanges'] as const;

export function normalizeFlowLabels(value: unknown): Required<FlowLabelsConfig> {
  const o = expectObject(value === undefined ? {} : value, 'flowLabels', 'an object', FLOWLABEL_FIELDS);
  return {
    autoLabels: optBool(o, 'autoLabels', 'flowLabels', true),
    stateRanges: optBool(o, 'stateRanges', 'flowLabels', true),
  };
}

export function normalizeFlowCache(value: unknown): Required<FlowCacheConfig> {
  const o = expectObject(value === undefined ? {} : value, 'flowCache', 'an object', FLOWCACHE_FIELDS);
  return {
    maxflows: optInt(o, 'maxflows', 'flowCache', 0, 1048576, 16384),
    hashsize: optPowerOfTwo(o, 'hashsize', 'flowCache', 1, 1048576, 32768),
    idleTimeoutMs: optInt(o, 'idleTimeoutMs', 'flowCache', 100, 3600000, 5000),
  };
}

export function normalizeNeighbourDiscovery(value: unknown): Required<NeighbourDiscoveryConfig> {
  const o = expectObject(value === undefined ? {} : value, 'neighbourDiscovery', 'an object', ND_FIELDS);
  return {
    baseReachableTimeMs: optInt(o, 'baseReachableTimeMs', 'neighbourDiscovery', 1000, 3600000, 30000),
    maxNeighbours: optInt(o, 'maxNeighbours', 'neighbourDiscovery', 16, 1048576, 16384),
  };
}

export function normalizeRouting(value: unknown): Required<RoutingConfig> {
  const o = expectObject(value === undefined ? {} : value, 'routing', 'an object', ROUTING_FIELDS);
  return {
    maxRoutes: optInt(o, 'maxRoutes', 'routing', 16, 4194304, 16384),
    tbl8Groups: optInt(o, 'tbl8Groups', 'routing', 256, 4194304, 16384),
  };
}

export function normalizeIcmpErrors(value: unknown): Required<IcmpErrorsConfig> {
  const o = expectObject(value === undefined ? {} : value, 'icmpErrors', 'an object', ICMP_ERROR_FIELDS);
  return {
    perSecond: optInt(o, 'perSecond', 'icmpErrors', 0, 1000000, 100),
    burst: optInt(o, 'burst', 'icmpErrors', 1, 1000000, 10),
  };
}

export function normalizeMempool(value: unknown): Required<MempoolConfig> {
  const o = expectObject(value === undefined ? {} : value, 'mempool', 'an object', MEMPOOL_FIELDS);
  const mbufs = optInt(o, 'mbufs', 'mempool', 255, 16777215, 16383);
  // rte_mempool_create refuses a cache whose flush threshold (1.5 x size) exceeds the pool.
  const maxCache = Math.min(512, Math.floor(mbufs / 1.5));
  const cacheSize = optInt(o, 'cacheSize', 'mempool', 0, 512, Math.min(256, maxCache));
  if (cacheSize > maxCache) {
    fail('mempool.cacheSize', `an integer 0..${maxCache} (DPDK needs 1.5 x cacheSize <= mbufs)`, cacheSize);
  }
  return { mbufs, cacheSize };
}

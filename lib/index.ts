/** fastpath: an IPv6 software router on DPDK, driven from TypeScript. */
export { Router, Routes, Neighbours, FlowCache, Interfaces } from './router';
export type { InterfaceInfo, RouteInfo, NeighbourInfo, FlowInfo, StartOptions, InterfaceFlag, InterfaceKind, CloneOptions, GroupInfo } from './router';
export type { RouterStats, InterfaceCounters, LcoreStats, FlowCacheStats } from './stats';
export { FastpathError } from './errors';
export { EventStream } from './events';
export type { RouterEvent, AddressEvent, NeighbourEvent, LinkEvent, LinkState, AddressState, MldEvent } from './events';
export type { FastpathErrorCode } from './errors';
export { loadConfig, normalizeConfig, ealArgs } from './config';
export type * from './config-types';

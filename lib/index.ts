/** fastpath: an IPv6 software router on DPDK, driven from TypeScript. */
export { Router } from './router';
export type { StartOptions } from './router';
export { Interfaces } from './interfaces';
export type { InterfaceInfo, InterfaceFlag, InterfaceKind, CloneOptions, GroupInfo } from './interfaces';
export { Routes } from './routes';
export type { RouteInfo } from './routes';
export { Neighbours } from './neighbours';
export type { NeighbourInfo } from './neighbours';
export { FlowCache } from './flowcache';
export type { FlowInfo } from './flowcache';
export type { RouterStats, InterfaceCounters, LcoreStats, FlowCacheStats } from './stats';
export { FastpathError } from './errors';
export { EventStream } from './events';
export type { RouterEvent, AddressEvent, NeighbourEvent, LinkEvent, LinkState, AddressState, MldEvent } from './events';
export type { FastpathErrorCode } from './errors';
export { loadConfig, normalizeConfig, ealArgs } from './config';
export type * from './config-types';

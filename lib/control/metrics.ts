/**
 * Prometheus metrics: /metrics renders one router.stats() snapshot (plus the
 * interface, neighbour and control-socket state read at the same scrape) in
 * the Prometheus text format. Names follow node_exporter's conventions:
 * counters end in _total, values are in base units (bytes, seconds).
 *
 * prom-client does the text format (escaping, HELP/TYPE lines, label
 * order). Its metrics keep state between scrapes, which a snapshot exporter
 * does not want (a stale label set would linger, two concurrent scrapes
 * would mix values): so every scrape fills a fresh Registry from its own
 * snapshot and renders that.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import { Counter, Gauge, Registry } from 'prom-client';

import { FastpathError } from '../errors';
import { NEIGHBOUR_STATES } from '../events';
import type { CounterNames } from '../native';
import type { InterfaceInfo } from '../interfaces';
import type { RouterStats } from '../stats';
import type { ControlCounters } from './server';

/** Everything one scrape renders, read once. */
export interface MetricsSnapshot {
  stats: RouterStats;
  counterNames: CounterNames;
  interfaces: readonly InterfaceInfo[];
  neighbourStates: readonly string[];
  flowCacheMax: number;
  build: { version: string; dpdk: string };
  /** The control socket's counters (absent when no socket is served). */
  api?: ControlCounters;
}

type Labels = Record<string, string>;

/** One metric family of a scrape's registry: a counter or a gauge, set to absolute values. */
class Family {
  private readonly metric: Counter<string> | Gauge<string>;

  constructor(reg: Registry, readonly name: string, help: string, kind: 'counter' | 'gauge', labelNames: readonly string[] = []) {
    const cfg = { name, help, labelNames: [...labelNames], registers: [reg] };
    this.metric = kind === 'counter' ? new Counter(cfg) : new Gauge(cfg);
  }

  set(value: number | bigint, labels: Labels = {}): void {
    const v = Number(value);
    if (this.metric instanceof Counter) this.metric.inc(labels, v); // a fresh counter: inc(v) sets it to v
    else this.metric.set(labels, v);
  }
}

/**
 * Counter names promtool's lint would read as units: 'ns' in nd_ns_in is a
 * Neighbor Solicitation, not nanoseconds.
 */
function metricWord(name: string): string {
  return name.replace(/(^|_)ns(_|$)/g, '$1solicitations$2');
}

/** lcore counter names whose description marks them as gauges (flow_inuse). */
function isGauge(description: string | undefined): boolean {
  return description !== undefined && description.includes('(gauge)');
}

/** The /metrics body for one snapshot. */
export async function renderMetrics(m: MetricsSnapshot): Promise<string> {
  const reg = new Registry();
  const counter = (name: string, help: string, labels?: readonly string[]): Family => new Family(reg, name, help, 'counter', labels);
  const gauge = (name: string, help: string, labels?: readonly string[]): Family => new Family(reg, name, help, 'gauge', labels);
  const s = m.stats;
  const names = m.counterNames;

  gauge('fastpath_build_info', 'fastpath and DPDK versions (always 1)', ['version', 'dpdk']).set(1, m.build);

  const ifc = {
    rxPackets: counter('fastpath_interface_rx_packets_total', 'Packets received on the interface', ['interface']),
    txPackets: counter('fastpath_interface_tx_packets_total', 'Packets sent on the interface', ['interface']),
    rxBytes: counter('fastpath_interface_rx_bytes_total', 'Bytes received on the interface', ['interface']),
    txBytes: counter('fastpath_interface_tx_bytes_total', 'Bytes sent on the interface', ['interface']),
    rxErrors: counter('fastpath_interface_rx_errors_total', 'Receive errors reported by the device', ['interface']),
    txErrors: counter('fastpath_interface_tx_errors_total', 'Packets the tx queue refused plus device transmit errors', ['interface']),
    rxMissed: counter('fastpath_interface_rx_missed_total', 'Packets lost before the router saw them (rx ring full, no mbufs)', ['interface']),
    drops: counter('fastpath_interface_drops_total', 'Received packets the router dropped (any reason)', ['interface']),
    noproto: counter('fastpath_interface_noproto_total', 'Received packets of an unsupported protocol', ['interface']),
  };
  for (const [name, c] of Object.entries(s.ports)) {
    const l = { interface: name };
    ifc.rxPackets.set(c.ipackets, l);
    ifc.txPackets.set(c.opackets, l);
    ifc.rxBytes.set(c.ibytes, l);
    ifc.txBytes.set(c.obytes, l);
    ifc.rxErrors.set(c.ierrors, l);
    ifc.txErrors.set(c.oerrors, l);
    ifc.rxMissed.set(c.iqdrops, l);
    ifc.drops.set(c.drops, l);
    ifc.noproto.set(c.noproto, l);
  }
  const linkUp = gauge('fastpath_interface_link_up', 'Carrier: 1 up, 0 down or unknown', ['interface']);
  const adminUp = gauge('fastpath_interface_admin_up', 'Administratively up (IFF_UP): 1 or 0', ['interface']);
  const mtu = gauge('fastpath_interface_mtu_bytes', 'Interface MTU', ['interface']);
  for (const i of m.interfaces) {
    const l = { interface: i.name };
    linkUp.set(i.linkState === 'up' ? 1 : 0, l);
    adminUp.set(i.flags.includes('UP') ? 1 : 0, l);
    mtu.set(i.mtu, l);
  }

  const drops = counter('fastpath_drops_total', 'Packets dropped by the data plane, by reason (docs/counters.md)', ['reason']);
  for (const reason of names.drop) drops.set(s.drops[reason] ?? 0n, { reason });

  // Per worker: every lcore counter; TSC cycles as seconds.
  const hz = Number(s.tscHz) || 1;
  names.lcore.forEach((name, i) => {
    const desc = names.lcoreDescriptions[i];
    const fam =
      name === 'busy_cycles'
        ? counter('fastpath_lcore_busy_seconds_total', 'Time spent in poll iterations that received packets', ['worker'])
        : isGauge(desc)
          ? gauge(`fastpath_lcore_${metricWord(name)}`, desc ?? name, ['worker'])
          : counter(`fastpath_lcore_${metricWord(name)}_total`, desc ?? name, ['worker']);
    for (const l of s.lcores) {
      const v = l.counters[name] ?? 0n;
      fam.set(name === 'busy_cycles' ? Number(v) / hz : v, { worker: String(l.worker) });
    }
  });

  const fc = s.flowCache;
  const flowCounters: [string, bigint, string][] = [
    ['hits', fc.hits, 'Packets forwarded from the flow cache'],
    ['misses', fc.misses, 'Flow cache misses'],
    ['stale', fc.stale, 'Flow cache entries found with an old generation'],
    ['inserts', fc.inserts, 'Flow cache entries created'],
    ['reaps', fc.reaps, 'Flow cache entries reaped because the table was full'],
    ['expiries', fc.expiries, 'Flow cache entries expired after the idle timeout'],
    ['invalidations', fc.invalidations, 'Flow cache entries removed by flush, resize or staleness'],
  ];
  for (const [n, v, help] of flowCounters) counter(`fastpath_flowcache_${n}_total`, help).set(v);
  gauge('fastpath_flowcache_entries', 'Flow cache entries in use').set(fc.inuse);
  gauge('fastpath_flowcache_max_entries', 'Flow cache capacity (flowCache.maxflows)').set(m.flowCacheMax);

  names.control.forEach((name, i) => counter(`fastpath_control_${metricWord(name)}_total`, names.controlDescriptions[i] ?? name).set(s.control[name] ?? 0n));

  gauge('fastpath_routes', 'Routes in the table, every kind, up and down').set(s.fib.routes);
  gauge('fastpath_routes_down', 'Routes withdrawn because their interface is down').set(s.fib.routesDown);
  gauge('fastpath_routes_max', 'Route table capacity (routing.maxRoutes)').set(s.fib.maxRoutes);
  counter('fastpath_fib_rebuilds_total', 'FIB copies rebuilt from the route list').set(s.fib.rebuilds);
  gauge('fastpath_fib_tbl8_groups_in_use', 'tbl8 groups holding prefixes in the active FIB copy').set(s.fib.tbl8InUse);

  const neigh = gauge('fastpath_neighbours', 'Neighbour table entries by state', ['state']);
  const byState = new Map<string, number>(NEIGHBOUR_STATES.filter((st) => st !== 'none').map((st) => [st, 0]));
  for (const st of m.neighbourStates) byState.set(st, (byState.get(st) ?? 0) + 1);
  for (const [state, n] of byState) neigh.set(n, { state });

  const r = s.resources;
  const poolSize = gauge('fastpath_mbuf_pool_size', 'Buffers in the pool', ['pool']);
  const poolInUse = gauge('fastpath_mbuf_pool_in_use', 'Buffers not free (rings, queues, caches)', ['pool']);
  for (const [pool, p] of [['main', r.mbufs], ['big', r.bigMbufs]] as const) {
    poolSize.set(p.size, { pool });
    poolInUse.set(p.inUse, { pool });
  }
  gauge('fastpath_event_ring_used', 'Events waiting for the JS thread').set(r.eventRing.used);
  gauge('fastpath_event_ring_size', 'Event ring capacity').set(r.eventRing.size);
  const ring = gauge('fastpath_worker_ring_used', 'Entries waiting in a worker ring', ['worker', 'ring']);
  r.workers.forEach((w, i) => {
    const worker = String(i);
    ring.set(w.punt, { worker, ring: 'punt' });
    ring.set(w.ctlTx, { worker, ring: 'ctl_tx' });
    ring.set(w.siftr, { worker, ring: 'siftr' });
  });
  gauge('fastpath_resident_memory_bytes', "The router process's resident set size").set(r.rssBytes);

  if (m.api !== undefined) {
    const a = m.api;
    gauge('fastpath_api_clients', 'Control socket clients connected').set(a.clients);
    counter('fastpath_api_connections_total', 'Control socket connections accepted').set(a.connections);
    counter('fastpath_api_requests_total', 'JSON-RPC requests received').set(a.requests);
    counter('fastpath_api_request_errors_total', 'JSON-RPC requests answered with an error').set(a.errors);
    counter('fastpath_api_notifications_dropped_total', "Event notifications dropped: a client's queue was full").set(a.notificationsDropped);
    counter('fastpath_api_clients_overflowed_total', 'Clients disconnected: their unread responses overflowed the queue').set(a.closedOverflow);
  }
  return reg.metrics();
}

/** Content type of the Prometheus text format prom-client writes. */
export const METRICS_CONTENT_TYPE = new Registry().contentType;

/** The /metrics HTTP endpoint; `snapshot` is called once per scrape. */
export class MetricsServer {
  private constructor(private readonly server: http.Server) {}

  static async listen(host: string, port: number, snapshot: () => MetricsSnapshot): Promise<MetricsServer> {
    const server = http.createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('fastpath: metrics are at /metrics\n');
        return;
      }
      let body: Promise<string>;
      try {
        body = renderMetrics(snapshot());
      } catch (e) {
        body = Promise.reject(e);
      }
      body.then(
        (text) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text),
        (e: unknown) => res.writeHead(503, { 'content-type': 'text/plain' }).end(`fastpath: ${(e as Error).message}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new FastpathError(e.code === 'EADDRINUSE' ? 'EADDRINUSE' : 'EIO', `control.metrics: cannot listen on ${host}:${port}: ${e.message}`)),
      );
      server.listen(port, host, () => resolve());
    });
    return new MetricsServer(server);
  }

  get address(): { host: string; port: number } {
    const a = this.server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

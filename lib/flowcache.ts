/** The flow cache view (router.flowCache): per-worker entries, geometry, flush. */
import { formatIPv6 } from './addr';
import { describeValue, FastpathError } from './errors';
import { callAsync, NativeAddon } from './native';
import { optionsArg, PortMap } from './portmap';

export interface FlowInfo {
  readonly worker: number;
  readonly src: string;
  readonly dst: string;
  readonly flowLabel: number;
  readonly inDev: string;
  readonly outDev: string;
  readonly nextHopMac: string;
  readonly generation: number;
  readonly uses: bigint;
  readonly forwarded: bigint;
  readonly dropped: bigint;
  readonly ageMs: number;
  readonly idleMs: number;
}

export class FlowCache {
  /** @internal */
  constructor(
    private readonly addon: NativeAddon,
    private readonly ports: PortMap,
    private settings: { maxflows: number; hashsize: number; mode: 'cache' | 'auto' },
    private readonly entriesInUse: () => bigint,
  ) {}

  /** Every worker's entries, with their per-flow counters (each worker copies its own table). */
  async list(): Promise<FlowInfo[]> {
    const flows = await callAsync('flowCache.list', () => this.addon.flowCacheList());
    return flows.map((f) => ({
      worker: f.worker,
      src: formatIPv6(f.src),
      dst: formatIPv6(f.dst),
      flowLabel: f.flowLabel,
      inDev: this.ports.name(f.inPortIndex),
      outDev: this.ports.name(f.outPortIndex),
      nextHopMac: f.nextHopMac,
      generation: f.generation,
      uses: f.uses,
      forwarded: f.forwarded,
      dropped: f.dropped,
      ageMs: f.ageMs,
      idleMs: f.idleMs,
    }));
  }

  /** Current per-worker geometry and mode. */
  get config(): { maxflows: number; hashsize: number; mode: 'cache' | 'auto' } {
    return { ...this.settings };
  }

  /**
   * Change maxflows (0 disables) and/or hashsize (a power of two) at run time:
   * each worker swaps in a new empty table itself; old entries' counters are
   * folded into the totals first (ip6flow_invalidate_all). And/or the mode
   * (config flowCache.mode): each worker starts or stops measuring cache
   * against FIB alone, the table kept; 'cache' puts the cache back in force
   * at once. Given only a mode, the table is not replaced.
   */
  async configure(options: { maxflows?: number; hashsize?: number; mode?: 'cache' | 'auto' }): Promise<void> {
    options = optionsArg(options, 'flowCache.configure');
    const mode = options.mode;
    if (mode !== undefined && mode !== 'cache' && mode !== 'auto') {
      throw new FastpathError('EINVAL', `flowCache.configure: mode: expected 'cache' or 'auto', got ${describeValue(mode)}`);
    }
    const geometry = options.maxflows !== undefined || options.hashsize !== undefined || mode === undefined;
    const maxflows = options.maxflows ?? this.settings.maxflows;
    const hashsize = options.hashsize ?? this.settings.hashsize;
    if (!Number.isInteger(maxflows) || maxflows < 0 || maxflows > 4194304) {
      throw new FastpathError('EINVAL', `flowCache.configure: maxflows: expected an integer 0..4194304, got ${describeValue(options.maxflows)}`);
    }
    if (!Number.isInteger(hashsize) || hashsize < 1 || hashsize > 1048576 || (hashsize & (hashsize - 1)) !== 0) {
      throw new FastpathError('EINVAL', `flowCache.configure: hashsize: expected a power of two 1..1048576, got ${describeValue(options.hashsize)}`);
    }
    if (geometry) {
      await callAsync('flowCache.configure', () => this.addon.flowCacheConfigure(maxflows, hashsize));
      this.settings = { ...this.settings, maxflows, hashsize };
    }
    if (mode !== undefined) {
      await callAsync('flowCache.configure', () => this.addon.flowCacheSetMode(mode));
      this.settings = { ...this.settings, mode };
    }
  }

  /** Remove every entry on every worker. */
  async flush(): Promise<void> {
    await callAsync('flowCache.flush', () => this.addon.flowCacheFlush());
  }

  /** Entries in use, summed over workers (their flow_inuse gauges in stats()); no worker is asked to copy its table. */
  count(): number {
    return Number(this.entriesInUse());
  }

  /**
   * list()'s entries one at a time. Each worker's cache is bounded by
   * maxflows and small beside a routing table, so this walks one list()
   * snapshot instead of paging natively as routes.iterate() does.
   */
  async *iterate(): AsyncIterableIterator<FlowInfo> {
    yield* await this.list();
  }
}

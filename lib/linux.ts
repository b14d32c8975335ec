/**
 * Routing protocols through Linux (docs/linux-integration.md): the mirror
 * interfaces and the route import that the config's `linux` section turns
 * on, and their status (router.linux.status()).
 */
import { importProtocolSet, NormalizedLinuxConfig } from './config/linux';
import { call, NativeAddon } from './native';
import { PortMap } from './portmap';

export interface LinuxMirrorInfo {
  /** The fastpath interface mirrored. */
  readonly dev: string;
  /** The Linux TAP interface. */
  readonly name: string;
  readonly ifindex: number;
  /** Packets written to the TAP (for the kernel) and read from it (sent out of dev). */
  readonly toKernel: bigint;
  readonly fromKernel: bigint;
}

export interface LinuxStatus {
  readonly enabled: boolean;
  readonly importing: boolean;
  /** Routes imported from the kernel in the FIB now (counted once a second). */
  readonly imported: number;
  /** Kernel routes kept aside because fastpath owns a route for the prefix. */
  readonly shadowed: number;
  /** The first dump of the kernel's table has been applied. */
  readonly dumpDone: boolean;
  readonly mirrors: readonly LinuxMirrorInfo[];
}

export class Linux {
  constructor(
    private readonly addon: NativeAddon,
    private readonly ports: PortMap,
  ) {}

  /** @internal Router.start, once the router runs: build the mirrors, start the import. */
  enable(cfg: NormalizedLinuxConfig): void {
    if (cfg.mirrors.length === 0 && !cfg.importRoutes) return;
    const mirrors = cfg.mirrors.map((dev) => ({ portIndex: this.ports.index(dev, 'linux.mirrors'), name: cfg.mirrorPrefix + dev }));
    call('linux', () =>
      this.addon.linuxEnable({ mirrors, importRoutes: cfg.importRoutes, importTable: cfg.importTable, importProtocols: importProtocolSet(cfg) }),
    );
  }

  status(): LinuxStatus {
    const s = this.addon.linuxStatus();
    return { ...s, mirrors: s.mirrors.map(({ portIndex, ...m }) => ({ dev: this.ports.name(portIndex), ...m })) };
  }
}

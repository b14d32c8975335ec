/** Port devices: PCI addresses and vdev strings, split into what EAL and rte_dev_probe need. */
import { FastpathError } from '../errors';
import { describe, requireString, tryParse } from './fields';

/** A port's device, split into what EAL and rte_dev_probe need. */
export interface DeviceInfo {
  kind: 'pci' | 'vdev';
  /** vdev: the PMD ('net_af_packet'). Absent for PCI (the kernel binding decides). */
  driver?: string;
  /** The ethdev name: vdev name ('net_af_packet0') or full PCI address ('0000:03:00.0'). */
  name: string;
  /** Device arguments after the first comma ('iface=veth0'), '' when none. */
  args: string;
}

export const KNOWN_VDEV_DRIVERS = [
  'net_af_packet',
  'net_pcap',
  'net_null',
  'net_tap',
  'net_memif',
  'net_ring',
  'net_af_xdp',
  'net_vhost',
  'net_virtio_user',
] as const;

/** What a port's device may be, as error messages say it. */
export const DEVICE_WHAT = `a PCI address or a vdev string (drivers: ${KNOWN_VDEV_DRIVERS.join(', ')})`;

const PCI_FULL = /^([0-9A-Fa-f]{4,8}):([0-9A-Fa-f]{2}):([0-1][0-9A-Fa-f])\.([0-7])$/;
const PCI_SHORT = /^([0-9A-Fa-f]{2}):([0-1][0-9A-Fa-f])\.([0-7])$/;
const VDEV_NAME = /^[a-z][A-Za-z0-9_]*$/;

// ───────────────────────────── devices ────────────────────────────

/** Normalise a PCI address to DPDK's ethdev name form 'dddd:bb:dd.f', or null if it is not one. */
export function normalizePci(text: string): string | null {
  const full = PCI_FULL.exec(text);
  if (full) return `${full[1].padStart(4, '0')}:${full[2]}:${full[3]}.${full[4]}`.toLowerCase();
  const short = PCI_SHORT.exec(text);
  if (short) return `0000:${short[1]}:${short[2]}.${short[3]}`.toLowerCase();
  return null;
}

/** The known vdev driver a name starts with (DPDK's vdev bus matches by prefix), longest first. */
function vdevDriver(name: string): string | undefined {
  return [...KNOWN_VDEV_DRIVERS].sort((a, b) => b.length - a.length).find((d) => name.startsWith(d));
}

/**
 * Split a port device string: a PCI address ('0000:03:00.0' or '03:00.0',
 * optionally ',devargs') or a vdev ('net_af_packet0,iface=veth0'). Throws
 * EINVAL for anything else, listing the known vdev drivers.
 */
export function classifyDevice(device: string): DeviceInfo {
  if (typeof device !== 'string' || device === '') {
    throw new FastpathError('EINVAL', `invalid device ${describe(device)}: expected a PCI address or vdev string`);
  }
  const comma = device.indexOf(',');
  const head = comma < 0 ? device : device.slice(0, comma);
  const args = comma < 0 ? '' : device.slice(comma + 1);
  if (comma >= 0 && args.split(',').some((kv) => kv === '' || /\s/.test(kv))) {
    throw new FastpathError('EINVAL', `invalid device ${describe(device)}: empty or blank argument`);
  }
  const pci = normalizePci(head);
  if (pci !== null) return { kind: 'pci', name: pci, args };
  const driver = VDEV_NAME.test(head) ? vdevDriver(head) : undefined;
  if (driver === undefined) {
    throw new FastpathError(
      'EINVAL',
      `invalid device ${describe(device)}: expected a PCI address (0000:03:00.0) or a vdev named after ` +
        `one of ${KNOWN_VDEV_DRIVERS.join(', ')} (e.g. net_af_packet0,iface=veth0)`,
    );
  }
  return { kind: 'vdev', driver, name: head, args };
}

/** The port device as stored: PCI addresses in full lowercase form, vdev strings verbatim. */
export function normalizeDevice(value: unknown, path: string): { device: string; info: DeviceInfo } {
  const what = DEVICE_WHAT;
  const info = tryParse(() => classifyDevice(requireString(value, path, what)), path, what, value);
  const device = info.kind === 'pci' ? [info.name, info.args].filter((s) => s !== '').join(',') : (value as string);
  return { device, info };
}

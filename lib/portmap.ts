/**
 * Argument helpers the table views (interfaces, routes, neighbours, flow
 * cache) share: PortMap, interface name <-> slot index, and addressArg.
 */
import { parseIPv6 } from './addr';
import { FastpathError } from './errors';

/** Interfaces: name → slot index, shared by the table views ('' marks a destroyed clone's slot). */
export class PortMap {
  constructor(private readonly names: readonly string[]) {}
  index(dev: unknown, what: string): number {
    if (typeof dev !== 'string') throw new FastpathError('EINVAL', `${what}: expected an interface name, got ${JSON.stringify(dev)}`);
    const i = dev === '' ? -1 : this.names.indexOf(dev);
    if (i < 0) {
      throw new FastpathError('ENOENT', `${what}: no interface named ${JSON.stringify(dev)} (have ${this.names.filter((n) => n !== '').join(', ')})`);
    }
    return i;
  }
  name(index: number): string {
    return this.names[index] ?? `#${index}`;
  }
}

/** Parse an address argument, naming the argument in errors. */
export function addressArg(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string') throw new FastpathError('EINVAL', `${what}: expected an IPv6 address string, got ${JSON.stringify(value)}`);
  try {
    return parseIPv6(value);
  } catch (e) {
    throw new FastpathError('EINVAL', `${what}: ${(e as Error).message}`);
  }
}

/**
 * Argument helpers the table views (interfaces, routes, neighbours, flow
 * cache) share: PortMap, interface name <-> slot index, and addressArg.
 */
import { parseIPv6 } from './addr';
import { describeValue, FastpathError } from './errors';

/** Interfaces: name → slot index, shared by the table views ('' marks a destroyed clone's slot). */
export class PortMap {
  constructor(private readonly names: readonly string[]) {}
  index(dev: unknown, what: string): number {
    if (typeof dev !== 'string') throw new FastpathError('EINVAL', `${what}: expected an interface name, got ${describeValue(dev)}`);
    const i = dev === '' ? -1 : this.names.indexOf(dev);
    if (i < 0) {
      throw new FastpathError('ENOENT', `${what}: no interface named ${describeValue(dev)} (have ${this.names.filter((n) => n !== '').join(', ')})`);
    }
    return i;
  }
  name(index: number): string {
    return this.names[index] ?? `#${index}`;
  }
}

/** Parse an address argument, naming the argument in errors. */
export function addressArg(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string') throw new FastpathError('EINVAL', `${what}: expected an IPv6 address string, got ${describeValue(value)}`);
  try {
    return parseIPv6(value);
  } catch (e) {
    throw new FastpathError('EINVAL', `${what}: ${(e as Error).message}`);
  }
}

/** An optional options argument: undefined → {}; anything but a plain object (null, an array, a number) is EINVAL. */
export function optionsArg<T extends object>(value: T | undefined, what: string): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FastpathError('EINVAL', `${what}: expected an options object, got ${describeValue(value)}`);
  }
  return value;
}

/** A boolean argument (a truthy string or 1 is not one: it would silently mean its opposite elsewhere). */
export function booleanArg(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw new FastpathError('EINVAL', `${what}: expected true or false, got ${describeValue(value)}`);
  return value;
}

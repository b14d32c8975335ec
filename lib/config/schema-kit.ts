/**
 * The building blocks of the config schema (lib/config/schema.ts) and the
 * one place a schema failure becomes a FastpathError.
 *
 * Every block carries the `what` of the error shape fields.ts defines
 * (`<path>: expected <what>, got <value>`) on each of its checks, so a wrong
 * type, a value out of range and a missing field all read the same way.
 * Objects are strict: an unknown key is an error naming that key's own path.
 */
import { z } from 'zod';
import { FastpathError } from '../errors';
import { describe, isPowerOfTwo } from './fields';

/** The error parameter every check of a block gets: the block's `what`. */
function expected(what: string): { error: () => string } {
  return { error: () => what };
}

/** An integer in min..max. */
export function int(min: number, max: number, what = `an integer ${min}..${max}`) {
  return z.int(expected(what)).min(min, expected(what)).max(max, expected(what));
}

/** A power of two in min..max (an enum in the JSON Schema, so editors offer the values). */
export function powerOfTwo(min: number, max: number) {
  const values: number[] = [];
  for (let n = 1; n <= max; n *= 2) if (n >= min && isPowerOfTwo(n)) values.push(n);
  return z.literal(values as [number, ...number[]], expected(`a power of two ${min}..${max}`));
}

export function bool() {
  return z.boolean(expected('true or false'));
}

/** A string; with `pattern`, one that matches it. */
export function text(what: string, pattern?: RegExp) {
  const s = z.string(expected(what)).min(1, expected(what));
  return pattern ? s.regex(pattern, expected(what)) : s;
}

/** One of a few strings. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T, what = `one of ${values.join(', ')}`) {
  return z.enum(values, expected(what));
}

/** An array of `item`s (`min`..`max` of them when given). */
export function list<T extends z.ZodType>(item: T, what: string, min?: number, max?: number) {
  let a = z.array(item, expected(what));
  if (min !== undefined) a = a.min(min, expected(what));
  if (max !== undefined) a = a.max(max, expected(what));
  return a;
}

/** A strict object: `what` when it is not an object, each unknown key reported at its own path. */
export function section<S extends z.ZodRawShape>(shape: S, what: string) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field (known: ${known})` : what),
  });
}

// ───────────────────────── schema → FastpathError ─────────────────────────

type PathKey = PropertyKey;

/** A key that reads unambiguously after a dot; any other (unknown) key is written as ["key"]. */
const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** 'ports[1].mtu' from ['ports', 1, 'mtu'], under `base` ('control'). */
export function formatPath(base: string, keys: readonly PathKey[]): string {
  let path = base;
  for (const key of keys) {
    if (typeof key === 'number') path += `[${key}]`;
    else if (typeof key === 'string' && PLAIN_KEY.test(key)) path = path ? `${path}.${key}` : key;
    else path += `[${describe(typeof key === 'string' ? key : String(key))}]`;
  }
  return path;
}

/** The input's value at `keys` (own properties only), undefined where it has none. */
export function valueAt(input: unknown, keys: readonly PathKey[]): unknown {
  let value = input;
  for (const key of keys) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function startsWith(keys: readonly PathKey[], prefix: readonly PathKey[]): boolean {
  return prefix.length <= keys.length && prefix.every((k, i) => keys[i] === k);
}

/**
 * The issue to report: the first one, unless an object on its way has an
 * unknown key — that is reported first, as a misspelt key is what most often
 * makes the field it was meant to be look missing.
 */
function firstIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue {
  const first = issues[0];
  const unknown = issues.find((i) => i.code === 'unrecognized_keys' && startsWith(first.path, i.path));
  return unknown ?? first;
}

/**
 * What a field must be where that depends on the caller (the CPUs this
 * process may use): given the issue's path, a better `what`, or undefined.
 */
export type ContextualWhat = (keys: readonly PropertyKey[]) => string | undefined;

/** The schema's first complaint as the one config error shape, the path under `base`. */
export function schemaError(error: z.ZodError, input: unknown, base: string, contextual?: ContextualWhat): FastpathError {
  const issue = firstIssue(error.issues);
  if (issue.code === 'unrecognized_keys') {
    const path = formatPath(base, [...issue.path, issue.keys[0]]);
    return new FastpathError('EINVAL', `${path}: ${issue.message}`, path);
  }
  const path = formatPath(base, issue.path);
  const value = valueAt(input, issue.path);
  // A too-long list is named by its length, not printed.
  const got = Array.isArray(value) && issue.code === 'too_big' ? `${value.length} items` : describe(value);
  const what = contextual?.(issue.path) ?? issue.message;
  return new FastpathError('EINVAL', `${path || 'config'}: expected ${what}, got ${got}`, path);
}

/** Deeper than any field of the schema: what lies below is inside a field zod refuses anyway. */
const PLAIN_DATA_DEPTH = 8;

/**
 * The path of the first object in `value` that is not plain data (a Date, a
 * Map, a class instance...): zod, like any object check, would read one as
 * an empty object and fill in defaults. Walks no deeper than the schema
 * goes, so a hostile nesting cannot exhaust the stack.
 */
function nonPlainObject(value: unknown, keys: PathKey[] = []): PathKey[] | undefined {
  if (typeof value !== 'object' || value === null || keys.length > PLAIN_DATA_DEPTH) return undefined;
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return keys;
  for (const key of Object.keys(value)) {
    const found = nonPlainObject((value as Record<string, unknown>)[key], [...keys, Array.isArray(value) ? Number(key) : key]);
    if (found) return found;
  }
  return undefined;
}

/** Parse `input` with `schema`; the first problem throws FastpathError('EINVAL') at its path under `base`. */
export function parseWith<T extends z.ZodType>(schema: T, input: unknown, base: string, contextual?: ContextualWhat): z.output<T> {
  const odd = nonPlainObject(input);
  if (odd !== undefined) {
    const path = formatPath(base, odd);
    const tag = Object.prototype.toString.call(valueAt(input, odd));
    throw new FastpathError('EINVAL', `${path || 'config'}: expected plain data (objects, arrays, strings, numbers, booleans), got ${tag}`, path);
  }
  const result = schema.safeParse(input);
  if (!result.success) throw schemaError(result.error, input, base, contextual);
  return result.data;
}

/** Error codes, errno-style, stable across releases. */
export type FastpathErrorCode =
  | 'EINVAL'
  | 'EEXIST'
  | 'ENOENT'
  | 'EPERM'
  | 'ENOSPC'
  | 'EBUSY'
  | 'ENODEV'
  | 'ENOTSUP'
  | 'EIO'
  | 'ENOMEM'
  | 'ETIMEDOUT'
  | 'ENXIO'
  | 'EOPNOTSUPP'
  | 'EADDRINUSE'
  | 'EADDRNOTAVAIL'
  | 'EBADF'
  | 'EMSGSIZE'
  | 'ENOBUFS'
  | 'EMFILE'
  | 'ERANGE'
  | 'ENOPROTOOPT'
  // Files (a SIFTR log that cannot be opened)
  | 'EACCES'
  | 'EISDIR'
  | 'ELOOP'
  | 'ENOTDIR'
  | 'EROFS';

/**
 * The one error class fastpath throws. `code` is stable; `message` names the
 * offending input; `path` (config errors) is the dotted path of the field.
 */
export class FastpathError extends Error {
  readonly code: FastpathErrorCode;
  readonly path?: string;

  constructor(code: FastpathErrorCode, message: string, path?: string) {
    super(message);
    this.name = 'FastpathError';
    this.code = code;
    if (path !== undefined) this.path = path;
  }
}

/** Longest description of an input that an error message quotes. */
const DESCRIBE_MAX = 80;

/**
 * How an error message quotes an input, whatever it is: a string quoted (cut
 * at 80 characters, with its length), a number as written (NaN, -0,
 * Infinity), a bigint with its `n`, a symbol, a function, an object as
 * JSON (bigints, cycles and throwing toJSON included) or as its tag. Never
 * throws: every message builder uses this, so a hostile argument cannot
 * turn a FastpathError into a TypeError.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value.length > DESCRIBE_MAX ? `${JSON.stringify(value.slice(0, DESCRIBE_MAX))}… (${value.length} characters)` : JSON.stringify(value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return 'a function';
    case 'undefined':
      return 'undefined';
    case 'boolean':
      return String(value);
    default:
      return describeObject(value as object | null);
  }
}

function describeObject(value: object | null): string {
  if (value === null) return 'null';
  let text: string | undefined;
  try {
    const seen = new WeakSet<object>();
    text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return `${v}n`;
      if (typeof v === 'object' && v !== null) {
        if (seen.has(v)) return '[cycle]';
        seen.add(v);
      }
      return v;
    });
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    try {
      text = Object.prototype.toString.call(value);
    } catch {
      text = 'an object';
    }
  }
  return text.length > DESCRIBE_MAX ? `${text.slice(0, DESCRIBE_MAX)}… (${text.length} characters)` : text;
}

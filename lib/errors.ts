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

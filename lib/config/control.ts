/**
 * The `control` section: where the running router serves its control socket
 * (JSON-RPC, lib/control/server.ts) and, when asked, Prometheus metrics.
 */
import type { NormalizedControlConfig } from '../config-types';
import { expectObject, fail, field, isInteger } from './fields';

export const DEFAULT_CONTROL_SOCKET = '/run/fastpath/fastpath.sock';

const CONTROL_FIELDS = ['socket', 'socketGroup', 'metrics'] as const;

// sun_path is 108 bytes with its terminating NUL: a longer path cannot be bound.
const MAX_SOCKET_PATH = 107;

/** 'host:port' or '[v6]:port' (port 0: any free port, which tests use). */
export function parseListenAddress(value: unknown, path: string): { host: string; port: number } {
  const m = typeof value === 'string' ? /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value) : null;
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) fail(path, "'host:port' (e.g. \"127.0.0.1:9469\" or \"[::1]:9469\")", value);
  return { host: m[1] ?? m[2], port };
}

export function normalizeControl(value: unknown): NormalizedControlConfig {
  const o = expectObject(value === undefined ? {} : value, 'control', 'an object', CONTROL_FIELDS);
  const socket = o.socket ?? DEFAULT_CONTROL_SOCKET;
  if (typeof socket !== 'string' || !socket.startsWith('/') || Buffer.byteLength(socket) > MAX_SOCKET_PATH || socket.includes('\0')) {
    fail(field('control', 'socket'), `an absolute path of at most ${MAX_SOCKET_PATH} bytes`, socket);
  }
  const out: NormalizedControlConfig = { socket };
  const group = o.socketGroup;
  if (group !== undefined) {
    const ok = (typeof group === 'string' && /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(group)) || (isInteger(group) && group >= 0);
    if (!ok) fail(field('control', 'socketGroup'), 'a group name or a numeric gid', group);
    out.socketGroup = group as string | number;
  }
  if (o.metrics !== undefined) {
    parseListenAddress(o.metrics, field('control', 'metrics'));
    out.metrics = o.metrics as string;
  }
  return out;
}

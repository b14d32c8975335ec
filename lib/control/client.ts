/**
 * A control-socket client (the CLI's): JSON-RPC 2.0 requests over the unix
 * socket, notifications (events) to a callback. Errors keep the router's
 * FastpathError code (`data.code`), so a script can test for EEXIST.
 */
import * as net from 'net';
import { JSONRPCClient, JSONRPCResponse } from 'json-rpc-2.0';

import { DEFAULT_CONTROL_SOCKET } from '../config';
import { LineSplitter } from './wire';

/** A failed call or connection: `code` is the router's FastpathError code, or the socket's errno (ENOENT, ECONNREFUSED, EACCES). */
export class ControlError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'ControlError';
  }
}

export interface Notification {
  method: string;
  params?: unknown;
}

/** The socket the CLI uses: --socket, else $FASTPATH_SOCKET, else the default. */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.FASTPATH_SOCKET || DEFAULT_CONTROL_SOCKET;
}

function connectError(socketPath: string, e: NodeJS.ErrnoException): ControlError {
  const code = e.code ?? 'EIO';
  const how = 'start the router with `fastpath start -c router.yaml` (or as the fastpath systemd service), or name its socket with --socket PATH';
  if (code === 'ENOENT') return new ControlError(code, `no control socket at ${socketPath}: is the router running? ${how}`);
  if (code === 'ECONNREFUSED') return new ControlError(code, `nothing is listening on ${socketPath} (a router that stopped uncleanly?): ${how}`);
  if (code === 'EACCES') return new ControlError(code, `permission denied on ${socketPath}: run as root or as a member of the socket's group (control.socketGroup)`);
  return new ControlError(code, `cannot connect to ${socketPath}: ${e.message}`);
}

export class ControlClient {
  private readonly rpc: JSONRPCClient;
  private notify: (n: Notification) => void = () => undefined;
  private closedHandler: () => void = () => undefined;

  private constructor(private readonly socket: net.Socket, readonly socketPath: string) {
    this.rpc = new JSONRPCClient((payload) => {
      socket.write(`${JSON.stringify(payload)}\n`);
    });
    const lines = new LineSplitter(64 << 20);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      for (const line of lines.push(chunk)) {
        const msg = JSON.parse(line) as { method?: string; params?: unknown } & JSONRPCResponse;
        if (typeof msg.method === 'string') this.notify({ method: msg.method, params: msg.params });
        else this.rpc.receive(msg);
      }
    });
    socket.on('close', () => {
      this.rpc.rejectAllPendingRequests(`the router closed the control socket ${socketPath}`);
      this.closedHandler();
    });
    socket.on('error', () => undefined); // 'close' follows and says it
  }

  static connect(socketPath: string = defaultSocketPath(), timeoutMs = 5000): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ControlError('ETIMEDOUT', `no answer from ${socketPath} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new ControlClient(socket, socketPath));
      });
      socket.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(connectError(socketPath, e));
      });
    });
  }

  /** Call a method; resolves with its result (bigints as decimal strings), rejects with ControlError. */
  async call<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T> {
    let response: JSONRPCResponse;
    try {
      response = await this.rpc.requestAdvanced({ jsonrpc: '2.0', id: this.nextId++, method, ...(params !== undefined ? { params } : {}) });
    } catch (e) {
      throw new ControlError('EPIPE', (e as Error).message);
    }
    if (response.error !== undefined) {
      const data = response.error.data as { code?: unknown } | undefined;
      const code = typeof data?.code === 'string' ? data.code : response.error.code === -32601 ? 'ENOSYS' : 'EIO';
      throw new ControlError(code, response.error.message);
    }
    return response.result as T;
  }

  onNotification(fn: (n: Notification) => void): void {
    this.notify = fn;
  }

  onClose(fn: () => void): void {
    this.closedHandler = fn;
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }

  private nextId = 1;
}

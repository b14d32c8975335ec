/**
 * The control socket: JSON-RPC 2.0 over a unix stream socket, one message
 * per line (docs/api.md, "JSON-RPC methods"; docs/operations.md).
 *
 * The router's event loop serves it: a method runs the Router API call it
 * names, in this process. No client can hold the router up: what a client
 * does not read waits in its bounded Outbox (events beyond it are dropped
 * and counted; a client whose responses overflow it is disconnected).
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { JSONRPCErrorCode, JSONRPCErrorResponse, JSONRPCID, JSONRPCServer, createJSONRPCErrorResponse } from 'json-rpc-2.0';

import { FastpathError } from '../errors';
import type { RouterEvent } from '../events';
import type { Router } from '../router';
import { CaptureRegistry } from './capture';
import { METHODS, paramsObject } from './methods';
import { Outbox } from './outbox';
import { resolveGroup } from './group';
import { encodeLine, LineSplitter } from './wire';

export interface ControlServerOptions {
  /** The socket's path; its directory is created (0755). */
  socket: string;
  /** The socket's group (name or gid); mode is 0660 either way. */
  socketGroup?: string | number;
  /** Messages waiting per client before events are dropped (or, for a response, the client is closed). Default 1024. */
  maxQueue?: number;
  /** Clients at once; more are refused. Default 256. */
  maxClients?: number;
}

/** The server's counters (metrics: fastpath_control_*). */
export interface ControlCounters {
  /** Clients connected now. */
  clients: number;
  connections: number;
  requests: number;
  /** Requests answered with an error object. */
  errors: number;
  notificationsDropped: number;
  /** Clients disconnected because their responses did not fit their queue. */
  closedOverflow: number;
}

const EVENT_TYPES = ['link', 'address', 'neighbour', 'mld'] as const;

/** JSON-RPC code for FastpathErrors: EINVAL is "invalid params"; the rest an implementation-defined server error. */
const SERVER_ERROR = -32000;

interface Client {
  outbox: Outbox;
  /** Event types this client subscribed to (empty: none). */
  events: Set<string>;
}

/** A thrown error as a JSON-RPC error object: FastpathError's code in data.code, its message as is. */
export function errorResponse(id: JSONRPCID, error: unknown): JSONRPCErrorResponse {
  if (error instanceof FastpathError) {
    const data: { code: string; path?: string } = { code: error.code };
    if (error.path !== undefined) data.path = error.path;
    return createJSONRPCErrorResponse(id, error.code === 'EINVAL' ? JSONRPCErrorCode.InvalidParams : SERVER_ERROR, error.message, data);
  }
  const message = error instanceof Error ? error.message : String(error);
  return createJSONRPCErrorResponse(id, JSONRPCErrorCode.InternalError, message, { code: 'EIO' });
}

/** Is something listening on the unix socket at `p`? (A stale file from a crash is not.) */
function socketAnswers(p: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(p);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export class ControlServer {
  readonly counters: ControlCounters = { clients: 0, connections: 0, requests: 0, errors: 0, notificationsDropped: 0, closedOverflow: 0 };
  private readonly clients = new Set<Client>();
  private readonly rpc = new JSONRPCServer<Client>({ errorListener: () => undefined });
  private readonly onEvent = (ev: RouterEvent): void => this.broadcast(ev);
  private readonly captures: CaptureRegistry<Client>;
  private closed = false;

  private constructor(
    private readonly router: Router,
    private readonly server: net.Server,
    readonly socketPath: string,
    private readonly maxQueue: number,
  ) {
    this.rpc.mapErrorToJSONRPCErrorResponse = errorResponse;
    for (const [name, fn] of Object.entries(METHODS)) {
      this.rpc.addMethod(name, async (params) => {
        const result = await fn(this.router, paramsObject(name, params));
        return result === undefined ? null : result; // JSON-RPC: a success always carries `result`
      });
    }
    this.rpc.addMethod('events.subscribe', (params, client) => {
      const p = paramsObject('events.subscribe', params);
      const types = p.types === undefined ? [...EVENT_TYPES] : p.types;
      if (!Array.isArray(types) || types.some((t) => !(EVENT_TYPES as readonly unknown[]).includes(t))) {
        throw new FastpathError('EINVAL', `events.subscribe: types: expected a list of ${EVENT_TYPES.join(', ')}, got ${JSON.stringify(p.types)}`);
      }
      for (const t of types as string[]) client.events.add(t);
      return { types: [...client.events] };
    });
    this.rpc.addMethod('events.unsubscribe', (_params, client) => {
      client.events.clear();
      return null;
    });
    // Captures belong to the connection that starts them (lib/control/capture.ts).
    this.captures = new CaptureRegistry<Client>(router);
    this.rpc.addMethod('capture.start', (params, client) => this.captures.start(client, paramsObject('capture.start', params)));
    this.rpc.addMethod('capture.read', (params, client) => this.captures.read(client, paramsObject('capture.read', params)));
    this.rpc.addMethod('capture.stop', (params, client) => this.captures.stop(client, paramsObject('capture.stop', params)));
    for (const t of EVENT_TYPES) router.on(t, this.onEvent);
    router.once('stop', () => void this.close());
    server.on('connection', (s) => this.accept(s));
  }

  /** A method beyond the Router API (the daemon's `config.reload`), errors mapped as for the others. */
  addMethod(name: string, fn: (params: Record<string, unknown>) => unknown): void {
    this.rpc.addMethod(name, async (params) => {
      const result = await fn(paramsObject(name, params));
      return result === undefined ? null : result;
    });
  }

  /** Serve `router` on a unix socket: stale socket files are replaced, a live one is EADDRINUSE. */
  static async listen(router: Router, options: ControlServerOptions): Promise<ControlServer> {
    const socketPath = options.socket;
    fs.mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o755 });
    const existing = fs.lstatSync(socketPath, { throwIfNoEntry: false });
    if (existing !== undefined) {
      if (!existing.isSocket()) throw new FastpathError('EEXIST', `control socket: ${socketPath} exists and is not a socket`);
      if (await socketAnswers(socketPath)) {
        throw new FastpathError('EADDRINUSE', `control socket: another router is serving ${socketPath} (stop it, or set control.socket)`);
      }
      fs.unlinkSync(socketPath);
    }
    const gid = options.socketGroup === undefined ? undefined : resolveGroup(options.socketGroup);
    const server = net.createServer();
    server.maxConnections = options.maxClients ?? 256;
    // bind() creates the socket file with the umask's mode: make it 0660 from
    // the start, so that no other user can connect before the chmod below.
    const umask = process.umask(0o117);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => {
          server.removeListener('error', reject);
          resolve();
        });
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new FastpathError('EIO', `control socket: cannot listen on ${socketPath}: ${err.message}`);
    } finally {
      process.umask(umask);
    }
    try {
      fs.chmodSync(socketPath, 0o660);
      if (gid !== undefined) fs.chownSync(socketPath, -1, gid);
    } catch (e) {
      server.close();
      fs.rmSync(socketPath, { force: true });
      throw new FastpathError('EPERM', `control socket: ${socketPath}: ${(e as Error).message}`);
    }
    return new ControlServer(router, server, socketPath, options.maxQueue ?? 1024);
  }

  /** Stop listening, disconnect every client, remove the socket file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of EVENT_TYPES) this.router.removeListener(t, this.onEvent);
    for (const c of this.clients) c.outbox.close();
    this.clients.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    fs.rmSync(this.socketPath, { force: true });
  }

  private accept(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    socket.setEncoding('utf8');
    const client: Client = { outbox: new Outbox(socket, this.maxQueue, this.counters), events: new Set() };
    this.clients.add(client);
    this.counters.connections++;
    this.counters.clients = this.clients.size;
    const lines = new LineSplitter();
    socket.on('data', (chunk: string) => {
      let received: string[];
      try {
        received = lines.push(chunk);
      } catch {
        client.outbox.close(); // a line without end: not a JSON-RPC client
        return;
      }
      for (const line of received) void this.handle(client, line);
    });
    const gone = (): void => {
      this.captures.dropOwner(client);
      this.clients.delete(client);
      this.counters.clients = this.clients.size;
    };
    socket.on('close', gone);
    socket.on('error', () => socket.destroy());
  }

  private async handle(client: Client, line: string): Promise<void> {
    this.counters.requests++;
    const response = await this.rpc.receiveJSON(line, client);
    if (response === null) return; // a notification from the client: nothing to answer
    const responses = Array.isArray(response) ? response : [response];
    for (const r of responses) if (r.error !== undefined) this.counters.errors++;
    client.outbox.sendResponse(encodeLine(response));
  }

  private broadcast(ev: RouterEvent): void {
    for (const c of this.clients) {
      if (!c.events.has(ev.type)) continue;
      c.outbox.sendNotification((lost) => encodeLine({ jsonrpc: '2.0', method: 'event', params: lost > 0 ? { ...ev, lost } : ev }));
    }
  }
}

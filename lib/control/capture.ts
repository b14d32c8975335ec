/**
 * Capture over the control socket (docs/api.md, "capture.*"): a client
 * starts a capture, pulls pcapng bytes (base64) with capture.read until
 * `done`, and may stop it early. Pull, not push: a client that does not
 * read leaves the frames in the router's bounded native ring, where the
 * overflow is dropped and counted, so a slow client neither blocks the
 * router nor makes it buffer. A capture ends with the connection that
 * started it.
 */
import { FastpathError } from '../errors';
import type { CaptureDirection, CaptureSession, CaptureStats } from '../capture';
import type { Router } from '../router';
import type { Params } from './methods';

const MAX_WAIT_MS = 10000;
const DEFAULT_WAIT_MS = 1000;

export interface CaptureReadResult {
  /** pcapng Enhanced Packet Blocks, base64. */
  pcapng: string;
  packets: number;
  done: boolean;
  stats: CaptureStats;
}

/** The captures the socket's clients run, by id; `Owner` is the server's client record. */
export class CaptureRegistry<Owner> {
  private readonly sessions = new Map<number, { session: CaptureSession; owner: Owner }>();

  constructor(private readonly router: Router) {}

  start(owner: Owner, p: Params): { id: number; pcapng: string; interfaces: readonly string[]; direction: CaptureDirection; filter: string } {
    const session = this.router.capture.start({
      interfaces: p.interfaces as string | string[],
      ...(p.direction !== undefined ? { direction: p.direction as CaptureDirection } : {}),
      ...(p.filter !== undefined ? { filter: p.filter as string } : {}),
      ...(p.count !== undefined ? { count: p.count as number } : {}),
      ...(p.snaplen !== undefined ? { snaplen: p.snaplen as number } : {}),
      ...(p.buffer !== undefined ? { buffer: p.buffer as number } : {}),
    });
    this.sessions.set(session.id, { session, owner });
    return { id: session.id, pcapng: session.pcapngHeader().toString('base64'), interfaces: session.interfaces, direction: session.direction, filter: session.filter };
  }

  async read(owner: Owner, p: Params): Promise<CaptureReadResult> {
    const session = this.owned(owner, p, 'capture.read');
    const waitMs = p.waitMs ?? DEFAULT_WAIT_MS;
    if (typeof waitMs !== 'number' || !Number.isInteger(waitMs) || waitMs < 0 || waitMs > MAX_WAIT_MS) {
      throw new FastpathError('EINVAL', `capture.read: waitMs: expected an integer 0..${MAX_WAIT_MS}, got ${JSON.stringify(p.waitMs)}`);
    }
    const batch = await session.read({ waitMs });
    const result = { pcapng: session.pcapngPackets(batch).toString('base64'), packets: batch.length, done: session.done, stats: session.stats() };
    if (session.done) this.sessions.delete(session.id);
    return result;
  }

  /** Stop copying; what was captured stays readable (read until done). */
  stop(owner: Owner, p: Params): CaptureStats {
    return this.owned(owner, p, 'capture.stop').stop();
  }

  /** The client went away: its captures end. */
  dropOwner(owner: Owner): void {
    for (const [id, s] of this.sessions) {
      if (s.owner !== owner) continue;
      s.session.close();
      this.sessions.delete(id);
    }
  }

  private owned(owner: Owner, p: Params, method: string): CaptureSession {
    const s = typeof p.id === 'number' ? this.sessions.get(p.id) : undefined;
    if (s === undefined || s.owner !== owner) {
      throw new FastpathError('ENOENT', `${method}: id: no capture ${JSON.stringify(p.id)} started on this connection`);
    }
    return s.session;
  }
}

/**
 * A client's outbound queue. The router's event loop never waits for a
 * client: a write goes to the socket while it accepts data, and otherwise
 * waits here, up to `limit` messages. Past that, a notification (an event)
 * is dropped and counted — the client learns of it from the `lost` field of
 * the next one it does get — while a response that does not fit means the
 * client stopped reading its answers: the connection is closed.
 */

/** Where the outbox writes: net.Socket's shape, narrowed for tests. */
export interface OutboxSink {
  /** false: the socket's own buffer is full (wait for 'drain'). */
  write(data: string): boolean;
  destroy(): void;
  once(event: 'drain', listener: () => void): unknown;
}

export interface OutboxCounters {
  /** Notifications dropped because the queue was full. */
  notificationsDropped: number;
  /** Connections closed because a response did not fit. */
  closedOverflow: number;
}

export class Outbox {
  /** Notifications dropped on this connection since the last one delivered. */
  lostSinceLast = 0;
  private readonly queue: string[] = [];
  private blocked = false;
  private closed = false;

  constructor(
    private readonly sink: OutboxSink,
    private readonly limit: number,
    private readonly counters: OutboxCounters,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A response: queued or written; on overflow the connection is closed. Returns false when closed. */
  sendResponse(line: string): boolean {
    if (this.closed) return false;
    if (this.blocked && this.queue.length >= this.limit) {
      this.counters.closedOverflow++;
      this.close();
      return false;
    }
    this.enqueue(line);
    return true;
  }

  /**
   * A notification: queued or written, or dropped when the queue is full.
   * `render` receives how many were lost before this one (and builds the line then).
   */
  sendNotification(render: (lostBefore: number) => string): boolean {
    if (this.closed) return false;
    if (this.blocked && this.queue.length >= this.limit) {
      this.counters.notificationsDropped++;
      this.lostSinceLast++;
      return false;
    }
    const line = render(this.lostSinceLast);
    this.lostSinceLast = 0;
    this.enqueue(line);
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.sink.destroy();
  }

  private enqueue(line: string): void {
    if (this.blocked) {
      this.queue.push(line);
      return;
    }
    if (!this.sink.write(line)) this.waitForDrain();
  }

  private waitForDrain(): void {
    this.blocked = true;
    this.sink.once('drain', () => this.flush());
  }

  private flush(): void {
    this.blocked = false;
    while (!this.closed && this.queue.length > 0) {
      const line = this.queue.shift() as string;
      if (!this.sink.write(line)) {
        this.waitForDrain();
        return;
      }
    }
  }
}

/**
 * The control socket's framing and value encoding: one JSON-RPC message per
 * line (JSON never holds a raw newline, so '\n' is an unambiguous frame end),
 * bigint counters as decimal strings (JSON has no 64-bit integer and a
 * double loses counts above 2^53), dates as ISO strings.
 */

/** A JSON value with bigints as decimal strings and Dates as ISO 8601 strings. */
export function toWire(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toWire);
  if (value instanceof Uint8Array) return Array.from(value);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toWire(v);
    return out;
  }
  return value;
}

/** One frame: the message's JSON (bigints as strings) and the newline. */
export function encodeLine(message: unknown): string {
  return `${JSON.stringify(toWire(message))}\n`;
}

/**
 * Splits a byte stream into lines. A line longer than `maxLine` bytes is a
 * protocol error (a client must not make the router buffer without limit):
 * push() then throws and the caller closes the connection.
 */
export class LineSplitter {
  private pending = '';

  constructor(private readonly maxLine: number = 1 << 20) {}

  /** The complete lines in `chunk` (and what came before it), without their newlines; blank lines skipped. */
  push(chunk: string): string[] {
    const parts = (this.pending + chunk).split('\n');
    this.pending = parts.pop() ?? '';
    if (this.pending.length > this.maxLine) throw new RangeError(`line longer than ${this.maxLine} bytes`);
    return parts.filter((l) => l.trim() !== '');
  }
}

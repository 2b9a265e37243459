/**
 * The /metrics body written straight into a Buffer that is reused from scrape to
 * scrape. Joining the lines into one string made a new body-sized string per scrape
 * (3.6 MB at 20,000 series) in V8's large-object space, then a Buffer copy of it for
 * the socket or gzip: dozens of such strings were alive between two major GCs (86 MB
 * of large-object space after 80 scrapes, see docs/benchmarks.md, bench:scrape).
 * Written here, a scrape makes no body-sized garbage at all, and writing each line
 * into the buffer is faster than the join and the copy.
 */

/** A growable byte buffer of UTF-8 text. */
export class BodyBuffer {
  private buf: Buffer;
  private len = 0;

  constructor(capacity = 64 * 1024) {
    // Off the pool: a body is long-lived and large, not a small slice.
    this.buf = Buffer.allocUnsafeSlow(capacity);
  }

  get capacity(): number {
    return this.buf.length;
  }

  get length(): number {
    return this.len;
  }

  /** Appends `s` as UTF-8. */
  write(s: string): void {
    // A UTF-16 code unit is at most 3 bytes of UTF-8: measure exactly only when that may not fit.
    if (this.buf.length - this.len < s.length * 3) this.ensure(Buffer.byteLength(s));
    this.len += this.buf.write(s, this.len);
  }

  /** Appends `s` and a newline. */
  line(s: string): void {
    if (this.buf.length - this.len < s.length * 3 + 1) this.ensure(Buffer.byteLength(s) + 1);
    this.len += this.buf.write(s, this.len);
    this.buf[this.len++] = 0x0a;
  }

  /** The bytes written so far: a view, valid until the buffer is written again or reset. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  reset(): void {
    this.len = 0;
  }

  toString(): string {
    return this.buf.toString('utf8', 0, this.len);
  }

  private ensure(extra: number): void {
    if (this.buf.length - this.len >= extra) return;
    let size = this.buf.length * 2;
    while (size - this.len < extra) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
}

/** A body being served: its bytes, and `release` once they are on the wire (or not needed). */
export interface Body {
  readonly bytes: Buffer;
  release(): void;
}

/**
 * Buffers handed out per scrape and taken back when the response is done, so that a
 * scrape that overlaps another never writes into a body still being sent. One is kept
 * idle (two scrapers at once are rare); one much larger than the last body is let go.
 */
export class BodyPool {
  private idle: BodyBuffer | undefined;
  /** The last body's size, to size a new buffer without regrowing it line by line. */
  private lastLength = 0;

  acquire(): BodyBuffer {
    const b = this.idle;
    this.idle = undefined;
    if (b) {
      b.reset();
      return b;
    }
    return new BodyBuffer(Math.max(64 * 1024, Math.ceil(this.lastLength * 1.25)));
  }

  release(b: BodyBuffer): void {
    this.lastLength = b.length;
    // A buffer grown for a body four times larger than today's is not kept (series went away).
    const oversized = b.capacity > 1024 * 1024 && b.capacity > 4 * b.length;
    if (!this.idle && !oversized) this.idle = b;
  }
}

/**
 * The /metrics body written straight into Buffers that are reused from scrape to
 * scrape. Joining the lines into one string made a new body-sized string per scrape
 * (3.6 MB at 20,000 series) in V8's large-object space, then a Buffer copy of it for
 * the socket or gzip: dozens of such strings were alive between two major GCs (86 MB
 * of large-object space after 80 scrapes, see docs/benchmarks.md, bench:scrape).
 * Written here, a scrape makes no body-sized garbage at all, and writing each line
 * into a buffer is faster than the join and the copy.
 *
 * The body is a list of chunks, not one buffer: a body that outgrows what it has gets
 * another chunk, where one buffer was copied into one twice its size, leaving the old
 * one (touched memory) until a GC: while series arrive, each scrape grew it again,
 * and those copies set the peak RSS at 20,000 series (bench:scrape).
 */

/** A chunk's size: a scrape of 20,000 series is 8 of them (128 KB, 30 chunks, cost Home Assistant's scrape p50 1-2 ms more in gzip, one zlib write per chunk). */
export const CHUNK_BYTES = 512 * 1024;

/** A growable list of byte chunks of UTF-8 text; a string is never split across two. */
export class BodyBuffer {
  /** Kept across resets; `[0, used)` hold the body, the last of them being written. */
  private readonly kept: Buffer[] = [];
  /** Bytes in each chunk before the current one. */
  private readonly filled: number[] = [];
  private used = 1;
  private cur: Buffer;
  private len = 0;
  /** Bytes in the chunks before the current one. */
  private before = 0;

  constructor(private readonly chunkBytes = CHUNK_BYTES) {
    // Off the pool: a body is long-lived and large, not a small slice.
    this.cur = Buffer.allocUnsafeSlow(chunkBytes);
    this.kept.push(this.cur);
  }

  /** Bytes held (written or not) by the chunks kept. */
  get capacity(): number {
    let n = 0;
    for (const c of this.kept) n += c.length;
    return n;
  }

  get length(): number {
    return this.before + this.len;
  }

  /** Appends `s` as UTF-8. */
  write(s: string): void {
    // A UTF-16 code unit is at most 3 bytes of UTF-8: measure exactly only when that may not fit.
    if (this.cur.length - this.len < s.length * 3) this.room(Buffer.byteLength(s));
    this.len += this.cur.write(s, this.len);
  }

  /** Appends `s` and a newline. */
  line(s: string): void {
    if (this.cur.length - this.len < s.length * 3 + 1) this.room(Buffer.byteLength(s) + 1);
    this.len += this.cur.write(s, this.len);
    this.cur[this.len++] = 0x0a;
  }

  /** The bytes written so far, in order: views, valid until the buffer is written again or reset. */
  chunks(): Buffer[] {
    const out: Buffer[] = [];
    for (let i = 0; i < this.used - 1; i++) {
      // A chunk left empty (the first string did not fit in it) is not sent.
      if ((this.filled[i] as number) > 0) out.push((this.kept[i] as Buffer).subarray(0, this.filled[i]));
    }
    if (this.len > 0 || out.length === 0) out.push(this.cur.subarray(0, this.len));
    return out;
  }

  reset(): void {
    this.used = 1;
    this.cur = this.kept[0] as Buffer;
    this.len = 0;
    this.before = 0;
  }

  /** Lets go of the chunks this body did not use (a body smaller than the last). */
  trim(): void {
    this.kept.length = this.used;
    this.filled.length = this.used - 1;
  }

  toString(): string {
    return Buffer.concat(this.chunks()).toString('utf8');
  }

  /** The next chunk with `bytes` free: a kept one, or a new one (larger for a larger string). */
  private room(bytes: number): void {
    if (this.cur.length - this.len >= bytes) return;
    this.filled[this.used - 1] = this.len;
    this.before += this.len;
    let next = this.kept[this.used];
    if (next === undefined || next.length < bytes) {
      next = Buffer.allocUnsafeSlow(Math.max(this.chunkBytes, bytes));
      this.kept[this.used] = next;
    }
    this.used += 1;
    this.cur = next;
    this.len = 0;
  }
}

/** A body being served: its bytes, and `release` once they are on the wire (or not needed). */
export interface Body {
  /** The bytes in order (one chunk for a small body). */
  readonly chunks: readonly Buffer[];
  readonly length: number;
  release(): void;
}

/**
 * Buffers handed out per scrape and taken back when the response is done, so that a
 * scrape that overlaps another never writes into a body still being sent. One is kept
 * idle (two scrapers at once are rare), holding no more chunks than its last body used.
 */
export class BodyPool {
  private idle: BodyBuffer | undefined;

  acquire(): BodyBuffer {
    const b = this.idle;
    this.idle = undefined;
    if (b) {
      b.reset();
      return b;
    }
    return new BodyBuffer();
  }

  release(b: BodyBuffer): void {
    if (this.idle) return;
    b.trim();
    this.idle = b;
  }
}

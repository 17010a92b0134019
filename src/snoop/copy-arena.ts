// Where one flow's cached packets are copied: chunks of memory filled front to back, so that a
// copy costs a memcpy and not an allocation (about 1.5 us each with Buffer.allocUnsafeSlow, which
// kept snoop under 1 Gbit/s). A flow frees its segments roughly in the order it cached them, so
// chunks empty in order; a chunk's memory counts until its last segment is freed, and is then
// left to the collector, or filled again from its start if it is the current one. Chunks start
// small for short flows and double up to a limit.
const FIRST_CHUNK = 16 * 1024;

export class ArenaChunk {
  readonly buf: Buffer;
  used = 0;
  /** copies in it not yet released */
  live = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafeSlow(size);
  }
}

export class CopyArena {
  /** bytes of the chunks holding live copies, and of the one being filled */
  bytes = 0;
  #current: ArenaChunk | null = null;
  #nextSize = FIRST_CHUNK;
  readonly #maxChunk: number;

  constructor(maxChunk: number) {
    this.#maxChunk = Math.max(FIRST_CHUNK, maxChunk);
  }

  /** Bytes bytes would grow by for a copy of <length> bytes now. */
  growthFor(length: number): number {
    const c = this.#current;
    return c !== null && c.used + length <= c.buf.length ? 0 : Math.max(this.#nextSize, length);
  }

  /** The chunk the last copy went to. */
  get current(): ArenaChunk {
    return this.#current!;
  }

  /** Copies src[start, start + length) into the arena: to current.buf at the offset returned. */
  copy(src: Buffer, start: number, length: number): number {
    let c = this.#current;
    if (c === null || c.used + length > c.buf.length) {
      if (c !== null && c.live === 0) this.bytes -= c.buf.length;
      c = this.#current = new ArenaChunk(Math.max(this.#nextSize, length));
      this.bytes += c.buf.length;
      this.#nextSize = Math.min(this.#nextSize * 2, this.#maxChunk);
    }
    const offset = c.used;
    src.copy(c.buf, offset, start, start + length);
    c.used += length;
    c.live++;
    return offset;
  }

  release(chunk: ArenaChunk): void {
    if (--chunk.live > 0) return;
    if (chunk === this.#current) chunk.used = 0;
    else this.bytes -= chunk.buf.length;
  }

  /** Forgets every chunk (every copy is released with it). */
  clear(): void {
    this.#current = null;
    this.bytes = 0;
    this.#nextSize = FIRST_CHUNK;
  }
}

// The tcp-peer wire format: a fixed connection header and a deterministic
// pseudo-random byte stream that both ends (and tests) can regenerate.
import { createHash } from 'node:crypto';

/** Header: magic "TIP1", u32 flags, u64 bytesBack, u64 seedBack, u64 resetAfter, all big-endian. */
export const HEADER_LEN = 32;
const MAGIC = 'TIP1';

/** The server sends its reply only after the client's EOF. */
export const FLAG_WAIT_EOF = 1;
/** The client keeps sending after the server's EOF (the server always accepts that; the flag documents intent). */
export const FLAG_SEND_AFTER_EOF = 2;
/** The server resets the connection after receiving resetAfter payload bytes. */
export const FLAG_RESET = 4;

export interface PeerHeader {
  flags: number;
  bytesBack: number;
  seedBack: number;
  resetAfter: number;
}

export function encodeHeader(h: PeerHeader): Buffer {
  const b = Buffer.alloc(HEADER_LEN);
  b.write(MAGIC, 0, 'latin1');
  b.writeUInt32BE(h.flags, 4);
  b.writeBigUInt64BE(BigInt(h.bytesBack), 8);
  b.writeBigUInt64BE(BigInt(h.seedBack), 16);
  b.writeBigUInt64BE(BigInt(h.resetAfter), 24);
  return b;
}

function safeNumber(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`header ${what} too large: ${v}`);
  return Number(v);
}

/** Decodes the first HEADER_LEN bytes; throws on a bad magic. */
export function decodeHeader(b: Buffer): PeerHeader {
  if (b.length < HEADER_LEN || b.toString('latin1', 0, 4) !== MAGIC) throw new Error('bad tcp-peer header');
  return {
    flags: b.readUInt32BE(4),
    bytesBack: safeNumber(b.readBigUInt64BE(8), 'bytesBack'),
    seedBack: safeNumber(b.readBigUInt64BE(16), 'seedBack'),
    resetAfter: safeNumber(b.readBigUInt64BE(24), 'resetAfter'),
  };
}

export const CHUNK = 64 * 1024;
const MASK64 = (1n << 64n) - 1n;

function splitmix64(x: bigint): bigint {
  let z = (x + 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/**
 * Marsaglia xorshift128 on 32-bit words (no BigInt in the hot loop), seeded by
 * splitmix64, written into 64 KiB chunks as host-order (little-endian) words.
 * The byte sequence does not depend on how callers slice it.
 */
export class PrngStream {
  readonly #s = new Int32Array(4);
  #chunk: Buffer = Buffer.alloc(0);
  #pos = 0;

  constructor(seed: number) {
    const a = splitmix64(BigInt(seed));
    const b = splitmix64(a);
    this.#s.set([Number(a & 0xffffffffn), Number(a >> 32n), Number(b & 0xffffffffn), Number(b >> 32n)]);
  }

  /**
   * Returns the next 1..min(max, CHUNK) bytes. The memory is never reused by
   * the generator, so it can be handed to socket.write() as is.
   */
  next(max: number): Buffer {
    if (this.#pos === this.#chunk.length) this.#refill();
    const n = Math.min(max, this.#chunk.length - this.#pos);
    const out = this.#chunk.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  #refill(): void {
    // allocUnsafeSlow: unpooled (offset 0, never shared) and not zero-filled.
    const chunk = Buffer.allocUnsafeSlow(CHUNK);
    const w = new Int32Array(chunk.buffer, chunk.byteOffset, CHUNK / 4);
    const s = this.#s;
    let x = s[0], y = s[1], z = s[2], v = s[3];
    for (let i = 0; i < w.length; i++) {
      const t = x ^ (x << 11);
      x = y;
      y = z;
      z = v;
      v = v ^ (v >>> 19) ^ t ^ (t >>> 8);
      w[i] = v;
    }
    s[0] = x;
    s[1] = y;
    s[2] = z;
    s[3] = v;
    this.#chunk = chunk;
    this.#pos = 0;
  }
}

/** sha256 (hex) of the first n bytes of the stream for seed. */
export function streamSha256(seed: number, n: number): string {
  const gen = new PrngStream(seed);
  const h = createHash('sha256');
  for (let left = n; left > 0; ) {
    const b = gen.next(left);
    h.update(b);
    left -= b.length;
  }
  return h.digest('hex');
}

/** Compares received data, piece by piece, with the stream expected for seed. */
export class StreamVerifier {
  readonly #gen: PrngStream;
  #offset = 0;
  #firstMismatch = -1;

  constructor(seed: number) {
    this.#gen = new PrngStream(seed);
  }

  update(data: Buffer): void {
    for (let at = 0; at < data.length && this.#firstMismatch < 0; ) {
      const want = this.#gen.next(data.length - at);
      if (!want.equals(data.subarray(at, at + want.length))) {
        const got = data.subarray(at, at + want.length);
        let i = 0;
        while (want[i] === got[i]) i++;
        this.#firstMismatch = this.#offset + i;
      }
      at += want.length;
      this.#offset += want.length;
    }
  }

  /** Offset of the first differing byte, or -1 if everything so far matched. */
  get firstMismatch(): number {
    return this.#firstMismatch;
  }
}

// The packets of one NFQUEUE receive, as the addon lays them out (addon/nfq-socket.h,
// struct nfq_packet): nine u32 words of metadata per packet, the packets themselves in a receive
// area that is detached once the batch handler returns. Copy what you keep past the handler.

const WORDS = 9;
const Word = { ID: 0, OFFSET: 1, LENGTH: 2, ORIG_LENGTH: 3, MARK: 4, INDEV: 5, OUTDEV: 6, INFO: 7, QUEUE: 8 } as const;
const QUEUE_SHIFT = 2 ** 32;

export const PacketFlag = {
  /** Larger than the MTU: a GSO packet (F_GSO queues only). */
  GSO: 1,
  /** The transport checksum holds only the pseudo-header sum: treat it as right; fill it in
   *  before sending a modified copy anywhere. */
  CHECKSUM_NOT_READY: 2,
  /** The kernel has not validated the checksum. */
  CHECKSUM_NOT_VERIFIED: 4,
  /** The copy range cut the packet short: never return it as a replacement. */
  TRUNCATED: 8,
} as const;

/** Verdict codes shared with the addon (nfq_verdict_code). */
export const Code = { DEFAULT: 0, ACCEPT: 1, DROP: 2, HELD: 3, DONE: 4 } as const;

/** Names one queued packet: queue * 2^32 + id (ids count per queue). */
export type PacketRef = number;

export interface VerdictSink {
  verdict(ref: PacketRef, accept: boolean, opts?: { mark?: number; packet?: Uint8Array }): void;
}

export class PacketBatch {
  length = 0;
  #meta: Uint32Array;
  #codes: Buffer;
  #area: Buffer = Buffer.alloc(0);

  constructor(meta: Buffer, codes: Buffer, private readonly sink: VerdictSink) {
    this.#meta = new Uint32Array(meta.buffer, meta.byteOffset, meta.byteLength >>> 2);
    this.#codes = codes;
  }

  /** Points the batch at a new receive (the addon's area is valid only until the handler returns). */
  reset(count: number, area: ArrayBuffer): void {
    this.length = count;
    this.#area = Buffer.from(area);
  }

  /** The kernel's id of the packet, counted per queue. */
  id(i: number): number { return this.#word(i, Word.ID); }
  /** The queue the packet came from (one of a balanced range). */
  queue(i: number): number { return this.#word(i, Word.QUEUE); }
  ref(i: number): PacketRef {
    const at = this.#check(i) * WORDS;
    return this.#meta[at + Word.QUEUE] * QUEUE_SHIFT + this.#meta[at + Word.ID];
  }
  /** The IP packet, a view into the receive area. */
  packet(i: number): Buffer {
    const off = this.#word(i, Word.OFFSET);
    return this.#area.subarray(off, off + this.#word(i, Word.LENGTH));
  }
  /** Where the packet starts in area(), and how many bytes were copied (for zero-copy parsers). */
  offset(i: number): number { return this.#word(i, Word.OFFSET); }
  copiedLength(i: number): number { return this.#word(i, Word.LENGTH); }
  area(): Buffer { return this.#area; }
  originalLength(i: number): number { return this.#word(i, Word.ORIG_LENGTH); }
  mark(i: number): number { return this.#word(i, Word.MARK); }
  inputInterface(i: number): number { return this.#word(i, Word.INDEV); }
  outputInterface(i: number): number { return this.#word(i, Word.OUTDEV); }
  hwProtocol(i: number): number { return this.#word(i, Word.INFO) & 0xffff; }
  /** Netfilter hook: 0 prerouting, 1 input, 2 forward, 3 output, 4 postrouting. */
  hook(i: number): number { return (this.#word(i, Word.INFO) >>> 16) & 0xff; }
  flags(i: number): number { return this.#word(i, Word.INFO) >>> 24; }
  has(i: number, flag: number): boolean { return (this.flags(i) & flag) !== 0; }

  accept(i: number): void { this.#set(i, Code.ACCEPT); }
  drop(i: number): void { this.#set(i, Code.DROP); }
  /** Keeps the packet queued past this batch; its verdict must come later (PacketQueue.verdict). */
  hold(i: number): PacketRef {
    this.#set(i, Code.HELD);
    return this.ref(i);
  }
  /** Accepts with a new mark and/or a replacement packet (whole, checksums right). */
  acceptWith(i: number, opts: { mark?: number; packet?: Uint8Array }): void {
    this.sink.verdict(this.ref(i), true, opts);
    this.#set(i, Code.DONE);
  }
  /** Whether the handler decided packet i (else the queue's fallback applies). */
  decided(i: number): boolean { return this.#codes[this.#check(i)] !== Code.DEFAULT; }

  #set(i: number, code: number): void {
    this.#codes[this.#check(i)] = code;
  }
  #word(i: number, w: number): number { return this.#meta[this.#check(i) * WORDS + w]; }
  #check(i: number): number {
    if (!(i >= 0 && i < this.length && Number.isInteger(i))) throw new RangeError(`packet index ${i} outside the batch of ${this.length}`);
    return i;
  }
}

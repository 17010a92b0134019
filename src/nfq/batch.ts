// The packets of one NFQUEUE receive, as the addon lays them out (addon/nfq-socket.h,
// struct nfq_packet, layout and codes exported by the addon and taken once at load): u32 words
// of metadata per packet, the packets themselves in a receive area that is detached once the
// batch handler returns. Copy what you keep past the handler.
import { addon } from '../native/addon.js';
import { fieldOffsets, namedValues } from '../native/tables.js';

const native = addon();
const layout = native.layouts.packet;

/** Every field of the packet record read here, with its width (checked against the addon). */
export const PACKET_RECORD_READS = { id: 4, offset: 4, length: 4, origLength: 4, mark: 4, indev: 4, outdev: 4, info: 4, queue: 4 } as const;
const field = fieldOffsets(layout, 'packet record', PACKET_RECORD_READS);
const WORDS = layout.size >>> 2;
const ID = field.id >>> 2, OFFSET = field.offset >>> 2, LENGTH = field.length >>> 2, ORIG_LENGTH = field.origLength >>> 2;
const MARK = field.mark >>> 2, INDEV = field.indev >>> 2, OUTDEV = field.outdev >>> 2, INFO = field.info >>> 2, QUEUE = field.queue >>> 2;
const HOOK_SHIFT = layout.infoHookShift, FLAGS_SHIFT = layout.infoFlagsShift;
const QUEUE_SHIFT = 2 ** 32;

export interface PacketFlags {
  /** Larger than the MTU: a GSO packet (F_GSO queues only). */
  readonly GSO: number;
  /** The transport checksum holds only the pseudo-header sum: treat it as right; fill it in
   *  before sending a modified copy anywhere. */
  readonly CHECKSUM_NOT_READY: number;
  /** The kernel has not validated the checksum. */
  readonly CHECKSUM_NOT_VERIFIED: number;
  /** The copy range cut the packet short: never return it as a replacement. */
  readonly TRUNCATED: number;
}
export const PacketFlag: PacketFlags = namedValues(native.packetFlags, 'packet flags',
  ['GSO', 'CHECKSUM_NOT_READY', 'CHECKSUM_NOT_VERIFIED', 'TRUNCATED']);

/** Verdict codes shared with the addon (nfq_verdict_code). */
export const Code = namedValues(native.verdictCodes, 'verdict codes', ['DEFAULT', 'ACCEPT', 'DROP', 'HELD', 'DONE']);
/** The call that made each decision, for messages. */
const DECISION: Record<number, string> = { [Code.ACCEPT]: 'accept', [Code.DROP]: 'drop', [Code.HELD]: 'hold', [Code.DONE]: 'acceptWith' };

/** Names one queued packet: queue * 2^32 + id (ids count per queue). */
export type PacketRef = number;

export interface VerdictOptions {
  /** a new mark */
  mark?: number;
  /** a replacement packet (whole, checksums right, at most 65531 bytes) */
  packet?: Uint8Array;
}

export class PacketBatch {
  length = 0;
  #meta: Uint32Array;
  #codes: Buffer;
  #area: Buffer = Buffer.alloc(0);

  /** acceptInBatch: the verdict now of packet <index> of the batch being handled (acceptWith). */
  constructor(meta: Buffer, codes: Buffer, private readonly acceptInBatch: (index: number, opts: VerdictOptions) => void) {
    this.#meta = new Uint32Array(meta.buffer, meta.byteOffset, meta.byteLength >>> 2);
    this.#codes = codes;
  }

  /** Points the batch at a new receive (the addon's area is valid only until the handler returns). */
  reset(count: number, area: ArrayBuffer): void {
    this.length = count;
    this.#area = Buffer.from(area);
  }

  /** The kernel's id of the packet, counted per queue. */
  id(i: number): number { return this.#word(i, ID); }
  /** The queue the packet came from (one of a balanced range). */
  queue(i: number): number { return this.#word(i, QUEUE); }
  ref(i: number): PacketRef {
    const at = this.#check(i) * WORDS;
    return this.#meta[at + QUEUE] * QUEUE_SHIFT + this.#meta[at + ID];
  }
  /** The IP packet, a view into the receive area. */
  packet(i: number): Buffer {
    const off = this.#word(i, OFFSET);
    return this.#area.subarray(off, off + this.#word(i, LENGTH));
  }
  /** Where the packet starts in area(), and how many bytes were copied (for zero-copy parsers). */
  offset(i: number): number { return this.#word(i, OFFSET); }
  copiedLength(i: number): number { return this.#word(i, LENGTH); }
  area(): Buffer { return this.#area; }
  originalLength(i: number): number { return this.#word(i, ORIG_LENGTH); }
  mark(i: number): number { return this.#word(i, MARK); }
  inputInterface(i: number): number { return this.#word(i, INDEV); }
  outputInterface(i: number): number { return this.#word(i, OUTDEV); }
  hwProtocol(i: number): number { return this.#word(i, INFO) & ((1 << HOOK_SHIFT) - 1); }
  /** Netfilter hook: 0 prerouting, 1 input, 2 forward, 3 output, 4 postrouting. */
  hook(i: number): number { return (this.#word(i, INFO) >>> HOOK_SHIFT) & ((1 << (FLAGS_SHIFT - HOOK_SHIFT)) - 1); }
  flags(i: number): number { return this.#word(i, INFO) >>> FLAGS_SHIFT; }
  has(i: number, flag: number): boolean { return (this.flags(i) & flag) !== 0; }

  // Each packet is decided once: a second decision throws (the first stands).
  accept(i: number): void { this.#codes[this.#undecided(i)] = Code.ACCEPT; }
  drop(i: number): void { this.#codes[this.#undecided(i)] = Code.DROP; }
  /** Keeps the packet queued past this batch; its verdict must come later (PacketQueue.verdict),
   *  once the handler has returned. */
  hold(i: number): PacketRef {
    this.#codes[this.#undecided(i)] = Code.HELD;
    return this.ref(i);
  }
  /** Accepts now with a new mark and/or a replacement packet. */
  acceptWith(i: number, opts: VerdictOptions): void {
    this.acceptInBatch(this.#undecided(i), opts);
  }
  /** Whether the handler decided packet i (else the queue's fallback applies). */
  decided(i: number): boolean { return this.#codes[this.#check(i)] !== Code.DEFAULT; }

  #undecided(i: number): number {
    const code = this.#codes[this.#check(i)];
    if (code !== Code.DEFAULT) throw new Error(`packet ${i} of the batch is already decided (${DECISION[code]}); a packet gets one verdict`);
    return i;
  }
  #word(i: number, w: number): number { return this.#meta[this.#check(i) * WORDS + w]; }
  #check(i: number): number {
    if (!(i >= 0 && i < this.length && Number.isInteger(i))) throw new RangeError(`packet index ${i} outside the batch of ${this.length}`);
    return i;
  }
}

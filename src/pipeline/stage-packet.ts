// One queued packet as the stages see it: one object, reused for every packet of every batch.
// The packet is parsed on the first parse() and the result kept for the later stages.
import type { PacketBatch, PacketRef } from '../nfq/batch.js';
import { ParsedPacket, parsePacket } from '../packet/packet.js';

/** Decisions counted per stage, in this order. */
export const DECISIONS = ['accept', 'drop', 'hold', 'replace'] as const;
const [ACCEPT, DROP, HOLD, REPLACE] = [0, 1, 2, 3];

export class StagePacket {
  #batch: PacketBatch | null = null;
  #index = 0;
  #parsed = new ParsedPacket();
  #parseResult = -1;   // -1: not parsed yet, else 0 or a packet Reason
  /** decisions[stage * 4 + k]: how often each stage decided what (DECISIONS order) */
  decisions: Float64Array = new Float64Array(0);
  /** which stage is being offered the packet */
  stage = 0;
  /** set by the pipeline: the stage may hold local packets, and what to do the first time */
  mayHoldLocal = false;
  onLocalHold: () => void = () => undefined;

  /** Points at packet i of a batch. */
  reset(batch: PacketBatch, index: number): void {
    this.#batch = batch;
    this.#index = index;
    this.#parseResult = -1;
  }

  get batch(): PacketBatch { return this.#batch!; }
  get index(): number { return this.#index; }
  get ref(): PacketRef { return this.#batch!.ref(this.#index); }
  /** The IP packet's bytes: valid until the batch ends. */
  get bytes(): Buffer { return this.#batch!.packet(this.#index); }
  /** Sent by a socket of this host (it came in on no interface). */
  get local(): boolean { return this.#batch!.inputInterface(this.#index) === 0; }
  get decided(): boolean { return this.#batch!.decided(this.#index); }

  /** The packet parsed (IP, and TCP or ICMP when they follow); null when it does not parse. */
  parse(): ParsedPacket | null {
    if (this.#parseResult < 0) {
      const b = this.#batch!;
      this.#parseResult = parsePacket(b.area(), this.#parsed, b.offset(this.#index), b.copiedLength(this.#index));
    }
    return this.#parseResult === 0 ? this.#parsed : null;
  }

  /** Why the packet did not parse (a packet Reason), or 0. */
  parseError(): number {
    this.parse();
    return this.#parseResult;
  }

  accept(): void {
    this.#batch!.accept(this.#index);
    this.decisions[this.stage * 4 + ACCEPT]++;
  }

  drop(): void {
    this.#batch!.drop(this.#index);
    this.decisions[this.stage * 4 + DROP]++;
  }

  /** Keeps the packet queued past the batch; release it later through StageContext.release. */
  hold(): PacketRef {
    if (this.local) {
      if (!this.mayHoldLocal) throw new Error('a stage may not hold a packet of this host\'s own sockets (TCP Small Queues)');
      this.onLocalHold();
    }
    const ref = this.#batch!.hold(this.#index);
    this.decisions[this.stage * 4 + HOLD]++;
    return ref;
  }

  /** Accepts it with a new mark and/or as other bytes (whole, checksums right, same length for conntrack). */
  replace(opts: { mark?: number; packet?: Uint8Array }): void {
    this.#batch!.acceptWith(this.#index, opts);
    this.decisions[this.stage * 4 + REPLACE]++;
  }
}

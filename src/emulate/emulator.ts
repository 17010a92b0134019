// The link emulator's packet path: each queued packet is dropped or held by the LinkModel's
// decision and released, in arrival order, when its time comes. One timer, for the head of a
// FIFO, since release times never decrease.
import type { PacketBatch, PacketRef } from '../nfq/batch.js';
import { PacketQueue, type PacketQueueStats, type QueueOptions } from '../nfq/queue.js';
import { LinkModel, type LinkSettings, type LinkStats } from './link-model.js';

// Node timers fire on whole milliseconds: a packet due within half of one leaves now.
const EARLY_MS = 0.5;

export class Emulator {
  readonly model: LinkModel;
  readonly queue: PacketQueue;
  #refs: PacketRef[] = [];
  #due: number[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | null = null;
  #timerDue = Infinity;

  #onLocalPacket: (() => void) | null;

  /** onLocalPacket: told once when a packet of this host's own sockets is queued. */
  constructor(settings: LinkSettings, queue: QueueOptions, random: () => number = Math.random, onLocalPacket?: () => void) {
    this.model = new LinkModel(settings, random);
    this.#onLocalPacket = onLocalPacket ?? null;
    this.queue = new PacketQueue(queue, (batch) => this.#admit(batch));
  }

  get waiting(): number {
    return this.#refs.length - this.#head;
  }

  stats(): { link: LinkStats; queue: PacketQueueStats } {
    return { link: this.model.stats, queue: this.queue.stats() };
  }

  /** Releases everything held at once (the queue accepts it) and unbinds. */
  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.queue.close();
  }

  #admit(batch: PacketBatch): void {
    const now = performance.now();
    for (let i = 0; i < batch.length; i++) {
      // Only this host's own packets come without an input interface.
      if (this.#onLocalPacket && batch.inputInterface(i) === 0) {
        this.#onLocalPacket();
        this.#onLocalPacket = null;
      }
      const fate = this.model.admit(now, batch.originalLength(i));
      if (typeof fate === 'string') batch.drop(i);
      else if (fate <= now + EARLY_MS && this.waiting === 0) batch.accept(i);
      else this.#hold(batch.hold(i), fate);
    }
    this.#schedule();
  }

  #hold(ref: PacketRef, due: number): void {
    this.#refs.push(ref);
    this.#due.push(due);
  }

  #release = (): void => {
    this.#timer = null;
    this.#timerDue = Infinity;
    const limit = performance.now() + EARLY_MS;
    while (this.#head < this.#refs.length && this.#due[this.#head] <= limit) {
      this.queue.verdict(this.#refs[this.#head], true);
      this.#head++;
    }
    if (this.#head > 4096 && this.#head * 2 > this.#refs.length) {
      this.#refs = this.#refs.slice(this.#head);
      this.#due = this.#due.slice(this.#head);
      this.#head = 0;
    }
    this.#schedule();
  };

  #schedule(): void {
    if (this.waiting === 0 || this.queue.closed) return;
    const due = this.#due[this.#head];
    if (this.#timer && this.#timerDue <= due) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(this.#release, Math.max(0, due - performance.now()));
  }
}

// The link emulator as a packet stage: each packet is dropped or held by the LinkModel's decision
// and released, in arrival order, when its time comes. One timer, for the head of a FIFO, since
// release times never decrease.
import type { ReloadOutcome } from '../host/component.js';
import type { PacketRef } from '../nfq/batch.js';
import { LatenessHistogram, type LatenessSnapshot } from '../pipeline/lateness-histogram.js';
import type { PacketStage, StageContext } from '../pipeline/stage.js';
import type { StagePacket } from '../pipeline/stage-packet.js';
import { formatLinkStats, LinkModel, type LinkSettings, type LinkStats } from './link-model.js';

// Node timers fire on whole milliseconds: a packet due within half of one leaves now.
const EARLY_MS = 0.5;

export class EmulatorStage implements PacketStage<LinkSettings> {
  readonly name = 'emulate';
  /** Delaying is what it is for; the pipeline warns once about TCP Small Queues. */
  readonly holdsLocal = true;
  readonly model: LinkModel;
  readonly #settings: LinkSettings;
  #release: StageContext['release'] = () => {
    throw new Error('emulator: not attached to a pipeline');
  };
  #refs: PacketRef[] = [];
  #due: number[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | null = null;
  #timerDue = Infinity;
  #closed = false;
  readonly #lateness = new LatenessHistogram();

  constructor(settings: LinkSettings, random: () => number = Math.random) {
    this.#settings = settings;
    this.model = new LinkModel(settings, random);
  }

  get waiting(): number {
    return this.#refs.length - this.#head;
  }

  get stats(): LinkStats {
    return this.model.stats;
  }

  attach(ctx: StageContext): void {
    this.#release = ctx.release;
  }

  describe(): string {
    const s = this.#settings;
    const parts = [`delay ${s.delayMs} ms${s.jitterMs > 0 ? ` ± ${s.jitterMs} ms` : ''}`, `loss ${s.lossPercent}%`];
    if (s.burst) parts.push(`burst enter ${s.burst.enter} exit ${s.burst.exit}`);
    if (s.rateMbit !== null) parts.push(`rate ${s.rateMbit} Mbit/s, limit ${s.limit} packets`);
    return parts.join(', ');
  }

  onPacket(p: StagePacket): void {
    const now = performance.now();
    const fate = this.model.admit(now, p.batch.originalLength(p.index));
    if (typeof fate === 'string') p.drop();
    else if (fate <= now + EARLY_MS && this.waiting === 0) p.accept();
    else {
      this.#refs.push(p.hold());
      this.#due.push(fate);
    }
  }

  onBatchEnd(): void {
    this.#schedule();
  }

  /** Its settings come from the command line: a change needs a restart. */
  reload(next: LinkSettings | null): ReloadOutcome {
    const changed = next !== null && JSON.stringify(next) !== JSON.stringify(this.#settings);
    return { applied: [], needRestart: changed ? ['delay/jitter/loss/burst/rate/limit'] : [] };
  }

  lateness(): LatenessSnapshot {
    return this.#lateness.snapshot();
  }

  report(): string[] {
    return formatLinkStats(this.model.stats);
  }

  /** Stops the timer; the queue, closing next, accepts everything still held. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #releaseDue = (): void => {
    this.#lateness.record(performance.now() - this.#timerDue);
    this.#timer = null;
    this.#timerDue = Infinity;
    const limit = performance.now() + EARLY_MS;
    while (this.#head < this.#refs.length && this.#due[this.#head] <= limit) {
      this.#release(this.#refs[this.#head], true);
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
    if (this.waiting === 0 || this.#closed) return;
    const due = this.#due[this.#head];
    if (this.#timer && this.#timerDue <= due) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(this.#releaseDue, Math.max(0, due - performance.now()));
  }
}

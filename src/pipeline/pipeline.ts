// One NFQUEUE binding (a queue or a balanced range) feeding an ordered list of stages. Each packet
// is offered to the stages in order until one decides it; a stage that throws on a packet is
// counted and the packet goes on to the next stage, so one bad packet costs no other packet its
// verdict. What no stage decides gets the queue's fallback verdict.
import type { Logger } from '../log/logger.js';
import type { PacketBatch, PacketRef } from '../nfq/batch.js';
import { PacketQueue, type PacketQueueStats, type QueueOptions } from '../nfq/queue.js';
import type { Registry } from 'prom-client';
import type { LatenessSnapshot } from './lateness-histogram.js';
import type { PacketStage, StageContext } from './stage.js';
import { DECISIONS, StagePacket } from './stage-packet.js';

export interface PipelineServices {
  logger: Logger;
  registry: Registry;
  injectionMark: number;
}

export interface StageCounts {
  stage: string;
  decisions: Record<(typeof DECISIONS)[number], number>;
  errors: number;
}

const TSQ_WARNING = 'packets of this host\'s own sockets are held; while held they count against TCP Small Queues, ' +
  'which throttles those connections to a few packets per delay. Run it on a host that only forwards.';

export class Pipeline {
  readonly queue: PacketQueue;
  readonly stages: readonly PacketStage[];
  readonly #packet = new StagePacket();
  readonly #errors: Float64Array;
  readonly #logger: Logger;
  #closed = false;

  /** Binds the queue (throws the bind error) and attaches the stages. */
  constructor(stages: readonly PacketStage[], queue: QueueOptions, services: PipelineServices) {
    this.stages = stages;
    this.#logger = services.logger;
    this.#errors = new Float64Array(stages.length);
    this.#packet.decisions = new Float64Array(stages.length * DECISIONS.length);
    this.#packet.onLocalHold = () => {
      this.#packet.onLocalHold = () => undefined;
      this.#logger.warn(`packet pipeline: ${TSQ_WARNING}`);
    };
    const onHandlerError = queue.onHandlerError ?? ((err: unknown) => this.#logger.error(`packet pipeline: ${String(err)}`));
    const gso = queue.gso ?? (stages.length > 0 && stages.every((s) => s.acceptsGso === true));
    const failOpen = queue.failOpen ?? (stages.length > 0 && stages.every((s) => s.missesSafely === true));
    this.queue = new PacketQueue({ ...queue, gso, failOpen, onHandlerError }, (batch) => this.#onBatch(batch));
    const ctx: StageContext = {
      logger: services.logger,
      registry: services.registry,
      injectionMark: services.injectionMark,
      release: (ref: PacketRef, accept: boolean, opts?: { mark?: number; packet?: Uint8Array }) => this.queue.verdict(ref, accept, opts),
    };
    try {
      for (const s of stages) s.attach?.(ctx);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  #onBatch(batch: PacketBatch): void {
    const p = this.#packet;
    const stages = this.stages;
    for (let i = 0; i < batch.length; i++) {
      p.reset(batch, i);
      for (let s = 0; s < stages.length && !p.decided; s++) {
        p.stage = s;
        p.mayHoldLocal = stages[s].holdsLocal === true;
        try {
          stages[s].onPacket(p);
        } catch (err) {
          this.#stageError(s, err);
        }
      }
    }
    for (let s = 0; s < stages.length; s++) {
      try {
        stages[s].onBatchEnd?.();
      } catch (err) {
        this.#stageError(s, err);
      }
    }
  }

  #stageError(s: number, err: unknown): void {
    // The first few go to the log; the count goes on in the metrics.
    if (this.#errors[s]++ < 10) this.#logger.error(`packet stage ${this.stages[s].name}: ${(err as Error)?.stack ?? String(err)}`);
  }

  counts(): StageCounts[] {
    const d = this.#packet.decisions;
    return this.stages.map((stage, s) => ({
      stage: stage.name,
      decisions: Object.fromEntries(DECISIONS.map((name, k) => [name, d[s * DECISIONS.length + k]])) as StageCounts['decisions'],
      errors: this.#errors[s],
    }));
  }

  /** The lateness of the stages that keep timers. */
  lateness(): Array<{ stage: string; lateness: LatenessSnapshot }> {
    return this.stages.flatMap((s) => (s.lateness ? [{ stage: s.name, lateness: s.lateness() }] : []));
  }

  stats(): PacketQueueStats {
    return this.queue.stats();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stages release what they hold, then the queue accepts what is left and unbinds. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.stages) s.close();
    const failure = this.queue.close();
    if (failure) this.#logger.error(`packet pipeline: ${failure.message}`);
  }
}

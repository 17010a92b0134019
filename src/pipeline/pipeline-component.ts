// The packet pipeline as a component of the host: binds its queue at start (a bind failure is a
// StartupError with a stable code), registers its metrics, hands reloads to its stages, and on
// drain releases what its stages hold and unbinds without losing a packet.
import { StartupError, TiError } from '../errors.js';
import type { Component, HostContext, ReloadOutcome } from '../host/component.js';
import { registerPipelineMetrics } from '../metrics/pipeline-metrics.js';
import { describeQueues, type PacketQueueStats, type QueueRange } from '../nfq/queue.js';
import { Pipeline } from './pipeline.js';
import type { PacketStage } from './stage.js';

export interface PipelineOptions {
  queue: QueueRange;
  /** packets the kernel may hold for us */
  maxLen: number;
  /** SO_MARK of injected packets; the queue rules skip packets that carry it */
  injectionMark: number;
  /** each stage's own options, by stage name, for reload */
  stages?: Readonly<Record<string, unknown>>;
}

/** The kernel's refusals, as a user should read them. */
export function queueBindError(err: unknown, queue: QueueRange): StartupError {
  const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
  const message = `${describeQueues(queue)}: ${(err as Error).message}`;
  if (code === 'EPERM') return new StartupError(`${message} (needs CAP_NET_ADMIN)`, 'TI_ERR_QUEUE_PERMISSION');
  if (code === 'EBUSY') return new StartupError(message, 'TI_ERR_QUEUE_BUSY');
  return new StartupError(message, 'TI_ERR_QUEUE_BIND');
}

function queueLine(q: PacketQueueStats): string {
  const k = q.kernel;
  const kernel = k ? `, kernel dropped ${k.queueDropped} at a full queue and ${k.userDropped} at a full socket` : '';
  return `queue: ${q.packets} packets received, ${q.enobufs} ENOBUFS${kernel}`;
}

export class PipelineComponent implements Component<PipelineOptions> {
  readonly name = 'pipeline';
  readonly #options: PipelineOptions;
  readonly #stages: readonly PacketStage[];
  #pipeline: Pipeline | null = null;
  #finalReport: string | null = null;

  constructor(options: PipelineOptions, stages: readonly PacketStage[]) {
    this.#options = options;
    this.#stages = stages;
  }

  start(ctx: HostContext): void {
    const { queue, maxLen, injectionMark } = this.#options;
    try {
      this.#pipeline = new Pipeline(this.#stages, { queue, maxLen }, { logger: ctx.logger, registry: ctx.registry, injectionMark });
    } catch (err) {
      throw err instanceof TiError ? err : queueBindError(err, queue);
    }
    registerPipelineMetrics(ctx.registry, () => (this.#pipeline?.closed === false ? this.#pipeline : null));
  }

  describe(): string {
    return `${describeQueues(this.#options.queue)}: ${this.#stages.map((s) => `${s.name} ${s.describe()}`).join('; ')}`;
  }

  status(): string {
    const p = this.#pipeline;
    return `${describeQueues(this.#options.queue)}: ${p && !p.closed ? p.stats().packets : 0} packets`;
  }

  reload(next: PipelineOptions | null): ReloadOutcome {
    const o = this.#options;
    const changed: Array<[string, boolean]> = [
      ['queue', next === null || next.queue.first !== o.queue.first || next.queue.last !== o.queue.last],
      ['queue-maxlen', next !== null && next.maxLen !== o.maxLen],
      ['injection-mark', next !== null && next.injectionMark !== o.injectionMark],
    ];
    const outcomes = this.#stages.map((s) => s.reload?.(next?.stages?.[s.name] ?? null) ?? { applied: [], needRestart: [] });
    return {
      applied: outcomes.flatMap((r) => r.applied),
      needRestart: [...changed.filter(([, c]) => c).map(([name]) => name), ...outcomes.flatMap((r) => r.needRestart)],
    };
  }

  /** Packets are not work in flight: the stages let go of what they hold at once. */
  drain(): Promise<void> {
    this.#finalReport = this.#report();
    this.close();
    return Promise.resolve();
  }

  close(): void {
    this.#pipeline?.close();
  }

  report(): string {
    return this.#finalReport ?? this.#report();
  }

  #report(): string {
    const p = this.#pipeline;
    if (!p || p.closed) return '';
    return [...this.#stages.flatMap((s) => s.report?.() ?? []), queueLine(p.stats())].join('\n');
  }
}

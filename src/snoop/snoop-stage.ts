// SKELETON (being replaced by the real stage before this lands): the interface the commands use.
import type { ReloadOutcome } from '../host/component.js';
import { registerSnoopMetrics } from '../metrics/snoop-metrics.js';
import type { LatenessSnapshot } from '../pipeline/lateness-histogram.js';
import type { PacketStage, StageContext } from '../pipeline/stage.js';
import type { StagePacket } from '../pipeline/stage-packet.js';
import type { SnoopCounters, SnoopSettings } from './snoop-settings.js';

export class SnoopStage implements PacketStage<SnoopSettings> {
  readonly name = 'snoop';
  #settings: SnoopSettings;

  constructor(settings: SnoopSettings) {
    this.#settings = settings;
  }

  attach(ctx: StageContext): void {
    registerSnoopMetrics(ctx.registry, () => this.counters());
  }

  onPacket(p: StagePacket): void {
    void p;
  }

  describe(): string {
    return `lossy side ${this.#settings.interfaces.join(', ')}`;
  }

  /** Tuning applies at once; the interfaces need a restart. */
  reload(next: SnoopSettings | null): ReloadOutcome {
    void next;
    return { applied: [], needRestart: [] };
  }

  counters(): SnoopCounters {
    return { localRetransmits: 0, dupacksSuppressed: 0, timeouts: 0, flows: 0, cacheBytes: 0, evictions: { idle: 0, cap: 0, memory: 0 }, uncached: 0, injectFailures: 0 };
  }

  report(): string[] {
    return [];
  }

  lateness(): LatenessSnapshot {
    return { count: 0 } as unknown as LatenessSnapshot;
  }

  close(): void {}
}

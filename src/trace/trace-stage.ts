// Trace as a packet stage: the TCP of traced flows and the ICMP errors about them go to the
// TraceEngine; the stage drops only the answers to its probes and decides nothing else (every
// original packet goes on, to later stages and out). Probes leave on a raw socket with the
// injection mark, from the engine's timer.
import type { ReloadOutcome } from '../host/component.js';
import { openInjector, type Injector } from '../inject/injector.js';
import { registerTraceMetrics } from '../metrics/trace-metrics.js';
import { Transport } from '../packet/packet.js';
import { DeadlineScheduler } from '../pipeline/deadlines.js';
import type { LatenessSnapshot } from '../pipeline/lateness-histogram.js';
import type { PacketStage, StageContext } from '../pipeline/stage.js';
import type { StagePacket } from '../pipeline/stage-packet.js';
import { TraceEngine, type TraceCounters, type TraceRequest } from './trace-engine.js';
import type { TraceSettings } from './trace-settings.js';

/** A probe is as urgent as a retransmission (snoop's priority). */
const PROBE_PRIORITY = 6;

export interface TraceStageOptions {
  probesPerSecond: number;
  /** sends a whole IP packet (null when sent, else the errno code); default: a raw-socket Injector */
  send?: (packet: Buffer) => string | null;
}

export class TraceStage implements PacketStage<TraceSettings> {
  readonly name = 'trace';
  /** Only headers are read and copied: GSO packets are as good as any. */
  readonly acceptsGso = true;
  /** A packet it does not see is one less to read: the flow must not lose it. */
  readonly missesSafely = true;
  readonly #options: TraceStageOptions;
  readonly #timer = new DeadlineScheduler<TraceStage>({ onDue: () => this.#tick() });
  #handle = -1;
  #injector: Injector | null = null;
  #engine: TraceEngine | null = null;
  readonly #waiting: Array<TraceRequest> = [];

  constructor(options: TraceStageOptions) {
    this.#options = options;
  }

  attach(ctx: StageContext): void {
    let send = this.#options.send;
    if (!send) {
      const injector = this.#injector = openInjector({ mark: ctx.injectionMark, priority: PROBE_PRIORITY }, 'trace: raw sockets for its probes');
      send = (packet) => injector.send(packet);
    }
    this.#engine = new TraceEngine({ send, probesPerSecond: this.#options.probesPerSecond });
    registerTraceMetrics(ctx.registry, () => this.counters());
    for (const r of this.#waiting.splice(0)) this.request(r);
  }

  /** Traces <request>'s destination on the first live flow to it; returns a cancel function. */
  request(request: TraceRequest): () => void {
    if (this.#engine === null) {
      this.#waiting.push(request);
      return () => this.#waiting.splice(this.#waiting.indexOf(request) >>> 0, 1);
    }
    const cancel = this.#engine.request(request, performance.now());
    this.#arm();
    return () => {
      cancel();
      this.#arm();
    };
  }

  onPacket(p: StagePacket): void {
    const engine = this.#engine;
    if (engine === null || engine.waiting === 0) return;
    const parsed = p.parse();
    if (parsed === null) return;
    const now = performance.now();
    if (parsed.transport === Transport.TCP) {
      // This box's own sockets: leaving them (no input interface) or arriving (no output interface).
      const local = p.local || p.batch.outputInterface(p.index) === 0;
      const verdict = engine.onTcp(parsed, local, now);
      if (verdict === 'drop') p.drop();
      else if (verdict !== 'pass') p.replace({ packet: verdict });
    } else if (parsed.transport === Transport.ICMP) {
      if (engine.onIcmp(parsed, now) === 'drop') p.drop();
    }
  }

  onBatchEnd(): void {
    if (this.#engine && this.#engine.waiting > 0) this.#tick();
  }

  describe(): string {
    return `parasitic traceroute (at most ${this.#options.probesPerSecond} probes/s)`;
  }

  reload(): ReloadOutcome {
    return { applied: [], needRestart: [] };
  }

  counters(): TraceCounters | null {
    return this.#engine?.counters ?? null;
  }

  report(): string[] {
    const c = this.counters();
    return c ? [`trace: ${c.probes} probes, ${c.answers} answers`] : [];
  }

  lateness(): LatenessSnapshot {
    return this.#timer.lateness();
  }

  close(): void {
    this.#timer.close();
    this.#engine?.stop();
    this.#injector?.close();
  }

  #tick(): void {
    this.#handle = -1;
    this.#engine?.tick(performance.now());
    this.#arm();
  }

  #arm(): void {
    if (this.#handle >= 0) this.#timer.cancel(this.#handle);
    this.#handle = -1;
    const wake = this.#engine?.nextWake(performance.now()) ?? Infinity;
    if (wake !== Infinity) this.#handle = this.#timer.schedule(wake, this);
  }
}

// Snoop as a packet stage: forwarded TCP packets going out of or coming in on the lossy
// interface(s) go to the SnoopEngine; it drops the duplicate ACKs it recovers locally and leaves
// every other packet to the stages after it (the queue accepts what nobody decides). Local
// retransmissions leave on a raw socket with the injection mark and a high SO_PRIORITY.
import { changedOptions, type ReloadOutcome } from '../host/component.js';
import { openInjector, type Injector } from '../inject/injector.js';
import { registerSnoopMetrics } from '../metrics/snoop-metrics.js';
import { PacketFlag } from '../nfq/batch.js';
import { Transport } from '../packet/packet.js';
import { DeadlineScheduler } from '../pipeline/deadlines.js';
import type { LatenessSnapshot } from '../pipeline/lateness-histogram.js';
import type { PacketStage, StageContext } from '../pipeline/stage.js';
import type { StagePacket } from '../pipeline/stage-packet.js';
import { InterfaceSet, type InterfaceLookup } from './interface-index.js';
import { SnoopEngine, type SnoopPacket } from './snoop-engine.js';
import type { SnoopFlow } from './snoop-flow.js';
import { noCounters, type SnoopCounters, type SnoopSettings } from './snoop-settings.js';

/** TC_PRIO_INTERACTIVE, the highest SO_PRIORITY a socket may take without CAP_NET_ADMIN. */
const RETRANSMIT_PRIORITY = 6;
const REFRESH_INTERFACES_MS = 5000;
const MIB = 1024 * 1024;

export interface SnoopStageDeps {
  interfaces?: InterfaceLookup;
  /** sends a whole IP packet (null when sent, else the errno code); default: a raw-socket Injector */
  send?: (packet: Buffer) => string | null;
}

function size(bytes: number): string {
  return bytes >= MIB ? `${+(bytes / MIB).toFixed(1)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

export class SnoopStage implements PacketStage<SnoopSettings> {
  readonly name = 'snoop';
  /** GSO packets are cached whole and cut into wire-size segments only to be sent again. */
  readonly acceptsGso = true;
  /** A segment it does not see is only not cached: the end hosts recover it, as without snoop. */
  readonly missesSafely = true;
  #settings: SnoopSettings;
  readonly #lossy: InterfaceSet;
  readonly #deps: SnoopStageDeps;
  readonly #timers: DeadlineScheduler<SnoopFlow>;
  #injector: Injector | null = null;
  #engine: SnoopEngine | null = null;
  readonly #packet: SnoopPacket = { parsed: null as unknown as SnoopPacket['parsed'], towardMobile: false, truncated: false, checksumNotReady: false };
  #now = -1;
  #refreshedAt = 0;

  constructor(settings: SnoopSettings, deps: SnoopStageDeps = {}) {
    this.#settings = settings;
    this.#deps = deps;
    this.#lossy = new InterfaceSet(settings.interfaces, deps.interfaces);
    this.#timers = new DeadlineScheduler<SnoopFlow>({ onDue: (flow) => this.#engine?.onTimer(flow, performance.now()) });
  }

  attach(ctx: StageContext): void {
    let send = this.#deps.send;
    if (!send) {
      const injector = this.#injector = openInjector({ mark: ctx.injectionMark, priority: RETRANSMIT_PRIORITY }, 'snoop: raw sockets for its retransmissions');
      send = (packet) => injector.send(packet);
    }
    this.#engine = new SnoopEngine({ settings: this.#settings, send, timers: this.#timers, logger: ctx.logger });
    this.#engine.mtu = this.#lossy.mtu;
    registerSnoopMetrics(ctx.registry, () => this.counters());
    if (this.#lossy.missing.length > 0) {
      ctx.logger.warn(`snoop: no interface ${this.#lossy.missing.join(', ')} yet; looking for it every ${REFRESH_INTERFACES_MS / 1000} s`);
    }
    this.#refreshedAt = performance.now();
  }

  onPacket(p: StagePacket): void {
    if (p.local || this.#engine === null) return;
    const parsed = p.parse();
    if (parsed === null || parsed.transport !== Transport.TCP) return;
    const b = p.batch, i = p.index;
    const toward = this.#lossy.has(b.outputInterface(i));
    if (toward === this.#lossy.has(b.inputInterface(i))) return;
    const sp = this.#packet;
    sp.parsed = parsed;
    sp.towardMobile = toward;
    sp.truncated = b.has(i, PacketFlag.TRUNCATED);
    sp.checksumNotReady = b.has(i, PacketFlag.CHECKSUM_NOT_READY);
    if (this.#now < 0) this.#now = performance.now();
    if (!this.#engine.decide(sp, this.#now)) p.drop();
  }

  onBatchEnd(): void {
    const now = this.#now < 0 ? performance.now() : this.#now;
    this.#now = -1;
    this.#engine?.expire(now);
    if (now - this.#refreshedAt >= REFRESH_INTERFACES_MS) {
      this.#refreshedAt = now;
      this.#lossy.refresh();
      if (this.#engine) this.#engine.mtu = this.#lossy.mtu;
    }
  }

  describe(): string {
    const s = this.#settings;
    return `lossy side ${s.interfaces.join(', ')} (cache ${size(s.cacheBytes)}, ${size(s.flowCacheBytes)} per flow, ` +
      `local RTO at least ${s.minRtoMs} ms, at most ${s.maxRetransmits} local retransmissions per segment)`;
  }

  /** Cache limits, the RTO floor and the retransmission limit apply at once; the interfaces need a restart. */
  reload(next: SnoopSettings | null): ReloadOutcome {
    if (next === null) return { applied: [], needRestart: ['snoop-interface'] };
    const s = this.#settings;
    const needRestart = changedOptions([['snoop-interface', s.interfaces, next.interfaces]]);
    const applied = changedOptions([
      ['snoop-cache-size', s.cacheBytes, next.cacheBytes],
      ['snoop-flow-cache', s.flowCacheBytes, next.flowCacheBytes],
      ['snoop-min-rto', s.minRtoMs, next.minRtoMs],
      ['snoop-max-retransmits', s.maxRetransmits, next.maxRetransmits],
    ]);
    this.#settings = { ...next, interfaces: s.interfaces };
    this.#engine?.configure(this.#settings);
    return { applied, needRestart };
  }

  counters(): SnoopCounters {
    return this.#engine?.counters ?? noCounters();
  }

  report(): string[] {
    const c = this.counters(), e = c.evictions;
    const failed = this.#injector ? Object.entries(this.#injector.failed).map(([code, n]) => `${n} ${code}`).join(', ') : '';
    return [
      `snoop: ${c.localRetransmits} local retransmissions (${c.timeouts} on the local timer), ${c.dupacksSuppressed} duplicate ACKs kept from the sender`,
      `snoop: ${c.flows} flows followed now, ${size(c.cacheBytes)} cached; ${c.uncached} segments not cached; flows forgotten: ${e.idle} idle, ${e.cap} over the flow cap, ${e.memory} for memory`,
      ...(c.injectFailures > 0 ? [`snoop: ${c.injectFailures} retransmissions refused by the raw socket${failed ? ` (${failed})` : ''}`] : []),
    ];
  }

  lateness(): LatenessSnapshot {
    return this.#timers.lateness();
  }

  close(): void {
    this.#timers.close();
    this.#engine?.clear();
    this.#injector?.close();
  }
}

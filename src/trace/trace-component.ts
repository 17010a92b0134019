// Trace in the service: runs traces on request (the control socket's `trace`, for `tcp-intercept
// trace DEST`) and, with --trace, one destination after another: the proxy's busy servers and
// --trace-destination, each again after --trace-interval, with route changes logged and counted.
// The queue rules follow the destinations being traced: trace's own rule set, rewritten as they
// come and go, never the pipeline's.
import { appendFileSync } from 'node:fs';
import type { Component, HostContext, ReloadOutcome } from '../host/component.js';
import { changedOptions } from '../host/component.js';
import type { Logger } from '../log/logger.js';
import type { TraceService } from '../config/trace-options.js';
import { registerRouteChangeMetric } from '../metrics/trace-metrics.js';
import { parseDestination, type Destination } from './destination.js';
import type { TraceRequest } from './trace-engine.js';
import type { DoneRecord, HopRecord, TraceRecord } from './trace-records.js';
import { TRACE_DEFAULTS } from './trace-settings.js';
import type { TraceStage } from './trace-stage.js';

export interface TraceComponentDeps {
  stage: TraceStage;
  /** makes the queue rules queue the TCP of exactly these addresses (none: no rules) */
  queueAddresses: (addresses: string[]) => Promise<void>;
  /** the proxy's servers, sampled, when a proxy runs in this process */
  watchTargets?: (watch: (address: string) => void) => void;
}

export type TraceAsk = Omit<TraceRequest, 'destination' | 'destinationText'> & { destination: Destination };

/** How long a continuous trace waits for a live flow to its destination. */
const CONTINUOUS_WAIT_MS = 10_000;
/** How often the continuous schedule looks for a destination due. */
const SCHEDULE_EVERY_MS = 2_000;
/** Busy servers remembered for the schedule. */
const MAX_TARGETS = 1024;

export class TraceComponent implements Component<TraceService> {
  readonly name = 'trace';
  #options: TraceService;
  readonly #deps: TraceComponentDeps;
  #logger: Logger | null = null;
  readonly #addresses = new Map<string, number>();
  #rules: Promise<void> = Promise.resolve();
  readonly #cancels = new Set<() => void>();
  /** proxy servers seen, by address: how often */
  readonly #targets = new Map<string, number>();
  /** when each destination was last traced, and its hops then */
  readonly #last = new Map<string, { at: number; hops: Array<string | null> }>();
  #timer: NodeJS.Timeout | null = null;
  #busy = false;
  #stopped = false;
  routeChanges = 0;

  constructor(options: TraceService, deps: TraceComponentDeps) {
    this.#options = options;
    this.#deps = deps;
  }

  start(ctx: HostContext): void {
    this.#logger = ctx.logger;
    registerRouteChangeMetric(ctx.registry, () => this.routeChanges);
    this.#deps.watchTargets?.((address) => {
      if (this.#targets.size < MAX_TARGETS || this.#targets.has(address)) this.#targets.set(address, (this.#targets.get(address) ?? 0) + 1);
    });
    this.#timer = setInterval(() => this.#scheduleNext(), SCHEDULE_EVERY_MS).unref();
  }

  /** Traces one destination; records go to <ask>.onRecord (the done record last). Returns a cancel function. */
  async trace(ask: TraceAsk): Promise<() => void> {
    if (this.#stopped) throw new Error('trace: the service is stopping');
    const address = ask.destination.text;
    await this.#hold(address);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#cancels.delete(cancel);
      void this.#release(address);
    };
    const cancelStage = this.#deps.stage.request({
      ...ask, destination: ask.destination.bytes, destinationText: address,
      onRecord: (r) => {
        ask.onRecord(r);
        if (r.type === 'done') release();
      },
    });
    const cancel = (): void => {
      cancelStage();
      release();
    };
    this.#cancels.add(cancel);
    return cancel;
  }

  describe(): string {
    const o = this.#options;
    if (!o.continuous) return 'trace on request';
    const extra = o.destinations.length ? ` and ${o.destinations.join(', ')}` : '';
    return `trace of the proxy's servers${extra}, each every ${o.intervalMs / 1000} s${o.logFile ? `, to ${o.logFile}` : ''}`;
  }

  status(): string {
    return `trace: ${this.#last.size} destinations traced, ${this.routeChanges} route changes`;
  }

  reload(next: TraceService | null): ReloadOutcome {
    if (next === null) return { applied: [], needRestart: ['trace'] };
    const o = this.#options;
    const applied = changedOptions([
      ['trace', o.continuous, next.continuous], ['trace-destination', o.destinations, next.destinations],
      ['trace-interval', o.intervalMs, next.intervalMs], ['trace-log', o.logFile, next.logFile],
    ]);
    const needRestart = changedOptions([['trace-probes-per-second', o.probesPerSecond, next.probesPerSecond]]);
    this.#options = { ...next, probesPerSecond: o.probesPerSecond };
    return { applied, needRestart };
  }

  async drain(): Promise<void> {
    this.close();
    await this.#rules;
  }

  close(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const cancel of [...this.#cancels]) cancel();
  }

  /** The next destination due: the configured ones and the proxy's busiest servers, oldest trace first. */
  #due(now: number): string | null {
    const o = this.#options;
    const candidates = [...o.destinations, ...[...this.#targets.entries()].sort((a, b) => b[1] - a[1]).map(([a]) => a)];
    let best: string | null = null, bestAt = Infinity;
    for (const address of candidates) {
      const at = this.#last.get(address)?.at ?? -Infinity;
      if (now - at >= o.intervalMs && at < bestAt) {
        best = address;
        bestAt = at;
      }
    }
    return best;
  }

  #scheduleNext(): void {
    if (!this.#options.continuous || this.#busy || this.#stopped) return;
    const now = Date.now();
    const address = this.#due(now);
    const destination = address === null ? null : parseDestination(address);
    if (destination === null) return;
    this.#busy = true;
    this.#last.set(destination.text, { at: now, hops: this.#last.get(destination.text)?.hops ?? [] });
    const records: TraceRecord[] = [];
    this.trace({
      destination, port: 0, waitMs: CONTINUOUS_WAIT_MS,
      settings: TRACE_DEFAULTS,
      onRecord: (r) => {
        records.push(r);
        if (r.type === 'done') {
          this.#busy = false;
          this.#finished(destination.text, records);
        }
      },
    }).catch((err: unknown) => {
      this.#busy = false;
      this.#logger?.warn(`trace ${destination.text}: ${(err as Error).message}`);
    });
  }

  #finished(address: string, records: TraceRecord[]): void {
    const done = records[records.length - 1] as DoneRecord;
    const hops = records.filter((r): r is HopRecord => r.type === 'hop');
    if (this.#options.logFile) {
      try {
        appendFileSync(this.#options.logFile, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      } catch (err) {
        this.#logger?.warn(`trace: cannot write ${this.#options.logFile}: ${(err as Error).message}`);
      }
    }
    if (done.reason === 'no-flow') {
      this.#logger?.debug(`trace ${address}: no live flow within ${CONTINUOUS_WAIT_MS / 1000} s`);
      return;
    }
    const path = hops.map((h) => h.address ?? '*');
    this.#logger?.info(`trace ${address}: ${done.reason} after ${done.hops} hops in ${done.elapsedMs} ms: ${path.join(' ')}`);
    const before = this.#last.get(address)?.hops ?? [];
    const now = hops.map((h) => h.address);
    if (done.reached && before.length > 0 && changed(before, now)) {
      this.routeChanges++;
      this.#logger?.warn(`trace ${address}: the route changed: ${before.map((a) => a ?? '*').join(' ')} -> ${path.join(' ')}`);
    }
    if (done.reached) this.#last.set(address, { at: this.#last.get(address)?.at ?? Date.now(), hops: now });
  }

  async #hold(address: string): Promise<void> {
    const n = this.#addresses.get(address) ?? 0;
    this.#addresses.set(address, n + 1);
    if (n === 0) await this.#applyRules();
  }

  async #release(address: string): Promise<void> {
    const n = (this.#addresses.get(address) ?? 1) - 1;
    if (n > 0) {
      this.#addresses.set(address, n);
      return;
    }
    this.#addresses.delete(address);
    await this.#applyRules();
  }

  /** Rewrites the rules for the addresses held now, after any rewrite in progress. */
  #applyRules(): Promise<void> {
    this.#rules = this.#rules.catch(() => undefined).then(() => this.#deps.queueAddresses([...this.#addresses.keys()]));
    return this.#rules;
  }
}

/** A route differs when a hop that answered both times answered from another address, or the length changed. */
function changed(before: Array<string | null>, now: Array<string | null>): boolean {
  if (before.length !== now.length) return true;
  return before.some((a, i) => a !== null && now[i] !== null && a !== now[i]);
}

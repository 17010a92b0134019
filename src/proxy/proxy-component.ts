// The proxy as a component of the host: its engine and listeners, its metrics in the host's
// registry, the 10 s sampler of long connections, reload of what applies to new connections.
import { formatEndpoint } from '../config/address.js';
import type { ProxyOptions } from '../config/proxy-options.js';
import type { Component, HostContext, ReloadOutcome } from '../host/component.js';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import type { Addon } from '../native/addon.js';
import type { EventBatch } from '../native/event-record.js';
import { watchUndersizedPipes } from './pipe-warning.js';
import { Proxy } from './proxy.js';
import { planProxyReload } from './reload-plan.js';

/** Connections open longer than this are sampled (TCP_INFO histograms) this often... */
const SAMPLE_EVERY_MS = 10_000;
/** ...a hundredth of them every 100 ms: one TCP_INFO read per leg of 9,000 connections at once
 *  stalled the relay for 80-170 ms (plus the histograms' share). */
const SAMPLE_SLICES = 100;
/** One connection in this many tells trace where the proxy connects: enough to find the busy servers. */
const TARGET_SAMPLE = 16;

function settings(o: ProxyOptions): string {
  const e = o.engine;
  const bind = e.bindMode === 'fixed' ? (e.fixed4 ?? e.fixed6) : e.bindMode;
  const cc = `${e.clientLeg.cc || 'default'}/${e.serverLeg.cc || 'default'}`;
  const l = e.clientLeg;
  const keepalive = l.keepalive ? `${l.keepIdle}/${l.keepInterval}/${l.keepCount}` : 'off';
  const size = (n: number): string => (n ? String(n) : 'auto');
  const buffers = `sndbuf(client/server)=${size(l.sndbuf)}/${size(e.serverLeg.sndbuf)} rcvbuf(client/server)=${size(l.rcvbuf)}/${size(e.serverLeg.rcvbuf)}`;
  return `bind-outgoing=${bind} cc(client/server)=${cc} nodelay=${l.nodelay} keepalive(idle/interval/count)=${keepalive} ${buffers} mptcp=${e.mptcp} buffer=${e.bufferSize} max-connections=${e.maxConnections || 'none'}`;
}

export class ProxyComponent implements Component<ProxyOptions> {
  readonly name = 'proxy';
  #options: ProxyOptions;
  readonly #native: Addon;
  #proxy: Proxy | null = null;
  #where = '';
  #sampler: NodeJS.Timeout | null = null;
  #pipeWatch: NodeJS.Timeout | null = null;
  #targetWatch: ((address: string) => void) | null = null;
  #opened = 0;

  constructor(options: ProxyOptions, native: Addon) {
    this.#options = options;
    this.#native = native;
  }

  start(ctx: HostContext): void {
    const proxy = new Proxy(this.#options, ctx.logger, this.#native);
    this.#proxy = proxy;
    const metrics = new ProxyMetrics(ctx.registry);
    proxy.onBatch = (batch) => {
      metrics.observe(batch);
      if (this.#targetWatch) this.#sampleTargets(batch, this.#targetWatch);
    };
    metrics.readStatsFrom(() => proxy.stats());
    this.#where = proxy.listen().map((b) => formatEndpoint(b.host, b.port)).join(', ');
    let slice = 0;
    this.#sampler = setInterval(() => {
      metrics.observe(proxy.sample(SAMPLE_EVERY_MS, slice, SAMPLE_SLICES));
      slice = (slice + 1) % SAMPLE_SLICES;
    }, SAMPLE_EVERY_MS / SAMPLE_SLICES).unref();
    this.#pipeWatch = watchUndersizedPipes(() => proxy.stats(), ctx.logger);
    for (const note of this.#options.notes) ctx.logger.warn(note);
  }

  /** Hands <watch> the server of one connection in TARGET_SAMPLE the proxy opens (trace's destinations). */
  watchTargets(watch: (address: string) => void): void {
    this.#targetWatch = watch;
  }

  #sampleTargets(batch: EventBatch, watch: (address: string) => void): void {
    for (let i = 0; i < batch.count; i++) {
      if (batch.isOpen(i) && this.#opened++ % TARGET_SAMPLE === 0) watch(batch.target(i));
    }
  }

  describe(): string {
    return `listening on ${this.#where} ${settings(this.#options)}`;
  }

  status(): string {
    return `relaying on ${this.#where}: ${this.#proxy?.stats()?.active ?? 0} open connections`;
  }

  reload(next: ProxyOptions | null): ReloadOutcome {
    const plan = planProxyReload(this.#options, next);
    this.#options = plan.next;
    this.#proxy?.configure(plan.next.engine);
    return plan;
  }

  drain(ms: number): Promise<void> {
    return this.#proxy?.drain(ms) ?? Promise.resolve();
  }

  close(): void {
    for (const timer of [this.#sampler, this.#pipeWatch]) if (timer) clearInterval(timer);
    this.#sampler = this.#pipeWatch = null;
    this.#proxy?.close();
  }
}

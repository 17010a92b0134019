// Snoop's Prometheus metrics, read from the stage's counters at scrape time. Its timer lateness is
// the pipeline's tcp_intercept_timer_lateness_seconds{stage="snoop"}.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { SnoopCounters } from '../snoop/snoop-settings.js';

function counter(registry: Registry, name: string, help: string, read: (c: SnoopCounters) => number, counters: () => SnoopCounters): void {
  new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read(counters())); } });
}

function gauge(registry: Registry, name: string, help: string, read: (c: SnoopCounters) => number, counters: () => SnoopCounters): void {
  new Gauge({ name, help, registers: [registry], collect() { this.set(read(counters())); } });
}

export function registerSnoopMetrics(registry: Registry, counters: () => SnoopCounters): void {
  counter(registry, 'tcp_intercept_snoop_local_retransmits_total', 'Cached segments sent again toward the lossy side, for duplicate ACKs and local timeouts.', (c) => c.localRetransmits, counters);
  counter(registry, 'tcp_intercept_snoop_dupacks_suppressed_total', 'Duplicate ACKs from the lossy side kept from the sender.', (c) => c.dupacksSuppressed, counters);
  counter(registry, 'tcp_intercept_snoop_timeouts_total', 'Local retransmission timer expiries that retransmitted.', (c) => c.timeouts, counters);
  counter(registry, 'tcp_intercept_snoop_uncached_segments_total', 'Data segments forwarded without caching (cache full, or truncated by the queue).', (c) => c.uncached, counters);
  counter(registry, 'tcp_intercept_snoop_inject_failures_total', 'Local retransmissions the raw socket refused.', (c) => c.injectFailures, counters);
  new Counter({
    name: 'tcp_intercept_snoop_evictions_total', help: 'Flows forgotten, by reason: idle, over the flow cap, or to make room in the total cache.',
    labelNames: ['reason'], registers: [registry],
    collect() {
      this.reset();
      const e = counters().evictions;
      this.labels('idle').inc(e.idle);
      this.labels('cap').inc(e.cap);
      this.labels('memory').inc(e.memory);
    },
  });
  gauge(registry, 'tcp_intercept_snoop_flows', 'Flows snoop follows now.', (c) => c.flows, counters);
  gauge(registry, 'tcp_intercept_snoop_cache_bytes', 'Bytes of segments cached now.', (c) => c.cacheBytes, counters);
}

// Trace's Prometheus metrics, read from the stage's counters at scrape time.
import { Counter, type Registry } from 'prom-client';
import type { TraceCounters } from '../trace/trace-engine.js';

export function registerTraceMetrics(registry: Registry, counters: () => TraceCounters | null): void {
  new Counter({
    name: 'tcp_intercept_trace_probes_total', help: 'Trace probes sent (low-TTL copies of live flows\' headers).', registers: [registry],
    collect() { this.reset(); this.inc(counters()?.probes ?? 0); },
  });
  new Counter({
    name: 'tcp_intercept_trace_answers_total', help: 'Answers to trace probes: ICMP errors from routers and TCP answers from destinations.', registers: [registry],
    collect() { this.reset(); this.inc(counters()?.answers ?? 0); },
  });
  new Counter({
    name: 'tcp_intercept_traces_total', help: 'Traces ended, by result: reached, unreachable, max_ttl, silent, flow_ended, retransmitting, no_flow, stopped.',
    labelNames: ['result'], registers: [registry],
    collect() {
      this.reset();
      for (const [result, n] of Object.entries(counters()?.traces ?? {})) this.labels(result.replaceAll('-', '_')).inc(n);
    },
  });
}

export function registerRouteChangeMetric(registry: Registry, changes: () => number): void {
  new Counter({
    name: 'tcp_intercept_trace_route_changes_total', help: 'Continuous traces (--trace) whose path differed from the last trace of the same destination.', registers: [registry],
    collect() { this.reset(); this.inc(changes()); },
  });
}

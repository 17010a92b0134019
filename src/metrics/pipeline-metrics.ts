// The packet pipeline's Prometheus metrics, all read at scrape time: the queue's native and kernel
// counters, and each stage's decisions and errors.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PacketQueueStats } from '../nfq/queue.js';
import type { LatenessSnapshot } from '../pipeline/lateness-histogram.js';
import type { StageCounts } from '../pipeline/pipeline.js';
import { registerLatenessMetric } from './lateness-metric.js';

export interface PipelineFigures {
  stats(): PacketQueueStats;
  counts(): StageCounts[];
  lateness(): Array<{ stage: string; lateness: LatenessSnapshot }>;
}

function counter(registry: Registry, name: string, help: string, labelNames: string[], fill: (c: Counter) => void): void {
  new Counter({ name, help, labelNames, registers: [registry], collect() { this.reset(); fill(this); } });
}

/** <figures> returns null once the pipeline is closed (the last figures then stay). */
export function registerPipelineMetrics(registry: Registry, figures: () => PipelineFigures | null): void {
  let last: { stats: PacketQueueStats; counts: StageCounts[]; lateness: ReturnType<PipelineFigures['lateness']> } | null = null;
  const read = (): typeof last => {
    const f = figures();
    if (f) last = { stats: f.stats(), counts: f.counts(), lateness: f.lateness() };
    return last;
  };
  // Every collect() of one scrape reads the same figures: read once, at the first.
  let readAt = -1;
  const current = (): typeof last => {
    const now = performance.now();
    if (now - readAt > 100) {
      readAt = now;
      return read();
    }
    return last;
  };
  counter(registry, 'tcp_intercept_queue_packets_total', 'Packets received from NFQUEUE.', [], (c) => c.inc(current()?.stats.packets ?? 0));
  counter(registry, 'tcp_intercept_queue_verdicts_total', 'Verdicts sent for queued packets, by verdict.', ['verdict'], (c) => {
    const s = current()?.stats;
    c.labels('accept').inc(s?.accepted ?? 0);
    c.labels('drop').inc(s?.dropped ?? 0);
    c.labels('replace').inc(s?.replaced ?? 0);
  });
  counter(registry, 'tcp_intercept_queue_kernel_drops_total', 'Packets the kernel dropped before they reached us, by where: a full queue or a full socket.', ['where'], (c) => {
    const k = current()?.stats.kernel;
    c.labels('queue_full').inc(k?.queueDropped ?? 0);
    c.labels('socket_full').inc(k?.userDropped ?? 0);
  });
  counter(registry, 'tcp_intercept_queue_errors_total', 'Queue errors, by kind: ENOBUFS (lost notifications), receive, verdict, send, handler.', ['kind'], (c) => {
    const s = current()?.stats;
    c.labels('enobufs').inc(s?.enobufs ?? 0);
    c.labels('receive').inc(s?.receiveErrors ?? 0);
    c.labels('verdict').inc(s?.verdictErrors ?? 0);
    c.labels('send').inc(s?.sendErrors ?? 0);
    c.labels('handler').inc(s?.handlerErrors ?? 0);
  });
  new Gauge({
    name: 'tcp_intercept_queue_held_packets', help: 'Packets held by a stage now (queued, verdict pending).', registers: [registry],
    collect() { this.set(current()?.stats.held ?? 0); },
  });
  counter(registry, 'tcp_intercept_stage_decisions_total', 'Packets each stage decided, by decision.', ['stage', 'decision'], (c) => {
    for (const s of current()?.counts ?? []) {
      for (const [decision, n] of Object.entries(s.decisions)) c.labels(s.stage, decision).inc(n);
    }
  });
  counter(registry, 'tcp_intercept_stage_errors_total', 'Exceptions a stage threw on a packet (the packet went on to the next stage).', ['stage'], (c) => {
    for (const s of current()?.counts ?? []) c.labels(s.stage).inc(s.errors);
  });
  registerLatenessMetric(registry, () => current()?.lateness ?? []);
}

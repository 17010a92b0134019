// tcp_intercept_timer_lateness_seconds{stage}: how late the timers of packet stages fire, as a
// Prometheus histogram built at scrape time from each stage's own fixed-bucket counts (the
// schedulers count without prom-client on their hot path).
import type { Registry } from 'prom-client';
import type { LatenessSnapshot } from '../pipeline/lateness-histogram.js';

const NAME = 'tcp_intercept_timer_lateness_seconds';
const HELP = 'How late packet stages\' timers fired after their deadline (Node timers fire late under load).';

export function registerLatenessMetric(registry: Registry, sources: () => Array<{ stage: string; lateness: LatenessSnapshot }>): void {
  const get = () => ({
    name: NAME,
    help: HELP,
    type: 'histogram' as const,
    aggregator: 'sum' as const,
    values: sources().flatMap(({ stage, lateness: l }) => [
      ...l.bucketsMs.map((ms, i) => ({ metricName: `${NAME}_bucket`, labels: { stage, le: ms / 1000 }, value: l.cumulative[i] })),
      { metricName: `${NAME}_bucket`, labels: { stage, le: '+Inf' }, value: l.count },
      { metricName: `${NAME}_sum`, labels: { stage }, value: l.sumMs / 1000 },
      { metricName: `${NAME}_count`, labels: { stage }, value: l.count },
    ]),
  });
  registry.registerMetric({ name: NAME, help: HELP, get } as unknown as Parameters<Registry['registerMetric']>[0]);
}

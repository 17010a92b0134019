// --workers: each worker keeps its own registry; the supervisor serves one endpoint whose
// figures are the sum over the workers (prom-client's aggregation, over the IPC channel).
import type { ChildProcess } from 'node:child_process';
import { AggregatorRegistry, Registry } from 'prom-client';
import type { MetricsSource } from './http-endpoint.js';

interface Request { type: 'tcp-intercept:metrics'; id: number }
type WorkerMetrics = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;
interface Reply { type: 'tcp-intercept:metrics'; id: number; metrics: WorkerMetrics }

const TIMEOUT_MS = 2000;

/** In a worker: answer the supervisor's requests with this registry's figures. */
export function answerMetricsRequests(registry: Registry): void {
  process.on('message', (m: Request) => {
    if (m?.type !== 'tcp-intercept:metrics') return;
    void registry.getMetricsAsJSON().then((metrics) => process.send?.({ type: m.type, id: m.id, metrics } satisfies Reply));
  });
}

/** In the supervisor: a metrics source that sums what every live worker reports. */
export function workerMetrics(workers: () => Array<ChildProcess | null>): MetricsSource {
  let next = 0;
  const ask = (child: ChildProcess): Promise<WorkerMetrics | null> =>
    new Promise((resolve) => {
      const id = ++next;
      const timer = setTimeout(() => done(null), TIMEOUT_MS);
      const onMessage = (m: Reply): void => {
        if (m?.type === 'tcp-intercept:metrics' && m.id === id) done(m.metrics);
      };
      const done = (value: WorkerMetrics | null): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(value);
      };
      child.on('message', onMessage);
      if (!child.send({ type: 'tcp-intercept:metrics', id } satisfies Request)) done(null);
    });
  return {
    contentType: Registry.PROMETHEUS_CONTENT_TYPE,
    async render() {
      const live = workers().filter((w): w is ChildProcess => w !== null && w.connected);
      const replies = (await Promise.all(live.map(ask))).filter((r): r is WorkerMetrics => r !== null);
      return AggregatorRegistry.aggregate(replies).metrics();
    },
  };
}

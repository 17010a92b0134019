// Runs the proxy until SIGTERM/SIGINT (drain, then exit) with SIGHUP reopening the log file.
// In a worker (--workers), readiness and metrics go to the supervisor instead.
import type { Server } from 'node:http';
import { formatEndpoint } from '../config/address.js';
import type { ProxyOptions } from '../config/proxy-options.js';
import { createLogger } from '../log/logger.js';
import { serveMetrics } from '../metrics/http-endpoint.js';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { answerMetricsRequests } from '../metrics/worker-aggregation.js';
import { addon } from '../native/addon.js';
import { Proxy } from '../proxy/proxy.js';
import { removePidFile, writePidFile } from './pid-file.js';
import { planReload } from './reload.js';
import { sdNotify } from './systemd.js';
import { packageVersion } from './version.js';

/** Connections open longer than this are sampled (TCP_INFO histograms) this often. */
const SAMPLE_EVERY_MS = 10_000;

function describe(o: ProxyOptions): string {
  const e = o.engine;
  const bind = e.bindMode === 'fixed' ? (e.fixed4 ?? e.fixed6) : e.bindMode;
  const cc = `${e.clientLeg.cc || 'default'}/${e.serverLeg.cc || 'default'}`;
  return `bind-outgoing=${bind} cc(client/server)=${cc} nodelay=${e.clientLeg.nodelay} keepalive=${e.clientLeg.keepalive} mptcp=${e.mptcp} buffer=${e.bufferSize}`;
}

/** Reads the configuration again (SIGHUP). */
export type Reload = () => { options: ProxyOptions; file: string | null };

export async function runProxy(options: ProxyOptions, reload: Reload): Promise<void> {
  const { logger, reopen } = createLogger(options.log);
  const inWorker = options.log.worker !== null;
  const metrics = new ProxyMetrics(packageVersion());
  const proxy = new Proxy(options, logger, addon());
  proxy.onBatch = (batch) => metrics.observe(batch);
  metrics.readStatsFrom(() => proxy.stats());
  const bound = proxy.listen();
  let http: Server | null = null;
  if (inWorker) answerMetricsRequests(metrics.registry);
  else if (options.metrics) {
    http = await serveMetrics(options.metrics, { contentType: metrics.registry.contentType, render: () => metrics.registry.metrics() });
  }
  if (options.pidFile) writePidFile(options.pidFile);
  const where = bound.map((b) => formatEndpoint(b.host, b.port)).join(', ');
  logger.info(`listening on ${where} ${describe(options)}${http ? ` metrics=${formatEndpoint(options.metrics!.host, options.metrics!.port)}` : ''}`);
  if (inWorker) process.send?.({ type: 'tcp-intercept:ready' });
  else sdNotify('READY=1', `STATUS=relaying on ${where}`, `MAINPID=${process.pid}`);

  const sampler = setInterval(() => {
    metrics.observe(proxy.sample(SAMPLE_EVERY_MS));
    if (!inWorker) sdNotify(`STATUS=relaying on ${where}: ${proxy.stats()?.active ?? 0} open connections`);
  }, SAMPLE_EVERY_MS).unref();

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn(`${signal} again: resetting open connections now`);
        proxy.close();
        return;
      }
      stopping = true;
      logger.info(`${signal}: stopping`);
      if (!inWorker) sdNotify('STOPPING=1', 'STATUS=draining');
      void proxy.drain(options.drainTimeoutMs).then(resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', () => {
      reopen();
      if (!inWorker) sdNotify('RELOADING=1');
      try {
        const { options: wanted, file } = reload();
        const plan = planReload(options, wanted);
        options = plan.next;
        logger.level = options.log.level;
        proxy.configure(options.engine);
        const from = file ? ` from ${file}` : '';
        logger.info(plan.applied.length ? `reload${from}: applied ${plan.applied.join(', ')}` : `reload${from}: nothing to change`);
        if (plan.needRestart.length) logger.warn(`reload: not applied until a restart: ${plan.needRestart.join(', ')}`);
      } catch (err) {
        logger.error(`reload failed, the running configuration stays: ${(err as Error).message}`);
      }
      if (!inWorker) sdNotify('READY=1');
    });
  });
  clearInterval(sampler);
  http?.close();
  if (options.pidFile) removePidFile(options.pidFile);
  logger.info('stopped');
  await new Promise<void>((resolve) => {
    logger.on('finish', resolve);
    logger.end();
  });
  // An IPC channel to the supervisor would keep the loop alive.
  if (inWorker) process.disconnect?.();
}

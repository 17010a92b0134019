// Runs components until SIGTERM/SIGINT: signals first (a SIGHUP or SIGTERM during startup waits
// for it), then each component starts, then the metrics endpoint, pid file and readiness. SIGHUP
// reads every option source again and hands each component its part; SIGTERM drains, a second
// one closes at once. In a --workers worker, readiness and metrics go to the supervisor.
import type { Server } from 'node:http';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { formatEndpoint } from '../config/address.js';
import type { HostOptions } from '../config/host-options.js';
import { createLogger, type Logger } from '../log/logger.js';
import { serveMetrics } from '../metrics/http-endpoint.js';
import { answerMetricsRequests } from '../metrics/worker-aggregation.js';
import type { Component, ReloadOutcome } from './component.js';
import { removePidFile, writePidFile } from './pid-file.js';
import { planHostReload } from './reload-host.js';
import { sdNotify } from './systemd.js';

const STATUS_EVERY_MS = 10_000;

/** The configuration read again: the host's part and each component's, by component name. */
export interface Reloaded {
  host: HostOptions;
  parts: Readonly<Record<string, unknown>>;
  file: string | null;
}

export interface HostRun {
  options: HostOptions;
  components: Component[];
  version: string;
  reload: () => Reloaded;
  /** Called once every component serves (a subcommand's banner on stdout), with a function that
   *  stops the host as SIGTERM would (a subcommand whose work is done). */
  onReady?: (stop: (why: string) => void) => void;
  /** A standalone subcommand prints each component's report on stdout when it stops. */
  printReports?: boolean;
}

function hostRegistry(version: string): Registry {
  const registry = new Registry();
  new Gauge({ name: 'tcp_intercept_build_info', help: 'Version of the running tcp-intercept.', labelNames: ['version', 'node_version'], registers: [registry] })
    .labels(version, process.version).set(1);
  collectDefaultMetrics({ register: registry });
  // Gauges that prom-client names like counters; promtool rejects them, and they add little.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
  return registry;
}

async function startAll(components: Component[], logger: Logger, registry: Registry): Promise<void> {
  const started: Component[] = [];
  try {
    for (const c of components) {
      await c.start({ logger, registry });
      started.push(c);
    }
  } catch (err) {
    for (const c of started.reverse()) c.close();
    throw err;
  }
}

function merge(outcomes: ReloadOutcome[]): ReloadOutcome {
  return { applied: [...new Set(outcomes.flatMap((o) => o.applied))], needRestart: [...new Set(outcomes.flatMap((o) => o.needRestart))] };
}

export async function runHost(run: HostRun): Promise<void> {
  let options = run.options;
  const { components } = run;
  const inWorker = options.log.worker !== null;
  const notify = (...lines: string[]): void => {
    if (!inWorker) sdNotify(...lines);
  };

  // Installed before anything starts, so that an early signal is neither fatal nor lost.
  let ready = false, stopping = false, hupWaiting = false;
  let stopRequested: string | null = null;
  let onStop: (why: string) => void = (why) => (stopRequested = why);
  let onHup: () => void = () => (hupWaiting = true);
  const stopHandler = (signal: NodeJS.Signals): void => onStop(signal);
  const hupHandler = (): void => onHup();
  process.on('SIGTERM', stopHandler);
  process.on('SIGINT', stopHandler);
  process.on('SIGHUP', hupHandler);
  const removeHandlers = (): void => {
    process.off('SIGTERM', stopHandler);
    process.off('SIGINT', stopHandler);
    process.off('SIGHUP', hupHandler);
  };

  const { logger, reopen } = createLogger(options.log);
  const registry = hostRegistry(run.version);
  let http: Server | null = null;
  try {
    await startAll(components, logger, registry);
    if (inWorker) answerMetricsRequests(registry);
    else if (options.metrics) {
      http = await serveMetrics(options.metrics, { contentType: registry.contentType, render: () => registry.metrics() });
    }
    if (options.pidFile) writePidFile(options.pidFile);
  } catch (err) {
    for (const c of components) c.close();
    http?.close();
    removeHandlers();
    throw err;
  }
  const metricsAt = http && options.metrics ? ` metrics=${formatEndpoint(options.metrics.host, options.metrics.port)}` : '';
  logger.info(`${components.map((c) => c.describe()).join('; ')}${metricsAt}`);
  const status = (): string => components.map((c) => c.status()).join('; ');
  if (inWorker) process.send?.({ type: 'tcp-intercept:ready' });
  else notify('READY=1', `STATUS=${status()}`, `MAINPID=${process.pid}`);
  run.onReady?.((why) => onStop(why));
  ready = true;
  const statusTimer = inWorker ? null : setInterval(() => notify(`STATUS=${status()}`), STATUS_EVERY_MS).unref();

  onHup = (): void => {
    if (!ready || stopping) return;
    reopen();
    notify('RELOADING=1');
    try {
      const wanted = run.reload();
      const plan = planHostReload(options, wanted.host);
      options = plan.next;
      logger.level = options.log.level;
      const outcome = merge([plan, ...components.map((c) => c.reload(wanted.parts[c.name] ?? null))]);
      const from = wanted.file ? ` from ${wanted.file}` : '';
      logger.info(outcome.applied.length ? `reload${from}: applied ${outcome.applied.join(', ')}` : `reload${from}: nothing to change`);
      if (outcome.needRestart.length) logger.warn(`reload: not applied until a restart: ${outcome.needRestart.join(', ')}`);
    } catch (err) {
      logger.error(`reload failed, the running configuration stays: ${(err as Error).message}`);
    }
    notify('READY=1');
  };
  if (hupWaiting) onHup();

  await new Promise<void>((resolve) => {
    onStop = (signal: string): void => {
      if (stopping) {
        logger.warn(`${signal} again: stopping now`);
        for (const c of components) c.close();
        resolve();
        return;
      }
      stopping = true;
      logger.info(`${signal}: stopping`);
      notify('STOPPING=1', 'STATUS=draining');
      const drainMs = options.drainTimeoutMs;
      // A drain cut short by a second signal may still settle later; its outcome no longer matters.
      Promise.allSettled(components.map((c) => c.drain(drainMs))).then(() => resolve(), () => resolve());
    };
    if (stopRequested) onStop(stopRequested);
  });
  if (statusTimer) clearInterval(statusTimer);
  for (const c of components) {
    const report = run.printReports ? c.report?.() : undefined;
    if (report) process.stdout.write(report.endsWith('\n') ? report : `${report}\n`);
    c.close();
  }
  http?.close();
  if (options.pidFile) removePidFile(options.pidFile);
  removeHandlers();
  logger.info('stopped');
  await new Promise<void>((resolve) => {
    logger.on('finish', resolve);
    logger.end();
  });
  // An IPC channel to the supervisor would keep the loop alive.
  if (inWorker) process.disconnect?.();
}

// --workers N: N independent proxy processes, each with its own SO_REUSEPORT listeners (the
// kernel spreads connections over them), under this supervisor. It forwards signals, restarts
// a worker that dies, and stops everything when a worker cannot start at all.
import { spawn, type ChildProcess } from 'node:child_process';
import type { HostOptions } from '../config/host-options.js';
import { EX_NOPERM, EX_OSERR, EX_UNAVAILABLE, EX_USAGE, StartupError } from '../errors.js';
import { createLogger } from '../log/logger.js';
import { serveMetrics } from '../metrics/http-endpoint.js';
import { workerMetrics } from '../metrics/worker-aggregation.js';
import { sdNotify } from './systemd.js';
import { removePidFile, writePidFile } from './pid-file.js';

/** Set in a worker's environment to its index: that process runs the proxy itself. */
export const WORKER_ENV = 'TI_WORKER_INDEX';

// A worker that exits with one of these failed at startup; restarting cannot help.
const STARTUP_FAILURES = new Set([EX_USAGE, EX_UNAVAILABLE, EX_OSERR, EX_NOPERM]);
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 10_000;
const STABLE_MS = 10_000;

export async function runSupervisor(options: HostOptions): Promise<void> {
  const { logger, reopen } = createLogger(options.log);
  const workers: Array<ChildProcess | null> = new Array(options.workers).fill(null);
  const backoff: number[] = new Array(options.workers).fill(RESTART_MIN_MS);
  let stopping = false;
  let fatal: number | null = null;
  const ready = new Set<number>();
  // Before any worker exists, so that a port in use stops us with nothing to clean up.
  const http = options.metrics ? await serveMetrics(options.metrics, workerMetrics(() => workers)) : null;

  const done = new Promise<void>((resolve) => {
    const start = (i: number): void => {
      const startedAt = Date.now();
      // Readiness is the supervisor's to report: workers get no NOTIFY_SOCKET.
      const env: NodeJS.ProcessEnv = { ...process.env, [WORKER_ENV]: String(i) };
      delete env.NOTIFY_SOCKET;
      const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
        stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
        env,
      });
      workers[i] = child;
      child.on('message', (m: { type?: string }) => {
        if (m?.type !== 'tcp-intercept:ready' || ready.has(i)) return;
        ready.add(i);
        if (ready.size === options.workers) sdNotify('READY=1', `STATUS=${options.workers} workers relaying`, `MAINPID=${process.pid}`);
      });
      child.on('exit', (code, signal) => {
        workers[i] = null;
        if (!stopping && code !== null && STARTUP_FAILURES.has(code)) {
          logger.error(`worker ${i} could not start (exit ${code}); stopping`);
          fatal = code;
          stop('SIGTERM');
        }
        if (stopping) {
          if (workers.every((w) => w === null)) resolve();
          return;
        }
        backoff[i] = Date.now() - startedAt > STABLE_MS ? RESTART_MIN_MS : Math.min(backoff[i] * 2, RESTART_MAX_MS);
        logger.warn(`worker ${i} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); restarting in ${backoff[i]} ms`);
        setTimeout(() => !stopping && start(i), backoff[i]);
      });
    };
    const stop = (signal: NodeJS.Signals): void => {
      if (!stopping) {
        logger.info(`${signal}: stopping ${options.workers} workers`);
        sdNotify('STOPPING=1');
      }
      stopping = true;
      for (const w of workers) w?.kill(signal);
      if (workers.every((w) => w === null)) resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', () => {
      reopen();
      for (const w of workers) w?.kill('SIGHUP');
    });
    for (let i = 0; i < options.workers; i++) start(i);
  });

  if (options.pidFile) writePidFile(options.pidFile);
  logger.info(`supervising ${options.workers} workers`);
  await done;
  http?.close();
  if (options.pidFile) removePidFile(options.pidFile);
  if (fatal !== null) throw new StartupError('a worker could not start; see its message above', 'TI_ERR_WORKER_START', fatal);
  logger.info('stopped');
}

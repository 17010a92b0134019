// What the host gives every component: logging, the metrics endpoint, the control socket, pid file,
// drain, workers.
import { availableParallelism } from 'node:os';
import { parseEndpoint, type Endpoint } from './address.js';
import { controlSocketPath, runtimeControlSocket } from './control-socket.js';
import { LOG_FORMATS, LOG_LEVELS } from './option-table.js';
import type { Values } from './values.js';

export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogOptions {
  file: string | null;
  level: LogLevel;
  format: LogFormat;
  worker: number | null;   // set in a worker process: every line says which
  journal: boolean;        // stdout goes to journald: prefix lines with their <priority>
}

export interface HostOptions {
  drainTimeoutMs: number;
  workers: number;
  metrics: Endpoint | null;
  /** the control socket's path; null: none */
  control: string | null;
  pidFile: string | null;
  log: LogOptions;
}

export function buildHostOptions(v: Values): HostOptions {
  const metrics = v.str('metrics') ?? 'off';
  const workers = v.str('workers');
  return {
    drainTimeoutMs: v.whole('drain-timeout', 0, 86400) * 1000,
    workers: workers === undefined ? 1 : workers === 'auto' ? availableParallelism() : v.whole('workers', 1, 256),
    metrics: metrics === 'off' ? null : parseEndpoint(metrics, v.what('metrics')),
    control: controlSocketPath(v.str('control-socket') ?? 'off', v.what('control-socket'), runtimeControlSocket(process.env)),
    pidFile: v.str('pid-file') ?? null,
    log: {
      file: v.str('log') ?? null,
      level: v.oneOf('log-level', LOG_LEVELS),
      format: v.oneOf('log-format', LOG_FORMATS),
      worker: null,
      journal: !v.str('log') && Boolean(process.env.JOURNAL_STREAM),
    },
  };
}

// SIGHUP, the host's own part: the log level and drain timeout apply live; where logs,
// metrics and the control socket go, the pid file and the number of workers need a restart.
import type { HostOptions } from '../config/host-options.js';
import { changedOptions, type ReloadOutcome } from './component.js';

export function planHostReload(current: HostOptions, wanted: HostOptions): ReloadOutcome & { next: HostOptions } {
  const applied: string[] = [];
  if (current.log.level !== wanted.log.level) applied.push('log-level');
  if (current.drainTimeoutMs !== wanted.drainTimeoutMs) applied.push('drain-timeout');
  const restartOnly = [
    ['workers', current.workers, wanted.workers],
    ['metrics', current.metrics, wanted.metrics],
    ['control-socket', current.control, wanted.control],
    ['pid-file', current.pidFile, wanted.pidFile],
    ['log', current.log.file, wanted.log.file],
    ['log-format', current.log.format, wanted.log.format],
  ] as const;
  return {
    next: { ...current, drainTimeoutMs: wanted.drainTimeoutMs, log: { ...current.log, level: wanted.log.level } },
    applied,
    needRestart: changedOptions(restartOnly),
  };
}

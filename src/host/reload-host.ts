// SIGHUP, the host's own part: the log level and drain timeout apply live; where logs and
// metrics go, the pid file and the number of workers need a restart.
import type { HostOptions } from '../config/host-options.js';
import type { ReloadOutcome } from './component.js';

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function planHostReload(current: HostOptions, wanted: HostOptions): ReloadOutcome & { next: HostOptions } {
  const applied: string[] = [];
  if (current.log.level !== wanted.log.level) applied.push('log-level');
  if (current.drainTimeoutMs !== wanted.drainTimeoutMs) applied.push('drain-timeout');
  const restartOnly: Array<[string, unknown, unknown]> = [
    ['workers', current.workers, wanted.workers],
    ['metrics', current.metrics, wanted.metrics],
    ['pid-file', current.pidFile, wanted.pidFile],
    ['log', current.log.file, wanted.log.file],
    ['log-format', current.log.format, wanted.log.format],
  ];
  return {
    next: { ...current, drainTimeoutMs: wanted.drainTimeoutMs, log: { ...current.log, level: wanted.log.level } },
    applied,
    needRestart: restartOnly.filter(([, a, b]) => !same(a, b)).map(([name]) => name),
  };
}

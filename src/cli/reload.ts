// SIGHUP: the configuration is read again from all its sources; what can change on a running
// proxy is applied (log level, limits, timeouts, options of new connections), the rest is
// named in the log as needing a restart.
import type { ProxyOptions } from '../config/proxy-options.js';
import type { EngineConfig } from '../native/addon.js';

/** Which option each engine setting comes from, for the log. */
const ENGINE_OPTION: Record<keyof EngineConfig, string> = {
  bindMode: 'bind-outgoing', fixed4: 'bind-outgoing', fixed6: 'bind-outgoing', mark: 'mark', mptcp: 'mptcp',
  clientLeg: 'cc/cc-client/tcp-nodelay/keepalive', serverLeg: 'cc/cc-server/tcp-nodelay/keepalive',
  bufferSize: 'buffer-size', maxConnections: 'max-connections', connectTimeoutMs: 'connect-timeout',
  idleTimeoutMs: 'idle-timeout', inspect: 'log-level',
};

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export interface ReloadPlan {
  /** The running options after the reload: the new ones where they apply live. */
  next: ProxyOptions;
  applied: string[];
  needRestart: string[];
}

export function planReload(current: ProxyOptions, wanted: ProxyOptions): ReloadPlan {
  const applied = new Set<string>();
  for (const key of Object.keys(ENGINE_OPTION) as Array<keyof EngineConfig>) {
    if (!same(current.engine[key], wanted.engine[key])) applied.add(ENGINE_OPTION[key]);
  }
  if (current.log.level !== wanted.log.level) applied.add('log-level');
  if (current.drainTimeoutMs !== wanted.drainTimeoutMs) applied.add('drain-timeout');
  const restartOnly: Array<[string, unknown, unknown]> = [
    ['bind-listen', current.listen, wanted.listen],
    ['backlog', current.backlog, wanted.backlog],
    ['workers', current.workers, wanted.workers],
    ['metrics', current.metrics, wanted.metrics],
    ['pid-file', current.pidFile, wanted.pidFile],
    ['log', current.log.file, wanted.log.file],
    ['log-format', current.log.format, wanted.log.format],
  ];
  return {
    next: { ...current, engine: wanted.engine, drainTimeoutMs: wanted.drainTimeoutMs, log: { ...current.log, level: wanted.log.level } },
    applied: [...applied],
    needRestart: restartOnly.filter(([, a, b]) => !same(a, b)).map(([name]) => name),
  };
}

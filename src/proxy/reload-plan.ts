// SIGHUP, the proxy's part: options of new connections, limits and timeouts apply live (the
// engine takes them for connections accepted from now on); listeners need a restart.
import type { ProxyOptions } from '../config/proxy-options.js';
import type { EngineConfig } from '../native/addon.js';
import { changedOptions, sameValue, type ReloadOutcome } from '../host/component.js';

/** Which option each engine setting comes from, for the log. */
const ENGINE_OPTION: Record<keyof EngineConfig, string> = {
  bindMode: 'bind-outgoing', fixed4: 'bind-outgoing', fixed6: 'bind-outgoing', mark: 'mark', mptcp: 'mptcp',
  clientLeg: 'cc/cc-client/tcp-nodelay/keepalive/sndbuf-client/rcvbuf-client',
  serverLeg: 'cc/cc-server/tcp-nodelay/keepalive/sndbuf-server/rcvbuf-server',
  bufferSize: 'buffer-size', pipeKeepBytes: 'buffer-size', maxConnections: 'max-connections', connectTimeoutMs: 'connect-timeout',
  idleTimeoutMs: 'idle-timeout', inspect: 'log-level',
};

export function planProxyReload(current: ProxyOptions, wanted: ProxyOptions | null): ReloadOutcome & { next: ProxyOptions } {
  if (wanted === null) return { next: current, applied: [], needRestart: ['bind-listen'] };
  const applied = new Set<string>();
  for (const key of Object.keys(ENGINE_OPTION) as Array<keyof EngineConfig>) {
    if (!sameValue(current.engine[key], wanted.engine[key])) applied.add(ENGINE_OPTION[key]);
  }
  // A listener keeps a fixed buffer once set, and its new connections inherit it: going back to
  // autotuning on the client leg takes new listeners.
  const client = (o: ProxyOptions) => o.engine.clientLeg;
  const unfixed = (key: 'sndbuf' | 'rcvbuf'): number => (client(current)[key] !== 0 && client(wanted)[key] === 0 ? 1 : 0);
  const restartOnly = [
    ['bind-listen', current.listen, wanted.listen],
    ['backlog', current.backlog, wanted.backlog],
    ['sndbuf-client', 0, unfixed('sndbuf')],
    ['rcvbuf-client', 0, unfixed('rcvbuf')],
  ] as const;
  return {
    next: { ...current, engine: wanted.engine },
    applied: [...applied],
    needRestart: changedOptions(restartOnly),
  };
}

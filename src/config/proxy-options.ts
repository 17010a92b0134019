// The proxy's options (listeners, engine) from merged option values. Every message names where
// the bad value came from.
import { isIPv4 } from 'node:net';
import type { EngineConfig, LegConfig } from '../native/addon.js';
import { optionError } from '../errors.js';
import { parseEndpoint, parseLocalAddress, type Endpoint } from './address.js';
import { checkCongestionControl } from './congestion.js';
import { byteSize } from './numbers.js';
import { derivedMaxConnections, pipeBudget, type PipeBudget } from './resource-budget.js';
import type { SystemLimits } from './system-limits.js';
import type { Values } from './values.js';

export interface ProxyOptions {
  listen: Endpoint[];
  backlog: number;
  engine: EngineConfig;
  /** what the host's limits changed in the options, for a warning at startup */
  notes: string[];
}

/** What the options are derived from besides the values: the host's limits, per process. */
export interface ProxyHost {
  workers: number;
  limits: SystemLimits;
}

export interface SystemProbes {
  probeCongestion(name: string): string | null;
  probeMptcp(): string | null;
}

/** SO_SNDBUFFORCE books twice the value and takes at most INT_MAX / 2. */
const MAX_SOCKET_BUFFER = 1 << 29;

/** A leg's buffer option, or the one for both legs; 0 when neither is set (autotuning). */
function buffer(v: Values, both: 'sndbuf' | 'rcvbuf', side: 'client' | 'server'): number {
  const own = `${both}-${side}`;
  const key = v.has(own) ? own : both;
  const text = v.str(key);
  return text === undefined ? 0 : byteSize(text, v.what(key), 4096, MAX_SOCKET_BUFFER);
}

function leg(v: Values, side: 'client' | 'server', probes: SystemProbes): LegConfig {
  const ccKey = `cc-${side}`;
  const key = v.has(ccKey) ? ccKey : 'cc';
  const cc = v.str(key);
  if (cc !== undefined) checkCongestionControl(cc, v.what(key), probes.probeCongestion);
  const keepIdle = v.optionalWhole('keepalive-idle', 1, 32767);
  const keepInterval = v.optionalWhole('keepalive-interval', 1, 32767);
  const keepCount = v.optionalWhole('keepalive-count', 1, 127);
  const keepalive = v.bool('keepalive');
  const timing = ['keepalive-idle', 'keepalive-interval', 'keepalive-count'].find((k) => v.given(k));
  if (timing && !keepalive) throw optionError(v.what(timing), 'needs -k/--keepalive');
  return {
    cc: cc ?? '', nodelay: v.bool('tcp-nodelay'), keepalive, keepIdle, keepInterval, keepCount,
    sndbuf: buffer(v, 'sndbuf', side), rcvbuf: buffer(v, 'rcvbuf', side),
  };
}

function bindOutgoing(v: Values): Pick<EngineConfig, 'bindMode' | 'fixed4' | 'fixed6'> {
  const text = v.str('bind-outgoing') ?? 'client';
  if (text === 'client' || text === 'client-port') return { bindMode: text, fixed4: null, fixed6: null };
  const host = parseLocalAddress(text, v.what('bind-outgoing'));
  return isIPv4(host)
    ? { bindMode: 'fixed', fixed4: host, fixed6: null }
    : { bindMode: 'fixed', fixed4: null, fixed6: host };
}

function listenAddresses(v: Values): Endpoint[] {
  const what = v.what('bind-listen');
  const listen = v.list('bind-listen').map((b) => parseEndpoint(b, what));
  const seen = new Set<string>();
  for (const e of listen) {
    const key = `${e.host}|${e.port}`;
    if (seen.has(key)) throw optionError(what, `${e.host} port ${e.port} is given twice`);
    seen.add(key);
  }
  return listen;
}

function maxConnections(v: Values, limits: SystemLimits, pipes: PipeBudget): number {
  return v.str('max-connections') === 'auto' ? derivedMaxConnections(limits, pipes) : v.whole('max-connections', 0, 0xffffffff);
}

/** The proxy's options, or null when no listen address is given (packet components only). */
export function buildProxyOptions(v: Values, logLevel: string, probes: SystemProbes, host: ProxyHost): ProxyOptions | null {
  const listen = listenAddresses(v);
  if (listen.length === 0) return null;
  const mptcp = v.bool('mptcp');
  if (mptcp) {
    const err = probes.probeMptcp();
    if (err !== null) throw optionError(v.what('mptcp'), `this kernel cannot create MPTCP sockets (${err}; check net.mptcp.enabled)`);
  }
  const pipes = pipeBudget(byteSize(v.str('buffer-size'), v.what('buffer-size'), 4096, 256 << 20), host.workers, host.limits);
  return {
    listen,
    backlog: v.whole('backlog', 1, 1 << 20),
    notes: pipes.notes,
    engine: {
      ...bindOutgoing(v),
      mark: v.whole('mark', 0, 0xffffffff),
      mptcp,
      clientLeg: leg(v, 'client', probes),
      serverLeg: leg(v, 'server', probes),
      bufferSize: pipes.bufferSize,
      pipeKeepBytes: pipes.keepBytes,
      maxConnections: maxConnections(v, host.limits, pipes),
      connectTimeoutMs: v.whole('connect-timeout', 1, 3_600_000),
      idleTimeoutMs: v.whole('idle-timeout', 0, 31 * 86400) * 1000,
      inspect: logLevel === 'debug',
    },
  };
}

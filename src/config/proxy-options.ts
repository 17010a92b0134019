// From merged option values (command line, TCP_INTERCEPT_*, config file, defaults) to a
// validated ProxyOptions. Every message names where the bad value came from.
import { isIPv4 } from 'node:net';
import { availableParallelism } from 'node:os';
import type { EngineConfig, LegConfig } from '../native/addon.js';
import { optionError } from '../errors.js';
import { parseEndpoint, parseLocalAddress, type Endpoint } from './address.js';
import { checkCongestionControl } from './congestion.js';
import { byteSize, wholeNumber } from './numbers.js';
import type { SourcedOptions } from './sources.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogOptions {
  file: string | null;
  level: LogLevel;
  format: LogFormat;
  worker: number | null;   // set in a worker process: every line says which
  journal: boolean;        // stdout goes to journald: prefix lines with their <priority>
}

export interface ProxyOptions {
  listen: Endpoint[];
  backlog: number;
  engine: EngineConfig;
  drainTimeoutMs: number;
  workers: number;
  metrics: Endpoint | null;
  pidFile: string | null;
  log: LogOptions;
}

export interface SystemProbes {
  probeCongestion(name: string): string | null;
  probeMptcp(): string | null;
}

/** Typed reads of the merged values, each with the label of its source for messages. */
class Values {
  constructor(private readonly opts: SourcedOptions) {}

  what(key: string): string {
    const source = this.opts.get(key)?.source ?? 'default';
    return source === 'default' ? `--${key} (default)` : source;
  }

  has(key: string): boolean {
    return this.opts.has(key);
  }

  str(key: string): string | undefined {
    const v = this.opts.get(key)?.value;
    return v === undefined ? undefined : String(v);
  }

  bool(key: string): boolean {
    return this.opts.get(key)?.value === true;
  }

  list(key: string): string[] {
    const v = this.opts.get(key)?.value;
    return v === undefined ? [] : ([] as string[]).concat(v as string | string[]);
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const value = this.str(key) ?? '';
    if ((allowed as readonly string[]).includes(value)) return value as T;
    throw optionError(this.what(key), `'${value}' is not one of ${allowed.join(', ')}`);
  }

  whole(key: string, min: number, max: number): number {
    return wholeNumber(this.str(key), this.what(key), min, max);
  }

  /** A whole number that may be absent (0 then). */
  optionalWhole(key: string, min: number, max: number): number {
    return this.has(key) ? this.whole(key, min, max) : 0;
  }
}

function leg(v: Values, ccKey: 'cc-client' | 'cc-server', probes: SystemProbes): LegConfig {
  const key = v.has(ccKey) ? ccKey : 'cc';
  const cc = v.str(key);
  if (cc !== undefined) checkCongestionControl(cc, v.what(key), probes.probeCongestion);
  const keepIdle = v.optionalWhole('keepalive-idle', 1, 32767);
  const keepInterval = v.optionalWhole('keepalive-interval', 1, 32767);
  const keepCount = v.optionalWhole('keepalive-count', 1, 127);
  const keepalive = v.bool('keepalive');
  if ((keepIdle || keepInterval || keepCount) && !keepalive) {
    throw optionError(v.what(keepIdle ? 'keepalive-idle' : keepInterval ? 'keepalive-interval' : 'keepalive-count'), 'needs -k/--keepalive');
  }
  return { cc: cc ?? '', nodelay: v.bool('tcp-nodelay'), keepalive, keepIdle, keepInterval, keepCount };
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
  if (listen.length === 0) throw optionError(what, 'at least one address is needed');
  const seen = new Set<string>();
  for (const e of listen) {
    const key = `${e.host}|${e.port}`;
    if (seen.has(key)) throw optionError(what, `${e.host} port ${e.port} is given twice`);
    seen.add(key);
  }
  return listen;
}

export function buildProxyOptions(opts: SourcedOptions, probes: SystemProbes): ProxyOptions {
  const v = new Values(opts);
  const mptcp = v.bool('mptcp');
  if (mptcp) {
    const err = probes.probeMptcp();
    if (err !== null) throw optionError(v.what('mptcp'), `this kernel cannot create MPTCP sockets (${err}; check net.mptcp.enabled)`);
  }
  const logLevel = v.oneOf('log-level', LOG_LEVELS);
  const metrics = v.str('metrics') ?? 'off';
  const workers = v.str('workers') ?? '1';
  return {
    listen: listenAddresses(v),
    backlog: v.whole('backlog', 1, 1 << 20),
    engine: {
      ...bindOutgoing(v),
      mark: v.whole('mark', 0, 0xffffffff),
      mptcp,
      clientLeg: leg(v, 'cc-client', probes),
      serverLeg: leg(v, 'cc-server', probes),
      bufferSize: byteSize(v.str('buffer-size'), v.what('buffer-size'), 4096, 256 << 20),
      maxConnections: v.whole('max-connections', 0, 0xffffffff),
      connectTimeoutMs: v.whole('connect-timeout', 1, 3_600_000),
      idleTimeoutMs: v.whole('idle-timeout', 0, 31 * 86400) * 1000,
      inspect: logLevel === 'debug',
    },
    drainTimeoutMs: v.whole('drain-timeout', 0, 86400) * 1000,
    workers: workers === 'auto' ? availableParallelism() : v.whole('workers', 1, 256),
    metrics: metrics === 'off' ? null : parseEndpoint(metrics, v.what('metrics')),
    pidFile: v.str('pid-file') ?? null,
    log: {
      file: v.str('log') ?? null,
      level: logLevel,
      format: v.oneOf('log-format', LOG_FORMATS),
      worker: null,
      journal: !v.str('log') && Boolean(process.env.JOURNAL_STREAM),
    },
  };
}

// From raw option values (command line today, config file later) to a validated ProxyOptions.
import { isIPv4 } from 'node:net';
import { availableParallelism } from 'node:os';
import type { EngineConfig, LegConfig } from '../native/addon.js';
import { UsageError } from '../errors.js';
import { parseEndpoint, parseLocalAddress, type Endpoint } from './address.js';
import { checkCongestionControl } from './congestion.js';
import { byteSize, wholeNumber } from './numbers.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Option values as the CLI hands them over (names are the long options, camel-cased). */
export interface RawOptions {
  bindListen: string[];
  bindOutgoing: string;
  backlog: unknown;
  keepalive: boolean;
  keepaliveIdle?: unknown;
  keepaliveInterval?: unknown;
  keepaliveCount?: unknown;
  tcpNodelay: boolean;
  cc?: string;
  ccClient?: string;
  ccServer?: string;
  mptcp: boolean;
  bufferSize: unknown;
  maxConnections: unknown;
  connectTimeout: unknown;
  idleTimeout: unknown;
  mark: unknown;
  drainTimeout: unknown;
  workers: unknown;
  pidFile?: string;
  log?: string;
  logLevel: string;
  logFormat: string;
}

export interface LogOptions {
  file: string | null;
  level: LogLevel;
  format: LogFormat;
  worker: number | null;   // set in a worker process: every line says which
}

export interface ProxyOptions {
  listen: Endpoint[];
  backlog: number;
  engine: EngineConfig;
  drainTimeoutMs: number;
  workers: number;
  pidFile: string | null;
  log: LogOptions;
}

export interface SystemProbes {
  probeCongestion(name: string): string | null;
  probeMptcp(): string | null;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${what}: '${value}' is not one of ${allowed.join(', ')}`);
}

function leg(raw: RawOptions, cc: string | undefined, what: string, probes: SystemProbes): LegConfig {
  if (cc !== undefined) checkCongestionControl(cc, what, probes.probeCongestion);
  const seconds = (v: unknown, name: string): number =>
    v === undefined ? 0 : wholeNumber(v, `--${name}`, 1, 32767);
  const keepIdle = seconds(raw.keepaliveIdle, 'keepalive-idle');
  const keepInterval = seconds(raw.keepaliveInterval, 'keepalive-interval');
  const keepCount = raw.keepaliveCount === undefined ? 0 : wholeNumber(raw.keepaliveCount, '--keepalive-count', 1, 127);
  const tuned = keepIdle || keepInterval || keepCount;
  if (tuned && !raw.keepalive) {
    throw new UsageError('--keepalive-idle, --keepalive-interval and --keepalive-count need -k/--keepalive');
  }
  return { cc: cc ?? '', nodelay: raw.tcpNodelay, keepalive: raw.keepalive, keepIdle, keepInterval, keepCount };
}

function bindOutgoing(text: string): Pick<EngineConfig, 'bindMode' | 'fixed4' | 'fixed6'> {
  if (text === 'client' || text === 'client-port') return { bindMode: text, fixed4: null, fixed6: null };
  const host = parseLocalAddress(text, '-B/--bind-outgoing');
  return isIPv4(host)
    ? { bindMode: 'fixed', fixed4: host, fixed6: null }
    : { bindMode: 'fixed', fixed4: null, fixed6: host };
}

export function buildProxyOptions(raw: RawOptions, probes: SystemProbes): ProxyOptions {
  if (raw.bindListen.length === 0) throw new UsageError('-b/--bind-listen: at least one address is needed');
  const listen = raw.bindListen.map((b) => parseEndpoint(b, '-b/--bind-listen'));
  const seen = new Set<string>();
  for (const e of listen) {
    const key = `${e.host}|${e.port}`;
    if (seen.has(key)) throw new UsageError(`-b/--bind-listen: ${e.host} port ${e.port} is given twice`);
    seen.add(key);
  }
  if (raw.mptcp) {
    const err = probes.probeMptcp();
    if (err !== null) throw new UsageError(`--mptcp: this kernel cannot create MPTCP sockets (${err}; check net.mptcp.enabled)`);
  }
  return {
    listen,
    backlog: wholeNumber(raw.backlog, '--backlog', 1, 1 << 20),
    engine: {
      ...bindOutgoing(raw.bindOutgoing),
      mark: wholeNumber(raw.mark, '--mark', 0, 0xffffffff),
      mptcp: raw.mptcp,
      clientLeg: leg(raw, raw.ccClient ?? raw.cc, raw.ccClient !== undefined ? '--cc-client' : '--cc', probes),
      serverLeg: leg(raw, raw.ccServer ?? raw.cc, raw.ccServer !== undefined ? '--cc-server' : '--cc', probes),
      bufferSize: byteSize(raw.bufferSize, '--buffer-size', 4096, 256 << 20),
      maxConnections: wholeNumber(raw.maxConnections, '--max-connections', 0, 0xffffffff),
      connectTimeoutMs: wholeNumber(raw.connectTimeout, '--connect-timeout', 1, 3_600_000),
      idleTimeoutMs: wholeNumber(raw.idleTimeout, '--idle-timeout', 0, 31 * 86400) * 1000,
      inspect: raw.logLevel === 'debug',
    },
    drainTimeoutMs: wholeNumber(raw.drainTimeout, '--drain-timeout', 0, 86400) * 1000,
    workers: raw.workers === 'auto' ? availableParallelism() : wholeNumber(raw.workers, '--workers', 1, 256),
    pidFile: raw.pidFile ?? null,
    log: {
      file: raw.log ?? null,
      level: oneOf(raw.logLevel, LOG_LEVELS, '--log-level'),
      format: oneOf(raw.logFormat, LOG_FORMATS, '--log-format'),
      worker: null,
    },
  };
}

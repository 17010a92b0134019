// What a trace is asked to do, checked the same way from the command line and from the control
// socket (where `tcp-intercept trace` hands it to a running service).
import { wholeNumber } from '../config/numbers.js';
import { UsageError } from '../errors.js';
import { parseDestination, type Destination } from '../trace/destination.js';
import { TRACE_DEFAULTS, type TraceSettings } from '../trace/trace-settings.js';

/** As typed (strings from the command line, or the JSON a client sent). */
export interface RawTraceArgs {
  destination: unknown;
  port?: unknown;
  maxTtl?: unknown;
  probes?: unknown;
  probeTimeout?: unknown;
  wait?: unknown;
}

export interface TraceArgs {
  destination: Destination;
  port: number;
  settings: TraceSettings;
  waitMs: number;
}

export const DEFAULT_WAIT_S = 30;

export function checkTraceArgs(raw: RawTraceArgs): TraceArgs {
  const destination = typeof raw.destination === 'string' ? parseDestination(raw.destination) : null;
  if (destination === null) throw new UsageError(`trace: '${String(raw.destination)}' is not a numeric IPv4 or IPv6 address`);
  const n = (v: unknown, fallback: number, what: string, min: number, max: number): number => wholeNumber(v ?? fallback, what, min, max);
  return {
    destination,
    port: raw.port === undefined ? 0 : n(raw.port, 0, '--port', 1, 65535),
    settings: {
      ...TRACE_DEFAULTS,
      maxTtl: n(raw.maxTtl, TRACE_DEFAULTS.maxTtl, '--max-ttl', 1, 255),
      probesPerTtl: n(raw.probes, TRACE_DEFAULTS.probesPerTtl, '--probes', 1, 10),
      probeTimeoutMs: n(raw.probeTimeout, TRACE_DEFAULTS.probeTimeoutMs, '--probe-timeout', 10, 60_000),
    },
    waitMs: n(raw.wait, DEFAULT_WAIT_S, '--wait', 0, 86_400) * 1000,
  };
}

/** 0 reached, 1 traced but not reached, 75 no live flow (EX_TEMPFAIL). */
export function traceExitStatus(reached: boolean, noFlow: boolean): number {
  if (noFlow) return 75;
  return reached ? 0 : 1;
}

// Trace as the service runs it, from merged option values. Every message names where the bad
// value came from.
import { isIP } from 'node:net';
import { optionError } from '../errors.js';
import type { Values } from './values.js';

export interface TraceService {
  /** --trace: trace the busy destinations again and again */
  continuous: boolean;
  destinations: string[];
  intervalMs: number;
  logFile: string | null;
  probesPerSecond: number;
}

const TUNING = ['trace-destination', 'trace-interval', 'trace-log'];

export function buildTraceService(v: Values): TraceService {
  const continuous = v.bool('trace');
  const stray = TUNING.find((k) => v.given(k));
  if (!continuous && stray) throw optionError(v.what(stray), 'needs --trace');
  const destinations = v.list('trace-destination').flatMap((d) => d.split(',')).map((d) => d.trim()).filter(Boolean);
  const bad = destinations.find((d) => isIP(d) === 0);
  if (bad !== undefined) throw optionError(v.what('trace-destination'), `'${bad}' is not a numeric IPv4 or IPv6 address`);
  return {
    continuous,
    destinations,
    intervalMs: v.whole('trace-interval', 10, 86_400) * 1000,
    logFile: v.str('trace-log') ?? null,
    probesPerSecond: v.whole('trace-probes-per-second', 1, 100_000),
  };
}

// How a trace probes: TTLs, probes per TTL, timeouts, budgets; the defaults of every front end.

export interface TraceSettings {
  /** highest TTL (hop limit) probed */
  maxTtl: number;
  /** probes per TTL: the share left unanswered is the hop's loss */
  probesPerTtl: number;
  /** how long a probe may wait for its answer, milliseconds */
  probeTimeoutMs: number;
  /** TTLs sent at once; the next ones go when these are answered or timed out */
  window: number;
  /** between two rounds of one TTL each: Linux routers answer a burst of 6 per destination, then 1 a second */
  roundGapMs: number;
  /** a trace that sees this many silent TTLs in a row ends there */
  silentLimit: number;
}

/** Trace's queue rules take every small packet of a traced flow (ACKs, the answers) and one in
 *  this many larger ones: enough for fresh headers and the flow's progress, and a bulk flow's data
 *  mostly skips the detour through the queue. */
export const TRACE_SAMPLE_LARGE = 16;

/** Probes per second over all traces of a standalone `trace` at most. */
export const TRACE_PROBES_PER_SECOND = 500;

export const TRACE_DEFAULTS: TraceSettings = {
  maxTtl: 30,
  probesPerTtl: 3,
  probeTimeoutMs: 1500,
  window: 8,
  roundGapMs: 20,
  silentLimit: 5,
};

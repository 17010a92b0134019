// What snoop runs with (the --snoop-* options), shared by the stage, the commands and the rules.

export interface SnoopSettings {
  /** the lossy side(s): data forwarded out of these is cached, ACKs coming in on them are watched */
  interfaces: readonly string[];
  /** bytes cached over all flows at most */
  cacheBytes: number;
  /** bytes cached per flow at most */
  flowCacheBytes: number;
  /** floor of the local retransmission timeout, milliseconds */
  minRtoMs: number;
  /** local retransmissions of one segment at most; then the sender's own recovery takes over */
  maxRetransmits: number;
}

export const SNOOP_DEFAULTS = {
  cacheBytes: 64 * 1024 * 1024,
  flowCacheBytes: 4 * 1024 * 1024,
  minRtoMs: 20,
  maxRetransmits: 3,
} as const;

/** A flow untouched this long is forgotten (soft state: the ends recover by themselves). */
export const SNOOP_IDLE_MS = 60_000;

/** Counters before anything happened. */
export function noCounters(): SnoopCounters {
  return {
    localRetransmits: 0, dupacksSuppressed: 0, timeouts: 0, flows: 0, cacheBytes: 0,
    evictions: { idle: 0, cap: 0, memory: 0 }, uncached: 0, injectFailures: 0,
  };
}

/** What the stage has done, read by the metrics and the report. */
export interface SnoopCounters {
  /** copies of cached segments sent toward the lossy side, for duplicate ACKs and timeouts */
  localRetransmits: number;
  /** duplicate ACKs from the lossy side kept from the sender */
  dupacksSuppressed: number;
  /** local timer expiries that retransmitted */
  timeouts: number;
  /** flows followed now */
  flows: number;
  /** bytes cached now */
  cacheBytes: number;
  /** flows forgotten: idle, over the flow cap, or to make room in the total cache */
  evictions: { idle: number; cap: number; memory: number };
  /** data segments forwarded without caching (their flow's or the total cache was full, or truncated) */
  uncached: number;
  /** retransmissions the raw socket refused */
  injectFailures: number;
}

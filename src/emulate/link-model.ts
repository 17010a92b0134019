// The decisions of `tcp-intercept emulate`, without packets or timers: for each packet, drop it
// (and why) or say when to release it. The caller holds the packet and schedules the release.
//
// Per packet, in this order: the Gilbert-Elliott state steps and, in the bad state, the packet
// is dropped; in the good state --loss may drop it. Only then does it reach the rate server
// (tail drop when --limit packets are already there), wait for the link, occupy it for its
// serialization time, and travel for --delay ± --jitter. A dropped packet never takes link time.
//
// Release times never decrease in admission order: a packet whose own time falls before the
// previous packet's release leaves with it instead. So unlike netem, jitter never reorders:
// a real link does not reorder, and reordering would make TCP fast-retransmit packets that were
// never lost, distorting any loss measurement. The price: when packets arrive less than
// 2 × jitter apart, the applied delay averages above --delay (it stays within delay ± jitter).
import { DECIMAL } from '../config/numbers.js';

export interface BurstSettings {
  /** Probability, per packet in the good state, of moving to the bad state. */
  enter: number;
  /** Probability, per packet in the bad state, of returning to the good state. */
  exit: number;
}

export interface LinkSettings {
  delayMs: number;
  jitterMs: number;
  lossPercent: number;
  burst: BurstSettings | null;
  rateMbit: number | null;
  /** Packets that may wait for the rate server, the one serializing included; used only with a rate. */
  limit: number;
}

export type DropCause = 'loss' | 'burst' | 'limit';

export interface LinkStats {
  packetsSeen: number;
  bytesSeen: number;
  packetsPassed: number;
  bytesPassed: number;
  dropped: Record<DropCause, number>;
  /** Entries into the bad state; dropped.burst / bursts is the mean burst length. */
  bursts: number;
  /** release - arrival of the packets passed; min and max are 0 until one passes. */
  delayMinMs: number;
  delaySumMs: number;
  delayMaxMs: number;
  rateMbit: number | null;
  /** Most packets ever waiting for or in serialization, the newly admitted one included. */
  maxBacklog: number;
}

export class LinkModel {
  private readonly counters: LinkStats;
  private badState = false;
  private lastReleaseMs = -Infinity;
  private linkFreeAtMs = -Infinity;
  /** Serialization finish times of the packets in the rate server, non-decreasing; live from `head`. */
  private readonly finishes: number[] = [];
  private head = 0;

  constructor(
    private readonly settings: LinkSettings,
    private readonly random: () => number = Math.random,
  ) {
    this.counters = {
      packetsSeen: 0, bytesSeen: 0, packetsPassed: 0, bytesPassed: 0,
      dropped: { loss: 0, burst: 0, limit: 0 },
      bursts: 0, delayMinMs: 0, delaySumMs: 0, delayMaxMs: 0,
      rateMbit: settings.rateMbit, maxBacklog: 0,
    };
  }

  /** A snapshot of what the model has done so far. */
  get stats(): LinkStats {
    return { ...this.counters, dropped: { ...this.counters.dropped } };
  }

  /**
   * Decides the fate of one packet of `bytes` bytes arriving at `nowMs` (monotonic, fractional
   * allowed): why it is dropped, or the time (ms, same clock) at which to release it.
   */
  admit(nowMs: number, bytes: number): DropCause | number {
    const s = this.settings, c = this.counters;
    c.packetsSeen++;
    c.bytesSeen += bytes;

    const cause = this.lose();
    if (cause !== null) {
      c.dropped[cause]++;
      return cause;
    }

    let readyMs = nowMs;
    if (s.rateMbit !== null) {
      const backlog = this.drainUntil(nowMs);
      if (backlog >= s.limit) {
        c.dropped.limit++;
        return 'limit';
      }
      this.linkFreeAtMs = Math.max(nowMs, this.linkFreeAtMs) + (bytes * 8) / (s.rateMbit * 1000);
      this.finishes.push(this.linkFreeAtMs);
      c.maxBacklog = Math.max(c.maxBacklog, backlog + 1);
      readyMs = this.linkFreeAtMs;
    }

    let delayMs = s.delayMs;
    if (s.jitterMs > 0) delayMs = Math.max(0, delayMs + (2 * this.random() - 1) * s.jitterMs);
    const releaseMs = Math.max(readyMs + delayMs, this.lastReleaseMs);
    this.lastReleaseMs = releaseMs;

    const applied = releaseMs - nowMs;
    if (c.packetsPassed === 0) {
      c.delayMinMs = applied;
      c.delayMaxMs = applied;
    } else {
      c.delayMinMs = Math.min(c.delayMinMs, applied);
      c.delayMaxMs = Math.max(c.delayMaxMs, applied);
    }
    c.delaySumMs += applied;
    c.packetsPassed++;
    c.bytesPassed += bytes;
    return releaseMs;
  }

  /** Steps the Gilbert-Elliott chain, then applies the bad state or --loss. */
  private lose(): DropCause | null {
    const { burst, lossPercent } = this.settings;
    if (burst !== null) {
      if (this.badState) {
        if (this.random() < burst.exit) this.badState = false;
      } else if (this.random() < burst.enter) {
        this.badState = true;
        this.counters.bursts++;
      }
      if (this.badState) return 'burst';
    }
    if (lossPercent > 0 && this.random() * 100 < lossPercent) return 'loss';
    return null;
  }

  /** Forgets the packets done serializing by `nowMs`; returns how many remain. */
  private drainUntil(nowMs: number): number {
    const f = this.finishes;
    while (this.head < f.length && f[this.head] <= nowMs) this.head++;
    if (this.head === f.length) {
      f.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= f.length) {
      f.splice(0, this.head);
      this.head = 0;
    }
    return f.length - this.head;
  }
}

/** null when the settings are usable, else a one-line message naming the flag. */
export function validateLinkSettings(s: LinkSettings): string | null {
  if (!(Number.isFinite(s.delayMs) && s.delayMs >= 0)) return `--delay must be a number of milliseconds >= 0, got ${s.delayMs}`;
  if (!(Number.isFinite(s.jitterMs) && s.jitterMs >= 0)) return `--jitter must be a number of milliseconds >= 0, got ${s.jitterMs}`;
  if (!(s.lossPercent >= 0 && s.lossPercent <= 100)) return `--loss must be a percentage in [0, 100], got ${s.lossPercent}`;
  if (s.burst !== null) {
    if (!(s.burst.enter > 0 && s.burst.enter <= 1)) return `--burst P_ENTER must be a probability in (0, 1], got ${s.burst.enter}`;
    if (!(s.burst.exit > 0 && s.burst.exit <= 1)) return `--burst P_EXIT must be a probability in (0, 1], got ${s.burst.exit}`;
  }
  if (s.rateMbit !== null && !(Number.isFinite(s.rateMbit) && s.rateMbit > 0)) return `--rate must be a number of Mbit/s > 0, got ${s.rateMbit}`;
  if (!(Number.isSafeInteger(s.limit) && s.limit >= 1)) return `--limit must be a whole number of packets >= 1, got ${s.limit}`;
  return null;
}


/** "0.01,0.3" or "1%,30%" (forms may be mixed) -> probabilities in [0, 1]; throws on anything else. */
export function parseBurst(text: string): BurstSettings {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length !== 2 || parts.some((p) => p === '')) {
    throw new Error(`--burst must be P_ENTER,P_EXIT (e.g. 0.01,0.3 or 1%,30%), got '${text}'`);
  }
  return { enter: parseProbability(parts[0], 'P_ENTER'), exit: parseProbability(parts[1], 'P_EXIT') };
}

function parseProbability(part: string, name: string): number {
  const percent = part.endsWith('%');
  const digits = percent ? part.slice(0, -1).trim() : part;
  if (digits.startsWith('-') && DECIMAL.test(digits.slice(1))) throw new Error(`--burst ${name} must not be negative, got ${part}`);
  if (!DECIMAL.test(digits)) throw new Error(`--burst ${name} must be a number or a percentage, got '${part}'`);
  const n = Number(digits);
  if (percent) {
    if (n > 100) throw new Error(`--burst ${name} must be a percentage up to 100%, got ${part}`);
    return n / 100;
  }
  if (n > 1) throw new Error(`--burst ${name} must be a probability in [0, 1], got ${part} (for a percentage write ${part}%)`);
  return n;
}

/** What the emulator did, in the lines it prints on exit. */
export function formatLinkStats(stats: LinkStats): string[] {
  const { packetsSeen, packetsPassed, dropped } = stats;
  const lossShare = packetsSeen > 0 ? (100 * dropped.loss) / packetsSeen : 0;
  const lines = [
    `packets ${packetsSeen} seen, ${packetsPassed} passed, ${dropped.loss} lost (${lossShare.toFixed(2)}%), ` +
      `${dropped.burst} in bursts, ${dropped.limit} over the queue limit`,
    `bytes ${stats.bytesSeen} seen, ${stats.bytesPassed} passed`,
  ];
  if (stats.bursts > 0) {
    lines.push(`bursts: ${stats.bursts}, mean length ${(dropped.burst / stats.bursts).toFixed(2)} packets`);
  }
  lines.push(packetsPassed > 0
    ? `delay applied: min ${stats.delayMinMs.toFixed(1)} ms, mean ${(stats.delaySumMs / packetsPassed).toFixed(1)} ms, max ${stats.delayMaxMs.toFixed(1)} ms`
    : 'delay applied: none (no packet passed)');
  if (stats.rateMbit !== null) lines.push(`rate ${stats.rateMbit} Mbit/s: max backlog ${stats.maxBacklog} packets`);
  return lines;
}

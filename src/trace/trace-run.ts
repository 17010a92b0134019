// One trace of one flow: which probes go when, the answers by TTL, and when it is over.
//
// TTLs are probed a window at a time (all at once: a trace of a short path takes about one
// timeout), one round of the window per probe, rounds a little apart. A router at TTL t answers
// with ICMP; a probe that reaches the destination is answered by its TCP (see probe-packet.ts);
// the lowest TTL so answered is the destination's distance, and probes beyond it are forgotten.
// It ends when the destination answered and every TTL below it is answered or timed out; or at
// a run of silent TTLs, a router's "unreachable", or the highest TTL.
import type { DoneReason, HopKind, HopRecord, MplsEntry } from './trace-records.js';
import type { TraceSettings } from './trace-settings.js';

export interface Probe {
  ttl: number;
  seq: number;
  ident: number;
  sentAt: number;
  answered: boolean;
}

export interface Answer {
  from: string;
  kind: Exclude<HopKind, 'silent'>;
  quotedTtl: number | null;
  replyTtl: number | null;
  mpls: MplsEntry[];
  nat: boolean;
  icmp?: { type: number; code: number };
}

interface Hop {
  probes: Probe[];
  rtts: number[];
  answer: Answer | null;
  others: Set<string>;
  firstAt: number;
}

interface Planned { ttl: number; at: number }

export class TraceRun {
  readonly startedAt: number;
  readonly startedWall = new Date();
  readonly #settings: TraceSettings;
  /** sequence numbers still free for probes: bytes below the destination's acknowledgment */
  readonly #seqBase: number;
  #seqUsed = 0;
  readonly #hops: Hop[] = [];
  readonly #plan: Planned[] = [];
  #windowTop = 0;
  #destinationTtl = 0;
  #ended: DoneReason | null = null;
  #sent = 0;

  /** <ackFromDestination>: the highest acknowledgment the destination sent; probes take the bytes just below it. */
  constructor(settings: TraceSettings, ackFromDestination: number, now: number) {
    this.#settings = settings;
    this.#seqBase = ackFromDestination;
    this.startedAt = now;
    this.#openWindow(now);
  }

  get probesSent(): number {
    return this.#sent;
  }

  /** Why it ended, once it has. */
  get ended(): DoneReason | null {
    return this.#ended;
  }

  /** The next sequence number for a probe: one already-acknowledged byte each, newest first. */
  nextSeq(): number {
    this.#seqUsed++;
    return (this.#seqBase - this.#seqUsed) >>> 0;
  }

  /** TTLs of the probes due by <now>, in order; the caller sends them (or fewer, by budget) and calls sent(). */
  due(now: number): number[] {
    if (this.#ended) return [];
    const out: number[] = [];
    for (const p of this.#plan) {
      if (p.at > now) break;
      out.push(p.ttl);
    }
    return out;
  }

  /** Records a probe sent (the first due one). */
  sent(probe: Probe): void {
    this.#plan.shift();
    this.#hop(probe.ttl).probes.push(probe);
    this.#sent++;
  }

  /** A send that failed: the probe is not retried, and counts as unanswered. */
  skipped(): void {
    this.#plan.shift();
  }

  answer(probe: Probe, a: Answer, now: number): void {
    if (this.#ended || probe.answered) return;
    probe.answered = true;
    const hop = this.#hop(probe.ttl);
    hop.rtts.push(Math.round((now - probe.sentAt) * 100) / 100);
    if (hop.answer === null) {
      hop.answer = a;
      hop.firstAt = Date.now();
    } else if (a.from !== hop.answer.from) {
      hop.others.add(a.from);
    }
    const final = a.kind === 'destination' || a.kind === 'unreachable';
    if (final && (this.#destinationTtl === 0 || probe.ttl < this.#destinationTtl)) this.#destinationTtl = probe.ttl;
  }

  /** Ends it early (the flow ended, retransmits, the caller stops). */
  abort(reason: DoneReason): void {
    this.#ended ??= reason;
  }

  /** Moves it on: ends it, or opens the next window. Returns true once it has ended. */
  step(now: number): boolean {
    if (this.#ended) return true;
    const s = this.#settings;
    const d = this.#destinationTtl;
    if (d) {
      if (this.#plan.some((p) => p.ttl < d) || !this.#resolvedBelow(d, now)) return false;
      this.#ended = this.#hops[d]?.answer?.kind === 'destination' ? 'reached' : 'unreachable';
      return true;
    }
    if (this.#plan.length > 0 || !this.#resolvedBelow(this.#windowTop + 1, now)) return false;
    if (this.#silentRun() >= s.silentLimit) {
      this.#ended = 'silent';
    } else if (this.#windowTop >= s.maxTtl) {
      this.#ended = 'max-ttl';
    } else {
      this.#openWindow(now);
    }
    return this.#ended !== null;
  }

  /** When step() or due() next has something to do. */
  nextWake(now: number): number {
    if (this.#ended) return now;
    let wake = this.#plan.length ? this.#plan[0].at : Infinity;
    for (const hop of this.#hops) {
      for (const p of hop?.probes ?? []) if (!p.answered) wake = Math.min(wake, p.sentAt + this.#settings.probeTimeoutMs);
    }
    return Math.max(now, wake === Infinity ? now + this.#settings.probeTimeoutMs : wake);
  }

  /** The hop records, up to the destination or the last TTL tried. */
  hops(flow: string): HopRecord[] {
    const last = this.hopCount();
    const out: HopRecord[] = [];
    for (let ttl = 1; ttl <= last; ttl++) {
      const hop = this.#hops[ttl];
      const a = hop?.answer ?? null;
      const sent = hop?.probes.length ?? 0;
      const answered = hop?.rtts.length ?? 0;
      const atDestination = a?.kind === 'destination';
      out.push({
        type: 'hop', flow, ttl, address: a?.from ?? null, kind: a?.kind ?? 'silent', rttMs: hop?.rtts ?? [],
        sent, answered, lossPct: atDestination || sent === 0 ? null : Math.round((1 - answered / sent) * 1000) / 10,
        quotedTtl: a?.quotedTtl ?? null, replyTtl: a?.replyTtl ?? null, mpls: a?.mpls ?? [], nat: a?.nat ?? false,
        others: hop ? [...hop.others] : [], ...(a?.icmp ? { icmp: a.icmp } : {}),
        at: a && hop ? new Date(hop.firstAt).toISOString() : null,
      });
    }
    return out;
  }

  /** Hops reported: up to the destination, else up to the last TTL tried. */
  hopCount(): number {
    return this.#destinationTtl || this.#windowTop;
  }

  #openWindow(now: number): void {
    const s = this.#settings;
    const from = this.#windowTop + 1;
    const to = Math.min(s.maxTtl, this.#windowTop + s.window);
    for (let round = 0; round < s.probesPerTtl; round++) {
      for (let ttl = from; ttl <= to; ttl++) this.#plan.push({ ttl, at: now + round * s.roundGapMs });
    }
    this.#windowTop = to;
  }

  #hop(ttl: number): Hop {
    return (this.#hops[ttl] ??= { probes: [], rtts: [], answer: null, others: new Set(), firstAt: 0 });
  }

  /** Every probe below <ttl> answered or past its timeout. */
  #resolvedBelow(ttl: number, now: number): boolean {
    for (let t = 1; t < ttl; t++) {
      for (const p of this.#hops[t]?.probes ?? []) {
        if (!p.answered && now < p.sentAt + this.#settings.probeTimeoutMs) return false;
      }
    }
    return true;
  }

  /** Silent TTLs at the top of what was tried. */
  #silentRun(): number {
    let n = 0;
    for (let t = this.#windowTop; t >= 1 && !this.#hops[t]?.answer; t--) n++;
    return n;
  }

}

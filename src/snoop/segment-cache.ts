// The segments of one flow that went toward the lossy side and were not yet acknowledged from
// there, ordered by sequence number (serial arithmetic). Segments mostly arrive in order and
// leave from the front as ACKs cover them: appending and freeing are O(1); an out-of-order insert
// (a sender retransmission filling a hole) shifts the tail. Lookups are by byte coverage, never by
// exact start, since a sender may re-segment what it sends again. A GSO packet is cached once, as
// pieces of wire size that share its copy.
import { seqGe, seqGt, seqLe, seqLt } from '../packet/seq.js';
import type { ArenaChunk, CopyArena } from './copy-arena.js';

export class CachedSegment {
  /** first sequence number and the one after the segment (payload, plus one for FIN) */
  seq: number;
  end: number;
  /** the IP packet as it was forwarded: chunk.buf[offset, offset + length) */
  readonly chunk: ArenaChunk;
  readonly offset: number;
  readonly length: number;
  /** the segment is that whole packet; else a piece of a GSO packet (see segment-packet.ts): its
   *  headers' length, where its payload starts in the packet, how long it is, its index */
  whole = true;
  headerLength = 0;
  payloadStart = 0;
  payloadLength = 0;
  piece = 0;
  lastPiece = true;
  /** when it was last sent toward the lossy side (forwarded or retransmitted), performance.now() */
  lastTx: number;
  /** local retransmissions of it */
  localRetransmits = 0;
  /** the sender sent it again, or it arrived out of order: its duplicate ACKs belong to the sender */
  senderRetransmit: boolean;
  /** a SACK block from the mobile covered it: not missing there */
  sacked = false;

  constructor(seq: number, end: number, chunk: ArenaChunk, offset: number, length: number, now: number, senderRetransmit: boolean) {
    this.seq = seq;
    this.end = end;
    this.chunk = chunk;
    this.offset = offset;
    this.length = length;
    this.lastTx = now;
    this.senderRetransmit = senderRetransmit;
  }

  /** Karn: only a segment sent once times the round trip. */
  get timesRoundTrip(): boolean {
    return this.localRetransmits === 0 && !this.senderRetransmit;
  }
}

export class SegmentCache {
  /** where the segments' packets are copied: its bytes are the flow's cache memory */
  readonly arena: CopyArena;
  #segments: CachedSegment[] = [];
  #start = 0;

  constructor(arena: CopyArena) {
    this.arena = arena;
  }

  get count(): number {
    return this.#segments.length - this.#start;
  }

  /** The i-th segment from the lowest sequence number. */
  at(i: number): CachedSegment {
    return this.#segments[this.#start + i];
  }

  head(): CachedSegment | null {
    return this.count > 0 ? this.#segments[this.#start] : null;
  }

  tail(): CachedSegment | null {
    return this.count > 0 ? this.#segments[this.#segments.length - 1] : null;
  }

  /** Index of the first segment ending after seq (the one holding byte seq, or the next above it). */
  firstEndingAfter(seq: number): number {
    let lo = 0, hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqLe(this.at(mid).end, seq)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Whether some cached segment holds a byte of [seq, end). */
  overlaps(seq: number, end: number): boolean {
    const i = this.firstEndingAfter(seq);
    return i < this.count && seqLt(this.at(i).seq, end);
  }

  /** Adds a segment overlapping none cached (check overlaps() first), in sequence order. */
  insert(s: CachedSegment): void {
    const tail = this.tail();
    if (tail === null || seqGe(s.seq, tail.end)) {
      this.#segments.push(s);
      return;
    }
    this.#segments.splice(this.#start + this.firstEndingAfter(s.seq), 0, s);
  }

  /**
   * Frees every segment the cumulative ACK covers. Returns the last freed segment that may time
   * the round trip (Karn), or null.
   */
  freeAcked(ack: number): CachedSegment | null {
    let sample: CachedSegment | null = null;
    while (this.count > 0) {
      const s = this.#segments[this.#start];
      if (seqGt(s.end, ack)) break;
      if (s.timesRoundTrip) sample = s;
      this.arena.release(s.chunk);
      this.#segments[this.#start++] = undefined as unknown as CachedSegment;
    }
    if (this.#start > 1024 && this.#start * 2 > this.#segments.length) {
      this.#segments = this.#segments.slice(this.#start);
      this.#start = 0;
    } else if (this.count === 0) {
      this.#segments.length = 0;
      this.#start = 0;
    }
    return sample;
  }

  clear(): void {
    this.#segments = [];
    this.#start = 0;
    this.arena.clear();
  }
}

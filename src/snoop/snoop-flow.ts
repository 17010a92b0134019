// One connection as the base station's snoop agent sees it (Balakrishnan et al., MobiCom'95), in
// byte sequence space with serial arithmetic. Data toward the lossy side is cached and forwarded;
// ACKs from the lossy side free the cache, time the last hop, and, when they are duplicates for
// bytes the cache holds, start a local retransmission and are kept from the sender. The agent never
// acknowledges data itself and never changes a byte: it only forwards, drops duplicate ACKs, and
// sends byte-identical copies of what it forwarded.
//
// What it decides on (docs: ../shared/reference/snoop.md, §2.3-2.5):
// - Data at or above the highest byte seen is new: cached. Data below it is the sender's own
//   retransmission or reordering upstream: marked (or cached) as the sender's, whose duplicate ACKs
//   then reach the sender, as do those for bytes the agent never saw (loss before it).
// - A duplicate ACK is a pure ACK for the same number with the same window and no SYN, FIN, RST
//   or ECE while data is outstanding. What it shows missing is the byte it asks for and, with
//   SACK, every cached segment below the highest SACKed byte that no SACK block (of this ACK or
//   an earlier one: receivers repeat only their latest blocks) covered. It is dropped only if the
//   agent holds all of that and is still recovering it: each missing segment is sent at once, the
//   one the mobile waits for again after each local RTO, at most maxRetransmits times; after that,
//   for bytes it never cached, and once the ACKs have stalled for HIDE_LIMIT_MS, the duplicate
//   ACKs go to the sender, whose recovery takes over.
// - The local timer restarts on each new ACK; when it expires while the mobile waits for the
//   cached head, the head is sent again and the timeout doubles.
import { seqGe, seqGt, seqLe, seqLt } from '../packet/seq.js';
import { segEnd, TcpFlag, type TcpOptions, type TcpView } from '../packet/tcp.js';
import { LocalRto } from './local-rto.js';
import { CopyArena } from './copy-arena.js';
import { CachedSegment, SegmentCache } from './segment-cache.js';

/** What a flow needs from the agent that keeps it. */
export interface FlowServices {
  /** performance.now() of the packet or timer being handled */
  readonly now: number;
  readonly maxRetransmits: number;
  /** Copies the packet being decided into the flow's arena if the caches have room for it, and
   *  returns its offset in flow.cache.arena.current; else -1 (counted). */
  cacheCopy(flow: SnoopFlow): number;
  /** Sends the segment again toward the lossy side (counts it, stamps lastTx). */
  retransmit(flow: SnoopFlow, s: CachedSegment): void;
  /** Runs the local timer from now, or stops it when the cache is empty. */
  restartTimer(flow: SnoopFlow): void;
  /** Starts the local timer if it is not running. */
  startTimer(flow: SnoopFlow): void;
}

const NOT_DUPACK = TcpFlag.SYN | TcpFlag.FIN | TcpFlag.RST | TcpFlag.ECE;
/** The longest the mobile's ACKs may stall while their duplicates are kept from the sender: half
 *  the 200 ms minimum RTO of a Linux sender, so that a slow local repair costs it a fast
 *  retransmission at worst, never a timeout. */
export const HIDE_LIMIT_MS = 100;

export class SnoopFlow {
  /** its FlowTable handle and its timer's handle (-1: none), kept by the agent */
  handle = -1;
  timer = -1;
  readonly cache: SegmentCache;
  readonly rto: LocalRto;
  /** the highest sequence number after data sent toward the lossy side */
  haveData = false;
  lastSeen = 0;
  /** the highest cumulative ACK from the lossy side, and that ACK's raw window field */
  haveAck = false;
  lastAck = 0;
  lastWindow = 0;
  /** when the ACK last advanced */
  lastAckAt = 0;
  /** where the sender's FIN ends, once seen; whether the mobile sent its FIN */
  finEnd = -1;
  mobileFin = false;
  sackPermitted = false;
  /** SACK scoreboard: the highest SACKed byte, how far holes were looked for in this loss
   *  episode, and the end of the highest hole this agent cannot recover */
  haveSack = false;
  highSack = 0;
  haveScan = false;
  scanned = 0;
  haveForeign = false;
  foreignEnd = 0;
  /** for the flow's log line */
  readonly stats = { cached: 0, localRetransmits: 0, dupacksSuppressed: 0, timeouts: 0 };

  constructor(minRtoMs: number, maxChunk: number) {
    this.rto = new LocalRto(minRtoMs);
    this.cache = new SegmentCache(new CopyArena(maxChunk));
  }

  /** Both FINs seen and the sender's acknowledged: nothing is left to recover. */
  get finished(): boolean {
    return this.mobileFin && this.finEnd >= 0 && this.haveAck && seqGe(this.lastAck, this.finEnd);
  }

  /** A segment going toward the lossy side; true: forward it. */
  towardMobile(tcp: TcpView, svc: FlowServices): boolean {
    const flags = tcp.flags();
    if (flags & TcpFlag.SYN) {
      this.#restart();
      return true;
    }
    const length = tcp.payloadLength();
    if (length === 0 && !(flags & TcpFlag.FIN)) return true;
    const seq = tcp.seqNumber(), end = segEnd(tcp);
    if (flags & TcpFlag.FIN) this.finEnd = end;
    if (!this.haveData) {
      this.haveData = true;
      this.lastSeen = seq;
    }
    if (this.haveAck && seqLe(end, this.lastAck)) return true;
    if (seqGe(seq, this.lastSeen)) {
      this.#cache(seq, end, false, svc);
      this.lastSeen = end;
      svc.startTimer(this);
      return true;
    }
    if (this.cache.overlaps(seq, end)) {
      for (let i = this.cache.firstEndingAfter(seq); i < this.cache.count && seqLt(this.cache.at(i).seq, end); i++) {
        const s = this.cache.at(i);
        s.senderRetransmit = true;
        s.lastTx = svc.now;
      }
    } else {
      this.#cache(seq, end, true, svc);
    }
    if (seqGt(end, this.lastSeen)) this.lastSeen = end;
    return true;
  }

  /**
   * A segment coming from the lossy side; its options are parsed on first use (null: malformed).
   * True: forward it.
   */
  fromMobile(tcp: TcpView, options: () => TcpOptions | null, svc: FlowServices): boolean {
    const flags = tcp.flags();
    if (flags & TcpFlag.SYN) {
      this.#restart();
      this.sackPermitted = options()?.sackPermitted ?? false;
      return true;
    }
    if (flags & TcpFlag.FIN) this.mobileFin = true;
    if (!(flags & TcpFlag.ACK)) return true;
    const ack = tcp.ackNumber(), window = tcp.window();
    if (this.haveAck && seqLt(ack, this.lastAck)) return true;
    if (!this.haveAck || seqGt(ack, this.lastAck)) {
      this.haveAck = true;
      this.#newAck(ack, window, svc);
      // Every ACK's SACK blocks go on the scoreboard: the next ones may not repeat them.
      if (this.haveData && seqLt(ack, this.lastSeen)) this.#markSacked(ack, options());
      return true;
    }
    const candidate = tcp.payloadLength() === 0 && (flags & NOT_DUPACK) === 0 && this.haveData && seqLt(this.lastAck, this.lastSeen);
    const windowChanged = window !== this.lastWindow;
    this.lastWindow = window;
    const o = this.haveData && seqLt(ack, this.lastSeen) ? options() : null;
    const sackAbove = this.#markSacked(ack, o);
    if (!candidate || o === null) return true;
    const head = this.cache.head();
    if (head === null || seqGt(head.seq, ack)) return true;
    // Linux receivers widen their window as out-of-order data arrives (tcp_grow_window), so
    // their duplicate ACKs often carry a new window: one whose SACK blocks report data above the
    // ACK is a duplicate all the same (the next new ACK brings the sender the window). Without
    // SACK a changed window makes it a window update (RFC 5681); a D-SACK block alone (at or
    // below the ACK) reports a duplicate segment, not a hole.
    if (o.sackCount > 0 ? !sackAbove : windowChanged) return true;
    if (!this.#recover(ack, svc) || svc.now - this.lastAckAt > HIDE_LIMIT_MS) return true;
    this.stats.dupacksSuppressed++;
    return false;
  }

  /** The local timer expired; false when it should stay stopped until the next new ACK. */
  onTimeout(svc: FlowServices): boolean {
    const head = this.cache.head();
    if (head === null || !this.haveAck || seqGt(head.seq, this.lastAck) || head.senderRetransmit) return false;
    if (head.localRetransmits >= svc.maxRetransmits) return false;
    svc.retransmit(this, head);
    this.stats.timeouts++;
    this.rto.backOff();
    return true;
  }

  #newAck(ack: number, window: number, svc: FlowServices): void {
    if (this.haveData && seqGt(ack, this.lastSeen)) {
      // It acknowledges bytes never seen here (missed, or routed around us): start over from it.
      this.cache.clear();
      this.lastSeen = ack;
    } else {
      const sample = this.cache.freeAcked(ack);
      if (sample) this.rto.sample(svc.now - sample.lastTx);
    }
    this.lastAck = ack;
    this.lastWindow = window;
    this.lastAckAt = svc.now;
    this.rto.resetBackoff();
    svc.restartTimer(this);
  }

  // Marks the cached segments the ACK's SACK blocks cover, walking down from each block's right
  // edge until a segment already marked (blocks mostly grow at the right): false if no block lies
  // above the ACK.
  #markSacked(ack: number, o: TcpOptions | null): boolean {
    if (o === null) return false;
    let above = false;
    for (let b = 0; b < o.sackCount; b++) {
      const left = o.sackBlocks[2 * b], right = o.sackBlocks[2 * b + 1];
      if (!seqGt(right, ack) || !seqLt(left, right)) continue;
      above = true;
      if (!this.haveSack || seqGt(right, this.highSack)) this.highSack = right;
      this.haveSack = true;
      for (let i = this.cache.firstEndingAfter(right) - 1; i >= 0; i--) {
        const s = this.cache.at(i);
        if (s.sacked || seqLt(s.seq, left)) break;
        s.sacked = true;
      }
    }
    return above;
  }

  /**
   * Recovers what the duplicate ACK shows missing: the segment holding the byte it asks for, and
   * with SACK every cached segment below the highest SACKed byte not yet looked at in this loss
   * episode. True when everything missing is cached and still being recovered here.
   */
  #recover(ack: number, svc: FlowServices): boolean {
    const cache = this.cache;
    const first = cache.firstEndingAfter(ack);
    let recovering = first < cache.count && seqLe(cache.at(first).seq, ack) && this.#recoverSegment(cache.at(first), svc);
    if (this.haveSack && seqGt(this.highSack, ack)) {
      const from = this.haveScan && seqGt(this.scanned, ack) ? this.scanned : ack;
      let covered = from;
      for (let i = cache.firstEndingAfter(from); i < cache.count && seqLt(cache.at(i).seq, this.highSack); i++) {
        const s = cache.at(i);
        if (seqGt(s.seq, covered)) this.#foreignHole(s.seq);
        if (seqGt(s.end, covered)) covered = s.end;
        if (s.sacked || s.localRetransmits > 0) continue;
        if (s.senderRetransmit || svc.maxRetransmits === 0) this.#foreignHole(s.end);
        else svc.retransmit(this, s);
      }
      if (seqLt(covered, this.highSack)) this.#foreignHole(this.highSack);
      this.scanned = this.highSack;
      this.haveScan = true;
    }
    if (this.haveForeign && seqGt(this.foreignEnd, ack)) recovering = false;
    return recovering;
  }

  // The segment the mobile waits for: sent at the first duplicate ACK, again once a local RTO
  // has passed since, until maxRetransmits; then recovery is the sender's.
  #recoverSegment(s: CachedSegment, svc: FlowServices): boolean {
    if (s.senderRetransmit) return false;
    if (s.localRetransmits > 0 && svc.now - s.lastTx < this.rto.ms) return true;
    if (s.localRetransmits >= svc.maxRetransmits) return false;
    svc.retransmit(this, s);
    return true;
  }

  // Bytes below <end> are missing at the mobile and not recoverable here (never cached, or the
  // sender's own retransmission): their duplicate ACKs go to the sender.
  #foreignHole(end: number): void {
    if (!this.haveForeign || seqGt(end, this.foreignEnd)) this.foreignEnd = end;
    this.haveForeign = true;
  }

  #cache(seq: number, end: number, senderRetransmit: boolean, svc: FlowServices): void {
    const offset = svc.cacheCopy(this);
    if (offset < 0) return;
    const chunk = this.cache.arena.current;
    this.cache.insert(new CachedSegment(seq, end, chunk, offset, chunk.used - offset, svc.now, senderRetransmit));
    this.stats.cached++;
  }

  #restart(): void {
    this.cache.clear();
    this.haveData = false;
    this.haveAck = false;
    this.finEnd = -1;
    this.mobileFin = false;
    this.haveSack = this.haveScan = this.haveForeign = false;
  }
}

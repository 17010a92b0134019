// The snoop agent over all flows, independent of where packets come from: finds or creates each
// packet's flow, keeps the caches within their byte limits (a flow's own, and the total by
// evicting the longest idle flows first), runs one local timer per flow on a shared deadline
// heap, sends retransmissions through the given sender, and counts what it did.
import { FlowTable, type EvictReason } from '../pipeline/flow-table.js';
import { parsePacket, ParsedPacket } from '../packet/packet.js';
import { seqAdd, seqDiff } from '../packet/seq.js';
import { TCP_HEADER_LEN, TcpFlag, TcpOptions } from '../packet/tcp.js';
import type { Logger } from '../log/logger.js';
import { CachedSegment } from './segment-cache.js';
import { segmentPacket } from './segment-packet.js';
import { noCounters, SNOOP_IDLE_MS, type SnoopCounters, type SnoopSettings } from './snoop-settings.js';
import { SnoopFlow, type FlowServices } from './snoop-flow.js';

/** One timer per flow, many flows: what the engine needs of a DeadlineScheduler. */
export interface FlowTimers {
  schedule(due: number, flow: SnoopFlow): number;
  reschedule(handle: number, due: number): boolean;
  cancel(handle: number): boolean;
}

export interface SnoopEngineOptions {
  settings: SnoopSettings;
  /** sends a whole IP packet; null when sent, else the errno code */
  send: (packet: Buffer) => string | null;
  timers: FlowTimers;
  logger?: Logger;
  maxFlows?: number;
}

/** The packet being decided, as the engine needs it. */
export interface SnoopPacket {
  parsed: ParsedPacket;
  /** going toward the lossy side (else coming from it) */
  towardMobile: boolean;
  /** cut short by the queue's copy range: forward, never cache */
  truncated: boolean;
  /** the TCP checksum holds only the pseudo-header sum (a GSO queue): filled in the cached copy */
  checksumNotReady: boolean;
}

type FlowEnd = EvictReason | 'memory' | 'closed' | 'reset' | 'stopped';

const DEFAULT_MAX_FLOWS = 65536;
const MAX_CHUNK = 256 * 1024;

/** A flow's arena chunks: at most an eighth of its cache, so that its limit is not reached in two steps. */
function maxChunk(s: SnoopSettings): number {
  return Math.min(MAX_CHUNK, Math.floor(s.flowCacheBytes / 8));
}

export class SnoopEngine implements FlowServices {
  now = 0;
  /** the lossy side's MTU: a GSO packet is cached as segments that fit it */
  mtu = 1500;
  maxRetransmits: number;
  readonly flows: FlowTable<SnoopFlow>;
  /** flows is the table's size, read when asked */
  readonly counters: SnoopCounters;
  #settings: SnoopSettings;
  readonly #send: (packet: Buffer) => string | null;
  readonly #timers: FlowTimers;
  readonly #logger: Logger | null;
  readonly #options = new TcpOptions();
  readonly #scratch = new ParsedPacket();
  #packet: SnoopPacket | null = null;

  constructor(o: SnoopEngineOptions) {
    this.#settings = o.settings;
    this.maxRetransmits = o.settings.maxRetransmits;
    this.#send = o.send;
    this.#timers = o.timers;
    this.#logger = o.logger ?? null;
    this.flows = new FlowTable<SnoopFlow>({
      idleMs: SNOOP_IDLE_MS,
      maxFlows: o.maxFlows ?? DEFAULT_MAX_FLOWS,
      onEvict: (flow, reason) => this.#forgotten(flow, reason),
    });
    const flows = this.flows;
    this.counters = Object.defineProperty(noCounters(), 'flows', { get: () => flows.size, enumerable: true });
  }

  get settings(): SnoopSettings {
    return this.#settings;
  }

  /** New limits apply to what comes next; cached bytes over a lowered limit leave as ACKs free them. */
  configure(settings: SnoopSettings): void {
    this.#settings = settings;
    this.maxRetransmits = settings.maxRetransmits;
    this.flows.forEach((flow) => { flow.rto.minMs = settings.minRtoMs; });
  }

  /** Decides one TCP packet (parsed, not a later fragment): true to forward it, false to drop it. */
  decide(p: SnoopPacket, now: number): boolean {
    this.now = now;
    const tcp = p.parsed.tcp, flags = tcp.flags();
    let h = this.flows.lookup(p.parsed);
    if (flags & TcpFlag.RST) {
      if (h >= 0) this.#end(h, 'reset');
      return true;
    }
    if (h < 0) {
      const starts = (flags & TcpFlag.SYN) !== 0 || (p.towardMobile && (tcp.payloadLength() > 0 || (flags & TcpFlag.FIN) !== 0));
      if (!starts) return true;
      const flow = new SnoopFlow(this.#settings.minRtoMs, maxChunk(this.#settings));
      h = flow.handle = this.flows.insert(p.parsed, flow, now);
    } else {
      this.flows.touch(h, now);
    }
    const flow = this.flows.get(h), before = flow.cache.arena.bytes, suppressed = flow.stats.dupacksSuppressed;
    this.#packet = p;
    let forward: boolean;
    try {
      forward = p.towardMobile ? flow.towardMobile(tcp, this) : flow.fromMobile(tcp, this.#readOptions, this);
    } finally {
      this.#packet = null;
      this.counters.cacheBytes += flow.cache.arena.bytes - before;
    }
    this.counters.dupacksSuppressed += flow.stats.dupacksSuppressed - suppressed;
    if (flow.finished) this.#end(h, 'closed');
    return forward;
  }

  /** Forgets flows idle for longer than SNOOP_IDLE_MS. */
  expire(now: number): void {
    this.flows.expire(now);
  }

  /** The local timer of a flow came due. */
  onTimer(flow: SnoopFlow, now: number): void {
    this.now = now;
    flow.timer = -1;
    const timeouts = flow.stats.timeouts;
    if (flow.onTimeout(this)) flow.timer = this.#timers.schedule(now + flow.rto.ms, flow);
    this.counters.timeouts += flow.stats.timeouts - timeouts;
  }

  /** Forgets every flow (at close). */
  clear(): void {
    this.flows.forEach((flow, h) => {
      this.flows.delete(h);
      this.#forgotten(flow, 'stopped');
    });
  }

  // FlowServices, for the flow being decided.

  cache(flow: SnoopFlow, seq: number, end: number, senderRetransmit: boolean): boolean {
    const p = this.#packet!, arena = flow.cache.arena;
    const ip = p.parsed.ip(), tcp = p.parsed.tcp, length = ip.end - ip.off, growth = arena.growthFor(length);
    if (p.truncated || arena.bytes + growth > this.#settings.flowCacheBytes || !this.#makeRoom(flow, growth)) {
      this.counters.uncached++;
      return false;
    }
    const offset = arena.copy(ip.buf, ip.off, length), chunk = arena.current;
    const headerLength = tcp.payloadOffset() - ip.off, payload = tcp.payloadLength();
    const size = this.#pieceSize(flow, headerLength);
    if (payload <= size) {
      if (p.checksumNotReady && parsePacket(chunk.buf.subarray(offset, offset + length), this.#scratch) === 0) {
        this.#scratch.tcp.fillChecksum(this.#scratch.ip());
      }
      flow.cache.insert(new CachedSegment(seq, end, chunk, offset, length, this.now, senderRetransmit));
      return true;
    }
    // A GSO packet: pieces of wire size sharing the copy, the FIN (if any) on the last.
    const count = Math.ceil(payload / size), fin = seqDiff(end, seq) - payload;
    chunk.live += count - 1;
    for (let i = 0, from = seq; i < count; i++) {
      const n = Math.min(size, payload - i * size), last = i === count - 1;
      const s = new CachedSegment(from, seqAdd(from, n + (last ? fin : 0)), chunk, offset, length, this.now, senderRetransmit);
      s.whole = false;
      s.headerLength = headerLength;
      s.payloadStart = headerLength + i * size;
      s.payloadLength = n;
      s.piece = i;
      s.lastPiece = last;
      flow.cache.insert(s);
      from = seqAdd(from, n);
    }
    return true;
  }

  retransmit(flow: SnoopFlow, s: CachedSegment): void {
    const error = this.#send(segmentPacket(s, this.#scratch));
    if (error !== null) this.counters.injectFailures++;
    else this.counters.localRetransmits++;
    s.localRetransmits++;
    s.lastTx = this.now;
    flow.stats.localRetransmits++;
  }

  restartTimer(flow: SnoopFlow): void {
    if (flow.cache.count === 0) {
      if (flow.timer >= 0) this.#timers.cancel(flow.timer);
      flow.timer = -1;
      return;
    }
    const due = this.now + flow.rto.ms;
    if (flow.timer < 0 || !this.#timers.reschedule(flow.timer, due)) flow.timer = this.#timers.schedule(due, flow);
  }

  startTimer(flow: SnoopFlow): void {
    if (flow.timer < 0 && flow.cache.count > 0) flow.timer = this.#timers.schedule(this.now + flow.rto.ms, flow);
  }

  // The payload of a wire-size segment: what the lossy interface's MTU leaves after these headers,
  // and no more than the mobile's MSS (less the TCP options the headers carry).
  #pieceSize(flow: SnoopFlow, headerLength: number): number {
    const wire = this.mtu - headerLength;
    if (flow.mobileMss === 0) return wire;
    const tcpOptions = this.#packet!.parsed.tcp.headerLength() - TCP_HEADER_LEN;
    return Math.max(1, Math.min(wire, flow.mobileMss - tcpOptions));
  }

  #readOptions = (): TcpOptions | null => (this.#packet!.parsed.tcp.parseOptions(this.#options) === 0 ? this.#options : null);

  // Evicts the longest idle flows other than this one until the total cache has room.
  #makeRoom(flow: SnoopFlow, growth: number): boolean {
    while (this.counters.cacheBytes + growth > this.#settings.cacheBytes) {
      const oldest = this.flows.oldest();
      if (oldest < 0 || oldest === flow.handle) return false;
      this.#end(oldest, 'memory');
    }
    return true;
  }

  #end(h: number, why: 'memory' | 'closed' | 'reset'): void {
    const flow = this.flows.get(h);
    this.flows.delete(h);
    if (why === 'memory') this.counters.evictions.memory++;
    this.#forgotten(flow, why);
  }

  #forgotten(flow: SnoopFlow, why: FlowEnd): void {
    if (why === 'idle' || why === 'cap') this.counters.evictions[why]++;
    if (this.#logger?.isLevelEnabled('debug')) {
      const s = flow.stats;
      this.#logger.debug(`snoop: flow ${this.flows.describe(flow.handle)} ended (${why}): ${s.cached} segments cached, ` +
        `${s.localRetransmits} local retransmissions, ${s.dupacksSuppressed} duplicate ACKs suppressed, ${s.timeouts} timeouts, ` +
        `local RTT ${flow.rto.samples ? flow.rto.srtt.toFixed(1) : '-'} ms`);
    }
    this.#drop(flow);
  }

  #drop(flow: SnoopFlow): void {
    if (flow.timer >= 0) this.#timers.cancel(flow.timer);
    flow.timer = -1;
    this.counters.cacheBytes -= flow.cache.arena.bytes;
    flow.cache.clear();
  }
}

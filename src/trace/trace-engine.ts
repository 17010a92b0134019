// The traces in progress and the flows they ride: finds a live flow toward each requested
// destination, sends its probes (by budget), matches the answers and reports each finished trace.
// The stage feeds it packets and ticks; it never delays a packet, and drops only the answers to
// its own probes.
import { IpProto } from '../packet/ip.js';
import { Icmpv4Type, Icmpv6Type, mplsBottom, mplsLabel, mplsTc, mplsTtl } from '../packet/icmp.js';
import { ParsedPacket } from '../packet/packet.js';
import { seqGt } from '../packet/seq.js';
import { TcpFlag, TcpOptions } from '../packet/tcp.js';
import { FlowTable } from '../pipeline/flow-table.js';
import { withoutFirstSackBlock } from './answer-packet.js';
import { buildProbe, probeTemplate, reversedTemplate } from './probe-packet.js';
import { TracedFlow } from './traced-flow.js';
import type { DoneReason, MplsEntry, TraceRecord } from './trace-records.js';
import { TraceRun, type Answer, type Probe } from './trace-run.js';
import type { TraceSettings } from './trace-settings.js';

export interface TraceRequest {
  /** the destination's address bytes (4 or 16) and text */
  destination: Buffer;
  destinationText: string;
  /** the destination's TCP port, 0 for any */
  port: number;
  settings: TraceSettings;
  /** how long to wait for a live flow, milliseconds */
  waitMs: number;
  /** gets the hop records, then the done record */
  onRecord: (r: TraceRecord) => void;
}

export interface TraceCounters {
  probes: number;
  answers: number;
  traces: Record<DoneReason, number>;
}

export interface TraceEngineDeps {
  /** sends a whole IP packet: null when sent, else the errno code */
  send: (packet: Buffer) => string | null;
  probesPerSecond: number;
}

interface Pending { request: TraceRequest; deadline: number; flow: TracedFlow | null; started: number }
interface SentProbe { probe: Probe; pending: Pending; flow: TracedFlow; expires: number }

/** How long answers to an ended trace's probes are still recognised (and kept from the client). */
const LATE_ANSWER_MS = 30_000;
/** How often a request without a run looks at its flows again (a quiet period ending, an answer missing). */
const WAITING_TICK_MS = 100;
const FLOW_IDLE_MS = 60_000;
/** A run stops once a hole has stayed open this long (every ACK of one side reporting it): the flow
 *  waits on a retransmission timeout, not a fast recovery. Probes never reach its sender, but a
 *  flow in that state is left alone. */
const HOLE_STALL_MS = 1000;
/** The acknowledgment probe: a byte this far below the flow's sequence, at a TTL that reaches anything. */
const BOOTSTRAP_BACK = 2 ** 30;
const BOOTSTRAP_TTL = 64;
const BOOTSTRAP_RETRY_MS = 1000;
/** ...asked only of a flow seen this long without an acknowledgment from its destination. */
const BOOTSTRAP_AFTER_MS = 200;
/** Linux answers one out-of-window segment per socket per this long (net.ipv4.tcp_invalid_ratelimit). */
const OUT_OF_WINDOW_ANSWER_MS = 550;

export class TraceEngine {
  readonly counters: TraceCounters = {
    probes: 0, answers: 0,
    traces: { reached: 0, unreachable: 0, 'max-ttl': 0, silent: 0, 'flow-ended': 0, retransmitting: 0, 'no-flow': 0, stopped: 0 },
  };
  readonly #deps: TraceEngineDeps;
  readonly #flows = new FlowTable<TracedFlow>({ idleMs: FLOW_IDLE_MS, maxFlows: 65536, onEvict: (f) => this.#flowEnded(f) });
  readonly #pending: Pending[] = [];
  readonly #byIdent = new Map<number, SentProbe>();
  readonly #bySeq = new Map<number, SentProbe>();
  readonly #scratch = new ParsedPacket();
  readonly #options = new TcpOptions();
  #nextIdent = 1 + Math.floor(Math.random() * 0xfffe);
  #tokens: number;
  #refilledAt = -1;

  constructor(deps: TraceEngineDeps) {
    this.#deps = deps;
    this.#tokens = deps.probesPerSecond;
  }

  get activeTraces(): number {
    return this.#pending.filter((p) => p.flow?.run).length;
  }

  get waiting(): number {
    return this.#pending.length;
  }

  /** Starts a trace as soon as a live flow to the destination is seen; returns a cancel function. */
  request(request: TraceRequest, now: number): () => void {
    const pending: Pending = { request, deadline: now + request.waitMs, flow: null, started: now };
    this.#pending.push(pending);
    this.#flows.forEach((flow) => this.#maybeStart(flow, now));
    return () => this.#finish(pending, 'stopped');
  }

  /**
   * A TCP packet of the queue: 'pass'; 'drop' when it is the destination's answer to a probe and
   * says nothing new; or the answer without its D-SACK block when it does.
   */
  onTcp(p: ParsedPacket, local: boolean, now: number): 'drop' | 'pass' | Buffer {
    let h = this.#flows.lookup(p);
    if (h < 0) {
      const flow = this.#newFlow(p, local, now);
      if (flow === null) return 'pass';
      h = this.#flows.insert(p, flow, now);
    } else {
      this.#flows.touch(h, now);
    }
    const flow = this.#flows.get(h);
    const toward = this.#flows.direction === flow.toward;
    const tcp = p.tcp, flags = tcp.flags();
    if (flags & (TcpFlag.FIN | TcpFlag.RST)) {
      flow.ended = true;
      flow.run?.abort('flow-ended');
      return 'pass';
    }
    if (flags & TcpFlag.SYN || !(flags & TcpFlag.ACK) || tcp.parseOptions(this.#options) !== 0) return 'pass';
    const tcpOffset = tcp.off - p.ip().off;
    let verdict: 'drop' | 'pass' | Buffer = 'pass';
    flow.handshakeDone = true;
    if (toward) {
      flow.towardSeq = tcp.seqNumber();
      flow.towardSeqSeen = true;
      if (flow.run || this.#wanted(flow)) flow.setTemplate(probeTemplate(p), tcpOffset, true);
    } else {
      const fresh = flow.acknowledged(tcp.ackNumber());
      if ((flow.run || this.#wanted(flow)) && !flow.templateToward) flow.setTemplate(reversedTemplate(p), tcpOffset, false);
      if (this.#destinationAnswer(p, flow, now)) {
        const bare = !fresh && tcp.payloadLength() === 0;
        verdict = bare ? 'drop' : (withoutFirstSackBlock(Buffer.from(p.ip().buf.subarray(p.ip().off, p.ip().end)), this.#scratch) ?? 'pass');
      }
    }
    const side = toward ? 0 : 1;
    if (!reportsHole(tcp.ackNumber(), this.#options)) flow.holeSince[side] = -1;
    else if (flow.holeSince[side] < 0) flow.holeSince[side] = now;
    else if (now - flow.holeSince[side] >= HOLE_STALL_MS) flow.run?.abort('retransmitting');
    this.#maybeStart(flow, now);
    return verdict;
  }

  /** An ICMP or ICMPv6 packet of the queue: 'drop' when it answers one of our probes. */
  onIcmp(p: ParsedPacket, now: number): 'drop' | 'pass' {
    const icmp = p.icmp();
    if (!icmp.isError() || icmp.checkQuote() !== 0) return 'pass';
    const q = icmp.quote;
    if (q.protocol() !== IpProto.TCP) return 'pass';
    const sent = q.version === 4 ? this.#byIdent.get(q.ip4.ident()) : this.#bySeq.get(q.tcpSeqNumber());
    if (!sent || sent.probe.seq !== q.tcpSeqNumber()) return 'pass';
    const kind = answerKind(p.version, icmp.type(), icmp.code());
    if (kind === null) return 'pass';
    const from = p.ip().srcText();
    const atDestination = from === sent.pending.request.destinationText;
    const answer: Answer = {
      from,
      kind: atDestination ? 'destination' : kind,
      quotedTtl: q.version === 4 ? q.ip4.ttl() : q.ip6.hopLimit(),
      replyTtl: p.version === 4 ? p.ip4.ttl() : p.ip6.hopLimit(),
      mpls: icmp.checkExtension() === 0 ? mplsEntries(icmp) : [],
      nat: !sameFlow(sent.flow, q.buf, q.ip().off, q.transportOffset),
      icmp: { type: icmp.type(), code: icmp.code() },
    };
    this.#answered(sent, answer, now);
    return 'drop';
  }

  /** Sends due probes, ends what is over, gives up on requests that found no flow. */
  tick(now: number): void {
    this.#refill(now);
    for (const pending of [...this.#pending]) {
      if (!pending.flow?.run) {
        if (now >= pending.deadline) this.#finish(pending, 'no-flow');
        else this.#flows.forEach((f) => this.#maybeStart(f, now));
      }
      const flow = pending.flow;
      const run = flow?.run;
      if (!flow || !run) continue;
      this.#sendDue(pending, flow, run, now);
      if (run.step(now)) this.#finish(pending, run.ended ?? 'stopped');
      else this.#sendDue(pending, flow, run, now);
    }
    for (const [key, s] of this.#byIdent) if (now > s.expires) this.#byIdent.delete(key);
    for (const [key, s] of this.#bySeq) if (now > s.expires) this.#bySeq.delete(key);
    this.#flows.expire(now);
  }

  /** When tick() next has work: a probe due, a timeout, a request's deadline. */
  nextWake(now: number): number {
    let wake = Infinity;
    for (const p of this.#pending) wake = Math.min(wake, p.flow?.run ? p.flow.run.nextWake(now) : Math.min(p.deadline, now + WAITING_TICK_MS));
    return wake;
  }

  /** Ends every trace (reported as stopped) and forgets the flows. */
  stop(): void {
    for (const p of [...this.#pending]) this.#finish(p, 'stopped');
  }

  #newFlow(p: ParsedPacket, local: boolean, now: number): TracedFlow | null {
    const ip = p.ip(), tcp = p.tcp;
    for (const { request } of this.#pending) {
      const toDest = ip.dst().equals(request.destination) && (request.port === 0 || tcp.dstPort() === request.port);
      const fromDest = ip.src().equals(request.destination) && (request.port === 0 || tcp.srcPort() === request.port);
      if (!toDest && !fromDest) continue;
      const [src, sport, dst, dport] = toDest
        ? [ip.srcText(), tcp.srcPort(), ip.dstText(), tcp.dstPort()]
        : [ip.dstText(), tcp.dstPort(), ip.srcText(), tcp.srcPort()];
      const name = `${p.version === 6 ? `[${src}]` : src}:${sport} > ${p.version === 6 ? `[${dst}]` : dst}:${dport}`;
      // The table's direction 0 is this packet's.
      return new TracedFlow(name, toDest ? 0 : 1, request.destination, request.port || dport, local ? 'local' : 'forward', now);
    }
    return null;
  }

  #wanted(flow: TracedFlow): boolean {
    return this.#pending.some((p) => p.flow === null && p.request.destination.equals(flow.destination) && (p.request.port === 0 || p.request.port === flow.port));
  }

  #maybeStart(flow: TracedFlow, now: number): void {
    if (flow.run || !flow.established) return;
    const pending = this.#pending.find((p) => p.flow === null && p.request.destination.equals(flow.destination) && (p.request.port === 0 || p.request.port === flow.port));
    if (!pending) return;
    if (!flow.ackSeen) {
      this.#askAcknowledgment(flow, pending, now);
      return;
    }
    if (now < flow.quietUntil) return;
    pending.flow = flow;
    pending.started = now;
    flow.run = new TraceRun(pending.request.settings, flow.ackFromDestination, now);
  }

  /**
   * A flow whose destination sends only large packets (a download), which the queue rules leave
   * unseen, shows no acknowledgment: one probe at full TTL asks for it, a byte 1 GiB below the
   * last sequence number sent toward the destination (no window is that large, so the byte is
   * old for it, whatever is in flight). Its D-SACK answer carries the acknowledgment; the next
   * probes wait out the destination's 500 ms limit on such answers.
   */
  #askAcknowledgment(flow: TracedFlow, pending: Pending, now: number): void {
    if (!flow.towardSeqSeen || flow.template === null || now - flow.firstSeen < BOOTSTRAP_AFTER_MS) return;
    if (flow.bootstrap && now - flow.bootstrap.sentAt < BOOTSTRAP_RETRY_MS) return;
    const probe: Probe = { ttl: BOOTSTRAP_TTL, seq: (flow.towardSeq - BOOTSTRAP_BACK) >>> 0, ident: this.#ident(), sentAt: now, answered: false };
    if (this.#deps.send(buildProbe(flow.template, probe, this.#scratch)) !== null) return;
    this.counters.probes++;
    flow.bootstrap = { seq: probe.seq, sentAt: now };
    this.#bySeq.set(probe.seq, { probe, pending, flow, expires: now + LATE_ANSWER_MS });
  }

  #sendDue(pending: Pending, flow: TracedFlow, run: TraceRun, now: number): void {
    for (const ttl of run.due(now)) {
      if (this.#tokens < 1 || flow.template === null) return;
      this.#tokens--;
      const probe: Probe = { ttl, seq: run.nextSeq(), ident: this.#ident(), sentAt: now, answered: false };
      const error = this.#deps.send(buildProbe(flow.template, probe, this.#scratch));
      if (error !== null) {
        run.skipped();
        continue;
      }
      run.sent(probe);
      this.counters.probes++;
      const sent: SentProbe = { probe, pending, flow, expires: now + LATE_ANSWER_MS };
      if (flow.destination.length === 4) this.#byIdent.set(probe.ident, sent);
      this.#bySeq.set(probe.seq, sent);
    }
  }

  /** A D-SACK of exactly one probe byte from the destination (options parsed): its TCP answered a probe. */
  #destinationAnswer(p: ParsedPacket, flow: TracedFlow, now: number): boolean {
    if (this.#options.sackCount === 0) return false;
    const left = this.#options.sackBlocks[0], right = this.#options.sackBlocks[1];
    if (((left + 1) >>> 0) !== right) return false;
    const sent = this.#bySeq.get(left);
    if (!sent || sent.flow !== flow) return false;
    if (flow.bootstrap?.seq === left) {
      this.#bySeq.delete(left);
      flow.bootstrap = null;
      flow.quietUntil = now + OUT_OF_WINDOW_ANSWER_MS;
      return true;
    }
    const ip = p.ip();
    this.#answered(sent, {
      from: ip.srcText(), kind: 'destination', quotedTtl: null,
      replyTtl: p.version === 4 ? p.ip4.ttl() : p.ip6.hopLimit(), mpls: [], nat: false,
    }, now);
    return true;
  }

  #answered(sent: SentProbe, answer: Answer, now: number): void {
    this.counters.answers++;
    sent.flow.run?.answer(sent.probe, answer, now);
  }

  #finish(pending: Pending, reason: DoneReason): void {
    const i = this.#pending.indexOf(pending);
    if (i < 0) return;
    this.#pending.splice(i, 1);
    const flow = pending.flow, run = flow?.run ?? null;
    run?.abort(reason);
    const ended = run?.ended ?? reason;
    if (flow) flow.run = null;
    this.counters.traces[ended]++;
    const { request } = pending;
    if (run && flow) for (const hop of run.hops(flow.name)) request.onRecord(hop);
    request.onRecord({
      type: 'done', destination: request.destinationText, flow: flow?.name ?? null, path: flow?.path ?? null,
      reached: ended === 'reached', reason: ended, hops: run ? run.hopCount() : 0, probes: run?.probesSent ?? 0,
      elapsedMs: Math.round(((run ? performance.now() : pending.deadline) - pending.started) * 10) / 10,
      startedAt: (run?.startedWall ?? new Date(performance.timeOrigin + pending.started)).toISOString(),
    });
  }

  #flowEnded(flow: TracedFlow): void {
    flow.ended = true;
    flow.run?.abort('flow-ended');
  }

  #ident(): number {
    const id = this.#nextIdent;
    this.#nextIdent = id >= 0xffff ? 1 : id + 1;
    return id;
  }

  #refill(now: number): void {
    const rate = this.#deps.probesPerSecond;
    if (this.#refilledAt >= 0) this.#tokens = Math.min(rate, this.#tokens + ((now - this.#refilledAt) * rate) / 1000);
    this.#refilledAt = now;
  }
}

/** A SACK block above the acknowledgment: the receiver misses something before it. */
function reportsHole(ack: number, o: TcpOptions): boolean {
  for (let i = 0; i < o.sackCount; i++) if (seqGt(o.sackBlocks[2 * i], ack)) return true;
  return false;
}

function answerKind(version: number, type: number, code: number): Answer['kind'] | null {
  if (version === 4) {
    if (type === Icmpv4Type.TIME_EXCEEDED) return code === 0 ? 'router' : null;
    return type === Icmpv4Type.DEST_UNREACHABLE ? 'unreachable' : null;
  }
  if (type === Icmpv6Type.TIME_EXCEEDED) return code === 0 ? 'router' : null;
  return type === Icmpv6Type.DEST_UNREACHABLE ? 'unreachable' : null;
}

function mplsEntries(icmp: ReturnType<ParsedPacket['icmp']>): MplsEntry[] {
  const out: MplsEntry[] = [];
  for (let i = 0; i < icmp.mplsCount(); i++) {
    const e = icmp.mplsEntry(i);
    out.push({ label: mplsLabel(e), tc: mplsTc(e), bottom: mplsBottom(e), ttl: mplsTtl(e) });
  }
  return out;
}

/** Whether the quoted packet has the flow's addresses and ports, as its template has them. */
function sameFlow(flow: TracedFlow, quote: Buffer, ipOff: number, transportOff: number): boolean {
  const t = flow.template;
  if (t === null) return true;
  const [from, to] = t[0] >> 4 === 4 ? [12, 20] : [8, 40];
  if (t.compare(quote, ipOff + from, ipOff + to, from, to) !== 0) return false;
  return t.compare(quote, transportOff, transportOff + 4, flow.templateTcp, flow.templateTcp + 4) === 0;
}

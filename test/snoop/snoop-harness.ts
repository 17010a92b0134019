// Drives a SnoopEngine with built packets and a hand-turned clock: data from the fixed host
// toward the mobile, ACKs from the mobile, timers fired by advance(). Every retransmission is
// checked to be a byte-identical copy of a data packet that was forwarded (snoop never makes up
// a packet), and every ACK it forwards is one the mobile sent.
import { buildTcpPacket, encodeTcpOptions, type IpSpec } from '../../src/packet/build.js';
import { parsePacket, ParsedPacket } from '../../src/packet/packet.js';
import { TcpFlag } from '../../src/packet/tcp.js';
import type { SnoopFlow } from '../../src/snoop/snoop-flow.js';
import { SnoopEngine, type FlowTimers } from '../../src/snoop/snoop-engine.js';
import { SNOOP_DEFAULTS, type SnoopSettings } from '../../src/snoop/snoop-settings.js';

export const FIXED = { v4: '10.9.0.1', v6: 'fd00:9::1' };
export const MOBILE = { v4: '10.9.1.2', v6: 'fd00:9:1::2' };
export const FIXED_PORT = 80;
export const MOBILE_PORT = 40000;

class ManualTimers implements FlowTimers {
  #next = 1;
  readonly due = new Map<number, { at: number; flow: SnoopFlow }>();
  schedule(at: number, flow: SnoopFlow): number {
    const h = this.#next++;
    this.due.set(h, { at, flow });
    return h;
  }
  reschedule(h: number, at: number): boolean {
    const d = this.due.get(h);
    if (!d) return false;
    d.at = at;
    return true;
  }
  cancel(h: number): boolean {
    return this.due.delete(h);
  }
}

export interface AckOptions {
  window?: number;
  sack?: Array<[number, number]>;
  flags?: number;
  payload?: number;
}

export interface DataOptions {
  flags?: number;
  /** byte value of the payload, to tell copies apart */
  fill?: number;
  truncated?: boolean;
  checksumNotReady?: boolean;
  srcPort?: number;
}

export class SnoopHarness {
  readonly engine: SnoopEngine;
  readonly timers = new ManualTimers();
  readonly sent: Buffer[] = [];
  readonly forwarded = new Set<string>();
  now = 1000;
  readonly #parsed = new ParsedPacket();
  readonly #version: 4 | 6;

  constructor(settings: Partial<SnoopSettings> = {}, version: 4 | 6 = 4, maxFlows?: number) {
    this.#version = version;
    this.engine = new SnoopEngine({
      settings: { interfaces: ['lossy0'], ...SNOOP_DEFAULTS, ...settings },
      send: (packet) => {
        if (!this.forwarded.has(packet.toString('hex'))) throw new Error('snoop sent a packet it never forwarded');
        this.sent.push(Buffer.from(packet));
        return null;
      },
      timers: this.timers,
      maxFlows,
    });
  }

  #ip(towardMobile: boolean): IpSpec {
    const [src, dst] = towardMobile ? [FIXED, MOBILE] : [MOBILE, FIXED];
    return this.#version === 4 ? { version: 4, src: src.v4, dst: dst.v4 } : { version: 6, src: src.v6, dst: dst.v6 };
  }

  /** A segment of <length> bytes from the fixed host; true if snoop forwards it. */
  data(seq: number, length: number, o: DataOptions = {}): boolean {
    const packet = buildTcpPacket(this.#ip(true), {
      srcPort: o.srcPort ?? FIXED_PORT, dstPort: MOBILE_PORT, seq: seq >>> 0, ack: 1, flags: o.flags ?? (TcpFlag.ACK | TcpFlag.PSH),
      payload: Buffer.alloc(length, o.fill ?? (seq & 0xff)),
    });
    const forward = this.#decide(packet, true, o);
    if (forward) this.forwarded.add(packet.toString('hex'));
    return forward;
  }

  /** An ACK (or other segment) from the mobile; true if snoop forwards it. */
  ack(ack: number, o: AckOptions = {}): boolean {
    const packet = buildTcpPacket(this.#ip(false), {
      srcPort: MOBILE_PORT, dstPort: FIXED_PORT, seq: 1, ack: ack >>> 0, flags: o.flags ?? TcpFlag.ACK, window: o.window ?? 1000,
      options: o.sack ? encodeTcpOptions({ sack: o.sack.map(([l, r]) => [l >>> 0, r >>> 0]) }) : undefined,
      payload: o.payload ? Buffer.alloc(o.payload, 7) : undefined,
    });
    return this.#decide(packet, false, {});
  }

  #decide(packet: Buffer, towardMobile: boolean, o: DataOptions): boolean {
    if (parsePacket(packet, this.#parsed) !== 0) throw new Error('test packet does not parse');
    return this.engine.decide({ parsed: this.#parsed, towardMobile, truncated: o.truncated ?? false, checksumNotReady: o.checksumNotReady ?? false }, this.now);
  }

  /** Moves the clock on and fires the timers that came due, in order. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      let first: [number, { at: number; flow: SnoopFlow }] | null = null;
      for (const e of this.timers.due) if (e[1].at <= until && (!first || e[1].at < first[1].at)) first = e;
      if (!first) break;
      this.timers.due.delete(first[0]);
      this.now = Math.max(this.now, first[1].at);
      this.engine.onTimer(first[1].flow, this.now);
    }
    this.now = until;
  }

  /** Sequence numbers of the segments retransmitted since the last call. */
  takeSent(): number[] {
    const seqs = this.sent.map((p) => {
      if (parsePacket(p, this.#parsed) !== 0) throw new Error('a retransmission does not parse');
      return this.#parsed.tcp.seqNumber();
    });
    this.sent.length = 0;
    return seqs;
  }
}

// The trace engine on packets built here: what a probe is, how answers are matched (ICMP quotes of
// every length, the destination's D-SACK), which packets it drops (only answers to its probes),
// how a trace ends, and that late, duplicate, truncated and foreign answers change nothing.
import t from 'tap';
import { buildIcmpError, buildTcpPacket, encodeTcpOptions, type IpSpec } from '../../src/packet/build.js';
import { Icmpv4Type, Icmpv6Type } from '../../src/packet/icmp.js';
import { ParsedPacket, parsePacket, Transport } from '../../src/packet/packet.js';
import { TcpFlag, TcpOptions } from '../../src/packet/tcp.js';
import { parseDestination } from '../../src/trace/destination.js';
import { TraceEngine } from '../../src/trace/trace-engine.js';
import type { DoneRecord, HopRecord, TraceRecord } from '../../src/trace/trace-records.js';
import { TRACE_DEFAULTS, type TraceSettings } from '../../src/trace/trace-settings.js';

const SETTINGS: TraceSettings = { ...TRACE_DEFAULTS, maxTtl: 6, window: 4, probesPerTtl: 2, probeTimeoutMs: 100, roundGapMs: 0, silentLimit: 3 };
const FAMILIES = {
  4: { client: '10.0.0.1', dest: '10.0.9.9', routers: ['10.0.1.1', '10.0.2.1', '10.0.3.1'], nat: '10.0.2.2' },
  6: { client: 'fd00::1', dest: 'fd00:9::9', routers: ['fd00:1::1', 'fd00:2::1', 'fd00:3::1'], nat: 'fd00:2::2' },
} as const;

function ip(version: 4 | 6, src: string, dst: string, ttl = 64): IpSpec {
  return version === 4 ? { version: 4, src, dst, ttl, ident: 7 } : { version: 6, src, dst, hopLimit: ttl };
}

function parsed(buf: Buffer): ParsedPacket {
  const p = new ParsedPacket();
  p.verifyChecksums = true;
  if (parsePacket(buf, p) !== 0) throw new Error('test packet does not parse');
  return p;
}

class Harness {
  readonly sent: Buffer[] = [];
  readonly records: TraceRecord[] = [];
  readonly engine = new TraceEngine({ send: (b) => (this.sent.push(b), null), probesPerSecond: 1000 });
  now = 1000;
  constructor(readonly version: 4 | 6) {}
  get f() { return FAMILIES[this.version]; }

  request(settings = SETTINGS, waitMs = 5000): void {
    const d = parseDestination(this.f.dest)!;
    this.engine.request({ destination: d.bytes, destinationText: d.text, port: 0, settings, waitMs, onRecord: (r) => this.records.push(r) }, this.now);
  }

  /** A segment client -> destination (toward) or back. */
  tcp(toward: boolean, o: { seq: number; ack: number; flags?: number; payload?: number; sack?: Array<[number, number]> }): 'drop' | 'pass' | Buffer {
    const [src, dst] = toward ? [this.f.client, this.f.dest] : [this.f.dest, this.f.client];
    const [sp, dp] = toward ? [40000, 80] : [80, 40000];
    const options = encodeTcpOptions({ timestamps: [111, 222], ...(o.sack ? { sack: o.sack } : {}) });
    const pkt = buildTcpPacket(ip(this.version, src, dst), { srcPort: sp, dstPort: dp, seq: o.seq, ack: o.ack, flags: o.flags ?? TcpFlag.ACK, options, payload: Buffer.alloc(o.payload ?? 0, 0x61) });
    return this.engine.onTcp(parsed(pkt), false, this.now);
  }

  /** An ICMP error from <from> quoting <quoteLen> bytes of <probe> (all of it when 0). */
  icmp(from: string, probe: Buffer, quoteLen = 0, type?: number, mutate?: (q: Buffer) => void): 'drop' | 'pass' {
    const q = Buffer.from(quoteLen ? probe.subarray(0, quoteLen) : probe);
    mutate?.(q);
    const t = type ?? (this.version === 4 ? Icmpv4Type.TIME_EXCEEDED : Icmpv6Type.TIME_EXCEEDED);
    const pkt = buildIcmpError(ip(this.version, from, this.f.client, 60), { type: t, code: 0, quote: q });
    const p = parsed(pkt);
    if (p.transport !== Transport.ICMP) throw new Error('not ICMP');
    return this.engine.onIcmp(p, this.now);
  }

  /** An established flow: data toward the destination, and its ACK. */
  establish(): void {
    this.tcp(true, { seq: 1000, ack: 5000, payload: 100, sack: [[7000, 7100]] });
    this.tcp(false, { seq: 5000, ack: 1100 });
  }

  tick(ms = 0): void {
    this.now += ms;
    this.engine.tick(this.now);
  }

  probe(ttl: number, n = 0): Buffer {
    const found = this.sent.filter((b) => (b[0] >> 4 === 4 ? b[8] : b[7]) === ttl);
    if (!found[n]) throw new Error(`no probe ${n} at TTL ${ttl}`);
    return found[n];
  }

  hops(): HopRecord[] { return this.records.filter((r): r is HopRecord => r.type === 'hop'); }
  done(): DoneRecord | undefined { return this.records.find((r): r is DoneRecord => r.type === 'done'); }
}

for (const version of [4, 6] as const) {
  t.test(`IPv${version}: probes, answers, the end`, async (t) => {
    const h = new Harness(version);
    h.request();
    h.establish();
    h.tick();
    t.equal(h.sent.length, 8, 'the first window: 4 TTLs x 2 probes, at once');
    const seqs = new Set<number>();
    for (const b of h.sent) {
      const p = parsed(b);   // checksums verified
      const o = new TcpOptions();
      t.equal(p.tcp.parseOptions(o), 0);
      seqs.add(p.tcp.seqNumber());
      t.equal(p.tcp.payloadLength(), 1, 'one byte');
      t.equal(p.tcp.flags(), TcpFlag.ACK, 'only ACK');
      t.equal(o.sackCount, 0, 'SACK blocks blanked');
      t.same([o.tsVal, o.tsEcr], [111, 222], "the flow's timestamps");
      t.equal(p.tcp.ackNumber(), 5000, "the flow's acknowledgment");
      const below = (1100 - p.tcp.seqNumber()) >>> 0;
      t.ok(below >= 2 && below <= 9, `a byte at least 2 below the acknowledgment: out of the window, never read as data (${below})`);
    }
    t.equal(seqs.size, 8, 'every probe its own sequence number');
    if (version === 4) t.equal(new Set(h.sent.map((b) => b.readUInt16BE(4))).size, 8, 'and its own IP ID');

    const [r1, r2] = h.f.routers;
    h.now += 3;
    t.equal(h.icmp(r1, h.probe(1, 0), version === 4 ? 28 : 48), 'drop', 'an answer quoting 8 bytes of TCP (RFC 792) is ours, dropped');
    t.equal(h.icmp(r1, h.probe(1, 1)), 'drop', 'a whole quote too');
    t.equal(h.icmp(r1, h.probe(1, 1)), 'drop', 'a duplicate is still ours');
    t.equal(h.icmp(r2, h.probe(2, 0), 0, undefined, (q) => q.fill(0x0b, version === 4 ? 12 : 8, version === 4 ? 13 : 9)), 'drop', 'a quote with another source: ours, via NAT');
    t.equal(h.icmp(r2, h.probe(2, 1), version === 4 ? 24 : 44), 'pass', 'a quote shorter than 8 bytes of TCP is not taken');
    t.equal(h.icmp(r2, h.sent[0].subarray(0, version === 4 ? 10 : 30)), 'pass', 'nor one cut inside the IP header');
    const foreign = buildTcpPacket(ip(version, h.f.client, h.f.dest, 1), { srcPort: 40000, dstPort: 80, seq: 42, ack: 1, flags: TcpFlag.ACK });
    t.equal(h.icmp(r2, foreign), 'pass', "an error about the flow's own packets is the client's");
    const seq3 = parsed(h.probe(3, 0)).tcp.seqNumber();
    t.equal(h.tcp(false, { seq: 5000, ack: 1100, sack: [[seq3, (seq3 + 1) >>> 0]] }), 'drop', "the destination's D-SACK of a probe byte: its answer, dropped");
    t.equal(h.tcp(false, { seq: 5000, ack: 1100, sack: [[seq3, (seq3 + 2) >>> 0]] }), 'pass', 'a D-SACK of something else passes');
    t.equal(h.tcp(true, { seq: 1100, ack: 5000, payload: 10 }), 'pass', 'the flow passes');
    h.tick(50);
    t.notOk(h.done(), 'TTL 2 still waits for one probe');
    h.tick(60);
    const done = h.done();
    t.match(done, { type: 'done', reached: true, reason: 'reached', hops: 3, destination: parseDestination(h.f.dest)!.text, path: 'forward' });
    const hops = h.hops();
    t.same(hops.map((x) => [x.ttl, x.address, x.kind]), [[1, r1, 'router'], [2, r2, 'router'], [3, parseDestination(h.f.dest)!.text, 'destination']]);
    t.same([hops[0].sent, hops[0].answered, hops[0].lossPct], [2, 2, 0], 'TTL 1: both answered, the duplicate not counted');
    t.same([hops[1].answered, hops[1].lossPct, hops[1].nat], [1, 50, true], 'TTL 2: one of two, with the NAT hint');
    t.equal(hops[0].quotedTtl, 1);
    t.equal(hops[0].replyTtl, 60);
    t.equal(hops[2].lossPct, null, "the destination's loss is not counted (its answers are rate-limited)");
    t.equal(h.icmp(r1, h.probe(4, 0)), 'drop', 'a late answer after the end is still ours: dropped, no error');
    t.equal(h.engine.waiting, 0);
  });
}

t.test('a silent path: ends after the silent run, not reached', async (t) => {
  const h = new Harness(4);
  h.request({ ...SETTINGS, silentLimit: 5 });
  h.establish();
  h.tick();
  h.icmp(h.f.routers[0], h.probe(1));
  h.tick(200);
  t.equal(h.sent.length, 8 + 4, 'after the first window timed out, the rest up to max-ttl 6');
  h.tick(200);
  t.match(h.done(), { reached: false, reason: 'silent', hops: 6 });
  t.same(h.hops().map((x) => x.kind), ['router', 'silent', 'silent', 'silent', 'silent', 'silent']);
});

t.test('ends on FIN, RST and retransmissions; no flow within the wait', async (t) => {
  for (const [what, packet, reason] of [
    ['FIN', { seq: 1100, ack: 5000, flags: TcpFlag.ACK | TcpFlag.FIN }, 'flow-ended'],
    ['RST', { seq: 1100, ack: 5000, flags: TcpFlag.RST }, 'flow-ended'],
    ['a hole reported for a second', { seq: 5000, ack: 1100, sack: [[1200, 1300]] as Array<[number, number]> }, 'retransmitting'],
  ] as const) {
    const h = new Harness(4);
    h.request({ ...SETTINGS, probeTimeoutMs: 5000 });
    h.establish();
    h.tick();
    const toward = reason !== 'retransmitting';
    h.tcp(toward, packet);
    if (reason === 'retransmitting') {
      h.tick(50);
      h.tcp(false, packet);
      h.now += 900;
      h.tcp(false, packet);
      h.tick();
      t.notOk(h.done(), 'a hole reported for less than a second is a fast recovery: the trace goes on');
      h.tcp(false, { seq: 5000, ack: 1300 });
      h.now += 60;
      h.tcp(false, packet);
      h.now += 950;
      h.tcp(false, packet);
      t.notOk(h.done(), 'an ACK without a hole in between starts the count again');
      h.now += 100;
      h.tcp(false, packet);
    }
    h.tick();
    t.match(h.done(), { reason, reached: false }, what);
  }
  const h = new Harness(6);
  h.request(SETTINGS, 300);
  h.tick(299);
  t.notOk(h.done());
  h.tick(2);
  t.match(h.done(), { reason: 'no-flow', flow: null, hops: 0, probes: 0 });
});

t.test('unreachable from a router ends it there; ICMP from the destination is reaching it', async (t) => {
  const h = new Harness(4);
  h.request();
  h.establish();
  h.tick();
  h.icmp(h.f.routers[0], h.probe(1));
  h.icmp(h.f.routers[0], h.probe(1, 1));
  h.icmp(h.f.routers[1], h.probe(2), 0, Icmpv4Type.DEST_UNREACHABLE);
  h.tick(200);
  t.match(h.done(), { reason: 'unreachable', reached: false, hops: 2 });
  const u = new Harness(4);
  u.request();
  u.establish();
  u.tick();
  u.icmp(u.f.dest, u.probe(3), 0, Icmpv4Type.DEST_UNREACHABLE);
  u.tick(200);
  t.match(u.done(), { reason: 'reached', reached: true, hops: 3 });
});

t.test('a budget: probes wait for tokens instead of bursting', async (t) => {
  const h = new Harness(4);
  const slow = new TraceEngine({ send: (b) => (h.sent.push(b), null), probesPerSecond: 4 });
  Object.defineProperty(h, 'engine', { value: slow });
  h.request();
  h.establish();
  h.tick();
  t.equal(h.sent.length, 4, '4 tokens');
  h.tick(500);
  t.equal(h.sent.length, 6, '2 more after half a second');
});

t.test('garbage in the queue: never a throw', async (t) => {
  const h = new Harness(4);
  h.request();
  h.establish();
  h.tick();
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  let taken = 0;
  for (let i = 0; i < 3000; i++) {
    const probe = Buffer.from(h.sent[i % h.sent.length]);
    const n = 1 + (rand() % 6);
    for (let k = 0; k < n; k++) probe[rand() % probe.length] = rand();
    const pkt = buildIcmpError(ip(4, h.f.routers[0], h.f.client), { type: Icmpv4Type.TIME_EXCEEDED, code: 0, quote: probe.subarray(0, rand() % probe.length) });
    const p = new ParsedPacket();
    if (parsePacket(pkt, p) === 0 && p.transport === Transport.ICMP && h.engine.onIcmp(p, h.now) === 'drop') taken++;
  }
  t.ok(taken < 3000, `${taken} of 3000 mangled quotes still matched a probe (those whose ID and sequence survived)`);
});

t.test("a download: the destination's acknowledgment asked for once, then the probes after its quiet time", async (t) => {
  const h = new Harness(4);
  h.request();
  h.tcp(true, { seq: 1000, ack: 5000 });
  h.tick(100);
  t.equal(h.sent.length, 0, 'nothing before the flow is 200 ms old');
  h.tcp(true, { seq: 1000, ack: 9000 });
  h.tick(150);
  t.equal(h.sent.length, 1, 'one probe asks for the acknowledgment');
  const ask = parsed(h.sent[0]);
  t.equal(ask.ip4.ttl(), 64, 'at a TTL that reaches anything');
  t.equal(ask.tcp.seqNumber(), (1000 - 2 ** 30) >>> 0, 'a byte 1 GiB below what the client sent: old whatever is in flight');
  t.ok(Buffer.isBuffer(h.tcp(false, { seq: 9000, ack: 1000, sack: [[ask.tcp.seqNumber(), (ask.tcp.seqNumber() + 1) >>> 0]] })), 'its answer brings the first acknowledgment: passed on without the D-SACK');
  h.tick(100);
  t.equal(h.sent.length, 1, 'no probe within the destination\'s 500 ms limit on such answers');
  h.tick(500);
  t.equal(h.sent.length, 1 + 8, 'then the first window');
  t.equal((1000 - parsed(h.sent[1]).tcp.seqNumber()) >>> 0, 2, 'below the acknowledgment the answer brought');
});

t.test('an answer that acknowledges something new goes on without its D-SACK block', async (t) => {
  const h = new Harness(6);
  h.request();
  h.establish();
  h.tick();
  const seq = parsed(h.probe(3)).tcp.seqNumber();
  const out = h.tcp(false, { seq: 5000, ack: 1200, sack: [[seq, (seq + 1) >>> 0], [1300, 1400]] });
  t.ok(Buffer.isBuffer(out), 'replaced');
  const p = parsed(out as Buffer);   // checksums verified
  const o = new TcpOptions();
  p.tcp.parseOptions(o);
  t.same([o.sackCount, o.sackBlocks[0], o.sackBlocks[1]], [1, 1300, 1400], 'the other block stays, ours is gone');
  t.equal(p.tcp.ackNumber(), 1200);
  t.equal(h.done(), undefined);
});

t.test("an upload: probes made from the destination's ACKs, turned around", async (t) => {
  const h = new Harness(4);
  h.request();
  h.tcp(false, { seq: 5000, ack: 77000 });
  h.tick();
  t.equal(h.sent.length, 8, 'the first window at once: the acknowledgment is known');
  const p = parsed(h.sent[0]);
  const o = new TcpOptions();
  p.tcp.parseOptions(o);
  t.same([p.ip4.srcText(), p.tcp.srcPort(), p.ip4.dstText(), p.tcp.dstPort()], [h.f.client, 40000, h.f.dest, 80], 'from the client to the destination');
  t.same([o.tsVal, o.tsEcr], [222, 111], "the destination's timestamps swapped: its echo is our value");
  t.equal((77000 - p.tcp.seqNumber()) >>> 0, 2);
});

t.test('an RFC 4950 label stack in the answer (RFC 4884 extension, 128-byte quote) is reported', async (t) => {
  const h = new Harness(4);
  h.request();
  h.establish();
  h.tick();
  const probe = h.probe(1);
  const quote = Buffer.concat([probe, Buffer.alloc(128 - probe.length)]);
  const pkt = buildIcmpError(ip(4, h.f.routers[0], h.f.client, 60), { type: Icmpv4Type.TIME_EXCEEDED, code: 0, quote, mpls: [{ label: 16005, tc: 0, ttl: 1 }, { label: 24001, ttl: 1 }] });
  t.equal(h.engine.onIcmp(parsed(pkt), h.now), 'drop', 'matched through the padding and the extension');
  h.tick(200);
  const hop = h.hops()[0];
  t.same(hop.mpls, [{ label: 16005, tc: 0, bottom: false, ttl: 1 }, { label: 24001, tc: 0, bottom: true, ttl: 1 }]);
  t.equal(hop.address, h.f.routers[0]);
});

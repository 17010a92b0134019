// Golden packet sequences through the snoop agent: packets in, verdicts and retransmissions out,
// for the rows of the state table (../shared/reference/snoop.md §2.7), SACK holes, the local
// timer with Karn's rule and its bounds, sequence wraparound, flow lifetime and memory limits.
import t from 'tap';
import { TcpFlag } from '../../src/packet/tcp.js';
import { parsePacket, ParsedPacket } from '../../src/packet/packet.js';
import { HIDE_LIMIT_MS } from '../../src/snoop/snoop-flow.js';
import { FIXED_PORT, SnoopHarness } from './snoop-harness.js';

const S = 1_000_000;
const MSS = 1000;

/** n segments of MSS bytes from <from>, all forwarded. */
function send(h: SnoopHarness, from: number, n: number): void {
  for (let i = 0; i < n; i++) if (!h.data(from + i * MSS, MSS)) throw new Error('data was not forwarded');
}

t.test('new data is cached and forwarded; a new ACK frees what it covers and times the last hop', async (t) => {
  const h = new SnoopHarness();
  send(h, S, 3);
  const flow = h.engine.flows.get(0);
  t.equal(flow.cache.count, 3);
  t.equal(h.engine.counters.flows, 1);
  t.ok(h.engine.counters.cacheBytes > 3 * MSS, 'whole packets are cached');
  h.now += 12;
  t.ok(h.ack(S + 2 * MSS), 'a new ACK is forwarded');
  t.equal(flow.cache.count, 1);
  t.equal(flow.rto.samples, 1);
  t.equal(flow.rto.srtt, 12, 'RTT from forwarding to the ACK');
  t.ok(h.ack(S + 3 * MSS));
  t.equal(flow.cache.count, 0);
  t.equal(h.engine.counters.cacheBytes, flow.cache.arena.bytes, 'the total follows the flows');
  t.equal(flow.cache.arena.bytes, 16 * 1024, 'the empty flow keeps its one chunk to fill again');
  t.same(h.takeSent(), []);
});

t.test('duplicate ACKs for a cached segment: the first retransmits it, those within a local RTO are dropped too', async (t) => {
  const h = new SnoopHarness();
  send(h, S, 5);
  t.ok(h.ack(S + MSS));
  h.now += 1;
  t.notOk(h.ack(S + MSS), 'first duplicate dropped');
  t.same(h.takeSent(), [S + MSS], 'the missing segment, sent again');
  t.notOk(h.ack(S + MSS));
  t.notOk(h.ack(S + MSS));
  t.same(h.takeSent(), [], 'no second copy within the local RTO');
  t.equal(h.engine.counters.dupacksSuppressed, 3);
  t.equal(h.engine.counters.localRetransmits, 1);
  t.ok(h.ack(S + 5 * MSS), 'the ACK the retransmission brings is forwarded');
  t.equal(h.engine.flows.get(0).cache.count, 0);
});

t.test('SACK: every cached hole is sent once per loss event; the ACK is dropped only when the cache covers every hole', async (t) => {
  const h = new SnoopHarness();
  send(h, S, 8);
  t.ok(h.ack(S + MSS));
  t.notOk(h.ack(S + MSS, { sack: [[S + 2 * MSS, S + 3 * MSS], [S + 4 * MSS, S + 6 * MSS]] }));
  t.same(h.takeSent().sort(), [S + MSS, S + 3 * MSS], 'both holes, nothing SACKed');
  t.notOk(h.ack(S + MSS, { sack: [[S + 2 * MSS, S + 3 * MSS], [S + 4 * MSS, S + 7 * MSS]] }));
  t.same(h.takeSent(), [], 'holes already being recovered are not sent again');
  t.ok(h.ack(S + 4 * MSS, { sack: [[S + 5 * MSS, S + 8 * MSS]] }), 'a new ACK with SACK blocks is forwarded');
  t.notOk(h.ack(S + 4 * MSS, { sack: [[S + 5 * MSS, S + 8 * MSS]] }), 'a new hole...');
  t.same(h.takeSent(), [S + 4 * MSS], '...is sent at its first duplicate ACK');
  t.equal(h.engine.counters.dupacksSuppressed, 3);
});

t.test('SACK: a range SACKed once stays received when later ACKs no longer list it (receivers repeat their latest blocks only)', async (t) => {
  const h = new SnoopHarness();
  send(h, S, 12);
  t.ok(h.ack(S + MSS));
  // Holes at 1, 3, 5, 7; received 2, 4, 6, 8-11. Each ACK lists the newest block first, three at most.
  t.notOk(h.ack(S + MSS, { sack: [[S + 2 * MSS, S + 3 * MSS]] }));
  t.notOk(h.ack(S + MSS, { sack: [[S + 4 * MSS, S + 5 * MSS], [S + 2 * MSS, S + 3 * MSS]] }));
  t.notOk(h.ack(S + MSS, { sack: [[S + 6 * MSS, S + 7 * MSS], [S + 4 * MSS, S + 5 * MSS], [S + 2 * MSS, S + 3 * MSS]] }));
  t.notOk(h.ack(S + MSS, { sack: [[S + 8 * MSS, S + 12 * MSS], [S + 6 * MSS, S + 7 * MSS], [S + 4 * MSS, S + 5 * MSS]] }));
  t.same(h.takeSent().sort(), [S + MSS, S + 3 * MSS, S + 5 * MSS, S + 7 * MSS], 'each hole once; segment 2, no longer listed, is not sent');
  t.equal(h.engine.counters.localRetransmits, 4);
});

t.test('SACK blocks on a new ACK go on the scoreboard too', async (t) => {
  const h = new SnoopHarness();
  send(h, S, 10);
  t.ok(h.ack(S + MSS));
  t.ok(h.ack(S + 4 * MSS, { sack: [[S + 5 * MSS, S + 6 * MSS]] }), 'a partial new ACK is forwarded');
  t.notOk(h.ack(S + 4 * MSS, { sack: [[S + 7 * MSS, S + 8 * MSS]] }));
  t.same(h.takeSent().sort(), [S + 4 * MSS, S + 6 * MSS], 'segment 5, SACKed only by the new ACK, is not sent');
});

t.test('holes the agent never saw (loss before it): the duplicate ACK reaches the sender, cached holes are still sent', async (t) => {
  const h = new SnoopHarness();
  send(h, S, 2);
  send(h, S + 3 * MSS, 3); // S+2000..S+3000 was lost upstream
  t.ok(h.ack(S + MSS));
  t.ok(h.ack(S + MSS, { sack: [[S + 3 * MSS, S + 4 * MSS]] }), 'one hole is not cached: forwarded');
  t.same(h.takeSent(), [S + MSS], 'the cached hole is recovered anyway');
  t.ok(h.ack(S + 2 * MSS), 'new ACK');
  t.ok(h.ack(S + 2 * MSS), 'the head starts above the ACK: the sender must repair it');
  t.ok(h.ack(S + 2 * MSS, { sack: [[S + 3 * MSS, S + 5 * MSS]] }));
  t.same(h.takeSent(), []);
  t.equal(h.engine.counters.dupacksSuppressed, 0);
});

t.test('window updates, ACKs with data, ECE, FIN and D-SACK-only ACKs are not duplicates to hide', async (t) => {
  const h = new SnoopHarness();
  send(h, S, 4);
  t.ok(h.ack(S + MSS, { window: 1000 }));
  t.ok(h.ack(S + MSS, { window: 2000 }), 'window update');
  t.ok(h.ack(S + MSS, { window: 2000, payload: 100, flags: TcpFlag.ACK | TcpFlag.PSH }), 'carries data');
  t.ok(h.ack(S + MSS, { window: 2000, flags: TcpFlag.ACK | TcpFlag.ECE }), 'ECE');
  t.ok(h.ack(S + MSS, { window: 2000, sack: [[S, S + MSS]] }), 'D-SACK only');
  t.same(h.takeSent(), [], 'none of them started a retransmission');
  t.notOk(h.ack(S + MSS, { window: 2000 }), 'a true duplicate still is one');
  t.same(h.takeSent(), [S + MSS]);
  t.ok(h.ack(S + MSS, { window: 2000, flags: TcpFlag.ACK | TcpFlag.FIN }), 'FIN');
});

t.test('a duplicate ACK whose SACK blocks report new data is one even with a wider window (Linux grows it on out-of-order data)', async (t) => {
  const h = new SnoopHarness();
  send(h, S, 4);
  t.ok(h.ack(S + MSS, { window: 1000 }));
  t.notOk(h.ack(S + MSS, { window: 1100, sack: [[S + 2 * MSS, S + 3 * MSS]] }));
  t.same(h.takeSent(), [S + MSS]);
  t.ok(h.ack(S + 4 * MSS, { window: 1200 }), 'the next new ACK brings the sender the window');
});

t.test('old ACKs pass unchanged; an ACK beyond anything seen resynchronises the flow', async (t) => {
  const h = new SnoopHarness();
  send(h, S, 4);
  t.ok(h.ack(S + 3 * MSS));
  t.ok(h.ack(S + MSS), 'old ACK forwarded');
  const flow = h.engine.flows.get(0);
  t.equal(flow.lastAck, S + 3 * MSS, 'and ignored');
  t.ok(h.ack(S + 9 * MSS), 'ACK for bytes never seen');
  t.equal(flow.cache.count, 0);
  t.equal(flow.lastSeen, S + 9 * MSS);
  t.ok(h.ack(S + 9 * MSS), 'nothing outstanding: not a duplicate');
});

t.test('a sender retransmission of a cached range, or an out-of-order segment, belongs to the sender', async (t) => {
  const h = new SnoopHarness();
  send(h, S, 3);
  t.ok(h.ack(S + MSS));
  t.ok(h.data(S + MSS, MSS), 'sender retransmission forwarded');
  t.ok(h.ack(S + MSS), 'its duplicate ACKs go to the sender');
  t.same(h.takeSent(), []);

  const g = new SnoopHarness();
  send(g, S, 1);
  send(g, S + 2 * MSS, 2);
  t.ok(g.data(S + MSS, MSS), 'filled hole forwarded');
  t.equal(g.engine.flows.get(0).cache.count, 4, 'and cached in order');
  t.ok(g.ack(S + MSS));
  t.ok(g.ack(S + MSS), 'duplicate for a segment that came out of order: the sender\'s');
  t.same(g.takeSent(), []);
});

t.test('a re-segmented sender retransmission marks every cached segment it overlaps', async (t) => {
  const h = new SnoopHarness();
  send(h, S, 4);
  t.ok(h.ack(S + MSS));
  t.ok(h.data(S + MSS, 2 * MSS + 500), 'one larger segment over two and a half cached ones');
  const flow = h.engine.flows.get(0);
  t.same([0, 1, 2].map((i) => flow.cache.at(i).senderRetransmit), [true, true, true]);
  t.equal(flow.cache.count, 3, 'not cached twice');
});

t.test('local timer: a lost tail is sent again, the timeout doubles, retries are bounded, and Karn keeps the RTT clean', async (t) => {
  const h = new SnoopHarness({ minRtoMs: 20, maxRetransmits: 3 });
  send(h, S, 1);
  h.now += 10;
  t.ok(h.ack(S + MSS));
  const flow = h.engine.flows.get(0);
  t.equal(flow.rto.samples, 1);
  send(h, S + MSS, 1); // lost on the last hop: no ACK comes
  t.equal(flow.rto.ms, 30, 'RFC 6298 over one 10 ms sample: 10 + 4 * 5');
  h.advance(29);
  t.same(h.takeSent(), [], 'not before the RTO');
  h.advance(1);
  t.same(h.takeSent(), [S + MSS], 'on the RTO');
  h.advance(59);
  t.same(h.takeSent(), [], 'backed off to 60 ms');
  h.advance(1);
  t.same(h.takeSent(), [S + MSS]);
  h.advance(120);
  t.same(h.takeSent(), [S + MSS], 'third, at 120 ms');
  h.advance(10_000);
  t.same(h.takeSent(), [], 'no more than maxRetransmits');
  t.equal(h.engine.counters.timeouts, 3);
  t.ok(h.ack(S + 2 * MSS));
  t.equal(flow.rto.samples, 1, 'a retransmitted segment gives no sample');
  t.equal(flow.rto.ms, 30, 'the new ACK ends the back-off');
  t.equal(h.timers.due.size, 0, 'nothing cached, no timer');
});

t.test('a lost local retransmission is sent again after the RTO; once all tries failed, duplicates reach the sender', async (t) => {
  const h = new SnoopHarness({ minRtoMs: 20, maxRetransmits: 2 });
  send(h, S, 4);
  t.ok(h.ack(S + MSS));
  t.notOk(h.ack(S + MSS));
  t.same(h.takeSent(), [S + MSS]);
  h.now += 81; // past the local RTO, before the timer: the next duplicate sends it again
  t.notOk(h.ack(S + MSS));
  t.same(h.takeSent(), [S + MSS]);
  t.notOk(h.ack(S + MSS), 'still recovering while the last try may arrive');
  h.now += 81;
  t.ok(h.ack(S + MSS), 'out of tries: the sender sees its duplicate ACK');
  t.same(h.takeSent(), []);
});

t.test('duplicates reach the sender once the ACKs have stalled for HIDE_LIMIT_MS, before its timeout could fire', async (t) => {
  const h = new SnoopHarness({ minRtoMs: 40, maxRetransmits: 10 });
  send(h, S, 4);
  t.ok(h.ack(S + MSS));
  h.now += 1;
  t.notOk(h.ack(S + MSS));
  h.now += HIDE_LIMIT_MS - 1;
  t.notOk(h.ack(S + MSS), 'within the limit');
  h.now += 1;
  t.ok(h.ack(S + MSS), 'past it: the sender sees the duplicate');
  t.ok(h.takeSent().length >= 2, 'while the local retransmissions go on');
});

t.test('sequence numbers wrap: 1 MB from ISN 0xFFFFF000, an ACK of exactly 0, a segment across 2^32, an old ACK 2^31-1 behind', async (t) => {
  const h = new SnoopHarness();
  const isn = 0xfffff000;
  t.ok(h.data(isn, 0, { flags: TcpFlag.SYN }));
  const first = (isn + 1) >>> 0;
  let seq = first;
  for (let i = 0; i < 1000; i++) {
    t.ok(h.data(seq, 1048), `segment ${i}`);
    seq = (seq + 1048) >>> 0;
    if (i % 2 === 1) t.ok(h.ack(seq));
    if (!t.passing()) break;
  }
  t.same(h.takeSent(), [], 'no loss, no retransmission');
  t.equal(h.engine.flows.get(0).cache.count, 0, 'every segment freed across the wrap');

  const w = new SnoopHarness();
  const base = 0xfffff800;
  t.ok(w.data(base, 0x400));           // 0xfffff800 .. 0xfffffc00
  t.ok(w.data(0xfffffc00, 0x800));      // straddles 2^32: ends at 0x400
  t.ok(w.data(0x400, 0x400));           // 0x400 .. 0x800
  t.ok(w.ack(0xfffffc00));
  t.notOk(w.ack(0xfffffc00), 'duplicate for the straddling segment');
  t.same(w.takeSent(), [0xfffffc00]);
  t.ok(w.ack(0x400), 'ACK across the wrap frees it');
  t.equal(w.engine.flows.get(0).cache.count, 1);
  t.ok(w.ack((0x400 - (2 ** 31 - 1)) >>> 0), 'an ACK 2^31-1 behind is old: forwarded');
  t.equal(w.engine.flows.get(0).lastAck, 0x400, 'and changes nothing');
  t.notOk(w.ack(0x400), 'duplicates still work after it');

  const z = new SnoopHarness();
  t.ok(z.data(0xfffffc00, 0x400));
  t.ok(z.data(0, 0x400));
  t.ok(z.ack(0), 'an ACK of exactly 0');
  t.equal(z.engine.flows.get(0).cache.count, 1);
  t.equal(z.engine.flows.get(0).cache.head()!.seq, 0);
});

t.test('a flow ends on RST, or on both FINs once the sender\'s is acknowledged', async (t) => {
  const h = new SnoopHarness();
  send(h, S, 2);
  t.equal(h.engine.counters.flows, 1);
  t.ok(h.ack(S, { flags: TcpFlag.RST }), 'RST forwarded');
  t.equal(h.engine.counters.flows, 0);
  t.equal(h.engine.counters.cacheBytes, 0);
  t.equal(h.timers.due.size, 0, 'its timer went with it');

  const f = new SnoopHarness();
  send(f, S, 1);
  t.ok(f.data(S + MSS, 0, { flags: TcpFlag.ACK | TcpFlag.FIN }));
  t.ok(f.ack(S + MSS + 1, { flags: TcpFlag.ACK | TcpFlag.FIN }));
  t.equal(f.engine.counters.flows, 0, 'both FINs, the sender\'s acknowledged');
});

t.test('flows are picked up mid-stream from data; a lone ACK creates nothing; a SYN starts a flow over', async (t) => {
  const h = new SnoopHarness();
  t.ok(h.ack(S));
  t.equal(h.engine.counters.flows, 0, 'an ACK alone starts no flow');
  send(h, S, 2);
  t.equal(h.engine.counters.flows, 1);
  t.ok(h.ack(S + MSS));
  t.notOk(h.ack(S + MSS), 'recovery works on a flow picked up mid-stream');
  t.same(h.takeSent(), [S + MSS]);
  t.ok(h.data(5, 0, { flags: TcpFlag.SYN }), 'a new connection on the same ports');
  const flow = h.engine.flows.get(0);
  t.equal(flow.cache.count, 0);
  t.notOk(flow.haveAck);
  t.equal(h.engine.counters.cacheBytes, 0);
});

t.test('memory: the flow cap, the total cap (longest idle flow evicted, counted), truncated packets, checksums not ready', async (t) => {
  const per = new SnoopHarness({ flowCacheBytes: 40 * 1024 });
  send(per, S, 31);
  t.equal(per.engine.flows.get(0).cache.count, 30, 'two 16 KiB chunks of 15 packets; a third would pass the flow\'s 40 KiB');
  t.equal(per.engine.counters.uncached, 1);
  t.equal(per.engine.counters.cacheBytes, 32 * 1024, 'memory is counted in chunks');
  t.ok(per.ack(S + 15 * MSS));
  t.equal(per.engine.counters.cacheBytes, 16 * 1024, 'a chunk whose segments are all acknowledged is let go');

  const total = new SnoopHarness({ cacheBytes: 40 * 1024, flowCacheBytes: 40 * 1024 });
  for (let f = 0; f < 3; f++) {
    total.now += 1;
    t.ok(total.data(S, MSS, { srcPort: FIXED_PORT + f }));
    t.ok(total.data(S + MSS, MSS, { srcPort: FIXED_PORT + f }));
  }
  t.equal(total.engine.counters.evictions.memory, 1, 'the first flow made room');
  t.equal(total.engine.counters.flows, 2);
  t.equal(total.engine.counters.cacheBytes, 32 * 1024);

  const cap = new SnoopHarness({}, 4, 2);
  for (let f = 0; f < 3; f++) t.ok(cap.data(S, MSS, { srcPort: FIXED_PORT + f }));
  t.equal(cap.engine.counters.evictions.cap, 1);
  t.equal(cap.engine.counters.flows, 2);

  const tr = new SnoopHarness();
  t.ok(tr.data(S, MSS, { truncated: true }));
  t.equal(tr.engine.flows.get(0).cache.count, 0, 'a truncated copy is never cached');

  const cs = new SnoopHarness();
  t.ok(cs.data(S, MSS, { checksumNotReady: true }));
  const copy = cs.engine.flows.get(0).cache.head()!.packet;
  const p = new ParsedPacket();
  p.verifyChecksums = true;
  t.equal(parsePacket(copy, p), 0, 'the cached copy has a whole checksum');
});

t.test('IPv6: the same recovery', async (t) => {
  const h = new SnoopHarness({}, 6);
  send(h, S, 3);
  t.ok(h.ack(S + MSS));
  t.notOk(h.ack(S + MSS, { sack: [[S + 2 * MSS, S + 3 * MSS]] }));
  t.same(h.takeSent(), [S + MSS]);
});

t.test('no retransmissions at all: maxRetransmits 0 passes every duplicate on', async (t) => {
  const h = new SnoopHarness({ maxRetransmits: 0 });
  send(h, S, 3);
  t.ok(h.ack(S + MSS));
  t.ok(h.ack(S + MSS));
  h.advance(1000);
  t.same(h.takeSent(), []);
});

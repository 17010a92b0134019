// The fuzz run of bench/fuzz-packets.ts, smaller: 20,000 random and mutated packets through
// parsePacket and every accessor, with nothing thrown and nothing read outside a packet.
import t from 'tap';
import { Digest, fuzzPackets } from '../../bench/fuzz-packets.js';
import { FuzzCases } from '../../bench/fuzz-cases.js';
import { parsePacket, ParsedPacket, Transport } from '../../src/packet/packet.js';

t.test('20,000 cases: no exception, no out-of-bounds read', async (t) => {
  const report = fuzzPackets(20_000, 7);
  t.same(report.failures, []);
  t.equal(report.cases, 20_000);
  let parsed = 0;
  for (const [key, n] of report.outcomes) if (key.startsWith('parse ')) parsed += n;
  t.equal(parsed, 20_000, 'every case has a parse outcome');
  // The mutations reach every layer, accepted and rejected.
  for (const key of [
    'parse OK', 'parse TRUNCATED', 'parse BAD_VERSION', 'parse BAD_HEADER_LENGTH', 'parse BAD_TOTAL_LENGTH',
    'parse BAD_EXTENSION', 'parse BAD_CHECKSUM', 'tcp options OK', 'tcp options BAD_OPTION',
    'icmpv4 quote OK', 'icmpv4 quote TRUNCATED', 'icmpv6 quote OK', 'icmpv4 extension OK', 'icmpv4 extension BAD_CHECKSUM',
    'icmpv6 extension OK',
  ]) t.ok((report.outcomes.get(key) ?? 0) > 0, key);
});

t.test('the seeds are valid packets, checksums included', async (t) => {
  const p = new ParsedPacket();
  p.verifyChecksums = true;
  const seeds = new FuzzCases(1).seedBytes();
  t.ok(seeds.length >= 10);
  t.same(seeds.map((b) => parsePacket(b, p)), seeds.map(() => 0));
});

t.test('the same seed gives the same cases', async (t) => {
  const a = new FuzzCases(3), b = new FuzzCases(3), c = new FuzzCases(4);
  const take = (f: FuzzCases): string => Array.from({ length: 50 }, () => f.next().toString('hex')).join();
  const first = take(a);
  t.equal(first, take(b));
  t.not(first, take(c));
});

t.test('the harness catches what it is for', async (t) => {
  const pastEnd = fuzzPackets(200, 1, (p: ParsedPacket, d: Digest) => d.num(p.ip4.buf[p.ip4.off + p.ip4.len]));
  t.ok(pastEnd.failures.some((f) => f.startsWith('result depends on bytes outside the packet')), 'a read past the end');
  const before = fuzzPackets(200, 1, (p: ParsedPacket, d: Digest) => d.num(p.ip4.buf[p.ip4.off - 1]));
  t.ok(before.failures.length > 0, 'a read before the start');
  const wide = fuzzPackets(200, 1, (p: ParsedPacket, d: Digest) => d.bytes('wide', p.ip4.buf.subarray(p.ip4.off, p.ip4.off + p.ip4.len + 1)));
  t.ok(wide.failures.some((f) => f.startsWith('wide reaches outside the packet')), 'a subarray past the end');
  const throws = fuzzPackets(200, 1, (p: ParsedPacket) => { if (p.transport === Transport.TCP) throw new Error('boom'); });
  t.ok(throws.failures.some((f) => f.includes('boom')), 'an exception');
});

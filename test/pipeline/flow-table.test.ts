// FlowTable: both directions find one entry (IPv4, IPv6, quotes), no collisions among many random
// flows, idle expiry, cap eviction order and counters, delete and reinsert.
import t from 'tap';
import { buildTcpPacket, type IpSpec } from '../../src/packet/build.js';
import { IpProto } from '../../src/packet/ip.js';
import { parsePacket, ParsedPacket } from '../../src/packet/packet.js';
import { TcpFlag } from '../../src/packet/tcp.js';
import { seededRandom } from '../../src/emulate/seeded-random.js';
import { FlowTable, type EvictReason } from '../../src/pipeline/flow-table.js';

const p = new ParsedPacket();

function packet(version: 4 | 6, src: string, srcPort: number, dst: string, dstPort: number): Buffer {
  const ip: IpSpec = version === 4 ? { version, src, dst } : { version, src, dst };
  return buildTcpPacket(ip, { srcPort, dstPort, seq: 1, flags: TcpFlag.ACK });
}

function parsed(buf: Buffer): ParsedPacket {
  if (parsePacket(buf, p) !== 0) throw new Error('test packet does not parse');
  return p;
}

function table<T>(idleMs = 1000, maxFlows = 1000, evicted: Array<[T, EvictReason]> = []): FlowTable<T> {
  return new FlowTable<T>({ idleMs, maxFlows, onEvict: (v, r) => evicted.push([v, r]) });
}

t.test('both directions find the same entry, IPv4 and IPv6', async (t) => {
  const flows = table<string>();
  const cases: Array<[4 | 6, string, string]> = [[4, '10.0.0.1', '10.0.0.2'], [6, '2001:db8::1', '2001:db8:ffff::2']];
  for (const [v, a, b] of cases) {
    const ab = packet(v, a, 40000, b, 80), ba = packet(v, b, 80, a, 40000);
    t.equal(flows.lookup(parsed(ab)), -1, `v${v} not there yet`);
    const h = flows.insert(parsed(ab), `flow v${v}`, 0);
    t.equal(flows.direction, 0);
    t.equal(flows.lookup(parsed(ab)), h);
    t.equal(flows.direction, 0, `v${v} A->B is direction 0`);
    t.equal(flows.lookup(parsed(ba)), h);
    t.equal(flows.direction, 1, `v${v} B->A is direction 1`);
    t.equal(flows.get(h), `flow v${v}`);
  }
  t.equal(flows.size, 2);
  t.equal(flows.describe(0), '10.0.0.1:40000 > 10.0.0.2:80 proto 6');
  t.equal(flows.describe(1), '[2001:db8::1]:40000 > [2001:db8:ffff::2]:80 proto 6');
});

t.test('created by the reply: the reply is direction 0', async (t) => {
  const flows = table<number>();
  const h = flows.insert(parsed(packet(4, '10.0.0.2', 80, '10.0.0.1', 40000)), 1, 0);
  t.equal(flows.lookup(parsed(packet(4, '10.0.0.1', 40000, '10.0.0.2', 80))), h);
  t.equal(flows.direction, 1);
});

t.test('near misses are other flows: ports swapped on one side, address, family, protocol', async (t) => {
  const flows = table<string>();
  flows.insert(parsed(packet(4, '10.0.0.1', 40000, '10.0.0.2', 80)), 'x', 0);
  t.equal(flows.lookup(parsed(packet(4, '10.0.0.1', 80, '10.0.0.2', 40000))), -1, 'ports exchanged, addresses not');
  t.equal(flows.lookup(parsed(packet(4, '10.0.0.1', 40001, '10.0.0.2', 80))), -1);
  t.equal(flows.lookup(parsed(packet(4, '10.0.0.3', 40000, '10.0.0.2', 80))), -1);
  t.equal(flows.lookup(parsed(packet(6, '::ffff:a00:1', 40000, '::ffff:a00:2', 80))), -1, 'IPv4-mapped IPv6');
  const buf = packet(4, '10.0.0.1', 40000, '10.0.0.2', 80);
  t.equal(flows.lookupAt(buf, 0, 20, IpProto.UDP), -1, 'UDP with the same ports');
  t.not(flows.lookupAt(buf, 0, 20, IpProto.TCP), -1, 'lookupAt with the offsets of a quote');
});

t.test('a connection to itself (same address and port) is found, in direction 0', async (t) => {
  const flows = table<string>();
  const buf = packet(6, '::1', 5000, '::1', 5000);
  const h = flows.insert(parsed(buf), 'self', 0);
  t.equal(flows.lookup(parsed(buf)), h);
  t.equal(flows.direction, 0);
});

t.test('many random flows, IPv4 and IPv6: each found in both directions, none confused', async (t) => {
  const random = seededRandom(7);
  const byte = () => Math.floor(random() * 256);
  const port = () => 1 + Math.floor(random() * 65535);
  const flows = new FlowTable<number>({ idleMs: 1000, maxFlows: 20000, initialCapacity: 16 });
  const forward: Buffer[] = [], reverse: Buffer[] = [];
  const seen = new Set<string>();
  while (forward.length < 20000) {
    const v = random() < 0.5 ? 4 : 6;
    // Small address spaces, so that many flows share addresses or ports.
    const a = v === 4 ? `10.0.${byte() & 3}.${byte()}` : `2001:db8::${byte() & 7}:${byte().toString(16)}`;
    const b = v === 4 ? `10.1.0.${byte() & 15}` : `2001:db8:1::${byte() & 15}`;
    const pa = port(), pb = random() < 0.5 ? 80 : port();
    const id = `${a} ${pa} ${b} ${pb}`, rid = `${b} ${pb} ${a} ${pa}`;
    if (seen.has(id) || seen.has(rid)) continue;
    seen.add(id);
    forward.push(packet(v, a, pa, b, pb));
    reverse.push(packet(v, b, pb, a, pa));
  }
  for (let i = 0; i < forward.length; i++) flows.insert(parsed(forward[i]), i, 0);
  let wrong = 0;
  for (let i = 0; i < forward.length; i++) {
    const h = flows.lookup(parsed(forward[i]));
    if (h < 0 || flows.get(h) !== i || flows.direction !== 0) wrong++;
    const r = flows.lookup(parsed(reverse[i]));
    if (r !== h || flows.direction !== 1) wrong++;
  }
  t.equal(wrong, 0, 'every flow found in both directions');
  t.equal(flows.size, 20000);
});

t.test('idle expiry lets go of entries idle longer than idleMs, oldest first, through onEvict', async (t) => {
  const evicted: Array<[string, EvictReason]> = [];
  const flows = table<string>(100, 1000, evicted);
  const a = flows.insert(parsed(packet(4, '10.0.0.1', 1, '10.0.0.2', 80)), 'a', 0);
  flows.insert(parsed(packet(4, '10.0.0.1', 2, '10.0.0.2', 80)), 'b', 10);
  flows.insert(parsed(packet(4, '10.0.0.1', 3, '10.0.0.2', 80)), 'c', 20);
  flows.touch(a, 50);
  t.equal(flows.lastSeen(a), 50);
  t.equal(flows.expire(100), 0, 'idle exactly idleMs stays');
  t.equal(flows.expire(121), 2);
  t.same(evicted, [['b', 'idle'], ['c', 'idle']], 'b then c; a was touched');
  t.equal(flows.size, 1);
  t.equal(flows.lookup(parsed(packet(4, '10.0.0.1', 2, '10.0.0.2', 80))), -1);
  t.equal(flows.lookup(parsed(packet(4, '10.0.0.2', 80, '10.0.0.1', 1))), a);
  t.equal(flows.expire(151), 1);
  t.same(flows.evictions, { idle: 3, cap: 0 });
  t.equal(flows.size, 0);
});

t.test('past maxFlows the longest idle entry goes first, counted as cap', async (t) => {
  const evicted: Array<[number, EvictReason]> = [];
  const flows = table<number>(1e9, 3, evicted);
  const h = [1, 2, 3].map((i) => flows.insert(parsed(packet(4, '10.0.0.1', i, '10.0.0.2', 80)), i, i));
  flows.touch(h[0], 10);                       // order by idleness now: 2, 3, 1
  flows.insert(parsed(packet(4, '10.0.0.1', 4, '10.0.0.2', 80)), 4, 11);
  flows.insert(parsed(packet(4, '10.0.0.1', 5, '10.0.0.2', 80)), 5, 12);
  t.same(evicted, [[2, 'cap'], [3, 'cap']]);
  t.same(flows.evictions, { idle: 0, cap: 2 });
  t.equal(flows.size, 3);
  const order: number[] = [];
  flows.forEach((v) => order.push(v));
  t.same(order, [1, 4, 5], 'forEach goes from the longest idle');
});

t.test('delete, then reinsert: the flow comes back, the others stay findable', async (t) => {
  const evicted: Array<[number, EvictReason]> = [];
  const flows = table<number>(1000, 1000, evicted);
  const bufs = [1, 2, 3, 4].map((i) => packet(6, '2001:db8::1', i, '2001:db8::2', 443));
  const h = bufs.map((b, i) => flows.insert(parsed(b), i, 0));
  t.equal(flows.delete(h[1]), true);
  t.equal(flows.delete(h[1]), false, 'a second delete finds nothing');
  t.equal(flows.delete(-1), false);
  t.equal(flows.size, 3);
  t.equal(flows.lookup(parsed(bufs[1])), -1);
  for (const i of [0, 2, 3]) t.equal(flows.get(flows.lookup(parsed(bufs[i]))), i);
  const again = flows.insert(parsed(bufs[1]), 10, 5);
  t.equal(flows.get(flows.lookup(parsed(bufs[1]))), 10);
  t.equal(again, h[1], 'the freed handle is reused');
  t.throws(() => flows.insert(parsed(bufs[1]), 11, 5), /already in the table/);
  t.same(evicted, [], 'delete does not call onEvict');
  flows.forEach((_, handle) => flows.delete(handle));
  t.equal(flows.size, 0, 'forEach may delete as it goes');
});

t.test('options are checked', async (t) => {
  t.throws(() => new FlowTable({ idleMs: 0, maxFlows: 10 }), RangeError);
  t.throws(() => new FlowTable({ idleMs: 10, maxFlows: 0 }), RangeError);
  t.throws(() => new FlowTable({ idleMs: 10, maxFlows: 1.5 }), RangeError);
});

// copyPacket: an ArrayBuffer of its own, the same bytes, independent of the source.
import t from 'tap';
import { copyPacket } from '../../src/pipeline/packet-copy.js';

t.test('a small copy owns its memory, unlike Buffer.from', async (t) => {
  const area = Buffer.alloc(4096);
  for (let i = 0; i < area.length; i++) area[i] = i * 7;
  const copy = copyPacket(area, 100, 60);
  t.equal(copy.length, 60);
  t.equal(copy.byteOffset, 0);
  t.equal(copy.buffer.byteLength, 60, 'no pool slab behind it');
  t.not(copy.buffer, area.buffer);
  t.ok(Buffer.from(area.subarray(100, 160)).buffer.byteLength > 60, 'whereas Buffer.from takes a pool slice');
  t.same(copy, area.subarray(100, 160), 'the same bytes');
  area.fill(0xee);
  t.equal(copy[0], (100 * 7) & 0xff, 'a later change of the source does not reach the copy');
  t.ok(copy.every((b, i) => b === (((100 + i) * 7) & 0xff)), 'all of it');
  copy[1] = 0;
  t.equal(area[101], 0xee, 'nor the other way round');
});

t.test('from a plain Uint8Array (a receive area), whole, empty, large', async (t) => {
  const area = new Uint8Array(70000).map((_, i) => i);
  const whole = copyPacket(area, 0, area.length);
  t.equal(whole.buffer.byteLength, 70000);
  t.same(whole, Buffer.from(area));
  const empty = copyPacket(area, 70000, 0);
  t.equal(empty.length, 0);
  t.equal(empty.buffer.byteLength, 0);
  const two = [copyPacket(area, 10, 40), copyPacket(area, 50, 40)];
  t.not(two[0].buffer, two[1].buffer, 'two copies share nothing either');
});

t.test('a range outside the source is refused', async (t) => {
  const area = new Uint8Array(100);
  t.throws(() => copyPacket(area, 90, 20), RangeError);
  t.throws(() => copyPacket(area, -1, 10), RangeError);
  t.throws(() => copyPacket(area, 0, -1), RangeError);
  t.throws(() => copyPacket(area, 0.5, 10), RangeError);
});

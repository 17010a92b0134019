// RFC 1071 sums that compose, and RFC 1624 incremental updates checked against full recomputation.
import t from 'tap';
import {
  checksum, fillRange, finishSum, foldSum, pseudoHeaderSum, sumWords, updateChecksum16, updateChecksum32, verifyRange,
} from '../../src/packet/checksum.js';
import { Rng } from '../../bench/fuzz-cases.js';
import { hex, TCP4_SYN, TCP6_ACK } from './golden.js';

/** Seeded, so failures reproduce. */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

t.test('RFC 1071 §3 example', async (t) => {
  const b = hex('0001 f203 f4f5 f6f7');
  t.equal(sumWords(b, 0, 8), 0x2ddf0);
  t.equal(foldSum(0x2ddf0), 0xddf2);
  t.equal(checksum(b, 0, 8), 0x220d);
  t.equal(finishSum(0x2ddf0), 0x220d);
});

t.test('a known IPv4 header checksum', async (t) => {
  // 192.168.0.1 -> 192.168.0.199, UDP, total length 115, DF, TTL 64; checksum field zeroed.
  const b = hex('4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7');
  t.equal(checksum(b, 0, 20), 0xb861);
  fillRange(b, 0, 20, 0, 10);
  t.equal(b.readUInt16BE(10), 0xb861);
  t.ok(verifyRange(b, 0, 20, 0));
  b[19] ^= 1;
  t.notOk(verifyRange(b, 0, 20, 0));
});

t.test('odd lengths pad with a zero byte; large sums fold', async (t) => {
  t.equal(sumWords(hex('01'), 0, 1), 0x0100);
  t.equal(sumWords(hex('0102 03'), 0, 3), 0x0102 + 0x0300);
  const ones = Buffer.alloc(70000, 0xff);
  t.equal(sumWords(ones, 0, ones.length), 35000 * 0xffff);
  t.equal(foldSum(35000 * 0xffff), 0xffff);
  t.equal(checksum(ones, 0, ones.length), 0);
  t.equal(foldSum(0x1_0000_0000 * 3 + 5), 8, 'sums beyond 2^32 fold without truncation');
  t.equal(foldSum(0), 0);
});

t.test('partial sums over even-length pieces compose', async (t) => {
  const next = rng(7);
  let wrong = 0;
  for (let n = 0; n < 1000; n++) {
    const b = Buffer.alloc(1 + (next() % 300));
    for (let i = 0; i < b.length; i++) b[i] = next();
    const cut = 2 * (next() % (b.length >> 1 || 1));
    if (foldSum(sumWords(b, 0, cut) + sumWords(b, cut, b.length - cut)) !== foldSum(sumWords(b, 0, b.length))) wrong++;
    if (sumWords(b, cut, b.length - cut, sumWords(b, 0, cut)) !== sumWords(b, 0, b.length)) wrong++;
  }
  t.equal(wrong, 0);
});

t.test('pseudo-header sums match the header laid out in bytes', async (t) => {
  // IPv4: src, dst, zero, protocol 6, TCP length 40.
  const v4 = Buffer.concat([TCP4_SYN.subarray(12, 20), hex('0006 0028')]);
  t.equal(pseudoHeaderSum(TCP4_SYN, 12, 8, 6, 40), sumWords(v4, 0, v4.length));
  // IPv6: src, dst, 32-bit length 70000 (to use the high word), three zeros, next header 6.
  const v6 = Buffer.concat([TCP6_ACK.subarray(8, 40), hex('0001 1170 0000 0006')]);
  t.equal(pseudoHeaderSum(TCP6_ACK, 8, 32, 6, 70000), sumWords(v6, 0, v6.length));
  // With the segment they verify the golden TCP checksums.
  t.ok(verifyRange(TCP4_SYN, 20, 40, pseudoHeaderSum(TCP4_SYN, 12, 8, 6, 40)));
  t.ok(verifyRange(TCP6_ACK, 48, 36, pseudoHeaderSum(TCP6_ACK, 8, 32, 6, 36)));
});

/**
 * A random header-like buffer with its checksum at 10. Words are often 0x0000 or 0xffff, and
 * one header in eight sums to 0xffff, so that its checksum is 0x0000. The first word is never
 * zero: no real header (IP version, TCP pseudo-header protocol) sums to zero, the one case
 * where eqn. 3 and recomputation differ (RFC 1624 §3).
 */
function randomHeader(next: () => number): Buffer {
  const b = Buffer.alloc(20 + 4 * (next() % 11));
  b.writeUInt16BE(0x4500 | (next() & 0xff), 0);
  for (let i = 2; i < b.length; i += 2) {
    const pick = next() % 4;
    b.writeUInt16BE(pick === 0 ? 0 : pick === 1 ? 0xffff : next() & 0xffff, i);
  }
  if (next() % 8 === 0) {
    b.fill(0, 2);
    b.writeUInt16BE(0xffff - b.readUInt16BE(0), fieldAt(next, b));
  }
  fillRange(b, 0, b.length, 0, 10);
  return b;
}

/** A random word offset other than the first word and the checksum. */
function fieldAt(next: () => number, b: Buffer): number {
  const at = 2 + 2 * (next() % ((b.length >> 1) - 1));
  return at === 10 ? 12 : at;
}

t.test('RFC 1624 update of a 16-bit word equals full recomputation', async (t) => {
  const next = rng(42);
  let wrong = 0, zeroOrOnes = 0;
  for (let n = 0; n < 20000; n++) {
    const b = randomHeader(next);
    const at = fieldAt(next, b);
    const pick = next() % 4;
    const word = pick === 0 ? 0 : pick === 1 ? 0xffff : pick === 2 ? b.readUInt16BE(at) : next() & 0xffff;
    const hc = b.readUInt16BE(10);
    const incremental = updateChecksum16(hc, b.readUInt16BE(at), word);
    b.writeUInt16BE(word, at);
    fillRange(b, 0, b.length, 0, 10);
    if (incremental !== b.readUInt16BE(10)) wrong++;
    if (hc === 0 || hc === 0xffff || incremental === 0 || incremental === 0xffff) zeroOrOnes++;
  }
  t.equal(wrong, 0);
  t.ok(zeroOrOnes > 100, `one's-complement edge cases exercised (${zeroOrOnes})`);
});

t.test('RFC 1624 update of a 32-bit field equals full recomputation', async (t) => {
  const next = rng(4242);
  let wrong = 0;
  for (let n = 0; n < 20000; n++) {
    const b = randomHeader(next);
    const at = [4, 12, 16][next() % 3];
    const pick = next() % 5;
    const value = [0, 0xffffffff, 0xffff0000, 0x0000ffff, next()][pick];
    const incremental = updateChecksum32(b.readUInt16BE(10), b.readUInt32BE(at), value);
    b.writeUInt32BE(value, at);
    fillRange(b, 0, b.length, 0, 10);
    if (incremental !== b.readUInt16BE(10)) wrong++;
  }
  t.equal(wrong, 0);
});

t.test('the RFC 1624 §3 example', async (t) => {
  // The other header words sum to 0xcd7a; a field changes from 0x5555 to 0x3285. Eqn. 2 gives
  // 0xffff (-0) there; recomputation and eqn. 3 give 0x0000.
  const b = Buffer.alloc(20);
  b.writeUInt16BE(0xcd7a, 0);
  b.writeUInt16BE(0x5555, 2);
  fillRange(b, 0, 20, 0, 10);
  t.equal(b.readUInt16BE(10), 0xdd2f);
  t.equal(updateChecksum16(0xdd2f, 0x5555, 0x3285), 0x0000);
  b.writeUInt16BE(0x3285, 2);
  fillRange(b, 0, 20, 0, 10);
  t.equal(b.readUInt16BE(10), 0x0000);
  t.equal(updateChecksum16(0x0000, 0x3285, 0x5555), 0xdd2f, 'and back');
  t.equal(updateChecksum16(0x1234, 0xabcd, 0xabcd), 0x1234, 'an unchanged word leaves it alone');
  t.equal(updateChecksum32(0xdd2f, 0x55550000, 0x32850000), 0x0000, 'as the high half of a 32-bit field');
});

// Serial-number arithmetic, with the wraparound vectors of snoop.md §2.11.
import t from 'tap';
import { seqAdd, seqBetween, seqDiff, seqGe, seqGt, seqLe, seqLt } from '../../src/packet/seq.js';

const TWO_32 = 2 ** 32;

t.test('comparisons near and across the wrap', async (t) => {
  t.ok(seqLt(1, 2));
  t.notOk(seqLt(2, 1));
  t.notOk(seqLt(5, 5));
  t.ok(seqLe(5, 5));
  t.ok(seqGe(5, 5));
  t.notOk(seqGt(5, 5));
  t.ok(seqLt(0xffffffff, 0));
  t.ok(seqGt(0, 0xffffffff));
  t.ok(seqLe(0xfffffff0, 0x10));
  t.ok(seqGe(0x10, 0xfffffff0));
  // Exactly 2^31 apart each is "before" the other, as with the kernel's before().
  t.ok(seqLt(0, 0x80000000));
  t.ok(seqLt(0x80000000, 0));
});

t.test('seqAdd and seqDiff stay in 32 bits', async (t) => {
  t.equal(seqAdd(0xffffffff, 1), 0);
  t.equal(seqAdd(0xfffff000, 0x2000), 0x1000);
  t.equal(seqAdd(5, -10), 0xfffffffb);
  t.equal(seqDiff(0, 0xffffffff), 1);
  t.equal(seqDiff(0xffffffff, 0), -1);
  t.equal(seqDiff(0x1000, 0xfffff000), 0x2000);
  t.equal(seqDiff(0x80000000, 0x00000001), 0x7fffffff);
});

t.test('seqBetween is lo <= s <= hi, both ends inclusive', async (t) => {
  t.ok(seqBetween(10, 10, 20));
  t.ok(seqBetween(20, 10, 20));
  t.notOk(seqBetween(9, 10, 20));
  t.notOk(seqBetween(21, 10, 20));
  t.ok(seqBetween(0, 0xfffffff0, 0x10));
  t.notOk(seqBetween(0x11, 0xfffffff0, 0x10));
});

t.test('ISN 0xFFFFF000 and a 1 MB transfer: every segment end against every ACK', async (t) => {
  const isn = 0xfffff000, mss = 1448, total = 1 << 20;
  // Linear positions (beyond 2^32 once the transfer wraps) and their 32-bit sequence numbers.
  const linear = [isn + 1];                         // the SYN's end
  for (let sent = 0; sent < total; sent += mss) linear.push(isn + 1 + Math.min(sent + mss, total));
  const ends = linear.map((x) => x % TWO_32);
  t.ok(linear[linear.length - 1] > TWO_32, 'the transfer crosses 2^32');
  t.equal(ends[ends.length - 1], (isn + 1 + total) - TWO_32);
  let wrong = 0, compared = 0;
  for (let i = 0; i < ends.length; i++) {
    for (let j = 0; j < ends.length; j++) {     // the ACKs acknowledge exactly the segment ends
      if (seqLe(ends[i], ends[j]) !== (linear[i] <= linear[j])) wrong++;
      if (seqLt(ends[i], ends[j]) !== (linear[i] < linear[j])) wrong++;
      compared++;
    }
  }
  t.equal(compared, ends.length ** 2);
  t.equal(wrong, 0);
});

t.test('ACK exactly at 0', async (t) => {
  const seq = 0xfffffc00, end = seqAdd(seq, 1024);
  t.equal(end, 0);
  t.ok(seqLe(end, 0), 'ACK 0 covers the segment ending at 2^32');
  t.ok(seqLt(seq, 0));
  t.ok(seqBetween(0, seq, end));
  t.notOk(seqLe(seqAdd(0, 100), 0), 'but not the next one');
  t.equal(seqDiff(0, seq), 1024);
});

t.test('a segment straddling 2^32', async (t) => {
  const seq = 0xffffff00, end = seqAdd(seq, 512);
  t.equal(end, 0x100);
  t.equal(seqDiff(end, seq), 512);
  for (const s of [seq, 0xffffffff, 0, 0x80, 0x100]) t.ok(seqBetween(s, seq, end), `${s.toString(16)} inside`);
  for (const s of [0xfffffeff, 0x101, 0x80000000]) t.notOk(seqBetween(s, seq, end), `${s.toString(16)} outside`);
  const ack = 0x80;
  t.ok(seqGt(ack, seq) && seqLt(ack, end), 'a partial ACK');
  t.equal(seqDiff(ack, seq), 0x180, 'bytes it acknowledges');
});

t.test('an old ACK 2^31-1 behind is old, one 2^31-1 ahead is new', async (t) => {
  for (const una of [0, 0x10, 0x7fffffff, 0x80000000, 0xfffff000, 0xffffffff]) {
    const old = seqAdd(una, -(2 ** 31 - 1));
    t.ok(seqLt(old, una), `behind ${una.toString(16)}`);
    t.notOk(seqGe(old, una));
    t.equal(seqDiff(old, una), -(2 ** 31 - 1));
    const ahead = seqAdd(una, 2 ** 31 - 1);
    t.ok(seqGt(ahead, una));
    t.equal(seqDiff(ahead, una), 2 ** 31 - 1);
  }
});

t.test('a retransmission re-segmented across the wrap', async (t) => {
  // Cached: [0xfffffa00, +1000) and [0xfffffde8, +1000), the second straddling 2^32.
  const cached = [[0xfffffa00, 1000], [0xfffffde8, 1000]].map(([s, n]) => ({ seq: s, end: seqAdd(s, n) }));
  t.same(cached.map((c) => c.end), [0xfffffde8, 0x1d0]);
  // Retransmitted as one 1500-byte segment from the middle of the first.
  const rseq = 0xfffffc00, rend = seqAdd(rseq, 1500);
  t.equal(rend, 0x1dc);
  t.equal(seqDiff(cached[0].end, rseq), 488, 'overlap with the first');
  t.ok(seqBetween(cached[1].seq, rseq, rend) && seqLe(cached[1].end, rend), 'covers the second whole');
  t.equal(seqDiff(rend, cached[1].end), 12, 'and 12 bytes beyond it');
  // Its ACK covers both cached entries; an ACK at its start covers neither.
  t.same(cached.map((c) => seqLe(c.end, rend)), [true, true]);
  t.same(cached.map((c) => seqLe(c.end, rseq)), [false, false]);
  // Byte by byte, serial comparison agrees with linear positions over the whole span.
  const base = 0xfffffa00;
  let wrong = 0;
  for (let k = 0; k < 3000; k++) {
    const s = seqAdd(base, k);
    if (seqBetween(s, rseq, rend) !== (k >= 0x200 && k <= 0x200 + 1500)) wrong++;
  }
  t.equal(wrong, 0);
});

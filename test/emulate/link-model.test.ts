// The link emulator's decisions: delay, jitter without reordering, loss, Gilbert-Elliott bursts,
// the rate server and its queue limit, checked against seeded randomness and exact arithmetic.
import t from 'tap';
import {
  formatLinkStats, LinkModel, parseBurst, validateLinkSettings, type DropCause, type LinkSettings, type LinkStats,
} from '../../src/emulate/link-model.js';
import { seededRandom } from '../../src/emulate/seeded-random.js';

/** Hands out exactly `values`, in order; `left()` says how many were not asked for. */
function scripted(values: number[]): { random: () => number; left: () => number } {
  let i = 0;
  return {
    random: () => {
      if (i >= values.length) throw new Error('more random draws than scripted');
      return values[i++];
    },
    left: () => values.length - i,
  };
}

const never = (): number => {
  throw new Error('no random draw expected');
};

function link(overrides: Partial<LinkSettings>): LinkSettings {
  return { delayMs: 0, jitterMs: 0, lossPercent: 0, burst: null, rateMbit: null, limit: 1000, ...overrides };
}

function released(r: DropCause | number): number {
  if (typeof r !== 'number') throw new Error(`unexpectedly dropped (${r})`);
  return r;
}

t.test('pure delay: exactly --delay, no random draw', async (t) => {
  const m = new LinkModel(link({ delayMs: 50 }), never);
  for (const now of [0, 0.25, 1, 1000.125, 123456.5]) t.equal(m.admit(now, 1500), now + 50);
  const s = m.stats;
  t.same([s.packetsSeen, s.packetsPassed, s.bytesSeen, s.bytesPassed], [5, 5, 7500, 7500]);
  t.same([s.delayMinMs, s.delaySumMs / s.packetsPassed, s.delayMaxMs], [50, 50, 50]);
  t.same(s.dropped, { loss: 0, burst: 0, limit: 0 });
  t.equal(new LinkModel(link({}), never).admit(7.5, 60), 7.5, 'no delay at all');
});

t.test('jitter: uniform within delay ± jitter, mean ≈ delay when packets are spaced', async (t) => {
  const m = new LinkModel(link({ delayMs: 50, jitterMs: 10 }), seededRandom(1));
  const n = 20000;
  let min = Infinity, max = -Infinity, sum = 0, squares = 0, prev = -Infinity, decreases = 0;
  for (let i = 0; i < n; i++) {
    const now = i * 25;                         // more than 2 × jitter apart: no packet held back
    const r = released(m.admit(now, 1500));
    if (r < prev) decreases++;
    prev = r;
    const d = r - now;
    min = Math.min(min, d);
    max = Math.max(max, d);
    sum += d;
    squares += (d - 50) ** 2;
  }
  t.ok(min >= 40 && max <= 60, `delays in [40, 60]: ${min}..${max}`);
  t.ok(min < 40.05 && max > 59.95, 'the whole range is used');
  t.ok(Math.abs(sum / n - 50) < 0.2, `mean ${sum / n}`);
  const sd = Math.sqrt(squares / n), uniformSd = 10 / Math.sqrt(3);
  t.ok(Math.abs(sd / uniformSd - 1) < 0.03, `standard deviation ${sd}, uniform's ${uniformSd}`);
  t.equal(decreases, 0);
  const s = m.stats;
  t.same([s.delayMinMs, s.delayMaxMs], [min, max]);
  t.ok(Math.abs(s.delaySumMs - sum) < 1e-6);
});

t.test('jitter never reorders: dense arrivals wait for the packet before them', async (t) => {
  const m = new LinkModel(link({ delayMs: 50, jitterMs: 10 }), seededRandom(2));
  const n = 20000;
  let prev = -Infinity, decreases = 0, heldBack = 0, outside = 0, sum = 0;
  for (let i = 0; i < n; i++) {
    const now = i * 1;
    const r = released(m.admit(now, 1500));
    if (r < prev) decreases++;
    if (r === prev) heldBack++;
    if (r - now < 40 || r - now > 60) outside++;
    prev = r;
    sum += r - now;
  }
  t.equal(decreases, 0);
  t.equal(outside, 0, 'still within delay ± jitter');
  t.ok(heldBack > n / 4, `${heldBack} packets left with the one before them`);
  t.ok(sum / n > 52, `so the mean delay rises above --delay: ${sum / n}`);
});

t.test('jitter larger than the delay: never below 0', async (t) => {
  const m = new LinkModel(link({ delayMs: 5, jitterMs: 10 }), seededRandom(3));
  const n = 20000;
  let zeros = 0, negative = 0;
  for (let i = 0; i < n; i++) {
    const d = released(m.admit(i * 100, 100)) - i * 100;
    if (d === 0) zeros++;
    if (d < 0) negative++;
  }
  t.equal(negative, 0);
  t.equal(m.stats.delayMinMs, 0);
  t.ok(Math.abs(zeros / n - 0.25) < 0.01, `a quarter of [-5, 15] clamps to 0: ${zeros / n}`);
});

t.test('loss: the share dropped is --loss within half a percentage point', async (t) => {
  for (const [percent, seed] of [[1, 4], [2.5, 5], [30, 6]]) {
    const m = new LinkModel(link({ delayMs: 10, lossPercent: percent }), seededRandom(seed));
    const n = 100000;
    let lost = 0, other = 0;
    for (let i = 0; i < n; i++) {
      const r = m.admit(i, 1000);
      if (r === 'loss') lost++;
      else if (r !== i + 10) other++;
    }
    t.ok(Math.abs((100 * lost) / n - percent) < 0.5, `${percent}%: ${(100 * lost) / n}%`);
    t.equal(other, 0, 'the rest pass with their delay');
    t.same([m.stats.dropped.loss, m.stats.packetsPassed], [lost, n - lost]);
  }
  const none = new LinkModel(link({ lossPercent: 0 }), never);
  t.equal(none.admit(1, 1), 1, '0% loses nothing and draws nothing');
  const all = new LinkModel(link({ lossPercent: 100 }), seededRandom(7));
  let passed = 0;
  for (let i = 0; i < 10000; i++) if (all.admit(i, 1) !== 'loss') passed++;
  t.equal(passed, 0, '100% loses everything');
});

t.test('Gilbert-Elliott: mean loss enter/(enter+exit), mean burst 1/exit', async (t) => {
  const enter = 0.02, exit = 0.25, n = 1_000_000;
  const m = new LinkModel(link({ burst: { enter, exit } }), seededRandom(8));
  let dropped = 0, runs = 0, inRun = false, other = 0;
  for (let i = 0; i < n; i++) {
    const r = m.admit(i, 100);
    if (r === 'burst') {
      dropped++;
      if (!inRun) runs++;
      inRun = true;
    } else {
      if (typeof r !== 'number') other++;
      inRun = false;
    }
  }
  const lossRate = dropped / n, meanBurst = dropped / runs;
  t.ok(Math.abs(lossRate / (enter / (enter + exit)) - 1) < 0.05, `loss ${lossRate}, expected ${enter / (enter + exit)}`);
  t.ok(Math.abs(meanBurst * exit - 1) < 0.05, `mean burst ${meanBurst}, expected ${1 / exit}`);
  t.equal(other, 0, 'no other drop without --loss');
  t.same([m.stats.dropped.burst, m.stats.bursts], [dropped, runs]);
});

t.test('Gilbert-Elliott: P_EXIT 1 makes single-packet bursts', async (t) => {
  const m = new LinkModel(link({ burst: { enter: 0.1, exit: 1 } }), seededRandom(9));
  let previous: DropCause | number = 0, doubles = 0;
  for (let i = 0; i < 100000; i++) {
    const r = m.admit(i, 100);
    if (r === 'burst' && previous === 'burst') doubles++;
    previous = r;
  }
  t.equal(doubles, 0);
  t.ok(m.stats.bursts > 8000, `${m.stats.bursts} bursts`);
  t.equal(m.stats.dropped.burst, m.stats.bursts);
});

t.test('Gilbert-Elliott: the good state still applies --loss', async (t) => {
  const enter = 0.01, exit = 0.5, n = 1_000_000;
  const m = new LinkModel(link({ burst: { enter, exit }, lossPercent: 10 }), seededRandom(10));
  for (let i = 0; i < n; i++) m.admit(i, 100);
  const { dropped } = m.stats;
  const goodLoss = dropped.loss / (n - dropped.burst);
  t.ok(Math.abs(goodLoss - 0.1) < 0.005, `loss in the good state ${goodLoss}`);
  const bad = enter / (enter + exit), expected = bad + (1 - bad) * 0.1;
  const total = (dropped.loss + dropped.burst) / n;
  t.ok(Math.abs(total / expected - 1) < 0.05, `total loss ${total}, expected ${expected}`);
});

t.test('decision order: burst step, then loss, then jitter; a dropped packet draws no more', async (t) => {
  const { random, left } = scripted([
    0.9, 0.9, 0.5, // good stays good, not lost, jitter 0
    0.1,           // good -> bad: dropped, no loss or jitter draw
    0.9,           // bad stays bad
    0.1, 0.2,      // bad -> good, then lost (20 < 50): no jitter draw
    0.9, 0.9, 0,   // good, not lost, jitter -10
  ]);
  const m = new LinkModel(link({ delayMs: 50, jitterMs: 10, lossPercent: 50, burst: { enter: 0.5, exit: 0.5 } }), random);
  t.same([0, 100, 200, 300, 400].map((now) => m.admit(now, 100)), [50, 'burst', 'burst', 'loss', 440]);
  t.equal(left(), 0);
  t.same(m.stats.dropped, { loss: 1, burst: 2, limit: 0 });
  t.equal(m.stats.bursts, 1);
});

t.test('rate: 1250-byte packets at 10 Mbit/s leave 1 ms apart; beyond the limit, tail drop', async (t) => {
  const m = new LinkModel(link({ rateMbit: 10, limit: 1000, delayMs: 20 }), never);
  const burst = Array.from({ length: 1100 }, () => m.admit(0, 1250));
  t.same(burst.slice(0, 1000), Array.from({ length: 1000 }, (_, i) => i + 1 + 20));
  t.same(burst.slice(1000), Array(100).fill('limit'));
  // At 500 ms the packet finishing at 500 is done: 500 wait, so 500 more fit, behind the rest.
  const later = Array.from({ length: 501 }, () => m.admit(500, 1250));
  t.same(later.slice(0, 500), Array.from({ length: 500 }, (_, i) => 1001 + i + 20));
  t.equal(later[500], 'limit');
  const s = m.stats;
  t.same([s.packetsPassed, s.dropped.limit, s.maxBacklog], [1500, 101, 1000]);
  t.same([s.delayMinMs, s.delayMaxMs], [21, 1020]);
});

t.test('rate: the backlog drains when arrivals stop', async (t) => {
  const m = new LinkModel(link({ rateMbit: 10, limit: 10 }), never);
  const first = Array.from({ length: 50 }, () => m.admit(0, 1250));
  t.same(first, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ...Array(40).fill('limit')]);
  t.same(Array.from({ length: 6 }, () => m.admit(5, 1250)), [11, 12, 13, 14, 15, 'limit'], 'half drained at 5 ms');
  t.same(Array.from({ length: 11 }, () => m.admit(15, 1250)), [16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 'limit'], 'all drained at 15 ms');
  t.equal(m.admit(1000, 1250), 1001, 'an idle link serializes from the arrival');
  t.equal(m.stats.maxBacklog, 10);
});

t.test('rate: serialization time follows size and rate', async (t) => {
  const m = new LinkModel(link({ rateMbit: 12 }), never);
  t.equal(m.admit(0, 1500), 1);
  const small = released(m.admit(0, 64));
  t.ok(Math.abs(small - (1 + 512 / 12000)) < 1e-12, `64 B behind 1500 B: ${small}`);
  t.equal(m.admit(3, 1500), 4);
  const slow = new LinkModel(link({ rateMbit: 0.5 }), never);
  t.same([slow.admit(0, 1250), slow.admit(0, 1250), slow.admit(100, 1250)], [20, 40, 120]);
});

t.test('lost packets take no link time and no queue place', async (t) => {
  for (const lossy of [link({ lossPercent: 50 }), link({ burst: { enter: 0.2, exit: 0.3 } })]) {
    const m = new LinkModel({ ...lossy, rateMbit: 10, limit: 10000 }, seededRandom(11));
    const releases: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const r = m.admit(0, 1250);
      if (typeof r === 'number') releases.push(r);
    }
    t.ok(releases.length > 600 && releases.length < 1400, `${releases.length} passed`);
    t.same(releases, releases.map((_, k) => k + 1), 'the k-th packet passed leaves at k ms');
  }
  const m = new LinkModel(link({ lossPercent: 50, rateMbit: 10, limit: 100 }), seededRandom(12));
  for (let i = 0; i < 1000; i++) m.admit(0, 1250);
  const s = m.stats;
  t.equal(s.packetsPassed, 100, 'the limit counts only packets that reached the queue');
  t.equal(s.dropped.limit, 1000 - s.dropped.loss - 100);
});

t.test('rate: the backlog count agrees with a brute-force count over a long saturated run', async (t) => {
  const random = seededRandom(13), limit = 50;
  const m = new LinkModel(link({ rateMbit: 10, limit }), never);
  const finishes: number[] = [];
  let now = 0, wrong = 0, drops = 0, maxWaiting = 0;
  for (let i = 0; i < 100000; i++) {
    now += -Math.log(1 - random()) * 0.55;      // Poisson arrivals a little faster than service
    const bytes = 64 + Math.floor(random() * 1437);
    let waiting = 0;
    for (let k = finishes.length - 1; k >= 0 && finishes[k] > now; k--) waiting++;
    const r = m.admit(now, bytes);
    if (waiting >= limit) {
      if (r !== 'limit') wrong++;
      drops++;
      continue;
    }
    maxWaiting = Math.max(maxWaiting, waiting + 1);
    const expected = Math.max(now, finishes[finishes.length - 1] ?? 0) + (bytes * 8) / 10000;
    if (typeof r !== 'number' || Math.abs(r - expected) > 1e-9) wrong++;
    if (typeof r === 'number') finishes.push(r);
  }
  t.equal(wrong, 0);
  t.ok(drops > 0, `${drops} tail drops`);
  t.same([m.stats.maxBacklog, m.stats.dropped.limit], [maxWaiting, drops]);
  t.equal(maxWaiting, limit);
});

t.test('rate with delay and jitter: serialization first, then delay ± jitter, in order', async (t) => {
  const m = new LinkModel(link({ rateMbit: 10, delayMs: 50, jitterMs: 10 }), seededRandom(14));
  let prev = -Infinity, wrong = 0;
  for (let k = 1; k <= 500; k++) {
    const r = released(m.admit(0, 1250));
    if (r < prev || r < k + 40 || r > k + 60) wrong++;
    prev = r;
  }
  t.equal(wrong, 0);
});

t.test('stats are a snapshot', async (t) => {
  const m = new LinkModel(link({}), never);
  const before = m.stats;
  m.admit(0, 100);
  t.same([before.packetsSeen, m.stats.packetsSeen], [0, 1]);
});

t.test('validateLinkSettings names the flag and the value', async (t) => {
  const valid = link({ delayMs: 50, jitterMs: 60, lossPercent: 100, burst: { enter: 1, exit: 1 }, rateMbit: 0.1, limit: 1 });
  t.equal(validateLinkSettings(valid), null);
  t.equal(validateLinkSettings(link({})), null);
  const cases: [Partial<LinkSettings>, string][] = [
    [{ delayMs: -1 }, '--delay must be a number of milliseconds >= 0, got -1'],
    [{ delayMs: NaN }, '--delay must be a number of milliseconds >= 0, got NaN'],
    [{ jitterMs: Infinity }, '--jitter must be a number of milliseconds >= 0, got Infinity'],
    [{ lossPercent: 120 }, '--loss must be a percentage in [0, 100], got 120'],
    [{ lossPercent: -0.5 }, '--loss must be a percentage in [0, 100], got -0.5'],
    [{ lossPercent: NaN }, '--loss must be a percentage in [0, 100], got NaN'],
    [{ burst: { enter: 0, exit: 0.3 } }, '--burst P_ENTER must be a probability in (0, 1], got 0'],
    [{ burst: { enter: 0.1, exit: 1.5 } }, '--burst P_EXIT must be a probability in (0, 1], got 1.5'],
    [{ rateMbit: 0 }, '--rate must be a number of Mbit/s > 0, got 0'],
    [{ rateMbit: -3 }, '--rate must be a number of Mbit/s > 0, got -3'],
    [{ limit: 0 }, '--limit must be a whole number of packets >= 1, got 0'],
    [{ limit: 2.5 }, '--limit must be a whole number of packets >= 1, got 2.5'],
  ];
  for (const [overrides, message] of cases) t.equal(validateLinkSettings(link(overrides)), message);
});

t.test('parseBurst: probabilities, percentages, and one-line errors', async (t) => {
  t.same(parseBurst('0.01,0.3'), { enter: 0.01, exit: 0.3 });
  t.same(parseBurst('1%,30%'), { enter: 0.01, exit: 0.3 });
  t.same(parseBurst(' 1% , 0.3 '), { enter: 0.01, exit: 0.3 });
  t.same(parseBurst('1,1'), { enter: 1, exit: 1 });
  t.same(parseBurst('100%,.5'), { enter: 1, exit: 0.5 });
  t.same(parseBurst('0,0.5'), { enter: 0, exit: 0.5 }, 'the range (0, 1] is validateLinkSettings\'s to check');
  const errors: [string, RegExp][] = [
    ['', /^--burst must be P_ENTER,P_EXIT \(e\.g\. 0\.01,0\.3 or 1%,30%\), got ''$/],
    ['0.01', /P_ENTER,P_EXIT.*got '0\.01'/],
    ['0.01,', /P_ENTER,P_EXIT/],
    [',0.3', /P_ENTER,P_EXIT/],
    ['0.01,0.3,0.5', /P_ENTER,P_EXIT.*got '0\.01,0\.3,0\.5'/],
    ['0.01;0.3', /P_ENTER,P_EXIT/],
    ['abc,0.3', /^--burst P_ENTER must be a number or a percentage, got 'abc'$/],
    ['0.01,NaN', /^--burst P_EXIT must be a number or a percentage, got 'NaN'$/],
    ['1e-2,0.3', /P_ENTER must be a number or a percentage/],
    ['%,0.3', /P_ENTER must be a number or a percentage/],
    ['-0.1,0.3', /^--burst P_ENTER must not be negative, got -0\.1$/],
    ['0.1,-5%', /^--burst P_EXIT must not be negative, got -5%$/],
    ['30,0.3', /^--burst P_ENTER must be a probability in \[0, 1\], got 30 \(for a percentage write 30%\)$/],
    ['0.01,1.5', /P_EXIT .*write 1\.5%/],
    ['150%,0.3', /^--burst P_ENTER must be a percentage up to 100%, got 150%$/],
  ];
  for (const [text, message] of errors) t.throws(() => parseBurst(text), { message }, `'${text}'`);
});

t.test('formatLinkStats: what the emulator did, with its figures', async (t) => {
  const stats: LinkStats = {
    packetsSeen: 1234, bytesSeen: 1800000, packetsPassed: 1200, bytesPassed: 1750000,
    dropped: { loss: 30, burst: 4, limit: 0 }, bursts: 2,
    delayMinMs: 49.12, delaySumMs: 1200 * 50.2, delayMaxMs: 60, rateMbit: 10, maxBacklog: 37,
  };
  t.same(formatLinkStats(stats), [
    'packets 1234 seen, 1200 passed, 30 lost (2.43%), 4 in bursts, 0 over the queue limit',
    'bytes 1800000 seen, 1750000 passed',
    'bursts: 2, mean length 2.00 packets',
    'delay applied: min 49.1 ms, mean 50.2 ms, max 60.0 ms',
    'rate 10 Mbit/s: max backlog 37 packets',
  ]);
  t.same(formatLinkStats(new LinkModel(link({}), never).stats), [
    'packets 0 seen, 0 passed, 0 lost (0.00%), 0 in bursts, 0 over the queue limit',
    'bytes 0 seen, 0 passed',
    'delay applied: none (no packet passed)',
  ]);
  const m = new LinkModel(link({ rateMbit: 10, limit: 5, delayMs: 20 }), never);
  for (let i = 0; i < 8; i++) m.admit(0, 1250);
  t.same(formatLinkStats(m.stats), [
    'packets 8 seen, 5 passed, 0 lost (0.00%), 0 in bursts, 3 over the queue limit',
    'bytes 10000 seen, 6250 passed',
    'delay applied: min 21.0 ms, mean 23.0 ms, max 25.0 ms',
    'rate 10 Mbit/s: max backlog 5 packets',
  ]);
});

// DeadlineScheduler: order, cancel and reschedule, stale handles, one timer for many deadlines,
// lateness counts, close().
import t, { type Test } from 'tap';
import { DeadlineScheduler } from '../../src/pipeline/deadlines.js';
import { seededRandom } from '../../src/emulate/seeded-random.js';

// The timers the tests wait on are not the scheduler's: they do not go through the spies.
const realSetTimeout = globalThis.setTimeout;
const sleep = (ms: number) => new Promise((resolve) => realSetTimeout(resolve, ms));

/** Waits until the scheduler has nothing left (fixed sleeps would fail on a busy machine). */
async function drained(scheduler: { size: number }): Promise<void> {
  for (let waited = 0; scheduler.size > 0 && waited < 5000; waited += 5) await sleep(5);
}

/** Counts setTimeout and clearTimeout calls until the test ends, and keeps the timers made. */
function spyTimers(t: Test): { set: number; cleared: number; timers: NodeJS.Timeout[] } {
  const spy = { set: 0, cleared: 0, timers: [] as NodeJS.Timeout[] };
  const realSet = globalThis.setTimeout, realClear = globalThis.clearTimeout;
  globalThis.setTimeout = ((fn: () => void, ms: number) => {
    spy.set++;
    const timer = realSet(fn, ms);
    spy.timers.push(timer);
    return timer;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((timer: NodeJS.Timeout) => {
    spy.cleared++;
    realClear(timer);
  }) as typeof clearTimeout;
  t.teardown(() => {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
  });
  return spy;
}

function collector(): { fired: string[]; scheduler: DeadlineScheduler<string> } {
  const fired: string[] = [];
  return { fired, scheduler: new DeadlineScheduler<string>({ onDue: (item) => fired.push(item) }) };
}

t.test('deadlines added out of order fire in order', async (t) => {
  const { fired, scheduler } = collector();
  const now = performance.now();
  for (const ms of [30, 10, 20, 5, 25, 15]) scheduler.schedule(now + ms, `${ms}`);
  t.equal(scheduler.size, 6);
  await drained(scheduler);
  t.same(fired, ['5', '10', '15', '20', '25', '30']);
  t.equal(scheduler.size, 0);
});

t.test('cancel and reschedule; handles of fired or cancelled deadlines name nothing', async (t) => {
  const { fired, scheduler } = collector();
  const now = performance.now();
  const a = scheduler.schedule(now + 10, 'a');
  const b = scheduler.schedule(now + 20, 'b');
  const c = scheduler.schedule(now + 30, 'c');
  scheduler.schedule(now + 15, 'd');
  t.equal(scheduler.cancel(b), true);
  t.equal(scheduler.cancel(b), false, 'cancelled twice');
  t.equal(scheduler.reschedule(c, now + 5), true, 'earlier');
  t.equal(scheduler.reschedule(a, now + 25), true, 'later');
  t.equal(scheduler.reschedule(b, now + 1), false);
  t.equal(scheduler.cancel(-1), false);
  await drained(scheduler);
  t.same(fired, ['c', 'd', 'a']);
  t.equal(scheduler.cancel(a), false, 'fired');
  const e = scheduler.schedule(now + 1000, 'e');
  t.equal(e & 0x3fffff, a & 0x3fffff, 'the slot of the last fired deadline is reused...');
  t.equal(scheduler.cancel(a), false, '...and its old handle does not cancel the new deadline');
  t.equal(scheduler.cancel(e), true);
});

t.test('random schedules, cancels and reschedules: everything left fires once, in order', async (t) => {
  const random = seededRandom(3);
  const dues: number[] = [];
  const fired: number[] = [];
  const scheduler = new DeadlineScheduler<number>({ onDue: (i) => fired.push(i) });
  const now = performance.now();
  const handles = Array.from({ length: 2000 }, (_, i) => scheduler.schedule((dues[i] = now + 5 + random() * 20), i));
  const expected = new Set(handles.keys());
  for (let i = 0; i < 2000; i++) {
    const r = random();
    if (r < 0.3) {
      scheduler.cancel(handles[i]);
      expected.delete(i);
    } else if (r < 0.6) {
      scheduler.reschedule(handles[i], (dues[i] = now + 5 + random() * 20));
    }
  }
  t.equal(scheduler.size, expected.size);
  await drained(scheduler);
  t.same([...fired].sort((x, y) => x - y), [...expected].sort((x, y) => x - y), 'each fired once');
  let inOrder = true;
  for (let k = 1; k < fired.length; k++) if (dues[fired[k]] < dues[fired[k - 1]]) inOrder = false;
  t.ok(inOrder, 'by due time');
});

t.test('many deadlines share one timer', async (t) => {
  const spy = spyTimers(t);
  const { fired, scheduler } = collector();
  const now = performance.now();
  for (let i = 0; i < 1000; i++) scheduler.schedule(now + 10 + i * 0.01, `${i}`);
  t.equal(spy.set, 1, 'ascending: only the first deadline sets the timer');
  scheduler.schedule(now + 5, 'earlier');
  t.equal(spy.set, 2, 'a new head sets it again');
  t.equal(spy.cleared, 1, 'after clearing the old one');
  await drained(scheduler);
  t.equal(fired.length, 1001);
  t.ok(spy.set <= 20, `and a few more to follow the head as it fires (${spy.set} in all)`);
});

t.test('cancelling the head keeps the timer; cancelling everything clears it', async (t) => {
  const spy = spyTimers(t);
  const { fired, scheduler } = collector();
  const now = performance.now();
  const first = scheduler.schedule(now + 5, 'first');
  const second = scheduler.schedule(now + 10, 'second');
  scheduler.cancel(first);
  t.same([spy.set, spy.cleared], [1, 0], 'it will fire early, find nothing due and re-arm');
  await drained(scheduler);
  t.same(fired, ['second']);
  scheduler.schedule(now + 100, 'x');
  scheduler.cancel(scheduler.schedule(now + 50, 'y'));
  scheduler.cancel(second);
  t.equal(scheduler.size, 1);
  const set = spy.set, cleared = spy.cleared;
  scheduler.cancel(scheduler.schedule(now + 200, 'z'));
  t.same([spy.set, spy.cleared], [set, cleared], 'a later deadline, scheduled and cancelled, touches no timer');
  scheduler.close();
  t.equal(spy.cleared, cleared + 1);
});

t.test('deadlines scheduled from onDue, and unref', async (t) => {
  const spy = spyTimers(t);
  let ticks = 0;
  const scheduler: DeadlineScheduler<number> = new DeadlineScheduler<number>({
    unref: true,
    onDue: (n) => {
      ticks++;
      if (n > 1) scheduler.schedule(performance.now() + 2, n - 1);
    },
  });
  scheduler.schedule(performance.now() + 2, 5);
  await drained(scheduler);
  t.equal(ticks, 5);
  t.ok(spy.timers.length > 0 && spy.timers.every((timer) => !timer.hasRef()), 'every timer unref()ed');
});

t.test('lateness is counted in buckets', async (t) => {
  const late: number[] = [];
  const scheduler = new DeadlineScheduler<number>({ onDue: (_, ms) => late.push(ms) });
  const now = performance.now();
  for (let i = 0; i < 10; i++) scheduler.schedule(now + 3 + i, i);
  // Already 20 ms late when the timer can run.
  scheduler.schedule(now - 20, 99);
  await drained(scheduler);
  const l = scheduler.lateness();
  t.equal(l.count, 11);
  t.same(l.bucketsMs, [0.5, 1, 2, 5, 10, 20, 50, 100]);
  t.equal(l.cumulative.length, 9);
  t.equal(l.cumulative[8], 11, '+Inf holds every one');
  t.ok(l.cumulative.every((c, i) => i === 0 || c >= l.cumulative[i - 1]), 'cumulative');
  t.ok(l.maxMs >= 20, `max ${l.maxMs}`);
  t.ok(l.cumulative[5] <= 10, 'the late one is above 20 ms');
  t.ok(late.every((ms) => ms >= -0.5), 'never more than 0.5 ms early');
  t.ok(Math.abs(l.sumMs - late.reduce((s, ms) => s + Math.max(0, ms), 0)) < 1e-9, 'sum of what onDue was told');
});

t.test('close() drops everything and refuses more', async (t) => {
  const { fired, scheduler } = collector();
  const now = performance.now();
  const h = scheduler.schedule(now + 5, 'a');
  scheduler.schedule(now + 10, 'b');
  scheduler.close();
  t.equal(scheduler.size, 0);
  t.equal(scheduler.cancel(h), false);
  t.equal(scheduler.reschedule(h, now), false);
  t.throws(() => scheduler.schedule(now, 'c'), /closed/);
  await sleep(20);
  t.same(fired, []);
});

t.test('a deadline beyond what a Node timer can wait, or Infinity, waits without spinning', async (t) => {
  const spy = spyTimers(t);
  const { fired, scheduler } = collector();
  scheduler.schedule(Infinity, 'never');
  scheduler.schedule(performance.now() + 40 * 86400e3, 'in 40 days');
  await sleep(20);
  t.same([spy.set, fired], [2, []], 'one timer per new head, none since');
  scheduler.close();
});

t.test('NaN deadlines are refused', async (t) => {
  const { scheduler } = collector();
  t.throws(() => scheduler.schedule(NaN, 'x'), RangeError);
  const h = scheduler.schedule(performance.now() + 1000, 'y');
  t.throws(() => scheduler.reschedule(h, NaN), RangeError);
  scheduler.close();
});

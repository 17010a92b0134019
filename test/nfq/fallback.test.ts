// What a PacketQueue does with the packets its handler does not decide (`fallback`), and with the
// packets the kernel cannot queue because the queue is full (`failOpen`), on a real forwarding
// path: client -> router (FORWARD -p icmp -j NFQUEUE) -> server.
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Lab } from '../lab/lab.js';
import { parsePing, type PingResult } from '../helpers/ping.js';
import { queueRules, withRunner as runWith } from './queue-lab.js';
import type { PacketQueueStats } from '../../src/nfq/queue.js';

type Stats = PacketQueueStats & { seen: number; heldByUs: number };
const RUNNER = fileURLToPath(new URL('./fallback-runner.ts', import.meta.url));

const lab = await Lab.create({ tag: 'nfqfb', id: 56 });
t.teardown(() => lab.destroy());
await queueRules(lab, '-A', ['icmp']);

/** Runs <fn> while a fallback runner in <mode> with <options> serves queue 0; returns its stats. */
const withRunner = (mode: string, options: object, fn: () => Promise<void>): Promise<Stats> => runWith<Stats>(lab, RUNNER, mode, options, fn);

async function ping(count: number): Promise<PingResult> {
  const r = await lab.exec('client', 'ping', ['-c', String(count), '-i', '0.1', '-W', '1', lab.server.v4], { timeoutMs: 30_000 });
  return parsePing(r.stdout);
}

t.test('fallback: the packets a handler leaves undecided', async (t) => {
  t.test('default (accept): undecided echo requests pass and are answered', async (t) => {
    let p: PingResult | null = null;
    const s = await withRunner('undecided', {}, async () => {
      p = await ping(5);
    });
    t.equal(p!.received, 5, 'every ping answered');
    t.ok(s.seen >= 5, `the handler saw the requests (${s.seen})`);
    t.equal(s.dropped, 0, 'nothing dropped');
    t.equal(s.accepted, s.packets, 'every packet accepted by the fallback');
  });

  t.test("fallback 'drop': undecided echo requests are dropped", async (t) => {
    let p: PingResult | null = null;
    const s = await withRunner('undecided', { fallback: 'drop' }, async () => {
      p = await ping(5);
    });
    t.equal(p!.sent, 5, 'five pings sent');
    t.equal(p!.received, 0, 'no ping answered');
    t.ok(s.seen >= 5, `the handler saw the requests (${s.seen})`);
    t.equal(s.accepted, 0, 'nothing accepted');
    t.equal(s.dropped, s.packets, 'every packet dropped by the fallback');
  });
});

t.test('failOpen: when the queue is full', async (t) => {
  const MAX = 3;
  t.test('failOpen true: once the queue holds maxLen packets, new ones pass', async (t) => {
    let p: PingResult | null = null;
    const s = await withRunner('hold', { maxLen: MAX, failOpen: true }, async () => {
      p = await ping(10);
    });
    t.equal(s.heldByUs, MAX, `the handler got exactly maxLen (${MAX}) packets and holds them`);
    t.equal(p!.received, 10 - MAX, `every request after the first ${MAX} passed the full queue and was answered (${p!.received}/10)`);
  });

  t.test('failOpen false: once the queue holds maxLen packets, new ones are dropped', async (t) => {
    let p: PingResult | null = null;
    const s = await withRunner('hold', { maxLen: MAX, failOpen: false }, async () => {
      p = await ping(10);
    });
    t.equal(s.heldByUs, MAX, `the handler got exactly maxLen (${MAX}) packets and holds them`);
    t.equal(p!.sent, 10, 'ten pings sent');
    t.equal(p!.received, 0, 'no ping answered');
  });
});

t.test('removing the queue rules', async () => {
  await queueRules(lab, '-D', ['icmp']);
});
